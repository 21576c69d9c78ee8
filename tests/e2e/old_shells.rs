//! Every generated script under old and small shells with old and few tools (issue 11, "old
//! shells and old tools"): the seed's steps on a local fleet of one Xen host and a CentOS
//! guest with a real rpm database, run once as the reference (this machine's `/bin/sh` and
//! PATH) and then under `dash`, `busybox sh`, `bash --posix` and `mksh` with a PATH of only
//! what README.md's "remote requirements" table names. Facts (path and command facts, the
//! booted-kernel walk in `kernels` and `doctor`, `conflicts`, the plan with its package
//! preview and initrd listing, the preview on a yum host) must be byte-identical to the
//! reference's; the applies (the seed's steps, then an initrd rebuild by a stand-in dracut
//! and its proof) must leave the same tree and converge. A script that calls a tool missing from the table gets "not found"
//! there and its facts differ, so the test fails.

mod requirements;
mod shells;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::pkg_support::{PkgFleet, repos};
use crate::support::Run;
use shells::{SHELLS, Shell};

/// The booted release: xen1's stable link points at it, the guest has its modules.
const BOOTED: &str = "2.6.9-67.0.1.ELxenU";

/// Steps of every resource kind a local tree can take, as the seed writes them.
const SEED: &str = r#"
[[step]]
name = "keep guest kernels installed side by side"
hosts = "guests"
ini = { path = "/etc/dnf/dnf.conf", section = "main", key = "installonlypkgs", contains = ["kernel", "kernel-xenU", "kernel-xenU-devel"] }

[[step]]
name = "Monash base mirror"
hosts = "guests"
repo = { path = "/etc/yum.repos.d/Monash-base.repo", section = "monashbase", set = { name = "Updated distro at Monash - 4.6", baseurl = "http://ftp.monash.edu.au/pub/linux/CentOS/4.6/os/i386/", enabled = "0", gpgcheck = "1" } }

[[step]]
name = "a file"
hosts = "guests"
file = { path = "/etc/motd", mode = "0644", content = "it's a VM: don't run hal here\n" }

[[step]]
name = "getty on the serial console"
hosts = "guests"
line = { path = "/etc/inittab", line = "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav", match = "^S0:", insert_before = "^1:" }

[[step]]
name = "root login on the serial console"
hosts = "guests"
line = { path = "/etc/securetty", line = "ttyS0" }

[[step]]
name = "thread-local-storage libraries stay disabled"
hosts = "guests"
move_aside = { path = "/lib/tls", to = "/lib/tls.disabled", keep_previous = "/lib/tls.disabled.old" }

[[step]]
name = "prune old guest kernels"
hosts = "guests"
kernels = { packages = ["kernel-xenU", "kernel-xenU-devel"], keep = { newest = 1, booted = true, running = true } }

[[step]]
name = "replace Gpulse by APAC-gateway-gridpulse"
hosts = "guests"
packages = { swap = { remove = "Gpulse", install = "APAC-gateway-gridpulse" } }

[[step]]
name = "haldaemon off"
hosts = "guests"
service = { name = "haldaemon", enabled = false, running = false }

[[step]]
name = "dbus group"
hosts = "guests"
group = { name = "dbus", gid = 81, system = true }

[[step]]
name = "dbus user"
hosts = "guests"
user = { name = "dbus", uid = 81, group = "dbus", comment = "System message bus", shell = "/sbin/nologin", home = "/", system = true }

[[step]]
name = "stable initrd name"
hosts = "hosts"
symlink = { path = "/boot/initrd-2.6.9-ELxenU-xendrv.img", target = "initrd-2.6.9-67.0.1.ELxenU-xendrv.img" }

[[step]]
name = "domain config: the serial console"
hosts = "guests"
domain = { ramdisk = "/boot/initrd-2.6.9-ELxenU-xendrv.img", extra_contains = ["xencons=ttyS", "console=ttyS0"] }
"#;

/// The initrd step, planned only (building would run dracut): its facts list the image with
/// the table's cpio, gzip, tail, od and dd (no lsinitrd on PATH) and read the modules.
const INITRD: &str = r#"
[[step]]
name = "initrd with the Xen block and network drivers"
hosts = "hosts"
initrd = { kernel = "2.6.9-67.0.1.ELxenU", path = "/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img", drivers = ["xenblk", "xennet"], omit_scsi = true, tool = "dracut" }
"#;

/// dracut for the initrd step, without its 30 s: when every driver is under `--kmoddir`, the
/// image built once by [`template`] (the same bytes for every shell).
fn fake_dracut(image: &Path) -> String {
    format!(
        "for a; do out=$a; done\n\
         while [ $# -gt 0 ]; do case $1 in --kmoddir) m=$2; shift ;; --add-drivers) drivers=$2; shift ;; esac; shift; done\n\
         for d in $drivers; do [ -n \"$(find \"$m\" -name \"$d.ko*\")\" ] || {{ echo \"dracut-install: Failed to find module '$d'\" >&2; exit 0; }}; done\n\
         echo \"dracut: *** Creating initramfs image file '$out' done ***\"\n\
         cp {} \"$out\"\n",
        image.display()
    )
}

/// yum 2.4 is not on this machine: a yum that prints what it was given (a file's content
/// rather than its random temporary name) and declines, as `--assumeno` does.
const FAKE_YUM: &str = r#"echo yum
for a; do
  case $a in
    --setopt=reposdir=*vmup-stage.*) echo "--setopt=reposdir=STAGE:"; ls "${a#--setopt=reposdir=}" ;;
    *) if [ -f "$a" ]; then echo "file:"; cat "$a"; else echo "$a"; fi ;;
  esac
done
exit 1
"#;

/// The seed's machines before the runbook: built once, copied for each shell.
fn template() -> PkgFleet {
    let f = PkgFleet::new(&["ng2"], BOOTED);
    f.guest(
        "ng2",
        &[("centos-updates", "centos")],
        &[
            "kernel-xenU-2.6.9-55.EL.noarch.rpm",
            "kernel-xenU-devel-2.6.9-55.EL.noarch.rpm",
            "kernel-xenU-2.6.9-67.0.1.EL.noarch.rpm",
            "kernel-xenU-devel-2.6.9-67.0.1.EL.noarch.rpm",
            "Gpulse-1.0-1.noarch.rpm",
            "conftest-1.0-1.noarch.rpm",
        ],
    );
    let w = |host: &str, path: &str, content: &[u8]| f.fleet.write(host, path, content);
    let fixture = |name: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/centos4")
                .join(name),
        )
        .unwrap()
    };
    w("ng2", "/etc/inittab", &fixture("inittab"));
    w("ng2", "/etc/securetty", &fixture("securetty"));
    w("ng2", "/lib/tls/libc.so.6", b"tls libc\n");
    w("ng2", "/etc/conftest.conf.rpmnew", b"a=1\nb=2\n");
    w(
        "ng2",
        "/etc/sysconfig/network",
        b"NETWORKING=yes\nHOSTNAME=ng2.grid.monash.edu.au\n",
    );
    w("ng2", "/etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n");
    w("ng2", "/etc/group", b"root:x:0:\n");
    w("ng2", "/etc/shadow", b"root:*:13000:0:99999:7:::\n");
    w("ng2", "/etc/gshadow", b"root:::\n");
    w(
        "ng2",
        "/etc/rc.d/init.d/haldaemon",
        b"#!/bin/sh\n# chkconfig: 345 98 02\n# description: HAL\n",
    );
    for lv in 0..=6 {
        let link = if (3..=5).contains(&lv) {
            "S98haldaemon"
        } else {
            "K02haldaemon"
        };
        let dir = f.fleet.file("ng2", &format!("/etc/rc.d/rc{lv}.d"));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink("../init.d/haldaemon", dir.join(link)).unwrap();
    }
    w("ng2", &format!("/lib/modules/{BOOTED}/modules.dep"), b"");
    w(
        "xen1",
        "/etc/xen/NG2",
        b"name = \"NG2\"\nkernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\nramdisk = \"/boot/initrd-2.6.9-55.ELxenU-xendrv.img\"\nmemory = 512\nextra = \"3\"\n",
    );
    let modules = format!("/lib/modules/{BOOTED}");
    w(
        "xen1",
        &format!("{modules}/modules.dep"),
        b"kernel/drivers/xen/blkfront/xenblk.ko:\nkernel/drivers/xen/netfront/xennet.ko:\n",
    );
    w(
        "xen1",
        &format!("{modules}/kernel/drivers/xen/blkfront/xenblk.ko"),
        b"blk",
    );
    w(
        "xen1",
        &format!("{modules}/kernel/drivers/xen/netfront/xennet.ko"),
        b"net",
    );
    // The image xen1 has lacks xennet (the initrd step rebuilds it), after an early archive.
    let tree = initrd_tree(f.fleet.path());
    let pack = |files: &str, early: bool| {
        let early = if early {
            "(cd early && find kernel | cpio -o -H newc --quiet) && "
        } else {
            ""
        };
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cd \"$1\" && {early}find {files} | sort | cpio -o -H newc --quiet | gzip -n -c"
            ))
            .arg("sh")
            .arg(&tree)
            .output()
            .unwrap();
        assert!(out.status.success());
        out.stdout
    };
    let image = f
        .fleet
        .file("xen1", &format!("/boot/initrd-{BOOTED}-xendrv.img"));
    std::fs::write(
        image,
        pack("init lib/modules/*/kernel/drivers/xen/blkfront", true),
    )
    .unwrap();
    std::fs::write(rebuilt_image(&f), pack("init lib", false)).unwrap();
    f
}

/// The image the fake dracut writes (outside the hosts' trees).
fn rebuilt_image(f: &PkgFleet) -> PathBuf {
    f.fleet.path().join("initrd-tree/rebuilt.img")
}

/// The tree an old mkinitrd image holds: init and the two Xen drivers; and an early
/// microcode archive to put before it, as newer builders do.
fn initrd_tree(scratch: &Path) -> PathBuf {
    let t = scratch.join("initrd-tree");
    std::fs::create_dir_all(t.join("early/kernel/x86/microcode")).unwrap();
    std::fs::write(
        t.join("early/kernel/x86/microcode/GenuineIntel.bin"),
        b"ucode",
    )
    .unwrap();
    let m = t.join(format!("lib/modules/{BOOTED}/kernel/drivers/xen"));
    std::fs::create_dir_all(m.join("blkfront")).unwrap();
    std::fs::create_dir_all(m.join("netfront")).unwrap();
    std::fs::write(t.join("init"), b"#!/bin/nash\n").unwrap();
    std::fs::write(m.join("blkfront/xenblk.ko"), b"blk").unwrap();
    std::fs::write(m.join("netfront/xennet.ko"), b"net").unwrap();
    t
}

/// The JSON lines of a run with what differs by run only taken out: timings, and the order
/// of hosts (they run in parallel and report as they finish).
fn normalised(run: &Run, what: &str) -> String {
    let mut lines: Vec<String> = run
        .stdout
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{what}: bad JSON line {line:?}: {e}\n{}", run.stderr));
            strip(&mut v);
            v.to_string()
        })
        .collect();
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn strip(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("elapsed");
            m.remove("elapsed_ms");
            m.values_mut().for_each(strip);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
        serde_json::Value::String(s) if s.contains("/s |") || s.contains("expiration check") => {
            // dnf's download rates and its note of when it last read the repositories.
            *s = s
                .lines()
                .filter(|l| !l.contains("/s |") && !l.contains("expiration check"))
                .collect::<Vec<_>>()
                .join("\n");
        }
        _ => {}
    }
}

/// Everything one shell produced, to compare with the reference.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    facts: Vec<(String, String)>,
    plan: String,
    kernels: String,
    conflicts: String,
    initrd_plan: String,
    doctor: String,
    tree_after_apply: Vec<(PathBuf, String)>,
    plan_after_apply: i32,
}

/// Copies the template fleet and runs the seed under `shell` (None: the reference).
/// Facts only (`facts_only`) stops after the facts, which then say how a command failed
/// rather than failing the test.
fn outcome(
    template: &PkgFleet,
    scratch: &Path,
    shell: Option<&Shell>,
    table: &[requirements::Requirement],
    facts_only: bool,
) -> Outcome {
    let name = shell.map_or("reference", |s| s.name).replace(' ', "-");
    let dir = scratch.join(&name);
    std::fs::create_dir_all(&dir).unwrap();
    // The same place for every run: tool messages name it.
    let fleet = scratch.join("fleet");
    let _ = std::fs::remove_dir_all(&fleet);
    let cp = Command::new("cp")
        .arg("-a")
        .arg(template.fleet.path())
        .arg(&fleet)
        .status()
        .unwrap();
    assert!(cp.success());
    // The reference: this machine's /bin/sh (dash) and everything on its PATH.
    let absent = ["lsinitrd", "lsinitramfs"];
    let bin = match shell {
        Some(s) => shells::bin_dir(&dir, s, table, &absent),
        None => shells::full_bin_dir(&dir, &absent),
    };
    shells::stub(&bin, "dracut", &fake_dracut(&rebuilt_image(template)));
    // A yum host: no dnf, and a yum that shows what it was asked.
    let yum_bin = {
        let d = dir.join("yum");
        let mut absent = absent.to_vec();
        absent.push("dnf");
        let bin = match shell {
            Some(s) => shells::bin_dir(&d, s, table, &absent),
            None => shells::full_bin_dir(&d, &absent),
        };
        shells::stub(&bin, "yum", FAKE_YUM);
        bin
    };
    let home = &repos().home;
    let run = |args: &[&str]| shells::vmup(shell, &bin, &fleet, home, args);
    std::fs::write(fleet.join("seed.toml"), SEED).unwrap();
    std::fs::write(fleet.join("initrd.toml"), INITRD).unwrap();
    let checked = |r: Run, what: &str, codes: &[i32]| -> String {
        assert!(
            codes.contains(&r.code),
            "{name}: {what} exited {}\n{}\n{}",
            r.code,
            r.stdout,
            r.stderr
        );
        normalised(&r, &format!("{name}: {what}"))
    };
    let mut facts = Vec::new();
    for host in ["ng2", "xen1"] {
        for rb in ["seed.toml", "initrd.toml"] {
            let r = run(&[
                "facts",
                "-i",
                "inventory.toml",
                host,
                "--runbook",
                rb,
                "--json",
            ]);
            let got = if facts_only && r.code != 0 {
                format!("exit {}: {}", r.code, r.stderr)
            } else {
                checked(r, "facts", &[0])
            };
            facts.push((format!("{host} {rb}"), got));
        }
    }
    let r = shells::vmup(
        shell,
        &yum_bin,
        &fleet,
        home,
        &[
            "facts",
            "-i",
            "inventory.toml",
            "ng2",
            "--runbook",
            "seed.toml",
            "--json",
        ],
    );
    let got = if facts_only && r.code != 0 {
        format!("exit {}: {}", r.code, r.stderr)
    } else {
        checked(r, "facts on a yum host", &[0])
    };
    facts.push(("ng2 seed.toml, yum".to_string(), got));
    if facts_only {
        return Outcome {
            facts,
            plan: String::new(),
            kernels: String::new(),
            conflicts: String::new(),
            initrd_plan: String::new(),
            doctor: String::new(),
            tree_after_apply: Vec::new(),
            plan_after_apply: -1,
        };
    }
    let plan = checked(
        run(&["plan", "-i", "inventory.toml", "seed.toml", "--json"]),
        "plan",
        &[3],
    );
    let kernels = checked(
        run(&["kernels", "-i", "inventory.toml", "--json"]),
        "kernels",
        &[0, 1],
    );
    let conflicts = checked(
        run(&["conflicts", "-i", "inventory.toml", "--json"]),
        "conflicts",
        &[0, 1, 3],
    );
    let initrd_plan = checked(
        run(&["plan", "-i", "inventory.toml", "initrd.toml", "--json"]),
        "initrd plan",
        &[0, 3],
    );
    let doctor = checked(
        run(&["doctor", "-i", "inventory.toml", "--json"]),
        "doctor",
        &[0, 1, 4],
    );
    checked(
        run(&["apply", "-i", "inventory.toml", "seed.toml", "--json"]),
        "apply",
        &[0],
    );
    checked(
        run(&["apply", "-i", "inventory.toml", "initrd.toml", "--json"]),
        "initrd apply",
        &[0],
    );
    let again = run(&["plan", "-i", "inventory.toml", "seed.toml", "--json"]);
    let again_initrd = run(&["plan", "-i", "inventory.toml", "initrd.toml", "--json"]);
    let rebuilt =
        std::fs::read(fleet.join(format!("xen1/boot/initrd-{BOOTED}-xendrv.img"))).unwrap();
    assert_eq!(
        rebuilt,
        std::fs::read(rebuilt_image(template)).unwrap(),
        "{name}: the initrd was rebuilt"
    );
    let tree = snapshot(&fleet);
    Outcome {
        facts,
        plan,
        kernels,
        conflicts,
        initrd_plan,
        doctor,
        tree_after_apply: tree,
        plan_after_apply: again.code.max(again_initrd.code),
    }
}

/// Every path of the fleet outside /var (dnf's caches and logs) and the scratch files.
fn snapshot(fleet: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    walk(fleet, fleet, &mut out);
    out.retain(|(p, _)| {
        let mut c = p
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let first = c.next().unwrap_or_default();
        let second = c.next().unwrap_or_default();
        second != "var" && !matches!(first.as_str(), "vmup.retry" | "initrd-tree")
    });
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    use std::os::unix::fs::MetadataExt;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let what = if meta.file_type().is_symlink() {
            format!("link {:?}", std::fs::read_link(&path).unwrap())
        } else if meta.is_dir() {
            format!("dir {:o}", meta.mode())
        } else {
            format!(
                "file {:o} {:?}",
                meta.mode(),
                String::from_utf8_lossy(&std::fs::read(&path).unwrap())
            )
        };
        out.push((rel, what));
        if meta.is_dir() && !meta.file_type().is_symlink() {
            walk(root, &path, out);
        }
    }
}

/// Fails showing where `got` first differs from `want`, with some context.
fn same(want: &str, got: &str, what: &str) {
    if want == got {
        return;
    }
    let at = want
        .bytes()
        .zip(got.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let around = |s: &str| {
        let bytes = &s.as_bytes()[at.saturating_sub(300)..(at + 300).min(s.len())];
        String::from_utf8_lossy(bytes).into_owned()
    };
    panic!(
        "{what} differ from the reference at byte {at}:\nreference: ...{}...\nthis shell: ...{}...",
        around(want),
        around(got)
    );
}

#[test]
fn each_shell_under_test_is_the_one_scripts_get() {
    if let Some(why) = shells::unusable() {
        eprintln!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let table = requirements::table();
    let want = ["dash", "busybox", "bash posix", "mksh"];
    for (shell, want) in SHELLS.iter().zip(want) {
        let d = dir.path().join(shell.name.replace(' ', "-"));
        let bin = shells::bin_dir(&d, shell, &table, &[]);
        assert_eq!(shells::probe(shell, &bin), want, "{}", shell.name);
    }
}

#[test]
fn the_seed_gives_the_same_facts_and_converges_under_every_shell() {
    if let Some(why) = shells::unusable() {
        eprintln!("skipped: {why}");
        return;
    }
    let template = template();
    let scratch = tempfile::tempdir().unwrap();
    let table = requirements::table();
    let reference = outcome(&template, scratch.path(), None, &table, false);
    assert_eq!(reference.plan_after_apply, 0, "the reference run converges");
    assert!(
        reference.plan.contains("APAC-gateway-gridpulse"),
        "{}",
        reference.plan
    );
    assert!(
        reference.conflicts.contains("conftest.conf.rpmnew"),
        "{}",
        reference.conflicts
    );
    assert!(reference.kernels.contains(BOOTED), "{}", reference.kernels);
    assert!(
        reference.initrd_plan.contains("dracut"),
        "the initrd is rebuilt: {}",
        reference.initrd_plan
    );
    let yum = &reference
        .facts
        .iter()
        .find(|(w, _)| w.ends_with("yum"))
        .unwrap()
        .1;
    assert!(
        yum.contains("shell")
            && yum.contains(r"file:\nremove Gpulse\ninstall APAC-gateway-gridpulse"),
        "the yum preview: {yum}"
    );
    assert!(
        reference.doctor.contains("xendrv.img"),
        "{}",
        reference.doctor
    );
    for shell in &SHELLS {
        let got = outcome(&template, scratch.path(), Some(shell), &table, false);
        for ((what, a), (_, b)) in reference.facts.iter().zip(&got.facts) {
            same(a, b, &format!("{}: facts of {what}", shell.name));
        }
        same(&reference.plan, &got.plan, &format!("{}: plan", shell.name));
        same(
            &reference.kernels,
            &got.kernels,
            &format!("{}: kernels", shell.name),
        );
        same(
            &reference.conflicts,
            &got.conflicts,
            &format!("{}: conflicts", shell.name),
        );
        same(
            &reference.initrd_plan,
            &got.initrd_plan,
            &format!("{}: initrd plan", shell.name),
        );
        same(
            &reference.doctor,
            &got.doctor,
            &format!("{}: doctor", shell.name),
        );
        assert_eq!(
            reference.tree_after_apply, got.tree_after_apply,
            "{}: the tree after the apply",
            shell.name
        );
        assert_eq!(
            got.plan_after_apply, 0,
            "{}: converged after the apply",
            shell.name
        );
    }
}

/// The harness catches a script that needs a program the table does not name: without
/// `stat` (or `cmp`, or `od`) in the table, the facts are no longer the reference's.
#[test]
fn a_tool_missing_from_the_table_fails_the_comparison() {
    if let Some(why) = shells::unusable() {
        eprintln!("skipped: {why}");
        return;
    }
    let template = template();
    let scratch = tempfile::tempdir().unwrap();
    let table = requirements::table();
    let reference = outcome(&template, scratch.path(), None, &table, true);
    let same_table = outcome(&template, scratch.path(), Some(&SHELLS[1]), &table, true);
    assert_eq!(
        reference.facts, same_table.facts,
        "busybox sh with the whole table"
    );
    for missing in ["stat", "od"] {
        let fewer: Vec<_> = table
            .iter()
            .filter(|r| r.command != missing)
            .cloned()
            .collect();
        let got = outcome(&template, scratch.path(), Some(&SHELLS[1]), &fewer, true);
        assert_ne!(
            reference.facts, got.facts,
            "without {missing} the facts must differ"
        );
    }
}
