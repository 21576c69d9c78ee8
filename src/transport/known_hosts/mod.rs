//! known_hosts(5) reader and writer, so the in-process ssh transport checks host keys exactly
//! against the files ssh(1) maintains, and can say which file and line holds an old key.
//!
//! Supported: plain entries, comma-separated host lists with `*`/`?`/`!` patterns, the
//! `[host]:port` form (used for ports other than 22, as ssh(1) writes it), hashed entries
//! `|1|salt|hash` (HMAC-SHA1 of the name), `@revoked` (a matching key is refused outright) and
//! comments/blank lines. Keys are matched by type: a different key of the *same* type is a
//! changed key, a key of another type only means this type is unknown.
//!
//! `@cert-authority` lines are skipped: host certificates are not supported by the in-process
//! transport (use `transport = openssh` for them). Lines that cannot be parsed are skipped,
//! as ssh(1) does, so one bad line does not lock out a fleet.
//!
//! New keys (`StrictHostKeyChecking accept-new`) are appended as plain, unhashed lines under
//! an exclusive `flock(2)`, after re-reading the file under that lock so that concurrent
//! connections to one host never write it twice.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{KeyInit, Mac};
use russh::keys::{HashAlg, PublicKey};

use super::pattern::NameIndex;

/// The name a host's keys are stored under: `host` for port 22, `[host]:port` otherwise.
pub fn host_key_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The SHA256 fingerprint of a key as ssh-keygen -l prints it (`SHA256:...`), for messages.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The parsed entries of one known_hosts file.
#[derive(Debug, Clone)]
pub struct KnownHostsFile {
    path: PathBuf,
    entries: Vec<Entry>,
    /// The entries by the host names they can be for (hashed ones are candidates for
    /// every name), so checking one host does not try every line of a file with a line
    /// per host.
    index: NameIndex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
}

#[derive(Debug, Clone)]
enum Hosts {
    Patterns(String),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Debug, Clone)]
struct Entry {
    line: usize,
    marker: Marker,
    hosts: Hosts,
    key_type: String,
    key_blob: Vec<u8>,
}

impl Entry {
    fn matches_name(&self, name: &str) -> bool {
        match &self.hosts {
            Hosts::Patterns(list) => super::pattern::match_list(list.split(','), name),
            Hosts::Hashed { salt, hash } => {
                let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                    return false;
                };
                mac.update(name.as_bytes());
                mac.verify_slice(hash).is_ok()
            }
        }
    }
}

/// What the known_hosts files say about a key a host presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key is listed for this host.
    Trusted {
        /// File holding the entry.
        path: PathBuf,
        /// 1-based line of the entry.
        line: usize,
    },
    /// The key is listed with `@revoked`.
    Revoked {
        /// File holding the entry.
        path: PathBuf,
        /// 1-based line of the entry.
        line: usize,
    },
    /// Another key of the same type is listed for this host.
    Changed {
        /// File holding the old key.
        path: PathBuf,
        /// 1-based line of the old key.
        line: usize,
        /// SHA256 fingerprint of the old key.
        old_fingerprint: String,
    },
    /// No key of this type is listed for this host.
    Unknown {
        /// Keys of other types listed for this host, as `PATH:LINE (TYPE)`, for the message.
        other_types: Vec<String>,
    },
}

impl KnownHostsFile {
    /// Reads `path`; a missing file is an empty one (ssh(1) treats it the same way).
    pub fn load(path: &Path) -> std::io::Result<KnownHostsFile> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(KnownHostsFile::parse(
                &String::from_utf8_lossy(&bytes),
                path,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(KnownHostsFile::parse("", path))
            }
            Err(e) => Err(e),
        }
    }

    /// Parses known_hosts text; `path` is remembered for verdicts and messages.
    pub fn parse(text: &str, path: &Path) -> KnownHostsFile {
        let entries: Vec<Entry> = text
            .lines()
            .enumerate()
            .filter_map(|(i, line)| parse_line(line, i + 1))
            .collect();
        let index = NameIndex::build(entries.iter().map(|e| match &e.hosts {
            Hosts::Patterns(list) => Some(list.split(',')),
            Hosts::Hashed { .. } => None,
        }));
        KnownHostsFile {
            path: path.to_path_buf(),
            entries,
            index,
        }
    }

    /// The entries that can be for `name`, in file order.
    fn candidates<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.index
            .candidates(name)
            .into_iter()
            .filter_map(|i| self.entries.get(i))
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Key types (`ssh-ed25519`, `ssh-rsa`, ...) listed for `name`, in file order, so the
    /// client can prefer host key algorithms it can already verify (as ssh(1) does).
    pub fn key_types_for(&self, name: &str) -> Vec<String> {
        self.candidates(name)
            .filter(|e| e.marker == Marker::None && e.matches_name(name))
            .map(|e| e.key_type.clone())
            .collect()
    }
}

/// Checks `key` presented under `name` (see [`host_key_name`]) against `files`, in order:
/// a revoked match anywhere wins, then a listed key, then a same-type different key.
pub fn verify<'a, I>(files: I, name: &str, key: &PublicKey) -> Verdict
where
    I: IntoIterator<Item = &'a KnownHostsFile>,
{
    let files: Vec<&KnownHostsFile> = files.into_iter().collect();
    let key_type = key.algorithm().as_str().to_string();
    let blob = key.to_bytes().unwrap_or_default();
    let mut trusted = None;
    let mut changed = None;
    let mut other_types = Vec::new();
    for file in &files {
        for entry in file.candidates(name) {
            if !entry.matches_name(name) {
                continue;
            }
            let same_key = entry.key_blob == blob;
            match entry.marker {
                Marker::Revoked if same_key => {
                    return Verdict::Revoked {
                        path: file.path.clone(),
                        line: entry.line,
                    };
                }
                Marker::Revoked => {}
                Marker::None if same_key => {
                    if trusted.is_none() {
                        trusted = Some(Verdict::Trusted {
                            path: file.path.clone(),
                            line: entry.line,
                        });
                    }
                }
                Marker::None if entry.key_type == key_type => {
                    if changed.is_none() {
                        let old_fingerprint = PublicKey::from_bytes(&entry.key_blob)
                            .map(|k| fingerprint(&k))
                            .unwrap_or_else(|_| "(unparsable key)".to_string());
                        changed = Some(Verdict::Changed {
                            path: file.path.clone(),
                            line: entry.line,
                            old_fingerprint,
                        });
                    }
                }
                Marker::None => other_types.push(format!(
                    "{}:{} ({})",
                    file.path.display(),
                    entry.line,
                    entry.key_type
                )),
            }
        }
    }
    trusted
        .or(changed)
        .unwrap_or(Verdict::Unknown { other_types })
}

/// Records `key` for `name` at the end of `path` (creating the file, and a missing parent
/// directory with mode 0700), unless the file, re-read under an exclusive lock, already
/// decides about it. Returns the verdict of that re-read when it is not `Unknown`, so a
/// concurrent writer's entry (or a conflicting key) is honoured; `Ok(None)` when appended.
///
/// A name that a plain known_hosts line cannot hold as itself (empty, with whitespace,
/// `,`, `*` or `?`, or starting with `!`, `#`, `@` or `|`) is refused with
/// [`std::io::ErrorKind::InvalidInput`] and the file is left alone: its line would match
/// no host (and be appended again on every connection) or other hosts too.
pub fn append(path: &Path, name: &str, key: &PublicKey) -> std::io::Result<Option<Verdict>> {
    if let Err(reason) = writable_name(name) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("cannot record a host key for {name:?}: {reason}"),
        ));
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)?;
    // An exclusive lock serialises concurrent accept-new writers; closing the file unlocks.
    file.lock()?;
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    let current = KnownHostsFile::parse(&String::from_utf8_lossy(&bytes), path);
    match verify([&current], name, key) {
        Verdict::Unknown { .. } => {}
        decided => return Ok(Some(decided)),
    }
    let openssh = key
        .to_openssh()
        .map_err(|e| std::io::Error::other(format!("cannot encode host key: {e}")))?;
    // `to_openssh` gives "TYPE BASE64 [COMMENT]"; a known_hosts line has no comment here.
    let mut fields = openssh.split_whitespace();
    let (Some(key_type), Some(b64)) = (fields.next(), fields.next()) else {
        return Err(std::io::Error::other("cannot encode host key"));
    };
    let mut line = String::new();
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        line.push('\n');
    }
    line.push_str(&format!("{name} {key_type} {b64}\n"));
    // One write(2) on an O_APPEND descriptor: the line lands whole at the end.
    file.write_all(line.as_bytes())?;
    Ok(None)
}

/// Whether `name` can be written as the host field of a plain known_hosts line that
/// matches exactly that name: not empty, no whitespace (which ends the field), no `,`
/// (which separates names), no `*` or `?` (wildcards would match other hosts), and no
/// leading `!` (negation), `#` (comment), `@` (marker) or `|` (hashed entry).
fn writable_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("the name is empty");
    }
    if name.contains(char::is_whitespace) {
        return Err("the name contains whitespace");
    }
    if name.contains([',', '*', '?']) {
        return Err("the name contains `,`, `*` or `?`, which known_hosts reads as a pattern");
    }
    if name.starts_with(['!', '#', '@', '|']) {
        return Err("the name starts with `!`, `#`, `@` or `|`, which known_hosts reads as syntax");
    }
    Ok(())
}

/// Parses one known_hosts line; `None` for comments, blanks, `@cert-authority` and garbage.
fn parse_line(line: &str, number: usize) -> Option<Entry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => {
            first = fields.next()?;
            Marker::Revoked
        }
        // Host certificates are not supported: the line is skipped (see the module docs).
        "@cert-authority" => return None,
        m if m.starts_with('@') => return None,
        _ => Marker::None,
    };
    let key_type = fields.next()?.to_string();
    let key_blob = BASE64.decode(fields.next()?).ok()?;
    let hosts = if let Some(hashed) = first.strip_prefix("|1|") {
        let (salt, hash) = hashed.split_once('|')?;
        Hosts::Hashed {
            salt: BASE64.decode(salt).ok()?,
            hash: BASE64.decode(hash).ok()?,
        }
    } else if first.starts_with('|') {
        return None;
    } else {
        Hosts::Patterns(first.to_string())
    };
    Some(Entry {
        line: number,
        marker,
        hosts,
        key_type,
        key_blob,
    })
}

#[cfg(test)]
mod tests;
