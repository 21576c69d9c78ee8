//! Test fixtures shared by the real-sshd suites and the bench: a private `sshd` on a free
//! loopback port, an `ssh-agent`, client keys, and config files pointing at them.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Runs a command that must succeed; panics with its stderr otherwise (test setup only).
pub fn must(cmd: &mut Command) -> String {
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run {cmd:?}: {e}"),
    };
    if !out.status.success() {
        panic!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keygen(kind: &str, bits: Option<&str>, passphrase: &str, path: &Path) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", kind, "-f"])
        .arg(path);
    if let Some(bits) = bits {
        cmd.args(["-b", bits]);
    }
    must(&mut cmd);
}

/// Client key pairs, made once per test process (RSA generation is slow).
pub struct Keys {
    pub dir: PathBuf,
    pub ed25519: PathBuf,
    pub ecdsa: PathBuf,
    pub rsa: PathBuf,
    /// Protected by [`ENCRYPTED_PASSPHRASE`]; usable only through an agent.
    pub encrypted: PathBuf,
    /// Never authorized anywhere.
    pub stranger: PathBuf,
}

/// Passphrase of [`Keys::encrypted`].
pub const ENCRYPTED_PASSPHRASE: &str = "correct horse";

/// The process-wide client keys.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let base = option_env!("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        remove_stale_key_dirs(&base);
        let dir = base.join(format!("vmup-ssh-test-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            panic!("cannot create {}: {e}", dir.display());
        }
        let keys = Keys {
            ed25519: dir.join("id_ed25519"),
            ecdsa: dir.join("id_ecdsa"),
            rsa: dir.join("id_rsa"),
            encrypted: dir.join("id_encrypted"),
            stranger: dir.join("id_stranger"),
            dir,
        };
        keygen("ed25519", None, "", &keys.ed25519);
        keygen("ecdsa", Some("256"), "", &keys.ecdsa);
        keygen("rsa", Some("2048"), "", &keys.rsa);
        keygen("ed25519", None, ENCRYPTED_PASSPHRASE, &keys.encrypted);
        keygen("ed25519", None, "", &keys.stranger);
        keys
    })
}

/// Removes key directories left by earlier test processes that have exited.
fn remove_stale_key_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("vmup-ssh-test-keys-")
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Removes this process's key directory (for the bench; test binaries leave it to the next
/// run's stale-directory sweep, since other tests may still be using the keys).
pub fn remove_keys() {
    let _ = std::fs::remove_dir_all(&keys().dir);
}

fn public_key(path: &Path) -> String {
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    match std::fs::read_to_string(PathBuf::from(pub_path)) {
        Ok(text) => text,
        Err(e) => panic!("cannot read public key of {}: {e}", path.display()),
    }
}

/// Whether `unshare --mount` works here (root in a namespace-capable environment).
fn unshare_works() -> bool {
    static WORKS: OnceLock<bool> = OnceLock::new();
    *WORKS.get_or_init(|| {
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn free_port() -> u16 {
    match TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(e) => panic!("no free port: {e}"),
    }
}

/// A private sshd on 127.0.0.1, killed (by the PID we started) on drop.
pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub log: PathBuf,
    /// `ssh-ed25519 AAAA...` of the server's (first) host key.
    pub host_key: String,
    /// Every host key the server has, `TYPE BASE64` each.
    pub host_keys: Vec<String>,
}

impl Sshd {
    /// Starts sshd accepting the ed25519, ECDSA, RSA and encrypted test keys for any user.
    pub fn start() -> Sshd {
        Sshd::start_with(&["ed25519"], "")
    }

    /// Starts sshd with host keys of these types (ssh-keygen's `-t`), in this order, and
    /// `extra` appended to its config (algorithm restrictions).
    pub fn start_with(host_key_types: &[&str], extra: &str) -> Sshd {
        let keys = keys();
        let _ = std::fs::create_dir_all("/run/sshd");
        let dir = match tempfile::Builder::new().prefix("vmup-sshd-").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let host_key_files: Vec<PathBuf> = host_key_types
            .iter()
            .map(|kind| {
                let path = dir.path().join(format!("host_{kind}"));
                let bits = (*kind == "rsa").then_some("2048");
                keygen(kind, bits, "", &path);
                path
            })
            .collect();
        let host_key_lines: String = host_key_files
            .iter()
            .map(|p| format!("HostKey {}\n", p.display()))
            .collect();
        let authorized = dir.path().join("authorized_keys");
        let mut auth = String::new();
        for key in [&keys.ed25519, &keys.ecdsa, &keys.rsa, &keys.encrypted] {
            auth.push_str(&public_key(key));
        }
        if let Err(e) = std::fs::write(&authorized, auth) {
            panic!("{e}");
        }
        let log = dir.path().join("sshd.log");
        let config = dir.path().join("sshd_config");
        for _attempt in 0..5 {
            let port = free_port();
            let text = format!(
                "Port {port}\nListenAddress 127.0.0.1\n{host_key_lines}PidFile none\n\
                 AuthorizedKeysFile {}\nStrictModes no\nPermitRootLogin yes\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nAllowTcpForwarding yes\nMaxStartups 1000\n\
                 MaxSessions 100\nMaxAuthTries 20\nLogLevel VERBOSE\nUseDNS no\nPrintMotd no\n\
                 {extra}",
                authorized.display()
            );
            if let Err(e) = std::fs::write(&config, text) {
                panic!("{e}");
            }
            let _ = std::fs::remove_file(&log);
            // Root's ~/.bashrc on the dev machines runs `pyenv init` (~250 ms), and Debian's
            // bash sources it for every ssh command. sshd runs in a private mount namespace
            // where that file is hidden (the machine is untouched); `unshare` and `sh` exec,
            // so the PID we hold is sshd's. Without unshare, sshd starts directly.
            let mut command = if cfg!(target_os = "linux") && unshare_works() {
                let mut c = Command::new("unshare");
                c.args(["--mount", "--propagation", "private", "/bin/sh", "-c"])
                    .arg(
                        "[ -f /root/.bashrc ] && mount --bind /dev/null /root/.bashrc; exec \"$@\"",
                    )
                    .arg("sh")
                    .arg("/usr/sbin/sshd");
                c
            } else {
                Command::new("/usr/sbin/sshd")
            };
            let child = command
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .arg("-E")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let mut child = match child {
                Ok(c) => c,
                Err(e) => panic!("cannot start sshd: {e}"),
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("Server listening on") {
                    let host_keys: Vec<String> = host_key_files
                        .iter()
                        .map(|f| {
                            public_key(f)
                                .split_whitespace()
                                .take(2)
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                        .collect();
                    return Sshd {
                        child,
                        port,
                        dir,
                        log,
                        host_key: host_keys[0].clone(),
                        host_keys,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken meanwhile, or a config problem: try again
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("sshd did not start: {text}");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        panic!(
            "sshd would not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// `[127.0.0.1]:PORT ssh-ed25519 AAAA...`, the known_hosts line for this server.
    pub fn known_hosts_line(&self) -> String {
        format!("[127.0.0.1]:{} {}\n", self.port, self.host_key)
    }

    /// known_hosts lines for every host key of this server.
    pub fn known_hosts_lines(&self) -> String {
        self.host_keys
            .iter()
            .map(|k| format!("[127.0.0.1]:{} {k}\n", self.port))
            .collect()
    }

    /// How many connections authenticated with a public key so far.
    pub fn accepted(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    }

    /// PIDs of the per-connection sshd processes (children of the sshd we started).
    pub fn connection_pids(&self) -> Vec<i32> {
        let pid = self.child.id();
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// The server log, for assertion messages.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log shows `n` accepted logins (the log is written asynchronously).
    pub fn wait_accepted(&self, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.accepted() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // Give a little time for any unexpected extra login to show up too.
        std::thread::sleep(Duration::from_millis(100));
        self.accepted()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private `ssh-agent -D` (foreground, so we own its PID), killed on drop.
pub struct Agent {
    child: Child,
    pub socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Starts an agent and loads the encrypted test key into it (passphrase via askpass).
    pub fn start() -> Agent {
        let dir = match tempfile::Builder::new().prefix("vmup-agent-").tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => panic!("cannot start ssh-agent: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !socket.exists() {
            if Instant::now() > deadline {
                panic!("ssh-agent did not create {}", socket.display());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let askpass = dir.path().join("askpass.sh");
        let script = format!("#!/bin/sh\necho '{ENCRYPTED_PASSPHRASE}'\n");
        let written =
            std::fs::File::create(&askpass).and_then(|mut f| f.write_all(script.as_bytes()));
        if let Err(e) = written {
            panic!("{e}");
        }
        must(Command::new("chmod").arg("700").arg(&askpass));
        must(
            Command::new("ssh-add")
                .arg(&keys().encrypted)
                .env("SSH_AUTH_SOCK", &socket)
                .env("SSH_ASKPASS", &askpass)
                .env("SSH_ASKPASS_REQUIRE", "force")
                .env("DISPLAY", ":0")
                .stdin(Stdio::null()),
        );
        Agent {
            child,
            socket,
            _dir: dir,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds an ssh_config text for `Host NAME` blocks pointing at local test servers.
#[derive(Default)]
pub struct ConfigText(String);

impl ConfigText {
    /// Adds `Host name` with `HostName 127.0.0.1`, `Port port` and the given extra lines.
    pub fn host(mut self, name: &str, port: u16, lines: &[String]) -> Self {
        let _ = writeln!(
            self.0,
            "Host {name}\n  HostName 127.0.0.1\n  Port {port}\n  User root"
        );
        for line in lines {
            let _ = writeln!(self.0, "  {line}");
        }
        self
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// Writes the text to `path` and returns it.
    pub fn write(&self, path: &Path) -> PathBuf {
        if let Err(e) = std::fs::write(path, &self.0) {
            panic!("{e}");
        }
        path.to_path_buf()
    }
}

/// Lines that isolate a host block from the environment: this key only, no agent, this
/// known_hosts file, strict checking, no system-wide known_hosts.
pub fn isolated(key: &Path, known_hosts: &Path) -> Vec<String> {
    vec![
        format!("IdentityFile {}", key.display()),
        "IdentitiesOnly yes".to_string(),
        "IdentityAgent none".to_string(),
        format!("UserKnownHostsFile {}", known_hosts.display()),
        "StrictHostKeyChecking yes".to_string(),
        "GlobalKnownHostsFile /dev/null".to_string(),
    ]
}

/// Writes `lines` to a new file in `dir` and returns its path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Err(e) = std::fs::write(&path, text) {
        panic!("{e}");
    }
    path
}

/// A script of `size` bytes or more that prints `done N`, with `N` counted by the shell.
pub fn big_script(size: usize) -> Vec<u8> {
    let mut script = String::from("n=0\n");
    let mut lines = 0usize;
    while script.len() < size {
        script.push_str("n=$((n+1)) # padding padding padding padding padding padding padding\n");
        lines += 1;
    }
    script.push_str("echo \"done $n\"\n");
    let _ = lines;
    script.into_bytes()
}

/// How many `n=$((n+1))` lines [`big_script`] holds.
pub fn big_script_lines(script: &[u8]) -> usize {
    String::from_utf8_lossy(script)
        .matches("n=$((n+1))")
        .count()
}

/// A script printing every byte value 0..=255 once, in order.
pub fn all_bytes_script() -> Vec<u8> {
    let mut script = String::from("printf '");
    for b in 0u16..=255 {
        let _ = write!(script, "\\{b:03o}");
    }
    script.push_str("'\n");
    script.into_bytes()
}
