//! The one apply path: planned actions as one compare-and-swap script, run and read back.
//!
//! The runbook pipeline and `vmup conflicts --resolve` both apply through here, so every
//! change vmup makes has the same guards, the same framing and the same failure report.

use crate::remote::Action;
use crate::remote::apply::{ApplyOutcome, apply_script, parse_apply};
use crate::remote::frame::Boundary;

use super::error::HostError;
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
