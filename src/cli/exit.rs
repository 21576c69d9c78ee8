//! Exit codes: each one means one thing, so scripts can act on them.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | success: every host converged (apply), nothing would change (plan), every host is OK (check) |
//! | 1    | at least one host failed or was skipped; `check`: or is Not OK |
//! | 2    | bad input: inventory, runbook, pattern or arguments; nothing was run anywhere |
//! | 3    | plan: changes are pending on at least one host, none failed; apply at a terminal: not confirmed, nothing changed |
//! | 4    | at least one host was unreachable, none failed (Ansible's 4) |
//! | 5    | a step held back a change for safety on at least one host (see its warnings); nothing failed |
//! | 130  | interrupted (Ctrl-C / SIGTERM) before every host was done |

/// What the process returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Converged / nothing to change.
    Success = 0,
    /// A host failed or was skipped; `check`: or is Not OK (the JSON summary tells
    /// `not_ok` from `failed`). Wins over `Unreachable`: a failure needs a person first.
    HostFailed = 1,
    /// Bad input; nothing touched.
    BadInput = 2,
    /// Plan found pending changes (or an apply at a terminal was not confirmed: they are
    /// still pending).
    ChangesPending = 3,
    /// A host could not be reached (connect, host key, authentication) and none failed:
    /// a script can retry later with the retry file, where a failure needs a look first.
    Unreachable = 4,
    /// A change was held back for safety: not convergence.
    HeldBack = 5,
    /// Interrupted.
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
