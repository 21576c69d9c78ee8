//! Bad inventory, runbook, regex or pattern: exit 2, file:line:column, nothing touched.

use crate::support::LocalFleet;

fn fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write("g", "/etc/securetty", b"console\n");
    fleet
}

fn assert_bad(fleet: &LocalFleet, args: &[&str], starts: &str) {
    let before = fleet.snapshot();
    let run = fleet.vmup(args);
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.starts_with(starts),
        "expected {starts:?} in: {}",
        run.stderr
    );
    assert_eq!(before, fleet.snapshot(), "nothing may be touched");
    assert!(run.stdout.is_empty(), "nothing was run: {}", run.stdout);
}

#[test]
fn invalid_regex_names_file_line_column() {
    let fleet = fleet();
    fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n\n[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:x\", insert_before = \"^1:(\" }\n");
    assert_bad(
        &fleet,
        &["apply", "-i", "inventory.toml", "runbook.toml"],
        "error: runbook.toml:5:64: invalid regex in `insert_before`",
    );
}

#[test]
fn malformed_runbook_toml() {
    let fleet = fleet();
    fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" \n");
    assert_bad(
        &fleet,
        &["apply", "-i", "inventory.toml", "runbook.toml"],
        "error: runbook.toml:2:",
    );
}

#[test]
fn unknown_key_in_a_step() {
    let fleet = fleet();
    fleet.runbook(
        "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\", insert_befor = \"^x\" }\n",
    );
    assert_bad(
        &fleet,
        &["apply", "-i", "inventory.toml", "runbook.toml"],
        "error: runbook.toml:2:",
    );
}

#[test]
fn unknown_group_in_a_step() {
    let fleet = fleet();
    fleet.runbook(
        "[[step]]\nhosts = \"gests\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
    );
    assert_bad(
        &fleet,
        &["apply", "-i", "inventory.toml", "runbook.toml"],
        "error: runbook.toml:2:9: \"gests\" matches no host or group",
    );
}

#[test]
fn malformed_inventory() {
    let fleet = fleet();
    fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    std::fs::write(
        fleet.path().join("bad.toml"),
        "[hosts.g]\ntransport = \"local\"\nroot = \"g\"\nrole = \"dom0\"\n",
    )
    .unwrap();
    assert_bad(
        &fleet,
        &["apply", "-i", "bad.toml", "runbook.toml"],
        "error: bad.toml:4:8:",
    );
}

#[test]
fn unreadable_inventory() {
    let fleet = fleet();
    fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    assert_bad(
        &fleet,
        &["plan", "-i", "missing.toml", "runbook.toml"],
        "error: missing.toml: cannot read",
    );
}

#[test]
fn unknown_limit() {
    let fleet = fleet();
    fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    assert_bad(
        &fleet,
        &[
            "apply",
            "-i",
            "inventory.toml",
            "runbook.toml",
            "--limit",
            "nope",
        ],
        "error: --limit: \"nope\" matches no host or group",
    );
}

#[test]
fn unknown_host_for_facts() {
    let fleet = fleet();
    assert_bad(
        &fleet,
        &["facts", "-i", "inventory.toml", "nope"],
        "error: \"nope\" is not in inventory.toml",
    );
}
