//! `vmup kernels` and `vmup conflicts` run on the same fleet runner as `plan`: the failure
//! budget and forks, a signal mid-run (no new host starts, every host is reported, exit
//! 130), and JSON lines with a summary, on local trees with real rpm databases.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::pkg_support::{PkgFleet, repos};

/// Guests g00..gNN on xen1, each with kernel-xenU 55 installed and booted.
fn guests(n: usize) -> (PkgFleet, Vec<String>) {
    let names: Vec<String> = (0..n).map(|i| format!("g{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let f = PkgFleet::new(&refs, "2.6.9-55.ELxenU");
    for g in &refs {
        f.guest(g, &[], &["kernel-xenU-2.6.9-55.EL.noarch.rpm"]);
    }
    (f, names)
}

#[test]
fn kernels_honours_the_failure_budget_and_forks_and_ends_with_a_summary() {
    let (f, names) = guests(4);
    // The first guest's next boot is broken; with one fork and no failure tolerated, no
    // other guest starts.
    std::fs::remove_dir_all(f.fleet.file(&names[0], "/lib/modules/2.6.9-55.ELxenU")).unwrap();
    let run = f.vmup(&[
        "kernels",
        "-i",
        "inventory.toml",
        "--json",
        "--forks",
        "1",
        "--max-fail",
        "0",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let hosts = run.hosts();
    assert_eq!(hosts.len(), 4, "every guest is reported: {}", run.stdout);
    assert_eq!(hosts["g00"]["status"], "failed");
    assert_eq!(hosts["g00"]["ok"], false);
    for g in &names[1..] {
        assert_eq!(hosts[g]["status"], "skipped", "{}", hosts[g]);
        assert!(
            hosts[g]["error"]
                .as_str()
                .unwrap()
                .contains("more than 0 host(s) failed")
        );
    }
    let summary = run.json().last().unwrap()["summary"].clone();
    assert_eq!(
        (
            summary["hosts"].as_u64(),
            summary["failed"].as_u64(),
            summary["skipped"].as_u64()
        ),
        (Some(4), Some(1), Some(3)),
        "{summary}"
    );
    // Rolling batches and forks on a healthy fleet: all ok.
    std::fs::create_dir_all(f.fleet.file(&names[0], "/lib/modules/2.6.9-55.ELxenU")).unwrap();
    let run = f.vmup(&[
        "kernels",
        "-i",
        "inventory.toml",
        "--json",
        "--forks",
        "2",
        "--serial",
        "50%",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.hosts().values().all(|h| h["verdict"] == "ok"),
        "{}",
        run.stdout
    );
}

#[test]
fn conflicts_and_kernels_stop_starting_hosts_on_a_signal_and_exit_130() {
    let (f, _) = guests(60);
    for command in ["conflicts", "kernels"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vmup"))
            .args([
                command,
                "-i",
                "inventory.toml",
                "--json",
                "--forks",
                "1",
                "--limit",
                "guests",
            ])
            .current_dir(f.fleet.path())
            .env("HOME", &repos().home)
            .env("VMUP_HISTORY", crate::support::test_history())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        lines.push(first);
        // SIGINT as soon as the first host has reported: most are still ahead.
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        for line in stdout.lines() {
            lines.push(line.unwrap());
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{command}: {lines:?}");
        let values: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| serde_json::from_str(l.trim()).unwrap())
            .collect();
        let summary = &values.last().unwrap()["summary"];
        assert_eq!(summary["interrupted"], true, "{command}: {summary}");
        let reported = values.iter().filter(|v| v.get("host").is_some()).count();
        let hosts = 60;
        assert_eq!(reported, hosts, "{command}: every host is reported");
        let skipped = values.iter().filter(|v| v["status"] == "skipped").count();
        assert!(
            skipped > 0 && skipped < hosts,
            "{command}: the signal lands mid-run ({skipped} skipped)"
        );
    }
}
