//! `line`: one line present in (or absent from) a line-oriented file such as /etc/inittab.
//!
//! The seed's `sed -e '/^1:/i \S0:...'` and `sed -e '$a ttyS0'` loops, made idempotent and
//! lossless: an existing line is never duplicated or moved, a line identified by `match` is
//! replaced in place, a new line goes before/after an anchor, and a missing anchor is an
//! error unless `or_append` says otherwise.

use regex::bytes::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::formats::lines::{Anchor, Insert, LineEdit, LineFile, LineOutcome, Position};
use crate::facts::{FactKey, PathFact};

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Resource, Scope, StepPlan, editable_file, file_fact, shown};

/// The `line = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    /// File to edit.
    pub path: Spanned<String>,
    /// The wanted line (without newline).
    pub line: Spanned<String>,
    /// Regex identifying the line (default: the exact line).
    #[serde(rename = "match")]
    pub matcher: Option<Spanned<String>>,
    /// `present` (default) or `absent`.
    pub state: Option<Spanned<String>>,
    /// Put a new line before the line matching this regex.
    pub insert_before: Option<Spanned<String>>,
    /// Put a new line after the line matching this regex.
    pub insert_after: Option<Spanned<String>>,
    /// `first` (default) or `last` matching anchor line.
    pub anchor: Option<Spanned<String>>,
    /// Append at the end when the anchor is missing instead of failing.
    #[serde(default)]
    pub or_append: bool,
    /// Create the file when it does not exist.
    #[serde(default)]
    pub create: bool,
}

/// A validated `line` step.
#[derive(Debug, Clone)]
pub struct LineResource {
    path: String,
    line: Vec<u8>,
    matcher: Option<Regex>,
    absent: bool,
    insert: Option<(Position, Regex, Anchor)>,
    or_append: bool,
    create: bool,
}

impl FromSpec for LineResource {
    type Spec = LineSpec;

    /// Validates a spec: regexes compile, the path is absolute, options are consistent.
    fn from_spec(spec: &LineSpec) -> Result<LineResource, SpecError> {
        let path = spec::path("path", &spec.path)?;
        spec::single_line("line", &spec.line)?;
        let matcher = spec
            .matcher
            .as_ref()
            .map(|m| spec::regex("match", m))
            .transpose()?;
        let absent = match spec.state.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("present") => false,
            Some("absent") => true,
            Some(other) => {
                return Err(SpecError::at(
                    spec.state.as_ref().map(Spanned::span).unwrap_or(0..0),
                    format!("`state` must be \"present\" or \"absent\", got {other:?}"),
                ));
            }
        };
        let which = match spec.anchor.as_ref().map(|a| a.get_ref().as_str()) {
            None | Some("first") => Anchor::First,
            Some("last") => Anchor::Last,
            Some(other) => {
                return Err(SpecError::at(
                    spec.anchor.as_ref().map(Spanned::span).unwrap_or(0..0),
                    format!("`anchor` must be \"first\" or \"last\", got {other:?}"),
                ));
            }
        };
        let insert = match (&spec.insert_before, &spec.insert_after) {
            (Some(_), Some(after)) => {
                return Err(SpecError::at(
                    after.span(),
                    "use either `insert_before` or `insert_after`, not both",
                ));
            }
            (Some(before), None) => Some((
                Position::Before,
                spec::regex("insert_before", before)?,
                which,
            )),
            (None, Some(after)) => {
                Some((Position::After, spec::regex("insert_after", after)?, which))
            }
            (None, None) => None,
        };
        Ok(LineResource {
            path,
            line: spec.line.get_ref().as_bytes().to_vec(),
            matcher,
            absent,
            insert,
            or_append: spec.or_append,
            create: spec.create,
        })
    }
}

impl Resource for LineResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![file_fact(&self.path)]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        if self.absent && *view.path(&self.path)? == PathFact::Absent {
            return Ok(StepPlan::unchanged(format!("{} does not exist", self.path)));
        }
        let file = editable_file(view, &self.path, self.create)?;
        let mut lines = LineFile::parse(file.bytes());
        let summary = if self.absent {
            let exact;
            let matcher = match &self.matcher {
                Some(m) => m,
                None => {
                    exact = Regex::new(&format!(
                        "^{}$",
                        regex::escape(&String::from_utf8_lossy(&self.line))
                    ))
                    .map_err(|e| PlanError::Internal(e.to_string()))?;
                    &exact
                }
            };
            match lines.ensure_absent(matcher) {
                0 => {
                    return Ok(StepPlan::unchanged(format!(
                        "no line of {} matches",
                        self.path
                    )));
                }
                1 => "remove 1 line".to_string(),
                n => format!("remove {n} lines"),
            }
        } else {
            let edit = LineEdit {
                line: &self.line,
                matcher: self.matcher.as_ref(),
                insert: self
                    .insert
                    .as_ref()
                    .map(|(position, anchor, which)| Insert {
                        position: *position,
                        anchor,
                        which: *which,
                    }),
                or_append: self.or_append,
            };
            let outcome = lines.ensure_present(&edit).map_err(|e| {
                PlanError::Refused(format!(
                    "{}: {e} (set or_append = true to append instead)",
                    self.path
                ))
            })?;
            let line = shown(&self.line);
            match outcome {
                LineOutcome::AlreadyPresent => {
                    return Ok(StepPlan::unchanged(format!(
                        "{} already has {line}",
                        self.path
                    )));
                }
                LineOutcome::Replaced { line_no } => format!("replace line {line_no} with {line}"),
                LineOutcome::Inserted { line_no } => format!("insert {line} as line {line_no}"),
                LineOutcome::Appended { line_no } => format!("append {line} as line {line_no}"),
            }
        };
        let new = lines.to_bytes();
        let summary = if file.old.is_none() {
            format!("create {} and {summary}", self.path)
        } else {
            summary
        };
        Ok(StepPlan::change(summary, file.write(&self.path, new)))
    }
}
