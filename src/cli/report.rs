//! `vmup report FILE... --html OUT`: the `--json` output of runs as one HTML page a person
//! can open (no server, nothing fetched). `vmup report merge FILE...`: the outputs of the
//! shards of one run as that run (see `vmup::report::merge`).

use std::io::Read;
use std::path::Path;

use vmup::report::merge::{Merged, merge};
use vmup::report::{Report, Status, input};

use super::args::{MergeArgs, ReportAction, ReportArgs};
use super::error::CliError;
use super::exit::Exit;

/// What to do about a file that is not vmup's JSON lines.
const HINT: &str = "give the standard output of `vmup apply --json` (or plan, check, kernels, \
                    recreate), saved whole: `vmup apply -i INVENTORY RUNBOOK --json > run.jsonl`";

/// Reads every FILE (`-`: standard input), merges their runs into one page and writes it
/// to OUT (`-`: standard output). Exit 0 once the page is written, whatever the runs'
/// outcomes; 2 when a FILE is not vmup JSON lines (nothing is written then).
pub fn run(args: ReportArgs) -> Result<Exit, CliError> {
    if let Some(ReportAction::Merge(merge_args)) = args.action {
        return run_merge(merge_args);
    }
    let html = args
        .html
        .ok_or_else(|| CliError::input("--html OUT is needed"))?;
    let mut report = Report::new();
    for file in &args.files {
        let (name, text) = read(file)?;
        let runs = input::parse(&name, &text).map_err(|e| CliError::input(e).hint(HINT))?;
        for run in runs {
            report.add_run(&run.source, run.hosts, run.summary);
        }
    }
    let page = report.html();
    if html == Path::new("-") {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(page.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| CliError::failed(format!("cannot write the page: {e}")))?;
    } else {
        std::fs::write(&html, page)
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", html.display())))?;
    }
    Ok(Exit::Success)
}

/// Merges the shards' files: prints the merged run (human or JSON lines), writes the retry
/// file and exits as the whole run would have. Nothing is written when the files are
/// refused.
fn run_merge(args: MergeArgs) -> Result<Exit, CliError> {
    let mut files = Vec::new();
    for file in &args.files {
        files.push(read(file)?);
    }
    // A file in the retry file's place that is not vmup's is refused before anything.
    super::run::read_retry_file(&args.retry_file)?;
    let merged = merge(&files).map_err(|e| CliError::input(e).hint(MERGE_HINT))?;
    let summary = summary_of(&merged);
    if args.json {
        print_json(&merged, &summary);
    } else {
        print!("{}", super::safe::safe(&human(&merged, &summary)));
    }
    super::run::write_retry_list(&args.retry_file, &merged.retry(), args.json);
    let pending = if merged.command.as_deref() == Some("plan") {
        Exit::ChangesPending
    } else {
        Exit::Success
    };
    Ok(super::fleet::exit_code(&summary, pending))
}

/// What to do about files that do not make one run.
const MERGE_HINT: &str = "give the --json output of every shard of one run, each once: \
                          `vmup apply ... --json --shard K/N > run-K.jsonl` for K = 0..N-1";

/// The merged run's totals, as a run's own summary has them.
fn summary_of(merged: &Merged) -> vmup::engine::Summary {
    vmup::engine::Summary {
        hosts: merged.hosts.len(),
        ok: merged.count(Status::Ok),
        changed: merged.count(Status::Changed),
        failed: merged.count(Status::Failed),
        unreachable: merged.count(Status::Unreachable),
        skipped: merged.count(Status::Skipped),
        held: merged.count(Status::Held),
        not_ok: merged.count(Status::NotOk),
        changes: merged.changes(),
        interrupted: merged.interrupted,
        elapsed: std::time::Duration::from_secs_f64(merged.elapsed.max(0.0)),
    }
}

/// Each host's final line as its shard printed it, then one summary line.
fn print_json(merged: &Merged, summary: &vmup::engine::Summary) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for host in &merged.hosts {
        if let Some(raw) = &host.raw {
            let _ = writeln!(out, "{raw}");
        }
    }
    let mut line = serde_json::json!({ "summary": summary });
    if let Some(command) = &merged.command {
        line["summary"]["command"] = command.clone().into();
    }
    if let Some(of) = merged.shards {
        line["summary"]["shards"] = of.into();
    }
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The totals and every host that needs a look, by status, with its error.
fn human(merged: &Merged, summary: &vmup::engine::Summary) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for status in Status::ALL {
        if matches!(status, Status::Ok | Status::Changed) {
            continue;
        }
        let hosts: Vec<_> = merged.hosts.iter().filter(|h| h.status == status).collect();
        if hosts.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({}):", status.as_str(), hosts.len());
        for host in hosts {
            let why = host
                .error
                .as_deref()
                .or(host.verdict.as_deref())
                .unwrap_or("");
            let _ = writeln!(out, "  {}: {}", host.host, why.lines().next().unwrap_or(""));
        }
    }
    let parts: Vec<String> = Status::ALL
        .iter()
        .rev()
        .map(|s| (s, merged.count(*s)))
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let of = match merged.shards {
        Some(n) => format!("{n} shards"),
        None => format!("{} files", merged.files),
    };
    let _ = writeln!(
        out,
        "{}: {of} merged: {} host(s){}{}, {} change(s), slowest {:.2}s{}",
        merged.command.as_deref().unwrap_or("run"),
        summary.hosts,
        if parts.is_empty() { "" } else { ": " },
        parts.join(", "),
        summary.changes,
        merged.elapsed,
        if merged.interrupted {
            " (interrupted)"
        } else {
            ""
        },
    );
    out
}

/// The file's name as messages show it, and its text.
fn read(file: &Path) -> Result<(String, String), CliError> {
    let mut bytes = Vec::new();
    let (name, result) = if file == Path::new("-") {
        (
            "-".to_string(),
            std::io::stdin().lock().read_to_end(&mut bytes),
        )
    } else {
        let name = file.display().to_string();
        (
            name,
            std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes)),
        )
    };
    result.map_err(|e| CliError::input(format!("cannot read {name}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::input(format!(
            "{name}: not text (invalid UTF-8 at byte {})",
            e.utf8_error().valid_up_to()
        ))
        .hint(HINT)
    })?;
    Ok((name, text))
}
