//! The write side of domain configs: a string setting given a new value, every other byte
//! of the file kept, or a refusal that says where and why.
//!
//! The new value is quoted for the file's dialect ([`quote_xl_string`], [`quote_xm_string`])
//! and spliced over the value of the statement that decides the effective value; a name the
//! file never sets gets a `name = "value"` line at the end. What cannot be rewritten that
//! way is refused, never guessed: a value xm computes (an expression, a conditional or
//! nested assignment, a statement that may rebind the name), a number or list where a
//! string is wanted, and a `+=` chain whose earlier part the new value does not keep
//! (rewriting the last `+=` could not give it). Every edit is read back before it is
//! returned: the name must read as the new value and every other name as before.

use super::position::{LineIndex, text};
use super::pyliteral::is_keyword;
use super::xl::quote_xl_string;
use super::{AssignOp, Dialect, DomainConfig, Value};

/// Why a setting cannot be given a new value, and where.
///
/// Exists so the caller can point the user at the statement to edit by hand; displays as
/// `line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct EditError {
    /// 1-based line of the statement responsible (the end of the file for a new setting).
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What stands in the way, with the statement's source text.
    pub message: String,
}

/// Writes `s` as a Python 2 string literal that xend's `execfile` and this crate's xm
/// reader both read back as exactly `s`.
///
/// Exists for the write side of xm configs. Non-ASCII characters are written as `\xHH`
/// escapes of their UTF-8 bytes: Python 2.5 and later refuse a source file holding
/// non-ASCII bytes without an encoding declaration, and a plain string literal holds bytes.
/// Control characters are escaped too, so the literal stays on one line.
pub fn quote_xm_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// At most this many characters of a statement are quoted in a refusal.
const SHOWN: usize = 120;

/// A statement's text for messages: trimmed, on one line, cut at [`SHOWN`] characters.
fn shown(statement: &str) -> String {
    let one_line: String = statement
        .trim()
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if one_line.chars().count() > SHOWN {
        let cut: String = one_line.chars().take(SHOWN - 3).collect();
        format!("{cut}...")
    } else {
        one_line
    }
}

impl DomainConfig {
    /// The file's text with `name` set to the string `value`: the statement that decides
    /// its value gets the new (quoted) value, or a `name = "value"` line is appended when
    /// the file never sets it. Every other byte is kept; an unchanged value returns the
    /// source as it is (its quoting included).
    ///
    /// Exists so vmup can update a guest's kernel, ramdisk and command line in the host's
    /// config without rewriting anything else in it.
    ///
    /// # Errors
    ///
    /// The effective value is computed (xm expressions, conditionals, nested or deferred
    /// assignments, anything after `exec` or `from m import *`), or is a number or a list;
    /// the value is built by `+=` and the new one does not start with the part set before
    /// the last `+=`; the name cannot be written as a new setting; the value holds a NUL; or
    /// the edited file would not read back as intended. Each names the line and column of
    /// the statement responsible and quotes it.
    pub fn with_str(&self, name: &str, value: &str) -> Result<String, EditError> {
        let lines = LineIndex::new(&self.source);
        let at = |offset: usize, message: String| {
            let (line, column) = lines.pos(offset);
            EditError {
                line,
                column,
                message,
            }
        };
        let end = self.source.len();
        if value.contains('\0') {
            return Err(at(
                end,
                format!("`{name}` cannot hold a NUL byte: no domain config can"),
            ));
        }
        let edited = match self.lookup(name) {
            None => self.appended(name, value).map_err(|m| at(end, m))?,
            Some(eff) => {
                let statement = shown(text(&self.source, eff.origin.clone()));
                let current = match &eff.value {
                    Value::Str(current) => current,
                    Value::Computed(_) => {
                        return Err(at(
                            eff.origin.start,
                            format!(
                                "`{name}` is computed by `{statement}`: vmup does not rewrite \
                                 what the file computes; edit it by hand"
                            ),
                        ));
                    }
                    Value::Int(_) | Value::List(_) => {
                        return Err(at(
                            eff.origin.start,
                            format!(
                                "`{name}` is set by `{statement}`, which is not a string; \
                                 edit it by hand"
                            ),
                        ));
                    }
                };
                if current == value {
                    return Ok(self.source.clone());
                }
                let Some(setting) = self
                    .settings
                    .iter()
                    .rev()
                    .find(|s| s.name == name && s.span == eff.origin && !s.nested)
                else {
                    return Err(at(
                        eff.origin.start,
                        format!(
                            "`{name}` is decided by `{statement}`, which is not an assignment vmup can rewrite"
                        ),
                    ));
                };
                let new_text = match setting.op {
                    AssignOp::Set => value,
                    AssignOp::Append => {
                        let base = match &setting.value {
                            Value::Str(suffix) => current.strip_suffix(suffix.as_str()),
                            _ => None,
                        };
                        match base.and_then(|base| value.strip_prefix(base)) {
                            Some(rest) => rest,
                            None => {
                                return Err(at(
                                    setting.span.start,
                                    format!(
                                        "`{name}` is built with `+=` (last by `{statement}`): the new \
                                         value {value:?} does not start with {:?}, the part set before \
                                         that line, so rewriting it cannot give the new value; edit it \
                                         by hand",
                                        base.unwrap_or_default()
                                    ),
                                ));
                            }
                        }
                    }
                };
                let range = setting.value_span.clone();
                format!(
                    "{}{}{}",
                    text(&self.source, 0..range.start),
                    self.quote(new_text),
                    text(&self.source, range.end..end)
                )
            }
        };
        self.reads_back(&edited, name, value)
            .map_err(|m| at(end, m))?;
        Ok(edited)
    }

    /// A value quoted for this file's dialect.
    fn quote(&self, value: &str) -> String {
        match self.dialect {
            Dialect::Xl => quote_xl_string(value),
            Dialect::Xm => quote_xm_string(value),
        }
    }

    /// The source with a `name = "value"` line at the end, or why it cannot be added.
    fn appended(&self, name: &str, value: &str) -> Result<String, String> {
        let plain = name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !plain || is_keyword(name) {
            return Err(format!(
                "`{name}` cannot be written as a new setting (a lowercase name of letters, digits \
                 and `_` that is not a Python keyword)"
            ));
        }
        let mut out = self.source.clone();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{name} = {}\n", self.quote(value)));
        Ok(out)
    }

    /// Checks that `edited` reads `name` as `value` and every other name as this file does.
    fn reads_back(&self, edited: &str, name: &str, value: &str) -> Result<(), String> {
        let reread = DomainConfig::parse(edited, self.dialect).map_err(|e| {
            format!(
                "setting `{name}` would leave a file that does not parse ({e}); edit it by hand"
            )
        })?;
        if reread.get_str(name).and_then(Result::ok) != Some(value) {
            return Err(format!(
                "setting `{name}` would not read back as {value:?}; edit it by hand"
            ));
        }
        let names = self
            .effective
            .iter()
            .map(|e| e.name.as_str())
            .chain(reread.effective.iter().map(|e| e.name.as_str()));
        for other in names.filter(|n| *n != name) {
            if reread.get(other) != self.get(other) {
                return Err(format!(
                    "setting `{name}` would change `{other}` too; edit it by hand"
                ));
            }
        }
        Ok(())
    }
}
