//! Progress while a run works: a live bar on a terminal, a plain line per host otherwise.
//!
//! Both go to standard error, so standard output carries only the final report.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::safe::safe;
use vmup::engine::{Event, EventSink, Phase};

/// Progress on standard error.
pub struct Progress {
    bar: Option<ProgressBar>,
    done: AtomicUsize,
    total: usize,
    /// The phase each running host is in, for the "facts 3 · apply 5" line.
    phases: Mutex<BTreeMap<String, Phase>>,
    /// Statuses in colour (see `colour`).
    colour: bool,
    /// Whether hosts make changes (`plan`, `apply`, `conflicts`): their lines count them.
    changes: bool,
}

impl Progress {
    /// A live bar when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr(label: &str, total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} hosts {elapsed} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{label:<5}"));
            bar
        });
        Progress {
            bar,
            done: AtomicUsize::new(0),
            total,
            phases: Mutex::new(BTreeMap::new()),
            colour: super::colour::stderr(),
            changes: matches!(label, "plan" | "apply" | "conflicts"),
        }
    }

    /// Clears the bar before the final report is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl EventSink for Progress {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::PhaseStarted { host, phase } => {
                if let Some(bar) = &self.bar
                    && let Ok(mut phases) = self.phases.lock()
                {
                    phases.insert(host.to_string(), *phase);
                    bar.set_message(phase_counts(&phases));
                }
            }
            Event::BatchStarted { number, of, hosts } if *of > 1 => {
                let line = format!("batch {number}/{of}: {} host(s)", hosts.len());
                match &self.bar {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
            Event::HostFinished(report) => {
                let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
                let status = report.status.as_str();
                let status = if self.colour {
                    super::colour::status(status)
                } else {
                    status.to_string()
                };
                // Host text is escaped before the colour is added, so only vmup's own
                // escape sequences reach the terminal.
                let changes = if self.changes {
                    format!("{} change(s), ", report.changes.len())
                } else {
                    String::new()
                };
                let line = format!(
                    "[{n}/{}] {}: {status} ({changes}{:.2}s){}",
                    self.total,
                    safe(&report.host),
                    report.elapsed.as_secs_f64(),
                    report
                        .error
                        .as_deref()
                        .map(|e| format!(": {}", safe(e)))
                        .unwrap_or_default()
                );
                match &self.bar {
                    Some(bar) => {
                        if let Ok(mut phases) = self.phases.lock() {
                            phases.remove(&report.host);
                            bar.set_message(phase_counts(&phases));
                        }
                        bar.inc(1);
                        if report.status.is_failure() {
                            bar.println(line);
                        }
                    }
                    None => eprintln!("{line}"),
                }
            }
            _ => {}
        }
    }
}

/// `facts 3 · plan 1 · apply 5 · verify 2`: how many running hosts are in each phase.
fn phase_counts(phases: &BTreeMap<String, Phase>) -> String {
    [Phase::Facts, Phase::Plan, Phase::Apply, Phase::Verify]
        .iter()
        .filter_map(|p| {
            let n = phases.values().filter(|q| *q == p).count();
            (n > 0).then(|| format!("{} {n}", p.as_str()))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}
