//! Package facts: which package manager a host has, and a transaction previewed by it.
//!
//! The preview is the seed's check mode made honest: the very transaction a `packages` step
//! will run, with `--assumeno`, whose table lists every package (formats::dnftx).

use sha1::{Digest, Sha1};

use crate::formats::dnftx::{Preview, parse_preview};

use crate::remote::script::Script;
use crate::remote::transaction::PkgCommand;

use super::{CommandOutput, Fact, FactError};

/// The package managers vmup drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageTool {
    /// dnf (Fedora, RHEL 8 and later).
    Dnf,
    /// yum (CentOS 4 to 7).
    Yum,
}

impl PackageTool {
    /// The command name.
    pub fn as_str(self) -> &'static str {
        match self {
            PackageTool::Dnf => "dnf",
            PackageTool::Yum => "yum",
        }
    }
}

/// Which of dnf and yum the host has (dnf first, as the systems that have both prefer it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PackageManager;

impl Fact for PackageManager {
    type Value = Option<PackageTool>;

    fn name(&self) -> String {
        "package-manager".into()
    }

    fn script(&self, s: &mut Script) {
        s.code("if command -v dnf >/dev/null 2>&1; then echo dnf; elif command -v yum >/dev/null 2>&1; then echo yum; fi");
    }

    fn parse(&self, output: &CommandOutput) -> Result<Option<PackageTool>, FactError> {
        match String::from_utf8_lossy(&output.stdout).trim() {
            "dnf" => Ok(Some(PackageTool::Dnf)),
            "yum" => Ok(Some(PackageTool::Yum)),
            "" => Ok(None),
            other => Err(FactError::Malformed {
                fact: self.name(),
                why: format!("{other:?} is not dnf or yum"),
            }),
        }
    }
}

/// A transaction run with `--assumeno` by whichever manager the host has: what it would do.
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
        s.code("if command -v dnf >/dev/null 2>&1; then pm=dnf; elif command -v yum >/dev/null 2>&1; then pm=yum; else echo 'Error: neither dnf nor yum is installed'; exit 127; fi\n");
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
        s.code("\n)");
    }

    /// dnf and yum exit 1 when they decline with `--assumeno`, so the status alone says
    /// nothing; the table and its `Error:` lines do.
    fn parse(&self, output: &CommandOutput) -> Result<Preview, FactError> {
        Ok(parse_preview(
            &String::from_utf8_lossy(&output.stdout),
            output.status,
        ))
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
            PackageManager.parse(&out("yum", 0)),
            Ok(Some(PackageTool::Yum))
        );
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
}
