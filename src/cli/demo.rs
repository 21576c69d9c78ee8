//! `vmup demo`: a throwaway local fleet shaped like the seed's machines, planned, applied
//! and planned again, so a newcomer sees the whole cycle end in "converged".

use std::time::Duration;

use vmup::engine::kernel_check::KernelCheck;
use vmup::engine::{FleetOptions, Mode, RunbookWork, Selection, Status, prepare};
use vmup::resource::Need;
use vmup::transport::connect::{ConnectOptions, Connector, DEFAULT_CONNECT_TIMEOUT_SECS};

use super::args::DemoArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, human, kernels, run, setup};

/// The demo's trees are local: no ssh_config, default timeouts.
fn connector() -> Connector {
    Connector::new(ConnectOptions {
        ssh_config: None,
        connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
        command_timeout: None,
    })
}

/// Builds the demo fleet and runs plan, apply, plan.
pub fn run(args: DemoArgs) -> Result<Exit, CliError> {
    let temp;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("vmup-demo-")
                .tempdir()
                .map_err(|e| {
                    CliError::failed(format!("cannot create a temporary directory: {e}"))
                })?;
            temp.path().to_path_buf()
        }
    };
    let (inventory_path, runbook_path) = vmup::demo::build(&dir).map_err(|e| {
        CliError::failed(format!(
            "cannot build the demo fleet in {}: {e}",
            dir.display()
        ))
    })?;
    println!(
        "vmup demo: one Xen host and three CentOS 4 guests as directory trees in {}",
        dir.display()
    );
    println!("runbook: the seed's file-level steps (examples/runbook.toml)\n");
    let mut last = Vec::new();
    for (title, mode) in [
        ("1. vmup plan: what would change", Mode::Plan),
        ("2. vmup apply: change, then verify", Mode::Apply),
        ("3. vmup plan again: nothing left to do", Mode::Plan),
    ] {
        println!("### {title}\n");
        let inventory = setup::inventory(&inventory_path, false)?;
        let runbook = setup::runbook(&runbook_path)?;
        let connector = Connector::new(ConnectOptions {
            ssh_config: None,
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            command_timeout: None,
        });
        let jobs = prepare(
            &inventory,
            Some(&runbook),
            &Selection::default(),
            &connector,
        )?;
        let (reports, _) = fleet::run(
            run::label(mode),
            &jobs,
            &RunbookWork { mode },
            &FleetOptions::default(),
            false,
            &|reports, summary| format!("{}\n", human::render(mode, reports, summary)),
        );
        last = reports;
    }
    let converged = last.iter().all(|r| r.status == Status::Ok);
    // Converged files are not the end: will each guest boot the kernel its host names,
    // with its modules there?
    println!("### 4. vmup kernels: will every guest boot the kernel its host names?\n");
    let inventory = setup::inventory(&inventory_path, false)?;
    let jobs = prepare(
        &inventory,
        None,
        &Selection {
            guests_only: true,
            needs: &[Need::BootedKernel],
            ..Selection::default()
        },
        &connector(),
    )?;
    let (checked, _) = fleet::run(
        "kernels",
        &jobs,
        &KernelCheck,
        &FleetOptions::default(),
        false,
        &|reports, _| reports.iter().map(kernels::render).collect(),
    );
    let boots = checked.iter().all(|r| r.status == Status::Ok);
    if args.dir.is_some() {
        println!("the demo fleet is kept in {}", dir.display());
    }
    match (converged, boots) {
        (true, true) => {
            println!(
                "every host converged: a second run changes nothing, and every guest will boot its host's kernel with its modules."
            );
            Ok(Exit::Success)
        }
        (false, _) => Err(CliError::failed("the demo fleet did not converge")),
        (true, false) => Err(CliError::failed(
            "the demo fleet's files converged, but a guest would not boot: see step 4",
        )),
    }
}
