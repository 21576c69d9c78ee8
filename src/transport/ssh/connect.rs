//! Connecting: resolving the target and its `ProxyJump` hops through ssh_config, TCP, then
//! for each peer in turn the handshake (host key check) and authentication, each bounded by
//! its connect timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use russh::client::{self, Handle};
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::ssh_config::{HostConfig, Overrides};
use super::super::{AlgorithmPolicy, Negotiated, TransportError};
use super::algorithms::{client_config, kind_name};
use super::auth::authenticate;
use super::host_keys::{ClientHandler, HandlerError, Used};
use super::proxy_jump::parse_proxy_jump;
use super::{Shared, SshTarget, seconds};

/// An authenticated connection; jump host sessions are kept alive alongside.
pub(super) struct Connection {
    /// The session with the target.
    pub(super) session: Handle<ClientHandler>,
    /// The sessions with the jump hosts, first hop first, kept so the tunnel stays open.
    pub(super) _jumps: Vec<Handle<ClientHandler>>,
    /// What the session with the target was made with, when the legacy set was offered.
    pub(super) negotiated: Option<Negotiated>,
    /// The user logged in as on the target (named when sudo refuses it).
    pub(super) user: String,
}

/// One machine on the way to the target (a jump host or the target itself).
pub(super) struct Peer {
    /// Where to connect: `HostName`, else the name itself.
    pub(super) hostname: String,
    /// `Port`, else 22.
    pub(super) port: u16,
    /// The user to authenticate as.
    pub(super) user: String,
    /// The peer's resolved ssh_config settings.
    pub(super) config: HostConfig,
    /// `ConnectTimeout`, else the run's connect timeout.
    pub(super) connect_timeout: Duration,
    /// Prefix for error reasons: empty for the target, "via jump host X: " for hops.
    pub(super) via: String,
}

impl Peer {
    /// The peer called `alias`, with defaults for what its config leaves unset.
    fn new(shared: &Shared, alias: &str, config: HostConfig, jump: bool) -> Peer {
        Peer {
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

/// Connects and authenticates to `target`, through its ProxyJump hops if any. `remembered`
/// is set once the target needed the legacy set, so its later connections in the run (after
/// a reboot) offer it at once.
pub(super) async fn connect(
    shared: &Arc<Shared>,
    target: &SshTarget,
    remembered: &AtomicBool,
) -> Result<Connection, TransportError> {
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
            chain.push(Peer::new(shared, &hop.host, hop_config, true));
        }
    }
    chain.push(Peer::new(shared, host, config, false));

    let last = chain.len() - 1;
    let mut jumps: Vec<Handle<ClientHandler>> = Vec::new();
    for (index, peer) in chain.iter().enumerate() {
        // Jump hosts are not in the inventory: they fall back like an `auto` host.
        let policy = if index == last {
            target.algorithms
        } else {
            AlgorithmPolicy::Auto
        };
        let mut legacy = policy == AlgorithmPolicy::Legacy
            || (index == last && remembered.load(Ordering::Relaxed));
        let (session, used) = loop {
            log::info!(
                "{host}: {}connecting to {}:{} as {} ({} algorithms)",
                peer.via,
                peer.hostname,
                peer.port,
                peer.user,
                if legacy { "legacy" } else { "modern" }
            );
            let stream = open_stream(host, &chain, index, jumps.last()).await?;
            match establish(shared, host, peer, stream, legacy).await {
                Ok(done) => break done,
                // Nothing was sent but the key exchange: a second handshake is safe.
                Err(Failure::NoCommon(e)) if !legacy && policy == AlgorithmPolicy::Auto => {
                    log::info!(
                        "{host}: {}no {} algorithm in common with the modern set (server: {}): trying the legacy set",
                        peer.via,
                        kind_name(&e.kind),
                        e.theirs.join(",")
                    );
                    legacy = true;
                }
                Err(Failure::NoCommon(e)) => {
                    return Err(no_common_algorithm(host, peer, &e, legacy, policy));
                }
                Err(Failure::Other(e)) => return Err(*e),
            }
        };
        if index == last {
            if legacy {
                remembered.store(true, Ordering::Relaxed);
            }
            return Ok(Connection {
                session,
                _jumps: jumps,
                user: peer.user.clone(),
                negotiated: legacy.then(|| Negotiated {
                    legacy,
                    kex: used.as_ref().map(|u| u.kex.clone()),
                    host_key: used.as_ref().map(|u| u.host_key.clone()),
                    cipher: used.as_ref().map(|u| u.cipher.clone()),
                    mac: used.as_ref().map(|u| u.mac.clone()),
                    options: Vec::new(),
                }),
            });
        }
        jumps.push(session);
    }
    Err(unreachable("empty connection chain".to_string()))
}

/// The byte stream to the chain's peer `index`: TCP for the first, else a direct-tcpip
/// channel through the previous hop's session.
async fn open_stream(
    host: &str,
    chain: &[Peer],
    index: usize,
    previous: Option<&Handle<ClientHandler>>,
) -> Result<Box<dyn Stream>, TransportError> {
    let unreachable = |reason: String| TransportError::Unreachable {
        host: host.to_string(),
        reason,
    };
    let peer = &chain[index];
    let Some(session) = previous.filter(|_| index > 0) else {
        let tcp = tcp_connect(&peer.hostname, peer.port, peer.connect_timeout)
            .await
            .map_err(|reason| unreachable(format!("{}{reason}", peer.via)))?;
        // Buffered reads: the ssh layer reads each packet's length and then its body with
        // two exact reads, which unbuffered is a `recvfrom` each (about a hundred a host).
        return Ok(Box::new(tokio::io::BufReader::with_capacity(
            READ_BUFFER,
            tcp,
        )));
    };
    let hop = &chain[index - 1];
    let open = session.channel_open_direct_tcpip(
        peer.hostname.clone(),
        u32::from(peer.port),
        "127.0.0.1",
        0,
    );
    match tokio::time::timeout(peer.connect_timeout, open).await {
        Ok(Ok(channel)) => Ok(Box::new(channel.into_stream())),
        Ok(Err(e)) => Err(unreachable(format!(
            "{}cannot reach {}:{} from it: {e}",
            hop.via, peer.hostname, peer.port
        ))),
        Err(_) => Err(unreachable(format!(
            "{}connect to {}:{} timed out after {}",
            hop.via,
            peer.hostname,
            peer.port,
            seconds(peer.connect_timeout)
        ))),
    }
}

/// An algorithm list for people: without the extension markers (`ext-info-c`,
/// `kex-strict-*`), which are not algorithms.
fn shown(names: &[String]) -> String {
    names
        .iter()
        .filter(|n| !n.starts_with("ext-info-") && !n.starts_with("kex-strict-"))
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// The error for a server that had no algorithm in common with what was offered: both
/// lists, and what to do.
fn no_common_algorithm(
    host: &str,
    peer: &Peer,
    e: &NoCommon,
    legacy: bool,
    policy: AlgorithmPolicy,
) -> TransportError {
    let offered = if legacy {
        "the modern and legacy sets"
    } else {
        "the modern set"
    };
    let next = if policy == AlgorithmPolicy::Modern {
        "the inventory says ssh_algorithms = \"modern\" for it; set \"auto\" or \"legacy\" if the host is old"
    } else {
        "vmup's client speaks none of them; try transport = \"openssh\" (`ssh -Q kex`, `ssh -Q cipher` list what it speaks)"
    };
    TransportError::Unreachable {
        host: host.to_string(),
        reason: format!(
            "{}no {} algorithm in common with the server: it offers {}; vmup offered {} ({offered}); {next}",
            peer.via,
            kind_name(&e.kind),
            shown(&e.theirs),
            shown(&e.ours),
        ),
    }
}

/// Bytes read from the socket at once (the largest packets vmup receives are a script's
/// output, tens of KiB; a burst of small packets fits in one read).
const READ_BUFFER: usize = 32 * 1024;

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

/// The algorithm lists of a failed negotiation.
struct NoCommon {
    kind: russh::AlgorithmKind,
    ours: Vec<String>,
    theirs: Vec<String>,
}

/// Why a handshake failed: no algorithm in common (which a legacy offer may cure), or
/// anything else, reported as it is.
enum Failure {
    NoCommon(NoCommon),
    Other(Box<TransportError>),
}

/// Runs the ssh handshake (with host key check) and authentication over `stream`, offering
/// the legacy algorithms too when `legacy`; returns the session and what it was made with.
async fn establish(
    shared: &Arc<Shared>,
    host: &str,
    peer: &Peer,
    stream: Box<dyn Stream>,
    legacy: bool,
) -> Result<(Handle<ClientHandler>, Option<Used>), Failure> {
    let other = |e: TransportError| Failure::Other(Box::new(e));
    let (handler, known_types) = ClientHandler::for_peer(shared, host, peer).map_err(other)?;
    let used = Arc::clone(&handler.used);
    let limit = peer.connect_timeout;
    let config = client_config(&known_types, legacy);
    let handshake = client::connect_stream(Arc::new(config), stream, handler);
    let mut session = match tokio::time::timeout(limit, handshake).await {
        Err(_) => {
            return Err(other(TransportError::Unreachable {
                host: host.to_string(),
                reason: format!(
                    "{}ssh handshake timed out after {}",
                    peer.via,
                    seconds(limit)
                ),
            }));
        }
        Ok(Err(HandlerError::HostKey(e))) => return Err(Failure::Other(e)),
        Ok(Err(HandlerError::Ssh(russh::Error::NoCommonAlgo { kind, ours, theirs }))) => {
            return Err(Failure::NoCommon(NoCommon { kind, ours, theirs }));
        }
        Ok(Err(HandlerError::Ssh(e))) => {
            return Err(other(TransportError::Unreachable {
                host: host.to_string(),
                reason: format!("{}ssh handshake failed: {e}", peer.via),
            }));
        }
        Ok(Ok(session)) => session,
    };
    let used = used.lock().ok().and_then(|u| u.clone());
    if let Some(u) = &used {
        log::debug!(
            "{host}: {}key exchange {}, host key {}, cipher {}, mac {}",
            peer.via,
            u.kex,
            u.host_key,
            u.cipher,
            u.mac
        );
    }
    match tokio::time::timeout(
        limit,
        authenticate(shared, host, peer, &mut session, legacy),
    )
    .await
    {
        Ok(Ok(())) => {
            log::info!("{host}: {}authenticated as {}", peer.via, peer.user);
            Ok((session, used))
        }
        Ok(Err(e)) => Err(other(e)),
        Err(_) => Err(other(TransportError::Auth {
            host: host.to_string(),
            user: peer.user.clone(),
            reason: format!(
                "{}authentication timed out after {}",
                peer.via,
                seconds(limit)
            ),
        })),
    }
}
