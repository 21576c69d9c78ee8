//! Reading the history back: the host-runs recorded, oldest first, with their changes.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};
use serde::Serialize;

use super::{FileRef, HistoryError, schema};
use crate::engine::ChangeReport;

/// Which host-runs to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only this host (inventory name).
    pub host: Option<String>,
    /// Only runs started at or after this time (seconds since 1970-01-01 UTC).
    pub since: Option<i64>,
}

/// A recorded run, as the history keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The run's number in this history file.
    pub id: i64,
    /// The subcommand.
    pub command: String,
    /// When it started (UTC, RFC 3339).
    pub started: String,
    /// When it finished; `None` when it never did (killed).
    pub finished: Option<String>,
    /// Its exit code; `None` when it never finished.
    pub exit_code: Option<i64>,
    /// The local user.
    pub user: String,
    /// `$SUDO_USER`, when run through sudo.
    pub sudo_user: Option<String>,
    /// vmup's version.
    pub vmup_version: String,
    /// The runbook, if any.
    pub runbook: Option<FileRef>,
    /// The inventory, if any.
    pub inventory: Option<FileRef>,
}

/// One host in one recorded run.
#[derive(Debug, Clone)]
pub struct HostRun {
    /// The run it was part of.
    pub run: RunInfo,
    /// `apply`, or the lifecycle step (`step 5 (recreate)`).
    pub part: String,
    /// Inventory name.
    pub host: String,
    /// How it ended (`ok`, `changed`, `failed`, ...).
    pub status: String,
    /// The kernel it came back running, where known.
    pub booted_kernel: Option<String>,
    /// Its changes, as its report had them.
    pub changes: Vec<ChangeReport>,
    /// Its whole `--json` line as the run printed it.
    pub report: serde_json::Value,
}

/// The host-runs `query` selects, oldest first. A history file that does not exist yet
/// holds none (it is not created by reading).
pub fn host_runs(path: &Path, query: &Query) -> Result<Vec<HostRun>, HistoryError> {
    let at = |e| HistoryError::Sqlite {
        path: path.to_path_buf(),
        source: e,
    };
    if !path.exists() {
        return Ok(Vec::new());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(at)?;
    conn.busy_timeout(schema::BUSY_TIMEOUT).map_err(at)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(at)?;
    if version == 0 {
        return Ok(Vec::new());
    }
    if version != schema::VERSION {
        return Err(HistoryError::Newer {
            path: path.to_path_buf(),
            found: version,
        });
    }
    let mut rows = conn
        .prepare(
            "SELECT r.id, r.command, r.started, r.finished, r.exit_code, r.user, r.sudo_user,
                    r.vmup_version, r.runbook_path, r.runbook_sha256, r.inventory_path,
                    r.inventory_sha256, h.id, h.part, h.host, h.status, h.booted_kernel, h.report
             FROM host_runs h JOIN runs r ON r.id = h.run_id
             WHERE (?1 IS NULL OR h.host = ?1) AND (?2 IS NULL OR r.started_unix >= ?2)
             ORDER BY r.id, h.id",
        )
        .map_err(at)?;
    let file =
        |path: Option<String>, sha256: Option<String>| path.map(|path| FileRef { path, sha256 });
    let found = rows
        .query_map(params![query.host, query.since], |r| {
            let run = RunInfo {
                id: r.get(0)?,
                command: r.get(1)?,
                started: r.get(2)?,
                finished: r.get(3)?,
                exit_code: r.get(4)?,
                user: r.get(5)?,
                sudo_user: r.get(6)?,
                vmup_version: r.get(7)?,
                runbook: file(r.get(8)?, r.get(9)?),
                inventory: file(r.get(10)?, r.get(11)?),
            };
            let report: String = r.get(17)?;
            Ok((
                r.get::<_, i64>(12)?,
                HostRun {
                    run,
                    part: r.get(13)?,
                    host: r.get(14)?,
                    status: r.get(15)?,
                    booted_kernel: r.get(16)?,
                    changes: Vec::new(),
                    report: serde_json::from_str(&report).unwrap_or(serde_json::Value::Null),
                },
            ))
        })
        .map_err(at)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(at)?;
    let mut changes = conn
        .prepare(
            "SELECT step, resource, path, summary, diff, output FROM changes
             WHERE host_run_id = ?1 ORDER BY seq",
        )
        .map_err(at)?;
    let mut out = Vec::with_capacity(found.len());
    for (id, mut host_run) in found {
        host_run.changes = changes
            .query_map([id], |r| {
                Ok(ChangeReport {
                    step: r.get(0)?,
                    resource: r.get(1)?,
                    path: r.get(2)?,
                    summary: r.get(3)?,
                    diff: r.get(4)?,
                    output: r.get(5)?,
                })
            })
            .map_err(at)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(at)?;
        out.push(host_run);
    }
    Ok(out)
}

impl HostRun {
    /// The `vmup history --json` object: the host's `--json` line as its run printed it,
    /// its `changes` read back from the changes table, plus `run` (who, when, what, with
    /// which files, how it ended), `part` and `booted_kernel`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut object = match &self.report {
            serde_json::Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        let mut put = |k: &str, v: serde_json::Value| {
            object.insert(k.to_string(), v);
        };
        put("host", self.host.clone().into());
        put("status", self.status.clone().into());
        put(
            "changes",
            serde_json::to_value(&self.changes).unwrap_or_default(),
        );
        put("part", self.part.clone().into());
        put("booted_kernel", self.booted_kernel.clone().into());
        put("run", serde_json::to_value(&self.run).unwrap_or_default());
        serde_json::Value::Object(object)
    }
}
