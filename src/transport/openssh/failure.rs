//! Reading ssh(1)'s own failure messages: an exit status of 255 is ssh's only when its
//! stderr says so (a script may exit 255 too).

use std::path::PathBuf;
use std::time::Duration;

use super::super::TransportError;

/// Turns ssh's own failure messages (exit 255) into transport errors; `None` when stderr
/// shows no ssh failure, i.e. the script itself exited with 255.
pub(super) fn classify_ssh_failure(
    host: &str,
    user: Option<&str>,
    stderr: &[u8],
    connect_timeout: Duration,
    default_known_hosts: impl FnOnce() -> PathBuf,
) -> Option<TransportError> {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').trim())
        .filter(|l| !l.is_empty() && !l.chars().all(|c| c == '@'))
        .collect();
    let last = lines.last().copied().unwrap_or_default().to_string();
    let host_string = host.to_string();

    if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || text.contains("Host key verification failed")
    {
        // "Offending ED25519 key in /root/.ssh/known_hosts:3"
        let offending = lines
            .iter()
            .find_map(|l| {
                l.split_once("Offending ")
                    .and_then(|(_, r)| r.split_once(" in "))
            })
            .map(|(_, location)| location.to_string());
        let known_hosts = offending
            .as_deref()
            .and_then(|loc| loc.rsplit_once(':').map(|(p, _)| PathBuf::from(p)))
            .unwrap_or_else(default_known_hosts);
        let fingerprint = lines
            .iter()
            .find(|l| l.starts_with("SHA256:"))
            .map(|l| format!(", server offered {l}"))
            .unwrap_or_default();
        let reason = if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
            format!(
                "host key CHANGED{fingerprint}{}",
                offending
                    .map(|loc| format!("; the old key is at {loc}"))
                    .unwrap_or_default()
            )
        } else {
            let detail = lines
                .iter()
                .find(|l| l.contains("host key is known"))
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            format!("unknown host key{detail}: {last}")
        };
        return Some(TransportError::HostKey {
            host: host_string,
            known_hosts,
            reason,
        });
    }
    if let Some(line) = lines.iter().find(|l| l.contains("Permission denied")) {
        // "root@127.0.0.1: Permission denied (publickey)."
        let user = user
            .map(str::to_string)
            .or_else(|| line.split_once('@').map(|(u, _)| u.to_string()))
            .unwrap_or_else(|| "?".to_string());
        return Some(TransportError::Auth {
            host: host_string,
            user,
            reason: format!("ssh: {line}"),
        });
    }
    let unreachable = |reason: String| {
        Some(TransportError::Unreachable {
            host: host.to_string(),
            reason,
        })
    };
    if text.contains("Connection refused") {
        return unreachable(format!("connection refused (ssh: {last})"));
    }
    if text.contains("Connection timed out") || text.contains("Operation timed out") {
        return unreachable(format!(
            "connect timed out after {}s (ssh: {last})",
            connect_timeout.as_secs_f64().ceil()
        ));
    }
    const UNREACHABLE: &[&str] = &[
        "Could not resolve hostname",
        "No route to host",
        "Network is unreachable",
        "Connection closed by",
        "Connection reset",
        "kex_exchange_identification",
        "ssh_exchange_identification",
        "banner exchange",
        "Unable to negotiate",
        "Bad owner or permissions",
        "Can't open user config file",
        "command-line line",
        "Bad configuration option",
        "ssh: connect to host",
    ];
    if UNREACHABLE.iter().any(|p| text.contains(p)) {
        return unreachable(format!("ssh: {last}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(stderr: &str) -> Option<TransportError> {
        classify_ssh_failure(
            "web1",
            None,
            stderr.as_bytes(),
            Duration::from_secs(5),
            || PathBuf::from("/default/known_hosts"),
        )
    }

    #[test]
    fn changed_host_key() {
        let stderr = "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
            @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
            @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
            The fingerprint for the ED25519 key sent by the remote host is\n\
            SHA256:abcdef.\n\
            Offending ED25519 key in /root/kh:3\n\
            Host key verification failed.\n";
        match classify(stderr) {
            Some(TransportError::HostKey {
                host,
                known_hosts,
                reason,
            }) => {
                assert_eq!(host, "web1");
                assert_eq!(known_hosts, PathBuf::from("/root/kh"));
                assert!(reason.contains("host key CHANGED"), "{reason}");
                assert!(reason.contains("SHA256:abcdef"), "{reason}");
                assert!(reason.contains("/root/kh:3"), "{reason}");
            }
            other => panic!("expected HostKey, got {other:?}"),
        }
    }

    #[test]
    fn unknown_host_key() {
        let stderr = "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested \
                      strict checking.\r\nHost key verification failed.\r\n";
        match classify(stderr) {
            Some(TransportError::HostKey {
                known_hosts,
                reason,
                ..
            }) => {
                assert_eq!(known_hosts, PathBuf::from("/default/known_hosts"));
                assert!(reason.starts_with("unknown host key"), "{reason}");
            }
            other => panic!("expected HostKey, got {other:?}"),
        }
    }

    #[test]
    fn auth_refused() {
        match classify("root@127.0.0.1: Permission denied (publickey).\n") {
            Some(TransportError::Auth { user, reason, .. }) => {
                assert_eq!(user, "root");
                assert!(reason.contains("Permission denied (publickey)"));
            }
            other => panic!("expected Auth, got {other:?}"),
        }
    }

    #[test]
    fn network_failures() {
        assert!(matches!(
            classify("ssh: connect to host 127.0.0.1 port 1: Connection refused\n"),
            Some(TransportError::Unreachable { reason, .. }) if reason.starts_with("connection refused")
        ));
        assert!(matches!(
            classify("ssh: connect to host 10.0.0.1 port 22: Connection timed out\n"),
            Some(TransportError::Unreachable { reason, .. }) if reason.starts_with("connect timed out after 5s")
        ));
        assert!(matches!(
            classify("ssh: Could not resolve hostname nope: Name or service not known\n"),
            Some(TransportError::Unreachable { .. })
        ));
    }

    #[test]
    fn a_script_exiting_255_is_not_an_ssh_failure() {
        assert!(classify("").is_none());
        assert!(classify("my script failed\n").is_none());
    }
}
