//! The host as a plan sees it: the gathered facts plus the changes planned so far.
//!
//! Steps are planned in order, and a later step must see what an earlier step will have
//! done (two edits of one file chain; a path moved aside is gone). The engine calls
//! [`HostView::simulate`] after each planned change, so resources stay pure functions of
//! the view.

use std::collections::BTreeMap;

use crate::facts::{CommandOutput, Fact, Facts, PathFact};
use crate::formats::dnftx::TxPackage;
use crate::remote::Action;

use super::PlanError;

/// A guest as a step planned on its host sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestRef {
    /// Inventory name of the guest.
    pub name: String,
    /// Its domain name on the host, if the inventory gives one.
    pub domain: Option<String>,
    /// Path of its domain config on the host, if the inventory gives one.
    pub domain_config: Option<String>,
}

/// Which machine a step is planned for: the machine itself (no guest), or, for a
/// [`Placement::Parent`](super::Placement::Parent) step, the guest it is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The guest a step running on its host is about.
    pub guest: Option<GuestRef>,
}

/// Facts overlaid with the effects of already planned actions.
#[derive(Debug, Clone)]
pub struct HostView<'a> {
    facts: &'a Facts,
    scope: &'a Scope,
    overlay: BTreeMap<String, PathFact>,
    promised: BTreeMap<String, CommandOutput>,
    pending: Vec<(String, TxPackage)>,
}

/// The scope of a step planned for the machine it selects.
static OWN_SCOPE: Scope = Scope { guest: None };

impl<'a> HostView<'a> {
    /// A view of `facts` with nothing planned yet, for a step about the machine itself.
    pub fn new(facts: &'a Facts) -> HostView<'a> {
        HostView::scoped(facts, &OWN_SCOPE)
    }

    /// A view of `facts` for a step planned in `scope`.
    pub fn scoped(facts: &'a Facts, scope: &'a Scope) -> HostView<'a> {
        HostView {
            facts,
            scope,
            overlay: BTreeMap::new(),
            promised: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// Plans the next step in `scope`: the steps of one host share one planned state.
    pub fn set_scope(&mut self, scope: &'a Scope) {
        self.scope = scope;
    }

    /// Which guest the step is about, when it runs on that guest's host.
    pub fn scope(&self) -> &Scope {
        self.scope
    }

    /// The gathered facts (CPU count, hostname, command outputs).
    pub fn facts(&self) -> &'a Facts {
        self.facts
    }

    /// The parsed value of a command fact the resource asked for: what an earlier step
    /// promised it will answer, or what the host answered.
    pub fn get<F: Fact>(&self, fact: &F) -> Result<F::Value, PlanError> {
        match self.promised.get(&fact.name()) {
            Some(output) => Ok(fact.parse(output)?),
            None => Ok(self.facts.get(fact)?),
        }
    }

    /// Records what a command fact will answer once an earlier step's changes are made.
    pub fn promise(&mut self, name: &str, output: CommandOutput) {
        self.promised.insert(name.to_string(), output);
    }

    /// Records the packages an earlier step's transaction will install, upgrade or remove
    /// (`step` labels it for the plan's explanations).
    pub fn record_transaction(&mut self, step: &str, packages: &[TxPackage]) {
        self.pending
            .extend(packages.iter().map(|p| (step.to_string(), p.clone())));
    }

    /// The packages earlier steps' transactions will change, each with its step's label.
    pub fn pending_packages(&self) -> &[(String, TxPackage)] {
        &self.pending
    }

    /// What `path` will look like when the earlier planned changes are done.
    pub fn path(&self, path: &str) -> Result<&PathFact, PlanError> {
        self.overlay
            .get(path)
            .or_else(|| self.facts.paths.get(path))
            .ok_or_else(|| PlanError::Internal(format!("no fact was gathered for {path}")))
    }

    /// The regular files directly in `dir` that earlier planned changes write with other
    /// content than the host has (name in `dir`, planned content), in name order.
    pub fn planned_files_in(&self, dir: &str) -> Vec<(String, Vec<u8>)> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.overlay
            .iter()
            .filter_map(|(path, fact)| {
                let name = path.strip_prefix(&prefix)?;
                let PathFact::File {
                    content: Some(new), ..
                } = fact
                else {
                    return None;
                };
                let old = match self.facts.paths.get(path) {
                    Some(PathFact::File { content, .. }) => content.as_ref(),
                    _ => None,
                };
                (!name.contains('/') && old != Some(new)).then(|| (name.to_string(), new.clone()))
            })
            .collect()
    }

    /// Records the effect of `action` so later steps plan against it.
    pub fn simulate(&mut self, action: &Action) {
        match action {
            Action::WriteFile {
                path,
                content,
                mode,
                owner,
                ..
            } => {
                let (mut uid, mut gid) = match self.path(path) {
                    Ok(PathFact::File { uid, gid, .. }) => (*uid, *gid),
                    _ => (0, 0),
                };
                // The owner the write sets, numeric as resources give it.
                if let Some((u, g)) = owner.as_deref().and_then(|o| o.split_once(':')) {
                    uid = u.parse().unwrap_or(uid);
                    gid = g.parse().unwrap_or(gid);
                }
                self.overlay.insert(
                    path.clone(),
                    PathFact::File {
                        mode: *mode,
                        uid,
                        gid,
                        content: Some(content.clone()),
                    },
                );
            }
            Action::Symlink { path, target, .. } => {
                self.overlay.insert(
                    path.clone(),
                    PathFact::Symlink {
                        target: target.clone(),
                    },
                );
            }
            Action::Rename { from, to, .. } => {
                for (old, fact) in self.known_under(from) {
                    let new = format!("{to}{}", &old[from.len()..]);
                    self.overlay.insert(old, PathFact::Absent);
                    self.overlay.insert(new, fact);
                }
            }
            Action::Remove { path, .. } => {
                for (old, _) in self.known_under(path) {
                    self.overlay.insert(old, PathFact::Absent);
                }
            }
            Action::Run { .. } => {}
        }
    }

    /// The facts as they will be once the planned changes are made: what a second run
    /// would gather, for the second-run check of plan fixtures. Command facts are what the
    /// steps promised, or as they were.
    pub fn settled(&self) -> Facts {
        let mut facts = self.facts.clone();
        for (path, fact) in &self.overlay {
            facts.paths.insert(path.clone(), fact.clone());
        }
        for (name, output) in &self.promised {
            facts.commands.insert(name.clone(), output.clone());
        }
        facts
    }

    /// Every known path equal to `root` or below it, with its current fact.
    fn known_under(&self, root: &str) -> Vec<(String, PathFact)> {
        let below = format!("{}/", root.trim_end_matches('/'));
        let mut found: BTreeMap<String, PathFact> = BTreeMap::new();
        for (path, fact) in self.facts.paths.iter().chain(self.overlay.iter()) {
            if path == root || path.starts_with(&below) {
                found.insert(path.clone(), fact.clone());
            }
        }
        // Overlay entries win over facts because they were chained last.
        found.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::Expect;

    #[test]
    fn rename_moves_the_subtree() {
        let mut facts = Facts::default();
        facts.paths.insert(
            "/lib/tls".into(),
            PathFact::Dir {
                mode: 0o755,
                uid: 0,
                gid: 0,
            },
        );
        facts
            .paths
            .insert("/lib/tls.disabled".into(), PathFact::Absent);
        let mut view = HostView::new(&facts);
        view.simulate(&Action::Rename {
            from: "/lib/tls".into(),
            to: "/lib/tls.disabled".into(),
            expect: Expect::Dir,
        });
        assert_eq!(view.path("/lib/tls").unwrap(), &PathFact::Absent);
        assert!(matches!(
            view.path("/lib/tls.disabled").unwrap(),
            PathFact::Dir { .. }
        ));
        assert!(view.path("/elsewhere").is_err());
    }
}
