//! `vmup report merge`: the JSON lines of the N shards of one run (`--shard K/N`, e.g. the
//! tasks of a Slurm job array) made into the run they are the parts of: each host's final
//! line, one summary and the hosts to retry.
//!
//! A merge that could misreport is refused rather than guessed at: a host in two files,
//! files of different commands or of different N, a shard given twice, and above all a
//! shard missing (a task that never started leaves no file, and its hosts would silently
//! drop out of a report that then reads "converged").

use std::collections::{BTreeSet, HashMap};

use super::input::{self, HostLine, InputError, Status};
use crate::engine::shard::Shard;

/// The merged run.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// Each host's final line, in the order the files (and then their lines) first name it.
    pub hosts: Vec<HostLine>,
    /// The command the files ran; `None` when their lines do not say (an older vmup).
    pub command: Option<String>,
    /// N, when the files are the shards of a `--shard K/N` run.
    pub shards: Option<u32>,
    /// How many files were merged.
    pub files: usize,
    /// Whether any of them was interrupted.
    pub interrupted: bool,
    /// The slowest file's wall time in seconds: the shards ran side by side.
    pub elapsed: f64,
}

impl Merged {
    /// Hosts whose final status is `status`.
    pub fn count(&self, status: Status) -> usize {
        self.hosts.iter().filter(|h| h.status == status).count()
    }

    /// Changes over every host's final line.
    pub fn changes(&self) -> usize {
        self.hosts.iter().map(|h| h.changes.len()).sum()
    }

    /// The hosts a retry file lists, as a run's own retry file would: those that failed,
    /// were unreachable, were skipped or had a change held back.
    pub fn retry(&self) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|h| {
                matches!(
                    h.status,
                    Status::Failed | Status::Unreachable | Status::Skipped | Status::Held
                )
            })
            .map(|h| h.host.as_str())
            .collect()
    }
}

/// Why the files do not make one run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// A file is not vmup's JSON lines.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A host's final state would be ambiguous.
    #[error(
        "host {host} is in both {first} and {second}: the files overlap (the same shard twice, or runs of overlapping selections)"
    )]
    Overlap {
        /// The host.
        host: String,
        /// The file that named it first.
        first: String,
        /// The other file.
        second: String,
    },
    /// The files are runs of different commands.
    #[error(
        "{file} is a run of `{found}` but {first} is a run of `{expected}`: merge the shards of one run"
    )]
    Commands {
        /// The file that differs.
        file: String,
        /// Its command.
        found: String,
        /// The first file.
        first: String,
        /// The first file's command.
        expected: String,
    },
    /// Some files are shards and some are not, or of different N.
    #[error("{file} is {found} but {first} is {expected}: merge the shards of one run")]
    Shards {
        /// The file that differs.
        file: String,
        /// What it is (`shard 1/4`, `not a --shard run`).
        found: String,
        /// The first file.
        first: String,
        /// What the first file is.
        expected: String,
    },
    /// A shard's output was given twice.
    #[error("shard {shard} is given twice: {first} and {second}")]
    ShardTwice {
        /// The shard.
        shard: String,
        /// Its first file.
        first: String,
        /// The second one.
        second: String,
    },
    /// Shards are missing: their hosts would be left out of the report.
    #[error(
        "shard {missing} of {of} missing: its hosts are in none of the files, so the merged report would leave them out"
    )]
    Missing {
        /// The missing shards, `K/N` each, comma-separated.
        missing: String,
        /// N.
        of: u32,
    },
    /// A summary line names a shard that is not `K/N`.
    #[error("{file}: the summary names shard {shard:?}, which is not K/N")]
    BadShard {
        /// The file.
        file: String,
        /// What it said.
        shard: String,
    },
}

/// Merges `files` (name as messages show it, text) into one run.
pub fn merge(files: &[(String, String)]) -> Result<Merged, MergeError> {
    let mut hosts: Vec<HostLine> = Vec::new();
    let mut owner: HashMap<String, (usize, usize)> = HashMap::new();
    let mut first: Option<(&str, Option<String>, Option<Shard>)> = None;
    let mut seen_shards: HashMap<u32, &str> = HashMap::new();
    let mut interrupted = false;
    let mut elapsed: f64 = 0.0;
    for (file_no, (name, text)) in files.iter().enumerate() {
        let runs = input::parse(name, text)?;
        let Some(opening) = runs.first() else {
            continue;
        };
        let command = opening.summary.command.clone();
        let shard = match &opening.summary.shard {
            Some(text) => Some(Shard::parse(text).map_err(|_| MergeError::BadShard {
                file: name.clone(),
                shard: text.clone(),
            })?),
            None => None,
        };
        match &first {
            None => first = Some((name, command.clone(), shard)),
            Some((first_name, first_command, first_shard)) => {
                if command != *first_command {
                    return Err(MergeError::Commands {
                        file: name.clone(),
                        found: command.unwrap_or_else(|| "an unnamed command".into()),
                        first: first_name.to_string(),
                        expected: first_command
                            .clone()
                            .unwrap_or_else(|| "an unnamed command".into()),
                    });
                }
                if shard.map(|s| s.of) != first_shard.map(|s| s.of) {
                    return Err(MergeError::Shards {
                        file: name.clone(),
                        found: describe(shard),
                        first: first_name.to_string(),
                        expected: describe(*first_shard),
                    });
                }
            }
        }
        if let Some(shard) = shard
            && let Some(earlier) = seen_shards.insert(shard.index, name)
        {
            return Err(MergeError::ShardTwice {
                shard: shard.to_string(),
                first: earlier.to_string(),
                second: name.clone(),
            });
        }
        let mut file_elapsed = 0.0;
        for run in runs {
            interrupted |= run.summary.interrupted;
            file_elapsed += run.summary.elapsed.unwrap_or(0.0);
            for line in run.hosts {
                match owner.get(&line.host) {
                    Some(&(owner_file, at)) if owner_file == file_no => hosts[at] = line,
                    Some(&(owner_file, _)) => {
                        return Err(MergeError::Overlap {
                            host: line.host,
                            first: files[owner_file].0.clone(),
                            second: name.clone(),
                        });
                    }
                    None => {
                        owner.insert(line.host.clone(), (file_no, hosts.len()));
                        hosts.push(line);
                    }
                }
            }
        }
        elapsed = elapsed.max(file_elapsed);
    }
    let (command, shards) = match first {
        Some((_, command, shard)) => (command, shard.map(|s| s.of)),
        None => (None, None),
    };
    if let Some(of) = shards {
        let missing: BTreeSet<u32> = (0..of).filter(|k| !seen_shards.contains_key(k)).collect();
        if !missing.is_empty() {
            let missing: Vec<String> = missing.iter().map(|k| format!("{k}/{of}")).collect();
            return Err(MergeError::Missing {
                missing: missing.join(", "),
                of,
            });
        }
    }
    Ok(Merged {
        hosts,
        command,
        shards,
        files: files.len(),
        interrupted,
        elapsed,
    })
}

fn describe(shard: Option<Shard>) -> String {
    match shard {
        Some(s) => format!("shard {s}"),
        None => "not a --shard run".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, status: &str) -> String {
        format!(
            r#"{{"host":"{name}","phase":"plan","status":"{status}","changes":[{{"step":"s","resource":"line","summary":"x"}}],"round_trips":1,"extra":7}}"#
        )
    }

    fn summary(command: &str, shard: Option<&str>, elapsed: f64) -> String {
        let shard = shard
            .map(|s| format!(r#","shard":"{s}""#))
            .unwrap_or_default();
        format!(
            r#"{{"summary":{{"hosts":0,"interrupted":false,"elapsed":{elapsed},"command":"{command}"{shard}}}}}"#
        )
    }

    fn file(name: &str, lines: &[String]) -> (String, String) {
        (name.to_string(), format!("{}\n", lines.join("\n")))
    }

    fn shards(of: u32, hosts: &[(&str, &str, u32)]) -> Vec<(String, String)> {
        (0..of)
            .map(|k| {
                let mut lines: Vec<String> = hosts
                    .iter()
                    .filter(|h| h.2 == k)
                    .map(|(n, s, _)| host(n, s))
                    .collect();
                lines.push(summary("plan", Some(&format!("{k}/{of}")), f64::from(k)));
                file(&format!("run-{k}.jsonl"), &lines)
            })
            .collect()
    }

    #[test]
    fn shards_make_one_run_with_every_host_and_the_slowest_time() {
        let files = shards(
            3,
            &[
                ("a", "ok", 0),
                ("b", "changed", 1),
                ("c", "unreachable", 1),
                ("d", "failed", 2),
            ],
        );
        let merged = merge(&files).unwrap();
        let names: Vec<&str> = merged.hosts.iter().map(|h| h.host.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(merged.count(Status::Changed), 1);
        assert_eq!(merged.count(Status::Unreachable), 1);
        assert_eq!(merged.changes(), 4);
        assert_eq!(merged.retry(), ["c", "d"]);
        assert_eq!(merged.shards, Some(3));
        assert_eq!(merged.command.as_deref(), Some("plan"));
        assert_eq!(merged.elapsed, 2.0);
        // The lines are kept whole, fields vmup report does not read included.
        assert_eq!(merged.hosts[0].raw.as_ref().unwrap()["extra"], 7);
    }

    #[test]
    fn a_hosts_last_line_in_its_file_is_its_final_state() {
        let files = vec![file(
            "apply.jsonl",
            &[
                host("g1", "changed"),
                host("g2", "changed"),
                summary("apply", None, 1.0),
                host("g1", "failed"),
                summary("step 2 (recreate)", None, 2.0),
            ],
        )];
        let merged = merge(&files).unwrap();
        assert_eq!(merged.hosts.len(), 2);
        assert_eq!(merged.hosts[0].status, Status::Failed);
        assert_eq!(merged.elapsed, 3.0);
    }

    #[test]
    fn a_missing_shard_is_refused_by_number() {
        let mut files = shards(4, &[("a", "ok", 0), ("b", "ok", 2)]);
        files.remove(2);
        files.remove(0);
        let err = merge(&files).unwrap_err();
        assert_eq!(
            err,
            MergeError::Missing {
                missing: "0/4, 2/4".into(),
                of: 4
            }
        );
        assert!(
            err.to_string().starts_with("shard 0/4, 2/4 of 4 missing"),
            "{err}"
        );
    }

    #[test]
    fn overlapping_or_mismatched_files_are_refused() {
        let files = shards(2, &[("a", "ok", 0), ("b", "ok", 1)]);
        let twice = vec![files[0].clone(), files[0].clone(), files[1].clone()];
        assert!(matches!(merge(&twice), Err(MergeError::ShardTwice { .. })));

        let overlap = vec![
            file("x", &[host("a", "ok"), summary("plan", None, 0.0)]),
            file("y", &[host("a", "changed"), summary("plan", None, 0.0)]),
        ];
        let err = merge(&overlap).unwrap_err();
        assert!(
            err.to_string().starts_with("host a is in both x and y"),
            "{err}"
        );

        let commands = vec![
            file("x", &[summary("plan", None, 0.0)]),
            file("y", &[summary("apply", None, 0.0)]),
        ];
        assert!(matches!(merge(&commands), Err(MergeError::Commands { .. })));

        let mixed = vec![
            file("x", &[summary("plan", Some("0/2"), 0.0)]),
            file("y", &[summary("plan", Some("1/3"), 0.0)]),
        ];
        let err = merge(&mixed).unwrap_err();
        assert_eq!(
            err.to_string(),
            "y is shard 1/3 but x is shard 0/2: merge the shards of one run"
        );
        let half = vec![
            file("x", &[summary("plan", Some("0/2"), 0.0)]),
            file("y", &[summary("plan", None, 0.0)]),
        ];
        assert!(matches!(merge(&half), Err(MergeError::Shards { .. })));

        let bad = vec![file("x", &[summary("plan", Some("5/2"), 0.0)])];
        assert!(matches!(merge(&bad), Err(MergeError::BadShard { .. })));
    }

    #[test]
    fn unsharded_runs_of_disjoint_hosts_merge() {
        let files = vec![
            file("x", &[host("a", "ok"), summary("plan", None, 1.0)]),
            file("y", &[host("b", "held"), summary("plan", None, 0.5)]),
        ];
        let merged = merge(&files).unwrap();
        assert_eq!(merged.shards, None);
        assert_eq!(merged.retry(), ["b"]);
    }
}
