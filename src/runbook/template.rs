//! Templated strings in runbook steps: `target = "vmlinuz-{{ release }}"`, rendered per host.
//!
//! The seed names `2.6.9-67.0.1.ELxenU` in five places, and after the next update every one
//! is wrong. A string in a step's resource table that holds `{{`, `{%` or `{#` is a
//! minijinja template (Jinja2's syntax, as Ansible users know it), rendered for each host
//! with that host's values and variables before the step is validated and planned.
//!
//! Rendering works on values, never on shell text or TOML syntax: each rendered string is
//! written back into the runbook text as a TOML string literal (escaped here), the step is
//! read again and validated as if the user had written the rendered value, and only then do
//! resources build scripts with the one quoting function. A value holding a quote, a
//! newline or `$(...)` is therefore just that value. Undefined names are errors (strict
//! mode), and every error points at the string in the user's file as `file:line:column`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};

use crate::source::SourceError;

/// One templated string of a step, where it is in the runbook.
#[derive(Debug, Clone)]
pub struct Templated {
    /// Byte span of the TOML string literal (quotes included) in the runbook text.
    pub span: Range<usize>,
    /// The string's value: the template source.
    pub source: String,
    /// Whether offsets in `source` map one to one onto the literal (no escapes), so an
    /// error inside the template can point at its column.
    exact: bool,
    /// Top-level names the template reads (variables, values, facts).
    pub names: BTreeSet<String>,
}

impl Templated {
    /// The offset in the runbook text of byte `offset` of the template source.
    fn file_offset(&self, offset: usize) -> usize {
        if self.exact {
            self.span.start + 1 + offset.min(self.source.len())
        } else {
            self.span.start
        }
    }

    /// Where the first use of `name` is, as an offset in the runbook text.
    pub fn offset_of(&self, name: &str) -> usize {
        let found = self.source.match_indices(name).find(|(i, _)| {
            let before = self.source[..*i].chars().next_back();
            let after = self.source[i + name.len()..].chars().next();
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            !word(before) && !word(after)
        });
        self.file_offset(found.map_or(0, |(i, _)| i))
    }
}

/// The templated strings of one step, in file order.
#[derive(Debug, Clone, Default)]
pub struct StepTemplate {
    /// Its strings.
    pub strings: Vec<Templated>,
}

impl StepTemplate {
    /// Every top-level name the step's templates read.
    pub fn names(&self) -> BTreeSet<String> {
        self.strings
            .iter()
            .flat_map(|s| s.names.iter().cloned())
            .collect()
    }

    /// The first string that reads `name`, for error positions.
    pub fn first_use(&self, name: &str) -> Option<&Templated> {
        self.strings.iter().find(|s| s.names.contains(name))
    }
}

/// The template environment every runbook renders with: strict about undefined names, and
/// keeping a trailing newline (file contents end in one).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env
}

/// True when a string is a template.
fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

/// Finds the templated strings in each step's resource table (`kinds` names the tables;
/// `name`, `hosts` and `when` are never rendered), compiling each to check its syntax.
/// Keys are step indexes (0-based); steps without templates are absent.
pub fn find(
    file: &Path,
    text: &str,
    kinds: &[&str],
) -> Result<BTreeMap<usize, StepTemplate>, SourceError> {
    let doc = toml_edit::ImDocument::parse(text)
        .map_err(|e| SourceError::file(file, e.message().to_string()))?;
    let env = environment();
    let mut found = BTreeMap::new();
    let Some(steps) = doc
        .get("step")
        .and_then(toml_edit::Item::as_array_of_tables)
    else {
        return Ok(found);
    };
    for (i, table) in steps.iter().enumerate() {
        let mut strings = Vec::new();
        for (key, item) in table.iter() {
            if kinds.contains(&key) {
                collect_item(item, text, &mut strings);
            }
        }
        if strings.is_empty() {
            continue;
        }
        for s in &mut strings {
            let template = env.template_from_str(&s.source).map_err(|e| {
                let at = e.range().map_or(s.span.start, |r| s.file_offset(r.start));
                SourceError::at(
                    file,
                    text,
                    at..at,
                    format!("in a template: {}", describe(&e)),
                )
            })?;
            s.names = template.undeclared_variables(false).into_iter().collect();
        }
        strings.sort_by_key(|s| s.span.start);
        found.insert(i, StepTemplate { strings });
    }
    Ok(found)
}

fn collect_item(item: &toml_edit::Item, text: &str, out: &mut Vec<Templated>) {
    match item {
        toml_edit::Item::Value(v) => collect_value(v, text, out),
        toml_edit::Item::Table(t) => {
            for (_, item) in t.iter() {
                collect_item(item, text, out);
            }
        }
        toml_edit::Item::ArrayOfTables(a) => {
            for t in a.iter() {
                for (_, item) in t.iter() {
                    collect_item(item, text, out);
                }
            }
        }
        toml_edit::Item::None => {}
    }
}

fn collect_value(value: &toml_edit::Value, text: &str, out: &mut Vec<Templated>) {
    match value {
        toml_edit::Value::String(s) if is_template(s.value()) => {
            if let Some(span) = s.span() {
                let literal = text.get(span.clone()).unwrap_or_default();
                let inner = literal.get(1..literal.len().saturating_sub(1));
                let exact = inner == Some(s.value().as_str())
                    && (literal.starts_with('\'') || !literal.contains('\\'))
                    && !literal.starts_with("\"\"\"")
                    && !literal.starts_with("'''");
                out.push(Templated {
                    span,
                    source: s.value().clone(),
                    exact,
                    names: BTreeSet::new(),
                });
            }
        }
        toml_edit::Value::Array(a) => {
            for v in a.iter() {
                collect_value(v, text, out);
            }
        }
        toml_edit::Value::InlineTable(t) => {
            for (_, v) in t.iter() {
                collect_value(v, text, out);
            }
        }
        _ => {}
    }
}

/// A minijinja error as one line: its kind and detail, without the template name.
fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// The runbook text with one step's templates rendered, and how to map positions in it
/// back to the user's file.
#[derive(Debug)]
pub struct Rendered {
    /// The text with each templated literal replaced by the literal of its rendered value.
    pub text: String,
    /// (span in `text`, span in the original) of each replacement, in order.
    replaced: Vec<(Range<usize>, Range<usize>)>,
    /// Each template's rendered value, in the step's order: what the plan shows.
    pub values: Vec<String>,
}

impl Rendered {
    /// The offset in the user's file of `offset` in the rendered text: inside a rendered
    /// value, the start of its template; elsewhere shifted by the replacements before it.
    pub fn original_offset(&self, offset: usize) -> usize {
        let mut shift: isize = 0;
        for (new, old) in &self.replaced {
            if offset < new.start {
                break;
            }
            if offset < new.end {
                return old.start;
            }
            shift = old.end as isize - new.end as isize;
        }
        offset.saturating_add_signed(shift)
    }
}

/// Renders `step`'s templates in `text` with `context`; an error points at the template
/// in the user's file.
pub fn render(
    file: &Path,
    text: &str,
    step: &StepTemplate,
    env: &Environment<'_>,
    context: &Value,
) -> Result<Rendered, SourceError> {
    let mut out = String::with_capacity(text.len());
    let mut replaced = Vec::new();
    let mut values = Vec::new();
    let mut at = 0;
    for s in &step.strings {
        let value = env.render_str(&s.source, context).map_err(|e| {
            let offset = e.range().map_or(s.span.start, |r| s.file_offset(r.start));
            SourceError::at(
                file,
                text,
                offset..offset,
                format!("in a template: {}", describe(&e)),
            )
        })?;
        out.push_str(&text[at..s.span.start]);
        let start = out.len();
        out.push_str(&toml_string(&value));
        replaced.push((start..out.len(), s.span.clone()));
        values.push(value);
        at = s.span.end;
    }
    out.push_str(&text[at..]);
    Ok(Rendered {
        text: out,
        replaced,
        values,
    })
}

/// `value` as a TOML basic string literal: quotes, backslashes and control characters
/// escaped, so whatever a template renders stays one string value.
pub fn toml_string(value: &str) -> String {
    let mut s = String::with_capacity(value.len() + 2);
    s.push('"');
    for c in value.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            '\r' => s.push_str("\\r"),
            c if c.is_control() => s.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: &[&str] = &["symlink", "line", "file"];

    fn found(text: &str) -> BTreeMap<usize, StepTemplate> {
        find(Path::new("rb.toml"), text, KINDS).unwrap()
    }

    #[test]
    fn finds_templates_in_resource_tables_only() {
        let text = "[[step]]\nname = \"{{ x }}\"\nsymlink = { path = \"/boot/vmlinuz-xenU\", target = \"vmlinuz-{{ release }}\" }\n[[step]]\nline = { path = \"/etc/a\", line = \"plain\" }\n[[step]]\nfile = { path = \"/etc/motd\", content = '''\n{{ site }} on {{ hostname }}\n''' }\n";
        let f = found(text);
        assert_eq!(f.keys().copied().collect::<Vec<_>>(), [0, 2]);
        let s = &f[&0].strings[0];
        assert_eq!(s.source, "vmlinuz-{{ release }}");
        assert_eq!(&text[s.span.clone()], "\"vmlinuz-{{ release }}\"");
        assert!(s.exact);
        assert_eq!(f[&0].names(), BTreeSet::from(["release".to_string()]));
        assert_eq!(
            f[&2].names(),
            BTreeSet::from(["site".to_string(), "hostname".to_string()])
        );
        assert!(!f[&2].strings[0].exact);
    }

    #[test]
    fn syntax_error_points_into_the_string() {
        let text =
            "[[step]]\nsymlink = { path = \"/boot/x\", target = \"vmlinuz-{{ release }\" }\n";
        let e = find(Path::new("rb.toml"), text, KINDS)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("rb.toml:2:"), "{e}");
        assert!(e.contains("in a template: syntax error"), "{e}");
    }

    #[test]
    fn renders_values_as_literals_and_maps_positions_back() {
        let text = "[[step]]\nsymlink = { path = \"/boot/{{ a }}\", target = \"{{ b }}\" }\n";
        let f = found(text);
        let env = environment();
        let ctx = Value::from_serialize(BTreeMap::from([
            ("a", "vmlinuz-\"x\"\n$(reboot)"),
            ("b", "t"),
        ]));
        let r = render(Path::new("rb.toml"), text, &f[&0], &env, &ctx).unwrap();
        let parsed: toml::Value = toml::from_str(&r.text).unwrap();
        assert_eq!(
            parsed["step"][0]["symlink"]["path"].as_str(),
            Some("/boot/vmlinuz-\"x\"\n$(reboot)"),
            "a rendered value stays one string, whatever it holds"
        );
        assert_eq!(r.values, ["/boot/vmlinuz-\"x\"\n$(reboot)", "t"]);
        let target_at = r.text.find("\"t\"").unwrap();
        assert_eq!(
            r.original_offset(target_at),
            text.find("\"{{ b }}\"").unwrap()
        );
        let end = r.text.len() - 1;
        assert_eq!(r.original_offset(end), text.len() - 1);
    }

    #[test]
    fn undefined_name_is_an_error_never_empty() {
        let text =
            "[[step]]\nsymlink = { path = \"/boot/x\", target = \"vmlinuz-{{ release }}\" }\n";
        let f = found(text);
        let env = environment();
        let e = render(Path::new("rb.toml"), text, &f[&0], &env, &Value::from(()))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("rb.toml:2:"), "{e}");
        assert!(e.contains("undefined"), "{e}");
    }

    #[test]
    fn offset_of_a_name_is_its_column() {
        let text =
            "[[step]]\nsymlink = { path = \"/b\", target = \"x-{{ rel }}-{{ release }}\" }\n";
        let f = found(text);
        let s = &f[&0].strings[0];
        assert_eq!(&text[s.offset_of("release")..][..7], "release");
    }
}
