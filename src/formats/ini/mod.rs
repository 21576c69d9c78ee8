//! Lossless editor for the INI files yum and dnf read: `/etc/yum.conf`, `/etc/dnf/dnf.conf`
//! and `/etc/yum.repos.d/*.repo`.
//!
//! The file is kept as its lines, each with its own terminator; every query re-reads those
//! bytes the way yum does, so [`IniFile::to_bytes`] gives back the parsed bytes exactly and
//! an edit changes only the bytes it is about. Everything works on bytes: config files need
//! not be UTF-8.
//!
//! # The readers
//!
//! - yum 2.4 (CentOS 4) reads with Python 2's `ConfigParser.ConfigParser` (yum
//!   `yum/config.py` at 2.4.0: `CFParser`, fed by the `include=` pre-processor `confpp`).
//! - yum 3.2 and later (CentOS 5's later releases, 6 and 7) read with `iniparse.compat`
//!   (`ConfigParser`, from 2009 `RawConfigParser`), and with Python 2's `ConfigParser` where
//!   iniparse is missing, as yum 3.0 did (yum `yum/config.py` since 2007-08; iniparse 0.2.3
//!   to 0.4, `iniparse/ini.py` and `iniparse/compat.py`).
//! - dnf 4.2 and later read with libdnf's own parser (libdnf
//!   `libdnf/utils/iniparser/iniparser.cpp`, `libdnf/conf/ConfigParser.hpp`; dnf
//!   `dnf/conf/config.py`, `_populate`); dnf before 4.2 used iniparse, as yum 3 does.
//!
//! # How lines are read
//!
//! As Python 2's `RawConfigParser._read` reads them (CPython `Lib/ConfigParser.py`, 2.3 to
//! 2.7), which iniparse copies; `tests_differential.rs` checks the reading against Python
//! 3's `configparser` on generated files.
//! - Blank: only ASCII whitespace. Skipped: it does not end a multi-line value.
//! - Continuation: not a header, starts with whitespace and follows a key line of the same
//!   section (blank and comment lines may sit in between), as in yum's multi-line `baseurl`
//!   lists. It is part of that key's value, never a key, comment or header of its own.
//! - Comment: starts with `#` or `;` (after optional whitespace), or its first word, from the
//!   first column, is `rem` in any case (Python 2's `rem` rule).
//! - Header: `[name]`, optionally with whitespace before it and anything after the `]`.
//!   The name is the bytes between the brackets, untrimmed, as yum takes it. (yum before
//!   3.4 rejects an indented header, or reads it as a continuation line; yum 3.4's
//!   pre-processor strips the indent, and libdnf reads a header, as here, so that adding a
//!   key line can never turn a header into part of a value.)
//! - Key line: `key=value` or `key: value`, split at the first `=` or `:`. The key is
//!   trimmed and compared ignoring ASCII case: yum passes every option name through
//!   `optionxform`, which lowercases it, so `InstallOnlyPkgs` IS `installonlypkgs`. The
//!   value is trimmed; the value's first `;` starts an inline comment, which is not part of
//!   the value, if whitespace precedes it (Python 2 and iniparse look at that `;` alone).
//! - Anything else is kept verbatim and ignored.
//!
//! Section names are compared exactly (no reader transforms them). Keys before any header
//! belong to section `""` (yum refuses such a file). A section written twice is one
//! section. A key written twice in a section, in any case: every reader uses the LAST
//! occurrence, so `get` reads that one; `remove_key` removes them all, so that the key is
//! really gone. A section that lacks a key reads it from `[DEFAULT]`, as yum does (Python 2's
//! `DEFAULTSECT`, iniparse's `_defaults`); `sections` lists `[DEFAULT]` all the same,
//! because libdnf gives it no special meaning (to dnf it is a repository like any other).
//!
//! # Where yum and dnf disagree, and what edits do
//!
//! An edit leaves every reader reading the intended value where it can:
//! - Key case: libdnf keeps names as written and dnf looks its lowercase names up exactly,
//!   so dnf 4.2+ does not see `InstallOnlyPkgs`. An edit goes to the line yum reads (the
//!   last in any case), keeping its spelling, and also to the last line spelled exactly as
//!   asked when that is another one, which is the one dnf reads. When no line spells it
//!   exactly, dnf sees no such key before or after: [`IniFile::spelling_dnf_misses`] lets
//!   callers say so. (Renaming the key would not keep the file's spelling; adding a second
//!   line would hide the first from yum, or be hidden by it: a trap for whoever edits next.)
//! - Inline comments: libdnf has none, so `key=v ; note` is the value `v ; note` to dnf. The
//!   inline comment of a line vmup writes moves to a comment line of its own right above it
//!   (first column, same text), and both read what vmup wrote. Other lines keep theirs.
//! - `[DEFAULT]`: editing a key that the section lacks but `[DEFAULT]` has writes it into
//!   the section (the value yum read there, edited), which both then read.
//! - Keys beginning with `rem`: iniparse reads every line beginning with `rem` as a comment
//!   (its `[rR][eE][mM]` prefix), so yum 3 can see no such key: [`key_problem`] refuses them.
//! - Left to the file, as an edit neither causes nor cures them: libdnf rejects a whole file
//!   for a `key: value` line, text after a header's `]`, or an indented line that does not
//!   continue a key line (to libdnf a comment or empty line ends a value; a line of only
//!   spaces stays in it, as an empty line); it strips the quotes around `"x"` or `'x'`,
//!   where Python 2 empties only `""` and iniparse keeps both. Python 2 reads `key= ;x` as empty
//!   when the line ends in whitespace (`optval[pos-1]` wraps around), iniparse as `;x`.
//!   Python 2 and iniparse expand `%(name)s` in values (`ConfigParser.get`, not the Raw
//!   one). vmup writes none of these: new lines use `=`, values have no quotes of their own.
//!
//! # How edits are written
//!
//! - An existing key line keeps its key spelling, its spacing around the delimiter and its
//!   terminator; only the value bytes change (an inline comment moves above, see above).
//!   `set` also removes the key's continuation lines, which are part of the old value.
//! - A new key goes into the last header of its section, after the last key, continuation
//!   or other indented line there (an indented line after it would become part of its
//!   value), or right after the header if there is none; for section `""`, at the start of
//!   the file. It is written `key=value`, or `key = value` if most key lines of the section
//!   (of the whole file, when the section has none) are spaced that way.
//! - A new section is appended at the end of the file as `[section]` and the key line,
//!   after a blank line unless the file is empty or already ends with a blank line.
//! - New lines get the file's dominant terminator (`\r\n` if most terminated lines use it,
//!   else `\n`); a last line without terminator gets one when a line is added after it.
//!   A line ending in `\r` that gets `\n` (a last line, or a moved inline comment) is then
//!   held as ending in `\r\n`, as its bytes read back.
//! - Values are lists of words split on ASCII whitespace for `add_words`/`remove_words`;
//!   words are added once, at the end of the value (its last line), separated by a space.
//!   `remove_words` keeps the other words and the spacing between them, line by line.
//! - A line a word edit writes reads back as the line it was: a continuation line never
//!   starts with `[` (libdnf ends a value at an indented line starting with `[` and reads a
//!   header there, or rejects the file; `classify` reads a header once the line holds a
//!   `]`, so `  [x` plus the word `]`, or `\ta [0]` without `a`, would lose words and move
//!   the keys after it to another section), and a key line gains no inline comment. When
//!   editing the lines in place would break that, the whole value is written on the key
//!   line, its words in order and joined by a space, and its continuation lines removed
//!   (as `set` writes): every reader reads the same list of words there (yum and dnf split
//!   list options on whitespace, line breaks included).
//!
//! # What edits refuse
//!
//! An edit never writes a line that does not read back as what it was asked to write. The
//! editing methods ([`IniFile::set`], [`IniFile::add_words`], [`IniFile::remove_words`])
//! refuse, with an [`IniError`] and the file left exactly as it was:
//! - a key that [`key_problem`] refuses, the same rule the resources check their keys
//!   with: an empty key (or one of only whitespace) would be written `=value`, a line no
//!   reader, [`IniFile::get`] included, reads as a key, so the key would never read back
//!   and every run would add another such line;
//! - a section name holding `]` or `\n`, which no `[section]` header can hold;
//! - a value (`set`) that [`value_problem`] refuses, a word (`add_words`) that it refuses or
//!   that starts with `;` (written after a space, it would start an inline comment);
//! - a value of words that has to be written on one key line (taken over from `[DEFAULT]`,
//!   or moved there as above) when a word starting with `;` would follow another word
//!   there, starting an inline comment (`exclude=a` then `  ;b` on a line of its own), and
//!   a `remove_words` that would leave such a `;` on a key line (`w x;y ;z` without `x;y`).
//!   With several occurrences to edit (yum's and dnf's), a refusal for one writes nothing
//!   to the others either.
//!
//! Reading and removing ([`IniFile::get`], [`IniFile::remove_key`],
//! [`IniFile::spelling_dnf_misses`]) take any key and write nothing a reader could misread:
//! an empty key is found nowhere, as no line reads as one.
//!
//! This file holds [`IniFile`]'s queries and edits; `classify` reads a single line the way
//! yum does, `lookup` finds the lines each reader uses, `write` places what edits write,
//! and `words` handles values as lists of words.

mod classify;
mod lookup;
mod words;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_differential;
#[cfg(test)]
mod tests_findings;
#[cfg(test)]
mod tests_readers;

use super::text::{self, Line};
use classify::Kind;
use thiserror::Error;
use words::{split_words_unique, without_words};
use write::Rewrite;

/// Why `key` cannot be written as a key that yum and dnf both read, if it cannot: so that
/// the resources refuse it before planning instead of writing a line some reader skips.
pub fn key_problem(key: &[u8]) -> Option<&'static str> {
    let key = key.trim_ascii();
    if key.is_empty() {
        return Some("it is empty");
    }
    if key
        .iter()
        .any(|b| matches!(b, b'=' | b':' | b'\n' | b'\r' | b'\0'))
    {
        return Some("it contains `=`, `:`, a line break or NUL");
    }
    if key.starts_with(b"[") || key.starts_with(b"#") || key.starts_with(b";") {
        return Some("a line starting with `[`, `#` or `;` is a header or a comment");
    }
    if key.len() >= 3 && key[..3].eq_ignore_ascii_case(b"rem") {
        return Some("yum 3 (iniparse) reads every line beginning with `rem` as a comment");
    }
    None
}

/// Why `value` (or a word of it) cannot be written as a value that yum and dnf both read,
/// if it cannot: so that the resources refuse it before planning.
pub fn value_problem(value: &[u8]) -> Option<&'static str> {
    if value.iter().any(|b| matches!(b, b'\n' | b'\r' | b'\0')) {
        return Some("it contains a line break or NUL");
    }
    comment_problem(value)
}

/// Why `value`, written after a key's delimiter, would not read back whole, if it would
/// not: its first `;` starts an inline comment when whitespace precedes it (Python 2 and
/// iniparse look at that `;` alone, see `classify`). The one rule a value made of words
/// already in the file (which hold no line break) can break when an edit writes it on a
/// key line.
fn comment_problem(value: &[u8]) -> Option<&'static str> {
    let comment = value.iter().position(|&b| b == b';');
    if comment.is_some_and(|i| i > 0 && value[i - 1].is_ascii_whitespace()) {
        return Some("yum reads a `;` after whitespace as the start of a comment");
    }
    None
}

/// Why an edit was refused; the file is then exactly as it was. Names are shown as text
/// (bytes that are not UTF-8 replaced), so the caller can tell the user what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IniError {
    /// The key is one [`key_problem`] refuses, such as an empty key.
    #[error("key {key:?} cannot be written: {why}")]
    Key {
        /// The key as given.
        key: String,
        /// What [`key_problem`] says.
        why: &'static str,
    },
    /// The section name cannot be written as a `[section]` header.
    #[error("section {section:?} cannot be written as a header: {why}")]
    Section {
        /// The section name as given.
        section: String,
        /// What it holds that a header cannot.
        why: &'static str,
    },
    /// The value, a word, or the value an edit would write on one line is one
    /// [`value_problem`] refuses.
    #[error("value {value:?} cannot be written: {why}")]
    Value {
        /// The value or word.
        value: String,
        /// Why it would not read back.
        why: &'static str,
    },
}

impl IniError {
    fn key(key: &[u8], why: &'static str) -> IniError {
        let key = String::from_utf8_lossy(key).into_owned();
        IniError::Key { key, why }
    }

    fn value(value: &[u8], why: &'static str) -> IniError {
        let value = String::from_utf8_lossy(value).into_owned();
        IniError::Value { value, why }
    }
}

/// The key and section an edit writes, refused as the module doc says.
fn check_names(section: &[u8], key: &[u8]) -> Result<(), IniError> {
    if let Some(why) = key_problem(key) {
        return Err(IniError::key(key, why));
    }
    let why = if section.contains(&b']') {
        "it contains `]`, which ends a header's name"
    } else if section.contains(&b'\n') {
        "it contains a line break"
    } else {
        return Ok(());
    };
    let section = String::from_utf8_lossy(section).into_owned();
    Err(IniError::Section { section, why })
}

/// A value written on one line, refused as [`value_problem`] says.
fn check_value(value: &[u8]) -> Result<(), IniError> {
    match value_problem(value) {
        Some(why) => Err(IniError::value(value, why)),
        None => Ok(()),
    }
}

/// A value of words (some already in the file) that an edit writes on one key line.
fn check_one_line(value: &[u8]) -> Result<(), IniError> {
    match comment_problem(value) {
        Some(why) => Err(IniError::value(value, why)),
        None => Ok(()),
    }
}

/// A word `add_words` writes: a value of its own, and written after a space.
fn check_word(word: &[u8]) -> Result<(), IniError> {
    check_value(word)?;
    if word.starts_with(b";") {
        let why = "yum reads a `;` after whitespace as the start of a comment";
        return Err(IniError::value(word, why));
    }
    Ok(())
}

/// A yum or dnf INI file (`yum.conf`, `dnf.conf`, `.repo`) that can be edited without
/// disturbing the bytes of untouched lines, so that vmup only changes what it has to on a
/// remote machine.
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
    /// so callers can list the repositories of a `.repo` file. Section `""` is not listed;
    /// `DEFAULT` is, as dnf reads it as a repository.
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

    /// The value yum would use for `key` (in any case) in `section`: that of the last
    /// occurrence, or `[DEFAULT]`'s, trimmed, with continuation lines joined by `\n` as yum
    /// joins them. `None` if the key is absent.
    pub fn get(&self, section: &[u8], key: &[u8]) -> Option<Vec<u8>> {
        let pieces = self.read(section, key.trim_ascii())?;
        Some(self.joined(&pieces))
    }

    /// How `key` is spelled in `section` when yum reads it there but dnf does not: when
    /// the section has the key only in other cases (`InstallOnlyPkgs`), which libdnf does
    /// not match to dnf's `installonlypkgs`. Lets callers warn that dnf misses an edit.
    pub fn spelling_dnf_misses(&self, section: &[u8], key: &[u8]) -> Option<Vec<u8>> {
        self.other_spelling(section, key.trim_ascii())
    }

    /// Makes `key` in `section` have `value` (trimmed) for yum and dnf, adding the key or
    /// the section if needed; returns true if the bytes changed. Running it again changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`IniError`] for a key, section name or value that cannot be written (see the module
    /// doc, "What edits refuse"); the file is then unchanged.
    pub fn set(&mut self, section: &[u8], key: &[u8], value: &[u8]) -> Result<bool, IniError> {
        let key = key.trim_ascii();
        let value = value.trim_ascii();
        check_names(section, key)?;
        check_value(value)?;
        let targets = self.targets(section, key);
        if targets.is_empty() {
            // yum reads the key from [DEFAULT] or not at all, dnf not at all.
            self.add_entry(section, key, value);
            return Ok(true);
        }
        let mut changed = false;
        for pieces in targets {
            if self.joined(&pieces) == value {
                continue;
            }
            self.rewrite(Rewrite::one_line(pieces, value.to_vec()));
            changed = true;
        }
        Ok(changed)
    }

    /// Adds those of `words` that the value of `key` lacks at its end, keeping the existing
    /// words and their order (e.g. kernel flavours in `installonlypkgs`); adds the key if
    /// absent. The words go on the value's last line, unless that is a continuation line
    /// starting with `[`: then the whole value goes on the key line (see the module doc,
    /// "How edits are written"). Returns true if the bytes changed; running it again
    /// changes nothing.
    ///
    /// # Errors
    ///
    /// [`IniError`] for a key, section name or word that cannot be written, or a value
    /// that would have to go on one line and cannot (see the module doc, "What edits
    /// refuse"); the file is then unchanged.
    pub fn add_words(
        &mut self,
        section: &[u8],
        key: &[u8],
        words: &[&[u8]],
    ) -> Result<bool, IniError> {
        let key = key.trim_ascii();
        check_names(section, key)?;
        let wanted = split_words_unique(words);
        for word in &wanted {
            check_word(word)?;
        }
        let targets = self.targets(section, key);
        if targets.is_empty() {
            if wanted.is_empty() {
                return Ok(false);
            }
            let mut value: Vec<&[u8]> = match self.inherited(section, key) {
                Some(pieces) => self.words_of(&pieces),
                None => Vec::new(),
            };
            for word in wanted {
                if !value.contains(&word) {
                    value.push(word);
                }
            }
            let value = value.join(&b' ');
            check_one_line(&value)?;
            self.add_entry(section, key, &value);
            return Ok(true);
        }
        // Every occurrence is planned before any is written, so that a refusal leaves the
        // file as it was.
        let mut rewrites = Vec::new();
        for pieces in targets {
            let existing = self.words_of(&pieces);
            let missing: Vec<&[u8]> = wanted
                .iter()
                .copied()
                .filter(|w| !existing.contains(w))
                .collect();
            if missing.is_empty() {
                continue;
            }
            let last = pieces.len() - 1;
            let mut value = self.piece_value(&pieces[last]).to_vec();
            if !value.is_empty() {
                value.push(b' ');
            }
            value.extend_from_slice(&missing.join(&b' '));
            let words = [existing, missing].concat();
            rewrites.push(self.plan_rewrite(pieces, vec![(last, Some(value))], &words)?);
        }
        let changed = !rewrites.is_empty();
        for rewrite in rewrites {
            self.rewrite(rewrite);
        }
        Ok(changed)
    }

    /// Removes every occurrence of `words` from the value of `key`, keeping the other words,
    /// their order and the spacing between them; a continuation line left empty is removed.
    /// A continuation line that would then start with `[` is not written: the whole value
    /// goes on the key line instead (see the module doc, "How edits are written"). Returns
    /// true if the bytes changed. The words need not be ones `add_words` takes: they are
    /// only removed.
    ///
    /// # Errors
    ///
    /// [`IniError`] for a key or section name that cannot be written, or when the value
    /// left would start an inline comment on the key line, or has to go on one line
    /// (taken over from `[DEFAULT]`, or as above) and cannot (see the module doc, "What
    /// edits refuse"); the file is then unchanged.
    pub fn remove_words(
        &mut self,
        section: &[u8],
        key: &[u8],
        words: &[&[u8]],
    ) -> Result<bool, IniError> {
        let key = key.trim_ascii();
        check_names(section, key)?;
        let unwanted = split_words_unique(words);
        let targets = self.targets(section, key);
        if targets.is_empty() {
            let Some(pieces) = self.inherited(section, key) else {
                return Ok(false);
            };
            let inherited = self.words_of(&pieces);
            let kept: Vec<&[u8]> = inherited
                .iter()
                .copied()
                .filter(|w| !unwanted.contains(w))
                .collect();
            if kept.len() == inherited.len() {
                return Ok(false);
            }
            let value = kept.join(&b' ');
            check_one_line(&value)?;
            self.add_entry(section, key, &value);
            return Ok(true);
        }
        // Every occurrence is planned before any is written, so that a refusal leaves the
        // file as it was.
        let mut rewrites = Vec::new();
        for pieces in targets {
            let mut edits = Vec::new();
            for (n, piece) in pieces.iter().enumerate() {
                let old = self.piece_value(piece);
                let new = without_words(old, &unwanted);
                if new == old {
                    continue;
                }
                edits.push((n, (!new.is_empty() || n == 0).then_some(new)));
            }
            if edits.is_empty() {
                continue;
            }
            let kept: Vec<&[u8]> = self
                .words_of(&pieces)
                .into_iter()
                .filter(|w| !unwanted.contains(w))
                .collect();
            rewrites.push(self.plan_rewrite(pieces, edits, &kept)?);
        }
        let changed = !rewrites.is_empty();
        for rewrite in rewrites {
            self.rewrite(rewrite);
        }
        Ok(changed)
    }

    /// Removes every occurrence of `key` (in any case) in `section`, with its continuation
    /// lines, so that no reader sees the key there any more (yum then reads `[DEFAULT]`'s,
    /// if it has one). Returns true if the bytes changed.
    pub fn remove_key(&mut self, section: &[u8], key: &[u8]) -> bool {
        let lines: Vec<usize> = self
            .all_pieces(section, key.trim_ascii())
            .iter()
            .flatten()
            .map(|p| p.line)
            .collect();
        self.remove_lines(&lines);
        !lines.is_empty()
    }
}
