//! The test fleet's real virtual machine: vm1, a QEMU guest (TCG) that xen1 boots from its
//! domain config through the xl double, with real Debian kernels (two releases, as rpms),
//! initrds built on xen1 with dracut, and the guest's own root disk, sshd and rpm database.
//! One boot, by `vmup recreate`, proves the chain works and vmup reaches the guest on the
//! release its host boots; `vmup doctor --boot-test` boots the chain under QEMU on xen1
//! (ok), and an image without the block driver (failed, within a minute). Then the seed's
//! update, end to end, with vmup alone and in one run (tests/e2e/runbooks/vm-update.toml):
//! a pinned update installs the newer kernel rpm beside the old one on the guest and on
//! xen1, xen1 builds and proves the initrd for the kernel the same run installs and
//! repoints the stable links the domain config names, and the runbook's `recreate` step
//! boots the guest (the doctor says ok), which answers on the new release with both
//! kernels installed; a second plan has nothing to do. `vmup reboot` of xen1 then stops
//! vm1 before the reboot and starts it after, waiting for both. A last boot proves the
//! seed's failure is real, on the new release: with its modules gone and an initrd without
//! the network driver, the guest never answers, and its serial console says why. `vmup
//! doctor` predicts it, and `vmup recreate` refuses the broken guest, leaving it running.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::fleet::Fleet;
use crate::support::Run;

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

/// A runbook of tests/e2e/runbooks/.
fn runbook(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/e2e/runbooks")
        .join(name)
        .display()
        .to_string()
}

/// `vmup CMD` with the update's runbook on the whole fleet, vm1 and xen1, each pointed at
/// the kernel repository as it reaches it.
fn update_run(fleet: &Fleet, cmd: &str) -> (Run, f64) {
    let rb = runbook("vm-update.toml");
    let vm_repo = format!("vm_repo={}", fleet.env["FLEET_VM_REPO_URL"]);
    let dom0_repo = format!("dom0_repo={}", fleet.env["FLEET_DOM0_REPO_URL"]);
    let t = Instant::now();
    let run = fleet.vmup(&[
        cmd,
        "-i",
        "inventory.toml",
        &rb,
        "-F",
        "ssh_config",
        "--json",
        "-e",
        &vm_repo,
        "-e",
        &dom0_repo,
    ]);
    (run, t.elapsed().as_secs_f64())
}

/// The host lines of each run a command made (the apply, then each lifecycle step), split
/// at the summary lines.
fn segments(run: &Run) -> Vec<std::collections::BTreeMap<String, serde_json::Value>> {
    let mut out = vec![std::collections::BTreeMap::new()];
    for v in run.json() {
        if v.get("summary").is_some() {
            out.push(std::collections::BTreeMap::new());
        } else if let Some(h) = v["host"].as_str() {
            out.last_mut().unwrap().insert(h.to_string(), v.clone());
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// The resources of the changes a host line reports, in step order.
fn resources(line: &serde_json::Value) -> Vec<String> {
    line["changes"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|c| c["resource"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn qemu_runs(fleet: &Fleet) -> bool {
    fleet
        .sh("status", &[])
        .lines()
        .any(|l| l.starts_with(VM) && l.contains("running QEMU"))
}

#[test]
fn a_real_vm_boots_from_its_domain_config_is_updated_and_the_seeds_failure_is_real() {
    let whole = Instant::now();
    let t = Instant::now();
    let fleet = Fleet::up_with(0, &["--vm"]);
    let release = fleet.env["FLEET_VM_RELEASE"].clone();
    let new = fleet.env["FLEET_VM_NEW_RELEASE"].clone();
    let (addr, port) = (&fleet.env["FLEET_VM_ADDR"], &fleet.env["FLEET_VM_PORT"]);
    eprintln!(
        "vm: fleet with {VM} ({release}; {new} in the repository) up in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let number = |r: &str| {
        r.strip_prefix("6.1.0-")
            .and_then(|r| r.strip_suffix("-cloud-amd64"))
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or_else(|| panic!("not a 6.1.0-N-cloud-amd64 release: {r}"))
    };
    let (old_n, new_n) = (number(&release), number(&new));
    assert!(
        old_n < new_n,
        "two releases, the VM on the older: {release} {new}"
    );
    // xen1 has the older kernel as an installed package, so that an update can install
    // the newer beside it (vm1 has it too: read once it runs, below, where its CentOS 4
    // style rpm prints no arch).
    assert_eq!(
        fleet.exec(DOM0, "rpm -q kernel-cloud-amd64"),
        format!("kernel-cloud-amd64-6.1.0-{old_n}.noarch\n")
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

    // The initrd the VM's config expects, built on xen1 by hand as an operator would, with
    // the virtio drivers added.
    let image = format!("/boot/initrd-{release}-virtio.img");
    let dracut = |kver: &str, extra: &str, out: &str| {
        format!(
            "dracut --force --kver {kver} --no-hostonly {extra} \
             --omit 'systemd systemd-initrd dracut-systemd' {out} 2>&1 | tail -n 3"
        )
    };
    let t = Instant::now();
    fleet.ssh(
        DOM0,
        &dracut(&release, "--add-drivers 'virtio_blk virtio_net'", &image),
    );
    eprintln!(
        "vm: dracut initrd on {DOM0} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let good = initrd_modules(&fleet, &image);
    for m in ["virtio_blk", "virtio_net"] {
        assert!(good.iter().any(|g| g == m), "{image} lacks {m}: {good:?}");
    }

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
    assert!(
        line["notes"]
            .to_string()
            .contains("after the recreate: its next boot checked"),
        "the command judges the next boot as the step does: {line}"
    );
    assert_eq!(line["cycled"]["was_running"], false, "{line}");
    assert_eq!(line["running"], release.as_str(), "{line}");
    assert!(qemu_runs(&fleet));
    assert!(console(&fleet).contains("vmup-vm: sshd up"));
    let uname = try_ssh(&fleet, VM, "uname -r").expect("the guest answers");
    assert_eq!(uname.trim(), release, "the kernel the domain config names");
    assert_eq!(
        fleet.ssh(
            VM,
            "hostname; rpm -q kernel-xenU kernel-cloud-amd64; ls /lib/modules"
        ),
        format!(
            "{VM}\nkernel-xenU-2.6.9-55.EL\nkernel-cloud-amd64-6.1.0-{old_n}\n2.6.9-55.ELxenU\n{release}\n"
        )
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
    // modules. It boots; nobody could log in on its console yet (the update's runbook
    // adds the getty).
    let (verdict, reason) = doctor(&fleet);
    assert_eq!(verdict, "no_console", "{reason}");

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

    // The seed's update, with vmup alone, in one run: the newer kernel rpm from the pinned
    // repository only, installed beside the running one (install-only, by an earlier step)
    // on the guest and on xen1; xen1 builds and proves the new release's initrd (for a
    // kernel the same run installs) and moves the stable links to it; vm1's config names
    // the links already, and its console gets a getty; then the runbook's last step
    // recreates vm1 on the new kernel, applies its runbook again there and checks its
    // next boot. At the same time, by hand, dracut's default image of the new release (for
    // the failure below).
    let config_before = fleet.ssh(DOM0, &format!("cat /etc/xen/{DOMAIN}"));
    let new_image = format!("/boot/initrd-{new}-virtio.img");
    let plain = format!("/boot/initrd-{new}.img");
    let (plan, _) = update_run(&fleet, "plan");
    assert_eq!(plan.code, 3, "changes pending: {}", show(&plan));
    let planned = plan.hosts();
    assert!(
        planned[DOM0]["changes"].to_string().contains(&format!(
            "reason: kernel {new} is installed by step 4 (the newest guest kernel, from the kernel repository only) first"
        )),
        "the initrd is built after the kernel the same run installs: {}",
        planned[DOM0]
    );
    let (run, took) = update_run(&fleet, "apply");
    eprintln!("vm: the update in one run, boot 2 included: {took:.1} s");
    assert_eq!(run.code, 0, "{}", show(&run));
    let runs = segments(&run);
    assert_eq!(
        runs.len(),
        2,
        "the apply, then the recreate step: {}",
        show(&run)
    );
    let (applied, recreated) = (&runs[0], &runs[1]);
    assert_eq!(
        resources(&applied[VM]),
        ["ini", "repo", "packages", "line", "line"],
        "{}",
        applied[VM]
    );
    assert_eq!(
        resources(&applied[DOM0]),
        ["ini", "repo", "packages", "initrd", "symlink", "symlink"],
        "{}",
        applied[DOM0]
    );
    for host in [VM, DOM0] {
        let packages = applied[host]["changes"][2].to_string();
        assert!(
            packages.contains(&format!(
                "install kernel-cloud-amd64-6.1.0-{new_n}.noarch from vmkernels"
            )),
            "{host}: {packages}"
        );
    }
    let notes = format!("{}{}", applied[DOM0]["notes"], applied[VM]["notes"]);
    assert!(
        notes.contains(&format!("/etc/xen/{DOMAIN} is already as wanted")),
        "the domain step changes nothing: {notes}"
    );
    assert_eq!(
        fleet.ssh(DOM0, &format!("cat /etc/xen/{DOMAIN}")),
        config_before
    );
    assert_eq!(
        fleet.exec(
            DOM0,
            "readlink /boot/vmlinuz-6.1.0-cloud-amd64 /boot/initrd-6.1.0-cloud-amd64-virtio.img; rpm -q kernel-cloud-amd64"
        ),
        format!(
            "vmlinuz-{new}\ninitrd-{new}-virtio.img\nkernel-cloud-amd64-6.1.0-{old_n}.noarch\nkernel-cloud-amd64-6.1.0-{new_n}.noarch\n"
        )
    );
    let good = initrd_modules(&fleet, &new_image);
    for m in ["virtio_blk", "virtio_net"] {
        assert!(
            good.iter().any(|g| g == m),
            "{new_image} lacks {m}: {good:?}"
        );
    }
    // The recreate step: the doctor said ok (not forced), the guest came back on the new
    // release, was checked, and only then reported.
    let line = &recreated[VM];
    assert_eq!(line["status"], "changed", "{line}");
    assert_eq!(line["forced"], false, "{line}");
    assert_eq!(line["doctor"]["verdict"], "ok", "{line}");
    assert_eq!(line["doctor"]["running"], release.as_str(), "{line}");
    assert_eq!(line["cycled"]["was_running"], true, "{line}");
    assert_eq!(line["running"], new.as_str(), "{line}");
    assert!(
        line["notes"]
            .to_string()
            .contains("the runbook applied again and verified; its next boot checked"),
        "{line}"
    );
    assert!(!recreated.contains_key(DOM0), "a dom0 is not recreated");
    assert_eq!(
        fleet.ssh(VM, "uname -r; rpm -q kernel-cloud-amd64"),
        format!("{new}\nkernel-cloud-amd64-6.1.0-{old_n}\nkernel-cloud-amd64-6.1.0-{new_n}\n")
    );
    // A second run has nothing to do: the recreate step neither (vm1 runs the kernel its
    // host boots).
    let ((run, took), default) = std::thread::scope(|s| {
        let b = s.spawn(|| {
            let t = Instant::now();
            fleet.ssh(DOM0, &dracut(&new, "", &plain));
            t.elapsed().as_secs_f64()
        });
        let run = update_run(&fleet, "plan");
        (run, b.join().unwrap())
    });
    eprintln!(
        "vm: plan of the update again: {took:.1} s (dracut's default image of {new} beside it, by hand: {default:.1} s)"
    );
    let worse = initrd_modules(&fleet, &plain);
    assert!(worse.iter().any(|g| g == "virtio_blk"), "{worse:?}");
    assert!(
        !worse.iter().any(|g| g == "virtio_net"),
        "dracut's default image has no virtio_net (why the runbook adds it)"
    );
    assert_eq!(run.code, 0, "nothing to do: {}", show(&run));
    for (host, line) in run.hosts() {
        assert_eq!(line["status"], "ok", "{host}: {line}");
    }

    // Host reboot: xen1 restarted by its stand-in; vm1, the guest it runs, is shut down
    // before (QEMU gone) and started after, and the run waits for xen1 and for vm1, which
    // comes back on the new release.
    fleet.ssh(DOM0, ": > /var/log/vmup-xl-calls.log");
    let t = Instant::now();
    let run = fleet.vmup(&[
        "reboot",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        DOM0,
        "--boot-timeout",
        "240",
        "--json",
    ]);
    eprintln!(
        "vm: boot 3, vmup reboot of {DOM0} with {VM}: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(run.code, 0, "{}", show(&run));
    let report = &run.hosts()[DOM0];
    assert_eq!(report["rebooted"], true, "{report}");
    let back = &report["guests"][0];
    assert_eq!(back["guest"], VM, "{report}");
    assert_eq!(back["was_running"], true, "{report}");
    assert_eq!(back["started"], true, "{report}");
    assert_eq!(back["running"], new.as_str(), "{report}");
    let calls = fleet.ssh(
        DOM0,
        "cut -d' ' -f2- /var/log/vmup-xl-calls.log | grep -v '^xl list'",
    );
    let order: Vec<&str> = calls.lines().collect();
    let at = |c: &str| {
        order
            .iter()
            .position(|l| l.starts_with(c))
            .unwrap_or_else(|| panic!("no {c} in {calls}"))
    };
    assert!(
        at("xl shutdown") < at("reboot") && at("reboot") < at("xl create"),
        "shut down, reboot, create: {calls}"
    );
    assert!(qemu_runs(&fleet));
    assert_eq!(
        try_ssh(&fleet, VM, "uname -r").unwrap_or_default().trim(),
        new
    );

    // The seed's failure, by hand, on the new release: the guest loses the modules of the
    // kernel its host boots, and the runbook's image is replaced by dracut's default (as a
    // kernel package's hook would rebuild it). doctor sees it before anyone reboots.
    fleet.ssh(VM, &format!("rm -rf /lib/modules/{new} && sync"));
    fleet.ssh(DOM0, &format!("cp {plain} {new_image}"));
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

    // Boot 4: the guest comes up without network and never answers ssh; its console
    // says why.
    let t = Instant::now();
    fleet.ssh(DOM0, &format!("xl create {DOMAIN}"));
    assert_eq!(
        wait_console(&fleet, &["vmup-vm: sshd up", "vmup-vm: no network"]),
        "vmup-vm: no network"
    );
    eprintln!(
        "vm: boot 4, xl create to 'no network' on the console: {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert!(
        try_ssh(&fleet, VM, "true").is_none(),
        "{VM} must not answer"
    );
    let text = console(&fleet);
    for why in [
        format!("/lib/modules/{new} is missing"),
        "driver virtio_net: NOT loaded".to_string(),
    ] {
        assert!(text.contains(&why), "the console says {why:?}:\n{text}");
    }
    fleet.ssh(DOM0, &format!("xl destroy {DOMAIN}"));
    assert!(!qemu_runs(&fleet), "xl destroy stops QEMU");
    // The stand-in still logs every call since the reboot's (the reboot's `xl info` reads
    // the Xen version before and after).
    let calls = fleet.ssh(
        DOM0,
        "cut -d' ' -f2- /var/log/vmup-xl-calls.log | grep -v -e '^xl list' -e '^xl info' -e '^reboot'",
    );
    assert_eq!(
        calls,
        format!(
            "xl shutdown -- {DOMAIN}\nxl create -- /etc/xen/{DOMAIN}\n\
             xl shutdown -w {DOMAIN}\nxl create {DOMAIN}\nxl destroy {DOMAIN}\n"
        )
    );
    eprintln!(
        "vm: the whole test in {:.1} s",
        whole.elapsed().as_secs_f64()
    );
}
