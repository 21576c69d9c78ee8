//! The human report after a run: per-host changes with diffs, errors, and a summary table.

use std::fmt::Write;

use vmup::engine::{HostReport, Mode, Status, Summary};

/// Renders the final report. Hosts whose changes (and error) are identical are shown once,
/// so a fleet of fifty alike guests reads as one plan, not fifty.
pub fn render(mode: Mode, reports: &[HostReport], summary: &Summary) -> String {
    let mut out = String::new();
    let mut groups: Vec<(&HostReport, Vec<&str>)> = Vec::new();
    for report in reports {
        if report.changes.is_empty()
            && report.error.is_none()
            && report.warnings.is_empty()
            && report.findings.is_empty()
        {
            continue;
        }
        match groups.iter_mut().find(|(first, _)| alike(first, report)) {
            Some((_, names)) => names.push(&report.host),
            None => groups.push((report, vec![&report.host])),
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
fn alike(a: &HostReport, b: &HostReport) -> bool {
    a.status == b.status
        && a.phase == b.phase
        && a.changes == b.changes
        && a.error == b.error
        && a.warnings == b.warnings
        && a.findings == b.findings
        && a.become_method == b.become_method
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

/// host, status, changes, time: one row per host.
fn table(reports: &[HostReport]) -> String {
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
