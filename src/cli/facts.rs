//! `vmup facts`: what vmup reads from one host, as text or JSON.

use std::path::Path;

use serde_json::{Map, Value, json};
use std::time::Duration;

use vmup::engine::gather::gather_facts;
use vmup::facts::{Facts, PathFact, merge_keys};
use vmup::inventory::Inventory;
use vmup::resource::Scope;
use vmup::runbook::Runbook;
use vmup::transport::connect::{ConnectOptions, Connector, DEFAULT_CONNECT_TIMEOUT_SECS};

use super::args::FactsArgs;
use super::error::CliError;
use super::exit::Exit;

/// Gathers and prints one host's facts.
pub fn run(args: FactsArgs) -> Result<Exit, CliError> {
    let mut inventory = Inventory::load(&args.inventory).map_err(CliError::input)?;
    if args.become_root {
        inventory.become_everywhere();
    }
    let host = inventory.host(&args.host).ok_or_else(|| {
        CliError::input(format!(
            "{:?} is not in {}",
            args.host,
            args.inventory.display()
        ))
        .hint(format!(
            "hosts: {}",
            inventory
                .hosts
                .iter()
                .map(|h| h.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let runbook = match &args.runbook {
        Some(path) => Runbook::load(path).map_err(CliError::input)?,
        None => Runbook::parse(
            Path::new("<built-in example runbook>"),
            vmup::demo::RUNBOOK.to_string(),
        )
        .map_err(CliError::input)?,
    };
    let keys = merge_keys(
        runbook
            .steps
            .iter()
            .filter_map(|s| s.resource.as_ref())
            .flat_map(|r| r.facts(&Scope::default())),
    );
    let connector = Connector::new(ConnectOptions {
        ssh_config: args.ssh_config.clone(),
        connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
        command_timeout: None,
    });
    let transport = connector
        .transport(&host.endpoint())
        .map_err(CliError::input)?;
    let facts = gather_facts(host, transport.as_ref(), &keys).map_err(|e| {
        // Transport errors name the host already.
        let said = e.to_string();
        match said.starts_with(&format!("{}: ", host.name)) {
            true => CliError::failed(said),
            false => CliError::failed(format!("{}: {said}", host.name)),
        }
    })?;
    if args.json {
        println!("{}", to_json(&host.name, &facts));
    } else {
        print!("{}", super::safe::safe(&to_text(&host.name, &facts)));
    }
    Ok(Exit::Success)
}

fn path_json(fact: &PathFact) -> Value {
    match fact {
        PathFact::Absent => json!({"type": "absent"}),
        PathFact::Other => json!({"type": "other"}),
        PathFact::Dir { mode, uid, gid } => {
            json!({"type": "directory", "mode": format!("{mode:04o}"), "uid": uid, "gid": gid})
        }
        PathFact::Symlink { target } => {
            json!({"type": "symlink", "target": String::from_utf8_lossy(target)})
        }
        PathFact::File {
            mode,
            uid,
            gid,
            content,
        } => json!({
            "type": "file", "mode": format!("{mode:04o}"), "uid": uid, "gid": gid,
            "size": content.as_ref().map(Vec::len),
            "content": content.as_ref().map(|c| String::from_utf8_lossy(c).into_owned()),
        }),
    }
}

fn to_json(host: &str, facts: &Facts) -> Value {
    let paths: Map<String, Value> = facts
        .paths
        .iter()
        .map(|(p, f)| (p.clone(), path_json(f)))
        .collect();
    let commands: Map<String, Value> = facts
        .commands
        .iter()
        .map(|(n, c)| {
            (
                n.clone(),
                json!({"status": c.status, "stdout": String::from_utf8_lossy(&c.stdout)}),
            )
        })
        .collect();
    json!({
        "host": host,
        "hostname": facts.hostname,
        "cpus": facts.cpus,
        "kernel_release": facts.kernel_release,
        "paths": paths,
        "commands": commands,
    })
}

fn to_text(host: &str, facts: &Facts) -> String {
    let mut out = format!(
        "host:           {host}\nhostname:       {}\ncpus:           {}\nkernel release: {}\n",
        facts.hostname.as_deref().unwrap_or("?"),
        facts.cpus.map_or("?".to_string(), |c| c.to_string()),
        facts.kernel_release.as_deref().unwrap_or("?"),
    );
    for (path, fact) in &facts.paths {
        let line = match fact {
            PathFact::Absent => "absent".to_string(),
            PathFact::Other => "special file".to_string(),
            PathFact::Dir { mode, uid, gid } => format!("directory {mode:04o} {uid}:{gid}"),
            PathFact::Symlink { target } => {
                format!("symlink -> {}", String::from_utf8_lossy(target))
            }
            PathFact::File {
                mode,
                uid,
                gid,
                content,
            } => format!(
                "file {mode:04o} {uid}:{gid}{}",
                content
                    .as_ref()
                    .map(|c| format!(", {} bytes", c.len()))
                    .unwrap_or_default()
            ),
        };
        out.push_str(&format!("{path}: {line}\n"));
    }
    // Command facts (rpm queries, package manager previews), indented under their name.
    for (name, fact) in &facts.commands {
        out.push_str(&format!("{name} (exit status {}):\n", fact.status));
        for line in String::from_utf8_lossy(&fact.stdout).lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}
