//! `-v` and `--log-file` against a real sshd: the log has vmup's connection and script
//! records and russh's key exchange, at the levels documented, and never a template value,
//! a file's content or key material.

use std::os::unix::fs::PermissionsExt;

use crate::sshd_fixture::{ConfigText, Sshd, isolated, keys, write_file};
use crate::support::{Run, vmup};

const SECRET: &str = "s3cr3t-token-4f1d9b";

struct Setup {
    dir: tempfile::TempDir,
    _sshd: Sshd,
}

impl Setup {
    /// One host, `box`, over `transport`, and a runbook writing a file holding a value
    /// given with `-e`.
    fn new(transport: &str) -> Setup {
        let sshd = Sshd::start();
        let dir = tempfile::Builder::new()
            .prefix("vmup-logging-")
            .tempdir()
            .unwrap();
        let kh = write_file(dir.path(), "known_hosts", &sshd.known_hosts_lines());
        ConfigText::default()
            .host("box", sshd.port, &isolated(&keys().ecdsa, &kh))
            .write(&dir.path().join("ssh_config"));
        std::fs::write(
            dir.path().join("inventory.toml"),
            format!("[hosts.box]\ntransport = \"{transport}\"\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("runbook.toml"),
            format!(
                "[[step]]\nfile = {{ path = \"{}\", content = \"token {{{{ token }}}}\\n\", mode = \"0600\" }}\n",
                dir.path().join("token").display()
            ),
        )
        .unwrap();
        Setup { dir, _sshd: sshd }
    }

    fn vmup(&self, extra: &[&str]) -> Run {
        let token = format!("token={SECRET}");
        let mut args = vec![
            "apply",
            "-i",
            "inventory.toml",
            "-F",
            "ssh_config",
            "runbook.toml",
            "-e",
            &token,
        ];
        args.extend_from_slice(extra);
        vmup(self.dir.path(), &args)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("vmup.log")).unwrap()
    }
}

/// A part of the client's private key that any dump of it would contain.
fn key_material() -> String {
    let key = std::fs::read_to_string(&keys().ecdsa).unwrap();
    let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    body[body.len() / 2..body.len() / 2 + 32].to_string()
}

#[test]
fn the_log_file_has_the_negotiation_and_the_scripts_and_no_secret() {
    let setup = Setup::new("ssh");
    let run = setup.vmup(&["--log-file", "vmup.log", "--json"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(setup.dir.path().join("token")).unwrap(),
        format!("token {SECRET}\n"),
        "the value reached the host"
    );
    assert!(
        run.stderr.is_empty(),
        "no -v: nothing on stderr: {}",
        run.stderr
    );
    for line in run.stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
    let log = setup.log();
    for expected in [
        " INFO  vmup::cli: vmup ",
        " INFO  vmup::transport::ssh::connect: box: connecting to ",
        " DEBUG russh::client::kex: negotiated algorithms: ",
        " DEBUG vmup::transport::ssh::connect: box: key exchange ",
        " INFO  vmup::transport::ssh::connect: box: authenticated as ",
        " DEBUG vmup::transport::logged: box: script 1 (",
        // Facts, then apply and verify: the step's template reads only a variable, so
        // its file is asked for in the first facts script.
        "box: script 2 ended with exit status 0 in ",
        " INFO  vmup::engine::fleet: box: apply ended changed in ",
    ] {
        assert!(log.contains(expected), "{expected:?} in\n{log}");
    }
    assert!(
        !log.contains(" TRACE "),
        "a log file gets debug, not trace, without -vvv"
    );
    assert!(
        !log.contains(SECRET),
        "the template value is logged:\n{log}"
    );
    assert!(!log.contains(&key_material()), "key material is logged");
    let mode = std::fs::metadata(setup.dir.path().join("vmup.log"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Every line is one record: a timestamp, a level, a target.
    for line in log.lines() {
        let mut fields = line.split_whitespace();
        let stamp = fields.next().unwrap_or_default();
        assert!(
            stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{line}"
        );
    }

    // A second run appends; -vvv traces vmup's own records but no other crate's.
    let before = log.lines().count();
    let again = setup.vmup(&["--log-file", "vmup.log", "-vvv"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let log = setup.log();
    assert!(log.lines().count() > before, "appended");
    assert!(
        !log.lines()
            .any(|l| l.contains(" TRACE ") && !l.contains(" vmup")),
        "other crates are capped at debug"
    );
    assert!(!log.contains(SECRET));
    assert!(
        again
            .stderr
            .contains(" DEBUG russh::client::kex: negotiated algorithms: "),
        "{}",
        again.stderr
    );
}

#[test]
fn verbosity_on_stderr_and_the_openssh_command_line() {
    let setup = Setup::new("openssh");
    let quiet = setup.vmup(&[]);
    assert_eq!(quiet.code, 0, "{}\n{}", quiet.stdout, quiet.stderr);
    assert!(!quiet.stderr.contains(" INFO "), "{}", quiet.stderr);

    let info = setup.vmup(&["-v"]);
    assert_eq!(info.code, 0, "{}", info.stderr);
    assert!(
        info.stderr
            .contains(" INFO  vmup::engine::fleet: box: apply started"),
        "{}",
        info.stderr
    );
    assert!(!info.stderr.contains(" DEBUG "), "{}", info.stderr);

    let debug = setup.vmup(&["-vv"]);
    assert_eq!(debug.code, 0, "{}", debug.stderr);
    let ssh_line = debug
        .stderr
        .lines()
        .find(|l| l.contains(" DEBUG vmup::transport::openssh: box: ssh "))
        .unwrap_or_else(|| panic!("{}", debug.stderr));
    assert!(ssh_line.ends_with(" -T -- box sh -s"), "{ssh_line}");
    assert!(!debug.stderr.contains(SECRET), "{}", debug.stderr);

    let bad = setup.vmup(&["--log-file", "no/such/dir/vmup.log"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .starts_with("error: --log-file no/such/dir/vmup.log: No such file or directory"),
        "{}",
        bad.stderr
    );
}
