//! The Python 2 literal reader behind the xm dialect: a tokenizer that turns source into
//! logical lines of tokens (rejecting only what Python itself could not compile), and
//! readers for the literals whose values are knowable without running anything: strings
//! of every Python 2 form, integers, and lists or parenthesised groups of those.

use super::position::{LineIndex, char_at, text};
use super::{MAX_DEPTH, ParseError, Value};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum PyKind {
    Name,
    Number,
    /// A string literal; `None` when its value cannot be known (f-string, `\N{...}`,
    /// bytes that are not UTF-8).
    Str(Option<String>),
    Op,
}

#[derive(Debug, Clone)]
pub(super) struct PyTok {
    pub(super) kind: PyKind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// One logical line: its indentation width and tokens (comments dropped).
#[derive(Debug, Clone)]
pub(super) struct PyLine {
    pub(super) indent: usize,
    pub(super) toks: Vec<PyTok>,
}

const PY_KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "exec", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "nonlocal", "not", "or", "pass", "print", "raise", "return", "try", "while", "with",
    "yield", "True", "False", "None",
];

/// Longest first, so `**=` is not read as `**` `=`.
const PY_OPS: &[&str] = &[
    "**=", "//=", ">>=", "<<=", "...", "**", "//", ">>", "<<", "<=", ">=", "==", "!=", "<>", "->",
    ":=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
];

pub(super) fn is_keyword(t: &str) -> bool {
    PY_KEYWORDS.contains(&t)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (!c.is_ascii() && c.is_alphabetic())
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || (!c.is_ascii() && c.is_alphanumeric())
}

pub(super) fn py_tokenize(src: &str, lines: &LineIndex<'_>) -> Result<Vec<PyLine>, ParseError> {
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
pub(super) fn py_literal(src: &str, toks: &[PyTok]) -> Option<Value> {
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
