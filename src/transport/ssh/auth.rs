//! Public-key authentication: agent keys first, then identity files; encrypted files are
//! never prompted for; RSA signs with the hash the server accepts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use russh::MethodKind;
use russh::client::{AuthResult, Handle};
use russh::keys::agent::AgentIdentity;
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};

use super::super::TransportError;
use super::super::known_hosts;
use super::super::ssh_config::{HostConfig, IdentityAgent};
use super::Shared;
use super::connect::Peer;
use super::host_keys::ClientHandler;

/// A private key file as found on disk, cached for the whole run.
#[derive(Debug)]
pub(super) struct KeyFile {
    /// The public half, when it could be read (also from an encrypted file or its `.pub`).
    public: Option<PublicKey>,
    /// The decoded private key; `None` when encrypted or unusable.
    private: Option<Arc<PrivateKey>>,
    /// Why the key cannot be used directly (encrypted, unreadable); `None` when usable.
    problem: Option<String>,
    /// The file does not exist (default key files that are absent are skipped silently).
    missing: bool,
}

impl KeyFile {
    /// Reads and decodes `path`; never fails, a problem is recorded instead.
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
    /// A key file, read once per run.
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

    /// The agent socket for a peer: `IdentityAgent`, else `$SSH_AUTH_SOCK`; `None` for no agent.
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
/// With `legacy` (the server needed the legacy algorithms), RSA keys sign with `ssh-rsa`
/// (SHA-1): such a server is an OpenSSH before 7.2, which verifies nothing else, whatever
/// a `server-sig-algs` list may claim.
pub(super) async fn authenticate(
    shared: &Arc<Shared>,
    host: &str,
    peer: &Peer,
    session: &mut Handle<ClientHandler>,
    legacy: bool,
) -> Result<(), TransportError> {
    let user = peer.user.as_str();
    let explicit = !peer.config.identity_files.is_empty();
    let paths: Vec<PathBuf> = if explicit {
        peer.config.identity_files.clone()
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
    let mut rsa_hash: Option<Option<HashAlg>> = legacy.then_some(None);
    let mut publickey_allowed = true;

    if let Some(socket) = shared.agent_socket(&peer.config) {
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
                            if peer.config.identities_only
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
                                Ok(AuthResult::Success) => {
                                    log::debug!("{host}: {}accepted {label}", peer.via);
                                    return Ok(());
                                }
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
            Ok(AuthResult::Success) => {
                log::debug!("{host}: {}accepted {label}", peer.via);
                return Ok(());
            }
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
                    reason: format!("{}connection failed during authentication: {e}", peer.via),
                });
            }
        }
    }

    let mut reason = String::new();
    reason.push_str(&peer.via);
    if tried.is_empty() {
        reason.push_str("no key to offer");
        if shared.agent_socket(&peer.config).is_none() {
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

/// `ssh-ed25519 SHA256:...`, how a key is named in messages.
fn describe(key: &PublicKey) -> String {
    format!(
        "{} {}",
        key.algorithm().as_str(),
        known_hosts::fingerprint(key)
    )
}

/// The methods a server still accepts, for the message when every key was refused.
fn method_names(methods: &russh::MethodSet) -> String {
    let names: Vec<&str> = methods.iter().map(<&str>::from).collect();
    if names.is_empty() {
        "nothing more".to_string()
    } else {
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
