//! The synthetic transport: hosts that answer like the local tree at `root` without being
//! machines (`transport = "synthetic"`), so the controller alone can be measured at ten
//! thousand hosts, far more sshd processes than a test machine holds (see `bench/`).
//!
//! Scripts sent to alike hosts differ only in their random boundaries (and in values a
//! runbook renders per host). Each distinct script, boundaries set aside, runs once against
//! the shared tree with the local transport; every host that sends it gets that output
//! back with its own boundaries after `latency`. The controller thus sees what real hosts
//! give it: the same framing, the same byte counts, a wait per round trip; and the tree
//! changes once, as the first host's would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use super::local::LocalTransport;
use super::{RemoteOutput, Transport, TransportError};

/// Outputs already produced, by script with its boundaries set aside; shared by every
/// synthetic host of a run.
#[derive(Default)]
pub struct ReplayCache {
    entries: Mutex<HashMap<Vec<u8>, Arc<OnceLock<Canned>>>>,
}

/// One script's output with its boundaries replaced by placeholders, or why it failed.
type Canned = Result<RemoteOutput, (bool, String)>;

/// A host answering from the shared tree through the [`ReplayCache`].
pub struct SyntheticTransport {
    host: String,
    local: LocalTransport,
    latency: Duration,
    cache: Arc<ReplayCache>,
}

impl SyntheticTransport {
    /// A host named `host` (in errors) answering like the tree `local` runs on, after
    /// `latency` per script, sharing `cache` with the run's other synthetic hosts.
    pub fn new(
        host: &str,
        local: LocalTransport,
        latency: Duration,
        cache: Arc<ReplayCache>,
    ) -> SyntheticTransport {
        SyntheticTransport {
            host: host.to_string(),
            local,
            latency,
            cache,
        }
    }
}

impl Transport for SyntheticTransport {
    fn run(&self, script: &[u8]) -> Result<RemoteOutput, TransportError> {
        let own = tokens(script);
        let key = replace_tokens(script, &own, placeholder);
        let slot = {
            let mut entries = self.cache.entries.lock().map_err(|_| TransportError::Io {
                host: self.host.clone(),
                reason: "the replay cache was poisoned by a panic".into(),
            })?;
            Arc::clone(entries.entry(key).or_default())
        };
        // The first host with this script runs it; alike hosts wait for its output.
        let canned = slot.get_or_init(|| match self.local.run(script) {
            Ok(out) => Ok(RemoteOutput {
                stdout: replace_tokens(&out.stdout, &own, placeholder),
                stderr: replace_tokens(&out.stderr, &own, placeholder),
                status: out.status,
            }),
            // The reason only: each host's error names that host.
            Err(TransportError::Unreachable { reason, .. }) => Err((true, reason)),
            Err(e) => Err((false, e.to_string())),
        });
        std::thread::sleep(self.latency);
        match canned {
            Ok(out) => Ok(RemoteOutput {
                stdout: restore(&out.stdout, &own),
                stderr: restore(&out.stderr, &own),
                status: out.status,
            }),
            Err((true, reason)) => Err(TransportError::Unreachable {
                host: self.host.clone(),
                reason: reason.clone(),
            }),
            Err((false, reason)) => Err(TransportError::Io {
                host: self.host.clone(),
                reason: reason.clone(),
            }),
        }
    }
}

/// Length of a boundary token: `vmup` and 32 hex digits (`remote::frame::Boundary`).
const TOKEN_LEN: usize = 36;

/// The boundary tokens in `bytes`, each once, in the order they first appear.
fn tokens(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut i = 0;
    while i + TOKEN_LEN <= bytes.len() {
        let candidate = &bytes[i..i + TOKEN_LEN];
        if candidate.starts_with(b"vmup")
            && candidate[4..]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            if !found.iter().any(|t| t == candidate) {
                found.push(candidate.to_vec());
            }
            i += TOKEN_LEN;
        } else {
            i += 1;
        }
    }
    found
}

/// The stand-in for the `i`th token: as long as a token and never one (`x` is no hex digit).
fn placeholder(i: usize) -> Vec<u8> {
    format!("vmup{}{i:04}", "x".repeat(TOKEN_LEN - 8)).into_bytes()
}

/// `bytes` with every one of `tokens` replaced by its stand-in from `with`.
fn replace_tokens(bytes: &[u8], tokens: &[Vec<u8>], with: fn(usize) -> Vec<u8>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (i, token) in tokens.iter().enumerate() {
        out = replace_all(&out, token, &with(i));
    }
    out
}

/// Canned output given this script's own tokens back.
fn restore(canned: &[u8], own: &[Vec<u8>]) -> Vec<u8> {
    let mut out = canned.to_vec();
    for (i, token) in own.iter().enumerate() {
        out = replace_all(&out, &placeholder(i), token);
    }
    out
}

/// `haystack` with every `from` replaced by `to`, found with a vectorised search: this
/// runs over every script and answer of every synthetic host, and a byte-by-byte compare
/// was a third of a synthetic run's CPU, which is meant to be the controller's own.
fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return haystack.to_vec();
    }
    let mut out = Vec::with_capacity(haystack.len());
    let mut done = 0;
    for at in memchr::memmem::find_iter(haystack, from) {
        out.extend_from_slice(&haystack[done..at]);
        out.extend_from_slice(to);
        done = at + from.len();
    }
    out.extend_from_slice(&haystack[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::frame::Boundary;

    fn host(name: &str, root: &std::path::Path, cache: &Arc<ReplayCache>) -> SyntheticTransport {
        SyntheticTransport::new(
            name,
            LocalTransport::with_root(name, Some(root.to_path_buf())),
            Duration::ZERO,
            Arc::clone(cache),
        )
    }

    fn script(boundary: &Boundary, counter: &std::path::Path) -> Vec<u8> {
        format!(
            "B={b}\necho run >> {c}\nprintf '\\n%s file 1\\nhello\\n\\n%s end\\n' \"$B\" \"$B\"\n",
            b = boundary.token(),
            c = counter.display()
        )
        .into_bytes()
    }

    #[test]
    fn replace_all_replaces_left_to_right_without_overlaps() {
        assert_eq!(replace_all(b"xaaay", b"aa", b"B"), b"xBay");
        assert_eq!(replace_all(b"aa-aa", b"aa", b"long"), b"long-long");
        assert_eq!(replace_all(b"none", b"zz", b"B"), b"none");
        assert_eq!(replace_all(b"", b"zz", b"B"), b"");
        assert_eq!(replace_all(b"abc", b"", b"B"), b"abc");
    }

    #[test]
    fn alike_scripts_run_once_and_each_host_gets_its_own_boundary_back() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("runs");
        let cache = Arc::new(ReplayCache::default());
        for name in ["a", "b", "c"] {
            let boundary = Boundary::random();
            let out = host(name, dir.path(), &cache)
                .run(&script(&boundary, &counter))
                .unwrap();
            let want = format!("\n{t} file 1\nhello\n\n{t} end\n", t = boundary.token());
            assert_eq!(String::from_utf8(out.stdout).unwrap(), want, "{name}");
            assert_eq!(out.status, Some(0));
        }
        // Run once for the three hosts: the tree changed as one host's would.
        assert_eq!(std::fs::read_to_string(&counter).unwrap(), "run\n");
        // Another script runs on its own.
        host("d", dir.path(), &cache)
            .run(format!("echo other >> {}\n", counter.display()).as_bytes())
            .unwrap();
        assert_eq!(std::fs::read_to_string(&counter).unwrap(), "run\nother\n");
    }

    #[test]
    fn a_missing_tree_makes_every_host_unreachable_under_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Arc::new(ReplayCache::default());
        for name in ["a", "b"] {
            match host(name, &dir.path().join("gone"), &cache).run(b"true\n") {
                Err(e @ TransportError::Unreachable { .. }) => {
                    assert!(
                        e.to_string()
                            .starts_with(&format!("cannot connect to {name}")),
                        "{e}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn tokens_are_found_once_each_and_placeholders_are_never_tokens() {
        let a = Boundary::random();
        let b = Boundary::random();
        let text = format!(
            "{a} x {b} {a} vmup_rec vmupnothex",
            a = a.token(),
            b = b.token()
        );
        let found = tokens(text.as_bytes());
        assert_eq!(
            found,
            [a.token().as_bytes().to_vec(), b.token().as_bytes().to_vec()]
        );
        assert!(tokens(&placeholder(7)).is_empty());
        assert_eq!(placeholder(7).len(), TOKEN_LEN);
    }
}
