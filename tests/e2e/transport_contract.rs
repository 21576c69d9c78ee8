//! What both ssh transports promise, against real sshd servers: each scenario is written
//! once, generic over [`Client`], and `contract!` runs it for the in-process client
//! (`<scenario>::ssh`) and for OpenSSH (`<scenario>::openssh`). Scenarios only one transport
//! has are in `ssh_real.rs` and `openssh_real.rs`.

use std::time::{Duration, Instant};

use crate::sshd_fixture::{Agent, ConfigText, Sshd, isolated, keys, write_file};
use crate::transport_harness::{Client, InProcess, Openssh, dead_port, run_ok, simple};
use vmup::transport::{Transport, TransportError};

/// For each scenario `fn name<C: Client>()`, a module `name` with the tests `ssh` and
/// `openssh` (a module, as stable Rust cannot paste `name_ssh` together).
macro_rules! contract {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[test]
                fn ssh() {
                    super::$scenario::<super::InProcess>();
                }

                #[test]
                fn openssh() {
                    super::$scenario::<super::Openssh>();
                }
            }
        )*
    };
}

contract!(
    stdout_stderr_and_status_are_kept_apart,
    binary_stdout_comes_back_byte_for_byte,
    large_script_with_large_output_does_not_deadlock,
    ed25519_ecdsa_and_rsa_keys_authenticate,
    agent_key_authenticates,
    encrypted_key_file_alone_is_an_auth_error,
    wrong_host_key_is_refused_naming_host_file_and_line,
    unknown_host_key_refused_under_yes_recorded_under_accept_new,
    refused_port_is_unreachable,
    proxy_jump_through_a_second_sshd,
    command_timeout_stops_a_hung_script,
    sequential_runs_reuse_one_connection,
    twenty_threads_on_twenty_transports,
);

fn stdout_stderr_and_status_are_kept_apart<C: Client>() {
    let (_sshd, context) = simple::<C>(&keys().ed25519, Some(Duration::from_secs(60)));
    let t = C::transport(&context, "t");
    let out = run_ok(&t, b"printf 'to out'\nprintf 'to err' >&2\nexit 3\n");
    assert_eq!(out.stdout, b"to out");
    assert_eq!(out.stderr, b"to err");
    assert_eq!(out.status, Some(3));
    // A script's own 255 is its status, not an ssh failure.
    let out = run_ok(&t, b"echo bye >&2\nexit 255\n");
    assert_eq!(out.status, Some(255));
    let out = run_ok(&t, b"true\n");
    assert_eq!(out.status, Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

fn binary_stdout_comes_back_byte_for_byte<C: Client>() {
    let (_sshd, context) = simple::<C>(&keys().ed25519, Some(Duration::from_secs(60)));
    let t = C::transport(&context, "t");
    let out = run_ok(&t, &crate::sshd_fixture::all_bytes_script());
    let expected: Vec<u8> = (0u8..=255).collect();
    assert_eq!(out.stdout, expected);
    assert_eq!(out.status, Some(0));
}

fn large_script_with_large_output_does_not_deadlock<C: Client>() {
    let (_sshd, context) = simple::<C>(&keys().ed25519, Some(Duration::from_secs(60)));
    let t = C::transport(&context, "t");
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

fn ed25519_ecdsa_and_rsa_keys_authenticate<C: Client>() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let k = keys();
    // Debian's sshd 9.2 no longer accepts ssh-rsa (SHA-1) signatures, so the RSA login
    // succeeding proves rsa-sha2-256/512 was used.
    let config = ConfigText::default()
        .host("ed", sshd.port, &isolated(&k.ed25519, &kh))
        .host("ec", sshd.port, &isolated(&k.ecdsa, &kh))
        .host("rsa", sshd.port, &isolated(&k.rsa, &kh));
    for name in ["ed", "ec", "rsa"] {
        // A context per name: the three share address, port and user, so an OpenSSH
        // master (ControlPath %C) would otherwise carry all of them on the first key.
        let context = C::context(&config, sshd.dir.path(), None);
        let out = run_ok(&C::transport(&context, name), b"echo $USER\n");
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

fn agent_key_authenticates<C: Client>() {
    let sshd = Sshd::start();
    let agent = Agent::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    // The encrypted key file is the identity; only the agent can sign with it.
    let mut via_agent = isolated(&keys().encrypted, &kh);
    via_agent.retain(|l| !l.starts_with("IdentityAgent"));
    via_agent.push(format!("IdentityAgent {}", agent.socket.display()));
    let config = ConfigText::default().host("agent", sshd.port, &via_agent);
    let context = C::context(&config, sshd.dir.path(), None);
    let out = run_ok(&C::transport(&context, "agent"), b"echo via-agent\n");
    assert_eq!(out.stdout, b"via-agent\n");
    drop(agent);
}

fn encrypted_key_file_alone_is_an_auth_error<C: Client>() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config =
        ConfigText::default().host("noagent", sshd.port, &isolated(&keys().encrypted, &kh));
    let context = C::context(&config, sshd.dir.path(), None);
    match C::transport(&context, "noagent").run(b"true\n") {
        Err(TransportError::Auth { host, user, reason }) => {
            assert_eq!(host, "noagent");
            assert_eq!(user, "root");
            for fragment in C::ENCRYPTED_KEY_ALONE {
                assert!(reason.contains(fragment), "{fragment} missing in {reason}");
            }
        }
        other => panic!("expected an Auth error, got {other:?}"),
    }
}

fn wrong_host_key_is_refused_naming_host_file_and_line<C: Client>() {
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
    let context = C::context(&config, dir, None);
    match C::transport(&context, "web7").run(b"true\n") {
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

fn unknown_host_key_refused_under_yes_recorded_under_accept_new<C: Client>() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    let k = keys();
    let kh = dir.join("known_hosts_new");
    let mut accept_new = isolated(&k.ed25519, &kh);
    accept_new.retain(|l| !l.starts_with("StrictHostKeyChecking"));
    accept_new.push("StrictHostKeyChecking accept-new".to_string());
    let config = ConfigText::default()
        .host("strict", sshd.port, &isolated(&k.ed25519, &kh))
        .host("acceptnew", sshd.port, &accept_new);

    let context = C::context(&config, dir, None);
    match C::transport(&context, "strict").run(b"true\n") {
        Err(TransportError::HostKey {
            host,
            known_hosts,
            reason,
        }) => {
            assert_eq!(host, "strict");
            assert_eq!(known_hosts, kh);
            assert!(reason.contains("unknown host key"), "{reason}");
            for fragment in C::UNKNOWN_HOST_KEY {
                assert!(reason.contains(fragment), "{fragment} missing in {reason}");
            }
        }
        other => panic!("expected a HostKey error, got {other:?}"),
    }
    assert!(!kh.exists());

    let out = run_ok(&C::transport(&context, "acceptnew"), b"echo new\n");
    assert_eq!(out.stdout, b"new\n");
    let recorded = std::fs::read_to_string(&kh).unwrap_or_default();
    assert_eq!(recorded, sshd.known_hosts_line());
    assert!(recorded.contains(&sshd.host_key), "{recorded}");
    assert_eq!(sshd.wait_accepted(1), 1, "{}", sshd.log_text());

    // A new run trusts the recorded key under strict checking.
    let again = C::context(&config, dir, None);
    let out = run_ok(&C::transport(&again, "strict"), b"echo trusted\n");
    assert_eq!(out.stdout, b"trusted\n");
}

fn refused_port_is_unreachable<C: Client>() {
    let port = dead_port();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = ConfigText::default().host(
        "down",
        port,
        &isolated(&keys().ed25519, std::path::Path::new("/dev/null")),
    );
    let context = C::context(&config, dir.path(), None);
    match C::transport(&context, "down").run(b"true\n") {
        Err(e @ TransportError::Unreachable { .. }) => {
            assert!(e.to_string().contains("cannot connect to down"), "{e}");
            assert!(e.to_string().contains("connection refused"), "{e}");
            let TransportError::Unreachable { host, reason } = e else {
                unreachable!()
            };
            assert_eq!(host, "down");
            assert!(reason.starts_with("connection refused"), "{reason}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

fn proxy_jump_through_a_second_sshd<C: Client>() {
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
    let context = C::context(&config, dir, None);
    let t = C::transport(&context, "inner");
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

fn command_timeout_stops_a_hung_script<C: Client>() {
    let (_sshd, context) = simple::<C>(&keys().ed25519, Some(Duration::from_secs(1)));
    let t = C::transport(&context, "t");
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

fn sequential_runs_reuse_one_connection<C: Client>() {
    let (sshd, context) = simple::<C>(&keys().ed25519, None);
    let t = C::transport(&context, "t");
    if let Some(commands) = C::commands_run(&t) {
        assert_eq!(commands, 0);
    }
    for i in 0..3 {
        let out = run_ok(&t, format!("echo run {i}\n").as_bytes());
        assert_eq!(out.stdout, format!("run {i}\n").into_bytes());
    }
    if let Some(commands) = C::commands_run(&t) {
        assert_eq!(commands, 3);
    }
    assert_eq!(sshd.wait_accepted(1), 1, "{}", sshd.log_text());
}

fn twenty_threads_on_twenty_transports<C: Client>() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t*", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = C::context(&config, sshd.dir.path(), Some(Duration::from_secs(60)));
    let transports: Vec<C::Transport> = (0..20)
        .map(|i| C::transport(&context, &format!("t{i}")))
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
    // One login per transport, unless the client shares one connection among names for
    // the same address, port and user.
    if !C::SHARES_CONNECTIONS {
        assert_eq!(sshd.wait_accepted(20), 20);
    }
}
