//! Plan fixtures: each resource kind's plans checked from data files, with no I/O.
//!
//! A fixture (`tests/plans/<kind>/<case>.toml`) gives a step table as a runbook writes it,
//! the facts of a host, and what planning must say: the changes' summaries, the note, the
//! warning or the refusal, and the files as the changes leave them. The harness then plans
//! again against the settled facts (the files as changed, plus the `[after]` answers of
//! command facts) and expects nothing more: the second-run check every resource owes (a
//! step that says it never converges, `command` with `always = true`, must plan the same
//! changes again instead). A kind in the registry without a fixture fails the harness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::facts::booted::BootedKernel;
use crate::facts::{CommandOutput, Facts, PathFact};
use crate::remote::Action;

use super::{GuestRef, HostView, KINDS, RawStep, Resource, Scope};

/// One fixture file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    /// What the case shows, in one sentence.
    #[allow(dead_code)]
    about: String,
    /// The step as a runbook writes it.
    step: RawStep,
    /// The guest a step placed on its host is about.
    guest: Option<GuestSpec>,
    /// The host before the step.
    #[serde(default)]
    facts: HostFacts,
    /// What planning must say.
    expect: Expect,
    /// What command facts answer on the second run (files are taken from the changes).
    #[serde(default)]
    after: HostFacts,
}

/// A guest as the inventory describes it, for steps planned on its host.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuestSpec {
    name: String,
    domain: Option<String>,
    domain_config: Option<String>,
}

/// Facts of a host as a fixture writes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFacts {
    cpus: Option<u32>,
    hostname: Option<String>,
    kernel_release: Option<String>,
    /// Regular files owned by root, mode 0644: path -> content.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Any other path: `"absent"`, `"dir"`, `"other"`, `{ symlink = "target" }` or
    /// `{ content = "...", mode = "0600", uid = 0, gid = 0 }`.
    #[serde(default)]
    paths: BTreeMap<String, PathSpec>,
    /// Command facts by name: `{ stdout = "..." }` or `{ stdout_file = "src/..." }`, and
    /// `status` (default 0).
    #[serde(default)]
    commands: BTreeMap<String, CommandSpec>,
    /// The kernel the guest's host boots it with.
    booted: Option<BootedSpec>,
    /// Why the booted kernel is unknown.
    booted_error: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum PathSpec {
    Word(String),
    Link {
        symlink: String,
    },
    File {
        content: String,
        #[serde(default = "mode_0644")]
        mode: String,
        #[serde(default)]
        uid: u32,
        #[serde(default)]
        gid: u32,
    },
}

fn mode_0644() -> String {
    "0644".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandSpec {
    stdout: Option<String>,
    stdout_file: Option<String>,
    #[serde(default)]
    status: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BootedSpec {
    release: String,
    #[serde(default = "xen1")]
    host: String,
    #[serde(default = "ng2_config")]
    config_path: String,
    kernel_path: Option<String>,
    #[serde(default = "yes")]
    kernel_exists: bool,
}

fn xen1() -> String {
    "xen1".into()
}

fn ng2_config() -> String {
    "/etc/xen/NG2".into()
}

fn yes() -> bool {
    true
}

/// What a fixture expects.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The summaries of the changes, in order (empty: nothing to do).
    #[serde(default)]
    changes: Vec<String>,
    /// The note, exactly; absent means the plan has none.
    note: Option<String>,
    /// The warning, exactly; absent means the plan has none.
    warning: Option<String>,
    /// A refusal: text the plan error (or the load-time error of the step table) must
    /// contain (no second run then).
    error: Option<String>,
    /// The detail lines of each change, when given.
    details: Option<Vec<String>>,
    /// Files as the changes leave them.
    #[serde(default)]
    files: BTreeMap<String, String>,
    /// Paths the changes remove or move away.
    #[serde(default)]
    absent: Vec<String>,
    /// Text each command change's script must contain, in order of the changes.
    #[serde(default)]
    scripts: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

impl HostFacts {
    /// Lays these facts over `facts`.
    fn apply_to(&self, facts: &mut Facts) -> Result<(), String> {
        if self.cpus.is_some() {
            facts.cpus = self.cpus;
        }
        if self.hostname.is_some() {
            facts.hostname = self.hostname.clone();
        }
        if self.kernel_release.is_some() {
            facts.kernel_release = self.kernel_release.clone();
        }
        for (path, content) in &self.files {
            facts
                .paths
                .insert(path.clone(), PathFact::root_file(content.as_bytes()));
        }
        for (path, spec) in &self.paths {
            let fact = match spec {
                PathSpec::Word(w) => match w.as_str() {
                    "absent" => PathFact::Absent,
                    "dir" => PathFact::Dir {
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                    },
                    "other" => PathFact::Other,
                    other => return Err(format!("{path}: unknown path kind {other:?}")),
                },
                PathSpec::Link { symlink } => PathFact::Symlink {
                    target: symlink.as_bytes().to_vec(),
                },
                PathSpec::File {
                    content,
                    mode,
                    uid,
                    gid,
                } => PathFact::File {
                    mode: u32::from_str_radix(mode, 8).map_err(|e| format!("{path}: {e}"))?,
                    uid: *uid,
                    gid: *gid,
                    content: Some(content.as_bytes().to_vec()),
                },
            };
            facts.paths.insert(path.clone(), fact);
        }
        for (name, spec) in &self.commands {
            let stdout = match (&spec.stdout, &spec.stdout_file) {
                (Some(s), None) => s.clone().into_bytes(),
                (None, Some(f)) => {
                    std::fs::read(root().join(f)).map_err(|e| format!("{f}: {e}"))?
                }
                _ => return Err(format!("command {name}: give stdout or stdout_file")),
            };
            facts.commands.insert(
                name.clone(),
                CommandOutput {
                    stdout,
                    status: spec.status,
                },
            );
        }
        if let Some(b) = &self.booted {
            let kernel_path = b
                .kernel_path
                .clone()
                .unwrap_or_else(|| format!("/boot/vmlinuz-{}", b.release));
            facts.booted = Some(Ok(BootedKernel {
                host: b.host.clone(),
                config_path: b.config_path.clone(),
                kernel_path,
                resolved_path: format!("/boot/vmlinuz-{}", b.release),
                release: b.release.clone(),
                kernel_exists: b.kernel_exists,
                ramdisk_path: None,
                ramdisk_resolved: None,
                cmdline: None,
                cmdline_error: None,
                kind: crate::facts::booted::DomainKind::Xl,
                disk: None,
                ramdisk_listing: None,
            }));
        }
        if let Some(e) = &self.booted_error {
            facts.booted = Some(Err(e.clone()));
        }
        Ok(())
    }
}

/// Every path and command the resource asks for must be in the facts: a fixture that
/// forgets one would test a guess.
fn check_requested(resource: &dyn Resource, facts: &Facts, scope: &Scope) -> Result<(), String> {
    for key in resource.facts(scope) {
        match key {
            crate::facts::FactKey::Path { path, .. } if !facts.paths.contains_key(&path) => {
                return Err(format!("the fixture has no fact for path {path}"));
            }
            crate::facts::FactKey::Command { name, .. } if !facts.commands.contains_key(&name) => {
                return Err(format!("the fixture has no command fact {name:?}"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs one fixture; the error says what differed.
fn run(kind: &str, text: &str) -> Result<(), String> {
    let fixture: Fixture = toml::from_str(text).map_err(|e| e.to_string())?;
    // A step refused at load time (`expect.error`): nothing to plan.
    let mut resources = match (fixture.step.resources(), &fixture.expect.error) {
        (Err(e), Some(want)) if e.message.contains(want.as_str()) => return Ok(()),
        (found, _) => found.map_err(|e| e.message)?,
    };
    let (found, resource) = match resources.len() {
        1 => resources.remove(0),
        n => return Err(format!("the step has {n} resource tables, not one")),
    };
    if found != kind {
        return Err(format!("a {found} step in the {kind} folder"));
    }
    let mut facts = Facts::default();
    fixture.facts.apply_to(&mut facts)?;
    let scope = Scope {
        guest: fixture.guest.as_ref().map(|g| GuestRef {
            name: g.name.clone(),
            domain: g.domain.clone(),
            domain_config: g.domain_config.clone(),
        }),
    };
    check_requested(resource.as_ref(), &facts, &scope)?;
    let mut view = HostView::scoped(&facts, &scope);
    let plan = match (resource.plan(&view), &fixture.expect.error) {
        (Err(e), Some(want)) if e.to_string().contains(want.as_str()) => return Ok(()),
        (Err(e), _) => return Err(format!("planning failed: {e}")),
        (Ok(plan), Some(want)) => {
            return Err(format!(
                "expected a refusal containing {want:?}, got {plan:?}"
            ));
        }
        (Ok(plan), None) => plan,
    };
    let expect = &fixture.expect;
    let summaries: Vec<&str> = plan.changes.iter().map(|c| c.summary.as_str()).collect();
    if summaries != expect.changes {
        return Err(format!(
            "changes: got {summaries:?}, want {:?}",
            expect.changes
        ));
    }
    if plan.note != expect.note {
        return Err(format!("note: got {:?}, want {:?}", plan.note, expect.note));
    }
    if plan.warning != expect.warning {
        return Err(format!(
            "warning: got {:?}, want {:?}",
            plan.warning, expect.warning
        ));
    }
    if let Some(details) = &expect.details {
        let got: Vec<String> = plan
            .changes
            .iter()
            .map(|c| c.detail.clone().unwrap_or_default())
            .collect();
        if got != *details {
            return Err(format!("details: got {got:?}, want {details:?}"));
        }
    }
    let scripts: Vec<String> = plan
        .changes
        .iter()
        .filter_map(|c| match &c.action {
            Action::Run { script } => Some(String::from_utf8_lossy(script).into_owned()),
            _ => None,
        })
        .collect();
    for (i, want) in expect.scripts.iter().enumerate() {
        match scripts.get(i) {
            Some(s) if s.contains(want.as_str()) => {}
            other => return Err(format!("script {i}: {other:?} lacks {want:?}")),
        }
    }
    for change in &plan.changes {
        view.simulate(&change.action);
    }
    for (name, output) in &plan.promises {
        view.promise(name, output.clone());
    }
    for (path, want) in &expect.files {
        match view.path(path) {
            Ok(PathFact::File {
                content: Some(c), ..
            }) if c == want.as_bytes() => {}
            other => {
                return Err(format!(
                    "{path} after the changes: {other:?}, want {want:?}"
                ));
            }
        }
    }
    for path in &expect.absent {
        if view.path(path) != Ok(&PathFact::Absent) {
            return Err(format!("{path} should be gone after the changes"));
        }
    }
    // The second run: the settled facts, with the commands' next answers.
    let mut settled = view.settled();
    fixture.after.apply_to(&mut settled)?;
    let again = resource
        .plan(&HostView::scoped(&settled, &scope))
        .map_err(|e| format!("second run: {e}"))?;
    let left: Vec<&str> = again.changes.iter().map(|c| c.summary.as_str()).collect();
    if !resource.converges() {
        // Runs on every apply by design: the second run plans the same again.
        if left != expect.changes {
            return Err(format!(
                "second run of a step that never converges: {left:?}"
            ));
        }
    } else if !left.is_empty() {
        return Err(format!("second run still changes: {left:?}"));
    }
    Ok(())
}

#[test]
fn every_plan_fixture_holds_and_converges() {
    let dir = root().join("tests/plans");
    let mut failures = Vec::new();
    let mut counted: BTreeMap<String, usize> = BTreeMap::new();
    for kind_dir in std::fs::read_dir(&dir).expect("tests/plans exists") {
        let kind_dir = kind_dir.expect("readable").path();
        let kind = kind_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            KINDS.contains(&kind.as_str()),
            "tests/plans/{kind} is not a resource kind"
        );
        for case in std::fs::read_dir(&kind_dir).expect("readable") {
            let case = case.expect("readable").path();
            if case.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            *counted.entry(kind.clone()).or_default() += 1;
            let text = std::fs::read_to_string(&case).expect("readable");
            if let Err(e) = run(&kind, &text) {
                failures.push(format!("{}: {e}", case.display()));
            }
        }
    }
    for kind in KINDS {
        if counted.get(*kind).copied().unwrap_or(0) == 0 {
            failures.push(format!(
                "no plan fixture for the `{kind}` resource in tests/plans/{kind}/"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_wrong_expectation_is_reported() {
    let text = r#"
about = "a deliberately wrong expectation"
step = { line = { path = "/etc/securetty", line = "ttyS0" } }
facts.files."/etc/securetty" = "console\n"
expect.changes = ["something else"]
"#;
    let e = run("line", text).unwrap_err();
    assert!(
        e.starts_with("changes: got [\"append \\\"ttyS0\\\" as line 2\"]"),
        "{e}"
    );
    let e = run("ini", text).unwrap_err();
    assert!(e.contains("a line step in the ini folder"), "{e}");
    let forgot = "about = \"x\"\nstep = { line = { path = \"/etc/x\", line = \"y\" } }\nexpect.changes = []\n";
    assert!(
        run("line", forgot)
            .unwrap_err()
            .contains("no fact for path /etc/x")
    );
}
