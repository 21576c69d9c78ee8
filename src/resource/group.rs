//! `group`: a system group with a fixed gid (the dbus user's group), made with the host's
//! own `groupadd` (`--root` on a local tree). A gid taken by another name is refused with
//! both names; an existing group is never renumbered.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::accounts::{AccountEntries, Db};
use crate::facts::{Fact, FactKey};

use super::spec::SpecError;
use super::user::{account_command, account_name, promise};
use super::{FromSpec, HostView, PlanError, Resource, Scope, StepPlan};

/// The `group = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// The group name.
    pub name: Spanned<String>,
    /// Its fixed gid.
    pub gid: Option<u32>,
    /// A system group (`groupadd -r`).
    #[serde(default)]
    pub system: bool,
}

/// A validated `group` step.
#[derive(Debug, Clone)]
pub struct GroupResource {
    name: String,
    gid: Option<u32>,
    system: bool,
    entries: AccountEntries,
}

impl FromSpec for GroupResource {
    type Spec = GroupSpec;

    fn from_spec(spec: &GroupSpec) -> Result<GroupResource, SpecError> {
        let name = account_name("name", &spec.name)?;
        Ok(GroupResource {
            entries: AccountEntries {
                db: Db::Group,
                name: name.clone(),
                id: spec.gid,
            },
            name,
            gid: spec.gid,
            system: spec.system,
        })
    }
}

impl Resource for GroupResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![self.entries.key()]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let found = view.get(&self.entries)?;
        let name = &self.name;
        if let Some(e) = found.by_name {
            return match self.gid {
                Some(gid) if gid != e.id => Err(PlanError::Refused(format!(
                    "group {name} exists with gid {}, not {gid}: vmup does not renumber accounts",
                    e.id
                ))),
                _ => Ok(StepPlan::unchanged(format!(
                    "group {name} (gid {}) is already as wanted",
                    e.id
                ))),
            };
        }
        if let Some(t) = found.by_id {
            return Err(PlanError::Refused(format!(
                "gid {} is taken by {}; the step wants it for {name}",
                t.id, t.name
            )));
        }
        let options: Vec<(&str, String)> =
            self.gid.map(|g| ("-g", g.to_string())).into_iter().collect();
        let flags: Vec<&str> = if self.system { vec!["-r"] } else { Vec::new() };
        let mut plan = StepPlan::change(
            format!(
                "create {}group {name}{} (groupadd)",
                if self.system { "system " } else { "" },
                self.gid.map(|g| format!(" (gid {g})")).unwrap_or_default()
            ),
            account_command("groupadd", &options, &flags, name),
        );
        // A later `user` step of this host sees the group it will have (with a fixed gid;
        // without one, groupadd picks it and the user step must wait for the next run).
        if let Some(gid) = self.gid {
            plan.promises = promise(Db::Group, name, gid, &format!("{name}:x:{gid}:"));
        }
        Ok(plan)
    }
}
