//! The lifecycle tables a runbook step may have instead of a resource: `recreate` and
//! `reboot`, as written (validated by `runbook::lifecycle`, run by `engine::lifecycle`).
//! They are declared here because the step table (`RawStep`) is.

use serde::Deserialize;

/// `recreate = { ... }` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecreateSpec {
    /// `kernel` (default): only a guest that does not run the kernel its host boots it
    /// with; `always`: every selected guest.
    #[serde(default)]
    pub when: Option<toml::Spanned<String>>,
    /// Guests at a time: a number or a percentage (default 1: the seed's one by one).
    #[serde(default)]
    pub serial: Option<toml::Spanned<SerialSpec>>,
    /// Seconds a domain may take to shut down (default 300).
    #[serde(default)]
    pub shutdown_timeout: Option<u64>,
    /// Seconds from the create to the guest answering ssh (default 600).
    #[serde(default)]
    pub boot_timeout: Option<u64>,
    /// Recreate past the doctor's "would not boot", and destroy a domain that does not
    /// shut down in time (reported per guest). Default false.
    #[serde(default)]
    pub force: bool,
}

/// `reboot = { ... }` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebootSpec {
    /// `changed` (default): only a host this run's apply changed; `always`.
    #[serde(default)]
    pub when: Option<toml::Spanned<String>>,
    /// Hosts at a time (default 1).
    #[serde(default)]
    pub serial: Option<toml::Spanned<SerialSpec>>,
    /// Seconds each guest may take to shut down (default 300).
    #[serde(default)]
    pub shutdown_timeout: Option<u64>,
    /// Seconds the host, then each guest, may take to answer again (default 600).
    #[serde(default)]
    pub boot_timeout: Option<u64>,
    /// Destroy a guest that does not shut down in time. Default false: the host is then not
    /// rebooted.
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
