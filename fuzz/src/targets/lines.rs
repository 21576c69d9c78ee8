//! `LineFile` (inittab, securetty): any bytes round-trip; `ensure_present` changes exactly
//! the one line its outcome names (and, when it adds a last line, the terminator of the
//! line before), `ensure_absent` removes exactly the matching lines and keeps the others'
//! bytes; both are no-ops the second time, also after re-reading the file, and re-reading
//! the result gives the same lines as the editor holds.
//!
//! Input: `OP<TAB>LINE<TAB>MATCHER<TAB>ANCHOR<TAB>FLAGS` on the first line, the file after
//! it. OP `a...` is ensure_absent(MATCHER), anything else ensure_present. MATCHER and
//! ANCHOR are regexes (empty: none; invalid: taken literally). FLAGS may hold `b` (insert
//! before the anchor, else after), `l` (last anchor, else first) and `o` (or_append). The
//! wanted line loses any `\r` and `\n`, which the editor's documentation rules out.

use regex::bytes::{Regex, RegexBuilder};
use vmup::formats::lines::{Anchor, Insert, LineEdit, LineFile, LineOutcome, Position};

use crate::input::{Chunk, Fields, chunks, split_header, without};

pub const CHECKS: &str = "round trip; ensure_present/ensure_absent change only the lines \
                          they report, are idempotent, re-read as held";

/// A regex from fuzz bytes; small size limits keep compilation fast. Invalid syntax is
/// taken as a literal.
pub fn regex(field: &[u8]) -> Option<Regex> {
    if field.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(field);
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .size_limit(1 << 16)
            .dfa_size_limit(1 << 16)
            .build()
            .ok()
    };
    build(&text).or_else(|| build(&regex::escape(&text)))
}

/// `after` is `before` with one line inserted at `index`; the line before it may have been
/// given a terminator if it was the unterminated last line.
fn inserted_at(before: &[Chunk<'_>], after: &[Chunk<'_>], index: usize, line: &[u8]) {
    assert_eq!(after.len(), before.len() + 1, "not exactly one line added");
    assert_eq!(
        after[index].content, line,
        "the added line is not the wanted one"
    );
    let mut rest: Vec<Chunk<'_>> = after.to_vec();
    rest.remove(index);
    for (i, (b, a)) in before.iter().zip(&rest).enumerate() {
        let gained_terminator =
            index == before.len() && i + 1 == before.len() && b.terminator.is_empty();
        if gained_terminator {
            assert_eq!(
                [b.content, b.terminator].concat(),
                [a.content, a.terminator]
                    .concat()
                    .get(..b.content.len())
                    .unwrap_or_default(),
                "the last line changed beyond its new terminator"
            );
        } else {
            assert_eq!(b, a, "line {} changed", i + 1);
        }
    }
}

pub fn check(data: &[u8]) {
    let (header, before) = split_header(data);
    let fields = Fields::new(header);
    let mut file = LineFile::parse(before);
    assert_eq!(file.to_bytes(), before, "parse/to_bytes is not lossless");
    let old = chunks(before);

    let matcher = regex(fields.get(2));
    if fields.get(0).first() == Some(&b'a') {
        let Some(matcher) = matcher else { return };
        let removed = file.ensure_absent(&matcher);
        let after = file.to_bytes();
        let kept: Vec<Chunk<'_>> = old
            .iter()
            .filter(|c| !matcher.is_match(c.content))
            .cloned()
            .collect();
        assert_eq!(chunks(&after), kept, "ensure_absent changed other lines");
        assert_eq!(
            removed,
            old.len() - kept.len(),
            "wrong count of removed lines"
        );
        assert_eq!(
            file.ensure_absent(&matcher),
            0,
            "ensure_absent twice removed more"
        );
        assert_eq!(
            LineFile::parse(&after).ensure_absent(&matcher),
            0,
            "ensure_absent after re-reading removed more"
        );
        assert_eq!(
            LineFile::parse(&after),
            file,
            "the result re-reads differently"
        );
        return;
    }

    let line = without(fields.get(1), b"\r\n");
    let anchor = regex(fields.get(3));
    let flags = fields.get(4);
    let edit = LineEdit {
        line: &line,
        matcher: matcher.as_ref(),
        insert: anchor.as_ref().map(|anchor| Insert {
            position: if flags.contains(&b'b') {
                Position::Before
            } else {
                Position::After
            },
            anchor,
            which: if flags.contains(&b'l') {
                Anchor::Last
            } else {
                Anchor::First
            },
        }),
        or_append: flags.contains(&b'o'),
    };
    let outcome = file.ensure_present(&edit);
    let after = file.to_bytes();
    let new = chunks(&after);
    match &outcome {
        Err(_) | Ok(LineOutcome::AlreadyPresent) => {
            assert_eq!(after, before, "a refused or needless edit changed the file");
        }
        Ok(LineOutcome::Replaced { line_no }) => {
            let i = line_no - 1;
            assert_eq!(new.len(), old.len(), "a replacement changed the line count");
            for (n, (b, a)) in old.iter().zip(&new).enumerate() {
                if n == i {
                    assert_eq!(a.content, line.as_slice(), "replaced with the wrong line");
                    let may_gain = line.is_empty() && b.terminator.is_empty();
                    assert!(
                        a.terminator == b.terminator || may_gain,
                        "the replaced line's terminator changed"
                    );
                } else {
                    assert_eq!(b, a, "line {} changed", n + 1);
                }
            }
        }
        Ok(LineOutcome::Inserted { line_no }) => inserted_at(&old, &new, line_no - 1, &line),
        Ok(LineOutcome::Appended { line_no }) => {
            assert_eq!(
                *line_no,
                old.len() + 1,
                "appended elsewhere than at the end"
            );
            inserted_at(&old, &new, line_no - 1, &line);
        }
    }
    assert_eq!(
        LineFile::parse(&after),
        file,
        "the result re-reads differently"
    );
    let again = file.ensure_present(&edit);
    assert_eq!(
        file.to_bytes(),
        after,
        "ensure_present twice changed something"
    );
    let mut reread = LineFile::parse(&after);
    let reread_again = reread.ensure_present(&edit);
    assert_eq!(
        reread.to_bytes(),
        after,
        "ensure_present after re-reading changed something"
    );
    if outcome.is_ok() {
        assert_eq!(again, Ok(LineOutcome::AlreadyPresent));
        assert_eq!(reread_again, Ok(LineOutcome::AlreadyPresent));
    }
}
