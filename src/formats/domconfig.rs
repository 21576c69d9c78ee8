//! Reads Xen domain configuration files (xl's format and legacy xm/xend Python configs),
//! so vmup can find which kernel, initrd and command line a host boots a guest with; the
//! original bytes and each setting's byte spans are kept so a later edit can rewrite one
//! value and leave every other byte of the file alone.
//!
//! Two dialects:
//!
//! * [`Dialect::Xl`]: the format of `xl.cfg(5)`, as parsed by libxlu
//!   (`libxlu_cfg_l.l`/`libxlu_cfg_y.y`). Settings `name = value` or `name += value`,
//!   separated by newlines or `;`; `#` comments; values are strings (single or double
//!   quoted, with backslash escapes), numbers (decimal, `0x` hex, leading-`0` octal, read
//!   with C `strtol` rules as xl does) or lists `[ v, v, ]` that may nest, span lines and
//!   hold comments. Syntax errors are errors, with line and column.
//! * [`Dialect::Xm`]: xend's configs, which are Python 2 source run with `execfile`. Plain
//!   assignments of literals (strings of every Python 2 form, integers, lists) are read.
//!   Anything computed, conditional, or that some other statement may have changed is
//!   reported as [`Value::Computed`] with its source text: never guessed, and never an
//!   error for the whole file. Only input Python itself could not compile (an unterminated
//!   string or bracket, a bad `\x` escape) is an error.
//!
//! Deliberate differences from libxlu, all in the direction of reading what xl reads:
//! setting names may also contain capitals and start with `_` (xl wants `[a-z][a-z0-9_.]*`);
//! a comment may end the file without a newline; and `\xHH` / `\ooo` escapes are decoded
//! as in C. libxlu's own handling of those two escapes is broken (`\x` is always rejected
//! and `\ooo` is silently dropped, see `xlu__cfgl_dequote`), so [`quote_xl_string`] never
//! writes them except for NUL, which xl cannot hold at all.

use std::ops::Range;

/// Which toolstack's syntax a configuration file is written in.
///
/// Exists because the same file name (`/etc/xen/<guest>`) can hold either format and
/// they must be read by different rules; the caller knows (or guesses) which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// xl / libxl (Xen 4.1 and later): the declarative format of `xl.cfg(5)`.
    Xl,
    /// Legacy xm / xend (Xen 3.x, e.g. CentOS/RHEL 5): Python 2 source.
    Xm,
}

/// How a setting assigns its value.
///
/// Exists because `+=` does not replace the earlier value, so an editor must know which
/// assignment it is looking at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `name = value`: replaces any earlier value.
    Set,
    /// `name += value`: appends to the earlier string or list.
    Append,
}

/// A setting's value as far as it can be known without running anything.
///
/// Exists so callers get typed values and, crucially, an explicit "unknown" instead of a
/// guess when a value is an expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string, with escapes decoded.
    Str(String),
    /// An integer.
    Int(i64),
    /// A list of values (xl lists may nest).
    List(Vec<Value>),
    /// A value that cannot be read safely, with the source text it came from: an xm
    /// expression or conditional assignment, a string that is not valid UTF-8 once
    /// decoded, or an xl number its own number parser would reject (such as `08`).
    Computed(String),
}

impl Value {
    /// The string, if this is a plain string value.
    ///
    /// Exists for the common "I expect a string here" case without a `match`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// One assignment statement in the file, with where it is.
///
/// Exists for lossless editing: `value_span` is exactly the bytes of the value (for a
/// list, from `[` to `]`), so replacing `source()[value_span]` changes that value and
/// nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The setting's name.
    pub name: String,
    /// `=` or `+=`.
    pub op: AssignOp,
    /// The value as written (not combined with earlier `+=`; see [`DomainConfig::get`]).
    pub value: Value,
    /// Byte range from the start of the name to the end of the value.
    pub span: Range<usize>,
    /// Byte range of the value's text.
    pub value_span: Range<usize>,
    /// 1-based line of the name.
    pub line: usize,
    /// 1-based column of the name, counted in characters.
    pub column: usize,
    /// xm only: the assignment is inside an indented block (`if`, `for`, `def`, ...), so it
    /// may run conditionally, repeatedly or never. Always false for xl.
    pub nested: bool,
}

/// Why a file could not be parsed, and where.
///
/// Exists so a user can be pointed at the exact line and column; displays as
/// `line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// A setting is present but its value cannot be known without running the file.
///
/// Exists so vmup refuses to act on (or to rewrite) a kernel path it would otherwise have
/// had to guess; displays as `cannot be read safely: <source text>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot be read safely: {source_text}")]
pub struct Unreadable {
    /// The setting's name.
    pub name: String,
    /// The source text responsible: the expression, or the statement that may change it.
    pub source_text: String,
}

/// A parsed domain configuration file: the original text, every setting with its spans,
/// and the effective value of each name.
///
/// Exists as the read side of vmup's config handling; it is built so that a later writer
/// can splice new value text into [`DomainConfig::source`] at a setting's `value_span`.
#[derive(Debug, Clone)]
pub struct DomainConfig {
    source: String,
    dialect: Dialect,
    settings: Vec<Setting>,
    effective: Vec<Effective>,
    /// xm: after `from m import *` (or `exec`), names never assigned are still unknown.
    wildcard: Option<Effective>,
}

/// The value a name ends up with, and the source range to quote when it is unreadable.
#[derive(Debug, Clone)]
struct Effective {
    name: String,
    value: Value,
    origin: Range<usize>,
}

/// Appended to xl errors that suggest the file is really an xm (Python) config.
const PYTHON_HINT: &str = " (this looks like Python, which xl does not run; is it an xm config?)";

/// Deepest list nesting read before giving up (protects the stack, not a format limit).
const MAX_DEPTH: usize = 64;

impl DomainConfig {
    /// Parses `src` in the given dialect.
    ///
    /// Exists as the single entry point for reading a guest's config. For xl, any syntax
    /// error is returned with its line and column. For xm, only input Python could not
    /// compile is an error; everything it cannot evaluate becomes [`Value::Computed`].
    ///
    /// # Errors
    ///
    /// xl: any lexical or syntax error, an invalid escape, CRLF line endings, `+=` of a
    /// list to a string (or the reverse), lists nested over 64 deep. xm: an unterminated
    /// string, an unclosed or mismatched bracket, a malformed `\x`/`\u` escape, or an
    /// indented line no block opened.
    pub fn parse(src: &str, dialect: Dialect) -> Result<DomainConfig, ParseError> {
        let lines = LineIndex::new(src);
        let (settings, effective, wildcard) = match dialect {
            Dialect::Xl => {
                let settings = XlParser::new(src, &lines).parse()?;
                let effective = xl_effective(src, &settings, &lines)?;
                (settings, effective, None)
            }
            Dialect::Xm => xm_parse(src, &lines)?,
        };
        Ok(DomainConfig {
            source: src.to_string(),
            dialect,
            settings,
            effective,
            wildcard,
        })
    }

    /// The effective value of `name`: the last `=` wins, and `+=` appends to a string or
    /// list (xl semantics; for xm, Python's). `None` when the file never sets it.
    ///
    /// Exists because what the toolstack uses is the combination of all assignments, not
    /// any single one of them.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.lookup(name).map(|e| &e.value)
    }

    /// Every assignment statement in source order (for xm, including nested ones).
    ///
    /// Exists for editors and diagnostics that need positions, not just values.
    pub fn settings(&self) -> &[Setting] {
        &self.settings
    }

    /// The last assignment statement for `name`, if any.
    ///
    /// Exists so an editor can find the statement whose `value_span` to rewrite; check
    /// [`DomainConfig::get_str`] first, since rewriting a value that other statements
    /// modify would not have the intended effect.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().rev().find(|s| s.name == name)
    }

    /// The original text, byte for byte.
    ///
    /// Exists so spans can be resolved and edits spliced without re-reading the file.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The dialect the file was parsed as.
    ///
    /// Exists so a writer knows which quoting rules to use for new values.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The effective value of `name` as a string: `None` if unset, an error if it is
    /// computed or is not a string.
    ///
    /// Exists as the safe accessor for path- and command-line-like settings.
    pub fn get_str(&self, name: &str) -> Option<Result<&str, Unreadable>> {
        let eff = self.lookup(name)?;
        Some(match &eff.value {
            Value::Str(s) => Ok(s.as_str()),
            Value::Computed(text) => Err(Unreadable {
                name: name.to_string(),
                source_text: text.clone(),
            }),
            Value::Int(_) | Value::List(_) => Err(Unreadable {
                name: name.to_string(),
                source_text: self
                    .source
                    .get(eff.origin.clone())
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            }),
        })
    }

    /// The kernel the host boots the guest with (`kernel`).
    ///
    /// Exists because it is the value vmup checks and updates.
    pub fn kernel(&self) -> Option<Result<&str, Unreadable>> {
        self.get_str("kernel")
    }

    /// The initial ramdisk (`ramdisk`).
    ///
    /// Exists because it must be updated together with the kernel.
    pub fn ramdisk(&self) -> Option<Result<&str, Unreadable>> {
        self.get_str("ramdisk")
    }

    /// Extra kernel command line text (`extra`).
    ///
    /// Exists because kernel updates sometimes need command line changes.
    pub fn extra(&self) -> Option<Result<&str, Unreadable>> {
        self.get_str("extra")
    }

    fn lookup(&self, name: &str) -> Option<&Effective> {
        self.effective
            .iter()
            .rev()
            .find(|e| e.name == name)
            .or(self.wildcard.as_ref())
    }
}

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

// ---------------------------------------------------------------------------------------
// Positions

/// Byte offset to 1-based line and character column.
struct LineIndex<'a> {
    src: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(src: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { src, starts }
    }

    fn pos(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .src
            .get(start..offset)
            .map_or(offset.saturating_sub(start), |t| t.chars().count())
            + 1;
        (line, column)
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.pos(offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

fn text(src: &str, range: Range<usize>) -> &str {
    src.get(range).unwrap_or_default()
}

/// The character starting at `offset`, for messages.
fn char_at(src: &str, offset: usize) -> char {
    src.get(offset..)
        .and_then(|t| t.chars().next())
        .unwrap_or('\u{fffd}')
}

// ---------------------------------------------------------------------------------------
// xl

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

struct XlParser<'a> {
    lexer: XlLexer<'a>,
}

impl<'a> XlParser<'a> {
    fn new(src: &'a str, lines: &'a LineIndex<'a>) -> Self {
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

    fn parse(mut self) -> Result<Vec<Setting>, ParseError> {
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
fn xl_effective(
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

// ---------------------------------------------------------------------------------------
// xm (Python 2)

#[derive(Debug, Clone, PartialEq)]
enum PyKind {
    Name,
    Number,
    /// A string literal; `None` when its value cannot be known (f-string, `\N{...}`,
    /// bytes that are not UTF-8).
    Str(Option<String>),
    Op,
}

#[derive(Debug, Clone)]
struct PyTok {
    kind: PyKind,
    start: usize,
    end: usize,
}

/// One logical line: its indentation width and tokens (comments dropped).
#[derive(Debug, Clone)]
struct PyLine {
    indent: usize,
    toks: Vec<PyTok>,
}

const PY_KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "exec", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "print", "raise", "return", "try", "while", "with",
    "yield", "True", "False", "None",
];

/// Names whose use can rebind arbitrary variables; any of them makes every value unknown.
const PY_DYNAMIC: &[&str] = &[
    "exec",
    "execfile",
    "eval",
    "compile",
    "globals",
    "locals",
    "vars",
    "setattr",
    "delattr",
    "__dict__",
    "__builtins__",
    "__import__",
    "reload",
    "input",
];

const PY_COMPOUND: &[&str] = &[
    "if", "elif", "else", "for", "while", "try", "except", "finally", "with", "def", "class",
    "async",
];

/// Longest first, so `**=` is not read as `**` `=`.
const PY_OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", ">>", "<<", "<=", ">=", "==", "!=", "<>", "->",
    ":=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
];

fn is_assign_op(t: &str) -> bool {
    matches!(
        t,
        "=" | "+="
            | "-="
            | "*="
            | "/="
            | "//="
            | "%="
            | "**="
            | ">>="
            | "<<="
            | "&="
            | "|="
            | "^="
            | "@="
            | ":="
    )
}

fn is_keyword(t: &str) -> bool {
    PY_KEYWORDS.contains(&t)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

fn py_tokenize(src: &str, lines: &LineIndex<'_>) -> Result<Vec<PyLine>, ParseError> {
    let b = src.as_bytes();
    let mut i = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let mut out: Vec<PyLine> = Vec::new();
    let mut cur: Option<PyLine> = None;
    let mut brackets: Vec<(u8, usize)> = Vec::new();
    let mut at_line_start = true;
    let mut indent = 0usize;

    while let Some(&c) = b.get(i) {
        if at_line_start {
            at_line_start = false;
            if cur.is_none() && brackets.is_empty() {
                indent = 0;
                loop {
                    match b.get(i) {
                        Some(b' ') => indent += 1,
                        Some(b'\t') => indent = (indent / 8 + 1) * 8,
                        Some(b'\x0c') => indent = 0,
                        _ => break,
                    }
                    i += 1;
                }
            }
            continue;
        }
        match c {
            b'\n' => {
                i += 1;
                if brackets.is_empty() {
                    if let Some(line) = cur.take() {
                        out.push(line);
                    }
                    at_line_start = true;
                }
                continue;
            }
            b' ' | b'\t' | b'\x0c' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while b.get(i).is_some_and(|&x| x != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                i += 2;
                continue;
            }
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => {
                i += 3;
                continue;
            }
            _ => {}
        }

        let start = i;
        let ch = char_at(src, i);
        let kind = if is_name_start(ch) {
            let mut j = i;
            while let Some(c2) = src.get(j..).and_then(|t| t.chars().next()) {
                if !is_name_char(c2) {
                    break;
                }
                j += c2.len_utf8();
            }
            let word = text(src, i..j).to_ascii_lowercase();
            let is_prefix = matches!(
                word.as_str(),
                "r" | "u" | "b" | "f" | "ur" | "br" | "rb" | "fr" | "rf"
            );
            if is_prefix && matches!(b.get(j), Some(b'\'' | b'"')) {
                let (kind, end) = py_string(src, start, j, &word, lines)?;
                i = end;
                kind
            } else {
                i = j;
                PyKind::Name
            }
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let hex = c == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X'));
            i += 1;
            while let Some(&d) = b.get(i) {
                let sign_after_exponent =
                    matches!(d, b'+' | b'-') && !hex && matches!(b.get(i - 1), Some(b'e' | b'E'));
                if d.is_ascii_alphanumeric() || d == b'_' || d == b'.' || sign_after_exponent {
                    i += 1;
                } else {
                    break;
                }
            }
            PyKind::Number
        } else if c == b'\'' || c == b'"' {
            let (kind, end) = py_string(src, start, start, "", lines)?;
            i = end;
            kind
        } else {
            let op_len = PY_OPS
                .iter()
                .find(|op| b.get(i..i + op.len()) == Some(op.as_bytes()))
                .map_or(ch.len_utf8(), |op| op.len());
            i += op_len;
            match c {
                b'(' | b'[' | b'{' => brackets.push((c, start)),
                b')' | b']' | b'}' => {
                    let want = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    match brackets.pop() {
                        Some((open, _)) if open == want => {}
                        Some((open, at)) => {
                            let (line, col) = lines.pos(at);
                            return Err(lines.error(
                                start,
                                format!(
                                    "`{}` does not match the `{}` opened at {line}:{col}",
                                    c as char, open as char
                                ),
                            ));
                        }
                        None => {
                            return Err(lines.error(start, format!("unmatched `{}`", c as char)));
                        }
                    }
                }
                _ => {}
            }
            PyKind::Op
        };
        cur.get_or_insert_with(|| PyLine {
            indent,
            toks: Vec::new(),
        })
        .toks
        .push(PyTok {
            kind,
            start,
            end: i,
        });
    }
    if let Some(&(open, at)) = brackets.last() {
        return Err(lines.error(at, format!("`{}` is never closed", open as char)));
    }
    if let Some(line) = cur.take() {
        out.push(line);
    }
    Ok(out)
}

/// Scans a Python string literal whose prefix starts at `start` and whose opening quote
/// is at `quote_at`; returns its token kind and the offset just past it.
fn py_string(
    src: &str,
    start: usize,
    quote_at: usize,
    prefix: &str,
    lines: &LineIndex<'_>,
) -> Result<(PyKind, usize), ParseError> {
    let b = src.as_bytes();
    let quote = b.get(quote_at).copied().unwrap_or(b'"');
    let triple = b.get(quote_at + 1) == Some(&quote) && b.get(quote_at + 2) == Some(&quote);
    let content_start = quote_at + if triple { 3 } else { 1 };
    let mut j = content_start;
    let content_end;
    loop {
        match b.get(j) {
            None => return Err(lines.error(start, "unterminated string")),
            Some(b'\\') => {
                if j + 1 >= b.len() {
                    return Err(lines.error(start, "unterminated string"));
                }
                j += 2;
            }
            Some(b'\n') if !triple => return Err(lines.error(start, "unterminated string")),
            Some(&x) if x == quote => {
                if !triple {
                    content_end = j;
                    j += 1;
                    break;
                }
                if b.get(j + 1) == Some(&quote) && b.get(j + 2) == Some(&quote) {
                    content_end = j;
                    j += 3;
                    break;
                }
                j += 1;
            }
            Some(_) => j += 1,
        }
    }
    let raw = prefix.contains('r');
    let unicode = prefix.contains('u');
    let value = if prefix.contains('f') {
        None
    } else {
        py_decode(text(src, content_start..content_end), raw, unicode)
            .map_err(|(off, msg)| lines.error(content_start + off, msg))?
    };
    Ok((PyKind::Str(value), j))
}

/// Decodes a Python 2 string literal's body. `Ok(None)`: valid but not knowable here.
/// `Err((offset in body, message))`: Python would refuse to compile it.
fn py_decode(body: &str, raw: bool, unicode: bool) -> Result<Option<String>, (usize, String)> {
    if raw {
        // ur'' still decodes \u and \U in Python 2.
        if unicode && (body.contains("\\u") || body.contains("\\U")) {
            return Ok(None);
        }
        return Ok(Some(body.to_string()));
    }
    let mut out: Vec<u8> = Vec::new();
    let mut chars = body.char_indices().peekable();
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            push_char(&mut out, c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            push_char(&mut out, '\\');
            break;
        };
        match e {
            '\n' => {}
            '\r' => {
                if chars.peek().map(|&(_, c)| c) == Some('\n') {
                    chars.next();
                }
            }
            '\\' | '\'' | '"' => push_char(&mut out, e),
            'a' => out.push(0x07),
            'b' => out.push(0x08),
            'f' => out.push(0x0c),
            'n' => out.push(b'\n'),
            'r' => out.push(b'\r'),
            't' => out.push(b'\t'),
            'v' => out.push(0x0b),
            '0'..='7' => {
                let mut value = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|&(_, d)| d.to_digit(8)) {
                        Some(d) => {
                            value = value * 8 + d;
                            chars.next();
                        }
                        None => break,
                    }
                }
                if unicode {
                    match char::from_u32(value) {
                        Some(c) => push_char(&mut out, c),
                        None => return Ok(None),
                    }
                } else {
                    match u8::try_from(value) {
                        Ok(byte) => out.push(byte),
                        Err(_) => return Ok(None),
                    }
                }
            }
            'x' | 'u' | 'U' if e == 'x' || unicode => {
                let digits = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut value = 0u32;
                for _ in 0..digits {
                    match chars.peek().and_then(|&(_, d)| d.to_digit(16)) {
                        Some(d) => {
                            value = value.saturating_mul(16).saturating_add(d);
                            chars.next();
                        }
                        None => {
                            return Err((
                                at,
                                format!("invalid `\\{e}` escape: expected {digits} hex digits"),
                            ));
                        }
                    }
                }
                if unicode || e != 'x' {
                    match char::from_u32(value) {
                        Some(c) => push_char(&mut out, c),
                        None => return Ok(None),
                    }
                } else {
                    out.push(u8::try_from(value).unwrap_or(0xff));
                }
            }
            'N' if unicode => return Ok(None),
            other => {
                // Python keeps unknown escapes as written.
                push_char(&mut out, '\\');
                push_char(&mut out, other);
            }
        }
    }
    Ok(String::from_utf8(out).ok())
}

/// A Python 2 integer literal: decimal, `0x`, `0o`, `0b`, leading-`0` octal, `L` suffix.
fn py_int(t: &str) -> Option<i64> {
    let t = t.strip_suffix(['l', 'L']).unwrap_or(t);
    let radix = |s: &str, r: u32| -> Option<i64> {
        if s.is_empty() || !s.chars().all(|c| c.is_digit(r)) {
            return None;
        }
        i64::from_str_radix(s, r).ok()
    };
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        radix(h, 16)
    } else if let Some(o) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        radix(o, 8)
    } else if let Some(bin) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        radix(bin, 2)
    } else if t.len() > 1 && t.starts_with('0') {
        radix(t, 8)
    } else {
        radix(t, 10)
    }
}

/// Reads `toks` as one literal: strings (adjacent ones concatenated), integers with an
/// optional sign, lists of literals, or a parenthesised literal. `None` otherwise.
fn py_literal(src: &str, toks: &[PyTok]) -> Option<Value> {
    let mut k = 0;
    let v = py_literal_at(src, toks, &mut k, 0)?;
    (k == toks.len()).then_some(v)
}

fn py_literal_at(src: &str, toks: &[PyTok], k: &mut usize, depth: usize) -> Option<Value> {
    let op = |t: &PyTok, s: &str| t.kind == PyKind::Op && text(src, t.start..t.end) == s;
    let t = toks.get(*k)?;
    match &t.kind {
        PyKind::Str(_) => {
            let mut s = String::new();
            while let Some(PyTok {
                kind: PyKind::Str(part),
                ..
            }) = toks.get(*k)
            {
                s.push_str(part.as_deref()?);
                *k += 1;
            }
            Some(Value::Str(s))
        }
        PyKind::Number => {
            *k += 1;
            py_int(text(src, t.start..t.end)).map(Value::Int)
        }
        PyKind::Op if op(t, "-") || op(t, "+") => {
            let n = toks.get(*k + 1).filter(|n| n.kind == PyKind::Number)?;
            *k += 2;
            let v = py_int(text(src, n.start..n.end))?;
            if op(t, "-") {
                v.checked_neg().map(Value::Int)
            } else {
                Some(Value::Int(v))
            }
        }
        PyKind::Op if op(t, "[") && depth < MAX_DEPTH => {
            *k += 1;
            let mut items = Vec::new();
            loop {
                if op(toks.get(*k)?, "]") {
                    *k += 1;
                    return Some(Value::List(items));
                }
                items.push(py_literal_at(src, toks, k, depth + 1)?);
                let sep = toks.get(*k)?;
                *k += 1;
                if op(sep, "]") {
                    return Some(Value::List(items));
                }
                if !op(sep, ",") {
                    return None;
                }
            }
        }
        PyKind::Op if op(t, "(") && depth < MAX_DEPTH => {
            *k += 1;
            let v = py_literal_at(src, toks, k, depth + 1)?;
            let close = toks.get(*k)?;
            *k += 1;
            op(close, ")").then_some(v)
        }
        _ => None,
    }
}

/// Splits a logical line's tokens at `;` outside brackets.
fn py_statements<'t>(src: &str, toks: &'t [PyTok]) -> Vec<&'t [PyTok]> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (k, t) in toks.iter().enumerate() {
        if t.kind != PyKind::Op {
            continue;
        }
        match text(src, t.start..t.end) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            ";" if depth == 0 => {
                out.push(toks.get(from..k).unwrap_or_default());
                from = k + 1;
            }
            _ => {}
        }
    }
    out.push(toks.get(from..).unwrap_or_default());
    out.retain(|s| !s.is_empty());
    out
}

/// `NAME = expr` or `NAME += expr` (not chained): the name, op and value tokens.
fn py_simple_assignment<'t>(
    src: &str,
    stmt: &'t [PyTok],
) -> Option<(&'t PyTok, AssignOp, &'t [PyTok])> {
    let [name, op, rest @ ..] = stmt else {
        return None;
    };
    if name.kind != PyKind::Name || is_keyword(text(src, name.start..name.end)) || rest.is_empty() {
        return None;
    }
    if op.kind != PyKind::Op {
        return None;
    }
    let op = match text(src, op.start..op.end) {
        "=" => AssignOp::Set,
        "+=" => AssignOp::Append,
        _ => return None,
    };
    let mut depth = 0usize;
    for t in rest.iter().filter(|t| t.kind == PyKind::Op) {
        match text(src, t.start..t.end) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            s if depth == 0 && is_assign_op(s) => return None,
            _ => {}
        }
    }
    Some((name, op, rest))
}

/// What a statement may rebind, found conservatively from its tokens.
#[derive(Debug, Default)]
struct Taint {
    names: Vec<String>,
    /// It may rebind anything (`exec`, `globals()`, `from m import *`, ...).
    all: bool,
    /// Its effect is deferred (function bodies, lambdas, `global`), so later plain
    /// assignments of the same names are not to be trusted either.
    sticky: bool,
}

impl Taint {
    fn add(&mut self, name: &str) {
        if !is_keyword(name) && !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty() && !self.all
    }
}

fn name_tok(t: Option<&PyTok>) -> Option<&PyTok> {
    t.filter(|t| t.kind == PyKind::Name)
}

fn py_taint_scan(src: &str, toks: &[PyTok], taint: &mut Taint) {
    let txt = |t: &PyTok| text(src, t.start..t.end);
    let is_op = |t: Option<&PyTok>, s: &str| t.is_some_and(|t| t.kind == PyKind::Op && txt(t) == s);

    // Everything left of the last top-level assignment operator is a target.
    let mut depth = 0usize;
    let mut last_assign = None;
    for (k, t) in toks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == PyKind::Op)
    {
        match txt(t) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            s if depth == 0 && is_assign_op(s) => last_assign = Some(k),
            _ => {}
        }
    }
    if let Some(k) = last_assign {
        for t in toks.get(..k).unwrap_or_default() {
            if t.kind == PyKind::Name {
                taint.add(txt(t));
            }
        }
    }

    for (k, t) in toks.iter().enumerate() {
        if t.kind != PyKind::Name {
            continue;
        }
        let word = txt(t);
        let next = toks.get(k + 1);
        if PY_DYNAMIC.contains(&word) {
            taint.all = true;
            taint.sticky = true;
        }
        // name = ..., name += ..., f(name=...), name := ...
        if next.is_some_and(|n| n.kind == PyKind::Op && is_assign_op(txt(n))) {
            taint.add(word);
        }
        // name.method(...) may mutate a list in place (disk.append(...)).
        if is_op(next, ".") && name_tok(toks.get(k + 2)).is_some() && is_op(toks.get(k + 3), "(") {
            taint.add(word);
        }
        let after = toks.get(k + 1..).unwrap_or_default();
        match word {
            "for" => {
                for n in after
                    .iter()
                    .take_while(|n| !(n.kind == PyKind::Name && txt(n) == "in"))
                {
                    if n.kind == PyKind::Name {
                        taint.add(txt(n));
                    }
                }
            }
            "as" | "def" | "class" => {
                if let Some(n) = name_tok(next) {
                    taint.add(txt(n));
                }
                if word != "as" {
                    taint.sticky = true;
                }
            }
            "import" => {
                if is_op(next, "*") {
                    taint.all = true;
                }
                for n in after.iter().filter(|n| n.kind == PyKind::Name) {
                    taint.add(txt(n));
                }
            }
            "del" | "global" | "nonlocal" => {
                for n in after.iter().filter(|n| n.kind == PyKind::Name) {
                    taint.add(txt(n));
                }
                if word != "del" {
                    taint.sticky = true;
                }
            }
            "lambda" => taint.sticky = true,
            _ => {}
        }
    }
}

/// Top-level statement groups: a line at indentation 0 and the indented lines (and
/// `elif`/`else`/`except`/`finally` lines) that belong to it. An indented line that no
/// block header (a line ending in `:`) opened is an error, as in Python.
fn py_groups(
    src: &str,
    lines: Vec<PyLine>,
    index: &LineIndex<'_>,
) -> Result<Vec<Vec<PyLine>>, ParseError> {
    let is_colon = |t: Option<&PyTok>| t.is_some_and(|t| text(src, t.start..t.end) == ":");
    let mut groups: Vec<Vec<PyLine>> = Vec::new();
    for line in lines {
        let first = line
            .toks
            .first()
            .map(|t| text(src, t.start..t.end))
            .unwrap_or("");
        let continues = matches!(first, "elif" | "else" | "except" | "finally");
        if line.indent > 0 {
            let opened = groups
                .last()
                .is_some_and(|g| g.len() > 1 || g.first().is_some_and(|h| is_colon(h.toks.last())));
            if !opened {
                let at = line.toks.first().map_or(0, |t| t.start);
                return Err(index.error(at, "unexpected indentation"));
            }
        }
        match groups.last_mut() {
            Some(group) if continues || line.indent > 0 => group.push(line),
            _ => groups.push(vec![line]),
        }
    }
    Ok(groups)
}

struct XmState<'a> {
    src: &'a str,
    lines: &'a LineIndex<'a>,
    settings: Vec<Setting>,
    eff: Vec<Effective>,
    sticky: Vec<(String, Range<usize>)>,
    sticky_all: Option<Range<usize>>,
    wildcard: Option<Effective>,
}

impl<'a> XmState<'a> {
    fn computed(&self, origin: &Range<usize>) -> Value {
        Value::Computed(text(self.src, origin.clone()).trim().to_string())
    }

    fn set_eff(&mut self, name: &str, value: Value, origin: Range<usize>) {
        let e = Effective {
            name: name.to_string(),
            value,
            origin,
        };
        match self.eff.iter_mut().find(|e| e.name == name) {
            Some(slot) => *slot = e,
            None => self.eff.push(e),
        }
    }

    fn taint(&mut self, taint: &Taint, origin: Range<usize>) {
        let value = self.computed(&origin);
        if taint.all {
            for e in &mut self.eff {
                e.value = value.clone();
                e.origin = origin.clone();
            }
            self.wildcard = Some(Effective {
                name: String::new(),
                value: value.clone(),
                origin: origin.clone(),
            });
            if taint.sticky {
                self.sticky_all = Some(origin.clone());
            }
        }
        for name in &taint.names {
            self.set_eff(name, value.clone(), origin.clone());
            if taint.sticky {
                self.sticky.push((name.clone(), origin.clone()));
            }
        }
    }

    fn setting(&mut self, name: &PyTok, op: AssignOp, rest: &[PyTok], nested: bool) -> Setting {
        let value_span =
            rest.first().map_or(name.end, |t| t.start)..rest.last().map_or(name.end, |t| t.end);
        let value = py_literal(self.src, rest)
            .unwrap_or_else(|| Value::Computed(text(self.src, value_span.clone()).to_string()));
        let (line, column) = self.lines.pos(name.start);
        Setting {
            name: text(self.src, name.start..name.end).to_string(),
            op,
            value,
            span: name.start..value_span.end,
            value_span,
            line,
            column,
            nested,
        }
    }

    /// A top-level `name = literal-or-expr` / `name += ...` statement.
    fn assign(&mut self, s: &Setting) {
        let sticky = self.sticky_all.clone().or_else(|| {
            self.sticky
                .iter()
                .rev()
                .find(|(n, _)| *n == s.name)
                .map(|(_, o)| o.clone())
        });
        if let Some(origin) = sticky {
            let v = self.computed(&origin);
            self.set_eff(&s.name, v, origin);
            return;
        }
        let value = match s.op {
            AssignOp::Set => s.value.clone(),
            AssignOp::Append => {
                let prev = self.eff.iter().find(|e| e.name == s.name).map(|e| &e.value);
                match (prev, &s.value) {
                    (Some(Value::Str(a)), Value::Str(b)) => Value::Str(format!("{a}{b}")),
                    (Some(Value::List(a)), Value::List(b)) => {
                        Value::List(a.iter().chain(b.iter()).cloned().collect())
                    }
                    (Some(Value::Int(a)), Value::Int(b)) => a
                        .checked_add(*b)
                        .map_or_else(|| self.computed(&s.span), Value::Int),
                    _ => self.computed(&s.span),
                }
            }
        };
        self.set_eff(&s.name, value, s.span.clone());
    }
}

type XmParsed = (Vec<Setting>, Vec<Effective>, Option<Effective>);

fn xm_parse(src: &str, lines: &LineIndex<'_>) -> Result<XmParsed, ParseError> {
    let logical = py_tokenize(src, lines)?;
    let mut st = XmState {
        src,
        lines,
        settings: Vec::new(),
        eff: Vec::new(),
        sticky: Vec::new(),
        sticky_all: None,
        wildcard: None,
    };
    for group in py_groups(src, logical, lines)? {
        let header = group.first().and_then(|l| l.toks.first());
        let header_word = header.map(|t| text(src, t.start..t.end)).unwrap_or("");
        let compound = group.len() > 1 || PY_COMPOUND.contains(&header_word) || header_word == "@";

        if !compound {
            let toks = group.first().map(|l| l.toks.as_slice()).unwrap_or_default();
            for stmt in py_statements(src, toks) {
                let origin = stmt.first().map_or(0, |t| t.start)..stmt.last().map_or(0, |t| t.end);
                if let Some((name, op, rest)) = py_simple_assignment(src, stmt) {
                    // The right-hand side runs first and may itself change things.
                    let mut taint = Taint::default();
                    py_taint_scan(src, rest, &mut taint);
                    if !taint.is_empty() {
                        st.taint(&taint, origin);
                    }
                    let setting = st.setting(name, op, rest, false);
                    st.assign(&setting);
                    st.settings.push(setting);
                } else {
                    let mut taint = Taint::default();
                    py_taint_scan(src, stmt, &mut taint);
                    st.taint(&taint, origin);
                }
            }
            continue;
        }

        // A compound statement: record the assignments inside it, and treat every name
        // it may bind as unknown from here on.
        let mut taint = Taint {
            sticky: matches!(header_word, "def" | "class" | "@"),
            ..Taint::default()
        };
        let mut start = usize::MAX;
        let mut end = 0;
        for line in &group {
            if let (Some(f), Some(l)) = (line.toks.first(), line.toks.last()) {
                start = start.min(f.start);
                end = end.max(l.end);
            }
            for stmt in py_statements(src, &line.toks) {
                py_taint_scan(src, stmt, &mut taint);
                if let Some((name, op, rest)) = py_simple_assignment(src, stmt) {
                    let setting = st.setting(name, op, rest, true);
                    st.settings.push(setting);
                }
            }
        }
        if start <= end {
            st.taint(&taint, start..end);
        }
    }
    let XmState {
        settings,
        eff,
        wildcard,
        ..
    } = st;
    Ok((settings, eff, wildcard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn xl(src: &str) -> DomainConfig {
        match DomainConfig::parse(src, Dialect::Xl) {
            Ok(c) => c,
            Err(e) => panic!("xl parse failed: {e}\n{src}"),
        }
    }

    fn xm(src: &str) -> DomainConfig {
        match DomainConfig::parse(src, Dialect::Xm) {
            Ok(c) => c,
            Err(e) => panic!("xm parse failed: {e}\n{src}"),
        }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    fn err(src: &str, dialect: Dialect) -> ParseError {
        match DomainConfig::parse(src, dialect) {
            Ok(c) => panic!("expected an error, parsed {:?}", c.settings()),
            Err(e) => e,
        }
    }

    #[test]
    fn xl_every_grammar_element() {
        let src = concat!(
            "# xl config using every grammar element\n",
            "name = \"ng2\"   # trailing comment\n",
            "kernel = '/boot/vmlinuz-2.6.32 its'\n",
            "memory = 512; vcpus = 0x2 ; maxmem=010\n",
            "escapes = \"q\\\" s\\' b\\\\ n\\n t\\t r\\r a\\a b\\b f\\f v\\v x\\x41 o\\101 o\\7\"\n",
            "single = 'it\\'s \"fine\"'\n",
            "disk = [ 'phy:/dev/vg/ng2,xvda1,w', # first disk\n",
            "         # a comment line inside the list\n",
            "\n",
            "         [ \"nested\", 0x10 ],\n",
            "         'file:/srv/ng2-swap.img,xvda2,w',\n",
            "       ]\n",
            "empty = []\n",
            "extra = \"console=hvc0\"\n",
            "extra += \" xencons=tty\"\n",
            "disk += [ 'phy:/dev/vg/ng2-data,xvdb,w' ]\n",
            "_Private.name = 1 # capitals, underscore and dot in names\n",
            "last = \"no newline at end\"",
        );
        let c = xl(src);

        assert_eq!(c.get("name"), Some(&s("ng2")));
        assert_eq!(c.kernel(), Some(Ok("/boot/vmlinuz-2.6.32 its")));
        assert_eq!(c.get("memory"), Some(&Value::Int(512)));
        assert_eq!(c.get("vcpus"), Some(&Value::Int(2)));
        assert_eq!(
            c.get("maxmem"),
            Some(&Value::Int(8)),
            "leading 0 is octal to strtol"
        );
        assert_eq!(
            c.get("escapes"),
            Some(&s(
                "q\" s' b\\ n\n t\t r\r a\u{7} b\u{8} f\u{c} v\u{b} xA oA o\u{7}"
            ))
        );
        assert_eq!(c.get("single"), Some(&s("it's \"fine\"")));
        assert_eq!(c.get("empty"), Some(&Value::List(vec![])));
        assert_eq!(c.extra(), Some(Ok("console=hvc0 xencons=tty")));
        assert_eq!(c.get("_Private.name"), Some(&Value::Int(1)));
        assert_eq!(c.get("last"), Some(&s("no newline at end")));
        assert_eq!(
            c.get("disk"),
            Some(&Value::List(vec![
                s("phy:/dev/vg/ng2,xvda1,w"),
                Value::List(vec![s("nested"), Value::Int(16)]),
                s("file:/srv/ng2-swap.img,xvda2,w"),
                s("phy:/dev/vg/ng2-data,xvdb,w"),
            ]))
        );

        // Spans point at the exact bytes, for later in-place edits.
        let disk = c.settings().iter().find(|x| x.name == "disk");
        let Some(disk) = disk else {
            panic!("no disk setting")
        };
        let disk_text = &c.source()[disk.value_span.clone()];
        assert!(disk_text.starts_with("[ 'phy:") && disk_text.ends_with("w',\n       ]"));
        assert_eq!((disk.line, disk.column, disk.op), (7, 1, AssignOp::Set));
        let vcpus = c.setting("vcpus");
        let Some(vcpus) = vcpus else {
            panic!("no vcpus")
        };
        assert_eq!(&c.source()[vcpus.span.clone()], "vcpus = 0x2");
        assert_eq!(&c.source()[vcpus.value_span.clone()], "0x2");
        assert_eq!((vcpus.line, vcpus.column), (4, 15));
        let appends: Vec<&str> = c
            .settings()
            .iter()
            .filter(|x| x.op == AssignOp::Append)
            .map(|x| x.name.as_str())
            .collect();
        assert_eq!(appends, ["extra", "disk"]);
        assert_eq!(c.settings().len(), 14);
    }

    #[test]
    fn xl_error_unterminated_string() {
        let e = err(
            "name = \"ng2\"\nkernel = \"/boot/vmlinuz\nmemory = 512\n",
            Dialect::Xl,
        );
        assert_eq!(e.to_string(), "2:10: unterminated string");
        let e = err("name = 'ng2", Dialect::Xl);
        assert_eq!((e.line, e.column), (1, 8));
    }

    #[test]
    fn xl_error_missing_equals() {
        let e = err("name = \"ng2\"\n  kernel \"/boot/vmlinuz\"\n", Dialect::Xl);
        assert_eq!(e.to_string(), "2:10: expected `=` or `+=` after `kernel`");
        let e = err("memory\n", Dialect::Xl);
        assert_eq!((e.line, e.column), (1, 7));
    }

    #[test]
    fn xl_other_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "kernel = \"/boot/vmlinuz-\" + os.uname()[2]\n",
                "1:27: unexpected character `+`",
            ),
            ("memory = 256 * 2\n", "1:14: unexpected character `*`"),
            ("disk = [ 'a' 'b' ]\n", "1:14: expected `,` or `]` in list"),
            ("disk = [ 'a',\n", "1:8: unterminated list"),
            ("disk = [ , ]\n", "1:10: expected a value"),
            (
                "kernel =\n'/boot/x'\n",
                "1:9: expected a value, found end of line",
            ),
            ("a = 1 b = 2\n", "1:7: expected end of line or `;`"),
            ("x = \"\\q\"\n", "1:6: invalid escape `\\q` in string"),
            (
                "x = \"\\x4\"\n",
                "1:6: `\\x` must be followed by two hex digits",
            ),
            ("x = \"\\777\"\n", "1:6: octal escape is larger"),
            ("x = 'a'\r\n", "1:8: carriage return"),
            (
                "x = 'a'\nx += ['b']\n",
                "2:1: cannot add a list to a string",
            ),
            ("= 5\n", "1:1: expected a setting name"),
        ];
        for (src, want) in cases {
            let got = err(src, Dialect::Xl).to_string();
            assert!(got.starts_with(want), "{src:?}: got {got:?}, want {want:?}");
        }
        let python = err("import os\n", Dialect::Xl).to_string();
        assert!(
            python.starts_with("1:8: expected `=` or `+=` after `import` (this looks like Python"),
            "{python}"
        );
        let python = err("kernel = os.path.join('/boot', 'x')\n", Dialect::Xl).to_string();
        assert!(python.contains("looks like Python"), "{python}");
    }

    #[test]
    fn xl_numbers_and_appends_follow_libxlu() {
        let c = xl("a = 08\nb = 0x\nc = 99999999999999999999\nd = 0\nm = 1\nm += 2\nn += 'x'\n");
        assert_eq!(c.get("a"), Some(&Value::Computed("08".into())));
        assert_eq!(c.get("b"), Some(&Value::Computed("0x".into())));
        assert_eq!(
            c.get("c"),
            Some(&Value::Computed("99999999999999999999".into()))
        );
        assert_eq!(c.get("d"), Some(&Value::Int(0)));
        assert_eq!(c.get("m"), Some(&Value::Computed("m += 2".into())));
        assert_eq!(
            c.get("n"),
            Some(&s("x")),
            "+= with nothing before is a plain set"
        );
        let c = xl("kernel = '/a'\nkernel = '/b'\nkernel = [ '/c' ]\n");
        assert_eq!(
            c.kernel().map(|r| r.map_err(|e| e.to_string())),
            Some(Err("cannot be read safely: kernel = [ '/c' ]".into()))
        );
        assert_eq!(c.ramdisk(), None);
    }

    const NG2_XM: &str = r#"# Automatically generated xen config file
name = "NG2"
memory = 512
kernel = "/boot/vmlinuz-2.6.9-ELxenU"
ramdisk = "/boot/initrd-2.6.9-ELxenU-xendrv.img"
vif = [ 'mac=00:16:3e:00:00:12, bridge=xenbr0' ]
disk = [ 'phy:/dev/vg0/ng2,sda1,w',
         'phy:/dev/vg0/ng2-swap,sda2,w', ]
root = "/dev/sda1 ro"
extra = "xencons=ttyS console=ttyS0"
vcpus = 1
on_reboot   = 'restart'
on_crash    = 'restart'
"#;

    #[test]
    fn xm_centos_ng2_config() {
        let c = xm(NG2_XM);
        assert_eq!(c.get("name"), Some(&s("NG2")));
        assert_eq!(c.get("memory"), Some(&Value::Int(512)));
        assert_eq!(c.kernel(), Some(Ok("/boot/vmlinuz-2.6.9-ELxenU")));
        assert_eq!(
            c.ramdisk(),
            Some(Ok("/boot/initrd-2.6.9-ELxenU-xendrv.img"))
        );
        assert_eq!(c.extra(), Some(Ok("xencons=ttyS console=ttyS0")));
        assert_eq!(c.get_str("root"), Some(Ok("/dev/sda1 ro")));
        assert_eq!(
            c.get("vif"),
            Some(&Value::List(vec![s(
                "mac=00:16:3e:00:00:12, bridge=xenbr0"
            )]))
        );
        assert_eq!(
            c.get("disk"),
            Some(&Value::List(vec![
                s("phy:/dev/vg0/ng2,sda1,w"),
                s("phy:/dev/vg0/ng2-swap,sda2,w")
            ]))
        );
        assert_eq!(c.get("on_crash"), Some(&s("restart")));
        let k = c.setting("kernel");
        let Some(k) = k else { panic!("no kernel") };
        assert_eq!(
            &c.source()[k.value_span.clone()],
            "\"/boot/vmlinuz-2.6.9-ELxenU\""
        );
        assert_eq!((k.line, k.column, k.nested), (4, 1, false));
        assert!(c.settings().iter().all(|x| !x.nested));
        // The same file is also valid xl.
        let as_xl = xl(NG2_XM);
        assert_eq!(as_xl.kernel(), Some(Ok("/boot/vmlinuz-2.6.9-ELxenU")));
    }

    #[test]
    fn xm_import_os_and_computed_kernel() {
        let src = r#"import os, re
arch = os.uname()[4]
name = "NG2"
kernel = "/boot/vmlinuz-" + os.uname()[2]
ramdisk = "/boot/initrd-2.6.9-ELxenU.img"
memory = 256 * 2
vcpus = 2
"#;
        let c = xm(src);
        let kernel = c.kernel();
        let Some(Err(unreadable)) = kernel else {
            panic!("kernel: {kernel:?}")
        };
        assert_eq!(
            unreadable.to_string(),
            "cannot be read safely: \"/boot/vmlinuz-\" + os.uname()[2]"
        );
        assert_eq!(unreadable.name, "kernel");
        assert_eq!(c.get("memory"), Some(&Value::Computed("256 * 2".into())));
        assert_eq!(
            c.get("arch"),
            Some(&Value::Computed("os.uname()[4]".into()))
        );
        assert_eq!(c.ramdisk(), Some(Ok("/boot/initrd-2.6.9-ELxenU.img")));
        assert_eq!(c.get("name"), Some(&s("NG2")));
        assert_eq!(c.get("vcpus"), Some(&Value::Int(2)));
        assert!(matches!(c.get("os"), Some(Value::Computed(_))));
        let k = c.setting("kernel");
        let Some(k) = k else {
            panic!("no kernel setting")
        };
        assert_eq!((k.line, k.column), (4, 1));
        assert_eq!(
            &c.source()[k.value_span.clone()],
            "\"/boot/vmlinuz-\" + os.uname()[2]"
        );
    }

    #[test]
    fn xm_triple_quoted_and_other_python_strings() {
        let src = concat!(
            "extra = \"\"\"console=hvc0\n",
            "  xencons=tty 'quoted' \"dq\" \\\"\"\"\"\n",
            "root = '''/dev/xvda1 ro'''\n",
            "raw = r'C:\\boot\\n'\n",
            "uni = u'caf\\xe9 \\u00e9'\n",
            "byt = 'caf\\xc3\\xa9 \\101 \\q'\n",
            "joined = ('/boot/'\n",
            "          'vmlinuz')\n",
            "neg = -0x10; big = 10L; octal = 0755\n",
            "cont = 'a' \\\n",
            "       'b'\n",
        );
        let c = xm(src);
        assert_eq!(
            c.extra(),
            Some(Ok("console=hvc0\n  xencons=tty 'quoted' \"dq\" \""))
        );
        assert_eq!(c.get_str("root"), Some(Ok("/dev/xvda1 ro")));
        assert_eq!(c.get_str("raw"), Some(Ok("C:\\boot\\n")));
        assert_eq!(c.get_str("uni"), Some(Ok("café é")));
        assert_eq!(c.get_str("byt"), Some(Ok("café A \\q")));
        assert_eq!(c.get_str("joined"), Some(Ok("/boot/vmlinuz")));
        assert_eq!(c.get("neg"), Some(&Value::Int(-16)));
        assert_eq!(c.get("big"), Some(&Value::Int(10)));
        assert_eq!(c.get("octal"), Some(&Value::Int(0o755)));
        assert_eq!(c.get_str("cont"), Some(Ok("ab")));
        let e = c.setting("extra");
        let Some(e) = e else { panic!("no extra") };
        assert_eq!((e.span.start, e.value_span.start), (0, 8));
        assert!(c.source()[e.value_span.clone()].ends_with("\\\"\"\"\""));
    }

    #[test]
    fn xm_xmexample_hvm_style_config() {
        // Shaped like xend's /etc/xen/xmexample.hvm.
        let src = r#"#  -*- mode: python; -*-
import os, re

arch = os.uname()[4]
if re.search('64', arch):
    arch_libdir = 'lib64'
else:
    arch_libdir = 'lib'

kernel = "/usr/lib/xen/boot/hvmloader"
builder='hvm'
memory = 128
name = "ExampleHVMDomain"
vif = [ 'type=ioemu, bridge=xenbr0' ]
disk = [ 'file:/var/images/min-el3-i386.img,hda,w', ',hdc:cdrom,r' ]
device_model = '/usr/' + arch_libdir + '/xen/bin/qemu-dm'
sdl=0
vnc=1
serial='pty'
"#;
        let c = xm(src);
        assert_eq!(c.kernel(), Some(Ok("/usr/lib/xen/boot/hvmloader")));
        assert_eq!(c.get("memory"), Some(&Value::Int(128)));
        assert_eq!(c.get("vnc"), Some(&Value::Int(1)));
        assert_eq!(c.get_str("builder"), Some(Ok("hvm")));
        assert!(
            matches!(c.get("arch_libdir"), Some(Value::Computed(t)) if t.starts_with("if re.search"))
        );
        assert_eq!(
            c.get("device_model"),
            Some(&Value::Computed(
                "'/usr/' + arch_libdir + '/xen/bin/qemu-dm'".into()
            ))
        );
        assert_eq!(c.ramdisk(), None);
        let nested: Vec<&str> = c
            .settings()
            .iter()
            .filter(|x| x.nested)
            .map(|x| x.name.as_str())
            .collect();
        assert_eq!(nested, ["arch_libdir", "arch_libdir"]);
        // xl refuses the same file, pointing at the Python.
        let e = err(src, Dialect::Xl);
        assert!(
            e.to_string()
                .starts_with("2:8: expected `=` or `+=` after `import`"),
            "{e}"
        );
    }

    #[test]
    fn xm_unreadable_strings_are_computed_not_errors() {
        let c = xm("a = '\\xff'\nb = u'\\N{BULLET}'\nc = 1.5\nd = True\ne = [1, x]\n");
        for name in ["a", "b", "c", "d", "e"] {
            assert!(matches!(c.get(name), Some(Value::Computed(_))), "{name}");
        }
    }

    #[test]
    fn xm_conditionals_and_mutations_are_computed() {
        let src = r#"import os
kernel = "/boot/vmlinuz-xen"
if os.path.exists("/boot/vmlinuz-new"):
    kernel = "/boot/vmlinuz-new"
else:
    kernel = "/boot/vmlinuz-old"
ramdisk = "/boot/initrd-old.img"
for i in range(2): ramdisk = "/boot/initrd-%d.img" % i
disk = [ 'phy:/dev/vg/a,xvda,w' ]
disk.append('phy:/dev/vg/b,xvdb,w')
extra = "console=hvc0"
name = "web1"; memory = 1024
"#;
        let c = xm(src);
        let Some(Err(k)) = c.kernel() else {
            panic!("kernel should be unreadable")
        };
        assert!(
            k.source_text.starts_with("if os.path.exists"),
            "{}",
            k.source_text
        );
        assert!(
            k.source_text.ends_with("kernel = \"/boot/vmlinuz-old\""),
            "{}",
            k.source_text
        );
        assert!(matches!(c.ramdisk(), Some(Err(_))));
        assert!(matches!(c.get("disk"), Some(Value::Computed(t)) if t.starts_with("disk.append")));
        assert_eq!(c.extra(), Some(Ok("console=hvc0")));
        assert_eq!(c.get("name"), Some(&s("web1")));
        assert_eq!(c.get("memory"), Some(&Value::Int(1024)));
        let nested: Vec<(&str, &Value)> = c
            .settings()
            .iter()
            .filter(|x| x.nested)
            .map(|x| (x.name.as_str(), &x.value))
            .collect();
        assert_eq!(
            nested,
            [
                ("kernel", &s("/boot/vmlinuz-new")),
                ("kernel", &s("/boot/vmlinuz-old"))
            ]
        );

        // A later unconditional literal assignment settles it again...
        let c = xm("if x:\n    kernel = 'a'\nkernel = '/boot/b'\n");
        assert_eq!(c.kernel(), Some(Ok("/boot/b")));
        // ...unless deferred code (a function, a lambda) may still change it.
        let c = xm("def f():\n    global kernel\n    kernel = 'a'\nkernel = '/boot/b'\nf()\n");
        assert!(matches!(c.kernel(), Some(Err(_))));
        let c = xm("add = lambda: disk.append('x')\ndisk = ['a']\nadd()\n");
        assert!(matches!(c.get("disk"), Some(Value::Computed(_))));
        // Anything that can rebind arbitrary names makes everything unknown.
        let c = xm("kernel = '/boot/a'\nexec(open('/etc/xen/common').read())\n");
        assert!(matches!(c.kernel(), Some(Err(_))));
        let c = xm("from common import *\n");
        assert!(
            matches!(c.kernel(), Some(Err(_))),
            "star import may define kernel"
        );
        let c = xm("kernel = ramdisk = '/boot/x'\n");
        assert!(matches!(c.kernel(), Some(Err(_))));
        assert!(matches!(c.ramdisk(), Some(Err(_))));
        let c =
            xm("extra = 'a'\nextra += ' b'\ndisk = []\ndisk += ['x']\nmemory = 1\nmemory += 2\n");
        assert_eq!(c.extra(), Some(Ok("a b")));
        assert_eq!(c.get("disk"), Some(&Value::List(vec![s("x")])));
        assert_eq!(c.get("memory"), Some(&Value::Int(3)));
        let c = xm("extra += ' b'\n");
        assert!(matches!(c.extra(), Some(Err(_))), "NameError in Python");
    }

    #[test]
    fn xm_broken_input_errors() {
        let e = err("name = 'NG2'\nkernel = \"/boot/vmlinuz\n", Dialect::Xm);
        assert_eq!(e.to_string(), "2:10: unterminated string");
        let e = err("extra = '''never closed\n\n", Dialect::Xm);
        assert_eq!(e.to_string(), "1:9: unterminated string");
        let e = err("disk = [ 'a',\n  'b'\n", Dialect::Xm);
        assert_eq!(e.to_string(), "1:8: `[` is never closed");
        let e = err("disk = [ 'a' )\n", Dialect::Xm);
        assert_eq!(
            e.to_string(),
            "1:14: `)` does not match the `[` opened at 1:8"
        );
        let e = err("  kernel = '/boot/a'\n", Dialect::Xm);
        assert_eq!(e.to_string(), "1:3: unexpected indentation");
        let e = err("kernel = '/boot/a'\n    ramdisk = '/boot/b'\n", Dialect::Xm);
        assert_eq!(e.to_string(), "2:5: unexpected indentation");
        let e = err("x = 'a\\x4'\n", Dialect::Xm);
        assert_eq!(
            e.to_string(),
            "1:7: invalid `\\x` escape: expected 2 hex digits"
        );
    }

    #[test]
    fn value_span_edit_is_lossless() {
        let src = "# guest ng2\nname = \"ng2\" # keep me\nkernel = '/boot/old'  # old kernel\n\
                   extra = 'console=hvc0'\n";
        let c = xl(src);
        let Some(k) = c.setting("kernel") else {
            panic!("no kernel")
        };
        let new_path = "/boot/vmlinuz-4.19 \"quoted\"";
        let edited = format!(
            "{}{}{}",
            &src[..k.value_span.start],
            quote_xl_string(new_path),
            &src[k.value_span.end..]
        );
        assert_eq!(
            edited,
            "# guest ng2\nname = \"ng2\" # keep me\nkernel = \"/boot/vmlinuz-4.19 \\\"quoted\\\"\"  \
             # old kernel\nextra = 'console=hvc0'\n"
        );
        let c2 = xl(&edited);
        assert_eq!(c2.kernel(), Some(Ok(new_path)));
        assert_eq!(c2.extra(), Some(Ok("console=hvc0")));
    }

    #[test]
    fn deep_nesting_is_an_error_or_computed_not_a_crash() {
        let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let e = err(&deep, Dialect::Xl);
        assert!(e.message.contains("nested too deeply"));
        let c = xm(&deep);
        assert!(matches!(c.get("x"), Some(Value::Computed(_))));
    }

    #[test]
    fn quote_examples() {
        assert_eq!(quote_xl_string("/boot/vmlinuz"), "\"/boot/vmlinuz\"");
        assert_eq!(quote_xl_string("a\"b\\c\nd\0"), "\"a\\\"b\\\\c\\nd\\x00\"");
        assert_eq!(quote_xl_string("it's"), "\"it's\"");
    }

    proptest! {
        #[test]
        fn quote_xl_string_round_trips(value in any::<String>()) {
            let src = format!("v = {}\nnext = 1\n", quote_xl_string(&value));
            let parsed = DomainConfig::parse(&src, Dialect::Xl);
            prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
            if let Ok(c) = parsed {
                prop_assert_eq!(c.get("v"), Some(&Value::Str(value.clone())));
                prop_assert_eq!(c.get("next"), Some(&Value::Int(1)));
            }
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(src in any::<String>()) {
            for dialect in [Dialect::Xl, Dialect::Xm] {
                if let Ok(c) = DomainConfig::parse(&src, dialect) {
                    for s in c.settings() {
                        prop_assert!(c.source().get(s.span.clone()).is_some());
                        prop_assert!(c.source().get(s.value_span.clone()).is_some());
                    }
                }
            }
        }

        #[test]
        fn parsing_config_like_text_never_panics(
            src in "([a-z_]{1,4}|[ \t]|\n|=|\\+=|\\[|\\]|,|;|#|'|\"|\\\\|[0-9x]{1,3}|\\(|\\)|:|\\.|é){0,60}"
        ) {
            for dialect in [Dialect::Xl, Dialect::Xm] {
                if let Ok(c) = DomainConfig::parse(&src, dialect) {
                    for s in c.settings() {
                        prop_assert!(c.source().get(s.span.clone()).is_some());
                        prop_assert!(c.source().get(s.value_span.clone()).is_some());
                        let _ = c.get_str(&s.name);
                    }
                }
            }
        }
    }
}
