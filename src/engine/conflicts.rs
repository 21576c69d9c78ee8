//! Config conflicts: `.rpmnew`, `.rpmsave` and `.rpmorig` files rpm left beside package
//! config files, found, shown as diffs and resolved, without a runbook.
//!
//! The seed's "Handle RPM conflicts (printed in the output of yum update)". One script per
//! host lists the config files of every installed package (`rpm -qac`) and tests each for
//! the three suffixes with shell built-ins; a second reads the pairs. Resolving acts on
//! `.rpmnew` files: `keep` removes the package's new version, `new` puts it in place and
//! keeps the old file as `FILE.vmup-old`. Pairs whose two files are identical are cleaned
//! up silently. Every removal and rename is compare-and-swap guarded, as in a run.

use crate::facts::conflicts::ConfigConflicts;
use crate::facts::{Fact, FactKey, Facts, PathFact, merge_keys};
use crate::remote::{Action, Expect};

use super::apply::apply;
use super::diff::unified;
use super::error::HostError;
use super::gather::gather;
use super::prepare::Job;
use super::report::{ChangeReport, HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork};

/// How to resolve `.rpmnew` files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// Keep the current file; remove the package's `.rpmnew`.
    Keep,
    /// Install the `.rpmnew`; keep the current file as `FILE.vmup-old`.
    New,
}

/// One file rpm left beside a config file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// The package's config file, e.g. `/etc/yum.conf`.
    pub file: String,
    /// The file beside it, e.g. `/etc/yum.conf.rpmnew`.
    pub other: String,
    /// `rpmnew`, `rpmsave` or `rpmorig`.
    pub kind: String,
    /// Unified diff from the config file to the other one (empty when identical).
    pub diff: String,
    /// The two files hold the same bytes.
    pub identical: bool,
    /// What was done (or why nothing was), after a resolve.
    pub resolution: Option<String>,
}

/// `vmup conflicts`: finds the conflicts on each host and, with `resolve`, resolves them.
/// Identical pairs are cleaned only when resolving (a plain listing changes nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct ConflictsWork {
    /// How to resolve `.rpmnew` files; None lists only.
    pub resolve: Option<Resolve>,
}

impl HostWork for ConflictsWork {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        let mut found = Vec::new();
        let mut changes = Vec::new();
        let outcome = self.find_and_resolve(job, ctx, &mut found, &mut changes);
        let (phase, status, error) = match outcome {
            Ok(phase) if changes.is_empty() => (phase, Status::Ok, None),
            Ok(phase) => (phase, Status::Changed, None),
            Err((phase, e)) => (phase, e.status(), Some(e.to_string())),
        };
        let mut report = ctx.report(&job.host.name, phase, status);
        report.error = error;
        report.changes = changes;
        report.detail = Some(HostDetail::Conflicts { conflicts: found });
        report
    }
}

impl ConflictsWork {
    fn find_and_resolve(
        &self,
        job: &Job<'_>,
        ctx: &HostCtx<'_>,
        found: &mut Vec<Conflict>,
        changes: &mut Vec<ChangeReport>,
    ) -> Result<Phase, (Phase, HostError)> {
        let facts_err = |e| (Phase::Facts, e);
        ctx.phase(&job.host.name, Phase::Facts);
        let listing = gather(job, &[ConfigConflicts.key()], ctx).map_err(facts_err)?;
        let pairs = listing
            .get(&ConfigConflicts)
            .map_err(|e| facts_err(HostError::Other(e.to_string())))?;
        if pairs.is_empty() {
            return Ok(Phase::Facts);
        }
        let mut keys = Vec::new();
        for p in &pairs {
            for (path, content) in [
                (p.file.clone(), true),
                (format!("{}.{}", p.file, p.kind), true),
                (format!("{}.vmup-old", p.file), false),
            ] {
                keys.push(FactKey::Path { path, content });
            }
        }
        let facts = gather(job, &merge_keys(keys), ctx).map_err(facts_err)?;
        found.extend(pairs.iter().map(|p| describe(&facts, &p.kind, &p.file)));
        let Some(how) = self.resolve else {
            return Ok(Phase::Facts);
        };
        let mut actions = Vec::new();
        let mut owners = Vec::new();
        for (i, c) in found.iter_mut().enumerate() {
            let (steps, what) = resolution(&facts, c, how);
            c.resolution = Some(what);
            for a in steps {
                actions.push(a);
                owners.push(i);
            }
        }
        if actions.is_empty() {
            return Ok(Phase::Plan);
        }
        if ctx.cancelled() {
            return Err((Phase::Plan, HostError::Interrupted));
        }
        ctx.phase(&job.host.name, Phase::Apply);
        let (outcome, detail) = apply(job, &actions, ctx).map_err(|e| (Phase::Apply, e))?;
        let mut reported = Vec::new();
        for i in outcome.done.iter().filter_map(|d| owners.get(*d)) {
            if !reported.contains(i) {
                reported.push(*i);
                let c = &found[*i];
                changes.push(ChangeReport {
                    step: "conflicts".into(),
                    resource: "conflicts".into(),
                    path: Some(c.file.clone()),
                    summary: c.resolution.clone().unwrap_or_default(),
                    diff: None,
                    output: None,
                });
            }
        }
        if outcome.failure.is_none() && !outcome.complete {
            return Err((
                Phase::Apply,
                HostError::Other(format!(
                    "the resolving script stopped before its end ({} of {} step(s) reported done); {detail}",
                    outcome.done.len(),
                    actions.len()
                )),
            ));
        }
        if let Some(failure) = outcome.failure {
            let c = &mut found[owners[failure.index.min(owners.len() - 1)]];
            let why = if failure.changed_underneath {
                "changed since it was read; left alone".to_string()
            } else {
                failure.message
            };
            c.resolution = Some(format!("failed: {why}"));
            return Err((
                Phase::Apply,
                HostError::Other(format!("{}: {why}", c.other)),
            ));
        }
        Ok(Phase::Apply)
    }
}

fn content<'a>(facts: &'a Facts, path: &str) -> Option<&'a [u8]> {
    match facts.paths.get(path) {
        Some(PathFact::File {
            content: Some(c), ..
        }) => Some(c),
        _ => None,
    }
}

/// The pair as found: the diff from the config file to the other one.
fn describe(facts: &Facts, kind: &str, file: &str) -> Conflict {
    let other = format!("{file}.{kind}");
    let old = content(facts, file);
    let new = content(facts, &other).unwrap_or_default();
    Conflict {
        identical: old == Some(new),
        diff: unified(file, old, new),
        file: file.to_string(),
        other,
        kind: kind.to_string(),
        resolution: None,
    }
}

/// The guarded actions resolving one pair, and what they do in words. Pure.
fn resolution(facts: &Facts, c: &Conflict, how: Resolve) -> (Vec<Action>, String) {
    let Some(other) = content(facts, &c.other) else {
        return (
            Vec::new(),
            format!("{} could not be read; left alone", c.other),
        );
    };
    let remove_other = Action::Remove {
        path: c.other.clone(),
        expect: Expect::File(other.to_vec()),
    };
    if c.identical {
        return (
            vec![remove_other],
            format!("removed {}: identical to {}", c.other, c.file),
        );
    }
    if c.kind != "rpmnew" {
        return (
            Vec::new(),
            format!(
                "left for you to merge: {} holds your earlier version",
                c.other
            ),
        );
    }
    match how {
        Resolve::Keep => (
            vec![remove_other],
            format!("kept {}; removed the package's {}", c.file, c.other),
        ),
        Resolve::New => {
            let backup = format!("{}.vmup-old", c.file);
            if facts
                .paths
                .get(&backup)
                .is_some_and(|f| *f != PathFact::Absent)
            {
                return (Vec::new(), format!("{backup} exists already; left alone"));
            }
            let Some(old) = content(facts, &c.file) else {
                return (
                    Vec::new(),
                    format!("{} could not be read; left alone", c.file),
                );
            };
            (
                vec![
                    Action::Rename {
                        from: c.file.clone(),
                        to: backup.clone(),
                        expect: Expect::File(old.to_vec()),
                    },
                    Action::Rename {
                        from: c.other.clone(),
                        to: c.file.clone(),
                        expect: Expect::File(other.to_vec()),
                    },
                ],
                format!(
                    "installed {} as {}; the old file is {backup}",
                    c.other, c.file
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(content: &str) -> PathFact {
        PathFact::root_file(content.as_bytes())
    }

    fn facts(old: &str, new: &str) -> Facts {
        let mut f = Facts::default();
        f.paths.insert("/etc/foo.conf".into(), file(old));
        f.paths.insert("/etc/foo.conf.rpmnew".into(), file(new));
        f.paths
            .insert("/etc/foo.conf.vmup-old".into(), PathFact::Absent);
        f
    }

    #[test]
    fn keep_removes_the_rpmnew_guarded_by_its_content() {
        let f = facts("a=2\n", "a=1\nb=1\n");
        let c = describe(&f, "rpmnew", "/etc/foo.conf");
        assert!(!c.identical);
        assert!(c.diff.contains("+b=1"), "{}", c.diff);
        let (actions, what) = resolution(&f, &c, Resolve::Keep);
        assert_eq!(
            actions,
            [Action::Remove {
                path: "/etc/foo.conf.rpmnew".into(),
                expect: Expect::File(b"a=1\nb=1\n".to_vec())
            }]
        );
        assert!(what.starts_with("kept /etc/foo.conf"), "{what}");
    }

    #[test]
    fn new_renames_with_a_backup() {
        let f = facts("a=2\n", "a=1\n");
        let c = describe(&f, "rpmnew", "/etc/foo.conf");
        let (actions, _) = resolution(&f, &c, Resolve::New);
        assert_eq!(actions.len(), 2);
        assert!(matches!(&actions[0], Action::Rename { to, .. } if to == "/etc/foo.conf.vmup-old"));
        assert!(
            matches!(&actions[1], Action::Rename { from, to, .. } if from == "/etc/foo.conf.rpmnew" && to == "/etc/foo.conf")
        );
    }

    #[test]
    fn identical_pairs_are_cleaned_and_rpmsave_is_left() {
        let f = facts("same\n", "same\n");
        let c = describe(&f, "rpmnew", "/etc/foo.conf");
        assert!(c.identical);
        let (actions, _) = resolution(&f, &c, Resolve::New);
        assert!(matches!(actions.as_slice(), [Action::Remove { .. }]));
        let mut f = facts("a\n", "b\n");
        f.paths.insert("/etc/foo.conf.rpmsave".into(), file("b\n"));
        let c = describe(&f, "rpmsave", "/etc/foo.conf");
        let (actions, what) = resolution(&f, &c, Resolve::Keep);
        assert!(actions.is_empty());
        assert!(what.contains("merge"), "{what}");
    }
}
