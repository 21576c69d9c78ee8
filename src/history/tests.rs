//! Recording and reading back, on a temporary file.

use std::time::{Duration, Instant};

use super::query::{Query, host_runs};
use super::*;
use crate::engine::{ChangeReport, Phase, Status};

fn meta(command: &str, started: i64) -> RunMeta {
    RunMeta {
        command: command.to_string(),
        started,
        user: "root".to_string(),
        sudo_user: Some("alice".to_string()),
        version: "0.1.0".to_string(),
        runbook: None,
        inventory: None,
    }
}

fn changed(host: &str, summary: &str) -> HostReport {
    let mut r = HostReport::new(host, Phase::Verify, Status::Changed);
    r.changes.push(ChangeReport {
        step: "step 1 (console)".to_string(),
        resource: "line".to_string(),
        path: Some("/etc/securetty".to_string()),
        summary: summary.to_string(),
        diff: Some("+ttyS0\n".to_string()),
        output: Some("done\n".to_string()),
    });
    r
}

#[test]
fn runs_are_read_back_by_host_and_time_with_their_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    let mut first = Recorder::start(&path, &meta("apply", 1000)).unwrap();
    first
        .hosts(
            "apply",
            &[changed("ng1", "add ttyS0"), changed("ng2", "add ttyS0")],
        )
        .unwrap();
    first.finish(0).unwrap();
    let mut second = Recorder::start(&path, &meta("apply", 2000)).unwrap();
    second
        .hosts(
            "apply",
            &[HostReport::new("ng2", Phase::Verify, Status::Ok)],
        )
        .unwrap();
    // Not finished: as a killed run leaves it.

    let all = host_runs(&path, &Query::default()).unwrap();
    assert_eq!(all.len(), 3);
    let ng2 = Query {
        host: Some("ng2".to_string()),
        ..Query::default()
    };
    let found = host_runs(&path, &ng2).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].changes, changed("ng2", "add ttyS0").changes);
    assert_eq!(found[0].run.exit_code, Some(0));
    assert_eq!(found[0].run.sudo_user.as_deref(), Some("alice"));
    assert_eq!(found[0].run.started, "1970-01-01T00:16:40Z");
    assert_eq!(found[1].status, "ok");
    assert_eq!(found[1].run.exit_code, None);
    let later = Query {
        since: Some(1500),
        ..ng2
    };
    assert_eq!(host_runs(&path, &later).unwrap().len(), 1);

    let json = found[0].to_json();
    let line = serde_json::to_value(changed("ng2", "add ttyS0")).unwrap();
    for key in ["host", "phase", "status", "changes", "error", "round_trips"] {
        assert_eq!(json[key], line[key], "{key}");
    }
    assert_eq!(json["run"]["command"], "apply");
    assert_eq!(json["part"], "apply");
}

#[test]
fn a_missing_file_is_an_empty_history_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.sqlite");
    assert!(host_runs(&path, &Query::default()).unwrap().is_empty());
    assert!(!path.exists());
}

#[test]
fn a_locked_database_fails_soon_instead_of_holding_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    drop(schema::open(&path).unwrap());
    let other = Connection::open(&path).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let t = Instant::now();
    let err = Recorder::start(&path, &meta("apply", 0)).err().unwrap();
    assert!(t.elapsed() < schema::BUSY_TIMEOUT + Duration::from_secs(2));
    assert!(err.to_string().contains("locked"), "{err}");
}

#[test]
fn file_refs_hash_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runbook.toml");
    std::fs::write(&path, "abc").unwrap();
    let f = FileRef::of(&path);
    assert_eq!(
        f.sha256.as_deref(),
        Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert!(Path::new(&f.path).is_absolute());
    assert_eq!(FileRef::of(&dir.path().join("gone")).sha256, None);
}

#[test]
fn the_default_file_is_named_in_the_docs() {
    // Only checks the shape: the variables are the process's, not set here.
    if let Ok(p) = default_path() {
        assert!(p.ends_with("vmup/history.sqlite"), "{}", p.display());
    }
}
