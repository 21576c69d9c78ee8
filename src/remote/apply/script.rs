//! The apply script: a pre-flight that checks every precondition before the first change,
//! then each change, atomic and compare-and-swap guarded.
//!
//! Pre-flight: for each path the actions touch, the state the plan saw (the first action on
//! it says what that was), and that the directory a new name goes into exists. Nothing is
//! changed until all of it holds, so a host is never half-done for a reason that could be
//! known beforehand. Then, per change:
//! - a file is written whole to `P.vmup-new.PID` beside it, given its owner and then its
//!   mode (that order keeps setuid and setgid bits, which `chown` clears), and renamed over
//!   the old one. The old file is first hard-linked to `P.vmup-old.PID`; its content is
//!   compared with what the facts saw before the rename and again after it, through that
//!   link (the old inode): a writer who changed the file in place in between is detected
//!   and their content put back. What POSIX leaves open: a writer who *replaces* the file
//!   (by rename) in the instant between the last compare and the rename is not detected.
//!   A new file is created with `ln` (which fails if the name exists), never over anything;
//! - a new symlink is made with `ln -s` directly (same guarantee), a retarget through a
//!   temporary link and a rename;
//! - a rename checks its destination is free; a removal checks what it removes.
//!
//! A rename is `vmup_mv`: plain `mv -f` (rename(2)) when the new name is not a directory;
//! over a directory or a symlink to one, where `mv` would move *into* it, `mv -T`, which
//! coreutils has only since 5.3.0 (CentOS 4 has 5.2.1), else Python's `os.rename` (every
//! yum host has Python: yum is written in it).
//!
//! Every value is quoted and every command ends its options with `--` before them. The
//! script ignores SIGINT, SIGHUP and SIGPIPE (a Ctrl-C at the terminal or a dropped
//! connection lets a started apply finish: every change in it is atomic), and removes its
//! temporary files on exit or SIGTERM. Paths under a local root go through `vmup_under`.

use std::collections::BTreeSet;

use crate::remote::NulByte;
use crate::remote::frame::{self, Boundary};
use crate::remote::root::ROOT_FN;
use crate::remote::script::Script;

use super::{Action, Expect};

const APPLY_FUNCTIONS: &str = r#"vmup_fail() { vmup_rec fail "$1" "$2"; printf '%s' "$3"; vmup_rec end; exit 0; }
vmup_at() { vmup_under "$2" || vmup_fail "$1" error "$2: too many levels of symbolic links under the root"; p=$R; }
vmup_absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
vmup_isfile() { [ -f "$1" ] && [ ! -L "$1" ]; }
vmup_isdir() { [ -d "$1" ] && [ ! -L "$1" ]; }
vmup_islink() { [ -L "$1" ] && [ "$(readlink -- "$1")" = "$2" ]; }
vmup_parent() { d=${1%/*}; [ -z "$d" ] || [ -d "$d" ] || vmup_fail "$2" error "$d is not a directory (the plan needs it to exist)"; }
vmup_mv() {
  [ -d "$2" ] || { mv -f -- "$1" "$2"; return; }
  mv -f -T -- "$1" "$2" 2>/dev/null && return 0
  for vm_py in python python2 python3; do
    command -v $vm_py >/dev/null 2>&1 || continue
    $vm_py -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$1" "$2" 2>/dev/null; return
  done; return 1
}
t=; o=
trap 'rm -f -- "$t" "$o"' 0
trap 'rm -f -- "$t" "$o"; exit 143' 15
trap '' 1 2 13
"#;

/// Builds the apply script for `actions`, on a host whose paths are under `root` (a local
/// tree; empty for a real host).
pub fn apply_script(
    actions: &[Action],
    root: &str,
    boundary: &Boundary,
) -> Result<Vec<u8>, NulByte> {
    let mut s = Script::new();
    s.code("LC_ALL=C; export LC_ALL; umask 077\n");
    // Commands that take a root (rpm --root, dnf --installroot) read it from here.
    s.code("VMUP_ROOT=").word(root.as_bytes()).newline();
    s.code(&frame::prelude(boundary));
    s.code(ROOT_FN);
    s.code(APPLY_FUNCTIONS);
    preflight(&mut s, actions);
    for (i, action) in actions.iter().enumerate() {
        change(&mut s, i, action);
        s.code(&format!("vmup_rec done {i}\n"));
    }
    s.code(frame::EPILOGUE);
    s.finish()
}

/// Checks, before any change, the first expectation on every path and the directories new
/// names go into.
fn preflight(s: &mut Script, actions: &[Action]) {
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::WriteFile { path, expect, .. } | Action::Symlink { path, expect, .. } => {
                if touched.insert(path) {
                    at(s, i, path);
                    check(s, i, expect, "$p");
                    s.code(&format!("vmup_parent \"$p\" {i}\n"));
                }
            }
            Action::Rename { from, to, expect } => {
                if touched.insert(from) {
                    at(s, i, from);
                    check(s, i, expect, "$p");
                }
                if touched.insert(to) {
                    at(s, i, to);
                    check(s, i, &Expect::Absent, "$p");
                    s.code(&format!("vmup_parent \"$p\" {i}\n"));
                }
            }
            Action::Remove { path, expect } => {
                if touched.insert(path) {
                    at(s, i, path);
                    check(s, i, expect, "$p");
                }
            }
            Action::Run { .. } => {}
        }
    }
}

/// Emits one change.
fn change(s: &mut Script, i: usize, action: &Action) {
    match action {
        Action::WriteFile {
            path,
            expect,
            content,
            mode,
            owner,
        } => {
            at(s, i, path);
            // No check of the old file here: every branch below checks it (through the
            // old inode, or right before the rename) after the new one is written.
            s.code("t=\"$p.vmup-new.$$\"\n");
            // A mode within 0666 is given at creation by the umask (no chmod process);
            // noclobber makes the shell create the name, never truncate one found there.
            let by_umask = mode & !0o666 == 0;
            if by_umask {
                s.code(&format!("umask {:03o}; set -C; ", 0o777 & !mode));
            }
            s.code("{");
            s.printf_bytes(content);
            s.code(&format!(
                "; }} > \"$t\" || vmup_fail {i} error \"cannot write $t\"\n"
            ));
            if by_umask {
                s.code("set +C; umask 077\n");
            }
            if let Some(owner) = owner {
                s.code("chown --");
                s.arg(owner.as_bytes());
                s.code(&format!(
                    " \"$t\" || vmup_fail {i} error \"cannot chown $t\"\n"
                ));
            }
            if !by_umask {
                // chown clears setuid and setgid bits: the mode comes after it.
                s.code(&format!(
                    "chmod {mode:o} \"$t\" || vmup_fail {i} error \"cannot chmod $t\"\n"
                ));
            }
            match expect {
                Expect::File(_) => {
                    s.code("o=\"$p.vmup-old.$$\"\nif ln -- \"$p\" \"$o\" 2>/dev/null; then\n");
                    check(s, i, expect, "$o");
                    s.code(&format!(
                        "vmup_mv \"$t\" \"$p\" || vmup_fail {i} error \"cannot rename $t to $p\"\n"
                    ));
                    // The old inode, read once more after the rename: an in-place write that
                    // slipped in is put back.
                    check_then(
                        s,
                        i,
                        expect,
                        "$o",
                        "vmup_mv \"$o\" \"$p\"; o=; ",
                        "$p was written while it was being replaced; the other writer's content is back",
                    );
                    s.code("rm -f -- \"$o\"; o=\nelse\n");
                    check(s, i, expect, "$p");
                    s.code(&format!(
                        "vmup_mv \"$t\" \"$p\" || vmup_fail {i} error \"cannot rename $t to $p\"\nfi\n"
                    ));
                }
                Expect::Absent => {
                    s.code(&format!(
                        "ln -- \"$t\" \"$p\" 2>/dev/null || {{ vmup_absent \"$p\" && vmup_fail {i} error \"cannot create $p\"; vmup_fail {i} changed \"$p\"; }}\nrm -f -- \"$t\"\n"
                    ));
                }
                other => {
                    check(s, i, other, "$p");
                    s.code(&format!(
                        "vmup_mv \"$t\" \"$p\" || vmup_fail {i} error \"cannot rename $t to $p\"\n"
                    ));
                }
            }
            s.code("t=\n");
        }
        Action::Symlink {
            path,
            target,
            expect,
        } => {
            at(s, i, path);
            check(s, i, expect, "$p");
            if *expect == Expect::Absent {
                s.code("ln -s --");
                s.arg(target);
                s.code(&format!(
                    " \"$p\" 2>/dev/null || vmup_fail {i} changed \"$p\"\n"
                ));
            } else {
                s.code("t=\"$p.vmup-new.$$\"\nln -s --");
                s.arg(target);
                s.code(&format!(
                    " \"$t\" || vmup_fail {i} error \"cannot create link $t\"\n"
                ));
                check(s, i, expect, "$p");
                s.code(&format!(
                    "vmup_mv \"$t\" \"$p\" || vmup_fail {i} error \"cannot rename $t to $p\"\nt=\n"
                ));
            }
        }
        Action::Rename { from, to, expect } => {
            at(s, i, to);
            s.code("q=$p\n");
            at(s, i, from);
            check(s, i, expect, "$p");
            s.code(&format!(
                "vmup_absent \"$q\" || vmup_fail {i} changed \"$q exists\"\n\
                 vmup_mv \"$p\" \"$q\" || vmup_fail {i} error \"cannot rename $p to $q\"\n"
            ));
        }
        Action::Remove { path, expect } => {
            at(s, i, path);
            check(s, i, expect, "$p");
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
}

/// Sets `p` to the path the guest path `path` names here (under the root, as a chroot).
fn at(s: &mut Script, i: usize, path: &str) {
    s.code(&format!("vmup_at {i}"));
    s.arg(path.as_bytes());
    s.newline();
}

/// The precondition test on `var`; on mismatch the script stops at change `i`.
fn check(s: &mut Script, i: usize, expect: &Expect, var: &str) {
    check_then(s, i, expect, var, "", "$p");
}

/// The precondition test on `var`; on mismatch runs `cleanup` and stops the script,
/// reporting `what` as changed underneath.
fn check_then(s: &mut Script, i: usize, expect: &Expect, var: &str, cleanup: &str, what: &str) {
    match expect {
        Expect::Absent => s.code(&format!("vmup_absent \"{var}\"")),
        Expect::Dir => s.code(&format!("vmup_isdir \"{var}\"")),
        Expect::Exists => s.code(&format!("{{ [ -e \"{var}\" ] || [ -L \"{var}\" ]; }}")),
        Expect::Symlink(target) => {
            s.code(&format!("vmup_islink \"{var}\""));
            s.arg(target)
        }
        Expect::File(old) => {
            s.code(&format!("vmup_isfile \"{var}\" && {{"));
            s.printf_bytes(old);
            s.code(&format!("; }} | cmp -s - \"{var}\""))
        }
    };
    s.code(&format!(
        " || {{ {cleanup}vmup_fail {i} changed \"{what}\"; }}\n"
    ));
}
