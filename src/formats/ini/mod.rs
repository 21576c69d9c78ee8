//! Lossless editor for the INI files yum reads: `/etc/yum.conf` and `/etc/yum.repos.d/*.repo`.
//!
//! The file is kept as its lines, each with its own terminator; every query re-reads those
//! bytes the way yum's (Python 2 `ConfigParser`) parser does, so [`IniFile::to_bytes`] gives
//! back the parsed bytes exactly and an edit changes only the bytes it is about. Everything
//! works on bytes: config files need not be UTF-8.
//!
//! How lines are read:
//! - Blank: only ASCII whitespace.
//! - Continuation: not a header, starts with whitespace and follows a key line of the same
//!   section (blank and comment lines may sit in between), as in yum's multi-line `baseurl`
//!   lists. It is part of that key's value, never a key or header of its own.
//! - Comment: starts with `#` or `;` (after optional whitespace).
//! - Header: `[name]`, optionally with whitespace before it and anything after the `]`.
//!   The name is the bytes between the brackets, untrimmed, as yum takes it. (yum itself
//!   rejects an indented header, or reads it as a continuation line; here it is always a
//!   header, so that adding a key line can never turn a header into part of a value.)
//! - Key line: `key=value` or `key: value`, split at the first `=` or `:`. The key is
//!   trimmed and compared case-sensitively. The value is trimmed; a `;` preceded by
//!   whitespace inside it starts an inline comment, which is not part of the value.
//! - Anything else is kept verbatim and ignored.
//!
//! Keys before any header belong to section `""`. A section written twice is one section.
//! A key written twice in a section: yum uses the LAST occurrence, so `get`, `set`,
//! `add_words` and `remove_words` work on the last one and leave earlier ones alone;
//! `remove_key` removes them all, so that the key is really gone.
//!
//! How edits are written:
//! - An existing key line keeps its key spelling, its spacing around the delimiter, any
//!   inline comment and its terminator; only the value bytes change. `set` also removes the
//!   key's continuation lines, which are part of the old value. An emptied value also loses
//!   its inline comment, because yum would read `key= ; note` as the value `; note`.
//! - A new key goes into the last header of its section, after the last key, continuation
//!   or other indented line there (an indented line after it would become part of its
//!   value), or right after the header if there is none; for section `""`, at the start of
//!   the file. It is written `key=value`, or `key = value` if most key lines of the section
//!   (of the whole file, when the section has none) are spaced that way.
//! - A new section is appended at the end of the file as `[section]` and the key line,
//!   after a blank line unless the file is empty or already ends with a blank line.
//! - New lines get the file's dominant terminator (`\r\n` if most terminated lines use it,
//!   else `\n`); a last line without terminator gets one when a line is added after it.
//! - Values are lists of words split on ASCII whitespace for `add_words`/`remove_words`;
//!   words are added once, at the end of the value (its last line), separated by a space.
//!
//! Section names, keys, values and words given to the editing methods are taken as plain
//! single-line text: they must not contain line breaks, a section name no `]`, a key no
//! `=` or `:` nor a leading `[`, `#` or `;`, and a value no whitespace followed by `;`.
//!
//! This file holds [`IniFile`] and its queries and edits; `classify` reads a single line
//! the way yum does, and `words` handles values as lists of words.

use std::ops::Range;

mod classify;
mod words;

#[cfg(test)]
mod tests;

use super::text::{self, Line, Terminator};
use classify::{Kind, classify};
use words::{split_words, split_words_unique, without_words};

/// A line's kind and the section it belongs to (a header belongs to the section it opens).
struct Parsed<'a> {
    section: &'a [u8],
    kind: Kind,
}

/// One piece of a value: the line it is on and where it sits in that line.
#[derive(Debug, Clone)]
struct Piece {
    line: usize,
    value: Range<usize>,
}

/// A yum INI file (`yum.conf`, `.repo`) that can be edited without disturbing the bytes of
/// untouched lines, so that vmup only changes what it has to on a remote machine.
///
/// Invariant: only the last line may have no terminator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniFile {
    lines: Vec<Line>,
}

impl IniFile {
    /// Reads a file. Never fails: lines it does not understand are kept verbatim, and
    /// `to_bytes` gives back exactly `bytes`, so any file can be edited without risk.
    pub fn parse(bytes: &[u8]) -> IniFile {
        let lines = text::split(bytes);
        IniFile { lines }
    }

    /// Serialises the file, so the edited result can be written back to disk.
    pub fn to_bytes(&self) -> Vec<u8> {
        text::join(&self.lines)
    }

    /// Names of the sections with a header, in order of first appearance and each once,
    /// so callers can list the repositories of a `.repo` file. Section `""` is not listed.
    pub fn sections(&self) -> Vec<Vec<u8>> {
        let mut names: Vec<Vec<u8>> = Vec::new();
        for (line, parsed) in self.lines.iter().zip(self.analyze()) {
            if let Kind::Header { name } = parsed.kind {
                let name = &line.content[name];
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_vec());
                }
            }
        }
        names
    }

    /// The value yum would use for `key` in `section`: that of the last occurrence, trimmed,
    /// with continuation lines joined by `\n` as yum joins them. `None` if the key is absent.
    pub fn get(&self, section: &[u8], key: &[u8]) -> Option<Vec<u8>> {
        let pieces = self.effective_entry(section, key.trim_ascii())?;
        let values: Vec<&[u8]> = pieces.iter().map(|p| self.piece_value(p)).collect();
        Some(values.join(&b'\n'))
    }

    /// Makes `key` in `section` have `value` (trimmed), adding the key or the section if
    /// needed; returns true if the bytes changed. Running it again changes nothing.
    pub fn set(&mut self, section: &[u8], key: &[u8], value: &[u8]) -> bool {
        let key = key.trim_ascii();
        let value = value.trim_ascii();
        if self.get(section, key).as_deref() == Some(value) {
            return false;
        }
        let pieces = self.effective_entry(section, key).unwrap_or_default();
        match pieces.split_first() {
            Some((key_line, continuations)) => {
                self.replace_value(key_line, value);
                let lines: Vec<usize> = continuations.iter().map(|p| p.line).collect();
                self.remove_lines(&lines);
            }
            None => self.add_entry(section, key, value),
        }
        true
    }

    /// Adds those of `words` that the value of `key` lacks at its end, keeping the existing
    /// words and their order (e.g. kernel flavours in `installonlypkgs`); adds the key if
    /// absent. Returns true if the bytes changed; running it again changes nothing.
    pub fn add_words(&mut self, section: &[u8], key: &[u8], words: &[&[u8]]) -> bool {
        let key = key.trim_ascii();
        let wanted = split_words_unique(words);
        let Some(pieces) = self.effective_entry(section, key) else {
            return !wanted.is_empty() && self.set(section, key, &wanted.join(&b' '));
        };
        let existing: Vec<&[u8]> = pieces
            .iter()
            .flat_map(|p| split_words(self.piece_value(p)))
            .collect();
        let missing: Vec<&[u8]> = wanted
            .into_iter()
            .filter(|w| !existing.contains(w))
            .collect();
        let Some(last) = pieces.last().filter(|_| !missing.is_empty()) else {
            return false;
        };
        let mut value = self.piece_value(last).to_vec();
        if !value.is_empty() {
            value.push(b' ');
        }
        value.extend_from_slice(&missing.join(&b' '));
        self.replace_value(last, &value);
        true
    }

    /// Removes every occurrence of `words` from the value of `key`, keeping the other words,
    /// their order and the spacing between them; a continuation line left empty is removed.
    /// Returns true if the bytes changed.
    pub fn remove_words(&mut self, section: &[u8], key: &[u8], words: &[&[u8]]) -> bool {
        let Some(pieces) = self.effective_entry(section, key.trim_ascii()) else {
            return false;
        };
        let unwanted = split_words_unique(words);
        let mut emptied = Vec::new();
        let mut changed = false;
        for (n, piece) in pieces.iter().enumerate() {
            let old = self.piece_value(piece);
            let new = without_words(old, &unwanted);
            if new == old {
                continue;
            }
            changed = true;
            if new.is_empty() && n > 0 {
                emptied.push(piece.line);
            } else {
                self.replace_value(piece, &new);
            }
        }
        self.remove_lines(&emptied);
        changed
    }

    /// Removes every occurrence of `key` in `section`, with its continuation lines, so that
    /// yum no longer sees the key at all. Returns true if the bytes changed.
    pub fn remove_key(&mut self, section: &[u8], key: &[u8]) -> bool {
        let lines: Vec<usize> = self
            .entries(section, key.trim_ascii())
            .iter()
            .flatten()
            .map(|p| p.line)
            .collect();
        self.remove_lines(&lines);
        !lines.is_empty()
    }

    /// Classifies every line, tracking sections and whether a key line came before
    /// (which makes indented lines continuations).
    fn analyze(&self) -> Vec<Parsed<'_>> {
        let mut out = Vec::with_capacity(self.lines.len());
        let mut section: &[u8] = b"";
        let mut after_entry = false;
        for line in &self.lines {
            let kind = classify(&line.content, after_entry);
            match &kind {
                Kind::Header { name } => {
                    section = &line.content[name.clone()];
                    after_entry = false;
                }
                Kind::Entry { .. } => after_entry = true,
                _ => {}
            }
            out.push(Parsed { section, kind });
        }
        out
    }

    /// Every occurrence of `key` in `section`, in file order, each as its value pieces:
    /// the key line's value first, then its continuation lines.
    fn entries(&self, section: &[u8], key: &[u8]) -> Vec<Vec<Piece>> {
        let mut entries: Vec<Vec<Piece>> = Vec::new();
        // Whether the latest key line is one of ours, so its continuations are too.
        let mut in_ours = false;
        for (i, parsed) in self.analyze().into_iter().enumerate() {
            match parsed.kind {
                Kind::Header { .. } => in_ours = false,
                Kind::Entry { key: k, value, .. } => {
                    in_ours = parsed.section == section && self.lines[i].content[k] == *key;
                    if in_ours {
                        entries.push(vec![Piece { line: i, value }]);
                    }
                }
                Kind::Continuation { value } if in_ours => {
                    if let Some(entry) = entries.last_mut() {
                        entry.push(Piece { line: i, value });
                    }
                }
                _ => {}
            }
        }
        entries
    }

    /// The occurrence of `key` in `section` that yum uses: the last one.
    fn effective_entry(&self, section: &[u8], key: &[u8]) -> Option<Vec<Piece>> {
        self.entries(section, key).pop()
    }

    fn piece_value(&self, piece: &Piece) -> &[u8] {
        &self.lines[piece.line].content[piece.value.clone()]
    }

    /// Writes `value` over a piece. An empty value also drops what follows it on the line
    /// (an inline comment), because yum would read `key= ; note` as the value `; note`.
    fn replace_value(&mut self, piece: &Piece, value: &[u8]) {
        let content = &mut self.lines[piece.line].content;
        if value.is_empty() {
            content.truncate(piece.value.start);
        } else {
            content.splice(piece.value.clone(), value.iter().copied());
        }
    }

    /// Removes the lines at the given ascending indices.
    fn remove_lines(&mut self, ascending: &[usize]) {
        for &i in ascending.iter().rev() {
            self.lines.remove(i);
        }
    }

    /// Writes a new key line into `section`, creating the section if needed.
    fn add_entry(&mut self, section: &[u8], key: &[u8], value: &[u8]) {
        let separator: &[u8] = if self.prefers_spaced(section) {
            b" = "
        } else {
            b"="
        };
        let line = [key, separator, value].concat();
        match self.insertion_point(section) {
            Some(at) => self.insert_line(at, line),
            None => {
                if self
                    .lines
                    .last()
                    .is_some_and(|l| !l.content.trim_ascii().is_empty())
                {
                    self.insert_line(self.lines.len(), Vec::new());
                }
                let header = [b"[", section, b"]"].concat();
                self.insert_line(self.lines.len(), header);
                self.insert_line(self.lines.len(), line);
            }
        }
    }

    /// Whether most key lines of `section` (of the file, if the section has none) are
    /// written `key = value`.
    fn prefers_spaced(&self, section: &[u8]) -> bool {
        let parsed = self.analyze();
        let count = |in_section: bool| {
            let (mut spaced_lines, mut tight_lines) = (0, 0);
            for p in &parsed {
                if let Kind::Entry { spaced, .. } = p.kind {
                    if in_section && p.section != section {
                        continue;
                    }
                    if spaced {
                        spaced_lines += 1;
                    } else {
                        tight_lines += 1;
                    }
                }
            }
            (spaced_lines, tight_lines)
        };
        let (spaced, tight) = match count(true) {
            (0, 0) => count(false),
            counts => counts,
        };
        spaced > tight
    }

    /// Index at which a new key line of `section` goes, or `None` if the section has no
    /// header. After the last line of the section's last header that is a key line, a
    /// continuation, or indented (an indented line after a new key would become part of
    /// its value); else right after the header.
    fn insertion_point(&self, section: &[u8]) -> Option<usize> {
        let parsed = self.analyze();
        let is_header = |p: &Parsed<'_>| matches!(p.kind, Kind::Header { .. });
        let start = if section.is_empty() {
            0
        } else {
            let header = parsed
                .iter()
                .rposition(|p| is_header(p) && p.section == section)?;
            header + 1
        };
        let end = parsed[start..]
            .iter()
            .position(is_header)
            .map_or(parsed.len(), |n| start + n);
        let last_content = (start..end).rev().find(|&i| match parsed[i].kind {
            Kind::Entry { .. } | Kind::Continuation { .. } => true,
            Kind::Blank => false,
            _ => self.lines[i]
                .content
                .first()
                .is_some_and(|b| b.is_ascii_whitespace()),
        });
        Some(last_content.map_or(start, |i| i + 1))
    }

    /// Inserts a line at index `at` with the dominant terminator, terminating the previous
    /// last line if the new line goes at the end.
    fn insert_line(&mut self, at: usize, content: Vec<u8>) {
        let terminator = self.dominant_terminator();
        let at_end = at == self.lines.len();
        if let Some(last) = self
            .lines
            .last_mut()
            .filter(|last| at_end && last.terminator == Terminator::Missing)
        {
            last.terminator = terminator;
        }
        self.lines.insert(
            at,
            Line {
                content,
                terminator,
            },
        );
    }

    /// `\r\n` if most terminated lines use it, else `\n`.
    fn dominant_terminator(&self) -> Terminator {
        text::dominant_terminator(&self.lines)
    }
}
