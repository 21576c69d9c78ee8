//! The apply script: a pre-flight that checks every precondition before the first change,
//! then each change, atomic and compare-and-swap guarded.
//!
//! Pre-flight: for each path the actions touch, the state the plan saw (the first action on
//! it says what that was), and that the directory a new name goes into exists. Nothing is
//! changed until all of it holds, so a host is never half-done for a reason that could be
//! known beforehand. Then, per change:
//! - a file is written whole to `P.vmup-new.PID` beside it, given its owner and then its
//!   mode (that order keeps setuid and setgid bits, which `chown` clears), and renamed over
//!   the old one. The old file is first hard-linked to `P.vmup-old.PID`, and after the
//!   rename its content is compared, through that link (the old inode), with what the facts
//!   saw: a writer who changed the file in place or replaced it at any time since the
//!   pre-flight is detected and their content put back. What POSIX leaves open: a writer
//!   who *replaces* the file (by rename) in the instant between the link and the rename is
//!   not detected. A new file is created with `ln` (which fails if the name exists), never
//!   over anything;
//! - a new symlink is made with `ln -s` directly (same guarantee), a retarget through a
//!   temporary link and a rename;
//! - a rename checks its destination is free; a removal checks what it removes.
//!
//! A rename is `vmup_mv`: plain `mv -f` (rename(2)) when the new name is not a directory;
//! over a directory or a symlink to one, where `mv` would move *into* it, `mv -T`, which
//! coreutils has only since 5.3.0 (CentOS 4 has 5.2.1), else Python's `os.rename` (every
//! yum host has Python: yum is written in it).
//!
//! Processes are the cost on a busy host: a compare is one `cmp` against the content the
//! facts saw, written once (by the shell, no process) to `P.vmup-exp.PID` in the
//! pre-flight when only file writes come before the change; the old links, those files
//! and the second names of new files are removed by one `rm` after each run of file
//! writes, before anything that could move a directory they are in.
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
    let expected = expected_files(actions);
    cleanup_trap(&mut s, actions.len());
    preflight(&mut s, actions, &expected);
    let owned = actions
        .iter()
        .filter(|a| matches!(a, Action::WriteFile { owner: Some(_), .. }))
        .count();
    let ids = owned > 1;
    if ids {
        s.code(IDS);
    }
    // File writes done whose scratch files are not removed yet: (index, path).
    let mut pending: Vec<(usize, &str)> = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        // A scratch name is the path's own plus the PID: a second write of the same path
        // needs the first one's gone.
        let write = match action {
            Action::WriteFile { path, .. } => Some(path.as_str()),
            _ => None,
        };
        if write.is_none_or(|path| pending.iter().any(|&(_, p)| p == path)) {
            flush(&mut s, &mut pending);
        }
        change(&mut s, i, action, expected.contains(&i), ids);
        s.code(&format!("vmup_rec done {i}\n"));
        if let Some(path) = write {
            pending.push((i, path));
        }
    }
    flush(&mut s, &mut pending);
    s.code(frame::EPILOGUE);
    s.finish()
}

/// The apply script followed, once every change completed, by `more` (the facts read
/// back): the apply's traps are cleared first, since its scratch files are all gone by
/// then and the variables its trap names are not its own any more (the facts part has
/// its own `t`, which the trap would otherwise remove as a file in the working directory).
pub fn apply_script_then(
    actions: &[Action],
    root: &str,
    boundary: &Boundary,
    more: &[u8],
) -> Result<Vec<u8>, NulByte> {
    let mut script = apply_script(actions, root, boundary)?;
    script.extend_from_slice(b"trap - 0 15\n");
    script.extend_from_slice(more);
    Ok(script)
}

/// The scratch files change `i` may leave until the next [`flush`]: the expected content
/// (`P.vmup-exp.PID`), the old file's link (`P.vmup-old.PID`) and a new file's second
/// name (`P.vmup-new.PID`), each in a variable of its own.
fn scratch(i: usize) -> [String; 3] {
    [
        format!("vmup_e{i}"),
        format!("vmup_o{i}"),
        format!("vmup_n{i}"),
    ]
}

/// The script's effective ids as `vmup_ids=UID:GID`: from the shell's own
/// `/proc/self/status` (read by the shell, no process; its `Uid:`/`Gid:` lines give the real
/// then the effective id), else from one `id` (its first two fields, digits only); empty
/// when an effective id differs from the real one (`euid=`/`egid=`, or the two fields of
/// the status line), where the real ids are not the ones new files get. With them a new
/// file that already has its owner needs no `chown`: one process at most instead of one
/// per file.
const IDS: &str = r#"vmup_u=; vmup_g=
{ while read -r vmup_k vmup_r vmup_x vmup_y; do case $vmup_k in
    Uid:) vmup_u=$vmup_r; [ "$vmup_r" = "$vmup_x" ] || vmup_u=x ;;
    Gid:) vmup_g=$vmup_r; [ "$vmup_r" = "$vmup_x" ] || vmup_g=x ;;
  esac; done < /proc/self/status; } 2>/dev/null
case $vmup_u:$vmup_g in
  *x*|*[!0-9:]*) vmup_ids= ;;
  [0-9]*:[0-9]*) vmup_ids=$vmup_u:$vmup_g ;;
  *) vmup_ids=$(id 2>/dev/null)
    case $vmup_ids in
      uid=[0-9]*" gid="[0-9]*) case $vmup_ids in *euid=*|*egid=*) vmup_ids= ;; *)
        vmup_u=${vmup_ids#uid=}; vmup_u=${vmup_u%%[!0-9]*}
        vmup_g=${vmup_ids#* gid=}; vmup_g=${vmup_g%%[!0-9]*}
        vmup_ids=$vmup_u:$vmup_g ;; esac ;;
      *) vmup_ids= ;;
    esac ;;
esac
"#;

/// The file writes whose pre-flight writes the expected content to a file for both of
/// its compares: those with only file writes before them (nothing that could move the
/// directory the file is in before the second compare) and the first to touch the path.
fn expected_files(actions: &[Action]) -> BTreeSet<usize> {
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    let mut found = BTreeSet::new();
    for (i, action) in actions.iter().enumerate() {
        let Action::WriteFile { path, expect, .. } = action else {
            break;
        };
        if touched.insert(path) && matches!(expect, Expect::File(_)) {
            found.insert(i);
        }
    }
    found
}

/// Removes the temporary files on exit (also `vmup_fail`'s) and on SIGTERM, starting no
/// process when there are none; ignores SIGINT, SIGHUP and SIGPIPE.
fn cleanup_trap(s: &mut Script, changes: usize) {
    let mut vars = vec!["t".to_string(), "o".to_string()];
    vars.extend((0..changes).flat_map(scratch));
    let test: String = vars.iter().map(|v| format!("${v}")).collect();
    let list: Vec<String> = vars.iter().map(|v| format!("\"${v}\"")).collect();
    s.code(&format!(
        "vmup_clean() {{ [ -z \"{test}\" ] || rm -f -- {}; }}\n",
        list.join(" ")
    ));
    s.code("trap vmup_clean 0\ntrap 'vmup_clean; exit 143' 15\ntrap '' 1 2 13\n");
}

/// One `rm` for the scratch files of the changes in `pending`, which are done.
fn flush(s: &mut Script, pending: &mut Vec<(usize, &str)>) {
    if pending.is_empty() {
        return;
    }
    let vars: Vec<String> = pending.drain(..).flat_map(|(i, _)| scratch(i)).collect();
    let list: Vec<String> = vars.iter().map(|v| format!("\"${v}\"")).collect();
    let reset: Vec<String> = vars.iter().map(|v| format!("{v}=")).collect();
    s.code(&format!(
        "rm -f -- {}\n{}\n",
        list.join(" "),
        reset.join(" ")
    ));
}

/// Checks, before any change, the first expectation on every path and the directories new
/// names go into.
fn preflight(s: &mut Script, actions: &[Action], expected: &BTreeSet<usize>) {
    let mut touched: BTreeSet<&str> = BTreeSet::new();
    for (i, action) in actions.iter().enumerate() {
        match action {
            Action::WriteFile {
                path,
                expect: Expect::File(old),
                ..
            } if expected.contains(&i) => {
                touched.insert(path);
                at(s, i, path);
                let [e, _, _] = scratch(i);
                s.code(&format!(
                    "vmup_isfile \"$p\" || vmup_fail {i} changed \"$p\"\n{e}=\"$p.vmup-exp.$$\"\nset -C; {{"
                ));
                s.printf_bytes(old);
                s.code(&format!(
                    "; }} > \"${e}\" || vmup_fail {i} error \"cannot write ${e}\"\nset +C\n"
                ));
                compare_then(s, i, &e, "$p", "", "$p");
                s.code(&format!("vmup_parent \"$p\" {i}\n"));
            }
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

/// Emits one change; `expected`: its pre-flight wrote the old content to a file; `ids`:
/// the script knows its own ids ([`IDS`]).
fn change(s: &mut Script, i: usize, action: &Action, expected: bool, ids: bool) {
    let [e, old_link, new_name] = scratch(i);
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
                if ids {
                    // Owned by the script's ids already (a setgid directory gives
                    // another group: `-G` is false then).
                    s.code("[ \"$vmup_ids\" =")
                        .arg(owner.as_bytes())
                        .code(" ] && [ -O \"$t\" ] && [ -G \"$t\" ] || ");
                }
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
                    let back = "vmup_mv \"$o\" \"$p\"; o=; ";
                    let what = "$p was written while it was being replaced; the other writer's content is back";
                    s.code("o=\"$p.vmup-old.$$\"\nif ln -- \"$p\" \"$o\" 2>/dev/null; then\n");
                    s.code(&format!(
                        "vmup_mv \"$t\" \"$p\" || vmup_fail {i} error \"cannot rename $t to $p\"\n"
                    ));
                    // The old inode, read after the rename: a write in place, or a
                    // replacement before the link, that slipped in since the pre-flight
                    // is put back.
                    let old = |s: &mut Script, var: &str, cleanup: &str, what: &str| {
                        if expected {
                            compare_then(s, i, &e, var, cleanup, what);
                        } else {
                            check_then(s, i, expect, var, cleanup, what);
                        }
                    };
                    old(s, "$o", back, what);
                    s.code(&format!("{old_link}=$o; o=\nelse\n"));
                    old(s, "$p", "", "$p");
                    s.code(&format!(
                        "vmup_mv \"$t\" \"$p\" || vmup_fail {i} error \"cannot rename $t to $p\"\nfi\n"
                    ));
                }
                Expect::Absent => {
                    s.code(&format!(
                        "ln -- \"$t\" \"$p\" 2>/dev/null || {{ vmup_absent \"$p\" && vmup_fail {i} error \"cannot create $p\"; vmup_fail {i} changed \"$p\"; }}\n{new_name}=$t\n"
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

/// `var` is a regular file with the bytes of the file named by variable `expected`; on
/// mismatch runs `cleanup` and stops the script, reporting `what` as changed underneath.
fn compare_then(s: &mut Script, i: usize, expected: &str, var: &str, cleanup: &str, what: &str) {
    s.code(&format!(
        "{{ vmup_isfile \"{var}\" && cmp -s -- \"${expected}\" \"{var}\"; }} || {{ {cleanup}vmup_fail {i} changed \"{what}\"; }}\n"
    ));
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

#[cfg(test)]
mod ids_tests {
    use super::IDS;

    /// What [`IDS`] sets `vmup_ids` to, with `status` read instead of `/proc/self/status`
    /// and `id` a stand-in printing `id_says`.
    fn ids(status: Option<&str>, id_says: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("status");
        if let Some(text) = status {
            std::fs::write(&file, text).unwrap();
        }
        let script = IDS.replace("/proc/self/status", file.to_str().unwrap());
        let script = format!("id() {{ echo '{id_says}'; }}\n{script}printf %s \"$vmup_ids\"");
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn ids_come_from_the_status_file_else_from_id_and_never_when_effective_ones_differ() {
        let id = "uid=7(u) gid=8(g) groups=8(g)";
        let status = "Name:\tsh\nUid:\t0\t0\t0\t0\nGid:\t5\t5\t5\t5\n";
        assert_eq!(ids(Some(status), id), "0:5");
        // No /proc: `id`'s first two fields.
        assert_eq!(ids(None, id), "7:8");
        assert_eq!(ids(Some("Name:\tsh\n"), id), "7:8");
        assert_eq!(ids(None, "uid=7(u) gid=8(g) euid=0(root)"), "");
        assert_eq!(ids(None, "nonsense"), "");
        // A setuid shell: the real uid is not what new files get.
        let setuid = "Uid:\t7\t0\t0\t0\nGid:\t8\t8\t8\t8\n";
        assert_eq!(ids(Some(setuid), id), "");
        // The real thing, as this test runs.
        assert_eq!(
            ids(
                Some(&std::fs::read_to_string("/proc/self/status").unwrap()),
                id
            ),
            format!("{}:{}", nix::unistd::getuid(), nix::unistd::getgid())
        );
    }
}
