//! The booted-kernel check over real ssh: guests in the test fleet are booted by xen1's
//! xm configs through /boot links on xen1; `vmup kernels` reads them there, and a prune
//! step refuses (with a warning people see) when a config computes its kernel.

use crate::fleet::Fleet;

fn kernels(fleet: &Fleet) -> Vec<serde_json::Value> {
    let run = fleet.vmup(&[
        "kernels",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--json",
    ]);
    // One line per guest, then the run's summary line.
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}\n{}", run.stderr)))
        .filter(|v: &serde_json::Value| v.get("summary").is_none())
        .collect()
}

#[test]
fn booted_kernels_are_read_on_the_host_over_ssh() {
    let fleet = Fleet::up(2);
    let guests = fleet.guests();
    let report = kernels(&fleet);
    assert_eq!(report.len(), guests.len(), "{report:?}");
    for g in &report {
        assert_eq!(g["ok"], true, "{g}");
        assert_eq!(g["booted"]["release"], "2.6.9-55.ELxenU", "{g}");
        assert_eq!(g["booted"]["host"], "xen1");
        assert_eq!(
            g["booted"]["resolved_path"], "/boot/vmlinuz-2.6.9-55.ELxenU",
            "the link was followed on xen1: {g}"
        );
    }

    // The seed's failure, by hand: the modules of the booted kernel are gone.
    let broken = &guests[0];
    fleet.exec(broken, "rm -rf /lib/modules/2.6.9-55.ELxenU");
    let report = kernels(&fleet);
    let g = report.iter().find(|g| g["guest"] == *broken).unwrap();
    assert_eq!(g["ok"], false);
    assert!(
        g["verdict"]
            .as_str()
            .unwrap()
            .contains("/lib/modules/2.6.9-55.ELxenU is missing"),
        "{g}"
    );

    // A config that computes its kernel: the prune removes nothing and says why.
    let domain = g["booted"]["config_path"].as_str().unwrap().to_string();
    fleet.exec(
        "xen1",
        &format!("printf 'import os\\nkernel = \"/boot/vmlinuz-\" + os.uname()[2]\\n' > {domain}"),
    );
    std::fs::write(
        fleet.path("prune.toml"),
        "[[step]]\nname = \"prune\"\nhosts = \"guests\"\nkernels = { packages = [\"kernel-xenU\", \"kernel-xenU-devel\"], keep = { newest = 0 } }\n",
    )
    .unwrap();
    let plan = fleet.vmup(&[
        "plan",
        "-i",
        "inventory.toml",
        "prune.toml",
        "-F",
        "ssh_config",
        "--limit",
        broken,
    ]);
    assert!(
        plan.stdout
            .contains("warning: step 1 (prune): removes nothing")
            && plan.stdout.contains("cannot be read safely"),
        "{}\n{}",
        plan.stdout,
        plan.stderr
    );
}
