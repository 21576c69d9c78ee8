//! What a run found and did, per host and in total: the data reporters render.

use std::time::Duration;

use serde::Serialize;

/// Whether a run only plans or also applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Gather facts and show what would change (check mode).
    Plan,
    /// Plan, apply, verify.
    Apply,
}

/// Where a host is in its pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Reading the host.
    Facts,
    /// Deciding changes (no I/O).
    Plan,
    /// Performing changes.
    Apply,
    /// Reading again to prove convergence.
    Verify,
}

impl Phase {
    /// The phase name as shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Facts => "facts",
            Phase::Plan => "plan",
            Phase::Apply => "apply",
            Phase::Verify => "verify",
        }
    }
}

/// How a host ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to change.
    Ok,
    /// Changes pending (plan) or applied and verified (apply).
    Changed,
    /// The host answered but something went wrong; see the error.
    Failed,
    /// The host could not be reached; nothing can have changed on it.
    Unreachable,
    /// The host was not started or not applied (interrupted, failure budget exceeded).
    Skipped,
    /// Everything else converged (or would), but a step held back a change for safety
    /// (the kernel a host boots is unknown, ...): not convergence; see the warnings.
    Held,
    /// `vmup check`: the host was read and judged, and it is not as the runbook wants (a
    /// step would change something, cannot be planned or holds a change back, or the
    /// kernel its host boots has no modules in it): gridpulse's "Not OK". Not a failure:
    /// it does not count against the failure budget, so every host gets its verdict.
    #[serde(rename = "not_ok")]
    NotOk,
}

impl Status {
    /// The status word as shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
            Status::Skipped => "skipped",
            Status::Held => "held",
            Status::NotOk => "not_ok",
        }
    }

    /// True for the outcomes that count against the failure budget.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Unreachable)
    }
}

/// One change planned (or applied) on a host.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct ChangeReport {
    /// The step's label, e.g. `step 3 (serial console login)`.
    pub step: String,
    /// Resource kind.
    pub resource: String,
    /// The path concerned, if any.
    pub path: Option<String>,
    /// One-line summary.
    pub summary: String,
    /// Unified diff for file contents, or a transaction's package list.
    pub diff: Option<String>,
    /// What a command printed when it was applied (a package transaction's output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// Everything known about one host at the end of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostReport {
    /// Inventory name.
    pub host: String,
    /// The last phase reached.
    pub phase: Phase,
    /// Outcome.
    pub status: Status,
    /// Changes planned (plan) or applied (apply).
    pub changes: Vec<ChangeReport>,
    /// Why steps changed nothing, or were skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Changes steps held back for safety (a kernel prune on a guest whose booted kernel
    /// is unknown): shown to people even when nothing changes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What check-only steps would change: never applied. `plan` shows them as notes (so
    /// they are not serialised twice), `check` counts them against the host.
    #[serde(skip)]
    pub findings: Vec<ChangeReport>,
    /// What went wrong, with the host, file and step named.
    pub error: Option<String>,
    /// Wall time spent on this host.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// Remote commands run on this host.
    pub round_trips: usize,
    /// The ssh algorithms used, when the host needed the legacy set (CentOS 4's sshd).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh: Option<crate::transport::Negotiated>,
    /// How its scripts ran as root (`become`: `"become": "sudo"`), so a report shows which
    /// hosts were reached through sudo rather than a root login.
    #[serde(rename = "become", skip_serializing_if = "Option::is_none")]
    pub become_method: Option<crate::transport::BecomeMethod>,
    /// What a command other than plan/apply found (`kernels`, `conflicts`), shown in its
    /// own report and flattened into the host's JSON line.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub detail: Option<HostDetail>,
    /// What the plan was made from and what it planned (`plan`, `apply`): what `plan
    /// --out` saves and `apply --plan` compares.
    #[serde(skip)]
    pub fingerprint: Option<super::saved_plan::Fingerprint>,
}

/// Command-specific findings on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum HostDetail {
    /// `vmup kernels`: the guest's kernels and the verdict on its next boot.
    Kernels(Box<super::kernel_check::GuestKernels>),
    /// `vmup reboot`: the host's reboot and how its guests came back.
    Reboot(Box<super::reboot::Rebooted>),
    /// `vmup recreate`: what was done to the guest and how it came back.
    Recreate(Box<super::recreate::Recreated>),
    /// `vmup doctor`: the guest's boot chain and its verdict.
    Doctor(Box<super::doctor::GuestDoctor>),
    /// `vmup check`: the verdict on the host and the reasons for it.
    Check(Box<super::check::CheckDetail>),
    /// `vmup run`: how the ad-hoc command ended and what it printed.
    Command(Box<super::adhoc::CommandRun>),
    /// `vmup facts`: the facts picked, as read.
    Facts(Box<super::read_facts::FactsView>),
    /// `vmup conflicts`: the config conflicts found (and how they were resolved).
    Conflicts {
        /// Every leftover `.rpmnew`/`.rpmsave`/`.rpmorig` beside a config file.
        conflicts: Vec<super::conflicts::Conflict>,
    },
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl HostReport {
    /// A report with nothing in it yet: `host` ended in `phase` with `status`.
    pub fn new(host: &str, phase: Phase, status: Status) -> HostReport {
        HostReport {
            host: host.to_string(),
            phase,
            status,
            changes: Vec::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
            findings: Vec::new(),
            error: None,
            elapsed: Duration::ZERO,
            round_trips: 0,
            ssh: None,
            become_method: None,
            detail: None,
            fingerprint: None,
        }
    }

    /// A report for a host that never started.
    pub fn skipped(host: &str, why: &str) -> HostReport {
        let mut report = HostReport::new(host, Phase::Facts, Status::Skipped);
        report.error = Some(why.to_string());
        report
    }
}

/// Totals for the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Hosts in the run.
    pub hosts: usize,
    /// Hosts with nothing to change.
    pub ok: usize,
    /// Hosts changed (apply) or with pending changes (plan).
    pub changed: usize,
    /// Hosts that failed.
    pub failed: usize,
    /// Hosts not reached.
    pub unreachable: usize,
    /// Hosts not started or not applied.
    pub skipped: usize,
    /// Hosts where a step held back a change for safety.
    pub held: usize,
    /// Hosts `vmup check` judged Not OK (always 0 for the other commands).
    pub not_ok: usize,
    /// Changes over all hosts.
    pub changes: usize,
    /// Whether the run was interrupted.
    pub interrupted: bool,
    /// Wall time of the run.
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
}

impl Summary {
    /// Adds up host reports.
    pub fn of(reports: &[HostReport], elapsed: Duration, interrupted: bool) -> Summary {
        let count = |s: Status| reports.iter().filter(|r| r.status == s).count();
        Summary {
            hosts: reports.len(),
            ok: count(Status::Ok),
            changed: count(Status::Changed),
            failed: count(Status::Failed),
            unreachable: count(Status::Unreachable),
            skipped: count(Status::Skipped),
            held: count(Status::Held),
            not_ok: count(Status::NotOk),
            changes: reports.iter().map(|r| r.changes.len()).sum(),
            interrupted,
            elapsed,
        }
    }
}
