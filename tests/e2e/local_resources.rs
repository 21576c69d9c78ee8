//! Every resource through the binary on real trees: apply converges, plans change nothing.

use crate::support::{LocalFleet, apply_converges};

const INITTAB: &str =
    "id:3:initdefault:\n1:2345:respawn:/sbin/mingetty tty1\n2:2345:respawn:/sbin/mingetty tty2\n";

#[test]
fn line_inserts_before_the_first_anchor_and_converges() {
    let fleet = LocalFleet::new(&["g1", "g2"]);
    for h in ["g1", "g2"] {
        fleet.write(h, "/etc/inittab", INITTAB.as_bytes());
        fleet.write(h, "/etc/securetty", b"console\ntty1\n");
    }
    let rb = fleet.runbook(
        r#"
[[step]]
line = { path = "/etc/inittab", line = "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav", match = "^S0:", insert_before = "^[0-9]:" }
[[step]]
line = { path = "/etc/securetty", line = "ttyS0" }
"#,
    );
    let apply = apply_converges(&fleet, rb);
    assert_eq!(apply.hosts()["g1"]["status"], "changed");
    assert_eq!(
        String::from_utf8(fleet.read("g2", "/etc/inittab")).unwrap(),
        "id:3:initdefault:\nS0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\n1:2345:respawn:/sbin/mingetty tty1\n2:2345:respawn:/sbin/mingetty tty2\n"
    );
    assert_eq!(
        fleet.read("g1", "/etc/securetty"),
        b"console\ntty1\nttyS0\n"
    );
}

#[test]
fn line_replaces_an_old_variant_in_place_and_keeps_crlf_and_missing_newline() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/inittab", b"id:3:initdefault:\r\nS0:2345:respawn:/sbin/agetty ttyS0 9600\r\n1:2345:respawn:/sbin/mingetty tty1");
    let rb = fleet.runbook(
        "[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\", match = \"^S0:\", insert_before = \"^1:\" }\n",
    );
    apply_converges(&fleet, rb);
    assert_eq!(
        fleet.read("g", "/etc/inittab"),
        b"id:3:initdefault:\r\nS0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\r\n1:2345:respawn:/sbin/mingetty tty1"
    );
}

#[test]
fn line_absent_removes_every_match() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/inittab", b"a\nS0:x\nb\nS0:y\n");
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/inittab\", line = \"S0\", match = \"^S0:\", state = \"absent\" }\n");
    apply_converges(&fleet, rb);
    assert_eq!(fleet.read("g", "/etc/inittab"), b"a\nb\n");
}

#[test]
fn line_with_missing_anchor_fails_the_host_and_touches_nothing() {
    let fleet = LocalFleet::new(&["g", "ok"]);
    fleet.write("g", "/etc/inittab", b"id:3:initdefault:\n");
    fleet.write("ok", "/etc/inittab", INITTAB.as_bytes());
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:x\", match = \"^S0:\", insert_before = \"^1:\" }\n");
    let before = fleet.read("g", "/etc/inittab");
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let hosts = run.hosts();
    assert_eq!(hosts["g"]["status"], "failed");
    let error = hosts["g"]["error"].as_str().unwrap();
    assert!(
        error.contains("/etc/inittab: no line matches the anchor /^1:/"),
        "{error}"
    );
    assert!(
        error.contains("or_append"),
        "the message says what to do: {error}"
    );
    assert_eq!(fleet.read("g", "/etc/inittab"), before);
    assert_eq!(hosts["ok"]["status"], "changed", "other hosts go on");
}

#[test]
fn line_on_a_missing_file_needs_create() {
    let fleet = LocalFleet::new(&["g"]);
    std::fs::create_dir_all(fleet.file("g", "/etc")).unwrap();
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.hosts()["g"]["error"]
            .as_str()
            .unwrap()
            .contains("set create = true")
    );
    let rb = fleet.runbook(
        "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\", create = true }\n",
    );
    apply_converges(&fleet, rb);
    assert_eq!(fleet.read("g", "/etc/securetty"), b"ttyS0\n");
}

#[test]
fn ini_adds_only_missing_words_and_keeps_the_rest_byte_for_byte() {
    let fleet = LocalFleet::new(&["has", "lacks", "nosection"]);
    fleet.write("has", "/etc/yum.conf", b"# yum\n[main]\ncachedir = /var/cache/yum\ninstallonlypkgs=kernel kernel-xenU  kernel-smp\n\n[other]\nx=1\n");
    fleet.write(
        "lacks",
        "/etc/yum.conf",
        b"[main]\ncachedir=/var/cache/yum\n; comment\n",
    );
    fleet.write("nosection", "/etc/yum.conf", b"# nothing yet\n");
    let rb = fleet.runbook("[[step]]\nini = { path = \"/etc/yum.conf\", section = \"main\", key = \"installonlypkgs\", contains = [\"kernel\", \"kernel-xenU\", \"kernel-xenU-devel\"] }\n");
    apply_converges(&fleet, rb);
    assert_eq!(
        String::from_utf8(fleet.read("has", "/etc/yum.conf")).unwrap(),
        "# yum\n[main]\ncachedir = /var/cache/yum\ninstallonlypkgs=kernel kernel-xenU  kernel-smp kernel-xenU-devel\n\n[other]\nx=1\n"
    );
    assert_eq!(
        String::from_utf8(fleet.read("lacks", "/etc/yum.conf")).unwrap(),
        "[main]\ncachedir=/var/cache/yum\ninstallonlypkgs=kernel kernel-xenU kernel-xenU-devel\n; comment\n"
    );
    assert_eq!(
        String::from_utf8(fleet.read("nosection", "/etc/yum.conf")).unwrap(),
        "# nothing yet\n\n[main]\ninstallonlypkgs=kernel kernel-xenU kernel-xenU-devel\n"
    );
}

#[test]
fn ini_edits_the_last_of_a_key_written_twice() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write(
        "g",
        "/etc/yum.conf",
        b"[main]\ninstallonlypkgs=kernel\ninstallonlypkgs=kernel-smp\n",
    );
    let rb = fleet.runbook("[[step]]\nini = { path = \"/etc/yum.conf\", key = \"installonlypkgs\", contains = [\"kernel-xenU\"] }\n");
    apply_converges(&fleet, rb);
    assert_eq!(
        fleet.read("g", "/etc/yum.conf"),
        b"[main]\ninstallonlypkgs=kernel\ninstallonlypkgs=kernel-smp kernel-xenU\n"
    );
}

#[test]
fn ini_value_and_absent_words() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write(
        "g",
        "/etc/yum.repos.d/APAC-Grid.repo",
        b"[apacgrid]\nname=APAC Grid\nenabled = 1\n",
    );
    fleet.write("g", "/etc/yum.conf", b"[main]\nexclude=kernel* python24\n");
    let rb = fleet.runbook(
        "[[step]]\nini = { path = \"/etc/yum.repos.d/APAC-Grid.repo\", section = \"apacgrid\", key = \"enabled\", value = \"0\" }\n[[step]]\nini = { path = \"/etc/yum.conf\", key = \"exclude\", absent = [\"python24\"] }\n",
    );
    apply_converges(&fleet, rb);
    assert_eq!(
        fleet.read("g", "/etc/yum.repos.d/APAC-Grid.repo"),
        b"[apacgrid]\nname=APAC Grid\nenabled = 0\n"
    );
    assert_eq!(
        fleet.read("g", "/etc/yum.conf"),
        b"[main]\nexclude=kernel*\n"
    );
}

fn tls_fleet(tls: bool, disabled: bool, old: bool) -> LocalFleet {
    let fleet = LocalFleet::new(&["g"]);
    std::fs::create_dir_all(fleet.file("g", "/lib")).unwrap();
    if tls {
        fleet.write("g", "/lib/tls/libc.so.6", b"new tls\n");
    }
    if disabled {
        fleet.write("g", "/lib/tls.disabled/libc.so.6", b"previous tls\n");
    }
    if old {
        fleet.write("g", "/lib/tls.disabled.old/libc.so.6", b"ancient tls\n");
    }
    fleet
}

const TLS_RUNBOOK: &str = "[[step]]\nmove_aside = { path = \"/lib/tls\", to = \"/lib/tls.disabled\", keep_previous = \"/lib/tls.disabled.old\" }\n";

#[test]
fn move_aside_all_combinations_of_tls_and_tls_disabled() {
    for (tls, disabled) in [(false, false), (false, true), (true, false), (true, true)] {
        let fleet = tls_fleet(tls, disabled, false);
        let rb = fleet.runbook(TLS_RUNBOOK);
        let apply = apply_converges(&fleet, rb);
        let status = apply.hosts()["g"]["status"].as_str().unwrap().to_string();
        assert!(
            !fleet.file("g", "/lib/tls").exists(),
            "tls={tls} disabled={disabled}"
        );
        let read = |p: &str| std::fs::read_to_string(fleet.file("g", p)).ok();
        match (tls, disabled) {
            (false, false) => {
                assert_eq!(status, "ok");
                assert!(!fleet.file("g", "/lib/tls.disabled").exists());
            }
            (false, true) => {
                assert_eq!(status, "ok");
                assert_eq!(
                    read("/lib/tls.disabled/libc.so.6").as_deref(),
                    Some("previous tls\n")
                );
            }
            (true, false) => {
                assert_eq!(status, "changed");
                assert_eq!(
                    read("/lib/tls.disabled/libc.so.6").as_deref(),
                    Some("new tls\n")
                );
                assert!(!fleet.file("g", "/lib/tls.disabled.old").exists());
            }
            (true, true) => {
                assert_eq!(status, "changed");
                assert_eq!(
                    read("/lib/tls.disabled/libc.so.6").as_deref(),
                    Some("new tls\n")
                );
                assert_eq!(
                    read("/lib/tls.disabled.old/libc.so.6").as_deref(),
                    Some("previous tls\n")
                );
            }
        }
    }
}

#[test]
fn move_aside_replaces_the_copy_before_last_and_says_so() {
    let fleet = tls_fleet(true, true, true);
    let rb = fleet.runbook(TLS_RUNBOOK);
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert!(
        plan.stdout
            .contains("remove /lib/tls.disabled.old (a directory), the copy before last"),
        "{}",
        plan.stdout
    );
    apply_converges(&fleet, rb);
    assert_eq!(
        std::fs::read_to_string(fleet.file("g", "/lib/tls.disabled.old/libc.so.6")).unwrap(),
        "previous tls\n"
    );
}

#[test]
fn move_aside_without_keep_previous_refuses_to_overwrite() {
    let fleet = tls_fleet(true, true, false);
    let rb = fleet
        .runbook("[[step]]\nmove_aside = { path = \"/lib/tls\", to = \"/lib/tls.disabled\" }\n");
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.hosts()["g"]["error"]
            .as_str()
            .unwrap()
            .contains("set keep_previous")
    );
    assert!(fleet.file("g", "/lib/tls/libc.so.6").exists());
}

#[test]
fn symlink_created_retargeted_and_never_replacing_a_file() {
    let fleet = LocalFleet::new(&["g", "file"]);
    fleet.write("g", "/boot/vmlinuz-2.6.9-67.0.1.ELxenU", b"k");
    std::os::unix::fs::symlink(
        "vmlinuz-2.6.9-55.ELxenU",
        fleet.file("g", "/boot/vmlinuz-2.6.9-ELxenU"),
    )
    .unwrap();
    fleet.write("g", "/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img", b"i");
    fleet.write("file", "/boot/vmlinuz-2.6.9-ELxenU", b"a real kernel file");
    let rb = fleet.runbook(
        "[[step]]\nhosts = \"g\"\nsymlink = { path = \"/boot/vmlinuz-2.6.9-ELxenU\", target = \"vmlinuz-2.6.9-67.0.1.ELxenU\" }\n[[step]]\nhosts = \"g\"\nsymlink = { path = \"/boot/initrd-2.6.9-ELxenU-xendrv.img\", target = \"initrd-2.6.9-67.0.1.ELxenU-xendrv.img\" }\n",
    );
    apply_converges(&fleet, rb);
    let link = |p: &str| {
        std::fs::read_link(fleet.file("g", p))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert_eq!(
        link("/boot/vmlinuz-2.6.9-ELxenU"),
        "vmlinuz-2.6.9-67.0.1.ELxenU"
    );
    assert_eq!(
        link("/boot/initrd-2.6.9-ELxenU-xendrv.img"),
        "initrd-2.6.9-67.0.1.ELxenU-xendrv.img"
    );

    let rb = fleet.runbook("[[step]]\nhosts = \"file\"\nsymlink = { path = \"/boot/vmlinuz-2.6.9-ELxenU\", target = \"x\" }\n");
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.hosts()["file"]["error"]
            .as_str()
            .unwrap()
            .contains("is a regular file; refusing")
    );
    assert_eq!(
        fleet.read("file", "/boot/vmlinuz-2.6.9-ELxenU"),
        b"a real kernel file"
    );
}

#[test]
fn file_created_then_content_and_mode_enforced_keeping_owner() {
    use std::os::unix::fs::PermissionsExt;
    let fleet = LocalFleet::new(&["new", "old"]);
    std::fs::create_dir_all(fleet.file("new", "/etc/yum.repos.d")).unwrap();
    fleet.write("old", "/etc/yum.repos.d/Monash-base.repo", b"stale\n");
    std::fs::set_permissions(
        fleet.file("old", "/etc/yum.repos.d/Monash-base.repo"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let rb = fleet.runbook("[[step]]\nfile = { path = \"/etc/yum.repos.d/Monash-base.repo\", content = \"[monashbase]\\nenabled=0\\n\", mode = \"0644\" }\n");
    apply_converges(&fleet, rb);
    for h in ["new", "old"] {
        assert_eq!(
            fleet.read(h, "/etc/yum.repos.d/Monash-base.repo"),
            b"[monashbase]\nenabled=0\n"
        );
        let mode = std::fs::metadata(fleet.file(h, "/etc/yum.repos.d/Monash-base.repo"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "{h}");
    }
}

#[test]
fn two_steps_editing_one_file_chain() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/securetty", b"console\n");
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n[[step]]\nline = { path = \"/etc/securetty\", line = \"hvc0\" }\n");
    apply_converges(&fleet, rb);
    assert_eq!(fleet.read("g", "/etc/securetty"), b"console\nttyS0\nhvc0\n");
}

#[test]
fn when_condition_skips_with_a_reason() {
    let fleet = LocalFleet::new(&["g"]);
    // A tree's CPU count is what the inventory says (its domain's), never the controller's.
    let inv = std::fs::read_to_string(fleet.path().join("inventory.toml")).unwrap();
    std::fs::write(
        fleet.path().join("inventory.toml"),
        format!("{inv}cpus = 2\n"),
    )
    .unwrap();
    fleet.write("g", "/etc/securetty", b"console\n");
    let rb = fleet.runbook("[[step]]\nwhen = \"cpus == 100000\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 0);
    let notes = run.hosts()["g"]["notes"].to_string();
    assert!(
        notes.contains("skipped, `cpus == 100000` is false here"),
        "{notes}"
    );
    assert_eq!(fleet.read("g", "/etc/securetty"), b"console\n");
}

#[test]
fn json_lines_have_the_documented_shape() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/securetty", b"console\n");
    let rb = fleet.runbook(
        "[[step]]\nname = \"serial\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
    );
    let run = fleet.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 3, "plan exits 3 when changes are pending");
    let lines = run.json();
    assert_eq!(lines.len(), 2);
    let host = &lines[0];
    assert_eq!(host["host"], "g");
    assert_eq!(host["phase"], "plan");
    assert_eq!(host["status"], "changed");
    assert!(host["error"].is_null());
    let change = &host["changes"][0];
    assert_eq!(change["step"], "step 1 (serial)");
    assert_eq!(change["resource"], "line");
    assert_eq!(change["path"], "/etc/securetty");
    assert!(change["summary"].as_str().unwrap().contains("ttyS0"));
    assert!(change["diff"].as_str().unwrap().contains("+ttyS0"));
    let summary = &lines[1]["summary"];
    assert_eq!(summary["hosts"], 1);
    assert_eq!(summary["changed"], 1);
    assert!(run.stderr.is_empty(), "nothing but JSON: {}", run.stderr);
}

#[test]
fn facts_shows_what_vmup_reads() {
    let fleet = LocalFleet::new(&["g"]);
    let inv = std::fs::read_to_string(fleet.path().join("inventory.toml")).unwrap();
    std::fs::write(
        fleet.path().join("inventory.toml"),
        format!("{inv}cpus = 2\n"),
    )
    .unwrap();
    fleet.write("g", "/etc/securetty", b"console\n");
    std::fs::create_dir_all(fleet.file("g", "/lib/tls")).unwrap();
    let run = fleet.vmup(&["facts", "-i", "inventory.toml", "g", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.json();
    assert_eq!(
        lines.len(),
        2,
        "a host line and the summary: {}",
        run.stdout
    );
    let facts = &lines[0];
    assert_eq!(facts["host"], "g");
    assert_eq!(facts["status"], "ok");
    assert_eq!(lines[1]["summary"]["ok"], 1);
    assert_eq!(
        facts["cpus"].as_u64(),
        Some(2),
        "the inventory's, for a tree"
    );
    assert_eq!(facts["paths"]["/etc/securetty"]["type"], "file");
    assert_eq!(facts["paths"]["/etc/securetty"]["content"], "console\n");
    assert_eq!(facts["paths"]["/lib/tls"]["type"], "directory");
    assert_eq!(facts["paths"]["/etc/inittab"]["type"], "absent");
    let text = fleet.vmup(&["facts", "-i", "inventory.toml", "g"]);
    assert!(
        text.stdout.contains("/etc/securetty: file 0644"),
        "{}",
        text.stdout
    );
    // With a runbook, exactly its facts, command facts included (shown under their name).
    std::fs::create_dir_all(fleet.file("g", "/lib/modules/2.6.9-55.ELxenU")).unwrap();
    let root = fleet.file("g", "/");
    let db = std::process::Command::new("rpm")
        .args([
            "--root",
            root.to_str().unwrap(),
            "--dbpath",
            "/var/lib/rpm",
            "--initdb",
        ])
        .status()
        .unwrap();
    assert!(db.success());
    fleet.runbook("[[step]]\nkernels = { packages = [\"kernel-xenU\"], keep = { newest = 1 } }\n");
    let text = fleet.vmup(&[
        "facts",
        "-i",
        "inventory.toml",
        "g",
        "--runbook",
        "runbook.toml",
    ]);
    assert!(
        text.stdout
            .contains("kernel-inventory kernel-xenU (exit status 0):\n    mod 2.6.9-55.ELxenU\n"),
        "{}",
        text.stdout
    );
}

#[test]
fn human_output_groups_alike_hosts_and_ends_with_a_table() {
    let fleet = LocalFleet::new(&["a", "b", "c"]);
    for h in ["a", "b"] {
        fleet.write(h, "/etc/securetty", b"console\n");
    }
    fleet.write("c", "/etc/securetty", b"console\nttyS0\n");
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    let run = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(run.code, 3);
    // Not a terminal: one plain progress line per host on stderr.
    for (h, status) in [("a", "changed"), ("b", "changed"), ("c", "ok")] {
        let wanted = format!("] {h}: {status} (");
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with('[') && l.contains(&wanted)),
            "no progress line for {h} in: {}",
            run.stderr
        );
    }
    assert!(
        run.stdout.contains("== a, b (1 change(s) pending each)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("      +ttyS0"),
        "the diff is shown: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("HOST  STATUS       CHANGES     TIME"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().any(|l| l.starts_with("c     ok ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.trim_end().ends_with("changes pending"),
        "{}",
        run.stdout
    );
}

#[test]
fn temporary_files_an_interrupted_run_left_are_removed_by_the_next_apply() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/securetty", b"console\n");
    // A crashed writer (pid 999999 is not running) left its temporary file and old link.
    fleet.write("g", "/etc/securetty.vmup-new.999999", b"console\nttyS0\n");
    fleet.write("g", "/etc/securetty.vmup-old.999999", b"console\n");
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert!(
        plan.stdout.contains(
            "remove /etc/securetty.vmup-new.999999, a temporary file an interrupted vmup run left"
        ),
        "{}",
        plan.stdout
    );
    apply_converges(&fleet, rb);
    let names: Vec<String> = std::fs::read_dir(fleet.file("g", "/etc"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["securetty"]);
}

#[test]
fn terminal_escape_sequences_in_a_file_are_shown_escaped() {
    let fleet = LocalFleet::new(&["g"]);
    // A guest's file trying to erase the line above and hide a change.
    fleet.write(
        "g",
        "/etc/securetty",
        b"console\n\x1b[1A\x1b[2Ktty1\rtty9\n",
    );
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(plan.code, 3, "{}", plan.stderr);
    assert!(
        !plan.stdout.contains('\x1b') && !plan.stdout.contains('\r'),
        "{:?}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("\\x1b[1A\\x1b[2Ktty1\\r"),
        "{}",
        plan.stdout
    );
    // JSON keeps the bytes, escaped by JSON itself.
    let json = fleet.vmup(&["plan", "-i", "inventory.toml", rb, "--json"]);
    assert!(json.stdout.contains("\\u001b[1A"), "{}", json.stdout);
}
