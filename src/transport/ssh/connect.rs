//! Connecting: resolving the target and its `ProxyJump` hops through ssh_config, TCP, then
//! for each peer in turn the handshake (host key check) and authentication, each bounded by
//! its connect timeout.

use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::TransportError;
use super::super::ssh_config::{HostConfig, Overrides};
use super::algorithms::client_config;
use super::auth::authenticate;
use super::host_keys::{ClientHandler, HandlerError};
use super::proxy_jump::parse_proxy_jump;
use super::{Shared, SshTarget, seconds};

/// An authenticated connection; jump host sessions are kept alive alongside.
pub(super) struct Connection {
    /// The session with the target.
    pub(super) session: Handle<ClientHandler>,
    /// The sessions with the jump hosts, first hop first, kept so the tunnel stays open.
    pub(super) _jumps: Vec<Handle<ClientHandler>>,
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

/// Connects and authenticates to `target`, through its ProxyJump hops if any.
pub(super) async fn connect(
    shared: &Arc<Shared>,
    target: &SshTarget,
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

    let first = &chain[0];
    let tcp = tcp_connect(&first.hostname, first.port, first.connect_timeout)
        .await
        .map_err(|reason| unreachable(format!("{}{reason}", first.via)))?;
    let mut stream: Box<dyn Stream> = Box::new(tcp);
    let mut jumps = Vec::new();
    let last = chain.len() - 1;
    for (index, peer) in chain.iter().enumerate() {
        let session = establish(shared, host, peer, stream).await?;
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
                    peer.via, next.hostname, next.port
                )));
            }
            Err(_) => {
                return Err(unreachable(format!(
                    "{}connect to {}:{} timed out after {}",
                    peer.via,
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

/// Runs the ssh handshake (with host key check) and authentication over `stream`.
async fn establish(
    shared: &Arc<Shared>,
    host: &str,
    peer: &Peer,
    stream: Box<dyn Stream>,
) -> Result<Handle<ClientHandler>, TransportError> {
    let (handler, known_types) = ClientHandler::for_peer(shared, host, peer)?;
    let limit = peer.connect_timeout;
    let handshake = client::connect_stream(Arc::new(client_config(&known_types)), stream, handler);
    let mut session = match tokio::time::timeout(limit, handshake).await {
        Err(_) => {
            return Err(TransportError::Unreachable {
                host: host.to_string(),
                reason: format!(
                    "{}ssh handshake timed out after {}",
                    peer.via,
                    seconds(limit)
                ),
            });
        }
        Ok(Err(HandlerError::HostKey(e))) => return Err(*e),
        Ok(Err(HandlerError::Ssh(e))) => {
            return Err(TransportError::Unreachable {
                host: host.to_string(),
                reason: format!("{}ssh handshake failed: {e}", peer.via),
            });
        }
        Ok(Ok(session)) => session,
    };
    match tokio::time::timeout(limit, authenticate(shared, host, peer, &mut session)).await {
        Ok(result) => result.map(|()| session),
        Err(_) => Err(TransportError::Auth {
            host: host.to_string(),
            user: peer.user.clone(),
            reason: format!(
                "{}authentication timed out after {}",
                peer.via,
                seconds(limit)
            ),
        }),
    }
}
