//! `vmup facts` over a fleet: what vmup reads from each selected machine, in one round trip
//! per machine, as a value a report can show as a table or a JSON line.
//!
//! The facts shown are picked by name: the built-in ones (`hostname`, `cpus`,
//! `kernel_release`), a path (anything starting with `/`), or a command fact of the runbook
//! (`kernel-inventory kernel-xenU`). Picking decides what is gathered, too: a path picked
//! alone costs one `stat` on each host, not the runbook's whole set.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::facts::{FactKey, Facts, PathFact, merge_keys};

use super::gather::gather;
use super::prepare::Job;
use super::report::{HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork};

/// The facts every host's script reads whatever is asked, by the names `--fact` takes.
pub const BUILT_IN: [&str; 3] = ["hostname", "cpus", "kernel_release"];

/// One fact a person asked to see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// One of [`BUILT_IN`].
    BuiltIn(&'static str),
    /// A path's type, mode, owner and (for a regular file) content.
    Path(String),
    /// A command fact of the runbook, by the name it is stored under.
    Command(String),
}

impl Pick {
    /// The name the fact is shown under: a column heading, a JSON key.
    pub fn name(&self) -> &str {
        match self {
            Pick::BuiltIn(name) => name,
            Pick::Path(path) => path,
            Pick::Command(name) => name,
        }
    }
}

/// Why a `--fact` name cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no fact is called {name:?}: give {}, an absolute path{}", BUILT_IN.join(", "), commands_hint(.commands))]
pub struct UnknownFact {
    /// The name given.
    pub name: String,
    /// The command facts the runbook has, to choose from.
    pub commands: Vec<String>,
}

fn commands_hint(commands: &[String]) -> String {
    if commands.is_empty() {
        " (this runbook has no command facts)".to_string()
    } else {
        format!(
            ", or one of the runbook's command facts: {}",
            commands.join(", ")
        )
    }
}

/// Resolves `names` against the runbook's fact keys `available`: which facts to show, and
/// exactly the keys to gather for them. No names: every available key, built-ins shown.
pub fn pick(
    names: &[String],
    available: &[FactKey],
) -> Result<(Vec<Pick>, Vec<FactKey>), UnknownFact> {
    if names.is_empty() {
        let picks = BUILT_IN.iter().map(|n| Pick::BuiltIn(n)).collect();
        return Ok((picks, merge_keys(available.iter().cloned())));
    }
    let mut picks = Vec::new();
    let mut keys = Vec::new();
    for name in names {
        let picked = if let Some(builtin) = BUILT_IN.iter().find(|b| **b == name) {
            Pick::BuiltIn(builtin)
        } else if name.starts_with('/') {
            keys.push(FactKey::Path {
                path: name.clone(),
                content: true,
            });
            Pick::Path(name.clone())
        } else if let Some(key) = available
            .iter()
            .find(|k| matches!(k, FactKey::Command { name: n, .. } if n == name))
        {
            keys.push(key.clone());
            Pick::Command(name.clone())
        } else {
            return Err(UnknownFact {
                name: name.clone(),
                commands: command_names(available),
            });
        };
        if !picks.contains(&picked) {
            picks.push(picked);
        }
    }
    Ok((picks, merge_keys(keys)))
}

fn command_names(keys: &[FactKey]) -> Vec<String> {
    let mut names: Vec<String> = keys
        .iter()
        .filter_map(|k| match k {
            FactKey::Command { name, .. } => Some(name.clone()),
            FactKey::Path { .. } => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A path as shown: the JSON shape `vmup facts` has always printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PathView {
    /// Nothing there.
    Absent,
    /// A device, socket or fifo.
    Other,
    /// A directory.
    Directory {
        /// Permission bits in octal, `0755`.
        mode: String,
        /// Numeric owner.
        uid: u32,
        /// Numeric group.
        gid: u32,
    },
    /// A symbolic link.
    Symlink {
        /// Its target as stored (lossily decoded).
        target: String,
    },
    /// A regular file.
    File {
        /// Permission bits in octal, `0644`.
        mode: String,
        /// Numeric owner.
        uid: u32,
        /// Numeric group.
        gid: u32,
        /// Its length, when its bytes were read.
        size: Option<usize>,
        /// Its bytes (lossily decoded), when read.
        content: Option<String>,
    },
}

impl From<&PathFact> for PathView {
    fn from(fact: &PathFact) -> PathView {
        match fact {
            PathFact::Absent => PathView::Absent,
            PathFact::Other => PathView::Other,
            PathFact::Dir { mode, uid, gid } => PathView::Directory {
                mode: format!("{mode:04o}"),
                uid: *uid,
                gid: *gid,
            },
            PathFact::Symlink { target } => PathView::Symlink {
                target: String::from_utf8_lossy(target).into_owned(),
            },
            PathFact::File {
                mode,
                uid,
                gid,
                content,
            } => PathView::File {
                mode: format!("{mode:04o}"),
                uid: *uid,
                gid: *gid,
                size: content.as_ref().map(Vec::len),
                content: content
                    .as_ref()
                    .map(|c| String::from_utf8_lossy(c).into_owned()),
            },
        }
    }
}

/// A command fact as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandView {
    /// Its exit status on the host.
    pub status: i32,
    /// What it printed (lossily decoded).
    pub stdout: String,
}

/// The picked facts of one host: flattened into its JSON line. A built-in fact that was
/// picked but is unknown (a local tree has no hostname) is `null`; one not picked is left
/// out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FactsView {
    /// The host's own idea of its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<Option<String>>,
    /// Online CPUs (for a local tree, the inventory's `cpus`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<Option<u32>>,
    /// `uname -r`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel_release: Option<Option<String>>,
    /// Picked paths by path.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub paths: BTreeMap<String, PathView>,
    /// Picked command facts by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<String, CommandView>,
}

impl FactsView {
    /// What `picks` shows of `facts`; with no explicit picks, every path and command
    /// gathered as well (the single-host listing shows them all).
    pub fn new(facts: &Facts, picks: &[Pick], everything: bool) -> FactsView {
        let shown = |p: &Pick| everything || picks.contains(p);
        let builtin = |name: &'static str| shown(&Pick::BuiltIn(name));
        FactsView {
            hostname: builtin("hostname").then(|| facts.hostname.clone()),
            cpus: builtin("cpus").then_some(facts.cpus),
            kernel_release: builtin("kernel_release").then(|| facts.kernel_release.clone()),
            paths: facts
                .paths
                .iter()
                .filter(|(p, _)| shown(&Pick::Path((*p).clone())))
                .map(|(p, f)| (p.clone(), PathView::from(f)))
                .collect(),
            commands: facts
                .commands
                .iter()
                .filter(|(n, _)| shown(&Pick::Command((*n).clone())))
                .map(|(n, c)| {
                    (
                        n.clone(),
                        CommandView {
                            status: c.status,
                            stdout: String::from_utf8_lossy(&c.stdout).into_owned(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// One line for a table cell: a file's first line of text, a command's first line of
    /// output (with its exit status when not 0), or a path's type and mode.
    pub fn cell(&self, pick: &Pick) -> String {
        let first_line = |s: &str| s.lines().next().unwrap_or("").trim_end().to_string();
        match pick {
            Pick::BuiltIn("hostname") => self.hostname.clone().flatten().unwrap_or("?".into()),
            Pick::BuiltIn("cpus") => self.cpus.flatten().map_or("?".into(), |c| c.to_string()),
            Pick::BuiltIn(_) => self.kernel_release.clone().flatten().unwrap_or("?".into()),
            Pick::Path(path) => match self.paths.get(path) {
                None => "?".into(),
                Some(PathView::Absent) => "absent".into(),
                Some(PathView::Other) => "special file".into(),
                Some(PathView::Directory { mode, uid, gid }) => {
                    format!("directory {mode} {uid}:{gid}")
                }
                Some(PathView::Symlink { target }) => format!("-> {target}"),
                Some(PathView::File {
                    content: Some(text),
                    ..
                }) if !text.trim().is_empty() => first_line(text.trim_start()),
                Some(PathView::File {
                    mode,
                    uid,
                    gid,
                    size,
                    ..
                }) => format!("file {mode} {uid}:{gid}, {} bytes", size.unwrap_or(0)),
            },
            Pick::Command(name) => match self.commands.get(name) {
                None => "?".into(),
                Some(c) if c.status == 0 => first_line(&c.stdout),
                Some(c) => format!("(exit {}) {}", c.status, first_line(&c.stdout)),
            },
        }
    }
}

/// `vmup facts` on every selected machine: gathers exactly `keys` and shows `picks`.
#[derive(Debug, Clone)]
pub struct ReadFacts {
    /// The facts to show, in order.
    pub picks: Vec<Pick>,
    /// The keys to gather for them.
    pub keys: Vec<FactKey>,
    /// Show every gathered path and command, not only the picks (no `--fact` given).
    pub everything: bool,
}

impl HostWork for ReadFacts {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        ctx.phase(&job.host.name, Phase::Facts);
        match gather(job, &self.keys, ctx) {
            Ok(facts) => {
                let mut report = ctx.report(&job.host.name, Phase::Facts, Status::Ok);
                let view = FactsView::new(&facts, &self.picks, self.everything);
                report.detail = Some(HostDetail::Facts(Box::new(view)));
                report
            }
            Err(e) => {
                let mut report = ctx.report(&job.host.name, Phase::Facts, e.status());
                report.error = Some(e.to_string());
                report
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(name: &str) -> FactKey {
        FactKey::Command {
            name: name.to_string(),
            script: b"true".to_vec(),
        }
    }

    #[test]
    fn picks_gather_only_what_they_show() {
        let available = [
            command("kernel-inventory kernel-xenU"),
            FactKey::Path {
                path: "/etc/yum.conf".into(),
                content: true,
            },
        ];
        let names = [
            "kernel_release".to_string(),
            "/etc/redhat-release".to_string(),
        ];
        let (picks, keys) = pick(&names, &available).unwrap();
        assert_eq!(
            picks,
            [
                Pick::BuiltIn("kernel_release"),
                Pick::Path("/etc/redhat-release".into())
            ]
        );
        assert_eq!(
            keys,
            [FactKey::Path {
                path: "/etc/redhat-release".into(),
                content: true
            }],
            "the runbook's own keys are not gathered when not picked"
        );
        let (_, keys) = pick(&["kernel-inventory kernel-xenU".into()], &available).unwrap();
        assert_eq!(keys, [command("kernel-inventory kernel-xenU")]);
        let (picks, keys) = pick(&[], &available).unwrap();
        assert_eq!(picks.len(), 3, "the built-ins");
        assert_eq!(keys.len(), 2, "no pick: the runbook's facts");
    }

    #[test]
    fn an_unknown_name_lists_what_can_be_picked() {
        let err = pick(&["kernel".into()], &[command("b"), command("a")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no fact is called \"kernel\": give hostname, cpus, kernel_release, an absolute path, or one of the runbook's command facts: a, b"
        );
        let err = pick(&["kernel".into()], &[]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with("(this runbook has no command facts)"),
            "{err}"
        );
    }

    #[test]
    fn cells_are_one_line() {
        let mut facts = Facts {
            hostname: Some("ng2".into()),
            ..Facts::default()
        };
        facts.paths.insert(
            "/etc/redhat-release".into(),
            PathFact::root_file(b"\nCentOS release 4.9 (Final)\nKernel \\r\n"),
        );
        facts
            .paths
            .insert("/etc/empty".into(), PathFact::root_file(b""));
        facts.paths.insert("/gone".into(), PathFact::Absent);
        facts.commands.insert(
            "q".into(),
            crate::facts::CommandOutput {
                stdout: b"not installed\nmore\n".to_vec(),
                status: 1,
            },
        );
        let picks = [
            Pick::BuiltIn("hostname"),
            Pick::BuiltIn("cpus"),
            Pick::Path("/etc/redhat-release".into()),
            Pick::Path("/etc/empty".into()),
            Pick::Path("/gone".into()),
            Pick::Command("q".into()),
        ];
        let view = FactsView::new(&facts, &picks, false);
        let cells: Vec<String> = picks.iter().map(|p| view.cell(p)).collect();
        assert_eq!(
            cells,
            [
                "ng2",
                "?",
                "CentOS release 4.9 (Final)",
                "file 0644 0:0, 0 bytes",
                "absent",
                "(exit 1) not installed"
            ]
        );
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["paths"]["/gone"]["type"], "absent");
        assert_eq!(json["paths"]["/etc/empty"]["size"], 0);
        assert_eq!(json["commands"]["q"]["status"], 1);
        assert!(json.get("kernel_release").is_none(), "not picked: {json}");
        assert_eq!(json["cpus"], serde_json::Value::Null, "picked, unknown");
        assert!(json.as_object().unwrap().contains_key("cpus"), "{json}");
    }
}
