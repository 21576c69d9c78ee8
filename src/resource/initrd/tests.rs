//! The apply script run by a real sh on a local tree, with a stand-in `dracut` on `PATH` that
//! behaves as dracut 059 does (a missing module: "Failed to find module", exit 0, none of the
//! list in the image), so the proof, the compare-and-swap and the clean-up are checked in
//! milliseconds. The real dracut builds in `tests/e2e/fleet_initrd.rs`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::*;
use crate::facts::{facts_script, parse_facts};
use crate::remote::apply::{apply_script, parse_apply};
use crate::remote::frame::Boundary;
use crate::resource::RawStep;

const RELEASE: &str = "6.1.0-57-cloud-amd64";
const IMAGE: &str = "/boot/initrd-6.1.0-57-cloud-amd64-xendrv.img";

/// Writes the image named by its last argument: a gzip cpio holding each `--add-drivers`
/// module (an alias resolved through `modules.alias`) found under `--kmoddir`, or, when one
/// is missing, none of them (and says so).
const FAKE_DRACUT: &str = r#"#!/bin/sh
for a; do out=$a; done
while [ $# -gt 0 ]; do
  case $1 in --kmoddir) m=$2; shift ;; --add-drivers) drivers=$2; shift ;; --kver) v=$2; shift ;; esac
  shift
done
s=$(mktemp -d); mkdir -p "$s/usr/lib/modules/$v/kernel" "$s/usr/bin"; : > "$s/init"
all=yes
# An alias is what modprobe (and so dracut) resolves: modules.alias, as kmod reads it.
real() { r=$(awk -v d="$1" '$1 == "alias" && $2 == d { print $3; exit }' "$m/modules.alias" 2>/dev/null); echo "${r:-$1}"; }
for d in $drivers; do f=$(find "$m" -name "$(real "$d").ko*" | head -n 1); [ -n "$f" ] || { echo "dracut-install: Failed to find module '$d'" >&2; all=; }; done
if [ -n "$all" ]; then for d in $drivers; do cp "$(find "$m" -name "$(real "$d").ko*" | head -n 1)" "$s/usr/lib/modules/$v/kernel/"; done; fi
# A listing longer than a pipe's buffer, the modules first: a proof that stopped reading
# early would leave the lister writing into a closed pipe.
mkdir -p "$s/usr/share/padding"; i=0
while [ $i -lt 1200 ]; do : > "$s/usr/share/padding/a-file-that-makes-the-listing-long-$i"; i=$((i + 1)); done
echo "dracut: *** Creating initramfs image file '$out' done ***"
(cd "$s" && find . | sort | cpio -o -H newc --quiet | gzip -c) > "$out"
rm -rf "$s"
"#;

struct Tree {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let m = root.join("lib/modules").join(RELEASE);
        std::fs::create_dir_all(m.join("kernel/drivers/block")).unwrap();
        std::fs::create_dir_all(m.join("kernel/drivers/net")).unwrap();
        std::fs::create_dir_all(root.join("boot")).unwrap();
        std::fs::write(root.join("boot/vmlinuz-6.1.0-57-cloud-amd64"), b"kernel").unwrap();
        for f in ["block/virtio_blk.ko", "net/virtio_net.ko"] {
            std::fs::write(m.join("kernel/drivers").join(f), b"\x7fELF module").unwrap();
        }
        std::fs::write(
            m.join("modules.dep"),
            "kernel/drivers/block/virtio_blk.ko:\nkernel/drivers/net/virtio_net.ko:\n",
        )
        .unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let dracut = bin.join("dracut");
        std::fs::write(&dracut, FAKE_DRACUT).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dracut, std::fs::Permissions::from_mode(0o755)).unwrap();
        Tree { dir, bin }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    fn image(&self) -> PathBuf {
        self.root().join(IMAGE.trim_start_matches('/'))
    }

    /// Runs a generated script with the stand-in dracut first on PATH.
    fn sh(&self, script: &[u8]) -> Vec<u8> {
        let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default());
        let mut child = Command::new("/bin/sh")
            .arg("-s")
            .env("PATH", path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(script).unwrap();
        child.wait_with_output().unwrap().stdout
    }

    fn plan(&self, resource: &dyn Resource) -> StepPlan {
        let keys = resource.facts(&Scope::default());
        let b = Boundary::random();
        let script = facts_script(&keys, self.root().to_str().unwrap(), &b).unwrap();
        let facts = parse_facts(&keys, &b, &self.sh(&script)).unwrap();
        resource.plan(&HostView::new(&facts)).unwrap()
    }

    /// Applies the plan's one change: its output when it succeeded, else the failure
    /// message and the output.
    fn apply(&self, plan: &StepPlan) -> Result<String, String> {
        let b = Boundary::random();
        let actions: Vec<Action> = plan.changes.iter().map(|c| c.action.clone()).collect();
        let script = apply_script(&actions, self.root().to_str().unwrap(), &b).unwrap();
        let outcome = parse_apply(&b, &self.sh(&script));
        assert!(outcome.complete, "{outcome:?}");
        let said = outcome.outputs.get(&0).cloned().unwrap_or_default();
        let said = String::from_utf8_lossy(&said).into_owned();
        match outcome.failure {
            None => Ok(said),
            Some(f) => Err(format!("{}\n{said}", f.message)),
        }
    }

    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.root().join("boot"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".vmup-"))
            .collect()
    }
}

fn resource(drivers: &str) -> Box<dyn Resource> {
    let table = format!(
        "initrd = {{ kernel = \"{RELEASE}\", path = \"{IMAGE}\", drivers = [{drivers}], tool = \"dracut\" }}"
    );
    let step: RawStep = toml::from_str(&table).unwrap();
    step.resources().unwrap().remove(0).1
}

/// A valid old image holding no module: `init` alone, gzip cpio.
fn old_image(tree: &Tree) -> Vec<u8> {
    let out = Command::new("sh")
        .arg("-c")
        .arg("d=$(mktemp -d) && : > \"$d/init\" && cd \"$d\" && find . | cpio -o -H newc --quiet | gzip -c; rm -rf \"$d\"")
        .output()
        .unwrap();
    std::fs::write(tree.image(), &out.stdout).unwrap();
    out.stdout
}

fn lists(image: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg("gzip -dc < \"$1\" | cpio -t --quiet")
        .arg("sh")
        .arg(image)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn built_proven_swapped_in_and_then_nothing_to_do() {
    let tree = Tree::new();
    let r = resource("\"virtio_blk\", \"virtio_net\"");
    let plan = tree.plan(r.as_ref());
    assert_eq!(
        plan.changes[0].summary,
        format!("build {IMAGE} with dracut (drivers: virtio_blk, virtio_net; reason: missing)")
    );
    let said = tree.apply(&plan).unwrap();
    assert!(
        said.ends_with("vmup: the new image holds every driver (via lsinitrd)\n")
            || said.ends_with("vmup: the new image holds every driver (via cpio)\n"),
        "{said}"
    );
    assert!(
        !said.contains("error") && !said.contains("Broken pipe"),
        "nothing complains of a closed pipe (SIGPIPE is ignored in apply scripts): {said}"
    );
    let listing = lists(&tree.image());
    assert!(
        listing.contains("virtio_blk.ko") && listing.contains("virtio_net.ko"),
        "{listing}"
    );
    assert!(tree.leftovers().is_empty(), "{:?}", tree.leftovers());
    let again = tree.plan(r.as_ref());
    assert!(again.changes.is_empty(), "{again:?}");
    assert_eq!(
        again.note.as_deref(),
        Some(format!("{IMAGE} holds virtio_blk, virtio_net and is not older than /boot/vmlinuz-{RELEASE}").as_str())
    );
}

#[test]
fn a_missing_module_is_caught_by_the_proof_and_the_old_image_stays() {
    let tree = Tree::new();
    let old = old_image(&tree);
    let r = resource("\"virtio_blk\", \"virtio_nett\"");
    let plan = tree.plan(r.as_ref());
    assert!(
        plan.changes[0].summary.ends_with("reason: lacks virtio_blk, virtio_nett)"),
        "{plan:?}"
    );
    let failure = tree.apply(&plan).expect_err("the proof fails the step");
    assert!(
        failure.contains("initrd built without virtio_blk, virtio_nett: dracut exited 0 but the image lacks it (dracut said: dracut-install: Failed to find module 'virtio_nett')"),
        "{failure}"
    );
    assert_eq!(std::fs::read(tree.image()).unwrap(), old);
    assert!(tree.leftovers().is_empty(), "{:?}", tree.leftovers());
}

#[test]
fn an_image_changed_since_the_facts_is_never_built_over() {
    let tree = Tree::new();
    old_image(&tree);
    let r = resource("\"virtio_blk\"");
    let plan = tree.plan(r.as_ref());
    std::fs::write(tree.image(), b"someone else's image").unwrap();
    let failure = tree.apply(&plan).expect_err("refused");
    assert!(
        failure.contains(&format!("{IMAGE} changed since facts were gathered; nothing was built")),
        "{failure}"
    );
    assert_eq!(std::fs::read(tree.image()).unwrap(), b"someone else's image");
    assert!(tree.leftovers().is_empty());
}

#[test]
fn an_image_that_appeared_meanwhile_is_left_alone() {
    let tree = Tree::new();
    let r = resource("\"virtio_blk\"");
    let plan = tree.plan(r.as_ref());
    std::fs::write(tree.image(), b"appeared").unwrap();
    let failure = tree.apply(&plan).expect_err("refused");
    assert!(failure.contains("changed since facts were gathered"), "{failure}");
    assert_eq!(std::fs::read(tree.image()).unwrap(), b"appeared");
}

#[test]
fn the_proof_pattern_matches_module_files_only() {
    let names = ["xen_blkfront".to_string()].into_iter().collect();
    let anywhere = regex::Regex::new(&proof_pattern(&names, None)).unwrap();
    let in_release = regex::Regex::new(&proof_pattern(&names, Some("6.1.0-57+x"))).unwrap();
    for (line, any, rel) in [
        ("usr/lib/modules/6.1.0-57+x/kernel/drivers/block/xen-blkfront.ko", true, true),
        ("-rw-r--r-- 1 root root 91049 Nov 26 17:12 usr/lib/modules/6.1.0-57+x/kernel/drivers/block/xen-blkfront.ko.xz", true, true),
        ("lib/modules/6.1.0-57+x/xen_blkfront.ko.zst", true, true),
        ("lib/xen_blkfront.ko.zst", true, false),
        ("usr/lib/modules/6.1.0-57-x/kernel/drivers/block/xen-blkfront.ko", true, false),
        ("usr/lib/modules/6.1.0-57+x/kernel/drivers/block/not-xen-blkfront.ko", false, false),
        ("etc/modprobe.d/xen-blkfront.conf", false, false),
        ("usr/lib/modules/6.1.0-57+x/kernel/drivers/block/xen-blkfront.ko.bak", false, false),
    ] {
        assert_eq!(anywhere.is_match(line), any, "{line}");
        assert_eq!(in_release.is_match(line), rel, "{line}");
    }
}

/// The tree as it is before a `packages` step installs the kernel: no image, no modules.
fn without_kernel(tree: &Tree) -> PathBuf {
    let stash = tree.dir.path().join("stash");
    std::fs::create_dir_all(&stash).unwrap();
    let root = tree.root();
    std::fs::rename(
        root.join("lib/modules").join(RELEASE),
        stash.join("modules"),
    )
    .unwrap();
    std::fs::rename(
        root.join(format!("boot/vmlinuz-{RELEASE}")),
        stash.join("vmlinuz"),
    )
    .unwrap();
    stash
}

/// What the earlier step's transaction does to the tree.
fn install_kernel(tree: &Tree, stash: &Path) {
    let root = tree.root();
    std::fs::rename(stash.join("modules"), root.join("lib/modules").join(RELEASE)).unwrap();
    std::fs::rename(
        stash.join("vmlinuz"),
        root.join(format!("boot/vmlinuz-{RELEASE}")),
    )
    .unwrap();
}

/// Plans with an earlier step of the run installing kernel-cloud-amd64-6.1.0-57.
fn plan_after_install(tree: &Tree, resource: &dyn Resource) -> StepPlan {
    let keys = resource.facts(&Scope::default());
    let b = Boundary::random();
    let script = facts_script(&keys, tree.root().to_str().unwrap(), &b).unwrap();
    let facts = parse_facts(&keys, &b, &tree.sh(&script)).unwrap();
    let mut view = HostView::new(&facts);
    view.record_transaction(
        "step 2 (kernel update)",
        &[crate::formats::dnftx::TxPackage {
            action: crate::formats::dnftx::TxAction::Install,
            name: "kernel-cloud-amd64".into(),
            arch: "noarch".into(),
            version: "6.1.0-57".into(),
            repo: "pinned".into(),
        }],
    );
    resource.plan(&view).unwrap()
}

#[test]
fn a_kernel_an_earlier_step_installs_gets_its_image_in_the_same_run() {
    let tree = Tree::new();
    let stash = without_kernel(&tree);
    // Without the earlier step, there is nothing to build from.
    let keys = resource("\"virtio_blk\"").facts(&Scope::default());
    let b = Boundary::random();
    let script = facts_script(&keys, tree.root().to_str().unwrap(), &b).unwrap();
    let facts = parse_facts(&keys, &b, &tree.sh(&script)).unwrap();
    let refused = resource("\"virtio_blk\"").plan(&HostView::new(&facts));
    assert!(
        matches!(&refused, Err(PlanError::Refused(why)) if why.contains("install kernel")),
        "{refused:?}"
    );
    // With it: planned after that step, the drivers looked up once it is in. `xenblk` is an
    // alias the kernel's modules.alias resolves, as on a real Xen guest kernel.
    std::fs::write(
        stash.join("modules/modules.alias"),
        "alias xenblk virtio_blk\nalias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_blk\n",
    )
    .unwrap();
    let r = resource("\"xenblk\", \"virtio_net\"");
    let plan = plan_after_install(&tree, r.as_ref());
    assert_eq!(
        plan.changes[0].summary,
        format!(
            "build {IMAGE} with dracut (drivers: xenblk, virtio_net; reason: kernel {RELEASE} is installed by step 2 (kernel update) first)"
        )
    );
    // Applied before the kernel is in (the transaction failed, say): nothing is built.
    let failure = tree.apply(&plan).expect_err("no kernel yet");
    assert!(
        failure.contains(&format!(
            "/boot/vmlinuz-{RELEASE} is not there after the earlier step installed kernel {RELEASE}; nothing was built"
        )),
        "{failure}"
    );
    assert!(!tree.image().exists());
    install_kernel(&tree, &stash);
    let said = tree.apply(&plan).unwrap();
    assert!(said.contains("vmup: the new image holds every driver"), "{said}");
    let listing = lists(&tree.image());
    assert!(
        listing.contains("virtio_blk.ko") && listing.contains("virtio_net.ko"),
        "{listing}"
    );
    assert!(tree.leftovers().is_empty(), "{:?}", tree.leftovers());
    assert!(tree.plan(r.as_ref()).changes.is_empty());
}

#[test]
fn a_driver_the_installed_kernel_lacks_fails_the_proof_after_the_install() {
    let tree = Tree::new();
    let stash = without_kernel(&tree);
    let r = resource("\"virtio_blk\", \"virtio_nett\"");
    let plan = plan_after_install(&tree, r.as_ref());
    install_kernel(&tree, &stash);
    let failure = tree.apply(&plan).expect_err("the proof fails the step");
    assert!(
        failure.contains("initrd built without virtio_blk, virtio_nett"),
        "{failure}"
    );
    assert!(!tree.image().exists());
    assert!(tree.leftovers().is_empty(), "{:?}", tree.leftovers());
}
