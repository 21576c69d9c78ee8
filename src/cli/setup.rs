//! Turning arguments into a run: load the user's files, select hosts, build transports.
//!
//! Everything that can be wrong with the input is found here, before any host is
//! contacted, so bad input exits 2 with nothing touched anywhere.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use vmup::engine::booted::booted_kernels;
use vmup::engine::{Amount, FleetOptions, HostJob, Mode};
use vmup::inventory::{Host, HostPattern, Inventory};
use vmup::runbook::Runbook;
use vmup::transport::Transport;
use vmup::transport::connect::{ConnectOptions, Connector, DEFAULT_CONNECT_TIMEOUT_SECS};

use super::args::FleetArgs;
use super::error::CliError;

/// The loaded input of a plan or apply run.
pub struct Loaded {
    /// The inventory.
    pub inventory: Inventory,
    /// The runbook.
    pub runbook: Runbook,
    /// Names of the selected hosts, in inventory order.
    pub selected: Vec<String>,
    /// Parallelism and budget.
    pub options: FleetOptions,
}

/// Loads and checks the inventory, the runbook and the fleet options.
pub fn load(
    inventory: &Path,
    runbook: &Path,
    fleet: &FleetArgs,
    mode: Mode,
) -> Result<Loaded, CliError> {
    let inventory = Inventory::load(inventory).map_err(CliError::input)?;
    let runbook = Runbook::load(runbook).map_err(CliError::input)?;
    runbook.check_hosts(&inventory).map_err(CliError::input)?;
    let selected: Vec<String> = match &fleet.limit {
        Some(limit) => HostPattern::new(limit)
            .select(&inventory)
            .map_err(|e| CliError::input(format!("--limit: {e}")))?
            .into_iter()
            .map(|h| h.name.clone())
            .collect(),
        None => inventory.hosts.iter().map(|h| h.name.clone()).collect(),
    };
    if selected.is_empty() {
        return Err(CliError::input("no hosts selected").hint("check --limit and the inventory"));
    }
    let amount = |flag: &str, v: &Option<String>| -> Result<Option<Amount>, CliError> {
        v.as_deref()
            .map(Amount::parse)
            .transpose()
            .map_err(|e| CliError::input(format!("{flag}: {e}")))
    };
    let options = FleetOptions {
        mode,
        forks: fleet
            .forks
            .unwrap_or(vmup::engine::fleet::DEFAULT_FORKS)
            .max(1),
        serial: amount("--serial", &fleet.serial)?,
        max_fail: amount("--max-fail", &fleet.max_fail)?,
    };
    Ok(Loaded {
        inventory,
        runbook,
        selected,
        options,
    })
}

/// Builds the connector that makes one transport per host.
pub fn connector(fleet: &FleetArgs) -> Connector {
    Connector::new(ConnectOptions {
        ssh_config: fleet.ssh_config.clone(),
        connect_timeout: Duration::from_secs(fleet.connect_timeout.max(1)),
        command_timeout: fleet.command_timeout.map(Duration::from_secs),
    })
}

/// One transport per selected host, created up front (connections open lazily).
pub fn transports(
    loaded: &Loaded,
    connector: &Connector,
) -> Result<Vec<Box<dyn Transport>>, CliError> {
    loaded
        .selected
        .iter()
        .filter_map(|name| loaded.inventory.host(name))
        .map(|host| {
            connector
                .transport(&host.endpoint())
                .map_err(|e| CliError::input(e.to_string()))
        })
        .collect()
}

/// The jobs of the run: each selected host with the steps that apply to it.
pub fn jobs<'a>(
    loaded: &'a Loaded,
    transports: &'a [Box<dyn Transport>],
) -> Result<Vec<HostJob<'a>>, CliError> {
    let hosts: Vec<&Host> = loaded
        .selected
        .iter()
        .filter_map(|n| loaded.inventory.host(n))
        .collect();
    // Each step's pattern is resolved once, not once per host: O(steps x hosts).
    let mut per_step: Vec<std::collections::HashSet<&str>> =
        Vec::with_capacity(loaded.runbook.steps.len());
    for step in &loaded.runbook.steps {
        let chosen = step
            .hosts
            .select(&loaded.inventory)
            .map_err(CliError::input)?;
        per_step.push(chosen.into_iter().map(|h| h.name.as_str()).collect());
    }
    let mut jobs = Vec::with_capacity(hosts.len());
    for (host, transport) in hosts.into_iter().zip(transports) {
        let steps = loaded
            .runbook
            .steps
            .iter()
            .zip(&per_step)
            .filter(|(_, chosen)| chosen.contains(host.name.as_str()))
            .map(|(step, _)| step)
            .collect();
        jobs.push(HostJob {
            host,
            steps,
            transport: transport.as_ref(),
            booted: None,
        });
    }
    Ok(jobs)
}

/// Transports of hosts reached only to read their guests' domain configs, by name.
pub type ParentTransports = Vec<(String, Box<dyn Transport>)>;

/// Transports for the hosts of guests whose steps need the booted kernel, when those hosts
/// are not selected themselves: the domain configs are read there all the same.
pub fn parent_transports(
    loaded: &Loaded,
    jobs: &[HostJob<'_>],
    connector: &Connector,
) -> Result<ParentTransports, CliError> {
    let mut parents: Vec<&str> = jobs
        .iter()
        .filter(|j| j.steps.iter().any(|s| s.resource.needs_booted_kernel()))
        .filter_map(|j| j.host.parent.as_deref())
        .filter(|p| !loaded.selected.iter().any(|s| s == p))
        .collect();
    parents.sort_unstable();
    parents.dedup();
    parents
        .into_iter()
        .filter_map(|name| loaded.inventory.host(name))
        .map(|host| {
            connector
                .transport(&host.endpoint())
                .map(|t| (host.name.clone(), t))
                .map_err(|e| CliError::input(e.to_string()))
        })
        .collect()
}

/// Reads, on their hosts, the kernel each guest job that needs it is booted with, and
/// stores it in the job (the pre-phase of `engine::booted`).
pub fn attach_booted<'a>(
    jobs: &mut [HostJob<'a>],
    loaded: &'a Loaded,
    transports: &'a [Box<dyn Transport>],
    parents: &'a ParentTransports,
) {
    let guests: Vec<&Host> = jobs
        .iter()
        .filter(|j| j.steps.iter().any(|s| s.resource.needs_booted_kernel()))
        .map(|j| j.host)
        .collect();
    if guests.is_empty() {
        return;
    }
    let mut reach: BTreeMap<String, (&Host, &dyn Transport)> = BTreeMap::new();
    for (name, transport) in loaded.selected.iter().zip(transports) {
        if let Some(host) = loaded.inventory.host(name) {
            reach.insert(name.clone(), (host, transport.as_ref()));
        }
    }
    for (name, transport) in parents {
        if let Some(host) = loaded.inventory.host(name) {
            reach.insert(name.clone(), (host, transport.as_ref()));
        }
    }
    let mut found = booted_kernels(&guests, &reach);
    for job in jobs.iter_mut() {
        if let Some(booted) = found.remove(&job.host.name) {
            job.booted = Some(booted);
        }
    }
}

/// A connector for commands without fleet options (`facts`, `kernels`, `conflicts`).
pub fn simple_connector(ssh_config: Option<std::path::PathBuf>) -> Connector {
    Connector::new(ConnectOptions {
        ssh_config,
        connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
        command_timeout: None,
    })
}

/// The hosts `--limit` selects (all without it), in inventory order.
pub fn select<'a>(
    inventory: &'a Inventory,
    limit: Option<&str>,
) -> Result<Vec<&'a Host>, CliError> {
    let hosts: Vec<&Host> = match limit {
        Some(limit) => HostPattern::new(limit)
            .select(inventory)
            .map_err(|e| CliError::input(format!("--limit: {e}")))?,
        None => inventory.hosts.iter().collect(),
    };
    if hosts.is_empty() {
        return Err(CliError::input("no hosts selected").hint("check --limit and the inventory"));
    }
    Ok(hosts)
}

/// One transport per named host, created up front.
pub fn transports_for(
    hosts: &[&Host],
    connector: &Connector,
) -> Result<BTreeMap<String, Box<dyn Transport>>, CliError> {
    hosts
        .iter()
        .map(|h| {
            connector
                .transport(&h.endpoint())
                .map(|t| (h.name.clone(), t))
                .map_err(|e| CliError::input(e.to_string()))
        })
        .collect()
}
