//! Faults on local trees: eighty guests per round, each with its own fault (another writer
//! in place or by replacement, a crash, a host too slow for the timeout, a full disk, or
//! none), and sometimes a signal to vmup or its whole process group; then the invariants,
//! a rerun without faults, and a plan that must be empty.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::INJECTED;
use super::model::{self, Injected, State};
use super::rng::Rng;

const HOSTS: usize = 80;

/// The guest paths the runbook touches.
pub const TRACKED: &[&str] = &[
    "/etc/yum.conf",
    "/etc/yum.repos.d/Monash-base.repo",
    "/etc/securetty",
    "/etc/inittab",
    "/lib/tls",
    "/lib/tls.disabled",
];

/// The seed's file steps on every guest.
pub const RUNBOOK: &str = r#"[[step]]
ini = { path = "/etc/yum.conf", section = "main", key = "installonlypkgs", contains = ["kernel", "kernel-smp", "kernel-xenU", "kernel-xenU-devel"] }
[[step]]
file = { path = "/etc/yum.repos.d/Monash-base.repo", mode = "0644", content = "[monashbase]\nenabled=0\n" }
[[step]]
line = { path = "/etc/securetty", line = "ttyS0" }
[[step]]
line = { path = "/etc/inittab", line = "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav", match = "^S0:", insert_before = "^1:" }
[[step]]
move_aside = { path = "/lib/tls", to = "/lib/tls.disabled", keep_previous = "/lib/tls.disabled.old" }
"#;

/// The faults a host can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    None,
    InPlace,
    Replace,
    Crash,
    Slow,
    DiskFull,
}

fn pick(rng: &mut Rng) -> Kind {
    match rng.below(100) {
        0..10 => Kind::None,
        10..40 => Kind::InPlace,
        40..50 => Kind::Replace,
        50..75 => Kind::Crash,
        75..78 => Kind::Slow,
        _ => Kind::DiskFull,
    }
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The CentOS 4 guest before the runbook.
fn template(dir: &Path) {
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/centos4");
    std::fs::create_dir_all(dir.join("etc/yum.repos.d")).unwrap();
    std::fs::create_dir_all(dir.join("lib/tls")).unwrap();
    for f in ["yum.conf", "inittab", "securetty"] {
        std::fs::copy(fx.join(f), dir.join("etc").join(f)).unwrap();
    }
    for lib in ["libc-2.3.4.so", "libpthread-0.10.so"] {
        std::fs::write(dir.join("lib/tls").join(lib), format!("{lib}\n")).unwrap();
    }
}

/// The wrappers' PATH directory and the real tools they call.
pub fn install_wrappers(dir: &Path, tools: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    let real = dir.join("real");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&real).unwrap();
    let wrapper = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/faults/wrap.sh");
    for tool in tools {
        let found = sh(&format!("command -v {tool}"));
        std::os::unix::fs::symlink(found.trim(), real.join(tool)).unwrap();
        std::os::unix::fs::symlink(&wrapper, bin.join(tool)).unwrap();
    }
    bin
}

pub fn vmup(dir: &Path, args: &[&str], env: &[(&str, String)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmup"));
    cmd.args(args)
        .env("VMUP_HISTORY", crate::support::test_history())
        .current_dir(dir)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Host lines and the summary of a `--json` run.
pub fn json(
    out: &std::process::Output,
) -> (BTreeMap<String, serde_json::Value>, serde_json::Value) {
    let mut hosts = BTreeMap::new();
    let mut summary = serde_json::Value::Null;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{line}: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
        if let Some(h) = v.get("host").and_then(|h| h.as_str()) {
            hosts.insert(h.to_string(), v.clone());
        } else {
            summary = v["summary"].clone();
        }
    }
    (hosts, summary)
}

/// Sends `signal` to vmup (or its group) after `delay`, while the run goes on.
pub fn signal_later(
    pid: u32,
    group: bool,
    signal: &'static str,
    delay: Duration,
) -> std::thread::JoinHandle<bool> {
    std::thread::spawn(move || {
        std::thread::sleep(delay);
        let target = if group {
            format!("-{pid}")
        } else {
            pid.to_string()
        };
        Command::new("kill")
            .args([signal, "--", &target])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn read_injected(dir: &Path, host: &str, root: &Path) -> Injected {
    let mut inj = Injected::default();
    let text = std::fs::read_to_string(dir.join(format!("injected.{host}"))).unwrap_or_default();
    let prefix = root.display().to_string();
    for line in text.lines() {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let guest = rest.strip_prefix(&prefix).unwrap_or(rest).to_string();
        match kind {
            "inplace" => inj.inplace.push(guest),
            "replace" => inj.replaced.push(guest),
            "crash" | "slow" => inj.killed = true,
            _ => {}
        }
    }
    inj
}

/// The paths a host's reported changes stand for.
pub fn reported_paths(line: &serde_json::Value) -> Vec<String> {
    let mut paths = Vec::new();
    for c in line["changes"].as_array().cloned().unwrap_or_default() {
        if c["resource"] == "leftover" {
            continue;
        }
        if let Some(p) = c["path"].as_str() {
            paths.push(p.to_string());
            if c["resource"] == "move_aside" {
                paths.push(format!("{p}.disabled"));
            }
        }
    }
    paths.sort();
    paths
}

/// Checks one host after a faulty run; returns the violations.
pub fn check_host(
    host: &str,
    line: &serde_json::Value,
    state: &State,
    old: &State,
    new: &State,
    inj: &Injected,
    temps: &[PathBuf],
) -> Vec<String> {
    let mut bad = Vec::new();
    let status = line["status"].as_str().unwrap_or("?");
    bad.extend(model::each_old_or_new(state, old, new, inj));
    if !temps.is_empty() && !inj.killed {
        bad.push(format!(
            "temporary files left by a script that was not killed: {temps:?}"
        ));
    }
    let in_new = |p: &String| model::allowed(p, new, new, inj).contains(&state[p.as_str()]);
    let in_old = |p: &String| model::allowed(p, old, old, inj).contains(&state[p.as_str()]);
    match status {
        "ok" | "changed" => {
            for p in state.keys().filter(|p| !in_new(p)) {
                bad.push(format!("reported {status} but {p} is not new"));
            }
        }
        "skipped" | "unreachable" => {
            for p in state.keys().filter(|p| !in_old(p)) {
                bad.push(format!("reported {status} but {p} was changed"));
            }
        }
        "failed" => {
            let error = line["error"].as_str().unwrap_or("");
            let mut changed = model::changed_paths(state, old, new);
            changed.sort();
            let reported = reported_paths(line);
            if error.contains("unknown until the next run") {
                if error.contains("of") && !reported.iter().all(|p| changed.contains(p)) {
                    bad.push(format!(
                        "reported {reported:?} as made, but only {changed:?} are"
                    ));
                }
            } else if changed != reported {
                bad.push(format!(
                    "reported {reported:?} as made, but {changed:?} are: {error}"
                ));
            }
        }
        other => bad.push(format!("unexpected status {other}")),
    }
    bad.into_iter().map(|b| format!("{host}: {b}")).collect()
}

fn inventory(dir: &Path) {
    let mut inv = String::from("[defaults]\ntransport = \"local\"\n");
    for i in 0..HOSTS {
        inv.push_str(&format!("\n[hosts.h{i:02}]\nroot = \"hosts/h{i:02}\"\n"));
    }
    std::fs::write(dir.join("inventory.toml"), inv).unwrap();
    std::fs::write(dir.join("runbook.toml"), RUNBOOK).unwrap();
}

fn unmount(root: &Path) {
    let _ = Command::new("umount")
        .arg(root)
        .stderr(Stdio::null())
        .status();
}

/// A host tree on a tmpfs of its own with only `free_pages` pages left.
fn small_disk(root: &Path, template: &Path, free_pages: u64) {
    std::fs::create_dir_all(root).unwrap();
    sh(&format!(
        "mount -t tmpfs -o size=256k vmup-fault {}",
        root.display()
    ));
    sh(&format!(
        "cp -a {}/. {}/",
        template.display(),
        root.display()
    ));
    let avail: u64 = sh(&format!("stat -f -c '%a' {}", root.display()))
        .trim()
        .parse()
        .unwrap();
    let fill = avail.saturating_sub(free_pages);
    if fill > 0 {
        sh(&format!(
            "head -c {} /dev/zero > {}/.filler",
            fill * 4096,
            root.display()
        ));
    }
}

/// Runs rounds until `target` faults were injected; returns how many were.
pub fn run(seed: u64, target: usize) -> usize {
    let mut rng = Rng::new(seed);
    let dir = tempfile::Builder::new()
        .prefix("vmup-faults-")
        .tempdir()
        .unwrap();
    let base = dir.path();
    let tpl = base.join("template");
    template(&tpl);
    let bin = install_wrappers(base, &["cmp", "mv", "chmod", "ln", "rm"]);
    inventory(base);
    // The new state: the runbook applied to one clean copy.
    let reference = base.join("hosts/h00");
    sh(&format!(
        "mkdir -p {0} && cp -a {1}/. {0}/",
        reference.display(),
        tpl.display()
    ));
    let old = model::read(&reference, TRACKED);
    let path_env = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Through the wrappers with a plan that injects nothing, so they count the calls a
    // clean apply makes: every fault below is planned at one of them, and fires.
    std::fs::write(base.join("plan.h00"), "count 0\n").unwrap();
    let out = vmup(
        base,
        &[
            "apply",
            "-i",
            "inventory.toml",
            "runbook.toml",
            "--limit",
            "h00",
            "--json",
        ],
        &[
            ("PATH", path_env.clone()),
            ("VMUP_FAULT_DIR", base.display().to_string()),
        ],
    )
    .wait_with_output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let calls: u64 = std::fs::read_to_string(base.join("count.h00"))
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(calls > 0, "a clean apply runs the wrapped tools");
    eprintln!("fault injection: local trees: a clean apply makes {calls} wrapped calls");
    let new = model::read(&reference, TRACKED);
    let mut injected = 0;
    let mut round = 0;
    while injected < target {
        round += 1;
        let hosts = base.join("hosts");
        for i in 0..HOSTS {
            unmount(&hosts.join(format!("h{i:02}")));
        }
        let _ = std::fs::remove_dir_all(&hosts);
        let _ = std::fs::remove_file(base.join("vmup.retry"));
        for f in std::fs::read_dir(base).unwrap().filter_map(Result::ok) {
            let name = f.file_name().to_string_lossy().into_owned();
            if name.starts_with("count.")
                || name.starts_with("injected.")
                || name.starts_with("plan.")
            {
                std::fs::remove_file(f.path()).unwrap();
            }
        }
        let mut kinds = BTreeMap::new();
        for i in 0..HOSTS {
            let name = format!("h{i:02}");
            let root = hosts.join(&name);
            let kind = pick(&mut rng);
            if kind == Kind::DiskFull {
                small_disk(&root, &tpl, rng.below(4));
            } else {
                sh(&format!(
                    "mkdir -p {0} && cp -a {1}/. {0}/",
                    root.display(),
                    tpl.display()
                ));
            }
            let k = if kind == Kind::Replace {
                1
            } else {
                1 + rng.below(calls)
            };
            let word = match kind {
                Kind::InPlace => Some("inplace"),
                Kind::Replace => Some("replace"),
                Kind::Crash => Some("crash"),
                Kind::Slow => Some("slow"),
                Kind::None | Kind::DiskFull => None,
            };
            if let Some(word) = word {
                // The scripts name paths as the inventory gives the root: hosts/NAME.
                std::fs::write(base.join(format!("plan.{name}")), format!("{word} {k}\n")).unwrap();
            }
            kinds.insert(name, kind);
        }
        let env = [
            ("PATH", path_env.clone()),
            ("VMUP_FAULT_DIR", base.display().to_string()),
        ];
        let child = vmup(
            base,
            &[
                "apply",
                "-i",
                "inventory.toml",
                "runbook.toml",
                "--json",
                "--forks",
                "20",
                "--command-timeout",
                "2",
            ],
            &env,
        );
        let signal = rng.chance(25).then(|| {
            let group = rng.chance(50);
            let sig = if group { "-INT" } else { "-TERM" };
            signal_later(
                child.id(),
                group,
                sig,
                Duration::from_millis(rng.below(150)),
            )
        });
        let out = child.wait_with_output().unwrap();
        let signalled = signal.map(|h| h.join().unwrap_or(false)).unwrap_or(false);
        let mut bad = Vec::new();
        if out.status.code().is_none() {
            // Killed by the signal before vmup's first instruction could catch it: then
            // nothing may have been touched anywhere.
            injected += usize::from(signalled);
            for i in 0..HOSTS {
                let root = hosts.join(format!("h{i:02}"));
                if model::read(&root, TRACKED) != old {
                    bad.push(format!("h{i:02} changed by a run killed before it started"));
                }
            }
            assert!(
                bad.is_empty(),
                "round {round} (seed {seed}): {}",
                bad.join("\n")
            );
            continue;
        }
        let (lines, summary) = json(&out);
        if lines.len() != HOSTS {
            bad.push(format!("{} host lines for {HOSTS} hosts", lines.len()));
        }
        for status in ["ok", "changed", "failed", "unreachable", "skipped"] {
            let n = lines.values().filter(|l| l["status"] == status).count() as u64;
            if summary[status].as_u64() != Some(n) {
                bad.push(format!(
                    "summary says {} {status}, the hosts {n}",
                    summary[status]
                ));
            }
        }
        let any = |status: &str| lines.values().any(|l| l["status"] == status);
        let (any_failed, any_unreachable) = (any("failed"), any("unreachable"));
        let code = out.status.code();
        let codes_ok = match (any_failed, any_unreachable, signalled) {
            (true, _, _) => code == Some(1),
            (false, true, _) => code == Some(4),
            (false, false, true) => code == Some(130) || code == Some(0),
            (false, false, false) => code == Some(0),
        };
        if !codes_ok {
            bad.push(format!(
                "exit status {code:?} (failed: {any_failed}, unreachable: {any_unreachable}, signalled: {signalled})"
            ));
        }
        if signalled {
            injected += 1;
        }
        let mut disks = Vec::new();
        for (name, line) in &lines {
            let root = hosts.join(name);
            let mut inj = read_injected(base, name, Path::new(&format!("hosts/{name}")));
            let fired = !inj.inplace.is_empty() || !inj.replaced.is_empty() || inj.killed;
            // A command timeout kills the script (SIGKILL, as a crash): on a loaded machine
            // it can hit a host that had no `slow` fault, and its temporaries are then
            // the next apply's to remove (the rerun below checks that they are).
            if line["error"]
                .as_str()
                .is_some_and(|e| e.contains("timed out"))
            {
                inj.killed = true;
            }
            let kind = kinds[name];
            if fired || (kind == Kind::DiskFull && line["status"] == "failed") {
                injected += 1;
            }
            if kind == Kind::DiskFull {
                disks.push(root.clone());
            }
            let state = model::read(&root, TRACKED);
            bad.extend(check_host(
                name,
                line,
                &state,
                &old,
                &new,
                &inj,
                &model::temporaries(&root),
            ));
        }
        assert!(
            bad.is_empty(),
            "round {round} (seed {seed}): {} violation(s):\n{}\nkinds: {kinds:?}\n{}",
            bad.len(),
            bad.join("\n"),
            String::from_utf8_lossy(&out.stdout)
        );
        // The fault is gone (a disk with room again): a rerun converges, then nothing is left.
        for root in disks {
            let keep = base.join("keep");
            sh(&format!(
                "rm -rf {0}; mkdir {0} && cp -a {1}/. {0}/ && rm -f {0}/.filler",
                keep.display(),
                root.display()
            ));
            unmount(&root);
            sh(&format!(
                "cp -a {}/. {}/ && rm -rf {}",
                keep.display(),
                root.display(),
                keep.display()
            ));
        }
        let rerun = vmup(
            base,
            &["apply", "-i", "inventory.toml", "runbook.toml", "--json"],
            &[],
        )
        .wait_with_output()
        .unwrap();
        let (lines, _) = json(&rerun);
        let mut bad = Vec::new();
        for (name, line) in &lines {
            if line["status"] != "changed" && line["status"] != "ok" {
                bad.push(format!("{name}: the rerun did not converge: {line}"));
            }
            let temps = model::temporaries(&hosts.join(name));
            if !temps.is_empty() {
                bad.push(format!(
                    "{name}: temporary files left after the rerun: {temps:?}"
                ));
            }
        }
        // The rerun's own verify phase already re-read every host and found nothing to do
        // (that is what its `changed`/`ok` means); a separate plan confirms it from a fresh
        // process every fourth round, and on the first.
        let again = (round % 4 == 1).then(|| {
            vmup(base, &["plan", "-i", "inventory.toml", "runbook.toml"], &[])
                .wait_with_output()
                .unwrap()
        });
        if let Some(again) = again.filter(|a| a.status.code() != Some(0)) {
            bad.push(format!(
                "the plan after the rerun is not empty:\n{}",
                String::from_utf8_lossy(&again.stdout)
            ));
        }
        assert!(
            bad.is_empty(),
            "round {round} (seed {seed}) rerun:\n{}",
            bad.join("\n")
        );
    }
    for i in 0..HOSTS {
        unmount(&base.join(format!("hosts/h{i:02}")));
    }
    INJECTED.fetch_add(injected, Ordering::SeqCst);
    eprintln!("fault injection: local trees: {injected} faults in {round} rounds of {HOSTS} hosts");
    injected
}
