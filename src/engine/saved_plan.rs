//! Saved plans: apply exactly what was reviewed, or nothing, per host.
//!
//! `vmup plan --out FILE` keeps, per host, a fingerprint of what the plan was made from
//! (a SHA-256 of every path fact: type, mode, owner, content) and the changes it planned.
//! `vmup apply --plan FILE` gathers the facts again as every apply does, plans again, and
//! applies a host only when both are what the file says: a file edited since, or a
//! package repository that now offers something else (the planned transaction differs),
//! refuses that host with what differs, and the other hosts go on. Between that check and
//! the writes, the apply script's compare-and-swap still guards every file.
//!
//! The interactive apply (`vmup apply` on a terminal) is the same thing in memory: plan
//! every host, show it, ask, then apply against those fingerprints, so what is applied is
//! what was on the screen when the person said yes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::facts::{Facts, PathFact};

use super::prepare::Job;
use super::report::{ChangeReport, HostReport, Mode, Phase, Status};
use super::runbook_run::run_host;
use super::work::{HostCtx, HostWork};

/// What one host's plan was made from and what it planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// SHA-256 (hex) of each path fact read, by path.
    pub paths: BTreeMap<String, String>,
    /// The changes planned, as the report shows them (outputs left out).
    pub changes: Vec<ChangeReport>,
}

/// The hex SHA-256 of one path fact, over an unambiguous encoding of every field.
pub fn digest(fact: &PathFact) -> String {
    let mut h = Sha256::new();
    let mut field = |tag: &[u8], bytes: &[u8]| {
        h.update(tag);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    match fact {
        PathFact::Absent => field(b"absent", b""),
        PathFact::Other => field(b"other", b""),
        PathFact::Dir { mode, uid, gid } => {
            field(b"dir", b"");
            field(b"mode", &mode.to_be_bytes());
            field(b"uid", &uid.to_be_bytes());
            field(b"gid", &gid.to_be_bytes());
        }
        PathFact::Symlink { target } => field(b"symlink", target),
        PathFact::File {
            mode,
            uid,
            gid,
            content,
        } => {
            field(b"file", b"");
            field(b"mode", &mode.to_be_bytes());
            field(b"uid", &uid.to_be_bytes());
            field(b"gid", &gid.to_be_bytes());
            match content {
                Some(c) => field(b"content", c),
                None => field(b"unread", b""),
            }
        }
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of a plan made from `facts` that planned `changes`.
pub fn fingerprint<'a>(
    facts: &Facts,
    changes: impl IntoIterator<Item = &'a ChangeReport>,
) -> Fingerprint {
    Fingerprint {
        paths: facts
            .paths
            .iter()
            .map(|(p, f)| (p.clone(), digest(f)))
            .collect(),
        changes: changes
            .into_iter()
            .map(|c| ChangeReport {
                output: None,
                ..c.clone()
            })
            .collect(),
    }
}

/// What differs between the reviewed plan and the one made now, for the refusal; `None`
/// when they are the same.
pub fn differs(saved: &Fingerprint, now: &Fingerprint) -> Option<String> {
    let mut changed: Vec<&str> = Vec::new();
    for (path, digest) in &now.paths {
        if saved.paths.get(path) != Some(digest) {
            changed.push(path);
        }
    }
    for path in saved.paths.keys() {
        if !now.paths.contains_key(path) {
            changed.push(path);
        }
    }
    if !changed.is_empty() {
        const SHOWN: usize = 5;
        let more = changed.len().saturating_sub(SHOWN);
        let mut list = changed[..changed.len().min(SHOWN)].join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        return Some(format!("{list} changed since the plan was saved"));
    }
    if saved.changes != now.changes {
        let (was, is) = (saved.changes.len(), now.changes.len());
        let first = saved
            .changes
            .iter()
            .zip(&now.changes)
            .find(|(a, b)| a != b)
            .map(|(a, b)| {
                format!(
                    ": {} now would {} (the saved plan: {})",
                    b.step, b.summary, a.summary
                )
            })
            .unwrap_or_default();
        return Some(format!(
            "the plan made now differs from the saved one ({was} change(s) saved, {is} now){first}"
        ));
    }
    None
}

/// `apply` of a reviewed plan: each host applies only if its plan is still the one in
/// `saved`; a host missing from it is refused.
#[derive(Debug, Clone)]
pub struct ReviewedApply {
    /// The fingerprints of the reviewed plan, by host.
    pub saved: BTreeMap<String, Fingerprint>,
    /// Where the plan came from, for the refusals (`plan.json`, `the plan shown`).
    pub source: String,
}

impl HostWork for ReviewedApply {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        match self.saved.get(&job.host.name) {
            Some(expected) => run_host(job, ctx, Mode::Apply, Some((expected, &self.source))),
            None => {
                let mut report = ctx.report(&job.host.name, Phase::Facts, Status::Failed);
                report.error = Some(format!(
                    "{} is not in {}: nothing was applied here; plan it first",
                    job.host.name, self.source
                ));
                report
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(summary: &str) -> ChangeReport {
        ChangeReport {
            step: "step 1 (line)".into(),
            resource: "line".into(),
            path: Some("/etc/securetty".into()),
            summary: summary.into(),
            diff: None,
            output: Some("printed".into()),
        }
    }

    fn facts(content: &[u8]) -> Facts {
        let mut facts = Facts::default();
        facts
            .paths
            .insert("/etc/securetty".into(), PathFact::root_file(content));
        facts.paths.insert("/lib/tls".into(), PathFact::Absent);
        facts
    }

    #[test]
    fn digests_tell_every_field_apart() {
        let file = |mode, content: &[u8]| PathFact::File {
            mode,
            uid: 0,
            gid: 0,
            content: Some(content.to_vec()),
        };
        let all = [
            digest(&PathFact::Absent),
            digest(&PathFact::Other),
            digest(&file(0o644, b"")),
            digest(&file(0o600, b"")),
            digest(&file(0o644, b"a")),
            digest(&PathFact::Symlink {
                target: b"a".to_vec(),
            }),
            digest(&PathFact::Dir {
                mode: 0o755,
                uid: 0,
                gid: 0,
            }),
        ];
        let distinct: std::collections::BTreeSet<&String> = all.iter().collect();
        assert_eq!(distinct.len(), all.len());
        assert_eq!(digest(&file(0o644, b"a")), digest(&file(0o644, b"a")));
        assert_eq!(all[0].len(), 64);
    }

    #[test]
    fn a_changed_file_or_plan_is_named() {
        let saved = fingerprint(&facts(b"console\n"), &[change("append ttyS0")]);
        assert_eq!(saved.changes[0].output, None, "outputs are not compared");
        let same = fingerprint(&facts(b"console\n"), &[change("append ttyS0")]);
        assert_eq!(differs(&saved, &same), None);
        let edited = fingerprint(&facts(b"console\ntty1\n"), &[change("append ttyS0")]);
        assert_eq!(
            differs(&saved, &edited).as_deref(),
            Some("/etc/securetty changed since the plan was saved")
        );
        let replanned = fingerprint(&facts(b"console\n"), &[change("append ttyS1")]);
        assert_eq!(
            differs(&saved, &replanned).as_deref(),
            Some(
                "the plan made now differs from the saved one (1 change(s) saved, 1 now): step 1 (line) now would append ttyS1 (the saved plan: append ttyS0)"
            )
        );
        let mut gone = same.clone();
        gone.paths.remove("/lib/tls");
        assert!(differs(&saved, &gone).is_some_and(|d| d.starts_with("/lib/tls changed")));
    }
}
