//! The engine: it owns the run, from the user's files to every host's report.
//!
//! [`prepare()`] turns an inventory, a runbook and a selection into jobs (steps per machine,
//! transports, the booted-kernel pre-phase); [`fleet::run_fleet`] runs a [`HostWork`] on
//! every job in parallel, in rolling batches, with a failure budget and cancellation. The
//! works are the fleet commands: the runbook pipeline facts -> plan -> apply -> verify
//! ([`runbook_run`]), the kernel check ([`kernel_check`]), config conflicts
//! ([`conflicts`]), the health check that folds the first two ([`check`]), and a runbook's
//! `recreate` and `reboot` steps after an apply ([`lifecycle`]). Everything
//! reports through [`event::EventSink`]; nothing here prints.

pub mod adhoc;
pub mod apply;
pub mod booted;
pub mod check;
pub mod conflicts;
pub mod diff;
pub mod doctor;
pub mod error;
pub mod event;
pub mod fleet;
pub mod gather;
pub mod kernel_check;
pub mod lifecycle;
pub mod prepare;
pub mod read_facts;
pub mod reboot;
pub mod recreate;
pub mod report;
pub mod runbook_run;
pub mod saved_plan;
pub mod shard;
pub mod work;

pub use check::CheckWork;
pub use error::{EngineError, HostError};
pub use event::{Event, EventSink};
pub use fleet::{Amount, FleetOptions, run_fleet};
pub use prepare::{Job, JobStep, Selection, prepare};
pub use report::{ChangeReport, HostDetail, HostReport, Mode, Phase, Status, Summary};
pub use runbook_run::RunbookWork;
pub use work::{HostCtx, HostWork};

#[cfg(test)]
mod tests;
