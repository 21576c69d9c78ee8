//! A runbook's lifecycle steps in `vmup apply`: after every resource step is applied and
//! verified, `recreate` and `reboot` (see `runbook::lifecycle`) over the machines they
//! select whose apply converged.
//!
//! A recreated guest is not done when it answers: its runbook is applied again on the
//! kernel it now runs (what depends on the running kernel, such as which old kernel may be
//! pruned, can only be decided now), verified, and its next boot judged as `vmup check`
//! judges it. Only then is it reported recreated.

use std::collections::{HashMap, HashSet};

use crate::inventory::Inventory;
use crate::runbook::lifecycle::{Action, When};
use crate::runbook::{LifecycleStep, Runbook};
use crate::transport::connect::Connector;

use super::kernel_check::KernelCheck;
use super::prepare::Job;
use super::recreate::{RecreateOptions, RecreateWork};
use super::report::{HostReport, Mode, Status};
use super::runbook_run::RunbookWork;
use super::work::{HostCtx, HostWork};

/// Which machines a lifecycle step acts on after an apply that produced `reports`: those
/// it selects that took part in the apply and converged (a guest's host too, when it took
/// part). The rest, with why, are reported by the caller as not done.
pub fn candidates(
    inventory: &Inventory,
    step: &LifecycleStep,
    reports: &[HostReport],
) -> (Vec<String>, Vec<(String, String)>) {
    let selected: HashSet<&str> = step
        .hosts
        .select(inventory)
        .map(|hs| hs.into_iter().map(|h| h.name.as_str()).collect())
        .unwrap_or_default();
    // Once, not per host: a run of thousands stays linear.
    let status: HashMap<&str, Status> = reports
        .iter()
        .map(|r| (r.host.as_str(), r.status))
        .collect();
    let runs_guests: HashSet<&str> = inventory
        .hosts
        .iter()
        .filter_map(|g| g.parent.as_deref())
        .collect();
    let converged = |s: Status| matches!(s, Status::Ok | Status::Changed);
    let verb = step.lifecycle.action.word();
    let mut chosen = Vec::new();
    let mut left = Vec::new();
    for host in &inventory.hosts {
        let name = host.name.as_str();
        let Some(&own) = status.get(name) else {
            continue;
        };
        if !selected.contains(name) {
            continue;
        }
        let acts_on = match step.lifecycle.action {
            Action::Recreate => host.parent.is_some(),
            Action::Reboot => {
                runs_guests.contains(name) || host.role == Some(crate::inventory::Role::Host)
            }
        };
        if !acts_on {
            continue;
        }
        if !converged(own) {
            left.push((
                name.to_string(),
                format!("not {verb}ed: its apply ended {}", own.as_str()),
            ));
            continue;
        }
        if let Some(parent) = host.parent.as_deref()
            && let Some(&p) = status.get(parent)
            && !converged(p)
        {
            left.push((
                name.to_string(),
                format!(
                    "not {verb}ed: its host {parent}'s apply ended {}",
                    p.as_str()
                ),
            ));
            continue;
        }
        if step.lifecycle.action == Action::Reboot
            && step.lifecycle.when == When::Changed
            && own != Status::Changed
        {
            continue;
        }
        chosen.push(name.to_string());
    }
    (chosen, left)
}

/// A `recreate` step on one guest: `vmup recreate`'s work (the doctor first, the cycle on
/// the host, the wait, the release check), skipped where `when = "kernel"` finds the guest
/// already runs the kernel its host boots; then the runbook applied again and the next
/// boot judged.
pub struct RecreateStepWork<'a> {
    /// Makes the fresh connections while the guest boots, and to it afterwards.
    pub connector: &'a Connector,
    /// Timeouts and force.
    pub options: RecreateOptions,
    /// Which guests.
    pub when: When,
}

impl HostWork for RecreateStepWork<'_> {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        let recreate = RecreateWork {
            connector: self.connector,
            options: self.options,
        };
        let mut report = recreate.run_when(job, ctx, self.when == When::Kernel);
        if report.status != Status::Changed {
            return report;
        }
        // The old connection died with the old domain.
        let transport = match self.connector.transport(&job.host.endpoint()) {
            Ok(t) => std::sync::Arc::from(t),
            Err(e) => {
                report.status = Status::Failed;
                report.error = Some(format!("recreated, but cannot connect again: {e}"));
                return report;
            }
        };
        let fresh = Job {
            host: job.host,
            steps: job.steps.clone(),
            transport,
            booted: job.booted.clone(),
            vars: job.vars.clone(),
            parent: job.parent.clone(),
        };
        if !fresh.steps.is_empty() {
            let again = RunbookWork { mode: Mode::Apply }.run(&fresh, ctx);
            report.changes = again.changes;
            report.notes.extend(again.notes);
            report.warnings.extend(again.warnings);
            if again.status.is_failure() || again.status == Status::Held {
                report.status = again.status;
                report.error = Some(format!(
                    "recreated, but applying the runbook again on its new kernel ended {}: {}",
                    again.status.as_str(),
                    again.error.unwrap_or_default()
                ));
                return report;
            }
        }
        let check = KernelCheck.run(&fresh, ctx);
        if check.status != Status::Ok {
            report.status = Status::Failed;
            report.error = Some(format!(
                "recreated, but its next boot is in doubt ({}): {}",
                check.status.as_str(),
                check.error.unwrap_or_default()
            ));
            return report;
        }
        report.notes.push(if fresh.steps.is_empty() {
            "after the recreate: its next boot checked".into()
        } else {
            "after the recreate: the runbook applied again and verified; its next boot checked"
                .into()
        });
        let spent = ctx.report(&job.host.name, report.phase, report.status);
        report.elapsed = spent.elapsed;
        report.round_trips = spent.round_trips;
        report
    }
}

/// The options a lifecycle step gives `vmup recreate`'s and `vmup reboot`'s work.
pub fn options_of(step: &LifecycleStep) -> RecreateOptions {
    RecreateOptions {
        shutdown_timeout: step.lifecycle.shutdown_timeout,
        boot_timeout: step.lifecycle.boot_timeout,
        force: step.lifecycle.force,
    }
}

/// The lifecycle steps the plan promises, one line each, for `vmup plan`'s report.
pub fn promises(runbook: &Runbook) -> Vec<String> {
    runbook
        .lifecycle
        .iter()
        .map(|s| {
            format!(
                "{} on {}: {}",
                s.label(),
                s.hosts.as_str(),
                s.lifecycle.promise()
            )
        })
        .collect()
}
