//! The runbook: an ordered list of steps, each one resource with where and when it applies.
//!
//! A TOML file of `[[step]]` tables. Each step has exactly one resource table (one of
//! [`resource::KINDS`](crate::resource::KINDS)), an optional `name`, `hosts` (a pattern,
//! default `all`), `when` (a condition on facts) and `check_only` (evaluated, never
//! applied). Every problem, from a TOML syntax error to an invalid regex inside a step, is
//! reported as `file:line:column`.

pub mod condition;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::inventory::{HostPattern, Inventory};
use crate::resource::spec::SpecError;
use crate::resource::{KINDS, RawStep, Resource};
use crate::source::{SourceError, read_text};

pub use condition::Condition;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

/// One step of a runbook.
#[derive(Debug)]
pub struct Step {
    /// 1-based position in the runbook.
    pub number: usize,
    /// The step's name, if it has one.
    pub name: Option<String>,
    /// Which machines it applies to.
    pub hosts: HostPattern,
    hosts_span: std::ops::Range<usize>,
    /// When it applies.
    pub when: Option<Condition>,
    /// A check only (`check_only = true`): `vmup check` counts what it would change against
    /// the host and `vmup plan` notes it, but `vmup apply` never applies it.
    pub check_only: bool,
    /// The resource kind as written (`line`, `packages`, ...).
    pub kind: &'static str,
    /// What it wants.
    pub resource: Box<dyn Resource>,
}

impl Step {
    /// `step 3 (name)` or `step 3`, for messages.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("step {} ({name})", self.number),
            None => format!("step {}", self.number),
        }
    }
}

/// A loaded and checked runbook.
#[derive(Debug)]
pub struct Runbook {
    /// The file it came from.
    pub file: PathBuf,
    text: String,
    /// Steps in order.
    pub steps: Vec<Step>,
}

impl Runbook {
    /// Reads and checks a runbook file.
    pub fn load(file: &Path) -> Result<Runbook, SourceError> {
        let text = read_text(file)?;
        Runbook::parse(file, text)
    }

    /// Parses and checks runbook text.
    pub fn parse(file: &Path, text: String) -> Result<Runbook, SourceError> {
        let raw: RawRunbook =
            toml::from_str(&text).map_err(|e| SourceError::from_toml(file, &text, &e))?;
        let mut steps = Vec::with_capacity(raw.step.len());
        for (i, spanned) in raw.step.into_iter().enumerate() {
            let span = spanned.span();
            let at = |e: SpecError| {
                SourceError::at(
                    file,
                    &text,
                    e.span.unwrap_or_else(|| span.clone()),
                    e.message,
                )
            };
            let raw = spanned.into_inner();
            let mut resources = raw.resources().map_err(at)?;
            if resources.len() != 1 {
                return Err(SourceError::at(
                    file,
                    &text,
                    span,
                    format!(
                        "step {} must have exactly one resource table (one of: {}), found {}",
                        i + 1,
                        KINDS.join(", "),
                        resources.len()
                    ),
                ));
            }
            let when = match &raw.when {
                Some(w) => Some(Condition::parse(w.get_ref()).map_err(|e| {
                    // +1 skips the opening quote of a basic string.
                    let offset = w.span().start + 1 + e.offset;
                    SourceError::at(file, &text, offset..offset, format!("in `when`: {e}"))
                })?),
                None => None,
            };
            let (hosts, hosts_span) = match &raw.hosts {
                Some(h) => (HostPattern::new(h.get_ref()), h.span()),
                None => (HostPattern::new("all"), span.clone()),
            };
            let (kind, resource) = resources.remove(0);
            steps.push(Step {
                number: i + 1,
                name: raw.name,
                hosts,
                hosts_span,
                when,
                check_only: raw.check_only,
                kind,
                resource,
            });
        }
        Ok(Runbook {
            file: file.to_path_buf(),
            text,
            steps,
        })
    }

    /// Checks every step's `hosts` pattern against the inventory, so a typo in a group name
    /// stops the run before anything is touched.
    pub fn check_hosts(&self, inventory: &Inventory) -> Result<(), SourceError> {
        for step in &self.steps {
            step.hosts.select(inventory).map_err(|e| {
                SourceError::at(
                    &self.file,
                    &self.text,
                    step.hosts_span.clone(),
                    e.to_string(),
                )
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        Runbook::parse(Path::new("rb.toml"), text.to_string())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_steps_in_order() {
        let rb = Runbook::parse(
            Path::new("rb.toml"),
            "[[step]]\nname = \"a\"\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n[[step]]\nhosts = \"guests\"\nwhen = \"cpus == 1\"\nsymlink = { path = \"/boot/x\", target = \"y\" }\n".into(),
        )
        .unwrap();
        assert_eq!(rb.steps.len(), 2);
        assert_eq!(rb.steps[0].label(), "step 1 (a)");
        assert_eq!(rb.steps[1].kind, "symlink");
        assert_eq!(rb.steps[1].hosts.as_str(), "guests");
    }

    #[test]
    fn invalid_regex_points_at_the_value() {
        let e = error(
            "[[step]]\nline = { path = \"/etc/inittab\", line = \"x\", match = \"^S0:(\" }\n",
        );
        assert!(
            e.starts_with("rb.toml:2:53: invalid regex in `match`"),
            "{e}"
        );
    }

    #[test]
    fn two_resources_in_one_step() {
        let e = error(
            "[[step]]\nline = { path = \"/a\", line = \"x\" }\nsymlink = { path = \"/b\", target = \"c\" }\n",
        );
        assert!(e.contains("exactly one resource table"), "{e}");
        assert!(e.starts_with("rb.toml:1:"), "{e}");
    }

    #[test]
    fn unknown_resource_kind() {
        let e = error("[[step]]\nlnie = { path = \"/a\" }\n");
        assert!(e.starts_with("rb.toml:2:1:"), "{e}");
        assert!(e.contains("lnie"), "{e}");
    }

    #[test]
    fn bad_condition_column() {
        let e = error("[[step]]\nwhen = \"cpus = 1\"\nline = { path = \"/a\", line = \"x\" }\n");
        assert!(e.starts_with("rb.toml:2:14: in `when`"), "{e}");
    }

    #[test]
    fn package_example_reads() {
        let rb = Runbook::parse(
            Path::new("examples/packages.toml"),
            include_str!("../../examples/packages.toml").to_string(),
        )
        .unwrap();
        let kinds: Vec<&str> = rb.steps.iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                "ini", "repo", "repo", "packages", "packages", "kernels", "repo", "packages"
            ]
        );
    }

    #[test]
    fn relative_path_refused() {
        let e = error("[[step]]\nfile = { path = \"etc/x\", content = \"\" }\n");
        assert!(
            e.starts_with("rb.toml:2:17: `path` must be an absolute path"),
            "{e}"
        );
    }
}
