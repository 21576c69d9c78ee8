//! `vmup recreate`: one line per guest: the kernel its host boots, the one it came back
//! running, how long it took, or why it was not recreated.

use std::fmt::Write;
use std::time::Duration;

use vmup::engine::lifecycle::RecreateStepWork;
use vmup::engine::recreate::RecreateOptions;
use vmup::engine::{HostDetail, HostReport};
use vmup::resource::Need;
use vmup::runbook::lifecycle::When;

use super::args::RecreateArgs;
use super::error::CliError;
use super::exit::Exit;
use super::recording::Recording;
use super::{fleet, setup};

/// Recreates the selected guests and prints how each came back. Exit 0 when every guest is
/// back on its host's kernel and its next boot would find its modules (judged as `vmup
/// check` does, as the runbook's `recreate` step does); 1 when one failed, did not come
/// back or would not boot next time; 5 when one was refused because the doctor says it
/// would not boot.
pub fn run(args: RecreateArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let jobs = fleet::guest_jobs(
        &inventory,
        &args.fleet,
        &connector,
        &[Need::BootedKernel, Need::RamdiskDrivers],
    )?;
    let work = RecreateStepWork {
        connector: &connector,
        options: RecreateOptions {
            shutdown_timeout: Duration::from_secs(args.shutdown_timeout),
            boot_timeout: Duration::from_secs(args.boot_timeout),
            force: args.force,
        },
        when: When::Always,
    };
    let mut history = Recording::start(&args.history, "recreate", None, Some(&args.inventory));
    let (reports, summary) = fleet::run(
        "recreate",
        &jobs,
        &work,
        &options,
        args.json,
        &|reports, _| render(reports),
    );
    history.hosts("recreate", &reports);
    let exit = fleet::exit_code(&summary, Exit::Success);
    history.finish(exit);
    Ok(exit)
}

/// The table of guests: booted release, running release, outcome.
pub fn render(reports: &[HostReport]) -> String {
    let gw = reports
        .iter()
        .map(|r| r.host.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = format!(
        "{:<gw$}  {:<24}  {:<24}  RESULT\n",
        "GUEST", "BOOTED", "RUNNING"
    );
    for r in reports {
        let (booted, running, note) = match &r.detail {
            Some(HostDetail::Recreate(d)) => {
                let mut note = Vec::new();
                if d.forced {
                    note.push("forced past the doctor".to_string());
                }
                if let Some(c) = &d.cycled {
                    if c.destroyed {
                        note.push("destroyed after the shutdown timeout".to_string());
                    } else if !c.was_running {
                        note.push("was not running".to_string());
                    }
                }
                if let Some(s) = d.boot_secs {
                    note.push(format!("answered after {s}s"));
                }
                (d.booted.clone(), d.running.clone(), note.join(", "))
            }
            _ => (None, None, String::new()),
        };
        let outcome = match (&r.error, r.status.as_str()) {
            (Some(e), _) => e.clone(),
            (None, "changed") => "recreated".to_string(),
            (None, s) => s.to_string(),
        };
        let note = if note.is_empty() {
            String::new()
        } else {
            format!(" ({note})")
        };
        let _ = writeln!(
            out,
            "{:<gw$}  {:<24}  {:<24}  {outcome}{note}",
            r.host,
            booted.as_deref().unwrap_or("-"),
            running.as_deref().unwrap_or("-"),
        );
    }
    out
}
