//! Errors that point into the user's own files as `file:line:column`.
//!
//! Inventories and runbooks are TOML; every problem found in them, whether by the TOML
//! parser or by vmup's own checks afterwards, is reported against the byte span of the
//! offending value, turned here into a line and column a person can jump to.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem at a place in a user's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when the file itself is the problem, e.g. unreadable).
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl SourceError {
    /// An error at byte offset `span.start` of `text`.
    pub fn at(
        file: &Path,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> SourceError {
        let (line, column) = line_col(text, span.start);
        SourceError {
            file: file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error about the file as a whole.
    pub fn file(file: &Path, message: impl Into<String>) -> SourceError {
        SourceError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            message: message.into(),
        }
    }

    /// Converts a TOML parse error, keeping its position and its first message line.
    pub fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> SourceError {
        let message = err.message().trim().to_string();
        match err.span() {
            Some(span) => SourceError::at(file, text, span, message),
            None => SourceError::file(file, message),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for SourceError {}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Reads a user's file as UTF-8 text, with an error naming it.
pub fn read_text(file: &Path) -> Result<String, SourceError> {
    let bytes =
        std::fs::read(file).map_err(|e| SourceError::file(file, format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        SourceError::at(file, &text, offset..offset, "not valid UTF-8")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("é\nx", 3), (2, 1));
    }
}
