//! `vmup plan` and `vmup apply`: run the runbook over the selected hosts.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use vmup::engine::{HostReport, Mode, Status, Summary, run_fleet};

use super::args::RunArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{human, json, progress, setup};

/// Runs plan or apply and returns the exit code.
pub fn run(args: RunArgs, mode: Mode) -> Result<Exit, CliError> {
    let loaded = setup::load(&args.inventory, &args.runbook, &args.fleet, mode)?;
    let connector = setup::connector(&args.fleet);
    let transports = setup::transports(&loaded, &connector)?;
    let mut jobs = setup::jobs(&loaded, &transports)?;
    let parents = setup::parent_transports(&loaded, &jobs, &connector)?;
    setup::attach_booted(&mut jobs, &loaded, &transports, &parents);
    let cancel = install_signal_handlers();
    let (reports, summary) = if args.json {
        let sink = json::JsonLines::stdout();
        run_fleet(&jobs, &loaded.options, &sink, &cancel)
    } else {
        let sink = progress::Progress::for_stderr(mode, jobs.len());
        let result = run_fleet(&jobs, &loaded.options, &sink, &cancel);
        sink.finish();
        print!("{}", human::render(mode, &result.0, &result.1));
        result
    };
    if mode == Mode::Apply {
        write_retry_file(&args.fleet.retry_file, &reports, args.json);
    }
    Ok(exit_code(mode, &reports, &summary))
}

/// Ctrl-C and SIGTERM set the flag: no new host starts and no planned host applies; a
/// second signal exits at once.
fn install_signal_handlers() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // The conditional shutdown must be registered first so it sees the flag unset.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag));
        let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
    }
    flag
}

fn exit_code(mode: Mode, reports: &[HostReport], summary: &Summary) -> Exit {
    if summary.failed > 0 || summary.unreachable > 0 {
        Exit::HostFailed
    } else if summary.interrupted {
        Exit::Interrupted
    } else if summary.skipped > 0 {
        Exit::HostFailed
    } else if mode == Mode::Plan && reports.iter().any(|r| r.status == Status::Changed) {
        Exit::ChangesPending
    } else {
        Exit::Success
    }
}

const RETRY_HEADER: &str =
    "# vmup retry file: hosts that failed, were unreachable or were skipped\n";

/// Lists the hosts to retry (`--limit @FILE`), or removes an old list when all went well.
fn write_retry_file(path: &std::path::Path, reports: &[HostReport], quiet: bool) {
    let retry: Vec<&str> = reports
        .iter()
        .filter(|r| {
            matches!(
                r.status,
                Status::Failed | Status::Unreachable | Status::Skipped
            )
        })
        .map(|r| r.host.as_str())
        .collect();
    if retry.is_empty() {
        let ours = std::fs::read_to_string(path).is_ok_and(|t| t.starts_with(RETRY_HEADER));
        if ours {
            let _ = std::fs::remove_file(path);
        }
        return;
    }
    let text = format!("{RETRY_HEADER}{}\n", retry.join("\n"));
    match std::fs::write(path, text) {
        Ok(()) if !quiet => eprintln!(
            "retry the {} host(s) that did not converge with: --limit @{}",
            retry.len(),
            path.display()
        ),
        Ok(()) => {}
        Err(e) => eprintln!("warning: cannot write retry file {}: {e}", path.display()),
    }
}
