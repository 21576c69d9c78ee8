//! Choosing and building the transport for each inventory host.
//!
//! One connector per run: it owns the shared state of each transport kind (the ssh
//! client's runtime and parsed ssh_config, OpenSSH's control-socket directory), created on
//! first use, and hands out one transport per host.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::inventory::{Host, TransportKind};

use super::local::LocalTransport;
use super::Transport;

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
    #[allow(dead_code)]
    ssh: OnceLock<Result<(), String>>,
}

impl Connector {
    /// A connector for one run.
    pub fn new(options: ConnectOptions) -> Connector {
        Connector {
            options,
            ssh: OnceLock::new(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// The transport for `host`; network transports connect on first use.
    pub fn transport(&self, host: &Host) -> Result<Box<dyn Transport>, ConnectError> {
        match host.transport {
            TransportKind::Local => Ok(Box::new(LocalTransport::new(&host.name))),
            TransportKind::Ssh | TransportKind::Openssh => Err(ConnectError(format!(
                "host {}: the ssh transports are not built into this vmup yet",
                host.name
            ))),
        }
    }
}
