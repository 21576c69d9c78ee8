use super::*;
use crate::facts::initrd::InitrdContents;

fn image(modules: &[&str]) -> ImageState {
    ImageState::Present(InitrdContents {
        modules: modules.iter().map(|s| s.to_string()).collect(),
        entries: modules.len(),
        lister: "cpio".into(),
        ..InitrdContents::default()
    })
}

const INITTAB: &str = "id:3:initdefault:\nS0:2345:respawn:/sbin/agetty -L 9600 ttyS0 vt102\n";

fn booted() -> BootedKernel {
    let mut b = BootedKernel::example("2.6.9-67.0.1.ELxenU");
    b.ramdisk_path = Some("/boot/initrd-2.6.9-ELxenU-xendrv.img".into());
    b.ramdisk_resolved = Some("/boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img".into());
    b.cmdline = Some("root=/dev/sda1 ro 3 xencons=ttyS console=ttyS0".into());
    b
}

fn good() -> Observed {
    Observed {
        booted: Ok(booted()),
        guest: Ok(GuestSeen {
            modules_dir: true,
            builtin: BTreeSet::new(),
            console: ConsoleFiles {
                inittab: Some(INITTAB.into()),
                securetty: Some("console\nttyS0\n".into()),
                pam_login: None,
                systemd: false,
            },
        }),
        ramdisk: Some(Ok(image(&["xenblk", "xennet", "ext3"]))),
        drivers: default_drivers(&DomainKind::Xl),
    }
}

fn verdict(seen: &Observed) -> (Verdict, String) {
    let d = judge("g01", seen);
    (d.verdict, d.reason.unwrap_or_default())
}

#[test]
fn a_good_guest_is_ok_with_every_link_shown() {
    let d = judge("g01", &good());
    assert_eq!(d.verdict, Verdict::Ok, "{d:?}");
    let links: Vec<&str> = d.chain.iter().map(|l| l.link).collect();
    assert_eq!(
        links,
        [
            "config", "kernel", "modules", "ramdisk", "drivers", "console"
        ]
    );
    assert!(d.chain.iter().all(|l| l.ok));
    assert_eq!(d.chain[4].detail, "xenblk, xennet");
    assert!(
        d.chain[3].detail.contains(
            "-> /boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img (3 entries, listed with cpio)"
        ),
        "{}",
        d.chain[3].detail
    );
}

#[test]
fn a_ramdisk_built_for_another_release_would_not_boot() {
    let mut s = good();
    let mut c = InitrdContents {
        modules: ["xenblk".to_string(), "xennet".to_string()].into(),
        ..InitrdContents::default()
    };
    c.by_release
        .insert("2.6.9-55.ELxenU".into(), c.modules.clone());
    s.ramdisk = Some(Ok(ImageState::Present(c)));
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::WouldNotBoot);
    assert!(
        why.ends_with("holds modules for 2.6.9-55.ELxenU, not for 2.6.9-67.0.1.ELxenU"),
        "{why}"
    );
}

#[test]
fn each_broken_link_is_the_reason() {
    let mut s = good();
    if let Ok(b) = &mut s.booted {
        b.kernel_exists = false;
    }
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::WouldNotBoot);
    assert!(why.contains("kernel /boot/vmlinuz-2.6.9-ELxenU -> /boot/vmlinuz-2.6.9-67.0.1.ELxenU does not exist on xen1"), "{why}");

    let mut s = good();
    if let Ok(g) = &mut s.guest {
        g.modules_dir = false;
    }
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::WouldNotBoot);
    assert!(why.contains("no /lib/modules/2.6.9-67.0.1.ELxenU"), "{why}");

    let mut s = good();
    s.ramdisk = Some(Ok(ImageState::Absent));
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::WouldNotBoot);
    assert!(why.starts_with("ramdisk /boot/initrd-2.6.9-ELxenU-xendrv.img -> /boot/initrd-2.6.9-67.0.1.ELxenU-xendrv.img does not exist"), "{why}");

    let mut s = good();
    s.ramdisk = Some(Ok(image(&["xennet"])));
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::WouldNotBoot);
    assert_eq!(
        why,
        "the ramdisk holds no block driver (xenblk or xen_blkfront) for 2.6.9-67.0.1.ELxenU"
    );

    let mut s = good();
    if let Ok(b) = &mut s.booted {
        b.cmdline = Some("root=/dev/sda1 ro 3".into());
    }
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::NoConsole);
    assert!(why.contains("names no console="), "{why}");

    let mut s = good();
    s.booted = Err("/etc/xen/G01 on xen1: kernel= cannot be read safely: k".into());
    assert_eq!(verdict(&s).0, Verdict::WouldNotBoot);

    let mut s = good();
    s.guest = Err("connection refused".into());
    let (v, why) = verdict(&s);
    assert_eq!(
        (v, why.as_str()),
        (
            Verdict::Unknown,
            "cannot read the guest: connection refused"
        )
    );
}

#[test]
fn built_in_drivers_count_and_names_compare_with_dashes_as_underscores() {
    let mut s = good();
    s.drivers = default_drivers(&DomainKind::Libvirt {
        domain_type: "kvm".into(),
    });
    s.ramdisk = None;
    if let Ok(g) = &mut s.guest {
        g.builtin = ["virtio_blk".to_string(), "virtio-net".to_string()].into();
    }
    let d = judge("g01", &s);
    assert_eq!(d.verdict, Verdict::Ok, "{d:?}");
    assert_eq!(
        d.chain[4].detail,
        "virtio_blk (built in), virtio_net (built in)"
    );
    if let Ok(g) = &mut s.guest {
        g.builtin.clear();
    }
    let (v, why) = verdict(&s);
    assert_eq!(v, Verdict::WouldNotBoot);
    assert!(
        why.starts_with("no ramdisk, and the kernel has no built-in block driver (virtio_blk)"),
        "{why}"
    );
}
