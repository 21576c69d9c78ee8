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
//!
//! The write side is [`DomainConfig::with_str`]: one string setting given a new value, every
//! other byte kept, refused (with the line, column and text of the statement responsible)
//! when the value is computed or built in a way a rewrite of one statement cannot follow.
//!
//! The code is split by job: this file holds the model (settings, values, errors) and the
//! [`DomainConfig`] read API; `position` maps byte offsets to lines and columns; `xl` reads
//! the xl dialect and quotes xl strings; `pyliteral` tokenizes Python 2 source and reads its
//! literals; `xm` evaluates an xm config's statements on top of that; `edit` writes values
//! back.

use std::ops::Range;

mod disk;
mod edit;
mod position;
mod pyliteral;
mod xl;
mod xm;

#[cfg(test)]
mod tests;

pub use edit::{EditError, quote_xm_string};
use position::LineIndex;
pub use xl::quote_xl_string;
use xl::{XlParser, xl_effective};
use xm::xm_parse;

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
    /// 1-based line of that statement.
    pub line: usize,
    /// 1-based column of that statement, counted in characters.
    pub column: usize,
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
        if let Value::Str(s) = &eff.value {
            return Some(Ok(s.as_str()));
        }
        Some(Err(self.unreadable(name, eff)))
    }

    /// Why the effective value of `name` (`eff`) cannot be used as a plain value: the
    /// expression for a computed one, else the statement's text, with its position.
    fn unreadable(&self, name: &str, eff: &Effective) -> Unreadable {
        let (line, column) = LineIndex::new(&self.source).pos(eff.origin.start);
        let source_text = match &eff.value {
            Value::Computed(text) => text.clone(),
            _ => self
                .source
                .get(eff.origin.clone())
                .unwrap_or_default()
                .trim()
                .to_string(),
        };
        Unreadable {
            name: name.to_string(),
            source_text,
            line,
            column,
        }
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

    /// The kernel command line the toolstack builds from this file, as xl does: `cmdline`
    /// when it is set (xl then ignores `root` and `extra`, and says so); otherwise
    /// `root=ROOT EXTRA`, `root=ROOT` or `EXTRA`; `None` when none of them is set. For xm,
    /// which has no `cmdline` setting, `root` (without a `root=` the user may have written
    /// already, as xend strips it) and `extra`; the `ip=` part xend adds from `ip`,
    /// `netmask` and the like is not included.
    ///
    /// Exists because a token is on the guest's kernel command line only if it is in what
    /// the toolstack passes, not merely somewhere in the file.
    pub fn cmdline(&self) -> Option<Result<String, Unreadable>> {
        if self.dialect == Dialect::Xl
            && let Some(cmdline) = self.get_str("cmdline")
        {
            return Some(cmdline.map(str::to_string));
        }
        let root = match self.get_str("root").transpose() {
            Ok(root) => root,
            Err(e) => return Some(Err(e)),
        };
        let extra = match self.extra().transpose() {
            Ok(extra) => extra,
            Err(e) => return Some(Err(e)),
        };
        let root = match self.dialect {
            Dialect::Xl => root,
            // xend: `if vals.root:` with `root=` stripped, and `if vals.extra:`.
            Dialect::Xm => root
                .map(|r| r.strip_prefix("root=").unwrap_or(r))
                .filter(|r| !r.is_empty()),
        };
        let extra = match self.dialect {
            Dialect::Xl => extra,
            Dialect::Xm => extra.filter(|e| !e.is_empty()),
        };
        Some(Ok(match (root, extra) {
            (Some(root), Some(extra)) => format!("root={root} {extra}"),
            (Some(root), None) => format!("root={root}"),
            (None, Some(extra)) => extra.to_string(),
            (None, None) => return None,
        }))
    }

    /// The setting that holds the tokens vmup adds to the kernel command line: `cmdline`
    /// in an xl file that sets it (xl ignores `extra` then), `extra` otherwise (xm has no
    /// `cmdline`).
    ///
    /// Exists so command-line edits go where the toolstack reads them.
    pub fn cmdline_setting(&self) -> &'static str {
        if self.dialect == Dialect::Xl && self.get("cmdline").is_some() {
            "cmdline"
        } else {
            "extra"
        }
    }

    fn lookup(&self, name: &str) -> Option<&Effective> {
        self.effective
            .iter()
            .rev()
            .find(|e| e.name == name)
            .or(self.wildcard.as_ref())
    }
}
