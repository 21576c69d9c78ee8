//! `vmup doctor` over real ssh on the test fleet: six guests on xen1, each with one link of
//! its boot chain broken on purpose (or none), judged from xen1's configs, kernels and
//! ramdisks (real gzip'd newc cpio images, listed on xen1) and the guests' own files.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::fleet::Fleet;

const RELEASE: &str = "2.6.9-55.ELxenU";

/// A newc cpio archive holding `files` (path, bytes), gzip'd as initrds are.
pub fn initrd(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut cpio = Vec::new();
    let mut entry = |name: &str, mode: u32, data: &[u8], ino: usize| {
        let header = format!(
            "070701{ino:08x}{mode:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            0,
            0,
            1,
            0,
            data.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        cpio.extend_from_slice(header.as_bytes());
        cpio.extend_from_slice(name.as_bytes());
        cpio.push(0);
        while cpio.len() % 4 != 0 {
            cpio.push(0);
        }
        cpio.extend_from_slice(data);
        while cpio.len() % 4 != 0 {
            cpio.push(0);
        }
    };
    for (i, (name, data)) in files.iter().enumerate() {
        entry(name, 0o100644, data, i + 1);
    }
    entry("TRAILER!!!", 0, b"", 0);
    let mut gzip = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    gzip.stdin.take().unwrap().write_all(&cpio).unwrap();
    let out = gzip.wait_with_output().unwrap();
    assert!(out.status.success());
    out.stdout
}

pub fn module(name: &str) -> String {
    format!("lib/modules/{RELEASE}/kernel/drivers/xen/{name}.ko")
}

/// Writes `bytes` to `path` on `host` through plain OpenSSH.
pub fn put(fleet: &Fleet, host: &str, path: &str, bytes: &[u8]) {
    let mut child = Command::new("ip")
        .args(["netns", "exec", &fleet.env["FLEET_CTL_NETNS"], "ssh", "-F"])
        .arg(&fleet.env["FLEET_SSH_CONFIG"])
        .args([host, &format!("cat > '{path}'")])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    assert!(child.wait().unwrap().success(), "writing {path} on {host}");
}

/// Gives every guest of `fleet` a boot chain the doctor calls ok: the seed's console set-up
/// in the guests (an S0 getty, CentOS 4's PAM login and securetty with ttyS0), a real
/// initrd with xenblk and xennet for the booted release on xen1, and `xencons=ttyS
/// console=ttyS0` in each domain's `extra`.
pub fn good_chains(fleet: &Fleet) {
    let guests = fleet.guests();
    let centos = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/centos4");
    let pam = std::fs::read(centos.join("pam-login")).unwrap();
    let securetty = std::fs::read(centos.join("securetty")).unwrap();
    for g in &guests {
        // The seed's console set-up, done: an S0 getty and ttyS0 for root's login.
        fleet.exec(
            g,
            "echo 'S0:2345:respawn:/sbin/agetty -L 9600 ttyS0 vt102' >> /etc/inittab",
        );
        put(fleet, g, "/etc/pam.d/login", &pam);
        let mut tty = securetty.clone();
        tty.extend_from_slice(b"ttyS0\n");
        put(fleet, g, "/etc/securetty", &tty);
    }
    put(
        fleet,
        "xen1",
        &format!("/boot/initrd-{RELEASE}-xendrv.img"),
        &initrd(&[(&module("xenblk"), b"blk"), (&module("xennet"), b"net")]),
    );
    for g in &guests {
        let config = format!("/etc/xen/{}", g.to_uppercase());
        fleet.exec(
            "xen1",
            &format!("sed -i 's|^extra = .*|extra = \"3 xencons=ttyS console=ttyS0\"|' {config}"),
        );
    }
}

fn doctor(fleet: &Fleet) -> (i32, BTreeMap<String, serde_json::Value>) {
    let run = fleet.vmup(&[
        "doctor",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--json",
    ]);
    (run.code, run.hosts())
}

#[test]
fn doctor_judges_each_link_of_the_boot_chain() {
    let fleet = Fleet::up(6);
    let guests = fleet.guests();
    assert_eq!(guests.len(), 6);
    good_chains(&fleet);
    put(
        &fleet,
        "xen1",
        "/boot/initrd-noblk.img",
        &initrd(&[(&module("xennet"), b"net")]),
    );
    let console = "3 xencons=ttyS console=ttyS0";
    for (i, g) in guests.iter().enumerate() {
        let config = format!("/etc/xen/{}", g.to_uppercase());
        let (kernel, ramdisk, extra) = match i {
            1 => (
                "/boot/vmlinuz-2.6.9-99.ELxenU",
                "/boot/initrd-2.6.9-ELxenU-xendrv.img",
                console,
            ),
            3 => (
                "/boot/vmlinuz-2.6.9-ELxenU",
                "/boot/initrd-gone.img",
                console,
            ),
            4 => (
                "/boot/vmlinuz-2.6.9-ELxenU",
                "/boot/initrd-noblk.img",
                console,
            ),
            5 => (
                "/boot/vmlinuz-2.6.9-ELxenU",
                "/boot/initrd-2.6.9-ELxenU-xendrv.img",
                "3",
            ),
            _ => (
                "/boot/vmlinuz-2.6.9-ELxenU",
                "/boot/initrd-2.6.9-ELxenU-xendrv.img",
                console,
            ),
        };
        fleet.exec(
            "xen1",
            &format!(
                "sed -i -e 's|^kernel = .*|kernel = \"{kernel}\"|' -e 's|^ramdisk = .*|ramdisk = \"{ramdisk}\"|' -e 's|^extra = .*|extra = \"{extra}\"|' {config}"
            ),
        );
    }
    fleet.exec(&guests[2], &format!("rm -rf /lib/modules/{RELEASE}"));

    let (code, report) = doctor(&fleet);
    assert_eq!(
        code, 1,
        "a guest that would not boot makes doctor exit 1: {report:?}"
    );
    let verdict = |g: &str| -> (String, String) {
        let d = report
            .get(g)
            .unwrap_or_else(|| panic!("{g} missing: {report:?}"));
        (
            d["verdict"].as_str().unwrap_or_default().to_string(),
            d["reason"].as_str().unwrap_or_default().to_string(),
        )
    };
    let expect = [
        ("ok", ""),
        (
            "would_not_boot",
            "kernel /boot/vmlinuz-2.6.9-99.ELxenU does not exist on xen1",
        ),
        (
            "would_not_boot",
            "the guest has no /lib/modules/2.6.9-55.ELxenU",
        ),
        (
            "would_not_boot",
            "ramdisk /boot/initrd-gone.img does not exist on xen1",
        ),
        (
            "would_not_boot",
            "the ramdisk holds no block driver (xenblk or xen_blkfront)",
        ),
        ("no_console", "names no console="),
    ];
    for (g, (want, why)) in guests.iter().zip(expect) {
        let (got, reason) = verdict(g);
        assert_eq!(got, want, "{g}: {reason}");
        assert!(reason.contains(why), "{g}: {reason:?} should say {why:?}");
    }

    // The human table: one line per guest, then the chain of each broken one.
    let run = fleet.vmup(&["doctor", "-i", "inventory.toml", "-F", "ssh_config"]);
    assert_eq!(run.code, 1);
    let first = run
        .stdout
        .lines()
        .find(|l| l.starts_with(&guests[0]))
        .unwrap();
    assert!(
        first.contains("xen1") && first.contains(RELEASE) && first.ends_with("ok"),
        "{first}"
    );
    assert!(
        run.stdout
            .contains(&format!("== {}: would not boot", guests[4])),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("FAIL drivers"), "{}", run.stdout);

    // Doctor reads, never writes: the good guest's chain, alone, exits 0.
    let run = fleet.vmup(&[
        "doctor",
        "-i",
        "inventory.toml",
        "-F",
        "ssh_config",
        "--limit",
        &guests[0],
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
