//! Run history: what every `apply`, `recreate` and `reboot` did, kept in an embedded
//! SQLite file so that "what did we change on ng2 last Tuesday, and which kernel did it
//! boot after?" has an answer (`vmup history`).
//!
//! A run is recorded with who ran it (the local user, and `$SUDO_USER` when set), when
//! (UTC), the command, vmup's version, the runbook and inventory (paths and SHA-256 of
//! their bytes), its exit code, and per host its status, error, the kernel it came back
//! running where the report knows it (`recreate` and `reboot` details), its changes
//! (step, resource, path, summary, diff, output) and its whole `--json` line. What is kept
//! is exactly what the run's report holds, diffs and command output included; `-e`
//! values, template variables and script bodies are not in a report and are never
//! stored.
//!
//! Where: [`default_path`]. Writes: [`Recorder`], one short transaction per part of a
//! run, so a killed run keeps what was committed and SQLite's write-ahead log keeps the
//! file whole. Reads: [`query`]. Tables and their migration path: [`schema`]. Recording
//! must never fail or block a run: every [`HistoryError`] is for the caller to show as
//! a warning.

pub mod query;
pub mod schema;
pub mod time;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior, params};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::engine::{HostDetail, HostReport};

/// Why the history could not be written or read.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// The database's directory could not be created.
    #[error("cannot create directory {}: {source}", dir.display())]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// SQLite refused (read-only, locked by another vmup, full disk, not a database).
    #[error("{}: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file was written by a newer vmup, whose tables this one does not know.
    #[error("{} has schema version {found}, written by a newer vmup (this one knows {})", path.display(), schema::VERSION)]
    Newer {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// No place for the default database: neither `$XDG_STATE_HOME` nor `$HOME` is set.
    #[error("no history file: neither XDG_STATE_HOME nor HOME is set")]
    NoHome,
}

/// The history file when neither `--history` nor `VMUP_HISTORY` names one:
/// `$XDG_STATE_HOME/vmup/history.sqlite` when that variable holds an absolute path (the
/// XDG base directory rule), else `~/.local/state/vmup/history.sqlite`. Root's is root's
/// own (`/root/.local/state/...`); under sudo it is whichever `HOME` sudo sets.
pub fn default_path() -> Result<PathBuf, HistoryError> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(state) = var("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Ok(state.join("vmup/history.sqlite"));
    }
    var("HOME")
        .map(|home| home.join(".local/state/vmup/history.sqlite"))
        .ok_or(HistoryError::NoHome)
}

/// A file a run read: its path and the SHA-256 of its bytes, so a later reader can tell
/// whether the runbook in the history is the one on disk now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileRef {
    /// Absolute path where it can be made so, else as given.
    pub path: String,
    /// Lowercase hex; `None` when the file could not be read again.
    pub sha256: Option<String>,
}

impl FileRef {
    /// Hashes the file at `path` as it is now.
    pub fn of(path: &Path) -> FileRef {
        let shown = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let sha256 = std::fs::read(path).ok().map(|bytes| {
            Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        });
        FileRef {
            path: shown.display().to_string(),
            sha256,
        }
    }
}

/// Who ran what, with which files: the part of a run known before any host is touched.
#[derive(Debug, Clone)]
pub struct RunMeta {
    /// The subcommand: `apply`, `recreate`, `reboot`, `run`.
    pub command: String,
    /// Seconds since 1970-01-01 UTC.
    pub started: i64,
    /// The local user vmup runs as (name, or the uid when it has none).
    pub user: String,
    /// `$SUDO_USER`: who asked sudo to run vmup.
    pub sudo_user: Option<String>,
    /// vmup's version.
    pub version: String,
    /// The runbook, if the command takes one.
    pub runbook: Option<FileRef>,
    /// The inventory.
    pub inventory: Option<FileRef>,
}

impl RunMeta {
    /// A run of `command` starting now, by this process's user, with these files.
    pub fn now(command: &str, runbook: Option<&Path>, inventory: Option<&Path>) -> RunMeta {
        let uid = nix::unistd::getuid();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| uid.to_string());
        RunMeta {
            command: command.to_string(),
            started: time::now(),
            user,
            sudo_user: std::env::var("SUDO_USER").ok().filter(|s| !s.is_empty()),
            version: env!("CARGO_PKG_VERSION").to_string(),
            runbook: runbook.map(FileRef::of),
            inventory: inventory.map(FileRef::of),
        }
    }
}

/// Records one run: [`Recorder::start`] before the hosts are worked on (a run killed
/// later still shows who started it), [`Recorder::hosts`] after each part (the apply,
/// each lifecycle step), [`Recorder::finish`] with the exit code. Each is one transaction.
pub struct Recorder {
    conn: Connection,
    path: PathBuf,
    run_id: i64,
}

impl Recorder {
    /// Opens the history at `path` and records that `run` started.
    pub fn start(path: &Path, run: &RunMeta) -> Result<Recorder, HistoryError> {
        let conn = schema::open(path)?;
        let at = |e| HistoryError::Sqlite {
            path: path.to_path_buf(),
            source: e,
        };
        let file = |f: &Option<FileRef>| {
            (
                f.as_ref().map(|f| f.path.clone()),
                f.as_ref().and_then(|f| f.sha256.clone()),
            )
        };
        let (runbook_path, runbook_sha) = file(&run.runbook);
        let (inventory_path, inventory_sha) = file(&run.inventory);
        conn.execute(
            "INSERT INTO runs (command, started, started_unix, user, sudo_user, vmup_version,
                runbook_path, runbook_sha256, inventory_path, inventory_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                run.command,
                time::rfc3339(run.started),
                run.started,
                run.user,
                run.sudo_user,
                run.version,
                runbook_path,
                runbook_sha,
                inventory_path,
                inventory_sha
            ],
        )
        .map_err(at)?;
        let run_id = conn.last_insert_rowid();
        Ok(Recorder {
            conn,
            path: path.to_path_buf(),
            run_id,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the host reports of one part of the run (`part`: `apply`, or a lifecycle
    /// step's label), all or none.
    pub fn hosts(&mut self, part: &str, reports: &[HostReport]) -> Result<(), HistoryError> {
        let path = self.path.clone();
        let at = |e| HistoryError::Sqlite {
            path: path.clone(),
            source: e,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(at)?;
        {
            // Two statements prepared once for the whole batch, not once per row: at
            // thousands of hosts the parsing was a few per cent of the controller's CPU.
            let mut insert_host = tx
                .prepare_cached(
                    "INSERT INTO host_runs (run_id, part, host, phase, status, error, booted_kernel, report)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(at)?;
            let mut insert_change = tx
                .prepare_cached(
                    "INSERT INTO changes (host_run_id, seq, step, resource, path, summary, diff, output)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(at)?;
            for report in reports {
                let line = serde_json::to_string(report).unwrap_or_default();
                let host_run = insert_host
                    .insert(params![
                        self.run_id,
                        part,
                        report.host,
                        report.phase.as_str(),
                        report.status.as_str(),
                        report.error,
                        booted_kernel(report),
                        line
                    ])
                    .map_err(at)?;
                for (seq, c) in report.changes.iter().enumerate() {
                    insert_change
                        .execute(params![
                            host_run, seq, c.step, c.resource, c.path, c.summary, c.diff, c.output
                        ])
                        .map_err(at)?;
                }
            }
        }
        test_hook_hold();
        tx.commit().map_err(at)
    }

    /// Records how the run ended.
    pub fn finish(&mut self, exit_code: i32) -> Result<(), HistoryError> {
        self.conn
            .execute(
                "UPDATE runs SET finished = ?1, exit_code = ?2 WHERE id = ?3",
                params![time::rfc3339(time::now()), exit_code, self.run_id],
            )
            .map(drop)
            .map_err(|e| HistoryError::Sqlite {
                path: self.path.clone(),
                source: e,
            })
    }
}

/// The kernel a machine came back running, where its report says: a recreated guest's
/// `uname -r`, a rebooted host's kernel after the reboot.
fn booted_kernel(report: &HostReport) -> Option<String> {
    match &report.detail {
        Some(HostDetail::Recreate(d)) => d.running.clone(),
        Some(HostDetail::Reboot(d)) if d.rebooted => d.kernel_after.clone(),
        _ => None,
    }
}

/// Debug builds only (never in a release): with `VMUP_TEST_HISTORY_HOLD=FILE`, creates
/// FILE inside the open write transaction and sleeps there, so a test can kill vmup
/// mid-write and prove the database survives.
fn test_hook_hold() {
    #[cfg(debug_assertions)]
    if let Some(marker) = std::env::var_os("VMUP_TEST_HISTORY_HOLD") {
        let _ = std::fs::write(marker, b"in transaction\n");
        std::thread::sleep(std::time::Duration::from_secs(30));
    }
}

#[cfg(test)]
mod tests;
