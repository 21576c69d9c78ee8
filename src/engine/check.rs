//! `vmup check`: per host, OK or Not OK with the reasons, as gridpulse reports a machine
//! to the GOC (the seed: "make sure that newly installed services do not cause gridpulse to
//! report the machine as Not OK"). Read-only: facts are read, nothing is applied anywhere.
//!
//! There is no second planner: a host's verdict folds the reports of two existing works,
//! the runbook's plan ([`RunbookWork`] in [`Mode::Plan`]) and, on a guest, the boot check of
//! `vmup kernels` ([`KernelCheck`]). A host is Not OK when a step would change something
//! (it is not as the runbook wants), a check-only step would (see [`findings`]), a step
//! cannot be planned, a step holds a change back for safety, or the kernel its host boots
//! it with has no modules in it. A host that could not be judged (unreachable, its facts
//! unreadable, never started) is neither OK nor Not OK: it keeps that status and error.
//!
//! Round trips: one facts script per host; on a guest with steps, one more for its kernel
//! inventory (the script `vmup kernels` sends); and the booted-kernel pre-phase on each
//! guest's host (two scripts for all its guests).

use serde::Serialize;

use crate::resource::{Planned, Resource};
use crate::runbook::Step;

use super::diff;
use super::kernel_check::{GuestKernels, KernelCheck};
use super::prepare::Job;
use super::report::{ChangeReport, HostDetail, HostReport, Mode, Phase, Status};
use super::runbook_run::RunbookWork;
use super::work::{HostCtx, HostWork};

#[cfg(test)]
mod tests;

/// `vmup check` on one host: the runbook planned (never applied) and, on a guest, its
/// next boot judged, folded into one verdict by [`fold`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckWork;

impl HostWork for CheckWork {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        let guest = job.host.parent.is_some();
        // A guest without steps is judged on its kernel alone: its runbook facts would only
        // prove that it answers, which the kernel check's script proves as well.
        let plan = (!guest || !job.steps.is_empty())
            .then(|| RunbookWork { mode: Mode::Plan }.run(job, ctx));
        let kernels =
            (guest && plan.as_ref().is_none_or(judged)).then(|| KernelCheck.run(job, ctx));
        let labels: Vec<String> = job.steps.iter().map(|s| s.step.label()).collect();
        let folded = fold(&job.host.name, &labels, plan, kernels);
        let spent = ctx.report(&job.host.name, folded.phase, folded.status);
        HostReport {
            elapsed: spent.elapsed,
            round_trips: spent.round_trips,
            ..folded
        }
    }
}

/// A host's verdict: the findings `vmup check` reports per host, flattened into its JSON
/// line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckDetail {
    /// `OK` or `Not OK`; null when the host could not be judged (see `status`, `error`).
    pub verdict: Option<Verdict>,
    /// Why the host is Not OK, in runbook order, the kernel last; empty when OK.
    pub reasons: Vec<Reason>,
    /// On a guest: its kernels and the verdict on its next boot, as `vmup kernels` has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernels: Option<GuestKernels>,
}

/// gridpulse's two words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// Nothing to change, nothing held back, nothing wrong with the next boot.
    #[serde(rename = "OK")]
    Ok,
    /// At least one reason.
    #[serde(rename = "Not OK")]
    NotOk,
}

impl Verdict {
    /// The word as people read it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::NotOk => "Not OK",
        }
    }
}

/// One reason a host is Not OK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// What kind of finding it is, so scripts can tell what `vmup apply` would fix.
    pub kind: ReasonKind,
    /// The step's label (`step 4 (haldaemon off)`), when a step found it.
    pub step: Option<String>,
    /// What was found: a change's summary, an error, a warning, the kernel's verdict.
    pub text: String,
}

/// Where a reason comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasonKind {
    /// A step would change this (`vmup apply` would make the change).
    Change,
    /// A check-only step would change this; `vmup apply` never does.
    Check,
    /// A step holds back a change for safety (see `vmup plan`'s warnings).
    Held,
    /// A step cannot be planned on this host.
    Error,
    /// The kernel the guest's host boots it with (its modules, its image).
    Kernel,
}

impl Reason {
    /// The line people read: `step 4 (haldaemon off): disable haldaemon at boot (...)`.
    pub fn line(&self) -> String {
        let what = match self.kind {
            ReasonKind::Change | ReasonKind::Held => String::new(),
            ReasonKind::Check => " [check only]".to_string(),
            ReasonKind::Error => " cannot be planned".to_string(),
            ReasonKind::Kernel => "booted kernel".to_string(),
        };
        match &self.step {
            Some(step) => format!("{step}{what}: {}", self.text),
            None if what.is_empty() => self.text.clone(),
            None => format!("{}: {}", what.trim_start(), self.text),
        }
    }
}

/// True when the plan reached a verdict's worth of facts: the host answered and its facts
/// were read (a step that fails to plan is a reason, not a failure to judge).
fn judged(plan: &HostReport) -> bool {
    match plan.status {
        Status::Unreachable | Status::Skipped => false,
        Status::Failed => plan.phase != Phase::Facts,
        _ => true,
    }
}

/// True when the kernel check reached the guest: its `failed` is a verdict on the next
/// boot (or on a guest whose kernels cannot be read), a reason like any other.
fn reached(kernels: &HostReport) -> bool {
    !matches!(kernels.status, Status::Unreachable | Status::Skipped)
}

/// Folds the plan's report and the kernel check's into the host's report. Pure. `labels`
/// are the labels of the host's steps in runbook order: reasons and changes are listed in
/// that order, the kernel last. A work that could not judge the host gives the report its
/// status and error, with no verdict.
pub fn fold(
    host: &str,
    labels: &[String],
    plan: Option<HostReport>,
    kernels: Option<HostReport>,
) -> HostReport {
    let stopped = (plan.iter().find(|r| !judged(r))).or(kernels.iter().find(|r| !reached(r)));
    if let Some(stopped) = stopped {
        let mut report = HostReport::new(host, stopped.phase, stopped.status);
        report.error = stopped.error.clone();
        report.detail = Some(HostDetail::Check(Box::new(CheckDetail {
            verdict: None,
            reasons: Vec::new(),
            kernels: None,
        })));
        return report;
    }
    let rank = |step: Option<&str>| match step {
        // Leftovers of an interrupted run come "before the steps"; the kernel comes last.
        Some(step) => labels.iter().position(|l| l == step).map_or(0, |i| i + 1),
        None => usize::MAX,
    };
    let mut report = HostReport::new(host, Phase::Facts, Status::Ok);
    let mut reasons = Vec::new();
    if let Some(plan) = plan {
        let reason = |kind, c: &ChangeReport| Reason {
            kind,
            step: Some(c.step.clone()),
            text: c.summary.clone(),
        };
        reasons.extend(plan.changes.iter().map(|c| reason(ReasonKind::Change, c)));
        reasons.extend(plan.findings.iter().map(|c| reason(ReasonKind::Check, c)));
        for warning in &plan.warnings {
            let (step, text) = split(labels, warning);
            reasons.push(Reason {
                kind: ReasonKind::Held,
                step,
                text,
            });
        }
        if plan.status == Status::Failed
            && let Some(error) = &plan.error
        {
            let (step, mut text) = split(labels, error);
            // The plan stops at the first step it cannot plan, as `vmup plan` does.
            text.push_str(" (planning stops at this step: the others are not judged)");
            reasons.push(Reason {
                kind: ReasonKind::Error,
                step,
                text,
            });
        }
        let noted: Vec<String> = plan.findings.iter().map(finding_note).collect();
        report.phase = plan.phase;
        report.changes = plan.changes;
        report.changes.extend(plan.findings);
        report.changes.sort_by_key(|c| rank(Some(&c.step)));
        report.notes = plan.notes;
        report.notes.retain(|n| !noted.contains(n));
        report.warnings = plan.warnings;
    }
    let mut guest = None;
    if let Some(checked) = kernels {
        match checked.detail {
            Some(HostDetail::Kernels(found)) => {
                if !found.ok {
                    reasons.push(Reason {
                        kind: ReasonKind::Kernel,
                        step: None,
                        text: found.verdict.clone(),
                    });
                }
                guest = Some(*found);
            }
            _ if checked.status != Status::Ok => reasons.push(Reason {
                kind: ReasonKind::Kernel,
                step: None,
                text: checked
                    .error
                    .unwrap_or_else(|| "the guest's kernels could not be read".to_string()),
            }),
            _ => {}
        }
    }
    reasons.sort_by_key(|r| rank(r.step.as_deref()));
    let verdict = if reasons.is_empty() {
        Verdict::Ok
    } else {
        Verdict::NotOk
    };
    report.status = match verdict {
        Verdict::Ok => Status::Ok,
        Verdict::NotOk => Status::NotOk,
    };
    report.detail = Some(HostDetail::Check(Box::new(CheckDetail {
        verdict: Some(verdict),
        reasons,
        kernels: guest,
    })));
    report
}

/// Splits `step 3 (name): what` into the step's label and what, for the plan's warnings
/// and errors, which carry the label in front. The longest label that fits wins; text
/// that names no step is kept whole.
fn split(labels: &[String], text: &str) -> (Option<String>, String) {
    labels
        .iter()
        .filter_map(|l| {
            let rest = text.strip_prefix(l.as_str())?.strip_prefix(": ")?;
            Some((l, rest))
        })
        .max_by_key(|(l, _)| l.len())
        .map_or((None, text.to_string()), |(l, rest)| {
            (Some(l.clone()), rest.to_string())
        })
}

/// The changes a check-only step would make, reported as the plan reports changes (with
/// diffs), but never applied: the plan calls this for steps with `check_only = true`.
pub fn findings(
    step: &Step,
    resource: &dyn Resource,
    label: &str,
    changes: Vec<Planned>,
) -> Vec<ChangeReport> {
    changes
        .iter()
        .map(|change| diff::change_report(step.kind, resource, label, change))
        .collect()
}

/// How `vmup plan` notes a finding: shown, and not a change.
pub fn finding_note(finding: &ChangeReport) -> String {
    format!(
        "{}: check only, not applied: {}",
        finding.step, finding.summary
    )
}
