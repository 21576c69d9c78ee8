//! The one apply path: planned actions as one compare-and-swap script, run and read back.
//!
//! The runbook pipeline and `vmup conflicts --resolve` both apply through here, so every
//! change vmup makes has the same guards, the same framing and the same failure report.

use crate::facts::{FactKey, Facts};
use crate::remote::Action;
use crate::remote::apply::{ApplyOutcome, apply_script, apply_script_then, parse_apply};
use crate::remote::frame::Boundary;

use super::error::HostError;
use super::gather::{facts_request, read_facts};
use super::prepare::Job;
use super::work::{HostCtx, stderr_excerpt};

/// Runs `actions` on the job's machine in one script. The outcome says which completed,
/// what commands printed, which one stopped the script (if any) and whether the script
/// ran to its end; the second value is its exit status and last words on stderr.
pub fn apply(
    job: &Job<'_>,
    actions: &[Action],
    ctx: &HostCtx<'_>,
) -> Result<(ApplyOutcome, String), HostError> {
    let boundary = Boundary::random();
    let script = apply_script(actions, &job.host.path_root(), &boundary)
        .map_err(|e| HostError::Script(e.to_string()))?;
    let output = ctx.remote(job, &script)?;
    Ok((
        parse_apply(&boundary, &output.stdout),
        stderr_excerpt(&output),
    ))
}

/// What [`apply_then_gather`] brings back: the apply's outcome and exit detail, as
/// [`apply`] gives them, and the facts read after the last change.
pub struct Applied {
    /// Which changes completed, what they printed, which one stopped the script.
    pub outcome: ApplyOutcome,
    /// The script's exit status and last words on stderr.
    pub detail: String,
    /// The facts read after every change completed, in the same script; `None` when a
    /// change failed or the output was cut before them (the caller gathers again then).
    pub facts: Option<Facts>,
}

/// Runs `actions` and, once every one of them has completed, gathers `keys` in the same
/// script: a host with changes costs two round trips (facts; apply and verify), not
/// three. A failed change ends the script before the facts part (`vmup_fail` exits), so
/// nothing is read from a host left half-changed; the two parts are framed with
/// boundaries of their own, so neither parser sees the other's records.
pub fn apply_then_gather(
    job: &Job<'_>,
    actions: &[Action],
    keys: &[FactKey],
    ctx: &HostCtx<'_>,
) -> Result<Applied, HostError> {
    let boundary = Boundary::random();
    let (facts_script, facts_boundary) = facts_request(job, keys)?;
    let script = apply_script_then(actions, &job.host.path_root(), &boundary, &facts_script)
        .map_err(|e| HostError::Script(e.to_string()))?;
    let output = ctx.remote(job, &script)?;
    let outcome = parse_apply(&boundary, &output.stdout);
    let facts = (outcome.complete && outcome.failure.is_none())
        .then(|| read_facts(job, keys, &facts_boundary, &output).ok())
        .flatten();
    Ok(Applied {
        outcome,
        detail: stderr_excerpt(&output),
        facts,
    })
}
