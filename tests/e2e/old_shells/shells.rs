//! Running `vmup` with another `/bin/sh` and a `PATH` of only what the requirements table
//! names: the generated scripts then meet exactly the shell and tools under test.
//!
//! The local transport runs `/bin/sh -s`; in a private mount namespace (`unshare --mount`)
//! the shell under test is bind-mounted over `/usr/bin/dash`, which `/bin/sh` names on
//! Debian, so vmup itself is not changed. bash started as `sh` runs in POSIX mode, as
//! `bash --posix` does (checked by [`probe`]); busybox started as `sh` is its ash.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::requirements::{Provider, Requirement};
use crate::support::Run;

/// A shell the scripts are run under.
#[derive(Debug, Clone, Copy)]
pub struct Shell {
    pub name: &'static str,
    pub binary: &'static str,
}

/// The four shells of the acceptance test (Debian packages dash, busybox, bash, mksh).
pub const SHELLS: [Shell; 4] = [
    Shell {
        name: "dash",
        binary: "/usr/bin/dash",
    },
    Shell {
        name: "busybox sh",
        binary: "/usr/bin/busybox",
    },
    Shell {
        name: "bash --posix",
        binary: "/usr/bin/bash",
    },
    Shell {
        name: "mksh",
        binary: "/usr/bin/mksh",
    },
];

/// The machine's own PATH, given to the runbook's tools (not to vmup's scripts).
const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why these tests cannot run here, if they cannot (they need root for the mount namespace).
pub fn unusable() -> Option<String> {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    if !root {
        return Some("not root: no mount namespace to put another /bin/sh in".into());
    }
    for s in SHELLS {
        assert!(
            Path::new(s.binary).exists(),
            "{} is missing: scripts/install-deps.sh installs it",
            s.binary
        );
    }
    None
}

fn which(name: &str) -> Option<PathBuf> {
    SYSTEM_PATH
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

/// A directory to use as the whole `PATH` under `shell`: the table's busybox applets as
/// links to busybox, its coreutils entries as links to the machine's, its tools (but not
/// those named in `absent`) as wrappers that run the machine's tool with the machine's
/// PATH, and `sh` as the shell under test.
pub fn bin_dir(dir: &Path, shell: &Shell, table: &[Requirement], absent: &[&str]) -> PathBuf {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let bin = dir.join("bin");
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    let applets = String::from_utf8(
        Command::new("/usr/bin/busybox")
            .arg("--list")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for r in table {
        let at = bin.join(&r.command);
        match r.provider {
            Provider::Busybox => {
                assert!(
                    applets.lines().any(|a| a == r.command),
                    "busybox has no {} applet: mark it `coreutils` or `tool` in README.md",
                    r.command
                );
                symlink("/usr/bin/busybox", at).unwrap();
            }
            Provider::Coreutils => {
                let real = which(&r.command)
                    .unwrap_or_else(|| panic!("this machine has no {}", r.command));
                symlink(real, at).unwrap();
            }
            Provider::Shell => symlink(shell.binary, at).unwrap(),
            Provider::Tool => {
                if absent.contains(&r.command.as_str()) {
                    continue;
                }
                if let Some(real) = which(&r.command) {
                    std::fs::write(
                        &at,
                        format!(
                            "#!/bin/sh\nPATH={SYSTEM_PATH}; export PATH\nexec {} \"$@\"\n",
                            real.display()
                        ),
                    )
                    .unwrap();
                    std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755)).unwrap();
                }
            }
        }
    }
    bin
}

/// Puts a stand-in for the runbook's tool `name` into `bin` (the machine has none, or the
/// real one would be too slow): `body` runs with the machine's PATH.
pub fn stub(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let at = bin.join(name);
    let _ = std::fs::remove_file(&at);
    std::fs::write(
        &at,
        format!("#!/bin/sh\nPATH={SYSTEM_PATH}; export PATH\n{body}"),
    )
    .unwrap();
    std::fs::set_permissions(&at, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The reference run's `PATH`: everything on the machine's own PATH but `absent`, so a
/// script that needs a program missing from the table works there and not under test.
pub fn full_bin_dir(dir: &Path, absent: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for d in SYSTEM_PATH.split(':') {
        let Ok(entries) = std::fs::read_dir(d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let at = bin.join(&name);
            if absent.iter().any(|a| name == *a) || at.symlink_metadata().is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(e.path(), at).unwrap();
        }
    }
    bin
}

/// Runs `program args` in `cwd` with `PATH` being only `bin` and `/bin/sh` being `shell`
/// (None: the machine's own `/bin/sh`, for the reference run).
fn command(shell: Option<&Shell>, bin: &Path, program: &str, cwd: &Path, home: &Path) -> Command {
    let mut cmd = match shell {
        Some(shell) => {
            let mut c = Command::new("/usr/bin/unshare");
            c.args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "/usr/bin/bash",
                "-c",
            ])
            .arg("/usr/bin/mount --bind \"$1\" /usr/bin/dash || exit 99; shift; exec \"$@\"")
            .args(["setup", shell.binary, program])
            .env_clear();
            c
        }
        None => {
            let mut c = Command::new(program);
            c.env_clear();
            c
        }
    };
    cmd.current_dir(cwd)
        .env("VMUP_HISTORY", crate::support::test_history())
        .env("PATH", bin)
        .env("HOME", home)
        .env("LC_ALL", "C");
    cmd
}

/// Runs the built vmup (see [`command`]).
pub fn vmup(shell: Option<&Shell>, bin: &Path, cwd: &Path, home: &Path, args: &[&str]) -> Run {
    let out = command(shell, bin, env!("CARGO_BIN_EXE_vmup"), cwd, home)
        .args(args)
        .output()
        .expect("vmup runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// What `/bin/sh` is inside the namespace: its own idea of its name and mode.
pub fn probe(shell: &Shell, bin: &Path) -> String {
    let out = command(Some(shell), bin, "/bin/sh", Path::new("/"), Path::new("/"))
        .arg("-c")
        .arg(
            "if [ -n \"$BASH_VERSION\" ]; then case :$SHELLOPTS: in *:posix:*) echo bash posix ;; *) echo bash ;; esac\n\
             elif [ -n \"$KSH_VERSION\" ]; then echo mksh\n\
             elif (eval 'x=abc; [ \"${x:1:1}\" = b ]') 2>/dev/null; then echo busybox\n\
             else echo dash; fi",
        )
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
