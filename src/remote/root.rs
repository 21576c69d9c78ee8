//! Paths under a local root, resolved as a chroot would: the one shell function every
//! generated script uses to turn a guest path into the path it touches.
//!
//! A local host is a directory tree (a mounted guest disk, a test tree). Prefixing its paths
//! with the root is not enough: an absolute symlink inside the tree
//! (`etc/yum.repos.d -> /etc/yum.repos.d`) would lead onto the controller, and `..` could
//! climb out. `vmup_under PATH` walks PATH's parent components below `$VMUP_ROOT`, follows
//! each symlink among them inside the root (absolute targets from the root, relative ones
//! from the link's directory, `..` stopping at the root, at most 40 links), and sets `R` to
//! the resulting path. The last component is not followed, so facts see a link as a link.
//! On a real host (`$VMUP_ROOT` empty) `R` is PATH itself and the kernel resolves it.

/// Defines `vmup_under`; needs `$VMUP_ROOT`. Sets `R`, or returns 1 on a link loop.
pub const ROOT_FN: &str = r#"vmup_under() {
  if [ -z "$VMUP_ROOT" ]; then R=$1; return 0; fi
  vu_rest=${1#/}; vu_cur=; vu_n=0
  while :; do
    case $vu_rest in */*) vu_c=${vu_rest%%/*}; vu_rest=${vu_rest#*/} ;; *) break ;; esac
    case $vu_c in ''|.) continue ;; ..) vu_cur=${vu_cur%/*}; continue ;; esac
    if [ -L "$VMUP_ROOT$vu_cur/$vu_c" ]; then
      vu_n=$((vu_n+1)); [ $vu_n -gt 40 ] && return 1
      vu_t=$(readlink -- "$VMUP_ROOT$vu_cur/$vu_c")
      case $vu_t in /*) vu_rest=${vu_t#/}/$vu_rest; vu_cur= ;; *) vu_rest=$vu_t/$vu_rest ;; esac
    else vu_cur=$vu_cur/$vu_c; fi
  done
  case $vu_rest in ''|.) R=$VMUP_ROOT$vu_cur ;; ..) R=$VMUP_ROOT${vu_cur%/*} ;; *) R=$VMUP_ROOT$vu_cur/$vu_rest ;; esac
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn under(root: &std::path::Path, path: &str) -> String {
        let script = format!(
            "VMUP_ROOT='{}'\n{ROOT_FN}vmup_under '{path}' && printf '%s' \"$R\"",
            root.display()
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn absolute_and_relative_links_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/lib")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        symlink("/etc/yum.repos.d", root.join("etc/yum.repos.d")).unwrap();
        symlink("usr/lib", root.join("lib")).unwrap();
        symlink("../../..", root.join("usr/lib/up")).unwrap();
        let r = root.display();
        // The final component is not followed; parents are, inside the root.
        assert_eq!(
            under(root, "/etc/yum.repos.d"),
            format!("{r}/etc/yum.repos.d")
        );
        assert_eq!(
            under(root, "/etc/yum.repos.d/x.repo"),
            "",
            "inside the root the link points at itself: a loop, as in a chroot, not the controller's /etc"
        );
        symlink("/srv/repos", root.join("etc/alt")).unwrap();
        assert_eq!(
            under(root, "/etc/alt/x.repo"),
            format!("{r}/srv/repos/x.repo")
        );
        assert_eq!(under(root, "/lib/tls"), format!("{r}/usr/lib/tls"));
        assert_eq!(under(root, "/lib/up/etc/passwd"), format!("{r}/etc/passwd"));
        assert_eq!(under(root, "/../../etc/passwd"), format!("{r}/etc/passwd"));
    }

    #[test]
    fn a_link_loop_is_an_error_and_no_root_means_the_path_itself() {
        let dir = tempfile::tempdir().unwrap();
        symlink("b", dir.path().join("a")).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        assert_eq!(under(dir.path(), "/a/x"), "");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(
                "VMUP_ROOT=\n{ROOT_FN}vmup_under /etc/x && printf '%s' \"$R\""
            ))
            .output()
            .unwrap();
        assert_eq!(out.stdout, b"/etc/x");
    }
}
