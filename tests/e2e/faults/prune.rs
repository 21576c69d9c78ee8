//! Faults during the seed's kernel prune (`rpm -e` of the versions neither newest nor
//! booted): rpm killed before or in the middle of its transaction, rpm's transaction lock
//! held by another process, on guests with a real rpm database whose host boots 67.0.1.
//! After each: the kernel the host boots (and the newest) are still installed with their
//! modules, the reports are true, and a rerun converges.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;

use super::INJECTED;
use super::local::{install_wrappers, json, vmup};
use super::rng::Rng;
use crate::pkg_support::repos;

const GUESTS: usize = 8;
const BOOTED: &str = "kernel-xenU-2.6.9-67.0.1.EL";
const NEWEST: &str = "kernel-xenU-2.6.9-78.EL";
const PRUNED: &str = "kernel-xenU-2.6.9-55.EL";

const RUNBOOK: &str = "[[step]]\nhosts = \"guests\"\nkernels = { packages = [\"kernel-xenU\", \"kernel-xenU-devel\"], keep = { newest = 1 } }\n";

fn sh(cmd: &str) {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn installed(root: &Path) -> Vec<String> {
    let out = Command::new("rpm")
        .args([
            "--root",
            root.to_str().unwrap(),
            "--dbpath",
            "/var/lib/rpm",
            "-qa",
            "--qf",
            "%{NAME}-%{VERSION}-%{RELEASE}\\n",
        ])
        .output()
        .unwrap();
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

/// A guest with kernel-xenU 55, 67.0.1 and 78 (and -devel) in a real rpm database.
fn template(dir: &Path) {
    let r = repos();
    let mut cmd = Command::new("rpm");
    cmd.args([
        "--root",
        dir.to_str().unwrap(),
        "--dbpath",
        "/var/lib/rpm",
        "-i",
        "--nodeps",
    ]);
    for rel in ["55.EL", "67.0.1.EL", "78.EL"] {
        cmd.arg(r.seed(&format!("kernel-xenU-2.6.9-{rel}.noarch.rpm")));
        cmd.arg(r.seed(&format!("kernel-xenU-devel-2.6.9-{rel}.noarch.rpm")));
    }
    std::fs::create_dir_all(dir).unwrap();
    assert!(cmd.status().unwrap().success());
}

/// xen1 boots every guest with 67.0.1 through its stable link.
fn fleet(base: &Path) {
    let xen1 = base.join("hosts/xen1");
    std::fs::create_dir_all(xen1.join("etc/xen")).unwrap();
    std::fs::create_dir_all(xen1.join("boot")).unwrap();
    std::fs::write(xen1.join("boot/vmlinuz-2.6.9-67.0.1.ELxenU"), "kernel\n").unwrap();
    std::os::unix::fs::symlink(
        "vmlinuz-2.6.9-67.0.1.ELxenU",
        xen1.join("boot/vmlinuz-2.6.9-ELxenU"),
    )
    .unwrap();
    let mut inv = String::from(
        "[defaults]\ntransport = \"local\"\n\n[hosts.xen1]\nroot = \"hosts/xen1\"\nrole = \"host\"\n",
    );
    for i in 0..GUESTS {
        let g = format!("g{i}");
        inv.push_str(&format!(
            "\n[hosts.{g}]\nroot = \"hosts/{g}\"\nhost = \"xen1\"\ndomain_config = \"/etc/xen/{g}\"\n"
        ));
        std::fs::write(
            xen1.join(format!("etc/xen/{g}")),
            "kernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\n",
        )
        .unwrap();
    }
    std::fs::write(base.join("inventory.toml"), inv).unwrap();
    std::fs::write(base.join("runbook.toml"), RUNBOOK).unwrap();
}

/// Holds rpm's transaction lock of `root` until the returned child is killed.
fn hold_lock(root: &Path) -> std::process::Child {
    let lock = root.join("var/lib/rpm/.rpm.lock");
    Command::new("python3")
        .arg("-c")
        .arg(format!(
            "import fcntl,time\nf=open({:?},'a')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(60)",
            lock.display().to_string()
        ))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn run(seed: u64, rounds: usize) -> usize {
    let mut rng = Rng::new(seed);
    let dir = tempfile::Builder::new()
        .prefix("vmup-faults-rpm-")
        .tempdir()
        .unwrap();
    let base = dir.path();
    let tpl = base.join("template");
    template(&tpl);
    let bin = install_wrappers(base, &["rpm"]);
    fleet(base);
    let home = repos().home.display().to_string();
    let path_env = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut injected = 0;
    for round in 1..=rounds {
        let hosts = base.join("hosts");
        let mut locks = Vec::new();
        let mut kinds = BTreeMap::new();
        for f in std::fs::read_dir(base).unwrap().filter_map(Result::ok) {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.starts_with("count.")
                || name.starts_with("injected.")
                || name.starts_with("plan.")
            {
                std::fs::remove_file(f.path()).unwrap();
            }
        }
        for i in 0..GUESTS {
            let g = format!("g{i}");
            let root = hosts.join(&g);
            let _ = std::fs::remove_dir_all(&root);
            sh(&format!(
                "mkdir -p {0} && cp -a {1}/. {0}/",
                root.display(),
                tpl.display()
            ));
            // rpm's calls on a guest: 1 the inventory query (facts), 2 `rpm -q` of the
            // apply's check, 3 `rpm -e --test`, 4 `rpm -e`.
            let kind = match rng.below(4) {
                0 => {
                    let k = 2 + rng.below(3);
                    std::fs::write(base.join(format!("plan.{g}")), format!("crash {k}\n")).unwrap();
                    "crash"
                }
                1 => {
                    let ms = rng.below(80);
                    std::fs::write(
                        base.join(format!("plan.{g}")),
                        format!("crashlate 4 0.{ms:03}\n"),
                    )
                    .unwrap();
                    "crashlate"
                }
                2 => {
                    let mut child = hold_lock(&root);
                    let mut line = String::new();
                    use std::io::BufRead;
                    std::io::BufReader::new(child.stdout.take().unwrap())
                        .read_line(&mut line)
                        .unwrap();
                    locks.push(child);
                    "lock"
                }
                _ => "none",
            };
            kinds.insert(g, kind);
        }
        let env = [
            ("PATH", path_env.clone()),
            ("VMUP_FAULT_DIR", base.display().to_string()),
            ("HOME", home.clone()),
        ];
        let out = vmup(
            base,
            &[
                "apply",
                "-i",
                "inventory.toml",
                "runbook.toml",
                "--json",
                "--command-timeout",
                "3",
            ],
            &env,
        )
        .wait_with_output()
        .unwrap();
        for mut l in locks {
            let _ = l.kill();
            let _ = l.wait();
        }
        let (lines, _) = json(&out);
        let mut bad = Vec::new();
        for i in 0..GUESTS {
            let g = format!("g{i}");
            let root = hosts.join(&g);
            let line = &lines[&g];
            let kind = kinds[&g];
            let fired = kind == "lock"
                || std::fs::read_to_string(base.join(format!("injected.{g}"))).is_ok();
            if kind != "none" && fired {
                injected += 1;
            }
            let have = installed(&root);
            for keep in [BOOTED, NEWEST] {
                if !have.iter().any(|p| p == keep) {
                    bad.push(format!("{g} ({kind}): {keep} was removed: {have:?}"));
                }
            }
            if !root.join("lib/modules/2.6.9-67.0.1.ELxenU").is_dir() {
                bad.push(format!(
                    "{g} ({kind}): the booted kernel's modules are gone"
                ));
            }
            let pruned = !have.iter().any(|p| p == PRUNED);
            match line["status"].as_str() {
                Some("changed") if !pruned => {
                    bad.push(format!("{g}: reported changed, {PRUNED} still installed"))
                }
                Some("skipped" | "unreachable") if pruned => {
                    bad.push(format!("{g}: reported not run, but pruned"))
                }
                _ => {}
            }
        }
        let rerun = vmup(
            base,
            &["apply", "-i", "inventory.toml", "runbook.toml", "--json"],
            &[("HOME", home.clone())],
        )
        .wait_with_output()
        .unwrap();
        let (after, _) = json(&rerun);
        for i in 0..GUESTS {
            let g = format!("g{i}");
            let have = installed(&hosts.join(&g));
            let want = [
                BOOTED.to_string(),
                NEWEST.to_string(),
                "kernel-xenU-devel-2.6.9-67.0.1.EL".to_string(),
                "kernel-xenU-devel-2.6.9-78.EL".to_string(),
            ];
            let mut want = want.to_vec();
            want.sort();
            if after[&g]["status"] != "changed" && after[&g]["status"] != "ok" || have != want {
                bad.push(format!(
                    "{g}: the rerun did not converge: {} {have:?}",
                    after[&g]
                ));
            }
        }
        assert!(
            bad.is_empty(),
            "prune round {round} (seed {seed}): {}\nkinds {kinds:?}\n{}",
            bad.join("\n"),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    INJECTED.fetch_add(injected, Ordering::SeqCst);
    eprintln!(
        "fault injection: kernel prunes: {injected} faults in {rounds} rounds of {GUESTS} guests"
    );
    injected
}
