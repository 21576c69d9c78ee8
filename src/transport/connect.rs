//! Choosing and building the transport for each inventory host.
//!
//! One connector per run: it owns the shared state of each transport kind (the in-process
//! ssh client's runtime, parsed ssh_config and key caches; OpenSSH's private control-socket
//! directory), created on first use, and hands out one transport per host. Connections
//! themselves open lazily, on a host's first script.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::inventory::{Host, TransportKind};

use super::Transport;
use super::local::LocalTransport;
use super::openssh::OpensshContext;
use super::ssh::{SshContext, SshOptions, SshTarget};
use super::ssh_config::SshConfig;

/// Seconds to wait for a connection unless told otherwise (`--connect-timeout`).
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;

/// Options shared by the network transports.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// ssh_config file (`-F`); None reads ~/.ssh/config.
    pub ssh_config: Option<PathBuf>,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for one remote script.
    pub command_timeout: Option<Duration>,
}

/// A transport kind that cannot be set up (bad ssh_config, no runtime).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConnectError(pub String);

/// Builds transports for hosts.
pub struct Connector {
    options: ConnectOptions,
    ssh: OnceLock<Result<SshContext, String>>,
    openssh: OnceLock<Result<OpensshContext, String>>,
}

impl Connector {
    /// A connector for one run.
    pub fn new(options: ConnectOptions) -> Connector {
        Connector {
            options,
            ssh: OnceLock::new(),
            openssh: OnceLock::new(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// The transport for `host`; network transports connect on first use.
    pub fn transport(&self, host: &Host) -> Result<Box<dyn Transport>, ConnectError> {
        let target = || SshTarget {
            name: host.name.clone(),
            address: host.address.clone(),
            user: host.user.clone(),
            port: host.port,
        };
        match host.transport {
            TransportKind::Local => Ok(Box::new(LocalTransport::with_root(
                &host.name,
                host.root.clone(),
            ))),
            TransportKind::Ssh => {
                let context = self.ssh.get_or_init(|| {
                    let config = SshConfig::load(self.options.ssh_config.as_deref())
                        .map_err(|e| e.to_string())?;
                    SshContext::new(SshOptions {
                        config,
                        connect_timeout: self.options.connect_timeout,
                        command_timeout: self.options.command_timeout,
                        default_user: None,
                    })
                    .map_err(|e| e.to_string())
                });
                match context {
                    Ok(context) => Ok(Box::new(context.transport(target()))),
                    Err(e) => Err(ConnectError(e.clone())),
                }
            }
            TransportKind::Openssh => {
                let context = self.openssh.get_or_init(|| {
                    OpensshContext::new(
                        self.options.ssh_config.clone(),
                        self.options.connect_timeout,
                        self.options.command_timeout,
                    )
                    .map_err(|e| e.to_string())
                });
                match context {
                    Ok(context) => Ok(Box::new(context.transport(target()))),
                    Err(e) => Err(ConnectError(e.clone())),
                }
            }
        }
    }
}
