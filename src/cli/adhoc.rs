//! `vmup run PATTERN -- COMMAND`: one ad-hoc command on many hosts, with the output of
//! hosts that answered alike shown once.

use std::fmt::Write;

use vmup::engine::adhoc::{AdHoc, AdHocWork, CommandRun};
use vmup::engine::{HostDetail, HostReport, Job, Selection, Summary, prepare};
use vmup::inventory::HostPattern;

use super::args::AdHocArgs;
use super::error::CliError;
use super::exit::Exit;
use super::recording::Recording;
use super::{fleet, run, setup};

/// Runs the command on every selected host and reports; exit 1 when one failed.
pub fn run(args: AdHocArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    let adhoc = match &args.script {
        Some(path) => AdHoc::Shell(
            std::fs::read(path)
                .map_err(|e| CliError::input(format!("--script {}: {e}", path.display())))?,
        ),
        None => AdHoc::from_words(&args.command).map_err(CliError::input)?,
    };
    let script = adhoc.script().map_err(CliError::input)?;
    let earlier = run::read_retry_file(&args.retry_file)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let selection = Selection {
        limit: Some(&args.pattern),
        shard: args.fleet.shard,
        ..Selection::default()
    };
    let mut jobs = prepare(&inventory, None, &selection, &connector)?;
    if let Some(limit) = &args.fleet.limit {
        let within = HostPattern::new(limit)
            .select(&inventory)
            .map_err(|e| CliError::input(format!("--limit: {e}")))?;
        let within: std::collections::HashSet<&str> =
            within.iter().map(|h| h.name.as_str()).collect();
        jobs.retain(|j: &Job<'_>| within.contains(j.host.name.as_str()));
        if jobs.is_empty() {
            return Err(CliError::input(format!(
                "no host is both in {:?} and in --limit {limit:?}",
                args.pattern
            )));
        }
    }
    let work = AdHocWork { script };
    // Recorded from here on: the input is valid and hosts are about to be touched.
    let mut history = Recording::start(
        &args.history,
        "run",
        args.script.as_deref(),
        Some(&args.inventory),
    );
    let (reports, summary) = fleet::run("run", &jobs, &work, &options, args.json, &render);
    drop(jobs);
    history.hosts("run", &reports);
    run::write_retry_file(&args.retry_file, &earlier, &reports, args.json);
    let exit = fleet::exit_code(&summary, Exit::Success);
    history.finish(exit);
    Ok(exit)
}

fn command_run(report: &HostReport) -> Option<&CommandRun> {
    match &report.detail {
        Some(HostDetail::Command(run)) => Some(run),
        _ => None,
    }
}

/// What makes two hosts' results the same, for grouping.
fn outcome(report: &HostReport) -> (&str, Option<&CommandRun>, Option<&str>) {
    (
        report.status.as_str(),
        command_run(report),
        report.error.as_deref(),
    )
}

/// The most lines of each stream a group shows; `--json` has them all.
const LINES: usize = 20;

/// Groups of hosts with identical results (status, exit status, output), each shown once;
/// then a row per host and the totals by exit status.
pub fn render(reports: &[HostReport], summary: &Summary) -> String {
    let mut groups: Vec<(&HostReport, Vec<&str>)> = Vec::new();
    let mut index: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for report in reports {
        match index.get(&outcome(report)) {
            Some(&i) => groups[i].1.push(&report.host),
            None => {
                index.insert(outcome(report), groups.len());
                groups.push((report, vec![&report.host]));
            }
        }
    }
    let mut out = String::new();
    for (report, names) in &groups {
        let headline = match command_run(report) {
            Some(CommandRun {
                exit_status: Some(code),
                ..
            }) => format!("exit {code}"),
            Some(_) => "killed by a signal".to_string(),
            None => report.status.as_str().to_string(),
        };
        let _ = writeln!(
            out,
            "== {} ({headline}{})",
            super::human::host_list(names),
            if names.len() > 1 {
                format!(", {} hosts", names.len())
            } else {
                String::new()
            }
        );
        if let Some(run) = command_run(report) {
            tail(&mut out, &run.stdout, "|");
            tail(&mut out, &run.stderr, "!");
        } else if let Some(error) = &report.error {
            let _ = writeln!(out, "  error: {error}");
        }
        out.push('\n');
    }
    out.push_str(&table(reports));
    let _ = writeln!(out, "{}", closing_line(reports, summary));
    out
}

/// The last [`LINES`] lines of one stream, marked `|` (stdout) or `!` (stderr).
fn tail(out: &mut String, text: &str, mark: &str) {
    let lines: Vec<&str> = text.lines().collect();
    let skipped = lines.len().saturating_sub(LINES);
    if skipped > 0 {
        let _ = writeln!(
            out,
            "  {mark} ({skipped} earlier line(s); --json has them all)"
        );
    }
    for line in &lines[skipped..] {
        let _ = writeln!(out, "  {mark} {line}");
    }
}

/// host, status, exit status, time: one row per host.
fn table(reports: &[HostReport]) -> String {
    let width = reports
        .iter()
        .map(|r| r.host.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:<11}  {:>4}  {:>7}\n",
        "HOST", "STATUS", "EXIT", "TIME"
    );
    for r in reports {
        let exit = match command_run(r) {
            Some(CommandRun {
                exit_status: Some(code),
                ..
            }) => code.to_string(),
            Some(_) => "sig".to_string(),
            None => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:<11}  {exit:>4}  {:>6.2}s",
            r.host,
            r.status.as_str(),
            r.elapsed.as_secs_f64()
        );
    }
    out
}

/// `run: 50 host(s), 48 exit 0, 1 exit 1, 1 unreachable in 1.20s: NOT ALL SUCCEEDED`.
fn closing_line(reports: &[HostReport], s: &Summary) -> String {
    let mut by_code: std::collections::BTreeMap<i32, usize> = Default::default();
    let mut signalled = 0;
    for run in reports.iter().filter_map(command_run) {
        match run.exit_status {
            Some(code) => *by_code.entry(code).or_default() += 1,
            None => signalled += 1,
        }
    }
    let mut parts = vec![format!("{} host(s)", s.hosts)];
    parts.extend(by_code.iter().map(|(code, n)| format!("{n} exit {code}")));
    if signalled > 0 {
        parts.push(format!("{signalled} killed by a signal"));
    }
    // Failed without running the command (a local tree refuses, become was refused).
    let refused = reports
        .iter()
        .filter(|r| r.status == vmup::engine::Status::Failed && command_run(r).is_none())
        .count();
    for (n, word) in [
        (refused, "not run"),
        (s.unreachable, "unreachable"),
        (s.skipped, "skipped"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let verdict = if s.failed + s.unreachable + s.skipped == 0 {
        "all succeeded"
    } else {
        "NOT ALL SUCCEEDED"
    };
    let interrupted = if s.interrupted { " (interrupted)" } else { "" };
    format!(
        "run: {} in {:.2}s: {verdict}{interrupted}",
        parts.join(", "),
        s.elapsed.as_secs_f64()
    )
}
