//! `%` tokens and `~` in path values, and the facts about the local account they refer to
//! (home directory, user name, uid, host name), read the way ssh(1) reads them.
//!
//! The only unsafe code in vmup is here: `getuid`/`getpwuid_r` to expand `~` and `%u` the
//! way ssh(1) does (from the password database, not `$HOME`); each call has its SAFETY note.
#![allow(unsafe_code)]

use std::path::{Path, PathBuf};

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
