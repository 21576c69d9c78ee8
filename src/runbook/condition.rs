//! `when` conditions: a step runs on a host only if its condition holds on that host's facts.
//!
//! The seed disables irqbalance "for 1-CPU hosts" only, hence `when = "cpus == 1"`. The
//! grammar is deliberately small: `FACT OP VALUE` comparisons joined by `and` / `or`
//! (`and` binds tighter), where FACT is `cpus`, `hostname` or `kernel` (the running
//! release), OP is one of `== != < <= > >=`, and VALUE is an integer or a quoted string.

use crate::facts::Facts;

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    text: String,
    any_of: Vec<Vec<Comparison>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparison {
    fact: Fact,
    op: Op,
    value: Literal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    Cpus,
    Hostname,
    Kernel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Literal {
    Int(i64),
    Str(String),
}

/// A condition that does not parse; `offset` is the byte offset within the condition text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConditionError {
    /// Byte offset in the condition string.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

impl Condition {
    /// Parses condition text.
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let tokens = tokenize(text)?;
        let mut any_of = vec![Vec::new()];
        let mut i = 0;
        loop {
            let (fact, at) = match tokens.get(i) {
                Some((Tok::Word(w), at)) => (w.as_str(), *at),
                Some((_, at)) => {
                    return Err(err(*at, "expected a fact name (cpus, hostname, kernel)"));
                }
                None => return Err(err(text.len(), "expected a comparison such as `cpus == 1`")),
            };
            let fact = match fact {
                "cpus" => Fact::Cpus,
                "hostname" => Fact::Hostname,
                "kernel" => Fact::Kernel,
                other => {
                    return Err(err(
                        at,
                        &format!("unknown fact `{other}` (known: cpus, hostname, kernel)"),
                    ));
                }
            };
            let op = match tokens.get(i + 1) {
                Some((Tok::Op(op), _)) => *op,
                Some((_, at)) => return Err(err(*at, "expected one of == != < <= > >=")),
                None => return Err(err(text.len(), "expected one of == != < <= > >=")),
            };
            let value = match tokens.get(i + 2) {
                Some((Tok::Int(n), _)) => Literal::Int(*n),
                Some((Tok::Str(s), _)) => Literal::Str(s.clone()),
                Some((_, at)) => return Err(err(*at, "expected a number or a quoted string")),
                None => return Err(err(text.len(), "expected a number or a quoted string")),
            };
            if fact == Fact::Cpus && !matches!(value, Literal::Int(_)) {
                return Err(err(tokens[i + 2].1, "`cpus` compares with a number"));
            }
            if let Some(last) = any_of.last_mut() {
                last.push(Comparison { fact, op, value });
            }
            i += 3;
            match tokens.get(i) {
                None => break,
                Some((Tok::Word(w), _)) if w == "and" => {}
                Some((Tok::Word(w), _)) if w == "or" => any_of.push(Vec::new()),
                Some((_, at)) => return Err(err(*at, "expected `and`, `or` or the end")),
            }
            i += 1;
        }
        Ok(Condition {
            text: text.to_string(),
            any_of,
        })
    }

    /// The condition as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Evaluates the condition. A fact the host cannot report (a local tree's CPU count
    /// or running kernel) is an error saying what to do, never a silent false: a step
    /// skipped for want of a fact would look converged.
    pub fn holds(&self, facts: &Facts) -> Result<bool, String> {
        for all in &self.any_of {
            let mut every = true;
            for c in all {
                if !c.holds(facts)? {
                    every = false;
                    break;
                }
            }
            if every {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl Comparison {
    fn holds(&self, facts: &Facts) -> Result<bool, String> {
        use std::cmp::Ordering;
        let unknown = |fact: &str, why: &str| {
            format!("`when` reads `{fact}`, which this host cannot report: {why}")
        };
        let ordering = match (&self.fact, &self.value) {
            (Fact::Cpus, Literal::Int(n)) => match facts.cpus {
                Some(c) => i64::from(c).cmp(n),
                None => {
                    return Err(unknown(
                        "cpus",
                        "a local tree has no CPUs of its own; set `cpus` for it in the inventory",
                    ));
                }
            },
            (Fact::Hostname, Literal::Str(s)) => match &facts.hostname {
                Some(h) => h.as_str().cmp(s.as_str()),
                None => return Err(unknown("hostname", "it reported none")),
            },
            (Fact::Kernel, Literal::Str(s)) => match &facts.kernel_release {
                Some(k) => crate::formats::rpmver::vercmp(k, s),
                None => return Err(unknown("kernel", "a local tree runs no kernel")),
            },
            _ => return Ok(false),
        };
        Ok(match self.op {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Op(Op),
    Int(i64),
    Str(String),
}

fn err(offset: usize, message: &str) -> ConditionError {
    ConditionError {
        offset,
        message: message.to_string(),
    }
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, ConditionError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push((Tok::Word(text[start..i].to_string()), start));
        } else if c.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let n = text[start..i]
                .parse()
                .map_err(|_| err(start, "number too large"))?;
            tokens.push((Tok::Int(n), start));
        } else if c == b'"' || c == b'\'' {
            let end = text[i + 1..]
                .find(c as char)
                .ok_or_else(|| err(start, "unterminated string"))?;
            tokens.push((Tok::Str(text[i + 1..i + 1 + end].to_string()), start));
            i += end + 2;
        } else {
            let two = text.get(i..i + 2).unwrap_or("");
            let (op, len) = match (two, c) {
                ("==", _) => (Op::Eq, 2),
                ("!=", _) => (Op::Ne, 2),
                ("<=", _) => (Op::Le, 2),
                (">=", _) => (Op::Ge, 2),
                (_, b'<') => (Op::Lt, 1),
                (_, b'>') => (Op::Gt, 1),
                _ => return Err(err(start, &format!("unexpected character {:?}", c as char))),
            };
            tokens.push((Tok::Op(op), start));
            i += len;
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(cpus: u32, host: &str) -> Facts {
        Facts {
            cpus: Some(cpus),
            hostname: Some(host.into()),
            kernel_release: Some("2.6.9-55.ELxenU".into()),
            ..Facts::default()
        }
    }

    #[test]
    fn evaluates_comparisons() {
        let one = Condition::parse("cpus == 1").unwrap();
        assert_eq!(one.holds(&facts(1, "a")), Ok(true));
        assert_eq!(one.holds(&facts(2, "a")), Ok(false));
        let c = Condition::parse("cpus > 1 and hostname != 'ng2' or kernel < \"2.6.9-67.ELxenU\"")
            .unwrap();
        assert_eq!(c.holds(&facts(1, "ng2")), Ok(true));
        assert_eq!(c.holds(&facts(4, "x")), Ok(true));
    }

    #[test]
    fn a_fact_the_host_cannot_report_is_an_error_not_false() {
        // A local tree: no CPUs of its own unless the inventory says.
        let e = Condition::parse("cpus == 1")
            .unwrap()
            .holds(&Facts::default())
            .unwrap_err();
        assert!(e.contains("set `cpus` for it in the inventory"), "{e}");
        let e = Condition::parse("kernel >= '2.6'")
            .unwrap()
            .holds(&Facts::default())
            .unwrap_err();
        assert!(e.contains("runs no kernel"), "{e}");
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        assert_eq!(Condition::parse("cpu == 1").unwrap_err().offset, 0);
        assert_eq!(Condition::parse("cpus = 1").unwrap_err().offset, 5);
        assert_eq!(Condition::parse("cpus == 'x'").unwrap_err().offset, 8);
        assert_eq!(
            Condition::parse("cpus == 1 andd cpus == 2")
                .unwrap_err()
                .offset,
            10
        );
    }
}
