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
//!
//! A yum too old for `--assumeno` (before 3.4.3: CentOS 4 and 5) previews the same
//! transaction in `yum shell` (`ts solve`, `ts list`, never `run`) and applies it with
//! only the options yum 2.4 knows. Where no honest preview exists on a host (such a yum
//! cannot read repository files an earlier step of the run writes), the plan says so and
//! the step runs there only with `preview = "none"`, its packages listed as not previewed.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::packages::{PackageManager, PackageTool, PackagesPreview};
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
    /// `"none"`: on a host where no honest preview of the transaction exists, run it
    /// without one (the plan says so). Hosts that can preview it still do.
    pub preview: Option<Spanned<String>>,
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
    /// `preview = "none"` was given.
    unpreviewed_ok: bool,
}

/// yum 2.4's `installonlypkgs` when yum.conf sets none (`yum/config.py`, 2.4.0).
const YUM24_INSTALLONLY: [&str; 9] = [
    "kernel",
    "kernel-bigmem",
    "kernel-enterprise",
    "kernel-smp",
    "kernel-modules",
    "kernel-debug",
    "kernel-unsupported",
    "kernel-source",
    "kernel-devel",
];

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
        let unpreviewed_ok = match &spec.preview {
            None => false,
            Some(p) if p.get_ref() == "none" => true,
            Some(p) => {
                return Err(SpecError::at(
                    p.span(),
                    format!(
                        "`preview` can only be \"none\" (run without a preview where the host cannot give one), got {:?}",
                        p.get_ref()
                    ),
                ));
            }
        };
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
            unpreviewed_ok,
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
            Preview::Unavailable(why) if !self.unpreviewed_ok => {
                return Err(PlanError::Refused(format!(
                    "{shown} cannot be previewed on this host: {why}; give the step `preview = \"none\"` to run it here without a preview"
                )));
            }
            Preview::Unavailable(why) => return self.unpreviewed(tool, &shown, &why),
            Preview::Transaction(p) => p,
        };
        let mut remarks = Vec::new();
        if tool == PackageTool::OldYum {
            remarks.extend(self.old_yum_installonly(view, &mut packages)?);
        }
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
                action: self.run(tool)?,
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
    /// The transaction as this host's tool runs it for real.
    fn run(&self, tool: PackageTool) -> Result<Action, PlanError> {
        let script = match tool {
            PackageTool::Dnf => self.command.script(Some(true), "-y"),
            PackageTool::Yum => self.command.script(Some(false), "-y"),
            PackageTool::OldYum => self.command.old_yum_script(),
        };
        Ok(Action::Run {
            script: script
                .finish()
                .map_err(|e| PlanError::Internal(e.to_string()))?,
        })
    }

    /// The change of a step run without a preview (`preview = "none"` on a host that
    /// cannot give one): it always runs, and says so.
    fn unpreviewed(&self, tool: PackageTool, shown: &str, why: &str) -> Result<StepPlan, PlanError> {
        Ok(StepPlan {
            changes: vec![Planned {
                summary: format!("{shown}: packages not previewed (preview = \"none\")"),
                action: self.run(tool)?,
                detail: Some(format!(
                    "the packages of this transaction are not previewed on this host: {why}"
                )),
            }],
            note: None,
            warning: None,
            promises: Vec::new(),
            transaction: Vec::new(),
        })
    }

    /// yum before 3.4.3 lists an update of an install-only package under `Updating:` but
    /// installs it beside the old version (yum 2.4 `depsolve.py`: `populateTs` adds the
    /// update as an install when `allowedMultipleInstalls`): those entries become installs.
    /// The names are those of `installonlypkgs` in /etc/yum.conf as the run will have it,
    /// else yum 2.4's default list (`yum/config.py`).
    fn old_yum_installonly(
        &self,
        view: &HostView<'_>,
        packages: &mut [TxPackage],
    ) -> Result<Option<String>, PlanError> {
        let conf = match view.path("/etc/yum.conf")? {
            PathFact::File {
                content: Some(c), ..
            } => IniFile::parse(c).get(b"main", b"installonlypkgs"),
            _ => None,
        };
        let names: Vec<String> = match conf {
            Some(v) => String::from_utf8_lossy(&v)
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect(),
            None => YUM24_INSTALLONLY.iter().map(|s| s.to_string()).collect(),
        };
        let mut changed = Vec::new();
        for p in packages.iter_mut() {
            if p.action == TxAction::Upgrade && names.contains(&p.name) {
                p.action = TxAction::Install;
                changed.push(p.name.clone());
            }
        }
        Ok((!changed.is_empty()).then(|| {
            format!(
                "(this yum lists {} as updated; as install-only packages they are installed beside the current version)",
                changed.join(", ")
            )
        }))
    }

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
mod tests;
