//! How edits are written: values replaced in place, lines removed, and new key lines and
//! sections placed and spaced like the rest of the file.

use super::classify::Kind;
use super::lookup::{Parsed, Piece};
use super::{IniError, IniFile, check_one_line, comment_problem};
use crate::formats::text::{self, Line, Terminator};

/// What an edit writes over one occurrence of a key: planned first, for every occurrence,
/// so that an edit refused for one of them has written nothing; then written with
/// [`IniFile::rewrite`].
pub(super) struct Rewrite {
    /// The occurrence's pieces, the key line's first, as they were when it was planned.
    pieces: Vec<Piece>,
    how: How,
}

enum How {
    /// New values for some pieces, by index into `pieces`; `None` removes the piece's line
    /// (a continuation line left empty).
    InPlace(Vec<(usize, Option<Vec<u8>>)>),
    /// The whole value on the key line, its continuation lines removed (as `set` writes).
    OneLine(Vec<u8>),
}

impl Rewrite {
    /// `value` on the key line of the occurrence, its continuation lines removed.
    pub(super) fn one_line(pieces: Vec<Piece>, value: Vec<u8>) -> Rewrite {
        let how = How::OneLine(value);
        Rewrite { pieces, how }
    }
}

/// Whether `value`, written over piece `n` of an occurrence (0: the key line), reads back
/// as that piece's value and nothing else.
///
/// A continuation line must not start with `[`: libdnf ends a value at an indented line
/// whose text starts with `[` and reads it as a section header (or rejects the whole file
/// when it is not one), and `classify`, reading as libdnf does, takes it for a header once
/// it holds a `]` (`  [x` plus the word `]` would become the header `  [x ]`; `\ta [0]`
/// without `a`, the header `\t[0]`), which also moves the keys after it to that section.
/// Python 2 and iniparse read it as a continuation. A key line stays one whatever its value
/// holds, but must not gain an inline comment (`k=w x;y ;z` without `x;y` would read `w`).
fn fits_in_place(n: usize, value: &[u8]) -> bool {
    match n {
        0 => comment_problem(value).is_none(),
        _ => !value.starts_with(b"["),
    }
}

impl IniFile {
    /// Plans writing `edits` (new values by piece index, `None` removing a continuation
    /// line) over the occurrence `pieces`, whose words are then `words`. In place when
    /// every line written reads back as the piece it is (see [`fits_in_place`]); else the
    /// value goes on the key line alone, its words joined by a space, which every reader
    /// reads as the same list of words (yum and dnf split list options on whitespace, line
    /// breaks included).
    ///
    /// # Errors
    ///
    /// [`IniError::Value`] when the value does not fit on one key line either: a word
    /// starting with `;` after another word would start an inline comment there.
    pub(super) fn plan_rewrite(
        &self,
        pieces: Vec<Piece>,
        edits: Vec<(usize, Option<Vec<u8>>)>,
        words: &[&[u8]],
    ) -> Result<Rewrite, IniError> {
        let in_place = edits
            .iter()
            .all(|(n, value)| value.as_ref().is_none_or(|v| fits_in_place(*n, v)));
        if in_place {
            let how = How::InPlace(edits);
            return Ok(Rewrite { pieces, how });
        }
        let value = words.join(&b' ');
        check_one_line(&value)?;
        Ok(Rewrite::one_line(pieces, value))
    }

    /// Writes a planned [`Rewrite`]. Rewrites of several occurrences go later occurrence
    /// first (as [`IniFile::targets`] lists them), so that the lines one removes or inserts
    /// leave the indices of those still to do as they are.
    pub(super) fn rewrite(&mut self, rewrite: Rewrite) {
        let Rewrite { pieces, how } = rewrite;
        match how {
            How::InPlace(mut edits) => {
                // From the last piece back, for the same reason.
                edits.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
                for (n, value) in edits {
                    match value {
                        Some(value) => self.replace_value(&pieces[n], &value),
                        None => self.remove_lines(&[pieces[n].line]),
                    }
                }
            }
            How::OneLine(value) => {
                let continuations: Vec<usize> = pieces[1..].iter().map(|p| p.line).collect();
                self.remove_lines(&continuations);
                self.replace_value(&pieces[0], &value);
            }
        }
    }

    /// Writes `value` over a piece. An inline comment on the line moves to a comment line of
    /// its own right above it (first column, same text): libdnf knows no inline comments
    /// and would read `key=v ; note` as the value `v ; note`, so the line vmup writes must
    /// not have one. Anything else on the line stays as it was.
    ///
    /// The whitespace before a value may hold a `\r` (`k=\r1`): with the value emptied the
    /// line ends in it, and since `\r\n` reads back as a terminator, the line is then held
    /// that way ([`Line::settle`]), as for a line that gets a terminator.
    pub(super) fn replace_value(&mut self, piece: &Piece, value: &[u8]) {
        let line = &mut self.lines[piece.line];
        let comment = match piece.comment {
            Some(start) => {
                let comment = line.content.split_off(start);
                line.content.truncate(piece.value.start);
                line.content.extend_from_slice(value);
                Some(comment)
            }
            None => {
                line.content
                    .splice(piece.value.clone(), value.iter().copied());
                None
            }
        };
        line.settle();
        if let Some(comment) = comment {
            self.insert_line(piece.line, comment);
        }
    }

    /// Removes the lines at the given ascending indices.
    pub(super) fn remove_lines(&mut self, ascending: &[usize]) {
        for &i in ascending.iter().rev() {
            self.lines.remove(i);
        }
    }

    /// Writes a new key line into `section`, creating the section if needed.
    pub(super) fn add_entry(&mut self, section: &[u8], key: &[u8], value: &[u8]) {
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
    /// last line if the new line goes at the end. Both go through [`Line::terminate`]: a
    /// content ending in `\r` that gets `\n` ends in `\r\n`, which reads back as a `\r\n`
    /// terminator, so the line is held that way (the file equals `parse(to_bytes())`).
    fn insert_line(&mut self, at: usize, content: Vec<u8>) {
        let terminator = text::dominant_terminator(&self.lines);
        if at == self.lines.len()
            && let Some(last) = self.lines.last_mut()
        {
            last.terminate(terminator);
        }
        let mut line = Line {
            content,
            terminator: Terminator::Missing,
        };
        line.terminate(terminator);
        self.lines.insert(at, line);
    }
}
