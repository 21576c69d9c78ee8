//! rpm version order (`vercmp`, `Evr`): no panic, and it is an order: reflexive,
//! antisymmetric (`cmp(a, b)` is the reverse of `cmp(b, a)`) and transitive, for version
//! strings and for whole `[E:]V[-R]` labels; `Evr` equality agrees with its order.
//!
//! Input: up to three strings, one a line (invalid UTF-8 replaced).

use std::cmp::Ordering;

use vmup::formats::rpmver::{Evr, vercmp};

pub const CHECKS: &str = "no panic; vercmp and Evr order reflexive, antisymmetric, \
                          transitive";

fn is_order<T>(items: &[T; 3], cmp: impl Fn(&T, &T) -> Ordering, what: &str) {
    for a in items {
        assert_eq!(cmp(a, a), Ordering::Equal, "{what}: not reflexive");
        for b in items {
            assert_eq!(cmp(a, b), cmp(b, a).reverse(), "{what}: not antisymmetric");
            for c in items {
                if cmp(a, b) != Ordering::Greater && cmp(b, c) != Ordering::Greater {
                    assert_ne!(cmp(a, c), Ordering::Greater, "{what}: not transitive");
                }
            }
        }
    }
}

pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let strings = [(); 3].map(|()| parts.next().unwrap_or_default().to_string());
    is_order(&strings, |a, b| vercmp(a, b), "vercmp");
    let evrs = strings.clone().map(|s| Evr::parse(&s));
    is_order(&evrs, |a, b| a.cmp(b), "Evr");
    for a in &evrs {
        for b in &evrs {
            assert_eq!(
                a == b,
                a.cmp(b) == Ordering::Equal,
                "Evr == disagrees with cmp"
            );
        }
    }
}
