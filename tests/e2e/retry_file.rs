//! The retry file: a run on a subset keeps the hosts it did not touch, a converged host
//! leaves it, and a file that is not a vmup retry file is never overwritten.

use crate::support::LocalFleet;

fn listed(fleet: &LocalFleet) -> Vec<String> {
    std::fs::read_to_string(fleet.path().join("vmup.retry"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_subset_run_keeps_the_hosts_it_did_not_touch() {
    let fleet = LocalFleet::new(&["a", "b", "c"]);
    for h in ["a", "b", "c"] {
        fleet.write(h, "/etc/inittab", b"1:2345:respawn:/sbin/mingetty tty1\n");
    }
    // a and b lack the anchor: they fail; c converges.
    for h in ["a", "b"] {
        fleet.write(h, "/etc/inittab", b"id:3:initdefault:\n");
    }
    let rb = fleet.runbook(
        "[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\", insert_before = \"^1:\" }\n",
    );
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(listed(&fleet), ["a", "b"]);
    // a is fixed and rerun alone: b stays listed, a leaves the list.
    fleet.write("a", "/etc/inittab", b"1:2345:respawn:/sbin/mingetty tty1\n");
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--limit", "a"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(listed(&fleet), ["b"], "b was not part of that run");
    // b fixed, rerun from the file: nothing left, the file goes.
    fleet.write("b", "/etc/inittab", b"1:2345:respawn:/sbin/mingetty tty1\n");
    let run = fleet.vmup(&[
        "apply",
        "-i",
        "inventory.toml",
        rb,
        "--limit",
        "@vmup.retry",
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!fleet.path().join("vmup.retry").exists());
}

#[test]
fn a_file_that_is_not_a_retry_file_is_never_overwritten() {
    let fleet = LocalFleet::new(&["a"]);
    fleet.write("a", "/etc/securetty", b"console\n");
    std::fs::write(fleet.path().join("notes.txt"), "my notes\n").unwrap();
    let rb = fleet.runbook("[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n");
    let before = fleet.snapshot();
    let run = fleet.vmup(&[
        "apply",
        "-i",
        "inventory.toml",
        rb,
        "--retry-file",
        "notes.txt",
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("is not a vmup retry file; nothing was run"),
        "{}",
        run.stderr
    );
    assert_eq!(
        before,
        fleet.snapshot(),
        "neither the file nor any host was touched"
    );
}
