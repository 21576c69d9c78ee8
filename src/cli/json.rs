//! `--json`: one JSON object per host as it finishes, then one summary object.
//!
//! Host lines: `{"host", "phase", "status", "changes": [{"step", "resource", "path",
//! "summary", "diff", "output"}], "error", "notes", "elapsed", "round_trips"}` (`output`:
//! what an applied command printed, only when there is some); each run ends with a
//! `{"summary": {...}}` line, which also names the run's `command` (the command, or
//! the lifecycle step) and, for a `--shard K/N` run, its `shard`: what `vmup report merge`
//! checks the shards of one run by. `apply` with a runbook's `recreate` or `reboot` steps makes one
//! run per step after the apply's, so a machine's last line is its final state. Nothing
//! else is printed on stdout.

use std::io::Write;
use std::sync::Mutex;

use vmup::engine::shard::Shard;
use vmup::engine::{Event, EventSink};

/// Writes JSON lines to stdout as events arrive.
pub struct JsonLines {
    out: Mutex<std::io::Stdout>,
    command: String,
    shard: Option<Shard>,
}

impl JsonLines {
    /// A sink writing to standard output for the run `command` names (of shard `shard`).
    pub fn stdout(command: &str, shard: Option<Shard>) -> JsonLines {
        JsonLines {
            out: Mutex::new(std::io::stdout()),
            command: command.to_string(),
            shard,
        }
    }

    fn line(&self, value: &impl serde::Serialize) {
        if let (Ok(text), Ok(mut out)) = (serde_json::to_string(value), self.out.lock()) {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

impl EventSink for JsonLines {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::HostFinished(report) => self.line(report),
            Event::RunFinished { summary, .. } => {
                let mut line = serde_json::json!({ "summary": summary });
                line["summary"]["command"] = self.command.clone().into();
                if let Some(shard) = self.shard {
                    line["summary"]["shard"] = shard.to_string().into();
                }
                self.line(&line)
            }
            _ => {}
        }
    }
}
