//! `vmup plan` and `vmup apply`: run the runbook over the selected hosts.

use vmup::engine::lifecycle::{self, RecreateStepWork};
use vmup::engine::reboot::RebootWork;
use vmup::engine::{
    FleetOptions, HostReport, Mode, RunbookWork, Selection, Status, Summary, prepare,
};
use vmup::inventory::Inventory;
use vmup::resource::Need;
use vmup::runbook::Runbook;
use vmup::runbook::lifecycle::Action;
use vmup::transport::connect::Connector;

use super::args::RunArgs;
use super::error::CliError;
use super::exit::Exit;
use super::recording::Recording;
use super::safe::safe;
use super::{fleet, human, setup};

/// Runs plan or apply and returns the exit code.
pub fn run(args: RunArgs, mode: Mode) -> Result<Exit, CliError> {
    let inventory = setup::inventory(&args.run.inventory, args.run.fleet.become_root)?;
    let runbook = setup::runbook(&args.run.runbook)?;
    let earlier = if mode == Mode::Apply {
        read_retry_file(&args.retry_file)?
    } else {
        Vec::new()
    };
    let options = fleet::options(&args.run.fleet)?;
    let connector = fleet::connector(&args.run.fleet);
    let selection = Selection {
        limit: args.run.fleet.limit.as_deref(),
        extra_vars: &args.run.extra_vars,
        ..Selection::default()
    };
    let jobs = prepare(&inventory, Some(&runbook), &selection, &connector)?;
    // Recorded from here on: the input is valid and hosts are about to be touched.
    let mut history = match mode {
        Mode::Apply => Recording::start(
            &args.history,
            label(mode),
            Some(&args.run.runbook),
            Some(&args.run.inventory),
        ),
        Mode::Plan => Recording::none(),
    };
    let (mut reports, mut summary) = fleet::run(
        label(mode),
        &jobs,
        &RunbookWork { mode },
        &options,
        args.run.json,
        &|reports, summary| human::render(mode, reports, summary),
    );
    drop(jobs);
    history.hosts(label(mode), &reports);
    if mode == Mode::Plan && !args.run.json {
        for promise in lifecycle::promises(&runbook) {
            println!("{}", safe(&promise));
        }
    }
    if mode == Mode::Apply && !runbook.lifecycle.is_empty() {
        let more = run_lifecycle(
            &args,
            &inventory,
            &runbook,
            &connector,
            &options,
            &reports,
            &mut history,
        );
        let more = match more {
            Ok(more) => more,
            Err(e) => {
                history.finish(e.exit_code());
                return Err(e);
            }
        };
        reports.extend(more);
        // For the exit code: a machine counts once per phase it went through.
        summary = Summary::of(
            &reports,
            summary.elapsed,
            fleet::cancel_flag().load(std::sync::atomic::Ordering::SeqCst),
        );
    }
    if mode == Mode::Apply {
        write_retry_file(&args.retry_file, &earlier, &reports, args.run.json);
    }
    let pending = match mode {
        Mode::Plan => Exit::ChangesPending,
        Mode::Apply => Exit::Success,
    };
    let exit = fleet::exit_code(&reports, &summary, pending);
    history.finish(exit);
    Ok(exit)
}

/// The runbook's `recreate` and `reboot` steps after the apply, in order, each over the
/// machines whose apply converged (see `engine::lifecycle`): their reports, one more per
/// machine acted on or left out, each step's recorded in `history` as it ends.
fn run_lifecycle(
    args: &RunArgs,
    inventory: &Inventory,
    runbook: &Runbook,
    connector: &Connector,
    options: &FleetOptions,
    applied: &[HostReport],
    history: &mut Recording,
) -> Result<Vec<HostReport>, CliError> {
    let mut out = Vec::new();
    for step in &runbook.lifecycle {
        if fleet::cancel_flag().load(std::sync::atomic::Ordering::SeqCst) {
            break;
        }
        let (chosen, left) = lifecycle::candidates(inventory, step, applied);
        let verb = step.lifecycle.action.word();
        let mut left_out = Vec::new();
        for (name, why) in &left {
            if !args.run.json {
                eprintln!("{}: {name}: {why}", step.label());
            }
            left_out.push(HostReport::skipped(name, why));
        }
        history.hosts(&step.label(), &left_out);
        out.extend(left_out);
        if chosen.is_empty() {
            if !args.run.json {
                eprintln!("{}: no machine to {verb}", step.label());
            }
            continue;
        }
        let pattern = chosen.join(",");
        let needs = [Need::BootedKernel, Need::RamdiskDrivers];
        let selection = Selection {
            limit: Some(&pattern),
            guests_only: step.lifecycle.action == Action::Recreate,
            needs: if step.lifecycle.action == Action::Recreate {
                &needs
            } else {
                &[]
            },
            extra_vars: &args.run.extra_vars,
        };
        let mut jobs = prepare(inventory, Some(runbook), &selection, connector)?;
        let wanted: std::collections::HashSet<&str> = chosen.iter().map(String::as_str).collect();
        jobs.retain(|j| wanted.contains(j.host.name.as_str()));
        let step_options = FleetOptions {
            serial: Some(step.lifecycle.serial),
            ..options.clone()
        };
        let label = format!("{} ({verb})", step.label());
        let (reports, _) = match step.lifecycle.action {
            Action::Recreate => fleet::run(
                &label,
                &jobs,
                &RecreateStepWork {
                    connector,
                    options: lifecycle::options_of(step),
                    when: step.lifecycle.when,
                },
                &step_options,
                args.run.json,
                &|reports, _| super::recreate::render(reports),
            ),
            Action::Reboot => fleet::run(
                &label,
                &jobs,
                &RebootWork {
                    inventory,
                    connector,
                    options: lifecycle::options_of(step),
                },
                &step_options,
                args.run.json,
                &|reports, _| super::reboot::render(reports),
            ),
        };
        history.hosts(&step.label(), &reports);
        out.extend(reports);
    }
    Ok(out)
}

/// The command's name in progress and events.
pub fn label(mode: Mode) -> &'static str {
    match mode {
        Mode::Plan => "plan",
        Mode::Apply => "apply",
    }
}

const RETRY_HEADER: &str =
    "# vmup retry file: hosts that failed, were unreachable, were skipped or held back\n";

/// The hosts an earlier apply left to retry. A file there that is not a vmup retry file is
/// never overwritten: the run is refused before any host is touched.
fn read_retry_file(path: &std::path::Path) -> Result<Vec<String>, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.starts_with("# vmup retry file") => Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()),
        Ok(_) => Err(CliError::input(format!(
            "--retry-file {} exists and is not a vmup retry file; nothing was run",
            path.display()
        ))
        .hint("move it away or give another --retry-file")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(CliError::input(format!(
            "cannot read --retry-file {}: {e}",
            path.display()
        ))),
    }
}

/// Lists the hosts to retry (`--limit @FILE`): those of this run that did not converge,
/// and those an earlier run listed that this one did not touch (a run on a subset never
/// forgets the rest). Removes the file when nothing is left.
fn write_retry_file(
    path: &std::path::Path,
    earlier: &[String],
    reports: &[HostReport],
    quiet: bool,
) {
    let ran: std::collections::HashSet<&str> = reports.iter().map(|r| r.host.as_str()).collect();
    let mut retry: Vec<&str> = earlier
        .iter()
        .map(String::as_str)
        .filter(|h| !ran.contains(h))
        .collect();
    retry.extend(
        reports
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    Status::Failed | Status::Unreachable | Status::Skipped | Status::Held
                )
            })
            .map(|r| r.host.as_str()),
    );
    let mut seen = std::collections::HashSet::new();
    retry.retain(|h| seen.insert(*h));
    if retry.is_empty() {
        let ours = std::fs::read_to_string(path).is_ok_and(|t| t.starts_with("# vmup retry file"));
        if ours {
            let _ = std::fs::remove_file(path);
        }
        return;
    }
    // Written whole and renamed, so an interrupted write never leaves half a list.
    let text = format!("{RETRY_HEADER}{}\n", retry.join("\n"));
    let temp = path.with_extension("vmup-new");
    let written = std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, path));
    match written {
        Ok(()) if !quiet => eprintln!(
            "retry the {} host(s) that did not converge with: --limit @{}",
            retry.len(),
            path.display()
        ),
        Ok(()) => {}
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            eprintln!("warning: cannot write retry file {}: {e}", path.display())
        }
    }
}
