use std::path::Path;
use std::process::{Command, Stdio};

use super::*;
use crate::facts::{facts_script, parse_facts};
use crate::remote::frame::Boundary;
use crate::transport::Transport;
use crate::transport::local::LocalTransport;

fn captured(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/initrd")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn output(text: &str, status: i32) -> CommandOutput {
    CommandOutput {
        stdout: text.as_bytes().to_vec(),
        status,
    }
}

#[test]
fn module_lines_of_every_listing_form() {
    for (line, want) in [
        (
            "usr/lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/block/virtio_blk.ko",
            Some("virtio_blk"),
        ),
        (
            "-rw-r--r--   1 root     root        91049 Nov 26 17:12 usr/lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/block/xen-blkfront.ko",
            Some("xen_blkfront"),
        ),
        (
            "lib/modules/5.14.0-427.el9.x86_64/kernel/drivers/net/virtio_net.ko.xz",
            Some("virtio_net"),
        ),
        (
            "usr/lib/modules/6.8.0/kernel/drivers/block/virtio_blk.ko.zst",
            Some("virtio_blk"),
        ),
        (
            "lib/modules/4.18.0/kernel/drivers/net/virtio_net.ko.gz",
            Some("virtio_net"),
        ),
        // Red Hat's mkinitrd of CentOS 4 and 5 keeps modules in /lib.
        ("lib/xenblk.ko", Some("xenblk")),
        (
            "lrwxrwxrwx   1 root root 9 Dec  1 17:38 lib/a.ko -> b.ko",
            Some("a"),
        ),
        ("usr/lib/modules/6.1.0-57-cloud-amd64", None),
        ("usr/lib/modules/6.1.0-57-cloud-amd64/modules.dep", None),
        ("kernel-modules", None),
        ("usr/lib/dracut/hooks/.ko", None),
        ("etc/modprobe.d/virtio_blk.conf", None),
    ] {
        assert_eq!(module_of_line(line).as_deref(), want, "{line}");
    }
}

#[test]
fn captured_lsinitrd_output_of_dracut_059() {
    let fact = InitrdImage::with_kernel(
        "/boot/initrd-6.1.0-57-cloud-amd64-xendrv.img",
        "/boot/vmlinuz-6.1.0-57-cloud-amd64",
    );
    let text = format!(
        "kernel 1764000000\nimage file\nmtime 1764610000\nsum 832133179 21200838\nvia lsinitrd\n{}",
        captured("lsinitrd-dracut059.txt")
    );
    let got = fact.parse(&output(&text, 0)).unwrap();
    assert_eq!(got.kernel_mtime, Some(Some(1764000000)));
    let ImageState::Present(c) = got.image else {
        panic!("{got:?}")
    };
    assert_eq!(c.lister, "lsinitrd");
    assert_eq!(c.mtime, 1764610000);
    assert_eq!(c.checksum, "832133179 21200838");
    for m in ["virtio_blk", "virtio_net", "xen_blkfront", "xen_netfront"] {
        assert!(c.modules.contains(m), "{m}: {:?}", c.modules);
    }
    assert!(c.has_module("xen-blkfront") && !c.has_module("xenblk"));
    assert!(c.has_module_for("6.1.0-57-cloud-amd64", "virtio_blk"));
    assert!(
        !c.has_module_for("2.6.9-78.ELxenU", "virtio_blk"),
        "a kernel of another release looks in its own directory"
    );
    assert_eq!(
        c.by_release.keys().collect::<Vec<_>>(),
        ["6.1.0-57-cloud-amd64"]
    );
    // The header's "dracut modules:" list and the `Arguments:` line name no module file.
    assert_eq!(c.modules.len(), 4, "{:?}", c.modules);
}

#[test]
fn captured_cpio_listing() {
    let fact = InitrdImage::new("/boot/initrd.img");
    let text = format!(
        "image file\nmtime 5\nsum 1 2\nvia cpio\n{}2 blocks\n",
        captured("cpio-t-gzip.txt")
    );
    let got = fact.parse(&output(&text, 0)).unwrap();
    assert_eq!(got.kernel_mtime, None);
    let ImageState::Present(c) = got.image else {
        panic!("{got:?}")
    };
    assert_eq!(c.lister, "cpio");
    assert!(c.has_module("virtio_blk") && c.has_module("virtio_net"));
    // Red Hat's mkinitrd of CentOS 4 and 5: modules in /lib, for whatever kernel boots it.
    let old = fact
        .parse(&output(
            "image file\nmtime 5\nsum 1 2\nvia cpio\nlib/xenblk.ko\ninit\n",
            0,
        ))
        .unwrap();
    let ImageState::Present(old) = old.image else {
        panic!("{old:?}")
    };
    assert!(old.has_module_for("2.6.9-67.0.1.ELxenU", "xenblk"));
}

#[test]
fn absent_other_failed_and_empty() {
    let fact = InitrdImage::with_kernel("/boot/i.img", "/boot/vmlinuz-x");
    let absent = fact
        .parse(&output("kernel absent\nimage absent\n", 0))
        .unwrap();
    assert_eq!(absent.image, ImageState::Absent);
    assert_eq!(absent.kernel_mtime, Some(None));
    let other = fact.parse(&output("kernel 3\nimage other\n", 0)).unwrap();
    assert_eq!(other.image, ImageState::NotAFile);
    let failed = fact
        .parse(&output(
            "kernel 3\nimage file\nmtime 4\nsum 1 2\nvia cpio\nvmup: unknown initrd format at offset 0 (magic bytes 4c4f4c0a)\n",
            1,
        ))
        .unwrap_err();
    assert!(
        failed
            .to_string()
            .contains("unknown initrd format at offset 0"),
        "{failed}"
    );
    let empty = fact
        .parse(&output(
            "kernel 3\nimage file\nmtime 4\nsum 1 2\nvia cpio\n",
            0,
        ))
        .unwrap_err();
    assert!(empty.to_string().contains("listed nothing"), "{empty}");
    assert!(fact.parse(&output("what\n", 0)).is_err());
}

/// Writes a newc cpio archive of `files` (paths relative to a scratch dir) to `out`, through
/// `compress` (a shell command reading stdin) when given.
fn archive(dir: &Path, files: &[&str], compress: Option<&str>) -> Vec<u8> {
    let src = dir.join(format!("src-{}", files.len()));
    for f in files {
        let p = src.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"module bytes").unwrap();
    }
    let pipeline = format!(
        "cd '{}' && find . | cpio -o -H newc --quiet{}",
        src.display(),
        compress.map(|c| format!(" | {c}")).unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg(pipeline)
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::remove_dir_all(&src).unwrap();
    out.stdout
}

/// `vmup_initrd_cpio` alone, as on a host without lsinitrd and lsinitramfs.
fn cpio_fallback(image: &Path) -> (String, bool) {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{INITRD_FN}vmup_initrd_cpio \"$1\""))
        .arg("sh")
        .arg(image)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
    )
}

const MAIN: [&str; 3] = [
    "usr/lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/block/virtio_blk.ko",
    "usr/lib/modules/6.1.0-57-cloud-amd64/kernel/drivers/net/virtio_net.ko.xz",
    "init",
];

#[test]
fn the_cpio_fallback_reads_every_compression_by_its_magic() {
    let dir = tempfile::tempdir().unwrap();
    for compress in [
        None,
        Some("gzip -c"),
        Some("xz -c --check=crc32"),
        Some("xz -c --format=lzma"),
        Some("zstd -q -c"),
        Some("lz4 -q -l -c"),
        Some("lz4 -q -c"),
        Some("bzip2 -c"),
    ] {
        let image = dir.path().join("initrd.img");
        std::fs::write(&image, archive(dir.path(), &MAIN, compress)).unwrap();
        let (listing, ok) = cpio_fallback(&image);
        assert!(ok, "{compress:?}: {listing}");
        let lines: Vec<&str> = listing.lines().collect();
        let (modules, _) = parse_listing(&lines);
        assert_eq!(
            modules.into_iter().collect::<Vec<_>>(),
            ["virtio_blk", "virtio_net"],
            "{compress:?}: {listing}"
        );
    }
}

#[test]
fn the_cpio_fallback_reads_past_an_early_microcode_archive() {
    let dir = tempfile::tempdir().unwrap();
    let mut image_bytes = archive(dir.path(), &["kernel/x86/microcode/GenuineIntel.bin"], None);
    assert_eq!(image_bytes.len() % 512, 0, "cpio writes 512-byte blocks");
    // A block of zero padding, as some builders leave between archives.
    image_bytes.extend_from_slice(&[0u8; 512]);
    image_bytes.extend(archive(dir.path(), &MAIN, Some("zstd -q -c")));
    let image = dir.path().join("initrd.img");
    std::fs::write(&image, &image_bytes).unwrap();
    let (listing, ok) = cpio_fallback(&image);
    assert!(ok, "{listing}");
    assert!(
        listing.contains("kernel/x86/microcode/GenuineIntel.bin"),
        "{listing}"
    );
    assert!(
        listing.contains("virtio_blk.ko"),
        "the main archive after it: {listing}"
    );
}

/// busybox's cpio stops reading right after the early archive's trailer, not at the end of its
/// 512-byte block as GNU cpio does: the main archive is found all the same, and neither cpio
/// adds a line of its own ("N blocks").
#[test]
fn the_cpio_fallback_lists_alike_with_gnu_and_busybox_cpio() {
    let busybox = Path::new("/usr/bin/busybox");
    if !busybox.exists() {
        eprintln!("skipped: no busybox (scripts/install-deps.sh installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut image_bytes = archive(dir.path(), &["kernel/x86/microcode/GenuineIntel.bin"], None);
    image_bytes.extend(archive(dir.path(), &MAIN, Some("gzip -c")));
    let image = dir.path().join("initrd.img");
    std::fs::write(&image, &image_bytes).unwrap();
    let (gnu, ok) = cpio_fallback(&image);
    assert!(ok, "{gnu}");
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(busybox, bin.join("cpio")).unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("{INITRD_FN}vmup_initrd_cpio \"$1\""))
        .arg("sh")
        .arg(&image)
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let small = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{small}");
    assert_eq!(gnu, small);
    assert!(!gnu.contains("blocks"), "{gnu}");
    assert!(gnu.contains("virtio_blk.ko"), "{gnu}");
}

#[test]
fn the_cpio_fallback_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("initrd.img");
    std::fs::write(&image, b"LOL\nnot an initrd at all").unwrap();
    let (listing, ok) = cpio_fallback(&image);
    assert!(!ok);
    assert!(
        listing.contains("unknown initrd format at offset 0 (magic bytes 4c4f4c0a6e6f)"),
        "{listing}"
    );
}

/// The whole fact through the facts script on a local tree: the image under the root, its
/// kernel's mtime, a symlinked stable name followed, and an absent image.
#[test]
fn the_fact_on_a_local_tree() {
    let dir = tempfile::tempdir().unwrap();
    let boot = dir.path().join("boot");
    std::fs::create_dir_all(&boot).unwrap();
    std::fs::write(
        boot.join("initrd-V.img"),
        archive(dir.path(), &MAIN, Some("gzip -c")),
    )
    .unwrap();
    std::fs::write(boot.join("vmlinuz-V"), b"kernel").unwrap();
    std::os::unix::fs::symlink("initrd-V.img", boot.join("initrd-stable.img")).unwrap();
    let present = InitrdImage::with_kernel("/boot/initrd-stable.img", "/boot/vmlinuz-V");
    let absent = InitrdImage::with_kernel("/boot/initrd-W.img", "/boot/vmlinuz-W");
    let keys = vec![present.key(), absent.key()];
    let b = Boundary::random();
    let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
    let out = LocalTransport::new("t").run(&script).unwrap();
    let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
    let got = facts.get(&present).unwrap();
    assert!(
        matches!(got.kernel_mtime, Some(Some(t)) if t > 0),
        "{got:?}"
    );
    let ImageState::Present(c) = &got.image else {
        panic!("{got:?}")
    };
    assert!(
        c.has_module("virtio_blk") && c.has_module("virtio_net"),
        "{c:?}"
    );
    assert!(
        c.mtime > 0
            && c.checksum.ends_with(&format!(
                " {}",
                std::fs::metadata(boot.join("initrd-V.img")).unwrap().len()
            ))
    );
    let gone = facts.get(&absent).unwrap();
    assert_eq!(gone.image, ImageState::Absent);
    assert_eq!(gone.kernel_mtime, Some(None));
}

/// The kernel's module directory, read from a real Debian layout (modules.dep, .alias,
/// .builtin as depmod writes them): xenblk is an alias of xen-blkfront there.
#[test]
fn kernel_modules_resolve_aliases_modules_and_builtins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("lib/modules/6.1.0-57-cloud-amd64");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("modules.dep"),
        "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko\n\
         kernel/drivers/block/xen-blkfront.ko:\n\
         kernel/drivers/net/xen-netfront.ko:\n\
         kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko\n",
    )
    .unwrap();
    std::fs::write(
        d.join("modules.alias"),
        "alias xen:vbd xen_blkfront\nalias xenblk xen_blkfront\nalias block-major-202-* xen_blkfront\nalias xennet xen_netfront\nalias virtio:d00000001v* virtio_net\n",
    )
    .unwrap();
    std::fs::write(
        d.join("modules.builtin"),
        "kernel/drivers/xen/xenbus/xenbus.ko\n",
    )
    .unwrap();
    let drivers: Vec<String> = [
        "xenblk",
        "xennet",
        "virtio_blk",
        "virtio-net",
        "xenbus",
        "virtio_nett",
    ]
    .map(String::from)
    .to_vec();
    let fact = KernelModules {
        release: "6.1.0-57-cloud-amd64".into(),
        drivers,
    };
    let missing = KernelModules {
        release: "2.6.9-78.ELxenU".into(),
        drivers: vec!["xenblk".into()],
    };
    let keys = vec![fact.key(), missing.key()];
    let b = Boundary::random();
    let script = facts_script(&keys, dir.path().to_str().unwrap(), &b).unwrap();
    let out = LocalTransport::new("t").run(&script).unwrap();
    let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
    let info = facts.get(&fact).unwrap();
    assert!(info.exists && info.has_dep, "{info:?}");
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        info.resolve("xenblk"),
        Driver::Module(set(&["xen_blkfront"]))
    );
    assert_eq!(
        info.resolve("xennet"),
        Driver::Module(set(&["xen_netfront"]))
    );
    assert_eq!(
        info.resolve("virtio_blk"),
        Driver::Module(set(&["virtio_blk"]))
    );
    assert_eq!(
        info.resolve("virtio-net"),
        Driver::Module(set(&["virtio_net"]))
    );
    assert_eq!(info.resolve("xenbus"), Driver::Builtin("xenbus".into()));
    assert_eq!(info.resolve("virtio_nett"), Driver::Unknown);
    let none = facts.get(&missing).unwrap();
    assert!(!none.exists, "{none:?}");
}

#[test]
fn tools_found_on_the_path() {
    let got = InitrdTools.parse(&output("dracut\nmkinitrd\n", 0)).unwrap();
    assert_eq!(got.len(), 2);
    assert!(InitrdTools.parse(&output("", 0)).unwrap().is_empty());
}
