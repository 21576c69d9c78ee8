//! `vmup check` on local trees, through the built binary: Not OK with the reasons named
//! (steps that would change something, check-only steps, a step that cannot be planned,
//! a guest whose host boots a kernel without modules in it), exit 1, nothing changed;
//! OK and exit 0 after `apply`; an unreachable host neither OK nor Not OK; `--json`; and a
//! check-only step that `apply` never applies.

use crate::snapshots::normalised;
use crate::support::LocalFleet;

/// The seed's securetty line and haldaemon, which makes gridpulse say "Not OK".
const RUNBOOK: &str = r#"[[step]]
name = "root login on the serial console"
line = { path = "/etc/securetty", line = "ttyS0" }

[[step]]
name = "haldaemon off"
service = { name = "haldaemon", enabled = false, running = false }
"#;

/// A SysV haldaemon with its rc links: started in runlevels 3-5 when `on`, else stopped
/// everywhere, as chkconfig leaves them.
fn haldaemon(fleet: &LocalFleet, host: &str, on: bool) {
    fleet.write(
        host,
        "/etc/rc.d/init.d/haldaemon",
        b"#!/bin/sh\n# chkconfig: 345 98 02\n# description: HAL\n",
    );
    for level in 0..=6 {
        let dir = fleet.file(host, &format!("/etc/rc.d/rc{level}.d"));
        std::fs::create_dir_all(&dir).unwrap();
        let link = if on && (3..=5).contains(&level) {
            "S98haldaemon"
        } else {
            "K02haldaemon"
        };
        std::os::unix::fs::symlink("../init.d/haldaemon", dir.join(link)).unwrap();
    }
}

fn check(fleet: &LocalFleet, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["check", "-i", "inventory.toml", "runbook.toml"];
    args.extend_from_slice(extra);
    fleet.vmup(&args)
}

#[test]
fn not_ok_with_the_reasons_until_apply_then_ok() {
    let fleet = LocalFleet::new(&["ng2", "grid"]);
    fleet.write("ng2", "/etc/securetty", b"console\ntty1\n");
    haldaemon(&fleet, "ng2", true);
    fleet.write("grid", "/etc/securetty", b"console\ntty1\nttyS0\n");
    haldaemon(&fleet, "grid", false);
    fleet.runbook(RUNBOOK);
    let before = fleet.snapshot();

    let run = check(&fleet, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    insta::assert_snapshot!("check_not_ok", normalised(&run, fleet.path()));
    assert_eq!(before, fleet.snapshot(), "check changed the hosts");

    let json = check(&fleet, &["--json"]);
    assert_eq!(json.code, 1);
    let hosts = json.hosts();
    let ng2 = &hosts["ng2"];
    assert_eq!(ng2["status"], "not_ok", "{ng2}");
    assert_eq!(ng2["verdict"], "Not OK");
    assert_eq!(ng2["round_trips"], 1);
    let reasons = ng2["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 4, "securetty and three rc links: {ng2}");
    assert_eq!(reasons[0]["kind"], "change");
    assert_eq!(
        reasons[0]["step"],
        "step 1 (root login on the serial console)"
    );
    assert_eq!(reasons[0]["text"], "append \"ttyS0\" as line 3");
    assert_eq!(reasons[1]["step"], "step 2 (haldaemon off)");
    assert_eq!(
        reasons[1]["text"],
        "rename /etc/rc.d/rc3.d/S98haldaemon to K02haldaemon"
    );
    assert_eq!(hosts["grid"]["status"], "ok");
    assert_eq!(hosts["grid"]["verdict"], "OK");
    assert_eq!(hosts["grid"]["reasons"], serde_json::json!([]));
    let summary = json.json().last().unwrap()["summary"].clone();
    assert_eq!(
        (&summary["ok"], &summary["not_ok"], &summary["failed"]),
        (&1.into(), &1.into(), &0.into()),
        "{summary}"
    );

    let apply = fleet.vmup(&["apply", "-i", "inventory.toml", "runbook.toml"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let run = check(&fleet, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(
        normalised(&run, fleet.path()),
        "HOST  VERDICT  REASONS\nng2   OK\ngrid  OK\ncheck: 2 host(s), 2 OK, 0 Not OK in 0.00s: all OK\n"
    );
    let json = check(&fleet, &["--json"]);
    assert_eq!(json.code, 0);
    for (host, line) in json.hosts() {
        assert_eq!(line["verdict"], "OK", "{host}: {line}");
    }
}

#[test]
fn a_check_only_step_is_evaluated_but_never_applied() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/securetty", b"console\n");
    fleet.write("g", "/lib/tls/libc.so.6", b"tls\n");
    fleet.runbook(
        r#"[[step]]
name = "TLS libraries stay disabled"
check_only = true
move_aside = { path = "/lib/tls", to = "/lib/tls.disabled" }

[[step]]
name = "root login on the serial console"
line = { path = "/etc/securetty", line = "ttyS0" }
"#,
    );
    let note = "step 1 (TLS libraries stay disabled): check only, not applied: rename /lib/tls to /lib/tls.disabled";

    // plan shows it as a note, not a change.
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", "runbook.toml", "--json"]);
    assert_eq!(plan.code, 3, "{}", plan.stdout);
    let g = &plan.hosts()["g"];
    let changes: Vec<&str> = g["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["step"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["step 2 (root login on the serial console)"]);
    assert!(
        g["notes"].as_array().unwrap().iter().any(|n| n == note),
        "{g}"
    );
    let human = fleet.vmup(&["plan", "-i", "inventory.toml", "runbook.toml"]);
    assert!(
        human.stdout.contains(
            "  step 1 (TLS libraries stay disabled) move_aside (check only, not applied): rename /lib/tls to /lib/tls.disabled\n"
        ),
        "{}",
        human.stdout
    );

    // apply makes the other change and never this one, now or on the next run.
    let apply = fleet.vmup(&["apply", "-i", "inventory.toml", "runbook.toml", "--json"]);
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(apply.hosts()["g"]["changes"].as_array().unwrap().len(), 1);
    assert_eq!(fleet.read("g", "/etc/securetty"), b"console\nttyS0\n");
    assert!(fleet.file("g", "/lib/tls/libc.so.6").exists(), "not moved");
    assert!(!fleet.file("g", "/lib/tls.disabled").exists());
    let after = fleet.snapshot();
    let again = fleet.vmup(&["apply", "-i", "inventory.toml", "runbook.toml", "--json"]);
    assert_eq!(again.code, 0);
    assert_eq!(again.hosts()["g"]["status"], "ok");
    assert_eq!(
        after,
        fleet.snapshot(),
        "the second apply changed something"
    );

    // check still finds it, as a check-only reason.
    let run = check(&fleet, &["--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let reasons = run.hosts()["g"]["reasons"].clone();
    assert_eq!(
        reasons,
        serde_json::json!([{
            "kind": "check",
            "step": "step 1 (TLS libraries stay disabled)",
            "text": "rename /lib/tls to /lib/tls.disabled",
        }])
    );
    let human = check(&fleet, &[]);
    assert!(
        human
            .stdout
            .contains("step 1 (TLS libraries stay disabled) [check only]: rename /lib/tls to /lib/tls.disabled\n"),
        "{}",
        human.stdout
    );

    // Fixed by hand: OK.
    std::fs::remove_dir_all(fleet.file("g", "/lib/tls")).unwrap();
    let run = check(&fleet, &[]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// `xen1` boots ng2 and ng3 with 2.6.9-55.ELxenU through its stable /boot link; ng2 has
/// only the modules of 67.0.1, ng3 those of 55. `gone` is a host whose tree is missing.
fn guests() -> LocalFleet {
    let fleet = LocalFleet::new(&["xen1", "ng2", "ng3"]);
    let mut inv = String::from(
        "[defaults]\ntransport = \"local\"\n\n[hosts.xen1]\nroot = \"xen1\"\nrole = \"host\"\n\n[hosts.gone]\nroot = \"gone\"\n",
    );
    for (g, modules) in [("ng2", "2.6.9-67.0.1.ELxenU"), ("ng3", "2.6.9-55.ELxenU")] {
        let domain = g.to_uppercase();
        inv.push_str(&format!(
            "\n[hosts.{g}]\nroot = \"{g}\"\nhost = \"xen1\"\ndomain = \"{domain}\"\ndomain_config = \"/etc/xen/{domain}\"\n"
        ));
        fleet.write(
            "xen1",
            &format!("/etc/xen/{domain}"),
            format!("name = \"{domain}\"\nkernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\n").as_bytes(),
        );
        fleet.write(g, &format!("/lib/modules/{modules}/modules.dep"), b"");
        fleet.write(g, "/etc/securetty", b"console\nttyS0\n");
    }
    fleet.write("xen1", "/boot/vmlinuz-2.6.9-55.ELxenU", b"placeholder\n");
    std::os::unix::fs::symlink(
        "vmlinuz-2.6.9-55.ELxenU",
        fleet.file("xen1", "/boot/vmlinuz-2.6.9-ELxenU"),
    )
    .unwrap();
    std::fs::write(fleet.path().join("inventory.toml"), inv).unwrap();
    fleet.runbook(
        "[[step]]\nname = \"root login on the serial console\"\nhosts = \"guests\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
    );
    fleet
}

#[test]
fn a_guest_booted_without_its_modules_is_not_ok_and_an_unreachable_host_is_neither() {
    let fleet = guests();
    let run = check(&fleet, &["--json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let hosts = run.hosts();
    let ng2 = &hosts["ng2"];
    assert_eq!(ng2["status"], "not_ok", "{ng2}");
    assert_eq!(
        ng2["reasons"],
        serde_json::json!([{
            "kind": "kernel",
            "step": null,
            "text": "host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing: the guest will come up without disk and network drivers",
        }])
    );
    assert_eq!(ng2["kernels"]["booted"]["release"], "2.6.9-55.ELxenU");
    assert_eq!(
        ng2["round_trips"], 2,
        "runbook facts, then the kernel check"
    );
    assert_eq!(hosts["ng3"]["verdict"], "OK", "{}", hosts["ng3"]);
    assert_eq!(hosts["xen1"]["verdict"], "OK");
    let gone = &hosts["gone"];
    assert_eq!(gone["status"], "unreachable", "{gone}");
    assert_eq!(gone["verdict"], serde_json::Value::Null);
    assert!(
        gone["error"].as_str().unwrap().contains("not a directory"),
        "{gone}"
    );
    let summary = run.json().last().unwrap()["summary"].clone();
    assert_eq!(
        (&summary["not_ok"], &summary["unreachable"], &summary["ok"]),
        (&1.into(), &1.into(), &2.into())
    );

    let human = check(&fleet, &[]);
    assert!(
        human.stdout.contains(
            "booted kernel: host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing"
        ),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("\ngone  unreachable  cannot connect to gone"),
        "{}",
        human.stdout
    );

    // Without the Not OK guest, the unreachable host alone still fails the check (it is
    // not known to be OK), with the code that says unreachable.
    let run = check(&fleet, &["--limit", "!ng2"]);
    assert_eq!(run.code, 4, "{}", run.stdout);
    assert!(
        run.stdout
            .contains("check: 3 host(s), 2 OK, 0 Not OK, 1 unreachable in ")
            && run.stdout.ends_with(": not every host could be checked\n"),
        "{}",
        run.stdout
    );
    // The modules back in the guest: OK.
    fleet.write("ng2", "/lib/modules/2.6.9-55.ELxenU/modules.dep", b"");
    let run = check(&fleet, &["--limit", "!gone"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_step_that_cannot_be_planned_is_a_reason_and_bad_input_is_exit_2() {
    let fleet = LocalFleet::new(&["g"]);
    std::fs::create_dir_all(fleet.file("g", "/etc/securetty")).unwrap();
    fleet.runbook(RUNBOOK);
    let run = check(&fleet, &["--json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let g = &run.hosts()["g"];
    assert_eq!(g["status"], "not_ok", "{g}");
    assert_eq!(g["reasons"][0]["kind"], "error");
    assert_eq!(
        g["reasons"][0]["step"],
        "step 1 (root login on the serial console)"
    );
    let human = check(&fleet, &[]);
    assert!(
        human.stdout.contains(
            "step 1 (root login on the serial console) cannot be planned: /etc/securetty is a directory"
        ),
        "{}",
        human.stdout
    );
    let missing = fleet.vmup(&["check", "-i", "inventory.toml", "nothing.toml"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
}
