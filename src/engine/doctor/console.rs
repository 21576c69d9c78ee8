//! Will a person be able to log in on the guest's serial console? The seed's "Console login
//! with xenU kernels": the host passes `xencons=ttyS console=ttyS0`, the guest runs a getty
//! on ttyS0 (an inittab `S0` line, or systemd's serial getty), and root may log in there
//! (`ttyS0` in /etc/securetty where login consults it). Pure: texts in, a finding out.

/// What the guest's files say about logins on a console, as read by `vmup doctor`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleFiles {
    /// `/etc/inittab`, when the guest has one (SysV init).
    pub inittab: Option<String>,
    /// `/etc/securetty`, when present.
    pub securetty: Option<String>,
    /// `/etc/pam.d/login`, when present.
    pub pam_login: Option<String>,
    /// The guest has systemd, whose getty generator starts `serial-getty@` on the
    /// kernel's console by itself.
    pub systemd: bool,
}

/// The console device the kernel's command line makes `/dev/console`: the last
/// `console=` wins, options after `,` dropped (`ttyS0,115200` is `ttyS0`). Pure.
pub fn console_device(cmdline: &str) -> Option<&str> {
    cmdline
        .split_whitespace()
        .filter_map(|t| t.strip_prefix("console="))
        .next_back()
        .map(|c| c.split(',').next().unwrap_or(c))
        .map(|c| c.strip_prefix("/dev/").unwrap_or(c))
}

/// Why nobody could log in on the console, or None when they could. `release` matters
/// for classic xenU kernels, whose serial console needs `xencons=ttyS` as well. Pure.
pub fn console_problem(
    cmdline: Option<&str>,
    release: &str,
    files: &ConsoleFiles,
) -> Option<String> {
    let Some(cmdline) = cmdline else {
        return Some(
            "the host passes no kernel command line, so no console= (add console=ttyS0 to extra)"
                .to_string(),
        );
    };
    let Some(tty) = console_device(cmdline) else {
        return Some(format!(
            "the command line {cmdline:?} names no console= (add console=ttyS0{})",
            if is_xenu(release) {
                " and xencons=ttyS"
            } else {
                ""
            }
        ));
    };
    if is_xenu(release)
        && tty.starts_with("ttyS")
        && !cmdline.split_whitespace().any(|t| t == "xencons=ttyS")
    {
        return Some(format!(
            "console={tty} on the xenU kernel {release} needs xencons=ttyS on the command line too"
        ));
    }
    match &files.inittab {
        Some(inittab) if !inittab_has_getty(inittab, tty) => {
            return Some(format!(
                "/etc/inittab runs no getty on {tty} (add e.g. S0:2345:respawn:/sbin/agetty -L 9600 {tty} vt102)"
            ));
        }
        Some(_) => {}
        None if files.systemd => {}
        None => {
            return Some(format!(
                "the guest has neither /etc/inittab nor systemd, so nothing starts a getty on {tty}"
            ));
        }
    }
    if let Some(securetty) = &files.securetty
        && securetty_applies(files.pam_login.as_deref())
        && !securetty
            .lines()
            .map(str::trim)
            .any(|l| l == tty || l.strip_prefix("/dev/") == Some(tty))
    {
        return Some(format!(
            "root cannot log in on {tty}: /etc/securetty does not list it{}",
            if files.pam_login.is_some() {
                " (pam_securetty in /etc/pam.d/login reads it)"
            } else {
                ""
            }
        ));
    }
    None
}

/// A classic Xen guest kernel (`2.6.9-55.ELxenU`), whose console driver needs telling.
fn is_xenu(release: &str) -> bool {
    release.ends_with("xenU")
}

/// An active inittab entry that respawns a getty on `tty`.
fn inittab_has_getty(inittab: &str, tty: &str) -> bool {
    inittab.lines().any(|line| {
        let line = line.trim_start();
        if line.starts_with('#') {
            return false;
        }
        let fields: Vec<&str> = line.splitn(4, ':').collect();
        let [_, _, action, process] = fields[..] else {
            return false;
        };
        let words: Vec<&str> = process.split_whitespace().collect();
        matches!(action.trim(), "respawn" | "once")
            && words.first().is_some_and(|w| w.ends_with("getty"))
            && words
                .iter()
                .skip(1)
                .any(|w| *w == tty || w.strip_prefix("/dev/") == Some(tty))
    })
}

/// login reads /etc/securetty itself without PAM, and through pam_securetty with it.
fn securetty_applies(pam_login: Option<&str>) -> bool {
    match pam_login {
        None => true,
        Some(text) => text.lines().any(|l| {
            let l = l.trim_start();
            !l.starts_with('#') && l.contains("pam_securetty")
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INITTAB_S0: &str = "id:3:initdefault:\n1:2345:respawn:/sbin/mingetty tty1\nS0:2345:respawn:/sbin/agetty -L 9600 ttyS0 vt102\n";
    const CENTOS_PAM: &str = "#%PAM-1.0\nauth       required\tpam_securetty.so\nauth       required\tpam_stack.so service=system-auth\n";

    fn sysv(inittab: &str, securetty: &str) -> ConsoleFiles {
        ConsoleFiles {
            inittab: Some(inittab.into()),
            securetty: Some(securetty.into()),
            pam_login: Some(CENTOS_PAM.into()),
            systemd: false,
        }
    }

    #[test]
    fn the_seeds_console_is_fine() {
        let files = sysv(INITTAB_S0, "console\ntty1\nttyS0\n");
        let cmdline = "root=/dev/sda1 ro 3 xencons=ttyS console=ttyS0";
        assert_eq!(
            console_problem(Some(cmdline), "2.6.9-67.0.1.ELxenU", &files),
            None
        );
    }

    #[test]
    fn each_missing_piece_is_named() {
        let good = "root=/dev/sda1 ro xencons=ttyS console=ttyS0";
        let files = sysv(INITTAB_S0, "console\nttyS0\n");
        let xenu = "2.6.9-67.0.1.ELxenU";
        let p = console_problem(Some("root=/dev/sda1 ro 3"), xenu, &files).unwrap();
        assert!(
            p.contains("names no console=") && p.contains("xencons=ttyS"),
            "{p}"
        );
        let p = console_problem(Some("console=ttyS0"), xenu, &files).unwrap();
        assert!(p.contains("needs xencons=ttyS"), "{p}");
        assert_eq!(
            console_problem(Some("console=ttyS0"), "6.1.0-27-cloud-amd64", &files),
            None
        );
        let no_s0 = sysv(
            "1:2345:respawn:/sbin/mingetty tty1\n#S0:2345:respawn:/sbin/agetty ttyS0\n",
            "ttyS0\n",
        );
        let p = console_problem(Some(good), xenu, &no_s0).unwrap();
        assert!(p.contains("runs no getty on ttyS0"), "{p}");
        let no_tty = sysv(INITTAB_S0, "console\ntty1\n");
        let p = console_problem(Some(good), xenu, &no_tty).unwrap();
        assert!(p.contains("/etc/securetty does not list it"), "{p}");
        assert!(
            console_problem(None, xenu, &files)
                .unwrap()
                .contains("no kernel command line")
        );
    }

    #[test]
    fn securetty_only_counts_where_login_reads_it() {
        let mut files = sysv(INITTAB_S0, "console\n");
        files.pam_login = Some("#auth requisite pam_securetty.so\n@include common-auth\n".into());
        assert_eq!(
            console_problem(
                Some("xencons=ttyS console=ttyS0"),
                "2.6.9-55.ELxenU",
                &files
            ),
            None
        );
        files.pam_login = None;
        assert!(
            console_problem(
                Some("xencons=ttyS console=ttyS0"),
                "2.6.9-55.ELxenU",
                &files
            )
            .is_some()
        );
    }

    #[test]
    fn the_last_console_is_the_one_and_options_are_dropped() {
        assert_eq!(
            console_device("console=tty0 console=ttyS0,115200n8"),
            Some("ttyS0")
        );
        assert_eq!(console_device("console=/dev/hvc0"), Some("hvc0"));
        assert_eq!(console_device("root=/dev/vda"), None);
    }

    #[test]
    fn systemd_guests_get_a_getty_on_the_kernel_console() {
        let mut files = ConsoleFiles {
            systemd: true,
            ..ConsoleFiles::default()
        };
        assert_eq!(
            console_problem(Some("console=hvc0"), "6.1.0-27-cloud-amd64", &files),
            None
        );
        files.systemd = false;
        let p = console_problem(Some("console=hvc0"), "6.1.0-27-cloud-amd64", &files).unwrap();
        assert!(p.contains("neither /etc/inittab nor systemd"), "{p}");
    }
}
