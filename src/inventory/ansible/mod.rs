//! Ansible inventories (INI, YAML, `host1,host2,`), so a site's existing inventory drives
//! vmup without being rewritten.
//!
//! Each format is parsed into one [`Model`] (groups, their children and vars, hosts and
//! their vars, each value with the `line:column` it came from). The model is then resolved
//! as Ansible resolves it (`ansible-inventory --list` is the reference, see
//! `tests/e2e/ansible_inventory.rs`): a host is in its groups and all their ancestors, a
//! host in no group is in `ungrouped`, and a variable set at several levels takes the value
//! of `all`, then of its groups in order of depth below `all` and then name, then the
//! host's own. The resolved model is written out as the TOML inventory it is equivalent to
//! ([`lower`]) and read by the one TOML reader, so both formats are checked by the same
//! rules; an error in that TOML is reported at the Ansible line it came from.
//!
//! Mapping of variables to vmup's settings (resolved per host with Ansible's precedence, and
//! then no longer template variables):
//! `ansible_host` (or `ansible_ssh_host`) -> `address`, `ansible_user` (`ansible_ssh_user`)
//! -> `user`, `ansible_port` (`ansible_ssh_port`, `host:port`) -> `port`,
//! `ansible_connection` (`ssh`, `smart`, `paramiko` -> `ssh`; `local` -> `local`, which
//! needs `vmup_root`), and `vmup_<key>` for vmup's own keys: `vmup_role`, `vmup_host`,
//! `vmup_domain`, `vmup_domain_config`, `vmup_root`, `vmup_transport` (over
//! `ansible_connection`), `vmup_ssh_algorithms`, `vmup_cpus`. Groups are Ansible's groups.
//! Every other variable (`ansible_become*` included) is a template variable.

pub mod ini;
pub mod list;
pub mod literal;
pub mod lower;
pub mod range;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use crate::inventory::Inventory;
use crate::source::SourceError;

/// Reads an Ansible INI inventory.
pub fn parse_ini(file: &Path, text: &str) -> Result<Inventory, SourceError> {
    let model = ini::parse(text).map_err(|e| e.in_file(file))?;
    lower::lower(file, &model)
}

/// Reads an Ansible YAML inventory.
pub fn parse_yaml(file: &Path, text: &str) -> Result<Inventory, SourceError> {
    let model = yaml::parse(text).map_err(|e| e.in_file(file))?;
    lower::lower(file, &model)
}

/// A place in the Ansible file (1-based), for errors in values found after parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
}

/// A variable as written: its value and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// The value (Ansible's nulls are refused by the parsers: TOML has none).
    pub value: toml::Value,
    /// Where it was set.
    pub pos: Pos,
}

/// Variables of one level, later assignments replacing earlier ones as in Ansible.
pub type VarMap = BTreeMap<String, Var>;

/// One Ansible group as the file declares it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// Where it was first named.
    pub pos: Pos,
    /// Its direct hosts, in the order they were added.
    pub hosts: Vec<String>,
    /// Its direct child groups, with where each was named.
    pub children: Vec<(String, Pos)>,
    /// Its own variables.
    pub vars: VarMap,
}

/// One host as the file declares it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostDef {
    /// Where it was first named.
    pub pos: Pos,
    /// Its own variables (every line naming it adds to them).
    pub vars: VarMap,
}

/// What every Ansible format parses into: the inventory before resolution.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Groups by name (`all` and `ungrouped` exist from the start, as in Ansible).
    pub groups: BTreeMap<String, Group>,
    /// Hosts in the order they first appear (Ansible's order, and vmup's file order).
    pub hosts: Vec<(String, HostDef)>,
    /// Where each host is in `hosts`, so that large inventories read in linear time.
    index: BTreeMap<String, usize>,
}

impl Model {
    /// An empty inventory with Ansible's two built-in groups.
    pub fn new() -> Model {
        let mut groups = BTreeMap::new();
        groups.insert("all".to_string(), Group::default());
        groups.insert("ungrouped".to_string(), Group::default());
        Model {
            groups,
            hosts: Vec::new(),
            index: BTreeMap::new(),
        }
    }

    /// Declares a group (no-op when known).
    pub fn add_group(&mut self, name: &str, pos: Pos) {
        self.groups
            .entry(name.to_string())
            .or_insert_with(|| Group {
                pos,
                ..Group::default()
            });
    }

    /// Adds `host` to `group` (both declared as needed) with `vars` over its earlier ones.
    pub fn add_host(&mut self, group: &str, host: &str, pos: Pos, vars: VarMap) {
        self.add_group(group, pos);
        let next = self.hosts.len();
        let i = *self.index.entry(host.to_string()).or_insert(next);
        if i == next {
            self.hosts.push((
                host.to_string(),
                HostDef {
                    pos,
                    vars: VarMap::new(),
                },
            ));
        }
        self.hosts[i].1.vars.extend(vars);
        if let Some(g) = self.groups.get_mut(group)
            && (i == next || !g.hosts.iter().any(|h| h == host))
        {
            g.hosts.push(host.to_string());
        }
    }

    /// Makes `child` a child group of `parent` (both declared as needed).
    pub fn add_child(&mut self, parent: &str, child: &str, pos: Pos) {
        self.add_group(parent, pos);
        self.add_group(child, pos);
        if let Some(g) = self.groups.get_mut(parent)
            && !g.children.iter().any(|(c, _)| c == child)
        {
            g.children.push((child.to_string(), pos));
        }
    }

    /// Sets a group variable (the group declared as needed).
    pub fn set_group_var(&mut self, group: &str, name: &str, var: Var) {
        self.add_group(group, var.pos);
        if let Some(g) = self.groups.get_mut(group) {
            g.vars.insert(name.to_string(), var);
        }
    }
}

/// An error in an Ansible file before it is lowered: a position and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where.
    pub pos: Pos,
    /// What is wrong and what to do.
    pub message: String,
}

impl ParseError {
    /// An error at `pos`.
    pub fn new(pos: Pos, message: impl Into<String>) -> ParseError {
        ParseError {
            pos,
            message: message.into(),
        }
    }

    /// As an error in `file`.
    pub fn in_file(self, file: &Path) -> SourceError {
        SourceError {
            file: file.to_path_buf(),
            line: self.pos.line,
            column: self.pos.column,
            message: self.message,
        }
    }
}

#[cfg(test)]
mod tests;
