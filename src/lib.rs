//! vmup updates fleets of virtual machines whose kernel is booted by their host (Xen PV
//! guests, KVM guests with direct kernel boot), and the hosts that run them.
//!
//! The library holds everything but the terminal: the user's files ([`inventory`],
//! [`runbook`]), pure file formats ([`formats`]), what vmup reads from a host ([`facts`]),
//! resources that plan changes from facts without I/O ([`resource`]), the generated remote
//! scripts ([`remote`]), the ways to reach a machine ([`transport`]) and the engine that
//! runs facts -> plan -> apply -> verify across the fleet ([`engine`]), and the HTML page
//! made from runs' JSON lines ([`report`]). See ARCHITECTURE.md for the map.

pub mod demo;
pub mod engine;
pub mod facts;
pub mod formats;
pub mod history;
pub mod inventory;
pub mod remote;
pub mod report;
pub mod resource;
pub mod runbook;
pub mod source;
pub mod transport;

/// The layers' arrows point down only: each folder may import only the layers below it
/// (test code aside). A new `use crate::...` that points up fails here.
#[cfg(test)]
mod layering {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Each layer and the layers it may use.
    const ALLOWED: &[(&str, &[&str])] = &[
        ("remote", &[]),
        ("transport", &["remote"]),
        ("formats", &[]),
        ("source", &[]),
        ("report", &[]),
        ("facts", &["formats", "remote"]),
        ("resource", &["facts", "formats", "remote"]),
        ("inventory", &["source", "transport"]),
        (
            "runbook",
            &["facts", "formats", "inventory", "resource", "source"],
        ),
        (
            "engine",
            &[
                "facts",
                "formats",
                "inventory",
                "remote",
                "resource",
                "runbook",
                "source",
                "transport",
            ],
        ),
    ];

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("readable").path();
            if path.is_dir() {
                files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The `crate::LAYER` names a file uses outside its test code.
    fn uses(text: &str) -> BTreeSet<String> {
        let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
        let mut found = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
        found
    }

    #[test]
    fn arrows_point_down_only() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut wrong = Vec::new();
        for (layer, allowed) in ALLOWED {
            let mut list = Vec::new();
            let dir = src.join(layer);
            if dir.is_dir() {
                files(&dir, &mut list);
            } else {
                list.push(src.join(format!("{layer}.rs")));
            }
            for file in list {
                if file.file_name().is_some_and(|n| n == "tests.rs")
                    || file.components().any(|c| c.as_os_str() == "tests")
                {
                    continue;
                }
                let text = std::fs::read_to_string(&file).expect("readable");
                for used in uses(&text) {
                    if used != *layer && !allowed.contains(&used.as_str()) {
                        wrong.push(format!("{} uses crate::{used}", file.display()));
                    }
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "arrows pointing up:\n{}",
            wrong.join("\n")
        );
    }

    /// "No file in `src/` over ~600 lines": a file that grows past this is split by what
    /// its parts do (the issue that set the house's shape), tests included.
    #[test]
    fn no_source_file_is_over_650_lines() {
        let mut list = Vec::new();
        files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut list,
        );
        let long: Vec<String> = list
            .iter()
            .filter_map(|f| {
                let lines = std::fs::read_to_string(f)
                    .expect("readable")
                    .lines()
                    .count();
                (lines > 650).then(|| format!("{}: {lines} lines", f.display()))
            })
            .collect();
        assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
    }
}
