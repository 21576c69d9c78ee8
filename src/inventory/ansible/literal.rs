//! INI values as Ansible reads them: a Python literal when `ast.literal_eval` accepts the
//! text (`5`, `0x10`, `1.5`, `True`, `'quoted'`, `[1, 2]`, `{'a': 1}`), else the text.
//!
//! So `port=22` is the number 22, `flag=True` a boolean, `v=yes`, `v=FALSE` and `v=022`
//! strings (not Python literals), exactly as `ansible-inventory --list` shows them.

/// What an INI value is, or why vmup cannot hold it.
pub fn value(text: &str) -> Result<toml::Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
    };
    p.skip_space();
    match p.top() {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(
            "`None` (null) has no TOML value in vmup: leave the variable out or give it a value"
                .to_string(),
        ),
        Err(Unsupported(why)) => Err(why),
        // Not a Python literal: Ansible keeps the text.
        Err(NotLiteral) => Ok(toml::Value::String(text.to_string())),
    }
}

enum Failure {
    NotLiteral,
    Unsupported(String),
}
use Failure::{NotLiteral, Unsupported};

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn at_end_or_comment(&self) -> bool {
        matches!(self.peek(), None | Some(b'#'))
    }

    /// The whole text: one literal, or several separated by commas (a tuple, as Python
    /// reads `80,443`), then nothing but a comment.
    fn top(&mut self) -> Result<Option<toml::Value>, Failure> {
        let first = self.parse()?;
        self.skip_space();
        if self.peek() != Some(b',') {
            return if self.at_end_or_comment() {
                Ok(first)
            } else {
                Err(NotLiteral)
            };
        }
        let mut items = vec![first.ok_or_else(null_inside)?];
        while self.peek() == Some(b',') {
            self.i += 1;
            self.skip_space();
            if self.at_end_or_comment() {
                break;
            }
            items.push(self.parse()?.ok_or_else(null_inside)?);
            self.skip_space();
        }
        if self.at_end_or_comment() {
            Ok(Some(toml::Value::Array(items)))
        } else {
            Err(NotLiteral)
        }
    }

    /// One literal; `None` for Python's `None`.
    fn parse(&mut self) -> Result<Option<toml::Value>, Failure> {
        match self.peek() {
            Some(b'\'' | b'"') => {
                // Adjacent strings concatenate: `'a' 'b'` is `ab`.
                let mut text = self.string()?;
                loop {
                    let before = self.i;
                    self.skip_space();
                    if matches!(self.peek(), Some(b'\'' | b'"')) {
                        text.push_str(&self.string()?);
                    } else {
                        self.i = before;
                        break;
                    }
                }
                Ok(Some(toml::Value::String(text)))
            }
            Some(b'[') => self.sequence(b']').map(Some),
            Some(b'(') => self.sequence(b')').map(Some),
            Some(b'{') => self.dict().map(Some),
            Some(b'-' | b'+' | b'0'..=b'9' | b'.') => self.number().map(Some),
            _ => {
                let start = self.i;
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                    self.i += 1;
                }
                match &self.text[start..self.i] {
                    "True" => Ok(Some(toml::Value::Boolean(true))),
                    "False" => Ok(Some(toml::Value::Boolean(false))),
                    "None" => Ok(None),
                    _ => Err(NotLiteral),
                }
            }
        }
    }

    fn string(&mut self) -> Result<String, Failure> {
        let quote = self.s[self.i];
        if self.s[self.i..].starts_with(&[quote, quote, quote]) {
            return Err(Unsupported(
                "triple-quoted strings are not supported in INI values: use a YAML inventory"
                    .into(),
            ));
        }
        self.i += 1;
        let mut out = String::new();
        let rest = &self.text[self.i..];
        let mut chars = rest.char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                c if c as u32 == quote as u32 => {
                    self.i += k + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '\'')) => out.push('\''),
                    Some((_, '"')) => out.push('"'),
                    Some(_) => {
                        return Err(Unsupported(
                            "only \\n, \\t, \\\\, \\' and \\\" escapes are supported in quoted INI values"
                                .into(),
                        ));
                    }
                    None => return Err(NotLiteral),
                },
                c => out.push(c),
            }
        }
        Err(NotLiteral)
    }

    fn sequence(&mut self, close: u8) -> Result<toml::Value, Failure> {
        self.i += 1;
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.i += 1;
                // `(1)` is 1; `(1,)` and `()` are tuples.
                if close == b')' && items.len() == 1 && !comma {
                    return Ok(items.remove(0));
                }
                return Ok(toml::Value::Array(items));
            }
            items.push(self.parse()?.ok_or_else(null_inside)?);
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    comma = true;
                    self.i += 1;
                }
                Some(c) if c == close => {}
                _ => return Err(NotLiteral),
            }
        }
    }

    fn dict(&mut self) -> Result<toml::Value, Failure> {
        self.i += 1;
        let mut table = toml::map::Map::new();
        loop {
            self.skip_space();
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(toml::Value::Table(table));
            }
            let key = match self.parse()? {
                Some(toml::Value::String(k)) => k,
                _ => {
                    return Err(Unsupported(
                        "dictionary keys in INI values must be strings".into(),
                    ));
                }
            };
            self.skip_space();
            if self.peek() != Some(b':') {
                // `{1, 2}` is a set, or not a literal at all.
                return Err(NotLiteral);
            }
            self.i += 1;
            self.skip_space();
            let value = self.parse()?.ok_or_else(null_inside)?;
            table.insert(key, value);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {}
                _ => return Err(NotLiteral),
            }
        }
    }

    fn number(&mut self) -> Result<toml::Value, Failure> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'-'))
        {
            // A sign only at the start or after an exponent.
            if matches!(self.peek(), Some(b'+' | b'-'))
                && self.i > start
                && !matches!(self.s[self.i - 1], b'e' | b'E')
            {
                break;
            }
            self.i += 1;
        }
        let word = &self.text[start..self.i];
        let (negative, body) = match word.as_bytes().first() {
            Some(b'-') => (true, &word[1..]),
            Some(b'+') => (false, &word[1..]),
            _ => (false, word),
        };
        let digits = |s: &str, radix: u32| -> Option<i64> {
            if s.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
                return None;
            }
            i64::from_str_radix(&s.replace('_', ""), radix).ok()
        };
        let lower = body.to_ascii_lowercase();
        let int = if let Some(h) = lower.strip_prefix("0x") {
            digits(h, 16)
        } else if let Some(o) = lower.strip_prefix("0o") {
            digits(o, 8)
        } else if let Some(b) = lower.strip_prefix("0b") {
            digits(b, 2)
        } else if body.bytes().all(|c| c.is_ascii_digit() || c == b'_')
            && (body == "0" || !body.starts_with('0') || body.bytes().all(|c| c == b'0'))
        {
            digits(body, 10)
        } else {
            None
        };
        if let Some(n) = int {
            return Ok(toml::Value::Integer(if negative { -n } else { n }));
        }
        if !body.is_empty() && body.bytes().all(|c| c.is_ascii_digit()) && !body.starts_with('0') {
            return Err(Unsupported(format!(
                "{word} is too large for a vmup number (64 bits): quote it to keep it as text"
            )));
        }
        let is_float = body.bytes().any(|c| matches!(c, b'.' | b'e' | b'E'))
            && body
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
            && body.bytes().filter(|c| *c == b'.').count() <= 1
            && body.bytes().next().is_some_and(|c| c != b'e' && c != b'E');
        if is_float && let Ok(f) = body.parse::<f64>() {
            return Ok(toml::Value::Float(if negative { -f } else { f }));
        }
        Err(NotLiteral)
    }
}

fn null_inside() -> Failure {
    Unsupported(
        "`None` (null) inside a list or dict has no TOML value in vmup: leave it out".into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use toml::Value::{Boolean, Float, Integer, String as Str};

    fn v(s: &str) -> toml::Value {
        value(s).expect(s)
    }

    #[test]
    fn python_literals_become_values_and_the_rest_stays_text() {
        assert_eq!(v("22"), Integer(22));
        assert_eq!(v("-3"), Integer(-3));
        assert_eq!(v("0x10"), Integer(16));
        assert_eq!(v("1_000"), Integer(1000));
        assert_eq!(v("1.5"), Float(1.5));
        assert_eq!(v("1e3"), Float(1000.0));
        assert_eq!(v("True"), Boolean(true));
        assert_eq!(v("'x y'"), Str("x y".into()));
        assert_eq!(v("1 # comment"), Integer(1));
        assert_eq!(
            v("[1, 'a']"),
            toml::Value::Array(vec![Integer(1), Str("a".into())])
        );
        assert_eq!(v("{'a': 1}").get("a"), Some(&Integer(1)));
        for text in [
            "yes", "FALSE", "true", "022", "1.2.3", "10.0.0.1", "a b", "'open", "[1,",
        ] {
            assert_eq!(v(text), Str(text.into()), "{text}");
        }
        assert_eq!(
            v("80, 443"),
            toml::Value::Array(vec![Integer(80), Integer(443)])
        );
        assert_eq!(v("(1)"), Integer(1));
        assert_eq!(v("(1,)"), toml::Value::Array(vec![Integer(1)]));
        assert_eq!(v("'a' \"b\""), Str("ab".into()));
        assert_eq!(v("a,b"), Str("a,b".into()));
        assert!(value("99999999999999999999").is_err());
        assert!(value("None").is_err());
        assert!(value("[None]").is_err());
    }
}
