//! `vmup facts` across the real ssh test fleet: every host in one table, picked facts as
//! JSON lines equal to what the machines say when asked directly, one round trip per host,
//! exactly the picked facts gathered, and an unreachable host reported with exit 4.

use crate::fleet::Fleet;

const KERNELS: &str = r#"[[step]]
hosts = "guests"
kernels = { packages = ["kernel-xenU"], keep = { newest = 2 } }
"#;

#[test]
fn facts_across_the_fleet_as_a_table_and_as_json_lines() {
    let fleet = Fleet::up(3);
    std::fs::write(fleet.path("kernels.toml"), KERNELS).unwrap();
    let guests = fleet.guests();
    let facts = |extra: &[&str]| {
        let mut args = vec!["facts", "-i", "inventory.toml", "-F", "ssh_config"];
        args.extend_from_slice(extra);
        fleet.vmup(&args)
    };

    // The table: a row per machine with the built-in facts, as the machines say them.
    let table = facts(&[]);
    assert_eq!(table.code, 0, "{}\n{}", table.stdout, table.stderr);
    let rows: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        ["HOST", "hostname", "cpus", "kernel_release"],
        "{}",
        table.stdout
    );
    for host in fleet.all() {
        let row = rows
            .iter()
            .find(|r| r.split_whitespace().next() == Some(host.as_str()))
            .unwrap_or_else(|| panic!("no row for {host}:\n{}", table.stdout));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[1], fleet.exec(&host, "hostname").trim(), "{row}");
        assert_eq!(cells[3], fleet.exec(&host, "uname -r").trim(), "{row}");
    }
    assert!(
        rows.last().unwrap().starts_with(&format!(
            "facts: {} host(s), {} read in ",
            guests.len() + 1,
            guests.len() + 1
        )),
        "{}",
        table.stdout
    );

    // Picked facts of the guests as JSON lines: a path's content and a command fact of a
    // runbook, gathered in one round trip per host and nothing else shown.
    fleet.sh("clear-counts", &[]);
    let picked = facts(&[
        "--limit",
        "guests",
        "--runbook",
        "kernels.toml",
        "--fact",
        "/etc/redhat-release",
        "--fact",
        "kernel-inventory kernel-xenU",
        "--json",
    ]);
    assert_eq!(picked.code, 0, "{}\n{}", picked.stdout, picked.stderr);
    let lines = picked.hosts();
    assert_eq!(
        lines.keys().cloned().collect::<Vec<_>>(),
        guests,
        "the guests only"
    );
    for g in &guests {
        let line = &lines[g];
        let release = &line["paths"]["/etc/redhat-release"];
        assert_eq!(release["type"], "file", "{line}");
        assert_eq!(
            release["content"],
            fleet.exec(g, "cat /etc/redhat-release").as_str(),
            "{line}"
        );
        let inventory = line["commands"]["kernel-inventory kernel-xenU"]["stdout"]
            .as_str()
            .unwrap_or_else(|| panic!("{line}"));
        let installed = fleet.exec(g, "rpm -q --qf '%{VERSION} %{RELEASE}\\n' kernel-xenU");
        assert!(!installed.trim().is_empty(), "{g} has kernels");
        for version in installed.lines() {
            assert!(
                inventory.contains(&format!("kernel-xenU (none) {version} ")),
                "{version} in {inventory}"
            );
        }
        for absent in ["hostname", "cpus", "kernel_release"] {
            assert!(line.get(absent).is_none(), "{absent} not picked: {line}");
        }
        assert_eq!(line["round_trips"], 1, "{line}");
        assert_eq!(fleet.count("count-commands", g), 1, "round trips on {g}");
    }
    assert_eq!(
        fleet.count("count-commands", "xen1"),
        0,
        "a host not selected is not contacted"
    );

    // A host that cannot be reached: its row says so, the others are read, exit 4.
    let down = &guests[1];
    fleet.sh("stop-host", &[down]);
    let run = facts(&["--fact", "kernel_release"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let row = run
        .stdout
        .lines()
        .find(|r| r.starts_with(down.as_str()))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(row.contains("unreachable"), "{row}");
    assert!(run.stdout.contains(", 1 unreachable in "), "{}", run.stdout);
    let unknown = facts(&["--fact", "kernel"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown
            .stderr
            .contains("error: --fact: no fact is called \"kernel\""),
        "{}",
        unknown.stderr
    );
}
