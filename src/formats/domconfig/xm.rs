//! The xm dialect (xend's Python 2 configs): splits the tokenized source into statements
//! and blocks, records every assignment, and works out each name's effective value,
//! conservatively marking as computed whatever a statement may have changed.

use std::ops::Range;

use super::position::{LineIndex, text};
use super::pyliteral::{PyKind, PyLine, PyTok, is_keyword, py_literal, py_tokenize};
use super::{AssignOp, Effective, ParseError, Setting, Value};

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

pub(super) fn xm_parse(src: &str, lines: &LineIndex<'_>) -> Result<XmParsed, ParseError> {
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
