//! OpenSSH wildcard host patterns (`*`, `?`, `!negation`), shared by ssh_config `Host` lines
//! and the host field of known_hosts entries so that both match exactly like ssh(1) does.

/// Matches `text` against one wildcard `pattern` (`*` = any run, `?` = one character),
/// ignoring ASCII case as ssh does for host names.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    wildcard(pattern, text, true)
}

/// Matches a file name against an `Include` glob: like [`wildcard_match`] but case-sensitive
/// and, as glob(3) does, never matching a leading `.` with a wildcard.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    if name.starts_with('.') && !pattern.starts_with('.') {
        return false;
    }
    wildcard(pattern, name, false)
}

fn wildcard(pattern: &str, text: &str, fold_case: bool) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` seen in the pattern and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c)
                if c == b'?' || c == t[ti] || (fold_case && c.eq_ignore_ascii_case(&t[ti])) =>
            {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `text` against a pattern list the way ssh(1) does: the list matches when at least
/// one positive pattern matches and no negated (`!pattern`) one does.
pub(crate) fn match_list<'a, I>(patterns: I, text: &str) -> bool
where
    I: IntoIterator<Item = &'a str>,
{
    let mut positive = false;
    for pattern in patterns {
        if let Some(negated) = pattern.strip_prefix('!') {
            if wildcard_match(negated, text) {
                return false;
            }
        } else if !positive && wildcard_match(pattern, text) {
            positive = true;
        }
    }
    positive
}

/// Which of many pattern lists (ssh_config `Host` blocks, known_hosts entries) can match a
/// name, found without trying each list: a generated ssh_config or known_hosts file has a
/// block or a line per host, and trying every one for every host made resolving 1,000 hosts
/// quadratic (about a tenth of the controller's CPU at 1,000 hosts). A list whose positive
/// patterns are all literal names can match only those names (a negation only narrows a
/// match, and a list without a positive pattern never matches); it is found by name. Every
/// other list (a wildcard, a hashed known_hosts name) is a candidate for every name. The
/// candidates still go through [`match_list`]: the index only leaves out lists that cannot
/// match, so results are the same as trying them all.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameIndex {
    /// ASCII-lowercased literal name -> positions of the lists it can match, ascending.
    by_name: std::collections::HashMap<String, Vec<usize>>,
    /// Positions of the lists that can match any name, ascending.
    any: Vec<usize>,
}

impl NameIndex {
    /// Indexes the items in order. Each item gives the pattern lists that must all match
    /// for it to match (a known_hosts line one, an ssh_config line one per `Host` block it
    /// is in); it is indexed by the first of them that is literal, and an item with none
    /// (a wildcard, no list at all, a hashed name) is a candidate for every name.
    pub(crate) fn build<'a, I, C, P>(items: I) -> NameIndex
    where
        I: IntoIterator<Item = C>,
        C: IntoIterator<Item = P>,
        P: IntoIterator<Item = &'a str>,
    {
        let mut index = NameIndex::default();
        for (position, lists) in items.into_iter().enumerate() {
            match lists.into_iter().find_map(literal_names) {
                Some(names) => {
                    for name in names {
                        let list = index.by_name.entry(name).or_default();
                        if list.last() != Some(&position) {
                            list.push(position);
                        }
                    }
                }
                None => index.any.push(position),
            }
        }
        index
    }

    /// Positions, ascending, of the items that can match `name`.
    pub(crate) fn candidates(&self, name: &str) -> Vec<usize> {
        let named = self
            .by_name
            .get(&name.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut out = Vec::with_capacity(named.len() + self.any.len());
        out.extend_from_slice(named);
        out.extend_from_slice(&self.any);
        // Two ascending runs, never sharing a position: the stable sort merges them.
        out.sort();
        out
    }
}

/// The names a pattern list can match when its positive patterns are all literal (no `*` or
/// `?`), lowercased as [`wildcard_match`] folds case; None when one is a wildcard.
fn literal_names<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Option<Vec<String>> {
    let mut names = Vec::new();
    for pattern in patterns {
        if pattern.starts_with('!') {
            continue;
        }
        if pattern.contains(['*', '?']) {
            return None;
        }
        names.push(pattern.to_ascii_lowercase());
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_and_case() {
        assert!(wildcard_match("web1", "web1"));
        assert!(wildcard_match("WEB1", "web1"));
        assert!(!wildcard_match("web1", "web12"));
        assert!(!wildcard_match("web12", "web1"));
    }

    #[test]
    fn stars_and_questions() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("web*", "web"));
        assert!(wildcard_match("web*.example.com", "web7.example.com"));
        assert!(!wildcard_match("web*.example.com", "db7.example.com"));
        assert!(wildcard_match("web?", "web1"));
        assert!(!wildcard_match("web?", "web"));
        assert!(wildcard_match("*a*b*c", "xxaxxbxxbxc"));
        assert!(!wildcard_match("*a*b*c", "xxaxxbxxbx"));
        assert!(wildcard_match("[10.0.0.?]:22*", "[10.0.0.5]:2222"));
    }

    #[test]
    fn globs_are_case_sensitive_and_skip_dotfiles() {
        assert!(glob_match("*.conf", "a.conf"));
        assert!(!glob_match("*.conf", "A.CONF"));
        assert!(!glob_match("*", ".hidden"));
        assert!(glob_match(".*", ".hidden"));
    }

    #[test]
    fn lists_with_negation() {
        assert!(match_list(["web*", "db*"], "db3"));
        assert!(!match_list(["web*", "!web3"], "web3"));
        assert!(match_list(["web*", "!web3"], "web4"));
        // A negation alone never matches: ssh needs a positive match too.
        assert!(!match_list(["!web3"], "web4"));
        assert!(!match_list(["!web3", "*"], "web3"));
        assert!(!match_list(std::iter::empty::<&str>(), "x"));
    }

    /// The index's candidates, tried with [`match_list`], are exactly the lists that match.
    fn matching(lists: &[&[&str]], name: &str) -> (Vec<usize>, Vec<usize>) {
        let index = NameIndex::build(lists.iter().map(|l| [l.iter().copied()]));
        let by_index: Vec<usize> = index
            .candidates(name)
            .into_iter()
            .filter(|&i| match_list(lists[i].iter().copied(), name))
            .collect();
        let by_trying_all: Vec<usize> = (0..lists.len())
            .filter(|&i| match_list(lists[i].iter().copied(), name))
            .collect();
        (by_index, by_trying_all)
    }

    #[test]
    fn the_index_finds_what_trying_every_list_finds() {
        let lists: &[&[&str]] = &[
            &["g01"],
            &["*"],
            &["G02", "g03"],
            &["g0?"],
            &["!g01", "g01"],
            &["!g02"],
            &["g01", "!g02", "x*"],
            &["g01", "g01"],
            &[],
        ];
        for name in ["g01", "G01", "g02", "g03", "g04", "x", "xy", "", "!g02"] {
            let (by_index, all) = matching(lists, name);
            assert_eq!(by_index, all, "{name}");
        }
        let index = NameIndex::build(lists.iter().map(|l| [l.iter().copied()]));
        // Literal-only lists are left out for other names; wildcards never are.
        assert_eq!(index.candidates("zzz"), vec![1, 3, 6]);
        // Ascending, once each, whatever mix of named and wildcard lists.
        assert_eq!(index.candidates("g01"), vec![0, 1, 3, 4, 6, 7]);
        assert_eq!(index.candidates("g02"), vec![1, 2, 3, 6]);
        // An item without a list to go by is a candidate for every name; one with several
        // goes by the first literal one.
        let mixed = NameIndex::build([
            vec![vec!["a"]],
            vec![],
            vec![vec!["b"]],
            vec![vec!["*"], vec!["c"]],
        ]);
        assert_eq!(mixed.candidates("b"), vec![1, 2]);
        assert_eq!(mixed.candidates("c"), vec![1, 3]);
        assert_eq!(mixed.candidates("d"), vec![1]);
    }
}
