//! `--shard K/N` and `vmup report merge` as a scheduler uses them: a real Slurm (Debian's
//! slurm-wlm, a private munged, slurmctld and slurmd started by tests/fleet/slurm.sh in the
//! test fleet's controller namespace) runs `vmup plan --shard $SLURM_ARRAY_TASK_ID/4` as a
//! 4-task job array against the real ssh test fleet, and the merged report of the four
//! tasks' JSON lines is the unsharded run's: the same hosts with the same statuses (ok,
//! changed and unreachable), the same summary counts, the same exit code, and a retry file
//! naming exactly the hosts that did not succeed.
//!
//! The same merge of four shards run directly (no scheduler) always runs, with the refusals
//! of a shard missing and a shard given twice. Only if the Slurm daemons cannot start on
//! this machine is the Slurm half skipped, with the reason and the daemons' logs printed
//! (set `VMUP_REQUIRE_SLURM=1` to make that a failure); the commands missing is a failure
//! (scripts/install-deps.sh installs them).

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::fleet::Fleet;
use crate::support::Run;

const SHARDS: u32 = 4;

/// A host in the fleet's network where nothing listens: unreachable within the timeout.
const GONE_ADDR: &str = "198.19.255.250";

fn slurm_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fleet/slurm.sh")
}

/// A one-node Slurm cluster of this test's own: its daemons are children of the test,
/// stopped (SIGTERM, then SIGKILL after 5 s) and reaped on drop, also when the test fails.
struct Slurm {
    dir: tempfile::TempDir,
    daemons: Vec<(&'static str, Child)>,
}

impl Slurm {
    /// Prepares the cluster's directory and starts munged, slurmctld and slurmd in `netns`;
    /// `Err` says why it could not start, with the daemons' logs.
    fn start(netns: &str) -> Result<Slurm, String> {
        let dir = tempfile::Builder::new()
            .prefix("vmup-slurm-")
            .tempdir()
            .unwrap();
        let mut slurm = Slurm {
            dir,
            daemons: Vec::new(),
        };
        let prepare = Command::new(slurm_sh())
            .arg("prepare")
            .arg(slurm.dir.path())
            .arg(netns)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&prepare.stderr);
        assert!(
            !stderr.contains("is not installed"),
            "{stderr}\nrun scripts/install-deps.sh"
        );
        if !prepare.status.success() {
            return Err(format!("slurm.sh prepare failed: {stderr}"));
        }
        let socket = slurm.dir.path().join("munge/munge.socket.2");
        slurm.spawn("munged");
        slurm.wait_for("munged's socket", Duration::from_secs(10), |_| {
            socket.exists()
        })?;
        slurm.spawn("slurmctld");
        slurm.spawn("slurmd");
        slurm.wait_for("the node to be idle", Duration::from_secs(30), |s| {
            let out = s.client(&["sinfo", "-h", "-N", "-o", "%T"]);
            out.code == 0 && out.stdout.trim_start().starts_with("idle")
        })?;
        Ok(slurm)
    }

    fn spawn(&mut self, name: &'static str) {
        let log = File::create(self.dir.path().join(format!("log/{name}.out"))).unwrap();
        // slurm.sh execs nsenter, which execs the daemon: the child is the daemon itself.
        let child = Command::new(slurm_sh())
            .arg("daemon")
            .arg(self.dir.path())
            .arg(name)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap();
        self.daemons.push((name, child));
    }

    /// Polls `ready` until it holds; `Err` when a daemon exits or the time is up.
    fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        ready: impl Fn(&Slurm) -> bool,
    ) -> Result<(), String> {
        let start = Instant::now();
        loop {
            for (name, child) in &mut self.daemons {
                if let Some(status) = child.try_wait().unwrap() {
                    return Err(format!(
                        "{name} exited ({status}) while waiting for {what}\n{}",
                        logs(self.dir.path())
                    ));
                }
            }
            if ready(self) {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "no {what} after {limit:?}\n{}",
                    logs(self.dir.path())
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A Slurm client command against this cluster, in its network namespace.
    fn client(&self, args: &[&str]) -> Run {
        let out = Command::new(slurm_sh())
            .arg("run")
            .arg(self.dir.path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        for (_, child) in &self.daemons {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
        let start = Instant::now();
        for (name, child) in &mut self.daemons {
            while matches!(child.try_wait(), Ok(None)) && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(child.try_wait(), Ok(None)) {
                eprintln!("{name} ignored SIGTERM for 5 s: killed");
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// The tail of every daemon log of the cluster in `dir`.
fn logs(dir: &Path) -> String {
    let mut out = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("log"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = &lines[lines.len().saturating_sub(30)..];
        out.push_str(&format!(
            "--- {} (last {} lines)\n{}\n",
            f.display(),
            tail.len(),
            tail.join("\n")
        ));
    }
    out
}

/// The files every run reads, in a directory of the test's (the fleet's is fleet.sh's).
struct Work {
    dir: tempfile::TempDir,
    ssh_config: String,
}

impl Work {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// `vmup plan` of this work's inventory and runbook, with `extra` arguments.
    fn plan_args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = vec![
            "plan".into(),
            "-i".into(),
            self.path("inventory.toml"),
            self.path("runbook.toml"),
            "-F".into(),
            self.ssh_config.clone(),
            "--json".into(),
            "--connect-timeout".into(),
            "3".into(),
            "--no-history".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }
}

/// The fleet's inventory plus `gone`, a machine nothing answers for; a runbook line that
/// half the guests already have.
fn prepare(fleet: &Fleet) -> Work {
    let dir = tempfile::Builder::new()
        .prefix("vmup-slurm-work-")
        .tempdir()
        .unwrap();
    // Slurm's tasks run as root, but the directory must be searchable for slurmstepd.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let mut inventory = std::fs::read_to_string(fleet.path("inventory.toml")).unwrap();
    inventory.push_str(&format!("\n[hosts.gone]\naddress = \"{GONE_ADDR}\"\n"));
    std::fs::write(dir.path().join("inventory.toml"), inventory).unwrap();
    std::fs::write(
        dir.path().join("runbook.toml"),
        "[[step]]\nhosts = \"guests\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
    )
    .unwrap();
    // g01 (on xen1) and g04 (on xen2) have it: both dom0s' shards hold ok and changed.
    let guests = fleet.guests();
    for g in [&guests[0], &guests[3]] {
        fleet.exec(g, "echo ttyS0 >> /etc/securetty");
    }
    Work {
        dir,
        ssh_config: fleet.env["FLEET_SSH_CONFIG"].clone(),
    }
}

fn statuses(run: &Run) -> BTreeMap<String, String> {
    run.hosts()
        .into_iter()
        .map(|(h, l)| (h, l["status"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// A run's summary line without what differs between any two runs.
fn summary(run: &Run) -> serde_json::Value {
    let lines = run.json();
    let mut s = lines
        .iter()
        .rev()
        .find(|l| l.get("summary").is_some())
        .unwrap_or_else(|| panic!("no summary line:\n{}", run.stdout))["summary"]
        .clone();
    for volatile in ["elapsed", "shards", "shard"] {
        s.as_object_mut().unwrap().remove(volatile);
    }
    s
}

fn read_run(path: &str) -> Run {
    Run {
        code: 0,
        stdout: std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}")),
        stderr: String::new(),
    }
}

fn retry_hosts(path: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Merges the shard files and checks the result against the unsharded run.
fn assert_merge_is_whole(work: &Work, files: &[String], whole: &Run, label: &str) {
    // Each shard's summary names its shard; together they hold every host once.
    let mut seen = BTreeMap::new();
    let mut used = 0;
    for (k, f) in files.iter().enumerate() {
        let run = read_run(f);
        let lines = run.json();
        let last = lines
            .last()
            .unwrap_or_else(|| panic!("{label}: {f} is empty"));
        assert_eq!(
            last["summary"]["shard"],
            format!("{k}/{SHARDS}"),
            "{label}: {f}"
        );
        let hosts = statuses(&run);
        used += usize::from(!hosts.is_empty());
        for h in hosts.into_keys() {
            assert!(seen.insert(h.clone(), k).is_none(), "{label}: {h} twice");
        }
    }
    assert!(
        used >= 2,
        "{label}: the hosts are spread over shards: {seen:?}"
    );

    let retry = work.path(&format!("merged-{label}.retry"));
    let mut args = vec!["report", "merge", "--json", "--retry-file", &retry];
    args.extend(files.iter().map(String::as_str));
    let merged = crate::support::vmup(work.dir.path(), &args);
    assert_eq!(
        merged.code, whole.code,
        "{label}: the merged exit code\n{}\n{}",
        merged.stdout, merged.stderr
    );
    assert_eq!(
        statuses(&merged),
        statuses(whole),
        "{label}: hosts and statuses"
    );
    assert_eq!(summary(&merged), summary(whole), "{label}: summary counts");
    let expected: Vec<String> = statuses(whole)
        .into_iter()
        .filter(|(_, s)| s != "ok" && s != "changed")
        .map(|(h, _)| h)
        .collect();
    assert_eq!(retry_hosts(&retry), expected, "{label}: the retry file");
}

#[test]
fn a_slurm_job_array_of_four_shards_merges_into_the_unsharded_run() {
    let started = Instant::now();
    let fleet = Fleet::up_with(4, &["--hosts", "2"]);
    let work = prepare(&fleet);
    let vmup = env!("CARGO_BIN_EXE_vmup");

    // The unsharded run: three different statuses, and exit 4 for the unreachable host.
    let args = work.plan_args(&["--retry-file", &work.path("whole.retry")]);
    let whole = fleet.vmup(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(whole.code, 4, "{}\n{}", whole.stdout, whole.stderr);
    let st = statuses(&whole);
    assert_eq!(st.len(), fleet.all().len() + 1, "{st:?}");
    assert_eq!(st["gone"], "unreachable");
    let guests = fleet.guests();
    assert_eq!(st[&guests[0]], "ok", "{st:?}");
    assert_eq!(st[&guests[1]], "changed", "{st:?}");
    let counts = summary(&whole);
    assert_eq!(counts["hosts"], st.len(), "{counts}");
    assert_eq!(counts["unreachable"], 1, "{counts}");
    assert_eq!(counts["changed"], 2, "g02 and g03: {counts}");

    // Without a scheduler: the four shards run one after another, merged.
    let mut direct = Vec::new();
    for k in 0..SHARDS {
        let shard = format!("{k}/{SHARDS}");
        let retry = work.path(&format!("direct-{k}.retry"));
        let args = work.plan_args(&["--shard", &shard, "--retry-file", &retry]);
        let run = fleet.vmup(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            [0, 3, 4].contains(&run.code),
            "shard {shard}: {}",
            run.stderr
        );
        let file = work.path(&format!("direct-{k}.jsonl"));
        std::fs::write(&file, &run.stdout).unwrap();
        direct.push(file);
    }
    assert_merge_is_whole(&work, &direct, &whole, "direct");

    // A shard missing, or given twice: refused with exit 2, the retry file left alone.
    let retry = work.path("merged-direct.retry");
    let before = std::fs::read_to_string(&retry).unwrap();
    let missing = crate::support::vmup(
        work.dir.path(),
        &[
            "report",
            "merge",
            "--retry-file",
            &retry,
            &direct[0],
            &direct[1],
            &direct[3],
        ],
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("shard 2/4 of 4 missing"),
        "{}",
        missing.stderr
    );
    let twice = crate::support::vmup(
        work.dir.path(),
        &[
            "report",
            "merge",
            "--retry-file",
            &retry,
            &direct[0],
            &direct[1],
            &direct[2],
            &direct[3],
            &direct[2],
        ],
    );
    assert_eq!(twice.code, 2, "{}", twice.stderr);
    assert!(
        twice.stderr.contains("shard 2/4 is given twice"),
        "{}",
        twice.stderr
    );
    assert_eq!(std::fs::read_to_string(&retry).unwrap(), before);

    // The same under Slurm: a 4-task job array in the fleet's controller namespace.
    let slurm = match Slurm::start(&fleet.env["FLEET_CTL_NETNS"]) {
        Ok(slurm) => slurm,
        Err(why) => {
            let msg = format!("Slurm cannot start on this machine: {why}");
            assert!(std::env::var_os("VMUP_REQUIRE_SLURM").is_none(), "{msg}");
            eprintln!("SKIPPED the Slurm half of {}: {msg}", module_path!());
            return;
        }
    };
    let mut task = work.plan_args(&["--shard", "$k/4", "--retry-file", "vmup-$k.retry"]);
    task.insert(0, vmup.to_string());
    let task: Vec<String> = task
        .iter()
        .map(|a| {
            if a.contains('$') {
                format!("\"{a}\"")
            } else {
                format!("'{a}'")
            }
        })
        .collect();
    let script = format!(
        "#!/bin/sh\n# one shard of the plan, as a task of the array\nk=$SLURM_ARRAY_TASK_ID\n\
         echo \"$SLURM_ARRAY_JOB_ID\" >\"job-$k\"\n\
         {} >\"run-$k.jsonl\" 2>\"run-$k.err\"\necho $? >\"code-$k\"\n",
        task.join(" ")
    );
    std::fs::write(work.path("job.sh"), script).unwrap();
    let submit_started = Instant::now();
    let submit = slurm.client(&[
        "sbatch",
        "--array=0-3",
        "--wait",
        "--time=5",
        "--job-name=vmup-shards",
        &format!("--chdir={}", work.path("")),
        &format!("--output={}", work.path("slurm-%A_%a.out")),
        &work.path("job.sh"),
    ]);
    assert_eq!(
        submit.code,
        0,
        "sbatch: {}\n{}\n{}",
        submit.stdout,
        submit.stderr,
        logs(slurm.dir.path())
    );
    eprintln!(
        "{}: the job array ran in {:.1?}",
        module_path!(),
        submit_started.elapsed()
    );
    let mut files = Vec::new();
    let mut jobs = Vec::new();
    for k in 0..SHARDS {
        let code = std::fs::read_to_string(work.path(&format!("code-{k}")))
            .unwrap_or_else(|e| panic!("task {k} left no exit code: {e}"));
        let err = std::fs::read_to_string(work.path(&format!("run-{k}.err"))).unwrap();
        assert!(
            ["0", "3", "4"].contains(&code.trim()),
            "task {k}: exit {code}{err}"
        );
        jobs.push(std::fs::read_to_string(work.path(&format!("job-{k}"))).unwrap());
        files.push(work.path(&format!("run-{k}.jsonl")));
    }
    assert!(
        jobs.iter().all(|j| *j == jobs[0] && !j.trim().is_empty()),
        "the four tasks are one Slurm array job: {jobs:?}"
    );
    for (k, f) in files.iter().enumerate() {
        assert_eq!(
            statuses(&read_run(f)),
            statuses(&read_run(&direct[k])),
            "task {k} planned its shard"
        );
    }
    assert_merge_is_whole(&work, &files, &whole, "slurm");
    drop(slurm);
    eprintln!("{}: {:.1?} in all", module_path!(), started.elapsed());
}
