//! Facts: what vmup reads from a host, each a shell snippet and its pure parser together.
//!
//! A resource names the facts it needs. Path facts ([`FactKey::Path`]) are built into the
//! facts script; every other fact is a type implementing [`Fact`]: the snippet it runs,
//! the name its output is stored under and the parser that turns that output into a
//! value. Consumers hold the fact value and ask [`Facts::get`] (or
//! `HostView::get`) for its parsed value, so no one rebuilds a name string and a fact
//! that was not gathered is one error, [`FactError::NotGathered`]. Facts live here by area
//! (`packages`, `kernels`, `booted`, `conflicts`, `guards`, `initrd`), each tested from captured output; the
//! engine merges the requests of all steps and [`gather`] runs them as one script.

pub mod accounts;
pub mod boot;
pub mod booted;
pub mod conflicts;
pub mod gather;
pub mod guards;
pub mod initrd;
pub mod kernels;
pub mod packages;
pub mod services;

use std::collections::BTreeMap;

use crate::remote::script::Script;

pub use gather::{FactsError, facts_script, facts_script_one_by_one, merge_keys, parse_facts};

/// One thing a resource needs to know about a host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FactKey {
    /// Type, mode and owner of a path (not following a final symlink), and the bytes of a
    /// regular file when `content` is true.
    Path {
        /// Absolute path on the host (before any transport root is applied).
        path: String,
        /// Whether the file's bytes are needed.
        content: bool,
    },
    /// The raw output of a fixed command, stored under `name` for the resource that asked.
    /// The script is vmup's own code with values already quoted.
    Command {
        /// Name the output is stored under.
        name: String,
        /// Shell code to run; its standard output is the fact.
        script: Vec<u8>,
    },
}

/// What a host's path looked like when facts were gathered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathFact {
    /// Nothing exists at the path.
    Absent,
    /// A regular file.
    File {
        /// Permission bits, e.g. 0o644.
        mode: u32,
        /// Numeric owner.
        uid: u32,
        /// Numeric group.
        gid: u32,
        /// The bytes, when they were asked for.
        content: Option<Vec<u8>>,
    },
    /// A directory.
    Dir {
        /// Permission bits.
        mode: u32,
        /// Numeric owner.
        uid: u32,
        /// Numeric group.
        gid: u32,
    },
    /// A symbolic link and its target as stored.
    Symlink {
        /// The link's target bytes.
        target: Vec<u8>,
    },
    /// Something else (device, socket, fifo).
    Other,
}

impl PathFact {
    /// A root-owned 0644 regular file holding `content`: the common case in fixtures.
    pub fn root_file(content: &[u8]) -> PathFact {
        PathFact::File {
            mode: 0o644,
            uid: 0,
            gid: 0,
            content: Some(content.to_vec()),
        }
    }
}

/// Everything gathered from one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Paths by absolute host path.
    pub paths: BTreeMap<String, PathFact>,
    /// Number of online CPUs.
    pub cpus: Option<u32>,
    /// Temporary files an interrupted vmup run left beside the paths asked for (their
    /// writer is gone): the next apply removes them.
    pub leftovers: Vec<String>,
    /// The host's own idea of its name.
    pub hostname: Option<String>,
    /// `uname -r`: the running kernel release.
    pub kernel_release: Option<String>,
    /// Outputs of [`FactKey::Command`] facts, by name.
    pub commands: BTreeMap<String, CommandOutput>,
    /// For a guest whose steps asked for it: the kernel its host boots it with, read from
    /// the domain config on the host (not by this host's script; the engine fills it in
    /// before planning), or why that cannot be known safely.
    pub booted: Option<Result<booted::BootedKernel, String>>,
}

/// Output and exit status of a command fact, as the host gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// Standard output of the command.
    pub stdout: Vec<u8>,
    /// Its exit status.
    pub status: i32,
}

/// A fact other than a path: a fixed shell snippet (vmup's own code, every value quoted)
/// and the pure parser of its output. Implementations are small values built once from a
/// validated spec, so the same value names the request and reads the answer.
pub trait Fact {
    /// What the output means once parsed.
    type Value;

    /// The name the output is stored under: unique for distinct snippets, the same for
    /// equal ones (requests of several steps are merged by it).
    fn name(&self) -> String;

    /// Writes the snippet; its standard output is the fact. Values go through
    /// [`Script::arg`] and friends, never around them.
    fn script(&self, s: &mut Script);

    /// Reads the output. A command that failed is an error, never an empty answer.
    fn parse(&self, output: &CommandOutput) -> Result<Self::Value, FactError>;

    /// Whether the snippet may run in the facts script's own shell, as a function, rather
    /// than in a subshell of its own (one process per fact, on every host). Only a snippet
    /// written for it says so: it leaves with `return`, never `exit`, does not `cd`, sets
    /// every variable it reads and exports none.
    fn in_shell(&self) -> bool {
        false
    }

    /// The request for the facts script. A snippet that cannot be quoted (a NUL byte in a
    /// value, refused by validation long before) becomes one that fails loudly.
    fn key(&self) -> FactKey {
        let mut s = Script::new();
        if self.in_shell() {
            s.code(IN_SHELL);
        }
        self.script(&mut s);
        let script = s.finish().unwrap_or_else(|_| {
            b"echo 'vmup: a value of this fact holds a NUL byte' >&2; exit 125".to_vec()
        });
        FactKey::Command {
            name: self.name(),
            script,
        }
    }
}

/// First line of a snippet that runs in the facts script's own shell ([`Fact::in_shell`]):
/// a comment, so the snippet reads the same either way.
pub const IN_SHELL: &str = "# vmup: runs in the script's own shell\n";

/// Why a fact's value cannot be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactError {
    /// A bug: a resource read a fact it did not ask for.
    #[error("internal error: fact {0:?} was not gathered")]
    NotGathered(String),
    /// The command failed on the host; its answer would be a guess.
    #[error("{fact} failed on the host (exit status {status}){said}")]
    Failed {
        /// The fact's name.
        fact: String,
        /// Its exit status.
        status: i32,
        /// ` : LAST LINES` of what it printed, or empty.
        said: String,
    },
    /// The output is not what the snippet prints.
    #[error("{fact}: unexpected output: {why}")]
    Malformed {
        /// The fact's name.
        fact: String,
        /// What was wrong.
        why: String,
    },
}

impl FactError {
    /// The error for a command that exited `output.status`, quoting its last lines.
    pub fn failed(fact: &str, output: &CommandOutput) -> FactError {
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let tail = &lines[lines.len().saturating_sub(3)..];
        FactError::Failed {
            fact: fact.to_string(),
            status: output.status,
            said: if tail.is_empty() {
                String::new()
            } else {
                format!(": {}", tail.join(" / "))
            },
        }
    }
}

impl Facts {
    /// Whether `key` was gathered (a path's content too, when the key asks for it), so
    /// a step rendered after gathering can tell which of its facts are still missing.
    pub fn has(&self, key: &FactKey) -> bool {
        match key {
            FactKey::Path { path, content } => match self.paths.get(path) {
                Some(PathFact::File { content: c, .. }) => !content || c.is_some(),
                Some(_) => true,
                None => false,
            },
            FactKey::Command { name, .. } => self.commands.contains_key(name),
        }
    }

    /// Adds what a later round gathered for keys this one lacked: its paths and command
    /// outputs win (a path asked for again with its content), leftovers are kept once,
    /// and what the host says of itself stays as the first round read it.
    pub fn absorb(&mut self, later: Facts) {
        self.paths.extend(later.paths);
        self.commands.extend(later.commands);
        for leftover in later.leftovers {
            if !self.leftovers.contains(&leftover) {
                self.leftovers.push(leftover);
            }
        }
        self.cpus = self.cpus.or(later.cpus);
        self.hostname = self.hostname.take().or(later.hostname);
        self.kernel_release = self.kernel_release.take().or(later.kernel_release);
        self.booted = self.booted.take().or(later.booted);
    }

    /// The parsed value of `fact`, or why it cannot be had.
    pub fn get<F: Fact>(&self, fact: &F) -> Result<F::Value, FactError> {
        let name = fact.name();
        let output = self
            .commands
            .get(&name)
            .ok_or(FactError::NotGathered(name))?;
        fact.parse(output)
    }

    /// Stores `stdout` and `status` as the output of `fact`: for tests and fixtures, which
    /// give a fact's captured output without building its name by hand.
    pub fn insert<F: Fact>(&mut self, fact: &F, stdout: &[u8], status: i32) {
        self.commands.insert(
            fact.name(),
            CommandOutput {
                stdout: stdout.to_vec(),
                status,
            },
        );
    }
}

/// A fact request for a path whose bytes are needed.
pub fn file_fact(path: &str) -> FactKey {
    FactKey::Path {
        path: path.to_string(),
        content: true,
    }
}

/// A fact request for a path whose type is enough.
pub fn stat_fact(path: &str) -> FactKey {
    FactKey::Path {
        path: path.to_string(),
        content: false,
    }
}
