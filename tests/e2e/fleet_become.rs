//! `become` on the real test fleet: hosts that refuse root logins (`PermitRootLogin no`,
//! tests/fleet/fleet.sh `become-host`) are planned, applied and verified as user vmup
//! through a real sudo (and doas), over both ssh transports, and a host whose sudo wants a
//! password fails at once with the documented message while the others converge. `vmup
//! facts`, `kernels` and `recreate` (the dom0's side as root) take the same path.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::fleet::Fleet;
use crate::support::Run;

/// The machines whose sudo (and doas) let vmup become root without a password.
const BECOME: [&str; 3] = ["xen1", "g01", "g02"];
/// The machine whose sudo asks for a password.
const PASSWORD: &str = "g03";
/// The runbook's changes on a guest and on the dom0 (see tests/e2e/fleet.rs).
const GUEST_CHANGES: usize = 5;
const DOM0_CHANGES: usize = 2;

/// Root login refused, vmup may sudo: on every machine, again after a reset.
fn configure(fleet: &Fleet) {
    for host in BECOME {
        fleet.sh("become-host", &[host]);
    }
    fleet.sh("become-host", &[PASSWORD, "--password"]);
}

/// The fleet's inventory with vmup as the user and g02 through doas; `become` in
/// `[defaults]` (ssh) or from `--become` (openssh, see [`scenario`]).
fn write_inventory(fleet: &Fleet, transport: &str, become_in_inventory: bool) -> String {
    let inv = std::fs::read_to_string(fleet.path("inventory.toml")).unwrap();
    let become_line = if become_in_inventory {
        "become = true\n"
    } else {
        ""
    };
    let inv = inv
        .replacen(
            "[defaults]\nuser = \"root\"\n",
            &format!("[defaults]\nuser = \"vmup\"\ntransport = \"{transport}\"\n{become_line}"),
            1,
        )
        .replacen(
            "[hosts.g02]\n",
            "[hosts.g02]\nbecome_method = \"doas\"\n",
            1,
        );
    assert!(inv.contains("user = \"vmup\""), "{inv}");
    let name = format!("inv-{transport}.toml");
    std::fs::write(fleet.path(&name), inv).unwrap();
    name
}

fn statuses(run: &Run) -> BTreeMap<String, String> {
    run.hosts()
        .into_iter()
        .map(|(h, v)| (h, v["status"].as_str().unwrap().to_string()))
        .collect()
}

fn expected(for_others: &str, password_host: &str) -> BTreeMap<String, String> {
    let mut want: BTreeMap<String, String> = BECOME
        .iter()
        .map(|h| (h.to_string(), for_others.to_string()))
        .collect();
    want.insert(PASSWORD.to_string(), password_host.to_string());
    want
}

/// The password host's report: failed before anything ran, saying what to configure.
fn assert_refused(run: &Run) {
    let hosts = run.hosts();
    let line = &hosts[PASSWORD];
    assert_eq!(line["status"], "failed", "{line}");
    assert_eq!(line["phase"], "facts", "{line}");
    let error = line["error"].as_str().unwrap();
    for want in [
        "g03: sudo -n refused to run the script as root",
        "sudo: a password is required",
        "nothing ran",
        "vmup ALL=(root) NOPASSWD: ALL",
        "/etc/sudoers.d/vmup",
    ] {
        assert!(error.contains(want), "{want:?} not in {error}");
    }
    // Fails fast: sudo -n never waits for a password.
    assert!(line["elapsed"].as_f64().unwrap() < 5.0, "{line}");
}

/// Plan, apply, plan again on one transport.
fn scenario(fleet: &Fleet, transport: &str) {
    let inv = write_inventory(fleet, transport, transport == "ssh");
    let mut base = vec!["-i", inv.as_str(), "runbook.toml", "-F", "ssh_config"];
    if transport == "openssh" {
        base.push("--become");
    }
    let cmd = |sub: &'static str, json: bool| {
        let mut a = vec![sub];
        a.extend_from_slice(&base);
        if json {
            a.push("--json");
        }
        let started = Instant::now();
        let run = fleet.vmup(&a);
        // No host, the password one included, may hold the run up.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{sub} took {:?}",
            started.elapsed()
        );
        run
    };

    fleet.sh("clear-counts", &[]);
    let plan = cmd("plan", true);
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    assert_eq!(
        statuses(&plan),
        expected("changed", "failed"),
        "{}",
        plan.stdout
    );
    for (host, line) in plan.hosts() {
        let method = if host == "g02" { "doas" } else { "sudo" };
        assert_eq!(line["become"], method, "{host}: {line}");
        if host != PASSWORD {
            let n = if host == "xen1" {
                DOM0_CHANGES
            } else {
                GUEST_CHANGES
            };
            assert_eq!(line["changes"].as_array().unwrap().len(), n, "{line}");
            // Becoming root costs no round trip: one script, one exec channel.
            assert_eq!(fleet.count("count-commands", &host), 1, "{host}");
        }
    }
    assert_refused(&plan);
    // Nothing changed: the plan only read.
    assert!(!fleet.exec("g01", "cat /etc/securetty").contains("ttyS0"));

    let human = cmd("plan", false);
    assert!(
        human
            .stdout
            .contains("== g02 (5 change(s) pending, as root via doas)"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("change(s) pending, as root via sudo)"),
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("error (facts phase): g03: sudo -n refused"),
        "{}",
        human.stdout
    );

    fleet.sh("clear-counts", &[]);
    let apply = cmd("apply", true);
    assert_eq!(apply.code, 1, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(
        statuses(&apply),
        expected("changed", "failed"),
        "{}",
        apply.stdout
    );
    assert_refused(&apply);
    // Facts, then apply and verify in one script, none extra for sudo: one exec channel
    // in-process (the facts' shell runs the apply), two with the OpenSSH client.
    let channels = if transport == "ssh" { 1 } else { 2 };
    assert_eq!(
        fleet.count("count-commands", "g01"),
        channels,
        "{transport}"
    );
    for guest in ["g01", "g02"] {
        // Written by root (the login cannot write /etc), mode and owner as the step says.
        assert_eq!(
            fleet.exec(guest, "stat -c %u:%g:%a /etc/yum.repos.d/Monash-base.repo"),
            "0:0:644\n",
            "{guest}"
        );
        assert!(fleet.exec(guest, "cat /etc/securetty").ends_with("ttyS0\n"));
        assert_eq!(
            fleet.exec(guest, "test -d /lib/tls.disabled && echo moved"),
            "moved\n"
        );
    }
    assert_eq!(
        fleet.exec("xen1", "readlink /boot/vmlinuz-2.6.9-ELxenU"),
        "vmlinuz-2.6.9-67.0.1.ELxenU\n"
    );
    assert!(!fleet.exec(PASSWORD, "cat /etc/securetty").contains("ttyS0"));

    let again = cmd("plan", true);
    assert_eq!(again.code, 1, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(
        statuses(&again),
        expected("ok", "failed"),
        "{}",
        again.stdout
    );
    for host in BECOME {
        assert_eq!(again.hosts()[host]["changes"], serde_json::json!([]));
    }
}

/// Root login really is refused on a become host: only sudo can have written as root.
fn assert_root_refused(fleet: &Fleet, host: &str) {
    let out = Command::new("ip")
        .args(["netns", "exec", &fleet.env["FLEET_CTL_NETNS"], "ssh", "-F"])
        .arg(&fleet.env["FLEET_SSH_CONFIG"])
        .args(["-l", "root", host, "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255), "root login on {host} worked");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fleet_become_converges_through_sudo_and_doas_and_a_password_host_fails_fast() {
    let fleet = Fleet::up(3);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/runbook.toml"),
        fleet.path("runbook.toml"),
    )
    .unwrap();
    configure(&fleet);
    for host in BECOME.iter().chain([&PASSWORD]) {
        assert_root_refused(&fleet, host);
    }
    scenario(&fleet, "ssh");

    // `vmup facts --become` and `vmup kernels` (which reads the dom0's domain configs
    // through the dom0's own transport) go through the same wrapping.
    let facts = fleet.vmup(&[
        "facts",
        "-i",
        "inv-ssh.toml",
        "g03",
        "-F",
        "ssh_config",
        "--become",
    ]);
    assert_eq!(facts.code, 1, "{}", facts.stderr);
    assert!(
        facts
            .stdout
            .starts_with("== g03 (failed)\n  error (facts phase): g03: sudo -n refused"),
        "{}",
        facts.stdout
    );
    let kernels = fleet.vmup(&[
        "kernels",
        "-i",
        "inv-ssh.toml",
        "-F",
        "ssh_config",
        "--json",
    ]);
    let hosts = kernels.hosts();
    let g01 = hosts["g01"]["error"].as_str().unwrap_or_default();
    // The dom0 was read (as root): the verdict is about the kernel it boots.
    assert!(
        g01.contains("host boots 2.6.9-67.0.1.ELxenU"),
        "{}",
        kernels.stdout
    );
    // `vmup recreate`: the host-side script (xl on xen1, whose double logs to root's
    // /var/log) and the wait for the guest, both as root through sudo. The guest is a
    // namespace and comes back on the controller's kernel: reported, not recreated.
    fleet.exec("xen1", ": > /var/log/vmup-xl-calls.log");
    let recreate = fleet.vmup(&[
        "recreate",
        "-i",
        "inv-ssh.toml",
        "-F",
        "ssh_config",
        "--limit",
        "g01",
        "--force",
        "--boot-timeout",
        "20",
        "--json",
    ]);
    let line = &recreate.hosts()["g01"];
    assert_eq!(line["become"], "sudo", "{line}");
    assert!(
        line["error"]
            .as_str()
            .unwrap_or_default()
            .contains("came back running"),
        "{line}"
    );
    let calls = fleet.exec("xen1", "cat /var/log/vmup-xl-calls.log");
    assert!(calls.contains("xl shutdown -- G01"), "{calls}");
    assert!(calls.contains("xl create -- /etc/xen/G01"), "{calls}");

    fleet.sh("reset", &[]);
    configure(&fleet);
    scenario(&fleet, "openssh");
}
