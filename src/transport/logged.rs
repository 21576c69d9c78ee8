//! Every transport's scripts in the log (`-vv`): how big, how long, how they ended. Never
//! what they said: a script carries file contents and template values, and its output the
//! host's files.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::{Negotiated, RemoteOutput, Transport, TransportError};

/// A transport whose runs are logged; made by the connector around each one it builds, so
/// no transport can forget to.
pub struct Logged {
    inner: Box<dyn Transport>,
    host: String,
    kind: &'static str,
    runs: AtomicUsize,
}

impl Logged {
    /// `inner`, the `kind` transport of `host`, logged.
    pub fn new(inner: Box<dyn Transport>, host: &str, kind: &'static str) -> Logged {
        Logged {
            inner,
            host: host.to_string(),
            kind,
            runs: AtomicUsize::new(0),
        }
    }
}

impl Transport for Logged {
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        self.logged(script, false)
    }

    fn run_held(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        self.logged(script, true)
    }

    fn release(&self) {
        self.inner.release()
    }

    fn negotiated(&self) -> Option<Negotiated> {
        self.inner.negotiated()
    }
}

impl Logged {
    /// Runs `script` (held: its shell left running) with a log record before and after.
    fn logged(&self, script: &[u8], held: bool) -> Result<RemoteOutput, TransportError> {
        let n = self.runs.fetch_add(1, Ordering::Relaxed) + 1;
        let host = &self.host;
        log::debug!(
            "{host}: script {n} ({} bytes) over {}{}",
            script.len(),
            self.kind,
            if held {
                ", its shell kept for the next"
            } else {
                ""
            }
        );
        let started = Instant::now();
        let result = if held {
            self.inner.run_held(script)
        } else {
            self.inner.run(script)
        };
        let took = started.elapsed().as_secs_f64();
        match &result {
            Ok(out) => log::debug!(
                "{host}: script {n} ended with {} in {took:.3}s ({} bytes out, {} bytes of errors)",
                out.status
                    .map_or("no exit status".to_string(), |s| format!("exit status {s}")),
                out.stdout.len(),
                out.stderr.len()
            ),
            Err(e) => log::info!("{host}: script {n} not run after {took:.3}s: {e}"),
        }
        result
    }
}
