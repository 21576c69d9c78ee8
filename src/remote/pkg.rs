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
/// `vmup_st N` returns status N without the subshell `(exit N)` would start.
pub const PM_FN: &str = r#"vmup_st() { return "$1"; }
vmup_pm() {
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

/// `vmup_yum_old ARGS`: a yum too old for `--assumeno` (before 3.4.3), with only options
/// yum 2.4 knows. yum 2.4's `cli.py` (the 2.4.0 mark, git cb0b9a25) parses `-t -C -c -R
/// -d -e -y --version --installroot --enablerepo --disablerepo --exclude --obsoletes
/// --noplugins` and exits 1 on any other ("Command line error: no such option"):
/// `--disableplugin` came in 3.2.1 (e2bdf5c2, 2007), `--setopt` in 3.2.28 (32fa4bda,
/// 2010), `--assumeno` with 3.4.3 (e902a685, 2011-07, just after the 3.4.3 version mark;
/// CentOS 7's 3.4.3 has it). So plugins are off with `--noplugins`, and
/// `-d 2` makes sure `ts list` and `Finished Transaction` (logged at level 2) are printed
/// whatever debuglevel yum.conf sets. A local tree gets `-c` and `--installroot`; its
/// repository directory is what that yum.conf says (no `reposdir` override exists).
pub const OLD_YUM_FN: &str = r#"vmup_st() { return "$1"; }
vmup_yum_old() {
  if [ -n "$VMUP_ROOT" ]; then
    case $VMUP_ROOT in /*) r=$VMUP_ROOT ;; *) r=$PWD/$VMUP_ROOT ;; esac
    set -- -c "$r/etc/yum.conf" --installroot="$r" "$@"
  fi
  yum --noplugins -d 2 "$@"
}
"#;

/// Shell that sets `vmup_old_yum` to 1 when `$pm` is a yum without `--assumeno` (first line
/// of `yum --version` before 3.4.3, or unreadable: the subset of options every yum knows
/// is the safe guess), and `vmup_yum_version` to that line.
pub const OLD_YUM_TEST: &str = r#"vmup_old_yum=; vmup_yum_version=
if [ "$pm" = yum ]; then
  vmup_yum_version=$(yum --noplugins --version 2>/dev/null | { IFS= read -r l; printf '%s' "$l"; })
  case $vmup_yum_version in
    [0-2].*|3.[0-3].*|3.4.[0-2]|3.4.[0-2][!0-9]*) vmup_old_yum=1 ;;
    [3-9].*|[1-9][0-9]*.*) ;;
    *) vmup_old_yum=1 ;;
  esac
fi
"#;
