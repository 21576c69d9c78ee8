//! `vmup plan` and `vmup apply`: run the runbook over the selected hosts.

use std::io::IsTerminal;
use vmup::engine::lifecycle::{self, RecreateStepWork};
use vmup::engine::reboot::RebootWork;

use vmup::engine::saved_plan::ReviewedApply;
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
use super::plan_file::{Inputs, PlanFile};
use super::recording::Recording;
use super::safe::safe;
use super::{fleet, human, setup};

/// Runs plan or apply and returns the exit code.
pub fn run(args: RunArgs, mode: Mode) -> Result<Exit, CliError> {
    check_flags(&args, mode)?;
    let inventory = setup::inventory(&args.run.inventory, args.run.fleet.become_root)?;
    let runbook = setup::runbook(&args.run.runbook)?;
    let inputs = || Inputs::of(&args.run.runbook, &args.run.inventory, &args.run.extra_vars);
    // A saved plan made from other inputs is refused before any host is contacted.
    let saved = match &args.plan {
        Some(path) => Some((path, PlanFile::load(path, &inputs()?)?)),
        None => None,
    };
    let earlier = if mode == Mode::Apply {
        read_retry_file(&args.retry_file)?
    } else {
        Vec::new()
    };
    let options = fleet::options(&args.run.fleet)?;
    let connector = fleet::connector(&args.run.fleet);
    let selection = Selection {
        limit: args.run.fleet.limit.as_deref(),
        shard: args.run.fleet.shard,
        extra_vars: &args.run.extra_vars,
        ..Selection::default()
    };
    let mut jobs = prepare(&inventory, Some(&runbook), &selection, &connector)?;
    let interactive = mode == Mode::Apply
        && saved.is_none()
        && !args.yes
        && !args.run.json
        && std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal();
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
    let (mut reports, mut summary) = if let Some((path, plan)) = saved {
        jobs.retain(|j| plan.hosts.contains_key(&j.host.name));
        if jobs.is_empty() {
            return Err(CliError::input(format!(
                "no host of the plan in {} is selected",
                path.display()
            )));
        }
        let work = ReviewedApply {
            saved: plan
                .hosts
                .into_iter()
                .map(|(host, saved)| (host, saved.fingerprint))
                .collect(),
            source: format!("the plan in {}", path.display()),
        };
        let done = fleet::run("apply", &jobs, &work, &options, args.run.json, &|r, s| {
            human::render(Mode::Apply, r, s)
        });
        drop(jobs);
        done
    } else if interactive {
        match confirmed_apply(jobs, &options, args.confirm_above) {
            Some(done) => done,
            None => {
                history.finish(Exit::ChangesPending);
                return Ok(Exit::ChangesPending);
            }
        }
    } else {
        let done = fleet::run(
            label(mode),
            &jobs,
            &RunbookWork { mode },
            &options,
            args.run.json,
            &|reports, summary| human::render(mode, reports, summary),
        );
        drop(jobs);
        done
    };
    history.hosts(label(mode), &reports);
    if mode == Mode::Plan && !args.run.json {
        for promise in lifecycle::promises(&runbook) {
            println!("{}", safe(&promise));
        }
    }
    if let Some(out) = &args.out {
        PlanFile::from_reports(inputs()?, &reports).save(out)?;
        if !args.run.json {
            eprintln!(
                "plan saved in {}: apply exactly it with vmup apply --plan {}",
                out.display(),
                out.display()
            );
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
    let exit = fleet::exit_code(&summary, pending);
    history.finish(exit);
    Ok(exit)
}

/// `--out` belongs to `plan`, `--plan`, `--yes` and `--confirm-above` to `apply`.
fn check_flags(args: &RunArgs, mode: Mode) -> Result<(), CliError> {
    let wrong = match mode {
        Mode::Plan if args.plan.is_some() => Some("--plan FILE is for apply"),
        Mode::Plan if args.yes => Some("--yes is for apply"),
        Mode::Apply if args.out.is_some() => Some("--out FILE is for plan"),
        _ => None,
    };
    match wrong {
        Some(why) => {
            Err(CliError::input(why).hint("vmup plan --out FILE, then vmup apply --plan FILE"))
        }
        None => Ok(()),
    }
}

/// An apply at a terminal: every host planned and the plan shown, then, when more than
/// `above` hosts would change, a question; a yes applies exactly the plan shown (each host
/// against its fingerprint, over the connections already open). `None`: not confirmed,
/// nothing changed.
fn confirmed_apply(
    jobs: Vec<vmup::engine::Job<'_>>,
    options: &FleetOptions,
    above: usize,
) -> Option<(Vec<HostReport>, Summary)> {
    let (planned, planned_summary) = fleet::run(
        "plan",
        &jobs,
        &RunbookWork { mode: Mode::Plan },
        options,
        false,
        &|r, s| human::render(Mode::Plan, r, s),
    );
    let changing: std::collections::BTreeMap<&str, &HostReport> = planned
        .iter()
        .filter(|r| matches!(r.status, Status::Changed | Status::Held) && r.fingerprint.is_some())
        .map(|r| (r.host.as_str(), r))
        .collect();
    if changing.is_empty() || fleet::cancel_flag().load(std::sync::atomic::Ordering::SeqCst) {
        return Some((planned.clone(), planned_summary));
    }
    if changing.len() > above {
        let changes: usize = changing.values().map(|r| r.changes.len()).sum();
        eprint!(
            "\nApply {changes} change(s) on {} host(s) as planned above? Only \"yes\" applies: ",
            changing.len()
        );
        let mut answer = String::new();
        let said_yes = std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == "yes";
        if !said_yes {
            eprintln!("apply cancelled: nothing was changed");
            return None;
        }
    }
    let saved = changing
        .iter()
        .filter_map(|(h, r)| Some((h.to_string(), r.fingerprint.clone()?)))
        .collect();
    let (to_apply, _rest): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|j| changing.contains_key(j.host.name.as_str()));
    let work = ReviewedApply {
        saved,
        source: "the plan shown".to_string(),
    };
    let (applied, applied_summary) =
        fleet::run("apply", &to_apply, &work, options, false, &|r, s| {
            human::render(Mode::Apply, r, s)
        });
    // Every host once: as applied, or as it was planned (nothing to change, or failed).
    let mut by_host: std::collections::HashMap<String, HostReport> =
        applied.into_iter().map(|r| (r.host.clone(), r)).collect();
    let reports: Vec<HostReport> = planned
        .into_iter()
        .map(|r| by_host.remove(&r.host).unwrap_or(r))
        .collect();
    let summary = Summary::of(
        &reports,
        planned_summary.elapsed + applied_summary.elapsed,
        fleet::cancel_flag().load(std::sync::atomic::Ordering::SeqCst),
    );
    Some((reports, summary))
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
            // Already this shard's: the machines the apply converged.
            shard: None,
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
pub(super) fn read_retry_file(path: &std::path::Path) -> Result<Vec<String>, CliError> {
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
pub(super) fn write_retry_file(
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
    write_retry_list(path, &retry, quiet);
}

/// Writes `retry` as the retry file at `path` (whole, by rename), or removes a vmup retry
/// file there when `retry` is empty; `quiet` leaves out the hint on stderr.
pub(super) fn write_retry_list(path: &std::path::Path, retry: &[&str], quiet: bool) {
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
            "retry the {} host(s) that did not succeed with: --limit @{}",
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
