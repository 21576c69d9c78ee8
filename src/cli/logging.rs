//! `-v` and `--log-file`: what vmup and its ssh client did, for the person debugging a host
//! that will not connect or a run that took too long.
//!
//! Standard error gets nothing by default (the report says what happened), `info` with
//! `-v`, `debug` with `-vv` and `trace` with `-vvv`. A log file gets at least `debug`
//! whatever `-v` says: it is read afterwards, when it is too late to run again with more
//! `v`s. russh logs its key exchange (the algorithms negotiated, the server's signature
//! algorithms) at `debug` through the `log` crate; before this they were thrown away.
//!
//! Secrets stay out. vmup logs sizes, exit statuses, durations and names, never a script's
//! body (it carries file contents and template values), a command's output, a variable or
//! key material. Other crates are capped at `debug`: their `trace` may show packet
//! contents.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::error::CliError;

/// The level standard error gets for `-v` given `count` times.
pub fn stderr_level(count: u8) -> LevelFilter {
    match count {
        0 => LevelFilter::Off,
        1 => LevelFilter::Info,
        2 => LevelFilter::Debug,
        _ => LevelFilter::Trace,
    }
}

/// The most any crate but vmup itself may log.
const OTHER_CRATES: LevelFilter = LevelFilter::Debug;

struct Logger {
    stderr: LevelFilter,
    file: Option<(LevelFilter, Mutex<File>)>,
}

impl Logger {
    fn allows(&self, level: LevelFilter, metadata: &Metadata<'_>) -> bool {
        let ours = metadata.target() == "vmup" || metadata.target().starts_with("vmup::");
        let level = if ours { level } else { level.min(OTHER_CRATES) };
        metadata.level() <= level
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.allows(self.stderr, metadata)
            || self
                .file
                .as_ref()
                .is_some_and(|(level, _)| self.allows(*level, metadata))
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = line(SystemTime::now(), record);
        if self.allows(self.stderr, record.metadata()) {
            eprint!("{}", super::safe::safe(&line));
        }
        if let Some((level, file)) = &self.file
            && self.allows(*level, record.metadata())
            && let Ok(mut file) = file.lock()
        {
            // A full disk loses log lines, never the run.
            let _ = file.write_all(line.as_bytes());
        }
    }

    fn flush(&self) {
        if let Some((_, file)) = &self.file
            && let Ok(mut file) = file.lock()
        {
            let _ = file.flush();
        }
    }
}

/// `2026-12-02T03:04:05.678Z DEBUG russh::client::kex: negotiated algorithms: ...`.
fn line(now: SystemTime, record: &Record<'_>) -> String {
    let level = match record.level() {
        Level::Error => "ERROR",
        Level::Warn => "WARN ",
        Level::Info => "INFO ",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    };
    format!(
        "{} {level} {}: {}\n",
        utc(now),
        record.target(),
        record.args()
    )
}

/// RFC 3339 in UTC with milliseconds, from the civil calendar (no time zone database).
pub fn utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's days-to-civil, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

/// Installs the logger for `-v` given `verbose` times and `--log-file`. The file is
/// appended to (a second run adds to the first), created readable by its owner only.
pub fn init(verbose: u8, log_file: Option<&Path>) -> Result<(), CliError> {
    let stderr = stderr_level(verbose);
    let file = match log_file {
        None => None,
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    CliError::input(format!("--log-file {}: {e}", path.display()))
                        .hint("give a file in a directory you can write")
                })?;
            Some((stderr.max(LevelFilter::Debug), Mutex::new(file)))
        }
    };
    let most = file.as_ref().map_or(stderr, |(l, _)| *l).max(stderr);
    if most == LevelFilter::Off {
        return Ok(());
    }
    let logger = Logger { stderr, file };
    log::set_boxed_logger(Box::new(logger))
        .map_err(|e| CliError::failed(format!("cannot install the logger: {e}")))?;
    log::set_max_level(most);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_rfc3339() {
        let at =
            |s: u64, ms: u64| utc(UNIX_EPOCH + Duration::from_secs(s) + Duration::from_millis(ms));
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_795_995_845, 678), "2026-11-29T23:44:05.678Z");
        assert_eq!(at(4_107_542_399, 999), "2100-02-28T23:59:59.999Z");
    }

    #[test]
    fn other_crates_never_trace() {
        let logger = Logger {
            stderr: LevelFilter::Trace,
            file: None,
        };
        let meta =
            |target: &'static str, level| Metadata::builder().target(target).level(level).build();
        assert!(logger.enabled(&meta("vmup::transport::ssh", Level::Trace)));
        assert!(logger.enabled(&meta("russh::client::kex", Level::Debug)));
        assert!(!logger.enabled(&meta("russh::cipher", Level::Trace)));
        assert!(!logger.enabled(&meta("vmupx", Level::Trace)));
        let quiet = Logger {
            stderr: stderr_level(0),
            file: None,
        };
        assert!(!quiet.enabled(&meta("vmup", Level::Error)));
        assert_eq!(stderr_level(1), LevelFilter::Info);
        assert_eq!(stderr_level(2), LevelFilter::Debug);
        assert_eq!(stderr_level(9), LevelFilter::Trace);
    }
}
