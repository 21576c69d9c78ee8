//! CentOS 4's sshd, as far as Debian's OpenSSH can be made to be it: a real sshd offering
//! exactly OpenSSH 3.9p1's algorithms (SHA-1 key exchanges; `ssh-rsa` and `ssh-dss` host
//! keys; aes128-cbc, 3des-cbc, aes128-ctr; hmac-sha1, hmac-md5; client keys as `ssh-rsa`
//! with SHA-1 signatures) and only an RSA and a DSA host key. Both ssh transports plan and
//! apply against it with host key checking on, after a first handshake with the modern set
//! only; the report names the algorithms used. A server offering nothing vmup speaks is
//! refused with both sides' lists.

use std::path::Path;

use crate::sshd_fixture::{ConfigText, Sshd, isolated, keys, write_file};
use crate::support::{Run, vmup};

/// OpenSSH 3.9p1's algorithms (its myproposal.h), minus what Debian's sshd no longer has
/// (blowfish, cast128, arcfour, rijndael, ripemd160).
const OPENSSH_3_9: &str = "\
KexAlgorithms diffie-hellman-group-exchange-sha1,diffie-hellman-group14-sha1,diffie-hellman-group1-sha1
HostKeyAlgorithms ssh-rsa,ssh-dss
Ciphers aes128-cbc,3des-cbc,aes128-ctr
MACs hmac-sha1,hmac-md5
PubkeyAcceptedAlgorithms ssh-rsa
";

/// A key exchange no client of vmup's implements (russh has no sntrup761).
const NOTHING_IN_COMMON: &str = "KexAlgorithms sntrup761x25519-sha512@openssh.com\n";

/// A directory with the inventory (one host, `old`), ssh_config and known_hosts for `sshd`,
/// and a runbook writing one file under the directory.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new(sshd: &Sshd, transport: &str, algorithms: Option<&str>) -> Setup {
        let dir = tempfile::Builder::new()
            .prefix("vmup-legacy-")
            .tempdir()
            .unwrap();
        let kh = write_file(dir.path(), "known_hosts", &sshd.known_hosts_lines());
        ConfigText::default()
            .host("old", sshd.port, &isolated(&keys().rsa, &kh))
            .write(&dir.path().join("ssh_config"));
        let algorithms = algorithms
            .map(|a| format!("ssh_algorithms = \"{a}\"\n"))
            .unwrap_or_default();
        std::fs::write(
            dir.path().join("inventory.toml"),
            format!("[hosts.old]\ntransport = \"{transport}\"\n{algorithms}"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("runbook.toml"),
            format!(
                "[[step]]\nfile = {{ path = \"{}\", content = \"serial console on ttyS0\\n\", mode = \"0644\" }}\n",
                dir.path().join("motd").display()
            ),
        )
        .unwrap();
        Setup { dir }
    }

    fn vmup(&self, command: &str) -> Run {
        vmup(
            self.dir.path(),
            &[
                command,
                "-i",
                "inventory.toml",
                "-F",
                "ssh_config",
                "runbook.toml",
                "--json",
            ],
        )
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn legacy_sshd() -> Sshd {
    Sshd::start_with(&["rsa", "dsa"], OPENSSH_3_9)
}

/// plan, apply, plan again; returns the apply's host line.
fn plan_apply_plan(setup: &Setup) -> serde_json::Value {
    let plan = setup.vmup("plan");
    assert_eq!(plan.code, 3, "plan: {}\n{}", plan.stdout, plan.stderr);
    let planned = &plan.hosts()["old"];
    assert_eq!(planned["status"], "changed", "{planned}");
    let apply = setup.vmup("apply");
    assert_eq!(apply.code, 0, "apply: {}\n{}", apply.stdout, apply.stderr);
    let applied = apply.hosts()["old"].clone();
    assert_eq!(applied["status"], "changed", "{applied}");
    assert_eq!(
        std::fs::read_to_string(setup.path().join("motd")).unwrap(),
        "serial console on ttyS0\n"
    );
    let again = setup.vmup("plan");
    assert_eq!(
        again.code, 0,
        "second plan: {}\n{}",
        again.stdout, again.stderr
    );
    applied
}

#[test]
fn the_in_process_client_falls_back_to_openssh_3_9s_algorithms_and_says_which() {
    let sshd = legacy_sshd();
    let setup = Setup::new(&sshd, "ssh", None);
    let applied = plan_apply_plan(&setup);
    let ssh = &applied["ssh"];
    assert_eq!(ssh["legacy"], true, "{applied}");
    let kex = ssh["kex"].as_str().unwrap_or_default();
    assert!(
        [
            "diffie-hellman-group-exchange-sha1",
            "diffie-hellman-group14-sha1",
            "diffie-hellman-group1-sha1"
        ]
        .contains(&kex),
        "{applied}"
    );
    let host_key = ssh["host_key"].as_str().unwrap_or_default();
    assert!(["ssh-rsa", "ssh-dss"].contains(&host_key), "{applied}");
    assert!(
        ["aes128-cbc", "3des-cbc", "aes128-ctr"].contains(&ssh["cipher"].as_str().unwrap_or("")),
        "{applied}"
    );
    assert_eq!(ssh["mac"], "hmac-sha1", "{applied}");
    let notes = applied["notes"].to_string();
    assert!(notes.contains("ssh: legacy algorithms"), "{notes}");
    // The modern set was offered first and refused by the server, once per run (the
    // connection is kept for the run's phases): three runs, three refusals.
    let log = sshd.log_text();
    assert_eq!(
        log.matches("no matching key exchange method found").count(),
        3,
        "{log}"
    );
    // Client authentication was ssh-rsa with SHA-1 (the only algorithm the server takes).
    assert!(
        log.contains("Accepted publickey for root") && log.contains(" RSA "),
        "{log}"
    );
}

#[test]
fn a_host_said_to_be_legacy_gets_one_handshake_and_a_modern_one_is_refused_clearly() {
    let sshd = legacy_sshd();
    let setup = Setup::new(&sshd, "ssh", Some("legacy"));
    let applied = plan_apply_plan(&setup);
    assert_eq!(applied["ssh"]["legacy"], true, "{applied}");
    let log = sshd.log_text();
    assert!(!log.contains("no matching key exchange method"), "{log}");

    let modern = Setup::new(&sshd, "ssh", Some("modern"));
    let plan = modern.vmup("plan");
    assert_eq!(plan.code, 4, "{}\n{}", plan.stdout, plan.stderr);
    let host = &plan.hosts()["old"];
    assert_eq!(host["status"], "unreachable", "{host}");
    let error = host["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("no key exchange algorithm in common with the server: it offers diffie-hellman-group-exchange-sha1"),
        "{error}"
    );
    let offered = error.split("vmup offered ").nth(1).unwrap_or_default();
    assert!(offered.contains("curve25519-sha256"), "{error}");
    assert!(!offered.contains("-sha1"), "{error}");
    assert!(offered.contains("(the modern set)"), "{error}");
    assert!(error.contains("ssh_algorithms = \"modern\""), "{error}");
}

#[test]
fn the_openssh_transport_falls_back_with_the_legacy_options() {
    let sshd = legacy_sshd();
    let setup = Setup::new(&sshd, "openssh", None);
    let applied = plan_apply_plan(&setup);
    let ssh = &applied["ssh"];
    assert_eq!(ssh["legacy"], true, "{applied}");
    let options = ssh["options"].to_string();
    assert!(
        options.contains("KexAlgorithms=+diffie-hellman-group14-sha1"),
        "{options}"
    );
    assert!(
        options.contains("HostKeyAlgorithms=+ssh-rsa,ssh-dss"),
        "{options}"
    );
    let log = sshd.log_text();
    assert!(
        log.contains("no matching key exchange method found"),
        "{log}"
    );
}

#[test]
fn a_server_with_nothing_in_common_is_refused_naming_both_sides() {
    let sshd = Sshd::start_with(&["ed25519"], NOTHING_IN_COMMON);
    let setup = Setup::new(&sshd, "ssh", None);
    let plan = setup.vmup("plan");
    assert_eq!(plan.code, 4, "{}\n{}", plan.stdout, plan.stderr);
    let host = &plan.hosts()["old"];
    assert_eq!(host["status"], "unreachable", "{host}");
    let error = host["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(
            "no key exchange algorithm in common with the server: it offers sntrup761x25519-sha512@openssh.com; vmup offered"
        ),
        "{error}"
    );
    // Both sets were tried: the legacy names are in what vmup offered.
    assert!(error.contains("diffie-hellman-group1-sha1"), "{error}");
    assert!(error.contains("(the modern and legacy sets)"), "{error}");
    assert!(error.contains("transport = \"openssh\""), "{error}");
}
