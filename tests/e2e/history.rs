//! Run history: `vmup history --json` gives back exactly what each apply reported, the
//! file survives a vmup killed while writing it, a history that cannot be written only
//! warns, and a bad `--since` is bad input.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{LocalFleet, Run};

/// vmup in `dir` with `env` set and VMUP_HISTORY unset unless `env` sets it.
fn vmup_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmup"));
    cmd.args(args).current_dir(dir).env_remove("VMUP_HISTORY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fleet() -> LocalFleet {
    let fleet = LocalFleet::new(&["ng1", "ng2"]);
    for h in ["ng1", "ng2"] {
        fleet.write(h, "/etc/securetty", b"console\ntty1\n");
        fleet.write(
            h,
            "/etc/inittab",
            b"id:3:initdefault:\n1:2345:respawn:/sbin/mingetty tty1\n",
        );
    }
    fleet
}

const SECURETTY: &str = "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n";
const INITTAB: &str = "[[step]]\nline = { path = \"/etc/inittab\", line = \"S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav\", insert_before = \"^1:\" }\n";

#[test]
fn history_json_gives_back_exactly_the_changes_each_apply_reported() {
    let fleet = fleet();
    let state = fleet.path().join("state");
    let state_str = state.to_str().unwrap();
    // The default file, under XDG_STATE_HOME: not the user's.
    let env = [("XDG_STATE_HOME", state_str)];
    let mut runs = Vec::new();
    for runbook in [SECURETTY.to_string(), format!("{SECURETTY}{INITTAB}")] {
        let rb = fleet.runbook(&runbook);
        let run = vmup_env(
            fleet.path(),
            &[
                "apply",
                "-i",
                "inventory.toml",
                rb,
                "--json",
                "-e",
                "token=s3cr3t-v4lue",
            ],
            &env,
        );
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        runs.push((run, sha256(&fleet.path().join(rb))));
    }
    // --no-history: not recorded.
    let rb = fleet.runbook(INITTAB);
    let run = vmup_env(
        fleet.path(),
        &["apply", "-i", "inventory.toml", rb, "--no-history"],
        &env,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(state.join("vmup/history.sqlite").exists());

    // A value given with -e is in no report, so nowhere in the history (WAL included).
    for file in ["history.sqlite", "history.sqlite-wal"] {
        let bytes = std::fs::read(state.join("vmup").join(file)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("s3cr3t-v4lue"), "{file} holds the -e value");
    }
    let listed = vmup_env(fleet.path(), &["history", "--host", "ng2", "--json"], &env);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed = listed.json();
    assert_eq!(listed.len(), 2, "{listed:#?}");
    for (entry, (run, sha)) in listed.iter().zip(&runs) {
        let line = &run.hosts()["ng2"];
        assert!(!line["changes"].as_array().unwrap().is_empty());
        for (key, value) in line.as_object().unwrap() {
            if key != "elapsed" {
                assert_eq!(&entry[key], value, "{key}");
            }
        }
        assert_eq!(entry["run"]["command"], "apply");
        assert_eq!(entry["run"]["exit_code"], 0);
        assert_eq!(entry["run"]["runbook"]["sha256"], sha.as_str());
        assert!(
            entry["run"]["inventory"]["path"]
                .as_str()
                .unwrap()
                .ends_with("/inventory.toml")
        );
        assert!(!entry["run"]["user"].as_str().unwrap().is_empty());
        assert!(entry["run"]["started"].as_str().unwrap().ends_with('Z'));
        assert_eq!(entry["run"]["vmup_version"], env!("CARGO_PKG_VERSION"));
    }
    // The second run's changes are only its own (inittab), the first's only securetty.
    assert_eq!(listed[0]["changes"][0]["path"], "/etc/securetty");
    assert_eq!(listed[1]["changes"].as_array().unwrap().len(), 1);
    assert_eq!(listed[1]["changes"][0]["path"], "/etc/inittab");

    // The table: one row per host-run, the change summaries under it.
    let table = vmup_env(fleet.path(), &["history", "--since", "1d"], &env);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("WHEN (UTC)"), "{}", table.stdout);
    assert_eq!(
        table.stdout.matches(" apply ").count(),
        4,
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("/etc/inittab"), "{}", table.stdout);
    let later = vmup_env(
        fleet.path(),
        &["history", "--since", "2999-01-01", "--json"],
        &env,
    );
    assert_eq!((later.code, later.stdout.as_str()), (0, ""));
}

#[test]
fn the_history_survives_a_vmup_killed_while_it_writes() {
    let fleet = fleet();
    let db = fleet.path().join("history.sqlite");
    let db_str = db.to_str().unwrap();
    let rb = fleet.runbook(SECURETTY);
    let first = vmup_env(
        fleet.path(),
        &["apply", "-i", "inventory.toml", rb, "--history", db_str],
        &[],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);

    // The second run holds its write transaction open (a debug-build hook) and is killed.
    let marker = fleet.path().join("in-transaction");
    let rb = fleet.runbook(INITTAB);
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmup"))
        .args([
            "apply",
            "-i",
            "inventory.toml",
            rb,
            "--history",
            db_str,
            "--json",
        ])
        .current_dir(fleet.path())
        .env("VMUP_TEST_HISTORY_HOLD", &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !marker.exists() {
        assert!(t.elapsed() < Duration::from_secs(20), "the hook never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let conn = rusqlite::Connection::open(&db).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let unfinished: i64 = conn
        .query_row(
            "SELECT count(*) FROM runs WHERE exit_code IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        unfinished, 1,
        "the killed run shows as started, never finished"
    );
    drop(conn);
    let listed = vmup_env(
        fleet.path(),
        &["history", "--json", "--history", db_str],
        &[],
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let listed = listed.json();
    assert_eq!(
        listed.len(),
        2,
        "the first run's hosts, nothing of the killed one"
    );
    assert!(listed.iter().all(|e| e["run"]["id"] == 1));
    assert!(
        listed
            .iter()
            .all(|e| e["changes"][0]["path"] == "/etc/securetty")
    );

    // And it takes the next run as before.
    let next = vmup_env(
        fleet.path(),
        &["apply", "-i", "inventory.toml", rb, "--history", db_str],
        &[],
    );
    assert_eq!(next.code, 0, "{}", next.stderr);
    assert!(!next.stderr.contains("warning"), "{}", next.stderr);
    let listed = vmup_env(
        fleet.path(),
        &["history", "--json", "--history", db_str],
        &[],
    );
    assert_eq!(listed.json().len(), 4);
}

#[test]
fn a_read_only_history_directory_only_warns() {
    let fleet = fleet();
    let rb = fleet.runbook(SECURETTY);
    let empty = fleet.path().join("empty");
    let kept = fleet.path().join("kept");
    std::fs::create_dir(&empty).unwrap();
    std::fs::create_dir(&kept).unwrap();
    let kept_db = kept.join("history.sqlite");
    // One run recorded in `kept` while it is writable.
    let run = vmup_env(
        fleet.path(),
        &[
            "apply",
            "-i",
            "inventory.toml",
            rb,
            "--history",
            kept_db.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    fleet.write("ng1", "/etc/securetty", b"console\n");
    fleet.write("ng2", "/etc/securetty", b"console\n");

    for dir in [&empty, &kept] {
        let db = dir.join("history.sqlite");
        let run = read_only(
            fleet.path(),
            dir,
            &[
                "apply",
                "-i",
                "inventory.toml",
                rb,
                "--history",
                db.to_str().unwrap(),
            ],
        );
        assert_eq!(
            run.code, 0,
            "the run's own exit code: {}{}",
            run.stdout, run.stderr
        );
        assert!(run.stdout.contains("converged"), "{}", run.stdout);
        assert_eq!(fleet.read("ng1", "/etc/securetty"), b"console\nttyS0\n");
        let warning = &run.stderr;
        assert!(
            warning.contains("warning: this run is not recorded in the history"),
            "{warning}"
        );
        assert!(
            warning.contains(&db.display().to_string()),
            "where: {warning}"
        );
        assert!(
            warning.contains(&format!(
                "make {} (and the file in it) writable",
                dir.display()
            )),
            "what to do: {warning}"
        );
        assert!(warning.contains("--no-history"), "{warning}");
        fleet.write("ng1", "/etc/securetty", b"console\n");
        fleet.write("ng2", "/etc/securetty", b"console\n");
    }
}

/// vmup with `dir` read-only: a read-only bind mount in a private mount namespace when
/// root (who writes through file modes), mode 0555 otherwise.
fn read_only(cwd: &Path, dir: &Path, args: &[&str]) -> Run {
    let root = nix::unistd::geteuid().is_root();
    let mut cmd = if root {
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg("mount --bind -o ro \"$1\" \"$1\" || exit 99; shift; exec \"$@\"")
            .arg("sh")
            .arg(dir)
            .arg(env!("CARGO_BIN_EXE_vmup"));
        c
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        Command::new(env!("CARGO_BIN_EXE_vmup"))
    };
    let out = cmd
        .args(args)
        .current_dir(cwd)
        .env_remove("VMUP_HISTORY")
        .output()
        .unwrap();
    if !root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    assert_ne!(out.status.code(), Some(99), "mount --bind -o ro failed");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn a_bad_since_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = vmup_env(
        dir.path(),
        &["history", "--since", "2026-13-01", "--history", "h.sqlite"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--since \"2026-13-01\" is not a time: there is no month 13"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("YYYY-MM-DD"), "{}", run.stderr);
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
