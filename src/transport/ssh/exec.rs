//! Running one script: the connection slot of a host (reused, or opened again when found
//! closed before anything was sent), one `sh -s` exec channel per script (`sudo -n sh -s`
//! with `become`, see [`super::super::elevate`]) unless the last script left its shell
//! running ([`Held`], see [`super::super::hold`]), stdin fed while stdout and stderr are
//! drained, and the command timeout.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig};

use super::super::elevate::{refusal, remote_command};
use super::super::hold::PartEnd;
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

/// A shell a held script left running on its channel, reading its standard input for the
/// next script.
pub(super) struct Held {
    read: ChannelReadHalf,
    write: ChannelWriteHalf<Msg>,
    /// The login user, for a become refusal's message.
    user: String,
}

impl Held {
    /// Whether the channel is open and said nothing since the part's markers but flow
    /// control: reads what has already arrived, without waiting.
    fn is_quiet(&mut self) -> bool {
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            let next = std::pin::pin!(self.read.wait());
            match next.poll(&mut context) {
                std::task::Poll::Pending => return true,
                std::task::Poll::Ready(Some(
                    ChannelMsg::WindowAdjusted { .. } | ChannelMsg::Success,
                )) => continue,
                // Closed, ended, exited, or output no part asked for.
                std::task::Poll::Ready(_) => return false,
            }
        }
    }

    /// Ends the shell: end of input, then its channel's last messages read off in the
    /// background, so the caller does not wait for them.
    pub(super) async fn release(mut self) {
        let _ = self.write.eof().await;
        while self.read.wait().await.is_some() {}
    }
}

impl Job {
    /// Runs one script, in the shell `held` left running or on a new channel (connecting
    /// first when needed); with `hold`, its shell is left running and returned.
    pub(super) async fn run(
        self,
        script: Vec<u8>,
        hold: bool,
        held: Option<Held>,
    ) -> (Result<RemoteOutput, TransportError>, Option<Held>) {
        let host = self.target.name.as_str();
        let held = match held {
            Some(mut held) => {
                if self.held_is_alive(&mut held) {
                    Some(held)
                } else {
                    // The shell or its connection ended since the last part (killed, an
                    // idle drop, a reboot): nothing of this script was sent, so a new
                    // channel is safe.
                    tokio::spawn(held.release());
                    None
                }
            }
            None => None,
        };
        let (mut read, write, user, command) = match held {
            Some(held) => (held.read, held.write, held.user, None),
            None => match self.channel().await {
                Ok((channel, user)) => {
                    let (read, write) = channel.split();
                    (
                        read,
                        write,
                        user,
                        Some(remote_command(self.target.become_method)),
                    )
                }
                Err(e) => return (Err(e), None),
            },
        };
        let end = hold.then(PartEnd::random);
        let exchanged = exchange(
            (&mut read, &write),
            command.as_deref(),
            script,
            end.as_ref(),
            self.shared.command_timeout,
            host,
        )
        .await;
        match exchanged {
            Ok((out, true)) => (Ok(out), Some(Held { read, write, user })),
            Ok((out, false)) => {
                // Only a shell this script started can have been refused by sudo or doas.
                let method = self.target.become_method.filter(|_| command.is_some());
                match method.and_then(|m| refusal(m, host, Some(&user), &out)) {
                    Some(refused) => (Err(refused), None),
                    None => (Ok(out), None),
                }
            }
            Err(e) => (Err(e), None),
        }
    }

    /// Whether the shell a held script left is still there to read the next one: its
    /// connection is open and its channel has said nothing since the part's markers (an
    /// end of file, an exit status or a close arrive when the shell or sshd died).
    fn held_is_alive(&self, held: &mut Held) -> bool {
        let connection_open = self
            .connection
            .try_lock()
            .map(|slot| slot.as_ref().is_some_and(|c| !c.session.is_closed()))
            .unwrap_or(true);
        connection_open && held.is_quiet()
    }

    /// A new session channel and the login user, connecting first when there is no live
    /// connection.
    async fn channel(&self) -> Result<(Channel<Msg>, String), TransportError> {
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
        Ok((channel, connection.user.clone()))
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

/// Runs `script` on a channel: after starting `command` on it (`sh -s`, or it through sudo)
/// when it is new, else in the shell already running there. With `end`, the script is a
/// part after which the shell keeps running: the answer is complete at its markers, and
/// `true` says the shell is still there; otherwise at the channel's close.
async fn exchange(
    (read, write): (&mut ChannelReadHalf, &ChannelWriteHalf<Msg>),
    command: Option<&str>,
    script: Vec<u8>,
    end: Option<&PartEnd>,
    timeout: Option<Duration>,
    host: &str,
) -> Result<(RemoteOutput, bool), TransportError> {
    let io_error = |reason: String| TransportError::Io {
        host: host.to_string(),
        reason,
    };
    let what = command.unwrap_or("the script");
    let payload = match end {
        Some(end) => end
            .wrap(&script)
            .map_err(|e| io_error(format!("cannot hold the shell for this script: {e}")))?,
        None => script,
    };
    let exchange = async {
        if let Some(command) = command {
            write
                .exec(true, command)
                .await
                .map_err(|e| io_error(format!("cannot start {command}: {e}")))?;
        }
        // Feed stdin and drain stdout/stderr at the same time: a script that prints a lot
        // while its tail is still being sent would otherwise deadlock on flow control.
        let send = async {
            write.data_bytes(payload).await?;
            match end {
                Some(_) => Ok(()),
                None => write.eof().await,
            }
        };
        let collect = collect(read, end);
        tokio::pin!(send);
        tokio::pin!(collect);
        let mut send_result: Option<Result<(), russh::Error>> = None;
        let collected = loop {
            tokio::select! {
                r = &mut send, if send_result.is_none() => send_result = Some(r),
                collected = &mut collect => break collected,
            }
        };
        if collected.refused {
            return Err(io_error(format!("sshd refused to run {what}")));
        }
        if collected.out.status.is_none() && !collected.closed {
            let detail = match send_result {
                Some(Err(e)) => format!(" (sending the script failed: {e})"),
                _ => String::new(),
            };
            return Err(io_error(format!(
                "connection lost while the script was running{detail}"
            )));
        }
        Ok((collected.out, collected.held))
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

/// What a channel said for one script.
struct Collected {
    out: RemoteOutput,
    /// sshd refused the exec request.
    refused: bool,
    /// The channel closed or the shell was killed by a signal.
    closed: bool,
    /// The part's markers arrived: the shell is still reading its input.
    held: bool,
}

/// Reads the channel until it closes, or with `end` until both of the part's markers
/// arrived (a shell that exits inside the part closes the channel as it would anyway).
async fn collect(read: &mut ChannelReadHalf, end: Option<&PartEnd>) -> Collected {
    let mut out = RemoteOutput::default();
    let mut refused = false;
    let mut closed = false;
    let mut signal = None;
    let mut stdout_end = None;
    let mut stderr_end = None;
    while let Some(msg) = read.wait().await {
        match msg {
            ChannelMsg::Data { data } => {
                let from = out.stdout.len();
                out.stdout.extend_from_slice(&data);
                if let Some(end) = end
                    && stdout_end.is_none()
                {
                    stdout_end = end.stdout_end(&out.stdout, from);
                }
            }
            ChannelMsg::ExtendedData { data, ext: 1 } => {
                let from = out.stderr.len();
                out.stderr.extend_from_slice(&data);
                if let Some(end) = end
                    && stderr_end.is_none()
                {
                    stderr_end = end.stderr_end(&out.stderr, from);
                }
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
        if let (Some(ended), Some(stderr_len)) = (stdout_end, stderr_end) {
            out.stdout.truncate(ended.stdout_len);
            out.stderr.truncate(stderr_len);
            out.status = Some(ended.status);
            return Collected {
                out,
                refused,
                closed: false,
                held: true,
            };
        }
    }
    // A shell that died between its part's two markers: the part itself had ended.
    if let Some(ended) = stdout_end {
        out.stdout.truncate(ended.stdout_len);
        out.status = Some(ended.status);
    }
    Collected {
        out,
        refused,
        closed: closed || signal.is_some(),
        held: false,
    }
}
