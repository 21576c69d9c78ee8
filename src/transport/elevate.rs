//! `become`: running a host's scripts as root when its ssh login is not root (sites with
//! `PermitRootLogin no`). The one script per phase is fed, on the same exec channel as
//! always, to `sudo -n sh -s` (or `doas -n sh -s`) instead of `sh -s`, so becoming root
//! costs no round trip; and a refusal of sudo or doas (a password is needed, no sudoers
//! entry, not installed) is told apart from a failure of the script, because nothing ran.
//!
//! The command lines are constants: no value from the inventory or the host reaches them,
//! so nothing here needs quoting and nothing can land in an option position. `-n` makes
//! sudo and doas fail at once where they would prompt: no password is ever waited for.

use serde::{Deserialize, Serialize};

use super::{RemoteOutput, TransportError};

/// How a host's scripts become root; what `become_method = "..."` says in the inventory
/// (`su` is refused there: it cannot run without a password prompt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BecomeMethod {
    /// `sudo -n` (default): a `NOPASSWD` sudoers entry for the login user.
    #[default]
    Sudo,
    /// OpenBSD's `doas -n` (Debian's `opendoas`): a `permit nopass` rule for the user.
    Doas,
}

/// What an exec channel runs without become: the script arrives on standard input.
const SH: &[&str] = &["sh", "-s"];
/// `sudo -n`: never prompt (fail with "a password is required" instead).
const SUDO: &[&str] = &["sudo", "-n", "sh", "-s"];
/// `doas -n`: never prompt (fail with "Authorization required" instead).
const DOAS: &[&str] = &["doas", "-n", "sh", "-s"];

impl BecomeMethod {
    /// The inventory's word for it, also the program run.
    pub fn as_str(self) -> &'static str {
        match self {
            BecomeMethod::Sudo => "sudo",
            BecomeMethod::Doas => "doas",
        }
    }
}

/// The remote command as words, for ssh(1)'s argument list (ssh joins them with spaces).
pub fn remote_argv(method: Option<BecomeMethod>) -> &'static [&'static str] {
    match method {
        None => SH,
        Some(BecomeMethod::Sudo) => SUDO,
        Some(BecomeMethod::Doas) => DOAS,
    }
}

/// The remote command as the one string an ssh exec request carries.
pub fn remote_command(method: Option<BecomeMethod>) -> String {
    remote_argv(method).join(" ")
}

/// Why sudo or doas did not run the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// It wanted a password (or a terminal to read one from).
    Password,
    /// The user has no rule letting them run it.
    NotAllowed,
    /// The program is not installed (the login shell said "not found").
    Missing,
    /// The program does not know `-n` (sudo before 1.7, CentOS 4's 1.6.7).
    NoNonInteractive,
}

/// The error for a script that sudo or doas refused to start, or `None` when the script
/// ran (whatever its own status). Only output that cannot come from a script that ran is
/// taken: nothing on stdout, and the program's own message as the first line of stderr
/// with its own exit status (1; 127 from the login shell when it is not installed).
pub fn refusal(
    method: BecomeMethod,
    host: &str,
    user: Option<&str>,
    out: &RemoteOutput,
) -> Option<TransportError> {
    if !out.stdout.is_empty() {
        return None;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().find(|l| !l.trim().is_empty())?.trim();
    let kind = classify(method, out.status, first)?;
    // The OpenSSH transport may not know the login (ssh_config's `User`): a placeholder.
    let who = user.unwrap_or("USER");
    let program = method.as_str();
    let mut fix = match (method, kind) {
        (_, Refusal::Missing) => format!("install {program} on {host}, or set become_method"),
        (BecomeMethod::Sudo, Refusal::NoNonInteractive) => format!(
            "{host}'s sudo is older than 1.7 and cannot be told never to prompt: log in as root there (become = false) or update sudo"
        ),
        (BecomeMethod::Sudo, _) => format!(
            "let {who} run commands as root without a password on {host}: a line `{who} ALL=(root) NOPASSWD: ALL` in /etc/sudoers.d/vmup (write it with visudo -f), and no `Defaults requiretty` for {who}"
        ),
        (BecomeMethod::Doas, _) => format!(
            "let {who} run commands as root without a password on {host}: a line `permit nopass {who} as root` in /etc/doas.conf"
        ),
    };
    if user.is_none() && matches!(kind, Refusal::Password | Refusal::NotAllowed) {
        fix.push_str(" (USER: the user vmup logs in as)");
    }
    Some(TransportError::Become {
        host: host.to_string(),
        method,
        said: first.to_string(),
        fix,
    })
}

/// Which refusal `first` (stderr's first line) with `status` is, if it is one.
fn classify(method: BecomeMethod, status: Option<i32>, first: &str) -> Option<Refusal> {
    let program = method.as_str();
    let lower = first.to_ascii_lowercase();
    // "sh: 1: sudo: not found" (dash), "bash: sudo: command not found", "doas: not found".
    if status == Some(127) && lower.contains(&format!("{program}: ")) && lower.contains("not found")
    {
        return Some(Refusal::Missing);
    }
    if status != Some(1) {
        return None;
    }
    let password = [
        "a password is required",
        "a terminal is required",
        "no tty present",
        "must have a tty",
        "authorization required",
        "authentication required",
    ];
    let not_allowed = [
        "is not in the sudoers file",
        "is not allowed to execute",
        "may not run sudo",
        "operation not permitted",
        "not permitted",
    ];
    let old = ["illegal option", "invalid option"];
    let ours = lower.starts_with(&format!("{program}: "))
        || lower.contains("sudoers")
        || (lower.starts_with("sorry, user ") && lower.contains("is not allowed to execute"));
    if !ours {
        return None;
    }
    if password.iter().any(|p| lower.contains(p)) {
        Some(Refusal::Password)
    } else if not_allowed.iter().any(|p| lower.contains(p)) {
        Some(Refusal::NotAllowed)
    } else if old.iter().any(|p| lower.contains(p)) {
        Some(Refusal::NoNonInteractive)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(method: BecomeMethod, status: i32, stderr: &str) -> Option<String> {
        let out = RemoteOutput {
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
            status: Some(status),
        };
        refusal(method, "g01", Some("ops"), &out).map(|e| e.to_string())
    }

    #[test]
    fn the_command_lines_are_fixed_words() {
        assert_eq!(remote_command(None), "sh -s");
        assert_eq!(remote_command(Some(BecomeMethod::Sudo)), "sudo -n sh -s");
        assert_eq!(remote_command(Some(BecomeMethod::Doas)), "doas -n sh -s");
        assert_eq!(
            remote_argv(Some(BecomeMethod::Sudo)),
            ["sudo", "-n", "sh", "-s"]
        );
    }

    #[test]
    fn sudo_wanting_a_password_names_the_host_and_the_sudoers_line() {
        let e = refused(BecomeMethod::Sudo, 1, "sudo: a password is required\n");
        let e = e.unwrap_or_default();
        assert!(
            e.starts_with("g01: sudo -n refused to run the script as root"),
            "{e}"
        );
        assert!(e.contains("sudo: a password is required"), "{e}");
        assert!(e.contains("nothing ran"), "{e}");
        assert!(e.contains("ops ALL=(root) NOPASSWD: ALL"), "{e}");
        assert!(e.contains("/etc/sudoers.d/vmup"), "{e}");
        for said in [
            "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper",
            "sudo: sorry, you must have a tty to run sudo",
            "sudo: no tty present and no askpass program specified",
            "ops is not in the sudoers file.  This incident will be reported.",
            "sudo: ops is not in the sudoers file",
            "Sorry, user ops is not allowed to execute '/bin/sh -s' as root on g01.",
        ] {
            assert!(refused(BecomeMethod::Sudo, 1, said).is_some(), "{said}");
        }
    }

    #[test]
    fn missing_and_old_programs_say_what_to_do() {
        let e = refused(BecomeMethod::Sudo, 127, "sh: 1: sudo: not found\n").unwrap_or_default();
        assert!(e.contains("install sudo on g01"), "{e}");
        let e = refused(
            BecomeMethod::Sudo,
            1,
            "sudo: illegal option -- n\nusage: sudo -K | -L | -V | -h | -k | -l | -v\n",
        )
        .unwrap_or_default();
        assert!(e.contains("older than 1.7"), "{e}");
        let e =
            refused(BecomeMethod::Doas, 1, "doas: Authorization required\n").unwrap_or_default();
        assert!(e.contains("permit nopass ops as root"), "{e}");
        assert!(refused(BecomeMethod::Doas, 1, "doas: Operation not permitted").is_some());
        let out = RemoteOutput {
            stdout: Vec::new(),
            stderr: b"sudo: a password is required\n".to_vec(),
            status: Some(1),
        };
        let e = refusal(BecomeMethod::Sudo, "g01", None, &out)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("`USER ALL=(root) NOPASSWD: ALL`"), "{e}");
        assert!(e.ends_with("(USER: the user vmup logs in as)"), "{e}");
    }

    #[test]
    fn a_script_that_ran_is_never_a_refusal() {
        // Output on stdout: the script ran.
        let out = RemoteOutput {
            stdout: b"framed facts".to_vec(),
            stderr: b"sudo: a password is required\n".to_vec(),
            status: Some(1),
        };
        assert!(refusal(BecomeMethod::Sudo, "g01", None, &out).is_none());
        // Another status, or another program's words.
        assert!(refused(BecomeMethod::Sudo, 2, "sudo: a password is required").is_none());
        assert!(refused(BecomeMethod::Sudo, 1, "cp: cannot stat 'x'").is_none());
        assert!(refused(BecomeMethod::Sudo, 0, "").is_none());
        assert!(refused(BecomeMethod::Doas, 1, "sudo: a password is required").is_none());
        assert!(refused(BecomeMethod::Sudo, 127, "sh: 1: rpm: not found").is_none());
    }
}
