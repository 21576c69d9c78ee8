//! Host patterns: which machines a step or `--limit` applies to.
//!
//! A pattern is a comma-separated list of terms; each term is a host name, a group name,
//! a glob over host names (`ng*`), `!term` to exclude, or `@FILE` to read host names from a
//! retry file. Excludes apply after includes; a list of only excludes starts from `all`.
//! A term that matches nothing is an error, so a typo never silently selects no machine.

use std::collections::HashSet;
use std::path::PathBuf;

use globset::Glob;

use super::{Host, Inventory};

/// A parsed host pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    text: String,
}

/// Why a pattern selects nothing sensible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A term matches no host or group.
    #[error("{term:?} matches no host or group in the inventory (known groups: {groups})")]
    NoMatch {
        /// The term.
        term: String,
        /// The groups that exist, to help spot a typo.
        groups: String,
    },
    /// A glob could not be compiled.
    #[error("invalid host glob {term:?}: {reason}")]
    BadGlob {
        /// The term.
        term: String,
        /// Why.
        reason: String,
    },
    /// The pattern, or a term of it, is empty: it would otherwise select every host.
    #[error("empty host pattern{0} (leave it out to select every host)")]
    Empty(&'static str),
    /// A retry file could not be read.
    #[error("cannot read host list {}: {reason}", file.display())]
    File {
        /// The file named after `@`.
        file: PathBuf,
        /// Why.
        reason: String,
    },
}

impl HostPattern {
    /// A pattern from its text (checked against an inventory by [`HostPattern::select`]).
    pub fn new(text: &str) -> HostPattern {
        HostPattern {
            text: text.trim().to_string(),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Names of the hosts selected, in inventory order.
    pub fn select<'a>(&self, inventory: &'a Inventory) -> Result<Vec<&'a Host>, PatternError> {
        let mut include: Vec<bool> = vec![false; inventory.hosts.len()];
        let mut exclude: Vec<bool> = vec![false; inventory.hosts.len()];
        let mut any_include = false;
        if self.text.trim().is_empty() {
            return Err(PatternError::Empty(""));
        }
        for raw in self.text.split(',').map(str::trim) {
            let (negated, term) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, raw),
            };
            if term.is_empty() {
                return Err(PatternError::Empty(
                    " term (two commas, a trailing comma or a lone `!`)",
                ));
            }
            let hits = term_matches(term, inventory)?;
            if !hits.iter().any(|h| *h) && !term.starts_with('@') {
                return Err(PatternError::NoMatch {
                    term: term.to_string(),
                    groups: inventory.group_names().join(", "),
                });
            }
            let target = if negated { &mut exclude } else { &mut include };
            for (slot, hit) in target.iter_mut().zip(hits) {
                *slot |= hit;
            }
            any_include |= !negated;
        }
        Ok(inventory
            .hosts
            .iter()
            .enumerate()
            .filter(|(i, _)| (include[*i] || !any_include) && !exclude[*i])
            .map(|(_, h)| h)
            .collect())
    }
}

/// Which hosts one term selects.
fn term_matches(term: &str, inventory: &Inventory) -> Result<Vec<bool>, PatternError> {
    if let Some(file) = term.strip_prefix('@') {
        let file = PathBuf::from(file);
        let text = std::fs::read_to_string(&file).map_err(|e| PatternError::File {
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let names: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        // Sets, not scans: a retry file of ten thousand names against ten thousand hosts
        // costs twenty thousand look-ups, not a hundred million comparisons.
        let known: HashSet<&str> = inventory.hosts.iter().map(|h| h.name.as_str()).collect();
        if let Some(unknown) = names.iter().find(|n| !known.contains(**n)) {
            return Err(PatternError::File {
                file,
                reason: format!("{unknown:?} is not in the inventory"),
            });
        }
        let names: HashSet<&str> = names.into_iter().collect();
        return Ok(inventory
            .hosts
            .iter()
            .map(|h| names.contains(h.name.as_str()))
            .collect());
    }
    if term.contains(['*', '?', '[']) {
        let glob = Glob::new(term)
            .map_err(|e| PatternError::BadGlob {
                term: term.to_string(),
                reason: e.kind().to_string(),
            })?
            .compile_matcher();
        return Ok(inventory
            .hosts
            .iter()
            .map(|h| glob.is_match(&h.name) || h.all_groups().iter().any(|g| glob.is_match(g)))
            .collect());
    }
    Ok(inventory
        .hosts
        .iter()
        .map(|h| h.name == term || h.all_groups().contains(&term))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn inv() -> Inventory {
        Inventory::parse(
            Path::new("i.toml"),
            "[hosts.xen1]\nrole = \"host\"\n[hosts.ng2]\nhost = \"xen1\"\ngroups = [\"grid\"]\n[hosts.ngportal]\nhost = \"xen1\"\n",
        )
        .unwrap()
    }

    fn names(p: &str) -> Vec<String> {
        HostPattern::new(p)
            .select(&inv())
            .unwrap()
            .iter()
            .map(|h| h.name.clone())
            .collect()
    }

    #[test]
    fn empty_patterns_and_terms_are_refused_not_everything() {
        for text in ["", "  ", "ng2,,grid", "ng2,", "!"] {
            let e = HostPattern::new(text).select(&inv()).unwrap_err();
            assert!(matches!(e, PatternError::Empty(_)), "{text:?}: {e}");
        }
    }

    #[test]
    fn groups_names_globs_and_excludes() {
        assert_eq!(names("all"), ["xen1", "ng2", "ngportal"]);
        assert_eq!(names("guests"), ["ng2", "ngportal"]);
        assert_eq!(names("hosts"), ["xen1"]);
        assert_eq!(names("ng*"), ["ng2", "ngportal"]);
        assert_eq!(names("grid,xen1"), ["xen1", "ng2"]);
        assert_eq!(names("guests,!ng2"), ["ngportal"]);
        assert_eq!(names("!ng2"), ["xen1", "ngportal"]);
    }

    #[test]
    fn unknown_term_is_an_error() {
        let e = HostPattern::new("gird").select(&inv()).unwrap_err();
        assert!(
            e.to_string().contains("\"gird\" matches no host or group"),
            "{e}"
        );
    }

    #[test]
    fn retry_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("retry");
        std::fs::write(&f, "ngportal\n").unwrap();
        assert_eq!(names(&format!("@{}", f.display())), ["ngportal"]);
        std::fs::write(&f, "nope\n").unwrap();
        assert!(
            HostPattern::new(&format!("@{}", f.display()))
                .select(&inv())
                .is_err()
        );
    }
}
