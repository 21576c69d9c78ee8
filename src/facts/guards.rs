//! The guards of a `command` step (the seed's site quirks: python24 reinstalled after the
//! update removed it, the nfs init script's start order), read in the facts round trip:
//! whether a guard command exits 0 on the host, and whether the host is a local tree, where
//! nothing may run.
//!
//! A guard is `/bin/sh -c CMD` with CMD passed as one quoted word (the one quoting function,
//! after `--`, so a command starting with `-` is never taken for an option of sh), with the
//! step's `cwd` and `env`, standard input from /dev/null (the facts script itself arrives on
//! the shell's standard input and must not be eaten by it) and its output discarded: only
//! its exit status is the fact. The guard is the user's own code: keeping it read-only is
//! the user's responsibility, vmup runs it on every plan, apply and verify. On a local
//! tree (`$VMUP_ROOT` set) the guard is never started: the tree's controller is not the
//! guest, and running the guard there would answer about the wrong machine.

use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// A shell command as a `command` step runs it: the text for `sh -c`, its working directory
/// and extra environment. Shared by the guards (facts) and the run itself (apply), so both
/// see the same directory and variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    /// Shell code, passed to `/bin/sh -c` as one word.
    pub command: String,
    /// Directory to run in (absolute; validated by the resource).
    pub cwd: Option<String>,
    /// Variables to set, `NAME` validated as a shell name by the resource.
    pub env: Vec<(String, String)>,
}

impl ShellCommand {
    /// Writes `[cd -- DIR &&] [env -- NAME=VALUE... ]/bin/sh -c -- CMD`, every value quoted.
    /// The caller redirects its input and output.
    pub fn write(&self, s: &mut Script) {
        if let Some(dir) = &self.cwd {
            s.code("cd --").arg(dir.as_bytes()).code(" && ");
        }
        if !self.env.is_empty() {
            s.code("env --");
            for (name, value) in &self.env {
                s.arg(format!("{name}={value}").as_bytes());
            }
            s.code(" ");
        }
        s.code("/bin/sh -c --").arg(self.command.as_bytes());
    }

    /// A short, unambiguous rendering for fact names and messages: the command in Rust
    /// string syntax (quotes and newlines escaped), then the directory and variables.
    pub fn label(&self) -> String {
        let mut text = format!("{:?}", self.command);
        if let Some(dir) = &self.cwd {
            text.push_str(&format!(" in {dir:?}"));
        }
        for (name, value) in &self.env {
            text.push_str(&format!(" with {name}={value:?}"));
        }
        text
    }
}

/// Whether the host is a local tree (a guest disk or directory under `root`): `$VMUP_ROOT`,
/// the same signal every tree-aware snippet reads (`vmup_under`, `vmup_abs_root`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTree;

impl Fact for LocalTree {
    type Value = bool;

    fn name(&self) -> String {
        "local tree".into()
    }

    fn script(&self, s: &mut Script) {
        s.code("if [ -n \"$VMUP_ROOT\" ]; then echo tree; else echo host; fi");
    }

    /// Built-ins and functions only, leaving with `return`.
    fn in_shell(&self) -> bool {
        true
    }

    fn parse(&self, output: &CommandOutput) -> Result<bool, FactError> {
        match String::from_utf8_lossy(&output.stdout).trim() {
            "tree" => Ok(true),
            "host" => Ok(false),
            other => Err(FactError::Malformed {
                fact: self.name(),
                why: format!("{other:?} is neither `tree` nor `host`"),
            }),
        }
    }
}

/// The exit status of one guard command on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardStatus {
    /// The guard, with the step's directory and environment.
    pub shell: ShellCommand,
}

/// What a guard answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardOutcome {
    /// It ran and exited with this status (126/127: not executable / not found, as sh says).
    Exited(i32),
    /// The host is a local tree: it was not run.
    Tree,
    /// The step's `cwd` is not a directory the shell can enter: it was not run.
    NoCwd,
}

impl Fact for GuardStatus {
    type Value = GuardOutcome;

    fn name(&self) -> String {
        format!("guard {}", self.shell.label())
    }

    fn script(&self, s: &mut Script) {
        s.code("if [ -n \"$VMUP_ROOT\" ]; then echo tree\n");
        if let Some(dir) = &self.shell.cwd {
            s.code("elif ! cd --")
                .arg(dir.as_bytes())
                .code(" 2>/dev/null; then echo nocwd\n");
        }
        let run = ShellCommand {
            cwd: None,
            ..self.shell.clone()
        };
        s.code("else ");
        run.write(s);
        s.code(" </dev/null >/dev/null 2>&1; echo \"exit $?\"\nfi");
    }

    /// Without a `cwd`, built-ins and the guard's own `/bin/sh`: no subshell. With one,
    /// the subshell keeps the `cd` from the facts that follow.
    fn in_shell(&self) -> bool {
        self.shell.cwd.is_none()
    }

    fn parse(&self, output: &CommandOutput) -> Result<GuardOutcome, FactError> {
        let text = String::from_utf8_lossy(&output.stdout);
        let text = text.trim();
        let found = match text {
            "tree" => Some(GuardOutcome::Tree),
            "nocwd" => Some(GuardOutcome::NoCwd),
            _ => text
                .strip_prefix("exit ")
                .and_then(|n| n.parse().ok())
                .map(GuardOutcome::Exited),
        };
        match found {
            Some(outcome) => Ok(outcome),
            // The snippet itself died before saying anything (the shell killed by a
            // signal): never a guess.
            None if output.status != 0 => Err(FactError::failed(&self.name(), output)),
            None => Err(FactError::Malformed {
                fact: self.name(),
                why: format!("{text:?} is not `exit N`"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactKey, facts_script, parse_facts};
    use crate::remote::frame::Boundary;
    use crate::transport::Transport;
    use crate::transport::local::LocalTransport;

    fn guard(command: &str) -> GuardStatus {
        GuardStatus {
            shell: ShellCommand {
                command: command.into(),
                cwd: None,
                env: Vec::new(),
            },
        }
    }

    fn gather(keys: &[FactKey], root: &str) -> crate::facts::Facts {
        let b = Boundary::random();
        let script = facts_script(keys, root, &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        parse_facts(keys, &b, &out.stdout).unwrap()
    }

    fn out(text: &str, status: i32) -> CommandOutput {
        CommandOutput {
            stdout: text.as_bytes().to_vec(),
            status,
        }
    }

    #[test]
    fn exit_statuses_are_read_back() {
        let g = guard("true");
        assert_eq!(g.parse(&out("exit 0\n", 0)), Ok(GuardOutcome::Exited(0)));
        assert_eq!(g.parse(&out("exit 127", 0)), Ok(GuardOutcome::Exited(127)));
        assert_eq!(g.parse(&out("tree\n", 0)), Ok(GuardOutcome::Tree));
        assert_eq!(g.parse(&out("nocwd\n", 0)), Ok(GuardOutcome::NoCwd));
        assert!(matches!(
            g.parse(&out("", 0)),
            Err(FactError::Malformed { .. })
        ));
        assert!(matches!(
            g.parse(&out("", 137)),
            Err(FactError::Failed { status: 137, .. })
        ));
        assert_eq!(LocalTree.parse(&out("tree\n", 0)), Ok(true));
        assert_eq!(LocalTree.parse(&out("host\n", 0)), Ok(false));
        assert!(LocalTree.parse(&out("", 0)).is_err());
    }

    /// A guard without a directory runs in the facts script's own shell; one with a
    /// directory keeps its subshell, so its `cd` never reaches the guards after it.
    #[test]
    fn a_guards_directory_stays_its_own() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("vmup-guard-probe"), "").unwrap();
        let mut inside = guard("test -e vmup-guard-probe");
        inside.shell.cwd = Some(dir.path().to_str().unwrap().into());
        let after = guard("test -e vmup-guard-probe");
        assert!(!inside.in_shell());
        assert!(after.in_shell());
        let facts = gather(&[inside.key(), after.key()], "");
        assert_eq!(facts.get(&inside), Ok(GuardOutcome::Exited(0)));
        assert_eq!(facts.get(&after), Ok(GuardOutcome::Exited(1)));
    }

    #[test]
    fn names_tell_distinct_guards_apart() {
        let mut a = guard("rpm -q python24");
        assert_eq!(a.name(), "guard \"rpm -q python24\"");
        let plain = a.name();
        a.shell.cwd = Some("/tmp".into());
        a.shell.env = vec![("LANG".into(), "C".into())];
        assert_eq!(
            a.name(),
            "guard \"rpm -q python24\" in \"/tmp\" with LANG=\"C\""
        );
        assert_ne!(a.name(), plain);
        assert_ne!(guard("a\nb").name(), guard("a b").name());
    }

    /// Run for real on this machine (no root): statuses, quoting, cwd and env, and a guard
    /// that reads standard input does not eat the rest of the facts script.
    #[test]
    fn guards_run_on_a_host_with_their_cwd_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        std::fs::write(dir.path().join("here"), "").unwrap();
        let nasty =
            "x='it'\\''s'; [ \"$x\" = \"it's\" ] && [ \"$(printf '%s' \"$V\")\" = 'a $b\n\"c\"' ]";
        let guards = [
            guard("cat; exit 3"),
            guard("nosuchcommand-vmup"),
            GuardStatus {
                shell: ShellCommand {
                    command: "test -e here".into(),
                    cwd: Some(d.into()),
                    env: Vec::new(),
                },
            },
            GuardStatus {
                shell: ShellCommand {
                    command: "true".into(),
                    cwd: Some(format!("{d}/missing")),
                    env: Vec::new(),
                },
            },
            GuardStatus {
                shell: ShellCommand {
                    command: nasty.into(),
                    cwd: None,
                    env: vec![("V".into(), "a $b\n\"c\"".into())],
                },
            },
            guard("-x"),
        ];
        let mut keys: Vec<FactKey> = guards.iter().map(Fact::key).collect();
        keys.push(LocalTree.key());
        let facts = gather(&keys, "");
        let got: Vec<GuardOutcome> = guards.iter().map(|g| facts.get(g).unwrap()).collect();
        assert_eq!(
            got,
            [
                GuardOutcome::Exited(3),
                GuardOutcome::Exited(127),
                GuardOutcome::Exited(0),
                GuardOutcome::NoCwd,
                GuardOutcome::Exited(0),
                GuardOutcome::Exited(127),
            ]
        );
        assert_eq!(
            facts.get(&LocalTree),
            Ok(false),
            "the facts after `cat` came back"
        );
    }

    /// On a tree nothing is started: the guard would create a file if it ran.
    #[test]
    fn a_tree_never_runs_its_guards() {
        let tree = tempfile::tempdir().unwrap();
        let marker = tree.path().join("ran");
        let g = guard(&format!("touch {}", marker.display()));
        let keys = vec![g.key(), LocalTree.key()];
        let facts = gather(&keys, tree.path().to_str().unwrap());
        assert_eq!(facts.get(&g), Ok(GuardOutcome::Tree));
        assert_eq!(facts.get(&LocalTree), Ok(true));
        assert!(!marker.exists(), "the guard ran on the controller");
    }
}
