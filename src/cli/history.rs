//! `vmup history`: the recorded runs, per host: when, who, which command, status and
//! changes; or, with `--json`, each host-run as its run's `--json` line had it.

use std::fmt::Write;

use vmup::history::query::{HostRun, Query, host_runs};
use vmup::history::time;

use super::args::{HistoryArgs, HistoryCmdArgs};
use super::error::CliError;
use super::exit::Exit;
use super::recording::history_path;
use super::safe::safe;

/// Lists the host-runs `--host` and `--since` select, oldest first. Exit 0, also when
/// there are none; 2 for a bad `--since`; 1 when the file cannot be read.
pub fn run(args: HistoryCmdArgs) -> Result<Exit, CliError> {
    let since = args
        .since
        .as_deref()
        .map(|s| time::parse_since(s, time::now()))
        .transpose()
        .map_err(|e| CliError::input(format!("--since {e}")))?;
    let which = HistoryArgs {
        history: args.history.clone(),
        no_history: false,
    };
    let path = history_path(&which)
        .map_err(CliError::input)?
        .ok_or_else(|| CliError::input("no history file"))?;
    let query = Query {
        host: args.host.clone(),
        since,
    };
    let found = host_runs(&path, &query).map_err(|e| {
        CliError::failed(format!("cannot read the history: {e}"))
            .hint("give the file with --history FILE (or VMUP_HISTORY=FILE)")
    })?;
    if args.json {
        for h in &found {
            println!("{}", h.to_json());
        }
    } else if found.is_empty() {
        eprintln!("no recorded runs in {}", path.display());
    } else {
        print!("{}", safe(&render(&found)));
    }
    Ok(Exit::Success)
}

/// The table: one row per host-run, its change summaries under it.
pub fn render(found: &[HostRun]) -> String {
    let who = |h: &HostRun| match &h.run.sudo_user {
        Some(s) if *s != h.run.user => format!("{s} (as {})", h.run.user),
        _ => h.run.user.clone(),
    };
    let command = |h: &HostRun| {
        let mut c = match h.part.as_str() {
            p if p == h.run.command => p.to_string(),
            p => format!("{} {p}", h.run.command),
        };
        if h.run.exit_code.is_none() {
            // Still running, or killed before it could say how it ended.
            c.push_str(" (unfinished)");
        }
        c
    };
    let width = |f: &dyn Fn(&HostRun) -> String, title: &str| {
        found
            .iter()
            .map(|h| f(h).len())
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let ww = width(&who, "WHO");
    let cw = width(&command, "COMMAND");
    let hw = width(&|h: &HostRun| h.host.clone(), "HOST");
    let mut out = format!(
        "{:<16}  {:<ww$}  {:<cw$}  {:<hw$}  {:<11}  CHANGES\n",
        "WHEN (UTC)", "WHO", "COMMAND", "HOST", "STATUS"
    );
    for h in found {
        let when = h.run.started.replace('T', " ");
        let when = when.get(..16).unwrap_or(&when);
        let mut changes = h.changes.len().to_string();
        if let Some(k) = &h.booted_kernel {
            let _ = write!(changes, " (running {k})");
        }
        let _ = writeln!(
            out,
            "{when:<16}  {:<ww$}  {:<cw$}  {:<hw$}  {:<11}  {changes}",
            who(h),
            command(h),
            h.host,
            h.status,
        );
        for c in &h.changes {
            match &c.path {
                Some(p) => writeln!(out, "    {}, {p}: {}", c.step, c.summary),
                None => writeln!(out, "    {}: {}", c.step, c.summary),
            }
            .unwrap_or_default();
        }
        if let Some(serde_json::Value::String(e)) = h.report.get("error") {
            let _ = writeln!(out, "    error: {e}");
        }
    }
    out
}
