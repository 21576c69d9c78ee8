//! Scenarios only the in-process ssh transport has, against real OpenSSH servers started by
//! the tests: its own known_hosts reader and policies, its connect-phase messages, ProxyJump
//! details, refusing what it does not implement, and reconnecting. What both ssh transports
//! promise is in `transport_contract.rs`.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::sshd_fixture::{ConfigText, Sshd, isolated, keys, write_file};
use crate::transport_harness::{Client, InProcess, dead_port, run_ok, target};
use vmup::transport::ssh::{SshContext, SshOptions, SshTarget, SshTransport};
use vmup::transport::ssh_config::SshConfig;
use vmup::transport::{Transport, TransportError};

fn context_from(config: &ConfigText, dir: &Path, command_timeout: Option<Duration>) -> SshContext {
    InProcess::context(config, dir, command_timeout)
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
fn strict_host_key_checking_no_connects_without_recording() {
    let sshd = Sshd::start();
    let dir = sshd.dir.path();
    let mut no = isolated(&keys().ed25519, &dir.join("known_hosts_no"));
    no.retain(|l| !l.starts_with("StrictHostKeyChecking"));
    no.push("StrictHostKeyChecking no".to_string());
    let config = ConfigText::default().host("no", sshd.port, &no);
    let context = context_from(&config, dir, None);
    // Unlike ssh(1), "no" connects without recording anything.
    let out = run_ok(
        &context.transport(target("no")),
        b"echo no
",
    );
    assert_eq!(
        out.stdout,
        b"no
"
    );
    assert!(!dir.join("known_hosts_no").exists());
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
fn proxy_jump_failure_names_the_jump_host() {
    let inner = Sshd::start();
    let dir = inner.dir.path();
    let kh = write_file(dir, "known_hosts", &inner.known_hosts_line());
    let mut lines = isolated(&keys().ed25519, &kh);
    lines.push("ProxyJump bastion".to_string());
    let dead_port = dead_port();
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
        ..SshTarget::default()
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
fn a_held_shell_runs_the_next_script_without_a_channel_of_its_own() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    let t = context.transport(target("t"));
    let fresh = |t: &SshTransport| run_ok(t, b"echo \"${kept:-fresh}\"\n").stdout;

    // The facts part: its own output, errors and status, none of the markers.
    let facts = t
        .run_held(b"kept=yes; echo facts; echo warn >&2; cat; f() { return 3; }; f")
        .expect("held run");
    assert_eq!(facts.stdout, b"facts\n");
    assert_eq!(facts.stderr, b"warn\n");
    assert_eq!(facts.status, Some(3));
    // The apply after it runs in the same shell, on the same channel, and ends it.
    let apply = run_ok(&t, b"echo \"apply sees $kept\"; echo err >&2; exit 4\n");
    assert_eq!(apply.stdout, b"apply sees yes\n");
    assert_eq!(apply.stderr, b"err\n");
    assert_eq!(apply.status, Some(4));
    assert_eq!(t.commands_run(), 1);
    assert_eq!(fresh(&t), b"fresh\n");
    assert_eq!(t.commands_run(), 2);

    // Released (nothing to apply), or ended by its own `exit`: the next script gets a new
    // shell, on the same connection.
    t.run_held(b"kept=released\n").expect("held run");
    t.release();
    assert_eq!(fresh(&t), b"fresh\n");
    let exited = t
        .run_held(b"kept=gone; echo bye; exit 5\n")
        .expect("held run");
    assert_eq!(
        (exited.stdout.as_slice(), exited.status),
        (&b"bye\n"[..], Some(5))
    );
    assert_eq!(fresh(&t), b"fresh\n");
    assert_eq!(t.commands_run(), 6);
    assert_eq!(sshd.wait_accepted(1), 1);
}

/// The pid of the held shell a part printed, and its parent's (the connection's sshd).
fn shell_and_parent(stdout: &[u8]) -> (i32, i32) {
    let pid: i32 = String::from_utf8_lossy(stdout)
        .trim()
        .parse()
        .expect("a pid");
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the shell's stat");
    let after_name = &stat[stat.rfind(')').expect("stat") + 2..];
    let parent = after_name
        .split(' ')
        .nth(1)
        .expect("ppid")
        .parse()
        .expect("a ppid");
    (pid, parent)
}

/// Kills `pid` and waits until it is gone, then a moment more for the client to read the
/// channel's (or the connection's) end.
fn kill_and_settle(pid: i32) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
}

#[test]
fn a_held_shell_that_died_is_not_used_for_the_next_script() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    let context = context_from(&config, sshd.dir.path(), None);
    let t = context.transport(target("t"));

    // The shell is killed after the facts part: the apply gets a new channel on the same
    // connection instead of "connection lost" on the dead one.
    let facts = t.run_held(b"echo $$\n").expect("held run");
    let (shell, _) = shell_and_parent(&facts.stdout);
    kill_and_settle(shell);
    assert_eq!(run_ok(&t, b"echo applied\n").stdout, b"applied\n");
    assert_eq!(t.commands_run(), 2);
    assert_eq!(sshd.wait_accepted(1), 1);

    // The connection's sshd is killed: the apply connects again.
    let facts = t.run_held(b"echo $$\n").expect("held run");
    let (_, session) = shell_and_parent(&facts.stdout);
    kill_and_settle(session);
    assert_eq!(
        run_ok(&t, b"echo applied again\n").stdout,
        b"applied again\n"
    );
    assert_eq!(t.commands_run(), 4);
    assert_eq!(sshd.wait_accepted(2), 2);
}

#[test]
fn a_held_part_left_open_ends_with_a_syntax_error_instead_of_waiting() {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(&keys().ed25519, &kh));
    // The command timeout is only the test's guard: the part must end long before it.
    let context = context_from(&config, sshd.dir.path(), Some(Duration::from_secs(30)));
    let t = context.transport(target("t"));
    // A quote or a brace left open is a syntax error; a here-document without its end
    // line ends where the script does (as sh does at the end of a file).
    let cases: [(&[u8], bool); 3] = [
        (b"echo 'unclosed\n", true),
        (b"{ echo brace\n", true),
        (b"cat <<EOF\nno end\n", false),
    ];
    for (open, syntax_error) in cases {
        let started = Instant::now();
        let out = t.run_held(open).expect("an answer, not a timeout");
        assert!(started.elapsed() < Duration::from_secs(20));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if syntax_error {
            assert_ne!(out.status, Some(0), "{}", String::from_utf8_lossy(open));
            assert!(stderr.contains("Syntax error"), "{stderr}");
        } else {
            assert_eq!(
                (out.stdout.as_slice(), out.status),
                (&b"no end\n"[..], Some(0))
            );
        }
        assert_eq!(run_ok(&t, b"echo next\n").stdout, b"next\n");
    }
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
