//! The history database's tables, and bringing an older file up to this version.
//!
//! The version is SQLite's `PRAGMA user_version`: 0 is a new, empty file; this build
//! writes [`VERSION`]. Migration path: each version's step is one entry of `STEPS`
//! (`STEPS[n]` takes a file from version `n` to `n + 1`), run in one `BEGIN IMMEDIATE`
//! transaction with the new `user_version`, so two vmup processes opening a new file at
//! once do not both create tables, and a killed migration leaves the old version whole.
//! A step only adds (tables, columns with defaults, indexes) or copies into new tables:
//! an older vmup reading a newer file refuses it (see [`open`]) instead of guessing.
//! To change the schema, append a step; never edit one that has shipped.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::HistoryError;

/// The schema version this build reads and writes.
pub const VERSION: i64 = 1;

/// How long to wait for another vmup's write before giving up with a warning: recording
/// never holds a run up for long.
pub const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);

/// `STEPS[n]`: the SQL that takes a file from version `n` to `n + 1`.
const STEPS: &[&str] = &[
    // 0 -> 1: runs, one row per host a run reported on, and the changes of each.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,            -- apply, recreate, reboot, ...
        started TEXT NOT NULL,            -- UTC, RFC 3339: 2026-11-24T10:00:00Z
        started_unix INTEGER NOT NULL,
        finished TEXT,                    -- NULL: the run never finished (killed)
        exit_code INTEGER,                -- NULL: likewise
        user TEXT NOT NULL,               -- the local user vmup ran as
        sudo_user TEXT,                   -- $SUDO_USER, when run through sudo
        vmup_version TEXT NOT NULL,
        runbook_path TEXT,
        runbook_sha256 TEXT,
        inventory_path TEXT,
        inventory_sha256 TEXT
    );
    CREATE INDEX runs_started ON runs (started_unix);
    CREATE TABLE host_runs (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs (id),
        part TEXT NOT NULL,               -- apply, or a lifecycle step: step 5 (recreate)
        host TEXT NOT NULL,
        phase TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        booted_kernel TEXT,               -- the kernel it came back running, where known
        report TEXT NOT NULL              -- the host's --json line, as the run printed it
    );
    CREATE INDEX host_runs_host ON host_runs (host, run_id);
    CREATE TABLE changes (
        host_run_id INTEGER NOT NULL REFERENCES host_runs (id),
        seq INTEGER NOT NULL,
        step TEXT NOT NULL,
        resource TEXT NOT NULL,
        path TEXT,
        summary TEXT NOT NULL,
        diff TEXT,
        output TEXT,
        PRIMARY KEY (host_run_id, seq)
    );",
];

/// Opens (creating it and its directory if need be) the history at `path`, brought up to
/// [`VERSION`]. WAL journal: a vmup killed mid-write leaves the last committed state,
/// and `vmup history` reads while another run writes.
pub fn open(path: &Path) -> Result<Connection, HistoryError> {
    let at = |e: rusqlite::Error| HistoryError::Sqlite {
        path: path.to_path_buf(),
        source: e,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| HistoryError::Dir {
                dir: dir.to_path_buf(),
                source: e,
            })?;
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(at)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(at)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(at)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(at)?;
    migrate(&mut conn).map_err(|e| match e {
        Migrate::Sql(e) => at(e),
        Migrate::Newer(found) => HistoryError::Newer {
            path: path.to_path_buf(),
            found,
        },
    })?;
    Ok(conn)
}

/// Why a file could not be brought to this version.
enum Migrate {
    Sql(rusqlite::Error),
    Newer(i64),
}

impl From<rusqlite::Error> for Migrate {
    fn from(e: rusqlite::Error) -> Migrate {
        Migrate::Sql(e)
    }
}

/// Runs the steps from the file's version to [`VERSION`], re-reading the version inside
/// the write lock so that a concurrent vmup's migration is not run twice.
fn migrate(conn: &mut Connection) -> Result<(), Migrate> {
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    if version(conn)? == VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    if found > VERSION {
        return Err(Migrate::Newer(found));
    }
    let from = usize::try_from(found).unwrap_or(0);
    for step in &STEPS[from..] {
        tx.execute_batch(step)?;
    }
    tx.pragma_update(None, "user_version", VERSION)?;
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_has_a_step() {
        assert_eq!(STEPS.len(), usize::try_from(VERSION).unwrap());
    }

    #[test]
    fn a_new_file_gets_this_version_and_reopening_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/history.sqlite");
        drop(open(&path).unwrap());
        let conn = open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_newer_file_is_refused_not_guessed_at() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        drop(conn);
        let err = open(&path).unwrap_err();
        assert!(err.to_string().contains("newer vmup"), "{err}");
    }
}
