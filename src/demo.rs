//! The demo fleet: directory trees shaped like the seed's machines, for `vmup demo`.
//!
//! One Xen host and three CentOS 4 guests, written under a directory of this machine and
//! reached with the local transport, so the demo needs neither root nor a network. The
//! files are what the seed's machines had before the runbook ran: a yum.conf without
//! `installonlypkgs`, a mingetty-only inittab, a securetty without ttyS0, a live /lib/tls
//! in the guests, their modules for two xenU kernels, and on the host both kernels with
//! their initrds and the stable links the domain configs name, still at the older one.

use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

/// The example runbook shipped with vmup, covering every file-level step of the seed.
pub const RUNBOOK: &str = include_str!("../examples/runbook.toml");

/// The inventory of the demo fleet (roots relative to the inventory file).
pub const INVENTORY: &str = include_str!("../examples/demo-inventory.toml");

/// CentOS 4's /etc/yum.conf: no `installonlypkgs`, so yum's built-in list applies.
pub const YUM_CONF: &str = include_str!("../fixtures/centos4/yum.conf");

/// CentOS 4's /etc/inittab (gettys on tty1-6 only).
pub const INITTAB: &str = include_str!("../fixtures/centos4/inittab");

/// CentOS 4's /etc/securetty (no serial console).
pub const SECURETTY: &str = include_str!("../fixtures/centos4/securetty");

/// The xm domain config a host had for a guest before the update.
pub fn domain_config(domain: &str, n: usize) -> String {
    format!(
        "# Xen domain {domain}\nkernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\nramdisk = \"/boot/initrd-2.6.9-ELxenU-xendrv.img\"\nmemory = 512\nname = \"{domain}\"\nvif = [ 'mac=00:16:3e:00:00:{n:02x}, bridge=xenbr0' ]\ndisk = [ 'phy:/dev/vg0/{lower},sda1,w' ]\nroot = \"/dev/sda1 ro\"\nextra = \"3\"\n",
        lower = domain.to_lowercase()
    )
}

/// Guests of the demo fleet: (inventory name, domain name).
pub const GUESTS: &[(&str, &str)] = &[("grid", "Grid"), ("ng2", "NG2"), ("vomrs", "VOMRS")];

/// Writes the demo fleet under `dir` and returns the inventory and runbook paths.
pub fn build(dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
    let write = |path: PathBuf, content: &str| -> io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, content)
    };
    let host = dir.join("xen1");
    for (n, (_, domain)) in GUESTS.iter().enumerate() {
        write(
            host.join(format!("etc/xen/{domain}")),
            &domain_config(domain, n + 1),
        )?;
    }
    write(
        host.join("boot/vmlinuz-2.6.9-42.0.3.EL.xs0.4.0.263xenU"),
        "xen 3.0.4.1 domU kernel\n",
    )?;
    // The host holds the guests' kernels and initrds; the domain configs name the stable
    // links, which point at 55 until the runbook moves them to 67.
    for release in ["2.6.9-55.ELxenU", "2.6.9-67.0.1.ELxenU"] {
        write(
            host.join(format!("boot/vmlinuz-{release}")),
            "xenU kernel\n",
        )?;
        write(
            host.join(format!("boot/initrd-{release}-xendrv.img")),
            "initrd with xenblk xennet\n",
        )?;
    }
    symlink(
        "vmlinuz-2.6.9-55.ELxenU",
        host.join("boot/vmlinuz-2.6.9-ELxenU"),
    )?;
    symlink(
        "initrd-2.6.9-55.ELxenU-xendrv.img",
        host.join("boot/initrd-2.6.9-ELxenU-xendrv.img"),
    )?;
    for (name, _) in GUESTS {
        let g = dir.join(name);
        write(g.join("etc/yum.conf"), YUM_CONF)?;
        write(g.join("etc/inittab"), INITTAB)?;
        write(g.join("etc/securetty"), SECURETTY)?;
        write(
            g.join("etc/yum.repos.d/CentOS-Base.repo"),
            "[base]\nname=CentOS-$releasever - Base\nmirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=os\ngpgcheck=1\n",
        )?;
        write(
            g.join("lib/tls/libc-2.3.4.so"),
            "thread-local-storage libc\n",
        )?;
        write(
            g.join("lib/tls/libpthread-0.10.so"),
            "thread-local-storage libpthread\n",
        )?;
        // The guest's own modules for both kernels (the packages put them there).
        for release in ["2.6.9-55.ELxenU", "2.6.9-67.0.1.ELxenU"] {
            write(
                g.join(format!(
                    "lib/modules/{release}/kernel/drivers/xen/blkfront/xenblk.ko"
                )),
                "module\n",
            )?;
        }
    }
    let inventory = dir.join("inventory.toml");
    let runbook = dir.join("runbook.toml");
    write(inventory.clone(), INVENTORY)?;
    write(runbook.clone(), RUNBOOK)?;
    Ok((inventory, runbook))
}
