//! Transports carry one generated POSIX sh script to a host and bring its output back.
//!
//! A transport knows nothing about facts, plans or files: it runs a script (fed to `sh -s`
//! on the host) and returns stdout, stderr and the exit status kept apart. Everything the
//! engine does on a machine goes through [`Transport::run`], so the local, in-process ssh
//! and OpenSSH transports are drop-in replacements for each other.

pub mod connect;
pub mod elevate;
pub mod hold;
pub mod known_hosts;
pub mod local;
pub mod logged;
pub mod openssh;
mod pattern;
pub mod scripted;
pub mod ssh;
pub mod ssh_config;
pub mod synthetic;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use elevate::BecomeMethod;

/// How vmup reaches a machine; what `transport = "..."` says in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// The in-process ssh client (default).
    Ssh,
    /// The system OpenSSH client with connection sharing.
    Openssh,
    /// This machine's shell, over a directory tree (`root`).
    Local,
    /// A stand-in that answers like the tree `root` (see `transport::synthetic`): for
    /// measuring the controller at sizes no test machine can host.
    Synthetic,
}

impl TransportKind {
    /// True for the kinds whose scripts run on this machine over a tree (`root`), where
    /// `become` means nothing and `vmup run` would run the command on the controller.
    pub fn is_tree(self) -> bool {
        matches!(self, TransportKind::Local | TransportKind::Synthetic)
    }
}

/// Which ssh algorithms a host is offered; what `ssh_algorithms = "..."` says in the
/// inventory. CentOS 4's OpenSSH 3.9p1 knows only SHA-1 key exchanges, `ssh-rsa` with SHA-1
/// signatures, `ssh-dss` and CBC/CTR ciphers with hmac-sha1: offering those to every host
/// would weaken modern ones, so they are offered when a server refused the modern set, or
/// where the inventory says the host needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlgorithmPolicy {
    /// The modern set; the legacy set on a second handshake only when the server had no
    /// algorithm of the first in common (default).
    #[default]
    Auto,
    /// The modern set only: a server that knows none of it is unreachable.
    Modern,
    /// The legacy set appended to the modern one from the first handshake on (no wasted
    /// handshake on a host known to be old).
    Legacy,
}

impl AlgorithmPolicy {
    /// The inventory's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlgorithmPolicy::Auto => "auto",
            AlgorithmPolicy::Modern => "modern",
            AlgorithmPolicy::Legacy => "legacy",
        }
    }
}

/// The algorithms a connection was made with, when the legacy set was needed: the report
/// names them, so an operator sees which hosts still run on SHA-1 and CBC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    /// True when the legacy set was offered (after a refusal, or as the inventory says).
    pub legacy: bool,
    /// Key exchange; `None` where the transport cannot tell (the OpenSSH client).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kex: Option<String>,
    /// Host key algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_key: Option<String>,
    /// Cipher (client to server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher: Option<String>,
    /// MAC (client to server).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// The `-o` options given to ssh(1) for the legacy set (the OpenSSH client).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

impl Negotiated {
    /// One line for people: what was used, and why it is worth knowing.
    pub fn note(&self) -> String {
        let mut used: Vec<String> = [
            ("kex", &self.kex),
            ("host key", &self.host_key),
            ("cipher", &self.cipher),
            ("mac", &self.mac),
        ]
        .iter()
        .filter_map(|(what, v)| v.as_ref().map(|v| format!("{what} {v}")))
        .collect();
        used.extend(self.options.iter().map(|o| format!("-o {o}")));
        format!(
            "ssh: legacy algorithms (the host knows no modern ones): {}",
            used.join(", ")
        )
    }
}

/// One machine as the transport layer sees it: enough to pick its transport and reach it.
/// The inventory's hosts describe themselves this way (`Host::endpoint`), so this layer
/// needs nothing from the layers above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Inventory name; matched against ssh_config `Host` patterns and used in every error.
    pub name: String,
    /// Address or DNS name to connect to; `None` connects to the name (through ssh_config).
    pub address: Option<String>,
    /// Remote user; `None` leaves it to ssh_config, else the local user.
    pub user: Option<String>,
    /// ssh port; `None` leaves it to ssh_config, else 22.
    pub port: Option<u16>,
    /// Which transport reaches it.
    pub kind: TransportKind,
    /// For [`TransportKind::Local`] and [`TransportKind::Synthetic`]: the directory every
    /// path is taken under.
    pub root: Option<PathBuf>,
    /// For [`TransportKind::Synthetic`]: how long each script takes to answer.
    pub latency: Duration,
    /// Which ssh algorithms it is offered.
    pub algorithms: AlgorithmPolicy,
    /// How its scripts become root (`become`), or `None` to run them as the login user.
    /// Only the network transports use it: the local one runs as whoever runs vmup.
    pub become_method: Option<BecomeMethod>,
}

/// What one remote script produced; stdout and stderr are kept apart so that fact parsing
/// never sees diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteOutput {
    /// Bytes the script wrote to standard output.
    pub stdout: Vec<u8>,
    /// Bytes the script wrote to standard error.
    pub stderr: Vec<u8>,
    /// Exit status of `sh`; `None` when the remote side reported no status (killed by a signal).
    pub status: Option<i32>,
}

/// Why a script could not be run; [`TransportError::is_unreachable`] separates "never got
/// there" (reported as `unreachable`) from failures of a host that answered.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The host could not be connected to at all (refused, no route, connect timeout).
    #[error("cannot connect to {host}: {reason}")]
    Unreachable {
        /// Inventory name of the host.
        host: String,
        /// What the network or the ssh layer said.
        reason: String,
    },
    /// The host presented a key that is unknown or differs from the known_hosts entry.
    #[error("host key for {host} refused ({reason}); known hosts file: {}", known_hosts.display())]
    HostKey {
        /// Inventory name of the host.
        host: String,
        /// The known_hosts file that was consulted.
        known_hosts: PathBuf,
        /// Unknown key, changed key, and the fingerprint seen.
        reason: String,
    },
    /// The server refused every credential offered.
    #[error("authentication failed for {user}@{host}: {reason}")]
    Auth {
        /// Inventory name of the host.
        host: String,
        /// Remote user name.
        user: String,
        /// Which methods and keys were tried.
        reason: String,
    },
    /// The connection was made but the script did not finish in time.
    #[error("{host}: remote command timed out after {}s", after.as_secs())]
    Timeout {
        /// Inventory name of the host.
        host: String,
        /// The limit that was exceeded.
        after: Duration,
    },
    /// The login worked, but sudo or doas refused to run the script as root (a password is
    /// needed, the user has no rule, the program is missing): nothing ran on the host.
    #[error("{host}: {} -n refused to run the script as root ({said:?}); nothing ran. To fix: {fix}", method.as_str())]
    Become {
        /// Inventory name of the host.
        host: String,
        /// The become method that refused.
        method: BecomeMethod,
        /// Its message (the first line of stderr).
        said: String,
        /// What to configure on the host, naming the user.
        fix: String,
    },
    /// Anything else on an established connection (channel closed, local spawn failure).
    #[error("{host}: {reason}")]
    Io {
        /// Inventory name of the host.
        host: String,
        /// What went wrong.
        reason: String,
    },
}

impl TransportError {
    /// True when the host was never reached, so the run reports it `unreachable` rather than
    /// `failed`: nothing can have changed on it.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            TransportError::Unreachable { .. }
                | TransportError::HostKey { .. }
                | TransportError::Auth { .. }
        )
    }
}

/// Runs generated scripts on one host. One value per host for a whole run, so connection
/// based transports can keep a single connection open across facts, apply and verify.
pub trait Transport: Send + Sync {
    /// Runs `script` with `sh -s` on the host, feeding it on standard input.
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError>;

    /// Runs `script` like [`Transport::run`] and leaves its shell running, so that the next
    /// script (`run` or `run_held`) needs no channel and no shell of its own: a host with
    /// changes then costs one exec for its facts and its apply, where the channel and shell
    /// were about as much of the host's CPU as everything the facts script starts. The next
    /// script sees the variables and functions this one left (scripts set what they use).
    /// Transports without a session of their own run it alone. A transport holds one shell
    /// at a time: callers run a host's scripts in order (the engine's phases), never two at
    /// once; a held shell found dead before the next script is replaced, not used.
    fn run_held(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        self.run(script)
    }

    /// Ends the shell a [`Transport::run_held`] left running, when no script follows
    /// (nothing to apply): it should not wait, idle, until the end of the run.
    fn release(&self) {}

    /// The algorithms the connection was made with, when the legacy set was needed (else
    /// `None`: nothing worth reporting).
    fn negotiated(&self) -> Option<Negotiated> {
        None
    }
}
