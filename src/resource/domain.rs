//! `domain`: the kernel, ramdisk and kernel command line a host boots a guest with, edited
//! in the guest's domain config on its host (xl, xm or libvirt XML).
//!
//! The seed's "Edit domain configuration files and edit kernel, ramdisk and extra kernel
//! parameters" (`vi GUMS Grid MyProxy NG2 ...` on the dom0), and its serial console:
//! "change the kernel arguments variable (`extra`) to include `xencons=ttyS
//! console=ttyS0`". The step selects guests and runs on each one's host
//! ([`Placement::Parent`]); the file is the guest's `domain_config`, its format the one
//! `formats::domain` finds (`.xml` libvirt, Python-looking xm, else xl).
//!
//! - `kernel`, `ramdisk`: the value is set in place (libvirt: `<kernel>`, `<initrd>`), or
//!   added when the file has none.
//! - `extra_contains`: each token the guest's command line lacks is appended to the
//!   setting that holds it, after the words there; none is duplicated, none moved.
//!   `extra_absent`: tokens removed from it; an entry ending in `=` (`console=`) removes
//!   that parameter whatever its value, but never a token `extra_contains` asks for. The
//!   setting is the one the toolstack reads: for xl `cmdline` when the file sets it (xl
//!   then ignores `root` and `extra`), else `extra` (created when absent); for xm `extra`;
//!   for libvirt `<cmdline>`. Presence is judged on the whole command line xl builds
//!   (`root=` included).
//! - Everything else in the file stays byte for byte; what cannot be rewritten that way (a
//!   value xm computes, a `+=` chain the edit cannot follow) is refused with the file's
//!   line and column and the statement's text, never guessed.
//! - A libvirt domain is defined again after the write (`virsh define -- PATH`), so libvirt
//!   boots the new definition; `define = false` only edits the file (a copy libvirt does
//!   not read), and `define = true` on an xl or xm config is refused (xl reads the file
//!   itself when the domain is created).
//!
//! One change writes the file (guarded by the bytes the facts saw); the engine shows the
//! diff. Re-creating the domain, so the guest boots what the file now says, is not this
//! step's job.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::guards::LocalTree;
use crate::facts::{Fact, FactKey, PathFact};
use crate::formats::cmdline::{Token, appended, removed, words};
use crate::formats::domain::{DomainFile, parse_domain_file};
use crate::formats::domconfig::{Dialect, DomainConfig, Unreadable};
use crate::formats::libvirt::{OsText, with_os_text};
use crate::remote::Action;
use crate::remote::script::Script;

use super::spec::{self, SpecError};
use super::{
    FromSpec, GuestRef, HostView, Placement, PlanError, Planned, Resource, Scope, StepPlan,
    describe, editable_file, file_fact,
};

/// The `domain = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    /// The host path of the kernel the guest boots.
    pub kernel: Option<Spanned<String>>,
    /// The host path of its initial ramdisk.
    pub ramdisk: Option<Spanned<String>>,
    /// Tokens the kernel command line must hold.
    pub extra_contains: Option<Spanned<Vec<String>>>,
    /// Tokens it must not hold (`name=`: any value).
    pub extra_absent: Option<Spanned<Vec<String>>>,
    /// Run `virsh define` after editing a libvirt domain (default: true for `.xml`).
    pub define: Option<Spanned<bool>>,
}

/// A validated `domain` step.
#[derive(Debug, Clone)]
pub struct DomainResource {
    kernel: Option<String>,
    ramdisk: Option<String>,
    contains: Vec<String>,
    absent: Vec<Token>,
    define: Option<bool>,
}

/// Checks one list of command-line tokens.
fn tokens(field: &str, list: &Option<Spanned<Vec<String>>>) -> Result<Vec<String>, SpecError> {
    let Some(list) = list else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for t in list.get_ref() {
        let why = if t.is_empty() {
            Some("is empty")
        } else if t.chars().any(char::is_whitespace) {
            Some("holds whitespace (give each token separately)")
        } else if t.chars().any(char::is_control) {
            Some("holds a control character")
        } else if t.contains('"') {
            Some("holds a `\"`, which changes how the kernel splits the rest of the line")
        } else if field == "extra_contains" && t.ends_with('=') {
            Some("ends in `=`, which means \"any value\" and can only be removed (extra_absent)")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(SpecError::at(
                list.span(),
                format!("`{field}` token {t:?} {why}"),
            ));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

impl FromSpec for DomainResource {
    type Spec = DomainSpec;

    /// The file is on the guest's host.
    const PLACEMENT: Placement = Placement::Parent;

    /// Validates a spec: at least one thing to edit, absolute paths, plain tokens.
    fn from_spec(spec: &DomainSpec) -> Result<DomainResource, SpecError> {
        let kernel = spec
            .kernel
            .as_ref()
            .map(|k| spec::path("kernel", k))
            .transpose()?;
        let ramdisk = spec
            .ramdisk
            .as_ref()
            .map(|r| spec::path("ramdisk", r))
            .transpose()?;
        let contains = tokens("extra_contains", &spec.extra_contains)?;
        let absent_words = tokens("extra_absent", &spec.extra_absent)?;
        if let (Some(list), Some(both)) = (
            &spec.extra_absent,
            absent_words.iter().find(|a| contains.contains(a)),
        ) {
            return Err(SpecError::at(
                list.span(),
                format!("{both:?} is in both `extra_contains` and `extra_absent`"),
            ));
        }
        if kernel.is_none() && ramdisk.is_none() && contains.is_empty() && absent_words.is_empty()
        {
            return Err(SpecError::step(
                "a `domain` step needs `kernel`, `ramdisk`, `extra_contains` or `extra_absent`",
            ));
        }
        Ok(DomainResource {
            kernel,
            ramdisk,
            contains,
            absent: absent_words.iter().map(|a| Token::parse(a)).collect(),
            define: spec.define.as_ref().map(|d| *d.get_ref()),
        })
    }
}

/// The file being edited, in its format, as the edits so far left it.
enum Doc {
    Xen(DomainConfig),
    Libvirt(String),
}

/// What one edit of the file found or did, for the summary or the note.
struct Outcome {
    /// Text as it is after the edit.
    text: String,
    /// What changed (`set kernel = "..." (was "...")`), or None.
    changed: Option<String>,
    /// What was already as wanted (`kernel = "..."`).
    kept: Option<String>,
}

/// A refusal about the file, naming where in it.
fn at_line(path: &str, line: usize, column: usize, message: &str) -> PlanError {
    PlanError::Refused(format!("{path}:{line}:{column}: {message}"))
}

fn unreadable(path: &str, e: &Unreadable) -> PlanError {
    at_line(
        path,
        e.line,
        e.column,
        &format!(
            "`{}` cannot be read safely: {}; edit it by hand",
            e.name, e.source_text
        ),
    )
}

impl DomainResource {
    /// Sets `kernel` or `ramdisk` (`<kernel>`, `<initrd>`) to `want`.
    fn set_path(&self, path: &str, doc: &Doc, name: &str, want: &str) -> Result<Outcome, PlanError> {
        let (shown_name, current, text) = match doc {
            Doc::Xen(c) => {
                let current = match c.get_str(name) {
                    None => None,
                    Some(Ok(v)) => Some(v.to_string()),
                    // with_str says why, with the statement's position.
                    Some(Err(_)) => None,
                };
                let text = c
                    .with_str(name, want)
                    .map_err(|e| at_line(path, e.line, e.column, &e.message))?;
                (name.to_string(), current, text)
            }
            Doc::Libvirt(xml) => {
                let which = if name == "kernel" {
                    OsText::Kernel
                } else {
                    OsText::Initrd
                };
                let current = crate::formats::libvirt::parse_libvirt(xml)
                    .ok()
                    .and_then(|d| if name == "kernel" { d.kernel } else { d.initrd });
                let text = with_os_text(xml, which, want)
                    .map_err(|e| at_line(path, e.line, e.column, &e.message))?;
                (format!("<{}>", which.tag()), current, text)
            }
        };
        let is = format!("{shown_name} = {want:?}");
        Ok(match current {
            Some(old) if old == want => Outcome {
                text,
                changed: None,
                kept: Some(is),
            },
            Some(old) => Outcome {
                text,
                changed: Some(format!("set {is} (was {old:?})")),
                kept: None,
            },
            None => Outcome {
                text,
                changed: Some(format!("add {is}")),
                kept: None,
            },
        })
    }

    /// Adds the missing `extra_contains` tokens and removes the `extra_absent` ones, in the
    /// setting the toolstack reads them from.
    fn set_tokens(&self, path: &str, doc: &Doc) -> Result<(Outcome, Option<String>), PlanError> {
        let (setting, line, current, text_of): (String, String, Option<String>, _) = match doc {
            Doc::Xen(c) => {
                let setting = c.cmdline_setting();
                let line = match c.cmdline() {
                    None => String::new(),
                    Some(Ok(l)) => l,
                    Some(Err(e)) => return Err(unreadable(path, &e)),
                };
                let current = match c.get_str(setting) {
                    None => None,
                    Some(Ok(v)) => Some(v.to_string()),
                    Some(Err(e)) => return Err(unreadable(path, &e)),
                };
                (setting.to_string(), line, current, XenOrXml::Xen(c))
            }
            Doc::Libvirt(xml) => {
                let d = crate::formats::libvirt::parse_libvirt(xml)
                    .map_err(|e| at_line(path, e.line, e.column, &e.message))?;
                let current = d.cmdline.clone();
                (
                    "<cmdline>".to_string(),
                    current.clone().unwrap_or_default(),
                    current,
                    XenOrXml::Xml(xml),
                )
            }
        };
        let note = match (doc, setting.as_str()) {
            (Doc::Xen(c), "cmdline")
                if c.dialect() == Dialect::Xl && (c.get("root").is_some() || c.get("extra").is_some()) =>
            {
                Some(format!(
                    "{path}: xl ignores root= and extra= when cmdline= is set, so the tokens are in cmdline"
                ))
            }
            _ => None,
        };
        let value = current.clone().unwrap_or_default();
        let keep: Vec<&str> = self.contains.iter().map(String::as_str).collect();
        let (without, gone) = removed(&value, &self.absent, &keep);
        // A token on the command line from a setting vmup does not edit (xl's `root=`).
        let on_line: Vec<&str> = words(&line)
            .into_iter()
            .filter(|w| !keep.contains(w) && self.absent.iter().any(|t| t.matches(w)))
            .collect();
        let mut elsewhere = on_line;
        for g in &gone {
            if let Some(i) = elsewhere.iter().position(|w| w == g) {
                elsewhere.remove(i);
            }
        }
        if !elsewhere.is_empty() {
            return Err(PlanError::Refused(format!(
                "{path}: {} on the kernel command line {line:?} but not in {setting}, which is \
                 the only setting vmup edits there; remove it by hand",
                quoted_list(&elsewhere, "is", "are")
            )));
        }
        let present = words(&line);
        let mut missing: Vec<&str> = Vec::new();
        for t in &self.contains {
            if !present.contains(&t.as_str()) && !missing.contains(&t.as_str()) {
                missing.push(t);
            }
        }
        let new_value = appended(&without, &missing);
        let mut parts = Vec::new();
        if current.is_none() && !missing.is_empty() && gone.is_empty() {
            parts.push(format!("add {setting} = {new_value:?}"));
        } else {
            if !missing.is_empty() {
                parts.push(format!("add {} to {setting}", quoted(&missing)));
            }
            if !gone.is_empty() {
                let gone: Vec<&str> = gone.iter().map(String::as_str).collect();
                parts.push(format!("remove {} from {setting}", quoted(&gone)));
            }
        }
        let kept = {
            let mut k = Vec::new();
            if !self.contains.is_empty() {
                k.push(format!("{setting} holds {}", quoted(&keep)));
            }
            if !self.absent.is_empty() {
                let none: Vec<&str> = self.absent.iter().map(Token::as_str).collect();
                k.push(format!("{setting} has no {}", quoted(&none)));
            }
            k.join(", ")
        };
        if parts.is_empty() {
            let text = match text_of {
                XenOrXml::Xen(c) => c.source().to_string(),
                XenOrXml::Xml(x) => x.clone(),
            };
            return Ok((
                Outcome {
                    text,
                    changed: None,
                    kept: Some(kept),
                },
                note,
            ));
        }
        let text = match text_of {
            XenOrXml::Xen(c) => c
                .with_str(&setting, &new_value)
                .map_err(|e| at_line(path, e.line, e.column, &e.message))?,
            XenOrXml::Xml(x) => with_os_text(x, OsText::Cmdline, &new_value)
                .map_err(|e| at_line(path, e.line, e.column, &e.message))?,
        };
        Ok((
            Outcome {
                text,
                changed: Some(parts.join(", ")),
                kept: None,
            },
            note,
        ))
    }
}

/// The parsed document a token edit writes back into.
enum XenOrXml<'a> {
    Xen(&'a DomainConfig),
    Xml(&'a String),
}

/// `"a" "b"`, for summaries.
fn quoted(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("{i:?}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `"a" is` / `"a" "b" are`, for messages.
fn quoted_list(items: &[&str], one: &str, many: &str) -> String {
    let verb = if items.len() == 1 { one } else { many };
    format!("{} {verb}", quoted(items))
}

/// Parses `text`, the domain config at `path`, in its format.
fn parse(path: &str, text: &str, guest: &GuestRef) -> Result<Doc, PlanError> {
    match parse_domain_file(path, text) {
        Ok(DomainFile::Xen(c)) => Ok(Doc::Xen(c)),
        Ok(DomainFile::Libvirt(_)) => Ok(Doc::Libvirt(text.to_string())),
        Err(e) => {
            let (line, column) = e.position();
            Err(at_line(
                path,
                line,
                column,
                &format!("{} (the domain config of {})", e.message(), guest.name),
            ))
        }
    }
}

/// The guest a step planned on its host is about, and its config's path.
fn guest_config<'v>(view: &'v HostView<'_>) -> Result<(&'v GuestRef, &'v str), PlanError> {
    let Some(guest) = view.scope().guest.as_ref() else {
        return Err(PlanError::Refused(
            "a `domain` step is about a guest: select guests with `hosts` (e.g. hosts = \"guests\"); it runs on each one's host".into(),
        ));
    };
    let Some(path) = guest.domain_config.as_deref() else {
        return Err(PlanError::Refused(format!(
            "{0} has no `domain_config` in the inventory, so the file on its host that defines it is unknown: add domain_config = \"/etc/xen/NAME\" to [hosts.{0}]",
            guest.name
        )));
    };
    Ok((guest, path))
}

impl Resource for DomainResource {
    fn facts(&self, scope: &Scope) -> Vec<FactKey> {
        let Some(path) = scope.guest.as_ref().and_then(|g| g.domain_config.as_deref()) else {
            return Vec::new();
        };
        let mut keys = vec![file_fact(path)];
        if self.define.unwrap_or(true) && path.ends_with(".xml") {
            keys.push(LocalTree.key());
        }
        keys
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let (guest, path) = guest_config(view)?;
        match view.path(path)? {
            PathFact::Absent => {
                return Err(PlanError::Refused(format!(
                    "{path}, the domain config of {0}, does not exist on this host: check `domain_config` of {0} in the inventory",
                    guest.name
                )));
            }
            PathFact::File { .. } => {}
            other => {
                return Err(PlanError::Refused(format!(
                    "{path}, the domain config of {}, is {}, not a file",
                    guest.name,
                    describe(other)
                )));
            }
        }
        let file = editable_file(view, path, false)?;
        let Ok(text) = String::from_utf8(file.bytes().to_vec()) else {
            return Err(PlanError::Refused(format!(
                "{path}, the domain config of {}, is not UTF-8 text; vmup edits only text it can read back",
                guest.name
            )));
        };
        let libvirt = path.ends_with(".xml");
        let define = self.define.unwrap_or(libvirt);
        if define && !libvirt {
            return Err(PlanError::Refused(format!(
                "`define = true` is for libvirt domains (a domain_config ending in .xml); {path} is an xl or xm config, which the toolstack reads when the domain is created"
            )));
        }

        let mut doc = parse(path, &text, guest)?;
        let mut changed = Vec::new();
        let mut kept = Vec::new();
        let mut notes = Vec::new();
        let mut record = |o: Outcome, doc: &mut Doc| -> Result<(), PlanError> {
            changed.extend(o.changed);
            kept.extend(o.kept);
            *doc = parse(path, &o.text, guest)?;
            Ok(())
        };
        if let Some(want) = &self.kernel {
            let o = self.set_path(path, &doc, "kernel", want)?;
            record(o, &mut doc)?;
        }
        if let Some(want) = &self.ramdisk {
            let o = self.set_path(path, &doc, "ramdisk", want)?;
            record(o, &mut doc)?;
        }
        if !self.contains.is_empty() || !self.absent.is_empty() {
            let (o, note) = self.set_tokens(path, &doc)?;
            notes.extend(note);
            record(o, &mut doc)?;
        }
        let new_text = match &doc {
            Doc::Xen(c) => c.source().to_string(),
            Doc::Libvirt(x) => x.clone(),
        };
        if new_text == text {
            notes.insert(
                0,
                format!("{path} is already as wanted: {}", kept.join(", ")),
            );
            return Ok(StepPlan::unchanged(notes.join("; ")));
        }
        let mut plan = StepPlan::change(
            format!("{} in {path}", changed.join(", ")),
            file.write(path, new_text.into_bytes()),
        );
        if define {
            if view.get(&LocalTree)? {
                return Err(PlanError::Refused(format!(
                    "{path} is in a local tree: `virsh define` would run on the controller, not on {}'s host; set define = false to only edit the file",
                    guest.name
                )));
            }
            let mut s = Script::new();
            s.code("virsh define --").arg(path.as_bytes());
            let script = s
                .finish()
                .map_err(|e| PlanError::Internal(e.to_string()))?;
            plan.changes.push(Planned {
                summary: format!("define {} from {path} (virsh define)", guest.name),
                action: Action::Run { script },
                detail: None,
            });
        }
        plan.note = (!notes.is_empty()).then(|| notes.join("; "));
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{CommandOutput, Facts};

    /// The define command as planned, run by the real `virsh` against its test driver
    /// (no daemon): the path, quoted and after `--`, reaches virsh as one file name, and
    /// virsh accepts the edited definition. Needs `virsh` (libvirt-clients, which
    /// scripts/install-deps.sh installs): without it the test fails.
    #[test]
    fn virsh_defines_the_edited_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("it's kvm1.xml");
        let path = path.to_str().unwrap().to_string();
        let xml = "<domain type='test'>\n  <name>kvm1</name>\n  <memory>524288</memory>\n  <os>\n    \
                   <type arch='x86_64'>hvm</type>\n    <kernel>/boot/vmlinuz-old</kernel>\n  </os>\n</domain>\n";
        let mut facts = Facts::default();
        facts
            .paths
            .insert(path.clone(), PathFact::root_file(xml.as_bytes()));
        facts.commands.insert(
            "local tree".into(),
            CommandOutput {
                stdout: b"host\n".to_vec(),
                status: 0,
            },
        );
        let scope = Scope {
            guest: Some(GuestRef {
                name: "kvm1".into(),
                domain: None,
                domain_config: Some(path.clone()),
            }),
        };
        let spec: DomainSpec =
            toml::from_str("kernel = \"/boot/vmlinuz-new\"\nextra_contains = [\"console=ttyS0\"]\n")
                .unwrap();
        let resource = DomainResource::from_spec(&spec).unwrap();
        let plan = resource.plan(&HostView::scoped(&facts, &scope)).unwrap();
        let [write, define] = &plan.changes[..] else {
            panic!("{plan:?}")
        };
        let Action::WriteFile { content, .. } = &write.action else {
            panic!("{write:?}")
        };
        let Action::Run { script } = &define.action else {
            panic!("{define:?}")
        };
        std::fs::write(&path, content).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(String::from_utf8_lossy(script).as_ref())
            .env("VIRSH_DEFAULT_CONNECT_URI", "test:///default")
            .output()
            .expect("sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "virsh (from libvirt-clients, see scripts/install-deps.sh) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(&format!("Domain 'kvm1' defined from {path}")),
            "{stdout}"
        );
    }
}
