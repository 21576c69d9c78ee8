//! Reader for ssh_config(5) files, so the in-process ssh transport honours the settings users
//! already keep for ssh(1): HostName, User, Port, IdentityFile, UserKnownHostsFile,
//! StrictHostKeyChecking, ConnectTimeout, ProxyJump, IdentitiesOnly and IdentityAgent.
//!
//! Semantics follow ssh(1) where it matters:
//! - the first value obtained for a keyword wins (`IdentityFile` accumulates instead), so
//!   specific `Host` blocks go before `Host *`;
//! - `Host` lines take several patterns with `*`, `?` and `!negation`, matched (ignoring case)
//!   against the inventory name, never against `HostName`;
//! - `Include` is supported (globs in the last path component; relative paths are taken from
//!   `~/.ssh`, or `/etc/ssh` for files under `/etc/ssh`), also inside a `Host` block;
//! - `Match all` is treated as `Host *`; any other `Match` block is **ignored** and a note is
//!   recorded ([`SshConfig::notes`]) rather than failing: many personal configs carry a
//!   `Match exec` line for unrelated hosts, and refusing the whole file would make the
//!   in-process transport unusable for them. Users who need `Match` use `transport = openssh`;
//! - keywords this transport does not implement but which change *where* or *how securely*
//!   it would connect (`ProxyCommand`, `HostKeyAlias`) are reported per host in
//!   [`HostConfig::unsupported`], and the transport refuses to connect such hosts instead of
//!   silently connecting somewhere else. Other unknown keywords are ignored, like options
//!   that only matter to interactive use.
//!
//! Malformed values of the keywords read here are errors naming `FILE:LINE`.
//!
//!
//! Layout: this file holds the public types and the entry points; `parse` reads files into
//! entries (keywords, `Host`/`Match` blocks, `Include`), `resolve` merges the entries that
//! match one host, and `tokens` expands `~` and `%` tokens from the local account.

mod parse;
mod resolve;
#[cfg(test)]
mod tests;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::pattern::NameIndex;
use tokens::LocalEnv;
pub(crate) use tokens::{home_dir, local_user};

/// Deepest `Include` nesting accepted, as in ssh(1); deeper means a loop.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Why an ssh_config file could not be used; always names the file, and the line for syntax.
#[derive(Debug, thiserror::Error)]
pub enum SshConfigError {
    /// The file named with `-F` (or an existing config file) could not be read.
    #[error("cannot read ssh config {}: {source}", path.display())]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A line could not be understood.
    #[error("{}:{line}: {message}", path.display())]
    Syntax {
        /// The file holding the line.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// The `StrictHostKeyChecking` policy for unknown and changed host keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    /// Refuse unknown and changed keys (the default).
    Yes,
    /// Record unknown keys in the first known_hosts file; refuse changed ones.
    AcceptNew,
    /// Accept unknown keys without recording them; vmup still refuses CHANGED keys (ssh(1)
    /// would connect with reduced features), because a changed key on a fleet host means a
    /// reinstall or an attack, and either needs a human.
    No,
    /// ssh(1) would prompt; a batch tool never prompts, so this behaves like [`Self::Yes`].
    Ask,
}

/// Where to find the ssh-agent for a host (`IdentityAgent`); absent means `$SSH_AUTH_SOCK`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityAgent {
    /// `IdentityAgent none`: do not use any agent.
    Disabled,
    /// An explicit socket path (`~` and `%` tokens expanded, `$VAR` read from the environment).
    Socket(PathBuf),
}

/// The settings that apply to one host after all matching blocks have been merged; what the
/// transports need to connect. `None`/empty means "not configured": the transport applies its
/// own default (documented on each field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostConfig {
    /// `HostName` (with `%h` expanded), or the inventory address when one overrides it.
    /// Unset means "connect to the inventory name itself".
    pub hostname: Option<String>,
    /// `User`, or the inventory user. Unset means the run's default user, else the local user.
    pub user: Option<String>,
    /// `Port`, or the inventory port. Unset means 22.
    pub port: Option<u16>,
    /// Every matching `IdentityFile`, in order, with `~` and `%d %h %u %r %p %n %l %i %%`
    /// expanded. Empty means the default files `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
    pub identity_files: Vec<PathBuf>,
    /// The first matching `UserKnownHostsFile` line (several files allowed; `none` becomes
    /// `/dev/null`). Empty means `~/.ssh/known_hosts` and `~/.ssh/known_hosts2`.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// `StrictHostKeyChecking`; unset means [`StrictHostKeyChecking::Yes`].
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    /// `ConnectTimeout`; unset means the run's connect timeout.
    pub connect_timeout: Option<Duration>,
    /// `ProxyJump` (`[user@]host[:port]`, comma-separated for several hops); `none` clears it.
    pub proxy_jump: Option<String>,
    /// `IdentitiesOnly yes`: offer only keys from the identity files (agent keys only when
    /// they match one of those files).
    pub identities_only: bool,
    /// `IdentityAgent`. Addition to the engine's API: lets a config (and the tests) choose or
    /// disable the agent per host instead of relying on `$SSH_AUTH_SOCK`.
    pub identity_agent: Option<IdentityAgent>,
    /// `FILE:LINE: ...` notes for keywords that apply to this host but that the in-process
    /// transport does not implement and that would change where or how securely it connects
    /// (`ProxyCommand`, `HostKeyAlias`). Addition to the engine's API: the in-process
    /// transport refuses such hosts with this text instead of ignoring the setting.
    pub unsupported: Vec<String>,
}

/// Values that take precedence over the file for one resolution (inventory fields).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Overrides<'a> {
    /// Inventory address: replaces `HostName`.
    pub hostname: Option<&'a str>,
    /// Inventory user: replaces `User`.
    pub user: Option<&'a str>,
    /// Inventory port: replaces `Port`.
    pub port: Option<u16>,
}

/// One or more parsed ssh_config files, in the order ssh(1) would read them.
#[derive(Debug, Clone)]
pub struct SshConfig {
    entries: Vec<Entry>,
    /// The entries by the `Host` names they can apply to, built on the first resolve
    /// (after every file is read), so resolving a host does not try every block.
    index: OnceLock<NameIndex>,
    notes: Vec<String>,
    local: LocalEnv,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            entries: Vec::new(),
            index: OnceLock::new(),
            notes: Vec::new(),
            local: LocalEnv::current(),
        }
    }
}

/// A keyword line together with the `Host` pattern lists that must all match for it to apply
/// (more than one when it comes from an `Include` inside a `Host` block).
#[derive(Debug, Clone)]
struct Entry {
    conditions: Vec<Arc<[String]>>,
    setting: Setting,
    file: Arc<Path>,
    line: usize,
}

/// The keywords that are read, already validated.
#[derive(Debug, Clone)]
enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    UserKnownHostsFile(Vec<String>),
    StrictHostKeyChecking(StrictHostKeyChecking),
    ConnectTimeout(Option<Duration>),
    ProxyJump(Option<String>),
    IdentitiesOnly(bool),
    IdentityAgent(String),
    ProxyCommand(Option<String>),
    HostKeyAlias(String),
}

impl Setting {
    /// Index of the "first value wins" slot; `IdentityFile` accumulates and has none.
    fn slot(&self) -> Option<usize> {
        Some(match self {
            Setting::HostName(_) => 0,
            Setting::User(_) => 1,
            Setting::Port(_) => 2,
            Setting::IdentityFile(_) => return None,
            Setting::UserKnownHostsFile(_) => 3,
            Setting::StrictHostKeyChecking(_) => 4,
            Setting::ConnectTimeout(_) => 5,
            Setting::ProxyJump(_) => 6,
            Setting::IdentitiesOnly(_) => 7,
            Setting::IdentityAgent(_) => 8,
            Setting::ProxyCommand(_) => 9,
            Setting::HostKeyAlias(_) => 10,
        })
    }
}
const SLOTS: usize = 11;

impl SshConfig {
    /// Reads the configuration the way ssh(1) does: with `path` (`-F FILE`) only that file,
    /// which must exist; otherwise `~/.ssh/config` and then `/etc/ssh/ssh_config`, each only
    /// if it exists (so a machine without either gives an empty configuration). The system
    /// file is read because ssh(1) reads it and users expect its `Host` settings to apply.
    pub fn load(path: Option<&Path>) -> Result<SshConfig, SshConfigError> {
        let mut config = SshConfig::default();
        match path {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| SshConfigError::Read {
                        path: path.to_path_buf(),
                        source,
                    })?;
                config.parse_text(&text, path, &[], 0)?;
            }
            None => {
                let mut files = Vec::new();
                if let Some(home) = &config.local.home {
                    files.push(home.join(".ssh/config"));
                }
                files.push(PathBuf::from("/etc/ssh/ssh_config"));
                for file in files {
                    match std::fs::read_to_string(&file) {
                        Ok(text) => config.parse_text(&text, &file, &[], 0)?,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(source) => return Err(SshConfigError::Read { path: file, source }),
                    }
                }
            }
        }
        Ok(config)
    }

    /// Parses one configuration text; `origin` names it in errors and anchors relative
    /// `Include` paths.
    pub fn parse(text: &str, origin: &Path) -> Result<SshConfig, SshConfigError> {
        let mut config = SshConfig::default();
        config.parse_text(text, origin, &[], 0)?;
        Ok(config)
    }

    /// `FILE:LINE: ...` remarks about parts of the files that were ignored (`Match` blocks),
    /// for the engine to show once per run.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The settings for the host called `host_alias` in the inventory.
    pub fn resolve(&self, host_alias: &str) -> HostConfig {
        self.resolve_with(host_alias, &Overrides::default())
    }
}
