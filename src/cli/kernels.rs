//! `vmup kernels`: per guest, the kernels installed, the one its host boots, the running one,
//! and whether the next boot will find its modules.

use std::collections::BTreeMap;
use std::fmt::Write;

use vmup::engine::booted::booted_kernels;
use vmup::engine::kernel_check::{GuestKernels, check_guest};
use vmup::inventory::{Host, Inventory};
use vmup::transport::Transport;

use super::args::KernelsArgs;
use super::error::CliError;
use super::exit::Exit;
use super::setup;

/// Reads the guests and their hosts and prints one report per guest. Exit 1 when a guest's
/// next boot would break (or cannot be judged).
pub fn run(args: KernelsArgs) -> Result<Exit, CliError> {
    let inventory = Inventory::load(&args.inventory).map_err(CliError::input)?;
    let selected = setup::select(&inventory, args.limit.as_deref())?;
    let guests: Vec<&Host> = selected
        .into_iter()
        .filter(|h| h.parent.is_some())
        .collect();
    if guests.is_empty() {
        return Err(CliError::input("no guests selected")
            .hint("guests are the hosts with `host = \"...\"` in the inventory"));
    }
    let mut reached: Vec<&Host> = guests.clone();
    for g in &guests {
        if let Some(parent) = g.parent.as_deref().and_then(|p| inventory.host(p))
            && !reached.iter().any(|h| h.name == parent.name)
        {
            reached.push(parent);
        }
    }
    let connector = setup::simple_connector(args.ssh_config.clone());
    let transports = setup::transports_for(&reached, &connector)?;
    let reach: BTreeMap<String, (&Host, &dyn Transport)> = reached
        .iter()
        .filter_map(|h| {
            transports
                .get(&h.name)
                .map(|t| (h.name.clone(), (*h, t.as_ref())))
        })
        .collect();
    let mut booted = booted_kernels(&guests, &reach);
    let reports: Vec<GuestKernels> = std::thread::scope(|scope| {
        let handles: Vec<_> = guests
            .iter()
            .map(|g| {
                let found = booted
                    .remove(&g.name)
                    .unwrap_or_else(|| Err("not read".to_string()));
                let transport = reach.get(&g.name).map(|(_, t)| *t);
                scope.spawn(move || transport.map(|t| check_guest(g, t, found)))
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().ok().flatten())
            .collect()
    });
    for r in &reports {
        if args.json {
            println!("{}", serde_json::to_string(r).unwrap_or_default());
        } else {
            print!("{}", render(r));
        }
    }
    Ok(if reports.iter().all(|r| r.ok) {
        Exit::Success
    } else {
        Exit::HostFailed
    })
}

/// The human report of one guest.
fn render(r: &GuestKernels) -> String {
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
    if r.installed.is_empty() {
        let _ = writeln!(out, "  (no kernel packages installed)");
    }
    out.push('\n');
    out
}
