//! `vmup kernels`: per guest, the kernels installed, the one its host boots, the running one,
//! and whether the next boot will find its modules.

use std::fmt::Write;

use vmup::engine::kernel_check::{GuestKernels, KernelCheck};
use vmup::engine::{HostDetail, HostReport};
use vmup::resource::Need;

use super::args::KernelsArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, setup};

/// Reads the guests and their hosts and prints one report per guest. Exit 1 when a guest's
/// next boot would break (or cannot be judged).
pub fn run(args: KernelsArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let jobs = fleet::guest_jobs(&inventory, &args.fleet, &connector, &[Need::BootedKernel])?;
    let (_, summary) = fleet::run(
        "kernels",
        &jobs,
        &KernelCheck,
        &options,
        args.json,
        &|reports, _| reports.iter().map(render).collect(),
    );
    Ok(fleet::exit_code(&summary, Exit::Success))
}

/// The human report of one guest.
pub fn render(report: &HostReport) -> String {
    let Some(HostDetail::Kernels(r)) = &report.detail else {
        return format!(
            "== {}: {}\n\n",
            report.host,
            report.error.as_deref().unwrap_or("not checked")
        );
    };
    guest(r)
}

fn guest(r: &GuestKernels) -> String {
    let mut out = format!("== {}: {}\n", r.guest, r.verdict);
    match (&r.booted, &r.booted_error) {
        (Some(b), _) => {
            let link = if b.kernel_path == b.resolved_path {
                b.kernel_path.clone()
            } else {
                format!("{} -> {}", b.kernel_path, b.resolved_path)
            };
            let _ = writeln!(out, "  booted:  {} ({}; {link})", b.release, b.via());
        }
        (None, Some(e)) => {
            let _ = writeln!(out, "  booted:  unknown: {e}");
        }
        (None, None) => {}
    }
    let _ = writeln!(
        out,
        "  running: {}",
        r.running.as_deref().unwrap_or("unknown")
    );
    let width = r
        .installed
        .iter()
        .map(|k| k.package.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "  {:<width$}  {:<24}  MODULES  NOTE",
        "PACKAGE", "RELEASE"
    );
    for k in &r.installed {
        let mut notes = Vec::new();
        if r.booted.as_ref().is_some_and(|b| b.release == k.release) {
            notes.push("booted");
        }
        if r.running.as_deref() == Some(k.release.as_str()) {
            notes.push("running");
        }
        let _ = writeln!(
            out,
            "  {:<width$}  {:<24}  {:<7}  {}",
            k.package,
            k.release,
            if k.modules { "present" } else { "MISSING" },
            notes.join(", ")
        );
    }
    if r.no_rpm_database {
        let _ = writeln!(
            out,
            "  (no rpm database: the installed packages are unknown)"
        );
    } else if r.installed.is_empty() {
        let _ = writeln!(out, "  (no kernel packages installed)");
    }
    out.push('\n');
    out
}
