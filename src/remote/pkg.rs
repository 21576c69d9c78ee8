//! Shell for the package tools: rpm, dnf and yum on a host or inside a local tree.
//!
//! On a real host the tools run as they are. Under a local root (`$VMUP_ROOT` non-empty)
//! rpm gets `--root` and an explicit `--dbpath /var/lib/rpm` (taken inside the root; the
//! controller's own rpm may keep its database elsewhere, Debian's under ~/.rpmdb), and
//! dnf/yum get `--installroot` and the tree's own repository directory (an absolute
//! `reposdir` is not taken under the root, so the controller's repositories never leak in;
//! the cache and, for dnf, the configuration are the tree's by default under
//! `--installroot`, and yum is given the tree's yum.conf with `-c`). Every function here is fixed code: values reach it as quoted arguments.

use super::FactKey;
use super::script::Script;

/// `vmup_rpm ARGS`: rpm for this host or tree (a relative root is taken from the current
/// directory, since rpm and dnf want absolute roots).
pub const RPM_FN: &str = r#"vmup_abs_root() { case $VMUP_ROOT in /*|'') echo "$VMUP_ROOT" ;; *) echo "$PWD/$VMUP_ROOT" ;; esac; }
vmup_rpm() { if [ -n "$VMUP_ROOT" ]; then rpm --root "$(vmup_abs_root)" --dbpath /var/lib/rpm "$@"; else rpm "$@"; fi; }
"#;

/// `vmup_pm dnf|yum ARGS`: the package manager, non-interactive options left to the caller,
/// plugins off (they make runs differ between hosts), weak dependencies off (dnf), and the
/// tree's own configuration under a local root.
pub const PM_FN: &str = r#"vmup_pm() {
  pm=$1; shift
  if [ "$pm" = dnf ]; then set -- --setopt=install_weak_deps=False "$@"; fi
  if [ -n "$VMUP_ROOT" ]; then
    case $VMUP_ROOT in /*) r=$VMUP_ROOT ;; *) r=$PWD/$VMUP_ROOT ;; esac
    set -- --installroot="$r" --setopt=reposdir="$r/etc/yum.repos.d" "$@"
    if [ "$pm" = yum ]; then set -- -c "$r/etc/yum.conf" "$@"; fi
  fi
  "$pm" --disableplugin='*' "$@"
}
"#;

/// The fact naming the package manager: `dnf`, `yum`, or empty when there is neither.
pub fn manager_fact() -> FactKey {
    FactKey::Command {
        name: MANAGER_FACT.into(),
        script: b"if command -v dnf >/dev/null 2>&1; then echo dnf; elif command -v yum >/dev/null 2>&1; then echo yum; fi".to_vec(),
    }
}

/// Name of [`manager_fact`]'s output.
pub const MANAGER_FACT: &str = "package-manager";

/// The name [`kernel_inventory_fact`] stores its output under.
pub fn kernel_inventory_name(patterns: &[String]) -> String {
    format!("kernel-inventory {}", patterns.join(" "))
}

/// The fact listing the installed packages matching `patterns` (rpm globs), the
/// /lib/modules directories and the /boot/vmlinuz-* images, as read by
/// `formats::rpmqa::KernelInventory::parse`.
pub fn kernel_inventory_fact(patterns: &[String]) -> FactKey {
    let mut s = Script::new();
    s.code(RPM_FN);
    s.code("vmup_rpm -qa --qf 'pkg %{NAME} %{EPOCH} %{VERSION} %{RELEASE} %{ARCH}\\n'");
    for p in patterns {
        s.arg(p.as_bytes());
    }
    s.code(
        "\nfor d in \"$VMUP_ROOT\"/lib/modules/*; do [ -d \"$d\" ] && echo \"mod ${d##*/}\"; done\n\
         for f in \"$VMUP_ROOT\"/boot/vmlinuz-*; do [ -f \"$f\" ] && echo \"boot ${f##*/vmlinuz-}\"; done\n:",
    );
    FactKey::Command {
        name: kernel_inventory_name(patterns),
        script: s.finish().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::rpmqa::KernelInventory;
    use crate::remote::facts::{facts_script, parse_facts};
    use crate::remote::frame::Boundary;
    use crate::transport::Transport;
    use crate::transport::local::LocalTransport;

    #[test]
    fn inventory_of_an_empty_tree_lists_directories_and_images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("lib/modules/2.6.9-55.ELxenU")).unwrap();
        std::fs::create_dir_all(dir.path().join("boot")).unwrap();
        std::fs::write(dir.path().join("boot/vmlinuz-2.6.9-55.ELxenU"), b"k").unwrap();
        let keys = vec![kernel_inventory_fact(&["kernel-xenU*".into()])];
        let b = Boundary::random();
        let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
        let (_, fact) = facts.commands.iter().next().unwrap();
        let inv = KernelInventory::parse(&String::from_utf8_lossy(&fact.stdout));
        assert!(inv.modules.contains("2.6.9-55.ELxenU"));
        assert!(inv.images.contains("2.6.9-55.ELxenU"));
        assert_eq!(fact.status, 0);
    }
}
