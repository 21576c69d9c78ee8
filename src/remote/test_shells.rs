//! Test-only: one script run under each shell of the old-shells acceptance test that this
//! machine has (dash, busybox sh, bash --posix, mksh), with busybox's applets as the base
//! tools, so unit tests of host-side scripts see what `tests/e2e/old_shells.rs` checks for
//! the scripts the local transport can run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The shells, each as the command that then takes `-s` and the script on standard input.
const SHELLS: [(&str, &[&str]); 4] = [
    ("dash", &["/usr/bin/dash"]),
    ("busybox sh", &["/usr/bin/busybox", "sh"]),
    ("bash --posix", &["/usr/bin/bash", "--posix"]),
    ("mksh", &["/usr/bin/mksh"]),
];

/// Base tools of the README's requirements table that host-side test scripts use.
const APPLETS: &[&str] = &[
    "cat", "chmod", "cmp", "grep", "head", "ln", "mktemp", "mv", "od", "printf", "readlink", "rm",
    "sed", "sleep", "stat", "tail", "tr", "wc",
];

/// What one shell made of the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellRun {
    /// Which shell.
    pub shell: &'static str,
    /// Exit status (-1 when killed).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error (differs between shells in wording; not compared).
    pub stderr: String,
}

/// A directory of links to busybox for [`APPLETS`], made once per test binary; None
/// without busybox.
fn applets() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let busybox = Path::new("/usr/bin/busybox");
        if !busybox.exists() {
            return None;
        }
        let bin = std::env::temp_dir().join(format!("vmup-busybox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&bin);
        std::fs::create_dir_all(&bin).ok()?;
        for a in APPLETS {
            std::os::unix::fs::symlink(busybox, bin.join(a)).ok()?;
        }
        Some(bin)
    })
    .as_deref()
}

/// Runs `script` under every installed shell of [`SHELLS`], `before` first each time (to
/// reset what the last run changed), with `PATH` = `first` then busybox's applets (the
/// machine's /usr/bin:/bin without busybox). With no shell installed, the machine's `sh`.
pub fn run_each(script: &[u8], first: &Path, mut before: impl FnMut()) -> Vec<ShellRun> {
    let base = applets()
        .map(|b| b.display().to_string())
        .unwrap_or_else(|| "/usr/bin:/bin".to_string());
    let path = format!("{}:{base}", first.display());
    let mut shells: Vec<(&'static str, Vec<&str>)> = SHELLS
        .iter()
        .filter(|(_, argv)| Path::new(argv[0]).exists())
        .map(|(name, argv)| (*name, argv.to_vec()))
        .collect();
    if shells.is_empty() {
        shells.push(("sh", vec!["sh"]));
    }
    let mut runs = Vec::new();
    for (name, argv) in shells {
        before();
        let mut child = Command::new(argv[0])
            .args(&argv[1..])
            .arg("-s")
            .env("PATH", &path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the shell starts");
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(script);
        }
        let out = child.wait_with_output().expect("the shell runs");
        runs.push(ShellRun {
            shell: name,
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    runs
}

/// Regular files directly in `dir` but `keep_out`, by name: the state a fake tool keeps.
pub fn state(dir: &Path, keep_out: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !keep_out.contains(&n.as_str()))
                .map(|n| {
                    let content = std::fs::read(dir.join(&n)).unwrap_or_default();
                    (n, content)
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Puts `dir` back to `saved` (see [`state`]).
pub fn restore(dir: &Path, saved: &[(String, Vec<u8>)], keep_out: &[&str]) {
    for (name, _) in state(dir, keep_out) {
        let _ = std::fs::remove_file(dir.join(name));
    }
    for (name, content) in saved {
        let _ = std::fs::write(dir.join(name), content);
    }
}
