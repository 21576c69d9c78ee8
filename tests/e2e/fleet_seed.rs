//! The whole seed runbook, `examples/seed.toml` as shipped, over real ssh on the test fleet
//! (two guests in group grid and their dom0 xen1): it plans every change (the package
//! transactions included) and changes nothing doing so, applies, verifies, and a second
//! run changes nothing; the guests then boot the kernel xen1 points them at, with its
//! modules. Only site choices are overridden (`-e`): the test repositories for the Monash
//! mirror and ARCS, dnf's config path, the architecture, and gpgcheck (the test packages are
//! unsigned).
//!
//! The guests start as the seed's feared: xen1 already boots them with the new 78 kernel
//! through its stable link, while they have only kernel-xenU 55 (their next boot would come
//! up without drivers) and their domain configs lack the serial console in `extra`; 78
//! has no initrd on xen1 yet (the runbook builds it with the real dracut, from real
//! modules: see the test); /lib/tls present, no getty on the serial console, haldaemon
//! running (a real SysV init script), no dbus user, Gpulse from the APAC-Grid repository,
//! python24 installed, the nfs init script with CentOS 4's header.

use crate::commands::{python24_rpm, rpm_into};
use crate::fleet::Fleet;
use crate::fleet_guest_side::install_daemon;
use crate::fleet_initrd::{debian_kernel, install_kernel};
use crate::fleet_packages::copy_repos;
use crate::support::Run;

/// Site choices for the test fleet (the runbook's [vars] name the real mirrors).
const VARS: [&str; 10] = [
    "-e",
    "yum_conf=/etc/dnf/dnf.conf",
    "-e",
    "mirror=file:///srv/mirror",
    "-e",
    "arch=noarch",
    "-e",
    "arcs_baseurl=file:///srv/repos/centos",
    // The test packages are unsigned (the seed's mirrors have CentOS's keys).
    "-e",
    "gpgcheck=0",
];

fn seed_runbook() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed.toml")
}

fn vmup(fleet: &Fleet, cmd: &str, extra: &[&str]) -> Run {
    let rb = seed_runbook();
    let mut args = vec![
        cmd,
        "-i",
        "inventory.toml",
        rb.to_str().unwrap(),
        "-F",
        "ssh_config",
    ];
    args.extend(VARS);
    args.extend_from_slice(extra);
    fleet.vmup(&args)
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// A guest as the seed's were before the update (see the module doc).
fn seed_guest(fleet: &Fleet, g: &str) {
    copy_repos(fleet, g);
    python24_rpm(fleet, g);
    rpm_into(fleet, g, "python24-devel", "/usr/bin/python2.4-config");
    install_daemon(fleet, g);
    fleet.exec(
        g,
        "set -e
         rpm -i --nodeps /srv/python24.rpm /srv/python24-devel.rpm /srv/repos/seed/Gpulse-1.0-1.noarch.rpm
         mkdir -p /srv/mirror/os /srv/mirror/updates
         ln -s /srv/repos/monash /srv/mirror/os/noarch
         ln -s /srv/repos/monash /srv/mirror/updates/noarch
         printf '[centos-updates]\\nname=CentOS updates\\nbaseurl=file:///srv/repos/centos\\nenabled=1\\ngpgcheck=0\\n' > /etc/yum.repos.d/CentOS-Base.repo
         printf '[apacgrid]\\nname=APAC Grid\\nbaseurl=file:///srv/repos/monash\\nenabled=1\\ngpgcheck=0\\n' > /etc/yum.repos.d/APAC-Grid.repo
         mkdir -p /etc/rc.d/rc3.d
         printf '#!/bin/sh\\n# chkconfig: - 60 20\\n# description: NFS server\\nexit 0\\n' > /etc/rc.d/init.d/nfs
         chmod 755 /etc/rc.d/init.d/nfs
         ln -s ../init.d/nfs /etc/rc.d/rc3.d/S90nfs",
    );
}

#[test]
fn the_whole_seed_runbook_over_ssh_plans_applies_verifies_and_converges() {
    let fleet = Fleet::up(2);
    let guests = fleet.guests();
    for g in &guests {
        seed_guest(&fleet, g);
    }
    // xen1 holds the guests' kernels 55 and 67.0.1 and the update's 78, and its stable
    // kernel link already names 78 (its initrd link still 55's); 78 has no initrd yet, so
    // the runbook builds it with dracut. Its modules are real: the Debian cloud kernel's
    // (xenblk and xennet are aliases of xen-blkfront and xen-netfront there), copied under
    // the seed's release name, since dracut needs real modules and nothing boots them here
    // (a symlink would not do: dracut names the image's module directory after its target).
    let (rpm, debian) = debian_kernel(&fleet);
    install_kernel(&fleet, &rpm);
    fleet.exec(
        "xen1",
        &format!(
            "printf 'placeholder vmlinuz 78\\n' > /boot/vmlinuz-2.6.9-78.ELxenU; \
             cp -a /usr/lib/modules/{debian} /usr/lib/modules/2.6.9-78.ELxenU; \
             ln -sfn vmlinuz-2.6.9-78.ELxenU /boot/vmlinuz-2.6.9-ELxenU"
        ),
    );
    let g = &guests[0];
    let before = fleet.ssh(g, "rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\\n' | sort");

    // gridpulse's verdict before: Not OK, with the reasons.
    let check = vmup(&fleet, "check", &["--json"]);
    assert_eq!(check.code, 1, "{}", show(&check));
    let line = &check.hosts()[g.as_str()];
    assert_eq!(line["verdict"], "Not OK", "{line}");
    let reasons = line["reasons"].to_string();
    for expected in [
        "stop haldaemon",
        "create system user dbus (uid 81",
        "/lib/modules/2.6.9-78.ELxenU is missing",
    ] {
        assert!(
            reasons.contains(expected),
            "Not OK lacks {expected:?}: {reasons}"
        );
    }

    // What a facts round costs the guest beyond ssh itself: a one-fact run's processes.
    let forks = |run: &dyn Fn() -> Run| {
        let before = fleet.count("count-forks", g);
        let run = run();
        (run, fleet.count("count-forks", g) - before)
    };
    let (base, ssh_only) = forks(&|| {
        fleet.vmup(&[
            "facts",
            "-i",
            "inventory.toml",
            "-F",
            "ssh_config",
            g,
            "--fact",
            "hostname",
        ])
    });
    assert_eq!(base.code, 0, "{}", show(&base));
    let (plan, plan_forks) = forks(&|| vmup(&fleet, "plan", &["--json"]));
    assert_eq!(plan.code, 3, "{}", show(&plan));
    let hosts = plan.hosts();
    let host = &hosts[g.as_str()];
    let changes = host["changes"].to_string();
    for expected in [
        "installonlypkgs",
        "Monash-base.repo",
        "update: 2 package(s) in one transaction",
        "install kernel-xenU-2.6.9-67.0.1.EL.noarch from monash",
        "kernel-xenU-2.6.9-78.EL.noarch from",
        "remove 4 package(s) in one rpm transaction: kernel-xenU-2.6.9-55.EL.noarch kernel-xenU-devel-2.6.9-55.EL.noarch kernel-xenU-2.6.9-67.0.1.EL.noarch kernel-xenU-devel-2.6.9-67.0.1.EL.noarch",
        "/lib/tls",
        "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav",
        "ttyS0",
        "stop haldaemon (/etc/rc.d/init.d/haldaemon stop)",
        "create system user dbus (uid 81",
        "# chkconfig: - 90 10",
        "arcs.repo",
        "APAC-Grid.repo",
        "dnf swap Gpulse APAC-gateway-gridpulse",
    ] {
        assert!(
            changes.contains(expected),
            "plan lacks {expected:?}: {changes}"
        );
    }
    let xen1: Vec<String> = hosts["xen1"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap().to_string())
        .collect();
    let links: Vec<&String> = xen1
        .iter()
        .filter(|s| s.contains(" -> ") || s.starts_with("retarget"))
        .collect();
    assert!(
        links.len() == 1 && links[0].contains("initrd-2.6.9-78.ELxenU-xendrv.img"),
        "the stable links follow the dom0's newest xenU kernel (the kernel's is already there): {xen1:?}"
    );
    // The domain configs already name the stable links; extra gets the serial console.
    for guest in &guests {
        let config = format!("/etc/xen/{}", guest.to_uppercase());
        assert!(
            xen1.contains(&format!(
                "add \"xencons=ttyS\" \"console=ttyS0\" to extra in {config}"
            )),
            "{xen1:?}"
        );
    }
    assert!(
        xen1.contains(&"build /boot/initrd-2.6.9-78.ELxenU-xendrv.img with dracut (drivers: xenblk, xennet; reason: missing)".to_string()),
        "the custom initrd of the newest xenU kernel: {xen1:?}"
    );
    let notes = host["notes"].to_string();
    assert!(
        notes.contains("nfs rc links in the new start order): not run"),
        "the links are already in the new order, so the command is not run: {notes}"
    );
    assert_eq!(
        before,
        fleet.ssh(g, "rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\\n' | sort"),
        "plan changed the rpm database"
    );
    assert!(
        fleet
            .ssh(g, "/etc/rc.d/init.d/haldaemon status")
            .contains("is running")
    );

    let apply = vmup(&fleet, "apply", &["--json"]);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    let qa = fleet.ssh(g, "rpm -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}\\n' | sort");
    for present in [
        "kernel-xenU-2.6.9-78.EL",
        "APAC-gateway-gridpulse-2.0-1",
        "python24-2.4.3-1",
    ] {
        assert!(qa.contains(present), "{present} missing: {qa}");
    }
    assert!(!qa.contains("kernel-xenU-2.6.9-67.0.1.EL"), "{qa}");
    assert!(!qa.contains("kernel-xenU-2.6.9-55.EL"), "{qa}");
    assert!(!qa.contains("Gpulse-1.0"), "{qa}");
    assert!(
        fleet
            .ssh(
                g,
                "test -d /lib/tls.disabled && ! test -e /lib/tls && echo moved"
            )
            .contains("moved")
    );
    assert!(fleet.ssh(g, "grep -c '^S0:' /etc/inittab").trim() == "1");
    assert!(
        fleet
            .ssh(g, "/etc/rc.d/init.d/haldaemon status; echo $?")
            .contains("3")
    );
    assert_eq!(fleet.ssh(g, "id -u dbus").trim(), "81");
    assert!(
        fleet
            .ssh(g, "grep enabled /etc/yum.repos.d/APAC-Grid.repo")
            .contains("enabled=0")
    );
    assert_eq!(
        fleet
            .ssh("xen1", "readlink /boot/initrd-2.6.9-ELxenU-xendrv.img")
            .trim(),
        "initrd-2.6.9-78.ELxenU-xendrv.img"
    );
    for guest in &guests {
        let config = fleet.ssh("xen1", &format!("cat /etc/xen/{}", guest.to_uppercase()));
        assert!(
            config.contains("\nextra = \"3 xencons=ttyS console=ttyS0\"\n")
                && config.starts_with("kernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\n"),
            "{config}"
        );
    }
    // The image, listed without vmup's code: the Xen drivers are in it.
    let listing = fleet.exec(
        "xen1",
        "gzip -dc < /boot/initrd-2.6.9-78.ELxenU-xendrv.img | cpio -t 2>/dev/null | grep -E '/xen-(blk|net)front\\.ko$'",
    );
    assert!(
        listing.contains("lib/modules/2.6.9-78.ELxenU/kernel/drivers/block/xen-blkfront.ko")
            && listing.contains("xen-netfront.ko"),
        "{listing}"
    );

    let (again, again_forks) = forks(&|| vmup(&fleet, "plan", &["--json"]));
    // The facts phase of the whole seed runbook on a converged guest, in processes the
    // script starts (measured 16: the four dnf previews, rpm, three getent, the
    // haldaemon init script's status (and its two cats), the guard's sh and its ls and
    // two greps, three for every path; it was 96 with a process or two per path and fact
    // and every facts round sent whole again, 27 with a subshell per preview, service and
    // guard and a getent per key). Before the update it is more: the previews run again
    // with the planned repository files, each in a subshell of its own (its trap removes
    // the staged copy).
    let (seed_facts, first) = (again_forks - ssh_only, plan_forks - ssh_only);
    eprintln!(
        "seed runbook facts phase on {g}: {first} processes before the update, {seed_facts} converged"
    );
    assert!(
        seed_facts <= 18 && first <= 45,
        "the seed's facts phase forks {seed_facts} processes on a converged guest (at most 18), {first} before the update (at most 45)"
    );
    assert_eq!(
        again.code,
        0,
        "a second run changes nothing: {}",
        show(&again)
    );

    // The next boot: xen1 points the guests at 78, whose modules they now have.
    let kernels = fleet.vmup(&[
        "kernels",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--json",
    ]);
    assert_eq!(kernels.code, 0, "{}", show(&kernels));
    for line in kernels.hosts().values() {
        assert_eq!(line["verdict"], "ok", "{line}");
        assert_eq!(line["booted"]["release"], "2.6.9-78.ELxenU", "{line}");
    }
}
