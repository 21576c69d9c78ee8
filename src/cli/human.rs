//! The human report after a run: per-host changes with diffs, errors, and a summary table.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write;

use vmup::engine::{ChangeReport, HostReport, Mode, Phase, Status, Summary};
use vmup::transport::BecomeMethod;

/// Renders the final report. Hosts whose changes (and error) are identical are shown once,
/// so a fleet of fifty alike guests reads as one plan, not fifty.
pub fn render(mode: Mode, reports: &[HostReport], summary: &Summary) -> String {
    let mut out = String::new();
    // Hosts keyed by their outcome: one look-up per host, so ten thousand hosts that
    // all differ cost ten thousand look-ups, not fifty million comparisons.
    let mut groups: Vec<(&HostReport, Vec<&str>)> = Vec::new();
    let mut index: HashMap<Outcome<'_>, usize> = HashMap::new();
    for report in reports {
        if report.changes.is_empty()
            && report.error.is_none()
            && report.warnings.is_empty()
            && report.findings.is_empty()
        {
            continue;
        }
        match index.entry(Outcome::of(report)) {
            Entry::Occupied(at) => groups[*at.get()].1.push(&report.host),
            Entry::Vacant(slot) => {
                slot.insert(groups.len());
                groups.push((report, vec![&report.host]));
            }
        }
    }
    for (report, names) in groups {
        let each = if names.len() > 1 { " each" } else { "" };
        let _ = writeln!(
            out,
            "== {} ({}{each})",
            host_list(&names),
            headline(mode, report)
        );
        for change in &report.changes {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                change.step, change.resource, change.summary
            );
            if mode == Mode::Plan
                && let Some(diff) = &change.diff
            {
                for line in diff.lines() {
                    let _ = writeln!(out, "      {line}");
                }
            }
            if mode == Mode::Apply
                && let Some(output) = &change.output
            {
                output_tail(&mut out, output);
            }
        }
        // Check-only steps: what they found is shown, and is not a change.
        for found in &report.findings {
            let _ = writeln!(
                out,
                "  {} {} (check only, not applied): {}",
                found.step, found.resource, found.summary
            );
        }
        if let Some(error) = &report.error {
            let _ = writeln!(out, "  error ({} phase): {error}", report.phase.as_str());
        }
        for warning in &report.warnings {
            let _ = writeln!(out, "  warning: {warning}");
        }
        let _ = writeln!(out);
    }
    out.push_str(&table(reports));
    let _ = writeln!(out, "{}", closing_line(mode, summary));
    out
}

/// The most lines of a command's output the human report shows; `--json` has them all.
const OUTPUT_LINES: usize = 20;

/// What an applied command printed (a `command` step, a package transaction), its last
/// [`OUTPUT_LINES`] lines under the change, marked `| `.
fn output_tail(out: &mut String, output: &str) {
    let lines: Vec<&str> = output.lines().collect();
    let skipped = lines.len().saturating_sub(OUTPUT_LINES);
    if skipped > 0 {
        let _ = writeln!(
            out,
            "      | ({skipped} earlier line(s); --json has them all)"
        );
    }
    for line in &lines[skipped..] {
        let _ = writeln!(out, "      | {line}");
    }
}

/// Same outcome, same changes, same error and warnings: shown once for all such hosts.
#[derive(PartialEq, Eq, Hash)]
struct Outcome<'a> {
    status: Status,
    phase: Phase,
    changes: &'a [ChangeReport],
    error: Option<&'a str>,
    warnings: &'a [String],
    findings: &'a [ChangeReport],
    become_method: Option<BecomeMethod>,
}

impl<'a> Outcome<'a> {
    fn of(r: &'a HostReport) -> Outcome<'a> {
        Outcome {
            status: r.status,
            phase: r.phase,
            changes: &r.changes,
            error: r.error.as_deref(),
            warnings: &r.warnings,
            findings: &r.findings,
            become_method: r.become_method,
        }
    }
}

/// `a, b, c` or `a, b, c, ... and 47 more`.
pub(super) fn host_list(names: &[&str]) -> String {
    const SHOWN: usize = 8;
    if names.len() <= SHOWN {
        names.join(", ")
    } else {
        format!(
            "{}, ... and {} more",
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
}

fn headline(mode: Mode, report: &HostReport) -> String {
    // Which hosts were reached through sudo rather than a root login; a failed host's
    // error already says how far it got.
    match report.become_method {
        Some(method) if !report.status.is_failure() => {
            format!("{}, as root via {}", outcome(mode, report), method.as_str())
        }
        _ => outcome(mode, report),
    }
}

fn outcome(mode: Mode, report: &HostReport) -> String {
    let n = report.changes.len();
    match (report.status, mode) {
        (Status::Changed, Mode::Plan) => format!("{n} change(s) pending"),
        (Status::Changed, Mode::Apply) => format!("{n} change(s) applied, verified"),
        (Status::Held, Mode::Plan) => format!("{n} change(s) pending, some held back"),
        (Status::Held, Mode::Apply) => format!("{n} change(s) applied, verified, some held back"),
        (Status::Ok, _) if !report.findings.is_empty() => format!(
            "nothing to change; {} check-only finding(s), see `vmup check`",
            report.findings.len()
        ),
        (status, _) => status.as_str().to_string(),
    }
}

/// Above this many hosts the table has a row per status and change count, not per host:
/// a thousand rows would bury the groups above it (`--json` has every host).
pub(super) const TABLE_ROWS: usize = 50;

/// host, status, changes, time: one row per host, or per alike hosts in a big run.
fn table(reports: &[HostReport]) -> String {
    if reports.len() > TABLE_ROWS {
        return grouped_table(reports);
    }
    let width = reports
        .iter()
        .map(|r| r.host.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:<11}  {:>7}  {:>7}\n",
        "HOST", "STATUS", "CHANGES", "TIME"
    );
    for r in reports {
        let _ = writeln!(
            out,
            "{:<width$}  {:<11}  {:>7}  {:>6.2}s",
            r.host,
            r.status.as_str(),
            r.changes.len(),
            r.elapsed.as_secs_f64()
        );
    }
    out
}

/// status, hosts, changes, slowest time, names: one row per status and change count, in
/// the order each first appears.
fn grouped_table(reports: &[HostReport]) -> String {
    let mut rows: Vec<(Status, usize, f64, Vec<&str>)> = Vec::new();
    let mut index: HashMap<(Status, usize), usize> = HashMap::new();
    for r in reports {
        let secs = r.elapsed.as_secs_f64();
        match index.entry((r.status, r.changes.len())) {
            Entry::Occupied(at) => {
                let row = &mut rows[*at.get()];
                row.2 = row.2.max(secs);
                row.3.push(&r.host);
            }
            Entry::Vacant(slot) => {
                slot.insert(rows.len());
                rows.push((r.status, r.changes.len(), secs, vec![&r.host]));
            }
        }
    }
    let mut out = format!(
        "{:<11}  {:>6}  {:>7}  {:>7}  HOSTS\n",
        "STATUS", "COUNT", "CHANGES", "SLOWEST"
    );
    for (status, changes, slowest, names) in rows {
        let _ = writeln!(
            out,
            "{:<11}  {:>6}  {:>7}  {:>6.2}s  {}",
            status.as_str(),
            names.len(),
            changes,
            slowest,
            host_list(&names)
        );
    }
    out
}

fn closing_line(mode: Mode, s: &Summary) -> String {
    let mut parts = vec![format!("{} host(s)", s.hosts)];
    match mode {
        Mode::Plan => {
            parts.push(format!(
                "{} with changes pending ({} changes)",
                s.changed, s.changes
            ));
            parts.push(format!("{} converged", s.ok));
        }
        Mode::Apply => {
            parts.push(format!("{} changed ({} changes)", s.changed, s.changes));
            parts.push(format!("{} already converged", s.ok));
        }
    }
    if s.held > 0 {
        parts.push(format!("{} with changes held back for safety", s.held));
    }
    parts.extend(not_done(s));
    let verdict = if s.failed + s.unreachable + s.skipped > 0 {
        "NOT CONVERGED"
    } else if s.held > 0 {
        "NOT CONVERGED: changes held back for safety (see the warnings)"
    } else if mode == Mode::Plan && s.changed > 0 {
        "changes pending"
    } else {
        "converged"
    };
    let interrupted = if s.interrupted { " (interrupted)" } else { "" };
    format!(
        "{}: {} in {:.2}s: {verdict}{interrupted}",
        match mode {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
        },
        parts.join(", "),
        s.elapsed.as_secs_f64()
    )
}

/// `2 failed`, `1 unreachable`, `3 skipped`, for those that are not 0: the part of every
/// closing line that counts the hosts a run did not finish.
pub(super) fn not_done(s: &Summary) -> impl Iterator<Item = String> {
    [
        (s.failed, "failed"),
        (s.unreachable, "unreachable"),
        (s.skipped, "skipped"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, word)| format!("{n} {word}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn report(host: &str, status: Status, changes: usize, secs: u64) -> HostReport {
        let mut r = HostReport::new(host, Phase::Verify, status);
        r.elapsed = Duration::from_secs(secs);
        r.changes = (0..changes)
            .map(|i| ChangeReport {
                step: format!("step {i}"),
                resource: "line".into(),
                path: Some("/etc/securetty".into()),
                summary: format!("append line {i}"),
                diff: None,
                output: None,
            })
            .collect();
        r
    }

    #[test]
    fn a_big_run_shows_one_row_per_outcome_and_alike_hosts_once() {
        let mut reports: Vec<HostReport> = (0..997)
            .map(|i| report(&format!("g{i:04}"), Status::Changed, 2, 1))
            .collect();
        for i in 0..3 {
            let mut failed = report(&format!("bad{i}"), Status::Failed, 0, 3);
            failed.phase = Phase::Facts;
            failed.error = Some(format!("bad{i}: connection refused"));
            reports.push(failed);
        }
        let summary = Summary::of(&reports, Duration::ZERO, false);
        let out = render(Mode::Apply, &reports, &summary);
        // One group for the 997 alike hosts, one per distinct error.
        assert_eq!(
            out.matches("\n== ").count() + usize::from(out.starts_with("== ")),
            4
        );
        assert!(
            out.contains("== g0000, g0001, g0002, g0003, g0004, g0005, g0006, g0007, ... and 989 more (2 change(s) applied, verified each)"),
            "{out}"
        );
        // The table: a row per status and change count, not a thousand rows.
        assert!(
            out.contains("STATUS        COUNT  CHANGES  SLOWEST  HOSTS\n"),
            "{out}"
        );
        assert!(
            out.contains("\nchanged         997        2    1.00s  g0000, "),
            "{out}"
        );
        assert!(
            out.contains("\nfailed            3        0    3.00s  bad0, bad1, bad2\n"),
            "{out}"
        );
        assert!(out.lines().count() < 40, "{out}");
    }

    #[test]
    fn a_small_run_keeps_a_row_per_host() {
        let reports: Vec<HostReport> = (0..TABLE_ROWS)
            .map(|i| report(&format!("g{i:02}"), Status::Ok, 0, 0))
            .collect();
        let out = render(
            Mode::Apply,
            &reports,
            &Summary::of(&reports, Duration::ZERO, false),
        );
        assert!(out.starts_with("HOST  STATUS"), "{out}");
        assert_eq!(
            out.lines().filter(|l| l.starts_with('g')).count(),
            TABLE_ROWS
        );
    }
}
