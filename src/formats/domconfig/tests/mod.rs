//! Tests of reading domain configs, all through the public API: the helpers the dialect
//! tests share, and properties that hold for both dialects. Cases for one dialect are in
//! `xl` and `xm`.

use super::*;
use proptest::prelude::*;

mod differential;
mod edit;
mod xl;
mod xm;

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
fn deep_nesting_is_an_error_or_computed_not_a_crash() {
    let deep = format!("x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let e = err(&deep, Dialect::Xl);
    assert!(e.message.contains("nested too deeply"));
    let c = xm(&deep);
    assert!(matches!(c.get("x"), Some(Value::Computed(_))));
}

proptest! {
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
