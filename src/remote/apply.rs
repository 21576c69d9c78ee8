//! Apply: the changes a plan decided, as one generated script with compare-and-swap writes.
//!
//! Every change first checks that the host still looks the way the facts said (the
//! precondition, [`Expect`]); a file is written whole to a temporary file in the same
//! directory, given its mode and owner, checked once more against the expected old content,
//! and renamed over the original. If anything changed underneath, the script stops at that
//! change with `changed since facts were gathered` and leaves the file as the other writer
//! left it. Earlier changes of the same script stay done (each one is atomic on its own).

use std::collections::BTreeMap;

use super::NulByte;
use super::frame::{self, Boundary, FrameError};
use super::script::Script;

/// What must still be true of a path for a change to go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Nothing exists at the path.
    Absent,
    /// A regular file with exactly these bytes.
    File(Vec<u8>),
    /// A symlink with exactly this target.
    Symlink(Vec<u8>),
    /// A directory (its contents are not compared).
    Dir,
    /// Anything that is not a symlink, directory or regular file is never expected; this is
    /// "exists, of any type" for removals of things the plan saw.
    Exists,
}

/// One change to a host, as data; the plan shows it, the apply script performs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Replace (or create) a regular file atomically.
    WriteFile {
        /// Absolute path on the host.
        path: String,
        /// What the path must hold right before the rename.
        expect: Expect,
        /// The new bytes.
        content: Vec<u8>,
        /// Permission bits for the new file.
        mode: u32,
        /// `chown` argument (`uid:gid` or `user:group`), or None to leave the writer's.
        owner: Option<String>,
    },
    /// Create or retarget a symlink atomically.
    Symlink {
        /// Absolute path of the link.
        path: String,
        /// What the link should point at.
        target: Vec<u8>,
        /// What the path must hold before.
        expect: Expect,
    },
    /// Rename `from` to `to`; `to` must not exist.
    Rename {
        /// Existing path.
        from: String,
        /// New name, which must be free.
        to: String,
        /// What `from` must be.
        expect: Expect,
    },
    /// Remove a path (recursively for a directory).
    Remove {
        /// Path to remove.
        path: String,
        /// What it must be.
        expect: Expect,
    },
    /// Run a shell fragment built by a resource (already quoted); non-zero exit fails the host.
    Run {
        /// Shell code.
        script: Vec<u8>,
    },
}

impl Action {
    /// The path the change is about, for reports.
    pub fn path(&self) -> Option<&str> {
        match self {
            Action::WriteFile { path, .. }
            | Action::Symlink { path, .. }
            | Action::Remove { path, .. } => Some(path),
            Action::Rename { from, .. } => Some(from),
            Action::Run { .. } => None,
        }
    }
}

const APPLY_FUNCTIONS: &str = r#"vmup_fail() { vmup_rec fail "$1" "$2"; printf '%s' "$3"; vmup_rec end; exit 0; }
vmup_absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
vmup_isfile() { [ -f "$1" ] && [ ! -L "$1" ]; }
vmup_isdir() { [ -d "$1" ] && [ ! -L "$1" ]; }
vmup_islink() { [ -L "$1" ] && [ "$(readlink "$1")" = "$2" ]; }
"#;

/// Builds the apply script for `actions`, with `root` prefixed to every path.
pub fn apply_script(
    actions: &[Action],
    root: &str,
    boundary: &Boundary,
) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    s.code("LC_ALL=C; export LC_ALL; umask 077\n");
    // Commands that take a root (rpm --root, dnf --installroot) read it from here; paths
    // are prefixed directly.
    s.code("VMUP_ROOT=").word(root.as_bytes()).newline();
    s.code(&frame::prelude(boundary));
    s.code(APPLY_FUNCTIONS);
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::WriteFile {
                path,
                expect,
                content,
                mode,
                owner,
            } => {
                set_var(&mut s, "p", &rooted(root, path));
                s.code("t=\"$p.vmup-new.$$\"\n");
                check(&mut s, i, expect);
                s.code("{");
                s.printf_bytes(content);
                s.code(&format!(
                    "; }} > \"$t\" || {{ rm -f \"$t\"; vmup_fail {i} error \"cannot write $t\"; }}\n"
                ));
                s.code(&format!("chmod {mode:o} \"$t\" || {{ rm -f \"$t\"; vmup_fail {i} error \"cannot chmod $t\"; }}\n"));
                if let Some(owner) = owner {
                    s.code("chown");
                    s.arg(owner.as_bytes());
                    s.code(&format!(
                        " \"$t\" || {{ rm -f \"$t\"; vmup_fail {i} error \"cannot chown $t\"; }}\n"
                    ));
                }
                check_then(&mut s, i, expect, "rm -f \"$t\"; ");
                s.code(&format!(
                    "mv -f -T \"$t\" \"$p\" || {{ rm -f \"$t\"; vmup_fail {i} error \"cannot rename $t to $p\"; }}\n"
                ));
            }
            Action::Symlink {
                path,
                target,
                expect,
            } => {
                set_var(&mut s, "p", &rooted(root, path));
                s.code("t=\"$p.vmup-new.$$\"\n");
                check(&mut s, i, expect);
                s.code("ln -s");
                s.arg(target);
                s.code(&format!(
                    " \"$t\" || vmup_fail {i} error \"cannot create link $t\"\n"
                ));
                check_then(&mut s, i, expect, "rm -f \"$t\"; ");
                s.code(&format!(
                    "mv -f -T \"$t\" \"$p\" || {{ rm -f \"$t\"; vmup_fail {i} error \"cannot rename $t to $p\"; }}\n"
                ));
            }
            Action::Rename { from, to, expect } => {
                set_var(&mut s, "p", &rooted(root, from));
                set_var(&mut s, "q", &rooted(root, to));
                check(&mut s, i, expect);
                s.code(&format!(
                    "vmup_absent \"$q\" || vmup_fail {i} changed \"$q exists\"\n\
                     mv -T \"$p\" \"$q\" || vmup_fail {i} error \"cannot rename $p to $q\"\n"
                ));
            }
            Action::Remove { path, expect } => {
                set_var(&mut s, "p", &rooted(root, path));
                check(&mut s, i, expect);
                s.code(&format!(
                    "rm -rf -- \"$p\" || vmup_fail {i} error \"cannot remove $p\"\n"
                ));
            }
            Action::Run { script } => {
                s.code(&format!("vmup_rec output {i}\n( "));
                s.code_bytes(script);
                s.code(&format!(
                    "\n) </dev/null 2>&1; st=$?; [ $st = 0 ] || vmup_fail {i} error \"exit status $st\"\n"
                ));
            }
        }
        s.code(&format!("vmup_rec done {i}\n"));
    }
    s.code(frame::EPILOGUE);
    s.finish()
}

fn rooted(root: &str, path: &str) -> String {
    format!("{root}{path}")
}

fn set_var(s: &mut Script, name: &str, value: &str) {
    s.code(&format!("{name}="));
    s.word(value.as_bytes());
    s.newline();
}

fn check(s: &mut Script, i: usize, expect: &Expect) {
    check_then(s, i, expect, "");
}

/// Emits the precondition test on `$p`; on mismatch runs `cleanup` and stops the script.
fn check_then(s: &mut Script, i: usize, expect: &Expect, cleanup: &str) {
    match expect {
        Expect::Absent => s.code("vmup_absent \"$p\""),
        Expect::Dir => s.code("vmup_isdir \"$p\""),
        Expect::Exists => s.code("{ [ -e \"$p\" ] || [ -L \"$p\" ]; }"),
        Expect::Symlink(target) => {
            s.code("vmup_islink \"$p\"");
            s.arg(target)
        }
        Expect::File(old) => {
            s.code("vmup_isfile \"$p\" && {");
            s.printf_bytes(old);
            s.code("; } | cmp -s - \"$p\"")
        }
    };
    s.code(&format!(
        " || {{ {cleanup}vmup_fail {i} changed \"$p\"; }}\n"
    ));
}

/// How an apply script ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOutcome {
    /// Indexes of the actions that completed.
    pub done: Vec<usize>,
    /// The action that stopped the script, if any.
    pub failure: Option<ApplyFailure>,
    /// Output of [`Action::Run`] actions, by index.
    pub outputs: BTreeMap<usize, Vec<u8>>,
}

/// The change that stopped an apply script, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyFailure {
    /// Index of the action.
    pub index: usize,
    /// True when the precondition failed: someone else changed the path.
    pub changed_underneath: bool,
    /// The shell's message.
    pub message: String,
}

/// Reads the framed output of [`apply_script`].
pub fn parse_apply(boundary: &Boundary, output: &[u8]) -> Result<ApplyOutcome, FrameError> {
    let mut outcome = ApplyOutcome::default();
    for rec in frame::parse(boundary, output)? {
        let index = rec.header.get(1).and_then(|s| s.parse::<usize>().ok());
        match (rec.header.first().map(String::as_str), index) {
            (Some("done"), Some(i)) => outcome.done.push(i),
            (Some("output"), Some(i)) => {
                outcome.outputs.insert(i, rec.payload);
            }
            (Some("fail"), Some(i)) => {
                outcome.failure = Some(ApplyFailure {
                    index: i,
                    changed_underneath: rec.header.get(2).map(String::as_str) == Some("changed"),
                    message: String::from_utf8_lossy(&rec.payload).into_owned(),
                })
            }
            _ => {}
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, symlink};

    fn run(actions: &[Action], root: &str) -> ApplyOutcome {
        let b = Boundary::random();
        let script = apply_script(actions, root, &b).unwrap();
        let mut child = std::process::Command::new("sh")
            .arg("-s")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&script).unwrap();
        let out = child.wait_with_output().unwrap();
        parse_apply(&b, &out.stdout).unwrap()
    }

    #[test]
    fn writes_atomically_keeping_requested_mode() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        std::fs::write(dir.path().join("f"), b"old\n").unwrap();
        let out = run(
            &[Action::WriteFile {
                path: "/f".into(),
                expect: Expect::File(b"old\n".to_vec()),
                content: b"new\0bytes%s\\n".to_vec(),
                mode: 0o640,
                owner: None,
            }],
            root,
        );
        assert_eq!(out.done, vec![0]);
        assert_eq!(
            std::fs::read(dir.path().join("f")).unwrap(),
            b"new\0bytes%s\\n"
        );
        assert_eq!(
            std::fs::metadata(dir.path().join("f")).unwrap().mode() & 0o777,
            0o640
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn refuses_when_changed_underneath() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        std::fs::write(dir.path().join("f"), b"someone else\n").unwrap();
        let out = run(
            &[Action::WriteFile {
                path: "/f".into(),
                expect: Expect::File(b"old\n".to_vec()),
                content: b"new\n".to_vec(),
                mode: 0o644,
                owner: None,
            }],
            root,
        );
        let failure = out.failure.unwrap();
        assert!(failure.changed_underneath);
        assert!(out.done.is_empty());
        assert_eq!(
            std::fs::read(dir.path().join("f")).unwrap(),
            b"someone else\n"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn symlink_over_link_to_directory_is_replaced_not_entered() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        symlink("d", dir.path().join("l")).unwrap();
        let out = run(
            &[Action::Symlink {
                path: "/l".into(),
                target: b"vmlinuz-2".to_vec(),
                expect: Expect::Symlink(b"d".to_vec()),
            }],
            root,
        );
        assert_eq!(out.done, vec![0], "{out:?}");
        assert_eq!(
            std::fs::read_link(dir.path().join("l")).unwrap().to_str(),
            Some("vmlinuz-2")
        );
        assert_eq!(std::fs::read_dir(dir.path().join("d")).unwrap().count(), 0);
    }

    #[test]
    fn rename_refuses_existing_destination_and_stops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        std::fs::create_dir(dir.path().join("tls")).unwrap();
        std::fs::create_dir(dir.path().join("tls.disabled")).unwrap();
        let out = run(
            &[
                Action::Rename {
                    from: "/tls".into(),
                    to: "/tls.disabled".into(),
                    expect: Expect::Dir,
                },
                Action::Remove {
                    path: "/tls".into(),
                    expect: Expect::Dir,
                },
            ],
            root,
        );
        assert!(out.failure.unwrap().changed_underneath);
        assert!(dir.path().join("tls").is_dir());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tls.disabled"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn run_captures_output_and_fails_on_status() {
        let dir = tempfile::tempdir().unwrap();
        let out = run(
            &[Action::Run {
                script: b"echo hello; exit 4".to_vec(),
            }],
            dir.path().to_str().unwrap(),
        );
        assert_eq!(out.outputs[&0], b"hello\n");
        assert_eq!(out.failure.unwrap().message, "exit status 4");
    }
}
