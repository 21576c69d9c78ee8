//! `vmup run` on 50 machines of the real ssh test fleet: the output of hosts that answered
//! alike shown once, exit 1 when a host's command failed, the retry file naming exactly
//! those hosts, and the rerun through it; one round trip per host; the shell-code and
//! script-file forms; exit 4 when a host is only unreachable.

use crate::fleet::Fleet;

const GUESTS: usize = 50;

#[test]
fn run_on_fifty_hosts_groups_alike_output_and_names_the_failures() {
    let fleet = Fleet::up(GUESTS);
    let guests = fleet.guests();
    assert_eq!(guests.len(), GUESTS);
    let release = fleet.exec(&guests[0], "cat /etc/redhat-release");
    let broken = [guests[7].clone(), guests[31].clone()];
    for g in &broken {
        fleet.exec(g, "mv /etc/redhat-release /etc/redhat-release.away");
    }
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "-i", "inventory.toml", "-F", "ssh_config"];
        args.extend_from_slice(extra);
        fleet.vmup(&args)
    };

    fleet.sh("clear-counts", &[]);
    let out = run(&["guests", "--", "cat", "/etc/redhat-release"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let headings: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("== "))
        .collect();
    assert_eq!(
        headings.len(),
        2,
        "two results, two groups:\n{}",
        out.stdout
    );
    assert!(
        headings[0].ends_with(&format!("(exit 0, {} hosts)", GUESTS - 2))
            && headings[0].contains(" more "),
        "{}",
        headings[0]
    );
    assert_eq!(
        headings[1],
        format!("== {}, {} (exit 1, 2 hosts)", broken[0], broken[1])
    );
    assert!(
        out.stdout.contains(&format!(
            "(exit 0, {} hosts)\n  | {}",
            GUESTS - 2,
            release.trim_end()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "(exit 1, 2 hosts)\n  ! cat: /etc/redhat-release: No such file or directory\n"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with(&format!(
                "run: {GUESTS} host(s), {} exit 0, 2 exit 1 in ",
                GUESTS - 2
            )),
        "{}",
        out.stdout
    );
    for g in &guests {
        assert_eq!(fleet.count("count-commands", g), 1, "one round trip on {g}");
    }
    assert_eq!(fleet.count("count-commands", "xen1"), 0, "not selected");
    let retry = std::fs::read_to_string(fleet.path("vmup.retry")).unwrap();
    let named: Vec<&str> = retry.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(named, broken.iter().map(String::as_str).collect::<Vec<_>>());

    // The two fixed, then rerun through the retry file: only they run, all succeed, and
    // the retry file is gone. JSON lines carry each host's exit status and output.
    for g in &broken {
        fleet.exec(g, "mv /etc/redhat-release.away /etc/redhat-release");
    }
    let rerun = run(&[
        "all",
        "--limit",
        "@vmup.retry",
        "--json",
        "--",
        "cat",
        "/etc/redhat-release",
    ]);
    assert_eq!(rerun.code, 0, "{}\n{}", rerun.stdout, rerun.stderr);
    let lines = rerun.hosts();
    assert_eq!(lines.keys().cloned().collect::<Vec<_>>(), broken.to_vec());
    for line in lines.values() {
        assert_eq!(line["status"], "ok", "{line}");
        assert_eq!(line["exit_status"], 0, "{line}");
        assert_eq!(line["stdout"], release.as_str(), "{line}");
        assert_eq!(line["stderr"], "", "{line}");
    }
    assert!(!fleet.path("vmup.retry").exists(), "nothing left to retry");

    // One word is shell code, run by sh on the host; a script file is too.
    let shell = run(&[&guests[0], "--", "echo \"$0\" $(hostname); exit 3"]);
    assert_eq!(shell.code, 1, "{}", shell.stdout);
    assert!(
        shell.stdout.contains(&format!(
            "== {} (exit 3)\n  | vmup-run {}\n",
            guests[0],
            fleet.exec(&guests[0], "hostname").trim()
        )),
        "{}",
        shell.stdout
    );
    std::fs::write(
        fleet.path("probe.sh"),
        "set -e\nread line || echo \"stdin is empty\"\nuname -r\n",
    )
    .unwrap();
    let script = run(&[&guests[1], "--script", "probe.sh", "--json"]);
    assert_eq!(script.code, 0, "{}\n{}", script.stdout, script.stderr);
    assert_eq!(
        script.hosts()[&guests[1]]["stdout"],
        format!("stdin is empty\n{}", fleet.exec(&guests[1], "uname -r")).as_str()
    );

    // Only unreachable: exit 4, and the host is named for a retry.
    fleet.sh("stop-host", &[&guests[2]]);
    let down = run(&[&format!("{},{}", guests[2], guests[3]), "--", "true"]);
    assert_eq!(down.code, 4, "{}\n{}", down.stdout, down.stderr);
    assert!(
        down.stdout
            .contains(&format!("== {} (unreachable)\n  error: ", guests[2])),
        "{}",
        down.stdout
    );
    let retry = std::fs::read_to_string(fleet.path("vmup.retry")).unwrap();
    assert!(retry.lines().any(|l| l == guests[2]), "{retry}");

    // Nothing to run is bad input, before any host is contacted.
    let nothing = run(&["guests"]);
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(
        nothing.stderr.contains("error: no command given"),
        "{}",
        nothing.stderr
    );
}
