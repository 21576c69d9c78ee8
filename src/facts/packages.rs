//! Package facts: which package manager a host has, and a transaction previewed by it.
//!
//! The preview is the seed's check mode made honest: the very transaction a `packages` step
//! will run, with `--assumeno`, whose table lists every package (formats::dnftx). A yum
//! too old for `--assumeno` (before 3.4.3: CentOS 4's 2.4, CentOS 5's 3.2) stages the
//! same transaction in `yum shell` with `ts solve` and `ts list` instead, never `run`
//! (formats::yumshell). Where even that cannot be honest (repository files an earlier step
//! writes, which such a yum cannot be pointed at), the preview says so.

use sha1::{Digest, Sha1};

use crate::formats::dnftx::{Preview, parse_preview};
use crate::formats::yumshell::parse_shell_preview;
use crate::remote::pkg::OLD_YUM_TEST;

use crate::remote::script::Script;
use crate::remote::transaction::PkgCommand;

use super::{CommandOutput, Fact, FactError};

/// The package managers vmup drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageTool {
    /// dnf (Fedora, RHEL 8 and later).
    Dnf,
    /// yum 3.4.3 or later (CentOS 7), which previews with `--assumeno`.
    Yum,
    /// A yum before 3.4.3 (CentOS 4's 2.4, CentOS 5's 3.2): no `--assumeno`, no
    /// `--setopt`, no `--disableplugin`; previews in `yum shell`.
    OldYum,
}

impl PackageTool {
    /// The command name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageTool::Dnf => "dnf",
            PackageTool::Yum | PackageTool::OldYum => "yum",
        }
    }

    /// The tool a yum of this `--version` first line is: before 3.4.3 (when `--assumeno`
    /// arrived: yum git e902a685, 2011-07, just after the 3.4.3 mark; CentOS 7's 3.4.3 has
    /// it), or unreadable, it is the old one.
    pub fn yum_of_version(version: &str) -> PackageTool {
        let parts: Vec<Option<u32>> = version
            .trim()
            .split('.')
            .map(|p| {
                let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .collect();
        match parts.as_slice() {
            [Some(a), Some(b), Some(c), ..] if (*a, *b, *c) >= (3, 4, 3) => PackageTool::Yum,
            [Some(a), Some(b), ..] if (*a, *b) >= (3, 5) => PackageTool::Yum,
            [Some(a), ..] if *a >= 4 => PackageTool::Yum,
            _ => PackageTool::OldYum,
        }
    }
}

/// Which of dnf and yum the host has (dnf first, as the systems that have both prefer it),
/// and for yum whether it is one before 3.4.3 (the first line of `yum --version`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PackageManager;

impl Fact for PackageManager {
    type Value = Option<PackageTool>;

    fn name(&self) -> String {
        "package-manager".into()
    }

    fn script(&self, s: &mut Script) {
        s.code("if command -v dnf >/dev/null 2>&1; then echo dnf; elif command -v yum >/dev/null 2>&1; then echo yum; yum --noplugins --version 2>/dev/null | { IFS= read -r l; printf '%s\\n' \"$l\"; }; fi");
    }

    /// Built-ins and functions only, leaving with `return`.
    fn in_shell(&self) -> bool {
        true
    }

    fn parse(&self, output: &CommandOutput) -> Result<Option<PackageTool>, FactError> {
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines();
        match lines.next().map(str::trim).unwrap_or("") {
            "dnf" => Ok(Some(PackageTool::Dnf)),
            "yum" => Ok(Some(PackageTool::yum_of_version(
                lines.next().unwrap_or(""),
            ))),
            "" => Ok(None),
            other => Err(FactError::Malformed {
                fact: self.name(),
                why: format!("{other:?} is not dnf or yum"),
            }),
        }
    }
}

/// A transaction previewed by whichever manager the host has: with `--assumeno` (dnf, yum
/// 3.4.3 and later), or in `yum shell` without `run` (older yum): what it would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagesPreview {
    /// The transaction.
    pub command: PkgCommand,
    /// `.repo` files (name in /etc/yum.repos.d, content) as earlier steps of the run will
    /// have written them: the preview reads the repositories from a copy of the directory
    /// with these in it, since the manager reads only what is on disk.
    pub staged: Vec<(String, Vec<u8>)>,
}

impl Fact for PackagesPreview {
    type Value = Preview;

    fn name(&self) -> String {
        let shown = self.command.shown("$pm");
        if self.staged.is_empty() {
            return format!("packages-preview {shown}");
        }
        // The planned contents are part of the question: a different plan, another fact.
        let mut digest = Sha1::new();
        for (name, content) in &self.staged {
            digest.update(name.as_bytes());
            digest.update([0]);
            digest.update(content);
            digest.update([0]);
        }
        let hex: String = digest.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let names: Vec<&str> = self.staged.iter().map(|(n, _)| n.as_str()).collect();
        format!(
            "packages-preview {shown} with {} as planned ({hex})",
            names.join(" ")
        )
    }

    fn script(&self, s: &mut Script) {
        s.code("if command -v dnf >/dev/null 2>&1; then pm=dnf; elif command -v yum >/dev/null 2>&1; then pm=yum; else pm=; fi\n");
        s.code(
            "if [ -z \"$pm\" ]; then echo 'Error: neither dnf nor yum is installed'; false\nelse\n",
        );
        s.code(OLD_YUM_TEST);
        s.code("if [ -n \"$vmup_old_yum\" ]; then\n");
        if self.staged.is_empty() {
            s.code(&format!("echo \"{OLD_YUM_MARK} $vmup_yum_version\"\n"));
            s.append(self.command.old_yum_preview());
        } else {
            // yum before 3.2.27 has no `--setopt=reposdir`: it reads only the directory
            // its yum.conf names, where the planned files are not yet.
            s.code(&format!("echo \"{STAGED_MARK} $vmup_yum_version\"\n"));
        }
        s.code("else\n");
        self.modern_script(s);
        s.code("fi\nfi\n");
    }

    /// Without staged files: built-ins, functions and the manager itself, never `exit` (a
    /// failed `mktemp` is an `if`, see `remote::transaction`). A staged preview keeps its
    /// subshell, whose trap removes the copy of the repository directory.
    fn in_shell(&self) -> bool {
        self.staged.is_empty()
    }

    /// dnf and yum exit 1 when they decline with `--assumeno`, so the status alone says
    /// nothing; the table and its `Error:` lines do. An old yum's output starts with the
    /// script's own mark line.
    fn parse(&self, output: &CommandOutput) -> Result<Preview, FactError> {
        let text = String::from_utf8_lossy(&output.stdout);
        if let Some(rest) = text.strip_prefix(OLD_YUM_MARK) {
            let (_, shell) = rest.split_once('\n').unwrap_or((rest, ""));
            return Ok(parse_shell_preview(shell, self.command.tx.removed()));
        }
        if let Some(rest) = text.strip_prefix(STAGED_MARK) {
            let version = rest.lines().next().unwrap_or("").trim();
            let names: Vec<&str> = self.staged.iter().map(|(n, _)| n.as_str()).collect();
            return Ok(Preview::Unavailable(format!(
                "yum {version} (before 3.4.3) can only preview in `yum shell` with the repositories on disk, and {} is written by an earlier step of this run (such a yum has no `--setopt=reposdir` to read it from elsewhere)",
                names.join(", ")
            )));
        }
        Ok(parse_preview(&text, output.status))
    }
}

/// First line of an old yum's preview output: the shell preview follows.
const OLD_YUM_MARK: &str = "vmup-preview: yum-shell";
/// First and only line when an old yum cannot preview with planned repository files.
const STAGED_MARK: &str = "vmup-preview: staged-repositories";

impl PackagesPreview {
    /// The `--assumeno` preview (dnf, yum 3.4.3 and later), with the planned repository
    /// files in a private copy of the repository directory.
    fn modern_script(&self, s: &mut Script) {
        if self.staged.is_empty() {
            s.append(self.command.script(None, "--assumeno"));
            return;
        }
        // A private copy of the repository directory with the planned files in it, removed
        // when the preview ends (a subshell, so the trap is this preview's own).
        s.code(
            "(\nvmup_stage=$(mktemp -d \"${TMPDIR:-/tmp}/vmup-stage.XXXXXX\") || exit 1\n\
             trap 'rm -rf \"$vmup_stage\"' EXIT\n\
             if vmup_under /etc/yum.repos.d/.; then for f in \"$R\"/*.repo; do \
             [ -f \"$f\" ] && cp -- \"$f\" \"$vmup_stage/\"; done; fi\n",
        );
        for (name, content) in &self.staged {
            s.code("printf '%s'")
                .arg(content)
                .code(" > \"$vmup_stage\"/")
                .word(name.as_bytes())
                .newline();
        }
        s.code("VMUP_REPOSDIR=$vmup_stage\n");
        s.append(self.command.script(None, "--assumeno"));
        s.code("\n)\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::transaction::Transaction;

    fn out(text: &str, status: i32) -> CommandOutput {
        CommandOutput {
            stdout: text.as_bytes().to_vec(),
            status,
        }
    }

    #[test]
    fn manager_from_captured_output() {
        assert_eq!(
            PackageManager.parse(&out("dnf\n", 0)),
            Ok(Some(PackageTool::Dnf))
        );
        assert_eq!(
            PackageManager.parse(&out("yum\n3.4.3\n", 0)),
            Ok(Some(PackageTool::Yum))
        );
        for old in [
            "yum\n2.4.3\n",
            "yum\n3.2.22\n",
            "yum\n3.4.2\n",
            "yum\n",
            "yum",
        ] {
            assert_eq!(
                PackageManager.parse(&out(old, 0)),
                Ok(Some(PackageTool::OldYum)),
                "{old:?}"
            );
        }
        assert_eq!(PackageTool::yum_of_version("3.4.10"), PackageTool::Yum);
        assert_eq!(PackageTool::yum_of_version("4.0"), PackageTool::Yum);
        assert_eq!(PackageManager.parse(&out("", 0)), Ok(None));
        assert!(PackageManager.parse(&out("zypper", 0)).is_err());
    }

    #[test]
    fn preview_from_captured_dnf_output() {
        let fact = PackagesPreview {
            staged: Vec::new(),
            command: PkgCommand {
                tx: Transaction::Update,
                repo_options: vec!["--disablerepo=*".into(), "--enablerepo=monash*".into()],
            },
        };
        assert_eq!(
            fact.name(),
            "packages-preview $pm --disablerepo=* --enablerepo=monash* update"
        );
        let preview = fact
            .parse(&out(include_str!("../formats/testdata/dnf-pinned.txt"), 1))
            .unwrap();
        let Preview::Transaction(packages) = preview else {
            panic!("{preview:?}")
        };
        assert_eq!(packages.len(), 2);
        assert!(matches!(
            fact.parse(&out(include_str!("../formats/testdata/dnf-noop.txt"), 0)),
            Ok(Preview::Nothing)
        ));
    }

    /// An unstaged preview runs in the facts script's own shell (no subshell), so nothing
    /// in it may end that shell: on an old yum whose `mktemp` fails, and on a host with no
    /// manager, the preview fails alone and the fact after it is still read.
    #[test]
    fn a_preview_in_the_scripts_own_shell_never_ends_it() {
        use crate::facts::FactKey;
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        let shim = |name: &str, body: &str| {
            let file = bin.path().join(name);
            std::fs::write(&file, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let after = FactKey::Command {
            name: "after".into(),
            script: b"echo still here".to_vec(),
        };
        let install = PackagesPreview {
            staged: Vec::new(),
            command: PkgCommand {
                tx: Transaction::Install(vec!["python24".into()]),
                repo_options: Vec::new(),
            },
        };
        assert!(install.in_shell());
        let read = |with_yum: bool| {
            if with_yum {
                shim("yum", "[ \"$2\" = --version ] && echo 2.4.3; exit 0");
                shim("mktemp", "exit 1");
            }
            let keys = [install.key(), after.clone()];
            crate::facts::gather::run_with_path(&keys, "", bin.path().to_str())
        };
        for (with_yum, said) in [
            (false, "Error: neither dnf nor yum is installed"),
            (true, "Error: cannot create a temporary file (mktemp)"),
        ] {
            let facts = read(with_yum);
            let preview = &facts.commands[&install.name()];
            let text = String::from_utf8_lossy(&preview.stdout);
            assert!(text.contains(said), "{text}");
            assert_ne!(preview.status, 0);
            let next = &facts.commands["after"];
            assert_eq!(
                (next.stdout.as_slice(), next.status),
                (&b"still here"[..], 0)
            );
        }
    }
}
