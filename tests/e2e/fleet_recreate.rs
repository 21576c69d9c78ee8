//! `vmup recreate` over real ssh against xen1's xl test double: the doctor's refusal, the
//! host-side script (shutdown, wait, create, in that order, one round trip), and that a
//! guest is never reported recreated unless it comes back running the kernel its host
//! boots. The fleet's guests are namespaces, not virtual machines: they keep running the
//! controller's kernel, which is exactly the "came back on the wrong kernel" case. The
//! successful recreate of a real virtual machine is in `vm_recreate`.

use crate::fleet::Fleet;
use crate::fleet_doctor::good_chains;

fn xl_calls(fleet: &Fleet) -> Vec<String> {
    fleet
        .exec("xen1", "cat /var/log/vmup-xl-calls.log 2>/dev/null || true")
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(_, rest)| rest.to_string()))
        .collect()
}

#[test]
fn recreate_refuses_what_would_not_boot_and_never_reports_a_wrong_kernel_as_recreated() {
    let fleet = Fleet::up(2);
    let guests = fleet.guests();
    good_chains(&fleet);
    let (good, broken) = (&guests[0], &guests[1]);
    fleet.exec(broken, "rm -rf /lib/modules/2.6.9-55.ELxenU");
    fleet.exec("xen1", ": > /var/log/vmup-xl-calls.log");

    let run = fleet.vmup(&[
        "recreate",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        broken,
        "--json",
    ]);
    assert_eq!(
        run.code, 5,
        "a refusal is a hold, not a failure: {}{}",
        run.stdout, run.stderr
    );
    let line = &run.hosts()[broken.as_str()];
    assert_eq!(line["status"], "held", "{line}");
    let error = line["error"].as_str().unwrap();
    assert!(
        error.contains("doctor says would not boot")
            && error.contains("/lib/modules/2.6.9-55.ELxenU")
            && error.contains("--force"),
        "{error}"
    );
    assert!(
        xl_calls(&fleet).is_empty(),
        "nothing may run on the host: {:?}",
        xl_calls(&fleet)
    );

    let run = fleet.vmup(&[
        "recreate",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        good,
        "--boot-timeout",
        "20",
        "--history",
        "history.sqlite",
    ]);
    let domain = good.to_uppercase();
    assert_eq!(
        xl_calls(&fleet),
        [
            format!("xl list -- {domain}"),
            format!("xl shutdown -- {domain}"),
            format!("xl list -- {domain}"),
            format!("xl create -- /etc/xen/{domain}"),
        ],
        "{}",
        run.stderr
    );
    // The namespace guest answers at once, but with the controller's kernel.
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(good.as_str()))
        .unwrap();
    assert!(
        row.contains("came back running") && row.contains("boots it with 2.6.9-55.ELxenU"),
        "{row}"
    );
    assert!(!run.stdout.contains("recreated"), "{}", run.stdout);
    // The history has the run, and the kernel the guest came back running.
    let listed = fleet.vmup(&["history", "--history", "history.sqlite", "--json"]);
    let listed = listed.json();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["host"], good.as_str());
    assert_eq!(listed[0]["run"]["command"], "recreate");
    assert_eq!(listed[0]["run"]["exit_code"], 1);
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(
        listed[0]["booted_kernel"].as_str(),
        Some(fleet.exec(good, "uname -r").trim())
    );

    // Forced past the doctor: the report says so.
    let run = fleet.vmup(&[
        "recreate",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        broken,
        "--force",
        "--boot-timeout",
        "20",
    ]);
    let row = run
        .stdout
        .lines()
        .find(|l| l.starts_with(broken.as_str()))
        .unwrap();
    assert!(row.contains("forced past the doctor"), "{row}");
}

/// A runbook's `recreate` step: after the apply, over the guests whose apply converged; a
/// guest that already runs the kernel its host boots is left running (`when = "kernel"`),
/// one the doctor would refuse is held, and one that comes back on another kernel fails.
#[test]
fn a_recreate_step_runs_after_the_apply_on_the_guests_that_need_it() {
    let fleet = Fleet::up(3);
    let guests = fleet.guests();
    good_chains(&fleet);
    let (wrong, broken, current) = (&guests[0], &guests[1], &guests[2]);
    fleet.exec(broken, "rm -rf /lib/modules/2.6.9-55.ELxenU");
    // `current` is booted with a kernel named as the one the namespaces really run.
    let running = fleet.exec(current, "uname -r").trim().to_string();
    fleet.exec(
        "xen1",
        &format!(
            "cp /boot/vmlinuz-2.6.9-55.ELxenU /boot/vmlinuz-{running} && \
             sed -i 's|^kernel = .*|kernel = \"/boot/vmlinuz-{running}\"|' /etc/xen/{}",
            current.to_uppercase()
        ),
    );
    std::fs::write(
        fleet.path("lifecycle.toml"),
        "[[step]]\nhosts = \"guests\"\nline = { path = \"/etc/motd\", line = \"maintained by vmup\" }\n\
         [[step]]\nname = \"re-create each domain\"\nhosts = \"guests\"\nrecreate = { boot_timeout = 20 }\n",
    )
    .unwrap();
    let base = ["-i", "inventory.toml", "-F", "ssh_config", "lifecycle.toml"];
    let plan = fleet.vmup(&[&["plan"][..], &base].concat());
    assert!(
        plan.stdout.contains(
            "step 2 (re-create each domain) on guests: after the apply: recreate each guest that does not run the kernel its host boots it with, 1 at a time"
        ),
        "{}",
        plan.stdout
    );
    fleet.exec("xen1", ": > /var/log/vmup-xl-calls.log");

    let run = fleet.vmup(&[&["apply", "--json"][..], &base].concat());
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    // Each guest's last line is the recreate step's.
    let lines = run.hosts();
    let line = |g: &str| &lines[g];
    assert_eq!(line(wrong)["status"], "failed", "{}", line(wrong));
    assert!(
        line(wrong)["error"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("came back running {running}")),
        "{}",
        line(wrong)
    );
    assert_eq!(line(broken)["status"], "held", "{}", line(broken));
    assert!(
        line(broken)["error"]
            .as_str()
            .unwrap_or_default()
            .contains("doctor says would not boot"),
        "{}",
        line(broken)
    );
    assert_eq!(line(current)["status"], "ok", "{}", line(current));
    assert!(
        line(current)["notes"].to_string().contains(&format!(
            "runs {running}, the kernel its host boots it with: not recreated"
        )),
        "{}",
        line(current)
    );
    // The apply itself happened first, on all three.
    for g in &guests {
        assert!(
            fleet
                .exec(g, "cat /etc/motd")
                .contains("maintained by vmup")
        );
    }
    let domain = wrong.to_uppercase();
    assert_eq!(
        xl_calls(&fleet)
            .into_iter()
            .filter(|c| !c.starts_with("xl list"))
            .collect::<Vec<_>>(),
        [
            format!("xl shutdown -- {domain}"),
            format!("xl create -- /etc/xen/{domain}"),
        ],
        "only the guest that needed it was recreated"
    );
    let retry = std::fs::read_to_string(fleet.path("vmup.retry")).unwrap_or_default();
    assert!(
        retry.contains(wrong.as_str())
            && retry.contains(broken.as_str())
            && !retry.contains(current.as_str()),
        "{retry}"
    );
}
