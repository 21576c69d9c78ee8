//! `vmup conflicts`: .rpmnew, .rpmsave and .rpmorig files beside package config files, with
//! their diffs, resolved on request.

use vmup::engine::conflicts::{Conflict, Resolve, conflicts};
use vmup::inventory::Inventory;

use super::args::{ConflictsArgs, ResolveArg};
use super::error::CliError;
use super::exit::Exit;
use super::setup;

/// Lists (and with `--resolve`, resolves) the conflicts of every selected host, in
/// parallel. Exit 1 when a host could not be read or a resolution failed.
pub fn run(args: ConflictsArgs) -> Result<Exit, CliError> {
    let inventory = Inventory::load(&args.inventory).map_err(CliError::input)?;
    let hosts = setup::select(&inventory, args.limit.as_deref())?;
    let connector = setup::simple_connector(args.ssh_config.clone());
    let transports = setup::transports_for(&hosts, &connector)?;
    let resolve = args.resolve.map(|r| match r {
        ResolveArg::Keep => Resolve::Keep,
        ResolveArg::New => Resolve::New,
    });
    let results: Vec<(String, Result<Vec<Conflict>, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = hosts
            .iter()
            .filter_map(|h| transports.get(&h.name).map(|t| (*h, t.as_ref())))
            .map(|(h, t)| scope.spawn(move || (h.name.clone(), conflicts(h, t, resolve))))
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut failed = false;
    for (host, result) in &results {
        failed |= result.is_err();
        if args.json {
            let value = match result {
                Ok(found) => serde_json::json!({"host": host, "conflicts": found, "error": null}),
                Err(e) => serde_json::json!({"host": host, "conflicts": [], "error": e}),
            };
            println!("{value}");
        } else {
            print!("{}", render(host, result));
        }
    }
    Ok(if failed {
        Exit::HostFailed
    } else {
        Exit::Success
    })
}

fn render(host: &str, result: &Result<Vec<Conflict>, String>) -> String {
    let found = match result {
        Err(e) => return format!("== {host}: error: {e}\n\n"),
        Ok(found) if found.is_empty() => return format!("== {host}: no config conflicts\n\n"),
        Ok(found) => found,
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
    out.push('\n');
    out
}
