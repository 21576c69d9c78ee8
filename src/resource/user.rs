//! `user`: a system account with a fixed uid, shell, home and comment: the seed's fix for the
//! dbus package's failed scriptlet, `useradd -c 'System message bus' -u 81 -s /sbin/nologin
//! -r -d '/' dbus`.
//!
//! The account is looked up as the host resolves accounts (`getent`; a local tree's own
//! files), by name and by uid: a uid taken by another name is refused with both names, and an
//! existing account is never renumbered (files owned by the old uid would change hands).
//! Changes are made by the host's own `useradd`/`usermod` (`--root` on a local tree), so
//! passwd, shadow and group stay as the system keeps them and no password hash is read.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::accounts::{AccountEntries, Db};
use crate::facts::{CommandOutput, Fact, FactKey};
use crate::remote::Action;
use crate::remote::pkg::RPM_FN;
use crate::remote::script::Script;

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan};

/// The `user = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// The account name.
    pub name: Spanned<String>,
    /// Its fixed uid.
    pub uid: Option<u32>,
    /// Its primary group, by name (default: as useradd chooses).
    pub group: Option<Spanned<String>>,
    /// The GECOS comment.
    pub comment: Option<Spanned<String>>,
    /// The login shell.
    pub shell: Option<Spanned<String>>,
    /// The home directory.
    pub home: Option<Spanned<String>>,
    /// A system account (`useradd -r`).
    #[serde(default)]
    pub system: bool,
    /// Create the home directory (default: no, as for system accounts).
    #[serde(default)]
    pub create_home: bool,
}

/// A validated `user` step.
#[derive(Debug, Clone)]
pub struct UserResource {
    name: String,
    uid: Option<u32>,
    group: Option<String>,
    comment: Option<String>,
    shell: Option<String>,
    home: Option<String>,
    system: bool,
    create_home: bool,
    entries: AccountEntries,
    group_entry: Option<AccountEntries>,
}

/// A user or group name as useradd and groupadd take them.
pub fn account_name(field: &str, value: &Spanned<String>) -> Result<String, SpecError> {
    let n = value.get_ref();
    let ok = !n.is_empty()
        && n.len() <= 32
        && !n.starts_with('-')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(n.clone())
    } else {
        Err(SpecError::at(
            value.span(),
            format!("`{field}` {n:?} is not an account name (letters, digits, `.`, `_`, `-`)"),
        ))
    }
}

/// A passwd field: one line, no `:`.
fn field(name: &str, value: &Option<Spanned<String>>) -> Result<Option<String>, SpecError> {
    let Some(v) = value else { return Ok(None) };
    spec::single_line(name, v)?;
    if v.get_ref().contains(':') {
        return Err(SpecError::at(v.span(), format!("`{name}` cannot hold `:`")));
    }
    Ok(Some(v.get_ref().clone()))
}

impl FromSpec for UserResource {
    type Spec = UserSpec;

    fn from_spec(spec: &UserSpec) -> Result<UserResource, SpecError> {
        let name = account_name("name", &spec.name)?;
        let group = spec
            .group
            .as_ref()
            .map(|g| account_name("group", g))
            .transpose()?;
        for (f, v) in [("shell", &spec.shell), ("home", &spec.home)] {
            if let Some(v) = v {
                spec::path(f, v)?;
            }
        }
        Ok(UserResource {
            entries: AccountEntries {
                db: Db::Passwd,
                name: name.clone(),
                id: spec.uid,
            },
            group_entry: group.clone().map(|g| AccountEntries {
                db: Db::Group,
                name: g,
                id: None,
            }),
            name,
            uid: spec.uid,
            group,
            comment: field("comment", &spec.comment)?,
            shell: field("shell", &spec.shell)?,
            home: field("home", &spec.home)?,
            system: spec.system,
            create_home: spec.create_home,
        })
    }
}

/// `useradd`/`usermod`/`groupadd` with `--root` on a local tree; `args` are quoted, the
/// account name comes last, after `--`.
pub fn account_command(tool: &str, options: &[(&str, String)], flags: &[&str], name: &str) -> Action {
    let mut s = Script::new();
    s.code(RPM_FN);
    s.code(&format!(
        "if [ -n \"$VMUP_ROOT\" ]; then set -- --root \"$(vmup_abs_root)\"; else set --; fi\n{tool} \"$@\""
    ));
    for f in flags {
        s.code(" ").code(f);
    }
    for (opt, value) in options {
        s.code(" ").code(opt).arg(value.as_bytes());
    }
    s.code(" --").arg(name.as_bytes());
    Action::Run {
        script: s.finish().unwrap_or_default(),
    }
}

/// What the account facts of later steps will answer once `name` exists with `id`: the
/// lookups by name alone and by name and number.
pub fn promise(db: Db, name: &str, id: u32, line: &str) -> Vec<(String, CommandOutput)> {
    [None, Some(id)]
        .into_iter()
        .map(|id| {
            let fact = AccountEntries {
                db,
                name: name.to_string(),
                id,
            };
            let mut stdout = format!("name {line}\n");
            if id.is_some() {
                stdout.push_str(&format!("id {line}\n"));
            }
            (
                fact.name(),
                CommandOutput {
                    stdout: stdout.into_bytes(),
                    status: 0,
                },
            )
        })
        .collect()
}

impl Resource for UserResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        let mut keys = vec![self.entries.key()];
        keys.extend(self.group_entry.as_ref().map(Fact::key));
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let found = view.get(&self.entries)?;
        let name = &self.name;
        let gid = match &self.group_entry {
            Some(g) => Some(
                view.get(g)?
                    .by_name
                    .map(|e| e.id)
                    .ok_or_else(|| {
                        PlanError::Refused(format!(
                            "group {} does not exist on the host (add a `group` step before this one)",
                            g.name
                        ))
                    })?,
            ),
            None => None,
        };
        if let Some(e) = found.by_name {
            if let Some(uid) = self.uid.filter(|u| *u != e.id) {
                return Err(PlanError::Refused(format!(
                    "user {name} exists with uid {}, not {uid}: vmup does not renumber accounts (the files of uid {} would change hands)",
                    e.id, e.id
                )));
            }
            let mut options = Vec::new();
            let mut what = Vec::new();
            let mut differs = |opt: &'static str, label: &str, want: &Option<String>, have: &str| {
                if let Some(w) = want.as_ref().filter(|w| w.as_str() != have) {
                    options.push((opt, w.clone()));
                    what.push(format!("{label} {have:?} -> {w:?}"));
                }
            };
            differs("-c", "comment", &self.comment, &e.comment);
            differs("-d", "home", &self.home, &e.home);
            differs("-s", "shell", &self.shell, &e.shell);
            if let (Some(g), Some(gid)) = (gid, e.gid)
                && g != gid
            {
                options.push(("-g", g.to_string()));
                what.push(format!("group {gid} -> {g}"));
            }
            if options.is_empty() {
                return Ok(StepPlan::unchanged(format!(
                    "user {name} (uid {}) is already as wanted",
                    e.id
                )));
            }
            return Ok(StepPlan::change(
                format!("change user {name}: {} (usermod)", what.join(", ")),
                account_command("usermod", &options, &[], name),
            ));
        }
        if let Some(t) = found.by_id {
            return Err(PlanError::Refused(format!(
                "uid {} is taken by {}; the step wants it for {name}",
                t.id, t.name
            )));
        }
        let mut options: Vec<(&str, String)> = Vec::new();
        let mut shown = Vec::new();
        if let Some(c) = &self.comment {
            options.push(("-c", c.clone()));
        }
        if let Some(u) = self.uid {
            options.push(("-u", u.to_string()));
            shown.push(format!("uid {u}"));
        }
        if let Some(g) = gid {
            options.push(("-g", g.to_string()));
            shown.push(format!("group {}", self.group.as_deref().unwrap_or_default()));
        }
        if let Some(s) = &self.shell {
            options.push(("-s", s.clone()));
            shown.push(format!("shell {s}"));
        }
        if let Some(h) = &self.home {
            options.push(("-d", h.clone()));
            shown.push(format!("home {h}"));
        }
        let mut flags = Vec::new();
        if self.system {
            flags.push("-r");
        }
        flags.push(if self.create_home { "-m" } else { "-M" });
        let summary = format!(
            "create {}user {name}{} (useradd)",
            if self.system { "system " } else { "" },
            if shown.is_empty() {
                String::new()
            } else {
                format!(" ({})", shown.join(", "))
            }
        );
        let promises = match self.uid {
            Some(uid) => promise(
                Db::Passwd,
                name,
                uid,
                &format!(
                    "{name}:x:{uid}:{}:{}:{}:{}",
                    gid.map(|g| g.to_string()).unwrap_or_default(),
                    self.comment.as_deref().unwrap_or_default(),
                    self.home.as_deref().unwrap_or_default(),
                    self.shell.as_deref().unwrap_or_default()
                ),
            ),
            None => Vec::new(),
        };
        Ok(StepPlan {
            changes: vec![Planned {
                summary,
                action: account_command("useradd", &options, &flags, name),
                detail: None,
            }],
            note: None,
            warning: None,
            promises,
            transaction: Vec::new(),
        })
    }
}
