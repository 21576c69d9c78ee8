//! `vmup recreate`: shut a guest's domain down on its host, start it again from its config,
//! and report it recreated only once it is back: answering ssh, running the release its host
//! boots. The seed's "shutdown and re-create each domain", with the checks it left to luck.
//!
//! Per guest (rolling with `--serial`, the failure budget and Ctrl-C as every fleet
//! command): the doctor's verdict first (a guest that would not boot is refused, unless
//! forced, and the report says it was forced); then ONE script on the host
//! (`toolstack::cycle_script`: shutdown, wait, destroy only when forced, create); then
//! fresh connections to the guest until it answers or the boot deadline passes; then its
//! `uname -r` against the release the host boots it with.

pub mod toolstack;

use std::time::{Duration, Instant};

use crate::facts::booted::BootedKernel;
use crate::transport::connect::Connector;

use super::doctor::{GuestDoctor, Verdict, diagnose};
use super::gather::gather_facts;
use super::prepare::Job;
use super::report::{HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork, stderr_excerpt};

use toolstack::{Cycled, EXIT_SHUTDOWN_TIMEOUT, Toolstack, cycle_script, parse_cycled};

/// How long to wait, and whether to override the safety checks.
#[derive(Debug, Clone, Copy)]
pub struct RecreateOptions {
    /// How long a domain may take to shut down before the recreate gives up (or, forced,
    /// destroys it).
    pub shutdown_timeout: Duration,
    /// How long the guest may take from `create` to answering ssh.
    pub boot_timeout: Duration,
    /// Recreate guests the doctor says would not boot, and destroy domains that do not
    /// shut down in time.
    pub force: bool,
}

/// What happened to one guest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recreated {
    /// Inventory name of the guest.
    pub guest: String,
    /// The doctor's finding before anything was done.
    pub doctor: GuestDoctor,
    /// The doctor said no and `--force` overrode it.
    pub forced: bool,
    /// The tool used on the host.
    pub toolstack: Option<Toolstack>,
    /// What the host did.
    pub cycled: Option<Cycled>,
    /// The release the host boots the guest with.
    pub booted: Option<String>,
    /// `uname -r` once the guest answered.
    pub running: Option<String>,
    /// Seconds from the create to the guest's first answer.
    pub boot_secs: Option<u64>,
}

/// `vmup recreate` on one guest job.
pub struct RecreateWork<'a> {
    /// Makes the fresh connections to the guest while it boots.
    pub connector: &'a Connector,
    /// Timeouts and `--force`.
    pub options: RecreateOptions,
}

impl HostWork for RecreateWork<'_> {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        self.run_when(job, ctx, false)
    }
}

impl RecreateWork<'_> {
    /// Recreates the guest; with `only_if_kernel_differs`, only when it does not run the
    /// release its host boots it with (the runbook's `recreate = { when = "kernel" }`):
    /// otherwise it is left running and reported ok, saying so.
    pub fn run_when(
        &self,
        job: &Job<'_>,
        ctx: &HostCtx<'_>,
        only_if_kernel_differs: bool,
    ) -> HostReport {
        let name = &job.host.name;
        ctx.phase(name, Phase::Facts);
        let doctor = diagnose(job, ctx);
        let mut found = Recreated {
            guest: name.clone(),
            forced: false,
            toolstack: None,
            cycled: None,
            booted: doctor.release.clone(),
            running: None,
            boot_secs: None,
            doctor,
        };
        let end = |found: Recreated, phase: Phase, status: Status, error: Option<String>| {
            let mut report = ctx.report(name, phase, status);
            report.error = error;
            report.detail = Some(HostDetail::Recreate(Box::new(found)));
            report
        };
        if only_if_kernel_differs
            && found.doctor.running.is_some()
            && found.doctor.running == found.doctor.release
        {
            let mut report = ctx.report(name, Phase::Facts, Status::Ok);
            report.notes.push(format!(
                "runs {}, the kernel its host boots it with: not recreated",
                found.doctor.release.as_deref().unwrap_or_default()
            ));
            report.detail = Some(HostDetail::Recreate(Box::new(found)));
            return report;
        }
        if found.doctor.verdict != Verdict::Ok {
            let why = found.doctor.reason.clone().unwrap_or_default();
            if !self.options.force {
                let error = format!(
                    "not recreated: doctor says {}: {why} (fix it, or recreate anyway with --force)",
                    found.doctor.verdict.words()
                );
                return end(found, Phase::Facts, Status::Held, Some(error));
            }
            found.forced = true;
        }
        let booted: BootedKernel = match job.booted.clone() {
            Some(Ok(b)) => b,
            _ => {
                let error = "not recreated: the kernel its host boots is unknown".to_string();
                return end(found, Phase::Facts, Status::Failed, Some(error));
            }
        };
        let (Some(domain), Some((_, parent))) = (job.host.domain.as_deref(), job.parent.as_ref())
        else {
            let error = format!(
                "not recreated: {name} needs `domain` (its name on {}) in the inventory",
                booted.host
            );
            return end(found, Phase::Facts, Status::Failed, Some(error));
        };
        if ctx.cancelled() {
            return end(
                found,
                Phase::Facts,
                Status::Skipped,
                Some("interrupted before the recreate".into()),
            );
        }

        ctx.phase(name, Phase::Apply);
        let tool = Toolstack::of(&booted.kind);
        found.toolstack = Some(tool);
        let timeout = self.options.shutdown_timeout.as_secs().max(1);
        let script = match cycle_script(
            tool,
            domain,
            &booted.config_path,
            timeout,
            self.options.force,
        ) {
            Ok(s) => s,
            Err(e) => return end(found, Phase::Apply, Status::Failed, Some(e.to_string())),
        };
        ctx.count_trip();
        let output = match parent.run(&script) {
            Ok(o) => o,
            Err(e) => {
                let error = format!(
                    "on {}: {e} (whether {domain} was stopped is unknown: check `{} list` there)",
                    booted.host,
                    tool.command()
                );
                return end(found, Phase::Apply, Status::Failed, Some(error));
            }
        };
        let cycled = parse_cycled(&String::from_utf8_lossy(&output.stdout));
        let started = cycled.started;
        found.cycled = Some(cycled);
        if output.status != Some(0) || !started {
            let what = if output.status == Some(EXIT_SHUTDOWN_TIMEOUT) {
                format!(
                    "{domain} did not shut down within {timeout}s on {}; it is still running as it was (destroy it with --force)",
                    booted.host
                )
            } else {
                format!(
                    "{} on {} failed: {}",
                    tool.command(),
                    booted.host,
                    stderr_excerpt(&output)
                )
            };
            return end(found, Phase::Apply, Status::Failed, Some(what));
        }

        ctx.phase(name, Phase::Verify);
        let created = Instant::now();
        match self.wait_for_guest(job, ctx, created) {
            Ok(running) => {
                found.boot_secs = Some(created.elapsed().as_secs());
                found.running = Some(running.clone());
                if running != booted.release {
                    let error = format!(
                        "came back running {running}, but {} boots it with {}: the host's config or links do not name the kernel it runs",
                        booted.host, booted.release
                    );
                    return end(found, Phase::Verify, Status::Failed, Some(error));
                }
                end(found, Phase::Verify, Status::Changed, None)
            }
            Err(why) => end(found, Phase::Verify, Status::Failed, Some(why)),
        }
    }
}

/// Fresh connections to `host` until `answered` accepts what its facts say (returns
/// `Some`), `deadline` has passed since `since`, or the run is interrupted. A machine that
/// is booting refuses or times out; each attempt is a new connection, counted.
pub fn wait_until<T>(
    connector: &Connector,
    host: &crate::inventory::Host,
    ctx: &HostCtx<'_>,
    keys: &[crate::facts::FactKey],
    since: Instant,
    deadline: Duration,
    answered: &dyn Fn(&crate::facts::Facts) -> Option<T>,
) -> Result<T, String> {
    let mut last = String::from("it answered, but not as expected");
    loop {
        if ctx.cancelled() {
            return Err(format!("interrupted while waiting for {}", host.name));
        }
        let attempt = connector
            .transport(&host.endpoint())
            .map_err(|e| e.to_string())
            .and_then(|t| {
                ctx.count_trip();
                gather_facts(host, t.as_ref(), keys).map_err(|e| e.to_string())
            });
        match attempt {
            Ok(facts) => {
                if let Some(done) = answered(&facts) {
                    return Ok(done);
                }
            }
            Err(e) => last = e,
        }
        if since.elapsed() >= deadline {
            return Err(format!(
                "did not come back within {}s (last: {last})",
                deadline.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_secs(2).min(deadline.saturating_sub(since.elapsed())));
    }
}

impl RecreateWork<'_> {
    /// Waits for the guest to answer; its `uname -r`.
    fn wait_for_guest(
        &self,
        job: &Job<'_>,
        ctx: &HostCtx<'_>,
        since: Instant,
    ) -> Result<String, String> {
        wait_until(
            self.connector,
            job.host,
            ctx,
            &[],
            since,
            self.options.boot_timeout,
            &|f: &crate::facts::Facts| f.kernel_release.clone(),
        )
        .map_err(|e| format!("created, but {e}; see its console on its host"))
    }
}
