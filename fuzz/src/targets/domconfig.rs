//! Xen domain configs (`DomainConfig::parse`, xl and xm dialects): no panic; spans lie in
//! the source on character boundaries; errors have 1-based positions inside the text; and
//! the write side's contract holds: splicing `quote_xl_string(new)` over the value span of
//! the statement that sets a string reads back as `new`, leaves every other setting's
//! value alone, gives a value span that is exactly the new text (so a second splice
//! rewrites it byte for byte), and splicing the same value again changes nothing.
//!
//! The editor, `with_str`, is checked on the same names and on one the file may not set:
//! when it writes, the file reads back with the name as the new value and every other name
//! as before, and writing the same value again returns the file unchanged; a plain `=` of
//! a string (for xm: at top level, nothing after it changing the name) is never refused.
//!
//! Input: the new value on the first line, the config after it (invalid UTF-8 replaced).
//! The raw splice uses xl's quoting in both dialects (it is also a Python 2 string literal
//! for ASCII values); `with_str` quotes for the file's dialect.

use vmup::formats::domconfig::{AssignOp, Dialect, DomainConfig, Value, quote_xl_string};

use crate::input::split_header;

pub const XL_CHECKS: &str = "no panic; spans and error positions valid; a string value \
                             spliced at its span reads back, others unchanged, idempotent; \
                             with_str reads back, leaves the others, repeats as a no-op";
pub const XM_CHECKS: &str = XL_CHECKS;

pub fn check_xl(data: &[u8]) {
    check(data, Dialect::Xl);
}

pub fn check_xm(data: &[u8]) {
    check(data, Dialect::Xm);
}

/// Every name's effective value, in order of first setting.
fn effective(config: &DomainConfig) -> Vec<(String, Option<Value>)> {
    let mut names: Vec<String> = Vec::new();
    for s in config.settings() {
        if !names.contains(&s.name) {
            names.push(s.name.clone());
        }
    }
    names
        .into_iter()
        .map(|n| {
            let v = config.get(&n).cloned();
            (n, v)
        })
        .collect()
}

fn check_positions(src: &str, config: &DomainConfig) {
    assert_eq!(config.source(), src);
    for s in config.settings() {
        let span = config.source().get(s.span.clone());
        let value = config.source().get(s.value_span.clone());
        assert!(
            span.is_some() && value.is_some(),
            "span outside the source: {s:?}"
        );
        assert!(
            s.span.start <= s.value_span.start && s.value_span.end <= s.span.end,
            "value span outside the statement: {s:?}"
        );
        assert!(s.line >= 1 && s.column >= 1, "position not 1-based: {s:?}");
        let _ = config.get_str(&s.name);
    }
    let _ = (config.kernel(), config.ramdisk(), config.extra());
}

fn check(data: &[u8], dialect: Dialect) {
    let (header, body) = split_header(data);
    let new_value = String::from_utf8_lossy(header).into_owned();
    let src = String::from_utf8_lossy(body).into_owned();
    let config = match DomainConfig::parse(&src, dialect) {
        Ok(c) => c,
        Err(e) => {
            let lines = src.split('\n').count();
            assert!(
                e.line >= 1 && e.line <= lines && e.column >= 1,
                "error position {}:{} outside the text ({lines} lines)",
                e.line,
                e.column
            );
            return;
        }
    };
    check_positions(&src, &config);
    let before = effective(&config);

    // The writable string settings: the statement that decides the value is a plain `=`
    // of a string (for xm: at top level, and nothing after it changes the name).
    let mut writable: Vec<String> = Vec::new();
    for (name, value) in &before {
        let Some(Value::Str(_)) = value else { continue };
        let Some(s) = config.setting(name) else {
            continue;
        };
        if s.op == AssignOp::Set && !s.nested && Some(&s.value) == value.as_ref() {
            writable.push(name.clone());
        }
        if writable.len() == 3 {
            break;
        }
    }
    for name in &writable {
        splice_round_trip(&src, &config, dialect, name, &new_value, &before);
    }
    for name in writable
        .iter()
        .map(String::as_str)
        .chain(["extra", "kernel"])
    {
        let must_write = writable.iter().any(|w| w == name) && !new_value.contains('\0');
        with_str_round_trip(&config, dialect, name, &new_value, &before, must_write);
    }
}

/// `with_str`'s contract on one name (see the module doc).
fn with_str_round_trip(
    config: &DomainConfig,
    dialect: Dialect,
    name: &str,
    new_value: &str,
    before: &[(String, Option<Value>)],
    must_write: bool,
) {
    let edited = match config.with_str(name, new_value) {
        Ok(edited) => edited,
        Err(e) if must_write => panic!("with_str refused a plain string setting {name}: {e}"),
        Err(_) => return,
    };
    let reread = match DomainConfig::parse(&edited, dialect) {
        Ok(c) => c,
        Err(e) => panic!("with_str({name}) wrote a file that does not parse: {e}\n{edited}"),
    };
    assert_eq!(
        reread.get_str(name).and_then(Result::ok),
        Some(new_value),
        "with_str({name}) reads back differently"
    );
    for (n, b) in before {
        if n != name {
            assert_eq!(reread.get(n), b.as_ref(), "with_str({name}) changed {n}");
        }
    }
    assert_eq!(
        reread.with_str(name, new_value).ok().as_deref(),
        Some(edited.as_str()),
        "with_str({name}) again changed the file"
    );
}

fn splice_round_trip(
    src: &str,
    config: &DomainConfig,
    dialect: Dialect,
    name: &str,
    new_value: &str,
    before: &[(String, Option<Value>)],
) {
    let Some(setting) = config.setting(name) else {
        return;
    };
    let span = setting.value_span.clone();
    let quoted = quote_xl_string(new_value);
    let edited = format!("{}{quoted}{}", &src[..span.start], &src[span.end..]);
    let reread = match DomainConfig::parse(&edited, dialect) {
        Ok(c) => c,
        Err(e) => panic!("{name} set to {quoted} no longer parses: {e}\n{edited}"),
    };
    assert_eq!(
        reread.get(name),
        Some(&Value::Str(new_value.to_string())),
        "{name} set to {quoted} reads back differently"
    );
    let after = effective(&reread);
    assert_eq!(after.len(), before.len(), "the set of names changed");
    for ((n, b), (m, a)) in before.iter().zip(&after) {
        assert_eq!(n, m, "names changed order");
        if n != name {
            assert_eq!(b, a, "setting {name} changed {n}");
        }
    }
    assert_eq!(
        reread.settings().len(),
        config.settings().len(),
        "the number of statements changed"
    );
    let Some(new_setting) = reread.setting(name) else {
        panic!("{name} has no statement after the edit");
    };
    assert_eq!(
        new_setting.value_span,
        span.start..span.start + quoted.len(),
        "the new value's span is not the spliced text"
    );
    let again = format!(
        "{}{quoted}{}",
        &edited[..new_setting.value_span.start],
        &edited[new_setting.value_span.end..]
    );
    assert_eq!(
        again, edited,
        "splicing the same value again changed the file"
    );
}
