//! One dnf/yum transaction as shell: the command people would type, and the script that
//! runs it (non-interactive, or as a preview with `--assumeno`).
//!
//! A swap is one transaction: dnf's `swap`, or for yum (and for install + remove together)
//! a `shell` transaction file with remove, install and run, so no state has neither
//! package. Every package name and repository option reaches the shell through
//! [`Script::arg`], so through the one quoting function.

use super::pkg::PM_FN;
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
                    "remove {}\ninstall {}\nrun\n",
                    remove.join(" "),
                    install.join(" ")
                );
                let swap_args: Vec<String> =
                    [vec!["swap".to_string()], remove.clone(), install.clone()].concat();
                let shell = |s: &mut Script| {
                    s.code("t=$(mktemp \"${TMPDIR:-/tmp}/vmup-tx.XXXXXX\") || exit 1\n{");
                    s.printf_bytes(file.as_bytes());
                    s.code("; } > \"$t\"\n");
                    args(s, &["shell".into()]);
                    s.code(" \"$t\" 2>&1; st=$?; rm -f \"$t\"; (exit $st)");
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
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(String::from_utf8(script).unwrap())
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    dir.path().display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
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
}
