//! Check-only steps (`check_only = true`): a health rule written as a runbook step. What
//! such a step would change is reported (a note in `vmup plan`, a finding in the host's
//! report), never applied nor simulated for later steps, so `vmup apply` converges
//! without it and its verify ignores it.

use crate::resource::Planned;
use crate::runbook::Step;

use super::diff;
use super::report::ChangeReport;

#[cfg(test)]
mod tests;

/// The changes a check-only step would make, reported as the plan reports changes (with
/// diffs), but never applied: the plan calls this for steps with `check_only = true`.
pub fn findings(step: &Step, label: &str, changes: Vec<Planned>) -> Vec<ChangeReport> {
    changes
        .into_iter()
        .map(|change| ChangeReport {
            step: label.to_string(),
            resource: step.kind.to_string(),
            path: change
                .action
                .path()
                .map(str::to_string)
                .or(step.resource.subject().map(str::to_string)),
            diff: diff::of_change(&change),
            summary: change.summary,
            output: None,
        })
        .collect()
}

/// How `vmup plan` notes a finding: shown, and not a change.
pub fn finding_note(finding: &ChangeReport) -> String {
    format!(
        "{}: check only, not applied: {}",
        finding.step, finding.summary
    )
}
