//! `%` tokens and `~` in path values, and the facts about the local account they refer to
//! (home directory, user name, uid, host name), read the way ssh(1) reads them: the user
//! and home fall back to the password database (through `nix`, so vmup has no unsafe code).

use std::path::{Path, PathBuf};

use nix::unistd::{User, gethostname, getuid};

/// Replaces `%x` tokens from `tokens` and `%%`; unknown tokens are kept as written.
pub(super) fn expand_tokens(raw: &str, tokens: &[(char, &str)]) -> String {
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
pub(super) fn expand_tilde(value: &str, home: Option<&Path>) -> PathBuf {
    match (value, home) {
        ("~", Some(home)) => home.to_path_buf(),
        (v, Some(home)) if v.starts_with("~/") => home.join(&v[2..]),
        (v, _) => PathBuf::from(v),
    }
}

/// Facts about the local account that ssh_config tokens refer to.
#[derive(Debug, Clone)]
pub(super) struct LocalEnv {
    /// `~` and `%d`.
    pub(super) home: Option<PathBuf>,
    /// `%u`, and the remote user when nothing names one.
    pub(super) user: String,
    /// `%l` (and `%L`, its first label).
    pub(super) hostname: String,
    /// `%i`.
    pub(super) uid: u32,
}

impl LocalEnv {
    /// The facts for the account running vmup.
    pub(super) fn current() -> LocalEnv {
        LocalEnv {
            home: home_dir(),
            user: local_user(),
            hostname: local_hostname(),
            uid: getuid().as_raw(),
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
        None => getuid().as_raw().to_string(),
    }
}

/// Name and home directory of the current uid from the password database.
fn passwd_entry() -> Option<(String, PathBuf)> {
    let user = User::from_uid(getuid()).ok().flatten()?;
    Some((user.name, user.dir))
}

/// This machine's host name, for the `%l` token; empty when it cannot be read.
fn local_hostname() -> String {
    match gethostname() {
        Ok(name) => name.to_string_lossy().into_owned(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_database_and_host_name_are_read() {
        let (name, dir) = match passwd_entry() {
            Some(entry) => entry,
            None => panic!("no password database entry for uid {}", getuid()),
        };
        let id = std::process::Command::new("id").arg("-un").output();
        if let Ok(out) = id {
            assert_eq!(name, String::from_utf8_lossy(&out.stdout).trim());
        }
        assert!(dir.is_absolute(), "{}", dir.display());
        assert_eq!(LocalEnv::current().uid, getuid().as_raw());
        if let Ok(kernel) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
            assert_eq!(local_hostname(), kernel.trim_end());
        }
    }
}
