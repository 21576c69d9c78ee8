//! Tests of the facts script and its parser, through a real `sh`.

use super::*;
use std::os::unix::fs::symlink;

fn run(keys: &[FactKey], root: &str) -> Facts {
    run_with_path(keys, root, None)
}

#[test]
fn gathers_every_kind_of_path_under_a_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    std::fs::create_dir_all(dir.path().join("etc")).unwrap();
    std::fs::write(
        dir.path().join("etc/inittab"),
        b"id:3:initdefault:\nno newline",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    symlink("vmlinuz-2.6.9-55.ELxenU", dir.path().join("vmlinuz")).unwrap();
    let keys = merge_keys(vec![
        FactKey::Path {
            path: "/etc/inittab".into(),
            content: false,
        },
        FactKey::Path {
            path: "/etc/inittab".into(),
            content: true,
        },
        FactKey::Path {
            path: "/tls".into(),
            content: false,
        },
        FactKey::Path {
            path: "/vmlinuz".into(),
            content: false,
        },
        FactKey::Path {
            path: "/missing".into(),
            content: true,
        },
        FactKey::Command {
            name: "echo".into(),
            script: b"printf 'a\\nb'; exit 3".to_vec(),
        },
    ]);
    let facts = run(&keys, root);
    match &facts.paths["/etc/inittab"] {
        PathFact::File { content, .. } => {
            assert_eq!(
                content.as_deref(),
                Some(&b"id:3:initdefault:\nno newline"[..])
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(facts.paths["/tls"], PathFact::Dir { .. }));
    assert_eq!(
        facts.paths["/vmlinuz"],
        PathFact::Symlink {
            target: b"vmlinuz-2.6.9-55.ELxenU".to_vec()
        }
    );
    assert_eq!(facts.paths["/missing"], PathFact::Absent);
    assert_eq!(
        facts.commands["echo"],
        CommandOutput {
            stdout: b"a\nb".to_vec(),
            status: 3
        }
    );
    assert_eq!(
        facts.cpus, None,
        "a tree has no CPUs: /proc is the controller's"
    );
    assert_eq!(facts.kernel_release, None, "a tree is not running");
    assert_eq!(facts.hostname, None, "uname -n would name the controller");
}

#[test]
fn every_scratch_file_of_a_dead_apply_is_a_leftover_and_a_live_ones_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    std::fs::create_dir(&etc).unwrap();
    std::fs::write(etc.join("f"), b"x\n").unwrap();
    // PID 2^22 + 1 is above Linux's pid_max: no process has it.
    for suffix in ["new", "old", "exp"] {
        std::fs::write(etc.join(format!("f.vmup-{suffix}.4194305")), b"").unwrap();
    }
    std::fs::write(etc.join(format!("f.vmup-exp.{}", std::process::id())), b"").unwrap();
    let facts = run(
        &[FactKey::Path {
            path: "/etc/f".into(),
            content: false,
        }],
        dir.path().to_str().unwrap(),
    );
    let mut found = facts.leftovers.clone();
    found.sort();
    assert_eq!(
        found,
        [
            "/etc/f.vmup-exp.4194305",
            "/etc/f.vmup-new.4194305",
            "/etc/f.vmup-old.4194305"
        ]
    );
}

#[test]
fn a_tree_is_named_by_its_own_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("etc/sysconfig")).unwrap();
    std::fs::write(
        dir.path().join("etc/sysconfig/network"),
        "NETWORKING=yes\nHOSTNAME=\"ng2.grid.monash.edu.au\"\n",
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let gathered = |root: &str| run(&[], root);
    assert_eq!(
        gathered(root).hostname.as_deref(),
        Some("ng2.grid.monash.edu.au")
    );
    std::fs::write(dir.path().join("etc/hostname"), "ng3\n").unwrap();
    assert_eq!(gathered(root).hostname.as_deref(), Some("ng3"));
    // A running machine counts its CPUs and names itself.
    let me = gathered("");
    assert!(me.cpus.unwrap_or(0) >= 1);
    assert!(me.hostname.is_some());
}

/// A fact that says it runs in the script's own shell does (what it sets, the next
/// fact sees), and its `return` status is its status without ending the script; one
/// that does not still has a subshell, where `exit` ends only itself.
#[test]
fn in_shell_facts_run_as_functions_and_others_in_subshells() {
    struct Sets(bool);
    impl crate::facts::Fact for Sets {
        type Value = ();
        fn name(&self) -> String {
            format!("sets {}", self.0)
        }
        fn script(&self, s: &mut Script) {
            s.code("vmup_seen=here; echo set; return 3");
        }
        fn parse(&self, _: &CommandOutput) -> Result<(), crate::facts::FactError> {
            Ok(())
        }
        fn in_shell(&self) -> bool {
            self.0
        }
    }
    let reads = |name: &str| FactKey::Command {
        name: name.into(),
        script: b"echo \"seen ${vmup_seen:-nothing}\"; exit 4".to_vec(),
    };
    use crate::facts::Fact;
    for (in_shell, seen) in [(true, "seen here"), (false, "seen nothing")] {
        let mut keys = vec![Sets(in_shell).key(), reads("z")];
        if !in_shell {
            // `return` outside a function is an error in a subshell: use exit there.
            keys[0] = FactKey::Command {
                name: "sets false".into(),
                script: b"vmup_seen=here; echo set; exit 3".to_vec(),
            };
        }
        let facts = run(&keys, "");
        let set = &facts.commands[&format!("sets {in_shell}")];
        assert_eq!((set.stdout.as_slice(), set.status), (&b"set"[..], 3));
        let z = &facts.commands["z"];
        assert_eq!((z.stdout.as_slice(), z.status), (seen.as_bytes(), 4));
    }
}

/// Twenty files and directories cost one `stat` and one `cat`, whatever their number:
/// shims in front of the real tools log every start. Read one by one, each costs its own.
#[test]
fn many_paths_are_read_by_two_processes() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("t");
    let shims = dir.path().join("shims");
    std::fs::create_dir_all(tree.join("etc/d")).unwrap();
    std::fs::create_dir_all(&shims).unwrap();
    let log = dir.path().join("log");
    for tool in ["stat", "cat", "readlink"] {
        let real = ["/usr/bin", "/bin"]
            .iter()
            .map(|d| std::path::Path::new(d).join(tool))
            .find(|p| p.exists())
            .unwrap();
        let shim = shims.join(tool);
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\necho {tool} >> '{}'\nexec {} \"$@\"\n",
                log.display(),
                real.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut keys = Vec::new();
    for n in 0..20 {
        // Sizes differ, one file is empty and one has no final newline.
        let body = "x\n".repeat(n) + if n == 7 { "tail" } else { "" };
        std::fs::write(tree.join(format!("etc/f{n}")), &body).unwrap();
        keys.push(FactKey::Path {
            path: format!("/etc/f{n}"),
            content: n % 3 != 0,
        });
    }
    keys.push(FactKey::Path {
        path: "/etc/d".into(),
        content: false,
    });
    let path = format!("{}:/usr/bin:/bin", shims.display());
    let facts = run_with_path(&keys, tree.to_str().unwrap(), Some(&path));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "stat\ncat\n");
    std::fs::remove_file(&log).unwrap();
    let b = Boundary::random();
    let script = facts_script_one_by_one(&keys, tree.to_str().unwrap(), &b).unwrap();
    let out = crate::facts::gather::sh_with_path(&script, Some(&path));
    assert_eq!(parse_facts(&keys, &b, &out).unwrap(), facts);
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log.matches("stat").count(), 21, "{log}");
    assert_eq!(log.matches("cat").count(), 13, "{log}");
    for n in 0..20 {
        let body = "x\n".repeat(n) + if n == 7 { "tail" } else { "" };
        let want = (n % 3 != 0).then(|| body.into_bytes());
        match &facts.paths[&format!("/etc/f{n}")] {
            PathFact::File { mode, content, .. } => {
                assert_eq!((*mode, content), (0o644, &want), "f{n}")
            }
            other => panic!("f{n}: {other:?}"),
        }
    }
    assert!(matches!(facts.paths["/etc/d"], PathFact::Dir { .. }));
}

/// The one `cat` failed (a file went away after the `stat`): the script says `recat` and
/// reads each file alone; the split contents are dropped.
#[test]
fn contents_read_again_after_recat_replace_the_split() {
    let keys = vec![
        FactKey::Path {
            path: "/a".into(),
            content: true,
        },
        FactKey::Path {
            path: "/b".into(),
            content: true,
        },
    ];
    let b = Boundary::fixed("vmupB");
    let out = b"\nvmupB cpus\n\nvmupB file 0 644 0 0 2\n\nvmupB file 1 644 0 0 1\n\nvmupB contents\nabX\nvmupB recat\n\nvmupB file 0 644 0 0\nabc\nvmupB file 1 600 0 0\nZ\nvmupB end\n";
    let facts = parse_facts(&keys, &b, out).unwrap();
    assert_eq!(facts.paths["/a"], PathFact::root_file(b"abc"));
    assert!(
        matches!(&facts.paths["/b"], PathFact::File { mode: 0o600, content: Some(c), .. } if c == b"Z")
    );
    // Without the recat, sizes that do not add up are an error, not a guess.
    let bad =
        b"\nvmupB file 0 644 0 0 2\n\nvmupB file 1 644 0 0 1\n\nvmupB contents\nabXY\nvmupB end\n";
    assert!(matches!(
        parse_facts(&keys, &b, bad),
        Err(FactsError::ChangedWhileRead { got: 4, total: 3 })
    ));
}

#[test]
fn content_that_looks_like_framing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let body = b"\nvmup0000 end\n\nvmup_rec absent 0\n".to_vec();
    std::fs::write(dir.path().join("f"), &body).unwrap();
    let keys = vec![FactKey::Path {
        path: "/f".into(),
        content: true,
    }];
    let facts = run(&keys, dir.path().to_str().unwrap());
    assert!(matches!(&facts.paths["/f"], PathFact::File { content: Some(c), .. } if *c == body));
}
