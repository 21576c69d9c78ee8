//! Lines with their own terminators: the lossless base of every line-oriented editor.
//!
//! Splitting keeps each line's ending (`\n`, `\r\n`, or none for a last unterminated line),
//! so joining gives back exactly the bytes that were split, whatever they were.

/// How one line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Terminator {
    /// The last line of a file without a final newline.
    Missing,
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
}

impl Terminator {
    /// The bytes of the ending.
    pub(crate) fn as_bytes(self) -> &'static [u8] {
        match self {
            Terminator::Missing => b"",
            Terminator::Lf => b"\n",
            Terminator::CrLf => b"\r\n",
        }
    }
}

/// One line: its content without the terminator, and the terminator itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The line's bytes without its ending.
    pub(crate) content: Vec<u8>,
    /// How it ends.
    pub(crate) terminator: Terminator,
}

impl Line {
    /// Gives an unterminated line the terminator `terminator`, so that a line can follow
    /// it. A content ending in `\r` that gets `\n` then ends in `\r\n`, which reads back as
    /// a `\r\n` terminator: the `\r` moves into it, so the line is held as it reads back.
    pub(crate) fn terminate(&mut self, terminator: Terminator) {
        if self.terminator != Terminator::Missing {
            return;
        }
        self.terminator = terminator;
        self.settle();
    }

    /// Holds the line as its bytes read back after its content changed: a content ending
    /// in `\r` before a `\n` terminator reads back as a `\r\n` terminator, so the `\r`
    /// moves into it. The bytes stay the same.
    pub(crate) fn settle(&mut self) {
        if self.terminator == Terminator::Lf && self.content.last() == Some(&b'\r') {
            self.content.pop();
            self.terminator = Terminator::CrLf;
        }
    }
}

/// Splits bytes into lines; [`join`] gives back exactly `bytes`.
pub(crate) fn split(bytes: &[u8]) -> Vec<Line> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|chunk| {
            let (content, terminator) = if let Some(c) = chunk.strip_suffix(b"\r\n") {
                (c, Terminator::CrLf)
            } else if let Some(c) = chunk.strip_suffix(b"\n") {
                (c, Terminator::Lf)
            } else {
                (chunk, Terminator::Missing)
            };
            Line {
                content: content.to_vec(),
                terminator,
            }
        })
        .collect()
}

/// Joins lines back into bytes.
pub(crate) fn join(lines: &[Line]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(&line.content);
        out.extend_from_slice(line.terminator.as_bytes());
    }
    out
}

/// `\r\n` if most terminated lines use it, else `\n`: the ending new lines get.
pub(crate) fn dominant_terminator(lines: &[Line]) -> Terminator {
    let count = |t| lines.iter().filter(|l| l.terminator == t).count();
    if count(Terminator::CrLf) > count(Terminator::Lf) {
        Terminator::CrLf
    } else {
        Terminator::Lf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_join_round_trips_mixed_endings() {
        let bytes = b"a\r\nb\n\nc";
        let lines = split(bytes);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[3].terminator, Terminator::Missing);
        assert_eq!(join(&lines), bytes.to_vec());
        assert_eq!(dominant_terminator(&lines), Terminator::Lf);
    }
}
