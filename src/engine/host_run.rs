//! One host through facts -> plan -> apply -> verify, one remote command per phase.
//!
//! Round trips: `plan` costs one (facts). `apply` costs one when nothing needs changing
//! (facts; the plan is empty, so there is nothing to verify) and three otherwise (facts,
//! apply, verify). Verify re-gathers the same facts and re-plans: an empty plan is the
//! proof of convergence; anything else fails the host with what would still change.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::formats::dnftx::config_warnings;
use crate::inventory::Host;
use crate::remote::apply::{apply_script, parse_apply};
use crate::remote::booted::BootedKernel;
use crate::remote::facts::{facts_script, merge_keys, parse_facts};
use crate::remote::frame::Boundary;
use crate::remote::{Action, Expect, Facts};
use crate::resource::HostView;
use crate::runbook::Step;
use crate::transport::{RemoteOutput, Transport, TransportError};

use super::diff::unified;
use super::event::{Event, EventSink};
use super::report::{ChangeReport, HostReport, Mode, Phase, Status};

/// A host and what to run there.
pub struct HostRun<'a> {
    /// The machine.
    pub host: &'a Host,
    /// Steps that apply to it, in runbook order.
    pub steps: Vec<&'a Step>,
    /// How to reach it.
    pub transport: &'a dyn Transport,
    /// For a guest whose steps need it: the kernel its host boots it with (read on the
    /// parent host by [`super::booted`] before the run), or why it is unknown.
    pub booted: Option<Result<BootedKernel, String>>,
}

/// A planned change with its place in the report.
struct PlannedChange {
    report: ChangeReport,
    action: Action,
}

/// Why a host stopped early.
struct Stop {
    phase: Phase,
    status: Status,
    message: String,
}

impl Stop {
    fn failed(phase: Phase, message: String) -> Stop {
        Stop {
            phase,
            status: Status::Failed,
            message,
        }
    }
}

/// Runs the pipeline on one host and reports how it ended. `cancel` is checked before the
/// apply phase: a host interrupted after planning applies nothing.
pub fn run_host(
    run: &HostRun<'_>,
    mode: Mode,
    sink: &dyn EventSink,
    cancel: &AtomicBool,
) -> HostReport {
    let started = Instant::now();
    let trips = AtomicUsize::new(0);
    let mut remarks = Remarks::default();
    let mut changes: Vec<ChangeReport> = Vec::new();
    let outcome = pipeline(run, mode, sink, cancel, &trips, &mut remarks, &mut changes);
    let (phase, status, error) = match outcome {
        Ok((phase, status)) => (phase, status, None),
        Err(stop) => (stop.phase, stop.status, Some(stop.message)),
    };
    HostReport {
        host: run.host.name.clone(),
        phase,
        status,
        changes,
        notes: remarks.notes,
        warnings: remarks.warnings,
        error,
        elapsed: started.elapsed(),
        round_trips: trips.load(Ordering::Relaxed),
    }
}

fn pipeline(
    run: &HostRun<'_>,
    mode: Mode,
    sink: &dyn EventSink,
    cancel: &AtomicBool,
    trips: &AtomicUsize,
    remarks: &mut Remarks,
    changes_out: &mut Vec<ChangeReport>,
) -> Result<(Phase, Status), Stop> {
    let host = &run.host.name;
    let root = run.host.path_root();
    let keys = merge_keys(run.steps.iter().flat_map(|s| s.resource.facts()));

    sink.event(&Event::PhaseStarted {
        host,
        phase: Phase::Facts,
    });
    let mut facts = gather(run, &keys, &root, trips, Phase::Facts)?;
    facts.booted = run.booted.clone();

    sink.event(&Event::PhaseStarted {
        host,
        phase: Phase::Plan,
    });
    let planned = plan(run, &facts, Some(remarks)).map_err(|m| Stop::failed(Phase::Plan, m))?;
    changes_out.extend(planned.iter().map(|c| c.report.clone()));
    if planned.is_empty() {
        return Ok((Phase::Plan, Status::Ok));
    }
    if mode == Mode::Plan {
        return Ok((Phase::Plan, Status::Changed));
    }
    if cancel.load(Ordering::SeqCst) {
        return Err(Stop {
            phase: Phase::Plan,
            status: Status::Skipped,
            message: "interrupted before apply: nothing was changed on this host".into(),
        });
    }

    sink.event(&Event::PhaseStarted {
        host,
        phase: Phase::Apply,
    });
    let actions: Vec<Action> = planned.iter().map(|c| c.action.clone()).collect();
    let boundary = Boundary::random();
    let script = apply_script(&actions, &root, &boundary)
        .map_err(|e| Stop::failed(Phase::Apply, e.to_string()))?;
    let output = remote(run, &script, trips, Phase::Apply)?;
    let outcome = parse_apply(&boundary, &output.stdout)
        .map_err(|e| Stop::failed(Phase::Apply, format!("{e}; {}", stderr_excerpt(&output))))?;
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
        return Err(Stop::failed(
            Phase::Apply,
            format!(
                "{} failed: {what} ({done} earlier change(s) were applied)",
                change.report.step
            ),
        ));
    }

    sink.event(&Event::PhaseStarted {
        host,
        phase: Phase::Verify,
    });
    let mut facts = gather(run, &keys, &root, trips, Phase::Verify)?;
    facts.booted = run.booted.clone();
    let left = plan(run, &facts, None).map_err(|m| Stop::failed(Phase::Verify, m))?;
    if let Some(first) = left.first() {
        return Err(Stop::failed(
            Phase::Verify,
            format!(
                "not converged after apply: {} would still {} ({} change(s) left)",
                first.report.step,
                first.report.summary,
                left.len()
            ),
        ));
    }
    Ok((Phase::Verify, Status::Changed))
}

/// Runs the facts script and parses it.
fn gather(
    run: &HostRun<'_>,
    keys: &[crate::remote::FactKey],
    root: &str,
    trips: &AtomicUsize,
    phase: Phase,
) -> Result<Facts, Stop> {
    let boundary = Boundary::random();
    let script =
        facts_script(keys, root, &boundary).map_err(|e| Stop::failed(phase, e.to_string()))?;
    let output = remote(run, &script, trips, phase)?;
    parse_facts(keys, &boundary, &output.stdout).map_err(|e| {
        Stop::failed(
            phase,
            format!("reading facts: {e}; {}", stderr_excerpt(&output)),
        )
    })
}

/// Runs one script, mapping transport errors to the host's status.
fn remote(
    run: &HostRun<'_>,
    script: &[u8],
    trips: &AtomicUsize,
    phase: Phase,
) -> Result<RemoteOutput, Stop> {
    trips.fetch_add(1, Ordering::Relaxed);
    run.transport.run(script).map_err(|e: TransportError| Stop {
        phase,
        status: if e.is_unreachable() {
            Status::Unreachable
        } else {
            Status::Failed
        },
        message: e.to_string(),
    })
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

fn stderr_excerpt(output: &RemoteOutput) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    let text = text.trim();
    let status = output
        .status
        .map_or("no exit status".to_string(), |s| format!("exit status {s}"));
    if text.is_empty() {
        status
    } else {
        let tail: Vec<&str> = text.lines().rev().take(3).collect();
        format!(
            "{status}, stderr: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        )
    }
}

/// What planning says besides the changes.
#[derive(Default)]
struct Remarks {
    /// Why steps changed nothing, and remarks on what they do.
    notes: Vec<String>,
    /// Changes steps held back for safety.
    warnings: Vec<String>,
}

/// Plans every step in order against one view; `remarks` collects no-op reasons and
/// held-back changes.
fn plan(
    run: &HostRun<'_>,
    facts: &Facts,
    mut remarks: Option<&mut Remarks>,
) -> Result<Vec<PlannedChange>, String> {
    let mut view = HostView::new(facts);
    let mut planned = Vec::new();
    for step in &run.steps {
        let label = step.label();
        if let Some(when) = &step.when
            && !when.holds(facts)
        {
            if let Some(remarks) = remarks.as_deref_mut() {
                remarks.notes.push(format!(
                    "{label}: skipped, `{}` is false here",
                    when.as_str()
                ));
            }
            continue;
        }
        let step_plan = step
            .resource
            .plan(&view)
            .map_err(|e| format!("{label}: {e}"))?;
        // A note explains a no-op, or remarks on what will be done (kernels kept and why).
        if let Some(remarks) = remarks.as_deref_mut() {
            if let Some(note) = step_plan.note {
                remarks.notes.push(format!("{label}: {note}"));
            }
            if let Some(warning) = step_plan.warning {
                remarks.warnings.push(format!("{label}: {warning}"));
            }
        }
        for change in step_plan.changes {
            let diff = match &change.action {
                Action::WriteFile {
                    path,
                    expect,
                    content,
                    ..
                } => {
                    let old = match expect {
                        Expect::File(old) => Some(old.as_slice()),
                        _ => None,
                    };
                    Some(unified(path, old, content)).filter(|d| !d.is_empty())
                }
                _ => change.detail.clone(),
            };
            view.simulate(&change.action);
            planned.push(PlannedChange {
                report: ChangeReport {
                    step: label.clone(),
                    resource: step.resource.kind().to_string(),
                    path: change
                        .action
                        .path()
                        .map(str::to_string)
                        .or(step.resource.subject().map(str::to_string)),
                    summary: change.summary,
                    diff,
                    output: None,
                },
                action: change.action,
            });
        }
    }
    Ok(planned)
}

/// Gathers `keys` from one host in one round trip, outside of a run (`vmup facts`).
pub fn gather_facts(
    host: &Host,
    transport: &dyn Transport,
    keys: &[crate::remote::FactKey],
) -> Result<Facts, String> {
    let steps = Vec::new();
    let run = HostRun {
        host,
        steps,
        transport,
        booted: None,
    };
    let trips = AtomicUsize::new(0);
    gather(&run, keys, &host.path_root(), &trips, Phase::Facts).map_err(|s| s.message)
}
