//! How yum reads one line of an INI file: blank, comment, `[section]` header, key line
//! (with its key, value and inline comment located), continuation of the previous value,
//! or something it ignores.
//!
//! The rules are those of Python 2's `RawConfigParser._read` (CPython 2.3 to 2.7,
//! `Lib/ConfigParser.py`), which yum 2.4 uses, and of iniparse 0.2 to 0.4
//! (`iniparse/ini.py`, the line classes), which yum 3 uses; the module doc of `ini` lists
//! them and where they differ.

use std::ops::Range;

/// What a line is to yum. Ranges and indices index into the line's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Blank,
    Comment,
    Header {
        name: Range<usize>,
    },
    Entry {
        key: Range<usize>,
        value: Range<usize>,
        /// Where the inline comment (its `;`) starts, if the line has one.
        comment: Option<usize>,
        spaced: bool,
    },
    Continuation {
        value: Range<usize>,
    },
    Unknown,
}

/// Reads one line as yum would; `after_entry` tells whether a key line of the current
/// section came before, which makes an indented line a continuation. A header is a header
/// even when indented, so that a new key line can never turn a header into a value line.
pub(super) fn classify(content: &[u8], after_entry: bool) -> Kind {
    let Some(start) = content.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Kind::Blank;
    };
    if let Some(name) = header_name(content, start) {
        return Kind::Header { name };
    }
    if start > 0 && after_entry {
        let end = start + content[start..].trim_ascii_end().len();
        return Kind::Continuation { value: start..end };
    }
    if start == 0 && is_rem_comment(content) {
        return Kind::Comment;
    }
    match content[start] {
        b'#' | b';' => Kind::Comment,
        b'[' => Kind::Unknown,
        _ => classify_entry(content, start),
    }
}

/// Python 2's `ConfigParser` skips a line whose first word is `rem` in any case, written
/// from the first column (`line.split(None, 1)[0].lower() == 'rem' and line[0] in "rR"`).
/// (iniparse, in yum 3, skips every line that merely begins with `rem`; libdnf knows no
/// `rem` at all: see the module doc.)
fn is_rem_comment(content: &[u8]) -> bool {
    let word_end = content
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(content.len());
    content[..word_end].eq_ignore_ascii_case(b"rem")
}

/// The name range of a `[name]` header starting at `start`, with anything after the `]`;
/// the name must not be empty.
fn header_name(content: &[u8], start: usize) -> Option<Range<usize>> {
    if content[start] != b'[' {
        return None;
    }
    let name_start = start + 1;
    match content[name_start..].iter().position(|&b| b == b']') {
        Some(len) if len > 0 => Some(name_start..name_start + len),
        _ => None,
    }
}

/// `key = value ; comment` with the key starting at `start`. Only the value's FIRST `;` can
/// start an inline comment, and only when whitespace precedes it: Python 2 looks at
/// `optval.find(';')` alone, and so does iniparse (`value.find(';')`), so in `a;b ;c` the
/// value is all of `a;b ;c`. A `;` that starts the value is part of it (iniparse; Python 2
/// agrees unless the line ends in whitespace, see the module doc).
fn classify_entry(content: &[u8], start: usize) -> Kind {
    let Some(offset) = content[start..]
        .iter()
        .position(|&b| b == b'=' || b == b':')
    else {
        return Kind::Unknown;
    };
    if offset == 0 {
        return Kind::Unknown;
    }
    let delimiter = start + offset;
    let key_end = start + content[start..delimiter].trim_ascii_end().len();
    let after = &content[delimiter + 1..];
    let value_start = delimiter + 1 + (after.len() - after.trim_ascii_start().len());
    let rest = &content[value_start..];
    let comment = rest
        .iter()
        .position(|&b| b == b';')
        .filter(|&i| i > 0 && rest[i - 1].is_ascii_whitespace());
    let value_end = value_start + rest[..comment.unwrap_or(rest.len())].trim_ascii_end().len();
    let spaced = content[delimiter - 1].is_ascii_whitespace()
        && after.first().is_some_and(|b| b.is_ascii_whitespace());
    Kind::Entry {
        key: start..key_end,
        value: value_start..value_end,
        comment: comment.map(|i| value_start + i),
        spaced,
    }
}
