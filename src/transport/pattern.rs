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
}
