//! `plan` and `apply`: one host through facts -> plan -> apply -> verify, one remote
//! command per phase.
//!
//! Round trips: `plan` costs one (facts). `apply` costs one when nothing needs changing
//! (facts; the plan is empty, so there is nothing to verify) and two otherwise (facts;
//! apply and verify in one script, see `engine::apply::apply_then_gather`). Verify
//! re-reads the same facts after the last change and re-plans: an empty plan is the
//! proof of convergence; anything else fails the host with what would still change. The
//! one exception is a step that says it never converges (`command` with `always = true`,
//! see `Resource::converges`): its changes are planned on every run and verify leaves them
//! out.

use crate::facts::{FactKey, Facts, merge_keys};
use crate::formats::dnftx::config_warnings;
use crate::remote::{Action, Expect};
use crate::resource::{HostView, PlanError, Resource, Scope};
use crate::runbook::StepRender;
use crate::runbook::context::{FACT_NAMES, context, facts_for};
use crate::transport::TransportError;

use super::apply::{Applied, apply_then_gather};
use super::diff::change_report;
use super::error::HostError;
use super::gather::gather_then;
use super::prepare::Job;
use super::report::{ChangeReport, HostReport, Mode, Phase, Status};
use super::saved_plan::{self, Fingerprint};
use super::work::{HostCtx, HostWork};

/// `plan` or `apply` of a runbook: the steps of each job through the pipeline.
#[derive(Debug, Clone, Copy)]
pub struct RunbookWork {
    /// Plan only, or plan, apply and verify.
    pub mode: Mode,
}

/// A planned change with its place in the report.
struct PlannedChange {
    report: ChangeReport,
    action: Action,
    /// False for a change made on every run by design (`command` with `always = true`):
    /// verify does not count it as left to do.
    converges: bool,
}

impl HostWork for RunbookWork {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        run_host(job, ctx, self.mode, None)
    }
}

/// One host through the pipeline in `mode`; with `expected` (a reviewed plan's fingerprint
/// and where it came from), the host applies only if its plan made now is that one. The
/// report carries the fingerprint of the plan made, for `plan --out`.
pub fn run_host(
    job: &Job<'_>,
    ctx: &HostCtx<'_>,
    mode: Mode,
    expected: Option<(&Fingerprint, &str)>,
) -> HostReport {
    let mut remarks = Remarks::default();
    let mut changes: Vec<ChangeReport> = Vec::new();
    let mut made = None;
    let outcome = pipeline(
        job,
        mode,
        ctx,
        &mut remarks,
        &mut changes,
        (expected, &mut made),
    );
    // A shell the facts left running for an apply that did not come (nothing to change,
    // a plan refused, an error) ends now, not with the run.
    job.transport.release();
    let (phase, status, error) = match outcome {
        // A change held back for safety is not convergence, whatever else converged.
        Ok((phase, _)) if !remarks.warnings.is_empty() => (phase, Status::Held, None),
        Ok((phase, status)) => (phase, status, None),
        Err((phase, error)) => (phase, error.status(), Some(error.to_string())),
    };
    let mut report = ctx.report(&job.host.name, phase, status);
    report.changes = changes;
    report.notes = remarks.notes;
    report.warnings = remarks.warnings;
    report.findings = remarks.findings;
    report.error = error;
    report.fingerprint = made;
    report
}

fn pipeline(
    job: &Job<'_>,
    mode: Mode,
    ctx: &HostCtx<'_>,
    remarks: &mut Remarks,
    changes_out: &mut Vec<ChangeReport>,
    (expected, made): (Option<(&Fingerprint, &str)>, &mut Option<Fingerprint>),
) -> Result<(Phase, Status), (Phase, HostError)> {
    let host = &job.host.name;
    let mut keys =
        merge_keys(
            job.steps
                .iter()
                .flat_map(|s| match (&s.step.resource, &s.step.render) {
                    (Some(resource), _) => resource.facts(&s.scope),
                    (None, Some(render)) => first_round_facts(job, render, &s.scope),
                    (None, None) => Vec::new(),
                }),
        );

    ctx.phase(host, Phase::Facts);
    // An apply keeps the facts' shell for the changes (one exec per host, not two).
    let hold = mode == Mode::Apply;
    let (planned, facts) =
        gather_and_plan(job, &mut keys, None, ctx, Phase::Facts, Some(remarks), hold)?;
    let fingerprint = saved_plan::fingerprint(&facts, planned.iter().map(|c| &c.report));
    if let Some((saved, source)) = expected
        && let Some(what) = saved_plan::differs(saved, &fingerprint)
    {
        return Err((
            Phase::Plan,
            HostError::Other(format!(
                "{what} ({source}): nothing was applied here; review a new plan (vmup plan --out)"
            )),
        ));
    }
    *made = Some(fingerprint);
    changes_out.extend(planned.iter().map(|c| c.report.clone()));
    if planned.is_empty() {
        return Ok((Phase::Plan, Status::Ok));
    }
    if mode == Mode::Plan {
        return Ok((Phase::Plan, Status::Changed));
    }
    if ctx.cancelled() {
        return Err((Phase::Plan, HostError::Interrupted));
    }

    ctx.phase(host, Phase::Apply);
    let actions: Vec<Action> = planned.iter().map(|c| c.action.clone()).collect();
    let Applied {
        outcome,
        detail,
        facts: after,
    } = match apply_then_gather(job, &actions, &keys, ctx) {
        Ok(applied) => applied,
        // sudo refused to start the script: nothing ran, so nothing is in doubt.
        Err(error @ HostError::Transport(TransportError::Become { .. })) => {
            changes_out.clear();
            return Err((Phase::Apply, error));
        }
        Err(error) => {
            // Nothing came back: no change can be reported as made.
            changes_out.clear();
            return Err((
                Phase::Apply,
                HostError::ApplyLost {
                    source: Box::new(error),
                    total: actions.len(),
                },
            ));
        }
    };
    for (i, text) in &outcome.outputs {
        let text = String::from_utf8_lossy(text).into_owned();
        for (old, new) in config_warnings(&text) {
            let what = if new.ends_with(".rpmnew") {
                format!("{old} kept; the package's new version is in {new}")
            } else {
                format!("{old} replaced by the package's version; the old one is in {new}")
            };
            remarks.notes.push(format!(
                "{}: {what} (see `vmup conflicts`)",
                planned[(*i).min(planned.len() - 1)].report.step
            ));
        }
        if let Some(change) = changes_out.get_mut(*i) {
            change.output = Some(text);
        }
    }
    if outcome.failure.is_none() && !outcome.complete {
        let done = outcome.done.len();
        let at = &planned[done.min(planned.len() - 1)];
        changes_out.truncate(done);
        return Err((
            Phase::Apply,
            HostError::ApplyCut {
                step: at.report.step.clone(),
                summary: at.report.summary.clone(),
                done,
                total: planned.len(),
                detail,
            },
        ));
    }
    if let Some(failure) = outcome.failure {
        let change = &planned[failure.index.min(planned.len() - 1)];
        let done = outcome.done.len();
        let what = if failure.changed_underneath {
            format!(
                "{}: changed since facts were gathered; left as the other writer left it",
                change.report.path.as_deref().unwrap_or(&failure.message)
            )
        } else {
            let said = outcome
                .outputs
                .get(&failure.index)
                .map(|o| output_tail(o))
                .unwrap_or_default();
            format!(
                "{}: {}{said}",
                change.report.summary,
                failure.message.trim()
            )
        };
        // Only the changes that completed are reported as made.
        changes_out.truncate(done);
        return Err((
            Phase::Apply,
            HostError::Apply {
                step: change.report.step.clone(),
                what,
                done,
            },
        ));
    }

    ctx.phase(host, Phase::Verify);
    // A step that runs on every apply by design (`always = true`) is planned again here;
    // it is not left to do.
    let left: Vec<PlannedChange> =
        gather_and_plan(job, &mut keys, after, ctx, Phase::Verify, None, false)?
            .0
            .into_iter()
            .filter(|c| c.converges)
            .collect();
    if let Some(first) = left.first() {
        return Err((
            Phase::Verify,
            HostError::NotConverged {
                step: first.report.step.clone(),
                summary: first.report.summary.clone(),
                left: left.len(),
            },
        ));
    }
    Ok((Phase::Verify, Status::Changed))
}

/// What a templated step needs in the first facts round. A step whose templates read
/// only variables (and the host's inventory name) renders the same before any fact is
/// read, so its own facts (a `.repo` file named by a variable) are asked for at once, not
/// in a second round trip; one that reads facts or values asks for those first.
fn first_round_facts(job: &Job<'_>, render: &StepRender, scope: &Scope) -> Vec<FactKey> {
    let names = render.template.names();
    let values = &render.source.values;
    let static_only = names
        .iter()
        .all(|n| !values.contains_key(n) && (n == "host" || !FACT_NAMES.contains(&n.as_str())));
    if static_only {
        let nothing = Facts::default();
        let mut view = HostView::new(&nothing);
        view.set_scope(scope);
        let rendered = context(
            &job.host.name,
            &names,
            &view,
            values,
            &job.vars,
            &mut Vec::new(),
        )
        .ok()
        .and_then(|values| render.render(&values).ok());
        if let Some((resource, _)) = rendered {
            return resource.facts(scope);
        }
    }
    facts_for(&names, values)
}

/// Gathers `keys` and plans; while steps rendered with this host's values need facts that
/// were not gathered (a path named by a release), or a step asks for facts that depend on
/// the plan so far (`PlanError::NeedFacts`), gathers those too: one more round trip per
/// round, at most one round per step; a step is never skipped. Leaves `keys` holding every fact used,
/// for the verify phase. `read` are facts for `keys` already read (by the apply script),
/// used for the first round. `gathering` is the phase a failed gather is reported in;
/// `hold` leaves the host's shell running after each gather, for the apply.
fn gather_and_plan(
    job: &Job<'_>,
    keys: &mut Vec<FactKey>,
    mut read: Option<Facts>,
    ctx: &HostCtx<'_>,
    gathering: Phase,
    remarks: Option<&mut Remarks>,
    hold: bool,
) -> Result<(Vec<PlannedChange>, Facts), (Phase, HostError)> {
    // Each round plans at least one more step than the last, so a round per step ends it.
    let rounds = 1 + job.steps.len();
    let phase = if gathering == Phase::Facts {
        Phase::Plan
    } else {
        gathering
    };
    let mut known: Option<Facts> = None;
    for round in 0..rounds {
        let facts = match (read.take(), known.take()) {
            (Some(facts), _) => facts,
            (None, None) => gather_then(job, keys, ctx, hold).map_err(|e| (gathering, e))?,
            // A later round asks the host only for what the earlier ones did not give:
            // a package preview or a file read twice would cost its processes twice.
            (None, Some(mut facts)) => {
                let new: Vec<FactKey> = keys.iter().filter(|k| !facts.has(k)).cloned().collect();
                facts.absorb(gather_then(job, &new, ctx, hold).map_err(|e| (gathering, e))?);
                facts
            }
        };
        if gathering == Phase::Facts && round == 0 {
            ctx.phase(&job.host.name, Phase::Plan);
        }
        let mut missing = Vec::new();
        let mut round_remarks = Remarks::default();
        let planned =
            plan(job, &facts, Some(&mut round_remarks), &mut missing).map_err(|e| (phase, e))?;
        if missing.is_empty() {
            if let Some(remarks) = remarks {
                *remarks = round_remarks;
            }
            return Ok((planned, facts));
        }
        *keys = merge_keys(keys.drain(..).chain(missing));
        let asked_again = keys.iter().all(|k| facts.has(k));
        known = Some(facts);
        if asked_again {
            // Asked again for what was gathered: another round would answer the same.
            break;
        }
    }
    Err((
        phase,
        HostError::Plan {
            step: "the steps".into(),
            error: PlanError::Internal(
                "a step kept asking for facts that gathering did not give".into(),
            ),
        },
    ))
}

/// The last lines a failed command printed, as ` (said: ...)`.
fn output_tail(output: &[u8]) -> String {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    let tail = &lines[lines.len().saturating_sub(6)..];
    format!(" (said: {})", tail.join(" / "))
}

/// What planning says besides the changes.
#[derive(Default)]
struct Remarks {
    /// Why steps changed nothing, and remarks on what they do.
    notes: Vec<String>,
    /// Changes steps held back for safety.
    warnings: Vec<String>,
    /// What check-only steps would change (never applied; see `engine::check`).
    findings: Vec<ChangeReport>,
}

/// Plans every step in order against one view; `remarks` collects no-op reasons and
/// held-back changes. A step rendered with this host's values that needs facts not in
/// `facts` is skipped and its facts are added to `missing`, for another round.
fn plan(
    job: &Job<'_>,
    facts: &Facts,
    mut remarks: Option<&mut Remarks>,
    missing: &mut Vec<FactKey>,
) -> Result<Vec<PlannedChange>, HostError> {
    let mut view = HostView::new(facts);
    let mut planned = Vec::new();
    // Temporary files an interrupted run left (their writer is gone) go first.
    for leftover in &facts.leftovers {
        let action = Action::Remove {
            path: leftover.clone(),
            expect: Expect::Exists,
        };
        view.simulate(&action);
        planned.push(PlannedChange {
            report: ChangeReport {
                step: "before the steps".into(),
                resource: "leftover".into(),
                path: Some(leftover.clone()),
                summary: format!(
                    "remove {leftover}, a temporary file an interrupted vmup run left"
                ),
                diff: None,
                output: None,
            },
            action,
            converges: true,
        });
    }
    for job_step in &job.steps {
        let step = job_step.step;
        view.set_scope(&job_step.scope);
        let label = step.label();
        let refused = |error: String| HostError::Plan {
            step: label.clone(),
            error: PlanError::Refused(error),
        };
        if let Some(when) = &step.when
            && !when.holds(facts).map_err(refused)?
        {
            if let Some(remarks) = remarks.as_deref_mut() {
                remarks.notes.push(format!(
                    "{label}: skipped, `{}` is false here",
                    when.as_str()
                ));
            }
            continue;
        }
        let rendered: Box<dyn Resource>;
        let resource: &dyn Resource = match (&step.resource, &step.render) {
            (Some(resource), _) => resource.as_ref(),
            (None, Some(render)) => {
                let mut explain = Vec::new();
                let rendered_now = context(
                    &job.host.name,
                    &render.template.names(),
                    &view,
                    &render.source.values,
                    &job.vars,
                    &mut explain,
                )
                .and_then(|values| render.render(&values).map_err(|e| e.to_string()));
                let resource = match rendered_now {
                    Ok((resource, _)) => resource,
                    // As for a refusal below: decided in the round with every fact.
                    Err(_) if !missing.is_empty() => continue,
                    Err(e) => return Err(refused(e)),
                };
                let needed: Vec<FactKey> = resource
                    .facts(&job_step.scope)
                    .into_iter()
                    .filter(|k| !facts.has(k))
                    .collect();
                if !needed.is_empty() {
                    missing.extend(needed);
                    continue;
                }
                if let Some(remarks) = remarks.as_deref_mut() {
                    remarks
                        .notes
                        .extend(explain.into_iter().map(|e| format!("{label}: {e}")));
                }
                rendered = resource;
                rendered.as_ref()
            }
            (None, None) => {
                return Err(HostError::Plan {
                    step: label,
                    error: PlanError::Internal("the step has no resource".into()),
                });
            }
        };
        let step_plan = match resource.plan(&view) {
            Ok(plan) => plan,
            // Facts that depend on the plan so far: gathered in another round.
            Err(PlanError::NeedFacts(keys)) => {
                missing.extend(keys);
                continue;
            }
            // After a step skipped for facts, this one planned against an incomplete view:
            // the next round, with every fact, says whether its refusal stands.
            Err(_) if !missing.is_empty() => continue,
            Err(error) => {
                return Err(HostError::Plan {
                    step: label.clone(),
                    error,
                });
            }
        };
        // A note explains a no-op, or remarks on what will be done (kernels kept and why).
        if let Some(remarks) = remarks.as_deref_mut() {
            if let Some(note) = step_plan.note {
                remarks.notes.push(format!("{label}: {note}"));
            }
            if let Some(warning) = step_plan.warning {
                remarks.warnings.push(format!("{label}: {warning}"));
            }
        }
        // A check-only step is evaluated and reported, never applied nor simulated.
        if step.check_only {
            if let Some(remarks) = remarks.as_deref_mut() {
                for found in super::check::findings(step, resource, &label, step_plan.changes) {
                    remarks.notes.push(super::check::finding_note(&found));
                    remarks.findings.push(found);
                }
            }
            continue;
        }
        for (name, output) in step_plan.promises {
            view.promise(&name, output);
        }
        view.record_transaction(&label, &step_plan.transaction);
        for change in step_plan.changes {
            view.simulate(&change.action);
            planned.push(PlannedChange {
                report: change_report(step.kind, resource, &label, &change),
                action: change.action,
                converges: resource.converges(),
            });
        }
    }
    Ok(planned)
}
