//! `vmup plan` and `vmup apply`: run the runbook over the selected hosts.

use vmup::engine::{HostReport, Mode, RunbookWork, Selection, Status, prepare};

use super::args::RunArgs;
use super::error::CliError;
use super::exit::Exit;
use super::{fleet, human, setup};

/// Runs plan or apply and returns the exit code.
pub fn run(args: RunArgs, mode: Mode) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.inventory)?;
    let runbook = setup::runbook(&args.runbook)?;
    let options = fleet::options(&args.fleet)?;
    let connector = fleet::connector(&args.fleet);
    let selection = Selection {
        limit: args.fleet.limit.as_deref(),
        ..Selection::default()
    };
    let jobs = prepare(&inventory, Some(&runbook), &selection, &connector)?;
    let (reports, summary) = fleet::run(
        label(mode),
        &jobs,
        &RunbookWork { mode },
        &options,
        args.json,
        &|reports, summary| human::render(mode, reports, summary),
    );
    if mode == Mode::Apply {
        write_retry_file(&args.retry_file, &reports, args.json);
    }
    let pending = match mode {
        Mode::Plan => Exit::ChangesPending,
        Mode::Apply => Exit::Success,
    };
    Ok(fleet::exit_code(&reports, &summary, pending))
}

/// The command's name in progress and events.
pub fn label(mode: Mode) -> &'static str {
    match mode {
        Mode::Plan => "plan",
        Mode::Apply => "apply",
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
