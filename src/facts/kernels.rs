//! The kernel inventory of a guest: installed kernel packages (rpm), the /lib/modules
//! directories and the /boot/vmlinuz-* images, in one snippet.
//!
//! Read by the `kernels` step (what to prune) and `vmup kernels` (will the next boot find
//! its modules), both through formats::rpmqa::KernelInventory.

use crate::formats::rpmqa::KernelInventory;
use crate::remote::pkg::RPM_FN;
use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// The installed packages matching `patterns` (rpm globs), the module trees and images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelPackages {
    /// rpm globs, the kernel package first (`kernel-xenU`, `kernel-xenU-devel`; `kernel*`).
    pub patterns: Vec<String>,
}

impl KernelPackages {
    /// The inventory of the packages matching `patterns`.
    pub fn new(patterns: &[String]) -> KernelPackages {
        KernelPackages {
            patterns: patterns.to_vec(),
        }
    }
}

impl Fact for KernelPackages {
    type Value = KernelInventory;

    fn name(&self) -> String {
        format!("kernel-inventory {}", self.patterns.join(" "))
    }

    fn script(&self, s: &mut Script) {
        s.code(RPM_FN);
        s.code(
            "if vmup_rpmdb >/dev/null; then
vmup_rpm -qa --qf 'pkg %{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH}\\n' --",
        );
        for p in &self.patterns {
            s.arg(p.as_bytes());
        }
        s.code(
            " || { st=$?; echo \"vmup: rpm -qa failed with exit status $st\"; return $st; }\n\
             else echo nodb; fi\n\
             if vmup_under /lib/modules/.; then for d in \"$R\"/*; do [ -d \"$d\" ] && echo \"mod ${d##*/}\"; done; fi\n\
             if vmup_under /boot/.; then for f in \"$R\"/vmlinuz-*; do [ -f \"$f\" ] && echo \"boot ${f##*/vmlinuz-}\"; done; fi\n:",
        );
    }

    /// Built-ins and functions only, leaving with `return`.
    fn in_shell(&self) -> bool {
        true
    }

    /// A failed rpm query is an error, never an empty inventory ("no kernels" would let a
    /// prune or a boot check go wrong); a tree without an rpm database says so (`nodb`),
    /// and nothing is created in it.
    fn parse(&self, output: &CommandOutput) -> Result<KernelInventory, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        Ok(KernelInventory::parse(&String::from_utf8_lossy(
            &output.stdout,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{facts_script, parse_facts};
    use crate::remote::frame::Boundary;
    use crate::transport::Transport;
    use crate::transport::local::LocalTransport;

    #[test]
    fn captured_records_parse() {
        let fact = KernelPackages::new(&["kernel-xenU".into(), "kernel-xenU-devel".into()]);
        assert_eq!(
            fact.name(),
            "kernel-inventory kernel-xenU kernel-xenU-devel"
        );
        let inv = fact
            .parse(&CommandOutput {
                stdout: b"pkg kernel-xenU (none) 2.6.9 55.EL noarch\nwarning: rpmdb\nmod 2.6.9-55.ELxenU\nboot 2.6.9-55.ELxenU\n".to_vec(),
                status: 0,
            })
            .unwrap();
        assert_eq!(inv.packages.len(), 1);
        assert!(inv.modules.contains("2.6.9-55.ELxenU"));
    }

    #[test]
    fn a_tree_without_an_rpm_database_says_so_and_gets_none() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("var/lib/rpm")).unwrap();
        let fact = KernelPackages::new(&["kernel*".into()]);
        let keys = vec![fact.key()];
        let b = Boundary::random();
        let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
        let inv = facts.get(&fact).unwrap();
        assert!(inv.no_database && inv.packages.is_empty(), "{inv:?}");
        assert_eq!(
            std::fs::read_dir(dir.path().join("var/lib/rpm"))
                .unwrap()
                .count(),
            0,
            "read-only: no database was created"
        );
    }

    #[test]
    fn inventory_of_an_empty_tree_lists_directories_and_images() {
        let dir = tempfile::tempdir().unwrap();
        let db = std::process::Command::new("rpm")
            .args([
                "--root",
                dir.path().to_str().unwrap(),
                "--dbpath",
                "/var/lib/rpm",
                "--initdb",
            ])
            .status()
            .unwrap();
        assert!(db.success());
        std::fs::create_dir_all(dir.path().join("lib/modules/2.6.9-55.ELxenU")).unwrap();
        std::fs::create_dir_all(dir.path().join("boot")).unwrap();
        std::fs::write(dir.path().join("boot/vmlinuz-2.6.9-55.ELxenU"), b"k").unwrap();
        let fact = KernelPackages::new(&["kernel-xenU*".into()]);
        let keys = vec![fact.key()];
        let b = Boundary::random();
        let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
        let inv = facts.get(&fact).unwrap();
        assert!(inv.modules.contains("2.6.9-55.ELxenU"));
        assert!(inv.images.contains("2.6.9-55.ELxenU"));
        assert_eq!(facts.commands[&fact.name()].status, 0);
    }
}
