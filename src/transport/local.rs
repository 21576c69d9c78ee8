//! The local transport: runs scripts with this machine's `/bin/sh`.
//!
//! Used for a guest disk mounted on the host or a test tree (`transport = "local"`,
//! `root = DIR`). The root is not a chroot: the engine prefixes every path in the generated
//! script with it, so the very scripts the ssh transport sends are what runs here.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{RemoteOutput, Transport, TransportError};

/// Runs scripts locally with `sh -s`.
#[derive(Debug, Clone)]
pub struct LocalTransport {
    host: String,
    root: Option<PathBuf>,
}

impl LocalTransport {
    /// A transport for the inventory host `host` (named in errors).
    pub fn new(host: &str) -> LocalTransport {
        LocalTransport {
            host: host.to_string(),
            root: None,
        }
    }

    /// A transport for a host that is the directory tree `root`: a missing tree makes the
    /// host unreachable, instead of every file in it looking absent.
    pub fn with_root(host: &str, root: Option<PathBuf>) -> LocalTransport {
        LocalTransport {
            host: host.to_string(),
            root,
        }
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
        let mut child = Command::new("/bin/sh")
            .arg("-s")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io(format!("cannot start /bin/sh: {e}")))?;
        // Feed stdin from a thread so a large script cannot deadlock against full pipes.
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| io("no stdin pipe".into()))?;
        let script = script.to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&script));
        let output = child
            .wait_with_output()
            .map_err(|e| io(format!("waiting for /bin/sh: {e}")))?;
        match writer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Ok(Err(e)) => return Err(io(format!("writing the script: {e}"))),
            Err(_) => return Err(io("script writer panicked".into())),
        }
        Ok(RemoteOutput {
            stdout: output.stdout,
            stderr: output.stderr,
            status: output.status.code(),
        })
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
    fn large_scripts_do_not_deadlock() {
        let mut script = String::from(": '");
        script.push_str(&"x".repeat(1 << 20));
        script.push_str("'\nhead -c 300000 /dev/zero | tr '\\0' y\n");
        let out = LocalTransport::new("t").run(script.as_bytes()).unwrap();
        assert_eq!(out.stdout.len(), 300000);
    }
}
