//! Which kernel each guest's host boots it with: a pre-phase, run before guests plan.
//!
//! A PV guest boots the kernel its *host* names in the domain config, so for every guest
//! whose steps need it ([`Need::BootedKernel`](crate::resource::Need)), the
//! engine reads the config on the parent host through that host's transport (two round
//! trips per host for all its guests: the configs, then the symlink walks), parses it
//! (`formats::domain` tells xl, xm and, for `.xml`, libvirt apart), and derives the release
//! from the file `kernel=` leads to. A value that cannot be read safely is an error for that
//! guest, never a guess.

use std::collections::BTreeMap;

use crate::facts::booted::{BootedKernel, DomainKind, LinkWalk, MAX_HOPS, Resolved};
use crate::facts::initrd::{ImageState, InitrdImage};
use crate::facts::{Fact, FactKey, PathFact, merge_keys};
use crate::formats::domain::{DomainFile, parse_domain_file};
use crate::formats::domconfig::{Dialect, Unreadable};
use crate::formats::rpmqa::release_from_image_name;
use crate::inventory::Host;
use crate::transport::Transport;

use super::gather::gather_facts;

/// The booted kernel of each guest, by guest name, or why it is unknown.
pub type BootedMap = BTreeMap<String, Result<BootedKernel, String>>;

/// What the config says, before the links are followed.
struct Named {
    config: String,
    kernel: String,
    ramdisk: Option<String>,
    /// The command line the toolstack passes, or why it cannot be read.
    cmdline: Result<Option<String>, String>,
    /// Which toolstack's file it is.
    kind: DomainKind,
    /// The guest's first disk on the host, when the config names one it can read.
    disk: Option<String>,
}

/// Finds the booted kernel of every guest in `guests`. `parents` gives the parent hosts (by
/// inventory name) and their transports; a guest whose parent is missing there gets an
/// error. Parents are read in parallel. With `ramdisks`, each ramdisk is also listed on its
/// host, in the same round trip as the link walks.
pub fn booted_kernels(
    guests: &[&Host],
    parents: &BTreeMap<String, (&Host, &dyn Transport)>,
    ramdisks: bool,
) -> BootedMap {
    let mut by_parent: BTreeMap<String, Vec<&Host>> = BTreeMap::new();
    let mut out = BootedMap::new();
    for guest in guests {
        match (&guest.parent, &guest.domain_config) {
            (Some(parent), Some(_)) => by_parent.entry(parent.clone()).or_default().push(guest),
            _ => {
                out.insert(
                    guest.name.clone(),
                    Err(format!(
                        "{} has no `host` and `domain_config` in the inventory, so the kernel its host boots is unknown",
                        guest.name
                    )),
                );
            }
        }
    }
    let results: Vec<BootedMap> = std::thread::scope(|scope| {
        let handles: Vec<_> = by_parent
            .iter()
            .map(|(parent, guests)| {
                let found = parents.get(parent);
                scope.spawn(move || match found {
                    Some((host, transport)) => read_on_parent(host, *transport, guests, ramdisks),
                    None => guests
                        .iter()
                        .map(|g| {
                            (
                                g.name.clone(),
                                Err(format!("no connection to {parent}, the host of {}", g.name)),
                            )
                        })
                        .collect(),
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for map in results {
        out.extend(map);
    }
    out
}

/// Reads the configs of `guests` on `host`, then resolves their kernels there.
fn read_on_parent(
    host: &Host,
    transport: &dyn Transport,
    guests: &[&Host],
    ramdisks: bool,
) -> BootedMap {
    let configs: Vec<String> = guests
        .iter()
        .filter_map(|g| g.domain_config.clone())
        .collect();
    let keys = merge_keys(configs.iter().map(|c| FactKey::Path {
        path: c.clone(),
        content: true,
    }));
    let facts = match gather_facts(host, transport, &keys) {
        Ok(f) => f,
        Err(e) => {
            return fail_all(
                guests,
                &format!("cannot read domain configs on {}: {e}", host.name),
            );
        }
    };
    let mut named: BTreeMap<String, Result<Named, String>> = BTreeMap::new();
    for guest in guests {
        let config = guest.domain_config.clone().unwrap_or_default();
        let result = match facts.paths.get(&config) {
            Some(PathFact::File {
                content: Some(bytes),
                ..
            }) => kernel_named(&config, &String::from_utf8_lossy(bytes))
                .map_err(|e| format!("{config} on {}: {e}", host.name)),
            Some(other) => Err(format!(
                "{config} on {} is {}, not a domain config file",
                host.name,
                crate::resource::describe(other)
            )),
            None => Err(format!("{config} on {} was not read", host.name)),
        };
        named.insert(guest.name.clone(), result);
    }
    let mut walks = Vec::new();
    for n in named.values().flatten() {
        walks.push(LinkWalk::new(&n.kernel).key());
        if let Some(r) = &n.ramdisk {
            walks.push(LinkWalk::new(r).key());
            if ramdisks {
                walks.push(InitrdImage::new(r).key());
            }
        }
    }
    let walked = if walks.is_empty() {
        Default::default()
    } else {
        match gather_facts(host, transport, &merge_keys(walks)) {
            Ok(f) => f,
            Err(e) => {
                return fail_all(
                    guests,
                    &format!("cannot follow kernel links on {}: {e}", host.name),
                );
            }
        }
    };
    let resolved = |path: &str| -> Option<Resolved> { walked.get(&LinkWalk::new(path)).ok() };
    let listed = |path: &str| -> Result<ImageState, String> {
        walked
            .get(&InitrdImage::new(path))
            .map(|f| f.image)
            .map_err(|e| format!("{path} on {}: {e}", host.name))
    };
    named
        .into_iter()
        .map(|(guest, n)| {
            let result = n.and_then(|n| {
                let (final_path, exists) = match resolved(&n.kernel) {
                    Some(Resolved::File(p)) => (p, true),
                    Some(Resolved::Missing(p)) => (p, false),
                    Some(Resolved::Other(p)) => {
                        return Err(format!("kernel {} on {} leads to {p}, which is not a regular file", n.kernel, host.name))
                    }
                    Some(Resolved::Loop(p)) => {
                        return Err(format!("kernel {} on {} is a chain of more than {} links (at {p})", n.kernel, host.name, MAX_HOPS))
                    }
                    None => return Err(format!("could not follow kernel {} on {}", n.kernel, host.name)),
                };
                let file_name = final_path.rsplit('/').next().unwrap_or_default();
                let release = release_from_image_name(file_name).ok_or_else(|| {
                    format!(
                        "cannot tell the kernel release from the file name {final_path} (kernel {} on {})",
                        n.kernel, host.name
                    )
                })?;
                let ramdisk_resolved = n.ramdisk.as_deref().and_then(resolved).map(|r| match r {
                    Resolved::File(p) | Resolved::Other(p) | Resolved::Missing(p) | Resolved::Loop(p) => p,
                });
                Ok(BootedKernel {
                    host: host.name.clone(),
                    config_path: n.config,
                    kernel_path: n.kernel,
                    resolved_path: final_path,
                    release,
                    kernel_exists: exists,
                    ramdisk_listing: match &n.ramdisk {
                        Some(r) if ramdisks => Some(listed(r)),
                        _ => None,
                    },
                    ramdisk_path: n.ramdisk,
                    ramdisk_resolved,
                    cmdline: n.cmdline.clone().ok().flatten(),
                    cmdline_error: n.cmdline.err(),
                    kind: n.kind,
                    disk: n.disk,
                })
            });
            (guest, result)
        })
        .collect()
}

fn fail_all(guests: &[&Host], message: &str) -> BootedMap {
    guests
        .iter()
        .map(|g| (g.name.clone(), Err(message.to_string())))
        .collect()
}

/// The kernel and ramdisk paths a config names, in the format `formats::domain` finds
/// for it. Pure.
fn kernel_named(config: &str, text: &str) -> Result<Named, String> {
    let (kernel, ramdisk, cmdline, kind, disk) =
        match parse_domain_file(config, text).map_err(|e| e.to_string())? {
            DomainFile::Libvirt(dom) => {
                let kind = DomainKind::Libvirt {
                    domain_type: dom.domain_type.clone().unwrap_or_default(),
                };
                let disk = dom.disk.clone();
                (dom.kernel, dom.initrd, Ok(dom.cmdline), kind, disk)
            }
            DomainFile::Xen(parsed) => {
                let read = |v: Option<Result<&str, Unreadable>>,
                            what: &str|
                 -> Result<Option<String>, String> {
                    match v {
                        None => Ok(None),
                        Some(Ok(s)) => Ok(Some(s.to_string())),
                        Some(Err(e)) => Err(format!("{what}= {e}")),
                    }
                };
                let kind = match parsed.dialect() {
                    Dialect::Xl => DomainKind::Xl,
                    Dialect::Xm => DomainKind::Xm,
                };
                let cmdline = parsed
                    .cmdline()
                    .transpose()
                    .map_err(|e| format!("the command line: {e}"));
                (
                    read(parsed.kernel(), "kernel")?,
                    read(parsed.ramdisk(), "ramdisk")?,
                    cmdline,
                    kind,
                    parsed.first_disk().and_then(Result::ok),
                )
            }
        };
    let kernel = kernel.ok_or_else(|| {
        "names no kernel (the guest boots a kernel of its own, e.g. with pygrub)".to_string()
    })?;
    if !kernel.starts_with('/') {
        return Err(format!("kernel {kernel:?} is not an absolute path"));
    }
    Ok(Named {
        config: config.to_string(),
        kernel,
        ramdisk: ramdisk.filter(|r| r.starts_with('/')),
        cmdline,
        kind,
        disk,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Role, TransportKind};
    use crate::transport::local::LocalTransport;
    use std::os::unix::fs::symlink;

    fn host(
        name: &str,
        root: &std::path::Path,
        parent: Option<&str>,
        config: Option<&str>,
    ) -> Host {
        Host {
            name: name.into(),
            address: None,
            user: None,
            port: None,
            transport: TransportKind::Local,
            ssh_algorithms: Default::default(),
            become_root: false,
            become_method: Default::default(),
            root: Some(root.to_path_buf()),
            latency: Default::default(),
            role: if parent.is_some() {
                Some(Role::Guest)
            } else {
                Some(Role::Host)
            },
            parent: parent.map(str::to_string),
            domain: None,
            domain_config: config.map(str::to_string),
            groups: Vec::new(),
            cpus: None,
            vars: Default::default(),
        }
    }

    #[test]
    fn reads_configs_on_the_parent_and_follows_its_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("xen1");
        std::fs::create_dir_all(root.join("etc/xen")).unwrap();
        std::fs::create_dir_all(root.join("boot")).unwrap();
        std::fs::write(root.join("boot/vmlinuz-2.6.9-67.0.1.ELxenU"), b"k").unwrap();
        symlink(
            "vmlinuz-2.6.9-67.0.1.ELxenU",
            root.join("boot/vmlinuz-2.6.9-ELxenU"),
        )
        .unwrap();
        std::fs::write(
            root.join("boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img"),
            b"i",
        )
        .unwrap();
        symlink(
            "initrd-2.6.9-67.0.1.ELxenU-xendrv.img",
            root.join("boot/initrd-xendrv.img"),
        )
        .unwrap();
        std::fs::write(
            root.join("etc/xen/NG2"),
            "kernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\nramdisk = \"/boot/initrd-xendrv.img\"\n",
        )
        .unwrap();
        std::fs::write(
            root.join("etc/xen/kvm1.xml"),
            "<domain type='kvm'><name>kvm1</name><os><kernel>/boot/vmlinuz-6.1.0-13-amd64</kernel></os></domain>",
        )
        .unwrap();
        let xen1 = host("xen1", &root, None, None);
        let ng2 = host("ng2", dir.path(), Some("xen1"), Some("/etc/xen/NG2"));
        let kvm1 = host("kvm1", dir.path(), Some("xen1"), Some("/etc/xen/kvm1.xml"));
        let lost = host("lost", dir.path(), Some("xen9"), Some("/etc/xen/LOST"));
        let transport = LocalTransport::new("xen1");
        let mut parents: BTreeMap<String, (&Host, &dyn Transport)> = BTreeMap::new();
        parents.insert("xen1".into(), (&xen1, &transport));
        let found = booted_kernels(&[&ng2, &kvm1, &lost], &parents, false);
        let b = found["ng2"].clone().unwrap();
        assert_eq!(b.release, "2.6.9-67.0.1.ELxenU");
        assert_eq!(b.resolved_path, "/boot/vmlinuz-2.6.9-67.0.1.ELxenU");
        assert!(b.kernel_exists);
        assert_eq!(
            b.ramdisk_resolved.as_deref(),
            Some("/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img")
        );
        assert_eq!(b.via(), "booted by xen1 via /etc/xen/NG2");
        let k = found["kvm1"].clone().unwrap();
        assert_eq!(k.release, "6.1.0-13-amd64");
        assert!(!k.kernel_exists, "the image is missing on the host");
        assert!(
            found["lost"]
                .clone()
                .unwrap_err()
                .contains("no connection to xen9")
        );
    }

    #[test]
    fn xl_xm_and_libvirt_kernels() {
        let n = kernel_named("/etc/xen/NG2", "name = \"NG2\"\nkernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\nramdisk = \"/boot/initrd-2.6.9-ELxenU-xendrv.img\"\n").unwrap();
        assert_eq!(n.kernel, "/boot/vmlinuz-2.6.9-ELxenU");
        assert_eq!(
            n.ramdisk.as_deref(),
            Some("/boot/initrd-2.6.9-ELxenU-xendrv.img")
        );
        let n = kernel_named("/etc/xen/g.xml", "<domain type='kvm'><name>g</name><os><type>hvm</type><kernel>/boot/vmlinuz-6.1</kernel></os></domain>").unwrap();
        assert_eq!(n.kernel, "/boot/vmlinuz-6.1");
        let python = "import os\nif os.path.exists('/boot/x'):\n    kernel = '/boot/x'\nelse:\n    kernel = '/boot/y'\n";
        let e = kernel_named("/etc/xen/NG", python).err().unwrap();
        assert!(e.contains("cannot be read safely"), "{e}");
        let computed = "ver = '2.6.9'\nkernel = '/boot/vmlinuz-' + ver + 'xenU'\n";
        let e = kernel_named("/etc/xen/NG", computed).err().unwrap();
        assert!(e.contains("kernel= cannot be read safely"), "{e}");
        let e = kernel_named("/etc/xen/NG", "bootloader = \"/usr/bin/pygrub\"\n")
            .err()
            .unwrap();
        assert!(e.contains("names no kernel"), "{e}");
    }
}
