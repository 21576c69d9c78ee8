//! The fleet: many hosts in parallel, in rolling batches, within a failure budget.
//!
//! Hosts run on `forks` worker threads. With `serial`, hosts go in batches and a batch
//! starts only when the previous one is done. Failed and unreachable hosts count against
//! `max_fail`; once it is exceeded no further host starts (hosts already running finish
//! cleanly), and the hosts that never started are reported `skipped` with the reason. The
//! same happens on cancellation (Ctrl-C, SIGTERM). What runs on each host is a
//! [`HostWork`]: every fleet command (`plan`, `apply`, `kernels`, `conflicts`) goes through
//! this one runner. Host-before-guest ordering is the job order `prepare` gives.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

pub use crate::inventory::Amount;

use super::event::{Event, EventSink};
use super::prepare::Job;
use super::report::{HostReport, Summary};
use super::work::{HostCtx, HostWork};

/// How to run the fleet.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Hosts worked on at once.
    pub forks: usize,
    /// Batch size for rolling runs; None = one batch.
    pub serial: Option<Amount>,
    /// Failures tolerated before no further host starts; None = no limit.
    pub max_fail: Option<Amount>,
    /// The part of the fleet this run is (`--shard`): selection happens before, in
    /// `prepare`; reporters name it so `vmup report merge` can check shards are whole.
    pub shard: Option<crate::engine::shard::Shard>,
}

/// The default number of hosts worked on at once: enough to hide network latency, few
/// enough that a 2-core controller is not swamped by threads.
pub const DEFAULT_FORKS: usize = 64;

impl Default for FleetOptions {
    fn default() -> FleetOptions {
        FleetOptions {
            forks: DEFAULT_FORKS,
            serial: None,
            max_fail: None,
            shard: None,
        }
    }
}

/// Runs `work` on every job and returns their reports in job order, plus totals. `label`
/// names the command in events (`plan`, `kernels`, ...).
pub fn run_fleet(
    label: &str,
    jobs: &[Job<'_>],
    work: &dyn HostWork,
    options: &FleetOptions,
    sink: &dyn EventSink,
    cancel: &AtomicBool,
) -> (Vec<HostReport>, Summary) {
    let started = Instant::now();
    let names: Vec<String> = jobs.iter().map(|j| j.host.name.clone()).collect();
    sink.event(&Event::RunStarted {
        label,
        hosts: &names,
    });
    let total = jobs.len();
    let batch_size = options.serial.map_or(total, |s| s.of(total).max(1)).max(1);
    let budget = options.max_fail.map(|m| m.of(total));
    let failures = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<HostReport>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let batches: Vec<&[Job<'_>]> = jobs.chunks(batch_size).collect();
    let over_budget = || budget.is_some_and(|b| failures.load(Ordering::SeqCst) > b);
    let mut offset = 0;
    for (number, batch) in batches.iter().enumerate() {
        if over_budget() || cancel.load(Ordering::SeqCst) {
            break;
        }
        sink.event(&Event::BatchStarted {
            number: number + 1,
            of: batches.len(),
            hosts: &names[offset..offset + batch.len()],
        });
        let next = AtomicUsize::new(0);
        let workers = options.forks.max(1).min(batch.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        if over_budget() || cancel.load(Ordering::SeqCst) {
                            return;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(job) = batch.get(i) else { return };
                        log::info!("{}: {label} started", job.host.name);
                        let mut report = work.run(job, &HostCtx::new(sink, cancel));
                        log::info!(
                            "{}: {label} ended {} in {:.3}s after {} round trip(s){}",
                            job.host.name,
                            report.status.as_str(),
                            report.elapsed.as_secs_f64(),
                            report.round_trips,
                            report
                                .error
                                .as_deref()
                                .map(|e| format!(": {e}"))
                                .unwrap_or_default()
                        );
                        report.become_method = job.host.endpoint().become_method;
                        if let Some(used) = job.transport.negotiated() {
                            report.notes.push(used.note());
                            report.ssh = Some(used);
                        }
                        if report.status.is_failure() {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                        sink.event(&Event::HostFinished(&report));
                        if let Ok(mut slot) = slots[offset + i].lock() {
                            *slot = Some(report);
                        }
                    }
                });
            }
        });
        offset += batch.len();
    }
    let interrupted = cancel.load(Ordering::SeqCst);
    let why = if interrupted {
        "not started: the run was interrupted".to_string()
    } else {
        format!(
            "not started: more than {} host(s) failed",
            budget.unwrap_or(0)
        )
    };
    // Hosts that never started are reported too, so every reporter lists every host.
    let reports: Vec<HostReport> = slots
        .into_iter()
        .zip(&names)
        .map(|(slot, name)| match slot.into_inner().ok().flatten() {
            Some(report) => report,
            None => {
                let report = HostReport::skipped(name, &why);
                sink.event(&Event::HostFinished(&report));
                report
            }
        })
        .collect();
    let summary = Summary::of(&reports, started.elapsed(), interrupted);
    sink.event(&Event::RunFinished {
        reports: &reports,
        summary: &summary,
    });
    (reports, summary)
}
