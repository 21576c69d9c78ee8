//! `move_aside`: rename a path out of the way, keeping one previous copy.
//!
//! The seed's /lib/tls step: updated packages may recreate `/lib/tls`, whose libraries must
//! not be used in a VM, so it is moved to `/lib/tls.disabled`, and an earlier
//! `/lib/tls.disabled` first becomes `/lib/tls.disabled.old`. Nothing happens when the path
//! is absent. Every rename checks that its destination is free at apply time.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::{FactKey, PathFact};
use crate::remote::Action;

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan, describe, expect_current, stat_fact};

/// The `move_aside = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveAsideSpec {
    /// What to move away when it exists.
    pub path: Spanned<String>,
    /// Where it goes.
    pub to: Spanned<String>,
    /// Where an existing `to` goes first; without it an existing `to` is an error.
    pub keep_previous: Option<Spanned<String>>,
}

/// A validated `move_aside` step.
#[derive(Debug, Clone)]
pub struct MoveAsideResource {
    path: String,
    to: String,
    keep_previous: Option<String>,
}

impl FromSpec for MoveAsideResource {
    type Spec = MoveAsideSpec;

    /// Validates a spec: absolute, distinct paths.
    fn from_spec(spec: &MoveAsideSpec) -> Result<MoveAsideResource, SpecError> {
        let path = spec::path("path", &spec.path)?;
        let to = spec::path("to", &spec.to)?;
        let keep_previous = spec
            .keep_previous
            .as_ref()
            .map(|k| spec::path("keep_previous", k))
            .transpose()?;
        let mut all = vec![&path, &to];
        all.extend(keep_previous.as_ref());
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                if a == b || b.starts_with(&format!("{a}/")) || a.starts_with(&format!("{b}/")) {
                    return Err(SpecError::at(
                        spec.to.span(),
                        format!("{a} and {b} overlap"),
                    ));
                }
            }
        }
        Ok(MoveAsideResource {
            path,
            to,
            keep_previous,
        })
    }
}

impl Resource for MoveAsideResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        let mut keys = vec![stat_fact(&self.path), stat_fact(&self.to)];
        keys.extend(self.keep_previous.as_deref().map(stat_fact));
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let current = view.path(&self.path)?;
        if *current == PathFact::Absent {
            return Ok(StepPlan::unchanged(format!("{} does not exist", self.path)));
        }
        let mut changes = Vec::new();
        let occupied = view.path(&self.to)?;
        if *occupied != PathFact::Absent {
            let Some(previous) = &self.keep_previous else {
                return Err(PlanError::Refused(format!(
                    "{} exists and {} is already there; set keep_previous to rotate it",
                    self.path, self.to
                )));
            };
            let old = view.path(previous)?;
            if *old != PathFact::Absent {
                changes.push(Planned {
                    summary: format!(
                        "remove {} ({}), the copy before last",
                        previous,
                        describe(old)
                    ),
                    action: Action::Remove {
                        path: previous.clone(),
                        expect: expect_current(old),
                    },
                    detail: None,
                });
            }
            changes.push(Planned {
                summary: format!("rename {} to {}", self.to, previous),
                action: Action::Rename {
                    from: self.to.clone(),
                    to: previous.clone(),
                    expect: expect_current(occupied),
                },
                detail: None,
            });
        }
        changes.push(Planned {
            summary: format!("rename {} to {}", self.path, self.to),
            action: Action::Rename {
                from: self.path.clone(),
                to: self.to.clone(),
                expect: expect_current(current),
            },
            detail: None,
        });
        Ok(StepPlan {
            changes,
            note: None,
            warning: None,
            promises: Vec::new(),
                transaction: Vec::new(),
        })
    }
}
