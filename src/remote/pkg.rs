//! Shell for the package tools: rpm, dnf and yum on a host or inside a local tree.
//!
//! On a real host the tools run as they are. Under a local root (`$VMUP_ROOT` non-empty)
//! rpm gets `--root` and an explicit `--dbpath /var/lib/rpm` (taken inside the root; the
//! controller's own rpm may keep its database elsewhere, Debian's under ~/.rpmdb), and
//! dnf/yum get `--installroot` and the tree's own repository directory (an absolute
//! `reposdir` is not taken under the root, so the controller's repositories never leak in;
//! the cache and, for dnf, the configuration are the tree's by default under
//! `--installroot`, and yum is given the tree's yum.conf with `-c`). Every function here is fixed code: values reach it as quoted arguments.

/// `vmup_rpm ARGS`: rpm for this host or tree (a relative root is taken from the current
/// directory, since rpm and dnf want absolute roots). `vmup_rpmdb` fails, saying so, when a
/// tree has no rpm database: rpm would create an empty one, and a read-only query must
/// neither write nor answer "no packages" for a tree it cannot read. Needs `vmup_under`.
pub const RPM_FN: &str = r#"vmup_abs_root() { case $VMUP_ROOT in /*|'') echo "$VMUP_ROOT" ;; *) echo "$PWD/$VMUP_ROOT" ;; esac; }
vmup_rpm() { if [ -n "$VMUP_ROOT" ]; then rpm --root "$(vmup_abs_root)" --dbpath /var/lib/rpm "$@"; else rpm "$@"; fi; }
vmup_rpmdb() {
  [ -z "$VMUP_ROOT" ] && return 0
  vmup_under /var/lib/rpm/. || return 1
  for f in "$R"/Packages "$R"/rpmdb.sqlite "$R"/Packages.db; do [ -f "$f" ] && return 0; done
  echo "vmup: no rpm database in the tree's /var/lib/rpm (none was created)"; return 1
}
"#;

/// `vmup_pm dnf|yum ARGS`: the package manager, non-interactive options left to the caller,
/// plugins off (they make runs differ between hosts), weak dependencies off (dnf), and the
/// tree's own configuration under a local root. `VMUP_REPOSDIR`, when set, is where the
/// `.repo` files are read instead (a preview of repositories earlier steps will write).
pub const PM_FN: &str = r#"vmup_pm() {
  pm=$1; shift
  if [ "$pm" = dnf ]; then set -- --setopt=install_weak_deps=False "$@"; fi
  if [ -n "$VMUP_ROOT" ]; then
    case $VMUP_ROOT in /*) r=$VMUP_ROOT ;; *) r=$PWD/$VMUP_ROOT ;; esac
    set -- --installroot="$r" --setopt=reposdir="${VMUP_REPOSDIR:-$r/etc/yum.repos.d}" "$@"
    if [ "$pm" = yum ]; then set -- -c "$r/etc/yum.conf" "$@"; fi
  elif [ -n "${VMUP_REPOSDIR:-}" ]; then set -- --setopt=reposdir="$VMUP_REPOSDIR" "$@"
  fi
  "$pm" --disableplugin='*' "$@"
}
"#;
