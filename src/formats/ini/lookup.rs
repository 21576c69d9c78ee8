//! Which lines the readers use for a key: every line classified in its section, the
//! occurrences of a key, and the ones yum (ConfigParser, iniparse) and dnf (libdnf) read.

use std::ops::Range;

use super::IniFile;
use super::classify::{Kind, classify};
use super::words::split_words;

/// The section whose keys yum reads in every other section that lacks them (Python 2's
/// `DEFAULTSECT`; iniparse's `INISection._defaults`). libdnf gives it no such meaning.
pub(super) const DEFAULT_SECTION: &[u8] = b"DEFAULT";

/// A line's kind and the section it belongs to (a header belongs to the section it opens).
pub(super) struct Parsed<'a> {
    pub(super) section: &'a [u8],
    pub(super) kind: Kind,
}

/// One piece of a value: the line it is on, where the value sits in that line, and where an
/// inline comment starts (key lines only).
#[derive(Debug, Clone)]
pub(super) struct Piece {
    pub(super) line: usize,
    pub(super) value: Range<usize>,
    pub(super) comment: Option<usize>,
}

/// One occurrence of a key in a section: its value pieces (the key line's first, then its
/// continuation lines), and where the key's spelling sits on the key line.
#[derive(Debug, Clone)]
struct Occurrence {
    pieces: Vec<Piece>,
    key: Range<usize>,
}

impl IniFile {
    /// Classifies every line, tracking sections and whether a key line came before
    /// (which makes indented lines continuations).
    pub(super) fn analyze(&self) -> Vec<Parsed<'_>> {
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

    /// Whether `section` has a header (section `""` never has one).
    pub(super) fn has_header(&self, section: &[u8]) -> bool {
        self.analyze()
            .iter()
            .any(|p| matches!(p.kind, Kind::Header { .. }) && p.section == section)
    }

    /// Every occurrence of `key` in `section`, in file order. Names match ignoring ASCII
    /// case, as yum reads them: ConfigParser and iniparse both pass every option name
    /// through `optionxform`, which is `str.lower`. Section names match exactly.
    fn occurrences(&self, section: &[u8], key: &[u8]) -> Vec<Occurrence> {
        let mut found: Vec<Occurrence> = Vec::new();
        // Whether the latest key line is one of ours, so its continuations are too.
        let mut in_ours = false;
        for (i, parsed) in self.analyze().into_iter().enumerate() {
            match parsed.kind {
                Kind::Header { .. } => in_ours = false,
                Kind::Entry {
                    key: k,
                    value,
                    comment,
                    ..
                } => {
                    in_ours = parsed.section == section
                        && self.lines[i].content[k.clone()].eq_ignore_ascii_case(key);
                    if in_ours {
                        let pieces = vec![Piece {
                            line: i,
                            value,
                            comment,
                        }];
                        found.push(Occurrence { pieces, key: k });
                    }
                }
                Kind::Continuation { value } if in_ours => {
                    if let Some(occurrence) = found.last_mut() {
                        let piece = Piece {
                            line: i,
                            value,
                            comment: None,
                        };
                        occurrence.pieces.push(piece);
                    }
                }
                _ => {}
            }
        }
        found
    }

    /// Whether an occurrence's key is spelled exactly `key`.
    fn is_exact(&self, occurrence: &Occurrence, key: &[u8]) -> bool {
        let line = occurrence.pieces[0].line;
        self.lines[line].content[occurrence.key.clone()] == *key
    }

    /// Each occurrence of `key` in `section`, as value pieces: what `remove_key` removes.
    pub(super) fn all_pieces(&self, section: &[u8], key: &[u8]) -> Vec<Vec<Piece>> {
        let occurrences = self.occurrences(section, key);
        occurrences.into_iter().map(|o| o.pieces).collect()
    }

    /// The occurrences of `key` in `section` that a reader uses, the later first: yum's,
    /// the last in any case (a later duplicate wins in ConfigParser, iniparse and libdnf
    /// alike), and dnf's, the last spelled exactly `key` (libdnf's `ConfigParser` keeps
    /// names as written and dnf's `_populate` looks them up as they are), when that is
    /// another one. Empty when the section has no such key.
    pub(super) fn targets(&self, section: &[u8], key: &[u8]) -> Vec<Vec<Piece>> {
        let mut occurrences = self.occurrences(section, key);
        let exact = occurrences.iter().rposition(|o| self.is_exact(o, key));
        let Some(yum) = occurrences.pop() else {
            return Vec::new();
        };
        let mut targets = vec![yum.pieces];
        if let Some(dnf) = exact.filter(|&i| i < occurrences.len()) {
            targets.push(occurrences.swap_remove(dnf).pieces);
        }
        targets
    }

    /// Where yum takes `key` of `section` from when the section lacks it: `[DEFAULT]`'s
    /// last occurrence, for a section that has a header (Python 2's `get` raises
    /// `NoSectionError` for any other; iniparse's `INISection` looks in its `_defaults`).
    pub(super) fn inherited(&self, section: &[u8], key: &[u8]) -> Option<Vec<Piece>> {
        if section == DEFAULT_SECTION || !self.has_header(section) {
            return None;
        }
        self.occurrences(DEFAULT_SECTION, key)
            .pop()
            .map(|o| o.pieces)
    }

    /// The pieces yum reads for `key` in `section`: the section's own last occurrence, else
    /// the one it inherits from `[DEFAULT]`.
    pub(super) fn read(&self, section: &[u8], key: &[u8]) -> Option<Vec<Piece>> {
        match self.occurrences(section, key).pop() {
            Some(occurrence) => Some(occurrence.pieces),
            None => self.inherited(section, key),
        }
    }

    /// How the key is spelled on yum's line when no line of the section spells it exactly.
    pub(super) fn other_spelling(&self, section: &[u8], key: &[u8]) -> Option<Vec<u8>> {
        let occurrences = self.occurrences(section, key);
        if occurrences.iter().any(|o| self.is_exact(o, key)) {
            return None;
        }
        let last = occurrences.last()?;
        Some(self.lines[last.pieces[0].line].content[last.key.clone()].to_vec())
    }

    pub(super) fn piece_value(&self, piece: &Piece) -> &[u8] {
        &self.lines[piece.line].content[piece.value.clone()]
    }

    /// A value as yum gives it: its pieces joined by `\n`, as ConfigParser joins them.
    pub(super) fn joined(&self, pieces: &[Piece]) -> Vec<u8> {
        let values: Vec<&[u8]> = pieces.iter().map(|p| self.piece_value(p)).collect();
        values.join(&b'\n')
    }

    /// The words of a value, over all its pieces.
    pub(super) fn words_of(&self, pieces: &[Piece]) -> Vec<&[u8]> {
        pieces
            .iter()
            .flat_map(|p| split_words(self.piece_value(p)))
            .collect()
    }
}
