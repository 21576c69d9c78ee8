//! The local transport: runs scripts with this machine's `/bin/sh`.
//!
//! Used for a guest disk mounted on the host or a test tree (`transport = "local"`,
//! `root = DIR`). The root is not a chroot: the engine prefixes every path in the generated
//! script with it, so the very scripts the ssh transport sends are what runs here.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{RemoteOutput, Transport, TransportError};

/// Runs scripts locally with `sh -s`.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    host: String,
    root: Option<PathBuf>,
    command_timeout: Option<Duration>,
}

impl LocalTransport {
    /// A transport for the inventory host `host` (named in errors).
    pub fn new(host: &str) -> LocalTransport {
        LocalTransport {
            host: host.to_string(),
            root: None,
            command_timeout: None,
        }
    }

    /// A transport for a host that is the directory tree `root`: a missing tree makes the
    /// host unreachable, instead of every file in it looking absent.
    pub fn with_root(host: &str, root: Option<PathBuf>) -> LocalTransport {
        LocalTransport {
            host: host.to_string(),
            root,
            command_timeout: None,
        }
    }

    /// Stops a script that runs longer than `limit` (`--command-timeout`), as the network
    /// transports do: the script and everything it started are killed.
    pub fn with_command_timeout(mut self, limit: Option<Duration>) -> LocalTransport {
        self.command_timeout = limit;
        self
    }
}

impl Transport for LocalTransport {
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        if let Some(root) = self.root.as_ref().filter(|r| !r.is_dir()) {
            return Err(TransportError::Unreachable {
                host: self.host.clone(),
                reason: format!("its root {} is not a directory", root.display()),
            });
        }
        let io = |reason: String| TransportError::Io {
            host: self.host.clone(),
            reason,
        };
        // Its own process group: a Ctrl-C at the terminal goes to vmup's group, not to the
        // scripts, so a host in the middle of its apply finishes it (vmup decides what
        // starts next). The timeout kills the whole group.
        let mut child = Command::new("/bin/sh")
            .arg("-s")
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io(format!("cannot start /bin/sh: {e}")))?;
        // Feed stdin and drain the pipes from threads so a large script cannot deadlock
        // against full pipes.
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| io("no stdin pipe".into()))?;
        let script = script.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&script));
        let drain = |pipe: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut buf);
                }
                buf
            })
        };
        let stdout = drain(
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let stderr = drain(
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        );
        let deadline = self.command_timeout.map(|t| Instant::now() + t);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => return Err(io(format!("waiting for /bin/sh: {e}"))),
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                kill_group(child.id());
                let _ = child.wait();
                return Err(TransportError::Timeout {
                    host: self.host.clone(),
                    after: self.command_timeout.unwrap_or_default(),
                });
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let (stdout, stderr) = (stdout.join(), stderr.join());
        match writer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Ok(Err(e)) => return Err(io(format!("writing the script: {e}"))),
            Err(_) => return Err(io("script writer panicked".into())),
        }
        Ok(RemoteOutput {
            stdout: stdout.map_err(|_| io("stdout reader panicked".into()))?,
            stderr: stderr.map_err(|_| io("stderr reader panicked".into()))?,
            status: status.code(),
        })
    }
}

/// Kills the process group our own child leads (it was started with `process_group(0)`,
/// so its pid is the group id).
fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_streams_apart() {
        let out = LocalTransport::new("t")
            .run(b"echo out; echo err >&2; exit 5")
            .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status, Some(5));
    }

    #[test]
    fn a_missing_root_is_unreachable() {
        let err = LocalTransport::with_root("img", Some("/nonexistent/vmup/img".into()))
            .run(b"true")
            .unwrap_err();
        assert!(err.is_unreachable());
        assert_eq!(
            err.to_string(),
            "cannot connect to img: its root /nonexistent/vmup/img is not a directory"
        );
    }

    #[test]
    fn the_command_timeout_holds_and_kills_what_the_script_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("late");
        let started = std::time::Instant::now();
        let err = LocalTransport::new("t")
            .with_command_timeout(Some(Duration::from_millis(300)))
            .run(format!("sleep 5; touch '{}'", marker.display()).as_bytes())
            .unwrap_err();
        assert!(matches!(err, TransportError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(4));
        std::thread::sleep(Duration::from_millis(200));
        assert!(!marker.exists(), "the script's process group was killed");
    }

    #[test]
    fn large_scripts_do_not_deadlock() {
        let mut script = String::from(": '");
        script.push_str(&"x".repeat(1 << 20));
        script.push_str("'\nhead -c 300000 /dev/zero | tr '\\0' y\n");
        let out = LocalTransport::new("t").run(script.as_bytes()).unwrap();
        assert_eq!(out.stdout.len(), 300000);
    }
}
