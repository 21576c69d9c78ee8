//! Choosing and building the transport for each endpoint (inventory host).
//!
//! One connector per run: it owns the shared state of each transport kind (the in-process
//! ssh client's runtime, parsed ssh_config and key caches; OpenSSH's private control-socket
//! directory), created on first use, and hands out one transport per host. Connections
//! themselves open lazily, on a host's first script.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::local::LocalTransport;
use super::openssh::OpensshContext;
use super::ssh::{SshContext, SshOptions, SshTarget};
use super::ssh_config::SshConfig;
use super::synthetic::{ReplayCache, SyntheticTransport};
use super::{Endpoint, Transport, TransportKind};

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
    /// What synthetic hosts have answered so far: one cache for the run.
    synthetic: Arc<ReplayCache>,
}

impl Connector {
    /// A connector for one run.
    pub fn new(options: ConnectOptions) -> Connector {
        Connector {
            options,
            ssh: OnceLock::new(),
            openssh: OnceLock::new(),
            synthetic: Arc::default(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &ConnectOptions {
        &self.options
    }

    /// The transport for `endpoint`; network transports connect on first use. Each is
    /// wrapped so its scripts are logged.
    pub fn transport(&self, endpoint: &Endpoint) -> Result<Box<dyn Transport>, ConnectError> {
        let kind = match endpoint.kind {
            TransportKind::Local => "local",
            TransportKind::Ssh => "ssh",
            TransportKind::Openssh => "openssh",
            TransportKind::Synthetic => "synthetic",
        };
        let inner = self.unlogged(endpoint)?;
        Ok(Box::new(super::logged::Logged::new(
            inner,
            &endpoint.name,
            kind,
        )))
    }

    fn unlogged(&self, endpoint: &Endpoint) -> Result<Box<dyn Transport>, ConnectError> {
        let target = || SshTarget {
            name: endpoint.name.clone(),
            address: endpoint.address.clone(),
            user: endpoint.user.clone(),
            port: endpoint.port,
            algorithms: endpoint.algorithms,
            become_method: endpoint.become_method,
        };
        match endpoint.kind {
            // `become` means nothing here: scripts run as whoever runs vmup (the inventory
            // refuses `become` on a local host; an inherited one is ignored).
            TransportKind::Local => Ok(Box::new(
                LocalTransport::with_root(&endpoint.name, endpoint.root.clone())
                    .with_command_timeout(self.options.command_timeout),
            )),
            TransportKind::Synthetic => Ok(Box::new(SyntheticTransport::new(
                &endpoint.name,
                LocalTransport::with_root(&endpoint.name, endpoint.root.clone())
                    .with_command_timeout(self.options.command_timeout),
                endpoint.latency,
                Arc::clone(&self.synthetic),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::TransportError;

    fn connector() -> Connector {
        Connector::new(ConnectOptions {
            ssh_config: None,
            connect_timeout: Duration::from_secs(DEFAULT_CONNECT_TIMEOUT_SECS),
            command_timeout: None,
        })
    }

    #[test]
    fn local_endpoint_runs_here_and_a_missing_root_is_unreachable() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let endpoint = Endpoint {
            name: "img".into(),
            address: None,
            user: None,
            port: None,
            kind: TransportKind::Local,
            root: Some(dir.path().to_path_buf()),
            latency: Duration::ZERO,
            algorithms: Default::default(),
            become_method: Some(crate::transport::BecomeMethod::Sudo),
        };
        let connector = connector();
        let out = match connector
            .transport(&endpoint)
            .map(|t| t.run(b"echo here\n"))
        {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => panic!("{e}"),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(out.stdout, b"here\n");
        let gone = Endpoint {
            root: Some(dir.path().join("missing")),
            ..endpoint
        };
        match connector.transport(&gone).map(|t| t.run(b"true\n")) {
            Ok(Err(e @ TransportError::Unreachable { .. })) => {
                assert!(e.to_string().contains("cannot connect to img"), "{e}")
            }
            Ok(other) => panic!("expected Unreachable, got {other:?}"),
            Err(e) => panic!("{e}"),
        }
    }
}
