//! What a step's templates see on one host: facts, computed values and variables.
//!
//! Names, from lowest to highest precedence (a later one overrides an earlier one, as in
//! Ansible; see README "Values and variables"):
//! 1. the runbook's `[vars]` (the "all" level every host shares);
//! 2. the inventory's `[groups.all.vars]`, then the vars of the host's other groups
//!    (implicit `hosts`/`guests` and its own `groups`) in alphabetical order (an Ansible
//!    inventory: by depth below `all`, then name, as Ansible does:
//!    `Inventory::group_precedence`);
//! 3. the host's own `vars`;
//! 4. `-e name=value` on the command line.
//!
//! Facts (`host`, `hostname`, `cpus`, `kernel`, `booted`, `distro`, `distro_version`,
//! `distro_major`) and the runbook's `[values]` are not variables: their names cannot be
//! set by any of the four, so a fact always means what the host says.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Value;

use crate::facts::{FactKey, Facts, PathFact, file_fact};
use crate::inventory::{Host, Inventory};
use crate::resource::HostView;

use super::values::ValueDef;

pub use crate::inventory::Vars;

/// One host's variables, merged from the four levels in precedence order. A variable with
/// the name of a fact or value is refused, saying where it was set.
pub fn host_vars(
    runbook: &Vars,
    values: &BTreeMap<String, ValueDef>,
    inventory: &Inventory,
    host: &Host,
    extra: &[(String, String)],
) -> Result<Vars, String> {
    let mut merged = runbook.clone();
    let mut layers: Vec<(String, &Vars)> = Vec::new();
    for group in inventory.group_precedence(host) {
        if let Some(vars) = inventory.group_vars.get(group) {
            layers.push((
                format!("group {group}'s vars in {}", inventory.file.display()),
                vars,
            ));
        }
    }
    layers.push((
        format!("host {}'s vars in {}", host.name, inventory.file.display()),
        &host.vars,
    ));
    let cli: Vars = extra
        .iter()
        .map(|(k, v)| (k.clone(), toml::Value::from(v.as_str())))
        .collect();
    layers.push(("-e on the command line".to_string(), &cli));
    for (place, vars) in layers {
        for (name, value) in vars {
            if FACT_NAMES.contains(&name.as_str()) || values.contains_key(name) {
                return Err(format!(
                    "`{name}` ({place}) is the name of a fact or a runbook value, which no \
                     variable can set"
                ));
            }
            merged.insert(name.clone(), value.clone());
        }
    }
    Ok(merged)
}

/// The fact names templates can read.
pub const FACT_NAMES: &[&str] = &[
    "host",
    "hostname",
    "cpus",
    "kernel",
    "booted",
    "distro",
    "distro_version",
    "distro_major",
];

/// Files the distribution facts are read from, in order of preference.
const RELEASE_FILES: &[&str] = &[
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/redhat-release",
];

/// The facts to gather for templates that read `names`: release files for the
/// distribution, and each value's own facts.
pub fn facts_for(names: &BTreeSet<String>, values: &BTreeMap<String, ValueDef>) -> Vec<FactKey> {
    let mut keys = Vec::new();
    if names.iter().any(|n| n.starts_with("distro")) {
        keys.extend(RELEASE_FILES.iter().map(|p| file_fact(p)));
    }
    for (name, def) in values {
        if names.contains(name) {
            keys.extend(def.facts());
        }
    }
    keys
}

/// The template context of one step on one host: the `names` it reads, each from facts,
/// values (computed against `view`, which includes earlier steps' transactions) or `vars`.
/// A name that cannot be known on this host is an error saying why; `explain` receives a
/// sentence per computed value (`release = 2.6.9-78.ELxenU: the newest kernel-xenU, ...`).
pub fn context(
    host: &str,
    names: &BTreeSet<String>,
    view: &HostView<'_>,
    values: &BTreeMap<String, ValueDef>,
    vars: &Vars,
    explain: &mut Vec<String>,
) -> Result<Value, String> {
    let facts = view.facts();
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for name in names {
        let value = if let Some(def) = values.get(name) {
            let computed = def.compute(view)?;
            explain.push(format!("{name} = {}: {}", computed.value, computed.why));
            Value::from(computed.value)
        } else if let Some(v) = vars.get(name) {
            Value::from_serialize(v)
        } else if FACT_NAMES.contains(&name.as_str()) {
            fact(host, name, facts)?
        } else {
            // Left out: strict rendering reports it, at its place in the file.
            continue;
        };
        map.insert(name.clone(), value);
    }
    Ok(Value::from_serialize(&map))
}

/// One fact name's value, or why this host cannot say.
fn fact(host: &str, name: &str, facts: &Facts) -> Result<Value, String> {
    let unknown = |what: &str| format!("`{name}` is not known on {host}: {what}");
    Ok(match name {
        "host" => Value::from(host),
        "hostname" => Value::from(
            facts
                .hostname
                .clone()
                .ok_or_else(|| unknown("it did not report a hostname"))?,
        ),
        "cpus" => Value::from(facts.cpus.ok_or_else(|| {
            unknown("a local tree has no CPUs of its own; set `cpus` for it in the inventory")
        })?),
        "kernel" => Value::from(
            facts
                .kernel_release
                .clone()
                .ok_or_else(|| unknown("a local tree runs no kernel"))?,
        ),
        "booted" => match &facts.booted {
            Some(Ok(b)) => Value::from(b.release.clone()),
            Some(Err(why)) => return Err(unknown(why)),
            None => {
                return Err(unknown(
                    "it is not a guest whose host's domain config vmup reads",
                ));
            }
        },
        _ => {
            let (id, version) = distribution(facts)
                .ok_or_else(|| unknown("neither /etc/os-release nor /etc/redhat-release says"))?;
            match name {
                "distro" => Value::from(id),
                "distro_version" => Value::from(version),
                _ => Value::from(version.split('.').next().unwrap_or_default().to_string()),
            }
        }
    })
}

/// The distribution's id and version: `ID` and `VERSION_ID` of os-release, or the first line
/// of redhat-release (`CentOS release 4.6 (Final)` -> `centos`, `4.6`).
pub fn distribution(facts: &Facts) -> Option<(String, String)> {
    let content = |path: &str| match facts.paths.get(path) {
        Some(PathFact::File {
            content: Some(c), ..
        }) => Some(String::from_utf8_lossy(c).into_owned()),
        _ => None,
    };
    for path in &RELEASE_FILES[..2] {
        if let Some(text) = content(path) {
            let field = |key: &str| {
                text.lines().find_map(|l| {
                    let v = l.trim().strip_prefix(key)?.strip_prefix('=')?;
                    Some(v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                })
            };
            if let (Some(id), Some(version)) = (field("ID"), field("VERSION_ID")) {
                return Some((id, version));
            }
        }
    }
    let text = content(RELEASE_FILES[2])?;
    let line = text.lines().next()?;
    let id = line.split_whitespace().next()?.to_ascii_lowercase();
    let version = line
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?
        .to_string();
    Some((id, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(path: &str, text: &str) -> Facts {
        let mut facts = Facts::default();
        facts.paths.insert(
            path.into(),
            PathFact::File {
                mode: 0o644,
                uid: 0,
                gid: 0,
                content: Some(text.as_bytes().to_vec()),
            },
        );
        facts
    }

    #[test]
    fn distribution_from_either_file() {
        let f = with_file("/etc/redhat-release", "CentOS release 4.6 (Final)\n");
        assert_eq!(distribution(&f), Some(("centos".into(), "4.6".into())));
        let f = with_file(
            "/usr/lib/os-release",
            "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\n",
        );
        assert_eq!(distribution(&f), Some(("debian".into(), "12".into())));
    }

    #[test]
    fn names_resolve_by_kind_and_unknown_facts_say_why() {
        let mut facts = with_file("/etc/redhat-release", "CentOS release 4.6 (Final)\n");
        facts.hostname = Some("ng2".into());
        let view = HostView::new(&facts);
        let names: BTreeSet<String> = ["host", "hostname", "distro_major", "site", "missing"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let vars = Vars::from([("site".to_string(), toml::Value::from("ARCS"))]);
        let mut explain = Vec::new();
        let ctx = context("NG2", &names, &view, &BTreeMap::new(), &vars, &mut explain).unwrap();
        let env = super::super::template::environment();
        assert_eq!(
            env.render_str(
                "{{ host }} {{ hostname }} {{ distro_major }} {{ site }}",
                &ctx
            )
            .unwrap(),
            "NG2 ng2 4 ARCS"
        );
        let names = BTreeSet::from(["cpus".to_string()]);
        let e = context("g", &names, &view, &BTreeMap::new(), &vars, &mut explain).unwrap_err();
        assert!(e.contains("set `cpus` for it in the inventory"), "{e}");
    }
}
