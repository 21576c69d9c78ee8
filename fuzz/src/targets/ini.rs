//! `IniFile` (yum.conf, .repo): any bytes round-trip; queries and edits never panic; each
//! edit either is refused, for a reason the editor documents, leaving the file as it was,
//! or reads back as asked, repeating it changes nothing (also after re-reading the file),
//! the result re-reads as the editor holds it, and it leaves every byte that is not about
//! the edited key alone.
//!
//! Input: `OP<TAB>SECTION<TAB>KEY<TAB>VALUE-OR-WORDS...` on the first line, the file after
//! it. OP's first letter: `s` set, `a` add_words, `r` remove_words, `k` remove_key;
//! anything else only queries. In lower case the arguments are cut to what the editor
//! writes (no line breaks; no `]` in a section; no `=`, `:` or leading `[#;` in a key; no
//! `;` after whitespace in a value), so that most edits get past its refusals; in upper
//! case (`S`, `A`, `R`, `K`) they are passed as they are, to check that whatever the editor
//! does not refuse reads back. No edit writes an indented line starting with `[` (libdnf
//! reads a header there, or rejects the file).
//!
//! What this target found, fixed in `src/formats/ini/` and replayed from
//! `fuzz/corpus/ini/finding-*` (each with a unit test in `tests_findings.rs` there):
//! `finding-empty-key`, an empty key written as `=value`, never read back and appended
//! on every run (now refused); `finding-cr-last-line`, a key added after an unterminated
//! last line ending in `\r`, which the editor held differently from how the bytes re-read
//! (now held as `\r\n`, through `text::Line::terminate`; `finding-cr-before-emptied-value`,
//! the same for a value emptied after a `\r`); and
//! `finding-continuation-becomes-header{,-2}`, word edits that turned a continuation line
//! into a section header (`  [x` plus the word `]`, `\ta [0]` without `a`; such a value
//! now goes on the key line). `finding-remove-words-inline-comment` (a `remove_words` that
//! left an inline comment on a key line, now refused), `finding-moved-comment-untouched`
//! and `finding-terminated-indented-bracket` (this target's own checks, below) came with
//! fixing those.
//!
//! "Untouched bytes" is checked by removing the key (`remove_key`) from the file before and
//! after the edit: the two must be equal, except that a new section's header (and the
//! blank line before it, and a terminator for a last line that had none) may follow, and
//! that an inline comment of a key line the edit wrote has moved to a comment line of its
//! own (as the editor documents: libdnf has no inline comments).

use vmup::formats::ini::{IniError, IniFile, key_problem, value_problem};

use crate::input::{Chunk, Fields, chunks, is_subsequence, split_header, without};

pub const CHECKS: &str = "round trip; set/add_words/remove_words/remove_key refuse only what \
                          they document (file unchanged), else read back, are idempotent, \
                          re-read as held, write no indented `[` line, leave other bytes alone";

/// The section, key and values of an edit.
struct Args {
    section: Vec<u8>,
    key: Vec<u8>,
    values: Vec<Vec<u8>>,
}

/// The arguments cut to what the editor writes, so that most edits get past its refusals.
fn sanitize(fields: &Fields<'_>) -> Args {
    let line_breaks = b"\r\n";
    let section = without(&without(fields.get(1), line_breaks), b"]");
    let mut key = without(&without(fields.get(2), line_breaks), b"=:");
    while key
        .first()
        .is_some_and(|b| b"[#;".contains(b) || b.is_ascii_whitespace())
    {
        key.remove(0);
    }
    let values = fields
        .rest(3)
        .iter()
        .map(|v| value_without_comment(&without(v, line_breaks)))
        .collect();
    Args {
        section,
        key,
        values,
    }
}

/// The arguments as they are.
fn raw(fields: &Fields<'_>) -> Args {
    Args {
        section: fields.get(1).to_vec(),
        key: fields.get(2).to_vec(),
        values: fields.rest(3).iter().map(|v| v.to_vec()).collect(),
    }
}

/// Drops every `;` that follows whitespace (or starts the value, which could follow the
/// space `add_words` puts between words): what would start an inline comment.
fn value_without_comment(value: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(value.len());
    for &b in value {
        if b == b';' && out.last().is_none_or(|p| p.is_ascii_whitespace()) {
            continue;
        }
        out.push(b);
    }
    out
}

/// The lines that start with whitespace and then `[`: to libdnf a section header (or an
/// error), whatever value they follow, to yum's ConfigParser a continuation line. Without
/// trailing whitespace: a last `\r` moves into the terminator when an unterminated last
/// line gets one.
fn indented_brackets(bytes: &[u8]) -> Vec<&[u8]> {
    chunks(bytes)
        .into_iter()
        .map(|c| c.content.trim_ascii_end())
        .filter(|c| {
            let text = c.trim_ascii_start();
            text.len() < c.len() && text.starts_with(b"[")
        })
        .collect()
}

/// An edit writes no such line: every one the result has was in the file before.
fn check_no_indented_bracket_written(before: &[u8], after: &[u8]) {
    assert!(
        is_subsequence(&indented_brackets(after), &indented_brackets(before)),
        "an edit wrote an indented line starting with `[`"
    );
}

fn words_of(value: &[u8]) -> Vec<&[u8]> {
    value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

fn without_key(bytes: &[u8], section: &[u8], key: &[u8]) -> Vec<u8> {
    let mut file = IniFile::parse(bytes);
    file.remove_key(section, key);
    file.to_bytes()
}

/// `after` equals `before` but for what adding a key may append at the end: a terminator
/// for the last line, a blank line, and `[section]` with its terminator.
fn only_appended(before: &[u8], after: &[u8], section: &[u8]) -> bool {
    let Some(mut rest) = after.strip_prefix(before) else {
        return false;
    };
    let terminator = |rest: &mut &[u8]| {
        for t in [&b"\r\n"[..], b"\n"] {
            if let Some(r) = rest.strip_prefix(t) {
                *rest = r;
                return true;
            }
        }
        false
    };
    terminator(&mut rest);
    terminator(&mut rest);
    if rest.is_empty() {
        return true;
    }
    let header = [b"[", section, b"]"].concat();
    match rest.strip_prefix(header.as_slice()) {
        Some(mut r) => terminator(&mut r) && r.is_empty(),
        None => false,
    }
}

/// The edited file is what re-reading its bytes gives.
fn check_reread(file: &IniFile, after: &[u8]) {
    assert_eq!(
        &IniFile::parse(after),
        file,
        "the result re-reads differently"
    );
}

/// The indices of the lines of `lines` left over when those of `kept` are matched to them
/// in order, by content (greedily, which finds a match whenever there is one).
fn unmatched(lines: &[Chunk<'_>], kept: &[Chunk<'_>]) -> Vec<usize> {
    let mut kept = kept.iter().peekable();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if kept.next_if(|k| k.content == line.content).is_none() {
            out.push(i);
        }
    }
    out
}

/// Whether `comment` is the inline comment `line` ended in: after whitespace, up to the
/// end of the line, maybe but for a `\r` that became part of the comment line's terminator.
fn ends_in_comment(line: &[u8], comment: &[u8]) -> bool {
    [Some(line), line.strip_suffix(b"\r")]
        .into_iter()
        .flatten()
        .any(|line| {
            line.strip_suffix(comment)
                .is_some_and(|rest| rest.last().is_some_and(u8::is_ascii_whitespace))
        })
}

/// `a` (the edited file without the key) without the inline comments the edit moved to
/// comment lines of their own: a line starting with `;` that `b` (the file before, without
/// the key) lacks and that one of the key's lines in `before` ended in, one per such line.
fn without_moved_comments(before: &[u8], b: &[u8], a: &[u8]) -> Vec<u8> {
    let (before, b, a) = (chunks(before), chunks(b), chunks(a));
    let mut key_lines: Vec<&[u8]> = unmatched(&before, &b)
        .into_iter()
        .map(|i| before[i].content)
        .collect();
    let extra = unmatched(&a, &b);
    let mut out = Vec::new();
    for (i, line) in a.iter().enumerate() {
        if extra.contains(&i) && line.content.starts_with(b";") {
            let from = key_lines
                .iter()
                .position(|k| ends_in_comment(k, line.content));
            if let Some(from) = from {
                key_lines.swap_remove(from);
                continue;
            }
        }
        out.extend_from_slice(line.content);
        out.extend_from_slice(line.terminator);
    }
    out
}

fn check_untouched(before: &[u8], after: &[u8], args: &Args, may_append: bool) {
    let (s, k) = (args.section.as_slice(), args.key.as_slice());
    let b = without_key(before, s, k);
    let a = without_moved_comments(before, &b, &without_key(after, s, k));
    if may_append {
        assert!(
            only_appended(&b, &a, s),
            "bytes not about the key changed:\nwithout the key before: {:?}\nwithout the key after:  {:?}",
            String::from_utf8_lossy(&b),
            String::from_utf8_lossy(&a)
        );
    } else {
        assert_eq!(
            String::from_utf8_lossy(&b),
            String::from_utf8_lossy(&a),
            "bytes not about the key changed"
        );
    }
}

/// Whether a value a word edit refused, as the error names it, would indeed not read back
/// on a key line. (Which value that is depends on the occurrence refused: yum's, or dnf's
/// when spelled otherwise, so it is not derived here.)
fn named_value_is_bad(error: &IniError) -> bool {
    matches!(error, IniError::Value { value, .. } if value_problem(value.as_bytes()).is_some())
}

/// An edit the editor refused: the file is unchanged, and the refusal is one its
/// documentation gives for these arguments. `bad_value`: whether the edit's value, a word
/// it adds, or the value it would write on one key line (taken over from `[DEFAULT]`, or
/// moved there when a continuation line would start with `[`) is one the editor refuses.
fn check_refusal(file: &IniFile, before: &[u8], args: &Args, error: &IniError, bad_value: bool) {
    assert_eq!(file.to_bytes(), before, "a refused edit changed the file");
    let (s, k) = (args.section.as_slice(), args.key.as_slice());
    let justified = match error {
        IniError::Key { .. } => key_problem(k).is_some(),
        IniError::Section { .. } => s.contains(&b']') || s.contains(&b'\n'),
        IniError::Value { .. } => bad_value,
    };
    assert!(justified, "refused without a documented reason: {error}");
    if key_problem(k).is_some() {
        assert!(
            matches!(error, IniError::Key { .. }),
            "a key key_problem refuses was refused for something else: {error}"
        );
    }
}

pub fn check(data: &[u8]) {
    let (header, before) = split_header(data);
    let fields = Fields::new(header);
    let mut file = IniFile::parse(before);
    assert_eq!(file.to_bytes(), before, "parse/to_bytes is not lossless");
    let op = fields.get(0).first().copied().unwrap_or(b'?');
    let args = match op.is_ascii_uppercase() {
        true => raw(&fields),
        false => sanitize(&fields),
    };
    let (s, k) = (args.section.as_slice(), args.key.as_slice());
    let _ = file.sections();
    let _ = file.get(s, k);
    let _ = file.spelling_dnf_misses(s, k);

    let values: Vec<&[u8]> = args.values.iter().map(Vec::as_slice).collect();
    let words: Vec<&[u8]> = values.iter().flat_map(|v| words_of(v)).collect();
    let current = file.get(s, k).unwrap_or_default();
    match op.to_ascii_lowercase() {
        b's' => {
            let value = values.first().copied().unwrap_or_default();
            let changed = match file.set(s, k, value) {
                Ok(changed) => changed,
                Err(e) => {
                    let bad = value_problem(value.trim_ascii()).is_some();
                    return check_refusal(&file, before, &args, &e, bad);
                }
            };
            let after = file.to_bytes();
            assert_eq!(changed, after != before, "set's return value is wrong");
            let reread = IniFile::parse(&after);
            assert_eq!(
                reread.get(s, k).as_deref(),
                Some(value.trim_ascii()),
                "set does not read back"
            );
            assert_eq!(
                file.set(s, k, value),
                Ok(false),
                "set twice changed something"
            );
            assert_eq!(file.to_bytes(), after);
            assert_eq!(
                reread.clone().set(s, k, value),
                Ok(false),
                "set again after re-reading changed something"
            );
            check_reread(&file, &after);
            check_no_indented_bracket_written(before, &after);
            check_untouched(before, &after, &args, true);
        }
        b'a' => {
            let changed = match file.add_words(s, k, &values) {
                Ok(changed) => changed,
                Err(e) => {
                    let old = words_of(&current);
                    let mut written = old.clone();
                    written.extend(words.iter().filter(|w| !old.contains(w)));
                    let bad = words
                        .iter()
                        .any(|w| value_problem(w).is_some() || w.starts_with(b";"))
                        || value_problem(&written.join(&b' ')).is_some()
                        || named_value_is_bad(&e);
                    return check_refusal(&file, before, &args, &e, bad);
                }
            };
            let after = file.to_bytes();
            assert_eq!(changed, after != before, "add_words' return value is wrong");
            let reread = IniFile::parse(&after);
            match reread.get(s, k) {
                Some(value) => {
                    let have = words_of(&value);
                    for w in &words {
                        assert!(have.contains(w), "add_words lost or did not add {w:?}");
                    }
                    let old = words_of(&current);
                    assert!(
                        have.starts_with(&old) || old.is_empty(),
                        "add_words lost or moved words of the value"
                    );
                }
                None => assert!(words.is_empty(), "add_words added no key"),
            }
            assert_eq!(
                file.add_words(s, k, &values),
                Ok(false),
                "add_words twice changed something"
            );
            assert_eq!(file.to_bytes(), after);
            assert_eq!(
                reread.clone().add_words(s, k, &values),
                Ok(false),
                "add_words again after re-reading changed something"
            );
            check_reread(&file, &after);
            check_no_indented_bracket_written(before, &after);
            check_untouched(before, &after, &args, true);
        }
        b'r' => {
            let changed = match file.remove_words(s, k, &values) {
                Ok(changed) => changed,
                Err(e) => {
                    let kept: Vec<&[u8]> = words_of(&current)
                        .into_iter()
                        .filter(|w| !words.contains(w))
                        .collect();
                    let bad = value_problem(&kept.join(&b' ')).is_some() || named_value_is_bad(&e);
                    return check_refusal(&file, before, &args, &e, bad);
                }
            };
            let after = file.to_bytes();
            assert_eq!(
                changed,
                after != before,
                "remove_words' return value is wrong"
            );
            let reread = IniFile::parse(&after);
            let kept: Vec<&[u8]> = words_of(&current)
                .into_iter()
                .filter(|w| !words.contains(w))
                .collect();
            match reread.get(s, k) {
                Some(value) => assert_eq!(
                    words_of(&value),
                    kept,
                    "remove_words did not keep exactly the other words, in order"
                ),
                None => assert!(kept.is_empty(), "remove_words lost the key"),
            }
            assert_eq!(
                file.remove_words(s, k, &values),
                Ok(false),
                "remove_words twice changed something"
            );
            assert_eq!(
                reread.clone().remove_words(s, k, &values),
                Ok(false),
                "remove_words again after re-reading changed something"
            );
            check_reread(&file, &after);
            check_no_indented_bracket_written(before, &after);
            check_untouched(before, &after, &args, false);
        }
        b'k' => {
            let changed = file.remove_key(s, k);
            let after = file.to_bytes();
            assert_eq!(
                changed,
                after != before,
                "remove_key's return value is wrong"
            );
            assert!(
                is_subsequence(&chunks(&after), &chunks(before)),
                "remove_key changed lines it kept"
            );
            let reread = IniFile::parse(&after);
            assert_eq!(reread.get(s, k), None, "remove_key left the key");
            check_reread(&file, &after);
            assert!(!file.remove_key(s, k), "remove_key twice changed something");
        }
        _ => {}
    }
}
