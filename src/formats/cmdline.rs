//! Kernel command lines as words: which tokens a line holds, adding the missing ones at the
//! end and removing unwanted ones, every other byte of the line kept.
//!
//! The seed's "change the kernel arguments variable (`extra`) to include `xencons=ttyS
//! console=ttyS0`" is an edit of words, not of the whole value: the guest's other
//! parameters (`3`, `ro`, `quiet`) stay where they are. Words are split as the kernel
//! splits its command line (`next_arg` in `lib/cmdline.c`): by whitespace, except inside
//! double quotes, so `init="/sbin/my init"` is one word.
//!
//! A [`Token`] is either a whole word (`console=ttyS0`, `quiet`), matched exactly, or a
//! parameter written with a trailing `=` (`console=`), which matches the parameter with
//! any value (`console=tty0`, `console=hvc0`, also `console=` itself) but not a bare
//! `console` word.

use std::ops::Range;

/// A word to look for on a command line.
///
/// Exists because "remove `console=`" means any value of `console`, while "remove `quiet`"
/// means that word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// This exact word.
    Word(String),
    /// `NAME=` with any value: holds `NAME=`.
    Param(String),
}

impl Token {
    /// Reads a token as a runbook writes it: a trailing `=` makes it a parameter.
    ///
    /// Exists so the one rule above is applied in one place.
    pub fn parse(s: &str) -> Token {
        if s.ends_with('=') {
            Token::Param(s.to_string())
        } else {
            Token::Word(s.to_string())
        }
    }

    /// Whether `word` (one word of a command line) is this token.
    ///
    /// Exists for the presence checks and removals.
    pub fn matches(&self, word: &str) -> bool {
        match self {
            Token::Word(w) => word == w,
            Token::Param(prefix) => word.starts_with(prefix.as_str()),
        }
    }

    /// The token as written.
    ///
    /// Exists for messages.
    pub fn as_str(&self) -> &str {
        match self {
            Token::Word(w) | Token::Param(w) => w,
        }
    }
}

/// The byte ranges of the words of `line`, in order.
///
/// Exists so edits can remove a word and keep everything around it.
pub fn word_spans(line: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        let space = c.is_whitespace() && !quoted;
        match (start, space) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                spans.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push(s..line.len());
    }
    spans
}

/// The words of `line`.
///
/// Exists for presence checks.
pub fn words(line: &str) -> Vec<&str> {
    word_spans(line)
        .into_iter()
        .map(|r| line.get(r).unwrap_or_default())
        .collect()
}

/// `value` with each of `tokens` appended at the end, one space before each (none before
/// the first when `value` is empty or already ends in whitespace). Appends them all: the
/// caller decides which are missing.
///
/// Exists as the one way vmup adds kernel parameters, so no other word moves.
pub fn appended(value: &str, tokens: &[&str]) -> String {
    let mut out = value.to_string();
    for t in tokens {
        if !out.is_empty() && !out.ends_with(char::is_whitespace) {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// `value` without the words `remove` matches (but for the words `keep` lists): each goes
/// with the whitespace before it (words before the first one kept go with the whitespace
/// after them), so the other words keep their order and spacing. Returns the new value and
/// the words removed, in order.
///
/// Exists as the one way vmup removes kernel parameters.
pub fn removed(value: &str, remove: &[Token], keep: &[&str]) -> (String, Vec<String>) {
    let spans = word_spans(value);
    let word = |r: &Range<usize>| value.get(r.clone()).unwrap_or_default();
    let goes: Vec<bool> = spans
        .iter()
        .map(|r| !keep.contains(&word(r)) && remove.iter().any(|t| t.matches(word(r))))
        .collect();
    let mut cut: Vec<Range<usize>> = Vec::new();
    let mut gone = Vec::new();
    let mut last_kept: Option<usize> = None;
    for (i, span) in spans.iter().enumerate() {
        if !goes[i] {
            last_kept = Some(span.end);
            continue;
        }
        gone.push(word(span).to_string());
        cut.push(match last_kept {
            // The whitespace before the word goes with it, back to the last word kept.
            Some(end) => end..span.end,
            // Before any word kept: everything up to the next word kept goes, so that word
            // starts the value.
            None => {
                let next = (i + 1..spans.len()).find(|&j| !goes[j]);
                0..next.map_or(value.len(), |j| spans[j].start)
            }
        });
    }
    let mut out = String::with_capacity(value.len());
    let mut at = 0;
    for range in merge(cut) {
        out.push_str(value.get(at..range.start).unwrap_or_default());
        at = range.end;
    }
    out.push_str(value.get(at..).unwrap_or_default());
    (out, gone)
}

/// Overlapping or touching ranges joined, in order.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_are_split_as_the_kernel_splits_them() {
        assert_eq!(
            words("root=/dev/sda1 ro  3\tinit=\"/sbin/my init\" quiet"),
            [
                "root=/dev/sda1",
                "ro",
                "3",
                "init=\"/sbin/my init\"",
                "quiet"
            ]
        );
        assert_eq!(words("  "), Vec::<&str>::new());
    }

    #[test]
    fn tokens_are_appended_after_the_others() {
        assert_eq!(
            appended("3", &["xencons=ttyS", "console=ttyS0"]),
            "3 xencons=ttyS console=ttyS0"
        );
        assert_eq!(appended("", &["console=ttyS0"]), "console=ttyS0");
        assert_eq!(appended("quiet ", &["3"]), "quiet 3");
    }

    #[test]
    fn a_trailing_equals_sign_means_any_value() {
        let console = Token::parse("console=");
        assert!(console.matches("console=tty0") && console.matches("console="));
        assert!(!console.matches("console") && !console.matches("xencons=tty"));
        let quiet = Token::parse("quiet");
        assert!(quiet.matches("quiet") && !quiet.matches("quiet=1"));
        assert_eq!(
            removed(
                "console=tty0 ro console=hvc0  quiet console=ttyS0",
                &[console],
                &["console=ttyS0"]
            ),
            (
                "ro  quiet console=ttyS0".to_string(),
                vec!["console=tty0".to_string(), "console=hvc0".to_string()]
            )
        );
    }

    #[test]
    fn removals_keep_the_other_words_and_their_spacing() {
        let r = |v: &str, t: &str| removed(v, &[Token::parse(t)], &[]).0;
        assert_eq!(r("quiet", "quiet"), "");
        assert_eq!(r("quiet ro", "quiet"), "ro");
        assert_eq!(r("ro quiet", "quiet"), "ro");
        assert_eq!(r("ro  quiet\t3", "quiet"), "ro\t3");
        assert_eq!(r(" quiet quiet ro", "quiet"), "ro");
        assert_eq!(r("ro 3", "quiet"), "ro 3");
        assert_eq!(r("init=\"/a b\" ro", "init="), "ro");
    }

    proptest! {
        #[test]
        fn edits_keep_the_other_words_in_order(
            line in "[a-c= \"]{0,20}",
            token in "[a-c]{1,2}=?",
        ) {
            let t = Token::parse(&token);
            let (out, gone) = removed(&line, std::slice::from_ref(&t), &[]);
            let kept: Vec<&str> = words(&line).into_iter().filter(|w| !t.matches(w)).collect();
            prop_assert_eq!(words(&out), kept);
            prop_assert_eq!(gone.len(), words(&line).len() - words(&out).len());
            prop_assert_eq!(removed(&out, &[t], &[]).0, out.clone());
            let plus = appended(&out, &[token.as_str()]);
            prop_assert!(plus.starts_with(out.as_str()));
        }
    }
}
