//! The human output of `plan`, `apply`, `kernels` and `conflicts`, checked whole against
//! snapshots (tests/e2e/snapshots/), with the fleet's temporary directory and the timings
//! normalised. A change to what people read shows up as a snapshot diff in review.

use crate::pkg_support::PkgFleet;
use crate::support::{LocalFleet, Run};

/// stdout with the fleet directory and every timing replaced by fixed text.
pub fn normalised(run: &Run, dir: &std::path::Path) -> String {
    let text = run.stdout.replace(&dir.display().to_string(), "[FLEET]");
    let timing = regex::Regex::new(r"\d+\.\d\ds").expect("regex");
    timing.replace_all(&text, "0.00s").into_owned()
}

const RUNBOOK: &str = r#"[[step]]
name = "root login on the serial console"
line = { path = "/etc/securetty", line = "ttyS0" }

[[step]]
name = "serial getty"
line = { path = "/etc/inittab", line = "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav", match = "^S0:", insert_before = "^1:" }

[[step]]
name = "tls off"
move_aside = { path = "/lib/tls", to = "/lib/tls.disabled", keep_previous = "/lib/tls.disabled.old" }
"#;

/// Three guests: two alike, one already half done, one without an inittab anchor.
fn fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["ng2", "ng2hpc", "grid", "vomrs"]);
    for h in ["ng2", "ng2hpc", "grid", "vomrs"] {
        fleet.write(h, "/etc/securetty", b"console\ntty1\n");
        fleet.write(
            h,
            "/etc/inittab",
            b"id:3:initdefault:\n1:2345:respawn:/sbin/mingetty tty1\n",
        );
        fleet.write(h, "/lib/tls/libc.so.6", b"tls\n");
    }
    fleet.write("grid", "/etc/securetty", b"console\ntty1\nttyS0\n");
    fleet.write("vomrs", "/etc/inittab", b"id:3:initdefault:\n");
    fleet
}

#[test]
fn plan_and_apply_reports() {
    let fleet = fleet();
    let rb = fleet.runbook(RUNBOOK);
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    insta::assert_snapshot!("plan", normalised(&plan, fleet.path()));
    let apply = fleet.vmup(&["apply", "-i", "inventory.toml", rb]);
    assert_eq!(apply.code, 1, "{}", apply.stderr);
    insta::assert_snapshot!("apply", normalised(&apply, fleet.path()));
}

#[test]
fn kernels_and_conflicts_reports() {
    let f = PkgFleet::new(&["ng2", "ng3"], "2.6.9-55.ELxenU");
    for g in ["ng2", "ng3"] {
        f.guest(
            g,
            &[("centos-updates", "centos")],
            &[
                "kernel-xenU-2.6.9-55.EL.noarch.rpm",
                "kernel-xenU-2.6.9-67.0.1.EL.noarch.rpm",
                "conftest-1.0-1.noarch.rpm",
            ],
        );
    }
    std::fs::remove_dir_all(f.fleet.file("ng3", "/lib/modules/2.6.9-55.ELxenU")).unwrap();
    let kernels = f.vmup(&["kernels", "-i", "inventory.toml"]);
    assert_eq!(kernels.code, 1, "{}", kernels.stderr);
    insta::assert_snapshot!("kernels", normalised(&kernels, f.fleet.path()));

    f.fleet
        .write("ng2", "/etc/conftest.conf.rpmnew", b"a=1\nb=2\n");
    let conflicts = f.vmup(&["conflicts", "-i", "inventory.toml", "--limit", "guests"]);
    assert_eq!(conflicts.code, 0, "{}", conflicts.stderr);
    insta::assert_snapshot!("conflicts", normalised(&conflicts, f.fleet.path()));
    let resolved = f.vmup(&[
        "conflicts",
        "-i",
        "inventory.toml",
        "--limit",
        "ng2",
        "--resolve",
        "new",
    ]);
    assert_eq!(resolved.code, 0, "{}", resolved.stderr);
    insta::assert_snapshot!("conflicts_resolved", normalised(&resolved, f.fleet.path()));
}
