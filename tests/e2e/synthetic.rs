//! `transport = "synthetic"` through the binary at two thousand hosts: each host answers
//! like the one shared tree (a script runs there once, its output is replayed with each
//! host's own boundaries), so the whole pipeline (facts, plan, apply and verify in two
//! round trips, grouping, the grouped table) runs at a size no test machine holds in sshd
//! processes; the tree changes once, and a second run finds every host converged.

use crate::support::LocalFleet;

const DOM0S: usize = 20;
const GUESTS_EACH: usize = 100;

const RUNBOOK: &str = r#"
[[step]]
name = "serial console login"
hosts = "guests"
line = { path = "/etc/securetty", line = "ttyS0" }

[[step]]
name = "repo file"
hosts = "guests"
file = { path = "/etc/yum.repos.d/extra.repo", mode = "0644", content = "[extra]\nenabled=0\n" }
"#;

fn fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["dom0", "guest"]);
    fleet.write("guest", "/etc/securetty", b"console\n");
    std::fs::create_dir_all(fleet.file("guest", "/etc/yum.repos.d")).unwrap();
    let mut inventory = String::from("[defaults]\ntransport = \"synthetic\"\nlatency_ms = 1\n");
    for d in 0..DOM0S {
        inventory.push_str(&format!(
            "\n[hosts.xen{d:02}]\nroot = \"dom0\"\nrole = \"host\"\n"
        ));
        for g in 0..GUESTS_EACH {
            inventory.push_str(&format!(
                "\n[hosts.g{d:02}{g:02}]\nroot = \"guest\"\nhost = \"xen{d:02}\"\n"
            ));
        }
    }
    std::fs::write(fleet.path().join("inventory.toml"), inventory).unwrap();
    fleet
}

#[test]
fn two_thousand_synthetic_hosts_converge_in_two_round_trips_each_and_then_stay() {
    let fleet = fleet();
    let rb = fleet.runbook(RUNBOOK);
    let args = [
        "-i",
        "inventory.toml",
        rb,
        "--limit",
        "guests",
        "--forks",
        "200",
    ];
    let json = fleet.vmup(&[&["apply", "--yes", "--json"][..], &args].concat());
    assert_eq!(json.code, 0, "{}\n{}", json.stdout, json.stderr);
    let hosts = json.hosts();
    assert_eq!(hosts.len(), DOM0S * GUESTS_EACH);
    for (name, line) in &hosts {
        assert_eq!(line["status"], "changed", "{name}: {line}");
        assert_eq!(line["changes"].as_array().unwrap().len(), 2, "{line}");
        // Facts, then apply and verify in one script.
        assert_eq!(line["round_trips"], 2, "{name}: {line}");
    }
    // The shared tree changed once, as the first host's would.
    assert_eq!(fleet.read("guest", "/etc/securetty"), b"console\nttyS0\n");
    assert_eq!(
        fleet.read("guest", "/etc/yum.repos.d/extra.repo"),
        b"[extra]\nenabled=0\n"
    );

    // Converged: every host costs one round trip; the table is one row, not 2,000.
    let again = fleet.vmup(&[&["apply", "--yes"][..], &args].concat());
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("\nok             2000        0    "),
        "{}",
        again.stdout
    );
    assert!(again.stdout.lines().count() < 10, "{}", again.stdout);
    assert!(again.stdout.contains("2000 host(s)"), "{}", again.stdout);
}

#[test]
fn a_synthetic_host_refuses_what_a_tree_cannot_do() {
    let fleet = fleet();
    // `vmup run` would run the command on the controller.
    let run = fleet.vmup(&["run", "-i", "inventory.toml", "g0000", "--", "true"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("local tree"), "{}", run.stdout);
    // `latency_ms` belongs to synthetic hosts only.
    std::fs::write(
        fleet.path().join("bad.toml"),
        "[hosts.a]\ntransport = \"local\"\nroot = \"guest\"\nlatency_ms = 5\n",
    )
    .unwrap();
    let bad = fleet.vmup(&["plan", "-i", "bad.toml", "runbook.toml"]);
    assert_eq!(bad.code, 2, "{}\n{}", bad.stdout, bad.stderr);
    assert!(
        bad.stderr.contains("bad.toml:4:14")
            && bad
                .stderr
                .contains("`latency_ms` is for transport = \"synthetic\" only"),
        "{}",
        bad.stderr
    );
}

#[test]
fn on_a_terminal_a_big_run_is_one_bar_and_a_line_per_failure_only() {
    let fleet = fleet();
    // Three more guests whose tree is missing: unreachable, shown as they fail.
    let mut inventory = std::fs::read_to_string(fleet.path().join("inventory.toml")).unwrap();
    for g in 0..3 {
        inventory.push_str(&format!(
            "\n[hosts.lost{g}]\nroot = \"gone\"\nhost = \"xen00\"\n"
        ));
    }
    std::fs::write(fleet.path().join("inventory.toml"), inventory).unwrap();
    fleet.runbook(RUNBOOK);
    let vmup = env!("CARGO_BIN_EXE_vmup");
    // Standard error (the progress) on the pseudo-terminal, the report to a file.
    let out = std::process::Command::new("script")
        .args(["-q", "-e", "-c"])
        .arg(format!(
            "{vmup} apply -i inventory.toml runbook.toml --limit guests --forks 200 --yes >report.txt"
        ))
        .arg("/dev/null")
        .current_dir(fleet.path())
        .env("VMUP_HISTORY", crate::support::test_history())
        .output()
        .expect("script(1) from bsdutils runs");
    let terminal = crate::support::strip_escapes(&String::from_utf8_lossy(&out.stdout));
    let report = std::fs::read_to_string(fleet.path().join("report.txt")).unwrap();
    assert_eq!(out.status.code(), Some(4), "{terminal}\n{report}");
    // No line per converged host; one per failure, as it happened.
    assert!(!terminal.contains(": changed ("), "{terminal}");
    for g in 0..3 {
        assert_eq!(
            terminal
                .matches(&format!("/2003] lost{g}: unreachable (0 change(s), "))
                .count(),
            1,
            "{terminal}"
        );
    }
    assert!(
        terminal.contains("apply [") && terminal.contains("/2003 0s facts "),
        "{terminal}"
    );
    // The report groups: one row for the 2,000 alike guests, one for the three lost.
    assert!(
        report.contains("\nchanged        2000        2  "),
        "{report}"
    );
    assert!(
        report.contains("\nunreachable       3        0  "),
        "{report}"
    );
}
