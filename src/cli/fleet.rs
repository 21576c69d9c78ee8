//! What every fleet command shares: options, the connector, signal handling, the choice of
//! reporter (progress and a human report, or JSON lines) and the exit code.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use vmup::engine::{
    Amount, FleetOptions, HostReport, HostWork, Job, Selection, Summary, prepare, run_fleet,
};
use vmup::inventory::Inventory;
use vmup::resource::Need;
use vmup::transport::connect::{ConnectOptions, Connector};

use super::args::FleetArgs;
use super::error::CliError;
use super::exit::Exit;
use super::safe::safe;
use super::{json, progress};

/// Parallelism and the failure budget from the arguments.
pub fn options(fleet: &FleetArgs) -> Result<FleetOptions, CliError> {
    let amount = |flag: &str, v: &Option<String>| -> Result<Option<Amount>, CliError> {
        v.as_deref()
            .map(Amount::parse)
            .transpose()
            .map_err(|e| CliError::input(format!("{flag}: {e}")))
    };
    if fleet.forks == Some(0) {
        return Err(CliError::input("--forks 0 would run no host").hint("give 1 or more"));
    }
    let serial = amount("--serial", &fleet.serial)?;
    if matches!(serial, Some(Amount::Count(0) | Amount::Percent(0))) {
        return Err(CliError::input("--serial 0 makes batches of no host")
            .hint("give 1 or more, or a percentage above 0%"));
    }
    Ok(FleetOptions {
        forks: fleet.forks.unwrap_or(vmup::engine::fleet::DEFAULT_FORKS),
        serial,
        max_fail: amount("--max-fail", &fleet.max_fail)?,
        shard: fleet.shard,
    })
}

/// The guests `fleet` selects, with what `needs` asks read on their hosts first: where
/// `kernels`, `doctor` and `recreate` start.
pub fn guest_jobs<'a>(
    inventory: &'a Inventory,
    fleet: &FleetArgs,
    connector: &Connector,
    needs: &[Need],
) -> Result<Vec<Job<'a>>, CliError> {
    let selection = Selection {
        limit: fleet.limit.as_deref(),
        shard: fleet.shard,
        guests_only: true,
        needs,
        ..Selection::default()
    };
    Ok(prepare(inventory, None, &selection, connector)?)
}

/// The connector that makes one transport per host.
pub fn connector(fleet: &FleetArgs) -> Connector {
    Connector::new(ConnectOptions {
        ssh_config: fleet.ssh_config.clone(),
        connect_timeout: Duration::from_secs(fleet.connect_timeout.max(1)),
        command_timeout: fleet.command_timeout.map(Duration::from_secs),
    })
}

/// Runs `work` over `jobs` with the reporter `json` asks for; the human report is
/// `render(reports, summary)`, printed after the progress lines.
pub fn run(
    label: &str,
    jobs: &[Job<'_>],
    work: &dyn HostWork,
    options: &FleetOptions,
    json: bool,
    render: &dyn Fn(&[HostReport], &Summary) -> String,
) -> (Vec<HostReport>, Summary) {
    let cancel = cancel_flag();
    if json {
        let sink = json::JsonLines::stdout(label, options.shard);
        run_fleet(label, jobs, work, options, &sink, &cancel)
    } else {
        let sink = progress::Progress::for_stderr(label, jobs.len());
        let result = run_fleet(label, jobs, work, options, &sink, &cancel);
        sink.finish();
        let report = render(&result.0, &result.1);
        let report = safe(&report);
        if super::colour::stdout() {
            print!("{}", super::colour::paint(&report));
        } else {
            print!("{report}");
        }
        result
    }
}

/// Ctrl-C and SIGTERM set the flag: no new host starts and no planned host applies; a
/// second signal exits at once. Installed once per process, first thing in `main`, so a
/// signal that arrives while the inventory is read is not lost either.
pub fn cancel_flag() -> Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    Arc::clone(FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // The conditional shutdown must be registered first so it sees the flag unset.
            let _ =
                signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag));
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
        flag
    }))
}

/// The documented exit code of a run: failures (and `check`'s Not OK hosts) first, then
/// unreachable hosts, then an interruption, then hosts left out, then changes held back for
/// safety; `pending` is what hosts with changes mean (`plan`: changes pending).
pub fn exit_code(summary: &Summary, pending: Exit) -> Exit {
    if summary.failed > 0 || summary.not_ok > 0 {
        Exit::HostFailed
    } else if summary.unreachable > 0 {
        Exit::Unreachable
    } else if summary.interrupted {
        Exit::Interrupted
    } else if summary.skipped > 0 {
        Exit::HostFailed
    } else if summary.held > 0 {
        Exit::HeldBack
    } else if summary.changed > 0 {
        pending
    } else {
        Exit::Success
    }
}
