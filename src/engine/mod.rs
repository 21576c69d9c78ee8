//! The engine: facts -> plan -> apply -> verify on each host, and the fleet around it.
//!
//! [`host_run`] drives one machine through the phases with one remote command per phase;
//! [`fleet`] runs many in parallel in rolling batches with a failure budget and
//! cancellation. Both report through [`event::EventSink`]; nothing here prints.

pub mod booted;
pub mod conflicts;
pub mod diff;
pub mod event;
pub mod fleet;
pub mod host_run;
pub mod kernel_check;
pub mod report;

pub use event::{Event, EventSink};
pub use fleet::{Amount, FleetOptions, HostJob, run_fleet};
pub use report::{ChangeReport, HostReport, Mode, Phase, Status, Summary};
