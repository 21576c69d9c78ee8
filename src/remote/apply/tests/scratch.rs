//! The apply's scratch files and its processes: compares against the expected content
//! written beside the file, one `rm` per run of writes, one `id` for many owners.

use super::*;

/// Wrappers in `bin` for `names` that log each start to the returned file, then run the
/// real tool.
fn logging(bin: &std::path::Path, names: &[&str]) -> std::path::PathBuf {
    let log = bin.join("log");
    for name in names {
        wrapper(bin, name, &format!("echo {name} >> '{}'", log.display()));
    }
    log
}

#[test]
fn three_replaced_files_and_a_new_one_cost_two_compares_each_and_one_rm() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let log = logging(
        bin.path(),
        &["cmp", "ln", "mv", "rm", "chown", "chmod", "cat"],
    );
    let replace = |name: &str| {
        std::fs::write(dir.path().join(name), b"old\n").unwrap();
        Action::WriteFile {
            path: format!("/{name}"),
            expect: Expect::File(b"old\n".to_vec()),
            content: format!("new {name}\n").into_bytes(),
            mode: 0o644,
            owner: None,
        }
    };
    let actions = [
        replace("a"),
        Action::WriteFile {
            path: "/n".into(),
            expect: Expect::Absent,
            content: b"fresh\n".to_vec(),
            mode: 0o644,
            owner: None,
        },
        replace("b"),
        replace("c"),
    ];
    let (out, status) = run_with(&actions, dir.path().to_str().unwrap(), bin.path());
    assert_eq!(status, Some(0));
    assert_eq!(out.done, vec![0, 1, 2, 3], "{out:?}");
    let mut started: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    started.sort();
    let mut want: Vec<&str> = [["cmp"; 6].as_slice(), &["ln"; 4], &["mv"; 3], &["rm"]].concat();
    want.sort();
    assert_eq!(started, want);
    assert_eq!(
        names(dir.path()),
        ["a", "b", "c", "n"],
        "no scratch file left"
    );
    for name in ["a", "b", "c"] {
        assert_eq!(
            std::fs::read(dir.path().join(name)).unwrap(),
            format!("new {name}\n").into_bytes()
        );
    }
}

#[test]
fn a_file_replaced_by_rename_after_the_preflight_is_detected_and_put_back() {
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"old\n").unwrap();
    // Another writer renames its own file over f after vmup's pre-flight compare, before
    // the link to the old inode is made.
    let theirs = dir.path().join("theirs.tmp");
    let f = dir.path().join("f");
    wrapper(
        bin.path(),
        "ln",
        &format!(
            "[ -e '{f}.done' ] || {{ printf 'theirs\\n' > '{t}'; mv -f '{t}' '{f}'; : > '{f}.done'; }}",
            f = f.display(),
            t = theirs.display()
        ),
    );
    let (out, _) = run_with(
        &[old_to_new("/f")],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    let failure = out.failure.unwrap();
    assert!(failure.changed_underneath, "{failure:?}");
    assert_eq!(std::fs::read(&f).unwrap(), b"theirs\n");
    assert_eq!(names(dir.path()), ["f", "f.done"], "no scratch file left");
}

#[test]
fn scratch_files_are_gone_before_a_rename_moves_their_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/f"), b"old\n").unwrap();
    let out = run(
        &[
            old_to_new("/tls/f"),
            Action::WriteFile {
                path: "/tls/g".into(),
                expect: Expect::Absent,
                content: b"g\n".to_vec(),
                mode: 0o644,
                owner: None,
            },
            Action::Rename {
                from: "/tls".into(),
                to: "/tls.disabled".into(),
                expect: Expect::Dir,
            },
        ],
        dir.path().to_str().unwrap(),
    );
    assert_eq!(out.done, vec![0, 1, 2], "{out:?}");
    assert_eq!(names(&dir.path().join("tls.disabled")), ["f", "g"]);
    assert_eq!(names(dir.path()), ["tls.disabled"]);
}

#[test]
fn a_preflight_refusal_leaves_no_scratch_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a"), b"old\n").unwrap();
    std::fs::write(dir.path().join("b"), b"someone else\n").unwrap();
    let write = |path: &str| Action::WriteFile {
        path: path.into(),
        expect: Expect::File(b"old\n".to_vec()),
        content: b"new\n".to_vec(),
        mode: 0o644,
        owner: None,
    };
    let out = run(&[write("/a"), write("/b")], dir.path().to_str().unwrap());
    let failure = out.failure.unwrap();
    assert!(failure.changed_underneath, "{failure:?}");
    assert_eq!(failure.index, 1);
    assert!(out.done.is_empty());
    assert_eq!(names(dir.path()), ["a", "b"]);
    assert_eq!(std::fs::read(dir.path().join("a")).unwrap(), b"old\n");
}

#[test]
fn what_follows_the_apply_keeps_its_own_variables_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"old\n").unwrap();
    std::fs::write(cwd.path().join("dir"), b"mine\n").unwrap();
    let b = Boundary::random();
    // The facts part uses `t` and `o` for its own values, as the real one does.
    let script = super::apply_script_then(
        &[old_to_new("/f")],
        dir.path().to_str().unwrap(),
        &b,
        b"t=dir; o=dir\necho after\n",
    )
    .unwrap();
    let out = sh_s(&script, Some(cwd.path()), None);
    assert_eq!(parse_apply(&b, &out.stdout).done, vec![0]);
    assert!(out.stdout.ends_with(b"after\n"));
    assert_eq!(std::fs::read(cwd.path().join("dir")).unwrap(), b"mine\n");
    assert_eq!(names(dir.path()), ["f"]);
}

#[test]
fn files_that_already_have_their_owner_need_no_chown_and_others_get_it() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let log = logging(bin.path(), &["chown", "id"]);
    let write = |name: &str, owner: &str| {
        std::fs::write(dir.path().join(name), b"old\n").unwrap();
        Action::WriteFile {
            path: format!("/{name}"),
            expect: Expect::File(b"old\n".to_vec()),
            content: b"new\n".to_vec(),
            mode: 0o644,
            owner: Some(owner.into()),
        }
    };
    // The tests run as root (as the others that chown): a and b are owned by the script's
    // own ids already; c's group is daemon's (1).
    let (out, _) = run_with(
        &[write("a", "0:0"), write("b", "0:0"), write("c", "0:1")],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    assert_eq!(out.done, vec![0, 1, 2], "{out:?}");
    // The ids come from the shell's own /proc/self/status: no `id` either.
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "chown\n");
    for (name, gid) in [("a", 0), ("b", 0), ("c", 1)] {
        let meta = std::fs::metadata(dir.path().join(name)).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (0, gid), "{name}");
    }
    // In a setgid directory of group 1 a new file gets group 1: `-G` sees it and chown
    // gives it group 0 as wanted.
    let sgid = dir.path().join("s");
    std::fs::create_dir(&sgid).unwrap();
    std::os::unix::fs::chown(&sgid, Some(0), Some(1)).unwrap();
    std::fs::set_permissions(&sgid, std::os::unix::fs::PermissionsExt::from_mode(0o2755)).unwrap();
    std::fs::remove_file(&log).unwrap();
    let (out, _) = run_with(
        &[write("s/x", "0:0"), write("s/y", "0:0")],
        dir.path().to_str().unwrap(),
        bin.path(),
    );
    assert_eq!(out.done, vec![0, 1], "{out:?}");
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "chown\nchown\n");
    for name in ["s/x", "s/y"] {
        assert_eq!(std::fs::metadata(dir.path().join(name)).unwrap().gid(), 0);
    }
}

#[test]
fn a_path_written_twice_in_one_apply_is_written_twice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"old\n").unwrap();
    let write = |path: &str, expect: Expect, content: &[u8]| Action::WriteFile {
        path: path.into(),
        expect,
        content: content.to_vec(),
        mode: 0o644,
        owner: None,
    };
    // As the seed's two sections of one new .repo file: created, then edited again.
    let out = run(
        &[
            write("/n.repo", Expect::Absent, b"[a]\n"),
            write("/n.repo", Expect::File(b"[a]\n".to_vec()), b"[a]\n[b]\n"),
            write("/f", Expect::File(b"old\n".to_vec()), b"one\n"),
            write("/f", Expect::File(b"one\n".to_vec()), b"two\n"),
        ],
        dir.path().to_str().unwrap(),
    );
    assert_eq!(out.done, vec![0, 1, 2, 3], "{out:?}");
    assert_eq!(
        std::fs::read(dir.path().join("n.repo")).unwrap(),
        b"[a]\n[b]\n"
    );
    assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"two\n");
    assert_eq!(names(dir.path()), ["f", "n.repo"]);
}
