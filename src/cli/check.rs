//! `vmup check`: per host, OK or Not OK with the reasons, as gridpulse reports a machine;
//! nothing is changed anywhere.

use std::fmt::Write;

use vmup::engine::check::CheckDetail;
use vmup::engine::{CheckWork, HostDetail, HostReport, Selection, Summary, prepare};
use vmup::resource::Need;

use super::args::CheckArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, setup};

/// Judges every selected host against the runbook and prints the verdicts. Exit 0 when
/// every host is OK, 1 when one is Not OK, failed or skipped, 4 when one was unreachable
/// and none of those.
pub fn run(args: CheckArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.run.inventory, args.run.fleet.become_root)?;
    let runbook = setup::runbook(&args.run.runbook)?;
    let options = fleet::options(&args.run.fleet)?;
    let connector = fleet::connector(&args.run.fleet);
    // Every guest's next boot is judged, whatever its steps: the pre-phase reads the
    // kernel its host boots it with.
    let selection = Selection {
        limit: args.run.fleet.limit.as_deref(),
        shard: args.run.fleet.shard,
        guests_only: false,
        needs: &[Need::BootedKernel],
        extra_vars: &args.run.extra_vars,
    };
    let jobs = prepare(&inventory, Some(&runbook), &selection, &connector)?;
    let (_, summary) = fleet::run("check", &jobs, &CheckWork, &options, args.run.json, &render);
    Ok(fleet::exit_code(&summary, Exit::Success))
}

/// The table people read: host, verdict, reasons (one per line), then the totals.
pub fn render(reports: &[HostReport], summary: &Summary) -> String {
    let rows: Vec<(&str, String, Vec<String>)> = reports
        .iter()
        .map(|r| {
            let (verdict, reasons) = verdict(r);
            (r.host.as_str(), verdict, reasons)
        })
        .collect();
    let host_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4).max(4);
    let verdict_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(7).max(7);
    let mut out = format!(
        "{:<host_width$}  {:<verdict_width$}  REASONS\n",
        "HOST", "VERDICT"
    );
    for (host, verdict, reasons) in &rows {
        let mut first = true;
        for reason in reasons.iter().map(String::as_str).chain(
            // A row with no reason still gets its line.
            reasons.is_empty().then_some(""),
        ) {
            let (h, v) = if first {
                (*host, verdict.as_str())
            } else {
                ("", "")
            };
            first = false;
            let line = format!("{h:<host_width$}  {v:<verdict_width$}  {reason}");
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
    let _ = writeln!(out, "{}", closing_line(summary));
    out
}

/// The verdict column and the reasons of one host; a host that could not be judged shows
/// its status and what stopped it.
fn verdict(report: &HostReport) -> (String, Vec<String>) {
    match &report.detail {
        Some(HostDetail::Check(detail)) if detail.verdict.is_some() => judged(detail),
        _ => (
            report.status.as_str().to_string(),
            report.error.iter().cloned().collect(),
        ),
    }
}

fn judged(detail: &CheckDetail) -> (String, Vec<String>) {
    let verdict = detail.verdict.map_or("", |v| v.as_str()).to_string();
    (verdict, detail.reasons.iter().map(|r| r.line()).collect())
}

/// `check: 4 host(s), 2 OK, 1 Not OK, 1 unreachable in 0.05s: NOT OK`.
fn closing_line(s: &Summary) -> String {
    let mut parts = vec![
        format!("{} host(s)", s.hosts),
        format!("{} OK", s.ok),
        format!("{} Not OK", s.not_ok),
    ];
    parts.extend(super::human::not_done(s));
    let unjudged = s.failed + s.unreachable + s.skipped > 0;
    let verdict = match (s.not_ok > 0, unjudged) {
        (true, false) => "NOT OK",
        (true, true) => "NOT OK, and not every host could be checked",
        (false, true) => "not every host could be checked",
        (false, false) => "all OK",
    };
    let interrupted = if s.interrupted { " (interrupted)" } else { "" };
    format!(
        "check: {} in {:.2}s: {verdict}{interrupted}",
        parts.join(", "),
        s.elapsed.as_secs_f64()
    )
}
