//! Reads the kernel inventory a guest reports: installed packages (`rpm -qa --qf`), the
//! `/lib/modules/*` and `/boot/vmlinuz-*` names present, and maps each kernel package to
//! the kernel release (`uname -r` string) it provides.
//!
//! The record format is vmup's own, written by `remote::pkg::kernel_inventory_script`:
//!
//! ```text
//! pkg NAME EPOCH VERSION RELEASE ARCH     one per installed package (EPOCH may be "(none)")
//! mod RELEASE                             one per directory /lib/modules/RELEASE
//! boot RELEASE                            one per file /boot/vmlinuz-RELEASE
//! ```
//!
//! Anything else (rpm's own warnings) is ignored.
//!
//! Which release a package provides: RHEL-style kernels name it `V-R` plus the flavour
//! (`kernel-xenU-2.6.9-55.EL` -> `2.6.9-55.ELxenU`), Fedora-style ones `V-R.ARCH`
//! (`kernel-core-6.5.6-300.fc39.x86_64`), plain ones `V-R`, Debian-style ones `V-R-FLAVOUR`
//! (`kernel-cloud-amd64-6.1.0-57` -> `6.1.0-57-cloud-amd64`, the test fleet's repackaged
//! Debian kernels). The candidate found in /lib/modules (or as /boot/vmlinuz-*) wins; when
//! none is present (a package not installed yet), the shape the machine's other kernels of
//! that flavour have on disk, else `V-R<flavour>`.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::rpmver::Evr;

/// One installed package as rpm reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Package name, e.g. `kernel-xenU`.
    pub name: String,
    /// Epoch; None when the package has none.
    pub epoch: Option<u64>,
    /// Version, e.g. `2.6.9`.
    pub version: String,
    /// Release, e.g. `55.EL`.
    pub release: String,
    /// Architecture, e.g. `i686` or `noarch`.
    pub arch: String,
}

impl Package {
    /// The version for ordering, as rpm compares it.
    pub fn evr(&self) -> Evr {
        Evr {
            epoch: self.epoch.unwrap_or(0),
            version: self.version.clone(),
            release: self.release.clone(),
        }
    }

    /// `NAME-[EPOCH:]VERSION-RELEASE.ARCH`: the exact package, as rpm -e and -q accept it
    /// (without the epoch, which rpm -e does not take; name-version-release.arch is unique).
    pub fn nevra(&self) -> String {
        format!(
            "{}-{}-{}.{}",
            self.name, self.version, self.release, self.arch
        )
    }

    /// Compares two packages by version (epoch, version, release), as rpm does.
    pub fn cmp_version(&self, other: &Package) -> Ordering {
        self.evr().cmp(&other.evr())
    }
}

/// What a guest has: packages, module trees and kernel images.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelInventory {
    /// Installed packages of the names asked for, in rpm's order.
    pub packages: Vec<Package>,
    /// Names of the directories under /lib/modules.
    pub modules: BTreeSet<String>,
    /// Releases of the /boot/vmlinuz-* files.
    pub images: BTreeSet<String>,
    /// False when the machine has no rpm database to read (a `nodb` record): `packages` is
    /// then unknown, not empty.
    pub no_database: bool,
}

impl KernelInventory {
    /// Parses the records; unknown or malformed lines are skipped (they are rpm's
    /// messages, such as a warning about the database).
    pub fn parse(text: &str) -> KernelInventory {
        let mut inv = KernelInventory::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["pkg", name, epoch, version, release, arch] => inv.packages.push(Package {
                    name: name.to_string(),
                    epoch: epoch.parse().ok(),
                    version: version.to_string(),
                    release: release.to_string(),
                    arch: arch.to_string(),
                }),
                ["mod", release] if *release != "*" => {
                    inv.modules.insert(release.to_string());
                }
                ["boot", release] if *release != "*" => {
                    inv.images.insert(release.to_string());
                }
                ["nodb"] => inv.no_database = true,
                _ => {}
            }
        }
        inv
    }

    /// The kernel release `package` provides (see the module documentation for the rule).
    pub fn release_of(&self, package: &Package) -> String {
        let shape = self
            .shape_on_disk(package)
            .or_else(|| self.shape_of_flavour(package))
            .unwrap_or(ReleaseShape::Flavoured);
        shape.release(package)
    }

    /// The shape under which `package`'s own release is on disk (modules first, then
    /// images), if it is.
    pub fn shape_on_disk(&self, package: &Package) -> Option<ReleaseShape> {
        let found = |set: &BTreeSet<String>| {
            ReleaseShape::ALL
                .into_iter()
                .find(|s| set.contains(&s.release(package)))
        };
        found(&self.modules).or_else(|| found(&self.images))
    }

    /// The shape other kernels of `package`'s flavour have on disk: how a release not
    /// installed yet will be named. Only the shapes that carry the flavour can say so.
    fn shape_of_flavour(&self, package: &Package) -> Option<ReleaseShape> {
        let flavour = flavour_of(package);
        if flavour.is_empty() {
            return None;
        }
        let names = || self.modules.iter().chain(self.images.iter());
        if names().any(|r| r.ends_with(&format!("-{flavour}"))) {
            Some(ReleaseShape::Debian)
        } else if names().any(|r| r.ends_with(flavour)) {
            Some(ReleaseShape::Flavoured)
        } else {
            None
        }
    }

    /// Installed packages named `name`, oldest first (rpm version order).
    pub fn versions_of(&self, name: &str) -> Vec<&Package> {
        let mut found: Vec<&Package> = self.packages.iter().filter(|p| p.name == name).collect();
        found.sort_by(|a, b| a.cmp_version(b));
        found
    }
}

/// The flavour a kernel package's name carries: `kernel-xenU` and `kernel-xenU-devel` ->
/// `xenU`; `kernel` -> empty.
fn flavour_of(package: &Package) -> &str {
    let flavour = package.name.strip_prefix("kernel-").unwrap_or("");
    flavour.strip_suffix("-devel").unwrap_or(flavour)
}

/// How a distribution spells the release a kernel package provides: the same package can
/// only be found on disk, and a new one only be named, once the shape is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseShape {
    /// `V-R<flavour>`: RHEL 4 and 5 (`2.6.9-55.ELxenU`).
    Flavoured,
    /// `V-R`: a plain `kernel` package of those releases.
    Plain,
    /// `V-R.ARCH`: Fedora and RHEL 6 and later (`6.5.6-300.fc39.x86_64`).
    Arch,
    /// `V-R-<flavour>`: Debian's (`6.1.0-57-cloud-amd64`).
    Debian,
}

impl ReleaseShape {
    /// Every shape, in the order a release on disk is matched.
    pub const ALL: [ReleaseShape; 4] = [
        ReleaseShape::Flavoured,
        ReleaseShape::Plain,
        ReleaseShape::Arch,
        ReleaseShape::Debian,
    ];

    /// The release `package` provides in this shape.
    pub fn release(self, package: &Package) -> String {
        let vr = format!("{}-{}", package.version, package.release);
        match self {
            ReleaseShape::Flavoured => format!("{vr}{}", flavour_of(package)),
            ReleaseShape::Plain => vr,
            ReleaseShape::Arch => format!("{vr}.{}", package.arch),
            ReleaseShape::Debian => format!("{vr}-{}", flavour_of(package)),
        }
    }
}

/// The release in a kernel image's file name: `vmlinuz-2.6.9-67.0.1.ELxenU` ->
/// `2.6.9-67.0.1.ELxenU`; also `vmlinux-`, `bzImage-` and `kernel-` prefixes. None when the
/// name carries no release.
pub fn release_from_image_name(file_name: &str) -> Option<String> {
    ["vmlinuz-", "vmlinux-", "bzImage-", "kernel-"]
        .iter()
        .find_map(|prefix| file_name.strip_prefix(prefix))
        .filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
pkg kernel-xenU (none) 2.6.9 67.0.1.EL noarch
pkg kernel-xenU (none) 2.6.9 55.EL noarch
pkg kernel-xenU-devel (none) 2.6.9 55.EL noarch
pkg kernel-xenU 1 2.6.9 5.EL i686
warning: something from rpm
mod 2.6.9-55.ELxenU
mod 2.6.9-67.0.1.ELxenU
mod *
boot 2.6.9-55.ELxenU
boot *
";

    #[test]
    fn reads_packages_modules_and_images() {
        let inv = KernelInventory::parse(SAMPLE);
        assert_eq!(inv.packages.len(), 4);
        assert_eq!(inv.packages[0].epoch, None);
        assert_eq!(inv.packages[3].epoch, Some(1));
        assert_eq!(
            inv.modules.len(),
            2,
            "the unmatched glob is not a directory"
        );
        assert_eq!(inv.images.len(), 1);
        assert_eq!(
            inv.packages[0].nevra(),
            "kernel-xenU-2.6.9-67.0.1.EL.noarch"
        );
    }

    #[test]
    fn versions_sort_in_rpm_order_with_epoch_first() {
        let inv = KernelInventory::parse(SAMPLE);
        let releases: Vec<&str> = inv
            .versions_of("kernel-xenU")
            .iter()
            .map(|p| p.release.as_str())
            .collect();
        assert_eq!(releases, ["55.EL", "67.0.1.EL", "5.EL"]);
    }

    #[test]
    fn release_prefers_what_is_on_disk() {
        let mut inv = KernelInventory::parse(SAMPLE);
        let xenu = inv.packages[1].clone();
        assert_eq!(inv.release_of(&xenu), "2.6.9-55.ELxenU");
        let devel = inv.packages[2].clone();
        assert_eq!(inv.release_of(&devel), "2.6.9-55.ELxenU", "devel follows");
        let fedora = Package {
            name: "kernel-core".into(),
            epoch: None,
            version: "6.5.6".into(),
            release: "300.fc39".into(),
            arch: "x86_64".into(),
        };
        assert_eq!(inv.release_of(&fedora), "6.5.6-300.fc39core", "default");
        inv.modules.insert("6.5.6-300.fc39.x86_64".into());
        assert_eq!(inv.release_of(&fedora), "6.5.6-300.fc39.x86_64");
        let plain = Package {
            name: "kernel".into(),
            ..fedora.clone()
        };
        inv.images.insert("6.5.6-300.fc39".into());
        inv.modules.clear();
        assert_eq!(inv.release_of(&plain), "6.5.6-300.fc39");
    }

    #[test]
    fn debian_kernels_put_a_dash_before_the_flavour() {
        let mut inv = KernelInventory::default();
        let new = Package {
            name: "kernel-cloud-amd64".into(),
            epoch: None,
            version: "6.1.0".into(),
            release: "57".into(),
            arch: "noarch".into(),
        };
        assert_eq!(
            inv.release_of(&new),
            "6.1.0-57cloud-amd64",
            "nothing on disk says otherwise"
        );
        inv.modules.insert("6.1.0-50-cloud-amd64".into());
        assert_eq!(
            inv.release_of(&new),
            "6.1.0-57-cloud-amd64",
            "named as the machine's other kernels of its flavour are"
        );
        inv.modules.insert("6.1.0-57-cloud-amd64".into());
        assert_eq!(inv.shape_on_disk(&new), Some(ReleaseShape::Debian));
        let xenu = Package {
            name: "kernel-xenU".into(),
            ..new.clone()
        };
        assert_eq!(inv.shape_on_disk(&xenu), None);
        assert_eq!(inv.release_of(&xenu), "6.1.0-57xenU");
    }

    #[test]
    fn image_names() {
        assert_eq!(
            release_from_image_name("vmlinuz-2.6.9-67.0.1.ELxenU").as_deref(),
            Some("2.6.9-67.0.1.ELxenU")
        );
        assert_eq!(
            release_from_image_name("vmlinuz-2.6.9-ELxenU").as_deref(),
            Some("2.6.9-ELxenU")
        );
        assert_eq!(release_from_image_name("vmlinuz"), None);
        assert_eq!(release_from_image_name("vmlinuz-xen"), None);
    }
}
