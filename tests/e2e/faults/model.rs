//! What a host's tracked paths hold, and the invariants checked against it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A host's tracked paths: file bytes, `DIR:` and the sorted names of a directory, or
/// None when absent.
pub type State = BTreeMap<String, Option<Vec<u8>>>;

/// Reads the tracked `paths` under `root`.
pub fn read(root: &Path, paths: &[&str]) -> State {
    paths
        .iter()
        .map(|p| {
            let at = root.join(p.trim_start_matches('/'));
            let value = match std::fs::symlink_metadata(&at) {
                Err(_) => None,
                Ok(m) if m.is_dir() => {
                    let mut names: Vec<String> = std::fs::read_dir(&at)
                        .map(|d| {
                            d.filter_map(Result::ok)
                                .map(|e| e.file_name().to_string_lossy().into_owned())
                                .collect()
                        })
                        .unwrap_or_default();
                    names.sort();
                    Some(format!("DIR:{}", names.join(",")).into_bytes())
                }
                Ok(m) if m.file_type().is_symlink() => std::fs::read_link(&at)
                    .ok()
                    .map(|t| format!("LINK:{}", t.display()).into_bytes()),
                Ok(_) => std::fs::read(&at).ok(),
            };
            (p.to_string(), value)
        })
        .collect()
}

/// Temporary files anywhere under `root`: vmup's own and the injected writers'.
pub fn temporaries(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.filter_map(Result::ok) {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".vmup-new.")
                || name.contains(".vmup-old.")
                || name.contains(".fault.")
            {
                found.push(path.clone());
            }
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            }
        }
    }
    found
}

/// What another writer did to a host during its apply (from the wrapper's log).
#[derive(Debug, Default, Clone)]
pub struct Injected {
    /// Paths (guest paths) appended to in place.
    pub inplace: Vec<String>,
    /// Paths replaced by another file.
    pub replaced: Vec<String>,
    /// The host's script was killed (crash or timeout).
    pub killed: bool,
}

/// The writers' bytes as they would appear in a file: appended, or the replacement.
pub const APPENDED: &[u8] = b"#fault\n";
pub const REPLACED: &[u8] = b"replaced by another writer\n";

/// Which states a path may be in: old or new, or with another writer's bytes kept.
pub fn allowed(path: &str, old: &State, new: &State, injected: &Injected) -> Vec<Option<Vec<u8>>> {
    let mut ok = vec![old[path].clone(), new[path].clone()];
    if injected.inplace.iter().any(|p| p == path) {
        for b in [&old[path], &new[path]].into_iter().flatten() {
            let mut with = b.clone();
            with.extend_from_slice(APPENDED);
            ok.push(Some(with));
        }
    }
    if injected.replaced.iter().any(|p| p == path) {
        ok.push(Some(REPLACED.to_vec()));
    }
    ok
}

/// `state` has every path in an allowed state; otherwise the violations.
pub fn each_old_or_new(
    state: &State,
    old: &State,
    new: &State,
    injected: &Injected,
) -> Vec<String> {
    state
        .iter()
        .filter(|(p, v)| !allowed(p, old, new, injected).contains(v))
        .map(|(p, v)| {
            format!(
                "{p} is neither old nor new: {:?}",
                v.as_ref().map(|b| String::from_utf8_lossy(b).into_owned())
            )
        })
        .collect()
}

/// Paths whose state is (a version of) the new one and not the old one.
pub fn changed_paths(state: &State, old: &State, new: &State) -> Vec<String> {
    state
        .iter()
        .filter(|(p, v)| {
            let was = &old[p.as_str()];
            let will = &new[p.as_str()];
            let with = |b: &Option<Vec<u8>>| {
                b.as_ref().map(|b| {
                    let mut w = b.clone();
                    w.extend_from_slice(APPENDED);
                    w
                })
            };
            (**v == *will || **v == with(will)) && *will != *was
        })
        .map(|(p, _)| p.clone())
        .collect()
}
