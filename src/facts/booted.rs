//! The kernel a host boots a guest with: its type, and the host-side symlink walk fact.
//!
//! The seed's hosts name stable links in their domain configs
//! (`kernel = "/boot/vmlinuz-2.6.9-ELxenU"` -> `vmlinuz-2.6.9-67.0.1.ELxenU`), so the
//! release the guest will boot is only known after following the links *on the host*. The
//! walk is a `readlink` loop in sh (no `readlink -f`, which CentOS 4's coreutils lacks for
//! dangling links), relative targets taken against the link's directory, at most
//! [`MAX_HOPS`] links, every path under `$VMUP_ROOT` for local trees.

use crate::facts::initrd::ImageState;
use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// Links followed before the walk gives up (a loop, or a chain no one meant).
pub const MAX_HOPS: usize = 20;

/// What the host's domain config says the guest boots, and the release that is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BootedKernel {
    /// Inventory name of the host that boots the guest.
    pub host: String,
    /// Path of the domain config on that host.
    pub config_path: String,
    /// `kernel=` as written in the config.
    pub kernel_path: String,
    /// The file it leads to after following links.
    pub resolved_path: String,
    /// The kernel release, from the resolved file's name (`vmlinuz-RELEASE`).
    pub release: String,
    /// False when the resolved file does not exist on the host (the guest cannot boot).
    pub kernel_exists: bool,
    /// `ramdisk=` as written, if any.
    pub ramdisk_path: Option<String>,
    /// The file the ramdisk setting leads to, if any.
    pub ramdisk_resolved: Option<String>,
    /// The kernel command line the toolstack passes (xl: `cmdline=`, else `root=` and
    /// `extra=`; libvirt: `<cmdline>`), if the config gives one.
    pub cmdline: Option<String>,
    /// Why the command line cannot be read (an xm expression), when it cannot.
    pub cmdline_error: Option<String>,
    /// Which toolstack's config names the kernel.
    pub kind: DomainKind,
    /// The guest's first disk as the config names it on the host (`disk=`, libvirt's
    /// first `<disk>`), for a boot test.
    pub disk: Option<String>,
    /// What the ramdisk holds, listed on the host (`vmup doctor` asks for it; None when
    /// not asked or when no ramdisk is named), or why it could not be listed.
    #[serde(skip)]
    pub ramdisk_listing: Option<Result<ImageState, String>>,
}

/// The toolstack whose config file boots the guest.
///
/// Exists because the drivers a guest needs follow from it (a Xen PV guest needs xenblk /
/// xen-blkfront, a KVM guest virtio_blk) and because each writes its config differently.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainKind {
    /// An xl config (Xen 4.1 and later).
    Xl,
    /// An xm / xend Python config (Xen 3).
    Xm,
    /// A libvirt domain XML, with its `type` (`kvm`, `qemu`, `xen`).
    Libvirt {
        /// The `<domain type=...>` attribute.
        domain_type: String,
    },
}

impl BootedKernel {
    /// The seed's xen1 booting NG2 with `release` through the stable link: the one test
    /// fixture of a booted kernel.
    #[cfg(test)]
    pub fn example(release: &str) -> BootedKernel {
        BootedKernel {
            host: "xen1".into(),
            config_path: "/etc/xen/NG2".into(),
            kernel_path: "/boot/vmlinuz-2.6.9-ELxenU".into(),
            resolved_path: format!("/boot/vmlinuz-{release}"),
            release: release.into(),
            kernel_exists: true,
            ramdisk_path: None,
            ramdisk_resolved: None,
            cmdline: Some("root=/dev/sda1 ro 3".into()),
            cmdline_error: None,
            kind: DomainKind::Xl,
            disk: None,
            ramdisk_listing: None,
        }
    }

    /// `booted by xen1 via /etc/xen/NG2`, for notes.
    pub fn via(&self) -> String {
        format!("booted by {} via {}", self.host, self.config_path)
    }
}

/// Where a symlink walk on the host ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A regular file at this path.
    File(String),
    /// Something that is not a regular file.
    Other(String),
    /// Nothing exists at the final path (a dangling link or a missing file).
    Missing(String),
    /// More than [`MAX_HOPS`] links.
    Loop(String),
}

/// Follows `path`'s links on the host (a `readlink` loop in sh) and says where they end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWalk {
    /// The path as a config names it (absolute, on the host).
    pub path: String,
}

impl LinkWalk {
    /// The walk starting at `path`.
    pub fn new(path: &str) -> LinkWalk {
        LinkWalk {
            path: path.to_string(),
        }
    }
}

impl Fact for LinkWalk {
    type Value = Resolved;

    fn name(&self) -> String {
        format!("resolve {}", self.path)
    }

    fn script(&self, s: &mut Script) {
        s.code("p=").word(self.path.as_bytes()).newline();
        s.code(&format!(
            "n=0\nwhile vmup_under \"$p\" && [ -L \"$R\" ]; do\n  n=$((n+1)); if [ $n -gt {MAX_HOPS} ]; then echo \"loop $p\"; exit 0; fi\n  t=$(readlink -- \"$R\")\n  case $t in /*) p=$t ;; *) p=${{p%/*}}/$t ;; esac\ndone\n\
             vmup_under \"$p\" || {{ echo \"loop $p\"; exit 0; }}\n\
             if [ -f \"$R\" ]; then echo \"file $p\"; elif [ -e \"$R\" ]; then echo \"other $p\"; else echo \"missing $p\"; fi"
        ));
    }

    fn parse(&self, output: &CommandOutput) -> Result<Resolved, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        parse_resolved(&output.stdout).ok_or_else(|| FactError::Malformed {
            fact: self.name(),
            why: format!("{:?}", String::from_utf8_lossy(&output.stdout)),
        })
    }
}

/// Reads one line of the walk's output; None when it is not one of its lines.
fn parse_resolved(output: &[u8]) -> Option<Resolved> {
    let text = String::from_utf8_lossy(output);
    let (kind, path) = text.trim_end_matches('\n').split_once(' ')?;
    let path = normalize(path);
    Some(match kind {
        "file" => Resolved::File(path),
        "other" => Resolved::Other(path),
        "missing" => Resolved::Missing(path),
        "loop" => Resolved::Loop(path),
        _ => return None,
    })
}

/// Removes `.`, `..` and doubled slashes lexically: `/boot/../boot//x` -> `/boot/x`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{facts_script, parse_facts};
    use crate::remote::frame::Boundary;
    use crate::transport::Transport;
    use crate::transport::local::LocalTransport;
    use std::os::unix::fs::symlink;

    fn walk(root: &std::path::Path, path: &str) -> Resolved {
        let fact = LinkWalk::new(path);
        let keys = vec![fact.key()];
        let b = Boundary::random();
        let script = facts_script(&keys, root.to_str().unwrap(), &b).unwrap();
        let out = LocalTransport::new("t").run(&script).unwrap();
        let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
        facts.get(&fact).unwrap()
    }

    #[test]
    fn captured_output_parses_and_normalises() {
        let fact = LinkWalk::new("/boot/vmlinuz");
        let out = |s: &str, status| CommandOutput {
            stdout: s.as_bytes().to_vec(),
            status,
        };
        assert_eq!(
            fact.parse(&out("file /boot/../boot//vmlinuz-6.1", 0)),
            Ok(Resolved::File("/boot/vmlinuz-6.1".into()))
        );
        assert!(matches!(
            fact.parse(&out("what", 0)),
            Err(FactError::Malformed { .. })
        ));
        assert!(matches!(
            fact.parse(&out("", 2)),
            Err(FactError::Failed { status: 2, .. })
        ));
    }

    #[test]
    fn follows_relative_and_absolute_links_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let boot = dir.path().join("boot");
        std::fs::create_dir_all(boot.join("old")).unwrap();
        std::fs::write(boot.join("vmlinuz-2.6.9-67.0.1.ELxenU"), b"k").unwrap();
        symlink(
            "vmlinuz-2.6.9-67.0.1.ELxenU",
            boot.join("vmlinuz-2.6.9-ELxenU"),
        )
        .unwrap();
        symlink("/boot/vmlinuz-2.6.9-ELxenU", boot.join("vmlinuz")).unwrap();
        symlink("../vmlinuz", boot.join("old/vmlinuz")).unwrap();
        assert_eq!(
            walk(dir.path(), "/boot/old/vmlinuz"),
            Resolved::File("/boot/vmlinuz-2.6.9-67.0.1.ELxenU".into())
        );
    }

    #[test]
    fn dangling_links_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let boot = dir.path().join("boot");
        std::fs::create_dir_all(&boot).unwrap();
        symlink("vmlinuz-gone", boot.join("vmlinuz")).unwrap();
        symlink("b", boot.join("a")).unwrap();
        symlink("a", boot.join("b")).unwrap();
        assert_eq!(
            walk(dir.path(), "/boot/vmlinuz"),
            Resolved::Missing("/boot/vmlinuz-gone".into())
        );
        assert!(matches!(walk(dir.path(), "/boot/a"), Resolved::Loop(_)));
    }
}
