//! The two ssh transports behind one interface, so that a scenario is written once and run
//! against both (`transport_contract.rs`), and the helpers the transport suites share.
//!
//! Where the transports legitimately differ (how they word an error, whether several
//! inventory names share one connection), the difference is stated here, per transport,
//! instead of being hidden in a scenario.

use std::path::Path;
use std::time::Duration;

use crate::sshd_fixture::{ConfigText, Sshd, isolated, write_file};
use vmup::transport::openssh::{OpensshContext, OpensshTransport};
use vmup::transport::ssh::{SshContext, SshOptions, SshTarget, SshTransport};
use vmup::transport::ssh_config::SshConfig;
use vmup::transport::{RemoteOutput, Transport};

/// One ssh transport under test: how to build it, and what it says or does differently.
pub trait Client {
    /// What one run shares: the in-process runtime, or OpenSSH's ControlMaster directory.
    type Context;
    /// The transport of one host.
    type Transport: Transport;

    /// A context for `config` (written under `dir` when the client reads a file), with a
    /// connect timeout of 5 s.
    fn context(config: &ConfigText, dir: &Path, command_timeout: Option<Duration>)
    -> Self::Context;

    /// The transport for the inventory host `name` (no inventory address, user or port).
    fn transport(context: &Self::Context, name: &str) -> Self::Transport;

    /// Exec channels opened so far, for a client that counts them (the in-process one).
    fn commands_run(_transport: &Self::Transport) -> Option<usize> {
        None
    }

    /// Whether inventory names with the same address, port and user share one connection
    /// (OpenSSH's ControlPath `%C`), so that sshd sees fewer logins than names.
    const SHARES_CONNECTIONS: bool;

    /// Fragments of the Auth reason when the only key is an encrypted file and no agent is
    /// used.
    const ENCRYPTED_KEY_ALONE: &'static [&'static str];

    /// Fragments of the HostKey reason for an unknown key, besides "unknown host key".
    const UNKNOWN_HOST_KEY: &'static [&'static str];
}

/// The in-process client (`transport = "ssh"`).
pub struct InProcess;

impl Client for InProcess {
    type Context = SshContext;
    type Transport = SshTransport;

    fn context(config: &ConfigText, dir: &Path, command_timeout: Option<Duration>) -> SshContext {
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

    fn transport(context: &SshContext, name: &str) -> SshTransport {
        context.transport(target(name))
    }

    fn commands_run(transport: &SshTransport) -> Option<usize> {
        Some(transport.commands_run())
    }

    const SHARES_CONNECTIONS: bool = false;
    const ENCRYPTED_KEY_ALONE: &'static [&'static str] = &["encrypted", "ssh-add"];
    const UNKNOWN_HOST_KEY: &'static [&'static str] = &["SHA256:"];
}

/// The system OpenSSH client with ControlMaster (`transport = "openssh"`).
pub struct Openssh;

impl Client for Openssh {
    type Context = OpensshContext;
    type Transport = OpensshTransport;

    fn context(
        config: &ConfigText,
        dir: &Path,
        command_timeout: Option<Duration>,
    ) -> OpensshContext {
        let file = config.write(&dir.join("ssh_config"));
        match OpensshContext::new(Some(file), Duration::from_secs(5), command_timeout) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn transport(context: &OpensshContext, name: &str) -> OpensshTransport {
        context.transport(target(name))
    }

    const SHARES_CONNECTIONS: bool = true;
    // ssh(1) only says "Permission denied (publickey)".
    const ENCRYPTED_KEY_ALONE: &'static [&'static str] = &["Permission denied"];
    // ssh(1) names the key type and host, not the fingerprint, for an unknown key.
    const UNKNOWN_HOST_KEY: &'static [&'static str] = &[];
}

/// The inventory host `name`, with nothing overriding its ssh_config.
pub fn target(name: &str) -> SshTarget {
    SshTarget {
        name: name.to_string(),
        ..SshTarget::default()
    }
}

/// Runs `script`, which must not fail at the transport level.
pub fn run_ok(transport: &impl Transport, script: &[u8]) -> RemoteOutput {
    match transport.run(script) {
        Ok(out) => out,
        Err(e) => panic!("run failed: {e}"),
    }
}

/// A server, a known_hosts file trusting it, and a context whose host `t` uses `key`.
pub fn simple<C: Client>(key: &Path, command_timeout: Option<Duration>) -> (Sshd, C::Context) {
    let sshd = Sshd::start();
    let kh = write_file(sshd.dir.path(), "known_hosts", &sshd.known_hosts_line());
    let config = ConfigText::default().host("t", sshd.port, &isolated(key, &kh));
    let context = C::context(&config, sshd.dir.path(), command_timeout);
    (sshd, context)
}

/// A loopback port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => a.port(),
        Err(e) => panic!("{e}"),
    }
}
