//! `repo`: a yum/dnf repository file: keys of one section, or every section disabled.
//!
//! The seed creates `Monash-base.repo` with two disabled sections, and switches from the
//! APAC-Grid repository with `sed -i.ORI -e 's/enabled=1/enabled=0/g' APAC-Grid.repo`.
//! Here `set` manages keys of one section (creating the file and the section when
//! missing), and `disable_all_in` writes `enabled=0` in every section (also those without
//! an `enabled` key, which yum reads as enabled), first saving the original beside it as
//! `backup` once, like `sed -i.ORI` (but never overwriting an earlier backup). Edits go
//! through `formats::ini`: comments and untouched lines stay byte for byte, and keys are
//! found in any case, as yum finds them (`Enabled=1` is `enabled`); the plan notes the keys
//! that dnf 4.2+, which matches names exactly, does not read.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::formats::ini::{IniError, IniFile, key_problem, value_problem};
use crate::facts::{FactKey, PathFact};
use crate::remote::{Action, Expect};

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan, editable_file, file_fact, stat_fact};

/// The `repo = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepoSpec {
    /// The .repo file whose `section` is managed.
    pub path: Option<Spanned<String>>,
    /// The repository id (section name) for `set`.
    pub section: Option<Spanned<String>>,
    /// Keys and values the section must have.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// A .repo file whose every section must be disabled.
    pub disable_all_in: Option<Spanned<String>>,
    /// With `disable_all_in`: suffix of a backup of the original, written once.
    pub backup: Option<Spanned<String>>,
}

#[derive(Debug, Clone)]
enum Want {
    Set {
        section: String,
        keys: BTreeMap<String, String>,
    },
    DisableAll {
        backup: Option<String>,
    },
}

/// A validated `repo` step.
#[derive(Debug, Clone)]
pub struct RepoResource {
    path: String,
    want: Want,
}

impl FromSpec for RepoResource {
    type Spec = RepoSpec;

    /// Validates a spec: either `path` + `section` + `set`, or `disable_all_in`.
    fn from_spec(spec: &RepoSpec) -> Result<RepoResource, SpecError> {
        match (&spec.path, &spec.disable_all_in) {
            (Some(path), None) => {
                let path = spec::path("path", path)?;
                let section = spec.section.as_ref().ok_or_else(|| {
                    SpecError::step("`repo` with `path` needs `section` and `set`")
                })?;
                let name = section.get_ref();
                if name.is_empty() || name.contains(['[', ']']) || name.contains(|c: char| c.is_control()) {
                    return Err(SpecError::at(
                        section.span(),
                        format!("{name:?} is not a repository id"),
                    ));
                }
                if spec.set.is_empty() {
                    return Err(SpecError::step(
                        "`repo` with `path` needs `set = { key = \"value\" }`",
                    ));
                }
                for (k, v) in &spec.set {
                    let control = |t: &str| t.chars().any(|c| c.is_control() && c != '\t');
                    let problem = key_problem(k.as_bytes())
                        .or(value_problem(v.as_bytes()))
                        .or((control(k) || control(v)).then_some("it contains a control character"));
                    if let Some(why) = problem {
                        return Err(SpecError::step(format!(
                            "`set`: {k:?} = {v:?} cannot be written: {why}"
                        )));
                    }
                }
                if spec.backup.is_some() {
                    return Err(SpecError::step("`backup` goes with `disable_all_in`"));
                }
                Ok(RepoResource {
                    path,
                    want: Want::Set {
                        section: name.clone(),
                        keys: spec.set.clone(),
                    },
                })
            }
            (None, Some(file)) => {
                let path = spec::path("disable_all_in", file)?;
                let backup = match &spec.backup {
                    Some(b) => {
                        let suffix = b.get_ref();
                        if suffix.is_empty() || suffix.contains(['/', '\0']) {
                            return Err(SpecError::at(
                                b.span(),
                                "`backup` is a suffix such as \".ORI\"",
                            ));
                        }
                        Some(format!("{path}{suffix}"))
                    }
                    None => None,
                };
                if spec.section.is_some() || !spec.set.is_empty() {
                    return Err(SpecError::step(
                        "`disable_all_in` takes no `section` or `set`",
                    ));
                }
                Ok(RepoResource {
                    path,
                    want: Want::DisableAll { backup },
                })
            }
            _ => Err(SpecError::step(
                "`repo` needs either `path` (with `section` and `set`) or `disable_all_in`",
            )),
        }
    }
}

impl RepoResource {
    /// The directory the repository file is in (`/etc/yum.repos.d`).
    fn directory(&self) -> String {
        match self.path.rsplit_once('/') {
            Some(("", _)) | None => "/".to_string(),
            Some((dir, _)) => dir.to_string(),
        }
    }
}

impl Resource for RepoResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.path)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        let mut keys = vec![file_fact(&self.path)];
        if let Want::Set { .. } = &self.want {
            keys.push(stat_fact(&self.directory()));
        }
        if let Want::DisableAll { backup: Some(b) } = &self.want {
            keys.push(stat_fact(b));
        }
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let refused = |what: &str, e: IniError| {
            PlanError::Refused(format!("{what} in {}: {e}", self.path))
        };
        match &self.want {
            Want::Set { section, keys } => {
                let directory = self.directory();
                if *view.path(&self.path)? == PathFact::Absent
                    && !matches!(
                        view.path(&directory)?,
                        PathFact::Dir { .. } | PathFact::Symlink { .. }
                    )
                {
                    return Err(PlanError::Refused(format!(
                        "{} cannot be created: {directory} is not a directory here (is yum or dnf installed? the package manager owns it)",
                        self.path
                    )));
                }
                let file = editable_file(view, &self.path, true)?;
                let mut ini = IniFile::parse(file.bytes());
                let mut changed = Vec::new();
                let mut misspelled = Vec::new();
                for (k, v) in keys {
                    let set = ini.set(section.as_bytes(), k.as_bytes(), v.as_bytes());
                    if set.map_err(|e| refused(&format!("[{section}] {k}"), e))? {
                        changed.push(format!("{k}={v}"));
                    }
                    if let Some(s) = ini.spelling_dnf_misses(section.as_bytes(), k.as_bytes()) {
                        misspelled.push(format!("[{section}] {}", String::from_utf8_lossy(&s)));
                    }
                }
                let remark = dnf_remark(&misspelled, &self.path);
                if changed.is_empty() {
                    let note = format!("[{section}] in {} is already as wanted", self.path);
                    return Ok(StepPlan::unchanged(match remark {
                        Some(remark) => format!("{note}; {remark}"),
                        None => note,
                    }));
                }
                let mut plan = StepPlan::change(
                    format!("set [{section}] {}", changed.join(", ")),
                    file.write(&self.path, ini.to_bytes()),
                );
                plan.note = remark;
                Ok(plan)
            }
            Want::DisableAll { backup } => {
                if *view.path(&self.path)? == PathFact::Absent {
                    return Ok(StepPlan::unchanged(format!("{} does not exist", self.path)));
                }
                let file = editable_file(view, &self.path, false)?;
                let mut ini = IniFile::parse(file.bytes());
                let mut disabled = Vec::new();
                let mut misspelled = Vec::new();
                for section in ini.sections() {
                    if section.is_empty() {
                        continue;
                    }
                    let name = String::from_utf8_lossy(&section).into_owned();
                    let set = ini.set(&section, b"enabled", b"0");
                    if set.map_err(|e| refused(&format!("[{name}] enabled"), e))? {
                        disabled.push(name.clone());
                    }
                    if let Some(s) = ini.spelling_dnf_misses(&section, b"enabled") {
                        misspelled.push(format!("[{name}] {}", String::from_utf8_lossy(&s)));
                    }
                }
                let remark = dnf_remark(&misspelled, &self.path);
                if disabled.is_empty() {
                    let note = format!("every repository in {} is already disabled", self.path);
                    return Ok(StepPlan::unchanged(match remark {
                        Some(remark) => format!("{note}; {remark}"),
                        None => note,
                    }));
                }
                let mut changes = Vec::new();
                if let Some(backup) = backup
                    && *view.path(backup)? == PathFact::Absent
                {
                    changes.push(Planned {
                        summary: format!("save the original as {backup}"),
                        action: Action::WriteFile {
                            path: backup.clone(),
                            expect: Expect::Absent,
                            content: file.bytes().to_vec(),
                            mode: file.mode,
                            owner: file.owner.clone(),
                        },
                        detail: None,
                    });
                }
                changes.push(Planned {
                    summary: format!("disable {}", disabled.join(", ")),
                    action: file.write(&self.path, ini.to_bytes()),
                    detail: None,
                });
                Ok(StepPlan {
                    changes,
                    note: remark,
                    warning: None,
                    promises: Vec::new(),
                transaction: Vec::new(),
                })
            }
        }
    }
}

/// The remark on keys yum reads but dnf 4.2+ does not, as they are spelled in another case:
/// libdnf matches option names exactly, and dnf's are lowercase.
fn dnf_remark(misspelled: &[String], path: &str) -> Option<String> {
    (!misspelled.is_empty()).then(|| {
        format!(
            "{} in {path}: yum reads these keys (it lowercases option names), dnf 4.2 and \
             later do not (they match names exactly)",
            misspelled.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Facts;

    fn resource(spec: &str) -> RepoResource {
        RepoResource::from_spec(&toml::from_str(spec).unwrap()).unwrap()
    }

    fn file(content: &str) -> PathFact {
        PathFact::root_file(content.as_bytes())
    }

    const APAC: &str = "# APAC Grid\n[apacgrid]\nname=APAC\nbaseurl=http://x/\nenabled=1\n\n[apacgrid-testing]\nname=testing\nenabled = 0\n\n[apacgrid-extra]\nname=extra\n";

    #[test]
    fn disable_all_writes_the_backup_once_and_every_section() {
        let r = resource("disable_all_in = \"/etc/yum.repos.d/APAC-Grid.repo\"\nbackup = \".ORI\"");
        let mut facts = Facts::default();
        facts
            .paths
            .insert("/etc/yum.repos.d/APAC-Grid.repo".into(), file(APAC));
        facts.paths.insert(
            "/etc/yum.repos.d/APAC-Grid.repo.ORI".into(),
            PathFact::Absent,
        );
        let plan = r.plan(&HostView::new(&facts)).unwrap();
        assert_eq!(plan.changes.len(), 2);
        assert_eq!(
            plan.changes[0].summary,
            "save the original as /etc/yum.repos.d/APAC-Grid.repo.ORI"
        );
        assert_eq!(plan.changes[1].summary, "disable apacgrid, apacgrid-extra");
        let Action::WriteFile { content, .. } = &plan.changes[1].action else {
            panic!()
        };
        assert_eq!(
            String::from_utf8_lossy(content),
            "# APAC Grid\n[apacgrid]\nname=APAC\nbaseurl=http://x/\nenabled=0\n\n[apacgrid-testing]\nname=testing\nenabled = 0\n\n[apacgrid-extra]\nname=extra\nenabled=0\n"
        );
        // An existing backup is never overwritten.
        facts
            .paths
            .insert("/etc/yum.repos.d/APAC-Grid.repo.ORI".into(), file("older"));
        let plan = r.plan(&HostView::new(&facts)).unwrap();
        assert_eq!(plan.changes.len(), 1);
    }

    #[test]
    fn set_creates_the_file_and_section_then_converges() {
        let r = resource(
            "path = \"/etc/yum.repos.d/Monash-base.repo\"\nsection = \"monashbase\"\nset = { enabled = \"0\", baseurl = \"http://ftp.monash.edu.au/pub/linux/CentOS/4.6/os/i386/\" }",
        );
        let mut facts = Facts::default();
        facts
            .paths
            .insert("/etc/yum.repos.d/Monash-base.repo".into(), PathFact::Absent);
        // No /etc/yum.repos.d: refused at plan time, not left to fail in the apply.
        facts
            .paths
            .insert("/etc/yum.repos.d".into(), PathFact::Absent);
        let refused = r.plan(&HostView::new(&facts)).unwrap_err().to_string();
        assert!(
            refused.contains("/etc/yum.repos.d/Monash-base.repo cannot be created: /etc/yum.repos.d is not a directory here"),
            "{refused}"
        );
        facts.paths.insert(
            "/etc/yum.repos.d".into(),
            PathFact::Dir {
                mode: 0o755,
                uid: 0,
                gid: 0,
            },
        );
        let plan = r.plan(&HostView::new(&facts)).unwrap();
        let Action::WriteFile { content, .. } = &plan.changes[0].action else {
            panic!()
        };
        let text = String::from_utf8_lossy(content).into_owned();
        assert_eq!(
            text,
            "[monashbase]\nbaseurl=http://ftp.monash.edu.au/pub/linux/CentOS/4.6/os/i386/\nenabled=0\n"
        );
        facts
            .paths
            .insert("/etc/yum.repos.d/Monash-base.repo".into(), file(&text));
        assert!(r.plan(&HostView::new(&facts)).unwrap().changes.is_empty());
    }

    /// yum reads `Enabled` as `enabled`: it is edited in place, not shadowed by a second key.
    #[test]
    fn disable_all_edits_a_differently_cased_enabled_in_place() {
        let r = resource("disable_all_in = \"/etc/yum.repos.d/x.repo\"");
        let mut facts = Facts::default();
        facts.paths.insert(
            "/etc/yum.repos.d/x.repo".into(),
            file("[x]\nEnabled = 1\n\n[y]\nenabled=1\n"),
        );
        let plan = r.plan(&HostView::new(&facts)).unwrap();
        let Action::WriteFile { content, .. } = &plan.changes[0].action else {
            panic!()
        };
        assert_eq!(
            String::from_utf8_lossy(content),
            "[x]\nEnabled = 0\n\n[y]\nenabled=0\n"
        );
        assert_eq!(
            plan.note.as_deref(),
            Some(
                "[x] Enabled in /etc/yum.repos.d/x.repo: yum reads these keys (it lowercases \
                 option names), dnf 4.2 and later do not (they match names exactly)"
            )
        );
    }

    #[test]
    fn keys_a_reader_would_skip_are_refused() {
        for set in ["set = { remove_leaf_only = \"1\" }", "set = { \"a:b\" = \"1\" }"] {
            let spec: RepoSpec =
                toml::from_str(&format!("path = \"/a\"\nsection = \"x\"\n{set}")).unwrap();
            assert!(RepoResource::from_spec(&spec).is_err(), "{set}");
        }
        let spec: RepoSpec =
            toml::from_str("path = \"/a\"\nsection = \"x\"\nset = { name = \"a ; b\" }").unwrap();
        assert!(RepoResource::from_spec(&spec).is_err());
    }

    #[test]
    fn specs_are_one_or_the_other() {
        let bad: RepoSpec = toml::from_str("path = \"/a\"\ndisable_all_in = \"/b\"").unwrap();
        assert!(RepoResource::from_spec(&bad).is_err());
        let bad: RepoSpec = toml::from_str("path = \"/a\"\nsection = \"x\"").unwrap();
        assert!(RepoResource::from_spec(&bad).is_err());
    }
}
