//! Faults on the real ssh test fleet: a host's sshd killed mid-apply (its whole machine's
//! processes die with it), a host's link cut for a while (a host that answers slowly or
//! not at all), SIGINT to vmup's group or SIGTERM. Files are read back over the hosts'
//! own shells; then the same invariants as on local trees, and a rerun converges.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::INJECTED;
use super::local::{TRACKED, check_host, json, signal_later};
use super::model::{Injected, State};
use super::rng::Rng;
use crate::fleet::Fleet;

const GUESTS: usize = 6;
const DOM0: &[&str] = &[
    "/boot/vmlinuz-2.6.9-ELxenU",
    "/boot/initrd-2.6.9-ELxenU-xendrv.img",
];

fn tracked(host: &str) -> &'static [&'static str] {
    if host.starts_with("xen") {
        DOM0
    } else {
        TRACKED
    }
}

/// The tracked paths of `host`, and vmup's temporary files under /etc, /lib and /boot,
/// read through the host's own shell in one command.
fn read(fleet: &Fleet, host: &str) -> (State, Vec<std::path::PathBuf>) {
    let mut script = String::new();
    for p in tracked(host) {
        script.push_str(&format!(
            "p='{p}'; if [ -L \"$p\" ]; then echo \"L $(readlink \"$p\")\"; elif [ -d \"$p\" ]; then echo \"D $(ls -A \"$p\" | sort | tr '\\n' ,)\"; elif [ -f \"$p\" ]; then echo \"F $(od -An -tx1 -v \"$p\" | tr -d ' \\n')\"; else echo A; fi\n"
        ));
    }
    script.push_str("find /etc /lib/ /boot -xdev \\( -name '*.vmup-new.*' -o -name '*.vmup-old.*' \\) 2>/dev/null | sed 's/^/T /'\n");
    let out = fleet.exec(host, &script);
    let mut state = State::new();
    let mut temps = Vec::new();
    let mut paths = tracked(host).iter();
    for line in out.lines() {
        let (kind, rest) = line.split_at(1);
        let rest = rest.trim_start();
        if kind == "T" {
            temps.push(rest.into());
            continue;
        }
        let Some(p) = paths.next() else { continue };
        let value = match kind {
            "A" => None,
            "L" => Some(format!("LINK:{rest}").into_bytes()),
            "D" => Some(format!("DIR:{}", rest.trim_end_matches(',')).into_bytes()),
            _ => Some(
                (0..rest.len() / 2)
                    .map(|i| u8::from_str_radix(&rest[2 * i..2 * i + 2], 16).unwrap_or(0))
                    .collect(),
            ),
        };
        state.insert(p.to_string(), value);
    }
    (state, temps)
}

fn vmup(fleet: &Fleet, args: &[&str]) -> std::process::Child {
    Command::new("ip")
        .args(["netns", "exec", &fleet.env["FLEET_CTL_NETNS"]])
        .arg(env!("CARGO_BIN_EXE_vmup"))
        .args(args)
        .env("VMUP_HISTORY", crate::support::test_history())
        .current_dir(fleet.dir.path())
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

const APPLY: &[&str] = &[
    "apply",
    "-i",
    "inventory.toml",
    "runbook.toml",
    "-F",
    "ssh_config",
    "--json",
    "--connect-timeout",
    "2",
    "--command-timeout",
    "4",
];

pub fn run(seed: u64, rounds: usize) -> usize {
    let mut rng = Rng::new(seed);
    let fleet = Fleet::up(GUESTS);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/runbook.toml"),
        fleet.path("runbook.toml"),
    )
    .unwrap();
    let hosts = fleet.all();
    let old: BTreeMap<String, State> = hosts
        .iter()
        .map(|h| (h.clone(), read(&fleet, h).0))
        .collect();
    let out = vmup(&fleet, APPLY).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let new: BTreeMap<String, State> = hosts
        .iter()
        .map(|h| (h.clone(), read(&fleet, h).0))
        .collect();
    let ctl = fleet.env["FLEET_CTL_NETNS"].clone();
    let mut injected = 0;
    for round in 1..=rounds {
        fleet.sh("reset", &[]);
        let child = vmup(&fleet, APPLY);
        let mut faults = Vec::new();
        let mut killed = Vec::new();
        for (i, host) in hosts.iter().enumerate() {
            match rng.below(3) {
                0 => {
                    killed.push(host.clone());
                    let delay = Duration::from_millis(rng.below(1500));
                    let (dir, host) = (fleet.dir.path().to_path_buf(), host.clone());
                    faults.push(std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        Command::new(
                            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet/fleet.sh"),
                        )
                        .args(["stop-host"])
                        .arg(&dir)
                        .arg(&host)
                        .output()
                        .is_ok_and(|o| o.status.success())
                    }));
                }
                1 => {
                    let delay = Duration::from_millis(rng.below(1000));
                    let cut = Duration::from_millis(200 + rng.below(1300));
                    let (ctl, link) = (ctl.clone(), format!("vh{i}"));
                    faults.push(std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        let set = |state: &str| {
                            Command::new("ip")
                                .args(["-n", &ctl, "link", "set", &link, state])
                                .status()
                                .is_ok_and(|s| s.success())
                        };
                        let down = set("down");
                        std::thread::sleep(cut);
                        set("up") && down
                    }));
                }
                _ => {}
            }
        }
        let signal = rng.chance(30).then(|| {
            let group = rng.chance(50);
            signal_later(
                child.id(),
                group,
                if group { "-INT" } else { "-TERM" },
                Duration::from_millis(rng.below(1500)),
            )
        });
        let out = child.wait_with_output().unwrap();
        for f in faults {
            injected += usize::from(f.join().unwrap_or(false));
        }
        if signal.is_some_and(|s| s.join().unwrap_or(false)) {
            injected += 1;
        }
        for h in &killed {
            fleet.sh("start-host", &[h]);
        }
        let mut bad = Vec::new();
        if out.status.code().is_none() {
            bad.push("vmup died of a signal it should have caught".to_string());
        }
        let (lines, _) = json(&out);
        for host in &hosts {
            let Some(line) = lines.get(host) else {
                bad.push(format!("{host}: not reported"));
                continue;
            };
            let (state, temps) = read(&fleet, host);
            let inj = Injected {
                killed: killed.contains(host),
                ..Injected::default()
            };
            bad.extend(check_host(
                host, line, &state, &old[host], &new[host], &inj, &temps,
            ));
        }
        assert!(
            bad.is_empty(),
            "fleet round {round} (seed {seed}): {}\n{}",
            bad.join("\n"),
            String::from_utf8_lossy(&out.stdout)
        );
        let rerun = vmup(&fleet, APPLY).wait_with_output().unwrap();
        let (lines, _) = json(&rerun);
        for host in &hosts {
            let (state, temps) = read(&fleet, host);
            if !matches!(lines[host]["status"].as_str(), Some("changed" | "ok"))
                || state != new[host]
                || !temps.is_empty()
            {
                bad.push(format!(
                    "{host}: the rerun did not converge: {} {temps:?}",
                    lines[host]
                ));
            }
        }
        assert!(
            bad.is_empty(),
            "fleet round {round} (seed {seed}) rerun:\n{}",
            bad.join("\n")
        );
    }
    INJECTED.fetch_add(injected, Ordering::SeqCst);
    eprintln!(
        "fault injection: ssh fleet: {injected} faults in {rounds} rounds of {} hosts",
        hosts.len()
    );
    injected
}
