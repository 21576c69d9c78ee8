//! The engine's errors, typed: what stops a run before it starts ([`EngineError`]) and what
//! stops one host ([`HostError`]). The CLI renders them once, with a hint.

use crate::facts::FactsError;
use crate::inventory::PatternError;
use crate::resource::PlanError;
use crate::source::SourceError;
use crate::transport::TransportError;
use crate::transport::connect::ConnectError;

use super::report::Status;

/// Why a run cannot start: nothing has been run anywhere.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A problem in the user's files (a step's `hosts` pattern).
    #[error(transparent)]
    Input(#[from] SourceError),
    /// `--limit` names nothing that exists.
    #[error("--limit: {0}")]
    Limit(PatternError),
    /// The selection is empty.
    #[error("no hosts selected")]
    NoHosts,
    /// A guest-only command found no guest in the selection.
    #[error("no guests selected")]
    NoGuests,
    /// A host-only command (`vmup reboot`) found no machine that runs guests.
    #[error("no hosts selected (a host has guests, or role = \"host\")")]
    NoVmHosts,
    /// A step that runs on a guest's host selects a machine that is not a guest.
    #[error(
        "{step} runs on the host of each guest it selects, but {host} has no `host` in the inventory"
    )]
    NotAGuest {
        /// The step's label.
        step: String,
        /// The machine it selected.
        host: String,
    },
    /// A host's variables cannot be merged (a variable named like a fact).
    #[error("{0}")]
    Vars(String),
    /// A transport cannot be set up (bad ssh_config, no runtime).
    #[error("{0}")]
    Connect(#[from] ConnectError),
}

impl EngineError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EngineError::NoHosts => Some("check --limit and the inventory"),
            EngineError::NoVmHosts => Some("select machines that run guests with --limit"),
            EngineError::NoGuests => {
                Some("guests are the hosts with `host = \"...\"` in the inventory")
            }
            EngineError::NotAGuest { .. } => {
                Some("limit the step's `hosts` to guests, e.g. hosts = \"guests\"")
            }
            _ => None,
        }
    }
}

/// Why one host stopped; the run goes on with the others.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The transport failed (unreachable, host key, authentication, timeout, I/O).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// A value could not be put into a script (a NUL byte).
    #[error("{0}")]
    Script(String),
    /// The facts script's output could not be read.
    #[error("reading facts: {error}; {detail}")]
    Facts {
        /// What was wrong with the output.
        error: FactsError,
        /// The exit status and the last lines of standard error.
        detail: String,
    },
    /// A step cannot be planned on this host.
    #[error("{step}: {error}")]
    Plan {
        /// The step's label.
        step: String,
        /// Why.
        error: PlanError,
    },
    /// The apply script was cut short (killed, connection lost): the changes it reported
    /// are made; the one it was at may or may not be.
    #[error(
        "the apply script stopped before its end, at {step} ({summary}): {done} of {total} change(s) were made, and whether this one was is unknown until the next run reads the host; {detail}"
    )]
    ApplyCut {
        /// The step of the change it was at.
        step: String,
        /// That change's summary.
        summary: String,
        /// Changes reported done.
        done: usize,
        /// Changes in the script.
        total: usize,
        /// The exit status and the last lines of standard error.
        detail: String,
    },
    /// The transport failed while the apply script ran: which changes were made is
    /// unknown (each is atomic; the next run's facts will say).
    #[error(
        "{source}; the apply script did not report back: which of its {total} change(s) were made is unknown until the next run reads the host"
    )]
    ApplyLost {
        /// What the transport said.
        source: Box<HostError>,
        /// Changes in the script.
        total: usize,
    },
    /// A change failed; earlier changes of the same script stay done.
    #[error("{step} failed: {what} ({done} earlier change(s) were applied)")]
    Apply {
        /// The step's label.
        step: String,
        /// What went wrong, naming the file or the command's last words.
        what: String,
        /// How many changes completed before it.
        done: usize,
    },
    /// The re-read facts still call for changes.
    #[error("not converged after apply: {step} would still {summary} ({left} change(s) left)")]
    NotConverged {
        /// The first step with changes left.
        step: String,
        /// Its first change.
        summary: String,
        /// How many changes are left.
        left: usize,
    },
    /// The run was interrupted before this host applied anything.
    #[error("interrupted before apply: nothing was changed on this host")]
    Interrupted,
    /// A command-specific failure (a conflict resolution, an unreadable guest).
    #[error("{0}")]
    Other(String),
}

impl HostError {
    /// The status a host that stopped with this error ends in.
    pub fn status(&self) -> Status {
        match self {
            HostError::Transport(e) if e.is_unreachable() => Status::Unreachable,
            HostError::Interrupted => Status::Skipped,
            _ => Status::Failed,
        }
    }
}
