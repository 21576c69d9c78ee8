//! The `openssh` transport (system ssh client with ControlMaster) against real sshd servers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::sshd_fixture::{ConfigText, Sshd, isolated, keys, write_file};
use vmup::transport::openssh::{OpensshContext, OpensshTransport};
use vmup::transport::ssh::SshTarget;
use vmup::transport::{RemoteOutput, Transport, TransportError};

fn context(config: &ConfigText, dir: &Path, command_timeout: Option<Duration>) -> OpensshContext {
    let file = config.write(&dir.join("ssh_config"));
    match OpensshContext::new(Some(file), Duration::from_secs(5), command_timeout) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn target(name: &str) -> SshTarget {
    SshTarget {
        name: name.to_string(),
        ..SshTarget::default()
    }
}

fn run_ok(transport: &OpensshTransport, script: &[u8]) -> RemoteOutput {
    match transport.run(script) {
        Ok(out) => out,
        Err(e) => panic!("run failed: {e}"),
    }
}

fn simple(sshd: &Sshd, command_timeout: Option<Duration>) -> (OpensshContext, PathBuf) {
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    (context(&config, sshd.dir.path(), command_timeout), kh)
}

#[test]
fn openssh_stdout_stderr_and_status_are_kept_apart() {
    let sshd = Sshd::start();
    let (context, _) = simple(&sshd, None);
    let t = context.transport(target("t"));
    let out = run_ok(&t, b"printf 'to out'\nprintf 'to err' >&2\nexit 3\n");
    assert_eq!(out.stdout, b"to out");
    assert_eq!(out.stderr, b"to err");
    assert_eq!(out.status, Some(3));
    // A script's own 255 is its status, not an ssh failure.
    let out = run_ok(&t, b"echo bye >&2\nexit 255\n");
    assert_eq!(out.status, Some(255));
}

#[test]
fn openssh_binary_output_and_large_script() {
    let sshd = Sshd::start();
    let (context, _) = simple(&sshd, None);
    let t = context.transport(target("t"));
    let out = run_ok(&t, &crate::sshd_fixture::all_bytes_script());
    assert_eq!(out.stdout, (0u8..=255).collect::<Vec<u8>>());
    let mut script = b"head -c 3000000 /dev/zero | tr '\\000' 'a'\n".to_vec();
    let big = crate::sshd_fixture::big_script(250_000);
    let lines = crate::sshd_fixture::big_script_lines(&big);
    script.extend_from_slice(&big);
    let out = run_ok(&t, &script);
    assert_eq!(
        out.status,
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout.len(),
        3_000_000 + format!("done {lines}\n").len()
    );
}

#[test]
fn openssh_three_key_types_and_agent() {
    let sshd = Sshd::start();
    let agent = crate::sshd_fixture::Agent::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let k = keys();
    let mut via_agent = isolated(&k.encrypted, &kh);
    via_agent.retain(|l| !l.starts_with("IdentityAgent"));
    via_agent.push(format!("IdentityAgent {}", agent.socket.display()));
    let config = ConfigText::default()
        .host("ed", sshd.port, &isolated(&k.ed25519, &kh))
        .host("ec", sshd.port, &isolated(&k.ecdsa, &kh))
        .host("rsa", sshd.port, &isolated(&k.rsa, &kh))
        .host("agent", sshd.port, &via_agent)
        .host("noagent", sshd.port, &isolated(&k.encrypted, &kh));
    let context = context(&config, sshd.dir.path(), None);
    for name in ["ed", "ec", "rsa", "agent"] {
        let out = run_ok(&context.transport(target(name)), b"echo ok\n");
        assert_eq!(out.stdout, b"ok\n", "{name}");
    }
    // A fresh context: the master of "agent" (same 127.0.0.1, port and user, so the same
    // ControlPath %C) would otherwise carry "noagent" too.
    drop(context);
    let context = self::context(&config, sshd.dir.path(), None);
    match context.transport(target("noagent")).run(b"true\n") {
        Err(TransportError::Auth { host, user, reason }) => {
            assert_eq!(host, "noagent");
            assert_eq!(user, "root");
            assert!(reason.contains("Permission denied"), "{reason}");
        }
        other => panic!("expected Auth, got {other:?}"),
    }
}

#[test]
fn openssh_wrong_and_unknown_host_keys() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    let old =
        std::fs::read_to_string(format!("{}.pub", keys().stranger.display())).unwrap_or_default();
    let old: Vec<&str> = old.split_whitespace().take(2).collect();
    let wrong = write_file(
        dir,
        "kh_wrong",
        &format!("[127.0.0.1]:{} {}\n", sshd.port, old.join(" ")),
    );
    let empty = dir.join("kh_empty");
    let new = dir.join("kh_new");
    let mut accept_new = isolated(&keys().ed25519, &new);
    accept_new.retain(|l| !l.starts_with("StrictHostKeyChecking"));
    accept_new.push("StrictHostKeyChecking accept-new".to_string());
    let config = ConfigText::default()
        .host("wrong", sshd.port, &isolated(&keys().ed25519, &wrong))
        .host("unknown", sshd.port, &isolated(&keys().ed25519, &empty))
        .host("acceptnew", sshd.port, &accept_new);
    let context = context(&config, dir, None);
    match context.transport(target("wrong")).run(b"true\n") {
        Err(TransportError::HostKey {
            host,
            known_hosts,
            reason,
        }) => {
            assert_eq!(host, "wrong");
            assert_eq!(known_hosts, wrong);
            assert!(reason.contains("host key CHANGED"), "{reason}");
            assert!(
                reason.contains(&format!("{}:1", wrong.display())),
                "{reason}"
            );
        }
        other => panic!("expected HostKey, got {other:?}"),
    }
    match context.transport(target("unknown")).run(b"true\n") {
        Err(TransportError::HostKey {
            host,
            known_hosts,
            reason,
        }) => {
            assert_eq!(host, "unknown");
            assert_eq!(known_hosts, empty);
            assert!(reason.contains("unknown host key"), "{reason}");
        }
        other => panic!("expected HostKey, got {other:?}"),
    }
    let out = run_ok(&context.transport(target("acceptnew")), b"echo recorded\n");
    assert_eq!(out.stdout, b"recorded\n");
    let recorded = std::fs::read_to_string(&new).unwrap_or_default();
    assert!(recorded.contains(&sshd.host_key), "{recorded}");
    assert_eq!(sshd.accepted(), 1);
}

#[test]
fn openssh_refused_port_is_unreachable() {
    let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("{e}"),
    };
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = ConfigText::default().host(
        "down",
        port,
        &isolated(&keys().ed25519, Path::new("/dev/null")),
    );
    let context = context(&config, dir.path(), None);
    match context.transport(target("down")).run(b"true\n") {
        Err(TransportError::Unreachable { host, reason }) => {
            assert_eq!(host, "down");
            assert!(reason.starts_with("connection refused"), "{reason}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[test]
fn openssh_proxy_jump_through_a_second_sshd() {
    let jump = Sshd::start();
    let inner = Sshd::start();
    let dir = inner.dir.path();
    let kh = write_file(
        dir,
        "known_hosts",
        &format!("{}{}", jump.known_hosts_line(), inner.known_hosts_line()),
    );
    let mut inner_lines = isolated(&keys().ed25519, &kh);
    inner_lines.push("ProxyJump bastion".to_string());
    let config = ConfigText::default()
        .host("bastion", jump.port, &isolated(&keys().ecdsa, &kh))
        .host("inner", inner.port, &inner_lines);
    let context = context(&config, dir, None);
    let out = run_ok(
        &context.transport(target("inner")),
        b"echo \"$SSH_CONNECTION\"\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.trim_end().ends_with(&format!(" {}", inner.port)),
        "{text}"
    );
    assert_eq!(jump.wait_accepted(1), 1);
    assert_eq!(inner.wait_accepted(1), 1);
}

#[test]
fn openssh_command_timeout() {
    let sshd = Sshd::start();
    let (context, _) = simple(&sshd, Some(Duration::from_secs(1)));
    let t = context.transport(target("t"));
    let started = Instant::now();
    match t.run(b"sleep 30\n") {
        Err(TransportError::Timeout { host, after }) => {
            assert_eq!(host, "t");
            assert_eq!(after, Duration::from_secs(1));
        }
        other => panic!("expected Timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn openssh_three_runs_authenticate_once_and_masters_exit_on_drop() {
    let sshd = Sshd::start();
    let (context, _) = simple(&sshd, None);
    let dir = context.socket_dir().to_path_buf();
    let t = context.transport(target("t"));
    for i in 0..3 {
        let out = run_ok(&t, format!("echo run {i}\n").as_bytes());
        assert_eq!(out.stdout, format!("run {i}\n").into_bytes());
    }
    assert_eq!(sshd.wait_accepted(1), 1, "{}", sshd.log_text());
    let sockets = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(sockets, 1, "one ControlMaster socket expected");
    drop(context);
    assert!(!dir.exists());
    // The master went away: sshd logs the disconnect of that one connection.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !sshd.log_text().contains("Disconnected from user root") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        sshd.log_text().contains("Disconnected from user root"),
        "{}",
        sshd.log_text()
    );
}

#[test]
fn openssh_twenty_threads_on_twenty_transports() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t*", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context(&config, sshd.dir.path(), Some(Duration::from_secs(60)));
    let transports: Vec<OpensshTransport> = (0..20)
        .map(|i| context.transport(target(&format!("t{i}"))))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = transports
            .iter()
            .enumerate()
            .map(|(i, t)| scope.spawn(move || (i, t.run(format!("echo host {i}\n").as_bytes()))))
            .collect();
        for handle in handles {
            match handle.join() {
                Ok((i, Ok(out))) => assert_eq!(out.stdout, format!("host {i}\n").into_bytes()),
                Ok((i, Err(e))) => panic!("transport {i}: {e}"),
                Err(_) => panic!("a thread panicked"),
            }
        }
    });
}
