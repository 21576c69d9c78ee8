//! The default transport: an in-process ssh client keeping ONE connection per host for the
//! whole run and opening one `sh -s` exec channel per script.
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
//!   [`super::known_hosts`] and [`StrictHostKeyChecking`]; as ssh(1) does, host key
//!   algorithms already listed for the host are preferred in negotiation;
//! - legacy algorithms (diffie-hellman-group14/group-exchange/group1 with SHA-1, ECDH NIST,
//!   hmac-sha1) are offered *after* the modern ones, because the fleet includes CentOS 4-6
//!   guests whose sshd knows nothing newer; negotiation picks the first algorithm both sides
//!   support, so modern servers are unaffected;
//! - `ProxyJump` (one or several comma-separated hops) uses direct-tcpip channels; each hop is
//!   resolved through the same config (a hop's own `ProxyJump` is not followed);
//! - the connection is opened on the first [`SshTransport::run`], reused afterwards, and
//!   opened again (before sending anything) if it was found closed, e.g. after the guest was
//!   rebooted; a script is never sent twice;
//! - the command timeout sends SIGKILL to the remote shell (if sshd honours signal requests)
//!   and closes the channel; processes the script started may outlive it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, Msg};
use russh::keys::PublicKeyOrCertificate;
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::{Channel, ChannelMsg, MethodKind, Preferred, Sig};
use tokio::io::{AsyncRead, AsyncWrite};

use super::known_hosts::{self, KnownHostsFile, Verdict};
use super::ssh_config::{
    self, HostConfig, IdentityAgent, Overrides, SshConfig, StrictHostKeyChecking,
};
use super::{RemoteOutput, Transport, TransportError};

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
        }
    }
}

/// The in-process transport for one host: one connection for the run, one exec per script.
pub struct SshTransport {
    _runtime: Arc<RuntimeOwner>,
    handle: Option<tokio::runtime::Handle>,
    shared: Arc<Shared>,
    target: Arc<SshTarget>,
    connection: Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>,
    commands: Arc<AtomicUsize>,
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
        };
        let script = script.to_vec();
        handle.spawn(async move {
            let result = job.run(script).await;
            let _ = tx.send(result);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(TransportError::Io {
                host,
                reason: "the ssh task ended without an answer (runtime shut down?)".to_string(),
            })
        })
    }
}

/// An authenticated connection; jump host sessions are kept alive alongside.
struct Connection {
    session: Handle<ClientHandler>,
    _jumps: Vec<Handle<ClientHandler>>,
}

/// What one `run` needs, moved onto the runtime.
struct Job {
    shared: Arc<Shared>,
    target: Arc<SshTarget>,
    connection: Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>,
    commands: Arc<AtomicUsize>,
}

impl Job {
    async fn run(self, script: Vec<u8>) -> Result<RemoteOutput, TransportError> {
        let host = self.target.name.as_str();
        let (connection, reused) = self.connection(false).await?;
        let channel = match self.open_channel(&connection).await {
            Ok(channel) => channel,
            // A connection that died since the last script (reboot, idle drop): nothing was
            // sent on it yet, so connecting again is safe.
            Err(_) if reused => {
                let (connection, _) = self.connection(true).await?;
                self.open_channel(&connection)
                    .await
                    .map_err(|reason| TransportError::Io {
                        host: host.to_string(),
                        reason,
                    })?
            }
            Err(reason) => {
                return Err(TransportError::Io {
                    host: host.to_string(),
                    reason,
                });
            }
        };
        self.commands.fetch_add(1, Ordering::SeqCst);
        exec_script(channel, script, self.shared.command_timeout, host).await
    }

    /// Opens a session channel, bounded by the connect timeout (a silently dead peer would
    /// otherwise only be noticed by keepalives a minute later).
    async fn open_channel(&self, connection: &Connection) -> Result<Channel<Msg>, String> {
        let limit = self.shared.connect_timeout;
        match tokio::time::timeout(limit, connection.session.channel_open_session()).await {
            Ok(Ok(channel)) => Ok(channel),
            Ok(Err(e)) => Err(format!("cannot open an ssh session channel: {e}")),
            Err(_) => Err(format!(
                "opening an ssh session channel timed out after {}",
                seconds(limit)
            )),
        }
    }

    /// The live connection, connecting when there is none, it was closed, or `fresh` asks.
    async fn connection(&self, fresh: bool) -> Result<(Arc<Connection>, bool), TransportError> {
        let mut slot = self.connection.lock().await;
        if !fresh
            && let Some(existing) = slot.as_ref()
            && !existing.session.is_closed()
        {
            return Ok((Arc::clone(existing), true));
        }
        *slot = None;
        let connection = Arc::new(connect(&self.shared, &self.target).await?);
        *slot = Some(Arc::clone(&connection));
        Ok((connection, false))
    }
}

/// Runs `sh -s` on an open session channel with `script` as stdin.
async fn exec_script(
    channel: Channel<Msg>,
    script: Vec<u8>,
    timeout: Option<Duration>,
    host: &str,
) -> Result<RemoteOutput, TransportError> {
    let io_error = |reason: String| TransportError::Io {
        host: host.to_string(),
        reason,
    };
    let (mut read, write) = channel.split();
    let exchange = async {
        write
            .exec(true, "sh -s")
            .await
            .map_err(|e| io_error(format!("cannot start sh -s: {e}")))?;
        // Feed stdin and drain stdout/stderr at the same time: a script that prints a lot
        // while its tail is still being sent would otherwise deadlock on flow control.
        let send = async {
            write.data_bytes(script).await?;
            write.eof().await
        };
        let collect = async {
            let mut out = RemoteOutput::default();
            let mut refused = false;
            let mut closed = false;
            let mut signal = None;
            while let Some(msg) = read.wait().await {
                match msg {
                    ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, ext: 1 } => {
                        out.stderr.extend_from_slice(&data)
                    }
                    ChannelMsg::ExitStatus { exit_status } => {
                        out.status = Some(i32::try_from(exit_status).unwrap_or(i32::MAX))
                    }
                    ChannelMsg::ExitSignal { signal_name, .. } => signal = Some(signal_name),
                    ChannelMsg::Failure => refused = true,
                    ChannelMsg::Close => {
                        closed = true;
                        break;
                    }
                    _ => {}
                }
            }
            (out, refused, closed || signal.is_some())
        };
        tokio::pin!(send);
        tokio::pin!(collect);
        let mut send_result: Option<Result<(), russh::Error>> = None;
        let (out, refused, closed) = loop {
            tokio::select! {
                r = &mut send, if send_result.is_none() => send_result = Some(r),
                collected = &mut collect => break collected,
            }
        };
        if refused {
            return Err(io_error("sshd refused to run sh -s".to_string()));
        }
        if out.status.is_none() && !closed {
            let detail = match send_result {
                Some(Err(e)) => format!(" (sending the script failed: {e})"),
                _ => String::new(),
            };
            return Err(io_error(format!(
                "connection lost while the script was running{detail}"
            )));
        }
        Ok(out)
    };
    match timeout {
        None => exchange.await,
        Some(limit) => match tokio::time::timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => {
                let _ = write.signal(Sig::KILL).await;
                let _ = write.close().await;
                Err(TransportError::Timeout {
                    host: host.to_string(),
                    after: limit,
                })
            }
        },
    }
}

/// One machine on the way to the target (a jump host or the target itself).
struct Endpoint {
    hostname: String,
    port: u16,
    user: String,
    config: HostConfig,
    connect_timeout: Duration,
    /// Prefix for error reasons: empty for the target, "via jump host X: " for hops.
    via: String,
}

impl Endpoint {
    fn new(shared: &Shared, alias: &str, config: HostConfig, jump: bool) -> Endpoint {
        Endpoint {
            hostname: config.hostname.clone().unwrap_or_else(|| alias.to_string()),
            port: config.port.unwrap_or(22),
            user: config
                .user
                .clone()
                .or_else(|| shared.default_user.clone())
                .unwrap_or_else(|| shared.local_user.clone()),
            connect_timeout: config.connect_timeout.unwrap_or(shared.connect_timeout),
            via: if jump {
                format!("via jump host {alias}: ")
            } else {
                String::new()
            },
            config,
        }
    }
}

/// A byte stream an ssh session can run over: TCP, or a direct-tcpip channel of a jump host.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Connects and authenticates to `target`, through its ProxyJump hops if any.
async fn connect(shared: &Arc<Shared>, target: &SshTarget) -> Result<Connection, TransportError> {
    let host = target.name.as_str();
    let unreachable = |reason: String| TransportError::Unreachable {
        host: host.to_string(),
        reason,
    };
    let config = shared.config.resolve_with(
        host,
        &Overrides {
            hostname: target.address.as_deref(),
            user: target.user.as_deref(),
            port: target.port,
        },
    );
    if !config.unsupported.is_empty() {
        return Err(unreachable(config.unsupported.join("; ")));
    }
    let mut chain = Vec::new();
    if let Some(spec) = &config.proxy_jump {
        for hop in parse_proxy_jump(spec)
            .map_err(|e| unreachable(format!("bad ProxyJump '{spec}': {e}")))?
        {
            let hop_config = shared.config.resolve_with(
                &hop.host,
                &Overrides {
                    hostname: None,
                    user: hop.user.as_deref(),
                    port: hop.port,
                },
            );
            if !hop_config.unsupported.is_empty() {
                return Err(unreachable(format!(
                    "via jump host {}: {}",
                    hop.host,
                    hop_config.unsupported.join("; ")
                )));
            }
            chain.push(Endpoint::new(shared, &hop.host, hop_config, true));
        }
    }
    chain.push(Endpoint::new(shared, host, config, false));

    let first = &chain[0];
    let tcp = tcp_connect(&first.hostname, first.port, first.connect_timeout)
        .await
        .map_err(|reason| unreachable(format!("{}{reason}", first.via)))?;
    let mut stream: Box<dyn Stream> = Box::new(tcp);
    let mut jumps = Vec::new();
    let last = chain.len() - 1;
    for (index, endpoint) in chain.iter().enumerate() {
        let session = establish(shared, host, endpoint, stream).await?;
        if index == last {
            return Ok(Connection {
                session,
                _jumps: jumps,
            });
        }
        let next = &chain[index + 1];
        let open = session.channel_open_direct_tcpip(
            next.hostname.clone(),
            u32::from(next.port),
            "127.0.0.1",
            0,
        );
        let channel = match tokio::time::timeout(next.connect_timeout, open).await {
            Ok(Ok(channel)) => channel,
            Ok(Err(e)) => {
                return Err(unreachable(format!(
                    "{}cannot reach {}:{} from it: {e}",
                    endpoint.via, next.hostname, next.port
                )));
            }
            Err(_) => {
                return Err(unreachable(format!(
                    "{}connect to {}:{} timed out after {}",
                    endpoint.via,
                    next.hostname,
                    next.port,
                    seconds(next.connect_timeout)
                )));
            }
        };
        stream = Box::new(channel.into_stream());
        jumps.push(session);
    }
    Err(unreachable("empty connection chain".to_string()))
}

/// Opens the TCP connection with Nagle off (each script is a few small writes).
async fn tcp_connect(
    hostname: &str,
    port: u16,
    limit: Duration,
) -> Result<tokio::net::TcpStream, String> {
    match tokio::time::timeout(limit, tokio::net::TcpStream::connect((hostname, port))).await {
        Err(_) => Err(format!("connect timed out after {}", seconds(limit))),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            Err(format!("connection refused by {hostname} port {port}"))
        }
        Ok(Err(e)) => Err(format!("cannot connect to {hostname} port {port}: {e}")),
        Ok(Ok(stream)) => {
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
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

/// Runs the ssh handshake (with host key check) and authentication over `stream`.
async fn establish(
    shared: &Arc<Shared>,
    host: &str,
    endpoint: &Endpoint,
    stream: Box<dyn Stream>,
) -> Result<Handle<ClientHandler>, TransportError> {
    let name = known_hosts::host_key_name(&endpoint.hostname, endpoint.port);
    let user_files = if endpoint.config.user_known_hosts_files.is_empty() {
        match &shared.home {
            Some(home) => vec![
                home.join(".ssh/known_hosts"),
                home.join(".ssh/known_hosts2"),
            ],
            None => Vec::new(),
        }
    } else {
        endpoint.config.user_known_hosts_files.clone()
    };
    let mut files = Vec::new();
    let record_to = user_files.first().cloned();
    for path in user_files.iter().map(PathBuf::as_path).chain([
        Path::new("/etc/ssh/ssh_known_hosts"),
        Path::new("/etc/ssh/ssh_known_hosts2"),
    ]) {
        files.push(
            shared
                .known_hosts_file(path)
                .map_err(|e| TransportError::HostKey {
                    host: host.to_string(),
                    known_hosts: path.to_path_buf(),
                    reason: format!("{}cannot read known hosts file: {e}", endpoint.via),
                })?,
        );
    }
    let known_types: Vec<String> = files.iter().flat_map(|f| f.key_types_for(&name)).collect();
    let handler = ClientHandler {
        shared: Arc::clone(shared),
        host: host.to_string(),
        via: endpoint.via.clone(),
        name,
        files,
        record_to,
        policy: endpoint
            .config
            .strict_host_key_checking
            .unwrap_or(StrictHostKeyChecking::Yes),
    };
    let limit = endpoint.connect_timeout;
    let handshake = client::connect_stream(Arc::new(client_config(&known_types)), stream, handler);
    let mut session = match tokio::time::timeout(limit, handshake).await {
        Err(_) => {
            return Err(TransportError::Unreachable {
                host: host.to_string(),
                reason: format!(
                    "{}ssh handshake timed out after {}",
                    endpoint.via,
                    seconds(limit)
                ),
            });
        }
        Ok(Err(HandlerError::HostKey(e))) => return Err(*e),
        Ok(Err(HandlerError::Ssh(e))) => {
            return Err(TransportError::Unreachable {
                host: host.to_string(),
                reason: format!("{}ssh handshake failed: {e}", endpoint.via),
            });
        }
        Ok(Ok(session)) => session,
    };
    match tokio::time::timeout(limit, authenticate(shared, host, endpoint, &mut session)).await {
        Ok(result) => result.map(|()| session),
        Err(_) => Err(TransportError::Auth {
            host: host.to_string(),
            user: endpoint.user.clone(),
            reason: format!(
                "{}authentication timed out after {}",
                endpoint.via,
                seconds(limit)
            ),
        }),
    }
}

/// russh settings for one connection: Nagle off, keepalives, host key algorithms already
/// known for the host first, legacy algorithms last (see the module docs).
fn client_config(known_types: &[String]) -> client::Config {
    let defaults = Preferred::default();
    let mut key: Vec<Algorithm> = defaults.key.to_vec();
    let type_name = |a: &Algorithm| match a {
        Algorithm::Rsa { .. } => "ssh-rsa".to_string(),
        other => other.as_str().to_string(),
    };
    // Stable sort: known types first, each group in russh's preference order.
    key.sort_by_key(|a| !known_types.contains(&type_name(a)));

    let mut kex: Vec<russh::kex::Name> = defaults
        .kex
        .iter()
        .copied()
        .filter(|k| !is_kex_extension(k))
        .collect();
    kex.extend([
        russh::kex::ECDH_SHA2_NISTP256,
        russh::kex::ECDH_SHA2_NISTP384,
        russh::kex::ECDH_SHA2_NISTP521,
        russh::kex::DH_G14_SHA1,
        russh::kex::DH_GEX_SHA1,
        russh::kex::DH_G1_SHA1,
    ]);
    kex.extend(defaults.kex.iter().copied().filter(is_kex_extension));

    let mut mac: Vec<russh::mac::Name> = defaults.mac.to_vec();
    mac.extend([russh::mac::HMAC_SHA1_ETM, russh::mac::HMAC_SHA1]);

    client::Config {
        preferred: Preferred {
            kex: Cow::Owned(kex),
            key: Cow::Owned(key),
            mac: Cow::Owned(mac),
            ..defaults
        },
        nodelay: true,
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 4,
        inactivity_timeout: None,
        ..client::Config::default()
    }
}

fn is_kex_extension(name: &russh::kex::Name) -> bool {
    [
        russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
        russh::kex::EXTENSION_SUPPORT_AS_SERVER,
        russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
    ]
    .contains(name)
}

/// Handler errors: russh's own, or our host key refusal carried out of the handshake.
#[derive(Debug)]
enum HandlerError {
    Ssh(russh::Error),
    HostKey(Box<TransportError>),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Ssh(e)
    }
}

/// Checks the server's host key during the handshake.
struct ClientHandler {
    shared: Arc<Shared>,
    host: String,
    via: String,
    name: String,
    files: Vec<Arc<KnownHostsFile>>,
    record_to: Option<PathBuf>,
    policy: StrictHostKeyChecking,
}

impl ClientHandler {
    fn refuse(&self, known_hosts: &Path, reason: String) -> HandlerError {
        HandlerError::HostKey(Box::new(TransportError::HostKey {
            host: self.host.clone(),
            known_hosts: known_hosts.to_path_buf(),
            reason: format!("{}{reason}", self.via),
        }))
    }

    fn decide(&self, key: &PublicKey) -> Result<bool, HandlerError> {
        let seen = format!(
            "{} {}",
            key.algorithm().as_str(),
            known_hosts::fingerprint(key)
        );
        let first_file = self
            .record_to
            .clone()
            .unwrap_or_else(|| PathBuf::from("~/.ssh/known_hosts"));
        match known_hosts::verify(self.files.iter().map(Arc::as_ref), &self.name, key) {
            Verdict::Trusted { .. } => Ok(true),
            verdict @ (Verdict::Revoked { .. } | Verdict::Changed { .. }) => {
                Err(self.refuse_verdict(&verdict, &seen))
            }
            Verdict::Unknown { other_types } => match self.policy {
                StrictHostKeyChecking::No => Ok(true),
                StrictHostKeyChecking::AcceptNew => {
                    match known_hosts::append(&first_file, &self.name, key) {
                        Ok(None) => {
                            self.shared.forget_known_hosts(&first_file);
                            Ok(true)
                        }
                        Ok(Some(Verdict::Trusted { .. })) => Ok(true),
                        Ok(Some(Verdict::Unknown { .. })) => Ok(true),
                        Ok(Some(verdict)) => Err(self.refuse_verdict(&verdict, &seen)),
                        Err(e) => Err(self.refuse(
                            &first_file,
                            format!("unknown host key {seen} could not be recorded: {e}"),
                        )),
                    }
                }
                StrictHostKeyChecking::Yes | StrictHostKeyChecking::Ask => {
                    let files: Vec<String> = self
                        .files
                        .iter()
                        .map(|f| f.path().display().to_string())
                        .collect();
                    let others = if other_types.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; keys of other types are known at {}",
                            other_types.join(", ")
                        )
                    };
                    Err(self.refuse(
                        &first_file,
                        format!(
                            "unknown host key for {}: {seen} is not in {}{others}; \
                             StrictHostKeyChecking is yes (accept-new would record it)",
                            self.name,
                            files.join(", ")
                        ),
                    ))
                }
            },
        }
    }

    fn refuse_verdict(&self, verdict: &Verdict, seen: &str) -> HandlerError {
        match verdict {
            Verdict::Revoked { path, line } => self.refuse(
                path,
                format!(
                    "host key {seen} for {} is marked @revoked at {}:{line}",
                    self.name,
                    path.display()
                ),
            ),
            Verdict::Changed {
                path,
                line,
                old_fingerprint,
            } => self.refuse(
                path,
                format!(
                    "host key CHANGED for {}: the server offered {seen}, but {}:{line} holds \
                     {old_fingerprint}; if the host was reinstalled, remove that line \
                     (ssh-keygen -R '{}' -f {})",
                    self.name,
                    path.display(),
                    self.name,
                    path.display()
                ),
            ),
            // Only revoked and changed keys are refused this way.
            Verdict::Trusted { .. } | Verdict::Unknown { .. } => self.refuse(
                self.record_to.as_deref().unwrap_or(Path::new("")),
                format!("internal error deciding on {seen}"),
            ),
        }
    }
}

impl client::Handler for ClientHandler {
    type Error = HandlerError;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => self.decide(key),
            PublicKeyOrCertificate::Certificate(_) => Err(self.refuse(
                self.record_to.as_deref().unwrap_or(Path::new("")),
                "the server presented a host certificate; host certificates are not supported \
                 by the in-process transport (use transport = openssh)"
                    .to_string(),
            )),
        }
    }
}

/// A private key file as found on disk, cached for the whole run.
#[derive(Debug)]
struct KeyFile {
    public: Option<PublicKey>,
    private: Option<Arc<PrivateKey>>,
    /// Why the key cannot be used directly (encrypted, unreadable); `None` when usable.
    problem: Option<String>,
    missing: bool,
}

impl KeyFile {
    fn load(path: &Path) -> KeyFile {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                return KeyFile {
                    public: None,
                    private: None,
                    missing: e.kind() == std::io::ErrorKind::NotFound,
                    problem: Some(format!("{}: cannot read: {e}", path.display())),
                };
            }
        };
        let public_from_pub_file = || {
            let mut pub_path = path.as_os_str().to_owned();
            pub_path.push(".pub");
            russh::keys::load_public_key(PathBuf::from(pub_path)).ok()
        };
        match russh::keys::decode_secret_key(&text, None) {
            Ok(key) => KeyFile {
                public: Some(key.public_key().clone()),
                private: Some(Arc::new(key)),
                problem: None,
                missing: false,
            },
            Err(e) => {
                let encrypted = matches!(e, russh::keys::Error::KeyIsEncrypted)
                    || text.contains("Proc-Type: 4,ENCRYPTED")
                    || text.contains("BEGIN ENCRYPTED PRIVATE KEY");
                // The OpenSSH format keeps the public half in clear even when encrypted.
                let public = PrivateKey::from_openssh(&text)
                    .ok()
                    .map(|k| k.public_key().clone())
                    .or_else(public_from_pub_file);
                let problem = if encrypted {
                    format!(
                        "{}: the private key is encrypted and vmup never asks for \
                         passphrases: load it into ssh-agent (ssh-add {})",
                        path.display(),
                        path.display()
                    )
                } else {
                    format!("{}: cannot use private key: {e}", path.display())
                };
                KeyFile {
                    public,
                    private: None,
                    problem: Some(problem),
                    missing: false,
                }
            }
        }
    }
}

impl Shared {
    fn key_file(&self, path: &Path) -> Arc<KeyFile> {
        if let Ok(cache) = self.keys.lock()
            && let Some(found) = cache.get(path)
        {
            return Arc::clone(found);
        }
        let loaded = Arc::new(KeyFile::load(path));
        if let Ok(mut cache) = self.keys.lock() {
            cache.insert(path.to_path_buf(), Arc::clone(&loaded));
        }
        loaded
    }

    fn known_hosts_file(&self, path: &Path) -> std::io::Result<Arc<KnownHostsFile>> {
        if let Ok(cache) = self.known_hosts.lock()
            && let Some(found) = cache.get(path)
        {
            return Ok(Arc::clone(found));
        }
        let loaded = Arc::new(KnownHostsFile::load(path)?);
        if let Ok(mut cache) = self.known_hosts.lock() {
            cache.insert(path.to_path_buf(), Arc::clone(&loaded));
        }
        Ok(loaded)
    }

    /// Drops a cached known_hosts file after we appended to it, so later connections see it.
    fn forget_known_hosts(&self, path: &Path) {
        if let Ok(mut cache) = self.known_hosts.lock() {
            cache.remove(path);
        }
    }

    fn agent_socket(&self, config: &HostConfig) -> Option<PathBuf> {
        match &config.identity_agent {
            Some(IdentityAgent::Disabled) => None,
            Some(IdentityAgent::Socket(path)) => Some(path.clone()),
            None => std::env::var_os("SSH_AUTH_SOCK")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// Public-key authentication: agent keys, then key files (see the module docs).
async fn authenticate(
    shared: &Arc<Shared>,
    host: &str,
    endpoint: &Endpoint,
    session: &mut Handle<ClientHandler>,
) -> Result<(), TransportError> {
    let user = endpoint.user.as_str();
    let explicit = !endpoint.config.identity_files.is_empty();
    let paths: Vec<PathBuf> = if explicit {
        endpoint.config.identity_files.clone()
    } else {
        match &shared.home {
            Some(home) => ["id_ed25519", "id_ecdsa", "id_rsa"]
                .iter()
                .map(|f| home.join(".ssh").join(f))
                .collect(),
            None => Vec::new(),
        }
    };
    let key_files: Vec<(PathBuf, Arc<KeyFile>)> = paths
        .into_iter()
        .map(|p| {
            let k = shared.key_file(&p);
            (p, k)
        })
        .filter(|(_, k)| explicit || !k.missing)
        .collect();

    let mut tried: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut offered: Vec<PublicKey> = Vec::new();
    let mut server_allows: Option<String> = None;
    let mut rsa_hash: Option<Option<HashAlg>> = None;
    let mut publickey_allowed = true;

    if let Some(socket) = shared.agent_socket(&endpoint.config) {
        match AgentClient::connect_uds(&socket).await {
            Err(e) => notes.push(format!("ssh-agent at {} unusable: {e}", socket.display())),
            Ok(mut agent) => {
                let identities = shared.agent_identities(&socket, &mut agent).await;
                match identities {
                    Err(e) => notes.push(format!(
                        "ssh-agent at {} did not list keys: {e}",
                        socket.display()
                    )),
                    Ok(keys) => {
                        for key in keys.iter() {
                            if endpoint.config.identities_only
                                && !key_files.iter().any(|(_, f)| {
                                    f.public
                                        .as_ref()
                                        .is_some_and(|p| p.key_data() == key.key_data())
                                })
                            {
                                continue;
                            }
                            let hash = if key.algorithm().is_rsa() {
                                rsa_hash_for(session, &mut rsa_hash).await
                            } else {
                                None
                            };
                            let label = format!("agent key {}", describe(key));
                            offered.push(key.clone());
                            match session
                                .authenticate_publickey_with(user, key.clone(), hash, &mut agent)
                                .await
                            {
                                Ok(AuthResult::Success) => return Ok(()),
                                Ok(AuthResult::Failure {
                                    remaining_methods, ..
                                }) => {
                                    tried.push(label);
                                    publickey_allowed =
                                        remaining_methods.contains(&MethodKind::PublicKey);
                                    server_allows = Some(method_names(&remaining_methods));
                                }
                                Err(e) => {
                                    tried.push(format!("{label} (agent could not sign: {e})"))
                                }
                            }
                            if !publickey_allowed {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    for (path, file) in &key_files {
        if !publickey_allowed {
            break;
        }
        if let Some(public) = &file.public
            && offered.iter().any(|o| o.key_data() == public.key_data())
        {
            continue;
        }
        let Some(private) = &file.private else {
            if let Some(problem) = &file.problem {
                notes.push(problem.clone());
            }
            continue;
        };
        let hash = if private.algorithm().is_rsa() {
            rsa_hash_for(session, &mut rsa_hash).await
        } else {
            None
        };
        let label = format!("{} ({})", path.display(), private.algorithm().as_str());
        match session
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(Arc::clone(private), hash))
            .await
        {
            Ok(AuthResult::Success) => return Ok(()),
            Ok(AuthResult::Failure {
                remaining_methods, ..
            }) => {
                tried.push(label);
                publickey_allowed = remaining_methods.contains(&MethodKind::PublicKey);
                server_allows = Some(method_names(&remaining_methods));
            }
            Err(e) => {
                return Err(TransportError::Unreachable {
                    host: host.to_string(),
                    reason: format!(
                        "{}connection failed during authentication: {e}",
                        endpoint.via
                    ),
                });
            }
        }
    }

    let mut reason = String::new();
    reason.push_str(&endpoint.via);
    if tried.is_empty() {
        reason.push_str("no key to offer");
        if shared.agent_socket(&endpoint.config).is_none() {
            reason.push_str(" (no ssh-agent: SSH_AUTH_SOCK unset or IdentityAgent none)");
        }
        if key_files.is_empty() {
            reason.push_str(" and no identity file (~/.ssh/id_ed25519, id_ecdsa, id_rsa)");
        }
    } else {
        reason.push_str("the server refused ");
        reason.push_str(&tried.join(", "));
    }
    for note in &notes {
        reason.push_str("; ");
        reason.push_str(note);
    }
    if let Some(methods) = server_allows {
        reason.push_str("; server accepts: ");
        reason.push_str(&methods);
    }
    Err(TransportError::Auth {
        host: host.to_string(),
        user: user.to_string(),
        reason,
    })
}

impl Shared {
    /// The agent's plain public keys (certificates are skipped), listed once per socket.
    async fn agent_identities(
        &self,
        socket: &Path,
        agent: &mut AgentClient<tokio::net::UnixStream>,
    ) -> Result<Arc<Vec<PublicKey>>, String> {
        let mut cache = self.agent_identities.lock().await;
        if let Some(keys) = cache.get(socket) {
            return Ok(Arc::clone(keys));
        }
        let identities = agent
            .request_identities()
            .await
            .map_err(|e| e.to_string())?;
        let keys: Arc<Vec<PublicKey>> = Arc::new(
            identities
                .into_iter()
                .filter_map(|id| match id {
                    AgentIdentity::PublicKey { key, .. } => Some(key),
                    AgentIdentity::Certificate { .. } => None,
                })
                .collect(),
        );
        cache.insert(socket.to_path_buf(), Arc::clone(&keys));
        Ok(keys)
    }
}

/// The RSA signature hash for this connection, asked of the server once.
async fn rsa_hash_for(
    session: &Handle<ClientHandler>,
    cached: &mut Option<Option<HashAlg>>,
) -> Option<HashAlg> {
    if let Some(hash) = cached {
        return *hash;
    }
    let hash = match session.best_supported_rsa_hash().await {
        Ok(Some(best)) => best,
        // No server-sig-algs: an OpenSSH older than 7.2, which only verifies ssh-rsa.
        Ok(None) => None,
        Err(_) => Some(HashAlg::Sha256),
    };
    *cached = Some(hash);
    hash
}

fn describe(key: &PublicKey) -> String {
    format!(
        "{} {}",
        key.algorithm().as_str(),
        known_hosts::fingerprint(key)
    )
}

fn method_names(methods: &russh::MethodSet) -> String {
    let names: Vec<&str> = methods.iter().map(<&str>::from).collect();
    if names.is_empty() {
        "nothing more".to_string()
    } else {
        names.join(",")
    }
}

/// One `ProxyJump` hop: `[user@]host[:port]` (or `ssh://[user@]host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct JumpHop {
    user: Option<String>,
    host: String,
    port: Option<u16>,
}

/// Splits a `ProxyJump` value into hops, first hop first.
fn parse_proxy_jump(spec: &str) -> Result<Vec<JumpHop>, String> {
    spec.split(',')
        .map(|hop| {
            let hop = hop.trim();
            let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
            let (user, rest) = match hop.rsplit_once('@') {
                Some((user, rest)) if !user.is_empty() => (Some(user.to_string()), rest),
                Some(_) => return Err(format!("empty user in '{hop}'")),
                None => (None, hop),
            };
            let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
                let Some((host, after)) = bracketed.split_once(']') else {
                    return Err(format!("missing ']' in '{hop}'"));
                };
                match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if after.is_empty() => (host, None),
                    None => return Err(format!("unexpected '{after}' in '{hop}'")),
                }
            } else {
                match rest.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (rest, None),
                }
            };
            if host.is_empty() {
                return Err(format!("empty host in '{hop}'"));
            }
            let port = match port {
                None => None,
                Some(p) => match p.parse::<u16>() {
                    Ok(p) if p > 0 => Some(p),
                    _ => return Err(format!("bad port '{p}' in '{hop}'")),
                },
            };
            Ok(JumpHop {
                user,
                host: host.to_string(),
                port,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_jump_forms() {
        assert_eq!(
            parse_proxy_jump("bastion"),
            Ok(vec![JumpHop {
                user: None,
                host: "bastion".into(),
                port: None
            }])
        );
        assert_eq!(
            parse_proxy_jump("ops@bastion:2222,ssh://root@[fe80::1]:22"),
            Ok(vec![
                JumpHop {
                    user: Some("ops".into()),
                    host: "bastion".into(),
                    port: Some(2222)
                },
                JumpHop {
                    user: Some("root".into()),
                    host: "fe80::1".into(),
                    port: Some(22)
                }
            ])
        );
        assert!(parse_proxy_jump("b:0").is_err());
        assert!(parse_proxy_jump("b:x").is_err());
        assert!(parse_proxy_jump("@b").is_err());
        assert!(parse_proxy_jump("a,,b").is_err());
        assert!(parse_proxy_jump("[::1").is_err());
    }

    #[test]
    fn config_prefers_known_key_types_and_keeps_legacy_last() {
        let config = client_config(&["ssh-rsa".to_string()]);
        assert!(matches!(config.preferred.key[0], Algorithm::Rsa { .. }));
        assert!(config.nodelay);
        let kex = &config.preferred.kex;
        let position = |n: russh::kex::Name| kex.iter().position(|k| *k == n);
        assert!(position(russh::kex::CURVE25519) < position(russh::kex::DH_G14_SHA1));
        assert!(
            position(russh::kex::DH_G14_SHA1) < position(russh::kex::EXTENSION_SUPPORT_AS_CLIENT)
        );
        assert_eq!(config.preferred.mac.last(), Some(&russh::mac::HMAC_SHA1));
        let default = client_config(&[]);
        assert_eq!(default.preferred.key[0], Algorithm::Ed25519);
    }

    #[test]
    fn seconds_format() {
        assert_eq!(seconds(Duration::from_secs(10)), "10s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5s");
    }

    #[test]
    fn key_file_problems_are_explained() {
        let missing = KeyFile::load(Path::new("/nonexistent/vmup/id_ed25519"));
        assert!(missing.missing);
        assert!(missing.private.is_none());
        let dir = std::env::temp_dir().join(format!("vmup-keyfile-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let garbage = dir.join("garbage");
        assert!(std::fs::write(&garbage, "not a key\n").is_ok());
        let bad = KeyFile::load(&garbage);
        assert!(!bad.missing);
        assert!(
            bad.problem
                .as_deref()
                .is_some_and(|p| p.contains("cannot use private key"))
        );
        let _ = std::fs::remove_dir_all(&dir);
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
