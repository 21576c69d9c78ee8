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
//! The only unsafe code in vmup is here: `getuid`/`getpwuid_r` to expand `~` and `%u` the
//! way ssh(1) does (from the password database, not `$HOME`); each call has its SAFETY note.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::pattern::{glob_match, match_list};

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
    notes: Vec<String>,
    local: LocalEnv,
}

impl Default for SshConfig {
    fn default() -> Self {
        SshConfig {
            entries: Vec::new(),
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

    /// Like [`SshConfig::resolve`], with inventory values taking precedence; they also feed the
    /// `%h %r %p` tokens of `IdentityFile` and friends.
    pub(crate) fn resolve_with(&self, host_alias: &str, overrides: &Overrides<'_>) -> HostConfig {
        let mut first: [Option<&Entry>; SLOTS] = [None; SLOTS];
        let mut identity_raw: Vec<&str> = Vec::new();
        for entry in &self.entries {
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

    fn parse_text(
        &mut self,
        text: &str,
        origin: &Path,
        outer: &[Arc<[String]>],
        depth: usize,
    ) -> Result<(), SshConfigError> {
        let file: Arc<Path> = Arc::from(origin);
        let syntax = |line: usize, message: String| SshConfigError::Syntax {
            path: origin.to_path_buf(),
            line,
            message,
        };
        // The current `Host` block's patterns; `None` before the first Host line.
        let mut block: Option<Arc<[String]>> = None;
        let mut in_match = false;
        for (index, raw_line) in text.lines().enumerate() {
            let line = index + 1;
            let Some((keyword, args)) = tokenize(raw_line).map_err(|m| syntax(line, m))? else {
                continue;
            };
            let lower = keyword.to_ascii_lowercase();
            match lower.as_str() {
                "host" => {
                    if args.is_empty() {
                        return Err(syntax(line, "Host needs at least one pattern".into()));
                    }
                    block = Some(Arc::from(args));
                    in_match = false;
                    continue;
                }
                "match" => {
                    if args.len() == 1 && args[0].eq_ignore_ascii_case("all") {
                        block = Some(Arc::from(vec!["*".to_string()]));
                        in_match = false;
                    } else {
                        in_match = true;
                        self.notes.push(format!(
                            "{}:{line}: Match blocks are not supported by the in-process ssh \
                             transport; the lines up to the next Host or Match are ignored \
                             (transport = openssh honours them)",
                            origin.display()
                        ));
                    }
                    continue;
                }
                _ => {}
            }
            if in_match {
                continue;
            }
            let mut conditions = outer.to_vec();
            if let Some(block) = &block {
                conditions.push(Arc::clone(block));
            }
            if lower == "include" {
                if args.is_empty() {
                    return Err(syntax(line, "Include needs a file name".into()));
                }
                if depth >= MAX_INCLUDE_DEPTH {
                    return Err(syntax(
                        line,
                        format!("Include nested deeper than {MAX_INCLUDE_DEPTH} levels (a loop?)"),
                    ));
                }
                for arg in &args {
                    for path in self
                        .include_paths(arg, origin)
                        .map_err(|m| syntax(line, m))?
                    {
                        let text = match std::fs::read_to_string(&path) {
                            Ok(text) => text,
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => continue,
                            Err(source) => return Err(SshConfigError::Read { path, source }),
                        };
                        self.parse_text(&text, &path, &conditions, depth + 1)?;
                    }
                }
                continue;
            }
            if let Some(setting) =
                parse_setting(&keyword, &lower, &args).map_err(|m| syntax(line, m))?
            {
                self.entries.push(Entry {
                    conditions,
                    setting,
                    file: Arc::clone(&file),
                    line,
                });
            }
        }
        Ok(())
    }

    /// The files an `Include` argument names, sorted like glob(3) returns them.
    fn include_paths(&self, arg: &str, origin: &Path) -> Result<Vec<PathBuf>, String> {
        let expanded = expand_tilde(arg, self.local.home.as_deref());
        let path = if expanded.is_absolute() {
            expanded
        } else if origin.starts_with("/etc/ssh") {
            Path::new("/etc/ssh").join(expanded)
        } else {
            match &self.local.home {
                Some(home) => home.join(".ssh").join(expanded),
                None => return Err(format!("cannot resolve Include {arg}: no home directory")),
            }
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.to_string_lossy().contains(['*', '?']) {
            return Err(format!(
                "Include {arg}: wildcards are supported in the file name only"
            ));
        }
        if !name.contains(['*', '?']) {
            return Ok(vec![path]);
        }
        let mut found: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| glob_match(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect(),
            Err(_) => Vec::new(),
        };
        found.sort();
        Ok(found)
    }
}

/// Validates one keyword line; `Ok(None)` for keywords this transport does not read.
fn parse_setting(keyword: &str, lower: &str, args: &[String]) -> Result<Option<Setting>, String> {
    const READ: &[&str] = &[
        "hostname",
        "user",
        "port",
        "identityfile",
        "userknownhostsfile",
        "stricthostkeychecking",
        "connecttimeout",
        "proxyjump",
        "identitiesonly",
        "identityagent",
        "proxycommand",
        "hostkeyalias",
    ];
    if !READ.contains(&lower) {
        return Ok(None);
    }
    let Some(first) = args.first() else {
        return Err(format!("{keyword} needs a value"));
    };
    let multi = matches!(lower, "userknownhostsfile" | "proxycommand");
    if !multi && args.len() > 1 {
        return Err(format!(
            "{keyword} takes one value, got {}: {}",
            args.len(),
            args.join(" ")
        ));
    }
    let value = first.as_str();
    Ok(Some(match lower {
        "hostname" => Setting::HostName(value.to_string()),
        "user" => Setting::User(value.to_string()),
        "port" => match value.parse::<u16>() {
            Ok(port) if port > 0 => Setting::Port(port),
            _ => {
                return Err(format!(
                    "bad Port '{value}': expected a number from 1 to 65535"
                ));
            }
        },
        "identityfile" => Setting::IdentityFile(value.to_string()),
        "userknownhostsfile" => Setting::UserKnownHostsFile(args.to_vec()),
        "stricthostkeychecking" => {
            Setting::StrictHostKeyChecking(match value.to_ascii_lowercase().as_str() {
                "yes" | "true" => StrictHostKeyChecking::Yes,
                "accept-new" => StrictHostKeyChecking::AcceptNew,
                "no" | "off" | "false" => StrictHostKeyChecking::No,
                "ask" => StrictHostKeyChecking::Ask,
                _ => {
                    return Err(format!(
                        "bad StrictHostKeyChecking '{value}': expected yes, accept-new, no, off \
                         or ask"
                    ));
                }
            })
        }
        "connecttimeout" => Setting::ConnectTimeout(if value.eq_ignore_ascii_case("none") {
            None
        } else {
            match parse_time(value) {
                Some(d) if d.is_zero() => None,
                Some(d) => Some(d),
                None => {
                    return Err(format!(
                        "bad ConnectTimeout '{value}': expected seconds or a time like 1m30s"
                    ));
                }
            }
        }),
        "proxyjump" => Setting::ProxyJump(if value.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(value.to_string())
        }),
        "identitiesonly" => Setting::IdentitiesOnly(match value.to_ascii_lowercase().as_str() {
            "yes" | "true" => true,
            "no" | "false" => false,
            _ => return Err(format!("bad IdentitiesOnly '{value}': expected yes or no")),
        }),
        "identityagent" => Setting::IdentityAgent(value.to_string()),
        "proxycommand" => {
            Setting::ProxyCommand(if args.len() == 1 && value.eq_ignore_ascii_case("none") {
                None
            } else {
                Some(args.join(" "))
            })
        }
        _ => Setting::HostKeyAlias(value.to_string()),
    }))
}

/// Splits a line into keyword and arguments: `Keyword value`, `Keyword=value`, double quotes
/// around arguments with spaces, and `#` starting a comment. `Ok(None)` for blank lines.
fn tokenize(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let keyword_end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let keyword = &line[..keyword_end];
    if keyword.is_empty() {
        return Err("missing keyword before '='".into());
    }
    let mut rest = line[keyword_end..].trim_start();
    if let Some(after) = rest.strip_prefix('=') {
        rest = after.trim_start();
    }
    let mut args = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        if c == '"' {
            chars.next();
            let mut arg = String::new();
            let mut closed = false;
            for (_, c) in chars.by_ref() {
                if c == '"' {
                    closed = true;
                    break;
                }
                arg.push(c);
            }
            if !closed {
                return Err(format!("unterminated quote in: {line}"));
            }
            args.push(arg);
            continue;
        }
        let mut end = rest.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == '"' {
                end = i;
                break;
            }
            chars.next();
        }
        args.push(rest[start..end].to_string());
    }
    Ok(Some((keyword.to_string(), args)))
}

/// Parses an ssh time value: plain seconds, or numbers with `s m h d w` suffixes (`1m30s`).
fn parse_time(value: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in value.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)?
                    .checked_add(u64::from(d))?,
            );
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if let Some(n) = number {
        total = total.checked_add(n)?;
    } else if value.is_empty() {
        return None;
    }
    Some(Duration::from_secs(total))
}

/// Replaces `%x` tokens from `tokens` and `%%`; unknown tokens are kept as written.
fn expand_tokens(raw: &str, tokens: &[(char, &str)]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match tokens.iter().find(|(k, _)| *k == t) {
                Some((_, value)) => out.push_str(value),
                None => {
                    out.push('%');
                    out.push(t);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

/// Expands a leading `~` or `~/` to the home directory.
fn expand_tilde(value: &str, home: Option<&Path>) -> PathBuf {
    match (value, home) {
        ("~", Some(home)) => home.to_path_buf(),
        (v, Some(home)) if v.starts_with("~/") => home.join(&v[2..]),
        (v, _) => PathBuf::from(v),
    }
}

/// Facts about the local account that ssh_config tokens refer to.
#[derive(Debug, Clone)]
struct LocalEnv {
    home: Option<PathBuf>,
    user: String,
    hostname: String,
    uid: u32,
}

impl LocalEnv {
    fn current() -> LocalEnv {
        LocalEnv {
            home: home_dir(),
            user: local_user(),
            hostname: local_hostname(),
            // SAFETY: getuid has no preconditions and cannot fail.
            uid: unsafe { libc::getuid() },
        }
    }
}

/// The local user's home directory: `$HOME`, else the password database.
pub(crate) fn home_dir() -> Option<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ => passwd_entry().map(|(_, home)| home),
    }
}

/// The local user name: `$USER`, `$LOGNAME`, else the password database, else the uid.
pub(crate) fn local_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(user) = std::env::var(var)
            && !user.is_empty()
        {
            return user;
        }
    }
    match passwd_entry() {
        Some((user, _)) => user,
        // SAFETY: getuid has no preconditions and cannot fail.
        None => unsafe { libc::getuid() }.to_string(),
    }
}

/// Name and home directory of the current uid from the password database.
fn passwd_entry() -> Option<(String, PathBuf)> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain old data; an all-zero value is valid and getpwuid_r fills it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer refers to live, correctly sized storage owned by this frame.
    let rc = unsafe {
        libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() || pwd.pw_dir.is_null() {
        return None;
    }
    // SAFETY: getpwuid_r succeeded, so both fields point to NUL-terminated strings in `buf`.
    let (name, dir) = unsafe { (CStr::from_ptr(pwd.pw_name), CStr::from_ptr(pwd.pw_dir)) };
    Some((
        name.to_string_lossy().into_owned(),
        PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())),
    ))
}

/// This machine's host name, for the `%l` token.
fn local_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its full length, which is what we pass.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SshConfig {
        match SshConfig::parse(text, Path::new("/cfg")) {
            Ok(c) => c,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    fn parse_err(text: &str) -> String {
        match SshConfig::parse(text, Path::new("/cfg")) {
            Ok(_) => panic!("expected an error for {text:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn first_obtained_value_wins() {
        let c = parse(
            "Host web1\n  User alice\n  Port 2201\nHost web*\n  User bob\n  HostName %h.lan\n\
             Host *\n  User root\n  Port 22\n  ConnectTimeout 5\n",
        );
        let h = c.resolve("web1");
        assert_eq!(h.user.as_deref(), Some("alice"));
        assert_eq!(h.port, Some(2201));
        assert_eq!(h.hostname.as_deref(), Some("web1.lan"));
        assert_eq!(h.connect_timeout, Some(Duration::from_secs(5)));
        let h = c.resolve("db1");
        assert_eq!(h.user.as_deref(), Some("root"));
        assert_eq!(h.hostname, None);
    }

    #[test]
    fn global_lines_before_first_host_apply_everywhere() {
        let c = parse("User early\nHost x\n User late\n");
        assert_eq!(c.resolve("x").user.as_deref(), Some("early"));
    }

    #[test]
    fn multiple_patterns_and_negation() {
        let c = parse("Host web* db? !web3\n  User ops\n");
        assert_eq!(c.resolve("web1").user.as_deref(), Some("ops"));
        assert_eq!(c.resolve("db1").user.as_deref(), Some("ops"));
        assert_eq!(c.resolve("db12").user, None);
        assert_eq!(c.resolve("web3").user, None);
        assert_eq!(c.resolve("WEB1").user.as_deref(), Some("ops"));
    }

    #[test]
    fn equals_quotes_and_comments() {
        let c = parse(
            "Host=a\n  User = \"x y\"\n  Port=2222 # trailing comment\n  # full comment\n\n\
             IdentityFile \"/k/with space\"\n",
        );
        let h = c.resolve("a");
        assert_eq!(h.user.as_deref(), Some("x y"));
        assert_eq!(h.port, Some(2222));
        assert_eq!(h.identity_files, vec![PathBuf::from("/k/with space")]);
    }

    #[test]
    fn identity_files_accumulate_and_expand_tokens() {
        let c = parse(
            "Host h1\n  HostName 10.0.0.1\n  User admin\n  Port 2022\n  IdentityFile ~/.ssh/%h_%r_%p\n\
             Host *\n  IdentityFile /keys/%n/%%id\n  IdentityFile ~/.ssh/%h_%r_%p\n",
        );
        let h = c.resolve("h1");
        let home = c.local.home.clone().unwrap_or_default();
        assert_eq!(
            h.identity_files,
            vec![
                home.join(".ssh/10.0.0.1_admin_2022"),
                PathBuf::from("/keys/h1/%id")
            ]
        );
    }

    #[test]
    fn overrides_win_and_feed_tokens() {
        let c = parse("Host h1\n  HostName cfg\n  User cfguser\n  IdentityFile /k/%h-%r\n");
        let h = c.resolve_with(
            "h1",
            &Overrides {
                hostname: Some("10.1.1.1"),
                user: Some("inv"),
                port: Some(2200),
            },
        );
        assert_eq!(h.hostname.as_deref(), Some("10.1.1.1"));
        assert_eq!(h.user.as_deref(), Some("inv"));
        assert_eq!(h.port, Some(2200));
        assert_eq!(h.identity_files, vec![PathBuf::from("/k/10.1.1.1-inv")]);
    }

    #[test]
    fn known_hosts_strict_and_agent() {
        let c = parse(
            "Host a\n  UserKnownHostsFile /kh1 ~/kh2\n  StrictHostKeyChecking accept-new\n\
             IdentityAgent none\n  IdentitiesOnly yes\nHost b\n  UserKnownHostsFile none\n\
             StrictHostKeyChecking off\n  IdentityAgent /run/agent.sock\nHost c\n\
             StrictHostKeyChecking ask\n",
        );
        let a = c.resolve("a");
        let home = c.local.home.clone().unwrap_or_default();
        assert_eq!(
            a.user_known_hosts_files,
            vec![PathBuf::from("/kh1"), home.join("kh2")]
        );
        assert_eq!(
            a.strict_host_key_checking,
            Some(StrictHostKeyChecking::AcceptNew)
        );
        assert_eq!(a.identity_agent, Some(IdentityAgent::Disabled));
        assert!(a.identities_only);
        let b = c.resolve("b");
        assert_eq!(b.user_known_hosts_files, vec![PathBuf::from("/dev/null")]);
        assert_eq!(b.strict_host_key_checking, Some(StrictHostKeyChecking::No));
        assert_eq!(
            b.identity_agent,
            Some(IdentityAgent::Socket(PathBuf::from("/run/agent.sock")))
        );
        assert!(!b.identities_only);
        assert_eq!(
            c.resolve("c").strict_host_key_checking,
            Some(StrictHostKeyChecking::Ask)
        );
    }

    #[test]
    fn proxy_jump_and_none() {
        let c = parse("Host inner\n  ProxyJump none\nHost *\n  ProxyJump ops@bastion:2222\n");
        assert_eq!(c.resolve("inner").proxy_jump, None);
        assert_eq!(
            c.resolve("other").proxy_jump.as_deref(),
            Some("ops@bastion:2222")
        );
    }

    #[test]
    fn proxy_command_and_host_key_alias_are_reported() {
        let c = parse(
            "Host a\n  ProxyCommand nc %h %p\nHost b\n  ProxyCommand none\n  HostKeyAlias x\n",
        );
        let a = c.resolve("a");
        assert_eq!(a.unsupported.len(), 1);
        assert!(a.unsupported[0].starts_with("/cfg:2: ProxyCommand (nc %h %p)"));
        let b = c.resolve("b");
        assert_eq!(b.unsupported.len(), 1);
        assert!(b.unsupported[0].contains("HostKeyAlias"));
    }

    #[test]
    fn match_blocks_are_skipped_with_a_note() {
        let c = parse(
            "Match exec \"true\"\n  User fromMatch\nHost x\n  Port 2\nMatch all\n  User everyone\n",
        );
        let h = c.resolve("x");
        assert_eq!(h.user.as_deref(), Some("everyone"));
        assert_eq!(h.port, Some(2));
        assert_eq!(c.notes().len(), 1);
        assert!(c.notes()[0].starts_with("/cfg:1: Match blocks are not supported"));
    }

    #[test]
    fn errors_name_file_and_line() {
        assert_eq!(
            parse_err("Host a\n  Port abc\n"),
            "/cfg:2: bad Port 'abc': expected a number from 1 to 65535"
        );
        assert!(parse_err("Host\n").starts_with("/cfg:1: Host needs"));
        assert!(parse_err("\n\nUser\n").starts_with("/cfg:3: User needs a value"));
        assert!(parse_err("StrictHostKeyChecking maybe\n").starts_with("/cfg:1: bad Strict"));
        assert!(parse_err("ConnectTimeout soon\n").starts_with("/cfg:1: bad ConnectTimeout"));
        assert!(parse_err("IdentitiesOnly perhaps\n").starts_with("/cfg:1: bad IdentitiesOnly"));
        assert!(parse_err("User \"open\n").starts_with("/cfg:1: unterminated quote"));
        assert!(parse_err("Port 22 23\n").starts_with("/cfg:1: Port takes one value"));
        assert!(parse_err("=x\n").starts_with("/cfg:1: missing keyword"));
    }

    #[test]
    fn unknown_keywords_are_ignored() {
        let c = parse("Host *\n  SendEnv LANG LC_*\n  HashKnownHosts yes\n  User u\n");
        assert_eq!(c.resolve("z").user.as_deref(), Some("u"));
    }

    #[test]
    fn time_values() {
        assert_eq!(parse_time("30"), Some(Duration::from_secs(30)));
        assert_eq!(parse_time("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_time("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time("5x"), None);
    }

    #[test]
    fn include_with_glob_inside_host_block() {
        let dir = std::env::temp_dir().join(format!("vmup-sshcfg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sub = dir.join("conf.d");
        assert!(std::fs::create_dir_all(&sub).is_ok());
        assert!(std::fs::write(sub.join("a.conf"), "User fromA\nPort 2001\n").is_ok());
        assert!(std::fs::write(sub.join("b.conf"), "User fromB\nHost other\n  Port 9\n").is_ok());
        assert!(std::fs::write(sub.join("skip.txt"), "User nope\n").is_ok());
        let main = dir.join("config");
        let text = format!(
            "Host web*\n  Include {}/*.conf\nHost *\n  User fallback\n  Include {}/missing\n",
            sub.display(),
            sub.display()
        );
        let c = match SshConfig::parse(&text, &main) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        let web = c.resolve("web1");
        assert_eq!(web.user.as_deref(), Some("fromA"));
        assert_eq!(web.port, Some(2001));
        // The included files' lines stay under the enclosing `Host web*`.
        let db = c.resolve("db1");
        assert_eq!(db.user.as_deref(), Some("fallback"));
        assert_eq!(db.port, None);
        assert_eq!(c.resolve("other").port, None);
        assert_eq!(c.resolve("webother").port, Some(2001));
        // Errors inside an included file name that file.
        assert!(std::fs::write(sub.join("c.conf"), "\nPort x\n").is_ok());
        match SshConfig::parse(&text, &main) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert_eq!(
                e.to_string(),
                format!(
                    "{}:2: bad Port 'x': expected a number from 1 to 65535",
                    sub.join("c.conf").display()
                )
            ),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn load_missing_explicit_file_is_an_error() {
        match SshConfig::load(Some(Path::new("/nonexistent/vmup/ssh_config"))) {
            Ok(_) => panic!("expected an error"),
            Err(e) => assert!(
                e.to_string()
                    .starts_with("cannot read ssh config /nonexistent/vmup/ssh_config:")
            ),
        }
    }

    #[test]
    fn tokenizer_edge_cases() {
        assert_eq!(tokenize("   ").ok().flatten(), None);
        assert_eq!(
            tokenize("Host a \"b c\" d").ok().flatten(),
            Some((
                "Host".to_string(),
                vec!["a".into(), "b c".into(), "d".into()]
            ))
        );
        assert_eq!(
            tokenize("User=x").ok().flatten(),
            Some(("User".to_string(), vec!["x".into()]))
        );
    }
}
