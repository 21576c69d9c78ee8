//! Lifecycle steps: `recreate` (guests) and `reboot` (hosts), the seed's "shutdown and
//! re-create each domain" and its host reboot written into the runbook, after the steps
//! that change files and packages.
//!
//! ```toml
//! [[step]]
//! name = "re-create each domain"
//! hosts = "guests"
//! recreate = { when = "kernel", serial = 1, shutdown_timeout = 300, boot_timeout = 600 }
//!
//! [[step]]
//! hosts = "hosts"
//! reboot = { when = "changed", serial = 1 }
//! ```
//!
//! They are not resources: nothing is planned from a host's facts alone, and what they do
//! spans two machines and a boot. `vmup apply` runs them once every other step has been
//! applied and verified, one lifecycle step after the other, each over the machines it
//! selects whose apply converged (a guest also needs its host's). A resource step written
//! after a lifecycle step would run before it, so it is refused at load time.

use std::time::Duration;

use crate::inventory::Amount;
pub use crate::resource::lifecycle::{LifecycleSpec, SerialSpec};

/// Which machines a lifecycle step acts on, of those it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A guest that does not run the kernel its host boots it with (recreate only).
    Kernel,
    /// A machine this run's apply changed (reboot only).
    Changed,
    /// Every one.
    Always,
}

impl When {
    /// The word as written.
    pub fn word(self) -> &'static str {
        match self {
            When::Kernel => "kernel",
            When::Changed => "changed",
            When::Always => "always",
        }
    }
}

/// What a lifecycle step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Shut each selected guest's domain down and create it again, as `vmup recreate`.
    Recreate,
    /// Reboot each selected host with its guests, as `vmup reboot`.
    Reboot,
}

impl Action {
    /// The table's name, also the command's.
    pub fn word(self) -> &'static str {
        match self {
            Action::Recreate => "recreate",
            Action::Reboot => "reboot",
        }
    }
}

/// A validated lifecycle step's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// Recreate or reboot.
    pub action: Action,
    /// Which of the selected machines.
    pub when: When,
    /// Machines at a time.
    pub serial: Amount,
    /// Shutdown timeout.
    pub shutdown_timeout: Duration,
    /// Boot timeout.
    pub boot_timeout: Duration,
    /// Past the safety checks.
    pub force: bool,
}

/// A spec error with the byte span it is about, if known.
pub type SpecError = (Option<std::ops::Range<usize>>, String);

fn when_of(
    when: &Option<toml::Spanned<String>>,
    default: When,
    allowed: &[When],
) -> Result<When, SpecError> {
    let Some(w) = when else {
        return Ok(default);
    };
    allowed
        .iter()
        .copied()
        .find(|a| a.word() == w.get_ref())
        .ok_or_else(|| {
            let words: Vec<&str> = allowed.iter().map(|a| a.word()).collect();
            (
                Some(w.span()),
                format!(
                    "`when = {:?}`: this step knows {}",
                    w.get_ref(),
                    words.join(" and ")
                ),
            )
        })
}

fn serial_of(serial: &Option<toml::Spanned<SerialSpec>>) -> Result<Amount, SpecError> {
    let Some(s) = serial else {
        return Ok(Amount::Count(1));
    };
    let amount = match s.get_ref() {
        SerialSpec::Count(n) => Amount::Count(*n),
        SerialSpec::Text(t) => Amount::parse(t).map_err(|e| (Some(s.span()), e))?,
    };
    if matches!(amount, Amount::Count(0) | Amount::Percent(0)) {
        return Err((
            Some(s.span()),
            "`serial` of 0 makes batches of no machine: give 1 or more".into(),
        ));
    }
    Ok(amount)
}

fn timeout(secs: Option<u64>, default: u64, name: &str) -> Result<Duration, SpecError> {
    match secs.unwrap_or(default) {
        0 => Err((None, format!("`{name}` must be at least 1 second"))),
        n => Ok(Duration::from_secs(n)),
    }
}

impl Lifecycle {
    /// Validates a `recreate` or `reboot` table.
    pub fn from_spec(action: Action, spec: &LifecycleSpec) -> Result<Lifecycle, SpecError> {
        let (default, allowed) = match action {
            Action::Recreate => (When::Kernel, [When::Kernel, When::Always]),
            Action::Reboot => (When::Changed, [When::Changed, When::Always]),
        };
        Ok(Lifecycle {
            action,
            when: when_of(&spec.when, default, &allowed)?,
            serial: serial_of(&spec.serial)?,
            shutdown_timeout: timeout(spec.shutdown_timeout, 300, "shutdown_timeout")?,
            boot_timeout: timeout(spec.boot_timeout, 600, "boot_timeout")?,
            force: spec.force,
        })
    }

    /// What the plan says the step will do, after the apply.
    pub fn promise(&self) -> String {
        let which = match (self.action, self.when) {
            (Action::Recreate, When::Kernel) => {
                "each guest that does not run the kernel its host boots it with"
            }
            (Action::Recreate, _) => "every guest",
            (Action::Reboot, When::Changed) => "each host this apply changed",
            (Action::Reboot, _) => "every host",
        };
        let serial = match self.serial {
            Amount::Count(n) => format!("{n} at a time"),
            Amount::Percent(p) => format!("{p}% at a time"),
        };
        let verb = match self.action {
            Action::Recreate => "recreate",
            Action::Reboot => "reboot (its guests stopped first, started after)",
        };
        format!(
            "after the apply: {verb} {which}, {serial}, once its apply has converged; refused where the doctor says it would not boot{}",
            if self.force {
                " (force = true: not refused)"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recreate(text: &str) -> Result<Lifecycle, SpecError> {
        let spec: LifecycleSpec = toml::from_str(text).map_err(|e| (None, e.to_string()))?;
        Lifecycle::from_spec(Action::Recreate, &spec)
    }

    #[test]
    fn defaults_are_one_at_a_time_and_only_where_the_kernel_differs() {
        let l = recreate("").unwrap();
        assert_eq!(l.when, When::Kernel);
        assert_eq!(l.serial, Amount::Count(1));
        assert_eq!(l.shutdown_timeout, Duration::from_secs(300));
        assert!(!l.force);
        let spec: LifecycleSpec = toml::from_str("").unwrap();
        assert_eq!(
            Lifecycle::from_spec(Action::Reboot, &spec).unwrap().when,
            When::Changed
        );
    }

    #[test]
    fn bad_settings_say_what_is_known() {
        let e = recreate("when = \"changed\"").unwrap_err();
        assert!(e.1.contains("kernel and always"), "{e:?}");
        assert!(e.0.is_some());
        assert!(recreate("serial = 0").unwrap_err().1.contains("no machine"));
        assert!(recreate("serial = \"0%\"").is_err());
        assert_eq!(
            recreate("serial = \"50%\"").unwrap().serial,
            Amount::Percent(50)
        );
        assert!(
            recreate("boot_timeout = 0")
                .unwrap_err()
                .1
                .contains("1 second")
        );
        assert!(recreate("colour = 1").is_err());
    }
}
