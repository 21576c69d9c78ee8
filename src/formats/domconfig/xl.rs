//! The xl dialect (`xl.cfg(5)`, as libxlu parses it): a lexer and parser that produce the
//! file's settings with their spans, the libxlu rules for combining `+=` assignments, and
//! [`quote_xl_string`] for writing new string values back.

use super::position::{LineIndex, char_at, text};
use super::pyliteral::is_keyword;
use super::{AssignOp, Effective, MAX_DEPTH, ParseError, Setting, Value};

/// Appended to xl errors that suggest the file is really an xm (Python) config.
const PYTHON_HINT: &str = " (this looks like Python, which xl does not run; is it an xm config?)";

/// Writes `s` as a double-quoted xl string literal that both this parser and xl read
/// back as exactly `s`.
///
/// Exists for the write side: new kernel paths and command lines must be quoted. Only
/// `\\`, `\"` and the letter escapes (`\n`, `\t`, `\r`, `\a`, `\b`, `\f`, `\v`) are used,
/// because libxlu mishandles numeric escapes; every other character is written as is. A
/// NUL (which xl cannot represent) becomes `\x00`, which this parser reads back and xl
/// rejects loudly rather than truncating the string.
pub fn quote_xl_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\0' => out.push_str("\\x00"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[derive(Debug, Clone, PartialEq)]
enum XlKind {
    Ident,
    Number,
    /// Decoded string; `None` when the decoded bytes are not UTF-8.
    Str(Option<String>),
    Eq,
    PlusEq,
    LBracket,
    RBracket,
    Comma,
    Semi,
    /// A newline, or a comment together with its newline.
    Newline,
    Eof,
}

#[derive(Debug, Clone)]
struct XlTok {
    kind: XlKind,
    start: usize,
    end: usize,
}

struct XlLexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    lines: &'a LineIndex<'a>,
}

impl<'a> XlLexer<'a> {
    fn tok(&self, kind: XlKind, start: usize) -> XlTok {
        XlTok {
            kind,
            start,
            end: self.pos,
        }
    }

    fn next(&mut self) -> Result<XlTok, ParseError> {
        while matches!(self.bytes.get(self.pos), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = self.bytes.get(start) else {
            return Ok(self.tok(XlKind::Eof, start));
        };
        self.pos += 1;
        let kind = match c {
            b'\n' => XlKind::Newline,
            b'#' => {
                while let Some(&b) = self.bytes.get(self.pos) {
                    self.pos += 1;
                    if b == b'\n' {
                        break;
                    }
                }
                XlKind::Newline
            }
            b'=' => XlKind::Eq,
            b'+' if self.bytes.get(self.pos) == Some(&b'=') => {
                self.pos += 1;
                XlKind::PlusEq
            }
            b'[' => XlKind::LBracket,
            b']' => XlKind::RBracket,
            b',' => XlKind::Comma,
            b';' => XlKind::Semi,
            b'\'' | b'"' => return self.string(c, start),
            b'0'..=b'9' => {
                // libxlu: [0-9][0-9a-fx]*
                while matches!(
                    self.bytes.get(self.pos),
                    Some(b'0'..=b'9' | b'a'..=b'f' | b'x')
                ) {
                    self.pos += 1;
                }
                XlKind::Number
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while matches!(self.bytes.get(self.pos), Some(b) if b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
                {
                    self.pos += 1;
                }
                XlKind::Ident
            }
            b'\r' => {
                return Err(self.lines.error(
                    start,
                    "carriage return: xl does not accept CRLF (DOS) line endings",
                ));
            }
            _ => {
                let ch = char_at(self.src, start);
                let hint = if "+-.():".contains(ch) {
                    PYTHON_HINT
                } else {
                    ""
                };
                return Err(self
                    .lines
                    .error(start, format!("unexpected character `{ch}`{hint}")));
            }
        };
        Ok(self.tok(kind, start))
    }

    fn string(&mut self, quote: u8, start: usize) -> Result<XlTok, ParseError> {
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(self.lines.error(start, "unterminated string"));
            };
            if b == b'\n' {
                return Err(self.lines.error(start, "unterminated string"));
            }
            self.pos += 1;
            if b == quote {
                break;
            }
            if b != b'\\' {
                out.push(b);
                continue;
            }
            let esc_at = self.pos - 1;
            let Some(&e) = self.bytes.get(self.pos) else {
                return Err(self.lines.error(start, "unterminated string"));
            };
            if e == b'\n' {
                return Err(self.lines.error(start, "unterminated string"));
            }
            self.pos += 1;
            match e {
                b'"' | b'\'' | b'\\' => out.push(e),
                b'a' => out.push(0x07),
                b'b' => out.push(0x08),
                b'f' => out.push(0x0c),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'v' => out.push(0x0b),
                b'x' => {
                    let hex = self.bytes.get(self.pos..self.pos + 2);
                    let value = hex
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()))
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    let Some(value) = value else {
                        return Err(self
                            .lines
                            .error(esc_at, "`\\x` must be followed by two hex digits"));
                    };
                    self.pos += 2;
                    out.push(value);
                }
                b'0'..=b'7' => {
                    let mut value = u32::from(e - b'0');
                    for _ in 0..2 {
                        match self.bytes.get(self.pos) {
                            Some(&d @ b'0'..=b'7') => {
                                value = value * 8 + u32::from(d - b'0');
                                self.pos += 1;
                            }
                            _ => break,
                        }
                    }
                    let Ok(byte) = u8::try_from(value) else {
                        return Err(self
                            .lines
                            .error(esc_at, "octal escape is larger than `\\377`"));
                    };
                    out.push(byte);
                }
                _ => {
                    let ch = char_at(self.src, self.pos - 1);
                    return Err(self
                        .lines
                        .error(esc_at, format!("invalid escape `\\{ch}` in string")));
                }
            }
        }
        let value = String::from_utf8(out).ok();
        Ok(self.tok(XlKind::Str(value), start))
    }
}

pub(super) struct XlParser<'a> {
    lexer: XlLexer<'a>,
}

impl<'a> XlParser<'a> {
    pub(super) fn new(src: &'a str, lines: &'a LineIndex<'a>) -> Self {
        XlParser {
            lexer: XlLexer {
                src,
                bytes: src.as_bytes(),
                pos: 0,
                lines,
            },
        }
    }

    fn err(&self, offset: usize, message: impl Into<String>) -> ParseError {
        self.lexer.lines.error(offset, message)
    }

    fn next_skipping_newlines(&mut self) -> Result<XlTok, ParseError> {
        loop {
            let t = self.lexer.next()?;
            if t.kind != XlKind::Newline {
                return Ok(t);
            }
        }
    }

    pub(super) fn parse(mut self) -> Result<Vec<Setting>, ParseError> {
        let mut settings = Vec::new();
        loop {
            let t = self.lexer.next()?;
            match t.kind {
                XlKind::Eof => return Ok(settings),
                XlKind::Newline | XlKind::Semi => continue,
                XlKind::Ident => settings.push(self.assignment(t)?),
                _ => return Err(self.err(t.start, "expected a setting name")),
            }
        }
    }

    fn assignment(&mut self, name: XlTok) -> Result<Setting, ParseError> {
        let src = self.lexer.src;
        let name_text = text(src, name.start..name.end).to_string();
        let op_tok = self.lexer.next()?;
        let op = match op_tok.kind {
            XlKind::Eq => AssignOp::Set,
            XlKind::PlusEq => AssignOp::Append,
            _ => {
                let hint = if is_keyword(&name_text) {
                    PYTHON_HINT
                } else {
                    ""
                };
                return Err(self.err(
                    op_tok.start,
                    format!("expected `=` or `+=` after `{name_text}`{hint}"),
                ));
            }
        };
        let first = self.lexer.next()?;
        let value_start = first.start;
        let (value, value_end) = self.value(first, 0)?;
        let end = self.lexer.next()?;
        if !matches!(end.kind, XlKind::Newline | XlKind::Semi | XlKind::Eof) {
            return Err(self.err(
                end.start,
                format!("expected end of line or `;` after the value of `{name_text}`"),
            ));
        }
        let (line, column) = self.lexer.lines.pos(name.start);
        Ok(Setting {
            name: name_text,
            op,
            value,
            span: name.start..value_end,
            value_span: value_start..value_end,
            line,
            column,
            nested: false,
        })
    }

    /// Parses the value starting with `first`; returns it and the byte offset it ends at.
    fn value(&mut self, first: XlTok, depth: usize) -> Result<(Value, usize), ParseError> {
        let src = self.lexer.src;
        match first.kind {
            XlKind::Str(Some(s)) => Ok((Value::Str(s), first.end)),
            XlKind::Str(None) => Ok((
                Value::Computed(text(src, first.start..first.end).to_string()),
                first.end,
            )),
            XlKind::Number => {
                let t = text(src, first.start..first.end);
                let v = xl_number(t).map_or_else(|| Value::Computed(t.to_string()), Value::Int);
                Ok((v, first.end))
            }
            XlKind::LBracket => {
                if depth >= MAX_DEPTH {
                    return Err(self.err(first.start, "lists are nested too deeply"));
                }
                let mut items = Vec::new();
                loop {
                    let t = self.next_skipping_newlines()?;
                    match t.kind {
                        XlKind::RBracket => return Ok((Value::List(items), t.end)),
                        XlKind::Eof => return Err(self.err(first.start, "unterminated list")),
                        _ => {}
                    }
                    let (item, _) = self.value(t, depth + 1)?;
                    items.push(item);
                    let sep = self.next_skipping_newlines()?;
                    match sep.kind {
                        XlKind::Comma => {}
                        XlKind::RBracket => return Ok((Value::List(items), sep.end)),
                        XlKind::Eof => return Err(self.err(first.start, "unterminated list")),
                        _ => return Err(self.err(sep.start, "expected `,` or `]` in list")),
                    }
                }
            }
            XlKind::Eof => Err(self.err(first.start, "expected a value, found end of file")),
            XlKind::Newline => Err(self.err(first.start, "expected a value, found end of line")),
            XlKind::Ident => {
                let word = text(src, first.start..first.end);
                let python = matches!(src.as_bytes().get(first.end), Some(b'(' | b'['))
                    || word.contains('.')
                    || matches!(word, "True" | "False" | "None");
                let hint = if python { PYTHON_HINT } else { "" };
                Err(self.err(
                    first.start,
                    format!("expected a value (a quoted string, a number or a [list]), found `{word}`{hint}"),
                ))
            }
            _ => Err(self.err(
                first.start,
                "expected a value (a quoted string, a number or a [list])",
            )),
        }
    }
}

/// A number token read the way xl reads it (`strtol(s, &end, 0)`, whole token).
fn xl_number(t: &str) -> Option<i64> {
    let all = |s: &str, f: fn(&u8) -> bool| !s.is_empty() && s.bytes().all(|b| f(&b));
    if let Some(hex) = t.strip_prefix("0x") {
        all(hex, u8::is_ascii_hexdigit)
            .then(|| i64::from_str_radix(hex, 16).ok())
            .flatten()
    } else if t.len() > 1 && t.starts_with('0') {
        all(t, |b| (b'0'..=b'7').contains(b))
            .then(|| i64::from_str_radix(t, 8).ok())
            .flatten()
    } else {
        all(t, u8::is_ascii_digit).then(|| t.parse().ok()).flatten()
    }
}

/// Combines settings the way libxlu's `xlu__cfg_set_store` does.
pub(super) fn xl_effective(
    src: &str,
    settings: &[Setting],
    lines: &LineIndex<'_>,
) -> Result<Vec<Effective>, ParseError> {
    let mut eff: Vec<Effective> = Vec::new();
    for s in settings {
        let existing = eff.iter().position(|e| e.name == s.name);
        let value = match (s.op, existing.and_then(|i| eff.get(i))) {
            (AssignOp::Set, _) | (AssignOp::Append, None) => s.value.clone(),
            (AssignOp::Append, Some(prev)) => match (&prev.value, &s.value) {
                (Value::Str(a), Value::Str(b)) => Value::Str(format!("{a}{b}")),
                (Value::List(a), Value::List(b)) => {
                    Value::List(a.iter().chain(b.iter()).cloned().collect())
                }
                (Value::List(_), _) | (_, Value::List(_)) => {
                    return Err(lines.error(
                        s.span.start,
                        format!(
                            "cannot add a list to a string or a string to a list (`{}`)",
                            s.name
                        ),
                    ));
                }
                // Numbers are strings to xl, but xl refuses to read a number set with `+=`.
                _ => Value::Computed(text(src, s.span.clone()).to_string()),
            },
        };
        let effective = Effective {
            name: s.name.clone(),
            value,
            origin: s.span.clone(),
        };
        match existing.and_then(|i| eff.get_mut(i)) {
            Some(slot) => *slot = effective,
            None => eff.push(effective),
        }
    }
    Ok(eff)
}
