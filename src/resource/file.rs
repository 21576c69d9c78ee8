//! `file`: a whole file with given content (the seed's Monash .repo files).
//!
//! The file is written atomically; an existing file keeps its owner and mode unless the
//! step names them. A directory or symlink in the way is an error, never replaced.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::{FactKey, PathFact};
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

/// A validated `file` step.
#[derive(Debug, Clone)]
pub struct FileResource {
    path: String,
    content: Vec<u8>,
    mode: Option<u32>,
    owner: Option<String>,
    group: Option<String>,
}

impl FromSpec for FileResource {
    type Spec = FileSpec;

    /// Validates a spec.
    fn from_spec(spec: &FileSpec) -> Result<FileResource, SpecError> {
        let path = spec::path("path", &spec.path)?;
        let mode = spec.mode.as_ref().map(spec::mode).transpose()?;
        let name =
            |field: &str, v: &Option<Spanned<String>>| -> Result<Option<String>, SpecError> {
                match v {
                    Some(v) if v.get_ref().is_empty() || v.get_ref().contains([':', '\0', ' ']) => {
                        Err(SpecError::at(
                            v.span(),
                            format!("`{field}` must be a user/group name or number"),
                        ))
                    }
                    Some(v) => Ok(Some(v.get_ref().clone())),
                    None => Ok(None),
                }
            };
        Ok(FileResource {
            path,
            content: spec.content.get_ref().as_bytes().to_vec(),
            mode,
            owner: name("owner", &spec.owner)?,
            group: name("group", &spec.group)?,
        })
    }
}

impl FileResource {

    fn chown_arg(&self, keep_user: &str, keep_group: &str) -> Option<String> {
        match (&self.owner, &self.group) {
            (None, None) => None,
            (o, g) => Some(format!(
                "{}:{}",
                o.as_deref().unwrap_or(keep_user),
                g.as_deref().unwrap_or(keep_group)
            )),
        }
    }
}

/// True when `wanted` (a name or a number) names the same owner as the fact.
fn same_id(wanted: &Option<String>, id: u32, name: &str) -> bool {
    match wanted {
        None => true,
        Some(w) => w == name || w.parse::<u32>().ok() == Some(id),
    }
}

impl Resource for FileResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![file_fact(&self.path)]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        match view.path(&self.path)? {
            PathFact::Absent => {
                let mode = self.mode.unwrap_or(0o644);
                let owner = self.chown_arg("0", "0");
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
                uid,
                gid,
                user,
                group,
                content: Some(old),
            } => {
                let new_mode = self.mode.unwrap_or(*mode);
                let mut what = Vec::new();
                if *old != self.content {
                    what.push("content".to_string());
                }
                if new_mode != *mode {
                    what.push(format!("mode {mode:04o} -> {new_mode:04o}"));
                }
                if !same_id(&self.owner, *uid, user) || !same_id(&self.group, *gid, group) {
                    what.push(format!(
                        "owner {user}:{group} -> {}",
                        self.chown_arg(user, group).unwrap_or_default()
                    ));
                }
                if what.is_empty() {
                    return Ok(StepPlan::unchanged(format!(
                        "{} is already as wanted",
                        self.path
                    )));
                }
                let owner = self.chown_arg(user, group).or(Some(format!("{uid}:{gid}")));
                Ok(StepPlan::change(
                    format!("update {}: {}", self.path, what.join(", ")),
                    Action::WriteFile {
                        path: self.path.clone(),
                        expect: Expect::File(old.clone()),
                        content: self.content.clone(),
                        mode: new_mode,
                        owner,
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
