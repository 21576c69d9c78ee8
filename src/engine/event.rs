//! Events the engine emits while it works; reporters turn them into output.
//!
//! The engine never prints. A terminal reporter shows progress bars, a plain one prints a
//! line per event, the JSON one prints host results as JSON lines: all from these events.

use super::report::{HostReport, Phase, Summary};

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The run is starting on this many hosts.
    RunStarted {
        /// The command: `plan`, `apply`, `kernels`, `conflicts`.
        label: &'a str,
        /// Host names in order.
        hosts: &'a [String],
    },
    /// A rolling batch is starting.
    BatchStarted {
        /// 1-based batch number.
        number: usize,
        /// Number of batches.
        of: usize,
        /// Hosts in the batch.
        hosts: &'a [String],
    },
    /// A host entered a phase.
    PhaseStarted {
        /// Inventory name.
        host: &'a str,
        /// The phase.
        phase: Phase,
    },
    /// A host is done (in any status).
    HostFinished(&'a HostReport),
    /// The run is done.
    RunFinished {
        /// Every host's report, in inventory order.
        reports: &'a [HostReport],
        /// Totals.
        summary: &'a Summary,
    },
}

/// Receives events; must be callable from several worker threads at once.
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn event(&self, event: &Event<'_>);
}

/// A sink that ignores everything (library use, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn event(&self, _event: &Event<'_>) {}
}
