//! How edits are written: values replaced in place, lines removed, and new key lines and
//! sections placed and spaced like the rest of the file.

use super::IniFile;
use super::classify::Kind;
use super::lookup::{Parsed, Piece};
use crate::formats::text::{self, Line, Terminator};

impl IniFile {
    /// Writes `value` over a piece. An inline comment on the line moves to a comment line of
    /// its own right above it (first column, same text): libdnf knows no inline comments
    /// and would read `key=v ; note` as the value `v ; note`, so the line vmup writes must
    /// not have one. Anything else on the line stays as it was.
    pub(super) fn replace_value(&mut self, piece: &Piece, value: &[u8]) {
        let content = &mut self.lines[piece.line].content;
        match piece.comment {
            Some(start) => {
                let comment = content[start..].to_vec();
                content.truncate(piece.value.start);
                content.extend_from_slice(value);
                self.insert_line(piece.line, comment);
            }
            None => {
                content.splice(piece.value.clone(), value.iter().copied());
            }
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
