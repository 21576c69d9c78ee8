//! The default transport: an in-process ssh client keeping ONE connection per host for the
//! whole run and opening one `sh -s` exec channel per script, or per held script and the
//! ones after it in its shell ([`Transport::run_held`]: a host's facts and its apply).
//!
//! Why russh: it is the maintained pure-Rust SSH implementation (thrussh, which it forked, has
//! been dormant for years); it is async on tokio, so a fleet of 1,000 connections is served by
//! two worker threads instead of 1,000 blocking sessions; it needs no C library at build or run
//! time (the ssh2 crate binds libssh2 + OpenSSL, is blocking and serialises each session
//! behind a lock). Measured on this testbed: about 1 ms of controller CPU per host for connect,
//! authenticate and one exec, against about 70 ms per OpenSSH client process.
//!
//! Behaviour, in ssh(1) terms:
//! - settings come from [`SshConfig`] (see its docs), inventory address/user/port override
//!   `HostName`/`User`/`Port`; the user defaults to [`SshOptions::default_user`], else the
//!   local user;
//! - authentication is public-key only: agent keys first (`IdentityAgent`, else
//!   `$SSH_AUTH_SOCK`; with `IdentitiesOnly yes` only agent keys matching an identity file),
//!   then the identity files (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa` when none are
//!   configured). Encrypted key files are never prompted for: the error says to `ssh-add`
//!   them. RSA signs with rsa-sha2-512/256 as the server's `server-sig-algs` allow; a server
//!   that sends no such list (OpenSSH < 7.2, e.g. CentOS 5-7.3) gets `ssh-rsa`, the only
//!   algorithm it knows;
//! - host keys are checked against `UserKnownHostsFile` (default `~/.ssh/known_hosts` and
//!   `known_hosts2`) plus `/etc/ssh/ssh_known_hosts{,2}` (read only), see
//!   [`super::known_hosts`] and [`StrictHostKeyChecking`](super::ssh_config::StrictHostKeyChecking);
//!   as ssh(1) does, host key
//!   algorithms already listed for the host are preferred in negotiation;
//! - only modern algorithms are offered at first; a server that has none of them in common
//!   (CentOS 4's OpenSSH 3.9p1: SHA-1 key exchanges, `ssh-rsa`/`ssh-dss`, CBC) gets a second
//!   handshake offering the legacy set after the modern one, and the host's report says so
//!   with the algorithms used (`ssh_algorithms` in the inventory: `auto`, `modern` never
//!   falls back, `legacy` offers both at once); see `algorithms`;
//! - `ProxyJump` (one or several comma-separated hops) uses direct-tcpip channels; each hop is
//!   resolved through the same config (a hop's own `ProxyJump` is not followed);
//! - the connection is opened on the first [`SshTransport::run`], reused afterwards, and
//!   opened again (before sending anything) if it was found closed, e.g. after the guest was
//!   rebooted; a script is never sent twice;
//! - a script run with `run_held` leaves its shell reading standard input, and the next
//!   script is written into it instead of a new channel (see `super::hold`); a held shell
//!   whose channel or connection ended meanwhile is dropped and the next script gets a new
//!   channel;
//! - the command timeout sends SIGKILL to the remote shell (if sshd honours signal requests)
//!   and closes the channel; processes the script started may outlive it.
//!
//! This file holds the public types and the per-run shared state; the work is split by
//! concept: `connect` (target and hops, TCP, handshake), `algorithms` (what is offered),
//! `host_keys` (known_hosts and `StrictHostKeyChecking`), `auth` (agent and key files),
//! `proxy_jump` (parsing `ProxyJump`) and `exec` (an `sh -s` channel per script, or the
//! held one).

mod algorithms;
mod auth;
mod connect;
mod exec;
mod host_keys;
mod proxy_jump;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::keys::PublicKey;

use super::known_hosts::KnownHostsFile;
use super::ssh_config::{self, SshConfig};
use super::{AlgorithmPolicy, BecomeMethod, Negotiated, RemoteOutput, Transport, TransportError};
use auth::KeyFile;
use connect::Connection;
use exec::{Held, Job};

/// Everything the in-process client needs for a run; built once by the engine.
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Parsed ssh_config (`-F FILE` or the user's files).
    pub config: SshConfig,
    /// Limit for TCP connect, and again for the ssh handshake plus authentication, unless
    /// the host's `ConnectTimeout` says otherwise. Default 10 s.
    pub connect_timeout: Duration,
    /// Limit for one script from exec to exit status; `None` waits forever.
    pub command_timeout: Option<Duration>,
    /// Remote user when neither the inventory nor ssh_config names one (else the local user).
    pub default_user: Option<String>,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            config: SshConfig::default(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: None,
            default_user: None,
        }
    }
}

/// One inventory host, as the engine knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshTarget {
    /// Inventory name; matched against ssh_config `Host` patterns and used in every error.
    pub name: String,
    /// Inventory address; overrides `HostName`.
    pub address: Option<String>,
    /// Inventory user; overrides `User`.
    pub user: Option<String>,
    /// Inventory port; overrides `Port`.
    pub port: Option<u16>,
    /// Which algorithms it is offered.
    pub algorithms: AlgorithmPolicy,
    /// How its scripts become root (`sudo -n sh -s`), or `None` for `sh -s`.
    pub become_method: Option<BecomeMethod>,
}

/// Shared state of one run: the tokio runtime all connections live on, the configuration,
/// and caches (key files, known_hosts files, agent identities) so that 1,000 hosts read
/// each file once.
pub struct SshContext {
    runtime: Arc<RuntimeOwner>,
    shared: Arc<Shared>,
}

/// Owns the runtime and shuts it down without blocking when the last user goes away.
struct RuntimeOwner(Option<tokio::runtime::Runtime>);

impl Drop for RuntimeOwner {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What every connection of a run shares: settings, and the caches of files and agent keys.
struct Shared {
    config: SshConfig,
    connect_timeout: Duration,
    command_timeout: Option<Duration>,
    default_user: Option<String>,
    local_user: String,
    home: Option<PathBuf>,
    keys: Mutex<HashMap<PathBuf, Arc<KeyFile>>>,
    known_hosts: Mutex<HashMap<PathBuf, Arc<KnownHostsFile>>>,
    agent_identities: tokio::sync::Mutex<HashMap<PathBuf, Arc<Vec<PublicKey>>>>,
}

impl SshContext {
    /// Starts the shared runtime (two worker threads: the work is I/O and crypto bursts).
    pub fn new(options: SshOptions) -> Result<SshContext, TransportError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vmup-ssh")
            .enable_all()
            .build()
            .map_err(|e| TransportError::Io {
                host: "(ssh client)".to_string(),
                reason: format!("cannot start the ssh runtime: {e}"),
            })?;
        Ok(SshContext {
            runtime: Arc::new(RuntimeOwner(Some(runtime))),
            shared: Arc::new(Shared {
                config: options.config,
                connect_timeout: options.connect_timeout,
                command_timeout: options.command_timeout,
                default_user: options.default_user,
                local_user: ssh_config::local_user(),
                home: ssh_config::home_dir(),
                keys: Mutex::new(HashMap::new()),
                known_hosts: Mutex::new(HashMap::new()),
                agent_identities: tokio::sync::Mutex::new(HashMap::new()),
            }),
        })
    }

    /// A transport for one host; cheap, connects on its first [`Transport::run`].
    pub fn transport(&self, target: SshTarget) -> SshTransport {
        let handle = self
            .runtime
            .0
            .as_ref()
            .map(|runtime| runtime.handle().clone());
        SshTransport {
            _runtime: Arc::clone(&self.runtime),
            handle,
            shared: Arc::clone(&self.shared),
            target: Arc::new(target),
            connection: Arc::new(tokio::sync::Mutex::new(None)),
            commands: Arc::new(AtomicUsize::new(0)),
            legacy: Arc::new(AtomicBool::new(false)),
            negotiated: Arc::new(Mutex::new(None)),
            held: Mutex::new(None),
        }
    }
}

/// The in-process transport for one host: one connection for the run, one exec per script
/// (a held script's shell runs the next one).
pub struct SshTransport {
    _runtime: Arc<RuntimeOwner>,
    handle: Option<tokio::runtime::Handle>,
    shared: Arc<Shared>,
    target: Arc<SshTarget>,
    connection: Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>,
    commands: Arc<AtomicUsize>,
    legacy: Arc<AtomicBool>,
    negotiated: Arc<Mutex<Option<Negotiated>>>,
    /// The shell the last script left running ([`Transport::run_held`]), if any.
    held: Mutex<Option<Held>>,
}

impl SshTransport {
    /// Number of exec channels opened so far; lets tests prove connection reuse.
    pub fn commands_run(&self) -> usize {
        self.commands.load(Ordering::SeqCst)
    }
}

impl Drop for SshTransport {
    /// Says goodbye to the server (SSH_MSG_DISCONNECT) instead of just dropping the socket.
    fn drop(&mut self) {
        let Some(handle) = &self.handle else {
            return;
        };
        let connection = match self.connection.try_lock() {
            Ok(mut slot) => slot.take(),
            Err(_) => None,
        };
        if let Some(connection) = connection {
            handle.spawn(async move {
                let _ = connection
                    .session
                    .disconnect(russh::Disconnect::ByApplication, "", "en")
                    .await;
            });
        }
    }
}

impl Transport for SshTransport {
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        self.script(script, false)
    }

    fn run_held(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        self.script(script, true)
    }

    fn release(&self) {
        let held = self.held.lock().ok().and_then(|mut held| held.take());
        if let (Some(held), Some(handle)) = (held, &self.handle) {
            handle.spawn(held.release());
        }
    }

    fn negotiated(&self) -> Option<Negotiated> {
        self.negotiated.lock().ok().and_then(|n| n.clone())
    }
}

impl SshTransport {
    /// Runs `script` in the held shell or on a new channel; with `hold`, keeps its shell.
    fn script(&self, script: &[u8], hold: bool) -> Result<RemoteOutput, TransportError> {
        let host = self.target.name.clone();
        let Some(handle) = &self.handle else {
            return Err(TransportError::Io {
                host,
                reason: "the ssh runtime is not running".to_string(),
            });
        };
        // The work runs on the shared runtime; this (ordinary) thread only waits for the
        // answer, which is safe from any thread, unlike `Handle::block_on` inside a runtime.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job = Job {
            shared: Arc::clone(&self.shared),
            target: Arc::clone(&self.target),
            connection: Arc::clone(&self.connection),
            commands: Arc::clone(&self.commands),
            legacy: Arc::clone(&self.legacy),
            negotiated: Arc::clone(&self.negotiated),
        };
        let script = script.to_vec();
        let held = self.held.lock().ok().and_then(|mut held| held.take());
        handle.spawn(async move {
            let _ = tx.send(job.run(script, hold, held).await);
        });
        let (result, held) = rx.recv().unwrap_or_else(|_| {
            let reason = "the ssh task ended without an answer (runtime shut down?)";
            (
                Err(TransportError::Io {
                    host,
                    reason: reason.to_string(),
                }),
                None,
            )
        });
        if let Ok(mut slot) = self.held.lock() {
            *slot = held;
        }
        result
    }
}

/// Formats a duration for messages: "10s", "0.5s".
fn seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_format() {
        assert_eq!(seconds(Duration::from_secs(10)), "10s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5s");
    }

    #[test]
    fn run_without_runtime_is_an_error_not_a_panic() {
        let context = match SshContext::new(SshOptions::default()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let mut transport = context.transport(SshTarget {
            name: "h".into(),
            ..SshTarget::default()
        });
        transport.handle = None;
        assert!(matches!(
            transport.run(b"true"),
            Err(TransportError::Io { .. })
        ));
        assert_eq!(transport.commands_run(), 0);
    }
}
