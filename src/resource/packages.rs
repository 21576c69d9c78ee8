//! `packages`: one dnf/yum transaction (install, remove, update with only some repositories
//! enabled, or a swap), previewed honestly and applied for real.
//!
//! The seed's `yum --disablerepo="*" --enablerepo="monash*" update`, then `yum update`, and
//! `yum remove Gpulse; yum install APAC-gateway-gridpulse` (or the same in `yum shell`).
//! Check mode runs the very transaction with `--assumeno` in the facts script and lists
//! every package the table shows (action, version, repository): a plan never just says
//! "would run yum update". A transaction the package manager refuses fails the host at plan
//! time with its message, so nothing is applied there. A swap is one transaction (dnf
//! `swap`; yum: a `yum shell` file with remove, install, run), so no state has neither
//! package.

use serde::Deserialize;

use crate::facts::packages::{PackageManager, PackagesPreview};
use crate::facts::{Fact, FactKey, PathFact};
use crate::formats::dnftx::{Preview, TxAction, TxPackage};
use crate::formats::ini::IniFile;
use crate::remote::Action;
use crate::remote::transaction::{PkgCommand, Transaction};

use super::spec::SpecError;
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan, file_fact};

/// The `packages = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagesSpec {
    /// Packages that must be installed.
    #[serde(default)]
    pub install: Vec<String>,
    /// Packages that must not be installed.
    #[serde(default)]
    pub remove: Vec<String>,
    /// Update every installed package (from the enabled repositories).
    #[serde(default)]
    pub update: bool,
    /// Repository globs enabled for this transaction (after `disable_repos`).
    #[serde(default)]
    pub enable_repos: Vec<String>,
    /// Repository globs disabled for this transaction.
    #[serde(default)]
    pub disable_repos: Vec<String>,
    /// Replace one package by another in one transaction.
    pub swap: Option<SwapSpec>,
}

/// `swap = { remove = "Gpulse", install = "APAC-gateway-gridpulse" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwapSpec {
    /// The package to remove.
    pub remove: String,
    /// The package that replaces it.
    pub install: String,
}

/// A validated `packages` step.
#[derive(Debug, Clone)]
pub struct PackagesResource {
    command: PkgCommand,
    preview: PackagesPreview,
}

/// Where yum and dnf read `.repo` files.
const REPOS_DIR: &str = "/etc/yum.repos.d";

/// The configuration files the package managers read, whose `installonlypkgs` decides
/// whether an upgrade replaces a package or installs beside it.
const CONFIGS: [(&str, &str); 2] = [("dnf", "/etc/dnf/dnf.conf"), ("yum", "/etc/yum.conf")];

impl FromSpec for PackagesResource {
    type Spec = PackagesSpec;

    /// Validates a spec: exactly one kind of transaction, plain names and globs.
    fn from_spec(spec: &PackagesSpec) -> Result<PackagesResource, SpecError> {
        let bad = SpecError::step;
        let names = spec
            .install
            .iter()
            .chain(&spec.remove)
            .chain(spec.swap.iter().flat_map(|s| [&s.remove, &s.install]));
        for name in names {
            if name.is_empty()
                || name.starts_with('-')
                || name.chars().any(|c| c.is_whitespace() || c == '\0')
            {
                return Err(bad(format!("{name:?} is not a package name or spec")));
            }
        }
        for repo in spec.enable_repos.iter().chain(&spec.disable_repos) {
            if repo.is_empty() || repo.contains([',', ' ', '\0', '\n']) {
                return Err(bad(format!("{repo:?} is not a repository id or glob")));
            }
        }
        let kinds = usize::from(spec.update)
            + usize::from(spec.swap.is_some())
            + usize::from(!spec.install.is_empty() || !spec.remove.is_empty());
        if kinds != 1 {
            return Err(bad(
                "a `packages` step is one transaction: give `update = true`, `swap`, or `install`/`remove`"
                    .into(),
            ));
        }
        let tx = if spec.update {
            Transaction::Update
        } else if let Some(swap) = &spec.swap {
            Transaction::Shell {
                remove: vec![swap.remove.clone()],
                install: vec![swap.install.clone()],
                swap: true,
            }
        } else if spec.remove.is_empty() {
            Transaction::Install(spec.install.clone())
        } else if spec.install.is_empty() {
            Transaction::Remove(spec.remove.clone())
        } else {
            Transaction::Shell {
                remove: spec.remove.clone(),
                install: spec.install.clone(),
                swap: false,
            }
        };
        let mut repo_options: Vec<String> = spec
            .disable_repos
            .iter()
            .map(|r| format!("--disablerepo={r}"))
            .collect();
        repo_options.extend(
            spec.enable_repos
                .iter()
                .map(|r| format!("--enablerepo={r}")),
        );
        let command = PkgCommand { tx, repo_options };
        Ok(PackagesResource {
            preview: PackagesPreview {
                command: command.clone(),
                staged: Vec::new(),
            },
            command,
        })
    }
}

impl Resource for PackagesResource {
    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        let mut keys = vec![PackageManager.key(), self.preview.key()];
        keys.extend(CONFIGS.iter().map(|(_, path)| file_fact(path)));
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let Some(tool) = view.get(&PackageManager)? else {
            return Err(PlanError::Refused(
                "neither dnf nor yum is installed on this host".into(),
            ));
        };
        let pm = tool.as_str();
        let shown = self.command.shown(pm);
        // Repositories earlier steps of the run write (the seed's Monash mirrors before the
        // pinned update) are previewed as they will be, in one more facts round trip.
        let staged: Vec<(String, Vec<u8>)> = view
            .planned_files_in(REPOS_DIR)
            .into_iter()
            .filter(|(name, _)| name.ends_with(".repo"))
            .collect();
        let preview = if staged.is_empty() {
            self.preview.clone()
        } else {
            let preview = PackagesPreview {
                command: self.command.clone(),
                staged,
            };
            if !view.facts().has(&preview.key()) {
                return Err(PlanError::NeedFacts(vec![preview.key()]));
            }
            preview
        };
        let mut packages = match view.get(&preview)? {
            Preview::Nothing => Vec::new(),
            Preview::Error(message) => {
                return Err(PlanError::Refused(format!(
                    "{shown} refuses the transaction: {message}"
                )));
            }
            Preview::Transaction(p) => p,
        };
        let mut remarks = Vec::new();
        // The preview was made before the run: a package an earlier step's transaction
        // removes (the seed's python24, gone after the update) is installed again by this
        // one, though the preview found it installed.
        let reinstalled = self.removed_earlier(view, &packages);
        for (step, removed) in &reinstalled {
            remarks.push(format!(
                "(the preview found {} installed, but {step} removes it: installed again)",
                removed.name
            ));
        }
        packages.extend(reinstalled.into_iter().map(|(_, p)| p));
        if packages.is_empty() {
            return Ok(StepPlan::unchanged(format!("{shown}: nothing to do")));
        }
        let config = CONFIGS
            .iter()
            .find(|(m, _)| *m == pm)
            .map(|(_, p)| *p)
            .unwrap_or_default();
        if let Some(remark) = self.config_effect(view, config, &mut packages)? {
            remarks.push(remark);
        }
        let mut detail: Vec<String> = packages.iter().map(TxPackage::describe).collect();
        detail.extend(remarks);
        Ok(StepPlan {
            changes: vec![Planned {
                summary: format!("{shown}: {} package(s) in one transaction", packages.len()),
                action: Action::Run {
                    script: self
                        .command
                        .script(Some(pm == "dnf"), "-y")
                        .finish()
                        .map_err(|e| PlanError::Internal(e.to_string()))?,
                },
                detail: Some(detail.join("\n")),
            }],
            note: None,
            warning: None,
            promises: Vec::new(),
            transaction: packages,
        })
    }
}

impl PackagesResource {
    /// The packages this step installs by name that an earlier step's transaction removes
    /// and this step's preview does not install, as the installs they become.
    fn removed_earlier(
        &self,
        view: &HostView<'_>,
        previewed: &[TxPackage],
    ) -> Vec<(String, TxPackage)> {
        let Transaction::Install(names) = &self.command.tx else {
            return Vec::new();
        };
        let mut found: Vec<(String, TxPackage)> = Vec::new();
        for (step, p) in view.pending_packages() {
            let wanted = names.contains(&p.name);
            let previewed = previewed.iter().any(|q| q.name == p.name);
            let listed = found.iter().any(|(_, q)| q.name == p.name);
            if p.action == TxAction::Remove && wanted && !previewed && !listed {
                let mut install = p.clone();
                install.action = TxAction::Install;
                install.repo = "the enabled repositories".into();
                found.push((step.clone(), install));
            }
        }
        found
    }

    /// When an earlier step of the run edits the manager's configuration, the preview (made
    /// with the configuration as it is now) may differ from what will run: upgrades of
    /// packages that become install-only will install beside the old version instead.
    /// Adjusts those entries and returns a remark.
    fn config_effect(
        &self,
        view: &HostView<'_>,
        config: &str,
        packages: &mut [TxPackage],
    ) -> Result<Option<String>, PlanError> {
        let content = |fact: Option<&PathFact>| match fact {
            Some(PathFact::File {
                content: Some(c), ..
            }) => Some(c.clone()),
            _ => None,
        };
        let now = content(view.facts().paths.get(config));
        let then = content(Some(view.path(config)?));
        if now == then {
            return Ok(None);
        }
        let words = |bytes: &Option<Vec<u8>>| -> Vec<String> {
            bytes
                .as_deref()
                .and_then(|b| IniFile::parse(b).get(b"main", b"installonlypkgs"))
                .map(|v| {
                    String::from_utf8_lossy(&v)
                        .split(|c: char| c.is_whitespace() || c == ',')
                        .filter(|w| !w.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (before, after) = (words(&now), words(&then));
        let mut changed = Vec::new();
        for p in packages.iter_mut() {
            if p.action == TxAction::Upgrade && after.contains(&p.name) && !before.contains(&p.name)
            {
                p.action = TxAction::Install;
                changed.push(p.name.clone());
            }
        }
        Ok(Some(if changed.is_empty() {
            format!("(previewed with {config} as it is now; an earlier step changes it)")
        } else {
            format!(
                "(an earlier step adds {} to installonlypkgs in {config}: installed beside the current version, not upgraded)",
                changed.join(", ")
            )
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;
    use crate::remote::Expect;

    fn resource(spec: &str) -> PackagesResource {
        PackagesResource::from_spec(&toml::from_str(spec).unwrap()).unwrap()
    }

    fn facts(r: &PackagesResource, pm: &str, preview: &str, status: i32) -> Facts {
        let mut facts = Facts::default();
        facts.insert(&PackageManager, pm.as_bytes(), 0);
        facts.insert(&r.preview, preview.as_bytes(), status);
        for (_, path) in CONFIGS {
            facts.paths.insert(
                path.into(),
                PathFact::root_file(
                    b"[main]
gpgcheck=0
",
                ),
            );
        }
        facts
    }

    #[test]
    fn a_package_an_earlier_transaction_removes_is_installed_again() {
        // The seed's Grid host: the update removed python24; the preview, made before the
        // run, finds it installed.
        let r = resource("install = [\"python24\", \"python24-devel\"]");
        let facts = facts(&r, "yum", "Nothing to do\n", 0);
        let mut view = HostView::new(&facts);
        assert_eq!(r.plan(&view).unwrap().changes.len(), 0);
        let removed = |name: &str| TxPackage {
            action: TxAction::Remove,
            name: name.into(),
            arch: "i386".into(),
            version: "2.4.3-21.el4".into(),
            repo: "installed".into(),
        };
        view.record_transaction(
            "step 4 (full update)",
            &[removed("python24"), removed("python24-devel"), removed("other")],
        );
        let plan = r.plan(&view).unwrap();
        assert_eq!(
            plan.changes[0].summary,
            "yum install python24 python24-devel: 2 package(s) in one transaction"
        );
        let detail = plan.changes[0].detail.clone().unwrap_or_default();
        assert!(
            detail.contains("install python24-2.4.3-21.el4.i386 from the enabled repositories"),
            "{detail}"
        );
        assert!(
            detail.contains("the preview found python24 installed, but step 4 (full update) removes it"),
            "{detail}"
        );
        assert_eq!(plan.transaction.len(), 2, "later values see the reinstall");
    }

    fn script(plan: &StepPlan) -> String {
        match &plan.changes[0].action {
            Action::Run { script } => String::from_utf8_lossy(script).into_owned(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pinned_update_lists_every_package_and_repo() {
        let r = resource("update = true\ndisable_repos = [\"*\"]\nenable_repos = [\"monash*\"]");
        let f = facts(
            &r,
            "dnf",
            include_str!("../formats/testdata/dnf-pinned.txt"),
            1,
        );
        let plan = r.plan(&HostView::new(&f)).unwrap();
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(
            plan.changes[0].summary,
            "dnf --disablerepo=* --enablerepo=monash* update: 2 package(s) in one transaction"
        );
        assert_eq!(
            plan.changes[0].detail.as_deref(),
            Some(
                "upgrade kernel-xenU-2.6.9-78.EL.noarch from monash-a\nupgrade kernel-xenU-devel-2.6.9-78.EL.noarch from monash-a"
            )
        );
        assert!(
            script(&plan)
                .contains("vmup_pm dnf -y '--disablerepo=*' '--enablerepo=monash*' 'update' 2>&1"),
            "{}",
            script(&plan)
        );
    }

    #[test]
    fn swap_is_one_dnf_transaction() {
        let r = resource("swap = { remove = \"Gpulse\", install = \"APAC-gateway-gridpulse\" }");
        let f = facts(
            &r,
            "dnf",
            include_str!("../formats/testdata/dnf-swap.txt"),
            1,
        );
        let plan = r.plan(&HostView::new(&f)).unwrap();
        let detail = plan.changes[0].detail.clone().unwrap();
        assert!(detail.contains("install APAC-gateway-gridpulse-2.0-1.noarch from other-b"));
        assert!(detail.contains("remove Gpulse-1.0-1.noarch"));
        assert!(script(&plan).contains("vmup_pm dnf -y 'swap' 'Gpulse' 'APAC-gateway-gridpulse'"));
    }

    #[test]
    fn swap_with_yum_is_a_shell_transaction() {
        let r = resource("swap = { remove = \"Gpulse\", install = \"APAC-gateway-gridpulse\" }");
        let f = facts(
            &r,
            "yum",
            include_str!("../formats/testdata/yum-update.txt"),
            1,
        );
        let plan = r.plan(&HostView::new(&f)).unwrap();
        let s = script(&plan);
        assert!(
            s.contains("remove Gpulse\ninstall APAC-gateway-gridpulse\nrun\n"),
            "{s}"
        );
        assert!(s.contains("vmup_pm yum -y 'shell' \"$t\""), "{s}");
    }

    #[test]
    fn refused_transaction_fails_the_plan_with_the_managers_words() {
        let r = resource("swap = { remove = \"Gpulse\", install = \"broken-gridpulse\" }");
        let f = facts(
            &r,
            "dnf",
            include_str!("../formats/testdata/dnf-swaperr.txt"),
            1,
        );
        let e = r.plan(&HostView::new(&f)).unwrap_err().to_string();
        assert!(
            e.contains("nothing provides missing-thing needed by broken-gridpulse"),
            "{e}"
        );
        assert!(
            e.starts_with("dnf swap Gpulse broken-gridpulse refuses"),
            "{e}"
        );
    }

    #[test]
    fn nothing_to_do_is_unchanged() {
        let r = resource("install = [\"Gpulse\"]");
        let f = facts(
            &r,
            "dnf",
            include_str!("../formats/testdata/dnf-noop.txt"),
            0,
        );
        let plan = r.plan(&HostView::new(&f)).unwrap();
        assert!(plan.changes.is_empty());
        assert_eq!(
            plan.note.as_deref(),
            Some("dnf install Gpulse: nothing to do")
        );
    }

    #[test]
    fn an_earlier_installonlypkgs_edit_turns_upgrades_into_installs() {
        let r = resource("update = true");
        let f = facts(
            &r,
            "dnf",
            include_str!("../formats/testdata/dnf-update.txt"),
            1,
        );
        let mut view = HostView::new(&f);
        view.simulate(&Action::WriteFile {
            path: "/etc/dnf/dnf.conf".into(),
            expect: Expect::Absent,
            content: b"[main]\ngpgcheck=0\ninstallonlypkgs=kernel kernel-xenU kernel-xenU-devel\n"
                .to_vec(),
            mode: 0o644,
            owner: None,
        });
        let plan = r.plan(&view).unwrap();
        let detail = plan.changes[0].detail.clone().unwrap();
        assert!(
            detail.starts_with(
                "install kernel-xenU-2.6.9-78.EL.noarch from monash-a\ninstall kernel-xenU-devel"
            ),
            "{detail}"
        );
        assert!(
            detail
                .contains("an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs"),
            "{detail}"
        );
    }

    /// yum lowercases option names: an earlier step's `InstallOnlyPkgs` is installonlypkgs.
    #[test]
    fn installonlypkgs_is_found_in_any_case() {
        let r = resource("update = true");
        let f = facts(
            &r,
            "yum",
            include_str!("../formats/testdata/yum-update.txt"),
            1,
        );
        let mut view = HostView::new(&f);
        view.simulate(&Action::WriteFile {
            path: "/etc/yum.conf".into(),
            expect: Expect::Absent,
            content: b"[main]\nInstallOnlyPkgs=kernel kernel-xenU kernel-xenU-devel\n".to_vec(),
            mode: 0o644,
            owner: None,
        });
        let plan = r.plan(&view).unwrap();
        let detail = plan.changes[0].detail.clone().unwrap();
        assert!(
            detail
                .contains("an earlier step adds kernel-xenU, kernel-xenU-devel to installonlypkgs"),
            "{detail}"
        );
    }

    #[test]
    fn one_kind_of_transaction_per_step() {
        let spec: PackagesSpec = toml::from_str("update = true\ninstall = [\"x\"]").unwrap();
        assert!(PackagesResource::from_spec(&spec).is_err());
        let spec: PackagesSpec = toml::from_str("install = [\"-y\"]").unwrap();
        assert!(PackagesResource::from_spec(&spec).is_err());
    }
}
