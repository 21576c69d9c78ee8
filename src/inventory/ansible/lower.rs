//! Resolves a parsed Ansible [`Model`] as Ansible does and reads it as the equivalent TOML
//! inventory, so one reader checks every format.
//!
//! Each line of the generated TOML remembers the Ansible `line:column` it came from; an
//! error the TOML reader finds is reported there, with vmup's key names replaced by the
//! Ansible variables that set them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Model, ParseError, Pos, Var, VarMap};
use crate::inventory::Inventory;
use crate::source::SourceError;

/// Ansible connection variables vmup maps to its own settings, with the vmup key.
const CONNECTION: &[(&str, &str)] = &[
    ("ansible_host", "address"),
    ("ansible_ssh_host", "address"),
    ("ansible_user", "user"),
    ("ansible_ssh_user", "user"),
    ("ansible_port", "port"),
    ("ansible_ssh_port", "port"),
    ("ansible_connection", "transport"),
    ("ansible_become", "become"),
    ("ansible_become_method", "become_method"),
    ("ansible_become_user", "become"),
    // vmup never types a password (sudo -n): these are read and dropped, never kept as
    // template variables, so they are never rendered, logged or recorded.
    ("ansible_become_pass", "become"),
    ("ansible_become_password", "become"),
];

/// vmup's own keys, set as `vmup_<key>` variables.
const VMUP_KEYS: &[&str] = &[
    "role",
    "host",
    "domain",
    "domain_config",
    "root",
    "transport",
    "ssh_algorithms",
    "cpus",
];

fn is_setting(name: &str) -> bool {
    CONNECTION.iter().any(|(a, _)| *a == name) || name.starts_with("vmup_")
}

/// Resolves `model` (read from `file`) into vmup's inventory.
pub fn lower(file: &Path, model: &Model) -> Result<Inventory, SourceError> {
    let fail = |e: ParseError| SourceError {
        file: file.to_path_buf(),
        line: e.pos.line,
        column: e.pos.column,
        message: e.message,
    };
    let depth = depths(model).map_err(fail)?;
    check_settings(model).map_err(fail)?;
    let mut toml = String::new();
    let mut origins: Vec<Option<Pos>> = Vec::new();
    let mut line = |toml: &mut String, text: String, pos: Option<Pos>| {
        toml.push_str(&text);
        toml.push('\n');
        origins.push(pos);
    };
    let order = |g: &&str| (depth.get(*g).copied().unwrap_or(1), g.to_string());
    let mut used_groups: BTreeSet<String> = BTreeSet::new();
    let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut direct: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, group) in &model.groups {
        for (child, _) in &group.children {
            parents.entry(child).or_default().push(name);
        }
        for host in &group.hosts {
            direct.entry(host).or_default().push(name);
        }
    }
    for (name, def) in &model.hosts {
        let mut groups = host_groups(&parents, direct.get(name.as_str()));
        groups.sort_by_key(order);
        for g in &groups {
            if matches!(*g, "hosts" | "guests") {
                let pos = model.groups.get(*g).map_or(def.pos, |g| g.pos);
                return Err(fail(ParseError::new(
                    pos,
                    format!(
                        "group {g} is one of vmup's implicit groups (machines with vmup_role=host, guests with vmup_host): rename it"
                    ),
                )));
            }
        }
        used_groups.extend(groups.iter().map(|g| g.to_string()));
        used_groups.insert("all".into());
        // The settings, merged as Ansible merges variables.
        let mut merged: BTreeMap<&str, &Var> = BTreeMap::new();
        let levels = std::iter::once("all")
            .chain(groups.iter().copied())
            .filter_map(|g| model.groups.get(g).map(|g| &g.vars))
            .chain([&def.vars]);
        for vars in levels {
            for (k, v) in vars.iter().filter(|(k, _)| is_setting(k)) {
                merged.insert(k, v);
            }
        }
        line(&mut toml, format!("[hosts.{}]", quote(name)), Some(def.pos));
        let mut set = |key: &str, var: &Var| {
            line(
                &mut toml,
                format!("{key} = {}", setting_value(key, &var.value)),
                Some(var.pos),
            );
        };
        for (key, names) in [
            ("address", ["ansible_host", "ansible_ssh_host"]),
            ("user", ["ansible_user", "ansible_ssh_user"]),
            ("port", ["ansible_port", "ansible_ssh_port"]),
        ] {
            if let [Some(a), Some(b)] = names.map(|n| merged.get(n))
                && a.value != b.value
            {
                return Err(fail(ParseError::new(
                    b.pos,
                    format!(
                        "{} and {} disagree for host {name}: keep one",
                        names[0], names[1]
                    ),
                )));
            }
            if let Some(var) = names.iter().find_map(|n| merged.get(n)) {
                set(key, var);
            }
        }
        if let Some(var) = merged.get("ansible_become_user")
            && var.value.as_str() != Some("root")
        {
            return Err(fail(ParseError::new(
                var.pos,
                format!(
                    "ansible_become_user={}: vmup becomes root only (its scripts write system files)",
                    display(&var.value)
                ),
            )));
        }
        // A local tree runs as whoever runs vmup: a `become` it inherits means nothing
        // there (as in the TOML inventory, only its own is refused).
        let local = merged
            .get("vmup_transport")
            .or(merged.get("ansible_connection"))
            .is_some_and(|v| v.value.as_str() == Some("local"));
        for (key, name) in [
            ("become", "ansible_become"),
            ("become_method", "ansible_become_method"),
        ] {
            if let Some(var) = merged.get(name)
                && (!local || def.vars.contains_key(name))
            {
                set(key, var);
            }
        }
        if let Some(var) = merged.get("vmup_transport") {
            set("transport", var);
        } else if let Some(var) = merged.get("ansible_connection") {
            let kind = match var.value.as_str() {
                Some("ssh" | "smart" | "paramiko") => "ssh",
                Some("local") => "local",
                _ => {
                    return Err(fail(ParseError::new(
                        var.pos,
                        format!(
                            "ansible_connection={} is not a transport vmup has: use ssh or local, or set vmup_transport (ssh, openssh, local)",
                            display(&var.value)
                        ),
                    )));
                }
            };
            set(
                "transport",
                &Var {
                    value: toml::Value::String(kind.into()),
                    pos: var.pos,
                },
            );
        }
        for key in VMUP_KEYS.iter().filter(|k| **k != "transport") {
            if let Some(var) = merged.get(format!("vmup_{key}").as_str()) {
                set(key, var);
            }
        }
        let explicit: Vec<toml::Value> = groups
            .iter()
            .map(|g| toml::Value::String(g.to_string()))
            .collect();
        line(
            &mut toml,
            format!("groups = {}", toml::Value::Array(explicit)),
            Some(def.pos),
        );
        vars_table(
            &mut |t, p| line(&mut toml, t, p),
            &format!("hosts.{}.vars", quote(name)),
            &def.vars,
        );
    }
    for (name, group) in &model.groups {
        if used_groups.contains(name) {
            vars_table(
                &mut |t, p| line(&mut toml, t, p),
                &format!("groups.{}.vars", quote(name)),
                &group.vars,
            );
        }
    }
    let mut inventory = Inventory::parse(file, &toml).map_err(|e| {
        // A line vmup wrote itself (a table header) has no Ansible place: the file's.
        let pos = origins
            .get(e.line.wrapping_sub(1))
            .copied()
            .flatten()
            .unwrap_or_default();
        SourceError {
            file: e.file,
            line: pos.line,
            column: pos.column,
            message: ansible_names(&e.message),
        }
    })?;
    inventory.group_depth = depth;
    Ok(inventory)
}

fn vars_table(line: &mut dyn FnMut(String, Option<Pos>), table: &str, vars: &VarMap) {
    let mut plain = vars.iter().filter(|(k, _)| !is_setting(k)).peekable();
    if plain.peek().is_none() {
        return;
    }
    line(format!("[{table}]"), None);
    for (k, v) in plain {
        line(format!("{} = {}", quote(k), v.value), Some(v.pos));
    }
}

/// A setting as TOML: ports given as text (`ansible_port="22"`) become numbers.
fn setting_value(key: &str, value: &toml::Value) -> String {
    // Ansible's booleans as INI and YAML give them: `yes`, `True`, `on`, `1`.
    if key == "become" {
        let truth = match value {
            toml::Value::String(text) => match text.to_ascii_lowercase().as_str() {
                "yes" | "y" | "true" | "t" | "on" | "1" => Some(true),
                "no" | "n" | "false" | "f" | "off" | "0" => Some(false),
                _ => None,
            },
            toml::Value::Integer(n) => Some(*n != 0),
            _ => None,
        };
        if let Some(truth) = truth {
            return truth.to_string();
        }
    }
    if key == "port"
        && let Some(n) = value.as_str().and_then(|s| s.trim().parse::<i64>().ok())
    {
        return n.to_string();
    }
    value.to_string()
}

fn display(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// vmup's key names in a TOML reader's message, as the Ansible variables that set them.
fn ansible_names(message: &str) -> String {
    let mut out = message.to_string();
    for key in VMUP_KEYS {
        out = out.replace(&format!("`{key}`"), &format!("`vmup_{key}`"));
    }
    for key in ["become", "become_method"] {
        out = out.replace(&format!("`{key}`"), &format!("`ansible_{key}`"));
    }
    out.replace(
        "uses transport = \"local\" and needs `vmup_root`",
        "uses the local transport (ansible_connection=local or vmup_transport=local) and \
         needs `vmup_root`, the directory every runbook path is taken under (`/` for this \
         machine itself)",
    )
    .replace("transport = \"local\"", "vmup_transport=local")
}

/// Refuses `vmup_` keys vmup does not have and Ansible settings vmup cannot honour.
fn check_settings(model: &Model) -> Result<(), ParseError> {
    let levels = model
        .groups
        .values()
        .map(|g| &g.vars)
        .chain(model.hosts.iter().map(|(_, h)| &h.vars));
    for vars in levels {
        for (name, var) in vars {
            if let Some(key) = name.strip_prefix("vmup_")
                && !VMUP_KEYS.contains(&key)
            {
                return Err(ParseError::new(
                    var.pos,
                    format!(
                        "unknown vmup setting {name}: vmup reads vmup_{}",
                        VMUP_KEYS.join(", vmup_")
                    ),
                ));
            }
            if name == "ansible_group_priority" {
                return Err(ParseError::new(
                    var.pos,
                    "ansible_group_priority is not supported: vmup orders group variables by depth and name only",
                ));
            }
        }
    }
    Ok(())
}

/// The groups a host is in: those naming it, their ancestors, or `ungrouped` (never
/// `all`, which vmup gives every host).
fn host_groups<'a>(
    parents: &BTreeMap<&'a str, Vec<&'a str>>,
    direct: Option<&Vec<&'a str>>,
) -> Vec<&'a str> {
    let mut found: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = direct.cloned().unwrap_or_default();
    while let Some(g) = todo.pop() {
        if found.insert(g) {
            todo.extend(parents.get(g).into_iter().flatten());
        }
    }
    found.remove("all");
    if found.len() > 1 {
        found.remove("ungrouped");
    }
    if found.is_empty() {
        found.insert("ungrouped");
    }
    found.into_iter().collect()
}

/// Each group's depth below `all` (the longest chain of children), as Ansible orders
/// group variables; a cycle is refused.
fn depths(model: &Model) -> Result<BTreeMap<String, usize>, ParseError> {
    fn visit(
        model: &Model,
        name: &str,
        depth: usize,
        path: &mut Vec<String>,
        out: &mut BTreeMap<String, usize>,
    ) -> Result<(), ParseError> {
        if out.get(name).is_some_and(|d| *d >= depth) {
            return Ok(());
        }
        out.insert(name.to_string(), depth);
        path.push(name.to_string());
        if let Some(group) = model.groups.get(name) {
            for (child, pos) in &group.children {
                if path.contains(child) {
                    return Err(ParseError::new(
                        *pos,
                        format!(
                            "group {child} is a child of itself (through {name}): remove the loop"
                        ),
                    ));
                }
                visit(model, child, depth + 1, path, out)?;
            }
        }
        path.pop();
        Ok(())
    }
    let mut out = BTreeMap::new();
    let roots: Vec<&String> = model
        .groups
        .keys()
        .filter(|n| {
            *n != "all"
                && !model
                    .groups
                    .values()
                    .any(|g| g.children.iter().any(|(c, _)| c == *n))
        })
        .collect();
    let mut path = vec!["all".to_string()];
    out.insert("all".to_string(), 0);
    for root in roots {
        visit(model, root, 1, &mut path, &mut out)?;
    }
    if let Some(all) = model.groups.get("all") {
        for (child, _) in &all.children {
            visit(model, child, 1, &mut path, &mut out)?;
        }
    }
    // A cycle unreachable from a root never got a depth.
    for (name, group) in &model.groups {
        if !out.contains_key(name) {
            let pos = group.children.first().map_or(group.pos, |(_, p)| *p);
            return Err(ParseError::new(
                pos,
                format!("group {name} is a child of itself: remove the loop"),
            ));
        }
    }
    Ok(out)
}
