//! Ansible inventories (`inventory::ansible`: INI, YAML, host lists): no panic; errors point
//! inside the text; what reads has the TOML inventory's properties (hosts unique, every
//! host and group selectable by its own name, patterns select in inventory order).
//!
//! Input: a host pattern on the first line (`@` dropped), the inventory after it, read as
//! INI and as YAML (invalid UTF-8 replaced); the first line is also read as a host list.

use std::path::Path;

use vmup::inventory::ansible;

use crate::input::{split_header, without};

use super::inventory::check_read;

pub const CHECKS: &str = "no panic; error positions valid; hosts unique; hosts and groups \
                          selectable by name; patterns select in order (INI, YAML, host list)";

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let pattern = String::from_utf8_lossy(&without(header, b"@")).into_owned();
    let text = String::from_utf8_lossy(body).into_owned();
    let file = Path::new("/nonexistent/hosts");
    check_read(&text, &pattern, ansible::parse_ini(file, &text));
    check_read(&text, &pattern, ansible::parse_yaml(file, &text));
    if let Ok(model) = ansible::list::parse(&pattern) {
        check_read(&pattern, &pattern, ansible::lower::lower(file, &model));
    }
}
