//! `ini`: one key of an INI file (yum.conf, dnf.conf, .repo files), or words in its value.
//!
//! The seed adds `kernel-xenU kernel-xenU-devel` to `installonlypkgs` "adding it if it does
//! not exist yet": `contains` adds just the missing words, keeping the others and their
//! order; `value` sets the whole value; `absent` removes words. Everything else in the file
//! stays byte for byte. When a key is written twice, the last one is edited, as yum reads it.
//! Keys are found in any case, as yum lowercases option names: `InstallOnlyPkgs` is
//! `installonlypkgs`, edited in place; the plan notes that dnf 4.2+, which matches names
//! exactly, does not read such a line.

use serde::Deserialize;
use toml::Spanned;

use crate::formats::ini::{IniError, IniFile, key_problem, value_problem};
use crate::facts::FactKey;

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Resource, Scope, StepPlan, editable_file, file_fact};

/// The `ini = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IniSpec {
    /// File to edit.
    pub path: Spanned<String>,
    /// Section name without brackets (default `main`).
    pub section: Option<Spanned<String>>,
    /// The key.
    pub key: Spanned<String>,
    /// Set the key to exactly this value.
    pub value: Option<Spanned<String>>,
    /// Words the value must contain.
    pub contains: Option<Spanned<Vec<String>>>,
    /// Words the value must not contain.
    pub absent: Option<Spanned<Vec<String>>>,
    /// Create the file when it does not exist.
    #[serde(default)]
    pub create: bool,
}

/// What should be true of the key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Want {
    Value(Vec<u8>),
    Words {
        contains: Vec<Vec<u8>>,
        absent: Vec<Vec<u8>>,
    },
}

/// A validated `ini` step.
#[derive(Debug, Clone)]
pub struct IniResource {
    path: String,
    section: Vec<u8>,
    key: Vec<u8>,
    want: Want,
    create: bool,
}

impl FromSpec for IniResource {
    type Spec = IniSpec;

    /// Validates a spec: exactly one of `value` or `contains`/`absent`, clean words.
    fn from_spec(spec: &IniSpec) -> Result<IniResource, SpecError> {
        let path = spec::path("path", &spec.path)?;
        spec::single_line("key", &spec.key)?;
        let key = spec.key.get_ref().trim();
        if let Some(why) = key_problem(key.as_bytes()) {
            return Err(SpecError::at(
                spec.key.span(),
                format!("`key` {key:?} is not a valid INI key: {why}"),
            ));
        }
        let section = match &spec.section {
            Some(section) => {
                spec::single_line("section", section)?;
                let name = section.get_ref();
                if name.is_empty() || name.contains([']', '[']) {
                    return Err(SpecError::at(
                        section.span(),
                        format!("`section` {name:?} cannot be an INI section name (no `[` or `]`)"),
                    ));
                }
                name.clone()
            }
            None => "main".to_string(),
        };
        let words =
            |field: &str, list: &Option<Spanned<Vec<String>>>| -> Result<Vec<Vec<u8>>, SpecError> {
                let Some(list) = list else {
                    return Ok(Vec::new());
                };
                list.get_ref()
                    .iter()
                    .map(|w| {
                        if w.is_empty() || w.chars().any(|c| c.is_whitespace() || c == '\0') {
                            Err(SpecError::at(
                                list.span(),
                                format!(
                                "`{field}` words must be non-empty and without spaces, got {w:?}"
                            ),
                            ))
                        } else if w.starts_with(';') {
                            Err(SpecError::at(
                                list.span(),
                                format!(
                                    "`{field}` word {w:?}: yum reads a `;` after a space as \
                                     the start of a comment"
                                ),
                            ))
                        } else {
                            Ok(w.as_bytes().to_vec())
                        }
                    })
                    .collect()
            };
        let want = match (
            &spec.value,
            spec.contains.is_some() || spec.absent.is_some(),
        ) {
            (Some(value), false) => {
                spec::single_line("value", value)?;
                if let Some(why) = value_problem(value.get_ref().as_bytes()) {
                    return Err(SpecError::at(
                        value.span(),
                        format!("`value` {:?} cannot be written: {why}", value.get_ref()),
                    ));
                }
                Want::Value(value.get_ref().as_bytes().to_vec())
            }
            (None, true) => Want::Words {
                contains: words("contains", &spec.contains)?,
                absent: words("absent", &spec.absent)?,
            },
            (Some(value), true) => {
                return Err(SpecError::at(
                    value.span(),
                    "use either `value` or `contains`/`absent`, not both",
                ));
            }
            (None, false) => {
                return Err(SpecError::step(
                    "an `ini` step needs `value`, `contains` or `absent`",
                ));
            }
        };
        Ok(IniResource {
            path,
            section: section.into_bytes(),
            key: key.as_bytes().to_vec(),
            want,
            create: spec.create,
        })
    }
}

impl Resource for IniResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![file_fact(&self.path)]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let file = editable_file(view, &self.path, self.create)?;
        let mut ini = IniFile::parse(file.bytes());
        let before = ini.get(&self.section, &self.key);
        let where_ = format!(
            "[{}] {}",
            String::from_utf8_lossy(&self.section),
            String::from_utf8_lossy(&self.key)
        );
        let refused = |e: IniError| PlanError::Refused(format!("{where_} in {}: {e}", self.path));
        let changed = match &self.want {
            Want::Value(value) => ini.set(&self.section, &self.key, value).map_err(refused)?,
            Want::Words { contains, absent } => {
                let add: Vec<&[u8]> = contains.iter().map(Vec::as_slice).collect();
                let remove: Vec<&[u8]> = absent.iter().map(Vec::as_slice).collect();
                let added = !add.is_empty()
                    && ini
                        .add_words(&self.section, &self.key, &add)
                        .map_err(refused)?;
                let removed = !remove.is_empty()
                    && ini
                        .remove_words(&self.section, &self.key, &remove)
                        .map_err(refused)?;
                added || removed
            }
        };
        let dnf_misses = ini.spelling_dnf_misses(&self.section, &self.key).map(|spelling| {
            format!(
                "{where_} is written `{}` in {}: yum reads it (it lowercases option names), \
                 dnf 4.2 and later do not (they match names exactly)",
                String::from_utf8_lossy(&spelling),
                self.path
            )
        });
        if !changed {
            let note = format!("{where_} in {} is already as wanted", self.path);
            return Ok(StepPlan::unchanged(match dnf_misses {
                Some(remark) => format!("{note}; {remark}"),
                None => note,
            }));
        }
        let after = ini.get(&self.section, &self.key).unwrap_or_default();
        let summary = match before {
            None => format!("add {where_} = {}", String::from_utf8_lossy(&after)),
            Some(old) => format!(
                "set {where_}: {} -> {}",
                String::from_utf8_lossy(&old),
                String::from_utf8_lossy(&after)
            ),
        };
        let mut plan = StepPlan::change(summary, file.write(&self.path, ini.to_bytes()));
        plan.note = dnf_misses;
        Ok(plan)
    }
}
