//! `--shard K/N` through the binary: four shards of a fleet of local trees plan exactly the
//! hosts an unsharded plan does, each once, with the same statuses; every guest is in its
//! host's shard; a shard with nothing in it runs nothing and succeeds.

use std::collections::BTreeMap;

use crate::support::{LocalFleet, Run};

const DOM0S: usize = 6;
const GUESTS_EACH: usize = 4;

fn fleet() -> LocalFleet {
    let mut names = Vec::new();
    for d in 0..DOM0S {
        names.push(format!("xen{d}"));
        for g in 0..GUESTS_EACH {
            names.push(format!("ng{d}{g}"));
        }
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let fleet = LocalFleet::new(&refs);
    let mut inventory = String::from("[defaults]\ntransport = \"local\"\n");
    for d in 0..DOM0S {
        inventory.push_str(&format!(
            "\n[hosts.xen{d}]\nroot = \"xen{d}\"\nrole = \"host\"\n"
        ));
        for g in 0..GUESTS_EACH {
            inventory.push_str(&format!(
                "\n[hosts.ng{d}{g}]\nroot = \"ng{d}{g}\"\nhost = \"xen{d}\"\n"
            ));
            // Half the guests are already converged: the statuses differ.
            let content: &[u8] = if g % 2 == 0 {
                b"console\n"
            } else {
                b"console\nttyS0\n"
            };
            fleet.write(&format!("ng{d}{g}"), "/etc/securetty", content);
        }
    }
    std::fs::write(fleet.path().join("inventory.toml"), inventory).unwrap();
    fleet.runbook(
        "[[step]]\nhosts = \"guests\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
    );
    fleet
}

fn statuses(fleet: &LocalFleet, extra: &[&str]) -> (i32, BTreeMap<String, String>) {
    let mut args = vec!["plan", "-i", "inventory.toml", "runbook.toml", "--json"];
    args.extend_from_slice(extra);
    let run = fleet.vmup(&args);
    let hosts = run
        .hosts()
        .into_iter()
        .map(|(h, l)| (h, l["status"].as_str().unwrap_or_default().to_string()))
        .collect();
    (run.code, hosts)
}

#[test]
fn four_shards_plan_the_whole_fleet_once_with_each_guest_beside_its_host() {
    let fleet = fleet();
    let (code, whole) = statuses(&fleet, &[]);
    assert_eq!(code, 3, "changes pending");
    assert_eq!(whole.len(), DOM0S * (GUESTS_EACH + 1));
    assert!(whole.values().any(|s| s == "changed") && whole.values().any(|s| s == "ok"));
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut shard_of: BTreeMap<String, u32> = BTreeMap::new();
    for k in 0..4u32 {
        let (code, part) = statuses(&fleet, &["--shard", &format!("{k}/4")]);
        assert!(code == 0 || code == 3, "shard {k}: exit {code}");
        for (host, status) in part {
            assert!(seen.insert(host.clone(), status).is_none(), "{host} twice");
            shard_of.insert(host, k);
        }
    }
    assert_eq!(seen, whole, "the shards together are the whole run");
    for d in 0..DOM0S {
        for g in 0..GUESTS_EACH {
            assert_eq!(
                shard_of[&format!("ng{d}{g}")],
                shard_of[&format!("xen{d}")],
                "ng{d}{g} beside xen{d}"
            );
        }
    }
    let used: std::collections::BTreeSet<u32> = shard_of.values().copied().collect();
    assert!(used.len() > 1, "the hosts are spread: {shard_of:?}");

    // A shard with nothing of the selection in it: nothing runs, exit 0.
    let xen0 = shard_of["xen0"];
    let other = (xen0 + 1) % 4;
    let (code, part) = statuses(
        &fleet,
        &["--limit", "xen0", "--shard", &format!("{other}/4")],
    );
    assert_eq!((code, part.len()), (0, 0));

    let bad = fleet.vmup(&[
        "plan",
        "-i",
        "inventory.toml",
        "runbook.toml",
        "--shard",
        "4/4",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("\"4/4\" is not K/N"), "{}", bad.stderr);
}

/// The `--json` output of one shard (or of the whole run), saved as a file in the fleet.
fn save(fleet: &LocalFleet, name: &str, extra: &[&str]) -> Run {
    let mut args = vec!["plan", "-i", "inventory.toml", "runbook.toml", "--json"];
    args.extend_from_slice(extra);
    let run = fleet.vmup(&args);
    std::fs::write(fleet.path().join(name), &run.stdout).unwrap();
    run
}

#[test]
fn report_merge_of_four_shards_is_the_unsharded_run() {
    let fleet = fleet();
    // A host that cannot be reached makes the statuses more than ok and changed.
    let mut inventory = std::fs::read_to_string(fleet.path().join("inventory.toml")).unwrap();
    inventory.push_str("\n[hosts.gone]\nroot = \"no-such-tree\"\nhost = \"xen0\"\n");
    std::fs::write(fleet.path().join("inventory.toml"), inventory).unwrap();
    let whole = save(&fleet, "whole.jsonl", &[]);
    let mut files = Vec::new();
    for k in 0..4 {
        let name = format!("run-{k}.jsonl");
        let part = save(&fleet, &name, &["--shard", &format!("{k}/4")]);
        let shard = format!("\"shard\":\"{k}/4\"");
        assert!(part.stdout.contains(&shard), "{}", part.stdout);
        assert!(
            [0, 1, 3, 4].contains(&part.code),
            "shard {k}: {}",
            part.code
        );
        files.push(name);
    }
    let mut args = vec!["report", "merge", "--json", "--retry-file", "merged.retry"];
    args.extend(files.iter().map(String::as_str));
    let merged = fleet.vmup(&args);
    assert_eq!(merged.code, whole.code, "{}", merged.stderr);
    let status = |run: &Run| -> BTreeMap<String, String> {
        run.hosts()
            .into_iter()
            .map(|(h, l)| (h, l["status"].as_str().unwrap_or_default().to_string()))
            .collect()
    };
    assert_eq!(status(&merged), status(&whole));
    assert!(
        status(&whole)
            .values()
            .any(|s| s == "failed" || s == "unreachable")
    );
    let summary = |run: &Run| {
        let lines = run.json();
        let mut s = lines.last().unwrap()["summary"].clone();
        for volatile in ["elapsed", "shards"] {
            s.as_object_mut().unwrap().remove(volatile);
        }
        s
    };
    assert_eq!(summary(&merged), summary(&whole));
    // The retry file names exactly the hosts that did not succeed.
    let retry = std::fs::read_to_string(fleet.path().join("merged.retry")).unwrap();
    let listed: Vec<&str> = retry.lines().filter(|l| !l.starts_with('#')).collect();
    let expected: Vec<String> = status(&whole)
        .into_iter()
        .filter(|(_, s)| s != "ok" && s != "changed")
        .map(|(h, _)| h)
        .collect();
    assert_eq!(listed, expected);

    // The human form: the hosts that need a look and one total.
    let mut args = vec!["report", "merge", "--retry-file", "merged.retry"];
    args.extend(files.iter().map(String::as_str));
    let text = fleet.vmup(&args);
    assert_eq!(text.code, whole.code);
    assert!(
        text.stdout
            .contains("plan: 4 shards merged: 31 host(s): 18 ok, 12 changed, 1 unreachable, "),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("  gone: "), "{}", text.stdout);

    // A shard missing, or given twice: refused, and the retry file is left alone.
    let before = std::fs::read_to_string(fleet.path().join("merged.retry")).unwrap();
    let missing = fleet.vmup(&[
        "report",
        "merge",
        "--retry-file",
        "merged.retry",
        "run-0.jsonl",
        "run-1.jsonl",
        "run-3.jsonl",
    ]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("shard 2/4 of 4 missing"),
        "{}",
        missing.stderr
    );
    let twice = fleet.vmup(&[
        "report",
        "merge",
        "--retry-file",
        "merged.retry",
        "run-0.jsonl",
        "run-1.jsonl",
        "run-2.jsonl",
        "run-3.jsonl",
        "run-1.jsonl",
    ]);
    assert_eq!(twice.code, 2);
    assert!(
        twice.stderr.contains("shard 1/4 is given twice"),
        "{}",
        twice.stderr
    );
    let mixed = fleet.vmup(&["report", "merge", "whole.jsonl", "run-0.jsonl"]);
    assert_eq!(mixed.code, 2);
    assert!(
        mixed.stderr.contains("merge the shards of one run"),
        "{}",
        mixed.stderr
    );
    assert_eq!(
        std::fs::read_to_string(fleet.path().join("merged.retry")).unwrap(),
        before
    );
}
