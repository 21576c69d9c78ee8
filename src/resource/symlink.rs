//! `symlink`: a link at `path` pointing at `target`, created or retargeted atomically.
//!
//! The seed's stable /boot names (`vmlinuz-2.6.9-ELxenU -> vmlinuz-2.6.9-67.0.1.ELxenU`) let
//! domain configs stay the same across kernel updates. An existing regular file or
//! directory at `path` is never replaced: that would lose data the user did not mention.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::{FactKey, PathFact};
use crate::remote::{Action, Expect};

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Resource, Scope, StepPlan, describe, shown, stat_fact};

/// The `symlink = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymlinkSpec {
    /// Where the link lives.
    pub path: Spanned<String>,
    /// What it points at, stored as written (relative targets stay relative).
    pub target: Spanned<String>,
}

/// A validated `symlink` step.
#[derive(Debug, Clone)]
pub struct SymlinkResource {
    path: String,
    target: String,
}

impl FromSpec for SymlinkResource {
    type Spec = SymlinkSpec;

    /// Validates a spec.
    fn from_spec(spec: &SymlinkSpec) -> Result<SymlinkResource, SpecError> {
        let path = spec::path("path", &spec.path)?;
        spec::no_nul("target", &spec.target)?;
        if spec.target.get_ref().is_empty() {
            return Err(SpecError::at(
                spec.target.span(),
                "`target` must not be empty",
            ));
        }
        Ok(SymlinkResource {
            path,
            target: spec.target.get_ref().clone(),
        })
    }
}

impl SymlinkResource {

    /// The target as a host path, for the "does it exist" remark.
    fn resolved_target(&self) -> String {
        if self.target.starts_with('/') {
            self.target.clone()
        } else {
            let parent = self.path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
            format!("{parent}/{}", self.target)
        }
    }
}

impl Resource for SymlinkResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![stat_fact(&self.path), stat_fact(&self.resolved_target())]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let target = self.target.as_bytes().to_vec();
        let dangling = match view.path(&self.resolved_target()) {
            Ok(PathFact::Absent) => " (the target does not exist yet)",
            _ => "",
        };
        let (summary, expect) = match view.path(&self.path)? {
            PathFact::Symlink { target: old } if *old == target => {
                return Ok(StepPlan::unchanged(format!(
                    "{} already points at {}",
                    self.path, self.target
                )));
            }
            PathFact::Symlink { target: old } => (
                format!(
                    "retarget {} from {} to {}{dangling}",
                    self.path,
                    shown(old),
                    shown(&target)
                ),
                Expect::Symlink(old.clone()),
            ),
            PathFact::Absent => (
                format!("link {} -> {}{dangling}", self.path, self.target),
                Expect::Absent,
            ),
            other => {
                return Err(PlanError::Refused(format!(
                    "{} is {}; refusing to replace it with a symlink",
                    self.path,
                    describe(other)
                )));
            }
        };
        Ok(StepPlan::change(
            summary,
            Action::Symlink {
                path: self.path.clone(),
                target,
                expect,
            },
        ))
    }
}
