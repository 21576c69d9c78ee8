//! Values computed per host from its facts and from the plan so far: `[values]` in a runbook.
//!
//! ```toml
//! [values]
//! release = { newest_kernel = "kernel-xenU" }   # 2.6.9-67.0.1.ELxenU, as /boot names it
//! python = { newest = "python24" }              # 2.4.3-21.el4, as rpm says V-R
//! boots = { newest_image = "xenU" }             # the newest /boot/vmlinuz-*xenU (a dom0)
//! ```
//!
//! "Newest" counts what earlier steps of the same run will install: after a `packages`
//! step whose preview installs kernel-xenU-2.6.9-78.EL, `release` is already
//! `2.6.9-78.ELxenU` in the steps after it, so one run updates and relinks. The kernel
//! release is the one [`KernelInventory::release_of`] gives an installed package (the name
//! its modules and image carry); a package only to be installed is named the way the
//! newest installed one of the same name is (`V-R.arch` or `V-R` plus the flavour).

use std::cmp::Ordering;

use serde::Deserialize;

use crate::facts::Fact;
use crate::facts::FactKey;
use crate::facts::kernels::KernelPackages;
use crate::formats::dnftx::TxAction;
use crate::formats::rpmqa::{KernelInventory, Package};
use crate::resource::HostView;

/// A `[values]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueSpec {
    /// The newest `V-R` of this package.
    pub newest: Option<String>,
    /// The kernel release of the newest version of this kernel package.
    pub newest_kernel: Option<String>,
    /// The newest kernel image in /boot whose release ends with this (a dom0 keeps its
    /// guests' kernels in its /boot, often without their packages).
    pub newest_image: Option<String>,
}

/// A validated `[values]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueDef {
    /// `newest = "NAME"`: the newest installed or to-be-installed `V-R` of NAME.
    Newest(String),
    /// `newest_kernel = "NAME"`: the kernel release of the newest NAME.
    NewestKernel(String),
    /// `newest_image = "SUFFIX"`: the newest `/boot/vmlinuz-*SUFFIX` release.
    NewestImage(String),
}

/// A computed value and the sentence the plan shows for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Computed {
    /// The value.
    pub value: String,
    /// Where it comes from: `the newest kernel-xenU, to be installed by step 4`.
    pub why: String,
}

impl ValueDef {
    /// Validates a spec: exactly one kind, a plain package name.
    pub fn from_spec(spec: &ValueSpec) -> Result<ValueDef, String> {
        let def = match (&spec.newest, &spec.newest_kernel, &spec.newest_image) {
            (Some(n), None, None) => ValueDef::Newest(n.clone()),
            (None, Some(n), None) => ValueDef::NewestKernel(n.clone()),
            (None, None, Some(n)) => ValueDef::NewestImage(n.clone()),
            _ => {
                return Err(
                    "a value needs exactly one of `newest`, `newest_kernel` or `newest_image`"
                        .into(),
                );
            }
        };
        let name = def.package();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
        {
            return Err(format!("{name:?} is not a package name"));
        }
        Ok(def)
    }

    /// The package it is about.
    pub fn package(&self) -> &str {
        match self {
            ValueDef::Newest(n) | ValueDef::NewestKernel(n) | ValueDef::NewestImage(n) => n,
        }
    }

    fn fact(&self) -> KernelPackages {
        match self {
            // No package: the inventory's images are what is asked (rpm finds no such name).
            ValueDef::NewestImage(_) => KernelPackages::new(&["kernel-xenU".to_string()]),
            _ => KernelPackages::new(&[self.package().to_string()]),
        }
    }

    /// The facts it is computed from.
    pub fn facts(&self) -> Vec<FactKey> {
        vec![self.fact().key()]
    }

    /// The value on this host, counting what earlier steps' transactions will install;
    /// an error says why it cannot be known (nothing installed, no rpm database).
    pub fn compute(&self, view: &HostView<'_>) -> Result<Computed, String> {
        let name = self.package();
        let inventory = view.get(&self.fact()).map_err(|e| e.to_string())?;
        if let ValueDef::NewestImage(suffix) = self {
            let newest = inventory
                .images
                .iter()
                .filter(|r| r.ends_with(suffix.as_str()))
                .max_by(|a, b| crate::formats::rpmver::vercmp(a, b));
            return match newest {
                Some(release) => Ok(Computed {
                    value: release.clone(),
                    why: format!("the newest /boot/vmlinuz-*{suffix} on this machine"),
                }),
                None => Err(format!(
                    "there is no /boot/vmlinuz-*{suffix} on this machine"
                )),
            };
        }
        if inventory.no_database {
            return Err(format!("{name}: this host has no rpm database"));
        }
        let installed = inventory.versions_of(name);
        let mut newest: Option<(Package, Option<&str>)> =
            installed.last().map(|p| ((*p).clone(), None));
        for (step, tx) in view.pending_packages() {
            if tx.name != name {
                continue;
            }
            let Some(package) = tx.package() else {
                continue;
            };
            match tx.action {
                TxAction::Remove => {
                    if newest
                        .as_ref()
                        .is_some_and(|(p, _)| p.cmp_version(&package) == Ordering::Equal)
                    {
                        newest = None;
                    }
                }
                _ => {
                    if newest
                        .as_ref()
                        .is_none_or(|(p, _)| package.cmp_version(p) == Ordering::Greater)
                    {
                        newest = Some((package, Some(step.as_str())));
                    }
                }
            }
        }
        let Some((package, step)) = newest else {
            return Err(format!(
                "no {name} is installed, nor installed by an earlier step"
            ));
        };
        let value = match self {
            ValueDef::Newest(_) => format!("{}-{}", package.version, package.release),
            ValueDef::NewestKernel(_) | ValueDef::NewestImage(_) => {
                kernel_release(&inventory, &installed, &package, step)
            }
        };
        let why = match step {
            Some(step) => format!("the newest {name}, to be installed by {step}"),
            None => format!("the newest {name} installed"),
        };
        Ok(Computed { value, why })
    }
}

/// The kernel release of `package`; one only to be installed is named the way the newest
/// installed one of the same name is on disk, else as the machine's other kernels of its
/// flavour are (see [`KernelInventory::release_of`]).
fn kernel_release(
    inventory: &KernelInventory,
    installed: &[&Package],
    package: &Package,
    pending: Option<&str>,
) -> String {
    if pending.is_some()
        && let Some(shape) = installed.last().and_then(|p| inventory.shape_on_disk(p))
    {
        return shape.release(package);
    }
    inventory.release_of(package)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;
    use crate::formats::dnftx::TxPackage;

    fn facts(def: &ValueDef, inventory: &str) -> Facts {
        let mut facts = Facts::default();
        facts.insert(&def.fact(), inventory.as_bytes(), 0);
        facts
    }

    fn tx(action: TxAction, version: &str) -> TxPackage {
        TxPackage {
            action,
            name: "kernel-xenU".into(),
            arch: "i686".into(),
            version: version.into(),
            repo: "monash".into(),
        }
    }

    const CENTOS4: &str = "pkg kernel-xenU (none) 2.6.9 55.EL i686\npkg kernel-xenU (none) 2.6.9 67.0.1.EL i686\nmod 2.6.9-55.ELxenU\nmod 2.6.9-67.0.1.ELxenU\n";

    #[test]
    fn newest_installed_kernel_release_as_boot_names_it() {
        let def = ValueDef::NewestKernel("kernel-xenU".into());
        let facts = facts(&def, CENTOS4);
        let c = def.compute(&HostView::new(&facts)).unwrap();
        assert_eq!(c.value, "2.6.9-67.0.1.ELxenU");
        assert_eq!(c.why, "the newest kernel-xenU installed");
        let v = ValueDef::Newest("kernel-xenU".into())
            .compute(&HostView::new(&facts))
            .unwrap();
        assert_eq!(v.value, "2.6.9-67.0.1.EL");
    }

    #[test]
    fn an_earlier_transaction_counts() {
        let def = ValueDef::NewestKernel("kernel-xenU".into());
        let facts = facts(&def, CENTOS4);
        let mut view = HostView::new(&facts);
        view.record_transaction("step 4 (update)", &[tx(TxAction::Install, "2.6.9-78.EL")]);
        let c = def.compute(&view).unwrap();
        assert_eq!(c.value, "2.6.9-78.ELxenU");
        assert_eq!(
            c.why,
            "the newest kernel-xenU, to be installed by step 4 (update)"
        );
        // An older one installed alongside changes nothing.
        let mut view = HostView::new(&facts);
        view.record_transaction("step 4", &[tx(TxAction::Install, "2.6.9-42.EL")]);
        assert_eq!(def.compute(&view).unwrap().value, "2.6.9-67.0.1.ELxenU");
    }

    #[test]
    fn modern_kernels_keep_their_arch_shape() {
        let def = ValueDef::NewestKernel("kernel-core".into());
        let facts = facts(
            &def,
            "pkg kernel-core (none) 5.14.0 70.el9 x86_64\nmod 5.14.0-70.el9.x86_64\n",
        );
        let mut view = HostView::new(&facts);
        let mut p = tx(TxAction::Upgrade, "5.14.0-80.el9");
        p.name = "kernel-core".into();
        p.arch = "x86_64".into();
        view.record_transaction("step 2", &[p]);
        assert_eq!(def.compute(&view).unwrap().value, "5.14.0-80.el9.x86_64");
    }

    #[test]
    fn a_debian_kernel_to_be_installed_is_named_as_debian_names_it() {
        let def = ValueDef::NewestKernel("kernel-cloud-amd64".into());
        let mut p = tx(TxAction::Install, "6.1.0-57");
        p.name = "kernel-cloud-amd64".into();
        p.arch = "noarch".into();
        // Installed as a package, and only unpacked (the test fleet's VM).
        for inventory in [
            "pkg kernel-cloud-amd64 (none) 6.1.0 50 noarch\nmod 6.1.0-50-cloud-amd64\n",
            "mod 6.1.0-50-cloud-amd64\nboot 6.1.0-50-cloud-amd64\n",
        ] {
            let facts = facts(&def, inventory);
            let mut view = HostView::new(&facts);
            view.record_transaction("step 2", std::slice::from_ref(&p));
            assert_eq!(
                def.compute(&view).unwrap().value,
                "6.1.0-57-cloud-amd64",
                "{inventory}"
            );
        }
    }

    #[test]
    fn nothing_installed_is_an_error_not_an_empty_value() {
        let def = ValueDef::NewestKernel("kernel-xenU".into());
        let facts = facts(&def, "");
        let e = def.compute(&HostView::new(&facts)).unwrap_err();
        assert!(e.contains("no kernel-xenU is installed"), "{e}");
        let facts = facts_nodb(&def);
        let e = def.compute(&HostView::new(&facts)).unwrap_err();
        assert!(e.contains("no rpm database"), "{e}");
    }

    fn facts_nodb(def: &ValueDef) -> Facts {
        facts(def, "nodb\n")
    }

    #[test]
    fn newest_image_reads_boot_in_rpm_order() {
        let def = ValueDef::NewestImage("xenU".into());
        let facts = facts(
            &def,
            "nodb\nboot 2.6.9-67.0.1.ELxenU\nboot 2.6.9-9.ELxenU\nboot 2.6.9-78.ELsmp\nboot *\n",
        );
        let c = def.compute(&HostView::new(&facts)).unwrap();
        assert_eq!(c.value, "2.6.9-67.0.1.ELxenU");
        let facts = facts_nodb(&def);
        assert!(def.compute(&HostView::new(&facts)).is_err());
    }

    #[test]
    fn specs_are_checked() {
        let spec = |newest: Option<&str>, kernel: Option<&str>| ValueSpec {
            newest: newest.map(str::to_string),
            newest_kernel: kernel.map(str::to_string),
            newest_image: None,
        };
        assert!(ValueDef::from_spec(&spec(None, None)).is_err());
        assert!(ValueDef::from_spec(&spec(Some("a"), Some("b"))).is_err());
        assert!(ValueDef::from_spec(&spec(Some("a b"), None)).is_err());
        assert_eq!(
            ValueDef::from_spec(&spec(Some("python24"), None)),
            Ok(ValueDef::Newest("python24".into()))
        );
    }
}
