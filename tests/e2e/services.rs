//! The `service` resource for real on local trees: systemd units enabled, disabled and
//! masked with the machine's own `systemctl --root`, and SysV rc links turned off and on as
//! chkconfig would; every change converges and a second run changes nothing.

use crate::support::{LocalFleet, apply_converges};

fn unit(fleet: &LocalFleet, name: &str) {
    fleet.write(
        "g",
        &format!("/usr/lib/systemd/system/{name}.service"),
        format!("[Unit]\nDescription={name}\n[Service]\nExecStart=/usr/sbin/{name}\n[Install]\nWantedBy=multi-user.target\n").as_bytes(),
    );
    std::fs::create_dir_all(fleet.file("g", "/etc/systemd/system")).unwrap();
}

#[test]
fn systemd_units_enabled_disabled_and_masked_with_systemctl_root() {
    let fleet = LocalFleet::new(&["g"]);
    unit(&fleet, "haldaemon");
    unit(&fleet, "lvm2-monitor");
    let wants = fleet.file(
        "g",
        "/etc/systemd/system/multi-user.target.wants/haldaemon.service",
    );
    let rb = fleet.runbook("[[step]]\nservice = { name = \"haldaemon\", enabled = true }\n");
    apply_converges(&fleet, rb);
    assert!(
        wants.symlink_metadata().is_ok(),
        "systemctl --root enabled it"
    );
    let rb = fleet.runbook("[[step]]\nservice = { name = \"haldaemon\", enabled = false, running = false }\n[[step]]\nservice = { name = \"lvm2-monitor\", masked = true }\n[[step]]\nservice = { name = \"mdmonitor\", enabled = false }\n");
    let apply = apply_converges(&fleet, rb);
    assert!(wants.symlink_metadata().is_err(), "disabled");
    assert_eq!(
        std::fs::read_link(fleet.file("g", "/etc/systemd/system/lvm2-monitor.service")).unwrap(),
        std::path::Path::new("/dev/null"),
        "masked"
    );
    let notes = apply.hosts()["g"]["notes"].to_string();
    assert!(notes.contains("mdmonitor is not installed"), "{notes}");
    assert!(notes.contains("a local tree runs nothing"), "{notes}");
}

#[test]
fn sysv_links_are_turned_off_and_on_as_chkconfig_would() {
    let fleet = LocalFleet::new(&["g"]);
    fleet.write(
        "g",
        "/etc/rc.d/init.d/haldaemon",
        b"#!/bin/sh\n# chkconfig: 345 98 02\n# description: HAL\n",
    );
    for lv in 0..=6 {
        let (kind, prio) = if (3..=5).contains(&lv) {
            ("S", 98)
        } else {
            ("K", 2)
        };
        let dir = fleet.file("g", &format!("/etc/rc.d/rc{lv}.d"));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(
            "../init.d/haldaemon",
            dir.join(format!("{kind}{prio:02}haldaemon")),
        )
        .unwrap();
    }
    let off = fleet.runbook(
        "[[step]]\nservice = { name = \"haldaemon\", enabled = false, running = false }\n",
    );
    apply_converges(&fleet, off);
    for lv in 0..=6 {
        let dir = fleet.file("g", &format!("/etc/rc.d/rc{lv}.d"));
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["K02haldaemon"], "runlevel {lv}");
        assert_eq!(
            std::fs::read_link(dir.join("K02haldaemon")).unwrap(),
            std::path::Path::new("../init.d/haldaemon")
        );
    }
    let on = fleet.runbook("[[step]]\nservice = { name = \"haldaemon\", enabled = true }\n");
    apply_converges(&fleet, on);
    for lv in 3..=5 {
        assert!(
            fleet
                .file("g", &format!("/etc/rc.d/rc{lv}.d/S98haldaemon"))
                .symlink_metadata()
                .is_ok()
        );
    }
    let running = fleet.runbook("[[step]]\nservice = { name = \"haldaemon\", running = true }\n");
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", running]);
    assert_eq!(plan.code, 1);
    assert!(
        plan.stdout.contains("cannot be running on a local tree"),
        "{}",
        plan.stdout
    );
}
