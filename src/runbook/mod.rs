//! The runbook: an ordered list of steps, each one resource with where and when it applies.
//!
//! A TOML file of `[[step]]` tables. Each step has exactly one resource table (one of
//! [`resource::KINDS`](crate::resource::KINDS)), an optional `name`, `hosts` (a pattern,
//! default `all`), `when` (a condition on facts) and `check_only` (evaluated, never
//! applied). Every problem, from a TOML syntax error to an invalid regex inside a step, is
//! reported as `file:line:column`.

pub mod condition;
pub mod context;
pub mod lifecycle;
pub mod template;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::inventory::{HostPattern, Inventory};
use crate::resource::{KINDS, Need, Placement, RawStep, Resource};
use crate::source::{SourceError, read_text};

pub use condition::Condition;
use context::{FACT_NAMES, Vars};
use template::StepTemplate;
use values::{ValueDef, ValueSpec};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    #[serde(default)]
    vars: BTreeMap<Spanned<String>, toml::Value>,
    #[serde(default)]
    values: BTreeMap<Spanned<String>, Spanned<ValueSpec>>,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

/// What every templated step of a runbook renders against: the text it re-reads with
/// rendered values, and the runbook's values.
#[derive(Debug)]
pub struct Source {
    /// The runbook file.
    pub file: PathBuf,
    /// Its text.
    pub text: String,
    /// `[values]`, by name.
    pub values: BTreeMap<String, ValueDef>,
}

/// A step whose resource table holds templates: rendered and validated per host.
#[derive(Debug)]
pub struct StepRender {
    /// 0-based index of the step in the runbook.
    index: usize,
    /// Its templated strings.
    pub template: StepTemplate,
    /// The runbook it re-reads.
    pub source: Arc<Source>,
}

impl StepRender {
    /// The step's resource with its templates rendered in `context`, validated as if the
    /// user had written the rendered values; errors point at the user's file.
    pub fn render(
        &self,
        context: &minijinja::Value,
    ) -> Result<(Box<dyn Resource>, Vec<String>), SourceError> {
        let source = &self.source;
        let env = template::environment();
        let rendered = template::render(&source.file, &source.text, &self.template, &env, context)?;
        let back = |span: std::ops::Range<usize>, message: String| {
            let at = rendered.original_offset(span.start);
            SourceError::at(&source.file, &source.text, at..at, message)
        };
        let raw: RawRunbook = toml::from_str(&rendered.text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            back(
                span,
                format!("with its templates rendered: {}", e.message().trim()),
            )
        })?;
        let step = raw.step.into_iter().nth(self.index).ok_or_else(|| {
            SourceError::file(&source.file, "internal error: the rendered step is missing")
        })?;
        let span = step.span();
        let mut resources = step
            .into_inner()
            .resources()
            .map_err(|e| back(e.span.unwrap_or_else(|| span.clone()), e.message))?;
        match resources.pop() {
            Some((_, resource)) if resources.is_empty() => Ok((resource, rendered.values)),
            _ => Err(back(
                span,
                "internal error: the rendered step changed shape".into(),
            )),
        }
    }
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
    /// What it wants, when it has no templates (else see `render`).
    pub resource: Option<Box<dyn Resource>>,
    /// For a step with templates: how to render it per host.
    pub render: Option<StepRender>,
    /// Where it runs (its kind's placement).
    pub placement: Placement,
    /// What the engine provides it besides facts (its kind's, and the booted kernel when
    /// a template reads `booted`).
    pub needs: Vec<Need>,
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

/// A lifecycle step (`recreate`, `reboot`): run after every resource step is applied.
#[derive(Debug)]
pub struct LifecycleStep {
    /// 1-based position in the runbook.
    pub number: usize,
    /// The step's name, if it has one.
    pub name: Option<String>,
    /// Which machines it applies to.
    pub hosts: HostPattern,
    hosts_span: std::ops::Range<usize>,
    /// What it does and how.
    pub lifecycle: lifecycle::Lifecycle,
}

impl LifecycleStep {
    /// `step 9 (name)` or `step 9`, for messages.
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
    /// Resource steps in order.
    pub steps: Vec<Step>,
    /// Lifecycle steps in order, all after the resource steps.
    pub lifecycle: Vec<LifecycleStep>,
    /// `[vars]`: the lowest-precedence variables, shared by every host.
    pub vars: Vars,
    source: Arc<Source>,
}

/// A `recreate` or `reboot` step validated; errors carry the span they are about.
fn lifecycle_step(
    number: usize,
    raw: RawStep,
    span: std::ops::Range<usize>,
) -> Result<LifecycleStep, (std::ops::Range<usize>, String)> {
    if let Some(w) = &raw.when {
        return Err((
            w.span(),
            "a `recreate` or `reboot` step has no `when` condition: its own `when` says which machines".into(),
        ));
    }
    if raw.check_only {
        return Err((
            span,
            "a `recreate` or `reboot` step cannot be `check_only`".into(),
        ));
    }
    let built = match (&raw.recreate, &raw.reboot) {
        (Some(r), _) => lifecycle::Lifecycle::from_spec(lifecycle::Action::Recreate, r),
        (_, Some(r)) => lifecycle::Lifecycle::from_spec(lifecycle::Action::Reboot, r),
        (None, None) => Err((None, "internal error: no lifecycle table".into())),
    };
    let lifecycle = built.map_err(|(s, m)| (s.unwrap_or_else(|| span.clone()), m))?;
    let (hosts, hosts_span) = match &raw.hosts {
        Some(h) => (HostPattern::new(h.get_ref()), h.span()),
        None => (HostPattern::new("all"), span),
    };
    Ok(LifecycleStep {
        number,
        name: raw.name,
        hosts,
        hosts_span,
        lifecycle,
    })
}

/// A variable or value name: an identifier templates can read, not a fact's name.
fn check_name(name: &str, what: &str) -> Result<(), String> {
    let ident = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(format!(
            "{what} name {name:?} is not an identifier (letters, digits, `_`)"
        ));
    }
    if FACT_NAMES.contains(&name) {
        return Err(format!(
            "`{name}` is a fact: a {what} cannot be named so (facts are what the host says)"
        ));
    }
    Ok(())
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
        let at = |span: std::ops::Range<usize>, message: String| {
            SourceError::at(file, &text, span, message)
        };
        let mut values = BTreeMap::new();
        for (name, spec) in &raw.values {
            check_name(name.get_ref(), "value").map_err(|m| at(name.span(), m))?;
            let def = ValueDef::from_spec(spec.get_ref()).map_err(|m| at(spec.span(), m))?;
            values.insert(name.get_ref().clone(), def);
        }
        let mut vars = Vars::new();
        for (name, value) in &raw.vars {
            check_name(name.get_ref(), "variable").map_err(|m| at(name.span(), m))?;
            if values.contains_key(name.get_ref()) {
                return Err(at(
                    name.span(),
                    format!("`{}` is both a variable and a value", name.get_ref()),
                ));
            }
            vars.insert(name.get_ref().clone(), value.clone());
        }
        let mut templates = template::find(file, &text, KINDS)?;
        let source = Arc::new(Source {
            file: file.to_path_buf(),
            text: text.clone(),
            values,
        });
        let mut steps = Vec::with_capacity(raw.step.len());
        let mut lifecycle: Vec<LifecycleStep> = Vec::new();
        for (i, spanned) in raw.step.into_iter().enumerate() {
            let span = spanned.span();
            let template = templates.remove(&i);
            let raw = spanned.into_inner();
            let kinds = raw.kinds();
            let cycles = usize::from(raw.recreate.is_some()) + usize::from(raw.reboot.is_some());
            if kinds.len() + cycles != 1 {
                return Err(at(
                    span,
                    format!(
                        "step {} must have exactly one resource table (one of: {}) or one of `recreate`, `reboot`; found {}",
                        i + 1,
                        KINDS.join(", "),
                        kinds.len() + cycles
                    ),
                ));
            }
            if cycles == 1 {
                lifecycle.push(lifecycle_step(i + 1, raw, span).map_err(|(s, m)| at(s, m))?);
                continue;
            }
            if let Some(first) = lifecycle.first() {
                return Err(at(
                    span,
                    format!(
                        "step {} comes after {}, which runs once every other step is applied: move it before {}",
                        i + 1,
                        first.label(),
                        first.label()
                    ),
                ));
            }
            let (kind, placement, kind_needs) = kinds[0];
            let mut needs = kind_needs.to_vec();
            // A templated step is validated per host, once its values are known.
            let resource = match &template {
                Some(_) => None,
                None => {
                    let mut resources = raw
                        .resources()
                        .map_err(|e| at(e.span.unwrap_or_else(|| span.clone()), e.message))?;
                    resources.pop().map(|(_, r)| r)
                }
            };
            let when = match &raw.when {
                Some(w) => Some(Condition::parse(w.get_ref()).map_err(|e| {
                    // +1 skips the opening quote of a basic string.
                    let offset = w.span().start + 1 + e.offset;
                    at(offset..offset, format!("in `when`: {e}"))
                })?),
                None => None,
            };
            let (hosts, hosts_span) = match &raw.hosts {
                Some(h) => (HostPattern::new(h.get_ref()), h.span()),
                None => (HostPattern::new("all"), span.clone()),
            };
            let render = template.map(|template| {
                if template.names().contains("booted") && !needs.contains(&Need::BootedKernel) {
                    needs.push(Need::BootedKernel);
                }
                StepRender {
                    index: i,
                    template,
                    source: source.clone(),
                }
            });
            steps.push(Step {
                number: i + 1,
                name: raw.name,
                hosts,
                hosts_span,
                when,
                check_only: raw.check_only,
                kind,
                resource,
                render,
                placement,
                needs,
            });
        }
        Ok(Runbook {
            file: file.to_path_buf(),
            text,
            steps,
            lifecycle,
            vars,
            source,
        })
    }

    /// The runbook's `[values]`, by name.
    pub fn values(&self) -> &BTreeMap<String, ValueDef> {
        &self.source.values
    }

    /// Checks that every name the templates read is defined for `host` (a fact, a value or
    /// one of `vars`), before anything is contacted: an undefined name is an error at its
    /// place in the file, never an empty string.
    pub fn check_names(&self, host: &str, vars: &Vars, step: &Step) -> Result<(), SourceError> {
        let Some(render) = &step.render else {
            return Ok(());
        };
        for name in render.template.names() {
            let known = FACT_NAMES.contains(&name.as_str())
                || self.values().contains_key(&name)
                || vars.contains_key(&name);
            if !known {
                let at = render
                    .template
                    .first_use(&name)
                    .map_or(0, |s| s.offset_of(&name));
                return Err(SourceError::at(
                    &self.file,
                    &self.text,
                    at..at,
                    format!(
                        "`{name}` is not defined for {host}: define it in the runbook's \
                         [vars], the inventory (host or group `vars`), or with -e {name}=VALUE"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks every step's `hosts` pattern against the inventory, so a typo in a group name
    /// stops the run before anything is touched.
    pub fn check_hosts(&self, inventory: &Inventory) -> Result<(), SourceError> {
        let patterns = self
            .steps
            .iter()
            .map(|s| (&s.hosts, &s.hosts_span))
            .chain(self.lifecycle.iter().map(|s| (&s.hosts, &s.hosts_span)));
        for (hosts, span) in patterns {
            hosts.select(inventory).map_err(|e| {
                SourceError::at(&self.file, &self.text, span.clone(), e.to_string())
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
    fn lifecycle_steps_come_last_and_point_at_their_mistakes() {
        let rb = Runbook::parse(
            Path::new("rb.toml"),
            "[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n[[step]]\nname = \"boot it\"\nhosts = \"guests\"\nrecreate = { serial = 2 }\n[[step]]\nhosts = \"hosts\"\nreboot = { when = \"always\" }\n".into(),
        )
        .unwrap();
        assert_eq!(rb.steps.len(), 1);
        assert_eq!(rb.lifecycle.len(), 2);
        assert_eq!(rb.lifecycle[0].label(), "step 2 (boot it)");
        assert_eq!(
            rb.lifecycle[0].lifecycle.serial,
            crate::inventory::Amount::Count(2)
        );
        assert_eq!(rb.lifecycle[1].lifecycle.when, lifecycle::When::Always);
        let e = error(
            "[[step]]\nrecreate = {}\n[[step]]\nline = { path = \"/etc/securetty\", line = \"ttyS0\" }\n",
        );
        assert!(
            e.starts_with("rb.toml:3:1: step 2 comes after step 1, which runs once every other step is applied"),
            "{e}"
        );
        let e = error("[[step]]\nrecreate = { when = \"sometimes\" }\n");
        assert!(e.starts_with("rb.toml:2:21: `when = \"sometimes\"`"), "{e}");
        let e = error("[[step]]\nwhen = \"cpus == 1\"\nreboot = {}\n");
        assert!(
            e.starts_with("rb.toml:2:8: a `recreate` or `reboot` step has no `when`"),
            "{e}"
        );
        let e = error("[[step]]\nreboot = {}\nrecreate = {}\n");
        assert!(e.contains("found 2"), "{e}");
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
    fn command_refusals_point_at_the_value() {
        let at = |table: &str| error(&format!("[[step]]\ncommand = {table}\n"));
        let e = at("{ run = \"yum -y install python24\" }");
        assert!(
            e.starts_with("rb.toml:2:19: a `command` without a guard would run on every apply and never converge"),
            "{e}"
        );
        let e = at("{ run = \"x\", always = false }");
        assert!(
            e.starts_with("rb.toml:2:19: a `command` without a guard"),
            "{e}"
        );
        let e = at("{ run = \"x\", unless = \"y\", always = true }");
        assert!(
            e.starts_with("rb.toml:2:47: `always = true` contradicts the guards"),
            "{e}"
        );
        let e = at("{ run = \"x\", creates = \"var/run/x\" }");
        assert!(
            e.starts_with("rb.toml:2:34: `creates` must be an absolute path"),
            "{e}"
        );
        let e = at("{ run = \"x\", unless = \" \" }");
        assert!(e.starts_with("rb.toml:2:33: `unless` is empty"), "{e}");
        let e = at("{ run = \"x\", onlyif = \"y\", env = { \"LC-ALL\" = \"C\" } }");
        assert!(
            e.starts_with("rb.toml:2:46: `env` name \"LC-ALL\" is not a variable name"),
            "{e}"
        );
        let e = at("{ run = \"x\", creates = \"/a\", removes = \"/a\" }");
        assert!(
            e.starts_with("rb.toml:2:50: `creates` and `removes` name the same path"),
            "{e}"
        );
        let e = at("{ run = \"x\", unless = \"y\", user = \"root\" }");
        assert!(e.starts_with("rb.toml:2:"), "{e}");
        assert!(e.contains("unknown field `user`"), "{e}");
    }

    #[test]
    fn packages_preview_refusals_point_at_the_value() {
        let e = error("[[step]]\npackages = { update = true, previw = \"none\" }\n");
        assert!(e.starts_with("rb.toml:2:"), "{e}");
        assert!(e.contains("unknown field `previw`"), "{e}");
        let e = error("[[step]]\npackages = { update = true, preview = \"off\" }\n");
        assert!(
            e.starts_with("rb.toml:2:39: `preview` can only be \"none\""),
            "{e}"
        );
    }

    #[test]
    fn grid_example_reads() {
        let rb = Runbook::parse(
            Path::new("examples/grid.toml"),
            include_str!("../../examples/grid.toml").to_string(),
        )
        .unwrap();
        let kinds: Vec<&str> = rb.steps.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, ["packages", "line", "command"]);
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
