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
//! does not refuse reads back.
//!
//! Third open finding: `add_words` and `remove_words` rewrite continuation lines, and
//! can leave one that reads as a section header: `  [x` plus the word `]` becomes
//! `  [x ]`, and `\ta [0]` without the word `a` becomes `\t[0]`. The words are lost (or
//! the key's other lines are), and the keys after the line change section. Word edits on
//! a file with an indented line holding `[` are skipped unless `VMUP_FUZZ_STRICT=1`;
//! `fuzz/corpus/ini/finding-continuation-becomes-header{,-2}` reproduce it.
//!
//! "Untouched bytes" is checked by removing the key (`remove_key`) from the file before and
//! after the edit: the two must be equal, except that a new section's header (and the
//! blank line before it, and a terminator for a last line that had none) may follow.

use vmup::formats::ini::{IniError, IniFile, key_problem, value_problem};

use crate::input::{Fields, chunks, is_subsequence, split_header, strict, without};

pub const CHECKS: &str = "round trip; set/add_words/remove_words/remove_key refuse only what \
                          they document (file unchanged), else read back, are idempotent, \
                          re-read as held, leave other bytes alone";

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

/// Whether a line that starts with whitespace holds a `[` (what a word edit of a
/// continuation line can turn into a header: the third open finding).
fn has_indented_bracket(bytes: &[u8]) -> bool {
    chunks(bytes).iter().any(|c| {
        c.content.first().is_some_and(u8::is_ascii_whitespace) && c.content.contains(&b'[')
    })
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

fn check_untouched(before: &[u8], after: &[u8], args: &Args, may_append: bool) {
    let (s, k) = (args.section.as_slice(), args.key.as_slice());
    let b = without_key(before, s, k);
    let a = without_key(after, s, k);
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

/// An edit the editor refused: the file is unchanged, and the refusal is one its
/// documentation gives for these arguments. `bad_value`: whether the edit's value, a word
/// it adds, or the value it would write on one line when it takes the key over from
/// `[DEFAULT]` (words kept or added) is one the editor refuses.
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
            assert_eq!(file.set(s, k, value), Ok(false), "set twice changed something");
            assert_eq!(file.to_bytes(), after);
            assert_eq!(
                reread.clone().set(s, k, value),
                Ok(false),
                "set again after re-reading changed something"
            );
            check_reread(&file, &after);
            check_untouched(before, &after, &args, true);
        }
        b'a' | b'r' if !strict() && has_indented_bracket(before) => {
            // the open continuation-becomes-header finding, see the module documentation
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
                        || value_problem(&written.join(&b' ')).is_some();
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
                    let bad = value_problem(&kept.join(&b' ')).is_some();
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
