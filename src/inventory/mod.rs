//! The inventory: which machines exist, how to reach them, and which guest runs on which host.
//!
//! A TOML file with `[defaults]` and one `[hosts.NAME]` table per machine. Guests name the
//! host they run on (`host`), their domain there and the domain config path, which is what
//! lets vmup find out which kernel the host boots them with. Every problem is reported as
//! `file:line:column`.
//!
//! An Ansible inventory (INI, YAML) or an Ansible host list (`host1,host2,`) is read too
//! ([`ansible`]), so a site's existing inventory needs no rewriting; [`Inventory::load`]
//! says how the format is chosen.

pub mod amount;
pub mod ansible;
pub mod pattern;
mod privilege;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::source::{SourceError, read_text};
use crate::transport::Endpoint;
use privilege::{BecomeSaid, RawMethod};

pub use crate::transport::{AlgorithmPolicy, BecomeMethod, TransportKind};
pub use amount::Amount;
pub use pattern::{HostPattern, PatternError};

/// What a machine is in the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A machine that runs domains (Xen dom0, KVM host).
    Host,
    /// A virtual machine; `host` names where it runs.
    Guest,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    hosts: BTreeMap<String, Spanned<RawHost>>,
    #[serde(default)]
    groups: BTreeMap<Spanned<String>, RawGroup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    vars: Vars,
    ssh_algorithms: Option<AlgorithmPolicy>,
    r#become: Option<Spanned<bool>>,
    become_method: Option<Spanned<RawMethod>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    user: Option<String>,
    port: Option<u16>,
    transport: Option<TransportKind>,
    ssh_algorithms: Option<AlgorithmPolicy>,
    r#become: Option<Spanned<bool>>,
    become_method: Option<Spanned<RawMethod>>,
    latency_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    address: Option<String>,
    user: Option<String>,
    port: Option<u16>,
    transport: Option<TransportKind>,
    ssh_algorithms: Option<AlgorithmPolicy>,
    r#become: Option<Spanned<bool>>,
    become_method: Option<Spanned<RawMethod>>,
    root: Option<Spanned<String>>,
    latency_ms: Option<Spanned<u64>>,
    role: Option<Role>,
    host: Option<Spanned<String>>,
    domain: Option<Spanned<String>>,
    domain_config: Option<Spanned<String>>,
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    cpus: Option<Spanned<u32>>,
    #[serde(default)]
    vars: Vars,
}

/// Variables for runbook templates, by name (see the runbook's `context` module for how
/// the levels combine).
pub type Vars = BTreeMap<String, toml::Value>;

/// One machine of the fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// Inventory name; also the ssh_config alias.
    pub name: String,
    /// Address or DNS name to connect to (default: the name, through ssh_config).
    pub address: Option<String>,
    /// Remote user.
    pub user: Option<String>,
    /// ssh port.
    pub port: Option<u16>,
    /// How to reach it.
    pub transport: TransportKind,
    /// Which ssh algorithms it is offered: its own `ssh_algorithms`, else its groups',
    /// else `[defaults]`'s, else `auto`.
    pub ssh_algorithms: AlgorithmPolicy,
    /// `become`: its scripts run as root through [`Host::become_method`], for a login that
    /// is not root (its own setting, else its groups', else `[defaults]`'s, else false;
    /// `--become` sets it on every host).
    pub become_root: bool,
    /// `become_method`: sudo (default) or doas; what `become` and `--become` use.
    pub become_method: BecomeMethod,
    /// For `local` and `synthetic`: the directory every runbook path is taken under.
    pub root: Option<PathBuf>,
    /// For `synthetic`: how long each of its scripts takes to answer (`latency_ms`).
    pub latency: Duration,
    /// Host, guest, or neither.
    pub role: Option<Role>,
    /// For a guest: the inventory name of the host it runs on.
    pub parent: Option<String>,
    /// For a guest: its domain name on the host.
    pub domain: Option<String>,
    /// For a guest: path of its domain config on the host.
    pub domain_config: Option<String>,
    /// Explicit groups.
    pub groups: Vec<String>,
    /// The CPU count for a machine that cannot report its own (a local tree: what its
    /// domain config gives it), for `when = "cpus == 1"` and templates.
    pub cpus: Option<u32>,
    /// This machine's own variables (highest precedence after `-e`).
    pub vars: Vars,
}

impl Host {
    /// Implicit and explicit groups this machine belongs to.
    pub fn all_groups(&self) -> Vec<&str> {
        let mut groups = vec!["all"];
        if self.role == Some(Role::Host) {
            groups.push("hosts");
        }
        if self.parent.is_some() {
            groups.push("guests");
        }
        groups.extend(self.groups.iter().map(String::as_str));
        groups
    }

    /// How the transport layer is to reach this machine.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            name: self.name.clone(),
            address: self.address.clone(),
            user: self.user.clone(),
            port: self.port,
            kind: self.transport,
            root: self.root.clone(),
            latency: self.latency,
            algorithms: self.ssh_algorithms,
            // The local transport runs as whoever runs vmup: an inherited `become` is
            // ignored there (one on the host itself was refused).
            become_method: (self.become_root && !self.transport.is_tree())
                .then_some(self.become_method),
        }
    }

    /// The prefix every remote path gets: the local root, or nothing.
    pub fn path_root(&self) -> String {
        match &self.root {
            Some(root) => root.to_string_lossy().trim_end_matches('/').to_string(),
            None => String::new(),
        }
    }
}

/// The whole fleet, hosts in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// The file it was read from.
    pub file: PathBuf,
    /// Machines in the order the file lists them.
    pub hosts: Vec<Host>,
    /// `[groups.NAME] vars`: variables of each group (`all` included).
    pub group_vars: BTreeMap<String, Vars>,
    /// For an Ansible inventory: each group's depth below `all` (its longest chain of
    /// parents), which orders group variables as Ansible does. Empty for TOML, where
    /// every group but `all` is at depth 1.
    pub group_depth: BTreeMap<String, usize>,
}

/// The inventory formats `-i` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// vmup's own TOML.
    Toml,
    /// Ansible's INI inventory.
    AnsibleIni,
    /// Ansible's YAML inventory.
    AnsibleYaml,
}

impl Format {
    /// The format of `file` with contents `text`: by extension (`.toml`; `.yml`, `.yaml`,
    /// `.json`; `.ini`, `.cfg`), else by content: a file whose first table is
    /// `[defaults]`, `[hosts.NAME]` or `[groups.NAME]` is TOML, one that starts with `---`, `{`
    /// or a `NAME:` line is YAML, anything else is INI (like Ansible's `/etc/ansible/hosts`).
    pub fn detect(file: &Path, text: &str) -> Format {
        match file.extension().and_then(|e| e.to_str()) {
            Some("toml") => return Format::Toml,
            Some("yml" | "yaml" | "json") => return Format::AnsibleYaml,
            Some("ini" | "cfg") => return Format::AnsibleIni,
            _ => {}
        }
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
            .unwrap_or("");
        let table = first.trim_start_matches('[').trim_start();
        if first.starts_with('[')
            && (table.starts_with("defaults]")
                || table.starts_with("hosts.")
                || table.starts_with("groups."))
        {
            Format::Toml
        } else if first.starts_with("---") || first.starts_with('{') || first.ends_with(':') {
            Format::AnsibleYaml
        } else {
            Format::AnsibleIni
        }
    }
}

impl Inventory {
    /// Reads and checks what `-i` names: an inventory file in one of the [`Format`]s, or,
    /// when no such file exists and the argument holds a comma, a host list
    /// (`host1,host2,`: each host in `ungrouped` with default settings).
    pub fn load(file: &Path) -> Result<Inventory, SourceError> {
        let arg = file.to_string_lossy();
        if !file.exists() && ansible::list::is_host_list(&arg) {
            let model = ansible::list::parse(&arg).map_err(|e| {
                SourceError::file(
                    file,
                    format!("host list, column {}: {}", e.pos.column, e.message),
                )
            })?;
            return ansible::lower::lower(file, &model);
        }
        if file.is_dir() {
            return Err(SourceError::file(
                file,
                "is a directory: vmup reads one inventory file (TOML, Ansible INI or YAML)",
            ));
        }
        let text = read_text(file)?;
        let format = Format::detect(file, &text);
        if format != Format::Toml {
            refuse_ansible_extras(file, &text)?;
        }
        match format {
            Format::Toml => Inventory::parse(file, &text),
            Format::AnsibleIni => ansible::parse_ini(file, &text),
            Format::AnsibleYaml => ansible::parse_yaml(file, &text),
        }
    }

    /// Parses and checks inventory text; `file` is used for messages and relative roots.
    pub fn parse(file: &Path, text: &str) -> Result<Inventory, SourceError> {
        let raw: RawInventory =
            toml::from_str(text).map_err(|e| SourceError::from_toml(file, text, &e))?;
        let mut entries: Vec<(String, Spanned<RawHost>)> = raw.hosts.into_iter().collect();
        entries.sort_by_key(|(_, h)| h.span().start);
        let names: std::collections::BTreeSet<String> =
            entries.iter().map(|(n, _)| n.clone()).collect();
        let base = file.parent().unwrap_or(Path::new("."));
        let reserved = ["all", "hosts", "guests"];
        let group_algorithms: BTreeMap<&str, AlgorithmPolicy> = raw
            .groups
            .iter()
            .filter_map(|(name, g)| g.ssh_algorithms.map(|a| (name.get_ref().as_str(), a)))
            .collect();
        let at = |(span, message): privilege::Problem| SourceError::at(file, text, span, message);
        let become_defaults = BecomeSaid {
            enabled: raw.defaults.r#become.as_ref(),
            method: raw.defaults.become_method.as_ref(),
        };
        privilege::check_method(become_defaults.method).map_err(at)?;
        let mut group_become: BTreeMap<&str, BecomeSaid<'_>> = BTreeMap::new();
        for (name, g) in &raw.groups {
            privilege::check_method(g.become_method.as_ref()).map_err(at)?;
            let said = BecomeSaid {
                enabled: g.r#become.as_ref(),
                method: g.become_method.as_ref(),
            };
            group_become.insert(name.get_ref().as_str(), said);
        }
        let mut hosts = Vec::with_capacity(entries.len());
        for (name, spanned) in entries {
            let span = spanned.span();
            let h = spanned.into_inner();
            if reserved.contains(&name.as_str()) || !selectable(&name) {
                return Err(SourceError::at(
                    file,
                    text,
                    span,
                    format!(
                        "{name:?} cannot be a host name (reserved word, empty, whitespace or pattern character)"
                    ),
                ));
            }
            let transport = h
                .transport
                .or(raw.defaults.transport)
                .unwrap_or(TransportKind::Ssh);
            let root = match (&h.root, transport.is_tree()) {
                (Some(root), true) => Some(base.join(root.get_ref())),
                (Some(root), false) => {
                    return Err(SourceError::at(
                        file,
                        text,
                        root.span(),
                        "`root` needs transport = \"local\" (or \"synthetic\")",
                    ));
                }
                (None, true) => {
                    return Err(SourceError::at(
                        file,
                        text,
                        span,
                        format!("host {name} uses a transport over a tree and needs `root`"),
                    ));
                }
                (None, false) => None,
            };
            if let Some(latency) = &h.latency_ms
                && transport != TransportKind::Synthetic
            {
                return Err(SourceError::at(
                    file,
                    text,
                    latency.span(),
                    "`latency_ms` is for transport = \"synthetic\" only",
                ));
            }
            let latency = Duration::from_millis(
                h.latency_ms
                    .map(Spanned::into_inner)
                    .or(raw.defaults.latency_ms)
                    .filter(|_| transport == TransportKind::Synthetic)
                    .unwrap_or(0),
            );
            if let Some(parent) = &h.host {
                if !names.contains(parent.get_ref()) {
                    return Err(SourceError::at(
                        file,
                        text,
                        parent.span(),
                        format!(
                            "host {name} runs on {:?}, which is not in the inventory",
                            parent.get_ref()
                        ),
                    ));
                }
                if parent.get_ref() == &name {
                    return Err(SourceError::at(
                        file,
                        text,
                        parent.span(),
                        format!("host {name} cannot run on itself"),
                    ));
                }
            }
            // The name reaches xl/xm/virsh on the host: never as an option, never split.
            if let Some(d) = &h.domain
                && (d.get_ref().is_empty()
                    || d.get_ref().starts_with('-')
                    || d.get_ref()
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control()))
            {
                return Err(SourceError::at(
                    file,
                    text,
                    d.span(),
                    "`domain` must be a domain name: not empty, not starting with `-`, no blanks or control characters",
                ));
            }
            if let Some(dc) = &h.domain_config
                && !dc.get_ref().starts_with('/')
            {
                return Err(SourceError::at(
                    file,
                    text,
                    dc.span(),
                    "`domain_config` must be an absolute path on the host",
                ));
            }
            let mut groups = Vec::new();
            for g in h.groups {
                if !selectable(g.get_ref()) {
                    return Err(SourceError::at(
                        file,
                        text,
                        g.span(),
                        format!(
                            "{:?} cannot be a group name (empty, whitespace or pattern character)",
                            g.get_ref()
                        ),
                    ));
                }
                if reserved.contains(&g.get_ref().as_str()) || names.contains(g.get_ref()) {
                    return Err(SourceError::at(
                        file,
                        text,
                        g.span(),
                        format!(
                            "group {:?} clashes with a host name or an implicit group",
                            g.get_ref()
                        ),
                    ));
                }
                groups.push(g.into_inner());
            }
            if let Some(cpus) = &h.cpus
                && *cpus.get_ref() == 0
            {
                return Err(SourceError::at(
                    file,
                    text,
                    cpus.span(),
                    "`cpus` must be at least 1",
                ));
            }
            let role = h.role.or(if h.host.is_some() {
                Some(Role::Guest)
            } else {
                None
            });
            let ssh_algorithms = match h.ssh_algorithms {
                Some(own) => own,
                None => {
                    // Its explicit groups, then the implicit ones, then `all`.
                    let implicit = match (role, h.host.is_some()) {
                        (_, true) => Some("guests"),
                        (Some(Role::Host), false) => Some("hosts"),
                        _ => None,
                    };
                    let said: Vec<(&str, AlgorithmPolicy)> = groups
                        .iter()
                        .map(String::as_str)
                        .chain(implicit)
                        .chain(["all"])
                        .filter_map(|g| group_algorithms.get(g).map(|a| (g, *a)))
                        .collect();
                    if let Some((g, a)) = said.iter().find(|(_, a)| *a != said[0].1) {
                        return Err(SourceError::at(
                            file,
                            text,
                            span,
                            format!(
                                "host {name} is in groups {} ({}) and {g} ({}), which disagree on `ssh_algorithms`: set it on the host",
                                said[0].0,
                                said[0].1.as_str(),
                                a.as_str()
                            ),
                        ));
                    }
                    said.first()
                        .map(|(_, a)| *a)
                        .or(raw.defaults.ssh_algorithms)
                        .unwrap_or_default()
                }
            };
            let implicit = match (role, h.host.is_some()) {
                (_, true) => Some("guests"),
                (Some(Role::Host), false) => Some("hosts"),
                _ => None,
            };
            let chain: Vec<&str> = groups
                .iter()
                .map(String::as_str)
                .chain(implicit)
                .chain(["all"])
                .collect();
            let become_own = BecomeSaid {
                enabled: h.r#become.as_ref(),
                method: h.become_method.as_ref(),
            };
            let become_setting = privilege::resolve(
                &name,
                span.clone(),
                transport,
                &become_own,
                &chain,
                &group_become,
                &become_defaults,
            )
            .map_err(at)?;
            hosts.push(Host {
                name,
                address: h.address,
                user: h.user.or_else(|| raw.defaults.user.clone()),
                port: h.port.or(raw.defaults.port),
                transport,
                ssh_algorithms,
                become_root: become_setting.enabled,
                become_method: become_setting.method,
                root,
                latency,
                role,
                parent: h.host.map(Spanned::into_inner),
                domain: h.domain.map(Spanned::into_inner),
                domain_config: h.domain_config.map(Spanned::into_inner),
                groups,
                cpus: h.cpus.map(Spanned::into_inner),
                vars: h.vars,
            });
        }
        let mut inventory = Inventory {
            file: file.to_path_buf(),
            hosts,
            group_vars: BTreeMap::new(),
            group_depth: BTreeMap::new(),
        };
        let known = inventory
            .group_names()
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>();
        for (name, group) in raw.groups {
            if !known.contains(name.get_ref()) {
                return Err(SourceError::at(
                    file,
                    text,
                    name.span(),
                    format!(
                        "group {:?} has vars but no host is in it (known groups: {})",
                        name.get_ref(),
                        known.join(", ")
                    ),
                ));
            }
            inventory.group_vars.insert(name.into_inner(), group.vars);
        }
        Ok(inventory)
    }

    /// `--become`: every host's scripts run as root through its `become_method` (sudo
    /// unless the inventory says doas), whatever its `become` says; local hosts still run
    /// as the user running vmup.
    pub fn become_everywhere(&mut self) {
        for host in &mut self.hosts {
            host.become_root = true;
        }
    }

    /// The machine called `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The groups of `host` in the order their vars apply (later ones override): `all`,
    /// then by depth below `all` and then by name, as Ansible orders them. In a TOML
    /// inventory every group is at depth 1: `all`, then alphabetical.
    pub fn group_precedence<'a>(&self, host: &'a Host) -> Vec<&'a str> {
        let mut groups = host.all_groups();
        groups.sort_by_key(|g| {
            let depth = match *g {
                "all" => 0,
                g => self.group_depth.get(g).copied().unwrap_or(1),
            };
            (depth, *g)
        });
        groups
    }

    /// Every group name known (implicit and explicit).
    pub fn group_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.hosts.iter().flat_map(Host::all_groups).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Refuses what Ansible would read beside or instead of the inventory's own text, which
/// vmup would otherwise silently miss: an inventory script, `group_vars/` and `host_vars/`
/// directories.
fn refuse_ansible_extras(file: &Path, text: &str) -> Result<(), SourceError> {
    use std::os::unix::fs::PermissionsExt;
    let executable = std::fs::metadata(file).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
    if executable || text.starts_with("#!") {
        return Err(SourceError::file(
            file,
            "looks like an inventory script (executable or `#!`), which vmup does not run: \
             save its output with `ansible-inventory -i FILE --list -y > hosts.yml` and use that \
             (or clear the executable bit of a plain inventory)",
        ));
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    for extra in ["group_vars", "host_vars"] {
        let path = dir.join(extra);
        if path.exists() {
            return Err(SourceError::file(
                file,
                format!(
                    "{} is beside it, and vmup reads variables only from the inventory file: \
                     move them into it, or use `ansible-inventory -i FILE --list -y > hosts.yml`",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a host or group name can be selected by a pattern term equal to it: not empty,
/// no whitespace (terms are trimmed), and none of the characters patterns give a meaning
/// (`,` between terms, `!` and `@` before them, `*`, `?` and `[` make a glob).
fn selectable(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(char::is_whitespace)
        && !name.contains([',', '@', '!', '*', '?', '['])
}

#[cfg(test)]
mod tests;
