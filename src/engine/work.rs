//! What a fleet command does on one host ([`HostWork`]), and the context the fleet runner
//! gives it: events, cancellation and the one way to run a remote script, counted.
//!
//! `plan`/`apply` (the runbook pipeline), `kernels` and `conflicts` are each a `HostWork`;
//! the fleet runner knows nothing else about them, so forks, batches, the failure budget,
//! Ctrl-C and events behave the same for all.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::transport::RemoteOutput;

use super::error::HostError;
use super::event::{Event, EventSink};
use super::prepare::Job;
use super::report::{HostReport, Phase, Status};

/// One fleet command's work on one host.
pub trait HostWork: Sync {
    /// Runs on `job`'s machine and reports how it ended. Remote scripts go through
    /// [`HostCtx::remote`]; `ctx.cancelled()` is checked before anything changes.
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport;
}

/// What a host's work gets from the fleet runner.
pub struct HostCtx<'a> {
    sink: &'a dyn EventSink,
    cancel: &'a AtomicBool,
    trips: AtomicUsize,
    started: Instant,
}

impl<'a> HostCtx<'a> {
    /// A context reporting to `sink`, cancelled when `cancel` is set.
    pub fn new(sink: &'a dyn EventSink, cancel: &'a AtomicBool) -> HostCtx<'a> {
        HostCtx {
            sink,
            cancel,
            trips: AtomicUsize::new(0),
            started: Instant::now(),
        }
    }

    /// Announces that `host` entered `phase`.
    pub fn phase(&self, host: &str, phase: Phase) {
        self.sink.event(&Event::PhaseStarted { host, phase });
    }

    /// True once the run was interrupted: nothing may start changing a host after this.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Runs one script on the job's machine, counted as a round trip.
    pub fn remote(&self, job: &Job<'_>, script: &[u8]) -> Result<RemoteOutput, HostError> {
        self.remote_then(job, script, false)
    }

    /// [`HostCtx::remote`]; with `hold`, the script's shell is left running for the next
    /// one (`Transport::run_held`).
    pub fn remote_then(
        &self,
        job: &Job<'_>,
        script: &[u8],
        hold: bool,
    ) -> Result<RemoteOutput, HostError> {
        self.trips.fetch_add(1, Ordering::Relaxed);
        Ok(if hold {
            job.transport.run_held(script)?
        } else {
            job.transport.run(script)?
        })
    }

    /// Counts a round trip made through another transport than the job's own (a guest's
    /// host, a fresh connection while the guest boots).
    pub fn count_trip(&self) {
        self.trips.fetch_add(1, Ordering::Relaxed);
    }

    /// A report for `host` with the time and round trips spent so far, to be filled in.
    pub fn report(&self, host: &str, phase: Phase, status: Status) -> HostReport {
        let mut report = HostReport::new(host, phase, status);
        report.elapsed = self.started.elapsed();
        report.round_trips = self.trips.load(Ordering::Relaxed);
        report
    }
}

/// The exit status and last lines of standard error of a script, for error messages.
pub fn stderr_excerpt(output: &RemoteOutput) -> String {
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
