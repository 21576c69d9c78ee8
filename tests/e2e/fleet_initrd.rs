//! The `initrd` step over real ssh on the test fleet's dom0, with real parts: Debian's
//! 6.1.0-N-cloud-amd64 kernel (repackaged as an rpm by tests/fleet/debkernel.sh and
//! installed on xen1) and Debian's dracut 059 (dracut-core, in the fleet's base).
//!
//! One fleet, two dracut builds (about 30-45 s each on 2 cores):
//! 1. no image yet: the plan says "build ... with dracut (...; reason: missing)", apply
//!    builds, proves and swaps it in and verifies; the test lists the image itself
//!    (`gzip -dc | cpio -t`, not vmup's code) and finds both .ko files; a second plan has
//!    nothing to do and says why;
//! 2. the same image asked to hold a driver that does not exist: dracut exits 0 without
//!    the whole `--add-drivers` list (virtio_blk is still in its generic set, virtio_net
//!    would not be), the proof fails the step with dracut's own words, and the image is
//!    byte for byte the one of (1), with no temporary file left beside it.
//!
//! The fleet's dom0s have a dracut.conf.d file leaving out dracut's systemd modules (27 s
//! instead of 46 s a build, measured); the image keeps dracut's own shell init.

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::fleet::Fleet;
use crate::support::Run;

/// Builds (or takes from the cache) the kernel rpm; returns its path and the release.
pub fn debian_kernel(fleet: &Fleet) -> (String, String) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet/debkernel.sh");
    let out = Command::new(script)
        .arg(fleet.path("kernel-rpm"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "debkernel.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let rpm = lines.next().unwrap_or_default().to_string();
    let release = lines.next().unwrap_or_default().to_string();
    assert!(
        release.starts_with("6.1.0-") && release.ends_with("-cloud-amd64"),
        "{text}"
    );
    (rpm, release)
}

/// Installs the kernel rpm on xen1 with its own rpm, as a dom0 gets a guest kernel.
pub fn install_kernel(fleet: &Fleet, rpm: &str) {
    let file = std::fs::File::open(rpm).unwrap();
    let out = Command::new(&fleet.env["FLEET_SH"])
        .arg("exec")
        .arg(fleet.dir.path())
        .args([
            "xen1",
            "sh",
            "-c",
            "cat > /tmp/kernel.rpm && rpm -i --nodeps --force-debian /tmp/kernel.rpm && rm /tmp/kernel.rpm",
        ])
        .stdin(Stdio::from(file))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "installing the kernel on xen1: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn runbook(fleet: &Fleet, name: &str, release: &str, drivers: &str) -> String {
    let text = format!(
        "[[step]]\nname = \"guest initrd\"\nhosts = \"xen1\"\n\
         initrd = {{ kernel = \"{release}\", path = \"/boot/initrd-{release}-xendrv.img\", drivers = [{drivers}], tool = \"dracut\" }}\n"
    );
    std::fs::write(fleet.path(name), text).unwrap();
    name.to_string()
}

fn vmup(fleet: &Fleet, cmd: &str, runbook: &str) -> (Run, f64) {
    let start = Instant::now();
    let run = fleet.vmup(&[
        cmd,
        "-i",
        "inventory.toml",
        runbook,
        "-F",
        "ssh_config",
        "--limit",
        "xen1",
        "--json",
    ]);
    (run, start.elapsed().as_secs_f64())
}

fn show(run: &Run) -> String {
    format!(
        "exit {}\nstdout:\n{}\nstderr:\n{}",
        run.code, run.stdout, run.stderr
    )
}

#[test]
fn initrd_built_by_dracut_over_ssh_holds_its_drivers_and_a_missing_one_fails_the_step() {
    let fleet = Fleet::up(1);
    let (rpm, release) = debian_kernel(&fleet);
    install_kernel(&fleet, &rpm);
    let image = format!("/boot/initrd-{release}-xendrv.img");
    let both = runbook(
        &fleet,
        "initrd.toml",
        &release,
        "\"virtio_blk\", \"virtio_net\"",
    );

    let (plan, _) = vmup(&fleet, "plan", &both);
    assert_eq!(plan.code, 3, "{}", show(&plan));
    let change = plan.hosts()["xen1"]["changes"][0]["summary"].to_string();
    assert!(
        change.contains(&format!(
            "build {image} with dracut (drivers: virtio_blk, virtio_net; reason: missing)"
        )),
        "{change}"
    );

    let (apply, secs) = vmup(&fleet, "apply", &both);
    assert_eq!(apply.code, 0, "{}", show(&apply));
    eprintln!("initrd: apply with one dracut build took {secs:.1} s");
    // Listed here without vmup's code: dracut's default gzip, one archive.
    let listing = fleet.exec(
        "xen1",
        &format!(
            "gzip -dc < '{image}' | cpio -t 2>/dev/null | grep -E '/(virtio_blk|virtio_net)\\.ko$'"
        ),
    );
    for ko in ["virtio_blk.ko", "virtio_net.ko"] {
        assert!(
            listing.contains(&format!("/lib/modules/{release}/kernel/drivers/"))
                && listing.contains(ko),
            "{ko} is not in the image: {listing}"
        );
    }
    let built = fleet.exec("xen1", &format!("sha256sum '{image}'"));

    let (again, secs) = vmup(&fleet, "plan", &both);
    assert_eq!(
        again.code,
        0,
        "a second run changes nothing: {}",
        show(&again)
    );
    eprintln!("initrd: a plan with nothing to do took {secs:.1} s");
    let notes = again.hosts()["xen1"]["notes"].to_string();
    assert!(
        notes.contains(&format!(
            "{image} holds virtio_blk, virtio_net and is not older than /boot/vmlinuz-{release}"
        )),
        "{notes}"
    );

    let typo = runbook(
        &fleet,
        "typo.toml",
        &release,
        "\"virtio_blk\", \"virtio_nett\"",
    );
    let (failed, secs) = vmup(&fleet, "apply", &typo);
    eprintln!("initrd: the failing apply took {secs:.1} s");
    assert_eq!(failed.code, 1, "{}", show(&failed));
    let error = failed.hosts()["xen1"]["error"].to_string();
    assert!(
        error.contains("initrd built without virtio_nett: dracut exited 0 but the image lacks it (dracut said: dracut-install: Failed to find module 'virtio_nett'"),
        "{error}"
    );
    assert_eq!(
        fleet.exec("xen1", &format!("sha256sum '{image}'")),
        built,
        "the old image is untouched"
    );
    assert_eq!(
        fleet
            .exec("xen1", "ls -a /boot | grep -c 'vmup-' || true")
            .trim(),
        "0",
        "no temporary file is left: {}",
        fleet.exec("xen1", "ls -la /boot")
    );
}
