//! The test fleet's real virtual machine: vm1, a QEMU guest (TCG) that xen1 boots from its
//! domain config through the xl double, with a real Debian kernel, initrds built on xen1
//! with dracut, and the guest's own root disk, sshd and rpm database. One boot, by `vmup
//! recreate`, proves the chain works and vmup reaches the guest on the release its host
//! boots; `vmup doctor --boot-test` boots the chain under QEMU on xen1 (ok), and an image
//! without the block driver (failed, within a minute); a second boot proves the seed's
//! failure is real: with its modules gone and an initrd without the network driver, the
//! guest never answers, and its serial console says why. `vmup doctor` predicts both
//! outcomes, and `vmup recreate` refuses the broken guest, leaving it running.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::fleet::Fleet;

const VM: &str = "vm1";
const DOM0: &str = "xen1";
const DOMAIN: &str = "VM1";
/// How long a boot may take: about 50 s on a loaded 2-core machine, twice that is plenty.
const BOOT_DEADLINE: Duration = Duration::from_secs(240);

/// Runs a command on a machine through plain OpenSSH; `None` when it fails.
fn try_ssh(fleet: &Fleet, host: &str, script: &str) -> Option<String> {
    let out = Command::new("ip")
        .args(["netns", "exec", &fleet.env["FLEET_CTL_NETNS"], "ssh", "-F"])
        .arg(&fleet.env["FLEET_SSH_CONFIG"])
        .args(["-o", "ConnectTimeout=5", host, script])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn console(fleet: &Fleet) -> String {
    std::fs::read_to_string(&fleet.env["FLEET_VM_CONSOLE"]).unwrap_or_default()
}

/// Waits for one of `markers` on the VM's serial console; fails with the console's tail
/// when the deadline passes or the VM's kernel gives up first.
fn wait_console(fleet: &Fleet, markers: &[&str]) -> String {
    let start = Instant::now();
    loop {
        let text = console(fleet);
        if let Some(m) = markers.iter().find(|m| text.contains(**m)) {
            return m.to_string();
        }
        let tail: String = text.lines().rev().take(120).collect::<Vec<_>>().join("\n");
        assert!(
            !text.contains("Kernel panic") && !text.contains("reboot: "),
            "{VM} stopped before any of {markers:?}; console (last lines first):\n{tail}"
        );
        assert!(
            start.elapsed() < BOOT_DEADLINE,
            "{VM}: none of {markers:?} within {BOOT_DEADLINE:?}; console (last lines first):\n{tail}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// `vmup doctor` on the VM alone, with `extra` arguments: its JSON line.
fn doctor_line(fleet: &Fleet, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "doctor",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--json",
        "--limit",
        VM,
    ];
    args.extend_from_slice(extra);
    let run = fleet.vmup(&args);
    run.hosts()
        .remove(VM)
        .unwrap_or_else(|| panic!("no doctor line for {VM}:\n{}\n{}", run.stdout, run.stderr))
}

/// `vmup doctor` on the VM alone: its verdict and reason.
fn doctor(fleet: &Fleet) -> (String, String) {
    let line = doctor_line(fleet, &[]);
    let text = |k: &str| line[k].as_str().unwrap_or_default().to_string();
    (text("verdict"), text("reason"))
}

/// `vmup doctor --boot-test` on the VM alone: its JSON line.
fn doctor_boot_test(fleet: &Fleet) -> serde_json::Value {
    doctor_line(fleet, &["--boot-test", "--boot-test-timeout", "120"])
}

/// The module files an initrd on xen1 holds.
fn initrd_modules(fleet: &Fleet, image: &str) -> Vec<String> {
    fleet
        .ssh(
            DOM0,
            &format!("zcat {image} | cpio -t --quiet | sed -n 's|.*/||; s|\\.ko$||p' | sort"),
        )
        .lines()
        .map(str::to_string)
        .collect()
}

fn qemu_runs(fleet: &Fleet) -> bool {
    fleet
        .sh("status", &[])
        .lines()
        .any(|l| l.starts_with(VM) && l.contains("running QEMU"))
}

#[test]
fn a_real_vm_boots_from_its_domain_config_and_the_seeds_failure_is_real() {
    let t = Instant::now();
    let fleet = Fleet::up_with(0, &["--vm"]);
    let release = fleet.env["FLEET_VM_RELEASE"].clone();
    let (addr, port) = (&fleet.env["FLEET_VM_ADDR"], &fleet.env["FLEET_VM_PORT"]);
    eprintln!(
        "vm: fleet with {VM} ({release}) up in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let known = std::fs::read_to_string(fleet.path("known_hosts")).unwrap();
    assert!(
        known.contains(&format!("[{addr}]:{port} ssh-ed25519 ")),
        "the VM's host key is known as [address]:port: {known}"
    );
    assert!(
        !qemu_runs(&fleet),
        "up prepares the VM, it does not boot it"
    );

    // Two initrds built on xen1 at once, as an operator would: the runbook's, with the
    // virtio drivers added, named as the VM's config expects, and dracut's default one.
    let image = format!("/boot/initrd-{release}-virtio.img");
    let plain = format!("/boot/initrd-{release}.img");
    let dracut = |extra: &str, out: &str| {
        format!(
            "dracut --force --kver {release} --no-hostonly {extra} \
             --omit 'systemd systemd-initrd dracut-systemd' {out} 2>&1 | tail -n 3"
        )
    };
    let t = Instant::now();
    let (with_drivers, default) = std::thread::scope(|s| {
        let a = s.spawn(|| {
            let t = Instant::now();
            fleet.ssh(
                DOM0,
                &dracut("--add-drivers 'virtio_blk virtio_net'", &image),
            );
            t.elapsed().as_secs_f64()
        });
        let b = s.spawn(|| {
            let t = Instant::now();
            fleet.ssh(DOM0, &dracut("", &plain));
            t.elapsed().as_secs_f64()
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    eprintln!(
        "vm: two dracut initrds on {DOM0} at once in {:.1} s ({with_drivers:.1} s, {default:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let good = initrd_modules(&fleet, &image);
    let worse = initrd_modules(&fleet, &plain);
    for m in ["virtio_blk", "virtio_net"] {
        assert!(good.iter().any(|g| g == m), "{image} lacks {m}: {good:?}");
    }
    assert!(worse.iter().any(|g| g == "virtio_blk"), "{worse:?}");
    assert!(
        !worse.iter().any(|g| g == "virtio_net"),
        "dracut's default image has no virtio_net (why the runbook adds it)"
    );

    // Boot 1: `vmup recreate` creates the stopped domain on xen1 and calls it recreated only
    // once the guest answers ssh running the release its dom0 boots. A stopped guest's own
    // side cannot be read, so the doctor cannot say ok: --force, which the report shows.
    let t = Instant::now();
    let run = fleet.vmup(&[
        "recreate",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        VM,
        "--force",
        "--boot-timeout",
        "240",
        "--json",
    ]);
    let boot = t.elapsed().as_secs_f64();
    eprintln!("vm: boot 1, vmup recreate to ssh answering: {boot:.1} s");
    let line = run
        .hosts()
        .remove(VM)
        .unwrap_or_else(|| panic!("no recreate line for {VM}: {}{}", run.stdout, run.stderr));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(line["status"], "changed", "{line}");
    assert_eq!(line["forced"], true, "{line}");
    assert_eq!(line["cycled"]["was_running"], false, "{line}");
    assert_eq!(line["running"], release.as_str(), "{line}");
    assert!(qemu_runs(&fleet));
    assert!(console(&fleet).contains("vmup-vm: sshd up"));
    let uname = try_ssh(&fleet, VM, "uname -r").expect("the guest answers");
    assert_eq!(uname.trim(), release, "the kernel the domain config names");
    assert_eq!(
        fleet.ssh(VM, "hostname; rpm -q kernel-xenU; ls /lib/modules"),
        format!("{VM}\nkernel-xenU-2.6.9-55.EL\n2.6.9-55.ELxenU\n{release}\n")
    );
    let list = fleet.ssh(DOM0, &format!("xl list {DOMAIN}"));
    assert!(
        list.lines().nth(1).unwrap_or_default().starts_with(DOMAIN),
        "{list}"
    );
    // QEMU got the config's kernel= and ramdisk= as written (the links are the kernel's
    // business), and root= followed by extra= as its command line.
    let setting = |key: &str| {
        fleet.ssh(
            DOM0,
            &format!("sed -n 's/^{key} = \"\\(.*\\)\"$/\\1/p' /etc/xen/{DOMAIN}"),
        )
    };
    let argv = fleet.ssh(DOM0, &format!("cat /var/log/vmup-vm/{DOMAIN}.argv"));
    let expected = format!(
        "-kernel {} -initrd {} -append 'root={} {}'",
        setting("kernel").trim(),
        setting("ramdisk").trim(),
        setting("root").trim(),
        setting("extra").trim()
    );
    assert!(argv.contains(&expected), "{expected}\nnot in {argv}");

    // vmup reaches the VM (address and port from the inventory, host key checked) and
    // judges its chain on the real files: xen1's kernel and dracut image, the guest's
    // modules.
    let (verdict, reason) = doctor(&fleet);
    assert_ne!(verdict, "would_not_boot", "{reason}");

    // The boot test: xen1 boots the same kernel, ramdisk and command line under QEMU on a
    // snapshot of the running guest's disk, and the console says it reached the root.
    let t = Instant::now();
    let tested = doctor_boot_test(&fleet);
    eprintln!(
        "vm: boot test of the good chain: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(tested["boot_test"]["result"], "booted", "{tested}");
    // ... and one without the block driver fails, within a minute, with the reason.
    let ramdisk = setting("ramdisk").trim().to_string();
    fleet.ssh(
        DOM0,
        &format!(
            "set -e; d=$(mktemp -d); cd $d; zcat {image} | cpio -id --quiet; \
             find . -name 'virtio_blk.ko*' -delete; find . | cpio -o -H newc --quiet | gzip -1 > /boot/initrd-noblk.img; \
             cd /; rm -rf $d; sed -i 's|^ramdisk = .*|ramdisk = \"/boot/initrd-noblk.img\"|' /etc/xen/{DOMAIN}"
        ),
    );
    let t = Instant::now();
    let tested = doctor_boot_test(&fleet);
    let took = t.elapsed();
    eprintln!(
        "vm: boot test without virtio_blk: {:.1} s",
        took.as_secs_f64()
    );
    assert_eq!(tested["verdict"], "would_not_boot", "{tested}");
    assert!(
        tested["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("no block driver (virtio_blk)"),
        "{tested}"
    );
    assert_eq!(tested["boot_test"]["result"], "failed", "{tested}");
    assert!(
        took < Duration::from_secs(90),
        "a failing boot ends in about 30 s, took {took:?}"
    );
    fleet.ssh(
        DOM0,
        &format!("sed -i 's|^ramdisk = .*|ramdisk = \"{ramdisk}\"|' /etc/xen/{DOMAIN}"),
    );
    assert_eq!(
        setting("ramdisk").trim(),
        ramdisk,
        "the config is as it was"
    );

    // The seed's failure, by hand: the guest loses the modules of the kernel its host
    // boots, and the runbook's image is replaced by dracut's default (as a kernel
    // package's hook would rebuild it). doctor sees it before anyone reboots.
    fleet.ssh(VM, &format!("rm -rf /lib/modules/{release} && sync"));
    fleet.ssh(DOM0, &format!("cp {plain} {image}"));
    let (verdict, reason) = doctor(&fleet);
    assert_eq!(verdict, "would_not_boot", "{reason}");
    // ... and so `vmup recreate` refuses to touch it: held, and the guest keeps running.
    let run = fleet.vmup(&[
        "recreate",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        VM,
    ]);
    assert_eq!(run.code, 5, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("doctor says would not boot"),
        "{}",
        run.stdout
    );
    assert!(
        qemu_runs(&fleet),
        "a refused recreate leaves the guest running"
    );

    // A clean shutdown: xl shutdown -w returns once QEMU is gone.
    let t = Instant::now();
    let out = fleet.ssh(DOM0, &format!("xl shutdown -w {DOMAIN}"));
    eprintln!("vm: xl shutdown -w in {:.1} s", t.elapsed().as_secs_f64());
    assert!(out.contains("has been shut down"), "{out}");
    assert!(!qemu_runs(&fleet), "QEMU is gone");
    assert!(console(&fleet).contains("vmup-vm: powered off"));
    assert!(try_ssh(&fleet, DOM0, &format!("xl list {DOMAIN}")).is_none());

    // Boot 2: the guest comes up without network and never answers ssh; its console
    // says why.
    let t = Instant::now();
    fleet.ssh(DOM0, &format!("xl create {DOMAIN}"));
    assert_eq!(
        wait_console(&fleet, &["vmup-vm: sshd up", "vmup-vm: no network"]),
        "vmup-vm: no network"
    );
    eprintln!(
        "vm: boot 2, xl create to 'no network' on the console: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert!(
        try_ssh(&fleet, VM, "true").is_none(),
        "{VM} must not answer"
    );
    let text = console(&fleet);
    for why in [
        format!("/lib/modules/{release} is missing"),
        "driver virtio_net: NOT loaded".to_string(),
    ] {
        assert!(text.contains(&why), "the console says {why:?}:\n{text}");
    }
    fleet.ssh(DOM0, &format!("xl destroy {DOMAIN}"));
    assert!(!qemu_runs(&fleet), "xl destroy stops QEMU");
    // The stand-in still logs every call.
    let calls = fleet.ssh(
        DOM0,
        "cut -d' ' -f2- /var/log/vmup-xl-calls.log | grep -v '^xl list'",
    );
    assert_eq!(
        calls,
        format!(
            "xl create -- /etc/xen/{DOMAIN}\nxl shutdown -w {DOMAIN}\nxl create {DOMAIN}\n\
             xl destroy {DOMAIN}\n"
        )
    );
}
