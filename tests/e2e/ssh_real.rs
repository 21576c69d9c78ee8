//! The in-process ssh transport against real OpenSSH servers started by the tests.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::sshd_fixture::{ConfigText, Sshd, isolated, keys, write_file};
use vmup::transport::ssh::{SshContext, SshOptions, SshTarget, SshTransport};
use vmup::transport::ssh_config::SshConfig;
use vmup::transport::{RemoteOutput, Transport, TransportError};

fn context_from(config: &ConfigText, dir: &Path, command_timeout: Option<Duration>) -> SshContext {
    let path = dir.join("ssh_config");
    let parsed = match SshConfig::parse(config.text(), &path) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let options = SshOptions {
        config: parsed,
        connect_timeout: Duration::from_secs(5),
        command_timeout,
        default_user: None,
    };
    match SshContext::new(options) {
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

fn run_ok(transport: &SshTransport, script: &[u8]) -> RemoteOutput {
    match transport.run(script) {
        Ok(out) => out,
        Err(e) => panic!("run failed: {e}"),
    }
}

/// A server, a known_hosts file trusting it, and a context whose host `t` uses `key`.
fn simple(key: &Path) -> (Sshd, SshContext) {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(key, &kh));
    let context = context_from(&config, sshd.dir.path(), Some(Duration::from_secs(60)));
    (sshd, context)
}

#[test]
fn stdout_stderr_and_status_are_kept_apart() {
    let (_sshd, context) = simple(&keys().ed25519);
    let t = context.transport(target("t"));
    let out = run_ok(&t, b"printf 'to out'\nprintf 'to err' >&2\nexit 3\n");
    assert_eq!(out.stdout, b"to out");
    assert_eq!(out.stderr, b"to err");
    assert_eq!(out.status, Some(3));
    let out = run_ok(&t, b"true\n");
    assert_eq!(out.status, Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn binary_stdout_comes_back_byte_for_byte() {
    let (_sshd, context) = simple(&keys().ed25519);
    let t = context.transport(target("t"));
    let out = run_ok(&t, &crate::sshd_fixture::all_bytes_script());
    let expected: Vec<u8> = (0u8..=255).collect();
    assert_eq!(out.stdout, expected);
    assert_eq!(out.status, Some(0));
}

#[test]
fn large_script_with_large_output_does_not_deadlock() {
    let (_sshd, context) = simple(&keys().ed25519);
    let t = context.transport(target("t"));
    // 5 MB of output is produced while the 250 KB script is still being sent.
    let mut script = b"head -c 5000000 /dev/zero | tr '\\000' 'a'\n".to_vec();
    let big = crate::sshd_fixture::big_script(250_000);
    let lines = crate::sshd_fixture::big_script_lines(&big);
    script.extend_from_slice(&big);
    assert!(script.len() > 200_000);
    let out = run_ok(&t, &script);
    assert_eq!(
        out.status,
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout.len(),
        5_000_000 + format!("done {lines}\n").len()
    );
    assert!(out.stdout.ends_with(format!("done {lines}\n").as_bytes()));
}

#[test]
fn ed25519_ecdsa_and_rsa_keys_authenticate() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let k = keys();
    // Debian's sshd 9.2 no longer accepts ssh-rsa (SHA-1) signatures, so the RSA login
    // succeeding proves rsa-sha2-256/512 was used.
    let config = ConfigText::default()
        .host("ed", sshd.port, &isolated(&k.ed25519, &kh))
        .host("ec", sshd.port, &isolated(&k.ecdsa, &kh))
        .host("rsa", sshd.port, &isolated(&k.rsa, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    for name in ["ed", "ec", "rsa"] {
        let out = run_ok(&context.transport(target(name)), b"echo $USER\n");
        assert_eq!(out.stdout, b"root\n", "{name}");
    }
    assert_eq!(sshd.wait_accepted(3), 3);
    let log = sshd.log_text();
    for kind in ["ED25519", "ECDSA", "RSA"] {
        assert!(
            log.contains(&format!("ssh2: {kind} SHA256:")),
            "{kind} missing in {log}"
        );
    }
}

#[test]
fn agent_key_authenticates_and_encrypted_file_alone_explains_itself() {
    let sshd = Sshd::start();
    let agent = crate::sshd_fixture::Agent::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let k = keys();
    let mut via_agent = isolated(&k.encrypted, &kh);
    via_agent.retain(|l| !l.starts_with("IdentityAgent"));
    via_agent.push(format!("IdentityAgent {}", agent.socket.display()));
    let config = ConfigText::default()
        .host("agent", sshd.port, &via_agent)
        .host("noagent", sshd.port, &isolated(&k.encrypted, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    let out = run_ok(&context.transport(target("agent")), b"echo via-agent\n");
    assert_eq!(out.stdout, b"via-agent\n");
    match context.transport(target("noagent")).run(b"true\n") {
        Err(TransportError::Auth { host, user, reason }) => {
            assert_eq!(host, "noagent");
            assert_eq!(user, "root");
            assert!(reason.contains("encrypted"), "{reason}");
            assert!(reason.contains("ssh-add"), "{reason}");
        }
        other => panic!("expected an Auth error, got {other:?}"),
    }
    drop(agent);
}

#[test]
fn unauthorized_key_is_an_auth_error_naming_the_key() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().stranger, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    match context.transport(target("t")).run(b"true\n") {
        Err(e @ TransportError::Auth { .. }) => {
            let text = e.to_string();
            assert!(text.contains("root@t"), "{text}");
            assert!(text.contains("id_stranger"), "{text}");
            assert!(e.is_unreachable());
        }
        other => panic!("expected an Auth error, got {other:?}"),
    }
}

#[test]
fn known_hosts_plain_list_bracketed_and_hashed() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    let k = keys();
    let line = sshd.known_hosts_line();
    let plain = write_file(
        dir,
        "kh_plain",
        &format!(
            "# a comment\nsomewhere.example,[127.0.0.1]:{},10.9.9.9 {}\n",
            sshd.port, sshd.host_key
        ),
    );
    let bracketed = write_file(dir, "kh_bracketed", &line);
    let hashed = write_file(dir, "kh_hashed", &line);
    crate::sshd_fixture::must(
        std::process::Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&hashed),
    );
    let hashed_text = std::fs::read_to_string(&hashed).unwrap_or_default();
    assert!(hashed_text.starts_with("|1|"), "{hashed_text}");
    let config = ConfigText::default()
        .host("plain", sshd.port, &isolated(&k.ed25519, &plain))
        .host("bracketed", sshd.port, &isolated(&k.ed25519, &bracketed))
        .host("hashed", sshd.port, &isolated(&k.ed25519, &hashed));
    let context = context_from(&config, dir, None);
    for name in ["plain", "bracketed", "hashed"] {
        let out = run_ok(&context.transport(target(name)), b"echo ok\n");
        assert_eq!(out.stdout, b"ok\n", "{name}");
    }
}

#[test]
fn wrong_host_key_is_refused_naming_host_file_and_line() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    // The stranger's key stands in for the key of a previous installation.
    let old =
        std::fs::read_to_string(format!("{}.pub", keys().stranger.display())).unwrap_or_default();
    let old: Vec<&str> = old.split_whitespace().take(2).collect();
    let kh = write_file(
        dir,
        "known_hosts",
        &format!(
            "other {}\n[127.0.0.1]:{} {}\n",
            sshd.host_key,
            sshd.port,
            old.join(" ")
        ),
    );
    let config = ConfigText::default().host("web7", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, dir, None);
    match context.transport(target("web7")).run(b"true\n") {
        Err(e @ TransportError::HostKey { .. }) => {
            let text = e.to_string();
            let TransportError::HostKey {
                host,
                known_hosts,
                reason,
            } = e
            else {
                unreachable!()
            };
            assert_eq!(host, "web7");
            assert_eq!(known_hosts, kh);
            assert!(reason.contains("host key CHANGED"), "{reason}");
            assert!(reason.contains("SHA256:"), "{reason}");
            assert!(reason.contains(&format!("{}:2", kh.display())), "{reason}");
            assert!(text.contains("web7") && text.contains(&kh.display().to_string()));
        }
        other => panic!("expected a HostKey error, got {other:?}"),
    }
    assert_eq!(sshd.accepted(), 0);
}

#[test]
fn unknown_host_key_refused_under_yes_recorded_under_accept_new() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    let k = keys();
    let kh = dir.join("known_hosts_new");
    let mut accept_new = isolated(&k.ed25519, &kh);
    accept_new.retain(|l| !l.starts_with("StrictHostKeyChecking"));
    accept_new.push("StrictHostKeyChecking accept-new".to_string());
    let mut no = isolated(&k.ed25519, &dir.join("known_hosts_no"));
    no.retain(|l| !l.starts_with("StrictHostKeyChecking"));
    no.push("StrictHostKeyChecking no".to_string());
    let config = ConfigText::default()
        .host("strict", sshd.port, &isolated(&k.ed25519, &kh))
        .host("acceptnew", sshd.port, &accept_new)
        .host("no", sshd.port, &no);

    let context = context_from(&config, dir, None);
    match context.transport(target("strict")).run(b"true\n") {
        Err(TransportError::HostKey {
            host,
            known_hosts,
            reason,
        }) => {
            assert_eq!(host, "strict");
            assert_eq!(known_hosts, kh);
            assert!(reason.contains("unknown host key"), "{reason}");
            assert!(reason.contains("SHA256:"), "{reason}");
        }
        other => panic!("expected a HostKey error, got {other:?}"),
    }
    assert!(!kh.exists());

    let out = run_ok(&context.transport(target("acceptnew")), b"echo new\n");
    assert_eq!(out.stdout, b"new\n");
    let recorded = std::fs::read_to_string(&kh).unwrap_or_default();
    assert_eq!(recorded, sshd.known_hosts_line());

    // "no" connects without recording anything.
    let out = run_ok(&context.transport(target("no")), b"echo no\n");
    assert_eq!(out.stdout, b"no\n");
    assert!(!dir.join("known_hosts_no").exists());

    // A new run trusts the recorded key under strict checking.
    let again = context_from(&config, dir, None);
    let out = run_ok(&again.transport(target("strict")), b"echo trusted\n");
    assert_eq!(out.stdout, b"trusted\n");
}

#[test]
fn refused_port_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0");
        match l.and_then(|l| l.local_addr()) {
            Ok(a) => a.port(),
            Err(e) => panic!("{e}"),
        }
    };
    let dir = std::env::temp_dir();
    let config = ConfigText::default().host(
        "down",
        port,
        &isolated(&keys().ed25519, Path::new("/dev/null")),
    );
    let context = context_from(&config, &dir, None);
    match context.transport(target("down")).run(b"true\n") {
        Err(e @ TransportError::Unreachable { .. }) => {
            assert!(e.to_string().contains("cannot connect to down"), "{e}");
            assert!(e.to_string().contains("connection refused"), "{e}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

/// A listener whose accept queue is full, so further SYNs are dropped: connects hang.
fn blackhole() -> (std::net::TcpListener, Vec<std::net::TcpStream>, u16) {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    // Listening again on our own socket only changes its backlog.
    if let Err(e) = socket2::SockRef::from(&listener).listen(0) {
        panic!("cannot set the listen backlog to 0: {e}");
    }
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(s) = std::net::TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(200),
        ) {
            fillers.push(s);
        }
    }
    (listener, fillers, port)
}

#[test]
fn connect_timeout_is_unreachable() {
    let (_listener, _fillers, port) = blackhole();
    let dir = std::env::temp_dir();
    let mut lines = isolated(&keys().ed25519, Path::new("/dev/null"));
    lines.push("ConnectTimeout 1".to_string());
    let config = ConfigText::default().host("slow", port, &lines);
    let context = context_from(&config, &dir, None);
    let started = Instant::now();
    match context.transport(target("slow")).run(b"true\n") {
        Err(TransportError::Unreachable { host, reason }) => {
            assert_eq!(host, "slow");
            // Either the SYN was dropped (connect) or the queued connection never got a
            // banner (handshake); both must be bounded by ConnectTimeout.
            assert!(
                reason == "connect timed out after 1s"
                    || reason == "ssh handshake timed out after 1s",
                "{reason}"
            );
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn silent_server_times_out_in_handshake() {
    let listener = match std::net::TcpListener::bind("127.0.0.1:0") {
        Ok(l) => l,
        Err(e) => panic!("{e}"),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let dir = std::env::temp_dir();
    let mut lines = isolated(&keys().ed25519, Path::new("/dev/null"));
    lines.push("ConnectTimeout 1".to_string());
    let config = ConfigText::default().host("mute", port, &lines);
    let context = context_from(&config, &dir, None);
    match context.transport(target("mute")).run(b"true\n") {
        Err(TransportError::Unreachable { reason, .. }) => {
            assert_eq!(reason, "ssh handshake timed out after 1s");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    drop(listener);
}

#[test]
fn proxy_jump_through_a_second_sshd() {
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
    let context = context_from(&config, dir, None);
    let t = context.transport(target("inner"));
    let out = run_ok(&t, b"echo \"$SSH_CONNECTION\"\n");
    let text = String::from_utf8_lossy(&out.stdout);
    // SSH_CONNECTION = client-ip client-port server-ip server-port: the server side is inner.
    assert!(
        text.trim_end().ends_with(&format!(" {}", inner.port)),
        "{text}"
    );
    let out = run_ok(&t, b"echo second\n");
    assert_eq!(out.stdout, b"second\n");
    assert_eq!(jump.wait_accepted(1), 1, "{}", jump.log_text());
    assert_eq!(inner.wait_accepted(1), 1, "{}", inner.log_text());
    assert!(jump.log_text().contains("ssh2: ECDSA"));
    assert!(inner.log_text().contains("ssh2: ED25519"));
}

#[test]
fn proxy_jump_failure_names_the_jump_host() {
    let inner = Sshd::start();
    let dir = inner.dir.path();
    let kh = write_file(dir, "known_hosts", &inner.known_hosts_line());
    let mut lines = isolated(&keys().ed25519, &kh);
    lines.push("ProxyJump bastion".to_string());
    let dead_port = {
        match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(a) => a.port(),
            Err(e) => panic!("{e}"),
        }
    };
    let config = ConfigText::default()
        .host("bastion", dead_port, &isolated(&keys().ed25519, &kh))
        .host("inner", inner.port, &lines);
    let context = context_from(&config, dir, None);
    match context.transport(target("inner")).run(b"true\n") {
        Err(TransportError::Unreachable { host, reason }) => {
            assert_eq!(host, "inner");
            assert!(
                reason.starts_with("via jump host bastion: connection refused"),
                "{reason}"
            );
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[test]
fn command_timeout_stops_a_hung_script() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, sshd.dir.path(), Some(Duration::from_secs(1)));
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
    // The connection is still usable afterwards.
    let out = run_ok(&t, b"echo after\n");
    assert_eq!(out.stdout, b"after\n");
}

#[test]
fn sequential_runs_reuse_one_connection() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    let t = context.transport(target("t"));
    assert_eq!(t.commands_run(), 0);
    assert_eq!(run_ok(&t, b"echo 1\n").stdout, b"1\n");
    assert_eq!(run_ok(&t, b"echo 2\n").stdout, b"2\n");
    assert_eq!(t.commands_run(), 2);
    assert_eq!(sshd.wait_accepted(1), 1, "{}", sshd.log_text());
}

#[test]
fn inventory_address_user_and_port_override_the_config() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    // The config points at a wrong port and user; the inventory fixes both.
    let config = ConfigText::default().host("t", 1, &isolated(&keys().ed25519, &kh));
    let text = config.text().replace("User root", "User nobody-here");
    let parsed = match SshConfig::parse(&text, Path::new("/cfg")) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let context = match SshContext::new(SshOptions {
        config: parsed,
        ..SshOptions::default()
    }) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    let t = context.transport(SshTarget {
        name: "t".into(),
        address: Some("127.0.0.1".into()),
        user: Some("root".into()),
        port: Some(sshd.port),
    });
    assert_eq!(run_ok(&t, b"id -un\n").stdout, b"root\n");
}

#[test]
fn proxy_command_is_refused_not_ignored() {
    let config = ConfigText::default().host("pc", 22, &["ProxyCommand nc %h %p".to_string()]);
    let context = context_from(&config, &std::env::temp_dir(), None);
    match context.transport(target("pc")).run(b"true\n") {
        Err(TransportError::Unreachable { reason, .. }) => {
            assert!(reason.contains("ProxyCommand"), "{reason}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

#[test]
fn twenty_threads_on_twenty_transports() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t*", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, sshd.dir.path(), Some(Duration::from_secs(60)));
    let transports: Vec<SshTransport> = (0..20)
        .map(|i| context.transport(target(&format!("t{i}"))))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = transports
            .iter()
            .enumerate()
            .map(|(i, t)| {
                scope.spawn(move || {
                    let out = t.run(format!("echo host {i}\n").as_bytes());
                    (i, out)
                })
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok((i, Ok(out))) => assert_eq!(out.stdout, format!("host {i}\n").into_bytes()),
                Ok((i, Err(e))) => panic!("transport {i}: {e}"),
                Err(_) => panic!("a thread panicked"),
            }
        }
    });
    assert_eq!(sshd.wait_accepted(20), 20);
}

#[test]
fn reconnects_when_the_connection_was_lost_between_runs() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    let t = context.transport(target("t"));
    assert_eq!(run_ok(&t, b"echo 1\n").stdout, b"1\n");
    // Kill the per-connection sshd (a child of the sshd this test started), as a reboot
    // of the guest would, then run again on the same transport.
    let pids = sshd.connection_pids();
    assert_eq!(pids.len(), 1, "{pids:?}");
    for pid in pids {
        // A process this test started (through its sshd), by its pid.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(run_ok(&t, b"echo 2\n").stdout, b"2\n");
    assert_eq!(t.commands_run(), 2);
    assert_eq!(sshd.wait_accepted(2), 2);
}

#[test]
fn accept_new_from_many_threads_records_the_key_once() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    let kh = dir.join("known_hosts_concurrent");
    let mut lines = isolated(&keys().ed25519, &kh);
    lines.retain(|l| !l.starts_with("StrictHostKeyChecking"));
    lines.push("StrictHostKeyChecking accept-new".to_string());
    let config = ConfigText::default().host("n*", sshd.port, &lines);
    let context = context_from(&config, dir, None);
    let transports: Vec<SshTransport> = (0..10)
        .map(|i| context.transport(target(&format!("n{i}"))))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = transports
            .iter()
            .map(|t| scope.spawn(move || t.run(b"true\n")))
            .collect();
        for handle in handles {
            assert!(matches!(handle.join(), Ok(Ok(_))));
        }
    });
    let recorded = std::fs::read_to_string(&kh).unwrap_or_default();
    assert_eq!(recorded, sshd.known_hosts_line());
}

#[test]
fn proxy_jump_with_two_hops() {
    let first = Sshd::start();
    let second = Sshd::start();
    let inner = Sshd::start();
    let dir = inner.dir.path();
    let kh = write_file(
        dir,
        "known_hosts",
        &format!(
            "{}{}{}",
            first.known_hosts_line(),
            second.known_hosts_line(),
            inner.known_hosts_line()
        ),
    );
    let mut inner_lines = isolated(&keys().ed25519, &kh);
    inner_lines.push("ProxyJump hop1,hop2".to_string());
    let config = ConfigText::default()
        .host("hop1", first.port, &isolated(&keys().ed25519, &kh))
        .host("hop2", second.port, &isolated(&keys().ed25519, &kh))
        .host("inner", inner.port, &inner_lines);
    let context = context_from(&config, dir, None);
    let out = run_ok(
        &context.transport(target("inner")),
        b"echo \"$SSH_CONNECTION\"\n",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.trim_end().ends_with(&format!(" {}", inner.port)),
        "{text}"
    );
    assert_eq!(first.wait_accepted(1), 1);
    assert_eq!(second.wait_accepted(1), 1);
    assert_eq!(inner.wait_accepted(1), 1);
}
