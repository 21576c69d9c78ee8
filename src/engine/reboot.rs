//! `vmup reboot`: reboot a host that runs guests without losing one. The seed's "relevant
//! parts apply also to updating the Host OS", as the order a careful admin keeps: every
//! guest the host runs shut down first (in inventory order, with recreate's timeouts), the
//! host rebooted, its new boot proven (the kernel's boot id changed; kernel and Xen version
//! reported), then the guests that were running started again and each waited for as
//! `vmup recreate` waits. A host whose guests cannot all be stopped is not rebooted, and
//! the guests stopped for it are started again.

use std::time::Instant;

use crate::facts::boot::{BootState, HostBoot};
use crate::facts::booted::BootedKernel;
use crate::facts::{Fact, Facts};
use crate::inventory::{Host, Inventory};
use crate::transport::Transport;
use crate::transport::connect::Connector;

use super::booted::booted_kernels;
use super::gather::gather;
use super::prepare::Job;
use super::recreate::toolstack::{
    Domain, EXIT_SHUTDOWN_TIMEOUT, Toolstack, parse_stopped, start_all_script, stop_all_script,
};
use super::recreate::{RecreateOptions, wait_until};
use super::report::{HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork, stderr_excerpt};

/// One guest of a rebooted host, and how it came back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuestBack {
    /// Inventory name of the guest.
    pub guest: String,
    /// It was running before the reboot (only those are started again).
    pub was_running: bool,
    /// The host started it again.
    pub started: bool,
    /// The release its host boots it with.
    pub booted: String,
    /// `uname -r` once it answered.
    pub running: Option<String>,
    /// What went wrong with it, if anything.
    pub error: Option<String>,
}

/// What a host reboot did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rebooted {
    /// The host's running kernel before.
    pub kernel_before: Option<String>,
    /// And after.
    pub kernel_after: Option<String>,
    /// The Xen version before, on a Xen host.
    pub xen_before: Option<String>,
    /// And after.
    pub xen_after: Option<String>,
    /// Whether the reboot happened (false when the guests could not all be stopped).
    pub rebooted: bool,
    /// Its guests, in inventory order.
    pub guests: Vec<GuestBack>,
}

/// `vmup reboot` on one host job.
pub struct RebootWork<'a> {
    /// The inventory, for the host's guests.
    pub inventory: &'a Inventory,
    /// Fresh connections while the host and its guests boot.
    pub connector: &'a Connector,
    /// Timeouts and `--force` (destroy a guest that does not shut down).
    pub options: RecreateOptions,
}

impl HostWork for RebootWork<'_> {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        let name = &job.host.name;
        let mut found = Rebooted {
            kernel_before: None,
            kernel_after: None,
            xen_before: None,
            xen_after: None,
            rebooted: false,
            guests: Vec::new(),
        };
        let end = |found: Rebooted, phase: Phase, status: Status, error: Option<String>| {
            let mut report = ctx.report(name, phase, status);
            report.error = error;
            report.detail = Some(HostDetail::Reboot(Box::new(found)));
            report
        };

        ctx.phase(name, Phase::Facts);
        let before = match gather(job, &[HostBoot.key()], ctx)
            .map_err(|e| e.to_string())
            .and_then(|f| boot_state(&f).map_err(|e| e.to_string()))
        {
            Ok(b) => b,
            Err(e) => return end(found, Phase::Facts, Status::Failed, Some(e)),
        };
        found.kernel_before = before.1.clone();
        found.xen_before = before.0.xen.clone();
        let guests: Vec<&Host> = self
            .inventory
            .hosts
            .iter()
            .filter(|h| h.parent.as_deref() == Some(name.as_str()))
            .collect();
        let domains = match self.domains(job, &guests) {
            Ok(d) => d,
            Err(e) => {
                return end(
                    found,
                    Phase::Facts,
                    Status::Failed,
                    Some(format!("not rebooted: {e}")),
                );
            }
        };
        found.guests = guests
            .iter()
            .zip(&domains)
            .map(|(g, (_, b))| GuestBack {
                guest: g.name.clone(),
                was_running: false,
                started: false,
                booted: b.release.clone(),
                running: None,
                error: None,
            })
            .collect();
        if ctx.cancelled() {
            return end(
                found,
                Phase::Facts,
                Status::Skipped,
                Some("interrupted before the reboot".into()),
            );
        }

        ctx.phase(name, Phase::Apply);
        let list: Vec<Domain> = domains.iter().map(|(d, _)| d.clone()).collect();
        if !list.is_empty() {
            let timeout = self.options.shutdown_timeout.as_secs().max(1);
            let output = match stop_all_script(&list, timeout, self.options.force)
                .map_err(|e| e.to_string())
                .and_then(|s| job.transport.run(&s).map_err(|e| e.to_string()))
            {
                Ok(o) => o,
                Err(e) => {
                    return end(
                        found,
                        Phase::Apply,
                        Status::Failed,
                        Some(format!("not rebooted: stopping its guests: {e}")),
                    );
                }
            };
            ctx.count_trip();
            let stopped = parse_stopped(&String::from_utf8_lossy(&output.stdout), list.len());
            for (g, s) in found.guests.iter_mut().zip(&stopped) {
                g.was_running = s.was_running;
            }
            if output.status != Some(0) {
                let error = if output.status == Some(EXIT_SHUTDOWN_TIMEOUT) {
                    let stuck: Vec<&str> = found
                        .guests
                        .iter()
                        .zip(&stopped)
                        .filter(|(_, s)| s.stuck)
                        .map(|(g, _)| g.guest.as_str())
                        .collect();
                    let restarted: Vec<&str> = found
                        .guests
                        .iter()
                        .zip(&stopped)
                        .filter(|(_, s)| s.restarted)
                        .map(|(g, _)| g.guest.as_str())
                        .collect();
                    format!(
                        "not rebooted: {} did not shut down within {timeout}s (destroy with --force); {}",
                        stuck.join(", "),
                        if restarted.is_empty() {
                            "no other guest had been stopped".to_string()
                        } else {
                            format!("started again: {}", restarted.join(", "))
                        }
                    )
                } else {
                    format!(
                        "not rebooted: stopping its guests failed: {}",
                        stderr_excerpt(&output)
                    )
                };
                return end(found, Phase::Apply, Status::Failed, Some(error));
            }
        }
        // The reboot starts after this script has answered, so the answer is not lost.
        ctx.count_trip();
        let reboot = b"PATH=$PATH:/sbin:/usr/sbin; export PATH\nnohup sh -c 'sleep 2; reboot' </dev/null >/dev/null 2>&1 &\necho rebooting\n";
        if let Err(e) = job.transport.run(reboot) {
            return end(
                found,
                Phase::Apply,
                Status::Failed,
                Some(format!(
                    "asking for the reboot: {e}; its guests are stopped"
                )),
            );
        }
        found.rebooted = true;

        ctx.phase(name, Phase::Verify);
        let since = Instant::now();
        let old = before.0.boot_id.clone();
        let after = wait_until(
            self.connector,
            job.host,
            ctx,
            &[HostBoot.key()],
            since,
            self.options.boot_timeout,
            &|f: &Facts| boot_state(f).ok().filter(|(b, _)| b.boot_id != old),
        );
        let (after, kernel) = match after {
            Ok(a) => a,
            Err(e) => {
                return end(
                    found,
                    Phase::Verify,
                    Status::Failed,
                    Some(format!("rebooted, but {e}; its guests are stopped")),
                );
            }
        };
        found.kernel_after = kernel;
        found.xen_after = after.xen;

        let back: Vec<usize> = (0..list.len())
            .filter(|&i| found.guests[i].was_running)
            .collect();
        let failed = self.start_guests(job, ctx, &guests, &list, &back, &mut found.guests);
        match failed {
            None => end(found, Phase::Verify, Status::Changed, None),
            Some(e) => end(found, Phase::Verify, Status::Failed, Some(e)),
        }
    }
}

/// The boot state and running kernel a host's facts hold.
fn boot_state(facts: &Facts) -> Result<(BootState, Option<String>), crate::facts::FactError> {
    Ok((facts.get(&HostBoot)?, facts.kernel_release.clone()))
}

impl RebootWork<'_> {
    /// Each guest's domain (name, config, tool) and booted kernel, read on the host; an
    /// error names the first guest that cannot be handled.
    fn domains(
        &self,
        job: &Job<'_>,
        guests: &[&Host],
    ) -> Result<Vec<(Domain, BootedKernel)>, String> {
        let parents = std::collections::BTreeMap::from([(
            job.host.name.clone(),
            (job.host, job.transport.as_ref() as &dyn Transport),
        )]);
        let mut booted = booted_kernels(guests, &parents, false);
        guests
            .iter()
            .map(|g| {
                let b = booted
                    .remove(&g.name)
                    .unwrap_or_else(|| Err("not read".to_string()))
                    .map_err(|e| format!("the domain of {} cannot be read: {e}", g.name))?;
                let name = g.domain.clone().ok_or_else(|| {
                    format!(
                        "{} needs `domain` (its name on {}) in the inventory",
                        g.name, job.host.name
                    )
                })?;
                Ok((
                    Domain {
                        tool: Toolstack::of(&b.kind),
                        name,
                        config: b.config_path.clone(),
                    },
                    b,
                ))
            })
            .collect()
    }

    /// Starts the guests `back` (indexes into `list`) in one script, then waits for each;
    /// the first problem, if any.
    fn start_guests(
        &self,
        job: &Job<'_>,
        ctx: &HostCtx<'_>,
        guests: &[&Host],
        list: &[Domain],
        back: &[usize],
        report: &mut [GuestBack],
    ) -> Option<String> {
        if back.is_empty() {
            return None;
        }
        let chosen: Vec<Domain> = back.iter().map(|&i| list[i].clone()).collect();
        ctx.count_trip();
        let output = match start_all_script(&chosen)
            .map_err(|e| e.to_string())
            .and_then(|s| job.transport.run(&s).map_err(|e| e.to_string()))
        {
            Ok(o) => o,
            Err(e) => return Some(format!("rebooted, but starting its guests failed: {e}")),
        };
        let text = String::from_utf8_lossy(&output.stdout);
        let mut problems = Vec::new();
        let since = Instant::now();
        for (k, &i) in back.iter().enumerate() {
            let g = &mut report[i];
            g.started = text.lines().any(|l| l == format!("started {k}"));
            if !g.started {
                g.error = Some(format!(
                    "{} could not start it: {}",
                    job.host.name,
                    stderr_excerpt(&output)
                ));
                problems.push(g.guest.clone());
                continue;
            }
            match wait_until(
                self.connector,
                guests[i],
                ctx,
                &[],
                since,
                self.options.boot_timeout,
                &|f: &Facts| f.kernel_release.clone(),
            ) {
                Ok(running) => {
                    if running != g.booted {
                        g.error = Some(format!("came back running {running}, not {}", g.booted));
                        problems.push(g.guest.clone());
                    }
                    g.running = Some(running);
                }
                Err(e) => {
                    g.error = Some(format!("started, but {e}"));
                    problems.push(g.guest.clone());
                }
            }
        }
        (!problems.is_empty()).then(|| {
            format!(
                "rebooted, but not every guest came back: {}",
                problems.join(", ")
            )
        })
    }
}
