//! Recording a run in the history (`vmup::history`) from the CLI: which file, and turning
//! every failure to record into one warning on stderr, so a run is never failed, held up
//! or given another exit code by its history.

use std::path::{Path, PathBuf};

use vmup::engine::HostReport;
use vmup::history::{HistoryError, Recorder, RunMeta};

use super::args::HistoryArgs;
use super::exit::Exit;
use super::safe::safe;

/// The history file `--history`, `VMUP_HISTORY` or the default names; `None` with
/// `--no-history`.
pub fn history_path(args: &HistoryArgs) -> Result<Option<PathBuf>, HistoryError> {
    if args.no_history {
        return Ok(None);
    }
    if let Some(path) = &args.history {
        return Ok(Some(path.clone()));
    }
    match std::env::var_os("VMUP_HISTORY").filter(|v| !v.is_empty()) {
        Some(path) => Ok(Some(PathBuf::from(path))),
        None => vmup::history::default_path().map(Some),
    }
}

/// One run being recorded; after the first failure it records nothing more.
pub struct Recording {
    recorder: Option<Recorder>,
}

impl Recording {
    /// Starts recording a run of `command` (before any host is touched), or warns why it
    /// cannot.
    pub fn start(
        args: &HistoryArgs,
        command: &str,
        runbook: Option<&Path>,
        inventory: Option<&Path>,
    ) -> Recording {
        let recorder = match history_path(args) {
            Ok(Some(path)) => {
                log::info!("recording the run in {}", path.display());
                Recorder::start(&path, &RunMeta::now(command, runbook, inventory))
                    .map_err(|e| warn(&e, Some(&path)))
                    .ok()
            }
            Ok(None) => None,
            Err(e) => {
                warn(&e, None);
                None
            }
        };
        Recording { recorder }
    }

    /// A run that is not recorded (`plan`: it changes nothing).
    pub fn none() -> Recording {
        Recording { recorder: None }
    }

    /// Records one part of the run (`apply`, a lifecycle step's label, the command).
    pub fn hosts(&mut self, part: &str, reports: &[HostReport]) {
        if reports.is_empty() {
            return;
        }
        if let Some(r) = &mut self.recorder
            && let Err(e) = r.hosts(part, reports)
        {
            warn(&e, Some(r.path()));
            self.recorder = None;
        }
    }

    /// Records the exit code the run ends with.
    pub fn finish(&mut self, exit: Exit) {
        if let Some(r) = &mut self.recorder
            && let Err(e) = r.finish(exit as i32)
        {
            warn(&e, Some(r.path()));
        }
        self.recorder = None;
    }
}

/// What went wrong, where, and what to do; the run goes on as if nothing happened.
fn warn(err: &HistoryError, path: Option<&Path>) {
    let dir = path
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| ".".to_string(), |d| d.display().to_string());
    let text = format!(
        "warning: this run is not recorded in the history: {err}\n  hint: the run itself is \
         unaffected (its exit code too); {}; or record elsewhere with --history FILE or \
         VMUP_HISTORY=FILE, or not at all with --no-history",
        remedy(err, &dir)
    );
    eprintln!("{}", safe(&text));
}

/// What would let the next run be recorded.
fn remedy(err: &HistoryError, dir: &str) -> String {
    use rusqlite::ErrorCode;
    let code = match err {
        HistoryError::Sqlite {
            source: rusqlite::Error::SqliteFailure(e, _),
            ..
        } => Some(e.code),
        _ => None,
    };
    match (err, code) {
        (_, Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)) => {
            "another vmup was writing it: later runs record again".to_string()
        }
        (_, Some(ErrorCode::DiskFull)) => format!("free space where {dir} is"),
        (HistoryError::Newer { .. }, _) => "use the newer vmup to read it".to_string(),
        (HistoryError::NoHome, _) => "set HOME or XDG_STATE_HOME".to_string(),
        _ => format!("make {dir} (and the file in it) writable for this user"),
    }
}
