//! Progress while a run works: a live bar on a terminal, a plain line per host otherwise.
//!
//! Both go to standard error, so standard output carries only the final report. On a
//! terminal a run of a thousand hosts is one bar: how many hosts are in each phase, how
//! many ended how, and a line only for each host that failed, as it fails.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::safe::safe;
use vmup::engine::{Event, EventSink, Phase, Status};

/// Progress on standard error.
pub struct Progress {
    bar: Option<ProgressBar>,
    done: AtomicUsize,
    total: usize,
    /// Where the running hosts are and how the finished ones ended, for the bar's line.
    tally: Mutex<Tally>,
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
                "{prefix} [{bar:16}] {pos}/{len} {elapsed} {wide_msg}",
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
            tally: Mutex::new(Tally::default()),
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
                    && let Ok(mut tally) = self.tally.lock()
                {
                    tally.enter(host, *phase);
                    bar.set_message(tally.line());
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
                        if let Ok(mut tally) = self.tally.lock() {
                            tally.finish(&report.host, report.status);
                            bar.set_message(tally.line());
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

/// The phases of running hosts and the statuses of finished ones, kept as counts so that
/// each event costs the same at ten thousand hosts as at ten.
#[derive(Default)]
struct Tally {
    /// The phase each running host is in.
    running: HashMap<String, Phase>,
    /// How many running hosts are in each of [`PHASES`].
    in_phase: [usize; PHASES.len()],
    /// How many finished hosts ended with each status, in the order statuses first came.
    ended: Vec<(Status, usize)>,
}

/// The phases the bar counts, in pipeline order.
const PHASES: [Phase; 4] = [Phase::Facts, Phase::Plan, Phase::Apply, Phase::Verify];

impl Tally {
    fn slot(phase: Phase) -> Option<usize> {
        PHASES.iter().position(|p| *p == phase)
    }

    /// `host` entered `phase` (leaving the one it was in).
    fn enter(&mut self, host: &str, phase: Phase) {
        let before = match self.running.get_mut(host) {
            Some(at) => Some(std::mem::replace(at, phase)),
            None => {
                self.running.insert(host.to_string(), phase);
                None
            }
        };
        if let Some(i) = before.and_then(Tally::slot) {
            self.in_phase[i] -= 1;
        }
        if let Some(i) = Tally::slot(phase) {
            self.in_phase[i] += 1;
        }
    }

    /// `host` ended with `status`.
    fn finish(&mut self, host: &str, status: Status) {
        if let Some(i) = self.running.remove(host).and_then(Tally::slot) {
            self.in_phase[i] -= 1;
        }
        match self.ended.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => self.ended.push((status, 1)),
        }
    }

    /// `facts 3 · apply 5 | changed 812 · failed 2`: running hosts per phase, then
    /// finished hosts per status.
    fn line(&self) -> String {
        let running: Vec<String> = PHASES
            .iter()
            .zip(self.in_phase)
            .filter(|(_, n)| *n > 0)
            .map(|(p, n)| format!("{} {n}", p.as_str()))
            .collect();
        let ended: Vec<String> = self
            .ended
            .iter()
            .map(|(s, n)| format!("{} {n}", s.as_str()))
            .collect();
        match (running.is_empty(), ended.is_empty()) {
            (_, true) => running.join(" · "),
            (true, false) => ended.join(" · "),
            (false, false) => format!("{} | {}", running.join(" · "), ended.join(" · ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_hosts_per_phase_and_per_outcome() {
        let mut t = Tally::default();
        for i in 0..1000 {
            t.enter(&format!("g{i}"), Phase::Facts);
        }
        assert_eq!(t.line(), "facts 1000");
        for i in 0..600 {
            t.enter(&format!("g{i}"), Phase::Plan);
            t.enter(&format!("g{i}"), Phase::Apply);
        }
        t.enter("g0", Phase::Verify);
        assert_eq!(t.line(), "facts 400 · apply 599 · verify 1");
        t.finish("g0", Status::Changed);
        t.finish("g1", Status::Failed);
        for i in 2..1000 {
            t.finish(&format!("g{i}"), Status::Changed);
        }
        assert_eq!(t.line(), "changed 999 · failed 1");
        assert!(t.running.is_empty());
    }

    #[test]
    fn running_and_finished_hosts_share_the_line() {
        let mut t = Tally::default();
        t.enter("a", Phase::Facts);
        t.enter("b", Phase::Facts);
        t.finish("a", Status::Unreachable);
        assert_eq!(t.line(), "facts 1 | unreachable 1");
        // A host that ends without a phase event (refused before it started) counts too.
        t.finish("c", Status::Skipped);
        assert_eq!(t.line(), "facts 1 | unreachable 1 · skipped 1");
    }
}
