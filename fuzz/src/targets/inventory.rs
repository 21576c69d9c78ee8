//! Inventories (`Inventory::parse`, `HostPattern::select`): no panic; errors point inside
//! the text; every host has a unique name, a parent that is another host of the
//! inventory, and can be selected by its own name, as can every group; a pattern selects
//! hosts of the inventory, in inventory order.
//!
//! Input: a host pattern on the first line (`@` dropped: it names a file to read), the
//! inventory (TOML) after it (invalid UTF-8 replaced).

use std::path::Path;

use vmup::inventory::{HostPattern, Inventory};
use vmup::source::SourceError;

use crate::input::{split_header, without};

pub const CHECKS: &str = "no panic; error positions valid; hosts unique; hosts and groups \
                          selectable by name; patterns select in order";

/// A `file:line:column` error points at a line of `text` and a column of that line (or,
/// with line 0, at the file as a whole).
pub fn check_position(text: &str, e: &SourceError) {
    if e.line == 0 {
        return;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(
        e.line <= lines.len(),
        "error line {} past the end ({} lines): {e}",
        e.line,
        lines.len()
    );
    let width = lines[e.line - 1].chars().count();
    assert!(
        e.column >= 1 && e.column <= width + 1,
        "error column {} outside line {} ({width} characters): {e}",
        e.column,
        e.line
    );
}

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let pattern = String::from_utf8_lossy(&without(header, b"@")).into_owned();
    let text = String::from_utf8_lossy(body).into_owned();
    check_read(
        &text,
        &pattern,
        Inventory::parse(Path::new("/nonexistent/inventory.toml"), &text),
    );
}

/// The checks on what a reader made of `text`: a valid error position, or an inventory
/// whose hosts and groups keep the properties above.
pub fn check_read(text: &str, pattern: &str, read: Result<Inventory, SourceError>) {
    let inventory = match read {
        Ok(i) => i,
        Err(e) => {
            check_position(text, &e);
            return;
        }
    };
    for (i, h) in inventory.hosts.iter().enumerate() {
        assert!(
            inventory.hosts[..i].iter().all(|o| o.name != h.name),
            "host {} listed twice",
            h.name
        );
        if let Some(parent) = &h.parent {
            assert!(parent != &h.name && inventory.host(parent).is_some());
        }
        let _ = (h.endpoint(), h.path_root(), h.all_groups());
        match HostPattern::new(&h.name).select(&inventory) {
            Ok(selected) => assert!(
                selected.iter().any(|s| s.name == h.name),
                "host {:?} is not selected by its own name",
                h.name
            ),
            Err(e) => panic!("host {:?} cannot be selected by its name: {e}", h.name),
        }
    }
    let groups = inventory.group_names();
    for g in &groups {
        match HostPattern::new(g).select(&inventory) {
            Ok(selected) => assert!(
                selected.iter().any(|h| h.all_groups().contains(g)),
                "group {g:?} does not select its members"
            ),
            Err(e) => panic!("group {g:?} cannot be selected by its name: {e}"),
        }
    }
    assert!(
        groups.windows(2).all(|w| w[0] < w[1]),
        "group names not sorted"
    );
    if let Ok(selected) = HostPattern::new(pattern).select(&inventory) {
        let positions: Vec<usize> = selected
            .iter()
            .map(|s| {
                inventory
                    .hosts
                    .iter()
                    .position(|h| std::ptr::eq(h, *s))
                    .unwrap_or(usize::MAX)
            })
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]) && !positions.contains(&usize::MAX),
            "selection not a subsequence of the inventory"
        );
    }
}
