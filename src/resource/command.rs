//! `command`: a site quirk as a guarded shell command, for what no other resource says (the
//! seed's Grid host: "reinstall python24 and python24-devel (removed during the update)",
//! and `chkconfig nfs resetpriorities` after its init script's start order is fixed).
//!
//! `run` is passed to `/bin/sh -c` as one quoted word (after `--`), with `cwd` and `env` if
//! given. Guards decide whether it runs; all of them must allow it:
//! - `creates = PATH`: not when PATH exists (any type; a symbolic link counts as itself);
//! - `removes = PATH`: only when PATH exists;
//! - `unless = CMD`: not when CMD exits 0;
//! - `onlyif = CMD`: only when CMD exits 0.
//!
//! Guards are read in the facts round trip, no extra one: paths as path facts (so they see
//! what earlier steps of the run will have written, moved or removed, as every step does),
//! `unless`/`onlyif` as [`GuardStatus`] facts, run with `cwd` and `env` as `run` is, their
//! output discarded. Those two are evaluated against the host as it was before the run's
//! changes: a guard should test the state the command produces, not one an earlier step
//! changes. The guard commands are the user's: vmup runs them on every plan, apply and
//! verify and cannot tell whether they are read-only; keeping them so is the user's
//! responsibility.
//!
//! Verify re-gathers the facts and plans again, so a guarded command must be seen as done
//! afterwards (the path it `creates` exists, its `unless` exits 0): one that is not fails
//! the host as not converged, which is how a wrong guard shows up. A command without any
//! guard would run on every apply and never converge, so it is refused at load time unless
//! `always = true` says so explicitly; such a command is planned on every run (the plan and
//! a note say so) and is the one kind of change verify leaves out ([`Resource::converges`]).
//!
//! A local tree is files only: nothing of a command can run there (the controller is not the
//! guest), so the step is refused at plan time on a tree, its guards never started.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::facts::guards::{GuardOutcome, GuardStatus, LocalTree, ShellCommand};
use crate::facts::{Fact, FactKey, PathFact};
use crate::remote::Action;
use crate::remote::script::Script;

use super::spec::{self, SpecError};
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan, shown, stat_fact};

/// The `command = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// Shell code to run with `/bin/sh -c`.
    pub run: Spanned<String>,
    /// Not run when this path exists.
    pub creates: Option<Spanned<String>>,
    /// Run only when this path exists.
    pub removes: Option<Spanned<String>>,
    /// Not run when this shell code exits 0.
    pub unless: Option<Spanned<String>>,
    /// Run only when this shell code exits 0.
    pub onlyif: Option<Spanned<String>>,
    /// Run on every apply, with no guard: must be said explicitly.
    pub always: Option<Spanned<bool>>,
    /// Directory the command and its guards run in.
    pub cwd: Option<Spanned<String>>,
    /// Variables set for the command and its guards.
    pub env: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// A validated `command` step.
#[derive(Debug, Clone)]
pub struct CommandResource {
    shell: ShellCommand,
    creates: Option<String>,
    removes: Option<String>,
    unless: Option<GuardStatus>,
    onlyif: Option<GuardStatus>,
    always: bool,
}

/// Shell code from the runbook: not empty, no NUL (no shell word can hold one).
fn code(field: &str, value: &Spanned<String>) -> Result<String, SpecError> {
    spec::no_nul(field, value)?;
    if value.get_ref().trim().is_empty() {
        return Err(SpecError::at(value.span(), format!("`{field}` is empty")));
    }
    Ok(value.get_ref().clone())
}

/// A variable name `env` can set: a shell name, so every shell reads it back.
fn env_name(name: &Spanned<String>) -> Result<String, SpecError> {
    let n = name.get_ref();
    let ok = n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(n.clone())
    } else {
        Err(SpecError::at(
            name.span(),
            format!("`env` name {n:?} is not a variable name (letters, digits, `_`)"),
        ))
    }
}

impl FromSpec for CommandResource {
    type Spec = CommandSpec;

    fn from_spec(spec: &CommandSpec) -> Result<CommandResource, SpecError> {
        let command = code("run", &spec.run)?;
        let path = |field: &str, v: &Option<Spanned<String>>| {
            v.as_ref().map(|v| spec::path(field, v)).transpose()
        };
        let creates = path("creates", &spec.creates)?;
        let removes = path("removes", &spec.removes)?;
        let cwd = path("cwd", &spec.cwd)?;
        let mut env = Vec::new();
        for (name, value) in spec.env.iter().flatten() {
            spec::no_nul("env", value)?;
            env.push((env_name(name)?, value.get_ref().clone()));
        }
        let guard = |field: &str, v: &Option<Spanned<String>>| -> Result<_, SpecError> {
            v.as_ref()
                .map(|v| {
                    Ok(GuardStatus {
                        shell: ShellCommand {
                            command: code(field, v)?,
                            cwd: cwd.clone(),
                            env: env.clone(),
                        },
                    })
                })
                .transpose()
        };
        let unless = guard("unless", &spec.unless)?;
        let onlyif = guard("onlyif", &spec.onlyif)?;
        let guarded = creates.is_some() || removes.is_some() || unless.is_some() || onlyif.is_some();
        let always = spec.always.as_ref().is_some_and(|a| *a.get_ref());
        if always && guarded {
            let span = spec.always.as_ref().map(Spanned::span).unwrap_or(spec.run.span());
            return Err(SpecError::at(
                span,
                "`always = true` contradicts the guards (`creates`, `removes`, `unless`, `onlyif`): drop one or the other",
            ));
        }
        if !always && !guarded {
            return Err(SpecError::at(
                spec.run.span(),
                "a `command` without a guard would run on every apply and never converge: give `creates`, `removes`, `unless` or `onlyif`, or `always = true` to run it every time",
            ));
        }
        if creates.is_some() && creates == removes {
            let span = spec.removes.as_ref().map(Spanned::span).unwrap_or(spec.run.span());
            return Err(SpecError::at(
                span,
                "`creates` and `removes` name the same path: the command could never run",
            ));
        }
        Ok(CommandResource {
            shell: ShellCommand { command, cwd, env },
            creates,
            removes,
            unless,
            onlyif,
            always,
        })
    }
}

/// `exited N`, saying what sh itself means by 126 and 127, so a mistyped guard is seen.
fn status_word(status: i32) -> String {
    match status {
        126 => format!("exited {status} (not executable)"),
        127 => format!("exited {status} (command not found)"),
        _ => format!("exited {status}"),
    }
}

impl CommandResource {
    /// The guard's exit status, or why the step cannot be planned.
    fn outcome(&self, view: &HostView<'_>, guard: &GuardStatus) -> Result<i32, PlanError> {
        match view.get(guard)? {
            GuardOutcome::Exited(status) => Ok(status),
            GuardOutcome::Tree => Err(tree_refusal()),
            GuardOutcome::NoCwd => Err(PlanError::Refused(format!(
                "cwd {} is not a directory on this host: the guard {} could not run",
                self.shell.cwd.as_deref().unwrap_or_default(),
                shown(guard.shell.command.as_bytes())
            ))),
        }
    }

    /// Lines shown under the plan's change: what the summary cannot hold.
    fn detail(&self) -> Option<String> {
        let mut lines = Vec::new();
        if let Some(dir) = &self.shell.cwd {
            lines.push(format!("cwd: {dir}"));
        }
        for (name, value) in &self.shell.env {
            lines.push(format!("env: {name}={value:?}"));
        }
        // Shell code the summary shows cut short is given whole, line by line.
        let mut whole = |field: &str, text: &str| {
            if shown(text.as_bytes()) != format!("{text:?}") {
                lines.push(format!("{field}:"));
                lines.extend(text.lines().map(|l| format!("  {l}")));
            }
        };
        whole("run", &self.shell.command);
        for (field, guard) in [("unless", &self.unless), ("onlyif", &self.onlyif)] {
            if let Some(guard) = guard {
                whole(field, &guard.shell.command);
            }
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// The refusal on a local tree.
fn tree_refusal() -> PlanError {
    PlanError::Refused(
        "a local tree is files only: a `command` would run on the controller, not in the guest, so it is refused here (its guards were not run either)".into(),
    )
}

impl Resource for CommandResource {
    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        let mut keys = vec![LocalTree.key()];
        keys.extend(self.creates.as_deref().map(stat_fact));
        keys.extend(self.removes.as_deref().map(stat_fact));
        keys.extend(self.unless.iter().map(Fact::key));
        keys.extend(self.onlyif.iter().map(Fact::key));
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        if view.get(&LocalTree)? {
            return Err(tree_refusal());
        }
        // Why it runs, and why not: every guard is reported, not only the first.
        let mut why = Vec::new();
        let mut why_not = Vec::new();
        if let Some(path) = &self.creates {
            match view.path(path)? {
                PathFact::Absent => why.push(format!("creates: {path} is absent")),
                _ => why_not.push(format!("{path} exists (creates)")),
            }
        }
        if let Some(path) = &self.removes {
            match view.path(path)? {
                PathFact::Absent => why_not.push(format!("{path} is absent (removes)")),
                _ => why.push(format!("removes: {path} exists")),
            }
        }
        if let Some(guard) = &self.unless {
            let shown_guard = shown(guard.shell.command.as_bytes());
            match self.outcome(view, guard)? {
                0 => why_not.push(format!("{shown_guard} exited 0 (unless)")),
                n => why.push(format!("unless: {shown_guard} {}", status_word(n))),
            }
        }
        if let Some(guard) = &self.onlyif {
            let shown_guard = shown(guard.shell.command.as_bytes());
            match self.outcome(view, guard)? {
                0 => why.push(format!("onlyif: {shown_guard} exited 0")),
                n => why_not.push(format!("{shown_guard} {} (onlyif)", status_word(n))),
            }
        }
        if !why_not.is_empty() {
            return Ok(StepPlan::unchanged(format!(
                "not run: {}",
                why_not.join("; ")
            )));
        }
        let mut s = Script::new();
        self.shell.write(&mut s);
        // Validation refused NUL bytes, the only thing quoting can refuse.
        let script = s
            .finish()
            .map_err(|e| PlanError::Internal(e.to_string()))?;
        let reason = if self.always {
            "always = true: runs on every apply".to_string()
        } else {
            why.join("; ")
        };
        Ok(StepPlan {
            changes: vec![Planned {
                summary: format!("run {} ({reason})", shown(self.shell.command.as_bytes())),
                action: Action::Run { script },
                detail: self.detail(),
            }],
            note: self
                .always
                .then(|| "always = true: planned on every run; verify does not expect it done".into()),
            warning: None,
            promises: Vec::new(),
            transaction: Vec::new(),
        })
    }

    fn converges(&self) -> bool {
        !self.always
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{Facts, PathFact};
    use crate::resource::RawStep;

    fn resource(table: &str) -> Box<dyn Resource> {
        let step: RawStep = toml::from_str(table).unwrap();
        step.resources().unwrap().remove(0).1
    }

    fn host() -> Facts {
        let mut facts = Facts::default();
        facts.insert(&LocalTree, b"host", 0);
        facts
    }

    /// The apply script of a planned run, executed by a real sh: the command gets its text,
    /// directory and variables exactly, quotes, `$` and newlines included.
    #[test]
    fn the_run_reaches_sh_exactly_with_its_cwd_and_env() {
        let dir = tempfile::tempdir().unwrap();
        let table = format!(
            "command = {{ run = {:?}, cwd = {:?}, env = {{ V = {:?} }}, creates = \"/nonexistent/x\" }}",
            "printf '%s|%s|' \"it's\" \"$V\" > out\npwd >> out",
            dir.path().to_str().unwrap(),
            "$x \"y\"\nz",
        );
        let r = resource(&table);
        let mut facts = host();
        facts.paths.insert("/nonexistent/x".into(), PathFact::Absent);
        let plan = r.plan(&HostView::new(&facts)).unwrap();
        let Action::Run { script } = &plan.changes[0].action else {
            panic!("{plan:?}")
        };
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(std::ffi::OsStr::new(std::str::from_utf8(script).unwrap()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let written = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert_eq!(
            written,
            format!("it's|$x \"y\"\nz|{}\n", dir.path().canonicalize().unwrap().display())
        );
    }

    /// `creates` sees what an earlier step of the same run will have written.
    #[test]
    fn path_guards_see_earlier_steps() {
        let r = resource("command = { run = \"make-it\", creates = \"/etc/it\" }");
        let mut facts = host();
        facts.paths.insert("/etc/it".into(), PathFact::Absent);
        let mut view = HostView::new(&facts);
        assert_eq!(r.plan(&view).unwrap().changes.len(), 1);
        view.simulate(&Action::WriteFile {
            path: "/etc/it".into(),
            expect: crate::remote::Expect::Absent,
            content: b"x".to_vec(),
            mode: 0o644,
            owner: None,
        });
        let plan = r.plan(&view).unwrap();
        assert!(plan.changes.is_empty());
        assert_eq!(plan.note.as_deref(), Some("not run: /etc/it exists (creates)"));
    }

    #[test]
    fn only_always_never_converges() {
        assert!(!resource("command = { run = \"x\", always = true }").converges());
        assert!(resource("command = { run = \"x\", unless = \"y\" }").converges());
    }
}
