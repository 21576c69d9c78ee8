//! Resources: what a runbook step wants, turned into changes from facts, without any I/O.
//!
//! Each resource kind lives in its own file: a spec read from the runbook, validated into a
//! value implementing [`Resource`] ([`registry::FromSpec`]), which names the facts it
//! needs and plans from a [`HostView`] the changes that would make the host match. A plan
//! with no changes carries a note saying why nothing is needed, so a converged run can
//! explain itself. Applying and verifying are the engine's job. The one list of kinds is
//! the `kinds!` line below.

#[macro_use]
pub mod registry;
pub mod lifecycle;
pub mod spec;
pub mod view;

#[cfg(test)]
mod fixtures;

pub use registry::FromSpec;
pub use view::{GuestRef, HostView, Scope};

use crate::facts::{CommandOutput, FactError, FactKey, PathFact};
use crate::formats::dnftx::TxPackage;
use crate::remote::Action;

// The registry: one line per resource kind (module => type). See CONTRIBUTING.md.
kinds! {
    line => LineResource,
    ini => IniResource,
    move_aside => MoveAsideResource,
    symlink => SymlinkResource,
    file => FileResource,
    kernels => KernelsResource,
    packages => PackagesResource,
    repo => RepoResource,
    service => ServiceResource,
    user => UserResource,
    group => GroupResource,
    command => CommandResource,
    domain => DomainResource,
    initrd => InitrdResource,
}

/// Where a step's resource runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// On the machine the step selects (a guest's own files and packages).
    Target,
    /// On the host a selected guest runs on, about that guest (its domain config, the
    /// initrd built beside its kernel): planned in the host's run with [`Scope::guest`] set.
    Parent,
}

/// Something a resource needs from the engine besides its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The kernel the guest's host boots it with (`Facts::booted`), read from the domain
    /// config on the host before the guest plans.
    BootedKernel,
    /// With the booted kernel, the modules inside the ramdisk the host boots the guest
    /// with (listed on the host: costly, so only `vmup doctor` asks).
    RamdiskDrivers,
}

/// One change a step would make, with the sentence the plan shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// Human summary, e.g. `insert line "S0:..." before line 12`.
    pub summary: String,
    /// What the apply script will do.
    pub action: Action,
    /// More lines shown under the summary in plans (a transaction's package list); file
    /// writes get their diff from the engine instead.
    pub detail: Option<String>,
}

/// The outcome of planning one step on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepPlan {
    /// Changes in the order they must be applied.
    pub changes: Vec<Planned>,
    /// Why nothing needs doing (or a remark about what will be done).
    pub note: Option<String>,
    /// Why the step holds back a change it would otherwise make, for safety (the kernel a
    /// host boots is unknown, ...): shown to people even when nothing changes.
    pub warning: Option<String>,
    /// What command facts will answer once these changes are made (a group created, a
    /// user added), by fact name: later steps of the host plan against it, as they do
    /// against files an earlier step writes.
    pub promises: Vec<(String, CommandOutput)>,
    /// The packages a transaction step will install, upgrade or remove, as its preview
    /// says: later steps' values (the newest release of a package) count them as done.
    pub transaction: Vec<TxPackage>,
}

impl StepPlan {
    /// A plan that changes nothing, with the reason.
    pub fn unchanged(reason: impl Into<String>) -> StepPlan {
        StepPlan {
            changes: Vec::new(),
            note: Some(reason.into()),
            warning: None,
            promises: Vec::new(),
            transaction: Vec::new(),
        }
    }

    /// A plan that holds back its changes for safety, with the reason people must see.
    pub fn withheld(reason: impl Into<String>) -> StepPlan {
        StepPlan {
            changes: Vec::new(),
            note: None,
            warning: Some(reason.into()),
            promises: Vec::new(),
            transaction: Vec::new(),
        }
    }

    /// A plan with a single change.
    pub fn change(summary: impl Into<String>, action: Action) -> StepPlan {
        StepPlan {
            changes: vec![Planned {
                summary: summary.into(),
                action,
                detail: None,
            }],
            note: None,
            warning: None,
            promises: Vec::new(),
            transaction: Vec::new(),
        }
    }
}

/// Why a step cannot be planned on a host; the host fails and nothing is applied there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The host's state makes the step impossible as written (anchor missing, wrong type).
    #[error("{0}")]
    Refused(String),
    /// A bug: a resource read a fact it did not ask for.
    #[error("internal error: {0}")]
    Internal(String),
    /// The step can only be planned with facts that depend on what earlier steps plan
    /// (a preview of repositories they write): the engine gathers these and plans again.
    #[error("facts still to be gathered: {}", .0.len())]
    NeedFacts(Vec<FactKey>),
}

impl From<FactError> for PlanError {
    fn from(error: FactError) -> PlanError {
        match error {
            FactError::NotGathered(name) => {
                PlanError::Internal(format!("fact {name:?} was not gathered"))
            }
            other => PlanError::Refused(other.to_string()),
        }
    }
}

/// A kind of desired state. Implementations are pure: facts in, changes out.
pub trait Resource: std::fmt::Debug + Send + Sync {
    /// The path (or package) the step is about, for reports; None when the changes name
    /// their own.
    fn subject(&self) -> Option<&str> {
        None
    }
    /// Facts this resource needs from the machine it runs on; `scope` says which guest a
    /// [`Placement::Parent`] step is about.
    fn facts(&self, scope: &Scope) -> Vec<FactKey>;
    /// Changes that would bring the host to the desired state.
    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError>;
    /// Whether applying the step's changes makes its next plan empty. True for every kind
    /// but a `command` with `always = true`, which runs on every apply by design: verify
    /// (and the fixtures' second-run check) leave such a step's changes out instead of
    /// failing the host as not converged on each run.
    fn converges(&self) -> bool {
        true
    }
}

pub use crate::facts::{file_fact, stat_fact};

/// The existing text of a regular file to be edited, or why it cannot be edited.
/// `create` turns a missing file into an empty one (mode 0644, owned by the writer).
pub fn editable_file(
    view: &HostView<'_>,
    path: &str,
    create: bool,
) -> Result<EditableFile, PlanError> {
    match view.path(path)? {
        PathFact::File {
            content: Some(content),
            mode,
            uid,
            gid,
            ..
        } => Ok(EditableFile {
            old: Some(content.clone()),
            mode: *mode,
            owner: Some(format!("{uid}:{gid}")),
        }),
        PathFact::File { content: None, .. } => Err(PlanError::Internal(format!(
            "the content of {path} was not gathered"
        ))),
        PathFact::Absent if create => Ok(EditableFile {
            old: None,
            mode: 0o644,
            owner: None,
        }),
        PathFact::Absent => Err(PlanError::Refused(format!(
            "{path} does not exist (set create = true to create it)"
        ))),
        other => Err(PlanError::Refused(format!(
            "{path} is {}, not a regular file",
            describe(other)
        ))),
    }
}

/// A file about to be edited: its old bytes (None when it will be created), mode and owner.
#[derive(Debug, Clone)]
pub struct EditableFile {
    /// Current bytes, None when absent.
    pub old: Option<Vec<u8>>,
    /// Mode to keep.
    pub mode: u32,
    /// Owner to keep, as `uid:gid`.
    pub owner: Option<String>,
}

impl EditableFile {
    /// The current bytes, empty for a file that does not exist yet.
    pub fn bytes(&self) -> &[u8] {
        self.old.as_deref().unwrap_or(&[])
    }

    /// The write action replacing the file with `new`, keeping mode and owner, guarded by
    /// the old content (compare-and-swap).
    pub fn write(&self, path: &str, new: Vec<u8>) -> Action {
        Action::WriteFile {
            path: path.to_string(),
            expect: match &self.old {
                Some(old) => crate::remote::Expect::File(old.clone()),
                None => crate::remote::Expect::Absent,
            },
            content: new,
            mode: self.mode,
            owner: self.owner.clone(),
        }
    }
}

/// A few words for a path's type, for messages.
pub fn describe(fact: &PathFact) -> &'static str {
    match fact {
        PathFact::Absent => "absent",
        PathFact::File { .. } => "a regular file",
        PathFact::Dir { .. } => "a directory",
        PathFact::Symlink { .. } => "a symbolic link",
        PathFact::Other => "a special file",
    }
}

/// The expectation matching what a path is now, for removals and renames.
pub fn expect_current(fact: &PathFact) -> crate::remote::Expect {
    use crate::remote::Expect;
    match fact {
        PathFact::Absent => Expect::Absent,
        PathFact::Dir { .. } => Expect::Dir,
        PathFact::Symlink { target } => Expect::Symlink(target.clone()),
        PathFact::File {
            content: Some(c), ..
        } => Expect::File(c.clone()),
        PathFact::File { content: None, .. } | PathFact::Other => Expect::Exists,
    }
}

/// Shows bytes as a short quoted string for summaries.
pub fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() > 60 {
        let cut: String = text.chars().take(57).collect();
        format!("{cut:?}...")
    } else {
        format!("{text:?}")
    }
}
