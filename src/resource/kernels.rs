//! `kernels`: keep the newest kernels, the one the host boots the guest with and the running
//! one; remove the other versions (with their -devel packages) in one rpm transaction.
//!
//! The seed's "keep the most recent kernel and the one booted from Host OS" followed by
//! `rpm -e kernel-xenU-2.6.9-55.EL kernel-xenU-devel-2.6.9-55.EL`. yum, dnf and
//! package-cleanup only protect `uname -r`, which is the wrong kernel for a PV guest: here the
//! booted kernel comes from the host's domain config (`Facts::booted`). The booted and the
//! running kernel are never removed, whatever `keep` says; when the booted kernel is unknown
//! or no installed package provides it, nothing is removed and the note says why.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::formats::dnftx::{TxAction, TxPackage};
use crate::formats::rpmqa::{KernelInventory, Package};
use crate::facts::{Fact, FactKey};
use crate::facts::kernels::KernelPackages;
use crate::remote::Action;
use crate::remote::pkg::RPM_FN;
use crate::remote::script::Script;

use super::spec::SpecError;
use super::{FromSpec, HostView, Need, PlanError, Planned, Resource, Scope, StepPlan};

/// The `kernels = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelsSpec {
    /// The kernel package first, then packages that follow its version (`-devel`).
    pub packages: Spanned<Vec<String>>,
    /// What to keep besides the booted and the running kernel.
    #[serde(default)]
    pub keep: KeepSpec,
}

/// `keep = { newest = 1, booted = true, running = true }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepSpec {
    /// How many of the newest versions to keep (default 1).
    #[serde(default = "one")]
    pub newest: usize,
    /// Keep the kernel the host boots the guest with. Always true in effect: the booted
    /// kernel is never removed; the setting exists so a runbook can say so.
    #[serde(default = "yes")]
    pub booted: bool,
    /// Keep the running kernel. Always true in effect, like `booted`.
    #[serde(default = "yes")]
    pub running: bool,
}

impl Default for KeepSpec {
    fn default() -> KeepSpec {
        KeepSpec {
            newest: 1,
            booted: true,
            running: true,
        }
    }
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// A validated `kernels` step.
#[derive(Debug, Clone)]
pub struct KernelsResource {
    packages: Vec<String>,
    inventory: KernelPackages,
    newest: usize,
    /// What `keep` said about the booted and the running kernel; both are kept anyway,
    /// and the note says so when `keep` asked otherwise.
    keep_booted: bool,
    keep_running: bool,
}

/// One installed kernel version and the packages that go with it.
#[derive(Debug)]
struct Installed<'a> {
    kernel: &'a Package,
    release: String,
    followers: Vec<&'a Package>,
}

impl FromSpec for KernelsResource {
    type Spec = KernelsSpec;

    /// A prune must keep the kernel the host boots the guest with.
    const NEEDS: &'static [Need] = &[Need::BootedKernel];

    /// Validates a spec: at least one package, plain package names.
    fn from_spec(spec: &KernelsSpec) -> Result<KernelsResource, SpecError> {
        let packages = spec.packages.get_ref();
        if packages.is_empty() {
            return Err(SpecError::at(
                spec.packages.span(),
                "`packages` needs the kernel package name first, e.g. [\"kernel-xenU\", \"kernel-xenU-devel\"]",
            ));
        }
        for p in packages {
            if p.is_empty()
                || !p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))
            {
                return Err(SpecError::at(
                    spec.packages.span(),
                    format!("{p:?} is not a package name"),
                ));
            }
        }
        Ok(KernelsResource {
            packages: packages.clone(),
            inventory: KernelPackages::new(packages),
            newest: spec.keep.newest,
            keep_booted: spec.keep.booted,
            keep_running: spec.keep.running,
        })
    }
}

impl Resource for KernelsResource {
    fn subject(&self) -> Option<&str> {
        self.packages.first().map(String::as_str)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![self.inventory.key()]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let mut inv = view.get(&self.inventory)?;
        // Kernels an earlier step's transaction installs (the update before the prune) are
        // counted as installed, those it removes as gone: the prune is planned for the
        // packages its `rpm -e` will meet, so one run updates, prunes and converges.
        let arriving = with_transactions(&mut inv, view.pending_packages(), &self.packages);
        if inv.no_database {
            return Err(PlanError::Refused(
                "the host has no rpm database in /var/lib/rpm: its kernel packages cannot be read".into(),
            ));
        }
        let name = &self.packages[0];
        let mut kernels: Vec<Installed<'_>> = inv
            .versions_of(name)
            .into_iter()
            .map(|kernel| Installed {
                kernel,
                release: inv.release_of(kernel),
                followers: inv
                    .packages
                    .iter()
                    .filter(|p| {
                        p.name != *name
                            && self.packages[1..].contains(&p.name)
                            && p.version == kernel.version
                            && p.release == kernel.release
                            && p.epoch == kernel.epoch
                    })
                    .collect(),
            })
            .collect();
        kernels.reverse(); // newest first
        if kernels.is_empty() {
            return Ok(StepPlan::unchanged(format!("no {name} is installed")));
        }
        let booted = match &view.facts().booted {
            Some(Ok(b)) => b,
            Some(Err(why)) => {
                return Ok(StepPlan::withheld(format!(
                    "removes nothing: the kernel this guest is booted with is unknown: {why}"
                )));
            }
            None => {
                return Ok(StepPlan::withheld(
                    "removes nothing: the kernel this guest is booted with was not read",
                ));
            }
        };
        if !kernels.iter().any(|k| k.release == booted.release) {
            return Ok(StepPlan::withheld(format!(
                "removes nothing: {} boots {}, which no installed {name} provides (see `vmup kernels`)",
                booted.host, booted.release
            )));
        }
        let running = view.facts().kernel_release.as_deref();
        let mut kept = Vec::new();
        let mut removed: Vec<&Installed<'_>> = Vec::new();
        for (i, k) in kernels.iter().enumerate() {
            let mut why = Vec::new();
            if k.release == booted.release {
                why.push(booted.via());
                if !self.keep_booted {
                    why.push("never removed, whatever `keep` says".into());
                }
            }
            if Some(k.release.as_str()) == running {
                why.push("running".to_string());
                if !self.keep_running {
                    why.push("never removed, whatever `keep` says".into());
                }
            }
            if i < self.newest {
                why.push("newest".to_string());
            }
            if why.is_empty() {
                removed.push(k);
            } else {
                // Where it comes from is said, but is no reason to keep it.
                if let Some(step) = arriving.get(&k.kernel.nevra()) {
                    why.push(format!("installed by {step}"));
                }
                kept.push(format!("kept: {} ({})", k.kernel.nevra(), why.join(", ")));
            }
        }
        let note = Some(kept.join("; "));
        if removed.is_empty() {
            return Ok(StepPlan {
                changes: Vec::new(),
                note,
                warning: None,
                promises: Vec::new(),
                transaction: Vec::new(),
            });
        }
        removed.reverse(); // oldest first, as people write them
        let to_remove: Vec<String> = removed
            .iter()
            .flat_map(|k| std::iter::once(k.kernel).chain(k.followers.iter().copied()))
            .map(Package::nevra)
            .collect();
        let booted_pkg = kernels
            .iter()
            .find(|k| k.release == booted.release)
            .map(|k| k.kernel.nevra())
            .unwrap_or_default();
        let mut detail: Vec<String> = to_remove.iter().map(|p| format!("remove {p}")).collect();
        detail.extend(kept.iter().cloned());
        Ok(StepPlan {
            changes: vec![Planned {
                summary: format!(
                    "remove {} package(s) in one rpm transaction: {}",
                    to_remove.len(),
                    to_remove.join(" ")
                ),
                action: Action::Run {
                    script: removal_script(&to_remove, &booted_pkg),
                },
                detail: Some(detail.join("\n")),
            }],
            note,
            warning: None,
            promises: Vec::new(),
                transaction: Vec::new(),
        })
    }
}

/// Applies earlier steps' transactions to the inventory, for the packages `names`: installs
/// are added (an upgrade also drops the older versions it replaces), removals dropped.
/// Returns the added packages' NEVRAs with the step that installs each.
fn with_transactions(
    inv: &mut KernelInventory,
    pending: &[(String, TxPackage)],
    names: &[String],
) -> BTreeMap<String, String> {
    let mut arriving = BTreeMap::new();
    for (step, tx) in pending {
        if !names.contains(&tx.name) {
            continue;
        }
        let (epoch, vr) = match tx.version.split_once(':') {
            Some((e, vr)) => (e.parse().ok(), vr),
            None => (None, tx.version.as_str()),
        };
        let Some((version, release)) = vr.rsplit_once('-') else {
            continue;
        };
        let package = Package {
            name: tx.name.clone(),
            epoch,
            version: version.to_string(),
            release: release.to_string(),
            arch: tx.arch.clone(),
        };
        let same = |p: &Package| p.name == package.name && p.cmp_version(&package).is_eq();
        match tx.action {
            TxAction::Remove => inv.packages.retain(|p| !same(p)),
            action => {
                if action == TxAction::Upgrade {
                    inv.packages
                        .retain(|p| p.name != package.name || p.cmp_version(&package).is_gt());
                }
                if !inv.packages.iter().any(same) {
                    arriving.insert(package.nevra(), step.clone());
                    inv.packages.push(package);
                }
            }
        }
    }
    arriving
}

/// Checks that the packages are still installed (and the booted kernel too), tests the
/// removal, then removes them in one transaction.
fn removal_script(remove: &[String], booted: &str) -> Vec<u8> {
    let mut s = Script::new();
    s.code(RPM_FN);
    s.code("vmup_rpm -q");
    for p in remove {
        s.arg(p.as_bytes());
    }
    s.arg(booted.as_bytes());
    s.code(" || { echo 'vmup: the installed kernels changed since facts were gathered; nothing removed'; exit 3; }\nvmup_rpm -e --test");
    for p in remove {
        s.arg(p.as_bytes());
    }
    s.code(" || { echo 'vmup: rpm -e --test failed; nothing removed'; exit 4; }\nvmup_rpm -e");
    for p in remove {
        s.arg(p.as_bytes());
    }
    s.newline();
    s.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;
    use crate::facts::booted::BootedKernel;

    const THREE: &str = "\
pkg kernel-xenU (none) 2.6.9 55.EL noarch
pkg kernel-xenU-devel (none) 2.6.9 55.EL noarch
pkg kernel-xenU (none) 2.6.9 67.0.1.EL noarch
pkg kernel-xenU-devel (none) 2.6.9 67.0.1.EL noarch
pkg kernel-xenU (none) 2.6.9 78.EL noarch
pkg kernel-xenU-devel (none) 2.6.9 78.EL noarch
mod 2.6.9-55.ELxenU
mod 2.6.9-67.0.1.ELxenU
mod 2.6.9-78.ELxenU
";

    fn resource(keep: &str) -> KernelsResource {
        let spec: KernelsSpec = toml::from_str(&format!(
            "packages = [\"kernel-xenU\", \"kernel-xenU-devel\"]\n{keep}"
        ))
        .unwrap();
        KernelsResource::from_spec(&spec).unwrap()
    }

    fn booted(release: &str) -> Option<Result<BootedKernel, String>> {
        Some(Ok(BootedKernel::example(release)))
    }

    fn facts(
        r: &KernelsResource,
        booted: Option<Result<BootedKernel, String>>,
        running: &str,
    ) -> Facts {
        let mut facts = Facts {
            kernel_release: Some(running.into()),
            booted,
            ..Facts::default()
        };
        facts.insert(&r.inventory, THREE.as_bytes(), 0);
        facts
    }

    fn removed(plan: &StepPlan) -> Vec<String> {
        match plan.changes.as_slice() {
            [] => Vec::new(),
            [one] => one
                .summary
                .split_once(": ")
                .unwrap()
                .1
                .split(' ')
                .map(str::to_string)
                .collect(),
            more => panic!("one transaction expected: {more:?}"),
        }
    }

    #[test]
    fn kernels_an_earlier_update_installs_are_pruned_in_the_same_run() {
        // Only 55 installed (and booted); the update before the prune installs 67.0.1 and
        // 78 beside it: keep the newest and the booted, remove what the update brings
        // between them, in the same run.
        let r = resource("keep = { newest = 1 }");
        let mut f = Facts {
            kernel_release: None,
            booted: booted("2.6.9-55.ELxenU"),
            ..Facts::default()
        };
        f.insert(
            &r.inventory,
            b"pkg kernel-xenU (none) 2.6.9 55.EL noarch\npkg kernel-xenU-devel (none) 2.6.9 55.EL noarch\nmod 2.6.9-55.ELxenU\n",
            0,
        );
        let mut view = HostView::new(&f);
        assert!(r.plan(&view).unwrap().changes.is_empty(), "alone: 55 is the newest");
        let tx = |name: &str, version: &str| TxPackage {
            action: TxAction::Install,
            name: name.into(),
            arch: "noarch".into(),
            version: version.into(),
            repo: "centos-updates".into(),
        };
        view.record_transaction(
            "step 4 (full update)",
            &[
                tx("kernel-xenU", "2.6.9-67.0.1.EL"),
                tx("kernel-xenU-devel", "2.6.9-67.0.1.EL"),
                tx("kernel-xenU", "2.6.9-78.EL"),
                tx("kernel-xenU-devel", "2.6.9-78.EL"),
                tx("unrelated", "1.0-1"),
            ],
        );
        let p = r.plan(&view).unwrap();
        assert_eq!(
            removed(&p),
            [
                "kernel-xenU-2.6.9-67.0.1.EL.noarch",
                "kernel-xenU-devel-2.6.9-67.0.1.EL.noarch"
            ]
        );
        let note = p.note.unwrap_or_default();
        assert!(
            note.contains("kept: kernel-xenU-2.6.9-78.EL.noarch (newest, installed by step 4 (full update))"),
            "{note}"
        );
    }

    fn plan(r: &KernelsResource, f: &Facts) -> StepPlan {
        r.plan(&HostView::new(f)).unwrap()
    }

    #[test]
    fn host_boots_67_keep_newest_removes_exactly_55_and_its_devel() {
        let r = resource("keep = { newest = 1 }");
        let p = plan(&r, &facts(&r, booted("2.6.9-67.0.1.ELxenU"), "6.1.0-amd64"));
        assert_eq!(
            removed(&p),
            [
                "kernel-xenU-2.6.9-55.EL.noarch",
                "kernel-xenU-devel-2.6.9-55.EL.noarch"
            ]
        );
        let note = p.note.unwrap();
        assert!(
            note.contains(
                "kept: kernel-xenU-2.6.9-67.0.1.EL.noarch (booted by xen1 via /etc/xen/NG2)"
            ),
            "{note}"
        );
        assert!(
            note.contains("kept: kernel-xenU-2.6.9-78.EL.noarch (newest)"),
            "{note}"
        );
        let detail = p.changes[0].detail.clone().unwrap();
        assert!(
            detail.contains("kept: kernel-xenU-2.6.9-67.0.1.EL.noarch"),
            "{detail}"
        );
    }

    #[test]
    fn host_boots_55_removes_67_instead() {
        let r = resource("");
        let p = plan(&r, &facts(&r, booted("2.6.9-55.ELxenU"), "6.1.0-amd64"));
        assert_eq!(
            removed(&p),
            [
                "kernel-xenU-2.6.9-67.0.1.EL.noarch",
                "kernel-xenU-devel-2.6.9-67.0.1.EL.noarch"
            ]
        );
    }

    #[test]
    fn booted_is_never_removed_even_with_newest_0_and_booted_false() {
        let r = resource("keep = { newest = 0, booted = false, running = false }");
        let p = plan(&r, &facts(&r, booted("2.6.9-67.0.1.ELxenU"), "6.1.0-amd64"));
        let gone = removed(&p);
        assert_eq!(gone.len(), 4, "{gone:?}");
        assert!(p.note.clone().unwrap().contains(
            "kept: kernel-xenU-2.6.9-67.0.1.EL.noarch (booted by xen1 via /etc/xen/NG2, never removed, whatever `keep` says)"
        ));
        assert!(gone.iter().all(|p| !p.contains("67.0.1")), "{gone:?}");
        let Action::Run { script } = &p.changes[0].action else {
            panic!()
        };
        let script = String::from_utf8_lossy(script);
        assert!(
            script.contains("vmup_rpm -q 'kernel-xenU-2.6.9-55.EL.noarch' 'kernel-xenU-devel-2.6.9-55.EL.noarch' 'kernel-xenU-2.6.9-78.EL.noarch' 'kernel-xenU-devel-2.6.9-78.EL.noarch' 'kernel-xenU-2.6.9-67.0.1.EL.noarch' ||"),
            "the apply checks the removed and the booted packages: {script}"
        );
        assert!(script.contains("vmup_rpm -e --test"), "{script}");
    }

    #[test]
    fn running_is_never_removed() {
        let r = resource("keep = { newest = 0, running = false }");
        let p = plan(
            &r,
            &facts(&r, booted("2.6.9-67.0.1.ELxenU"), "2.6.9-55.ELxenU"),
        );
        let gone = removed(&p);
        assert_eq!(
            gone,
            [
                "kernel-xenU-2.6.9-78.EL.noarch",
                "kernel-xenU-devel-2.6.9-78.EL.noarch"
            ]
        );
        assert!(p.note.unwrap().contains(
            "kept: kernel-xenU-2.6.9-55.EL.noarch (running, never removed, whatever `keep` says)"
        ));
    }

    #[test]
    fn unknown_or_uninstalled_booted_kernel_removes_nothing_and_says_why() {
        let r = resource("keep = { newest = 0 }");
        let p = plan(
            &r,
            &facts(
                &r,
                Some(Err(
                    "/etc/xen/NG2 on xen1: kernel= cannot be read safely: k + v".into(),
                )),
                "x",
            ),
        );
        assert!(p.changes.is_empty());
        assert!(p.warning.unwrap().contains("cannot be read safely"));
        let p = plan(&r, &facts(&r, booted("2.6.9-42.ELxenU"), "x"));
        assert!(p.changes.is_empty());
        assert!(
            p.warning
                .unwrap()
                .contains("xen1 boots 2.6.9-42.ELxenU, which no installed")
        );
        let p = plan(&r, &facts(&r, None, "x"));
        assert!(p.changes.is_empty());
    }

    #[test]
    fn nothing_to_prune() {
        let r = resource("keep = { newest = 3 }");
        let p = plan(&r, &facts(&r, booted("2.6.9-55.ELxenU"), "x"));
        assert!(p.changes.is_empty());
        assert!(p.note.unwrap().contains(
            "kept: kernel-xenU-2.6.9-55.EL.noarch (booted by xen1 via /etc/xen/NG2, newest)"
        ));
    }
}
