//! One dnf/yum transaction as shell: the command people would type, and the script that
//! runs it (non-interactive, or as a preview with `--assumeno`).
//!
//! A swap is one transaction: dnf's `swap`, or for yum (and for install + remove together)
//! a `shell` transaction file with remove, install and run, so no state has neither
//! package. Every package name and repository option reaches the shell through
//! [`Script::arg`], so through the one quoting function.

use super::pkg::{OLD_YUM_FN, PM_FN};
use super::script::Script;

/// What the transaction does, whichever manager runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transaction {
    /// Update every installed package.
    Update,
    /// Install these.
    Install(Vec<String>),
    /// Remove these.
    Remove(Vec<String>),
    /// Install and remove together (a shell transaction), or a swap.
    Shell {
        /// Packages removed.
        remove: Vec<String>,
        /// Packages installed.
        install: Vec<String>,
        /// One package replacing another: dnf runs it as `swap`.
        swap: bool,
    },
}

impl Transaction {
    /// The packages it removes by name.
    pub fn removed(&self) -> &[String] {
        match self {
            Transaction::Remove(p) | Transaction::Shell { remove: p, .. } => p,
            Transaction::Update | Transaction::Install(_) => &[],
        }
    }
}

/// A transaction with the repositories it may use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgCommand {
    /// What it does.
    pub tx: Transaction,
    /// `--disablerepo=GLOB` / `--enablerepo=GLOB`, in the order given.
    pub repo_options: Vec<String>,
}

impl PkgCommand {
    /// The command as people would type it, for summaries.
    pub fn shown(&self, pm: &str) -> String {
        let mut words = vec![pm.to_string()];
        words.extend(self.repo_options.iter().cloned());
        match &self.tx {
            Transaction::Update => words.push("update".into()),
            Transaction::Install(p) => {
                words.push("install".into());
                words.extend(p.iter().cloned());
            }
            Transaction::Remove(p) => {
                words.push("remove".into());
                words.extend(p.iter().cloned());
            }
            Transaction::Shell {
                remove,
                install,
                swap,
            } => {
                if *swap && pm == "dnf" {
                    words.push("swap".into());
                    words.extend(remove.iter().chain(install).cloned());
                } else {
                    words.push(format!(
                        "shell (remove {}; install {}; run)",
                        remove.join(" "),
                        install.join(" ")
                    ));
                }
            }
        }
        words.join(" ")
    }

    /// Shell running the transaction with `answer` (`-y` or `--assumeno`) under dnf
    /// (`Some(true)`), yum (`Some(false)`) or whichever `$pm` names at run time (`None`).
    /// Its combined output is the command's standard output.
    pub fn script(&self, pm_is_dnf: Option<bool>, answer: &str) -> Script {
        let mut s = Script::new();
        s.code(PM_FN);
        let pm = match pm_is_dnf {
            Some(true) => "dnf",
            Some(false) => "yum",
            None => "\"$pm\"",
        };
        let args = |s: &mut Script, tail: &[String]| {
            s.code(&format!("vmup_pm {pm} {answer}"));
            for o in &self.repo_options {
                s.arg(o.as_bytes());
            }
            for t in tail {
                s.arg(t.as_bytes());
            }
        };
        match &self.tx {
            Transaction::Update => args(&mut s, &["update".into()]),
            Transaction::Install(p) => args(&mut s, &[vec!["install".into()], p.clone()].concat()),
            Transaction::Remove(p) => args(&mut s, &[vec!["remove".into()], p.clone()].concat()),
            Transaction::Shell {
                remove,
                install,
                swap,
            } => {
                let file = format!(
                    "{}{}run\n",
                    shell_line("remove", remove),
                    shell_line("install", install)
                );
                let swap_args: Vec<String> =
                    [vec!["swap".to_string()], remove.clone(), install.clone()].concat();
                let shell = |s: &mut Script| {
                    with_temp_file(s, file.as_bytes(), |s| {
                        args(s, &["shell".into()]);
                        s.code(" \"$t\" 2>&1; st=$?; rm -f \"$t\"; vmup_st $st");
                    });
                };
                match (pm_is_dnf, swap) {
                    (Some(true), true) => args(&mut s, &swap_args),
                    (Some(true), false) | (Some(false), _) => shell(&mut s),
                    (None, true) => {
                        s.code("if [ \"$pm\" = dnf ]; then\n");
                        args(&mut s, &swap_args);
                        s.code("\nelse\n");
                        shell(&mut s);
                        s.code("\nfi");
                    }
                    (None, false) => shell(&mut s),
                }
            }
        }
        s.code(" 2>&1\n");
        s
    }

    /// The transaction as lines of a `yum shell` file (2.4's `shell.py` commands
    /// `update`, `install`, `remove`), without `run`.
    fn shell_commands(&self) -> String {
        match &self.tx {
            Transaction::Update => "update\n".into(),
            Transaction::Install(p) => shell_line("install", p),
            Transaction::Remove(p) => shell_line("remove", p),
            Transaction::Shell {
                remove, install, ..
            } => format!(
                "{}{}",
                shell_line("remove", remove),
                shell_line("install", install)
            ),
        }
    }

    /// Writes `file` (the shell commands and `tail`) to a temporary file and runs
    /// `vmup_yum_old REPO-OPTIONS... [-y] shell` followed by `after` (which names the file
    /// `"$t"` and removes it); see [`with_temp_file`].
    fn old_yum_shell(&self, yes: bool, tail: &str, after: &str) -> Script {
        let mut s = Script::new();
        s.code(OLD_YUM_FN);
        let file = format!("{}{tail}", self.shell_commands());
        with_temp_file(&mut s, file.as_bytes(), |s| {
            s.code("vmup_yum_old");
            if yes {
                s.code(" -y");
            }
            for o in &self.repo_options {
                s.arg(o.as_bytes());
            }
            s.arg(b"shell");
            s.code(after);
        });
        s
    }

    /// The preview a yum without `--assumeno` can give (yum 2.4 and 3.2 `shell.py`): the
    /// transaction's commands, `ts solve`, `ts list`, `exit`; never `run`, so nothing is
    /// downloaded or installed. Read by formats::yumshell.
    pub fn old_yum_preview(&self) -> Script {
        let mut s = self.old_yum_shell(
            false,
            "ts solve\nts list\nexit\n",
            " \"$t\" 2>&1; st=$?; rm -f \"$t\"; vmup_st $st",
        );
        s.newline();
        s
    }

    /// The same transaction run for real by a yum without `--assumeno`: `yum -y update`,
    /// `install` or `remove` (whose exit status yum 2.4's `yummain.py` sets), or for
    /// install and remove together a shell file ending in `run`. The shell exits 0
    /// whatever its `run` did, so success is its `Finished Transaction` line.
    pub fn old_yum_script(&self) -> Script {
        if let Transaction::Shell { .. } = self.tx {
            let mut s = self.old_yum_shell(
                true,
                "run\nexit\n",
                " \"$t\" > \"$t.out\" 2>&1; st=$?; cat \"$t.out\"\n\
                 if [ $st -eq 0 ] && ! grep -q '^Finished Transaction' \"$t.out\"; then echo 'vmup: yum shell did not finish the transaction'; st=1; fi\n\
                 rm -f \"$t\" \"$t.out\"; vmup_st $st",
            );
            s.newline();
            return s;
        }
        let mut s = Script::new();
        s.code(OLD_YUM_FN);
        s.code("vmup_yum_old -y");
        for o in &self.repo_options {
            s.arg(o.as_bytes());
        }
        let (verb, names): (&[u8], &[String]) = match &self.tx {
            Transaction::Install(p) => (b"install", p),
            Transaction::Remove(p) => (b"remove", p),
            _ => (b"update", &[]),
        };
        s.arg(verb);
        for n in names {
            s.arg(n.as_bytes());
        }
        s.code(" 2>&1\n");
        s
    }
}

/// One line of a yum/dnf shell file: the command and its words, each quoted for the
/// shell's `shlex.split` when it holds anything but plain package-spec characters.
fn shell_line(command: &str, words: &[String]) -> String {
    let mut line = command.to_string();
    for w in words {
        line.push(' ');
        let plain = !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-:*?[]@%=^,/~".contains(c));
        if plain {
            line.push_str(w);
        } else {
            line.push('\'');
            line.push_str(&w.replace('\'', "'\"'\"'"));
            line.push('\'');
        }
    }
    line.push('\n');
    line
}

/// `content` in a new temporary file `"$t"` for the commands `run` writes, in an `if` so
/// that a failed `mktemp` ends only this code with status 1 and an `Error:` line, never
/// the script around it: the same text runs in a subshell (apply) or as a function in the
/// facts script's own shell, where `exit` would end every fact after it. `vmup_st N` (in
/// [`PM_FN`] and [`OLD_YUM_FN`]) sets the status without starting a subshell.
fn with_temp_file(s: &mut Script, content: &[u8], run: impl FnOnce(&mut Script)) {
    s.code("if t=$(mktemp \"${TMPDIR:-/tmp}/vmup-tx.XXXXXX\"); then\n{");
    s.printf_bytes(content);
    s.code("; } > \"$t\"\n");
    run(s);
    s.code("\nelse echo 'Error: cannot create a temporary file (mktemp)'; vmup_st 1; fi");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// Runs the script with fake dnf and yum that print their arguments, one per line.
    fn argv(cmd: &PkgCommand, pm: &str, root: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        for tool in ["dnf", "yum"] {
            let path = dir.path().join(tool);
            std::fs::write(
                &path,
                format!("#!/bin/sh\necho {tool}; for a in \"$@\"; do echo \"$a\"; done\nfor a in \"$@\"; do [ -f \"$a\" ] && cat \"$a\"; done; :\n"),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let mut script = format!("VMUP_ROOT='{root}'\npm={pm}\n").into_bytes();
        script.extend(cmd.script(None, "--assumeno").finish().unwrap());
        let out = sh_with_fakes(dir.path(), script);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `script` with `sh -c`, the fake tools in `fakes` first on PATH.
    fn sh_with_fakes(fakes: &std::path::Path, script: Vec<u8>) -> std::process::Output {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(String::from_utf8(script).unwrap())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    fakes.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .unwrap()
    }

    #[test]
    fn dnf_swaps_under_the_root_with_repo_options_in_order() {
        let cmd = PkgCommand {
            tx: Transaction::Shell {
                remove: vec!["Gpulse".into()],
                install: vec!["APAC-gateway-gridpulse".into()],
                swap: true,
            },
            repo_options: vec!["--disablerepo=*".into(), "--enablerepo=monash*".into()],
        };
        assert_eq!(
            argv(&cmd, "dnf", "/srv/g"),
            "dnf\n--disableplugin=*\n--installroot=/srv/g\n--setopt=reposdir=/srv/g/etc/yum.repos.d\n--setopt=install_weak_deps=False\n--assumeno\n--disablerepo=*\n--enablerepo=monash*\nswap\nGpulse\nAPAC-gateway-gridpulse\n"
        );
        assert_eq!(
            cmd.shown("dnf"),
            "dnf --disablerepo=* --enablerepo=monash* swap Gpulse APAC-gateway-gridpulse"
        );
    }

    #[test]
    fn yum_swaps_with_a_shell_file_and_its_own_config() {
        let cmd = PkgCommand {
            tx: Transaction::Shell {
                remove: vec!["Gpulse".into()],
                install: vec!["APAC-gateway-gridpulse".into()],
                swap: true,
            },
            repo_options: Vec::new(),
        };
        let out = argv(&cmd, "yum", "/srv/g");
        assert!(
            out.starts_with(
                "yum\n--disableplugin=*\n-c\n/srv/g/etc/yum.conf\n--installroot=/srv/g\n"
            ),
            "{out}"
        );
        assert!(
            out.ends_with("\nremove Gpulse\ninstall APAC-gateway-gridpulse\nrun\n"),
            "{out}"
        );
        assert!(out.contains("--assumeno\nshell\n/"), "{out}");
    }

    /// Runs a script with a fake yum printing its arguments and its shell file.
    fn run_with_fake_yum(script: Script, root: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("yum");
        std::fs::write(
            &path,
            "#!/bin/sh\necho yum; for a in \"$@\"; do echo \"$a\"; done\nfor a in \"$@\"; do [ -f \"$a\" ] && cat \"$a\"; done\necho Finished Transaction\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut text = format!("VMUP_ROOT='{root}'\n").into_bytes();
        text.extend(script.finish().unwrap());
        let out = sh_with_fakes(dir.path(), text);
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn old_yum_preview_is_a_shell_script_without_run_and_only_yum24_options() {
        let cmd = PkgCommand {
            tx: Transaction::Update,
            repo_options: vec!["--disablerepo=*".into(), "--enablerepo=monash*".into()],
        };
        let out = run_with_fake_yum(cmd.old_yum_preview(), "");
        let (argv, file) = out.split_once("\nshell\n").unwrap();
        assert_eq!(
            argv,
            "yum\n--noplugins\n-d\n2\n--disablerepo=*\n--enablerepo=monash*"
        );
        assert!(
            file.ends_with("\nupdate\nts solve\nts list\nexit\nFinished Transaction\n"),
            "{file}"
        );
        for modern in ["--assumeno", "--setopt", "--disableplugin", "-y", "run"] {
            assert!(!out.lines().any(|l| l == modern), "{modern} in {out}");
        }
    }

    #[test]
    fn old_yum_applies_with_yes_and_a_shell_file_for_swaps_under_a_root() {
        let update = PkgCommand {
            tx: Transaction::Install(vec!["it's".into(), "python24".into()]),
            repo_options: Vec::new(),
        };
        assert_eq!(
            run_with_fake_yum(update.old_yum_script(), ""),
            "yum\n--noplugins\n-d\n2\n-y\ninstall\nit's\npython24\nFinished Transaction\n"
        );
        let swap = PkgCommand {
            tx: Transaction::Shell {
                remove: vec!["Gpulse".into()],
                install: vec!["it's".into()],
                swap: true,
            },
            repo_options: Vec::new(),
        };
        let out = run_with_fake_yum(swap.old_yum_script(), "/srv/g");
        assert!(
            out.starts_with("yum\n--noplugins\n-d\n2\n-c\n/srv/g/etc/yum.conf\n--installroot=/srv/g\n-y\nshell\n"),
            "{out}"
        );
        assert!(
            out.contains("\nremove Gpulse\ninstall 'it'\"'\"'s'\nrun\nexit\n"),
            "{out}"
        );
    }
}
