//! A strict scripted transport for tests: it answers only the scripts it was told to
//! expect, in order, and fails on anything else.
//!
//! Engine tests use it to prove what crosses the wire: that `plan` sends one script, that
//! a failed apply sends no verify, that an interrupted host sends nothing after its facts.
//! Each expectation names what the script must contain and how to answer: run the script
//! with this machine's `sh` (the real script against a real tree), give a fixed output, or
//! fail like a transport does. An unexpected script is answered with an error and recorded;
//! [`ScriptedTransport::verify`] (called by the test, and on drop) fails when a script was
//! unexpected or an expectation was never met.

use std::collections::VecDeque;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use super::{RemoteOutput, Transport, TransportError};

/// How to answer an expected script.
pub enum Reply {
    /// Run the script with `/bin/sh -s` here and return what it printed.
    Run,
    /// Run it with this `PATH` (where a test put stand-ins for the host's tools).
    RunWithPath(String),
    /// Run it, then cut its standard output just before the first occurrence of this
    /// text, as a connection lost mid-script would.
    RunCutAt(&'static str),
    /// Return this output without running anything.
    Output(RemoteOutput),
    /// Fail as the transport would: `unreachable` when true, an I/O error otherwise.
    Fail {
        /// True for "cannot connect", false for a broken established connection.
        unreachable: bool,
    },
}

struct Expectation {
    label: String,
    needle: String,
    absent: Option<String>,
    reply: Reply,
}

/// A transport that answers a fixed sequence of scripts.
pub struct ScriptedTransport {
    host: String,
    expected: Mutex<VecDeque<Expectation>>,
    problems: Mutex<Vec<String>>,
}

impl ScriptedTransport {
    /// A transport for `host` expecting nothing yet.
    pub fn new(host: &str) -> ScriptedTransport {
        ScriptedTransport {
            host: host.to_string(),
            expected: Mutex::new(VecDeque::new()),
            problems: Mutex::new(Vec::new()),
        }
    }

    /// Expects, next, a script containing `needle` (e.g. `vmup_path` for a facts script),
    /// answered by `reply`; `label` names it in failures.
    pub fn expect(self, label: &str, needle: &str, reply: Reply) -> ScriptedTransport {
        if let Ok(mut queue) = self.expected.lock() {
            queue.push_back(Expectation {
                label: label.to_string(),
                needle: needle.to_string(),
                absent: None,
                reply,
            });
        }
        self
    }

    /// The script expected last must also not contain `absent`: a later facts round
    /// proven to ask only for what the earlier ones did not give.
    pub fn lacking(self, absent: &str) -> ScriptedTransport {
        if let Ok(mut queue) = self.expected.lock()
            && let Some(last) = queue.back_mut()
        {
            last.absent = Some(absent.to_string());
        }
        self
    }

    /// Every expectation met and no unexpected script; otherwise what went wrong.
    pub fn verify(&self) -> Result<(), String> {
        let mut problems = self.problems.lock().map(|p| p.clone()).unwrap_or_default();
        if let Ok(queue) = self.expected.lock() {
            problems.extend(queue.iter().map(|e| {
                format!(
                    "expected {} (a script containing {:?}) was never sent",
                    e.label, e.needle
                )
            }));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: {}", self.host, problems.join("; ")))
        }
    }

    fn unexpected(&self, why: String) -> TransportError {
        if let Ok(mut p) = self.problems.lock() {
            p.push(why.clone());
        }
        TransportError::Io {
            host: self.host.clone(),
            reason: why,
        }
    }
}

impl Transport for ScriptedTransport {
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        let next = self.expected.lock().ok().and_then(|mut q| q.pop_front());
        let Some(expectation) = next else {
            return Err(self.unexpected(format!(
                "unexpected script (nothing more was expected): {}",
                first_lines(script)
            )));
        };
        let text = String::from_utf8_lossy(script);
        if !text.contains(&expectation.needle) {
            return Err(self.unexpected(format!(
                "expected {} (a script containing {:?}), got: {}",
                expectation.label,
                expectation.needle,
                first_lines(script)
            )));
        }
        if let Some(absent) = expectation.absent.as_deref().filter(|a| text.contains(a)) {
            return Err(self.unexpected(format!(
                "expected {} without {absent:?}, got: {}",
                expectation.label,
                first_lines(script)
            )));
        }
        match expectation.reply {
            Reply::Output(output) => Ok(output),
            Reply::Fail { unreachable: true } => Err(TransportError::Unreachable {
                host: self.host.clone(),
                reason: format!("scripted failure at {}", expectation.label),
            }),
            Reply::Fail { unreachable: false } => Err(TransportError::Io {
                host: self.host.clone(),
                reason: format!("scripted failure at {}", expectation.label),
            }),
            Reply::Run => run_here(&self.host, script, None),
            Reply::RunWithPath(path) => run_here(&self.host, script, Some(path.as_str())),
            Reply::RunCutAt(text) => {
                let mut out = run_here(&self.host, script, None)?;
                if let Some(at) = out
                    .stdout
                    .windows(text.len())
                    .position(|w| w == text.as_bytes())
                {
                    out.stdout.truncate(at);
                }
                out.status = None;
                Ok(out)
            }
        }
    }
}

impl Drop for ScriptedTransport {
    fn drop(&mut self) {
        if !std::thread::panicking()
            && let Err(e) = self.verify()
        {
            panic!("{e}");
        }
    }
}

/// The first lines of a script after its fixed prelude, for messages.
fn first_lines(script: &[u8]) -> String {
    let text = String::from_utf8_lossy(script);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("vmup_"))
        .take(2)
        .collect();
    if lines.is_empty() {
        text.lines().take(2).collect::<Vec<_>>().join(" / ")
    } else {
        lines.join(" / ")
    }
}

fn run_here(host: &str, script: &[u8], path: Option<&str>) -> Result<RemoteOutput, TransportError> {
    let io = |reason: String| TransportError::Io {
        host: host.to_string(),
        reason,
    };
    let mut command = Command::new("/bin/sh");
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let mut child = command
        .arg("-s")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io(format!("cannot start /bin/sh: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script)
            .map_err(|e| io(format!("writing the script: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| io(format!("waiting for /bin/sh: {e}")))?;
    Ok(RemoteOutput {
        stdout: out.stdout,
        stderr: out.stderr,
        status: out.status.code(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_order_and_refuses_the_unexpected() {
        let t = ScriptedTransport::new("h")
            .expect("first", "echo one", Reply::Run)
            .expect(
                "second",
                "two",
                Reply::Output(RemoteOutput {
                    stdout: b"canned".to_vec(),
                    ..RemoteOutput::default()
                }),
            );
        assert_eq!(t.run(b"echo one").unwrap().stdout, b"one\n");
        assert_eq!(t.run(b"two").unwrap().stdout, b"canned");
        assert!(t.verify().is_ok());
        let e = t.run(b"three").unwrap_err().to_string();
        assert!(e.contains("nothing more was expected"), "{e}");
        assert!(t.verify().is_err());
        std::mem::forget(t); // its drop would fail this test on purpose
    }

    #[test]
    fn a_missed_expectation_or_a_wrong_script_is_reported() {
        let t = ScriptedTransport::new("h").expect("facts", "vmup_path", Reply::Run);
        assert!(t.verify().unwrap_err().contains("expected facts"));
        assert!(t.run(b"rm -rf /nowhere").is_err());
        assert!(t.verify().unwrap_err().contains("got: rm -rf /nowhere"));
        std::mem::forget(t);
    }
}
