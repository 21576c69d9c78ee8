//! Running one script: the connection slot of a host (reused, or opened again when found
//! closed before anything was sent), one `sh -s` exec channel per script (`sudo -n sh -s`
//! with `become`, see [`super::super::elevate`]), stdin fed while stdout and stderr are
//! drained, and the command timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, Sig};

use super::super::elevate::{refusal, remote_command};
use super::super::{Negotiated, RemoteOutput, TransportError};
use super::connect::{Connection, connect};
use super::{Shared, SshTarget, seconds};

/// What one `run` needs, moved onto the runtime.
pub(super) struct Job {
    /// The run's shared state.
    pub(super) shared: Arc<Shared>,
    /// The host.
    pub(super) target: Arc<SshTarget>,
    /// The host's connection slot, shared by all its scripts.
    pub(super) connection: Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>,
    /// Exec channels opened so far.
    pub(super) commands: Arc<AtomicUsize>,
    /// Set once the host needed the legacy algorithms.
    pub(super) legacy: Arc<AtomicBool>,
    /// What the current connection was made with, when that is worth reporting.
    pub(super) negotiated: Arc<std::sync::Mutex<Option<Negotiated>>>,
}

impl Job {
    /// Runs one script, connecting first when needed.
    pub(super) async fn run(self, script: Vec<u8>) -> Result<RemoteOutput, TransportError> {
        let host = self.target.name.as_str();
        let (mut connection, reused) = self.connection(false).await?;
        let channel = match self.open_channel(&connection).await {
            Ok(channel) => channel,
            // A connection that died since the last script (reboot, idle drop): nothing was
            // sent on it yet, so connecting again is safe.
            Err(_) if reused => {
                connection = self.connection(true).await?.0;
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
        let method = self.target.become_method;
        let out = exec_script(
            channel,
            &remote_command(method),
            script,
            self.shared.command_timeout,
            host,
        )
        .await?;
        match method.and_then(|m| refusal(m, host, Some(&connection.user), &out)) {
            Some(refused) => Err(refused),
            None => Ok(out),
        }
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
        let connection = Arc::new(connect(&self.shared, &self.target, &self.legacy).await?);
        if let Ok(mut negotiated) = self.negotiated.lock() {
            *negotiated = connection.negotiated.clone();
        }
        *slot = Some(Arc::clone(&connection));
        Ok((connection, false))
    }
}

/// Runs `command` (`sh -s`, or it through sudo) on an open session channel with `script`
/// as stdin.
async fn exec_script(
    channel: Channel<Msg>,
    command: &str,
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
            .exec(true, command)
            .await
            .map_err(|e| io_error(format!("cannot start {command}: {e}")))?;
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
            return Err(io_error(format!("sshd refused to run {command}")));
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
