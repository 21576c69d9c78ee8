//! Turning the user's files and a selection into jobs: which hosts run, which steps run on
//! each (a step's own host, or a guest's host for steps placed there), a transport per
//! machine, and the booted-kernel pre-phase for the guests whose steps need it.
//!
//! Every fleet command starts here, so selection, `--limit`, parent hosts and the booted
//! kernel work the same in `plan`, `apply`, `kernels`, `conflicts` and the demo. Bad input
//! is found before any host is contacted; the pre-phase is the only remote I/O.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::facts::booted::BootedKernel;
use crate::inventory::{Host, HostPattern, Inventory};
use crate::resource::{GuestRef, Need, Placement, Scope};
use crate::runbook::context::{Vars, host_vars};
use crate::runbook::{Runbook, Step};
use crate::transport::Transport;
use crate::transport::connect::Connector;

use super::booted::booted_kernels;
use super::error::EngineError;

/// A step as one machine runs it.
#[derive(Debug, Clone)]
pub struct JobStep<'a> {
    /// The runbook step.
    pub step: &'a Step,
    /// Which guest it is about, when it runs on that guest's host.
    pub scope: Scope,
}

/// One machine's work in a run.
pub struct Job<'a> {
    /// The machine.
    pub host: &'a Host,
    /// Steps that run on it, in runbook order.
    pub steps: Vec<JobStep<'a>>,
    /// How to reach it.
    pub transport: Arc<dyn Transport>,
    /// For a guest whose steps need it: the kernel its host boots it with (read on the
    /// parent host before the run), or why it is unknown.
    pub booted: Option<Result<BootedKernel, String>>,
    /// The machine's variables for templates, merged from every level.
    pub vars: Vars,
    /// For a guest whose booted kernel was read: its host and that host's transport,
    /// through which `vmup recreate` stops and starts the domain and a boot test runs.
    pub parent: Option<(&'a Host, Arc<dyn Transport>)>,
}

impl Job<'_> {
    /// True when something this job runs needs `need`.
    pub fn needs(&self, need: Need) -> bool {
        self.steps.iter().any(|s| s.step.needs.contains(&need))
    }
}

/// Which machines a command works on.
#[derive(Debug, Clone, Default)]
pub struct Selection<'a> {
    /// `--limit`: a host pattern; None selects the whole inventory.
    pub limit: Option<&'a str>,
    /// Only guests (hosts with a `host` in the inventory): `vmup kernels`.
    pub guests_only: bool,
    /// What every selected machine needs, whatever its steps: `vmup kernels` needs the
    /// booted kernel of each guest.
    pub needs: &'a [Need],
    /// `-e name=value`: variables that override every other level.
    pub extra_vars: &'a [(String, String)],
    /// `--shard K/N`: only the selected machines in this shard (an empty shard is no error:
    /// a job array's task may have nothing to do).
    pub shard: Option<super::shard::Shard>,
}

/// Builds the jobs of a run: the selected machines in inventory order, each with the steps
/// that run there, transports connected lazily, booted kernels read where needed.
pub fn prepare<'a>(
    inventory: &'a Inventory,
    runbook: Option<&'a Runbook>,
    selection: &Selection<'_>,
    connector: &Connector,
) -> Result<Vec<Job<'a>>, EngineError> {
    if let Some(runbook) = runbook {
        runbook.check_hosts(inventory)?;
    }
    let selected = select(inventory, selection)?;
    let chosen = step_hosts(inventory, runbook)?;
    let selected_names: HashSet<&str> = selected.iter().map(|h| h.name.as_str()).collect();

    // Steps per machine: a step placed on the parent runs in the parent's job.
    let mut steps: BTreeMap<&str, Vec<JobStep<'a>>> = BTreeMap::new();
    for host in &selected {
        steps.entry(host.name.as_str()).or_default();
    }
    for (step, hosts) in runbook
        .map_or(&[][..], |r| &r.steps[..])
        .iter()
        .zip(&chosen)
    {
        for host in selected.iter().filter(|h| hosts.contains(h.name.as_str())) {
            match step.placement {
                Placement::Target => steps.entry(host.name.as_str()).or_default().push(JobStep {
                    step,
                    scope: Scope::default(),
                }),
                Placement::Parent => {
                    let parent = host
                        .parent
                        .as_deref()
                        .ok_or_else(|| EngineError::NotAGuest {
                            step: step.label(),
                            host: host.name.clone(),
                        })?;
                    steps.entry(parent).or_default().push(JobStep {
                        step,
                        scope: Scope {
                            guest: Some(GuestRef {
                                name: host.name.clone(),
                                domain: host.domain.clone(),
                                domain_config: host.domain_config.clone(),
                            }),
                        },
                    });
                }
            }
        }
    }
    // Parent-placed steps keep runbook order within the parent's job.
    for list in steps.values_mut() {
        list.sort_by_key(|s| s.step.number);
    }

    let mut jobs = Vec::with_capacity(steps.len());
    for host in &inventory.hosts {
        if let Some(list) = steps.remove(host.name.as_str()) {
            let vars = match runbook {
                Some(rb) => {
                    let vars =
                        host_vars(&rb.vars, rb.values(), inventory, host, selection.extra_vars)
                            .map_err(EngineError::Vars)?;
                    // An undefined name stops the run before any host is contacted.
                    for s in &list {
                        rb.check_names(&host.name, &vars, s.step)?;
                    }
                    vars
                }
                // No runbook (`vmup doctor`, `kernels`): the inventory's and the command
                // line's variables still apply (doctor's `block_driver`, `net_driver`).
                None => host_vars(
                    &Vars::new(),
                    &BTreeMap::new(),
                    inventory,
                    host,
                    selection.extra_vars,
                )
                .map_err(EngineError::Vars)?,
            };
            jobs.push(Job {
                host,
                steps: list,
                transport: connect(connector, host)?,
                booted: None,
                parent: None,
                vars,
            });
        }
    }
    attach_booted(
        inventory,
        &mut jobs,
        selection.needs,
        connector,
        &selected_names,
    )?;
    Ok(jobs)
}

/// The machines `selection` names, in inventory order.
fn select<'a>(
    inventory: &'a Inventory,
    selection: &Selection<'_>,
) -> Result<Vec<&'a Host>, EngineError> {
    let hosts: Vec<&Host> = match selection.limit {
        Some(limit) => HostPattern::new(limit)
            .select(inventory)
            .map_err(EngineError::Limit)?,
        None => inventory.hosts.iter().collect(),
    };
    if hosts.is_empty() {
        return Err(EngineError::NoHosts);
    }
    let hosts: Vec<&Host> = match selection.shard {
        Some(shard) => hosts.into_iter().filter(|h| shard.holds(h)).collect(),
        None => hosts,
    };
    if !selection.guests_only {
        return Ok(hosts);
    }
    let guests: Vec<&Host> = hosts.into_iter().filter(|h| h.parent.is_some()).collect();
    if guests.is_empty() && selection.shard.is_none() {
        return Err(EngineError::NoGuests);
    }
    Ok(guests)
}

/// Each step's host pattern resolved once, not once per host: O(steps + hosts).
fn step_hosts<'a>(
    inventory: &'a Inventory,
    runbook: Option<&Runbook>,
) -> Result<Vec<HashSet<&'a str>>, EngineError> {
    let Some(runbook) = runbook else {
        return Ok(Vec::new());
    };
    runbook
        .steps
        .iter()
        .map(|step| {
            step.hosts
                .select(inventory)
                .map(|hosts| hosts.into_iter().map(|h| h.name.as_str()).collect())
                .map_err(EngineError::Limit)
        })
        .collect()
}

/// The transport for one machine; network transports connect on first use.
fn connect(connector: &Connector, host: &Host) -> Result<Arc<dyn Transport>, EngineError> {
    Ok(Arc::from(connector.transport(&host.endpoint())?))
}

/// Reads, on their hosts, the kernel each guest job that needs it is booted with. A parent
/// that has no job of its own still gets a transport for this.
fn attach_booted<'a>(
    inventory: &'a Inventory,
    jobs: &mut [Job<'a>],
    needs: &[Need],
    connector: &Connector,
    selected: &HashSet<&str>,
) -> Result<(), EngineError> {
    let everyone = needs.contains(&Need::BootedKernel);
    let wanted: Vec<usize> = (0..jobs.len())
        .filter(|&i| {
            selected.contains(jobs[i].host.name.as_str())
                && (everyone || jobs[i].needs(Need::BootedKernel))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let mut reach: BTreeMap<String, (&Host, Arc<dyn Transport>)> = jobs
        .iter()
        .map(|j| (j.host.name.clone(), (j.host, Arc::clone(&j.transport))))
        .collect();
    for i in &wanted {
        if let Some(parent) = jobs[*i].host.parent.as_deref()
            && !reach.contains_key(parent)
            && let Some(host) = inventory.host(parent)
        {
            reach.insert(parent.to_string(), (host, connect(connector, host)?));
        }
    }
    let parents: BTreeMap<String, (&Host, &dyn Transport)> = reach
        .iter()
        .map(|(name, (host, t))| (name.clone(), (*host, t.as_ref())))
        .collect();
    let guests: Vec<&Host> = wanted.iter().map(|&i| jobs[i].host).collect();
    let mut found = booted_kernels(&guests, &parents, needs.contains(&Need::RamdiskDrivers));
    for i in wanted {
        jobs[i].booted = found.remove(&jobs[i].host.name);
        jobs[i].parent = jobs[i]
            .host
            .parent
            .as_deref()
            .and_then(|p| reach.get(p))
            .map(|(h, t)| (*h, Arc::clone(t)));
    }
    Ok(())
}
