//! ssh_config (`SshConfig::parse`, `resolve`): no panic; syntax errors name a line of the
//! text; resolving any alias gives a usable port (never 0), the same way every time.
//!
//! Input: the config text (invalid UTF-8 replaced). `Include` reads files: its lines lose
//! every `/`, so they name files under `$HOME/.ssh`, and `$HOME` is a directory this
//! target makes with a few configs to include (one of which includes itself).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use vmup::transport::ssh_config::{SshConfig, SshConfigError};

use crate::input::scratch_dir;

pub const CHECKS: &str = "no panic; error lines valid; resolved ports non-zero, resolve \
                          deterministic; Include of a sandbox home";

fn sandbox_home() -> &'static Path {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let home = scratch_dir().join("home");
        let ssh = home.join(".ssh");
        let files: [(&str, &str); 3] = [
            (
                "a.conf",
                "Host a* web?\n  HostName %h.example\n  Port 2222\n",
            ),
            ("b.conf", "IdentityFile ~/.ssh/id_b\nInclude a.conf\n"),
            ("self", "User loop\nInclude self\n"),
        ];
        let made = std::fs::create_dir_all(&ssh).is_ok()
            && files
                .iter()
                .all(|(name, text)| std::fs::write(ssh.join(name), text).is_ok());
        assert!(made, "cannot make the sandbox home {}", home.display());
        // SAFETY: the fuzz target is single-threaded, and HOME is set once, before any
        // ssh_config code reads it.
        unsafe { std::env::set_var("HOME", &home) };
        home
    })
}

fn confine_includes(text: &str) -> String {
    text.lines()
        .map(|line| {
            let start = line.trim_start();
            let is_include = start
                .get(..7)
                .is_some_and(|k| k.eq_ignore_ascii_case("include"));
            if is_include {
                line.replace('/', "")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn check(data: &[u8]) {
    let home = sandbox_home();
    let text = confine_includes(&String::from_utf8_lossy(data));
    let origin = home.join("config");
    let config = match SshConfig::parse(&text, &origin) {
        Ok(c) => c,
        Err(SshConfigError::Syntax { path, line, .. }) => {
            if path == origin {
                assert!(
                    line >= 1 && line <= text.lines().count(),
                    "syntax error on line {line} of {} lines",
                    text.lines().count()
                );
            }
            return;
        }
        Err(SshConfigError::Read { .. }) => return,
    };
    let _ = config.notes();
    let mut aliases: Vec<String> = vec!["a".into(), "web1".into(), "ng2".into()];
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if words.next().is_some_and(|k| k.eq_ignore_ascii_case("host")) {
            aliases.extend(words.take(2).map(|w| w.trim_start_matches('!').to_string()));
        }
        if aliases.len() > 8 {
            break;
        }
    }
    for alias in &aliases {
        let resolved = config.resolve(alias);
        assert_ne!(resolved.port, Some(0), "port 0 for {alias}");
        assert_eq!(
            config.resolve(alias),
            resolved,
            "resolve is not deterministic"
        );
    }
}
