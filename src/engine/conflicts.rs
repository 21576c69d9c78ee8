//! Config conflicts: `.rpmnew`, `.rpmsave` and `.rpmorig` files rpm left beside package
//! config files, found, shown as diffs and resolved, without a runbook.
//!
//! The seed's "Handle RPM conflicts (printed in the output of yum update)". One script per
//! host lists the config files of every installed package (`rpm -qac`) and tests each for
//! the three suffixes with shell built-ins; a second reads the pairs. Resolving acts on
//! `.rpmnew` files: `keep` removes the package's new version, `new` puts it in place and
//! keeps the old file as `FILE.vmup-old`. Pairs whose two files are identical are cleaned
//! up silently. Every removal and rename is compare-and-swap guarded, as in a run.

use crate::inventory::Host;
use crate::remote::apply::{apply_script, parse_apply};
use crate::remote::frame::Boundary;
use crate::remote::pkg::RPM_FN;
use crate::remote::{Action, Expect, FactKey, Facts, PathFact};
use crate::transport::Transport;

use super::diff::unified;
use super::host_run::gather_facts;

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

const FIND: &str = "vmup_rpm -qac 2>/dev/null | sort -u | while IFS= read -r f; do\n  for s in rpmnew rpmsave rpmorig; do [ -f \"$VMUP_ROOT$f.$s\" ] && printf '%s %s\\n' \"$s\" \"$f\"; done\ndone\n:";

/// Finds the conflicts on `host` and, with `resolve`, resolves them. Identical pairs are
/// cleaned only when resolving (a plain listing changes nothing).
pub fn conflicts(
    host: &Host,
    transport: &dyn Transport,
    resolve: Option<Resolve>,
) -> Result<Vec<Conflict>, String> {
    let find = FactKey::Command {
        name: "conflicts".into(),
        script: format!("{RPM_FN}{FIND}").into_bytes(),
    };
    let found = gather_facts(host, transport, &[find])?;
    let listing = found
        .commands
        .get("conflicts")
        .map(|c| String::from_utf8_lossy(&c.stdout).into_owned())
        .unwrap_or_default();
    let pairs: Vec<(String, String)> = listing
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(kind, file)| (kind.to_string(), file.to_string()))
        .collect();
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut keys = Vec::new();
    for (kind, file) in &pairs {
        for (path, content) in [
            (file.clone(), true),
            (format!("{file}.{kind}"), true),
            (format!("{file}.vmup-old"), false),
        ] {
            keys.push(FactKey::Path { path, content });
        }
    }
    let keys = crate::remote::facts::merge_keys(keys);
    let facts = gather_facts(host, transport, &keys)?;
    let mut found: Vec<Conflict> = pairs
        .iter()
        .map(|(kind, file)| describe(&facts, kind, file))
        .collect();
    let Some(how) = resolve else {
        return Ok(found);
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
        return Ok(found);
    }
    let boundary = Boundary::random();
    let script = apply_script(&actions, &host.path_root(), &boundary).map_err(|e| e.to_string())?;
    let output = transport.run(&script).map_err(|e| e.to_string())?;
    let outcome = parse_apply(&boundary, &output.stdout).map_err(|e| e.to_string())?;
    if let Some(failure) = outcome.failure {
        let c = &mut found[owners[failure.index.min(owners.len() - 1)]];
        let why = if failure.changed_underneath {
            "changed since it was read; left alone".to_string()
        } else {
            failure.message
        };
        c.resolution = Some(format!("failed: {why}"));
        return Err(format!("{}: {why}", c.other));
    }
    Ok(found)
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
