//! Lossless editor for line-oriented config files such as `/etc/inittab` and `/etc/securetty`.
//!
//! A file is held as a list of lines, each keeping its own terminator (`\n`, `\r\n`, or
//! none for a final unterminated line), so [`LineFile::to_bytes`] gives back the parsed
//! bytes exactly and an edit changes only the lines it is about. Everything works on bytes:
//! config files need not be UTF-8.
//!
//! Rules for new and changed lines:
//! - A line "matches" a regex when the regex matches its content without the terminator.
//! - A new line gets the file's dominant terminator: `\r\n` if most terminated lines use
//!   `\r\n`, otherwise `\n` (so an empty file or a tie gets `\n`).
//! - A new line in the middle of the file always gets the dominant terminator.
//! - Adding a line after a final line that has no terminator gives that line the dominant
//!   terminator (a line ending in `\r` that gets `\n` is then held as ending in `\r\n`, as
//!   it reads back) and leaves the new last line unterminated: a missing final newline stays
//!   missing. Appending to an empty file gives `line\n`. The one exception: an empty new
//!   line after an unterminated last line gets the dominant terminator, because an empty
//!   unterminated line would not exist when the file is read back.
//! - Replacing a line keeps that line's terminator, also when it has none (except, for the
//!   same reason, when the new content is empty).
//! - Removing lines never changes the bytes of the other lines (removing an unterminated
//!   last line leaves the file ending with the previous line's terminator).
//! - The wanted line must not contain `\n` or `\r`: it is written as given, and such a line
//!   would not read back as one line, so later runs could not recognise it.

use regex::bytes::Regex;

use super::text::{self, Line, Terminator};

#[cfg(test)]
mod tests;

/// A line-oriented file that can be edited without disturbing the bytes of untouched lines,
/// so that vmup only changes what it has to on a remote machine.
///
/// Invariant: only the last line may have no terminator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineFile {
    lines: Vec<Line>,
}

/// What [`LineFile::ensure_present`] should make true: the wanted line, how to recognise an
/// older version of it, and where to put it when it is new.
#[derive(Debug, Clone, Copy)]
pub struct LineEdit<'a> {
    /// The wanted line, without terminator.
    pub line: &'a [u8],
    /// Regex identifying "this line" (an older version to replace); `None` means only a line
    /// equal to `line` counts.
    pub matcher: Option<&'a Regex>,
    /// Where a new line goes; `None` appends it at the end of the file.
    pub insert: Option<Insert<'a>>,
    /// When the insert anchor matches no line, append at the end instead of failing.
    pub or_append: bool,
}

/// Where a new line goes relative to an anchor line, so that order-sensitive files
/// (e.g. inittab's getty lines) get new lines in a sensible place.
#[derive(Debug, Clone, Copy)]
pub struct Insert<'a> {
    /// Before or after the anchor line.
    pub position: Position,
    /// Regex identifying the anchor line.
    pub anchor: &'a Regex,
    /// Which anchor line to use when several match.
    pub which: Anchor,
}

/// Side of the anchor line on which a new line is inserted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Directly before the anchor line.
    Before,
    /// Directly after the anchor line.
    After,
}

/// Which of several lines matching the anchor is used, since anchors often match a group
/// of similar lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The first matching line in the file.
    First,
    /// The last matching line in the file.
    Last,
}

/// What [`LineFile::ensure_present`] did, so callers can report a change or no change.
/// Line numbers are 1-based and count lines of the file after the edit.
#[derive(Debug, PartialEq, Eq)]
pub enum LineOutcome {
    /// A line equal to the wanted line was already there; nothing changed.
    AlreadyPresent,
    /// The last line matching the matcher was replaced in place.
    Replaced {
        /// Number of the replaced line.
        line_no: usize,
    },
    /// The line was inserted next to its anchor.
    Inserted {
        /// Number of the new line.
        line_no: usize,
    },
    /// The line was appended at the end of the file.
    Appended {
        /// Number of the new line.
        line_no: usize,
    },
}

/// Why [`LineFile::ensure_present`] refused to edit, so the caller can tell the user which
/// anchor was not found.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LineError {
    /// No line matches the insert anchor and `or_append` is false; the file is unchanged.
    #[error("no line matches the anchor /{0}/")]
    AnchorMissing(String),
}

impl LineFile {
    /// Splits bytes into lines. Never fails, and `to_bytes` gives back exactly `bytes`, so
    /// any file can be edited without risk of mangling it.
    pub fn parse(bytes: &[u8]) -> LineFile {
        let lines = text::split(bytes);
        LineFile { lines }
    }

    /// Serialises the file, so the edited result can be written back to disk.
    pub fn to_bytes(&self) -> Vec<u8> {
        text::join(&self.lines)
    }

    /// Makes sure the wanted line is in the file, idempotently: running it again changes
    /// nothing. In order:
    /// 1. a line equal to `edit.line` exists anywhere: [`LineOutcome::AlreadyPresent`], no
    ///    change (the line is never moved or duplicated);
    /// 2. lines match `edit.matcher`: the last of them gets the content `edit.line`, keeping
    ///    its terminator; other matching lines are left alone;
    /// 3. otherwise a new line goes next to the anchor of `edit.insert`, or at the end when
    ///    there is no `insert`. When no line matches the anchor, the line is appended if
    ///    `edit.or_append`, else [`LineError::AnchorMissing`] is returned and nothing changes.
    pub fn ensure_present(&mut self, edit: &LineEdit<'_>) -> Result<LineOutcome, LineError> {
        if self.lines.iter().any(|l| l.content == edit.line) {
            return Ok(LineOutcome::AlreadyPresent);
        }
        let replaced = edit.matcher.and_then(|matcher| {
            self.lines
                .iter()
                .rposition(|l| matcher.is_match(&l.content))
        });
        if let Some(i) = replaced {
            let dominant = self.dominant_terminator();
            let line = &mut self.lines[i];
            line.content = edit.line.to_vec();
            // An empty unterminated last line would vanish when read back, so it gets one.
            if line.content.is_empty() {
                line.terminate(dominant);
            }
            return Ok(LineOutcome::Replaced { line_no: i + 1 });
        }
        let Some(insert) = &edit.insert else {
            return Ok(self.append(edit.line));
        };
        match self.anchor_index(insert) {
            Some(i) => {
                let at = match insert.position {
                    Position::Before => i,
                    Position::After => i + 1,
                };
                self.insert_line(at, edit.line);
                Ok(LineOutcome::Inserted { line_no: at + 1 })
            }
            None if edit.or_append => Ok(self.append(edit.line)),
            None => Err(LineError::AnchorMissing(insert.anchor.as_str().to_owned())),
        }
    }

    /// Removes every line matching `matcher` and returns how many were removed, so a line
    /// can be made absent however often it was written. The other lines keep their bytes.
    pub fn ensure_absent(&mut self, matcher: &Regex) -> usize {
        let before = self.lines.len();
        self.lines.retain(|l| !matcher.is_match(&l.content));
        before - self.lines.len()
    }

    /// Index of the first or last line matching the anchor.
    fn anchor_index(&self, insert: &Insert<'_>) -> Option<usize> {
        let mut matching = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| insert.anchor.is_match(&l.content))
            .map(|(i, _)| i);
        match insert.which {
            Anchor::First => matching.next(),
            Anchor::Last => matching.next_back(),
        }
    }

    /// Adds a line at the end of the file.
    fn append(&mut self, content: &[u8]) -> LineOutcome {
        let at = self.lines.len();
        self.insert_line(at, content);
        LineOutcome::Appended { line_no: at + 1 }
    }

    /// Inserts a line so that it becomes line index `at`, following the terminator rules in
    /// the module doc.
    fn insert_line(&mut self, at: usize, content: &[u8]) {
        let dominant = self.dominant_terminator();
        let mut terminator = dominant;
        let at_end = at == self.lines.len();
        if let Some(last) = self
            .lines
            .last_mut()
            .filter(|last| at_end && last.terminator == Terminator::Missing)
        {
            last.terminate(dominant);
            // An empty unterminated last line would be no line at all, so it keeps one.
            if !content.is_empty() {
                terminator = Terminator::Missing;
            }
        }
        self.lines.insert(
            at,
            Line {
                content: content.to_vec(),
                terminator,
            },
        );
    }

    /// `\r\n` if most terminated lines use it, else `\n`.
    fn dominant_terminator(&self) -> Terminator {
        text::dominant_terminator(&self.lines)
    }
}
