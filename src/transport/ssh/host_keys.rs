//! Host key checking during the handshake: the known_hosts files that apply to a peer, the
//! `StrictHostKeyChecking` policy, and the messages for unknown, changed and revoked keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::client;
use russh::keys::{PublicKey, PublicKeyOrCertificate};

use super::super::TransportError;
use super::super::known_hosts::{self, KnownHostsFile, Verdict};
use super::super::ssh_config::StrictHostKeyChecking;
use super::Shared;
use super::connect::Peer;

/// Handler errors: russh's own, or our host key refusal carried out of the handshake.
#[derive(Debug)]
pub(super) enum HandlerError {
    /// russh failed (network, protocol, no common algorithm).
    Ssh(russh::Error),
    /// The host key was refused; the error to report as it is.
    HostKey(Box<TransportError>),
}

impl From<russh::Error> for HandlerError {
    fn from(e: russh::Error) -> Self {
        HandlerError::Ssh(e)
    }
}

/// Checks the server's host key during the handshake.
pub(super) struct ClientHandler {
    shared: Arc<Shared>,
    host: String,
    via: String,
    name: String,
    files: Vec<Arc<KnownHostsFile>>,
    record_to: Option<PathBuf>,
    policy: StrictHostKeyChecking,
    /// Filled in when the key exchange is done: what it was made with.
    pub(super) used: Arc<std::sync::Mutex<Option<Used>>>,
}

/// The algorithms a key exchange settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Used {
    pub(super) kex: String,
    pub(super) host_key: String,
    pub(super) cipher: String,
    pub(super) mac: String,
}

impl ClientHandler {
    /// The handler for one peer, with the known_hosts files it consults (the user's, then
    /// the system's), and the key types already known for the peer, which the handshake
    /// prefers.
    pub(super) fn for_peer(
        shared: &Arc<Shared>,
        host: &str,
        peer: &Peer,
    ) -> Result<(ClientHandler, Vec<String>), TransportError> {
        let name = known_hosts::host_key_name(&peer.hostname, peer.port);
        let user_files = if peer.config.user_known_hosts_files.is_empty() {
            match &shared.home {
                Some(home) => vec![
                    home.join(".ssh/known_hosts"),
                    home.join(".ssh/known_hosts2"),
                ],
                None => Vec::new(),
            }
        } else {
            peer.config.user_known_hosts_files.clone()
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
                        reason: format!("{}cannot read known hosts file: {e}", peer.via),
                    })?,
            );
        }
        let known_types: Vec<String> = files.iter().flat_map(|f| f.key_types_for(&name)).collect();
        let handler = ClientHandler {
            shared: Arc::clone(shared),
            host: host.to_string(),
            via: peer.via.clone(),
            name,
            files,
            record_to,
            policy: peer
                .config
                .strict_host_key_checking
                .unwrap_or(StrictHostKeyChecking::Yes),
            used: Arc::new(std::sync::Mutex::new(None)),
        };
        Ok((handler, known_types))
    }

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

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &russh::Names,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        if let Ok(mut slot) = self.used.lock() {
            *slot = Some(Used {
                kex: names.kex.as_ref().to_string(),
                host_key: names.key.as_str().to_string(),
                cipher: names.cipher.as_ref().to_string(),
                mac: names.client_mac.as_ref().to_string(),
            });
        }
        Ok(())
    }
}

impl Shared {
    /// A known_hosts file, read once per run (a missing file reads as empty).
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
}
