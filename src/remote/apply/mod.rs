//! Apply: the changes a plan decided, as one generated script with compare-and-swap writes.
//!
//! Every change first checks that the host still looks the way the facts said (the
//! precondition, [`Expect`]); a file is written whole to a temporary file in the same
//! directory, given its mode and owner, checked once more against the expected old content,
//! and renamed over the original. If anything changed underneath, the script stops at that
//! change with `changed since facts were gathered` and leaves the file as the other writer
//! left it. Earlier changes of the same script stay done (each one is atomic on its own).

use std::collections::BTreeMap;

use super::frame::{self, Boundary};

mod script;

pub use script::{apply_script, apply_script_then};

/// What must still be true of a path for a change to go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Nothing exists at the path.
    Absent,
    /// A regular file with exactly these bytes.
    File(Vec<u8>),
    /// A symlink with exactly this target.
    Symlink(Vec<u8>),
    /// A directory (its contents are not compared).
    Dir,
    /// Anything that is not a symlink, directory or regular file is never expected; this is
    /// "exists, of any type" for removals of things the plan saw.
    Exists,
}

/// One change to a host, as data; the plan shows it, the apply script performs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Replace (or create) a regular file atomically.
    WriteFile {
        /// Absolute path on the host.
        path: String,
        /// What the path must hold right before the rename.
        expect: Expect,
        /// The new bytes.
        content: Vec<u8>,
        /// Permission bits for the new file.
        mode: u32,
        /// `chown` argument (`uid:gid` or `user:group`), or None to leave the writer's.
        owner: Option<String>,
    },
    /// Create or retarget a symlink atomically.
    Symlink {
        /// Absolute path of the link.
        path: String,
        /// What the link should point at.
        target: Vec<u8>,
        /// What the path must hold before.
        expect: Expect,
    },
    /// Rename `from` to `to`; `to` must not exist.
    Rename {
        /// Existing path.
        from: String,
        /// New name, which must be free.
        to: String,
        /// What `from` must be.
        expect: Expect,
    },
    /// Remove a path (recursively for a directory).
    Remove {
        /// Path to remove.
        path: String,
        /// What it must be.
        expect: Expect,
    },
    /// Run a shell fragment built by a resource (already quoted); non-zero exit fails the host.
    Run {
        /// Shell code.
        script: Vec<u8>,
    },
}

impl Action {
    /// The path the change is about, for reports.
    pub fn path(&self) -> Option<&str> {
        match self {
            Action::WriteFile { path, .. }
            | Action::Symlink { path, .. }
            | Action::Remove { path, .. } => Some(path),
            Action::Rename { from, .. } => Some(from),
            Action::Run { .. } => None,
        }
    }
}

/// How an apply script ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Indexes of the actions that completed.
    pub done: Vec<usize>,
    /// The action that stopped the script, if any.
    pub failure: Option<ApplyFailure>,
    /// Output of [`Action::Run`] actions, by index.
    pub outputs: BTreeMap<usize, Vec<u8>>,
    /// False when the script was cut short (killed, connection lost) before its end: the
    /// change after the last one in `done` may or may not have been made.
    pub complete: bool,
}

/// The change that stopped an apply script, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFailure {
    /// Index of the action.
    pub index: usize,
    /// True when the precondition failed: someone else changed the path.
    pub changed_underneath: bool,
    /// The shell's message.
    pub message: String,
}

/// Reads the framed output of [`apply_script`], also of a script cut short.
pub fn parse_apply(boundary: &Boundary, output: &[u8]) -> ApplyOutcome {
    let (records, complete) = frame::parse_partial(boundary, output);
    let mut outcome = ApplyOutcome {
        complete,
        ..ApplyOutcome::default()
    };
    for rec in records {
        let index = rec.header.get(1).and_then(|s| s.parse::<usize>().ok());
        match (rec.header.first().map(String::as_str), index) {
            (Some("done"), Some(i)) => outcome.done.push(i),
            (Some("output"), Some(i)) => {
                outcome.outputs.insert(i, rec.payload);
            }
            (Some("fail"), Some(i)) => {
                outcome.failure = Some(ApplyFailure {
                    index: i,
                    changed_underneath: rec.header.get(2).map(String::as_str) == Some("changed"),
                    message: String::from_utf8_lossy(&rec.payload).into_owned(),
                })
            }
            _ => {}
        }
    }
    outcome
}

#[cfg(test)]
mod tests;
