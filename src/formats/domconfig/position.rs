//! Positions in a domain config's source: byte offsets to 1-based lines and columns, for
//! settings and error messages, and safe slicing helpers shared by both dialects' readers.

use std::ops::Range;

use super::ParseError;

/// Byte offset to 1-based line and character column.
pub(super) struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { src, starts }
    }

    pub(super) fn pos(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .src
            .get(start..offset)
            .map_or(offset.saturating_sub(start), |t| t.chars().count())
            + 1;
        (line, column)
    }

    pub(super) fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.pos(offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

pub(super) fn text(src: &str, range: Range<usize>) -> &str {
    src.get(range).unwrap_or_default()
}

/// The character starting at `offset`, for messages.
pub(super) fn char_at(src: &str, offset: usize) -> char {
    src.get(offset..)
        .and_then(|t| t.chars().next())
        .unwrap_or('\u{fffd}')
}
