//! `vmup facts`: what vmup reads from the selected hosts, as a table, a full listing of one
//! host, or JSON lines. Read-only: one round trip per host, in parallel like every fleet
//! command.

use std::fmt::Write;
use std::path::Path;

use vmup::engine::read_facts::{FactsView, PathView, Pick, ReadFacts, pick};
use vmup::engine::{HostDetail, HostReport, Selection, Summary, prepare};
use vmup::facts::FactKey;
use vmup::inventory::Inventory;
use vmup::resource::Scope;
use vmup::runbook::Runbook;

use super::args::FactsArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, setup};

/// Gathers the picked facts of every selected host and prints them.
pub fn run(args: FactsArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    if let Some(name) = &args.host {
        known_name(&inventory, name, &args.inventory)?;
    }
    let runbook = match &args.runbook {
        Some(path) => setup::runbook(path)?,
        None => Runbook::parse(
            Path::new("<built-in example runbook>"),
            vmup::demo::RUNBOOK.to_string(),
        )
        .map_err(CliError::input)?,
    };
    let available: Vec<FactKey> = runbook
        .steps
        .iter()
        .filter_map(|s| s.resource.as_ref())
        .flat_map(|r| r.facts(&Scope::default()))
        .collect();
    let (picks, keys) =
        pick(&args.facts, &available).map_err(|e| CliError::input(format!("--fact: {e}")))?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let selection = Selection {
        limit: args.host.as_deref().or(args.fleet.limit.as_deref()),
        shard: args.fleet.shard,
        ..Selection::default()
    };
    let jobs = prepare(&inventory, None, &selection, &connector)?;
    // One host asked for by name, no picks: every fact it has, as `vmup facts` always showed.
    let listing = args.facts.is_empty()
        && jobs.len() == 1
        && args.host.as_deref() == Some(jobs[0].host.name.as_str());
    let work = ReadFacts {
        picks: picks.clone(),
        keys,
        everything: args.facts.is_empty(),
    };
    let render = |reports: &[HostReport], summary: &Summary| match reports {
        [one] if listing => listing_of(one),
        _ => table(reports, &picks, summary),
    };
    let (_, summary) = fleet::run("facts", &jobs, &work, &options, args.json, &render);
    Ok(fleet::exit_code(&summary, Exit::Success))
}

/// A HOST that is not a host, a group or a pattern is a typo: say which hosts there are.
fn known_name(inventory: &Inventory, name: &str, file: &Path) -> Result<(), CliError> {
    let pattern = name.contains(['*', '?', '[', ',', '!', '@', '~', ':', '&']);
    if pattern || inventory.host(name).is_some() || inventory.group_names().contains(&name) {
        return Ok(());
    }
    Err(
        CliError::input(format!("{name:?} is not in {}", file.display())).hint(format!(
            "hosts: {}",
            inventory
                .hosts
                .iter()
                .map(|h| h.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    )
}

fn view(report: &HostReport) -> Option<&FactsView> {
    match &report.detail {
        Some(HostDetail::Facts(view)) => Some(view),
        _ => None,
    }
}

/// One row per host, one column per picked fact; a host that was not read shows its
/// status and why.
fn table(reports: &[HostReport], picks: &[Pick], summary: &Summary) -> String {
    let mut rows = vec![
        std::iter::once("HOST".to_string())
            .chain(picks.iter().map(|p| p.name().to_string()))
            .collect::<Vec<_>>(),
    ];
    let mut unread = Vec::new();
    for report in reports {
        match view(report) {
            Some(v) => rows.push(
                std::iter::once(report.host.clone())
                    .chain(picks.iter().map(|p| v.cell(p)))
                    .collect(),
            ),
            None => unread.push(report),
        }
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    if rows.len() > 1 {
        for row in &rows {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
    }
    if !unread.is_empty() {
        if rows.len() > 1 {
            out.push('\n');
        }
        let width = unread.iter().map(|r| r.host.len()).max().unwrap_or(0);
        for r in unread {
            let _ = writeln!(
                out,
                "{:<width$}  {}  {}",
                r.host,
                r.status.as_str(),
                r.error.as_deref().unwrap_or("")
            );
        }
    }
    let _ = writeln!(out, "{}", closing_line(summary));
    out
}

/// `facts: 12 host(s), 11 read, 1 unreachable in 0.41s`.
fn closing_line(s: &Summary) -> String {
    let mut parts = vec![format!("{} host(s)", s.hosts), format!("{} read", s.ok)];
    parts.extend(super::human::not_done(s));
    let interrupted = if s.interrupted { " (interrupted)" } else { "" };
    format!(
        "facts: {} in {:.2}s{interrupted}",
        parts.join(", "),
        s.elapsed.as_secs_f64()
    )
}

/// Every fact of one host, a line each; command facts indented under their name.
fn listing_of(report: &HostReport) -> String {
    let Some(v) = view(report) else {
        return format!(
            "== {} ({})\n  error ({} phase): {}\n",
            report.host,
            report.status.as_str(),
            report.phase.as_str(),
            report.error.as_deref().unwrap_or("not read")
        );
    };
    let mut out = format!(
        "host:           {}\nhostname:       {}\ncpus:           {}\nkernel release: {}\n",
        report.host,
        v.hostname.clone().flatten().as_deref().unwrap_or("?"),
        v.cpus.flatten().map_or("?".to_string(), |c| c.to_string()),
        v.kernel_release.clone().flatten().as_deref().unwrap_or("?"),
    );
    for (path, fact) in &v.paths {
        let line = match fact {
            PathView::Absent => "absent".to_string(),
            PathView::Other => "special file".to_string(),
            PathView::Directory { mode, uid, gid } => format!("directory {mode} {uid}:{gid}"),
            PathView::Symlink { target } => format!("symlink -> {target}"),
            PathView::File {
                mode,
                uid,
                gid,
                size,
                ..
            } => format!(
                "file {mode} {uid}:{gid}{}",
                size.map(|n| format!(", {n} bytes")).unwrap_or_default()
            ),
        };
        let _ = writeln!(out, "{path}: {line}");
    }
    for (name, fact) in &v.commands {
        let _ = writeln!(out, "{name} (exit status {}):", fact.status);
        for line in fact.stdout.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}
