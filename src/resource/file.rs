//! `file`: a whole file with given content (the seed's Monash .repo files).
//!
//! The file is written atomically; an existing file keeps its owner and mode unless the
//! step names them. A directory or symlink in the way is an error, never replaced.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::accounts::{AccountIds, Ids};
use crate::facts::{Fact, FactKey, PathFact};
use crate::remote::{Action, Expect};

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Resource, Scope, StepPlan, describe, file_fact};

/// The `file = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Where the file lives.
    pub path: Spanned<String>,
    /// Its whole content.
    pub content: Spanned<String>,
    /// Octal mode such as "0644" (default: keep, or 0644 for a new file).
    pub mode: Option<Spanned<String>>,
    /// Owner name or uid (default: keep, or the remote user for a new file).
    pub owner: Option<Spanned<String>>,
    /// Group name or gid (default: keep).
    pub group: Option<Spanned<String>>,
}

/// An owner or group as the runbook names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Id {
    Number(u32),
    Name(String),
}

/// A validated `file` step.
#[derive(Debug, Clone)]
pub struct FileResource {
    path: String,
    content: Vec<u8>,
    mode: Option<u32>,
    owner: Option<Id>,
    group: Option<Id>,
    /// The names to resolve on the host, when owner or group is given by name.
    names: Option<AccountIds>,
}

impl FromSpec for FileResource {
    type Spec = FileSpec;

    /// Validates a spec.
    fn from_spec(spec: &FileSpec) -> Result<FileResource, SpecError> {
        let path = spec::path("path", &spec.path)?;
        let mode = spec.mode.as_ref().map(spec::mode).transpose()?;
        let id = |field: &str, v: &Option<Spanned<String>>| -> Result<Option<Id>, SpecError> {
            match v {
                Some(v)
                    if v.get_ref().is_empty()
                        || v.get_ref().starts_with('-')
                        || v.get_ref().contains(|c: char| c == ':' || c.is_whitespace() || c.is_control()) =>
                {
                    Err(SpecError::at(
                        v.span(),
                        format!("`{field}` must be a user/group name or number"),
                    ))
                }
                Some(v) => Ok(Some(match v.get_ref().parse::<u32>() {
                    Ok(n) => Id::Number(n),
                    Err(_) => Id::Name(v.get_ref().clone()),
                })),
                None => Ok(None),
            }
        };
        let owner = id("owner", &spec.owner)?;
        let group = id("group", &spec.group)?;
        let name = |i: &Option<Id>| match i {
            Some(Id::Name(n)) => Some(n.clone()),
            _ => None,
        };
        let names = AccountIds {
            user: name(&owner),
            group: name(&group),
        };
        Ok(FileResource {
            path,
            content: spec.content.get_ref().as_bytes().to_vec(),
            mode,
            names: (names.user.is_some() || names.group.is_some()).then_some(names),
            owner,
            group,
        })
    }
}

impl FileResource {
    /// The uid and gid the step asks for (None: keep), resolved on the host.
    fn wanted_ids(&self, view: &HostView<'_>) -> Result<(Option<u32>, Option<u32>), PlanError> {
        let found = match &self.names {
            Some(names) => view.get(names)?,
            None => Ids::default(),
        };
        let resolve = |id: &Option<Id>, known: Option<u32>, what: &str| match id {
            None => Ok(None),
            Some(Id::Number(n)) => Ok(Some(*n)),
            Some(Id::Name(name)) => known.map(Some).ok_or_else(|| {
                PlanError::Refused(format!("{what} {name:?} does not exist on the host"))
            }),
        };
        Ok((
            resolve(&self.owner, found.uid, "user")?,
            resolve(&self.group, found.gid, "group")?,
        ))
    }
}

impl Resource for FileResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        let mut keys = vec![file_fact(&self.path)];
        keys.extend(self.names.as_ref().map(Fact::key));
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let (uid, gid) = self.wanted_ids(view)?;
        match view.path(&self.path)? {
            PathFact::Absent => {
                let mode = self.mode.unwrap_or(0o644);
                // A new file belongs to the writer unless the step says otherwise.
                let owner = match (uid, gid) {
                    (None, None) => None,
                    (u, g) => Some(format!("{}:{}", u.unwrap_or(0), g.unwrap_or(0))),
                };
                Ok(StepPlan::change(
                    format!(
                        "create {} ({} bytes, mode {mode:04o})",
                        self.path,
                        self.content.len()
                    ),
                    Action::WriteFile {
                        path: self.path.clone(),
                        expect: Expect::Absent,
                        content: self.content.clone(),
                        mode,
                        owner,
                    },
                ))
            }
            PathFact::File {
                mode,
                uid: old_uid,
                gid: old_gid,
                content: Some(old),
            } => {
                let new_mode = self.mode.unwrap_or(*mode);
                let (new_uid, new_gid) = (uid.unwrap_or(*old_uid), gid.unwrap_or(*old_gid));
                let mut what = Vec::new();
                if *old != self.content {
                    what.push("content".to_string());
                }
                if new_mode != *mode {
                    what.push(format!("mode {mode:04o} -> {new_mode:04o}"));
                }
                if (new_uid, new_gid) != (*old_uid, *old_gid) {
                    what.push(format!(
                        "owner {old_uid}:{old_gid} -> {new_uid}:{new_gid}"
                    ));
                }
                if what.is_empty() {
                    return Ok(StepPlan::unchanged(format!(
                        "{} is already as wanted",
                        self.path
                    )));
                }
                Ok(StepPlan::change(
                    format!("update {}: {}", self.path, what.join(", ")),
                    Action::WriteFile {
                        path: self.path.clone(),
                        expect: Expect::File(old.clone()),
                        content: self.content.clone(),
                        mode: new_mode,
                        owner: Some(format!("{new_uid}:{new_gid}")),
                    },
                ))
            }
            PathFact::File { content: None, .. } => Err(PlanError::Internal(format!(
                "the content of {} was not gathered",
                self.path
            ))),
            other => Err(PlanError::Refused(format!(
                "{} is {}, not a regular file",
                self.path,
                describe(other)
            ))),
        }
    }
}
