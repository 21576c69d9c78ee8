//! What `vmup report` reads: the `--json` lines of vmup runs, checked line by line so a
//! file that is not vmup's output is refused with its file and line named.

use serde::Deserialize;

/// How a host ended, as the `status` of a host line has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The host answered but something went wrong (listed first: it needs a person).
    Failed,
    /// Never reached.
    Unreachable,
    /// A change was held back for safety.
    Held,
    /// `vmup check`: Not OK.
    #[serde(rename = "not_ok")]
    NotOk,
    /// Not started or not applied.
    Skipped,
    /// Changes pending (plan) or applied and verified (apply).
    Changed,
    /// Nothing to change.
    Ok,
}

impl Status {
    /// Every status, in the order the page lists groups: what needs a look first.
    pub const ALL: [Status; 7] = [
        Status::Failed,
        Status::Unreachable,
        Status::Held,
        Status::NotOk,
        Status::Skipped,
        Status::Changed,
        Status::Ok,
    ];

    /// The word as the JSON lines and the summary line spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
            Status::Held => "held",
            Status::NotOk => "not_ok",
            Status::Skipped => "skipped",
            Status::Changed => "changed",
            Status::Ok => "ok",
        }
    }
}

/// One change of a host line, with its diff and what an applied command printed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct Change {
    /// The step's label.
    pub step: String,
    /// Resource kind.
    pub resource: String,
    /// The path concerned, if any.
    #[serde(default)]
    pub path: Option<String>,
    /// One-line summary.
    pub summary: String,
    /// Unified diff or package list; host content, so always escaped when shown.
    #[serde(default)]
    pub diff: Option<String>,
    /// What an applied command printed.
    #[serde(default)]
    pub output: Option<String>,
}

/// One host line: what the page shows of a host (other fields are read where they are
/// needed, e.g. the kernels, and otherwise ignored, so newer vmups' lines still read).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct HostLine {
    /// Inventory name.
    pub host: String,
    /// The last phase reached.
    #[serde(default)]
    pub phase: Option<String>,
    /// Outcome.
    pub status: Status,
    /// Changes planned or applied.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// Why steps changed nothing.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Changes held back for safety.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What went wrong.
    #[serde(default)]
    pub error: Option<String>,
    /// Seconds spent on the host.
    #[serde(default)]
    pub elapsed: Option<f64>,
    /// How its scripts ran as root, if not as the login user.
    #[serde(default, rename = "become")]
    pub become_method: Option<String>,
    /// `vmup check`'s verdict (`OK`, `Not OK`) or `vmup kernels`' verdict text.
    #[serde(default)]
    pub verdict: Option<String>,
    /// The guest's kernels, from a `kernels` line (flattened) or a `check` line's
    /// `kernels` object.
    #[serde(skip)]
    pub kernels: Option<GuestKernels>,
    /// The line as it was read, every field kept: what `vmup report merge --json` prints
    /// again, so a merged run's host lines are the shards' own.
    #[serde(skip)]
    pub raw: Option<serde_json::Value>,
}

/// A guest's kernels as `vmup kernels` (and `vmup check`) print them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GuestKernels {
    /// The guest.
    pub guest: String,
    /// Kernel packages installed, oldest first.
    #[serde(default)]
    pub installed: Vec<InstalledKernel>,
    /// No rpm database: `installed` is unknown.
    #[serde(default)]
    pub no_rpm_database: bool,
    /// What its host boots it with.
    #[serde(default)]
    pub booted: Option<BootedKernel>,
    /// Why the booted kernel is unknown.
    #[serde(default)]
    pub booted_error: Option<String>,
    /// `uname -r` in the guest.
    #[serde(default)]
    pub running: Option<String>,
    /// Nothing would break on the next boot.
    #[serde(default)]
    pub ok: bool,
    /// `ok`, or what would break.
    #[serde(default)]
    pub verdict: String,
}

/// One installed kernel package.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstalledKernel {
    /// Package name with version.
    pub package: String,
    /// Its `uname -r`.
    pub release: String,
    /// Whether /lib/modules/RELEASE exists.
    #[serde(default)]
    pub modules: bool,
}

/// The kernel a guest's host boots it with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BootedKernel {
    /// The guest's host.
    #[serde(default)]
    pub host: Option<String>,
    /// Its release, when known.
    #[serde(default)]
    pub release: Option<String>,
    /// The kernel file the domain config names, links resolved.
    #[serde(default)]
    pub resolved_path: Option<String>,
}

/// A run's summary line, as printed after its host lines.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Summary {
    /// Hosts in the run.
    pub hosts: usize,
    /// Nothing to change.
    #[serde(default)]
    pub ok: usize,
    /// Changed or pending.
    #[serde(default)]
    pub changed: usize,
    /// Failed.
    #[serde(default)]
    pub failed: usize,
    /// Not reached.
    #[serde(default)]
    pub unreachable: usize,
    /// Not started or applied.
    #[serde(default)]
    pub skipped: usize,
    /// Held back for safety.
    #[serde(default)]
    pub held: usize,
    /// `check`: Not OK.
    #[serde(default)]
    pub not_ok: usize,
    /// Changes over all hosts.
    #[serde(default)]
    pub changes: usize,
    /// Interrupted.
    #[serde(default)]
    pub interrupted: bool,
    /// Wall time in seconds.
    #[serde(default)]
    pub elapsed: Option<f64>,
    /// The command, when the line names it.
    #[serde(default)]
    pub command: Option<String>,
    /// When the run started, when the line says.
    #[serde(default)]
    pub started: Option<String>,
    /// `K/N` for a run of one `--shard`.
    #[serde(default)]
    pub shard: Option<String>,
}

impl Summary {
    /// The count of hosts that ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        match status {
            Status::Failed => self.failed,
            Status::Unreachable => self.unreachable,
            Status::Held => self.held,
            Status::NotOk => self.not_ok,
            Status::Skipped => self.skipped,
            Status::Changed => self.changed,
            Status::Ok => self.ok,
        }
    }
}

/// One run: its host lines and the summary line that closed them.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Where it was read from (a file name, `-`), for headings.
    pub source: String,
    /// Host lines in the order printed.
    pub hosts: Vec<HostLine>,
    /// Its summary line.
    pub summary: Summary,
}

/// Why a file is not vmup JSON lines: the file, the line and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {message}")]
pub struct InputError {
    /// The file.
    pub source_name: String,
    /// 1-based line number (the last line for a file that ends too early).
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

/// Reads the JSON lines of `text` (read from `source`) into runs, each closed by its
/// summary line; blank lines are skipped. Refuses anything else, an empty file, and host
/// lines that no summary closes (a cut-off run would be misreported).
pub fn parse(source: &str, text: &str) -> Result<Vec<Run>, InputError> {
    let fail = |line: usize, message: String| InputError {
        source_name: source.to_string(),
        line,
        message,
    };
    let mut runs = Vec::new();
    let mut hosts = Vec::new();
    let mut last = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        last = line;
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| fail(line, format!("not a JSON line ({e})")))?;
        if let Some(summary) = value.get("summary") {
            let summary = Summary::deserialize(summary)
                .map_err(|e| fail(line, format!("not a vmup summary line: {e}")))?;
            runs.push(Run {
                source: source.to_string(),
                hosts: std::mem::take(&mut hosts),
                summary,
            });
        } else if value.get("host").is_some() {
            hosts.push(host_line(&value).map_err(|e| fail(line, e))?);
        } else {
            return Err(fail(
                line,
                "not a vmup host or summary line (no \"host\" or \"summary\" key)".to_string(),
            ));
        }
    }
    if last == 0 {
        return Err(fail(1, "empty: no host or summary lines".to_string()));
    }
    if !hosts.is_empty() {
        return Err(fail(
            last,
            format!(
                "{} host line(s) after the last summary line: the run was cut off",
                hosts.len()
            ),
        ));
    }
    Ok(runs)
}

/// A host line with its kernels, from either shape they come in.
fn host_line(value: &serde_json::Value) -> Result<HostLine, String> {
    let mut host =
        HostLine::deserialize(value).map_err(|e| format!("not a vmup host line: {e}"))?;
    let kernels = if value.get("installed").is_some() {
        Some(value)
    } else {
        value.get("kernels").filter(|k| k.is_object())
    };
    if let Some(k) = kernels {
        host.kernels =
            Some(GuestKernels::deserialize(k).map_err(|e| format!("not vmup's kernels: {e}"))?);
    }
    host.raw = Some(value.clone());
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMARY: &str = r#"{"summary":{"hosts":1,"ok":0,"changed":1,"failed":0,"unreachable":0,"skipped":0,"held":0,"not_ok":0,"changes":1,"interrupted":false,"elapsed":0.1}}"#;

    #[test]
    fn runs_end_at_their_summary_lines() {
        let host = r#"{"host":"g1","phase":"verify","status":"changed","changes":[{"step":"step 1","resource":"line","path":"/etc/x","summary":"append","diff":"+x"}],"error":null,"elapsed":0.1,"round_trips":3}"#;
        let text = format!("{host}\n{SUMMARY}\n\n{host}\n{SUMMARY}\n");
        let runs = parse("run.jsonl", &text).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[1].hosts[0].changes[0].diff.as_deref(), Some("+x"));
        assert_eq!(runs[0].summary.count(Status::Changed), 1);
    }

    #[test]
    fn kernels_come_flattened_or_as_checks_object() {
        let kernels = r#"{"host":"ng2","phase":"facts","status":"ok","changes":[],"error":null,"elapsed":0.1,"round_trips":1,"guest":"ng2","installed":[{"package":"kernel-xenU-2.6.9-55","release":"2.6.9-55.ELxenU","modules":true}],"no_rpm_database":false,"booted":{"host":"xen1","release":"2.6.9-55.ELxenU"},"booted_error":null,"running":"2.6.9-55.ELxenU","ok":true,"verdict":"ok"}"#;
        let check = r#"{"host":"ng3","status":"not_ok","verdict":"Not OK","kernels":{"guest":"ng3","installed":[],"running":null,"ok":false,"verdict":"broken"}}"#;
        let runs = parse("k", &format!("{kernels}\n{check}\n{SUMMARY}\n")).unwrap();
        let k = runs[0].hosts[0].kernels.as_ref().unwrap();
        assert_eq!(k.installed[0].release, "2.6.9-55.ELxenU");
        assert_eq!(runs[0].hosts[1].kernels.as_ref().unwrap().verdict, "broken");
    }

    #[test]
    fn other_text_names_the_line() {
        let err = parse("x.txt", &format!("{SUMMARY}\nhello\n")).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            err.to_string().starts_with("x.txt:2: not a JSON line"),
            "{err}"
        );
        let err = parse("x", "{\"host\":\"a\",\"status\":\"great\"}\n").unwrap_err();
        assert!(err.message.contains("not a vmup host line"), "{err}");
        let err = parse("x", "[1]\n").unwrap_err();
        assert!(err.message.contains("no \"host\""), "{err}");
    }

    #[test]
    fn empty_and_cut_off_files_are_refused() {
        assert!(parse("e", "\n\n").unwrap_err().message.starts_with("empty"));
        let err = parse("c", "{\"host\":\"a\",\"status\":\"ok\"}\n").unwrap_err();
        assert!(err.message.contains("cut off"), "{err}");
    }
}
