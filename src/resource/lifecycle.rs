//! The lifecycle tables a runbook step may have instead of a resource: `recreate` and
//! `reboot`, as written (validated by `runbook::lifecycle`, run by `engine::lifecycle`).
//! They are declared here because the step table (`RawStep`) is.

use serde::Deserialize;

/// `recreate = { ... }` or `reboot = { ... }` as written: the same keys, which mean the same
/// for both (a reboot stops and starts each of its host's guests as a recreate does).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LifecycleSpec {
    /// Which of the selected machines: recreate `kernel` (default: only a guest that does
    /// not run the kernel its host boots it with) or `always`; reboot `changed` (default:
    /// only a host this run's apply changed) or `always`.
    #[serde(default)]
    pub when: Option<toml::Spanned<String>>,
    /// Machines at a time: a number or a percentage (default 1: the seed's one by one).
    #[serde(default)]
    pub serial: Option<toml::Spanned<SerialSpec>>,
    /// Seconds a domain may take to shut down (default 300).
    #[serde(default)]
    pub shutdown_timeout: Option<u64>,
    /// Seconds a machine may take to answer ssh again (default 600).
    #[serde(default)]
    pub boot_timeout: Option<u64>,
    /// Past the safety checks, reported per machine: recreate past the doctor's "would not
    /// boot", and destroy a domain that does not shut down in time (a reboot's host is
    /// otherwise not rebooted). Default false.
    #[serde(default)]
    pub force: bool,
}

/// A batch size as written: `2` or `"25%"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SerialSpec {
    /// A number of machines.
    Count(usize),
    /// A number or a percentage as text.
    Text(String),
}
