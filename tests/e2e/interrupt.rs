//! SIGTERM, or a terminal's Ctrl-C (SIGINT to the whole process group), in the middle of a
//! run: no new host starts, nothing is left half-done (every host's files are all old or
//! all new, no temporary file anywhere), the summary names the hosts that were not
//! reached, and the exit status says "interrupted".

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::LocalFleet;

#[test]
fn sigterm_stops_new_hosts_and_leaves_no_host_half_done() {
    interrupted_run("-TERM", false);
}

#[test]
fn ctrl_c_to_the_process_group_stops_new_hosts_and_leaves_no_host_half_done() {
    interrupted_run("-INT", true);
}

/// Sends `signal` to vmup (or, with `group`, to its whole process group, as a terminal
/// does) once its first host is done, and checks what every host is left with.
fn interrupted_run(signal: &str, group: bool) {
    let names: Vec<String> = (0..150).map(|i| format!("h{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let fleet = LocalFleet::new(&refs);
    for h in &refs {
        fleet.write(h, "/etc/securetty", b"console\n");
        fleet.write(h, "/etc/inittab", b"1:2345:respawn:/sbin/mingetty tty1\n");
    }
    let rb = fleet.runbook(
        "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\", insert_before = \"^1:\" }\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_vmup"))
        .args([
            "apply",
            "-i",
            "inventory.toml",
            rb,
            "--json",
            "--forks",
            "1",
        ])
        .current_dir(fleet.path())
        .env("VMUP_HISTORY", crate::support::test_history())
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Signal as soon as the first host is done: with one fork, most hosts are still ahead.
    let first = fleet.file("h000", "/etc/securetty");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::fs::read(&first).unwrap() == b"console\n" {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached its first host"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // vmup leads its own process group here, so `-PID` is the group, as a terminal's.
    let target = if group {
        format!("-{}", child.id())
    } else {
        child.id().to_string()
    };
    assert!(
        Command::new("kill")
            .args([signal, "--", &target])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    let run = crate::support::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(
        run.code, 130,
        "interrupted exit status; stderr: {}",
        run.stderr
    );
    let lines = run.json();
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["interrupted"], true);
    let hosts = run.hosts();
    assert_eq!(hosts.len(), 150, "every host is reported, reached or not");
    let (mut changed, mut skipped) = (0, 0);
    for (host, line) in &hosts {
        let securetty = fleet.read(host, "/etc/securetty");
        let inittab = fleet.read(host, "/etc/inittab");
        match line["status"].as_str().unwrap() {
            "changed" => {
                changed += 1;
                assert_eq!(securetty, b"console\nttyS0\n", "{host}");
                assert!(inittab.starts_with(b"S0:"), "{host}");
            }
            "skipped" => {
                skipped += 1;
                assert!(
                    line["error"].as_str().unwrap().contains("interrupted"),
                    "{line}"
                );
                assert_eq!(securetty, b"console\n", "{host} must be untouched");
                assert_eq!(
                    inittab, b"1:2345:respawn:/sbin/mingetty tty1\n",
                    "{host} must be untouched"
                );
            }
            other => panic!("{host}: unexpected status {other}: {line}"),
        }
    }
    assert!(
        changed > 0 && skipped > 0,
        "changed {changed}, skipped {skipped}: the signal must land mid-run"
    );
    for host in hosts.keys() {
        let leftovers: Vec<String> = std::fs::read_dir(fleet.file(host, "/etc"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".vmup-"))
            .collect();
        assert!(
            leftovers.is_empty(),
            "{host}: temporary files left: {leftovers:?}"
        );
    }
    let retry = std::fs::read_to_string(fleet.path().join("vmup.retry")).unwrap();
    assert_eq!(
        retry.lines().filter(|l| !l.starts_with('#')).count(),
        skipped,
        "the retry file lists the hosts not reached"
    );
}
