//! `vmup conflicts`: .rpmnew, .rpmsave and .rpmorig files beside package config files, with
//! their diffs, resolved on request.

use vmup::engine::conflicts::{ConflictsWork, Resolve};
use vmup::engine::{HostDetail, HostReport, Selection, prepare};

use super::args::{ConflictsArgs, ResolveArg};
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, setup};

/// Lists (and with `--resolve`, resolves) the conflicts of every selected host, in
/// parallel. Exit 1 when a host could not be read or a resolution failed.
pub fn run(args: ConflictsArgs) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory, args.fleet.become_root)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let selection = Selection {
        limit: args.fleet.limit.as_deref(),
        shard: args.fleet.shard,
        ..Selection::default()
    };
    let jobs = prepare(&inventory, None, &selection, &connector)?;
    let work = ConflictsWork {
        resolve: args.resolve.map(|r| match r {
            ResolveArg::Keep => Resolve::Keep,
            ResolveArg::New => Resolve::New,
        }),
    };
    let (_, summary) = fleet::run(
        "conflicts",
        &jobs,
        &work,
        &options,
        args.json,
        &|reports, _| reports.iter().map(render).collect(),
    );
    Ok(fleet::exit_code(&summary, Exit::Success))
}

fn render(report: &HostReport) -> String {
    let host = &report.host;
    let found = match (&report.detail, &report.error) {
        (Some(HostDetail::Conflicts { conflicts }), None) if conflicts.is_empty() => {
            return format!("== {host}: no config conflicts\n\n");
        }
        (Some(HostDetail::Conflicts { conflicts }), _) if !conflicts.is_empty() => conflicts,
        (_, error) => {
            return format!(
                "== {host}: error: {}\n\n",
                error.as_deref().unwrap_or("not read")
            );
        }
    };
    let mut out = format!("== {host}: {} config conflict(s)\n", found.len());
    for c in found {
        let same = if c.identical { " (identical)" } else { "" };
        out.push_str(&format!("  {} beside {}{same}\n", c.other, c.file));
        for line in c.diff.lines() {
            out.push_str(&format!("      {line}\n"));
        }
        if let Some(r) = &c.resolution {
            out.push_str(&format!("  -> {r}\n"));
        }
    }
    if let Some(e) = &report.error {
        out.push_str(&format!("  error: {e}\n"));
    }
    out.push('\n');
    out
}
