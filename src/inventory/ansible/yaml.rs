//! Ansible's YAML inventory: top-level groups, each with `hosts`, `vars` and `children`.
//!
//! Read as Ansible 2.14's `yaml` inventory plugin reads it, with PyYAML's YAML 1.1 scalars
//! (`yes`/`on` are booleans, `010` is 8), since that is what Ansible's loader makes of the
//! same file. What vmup cannot represent or would read differently is refused at its
//! `line:column`: `!vault` and other tags (but `!!str` and `!unsafe`: text), merge keys (`<<`), nulls as variable values,
//! sexagesimal numbers and timestamps other than a plain date, duplicate keys, a
//! `plugin:` configuration instead of an inventory.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::{Model, ParseError, Pos, Var, VarMap, range};

/// A YAML node with the place it starts.
#[derive(Debug, Clone)]
struct Node {
    pos: Pos,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Text, whether it was quoted, and its tag.
    Scalar(String, bool, Option<Tag>),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Parses YAML inventory text into the model.
pub fn parse(text: &str) -> Result<Model, ParseError> {
    read(text).map_err(|mut e| {
        e.pos = within(text, e.pos);
        e
    })
}

/// `pos` moved inside `text`: the YAML parser places errors at the end of input on the
/// line after the last and at the end of a line one column past it.
fn within(text: &str, pos: Pos) -> Pos {
    let lines: Vec<&str> = text.split('\n').collect();
    let line = pos.line.clamp(1, lines.len());
    let width = lines[line - 1].chars().count();
    let column = if pos.line > lines.len() {
        width + 1
    } else {
        pos.column.clamp(1, width + 1)
    };
    Pos { line, column }
}

fn read(text: &str) -> Result<Model, ParseError> {
    let root = load(text)?;
    let mut model = Model::new();
    let Some(root) = root else {
        return Err(ParseError::new(
            Pos { line: 1, column: 1 },
            "the YAML inventory is empty: it needs at least one group (`all:`)",
        ));
    };
    let Kind::Map(groups) = &root.kind else {
        return Err(ParseError::new(
            root.pos,
            "a YAML inventory is a mapping of group names (`all:`) to their hosts, vars and children",
        ));
    };
    if let Some((k, _)) = groups.iter().find(|(k, _)| key_text(k) == Some("plugin")) {
        return Err(ParseError::new(
            k.pos,
            "this is an inventory plugin's configuration (`plugin:`), which vmup cannot run: \
             write the hosts out with `ansible-inventory -i FILE --list -y` and use that",
        ));
    }
    for (name, body) in groups {
        let name = group_name(name)?;
        group(&mut model, &name, body)?;
        if name != "all" {
            model.add_child("all", &name, body.pos);
        }
    }
    Ok(model)
}

fn group(model: &mut Model, name: &str, body: &Node) -> Result<(), ParseError> {
    model.add_group(name, body.pos);
    let entries = match &body.kind {
        Kind::Map(entries) => entries,
        _ if is_null(body) => return Ok(()),
        _ => {
            return Err(ParseError::new(
                body.pos,
                format!("group {name} must be a mapping with `hosts`, `vars` and `children`"),
            ));
        }
    };
    check_unique(entries)?;
    for (key, value) in entries {
        let section = key_text(key).unwrap_or("");
        if is_null(value) && matches!(section, "hosts" | "vars" | "children") {
            continue;
        }
        let single;
        let items: &[(Node, Node)] = match (&value.kind, section) {
            (Kind::Map(items), "hosts" | "vars" | "children") => items,
            (Kind::Scalar(s, _, None), "hosts" | "children") => {
                // Ansible allows one name as a string.
                let one = Node {
                    pos: value.pos,
                    kind: Kind::Scalar(s.clone(), false, None),
                };
                single = [(one, null(value.pos))];
                &single
            }
            (_, "hosts" | "vars" | "children") => {
                return Err(ParseError::new(
                    value.pos,
                    format!("`{section}` of group {name} must be a mapping"),
                ));
            }
            _ => {
                return Err(ParseError::new(
                    key.pos,
                    format!(
                        "unexpected key {:?} in group {name}: only `hosts`, `vars` and `children` are valid",
                        key_text(key).unwrap_or("?")
                    ),
                ));
            }
        };
        check_unique(items)?;
        match section {
            "vars" => {
                for (k, v) in items {
                    let var = variable(k, v)?;
                    model.set_group_var(name, &var.0, var.1);
                }
            }
            "children" => {
                for (k, v) in items {
                    let child = group_name(k)?;
                    group(model, &child, v)?;
                    model.add_child(name, &child, k.pos);
                }
            }
            _ => {
                for (k, v) in items {
                    let pattern = key_text(k).ok_or_else(|| {
                        ParseError::new(k.pos, "a host name must be a plain string")
                    })?;
                    let (hosts, port) =
                        range::expand(pattern).map_err(|m| ParseError::new(k.pos, m))?;
                    let mut vars = VarMap::new();
                    if let Some(port) = port {
                        vars.insert(
                            "ansible_port".into(),
                            Var {
                                value: toml::Value::Integer(port.into()),
                                pos: k.pos,
                            },
                        );
                    }
                    match &v.kind {
                        Kind::Map(host_vars) => {
                            check_unique(host_vars)?;
                            for (hk, hv) in host_vars {
                                let (key, var) = variable(hk, hv)?;
                                vars.insert(key, var);
                            }
                        }
                        _ if is_null(v) => {}
                        _ => {
                            return Err(ParseError::new(
                                v.pos,
                                format!("host {pattern}'s variables must be a mapping"),
                            ));
                        }
                    }
                    for host in hosts {
                        model.add_host(name, &host, k.pos, vars.clone());
                    }
                }
            }
        }
    }
    Ok(())
}

fn group_name(node: &Node) -> Result<String, ParseError> {
    key_text(node)
        .map(str::to_string)
        .ok_or_else(|| ParseError::new(node.pos, "a group name must be a plain string"))
}

fn variable(key: &Node, value: &Node) -> Result<(String, Var), ParseError> {
    let name = key_text(key)
        .ok_or_else(|| ParseError::new(key.pos, "a variable name must be a plain string"))?;
    if name == "<<" {
        return Err(ParseError::new(
            key.pos,
            "merge keys (`<<`) are not supported: write the variables out",
        ));
    }
    Ok((
        name.to_string(),
        Var {
            value: to_value(value)?,
            pos: key.pos,
        },
    ))
}

/// The text of a scalar key (`None` for a mapping or sequence).
fn key_text(node: &Node) -> Option<&str> {
    match &node.kind {
        Kind::Scalar(s, _, None) => Some(s),
        _ => None,
    }
}

fn null(pos: Pos) -> Node {
    Node {
        pos,
        kind: Kind::Scalar(String::new(), false, None),
    }
}

fn is_null(node: &Node) -> bool {
    matches!(&node.kind, Kind::Scalar(s, false, None) if matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL"))
}

fn check_unique(entries: &[(Node, Node)]) -> Result<(), ParseError> {
    for (i, (k, _)) in entries.iter().enumerate() {
        if let Some(text) = key_text(k)
            && entries[..i].iter().any(|(e, _)| key_text(e) == Some(text))
        {
            return Err(ParseError::new(
                k.pos,
                format!("duplicate key {text:?}: Ansible would keep only the last one; remove one"),
            ));
        }
    }
    Ok(())
}

/// A YAML value as PyYAML (YAML 1.1) resolves it, as a TOML value.
fn to_value(node: &Node) -> Result<toml::Value, ParseError> {
    match &node.kind {
        Kind::Seq(items) => items
            .iter()
            .map(to_value)
            .collect::<Result<Vec<_>, _>>()
            .map(toml::Value::Array),
        Kind::Map(entries) => {
            check_unique(entries)?;
            let mut table = toml::map::Map::new();
            for (k, v) in entries {
                let (name, var) = variable(k, v)?;
                table.insert(name, var.value);
            }
            Ok(toml::Value::Table(table))
        }
        // `!!str 5` is the text 5; `!unsafe` only tells Ansible not to template it, and
        // vmup never templates a variable's value.
        Kind::Scalar(s, _, Some(tag))
            if (tag.suffix == "str"
                && matches!(tag.handle.as_str(), "!!" | "tag:yaml.org,2002:"))
                || (tag.suffix == "unsafe" && tag.handle == "!") =>
        {
            Ok(toml::Value::String(s.clone()))
        }
        Kind::Scalar(_, _, Some(tag)) => {
            let what = if tag.suffix == "vault" {
                "vault-encrypted values (`!vault`) are not supported: vmup cannot decrypt them; \
                 keep secrets out of the inventory vmup reads"
                    .to_string()
            } else {
                format!(
                    "the YAML tag {}{} is not supported: remove it",
                    tag.handle, tag.suffix
                )
            };
            Err(ParseError::new(node.pos, what))
        }
        Kind::Scalar(s, true, None) => Ok(toml::Value::String(s.clone())),
        Kind::Scalar(s, false, None) => plain(s).map_err(|m| ParseError::new(node.pos, m)),
    }
}

/// PyYAML's implicit resolution of a plain scalar.
fn plain(s: &str) -> Result<toml::Value, String> {
    use toml::Value::{Boolean, Float, Integer, String as Str};
    match s {
        "" | "~" | "null" | "Null" | "NULL" => {
            return Err(
                "a null value has no TOML value in vmup: leave the variable out or give it a value"
                    .into(),
            );
        }
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Boolean(true));
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Boolean(false));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Ok(Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Ok(Float(f64::NAN)),
        _ => {}
    }
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let signed = |n: i64| Integer(if negative { -n } else { n });
    let clean = body.replace('_', "");
    let numeric = |c: u8| c.is_ascii_digit() || c == b'_';
    if !body.is_empty() && body.as_bytes()[0].is_ascii_digit() || body.starts_with('.') {
        if body.contains(':') && body.bytes().all(|c| numeric(c) || c == b':' || c == b'.') {
            return Err(format!(
                "{s:?} is a base-60 number in YAML 1.1 (as Ansible reads it): quote it"
            ));
        }
        if let Some(hex) = body.strip_prefix("0x") {
            if let Ok(n) = i64::from_str_radix(&hex.replace('_', ""), 16) {
                return Ok(signed(n));
            }
        } else if let Some(bin) = body.strip_prefix("0b") {
            if let Ok(n) = i64::from_str_radix(&bin.replace('_', ""), 2) {
                return Ok(signed(n));
            }
        } else if body.len() > 1 && body.starts_with('0') && body.bytes().all(numeric) {
            if body
                .bytes()
                .all(|c| (b'0'..=b'7').contains(&c) || c == b'_')
            {
                if let Ok(n) = i64::from_str_radix(&clean, 8) {
                    return Ok(signed(n));
                }
            } else {
                return Ok(Str(s.to_string()));
            }
        } else if body.bytes().all(numeric) {
            return clean
                .parse::<i64>()
                .map(signed)
                .map_err(|_| format!("{s:?} is too large for a number: quote it"));
        }
        if is_float(body)
            && let Ok(f) = clean.parse::<f64>()
        {
            return Ok(Float(if negative { -f } else { f }));
        }
        if is_timestamp(s) {
            if is_plain_date(s) {
                return Ok(Str(s.to_string()));
            }
            return Err(format!(
                "{s:?} is a timestamp in YAML 1.1 (as Ansible reads it): quote it"
            ));
        }
    }
    Ok(Str(s.to_string()))
}

/// PyYAML's float: digits, one `.`, optional signed exponent (`1e3` is not one).
fn is_float(body: &str) -> bool {
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let Some((int, frac)) = mantissa.split_once('.') else {
        return false;
    };
    let digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit() || c == b'_');
    let int_ok = (int.is_empty() && !frac.is_empty()) || (digits(int) && !int.starts_with('_'));
    let exp_ok = match exponent {
        None => true,
        Some(e) => {
            (e.starts_with('+') || e.starts_with('-'))
                && e.len() > 1
                && e[1..].bytes().all(|c| c.is_ascii_digit())
        }
    };
    int_ok && digits(frac) && exp_ok
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && s[5..]
            .split(['-', 'T', 't', ' '])
            .next()
            .is_some_and(|m| !m.is_empty() && m.len() <= 2 && m.bytes().all(|c| c.is_ascii_digit()))
        && s[5..].contains('-')
}

fn is_plain_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Builds the node tree from the parser's events, keeping anchors for aliases.
struct Builder {
    lines: Lines,
    stack: Vec<(Pos, Vec<Node>, bool, usize)>,
    anchors: std::collections::HashMap<usize, Node>,
    root: Option<Node>,
    documents: usize,
}

/// Turns the parser's places into lines and columns of the text as every other vmup
/// message counts them: lines end at `\n` only (YAML also breaks lines at a lone `\r`),
/// from the marker's character index.
struct Lines {
    /// Character index where each line starts, and its width in characters.
    lines: Vec<(usize, usize)>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut lines = Vec::new();
        let mut start = 0;
        for line in text.split('\n') {
            let width = line.chars().count();
            lines.push((start, width));
            start += width + 1;
        }
        Lines { lines }
    }

    fn pos(&self, mark: Marker) -> Pos {
        let index = mark.index();
        let i = self
            .lines
            .partition_point(|(start, _)| *start <= index)
            .saturating_sub(1);
        let (start, width) = self.lines.get(i).copied().unwrap_or((0, 0));
        Pos {
            line: i + 1,
            column: (index - start.min(index) + 1).min(width + 1),
        }
    }
}

impl Builder {
    fn push(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some((_, items, _, _)) => items.push(node),
            None => self.root = Some(node),
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = self.lines.pos(mark);
        match ev {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(text, style, anchor, tag) => {
                let quoted = !matches!(style, TScalarStyle::Plain);
                self.push(
                    Node {
                        pos,
                        kind: Kind::Scalar(text, quoted, tag),
                    },
                    anchor,
                );
            }
            Event::SequenceStart(anchor, _) => self.stack.push((pos, Vec::new(), false, anchor)),
            Event::MappingStart(anchor, _) => self.stack.push((pos, Vec::new(), true, anchor)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((pos, items, is_map, anchor)) = self.stack.pop() {
                    let kind = if is_map {
                        let mut pairs = Vec::new();
                        let mut it = items.into_iter();
                        while let (Some(k), Some(v)) = (it.next(), it.next()) {
                            pairs.push((k, v));
                        }
                        Kind::Map(pairs)
                    } else {
                        Kind::Seq(items)
                    };
                    self.push(Node { pos, kind }, anchor);
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().unwrap_or_else(|| null(pos));
                self.push(node, 0);
            }
            _ => {}
        }
    }
}

fn load(text: &str) -> Result<Option<Node>, ParseError> {
    let mut builder = Builder {
        lines: Lines::new(text),
        stack: Vec::new(),
        anchors: std::collections::HashMap::new(),
        root: None,
        documents: 0,
    };
    Parser::new_from_str(text)
        .load(&mut builder, true)
        .map_err(|e| ParseError::new(Lines::new(text).pos(*e.marker()), e.info().to_string()))?;
    if builder.documents > 1 {
        return Err(ParseError::new(
            Pos { line: 1, column: 1 },
            "a YAML inventory is one document: remove the extra `---` documents",
        ));
    }
    Ok(builder.root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_resolve_as_pyyaml_does() {
        use toml::Value::{Boolean, Float, Integer, String as Str};
        let ok = |s: &str| plain(s).expect(s);
        assert_eq!(ok("yes"), Boolean(true));
        assert_eq!(ok("Off"), Boolean(false));
        assert_eq!(ok("010"), Integer(8));
        assert_eq!(ok("089"), Str("089".into()));
        assert_eq!(ok("0x1f"), Integer(31));
        assert_eq!(ok("-12"), Integer(-12));
        assert_eq!(ok("1.5"), Float(1.5));
        assert_eq!(ok("1e3"), Str("1e3".into()));
        assert_eq!(ok("1.0e+3"), Float(1000.0));
        assert_eq!(ok("10.0.0.1"), Str("10.0.0.1".into()));
        assert_eq!(ok("2001-12-14"), Str("2001-12-14".into()));
        assert_eq!(ok("y"), Str("y".into()));
        for bad in ["", "~", "1:30", "2001-12-14 21:59:43"] {
            assert!(plain(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refusals_name_the_place() {
        let err = |t: &str| {
            let e = parse(t).unwrap_err();
            (e.pos.line, e.pos.column, e.message)
        };
        let (l, c, m) = err("all:\n  vars:\n    secret: !vault |\n      $ANSIBLE_VAULT;1.1\n");
        assert_eq!((l, c), (4, 7), "{m}");
        assert!(m.contains("vault"), "{m}");
        let (l, c, m) = err("plugin: aws_ec2\n");
        assert_eq!((l, c), (1, 1), "{m}");
        let (l, _, m) = err("all:\n  hostz:\n    a:\n");
        assert_eq!(l, 2);
        assert!(m.contains("unexpected key \"hostz\""), "{m}");
        let (l, c, m) = err("all:\n  hosts: [a, b\n");
        assert!(l >= 2 && c > 0, "{m}");
        // Found by the ansible_inventory fuzz target: errors at the end of the input were
        // placed on the line after the last.
        let (l, c, m) = err("a: [");
        assert_eq!((l, c), (1, 5), "{m}");
        let (l, c, m) = err("{a: b\n");
        assert!(l <= 2 && c == 1, "{m}");
        // A lone `\r` breaks a YAML line but not a vmup one.
        let model = parse("all:\r  hosts:\n    h: {vmup_cpus: 0}\n").unwrap();
        let at = model.hosts[0].1.vars["vmup_cpus"].pos;
        assert_eq!((at.line, at.column), (2, 9));
        let (l, _, m) = err("all:\n  vars:\n    x: 1\n    x: 2\n");
        assert_eq!(l, 4, "{m}");
        let (_, _, m) = err("all:\n  vars:\n    x:\n");
        assert!(m.contains("null"), "{m}");
    }
}
