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

use std::ops::Range;

use super::text::{self, Line, Terminator};

/// What a line is to yum. Ranges index into the line's content.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    Header {
        name: Range<usize>,
    },
    Entry {
        key: Range<usize>,
        value: Range<usize>,
        spaced: bool,
    },
    Continuation {
        value: Range<usize>,
    },
    Unknown,
}

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

/// Reads one line as yum would; `after_entry` tells whether a key line of the current
/// section came before, which makes an indented line a continuation. A header is a header
/// even when indented, so that a new key line can never turn a header into a value line.
fn classify(content: &[u8], after_entry: bool) -> Kind {
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
    match content[start] {
        b'#' | b';' => Kind::Comment,
        b'[' => Kind::Unknown,
        _ => classify_entry(content, start),
    }
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

/// `key = value ; comment` with the key starting at `start`.
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
    let comment = (1..rest.len())
        .find(|&i| rest[i] == b';' && rest[i - 1].is_ascii_whitespace())
        .unwrap_or(rest.len());
    let value_end = value_start + rest[..comment].trim_ascii_end().len();
    let spaced = content[delimiter - 1].is_ascii_whitespace()
        && after.first().is_some_and(|b| b.is_ascii_whitespace());
    Kind::Entry {
        key: start..key_end,
        value: value_start..value_end,
        spaced,
    }
}

/// Words of a value, split on ASCII whitespace.
fn split_words(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
}

/// The words of all `words`, each once, in order.
fn split_words_unique<'a>(words: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut out: Vec<&'a [u8]> = Vec::new();
    for word in words.iter().flat_map(|w| split_words(w)) {
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// `value` without the `unwanted` words; each kept word keeps the whitespace before it
/// (except the first, which keeps none).
fn without_words(value: &[u8], unwanted: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut gap_start = 0;
    let mut i = 0;
    while i < value.len() {
        if value[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let word_start = i;
        while i < value.len() && !value[i].is_ascii_whitespace() {
            i += 1;
        }
        let word = &value[word_start..i];
        if !unwanted.contains(&word) {
            if !out.is_empty() {
                out.extend_from_slice(&value[gap_start..word_start]);
            }
            out.extend_from_slice(word);
        }
        gap_start = i;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// CentOS 4 `/etc/yum.conf`, which has no `installonlypkgs` line.
    const YUM_CONF: &str = "\
[main]
cachedir=/var/cache/yum
debuglevel=2
logfile=/var/log/yum.log
pkgpolicy=newest
distroverpkg=centos-release
tolerant=1
exactarch=1
retries=20
obsoletes=1
gpgcheck=1

# PUT YOUR REPOS HERE OR IN separate files named file.repo
# in /etc/yum.repos.d
";

    const INSTALLONLY: &str = "installonlypkgs=kernel kernel-smp kernel-devel \
        kernel-smp-devel kernel-largesmp kernel-largesmp-devel kernel-hugemem \
        kernel-hugemem-devel";

    const XEN_WORDS: [&[u8]; 2] = [b"kernel-xenU", b"kernel-xenU-devel"];

    /// A site `.repo` file with two repositories; only the first says `enabled`.
    const MONASH_REPO: &str = "\
# Monash mirror of CentOS 4
[monashbase]
name=CentOS-$releasever - Base (Monash)
baseurl=http://mirror.monash.edu/centos/$releasever/os/$basearch/
gpgcheck=1
enabled=1

[monashupdates]
name=CentOS-$releasever - Updates (Monash)
baseurl=http://mirror.monash.edu/centos/$releasever/updates/$basearch/
gpgcheck=1
";

    fn yum_conf_with_installonly() -> String {
        YUM_CONF.replace("gpgcheck=1\n", &format!("gpgcheck=1\n{INSTALLONLY}\n"))
    }

    fn text(file: &IniFile) -> String {
        String::from_utf8(file.to_bytes()).expect("utf-8 test data")
    }

    #[test]
    fn installonlypkgs_gets_only_missing_words_once() {
        let original = yum_conf_with_installonly();
        let mut file = IniFile::parse(original.as_bytes());
        assert!(file.add_words(b"main", b"installonlypkgs", &XEN_WORDS));
        let expected = original.replace(
            "kernel-hugemem-devel\n",
            "kernel-hugemem-devel kernel-xenU kernel-xenU-devel\n",
        );
        assert_eq!(text(&file), expected);
        assert!(!file.add_words(b"main", b"installonlypkgs", &XEN_WORDS));
        assert_eq!(text(&file), expected);
    }

    #[test]
    fn add_words_adds_only_the_missing_ones() {
        let original = yum_conf_with_installonly().replace(
            "kernel-smp kernel-devel",
            "kernel-smp kernel-xenU-devel kernel-devel",
        );
        let mut file = IniFile::parse(original.as_bytes());
        assert!(file.add_words(b"main", b"installonlypkgs", &XEN_WORDS));
        let expected = original.replace(
            "kernel-hugemem-devel\n",
            "kernel-hugemem-devel kernel-xenU\n",
        );
        assert_eq!(text(&file), expected);
    }

    #[test]
    fn add_words_splits_and_dedups_given_words() {
        let mut file = IniFile::parse(b"[main]\nexclude=a\n");
        assert!(file.add_words(b"main", b"exclude", &[b"b  c", b"b", b"a", b""]));
        assert_eq!(file.to_bytes(), b"[main]\nexclude=a b c\n");
        assert!(!file.add_words(b"main", b"exclude", &[]));
    }

    #[test]
    fn absent_key_is_added_after_last_key_of_section() {
        let mut file = IniFile::parse(YUM_CONF.as_bytes());
        assert!(file.add_words(b"main", b"installonlypkgs", &XEN_WORDS));
        let expected = YUM_CONF.replace(
            "gpgcheck=1\n",
            "gpgcheck=1\ninstallonlypkgs=kernel-xenU kernel-xenU-devel\n",
        );
        assert_eq!(text(&file), expected);
        assert!(!file.add_words(b"main", b"installonlypkgs", &XEN_WORDS));
    }

    #[test]
    fn add_words_keeps_inline_comment_after_value() {
        let mut file = IniFile::parse(b"[main]\nexclude=foo*   ; local builds\n");
        assert!(file.add_words(b"main", b"exclude", &[b"bar"]));
        assert_eq!(
            file.to_bytes(),
            b"[main]\nexclude=foo* bar   ; local builds\n"
        );
        assert_eq!(file.get(b"main", b"exclude"), Some(b"foo* bar".to_vec()));
    }

    #[test]
    fn add_words_on_empty_value_joins_with_single_spaces() {
        let mut file = IniFile::parse(b"[main]\ninstallonlypkgs=\nexactarch=1\n");
        assert!(file.add_words(b"main", b"installonlypkgs", &XEN_WORDS));
        assert_eq!(
            file.to_bytes(),
            b"[main]\ninstallonlypkgs=kernel-xenU kernel-xenU-devel\nexactarch=1\n"
        );
    }

    #[test]
    fn add_words_with_no_words_does_not_create_key() {
        let mut file = IniFile::parse(YUM_CONF.as_bytes());
        assert!(!file.add_words(b"main", b"exclude", &[]));
        assert_eq!(text(&file), YUM_CONF);
    }

    #[test]
    fn remove_words_keeps_other_words_and_spacing() {
        let mut file = IniFile::parse(b"[main]\nexclude=a  b\tc d ; note\n");
        assert!(file.remove_words(b"main", b"exclude", &[b"b", b"d"]));
        assert_eq!(file.to_bytes(), b"[main]\nexclude=a\tc ; note\n");
        assert!(!file.remove_words(b"main", b"exclude", &[b"b"]));
        assert!(file.remove_words(b"main", b"exclude", &[b"a c"]));
        assert_eq!(file.to_bytes(), b"[main]\nexclude=\n");
        assert_eq!(file.get(b"main", b"exclude"), Some(Vec::new()));
        assert!(!file.remove_words(b"main", b"missing", &[b"a"]));
    }

    #[test]
    fn remove_words_from_installonlypkgs() {
        let original = yum_conf_with_installonly();
        let mut file = IniFile::parse(original.as_bytes());
        assert!(file.remove_words(b"main", b"installonlypkgs", &[b"kernel-smp"]));
        assert_eq!(
            text(&file),
            original.replace("kernel kernel-smp kernel-devel", "kernel kernel-devel")
        );
    }

    #[test]
    fn absent_section_is_appended_with_one_blank_line() {
        let mut file = IniFile::parse(MONASH_REPO.as_bytes());
        assert!(file.set(b"local", b"enabled", b"0"));
        assert_eq!(text(&file), format!("{MONASH_REPO}\n[local]\nenabled=0\n"));

        let ends_blank = format!("{MONASH_REPO}\n");
        let mut file = IniFile::parse(ends_blank.as_bytes());
        assert!(file.set(b"local", b"enabled", b"0"));
        assert_eq!(text(&file), format!("{ends_blank}[local]\nenabled=0\n"));

        let mut file = IniFile::parse(b"[main]\ngpgcheck=1");
        assert!(file.set(b"local", b"enabled", b"0"));
        assert_eq!(
            file.to_bytes(),
            b"[main]\ngpgcheck=1\n\n[local]\nenabled=0\n"
        );

        let mut file = IniFile::parse(b"");
        assert!(file.set(b"main", b"gpgcheck", b"1"));
        assert_eq!(file.to_bytes(), b"[main]\ngpgcheck=1\n");
    }

    #[test]
    fn key_written_twice_uses_last_occurrence() {
        let original = "[main]\ngpgcheck=0\nexclude=a\ndebuglevel=2\ngpgcheck=1\nexclude=b\n";
        let mut file = IniFile::parse(original.as_bytes());
        assert_eq!(file.get(b"main", b"gpgcheck"), Some(b"1".to_vec()));
        assert!(file.set(b"main", b"gpgcheck", b"0"));
        assert!(file.add_words(b"main", b"exclude", &[b"a"]));
        assert_eq!(
            text(&file),
            "[main]\ngpgcheck=0\nexclude=a\ndebuglevel=2\ngpgcheck=0\nexclude=b a\n"
        );
        assert!(file.remove_words(b"main", b"exclude", &[b"a"]));
        assert_eq!(
            text(&file),
            "[main]\ngpgcheck=0\nexclude=a\ndebuglevel=2\ngpgcheck=0\nexclude=b\n"
        );
        assert!(!file.set(b"main", b"gpgcheck", b"0"));
    }

    #[test]
    fn section_written_twice_is_one_section() {
        let original = "[main]\na=1\n\n[other]\nb=2\n\n[main]\nc=3\n\n# end\n";
        let mut file = IniFile::parse(original.as_bytes());
        assert_eq!(file.get(b"main", b"a"), Some(b"1".to_vec()));
        assert_eq!(file.get(b"main", b"c"), Some(b"3".to_vec()));
        assert_eq!(file.get(b"other", b"a"), None);
        assert_eq!(file.sections(), vec![b"main".to_vec(), b"other".to_vec()]);
        assert!(file.set(b"main", b"a", b"9"));
        assert!(file.set(b"main", b"d", b"4"));
        assert_eq!(
            text(&file),
            "[main]\na=9\n\n[other]\nb=2\n\n[main]\nc=3\nd=4\n\n# end\n"
        );
    }

    #[test]
    fn comments_and_spacing_are_kept_byte_for_byte() {
        let original = "\
; global comment\r\n\
[main]   \r\n\
cachedir = /var/cache/yum\r\n\
debuglevel   =\t2   ; inline\r\n\
# gpgcheck=0\r\n\
\r\n\
   \r\n\
tolerant=1\r\n";
        let mut file = IniFile::parse(original.as_bytes());
        assert_eq!(file.to_bytes(), original.as_bytes());
        assert_eq!(file.get(b"main", b"debuglevel"), Some(b"2".to_vec()));
        assert!(file.set(b"main", b"debuglevel", b"10"));
        assert!(file.set(b"main", b"exactarch", b"1"));
        let expected = "\
; global comment\r\n\
[main]   \r\n\
cachedir = /var/cache/yum\r\n\
debuglevel   =\t10   ; inline\r\n\
# gpgcheck=0\r\n\
\r\n\
   \r\n\
tolerant=1\r\n\
exactarch = 1\r\n";
        // Two of the section's three key lines are spaced, so the new one is too.
        assert_eq!(text(&file), expected);
    }

    #[test]
    fn new_key_follows_spaced_style_of_section() {
        let original = "[base]\nname = Base\ngpgcheck = 1\n\n[updates]\nname=Updates\n";
        let mut file = IniFile::parse(original.as_bytes());
        assert!(file.set(b"base", b"enabled", b"0"));
        assert!(file.set(b"updates", b"enabled", b"0"));
        assert_eq!(
            text(&file),
            "[base]\nname = Base\ngpgcheck = 1\nenabled = 0\n\n[updates]\nname=Updates\n\
             enabled=0\n"
        );
    }

    #[test]
    fn new_section_follows_spaced_style_of_file() {
        let mut file = IniFile::parse(b"[base]\nname = Base\n");
        assert!(file.set(b"extras", b"enabled", b"0"));
        assert_eq!(
            file.to_bytes(),
            b"[base]\nname = Base\n\n[extras]\nenabled = 0\n"
        );
    }

    #[test]
    fn repo_file_enabled_set_in_one_section_only() {
        let mut file = IniFile::parse(MONASH_REPO.as_bytes());
        assert_eq!(
            file.sections(),
            vec![b"monashbase".to_vec(), b"monashupdates".to_vec()]
        );
        assert_eq!(file.get(b"monashbase", b"enabled"), Some(b"1".to_vec()));
        assert_eq!(file.get(b"monashupdates", b"enabled"), None);

        assert!(file.set(b"monashupdates", b"enabled", b"0"));
        assert_eq!(text(&file), format!("{MONASH_REPO}enabled=0\n"));
        assert!(!file.set(b"monashupdates", b"enabled", b"0"));

        assert!(file.set(b"monashbase", b"enabled", b"0"));
        assert_eq!(
            text(&file),
            format!("{MONASH_REPO}enabled=0\n").replace("enabled=1", "enabled=0")
        );
    }

    #[test]
    fn crlf_file_gets_crlf_for_new_lines() {
        let original = MONASH_REPO.replace('\n', "\r\n");
        let mut file = IniFile::parse(original.as_bytes());
        assert!(file.set(b"monashbase", b"exclude", b"kernel*"));
        assert!(file.set(b"local", b"enabled", b"0"));
        let expected = original.replace("enabled=1\r\n", "enabled=1\r\nexclude=kernel*\r\n")
            + "\r\n[local]\r\nenabled=0\r\n";
        assert_eq!(text(&file), expected);
    }

    #[test]
    fn multi_line_values_are_kept_and_not_keys() {
        let original = "\
[base]
baseurl=http://mirror.a/centos/4/os/
        http://mirror.b/centos/4/os/
# a comment inside the list

\tftp://mirror.c:21/centos/4/os/
gpgcheck=1
";
        let mut file = IniFile::parse(original.as_bytes());
        assert_eq!(file.to_bytes(), original.as_bytes());
        assert_eq!(
            file.get(b"base", b"baseurl"),
            Some(
                b"http://mirror.a/centos/4/os/\nhttp://mirror.b/centos/4/os/\n\
                  ftp://mirror.c:21/centos/4/os/"
                    .to_vec()
            )
        );
        assert_eq!(file.get(b"base", b"http"), None);
        assert_eq!(file.get(b"base", b"\tftp"), None);
        assert_eq!(file.get(b"base", b"gpgcheck"), Some(b"1".to_vec()));

        assert!(file.add_words(b"base", b"baseurl", &[b"http://mirror.d/"]));
        let added = original.replace(
            "\tftp://mirror.c:21/centos/4/os/\n",
            "\tftp://mirror.c:21/centos/4/os/ http://mirror.d/\n",
        );
        assert_eq!(text(&file), added);

        assert!(file.remove_words(b"base", b"baseurl", &[b"http://mirror.b/centos/4/os/"]));
        assert_eq!(
            text(&file),
            added.replace("        http://mirror.b/centos/4/os/\n", "")
        );

        assert!(file.set(b"base", b"baseurl", b"http://only/"));
        assert_eq!(
            text(&file),
            "[base]\nbaseurl=http://only/\n# a comment inside the list\n\ngpgcheck=1\n"
        );
    }

    #[test]
    fn new_key_goes_after_continuation_lines() {
        let mut file = IniFile::parse(b"[base]\nbaseurl=http://a/\n  http://b/\n\n[next]\n");
        assert!(file.set(b"base", b"enabled", b"1"));
        assert_eq!(
            file.to_bytes(),
            b"[base]\nbaseurl=http://a/\n  http://b/\nenabled=1\n\n[next]\n"
        );
    }

    #[test]
    fn new_key_does_not_swallow_indented_lines() {
        let mut file = IniFile::parse(b"[base]\n  # indented note\n\n[next]\n");
        assert!(file.set(b"base", b"enabled", b"1"));
        assert_eq!(
            file.to_bytes(),
            b"[base]\n  # indented note\nenabled=1\n\n[next]\n"
        );
        assert_eq!(file.get(b"base", b"enabled"), Some(b"1".to_vec()));
    }

    #[test]
    fn new_key_right_after_header_when_section_has_no_keys() {
        let mut file = IniFile::parse(b"[base]\n\n# about next\n[next]\nx=1\n");
        assert!(file.set(b"base", b"enabled", b"1"));
        assert_eq!(
            file.to_bytes(),
            b"[base]\nenabled=1\n\n# about next\n[next]\nx=1\n"
        );
    }

    #[test]
    fn keys_before_any_header_belong_to_empty_section() {
        let mut file = IniFile::parse(b"# top\nglobal=1\n[main]\nglobal=2\n");
        assert_eq!(file.get(b"", b"global"), Some(b"1".to_vec()));
        assert_eq!(file.get(b"main", b"global"), Some(b"2".to_vec()));
        assert!(file.set(b"", b"other", b"3"));
        assert_eq!(
            file.to_bytes(),
            b"# top\nglobal=1\nother=3\n[main]\nglobal=2\n"
        );
        assert_eq!(file.sections(), vec![b"main".to_vec()]);

        let mut file = IniFile::parse(b"[main]\n");
        assert!(file.set(b"", b"first", b"1"));
        assert_eq!(file.to_bytes(), b"first=1\n[main]\n");
    }

    #[test]
    fn keys_are_trimmed_and_case_sensitive() {
        let mut file = IniFile::parse(b"[main]\n  Enabled  =  1  \n");
        assert_eq!(file.get(b"main", b"Enabled"), Some(b"1".to_vec()));
        assert_eq!(file.get(b"main", b" Enabled "), Some(b"1".to_vec()));
        assert_eq!(file.get(b"main", b"enabled"), None);
        assert!(file.set(b"main", b"Enabled ", b" 0 "));
        assert_eq!(file.to_bytes(), b"[main]\n  Enabled  =  0  \n");
    }

    #[test]
    fn colon_delimiter_and_header_variants() {
        let mut file = IniFile::parse(b"  [main] ; the main section\ngpgcheck: 1\n[ spaced ]\n");
        assert_eq!(
            file.sections(),
            vec![b"main".to_vec(), b" spaced ".to_vec()]
        );
        assert_eq!(file.get(b"main", b"gpgcheck"), Some(b"1".to_vec()));
        assert!(file.set(b"main", b"gpgcheck", b"0"));
        assert_eq!(
            file.to_bytes(),
            b"  [main] ; the main section\ngpgcheck: 0\n[ spaced ]\n"
        );
    }

    #[test]
    fn indented_header_is_a_header_even_after_a_key() {
        let mut file = IniFile::parse(b" [main]\nbaseurl=http://a/\n  [other]\n  x=1\n");
        assert_eq!(file.sections(), vec![b"main".to_vec(), b"other".to_vec()]);
        assert_eq!(file.get(b"main", b"baseurl"), Some(b"http://a/".to_vec()));
        assert_eq!(file.get(b"other", b"x"), Some(b"1".to_vec()));
        assert!(file.set(b"", b"k", b"v"));
        assert_eq!(
            file.to_bytes(),
            b"k=v\n [main]\nbaseurl=http://a/\n  [other]\n  x=1\n"
        );
        assert_eq!(file.sections(), vec![b"main".to_vec(), b"other".to_vec()]);
    }

    #[test]
    fn setting_empty_value_drops_inline_comment() {
        let mut file = IniFile::parse(b"[main]\nexclude = kernel* ; no kernels\n");
        assert!(file.set(b"main", b"exclude", b""));
        assert_eq!(file.to_bytes(), b"[main]\nexclude = \n");
        assert_eq!(file.get(b"main", b"exclude"), Some(Vec::new()));
        assert!(!file.set(b"main", b"exclude", b""));
        // A `;` right at the start of a value is part of it, as in yum.
        let file = IniFile::parse(b"[main]\nname= ;semi\n");
        assert_eq!(file.get(b"main", b"name"), Some(b";semi".to_vec()));
    }

    #[test]
    fn remove_key_removes_every_occurrence_and_continuations() {
        let original = "[main]\nexclude=a\n  b\ngpgcheck=1\nexclude=c\n[other]\nexclude=d\n";
        let mut file = IniFile::parse(original.as_bytes());
        assert!(file.remove_key(b"main", b"exclude"));
        assert_eq!(text(&file), "[main]\ngpgcheck=1\n[other]\nexclude=d\n");
        assert_eq!(file.get(b"main", b"exclude"), None);
        assert!(!file.remove_key(b"main", b"exclude"));
    }

    #[test]
    fn unknown_and_non_utf8_lines_are_kept() {
        let original: &[u8] = b"garbage line\n[]\n[main\n=novalue\n[main]\nname=caf\xe9\n\xff";
        let mut file = IniFile::parse(original);
        assert_eq!(file.to_bytes(), original);
        assert_eq!(file.get(b"main", b"name"), Some(b"caf\xe9".to_vec()));
        assert_eq!(file.sections(), vec![b"main".to_vec()]);
        assert!(file.set(b"main", b"name", b"\xe9t\xe9"));
        assert_eq!(
            file.to_bytes(),
            b"garbage line\n[]\n[main\n=novalue\n[main]\nname=\xe9t\xe9\n\xff".to_vec()
        );
    }

    /// Random ini-like files from a few typical line shapes and terminators.
    fn ini_strategy() -> impl Strategy<Value = Vec<u8>> {
        let line = prop::sample::select(vec![
            "[a]",
            "[b]",
            " [a] ",
            "k=1",
            "k = 2",
            "j:3",
            "k=x y ; c",
            "  cont",
            "\tk=4",
            "# c",
            "; c",
            "",
            "  ",
            "junk",
            "[",
            "=",
            "j=",
        ]);
        let term = prop::sample::select(vec!["\n", "\r\n", ""]);
        prop::collection::vec((line, term), 0..12).prop_map(|parts| {
            parts
                .into_iter()
                .flat_map(|(l, t)| [l.as_bytes(), t.as_bytes()].concat())
                .collect()
        })
    }

    /// The values of the test keys other than `key` in `section`.
    fn other_values(file: &IniFile, section: &[u8], key: &[u8]) -> Vec<Option<Vec<u8>>> {
        [&b"k"[..], b"j", b"new"]
            .into_iter()
            .filter(|k| *k != key)
            .map(|k| file.get(section, k))
            .collect()
    }

    proptest! {
        #[test]
        fn parse_to_bytes_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut file = IniFile::parse(&bytes);
            prop_assert_eq!(file.to_bytes(), bytes);
            // Whatever the input, queries and edits must not panic.
            let _ = file.sections();
            let _ = file.get(b"a", b"k");
            file.add_words(b"a", b"k", &[b"w"]);
            file.remove_words(b"", b"k", &[b"w"]);
            file.set(b"", b"j", b"v");
            file.remove_key(b"a", b"k");
        }

        #[test]
        fn set_then_get_and_idempotent(
            bytes in ini_strategy(),
            section in prop::sample::select(vec!["", "a", "b", "c"]),
            key in prop::sample::select(vec!["k", "j", "new"]),
            value in prop::sample::select(vec!["", "1", "x y", "2"]),
        ) {
            let (s, k, v) = (section.as_bytes(), key.as_bytes(), value.as_bytes());
            let mut file = IniFile::parse(&bytes);
            let others = other_values(&file, s, k);
            file.set(s, k, v);
            let once = file.to_bytes();
            let reparsed = IniFile::parse(&once);
            prop_assert_eq!(reparsed.get(s, k), Some(v.to_vec()));
            prop_assert_eq!(other_values(&reparsed, s, k), others);
            prop_assert!(!file.set(s, k, v));
            prop_assert_eq!(file.to_bytes(), once);

            let mut sections = IniFile::parse(&bytes).sections();
            if !s.is_empty() && !sections.contains(&s.to_vec()) {
                sections.push(s.to_vec());
            }
            prop_assert_eq!(reparsed.sections(), sections);

            prop_assert!(file.remove_key(s, k));
            prop_assert_eq!(IniFile::parse(&file.to_bytes()).get(s, k), None);
        }

        #[test]
        fn add_words_idempotent_and_other_keys_untouched(
            bytes in ini_strategy(),
            section in prop::sample::select(vec!["", "a", "b", "c"]),
            key in prop::sample::select(vec!["k", "j", "new"]),
            words in prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 0..3),
        ) {
            let (s, k) = (section.as_bytes(), key.as_bytes());
            let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            let mut file = IniFile::parse(&bytes);
            let others = other_values(&file, s, k);
            file.add_words(s, k, &words);
            let reparsed = IniFile::parse(&file.to_bytes());
            prop_assert_eq!(other_values(&reparsed, s, k), others);
            match reparsed.get(s, k) {
                Some(value) => {
                    let have: Vec<&[u8]> = split_words(&value).collect();
                    prop_assert!(words.iter().all(|w| have.contains(w)));
                }
                None => prop_assert!(words.is_empty()),
            }
            prop_assert!(!reparsed.clone().add_words(s, k, &words));
            prop_assert!(!file.add_words(s, k, &words));
            prop_assert_eq!(file.remove_words(s, k, &words), !words.is_empty());
            prop_assert!(!file.remove_words(s, k, &words));
        }
    }
}
