//! Ansible's INI inventory: `[group]` host lines with `key=value` vars, `[group:vars]`,
//! `[group:children]`, comments with `#` or `;`.
//!
//! Read as Ansible 2.14's `ini` inventory plugin reads it: a host line is split like a
//! shell line (quotes, `#` comments), values are Python literals or text
//! ([`super::literal`]), a `:vars` line is `key=value` with the value trimmed, and a child
//! group or a `:vars` section must name a group declared somewhere in the file.

use super::{Model, ParseError, Pos, Var, VarMap, literal, range};

/// Parses INI inventory text into the model.
pub fn parse(text: &str) -> Result<Model, ParseError> {
    let mut model = Model::new();
    let mut section = Section::Hosts("ungrouped".to_string());
    // Groups that a `[g]` or `[g:children]` header declares (`all`, `ungrouped` built in).
    let mut declared: Vec<String> = vec!["all".into(), "ungrouped".into()];
    // Where each `[g:vars]` or child reference named a group, checked at the end.
    let mut references: Vec<(String, Pos, &'static str)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index + 1;
        let indent = raw.len() - raw.trim_start().len();
        let line = raw.trim();
        let pos = |byte: usize| Pos {
            line: line_no,
            column: raw[..(indent + byte).min(raw.len())].chars().count() + 1,
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            let (name, kind) = header(line).map_err(|m| ParseError::new(pos(0), m))?;
            let at = pos(1);
            section = match kind {
                "" | "hosts" => {
                    declared.push(name.to_string());
                    model.add_group(name, at);
                    Section::Hosts(name.to_string())
                }
                "children" => {
                    declared.push(name.to_string());
                    model.add_group(name, at);
                    Section::Children(name.to_string())
                }
                "vars" => {
                    references.push((name.to_string(), at, "vars"));
                    Section::Vars(name.to_string())
                }
                other => {
                    return Err(ParseError::new(
                        pos(name.len() + 2),
                        format!(
                            "section [{name}:{other}] has an unknown type: use [{name}], [{name}:vars] or [{name}:children]"
                        ),
                    ));
                }
            };
            continue;
        }
        match &section {
            Section::Hosts(group) => {
                let words = shell_words(line).map_err(|(at, m)| ParseError::new(pos(at), m))?;
                let Some((pattern, at)) = words.first() else {
                    continue;
                };
                let (hosts, port) =
                    range::expand(pattern).map_err(|m| ParseError::new(pos(*at), m))?;
                let mut vars = VarMap::new();
                if let Some(port) = port {
                    vars.insert(
                        "ansible_port".into(),
                        Var {
                            value: toml::Value::Integer(port.into()),
                            pos: pos(*at),
                        },
                    );
                }
                for (word, at) in &words[1..] {
                    let Some((key, value)) = word.split_once('=') else {
                        return Err(ParseError::new(
                            pos(*at),
                            format!(
                                "expected key=value after the host name, got {word:?} (quote values with spaces)"
                            ),
                        ));
                    };
                    let value = literal::value(value)
                        .map_err(|m| ParseError::new(pos(*at + key.len() + 1), m))?;
                    vars.insert(
                        key.to_string(),
                        Var {
                            value,
                            pos: pos(*at),
                        },
                    );
                }
                for host in hosts {
                    model.add_host(group, &host, pos(*at), vars.clone());
                }
            }
            Section::Children(group) => {
                let child = line
                    .split_once('#')
                    .map_or(line, |(name, _)| name)
                    .trim_end();
                if child.is_empty()
                    || child.contains([':', ']'])
                    || child.contains(char::is_whitespace)
                {
                    return Err(ParseError::new(
                        pos(0),
                        format!("expected a group name in [{group}:children], got {line:?}"),
                    ));
                }
                references.push((child.to_string(), pos(0), "children"));
                model.add_child(group, child, pos(0));
            }
            Section::Vars(group) => {
                let Some((key, value)) = line.split_once('=') else {
                    return Err(ParseError::new(
                        pos(0),
                        format!("expected key=value in [{group}:vars], got {line:?}"),
                    ));
                };
                let (key, value) = (key.trim(), value.trim());
                let value_at = line.len()
                    - line[line.find('=').map_or(0, |i| i + 1)..]
                        .trim_start()
                        .len();
                let value = literal::value(value).map_err(|m| ParseError::new(pos(value_at), m))?;
                model.set_group_var(group, key, Var { value, pos: pos(0) });
            }
        }
    }
    for (group, pos, what) in references {
        if !declared.contains(&group) {
            let message = match what {
                "vars" => format!(
                    "[{group}:vars] is for a group that is not declared: add a [{group}] or [{group}:children] section"
                ),
                _ => format!(
                    "child group {group} is not declared: add a [{group}] or [{group}:children] section"
                ),
            };
            return Err(ParseError::new(pos, message));
        }
    }
    Ok(model)
}

enum Section {
    Hosts(String),
    Children(String),
    Vars(String),
}

/// `[name]` or `[name:kind]`, with an optional trailing comment.
fn header(line: &str) -> Result<(&str, &str), String> {
    let bad = || {
        format!(
            "invalid section {line:?}: a section is [group], [group:vars] or [group:children], without spaces"
        )
    };
    let close = line.find(']').ok_or_else(bad)?;
    let rest = line[close + 1..].trim_start();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return Err(bad());
    }
    let inner = &line[1..close];
    let (name, kind) = inner.split_once(':').unwrap_or((inner, ""));
    if name.is_empty()
        || name.contains(char::is_whitespace)
        || kind.contains(':')
        || kind.contains(char::is_whitespace)
    {
        return Err(bad());
    }
    Ok((name, kind))
}

/// Splits a host line as Python's `shlex.split(line, comments=True)` does, with each
/// word's byte offset: quotes group and are removed, `\` escapes outside single quotes,
/// `#` starts a comment.
fn shell_words(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut words = Vec::new();
    let mut word: Option<(String, usize)> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                words.extend(word.take());
            }
            '#' => break,
            '\'' | '"' => {
                let w = word.get_or_insert_with(|| (String::new(), i));
                loop {
                    match chars.next() {
                        Some((_, q)) if q == c => break,
                        Some((_, '\\')) if c == '"' => match chars.peek() {
                            Some((_, e @ ('"' | '\\'))) => {
                                w.0.push(*e);
                                chars.next();
                            }
                            _ => w.0.push('\\'),
                        },
                        Some((_, other)) => w.0.push(other),
                        None => return Err((i, "no closing quotation".to_string())),
                    }
                }
            }
            '\\' => {
                let w = word.get_or_insert_with(|| (String::new(), i));
                match chars.next() {
                    Some((_, e)) => w.0.push(e),
                    None => return Err((i, "no escaped character".to_string())),
                }
            }
            c => word.get_or_insert_with(|| (String::new(), i)).0.push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_like_shlex() {
        let words = |l: &str| -> Vec<String> {
            shell_words(l)
                .unwrap()
                .into_iter()
                .map(|(w, _)| w)
                .collect()
        };
        assert_eq!(
            words("h a='x y' b=\"q\\\"\" c=d#e f"),
            ["h", "a=x y", "b=q\"", "c=d"]
        );
        assert_eq!(shell_words("h  b=1").unwrap()[1].1, 3);
        assert!(shell_words("h a='x").is_err());
    }

    #[test]
    fn errors_point_at_the_line_and_column() {
        let err = |t: &str| {
            let e = parse(t).unwrap_err();
            (e.pos.line, e.pos.column, e.message)
        };
        let (l, c, m) = err("[web]\nw1 novalue\n");
        assert_eq!((l, c), (2, 4), "{m}");
        assert!(m.contains("expected key=value"), "{m}");
        let (l, c, m) = err("[web]\nw1\n[web:bogus]\n");
        assert_eq!((l, c), (3, 6), "{m}");
        let (l, _, m) = err("[a:children]\nmissing\n");
        assert_eq!(l, 2);
        assert!(m.contains("child group missing is not declared"), "{m}");
        let (l, _, m) = err("[x:vars]\na=1\n");
        assert_eq!(l, 1);
        assert!(
            m.contains("[x:vars] is for a group that is not declared"),
            "{m}"
        );
        let (l, c, m) = err("[g]\n  h[1:x] a=1\n");
        assert_eq!((l, c), (2, 3), "{m}");
        let (_, _, m) = err("[g]\nh a=None\n");
        assert!(m.contains("null"), "{m}");
        let (_, _, m) = err("[g broken]\n");
        assert!(m.contains("invalid section"), "{m}");
    }
}
