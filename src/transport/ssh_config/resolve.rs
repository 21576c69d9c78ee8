//! Resolving one host: the entries whose `Host` patterns match its inventory name, merged
//! the ssh(1) way (first value wins, `IdentityFile` accumulates), then inventory overrides,
//! then `%` and `~` expansion in the path keywords.

use std::path::PathBuf;

use super::super::pattern::{NameIndex, match_list};
use super::tokens::{expand_tilde, expand_tokens};
use super::{Entry, HostConfig, IdentityAgent, Overrides, SLOTS, Setting, SshConfig};

impl SshConfig {
    /// Like [`SshConfig::resolve`], with inventory values taking precedence; they also feed the
    /// `%h %r %p` tokens of `IdentityFile` and friends.
    pub(crate) fn resolve_with(&self, host_alias: &str, overrides: &Overrides<'_>) -> HostConfig {
        let mut first: [Option<&Entry>; SLOTS] = [None; SLOTS];
        let mut identity_raw: Vec<&str> = Vec::new();
        let index = self.index.get_or_init(|| {
            NameIndex::build(self.entries.iter().map(|e| {
                e.conditions
                    .iter()
                    .map(|patterns| patterns.iter().map(String::as_str))
            }))
        });
        for entry in index
            .candidates(host_alias)
            .into_iter()
            .filter_map(|i| self.entries.get(i))
        {
            let applies = entry
                .conditions
                .iter()
                .all(|patterns| match_list(patterns.iter().map(String::as_str), host_alias));
            if !applies {
                continue;
            }
            match (&entry.setting, entry.setting.slot()) {
                (Setting::IdentityFile(path), _) => {
                    if !identity_raw.contains(&path.as_str()) {
                        identity_raw.push(path);
                    }
                }
                (_, Some(slot)) => {
                    if first[slot].is_none() {
                        first[slot] = Some(entry);
                    }
                }
                (_, None) => {}
            }
        }

        let mut out = HostConfig::default();
        let mut unsupported = Vec::new();
        for entry in first.iter().flatten() {
            match &entry.setting {
                Setting::HostName(name) => {
                    out.hostname = Some(expand_tokens(name, &[('h', host_alias)]));
                }
                Setting::User(user) => out.user = Some(user.clone()),
                Setting::Port(port) => out.port = Some(*port),
                Setting::StrictHostKeyChecking(v) => out.strict_host_key_checking = Some(*v),
                Setting::ConnectTimeout(v) => out.connect_timeout = *v,
                Setting::ProxyJump(v) => out.proxy_jump = v.clone(),
                Setting::IdentitiesOnly(v) => out.identities_only = *v,
                Setting::ProxyCommand(Some(cmd)) => unsupported.push(format!(
                    "{}:{}: ProxyCommand ({cmd}) is not supported by the in-process ssh \
                     transport; use transport = openssh or ProxyJump",
                    entry.file.display(),
                    entry.line
                )),
                Setting::HostKeyAlias(alias) => unsupported.push(format!(
                    "{}:{}: HostKeyAlias ({alias}) is not supported by the in-process ssh \
                     transport; use transport = openssh",
                    entry.file.display(),
                    entry.line
                )),
                Setting::ProxyCommand(None)
                | Setting::IdentityFile(_)
                | Setting::UserKnownHostsFile(_)
                | Setting::IdentityAgent(_) => {}
            }
        }
        if let Some(hostname) = overrides.hostname {
            out.hostname = Some(hostname.to_string());
        }
        if let Some(user) = overrides.user {
            out.user = Some(user.to_string());
        }
        if let Some(port) = overrides.port {
            out.port = Some(port);
        }
        out.unsupported = unsupported;

        // Tokens for the path keywords, computed from the final values.
        let hostname = out
            .hostname
            .clone()
            .unwrap_or_else(|| host_alias.to_string());
        let remote_user = out.user.clone().unwrap_or_else(|| self.local.user.clone());
        let port = out.port.unwrap_or(22).to_string();
        let home = self
            .local
            .home
            .as_ref()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        let uid = self.local.uid.to_string();
        let short_host = self
            .local
            .hostname
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string();
        let tokens = [
            ('d', home.as_str()),
            ('h', hostname.as_str()),
            ('u', self.local.user.as_str()),
            ('r', remote_user.as_str()),
            ('p', port.as_str()),
            ('n', host_alias),
            ('L', short_host.as_str()),
            ('l', self.local.hostname.as_str()),
            ('i', uid.as_str()),
        ];
        let expand = |raw: &str| self.expand_path(raw, &tokens);

        out.identity_files = identity_raw.iter().map(|raw| expand(raw)).collect();
        if let Some(entry) = first[3]
            && let Setting::UserKnownHostsFile(files) = &entry.setting
        {
            out.user_known_hosts_files = files
                .iter()
                .map(|f| {
                    if f.eq_ignore_ascii_case("none") {
                        PathBuf::from("/dev/null")
                    } else {
                        expand(f)
                    }
                })
                .collect();
        }
        if let Some(entry) = first[8]
            && let Setting::IdentityAgent(agent) = &entry.setting
        {
            out.identity_agent = if agent.eq_ignore_ascii_case("none") {
                Some(IdentityAgent::Disabled)
            } else if agent == "SSH_AUTH_SOCK" {
                None
            } else if let Some(var) = agent.strip_prefix('$') {
                let var = var.trim_start_matches('{').trim_end_matches('}');
                match std::env::var_os(var) {
                    Some(value) => Some(IdentityAgent::Socket(PathBuf::from(value))),
                    None => Some(IdentityAgent::Disabled),
                }
            } else {
                Some(IdentityAgent::Socket(expand(agent)))
            };
        }
        out
    }

    /// Expands `~` and `%` tokens in a path value.
    fn expand_path(&self, raw: &str, tokens: &[(char, &str)]) -> PathBuf {
        let expanded = expand_tokens(raw, tokens);
        expand_tilde(&expanded, self.local.home.as_deref())
    }
}
