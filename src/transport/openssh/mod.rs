//! The `openssh` transport: runs scripts through the system `ssh` client, for what the
//! in-process client does not cover (GSSAPI/Kerberos, smartcards, `Match`, `ProxyCommand`,
//! host certificates...).
//!
//! Each run spawns `ssh ... <name> sh -s` with the script on stdin (`sudo -n sh -s` with
//! `become`, see [`super::elevate`]). The first run for a host
//! leaves a ControlMaster behind (`ControlPersist=60`, socket in a private 0700 directory),
//! so later runs reuse that one authenticated connection and only pay for the client
//! process (about 70 ms of CPU each on this testbed). `BatchMode=yes` means ssh never prompts;
//! host key checking is left to the user's ssh_config (vmup never passes
//! `StrictHostKeyChecking=no`). `LogLevel=ERROR` keeps ssh's warnings out of the script's
//! stderr.
//!
//! ssh reports its own failures with exit status 255, which a script can also return; a 255
//! is turned into [`TransportError::HostKey`], [`TransportError::Auth`] or
//! [`TransportError::Unreachable`] only when stderr carries ssh's matching message,
//! otherwise it is the script's status.
//!
//! Dropping the [`OpensshContext`] stops every master it started (`ssh -O exit` on each socket
//! of its directory, 32 at a time) and removes the directory.
//!
//! The ControlPath is `%C`, a hash of local host, HostName, port and user: two inventory names
//! for the same machine and user share one master (and so its authentication).

mod failure;

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::elevate::{refusal, remote_argv};
use super::ssh::SshTarget;
use super::ssh_config::SshConfig;
use super::{AlgorithmPolicy, Negotiated, RemoteOutput, Transport, TransportError};
use failure::classify_ssh_failure;

/// Owner of the ControlMaster socket directory for one run; hands out per-host transports.
pub struct OpensshContext {
    shared: Arc<Shared>,
}

struct Shared {
    program: PathBuf,
    dir: PathBuf,
    config_file: Option<PathBuf>,
    connect_timeout: Duration,
    command_timeout: Option<Duration>,
    /// Parsed config, only to name the right known_hosts file in host key errors.
    config: Option<SshConfig>,
}

impl OpensshContext {
    /// Creates the private socket directory; `config_file` is passed to ssh as `-F`.
    pub fn new(
        config_file: Option<PathBuf>,
        connect_timeout: Duration,
        command_timeout: Option<Duration>,
    ) -> Result<Self, TransportError> {
        let dir = make_socket_dir().map_err(|e| TransportError::Io {
            host: "(openssh)".to_string(),
            reason: format!("cannot create the ControlPath directory: {e}"),
        })?;
        let config = SshConfig::load(config_file.as_deref()).ok();
        Ok(OpensshContext {
            shared: Arc::new(Shared {
                program: PathBuf::from("ssh"),
                dir,
                config_file,
                connect_timeout,
                command_timeout,
                config,
            }),
        })
    }

    /// A transport for one host (cheap; nothing is started until the first run).
    pub fn transport(&self, target: SshTarget) -> OpensshTransport {
        OpensshTransport {
            shared: Arc::clone(&self.shared),
            target,
            legacy: AtomicBool::new(false),
        }
    }

    /// The private directory holding the ControlMaster sockets.
    pub fn socket_dir(&self) -> &Path {
        &self.shared.dir
    }
}

impl Drop for OpensshContext {
    fn drop(&mut self) {
        // Every socket in our private directory is a master this context started. The
        // literal ControlPath needs no destination (`vmup` is a placeholder) and `-F
        // /dev/null` keeps the user's config out of it. Batches bound the process count.
        let sockets: Vec<PathBuf> = match std::fs::read_dir(&self.shared.dir) {
            Ok(entries) => entries.filter_map(Result::ok).map(|e| e.path()).collect(),
            Err(_) => Vec::new(),
        };
        for batch in sockets.chunks(32) {
            let mut children: Vec<Child> = batch
                .iter()
                .filter_map(|socket| {
                    let mut control_path = OsString::from("ControlPath=");
                    control_path.push(socket.as_os_str());
                    Command::new(&self.shared.program)
                        .args(["-F", "/dev/null", "-o"])
                        .arg(control_path)
                        .args(["-O", "exit", "vmup"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .ok()
                })
                .collect();
            let deadline = Instant::now() + Duration::from_secs(10);
            for child in &mut children {
                while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(2));
                }
                if matches!(child.try_wait(), Ok(None)) {
                    // Our own `ssh -O exit` child, by its handle.
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.shared.dir);
    }
}

/// Runs scripts on one host with the system ssh client, sharing one master connection.
pub struct OpensshTransport {
    shared: Arc<Shared>,
    target: SshTarget,
    /// Set once the host needed the legacy algorithms (and a run with them succeeded or
    /// is under way): later runs pass them at once.
    legacy: AtomicBool,
}

/// What ssh(1) is given, on top of its defaults, for a server that knows only what
/// OpenSSH 3.9p1 (CentOS 4) knows: SHA-1 key exchanges, `ssh-rsa` with SHA-1 signatures
/// and `ssh-dss` (host keys and client keys), CBC ciphers, hmac-sha1 and hmac-md5. A `+`
/// appends to ssh's own list, so the modern algorithms stay first.
pub const LEGACY_OPTIONS: &[&str] = &[
    "KexAlgorithms=+diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1",
    "HostKeyAlgorithms=+ssh-rsa,ssh-dss",
    // First (^), not appended: such a server verifies no other signature, whatever its
    // `server-sig-algs` may say.
    "PubkeyAcceptedAlgorithms=^ssh-rsa,ssh-dss",
    "Ciphers=+aes128-cbc,aes192-cbc,aes256-cbc,3des-cbc",
    "MACs=+hmac-sha1,hmac-md5",
];

impl Shared {
    /// Options common to runs and to `-O exit`: everything that determines the ControlPath.
    fn common_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(file) = &self.config_file {
            args.push("-F".into());
            args.push(file.into());
        }
        let mut control_path = OsString::from("ControlPath=");
        control_path.push(self.dir.as_os_str());
        control_path.push("/%C");
        for option in [
            OsString::from("BatchMode=yes"),
            OsString::from("ControlMaster=auto"),
            control_path,
            OsString::from("ControlPersist=60"),
            OsString::from("LogLevel=ERROR"),
        ] {
            args.push("-o".into());
            args.push(option);
        }
        args
    }

    fn known_hosts_for(&self, name: &str) -> PathBuf {
        let configured = self
            .config
            .as_ref()
            .and_then(|c| c.resolve(name).user_known_hosts_files.into_iter().next());
        configured.unwrap_or_else(|| match super::ssh_config::home_dir() {
            Some(home) => home.join(".ssh/known_hosts"),
            None => PathBuf::from("~/.ssh/known_hosts"),
        })
    }
}

impl OpensshTransport {
    /// `[-l user] [-p port] [-o HostName=address] -- name`: what selects the host.
    fn destination_args(&self) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        if let Some(user) = &self.target.user {
            args.push("-l".into());
            args.push(user.into());
        }
        if let Some(port) = self.target.port {
            args.push("-p".into());
            args.push(port.to_string().into());
        }
        if let Some(address) = &self.target.address {
            args.push("-o".into());
            args.push(format!("HostName={address}").into());
        }
        args.push("--".into());
        args.push((&self.target.name).into());
        args
    }

    fn command(&self, legacy: bool) -> Command {
        let mut cmd = Command::new(&self.shared.program);
        cmd.args(self.shared.common_args());
        if legacy {
            for option in LEGACY_OPTIONS {
                cmd.arg("-o").arg(option);
            }
        }
        // A host's own ConnectTimeout in ssh_config wins, as in the in-process transport;
        // an `-o` on the command line would override it.
        let configured = self
            .shared
            .config
            .as_ref()
            .is_some_and(|c| c.resolve(&self.target.name).connect_timeout.is_some());
        if !configured {
            let secs = self.shared.connect_timeout.as_secs_f64().ceil().max(1.0);
            cmd.arg("-o").arg(format!("ConnectTimeout={secs}"));
        }
        cmd.arg("-T");
        cmd.args(self.destination_args());
        // `sh -s`, or `sudo -n sh -s` with become: fixed words, no value of the inventory.
        cmd.args(remote_argv(self.target.become_method));
        log::debug!(
            "{}: {}",
            self.target.name,
            std::iter::once(cmd.get_program())
                .chain(cmd.get_args())
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        // Its own process group: a Ctrl-C at the terminal must not kill the ssh client (and
        // with it a remote apply half-way); vmup decides what starts next.
        cmd.process_group(0);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

impl Transport for OpensshTransport {
    /// Runs with ssh's defaults; a server that shares no algorithm with them (ssh's
    /// `Unable to negotiate`, before anything was sent) is tried once more with
    /// [`LEGACY_OPTIONS`] when the host's `ssh_algorithms` allows it.
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        let policy = self.target.algorithms;
        let legacy = policy == AlgorithmPolicy::Legacy || self.legacy.load(Ordering::Relaxed);
        let refused = |e: &TransportError| matches!(e, TransportError::Unreachable { reason, .. } if reason.contains("Unable to negotiate"));
        match self.run_with(script, legacy) {
            Err(e) if refused(&e) && !legacy && policy == AlgorithmPolicy::Auto => {
                log::info!(
                    "{}: ssh could not negotiate with ssh's defaults: trying the legacy options",
                    self.target.name
                );
                self.legacy.store(true, Ordering::Relaxed);
                self.run_with(script, true)
                    .map_err(|e| if refused(&e) { with_legacy_said(e) } else { e })
            }
            Err(e) if refused(&e) && legacy => Err(with_legacy_said(e)),
            Err(TransportError::Unreachable { host, reason })
                if policy == AlgorithmPolicy::Modern && reason.contains("Unable to negotiate") =>
            {
                Err(TransportError::Unreachable {
                    host,
                    reason: format!(
                        "{reason}; the inventory says ssh_algorithms = \"modern\" for it: set \"auto\" or \"legacy\" if the host is old"
                    ),
                })
            }
            other => other,
        }
    }

    fn negotiated(&self) -> Option<Negotiated> {
        let legacy = self.target.algorithms == AlgorithmPolicy::Legacy
            || self.legacy.load(Ordering::Relaxed);
        legacy.then(|| Negotiated {
            legacy: true,
            kex: None,
            host_key: None,
            cipher: None,
            mac: None,
            options: LEGACY_OPTIONS.iter().map(|o| o.to_string()).collect(),
        })
    }
}

/// A negotiation refusal after the legacy set was offered too: says so, with the options.
fn with_legacy_said(e: TransportError) -> TransportError {
    match e {
        TransportError::Unreachable { host, reason } => TransportError::Unreachable {
            host,
            reason: format!(
                "{reason}; ssh offered its defaults and the legacy set (-o {})",
                LEGACY_OPTIONS.join(" -o ")
            ),
        },
        other => other,
    }
}

impl OpensshTransport {
    /// One ssh client run, with the legacy options when `legacy`.
    fn run_with(&self, script: &[u8], legacy: bool) -> Result<RemoteOutput, TransportError> {
        let host = self.target.name.clone();
        let io_error = |reason: String| TransportError::Io {
            host: host.clone(),
            reason,
        };
        let mut child = self
            .command(legacy)
            .spawn()
            .map_err(|e| io_error(format!("cannot start ssh: {e}")))?;

        let stdin = child.stdin.take();
        let script = script.to_vec();
        let writer = std::thread::spawn(move || {
            if let Some(mut stdin) = stdin {
                // ssh closing stdin early (the script exited) is not an error of ours.
                let _ = stdin.write_all(&script);
            }
        });
        let (tx, rx) = std::sync::mpsc::channel::<(bool, Vec<u8>)>();
        for (is_stdout, pipe) in [
            (
                true,
                child
                    .stdout
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            ),
            (
                false,
                child
                    .stderr
                    .take()
                    .map(|p| Box::new(p) as Box<dyn Read + Send>),
            ),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut buf);
                }
                let _ = tx.send((is_stdout, buf));
            });
        }
        drop(tx);

        let deadline = self.shared.command_timeout.map(|t| Instant::now() + t);
        let mut out = RemoteOutput::default();
        for _ in 0..2 {
            let received = match deadline {
                None => rx.recv().ok(),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(left) {
                        Ok(msg) => Some(msg),
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                            // Our own child, by its handle: the ssh client (mux client), whose
                            // death closes the session channel on the master.
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err(TransportError::Timeout {
                                host,
                                after: self.shared.command_timeout.unwrap_or_default(),
                            });
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => None,
                    }
                }
            };
            match received {
                Some((true, bytes)) => out.stdout = bytes,
                Some((false, bytes)) => out.stderr = bytes,
                None => break,
            }
        }
        let status = child
            .wait()
            .map_err(|e| io_error(format!("cannot wait for ssh: {e}")))?;
        let _ = writer.join();
        out.status = status.code();
        if out.status == Some(255)
            && let Some(error) = classify_ssh_failure(
                &host,
                self.target.user.as_deref(),
                &out.stderr,
                self.shared.connect_timeout,
                || self.shared.known_hosts_for(&self.target.name),
            )
        {
            return Err(error);
        }
        // ssh says why it could not agree on algorithms only at LogLevel INFO, which the
        // runs keep off (it would put ssh's notices in every script's stderr). A 255 with
        // nothing on either stream is asked once more, at INFO, without running anything
        // but `true`: a negotiation refusal is then named like the other failures.
        if out.status == Some(255)
            && out.stdout.is_empty()
            && out.stderr.is_empty()
            && let Some(line) = self.negotiation_refusal(legacy)
        {
            return Err(TransportError::Unreachable {
                host,
                reason: format!("ssh: {line}"),
            });
        }
        let refused = self
            .target
            .become_method
            .and_then(|m| refusal(m, &host, self.target.user.as_deref(), &out));
        match refused {
            Some(refused) => Err(refused),
            None => Ok(out),
        }
    }

    /// ssh's `Unable to negotiate ...` line for this host, if a fresh connection (no
    /// ControlMaster, LogLevel INFO, remote command `true`) ends with one.
    fn negotiation_refusal(&self, legacy: bool) -> Option<String> {
        let mut cmd = Command::new(&self.shared.program);
        if let Some(file) = &self.shared.config_file {
            cmd.arg("-F").arg(file);
        }
        for option in ["BatchMode=yes", "ControlPath=none", "LogLevel=INFO"] {
            cmd.arg("-o").arg(option);
        }
        if legacy {
            for option in LEGACY_OPTIONS {
                cmd.arg("-o").arg(option);
            }
        }
        let secs = self.shared.connect_timeout.as_secs_f64().ceil().max(1.0);
        cmd.arg("-o")
            .arg(format!("ConnectTimeout={secs}"))
            .arg("-T");
        cmd.args(self.destination_args()).arg("true");
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let out = cmd.output().ok()?;
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .find(|l| l.contains("Unable to negotiate"))
            .map(|l| l.trim().to_string())
    }
}

/// Creates a fresh 0700 directory for ControlMaster sockets, short enough for a socket path
/// (`sun_path` is 108 bytes and `%C` adds 41).
fn make_socket_dir() -> std::io::Result<PathBuf> {
    let temp = std::env::temp_dir();
    let text = temp.to_string_lossy();
    let base = if text.len() > 40 || text.contains(|c: char| c.is_whitespace() || c == '%') {
        PathBuf::from("/tmp")
    } else {
        temp
    };
    let pid = std::process::id();
    let mut last_error = None;
    for attempt in 0..32u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(attempt);
        let dir = base.join(format!("vmup-ssh-{pid}-{:x}", nanos ^ attempt));
        // mkdir fails if the name exists (even as a symlink), so the directory is ours.
        match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_error = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| std::io::Error::other("no free directory name")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::BecomeMethod;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn socket_dir_is_private_and_removed_on_drop() {
        let context = match OpensshContext::new(None, Duration::from_secs(3), None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let dir = context.socket_dir().to_path_buf();
        let mode = std::fs::metadata(&dir).map(|m| m.permissions().mode() & 0o777);
        assert!(matches!(mode, Ok(0o700)));
        assert!(dir.as_os_str().len() + 42 < 104);
        drop(context);
        assert!(!dir.exists());
    }

    #[test]
    fn arguments_guard_the_destination() {
        let context = match OpensshContext::new(
            Some(PathBuf::from("/cfg")),
            Duration::from_millis(1500),
            None,
        ) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let transport = context.transport(SshTarget {
            name: "-oProxyCommand=evil".into(),
            address: Some("10.0.0.1".into()),
            user: Some("ops".into()),
            port: Some(2222),
            algorithms: AlgorithmPolicy::Auto,
            become_method: None,
        });
        let cmd = transport.command(false);
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(joined.starts_with("-F /cfg -o BatchMode=yes -o ControlMaster=auto"));
        assert!(joined.contains("-o ConnectTimeout=2 -T -l ops -p 2222 -o HostName=10.0.0.1"));
        assert!(joined.ends_with("-- -oProxyCommand=evil sh -s"), "{joined}");
        assert!(!joined.contains("StrictHostKeyChecking"));
        assert!(!joined.contains("KexAlgorithms"), "{joined}");
        // The legacy set goes before the destination, every option its own -o, and
        // appends (+) to ssh's own lists.
        let legacy: Vec<String> = transport
            .command(true)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let legacy = legacy.join(" ");
        let destination = legacy.find(" -- ").unwrap_or(0);
        for option in LEGACY_OPTIONS {
            let at = legacy.find(&format!("-o {option}")).unwrap_or(usize::MAX);
            assert!(at < destination, "{option} in {legacy}");
            assert!(option.contains("=+") || option.contains("=^"), "{option}");
        }
        assert!(!legacy.contains("StrictHostKeyChecking"));
    }

    #[test]
    fn become_wraps_the_one_command_after_the_destination() {
        let context = match OpensshContext::new(None, Duration::from_secs(3), None) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        for (method, tail) in [
            (None, vec!["--", "g01", "sh", "-s"]),
            (
                Some(BecomeMethod::Sudo),
                vec!["--", "g01", "sudo", "-n", "sh", "-s"],
            ),
            (
                Some(BecomeMethod::Doas),
                vec!["--", "g01", "doas", "-n", "sh", "-s"],
            ),
        ] {
            let transport = context.transport(SshTarget {
                name: "g01".into(),
                user: Some("-oops".into()),
                become_method: method,
                ..SshTarget::default()
            });
            let args: Vec<String> = transport
                .command(false)
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            // Exactly the fixed words after `--`: the user goes to `-l` and nowhere else.
            assert_eq!(args[args.len() - tail.len()..], tail[..], "{args:?}");
            assert_eq!(args.iter().filter(|a| a.as_str() == "-oops").count(), 1);
            let at = args.iter().position(|a| a == "-oops").unwrap_or(0);
            assert_eq!(args[at - 1], "-l");
        }
    }
}
