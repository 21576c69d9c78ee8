//! `vmup doctor`: one line per guest with its verdict (ok / would not boot / no console /
//! unknown), then, for each guest that is not ok, its boot chain up to the broken link.

use std::fmt::Write;

use vmup::engine::doctor::boot_test::BootTest;
use vmup::engine::doctor::{DoctorWork, GuestDoctor, Verdict};
use vmup::engine::{HostDetail, HostReport};
use vmup::resource::Need;

use super::args::DoctorArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, setup};

/// Reads every selected guest's boot chain and prints the verdicts. Exit 1 when any guest
/// would not boot cleanly (or could not be judged).
pub fn run(args: DoctorArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let jobs = fleet::guest_jobs(
        &inventory,
        &args.fleet,
        &connector,
        &[Need::BootedKernel, Need::RamdiskDrivers],
    )?;
    let (_, summary) = fleet::run(
        "doctor",
        &jobs,
        &DoctorWork {
            boot_test: args.boot_test.then_some(args.boot_test_timeout),
        },
        &options,
        args.json,
        &|reports, _| render(reports),
    );
    Ok(fleet::exit_code(&summary, Exit::Success))
}

/// What the boot test showed, for the table: nothing when it was not asked for.
fn boot_note(d: &GuestDoctor) -> String {
    match &d.boot_test {
        Some(BootTest::Booted(_)) => " (booted under QEMU)".to_string(),
        Some(BootTest::Untestable(why)) => format!(" (no boot test: {why})"),
        Some(BootTest::Failed(_)) | None => String::new(),
    }
}

/// The table of verdicts and the chains of the guests that are not ok.
pub fn render(reports: &[HostReport]) -> String {
    let found: Vec<Result<&GuestDoctor, &HostReport>> = reports
        .iter()
        .map(|r| match &r.detail {
            Some(HostDetail::Doctor(d)) => Ok(d.as_ref()),
            _ => Err(r),
        })
        .collect();
    let width = |f: &dyn Fn(&GuestDoctor) -> usize, min: usize| {
        found
            .iter()
            .filter_map(|d| d.ok())
            .map(f)
            .max()
            .unwrap_or(0)
            .max(min)
    };
    let gw = reports
        .iter()
        .map(|r| r.host.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let hw = width(&|d| d.booted_by.as_deref().map_or(1, str::len), 4);
    let rw = width(&|d| d.release.as_deref().map_or(1, str::len), 7);
    let mut out = format!(
        "{:<gw$}  {:<hw$}  {:<rw$}  VERDICT\n",
        "GUEST", "HOST", "RELEASE"
    );
    for d in &found {
        match d {
            Ok(d) => {
                let _ = writeln!(
                    out,
                    "{:<gw$}  {:<hw$}  {:<rw$}  {}{}",
                    d.guest,
                    d.booted_by.as_deref().unwrap_or("-"),
                    d.release.as_deref().unwrap_or("-"),
                    d.verdict.words(),
                    d.reason
                        .as_deref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                        + &boot_note(d)
                );
            }
            Err(r) => {
                let _ = writeln!(
                    out,
                    "{:<gw$}  {:<hw$}  {:<rw$}  unknown: {}",
                    r.host,
                    "-",
                    "-",
                    r.error.as_deref().unwrap_or("not checked")
                );
            }
        }
    }
    for d in found.iter().filter_map(|d| d.ok()) {
        if d.verdict == Verdict::Ok {
            continue;
        }
        let _ = writeln!(out, "\n== {}: {}", d.guest, d.verdict.words());
        if let Some(console) = d.console.as_deref().filter(|c| !c.is_empty()) {
            let _ = writeln!(out, "  console, last lines:");
            for line in console.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        for link in &d.chain {
            let _ = writeln!(
                out,
                "  {} {:<8} {}",
                if link.ok { "ok  " } else { "FAIL" },
                link.link,
                link.detail
            );
        }
    }
    out
}
