//! `vmup reboot` over real ssh against xen1's stand-ins (tests/fleet/reboot-double.sh: a
//! new boot id, every connection dropped, sshd back a moment later; the xl double): the
//! guests are stopped before the reboot and started after it, the new boot is proven by
//! the boot id, and a guest that will not stop keeps the host from rebooting and loses
//! no other guest. The fleet's guests are namespaces running the controller's kernel, so
//! they come back "on the wrong kernel", which the report must say; the real virtual
//! machine's full round trip is in `vm_recreate`.

use crate::fleet::Fleet;

fn calls(fleet: &Fleet) -> Vec<String> {
    fleet
        .exec("xen1", "cat /var/log/vmup-xl-calls.log 2>/dev/null || true")
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_string()))
        .collect()
}

fn boot_id(fleet: &Fleet) -> String {
    fleet.exec("xen1", "cat /proc/sys/kernel/random/boot_id")
}

#[test]
fn a_host_reboots_only_with_its_guests_stopped_and_starts_them_after() {
    let fleet = Fleet::up(2);
    let guests = fleet.guests();
    let domains: Vec<String> = guests.iter().map(|g| g.to_uppercase()).collect();

    // A guest that hangs on its way down: the host is not rebooted, the other guest is
    // started again.
    fleet.exec(
        "xen1",
        &format!(
            "mkdir -p /var/lib/vmup-xl-double && touch /var/lib/vmup-xl-double/{}.stuck",
            domains[1]
        ),
    );
    fleet.exec("xen1", ": > /var/log/vmup-xl-calls.log");
    let before = boot_id(&fleet);
    let run = fleet.vmup(&[
        "reboot",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        "xen1",
        "--shutdown-timeout",
        "2",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "not rebooted: {} did not shut down within 2s",
            guests[1]
        )) && run
            .stdout
            .contains(&format!("started again: {}", guests[0])),
        "{}",
        run.stdout
    );
    let log = calls(&fleet);
    assert!(!log.iter().any(|c| c.starts_with("reboot")), "{log:?}");
    assert!(
        log.contains(&format!("xl create -- /etc/xen/{}", domains[0])),
        "{log:?}"
    );
    assert_eq!(boot_id(&fleet), before);

    // Unstuck: stop both, reboot, prove the new boot, start both, wait for each.
    fleet.exec(
        "xen1",
        &format!(
            "rm /var/lib/vmup-xl-double/{}.stuck; : > /var/log/vmup-xl-calls.log",
            domains[1]
        ),
    );
    let run = fleet.vmup(&[
        "reboot",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        "xen1",
        "--boot-timeout",
        "30",
        "--json",
        "--history",
        "history.sqlite",
    ]);
    let report = &run.hosts()["xen1"];
    // The history has the reboot and the kernel xen1 came back running.
    let listed = fleet.vmup(&["history", "--history", "history.sqlite", "--json"]);
    let listed = listed.json();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["run"]["command"], "reboot");
    assert_eq!(listed[0]["booted_kernel"], report["kernel_after"]);
    assert_eq!(listed[0]["guests"], report["guests"]);
    assert_ne!(boot_id(&fleet), before, "the stand-in gave xen1 a new boot");
    assert_eq!(report["rebooted"], true, "{report}");
    assert!(report["kernel_after"].is_string(), "{report}");
    let log = calls(&fleet);
    let at = |c: &str| {
        log.iter()
            .position(|l| l == c)
            .unwrap_or_else(|| panic!("{c} not in {log:?}"))
    };
    let reboot = log.iter().position(|l| l.starts_with("reboot")).unwrap();
    for d in &domains {
        assert!(at(&format!("xl shutdown -- {d}")) < reboot, "{log:?}");
        assert!(
            at(&format!("xl create -- /etc/xen/{d}")) > reboot,
            "{log:?}"
        );
    }
    // Each guest was waited for and judged: here they answer with the controller's kernel.
    assert_eq!(run.code, 1, "{}", run.stdout);
    for g in report["guests"].as_array().unwrap() {
        assert_eq!(g["was_running"], true, "{g}");
        assert_eq!(g["started"], true, "{g}");
        assert!(
            g["error"].as_str().unwrap().contains("not 2.6.9-55.ELxenU"),
            "{g}"
        );
    }

    // The same as a runbook's last step: only once the apply has converged, and with
    // `when = "changed"` (the default) only on a host the apply changed.
    std::fs::write(
        fleet.path("reboot.toml"),
        "[[step]]\nhosts = \"xen1\"\nline = { path = \"/etc/motd\", line = \"patched by vmup\" }\n\
         [[step]]\nhosts = \"hosts\"\nreboot = { boot_timeout = 30 }\n",
    )
    .unwrap();
    let apply = [
        "apply",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "reboot.toml",
        "--json",
    ];
    let before = boot_id(&fleet);
    fleet.exec("xen1", ": > /var/log/vmup-xl-calls.log");
    let run = fleet.vmup(&apply);
    let report = &run.hosts()["xen1"];
    assert_eq!(report["rebooted"], true, "{report}");
    assert_ne!(boot_id(&fleet), before, "rebooted after the apply");
    assert!(
        fleet
            .exec("xen1", "cat /etc/motd")
            .contains("patched by vmup"),
        "the apply came first"
    );
    assert_eq!(
        run.code, 1,
        "the guests are back on the controller's kernel"
    );
    let before = boot_id(&fleet);
    let run = fleet.vmup(&apply);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.hosts()["xen1"]["status"], "ok", "{}", run.stdout);
    assert_eq!(boot_id(&fleet), before, "nothing changed, so no reboot");
}
