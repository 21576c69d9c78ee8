//! `vmup reboot`: per host, the kernel (and Xen version) before and after, and each of its
//! guests: stopped, started again, running the kernel its host boots.

use std::fmt::Write;
use std::time::Duration;

use vmup::engine::EngineError;
use vmup::engine::reboot::RebootWork;
use vmup::engine::recreate::RecreateOptions;
use vmup::engine::{HostDetail, HostReport, Selection, prepare};
use vmup::inventory::Role;

use super::args::RecreateArgs;
use super::error::CliError;
use super::exit::Exit;
use super::recording::Recording;
use super::{fleet, setup};

/// Reboots the selected hosts (rolling with `--serial`) and prints how each and its guests
/// came back. Exit 0 when every host and guest is back, 1 otherwise.
pub fn run(args: RecreateArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let selection = Selection {
        limit: args.fleet.limit.as_deref(),
        shard: args.fleet.shard,
        ..Selection::default()
    };
    let mut jobs = prepare(&inventory, None, &selection, &connector)?;
    jobs.retain(|j| {
        j.host.role == Some(Role::Host)
            || inventory
                .hosts
                .iter()
                .any(|g| g.parent.as_deref() == Some(j.host.name.as_str()))
    });
    if jobs.is_empty() {
        return Err(EngineError::NoVmHosts.into());
    }
    let work = RebootWork {
        inventory: &inventory,
        connector: &connector,
        options: RecreateOptions {
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
            boot_timeout: Duration::from_secs(args.boot_timeout),
            force: args.force,
        },
    };
    let mut history = Recording::start(&args.history, "reboot", None, Some(&args.inventory));
    let (reports, summary) = fleet::run(
        "reboot",
        &jobs,
        &work,
        &options,
        args.json,
        &|reports, _| render(reports),
    );
    history.hosts("reboot", &reports);
    let exit = fleet::exit_code(&summary, Exit::Success);
    history.finish(exit);
    Ok(exit)
}

/// Per host: its outcome, kernels before and after, then one line per guest.
pub fn render(reports: &[HostReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let outcome = match (&r.error, r.status.as_str()) {
            (Some(e), _) => e.clone(),
            (None, "changed") => "rebooted".to_string(),
            (None, s) => s.to_string(),
        };
        let _ = writeln!(out, "== {}: {outcome}", r.host);
        let Some(HostDetail::Reboot(d)) = &r.detail else {
            continue;
        };
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
        let _ = writeln!(
            out,
            "  kernel: {} -> {}",
            show(&d.kernel_before),
            if d.rebooted {
                show(&d.kernel_after)
            } else {
                "(not rebooted)".to_string()
            }
        );
        if d.xen_before.is_some() || d.xen_after.is_some() {
            let _ = writeln!(
                out,
                "  xen:    {} -> {}",
                show(&d.xen_before),
                show(&d.xen_after)
            );
        }
        for g in &d.guests {
            let state = match (&g.error, g.was_running, &g.running) {
                (Some(e), _, _) => e.clone(),
                (None, false, _) => "was not running: left stopped".to_string(),
                (None, true, Some(k)) => format!("back, running {k}"),
                (None, true, None) if d.rebooted => "not started".to_string(),
                (None, true, None) => "running".to_string(),
            };
            let _ = writeln!(out, "  {:<12} {state}", g.guest);
        }
    }
    out
}
