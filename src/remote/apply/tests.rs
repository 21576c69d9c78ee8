//! The apply script run for real with sh: atomic writes, compare-and-swap, renames, commands.

use super::*;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, symlink};

/// The script under a real `sh -s`: in `cwd` when given, with `bin` first on PATH when
/// given (where tests put wrappers that act as another writer at an exact moment).
fn sh_s(
    script: &[u8],
    cwd: Option<&std::path::Path>,
    bin: Option<&std::path::Path>,
) -> std::process::Output {
    let mut command = std::process::Command::new("sh");
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    if let Some(bin) = bin {
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        command.env("PATH", path);
    }
    let mut child = command
        .arg("-s")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(script).unwrap();
    child.wait_with_output().unwrap()
}

fn run(actions: &[Action], root: &str) -> ApplyOutcome {
    let b = Boundary::random();
    let script = apply_script(actions, root, &b).unwrap();
    parse_apply(&b, &sh_s(&script, None, None).stdout)
}

/// The replacement of `path` holding `old\n` by `new\n`, mode 0644, owner kept.
fn old_to_new(path: &str) -> Action {
    Action::WriteFile {
        path: path.into(),
        expect: Expect::File(b"old\n".to_vec()),
        content: b"new\n".to_vec(),
        mode: 0o644,
        owner: None,
    }
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

/// Modes within 0666 come from the umask at creation, others (0755, setgid) from chmod
/// after chown; either way the file has exactly its mode, and a name already taken by a
/// temporary file is never written through (noclobber).
#[test]
fn every_mode_is_given_exactly_with_or_without_chmod() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    for (n, mode) in [0o644u32, 0o600, 0o640, 0o444, 0o755, 0o2750, 0o4711]
        .into_iter()
        .enumerate()
    {
        let out = run(
            &[Action::WriteFile {
                path: format!("/f{n}"),
                expect: Expect::Absent,
                content: b"x\n".to_vec(),
                mode,
                owner: None,
            }],
            root,
        );
        assert_eq!(out.done, vec![0], "{mode:o}: {out:?}");
        let meta = std::fs::metadata(dir.path().join(format!("f{n}"))).unwrap();
        assert_eq!(meta.mode() & 0o7777, mode, "{mode:o}");
    }
    let script = String::from_utf8(
        apply_script(
            &[Action::WriteFile {
                path: "/g".into(),
                expect: Expect::Absent,
                content: b"x".to_vec(),
                mode: 0o644,
                owner: None,
            }],
            root,
            &Boundary::random(),
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        script.contains("umask 133; set -C;") && !script.contains("chmod 644"),
        "{script}"
    );
    assert!(script.contains("set +C; umask 077\n"), "{script}");
}

#[test]
fn refuses_when_changed_underneath() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    std::fs::write(dir.path().join("f"), b"someone else\n").unwrap();
    let out = run(&[old_to_new("/f")], root);
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

/// coreutils 5.2.1 (CentOS 4) has no `mv -T` (new in 5.3.0): a link to a directory is still
/// replaced, not entered, and files and renames never need it.
#[test]
fn without_mv_t_a_link_to_a_directory_is_still_replaced_and_files_are_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("d")).unwrap();
    symlink("d", root.join("l")).unwrap();
    std::fs::write(root.join("f"), b"old\n").unwrap();
    std::fs::create_dir(root.join("tls")).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    wrapper(
        &bin,
        "mv",
        r#"for a in "$@"; do case $a in -[a-zA-Z]*T*) echo "mv: invalid option -- 'T'" >&2; exit 1 ;; esac; done"#,
    );
    let (out, _) = run_with(
        &[
            Action::Symlink {
                path: "/l".into(),
                target: b"vmlinuz-2".to_vec(),
                expect: Expect::Symlink(b"d".to_vec()),
            },
            old_to_new("/f"),
            Action::Rename {
                from: "/tls".into(),
                to: "/tls.disabled".into(),
                expect: Expect::Dir,
            },
        ],
        root.to_str().unwrap(),
        &bin,
    );
    assert_eq!(out.done, vec![0, 1, 2], "{out:?}");
    assert_eq!(
        std::fs::read_link(root.join("l")).unwrap().to_str(),
        Some("vmlinuz-2")
    );
    assert_eq!(std::fs::read_dir(root.join("d")).unwrap().count(), 0);
    assert_eq!(std::fs::read(root.join("f")).unwrap(), b"new\n");
    assert!(root.join("tls.disabled").is_dir());
    assert_eq!(names(&root), ["d", "f", "l", "tls.disabled"]);
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

/// Runs the script with `bin` first on PATH (see [`sh_s`]).
fn run_with(actions: &[Action], root: &str, bin: &std::path::Path) -> (ApplyOutcome, Option<i32>) {
    let b = Boundary::random();
    let script = apply_script(actions, root, &b).unwrap();
    let out = sh_s(&script, None, Some(bin));
    (parse_apply(&b, &out.stdout), out.status.code())
}

/// A wrapper named `name` in `bin` that runs `before` and then the real command.
fn wrapper(bin: &std::path::Path, name: &str, before: &str) {
    use std::os::unix::fs::PermissionsExt;
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {name}"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let file = bin.join(name);
    std::fs::write(
        &file,
        format!("#!/bin/sh\n{before}\nexec {} \"$@\"\n", real.trim()),
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn setuid_and_setgid_bits_survive_the_owner_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"old\n").unwrap();
    let out = run(
        &[Action::WriteFile {
            path: "/f".into(),
            expect: Expect::File(b"old\n".to_vec()),
            content: b"new\n".to_vec(),
            mode: 0o6755,
            owner: Some("0:0".into()),
        }],
        dir.path().to_str().unwrap(),
    );
    assert_eq!(out.done, vec![0], "{out:?}");
    assert_eq!(
        std::fs::metadata(dir.path().join("f")).unwrap().mode() & 0o7777,
        0o6755
    );
}

#[test]
fn preflight_refuses_before_the_first_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"old\n").unwrap();
    let out = run(
        &[
            old_to_new("/a"),
            Action::WriteFile {
                path: "/etc/yum.repos.d/x.repo".into(),
                expect: Expect::Absent,
                content: b"[x]\n".to_vec(),
                mode: 0o644,
                owner: None,
            },
        ],
        dir.path().to_str().unwrap(),
    );
    let failure = out.failure.unwrap();
    assert_eq!(failure.index, 1);
    assert!(
        failure.message.contains("is not a directory"),
        "{failure:?}"
    );
    assert!(out.done.is_empty());
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"old\n");
}

#[test]
fn values_that_look_like_options_are_never_options() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let b = Boundary::random();
    let script = apply_script(
        &[Action::Symlink {
            path: "/-l".into(),
            target: b"-f".to_vec(),
            expect: Expect::Absent,
        }],
        dir.path().to_str().unwrap(),
        &b,
    )
    .unwrap();
    let out = parse_apply(&b, &sh_s(&script, Some(cwd.path()), None).stdout);
    assert_eq!(out.done, vec![0], "{out:?}");
    assert_eq!(
        std::fs::read_link(dir.path().join("-l")).unwrap().to_str(),
        Some("-f")
    );
    assert!(
        names(cwd.path()).is_empty(),
        "no stray file in the current directory"
    );
}

#[test]
fn an_in_place_write_during_the_rename_is_detected_and_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"old\n").unwrap();
    // Another writer appends to the file (the old inode) just before vmup's rename.
    wrapper(
        bin.path(),
        "mv",
        "for a; do last=$a; done; printf 'theirs\\n' >> \"$last\"",
    );
    let (out, _) = run_with(
        &[old_to_new("/f")],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    let failure = out.failure.unwrap();
    assert!(failure.changed_underneath, "{failure:?}");
    assert!(
        failure
            .message
            .contains("the other writer's content is back")
    );
    assert_eq!(
        std::fs::read(dir.path().join("f")).unwrap(),
        b"old\ntheirs\n"
    );
    assert_eq!(names(dir.path()), ["f"], "no temporary file left");
}

#[test]
fn a_file_created_by_someone_else_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    // Another writer creates the file between vmup's check and its create (the `ln`
    // that gives the new file its name: a 0644 file needs no chmod).
    let theirs = dir.path().join("new.conf");
    wrapper(
        bin.path(),
        "ln",
        &format!("printf 'theirs\\n' > '{}'", theirs.display()),
    );
    let (out, _) = run_with(
        &[Action::WriteFile {
            path: "/new.conf".into(),
            expect: Expect::Absent,
            content: b"ours\n".to_vec(),
            mode: 0o644,
            owner: None,
        }],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    assert!(out.failure.unwrap().changed_underneath);
    assert_eq!(std::fs::read(&theirs).unwrap(), b"theirs\n");
    assert_eq!(names(dir.path()), ["new.conf"], "no temporary file left");
}

#[test]
fn sigterm_mid_write_leaves_no_temporary_file_and_sigint_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"old\n").unwrap();
    std::fs::write(dir.path().join("b"), b"old\n").unwrap();
    // SIGINT (a Ctrl-C at a terminal) while writing a: ignored, the apply goes on.
    wrapper(bin.path(), "chown", "kill -INT $PPID");
    let write = |path: &str, owner: Option<&str>| Action::WriteFile {
        path: path.into(),
        expect: Expect::File(b"old\n".to_vec()),
        content: b"new\n".to_vec(),
        mode: 0o644,
        owner: owner.map(str::to_string),
    };
    let (out, _) = run_with(
        &[write("/a", Some("0:0")), write("/b", None)],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    assert_eq!(out.done, vec![0, 1], "{out:?}");
    // SIGTERM while writing b: the temporary file is removed, a stays done.
    std::fs::write(dir.path().join("a"), b"old\n").unwrap();
    std::fs::write(dir.path().join("b"), b"old\n").unwrap();
    wrapper(bin.path(), "chown", "kill -TERM $PPID; sleep 1");
    let (out, status) = run_with(
        &[write("/a", None), write("/b", Some("0:0"))],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    assert_eq!(status, Some(143));
    assert!(out.failure.is_none());
    assert!(!out.complete, "cut short");
    assert_eq!(out.done, vec![0], "the first change is reported done");
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"new\n");
    assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), b"old\n");
    assert_eq!(names(dir.path()), ["a", "b"], "no temporary file left");
}

mod scratch;
