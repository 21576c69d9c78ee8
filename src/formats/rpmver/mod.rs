//! RPM version ordering, ported from rpm's own `rpmvercmp()` and `rpmverCmp()`, so that
//! vmup picks "the newest kernel" exactly the way `rpm`/`yum`/`dnf` on the guest would.
//!
//! Source of truth: rpm's `rpmio/rpmvercmp.c` (`rpmvercmp`) and `rpmio/rpmver.c`
//! (`parseEVR`, `rpmverCmp`, which is also what the Python binding's `labelCompare`
//! uses). The algorithm is reimplemented here, not copied.
//!
//! This file holds [`vercmp`], the comparison of version (or release) strings; `evr`
//! holds [`Evr`], which splits `[E:]V[-R]` and orders whole package versions with it.

use std::cmp::Ordering;

mod evr;

#[cfg(test)]
mod tests;

pub use evr::Evr;

/// rpm's character classes are ASCII-only (`risdigit`/`risalpha` in rpmstring.h);
/// every other byte, including all bytes of non-ASCII UTF-8, is a separator.
fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

fn is_alnum(c: u8) -> bool {
    is_digit(c) || is_alpha(c)
}

/// The bytes rpm's C code would see: a C string ends at the first NUL.
fn c_bytes(s: &str) -> &[u8] {
    let b = s.as_bytes();
    match b.iter().position(|&c| c == 0) {
        Some(n) => &b[..n],
        None => b,
    }
}

/// Compares two version (or release) strings exactly like rpm's `rpmvercmp()`.
///
/// Exists so that kernel package versions found on a guest or a host can be ordered the
/// way rpm orders them: alphanumeric segmentation, numeric segments compared as numbers
/// (leading zeros ignored) and newer than alphabetic ones, any other characters acting
/// only as separators, `~` sorting before everything (even the end of the string) and
/// `^` sorting after the end of the string but before anything else.
///
/// As in C, a string is taken to end at its first NUL character.
pub fn vercmp(a: &str, b: &str) -> Ordering {
    let a = c_bytes(a);
    let b = c_bytes(b);
    // rpm's fast path; the loop below would also return Equal.
    if a == b {
        return Ordering::Equal;
    }
    // `at` emulates reading a NUL-terminated C string.
    let at = |s: &[u8], k: usize| -> u8 { s.get(k).copied().unwrap_or(0) };
    let (mut one, mut two) = (0usize, 0usize);

    while at(a, one) != 0 || at(b, two) != 0 {
        while one < a.len() && !is_alnum(a[one]) && a[one] != b'~' && a[one] != b'^' {
            one += 1;
        }
        while two < b.len() && !is_alnum(b[two]) && b[two] != b'~' && b[two] != b'^' {
            two += 1;
        }
        let (c1, c2) = (at(a, one), at(b, two));

        // Tilde sorts before everything else, including the end of the string.
        if c1 == b'~' || c2 == b'~' {
            if c1 != b'~' {
                return Ordering::Greater;
            }
            if c2 != b'~' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }

        // Caret is like tilde, except that a string that has ended sorts lower.
        if c1 == b'^' || c2 == b'^' {
            if c1 == 0 {
                return Ordering::Less;
            }
            if c2 == 0 {
                return Ordering::Greater;
            }
            if c1 != b'^' {
                return Ordering::Greater;
            }
            if c2 != b'^' {
                return Ordering::Less;
            }
            one += 1;
            two += 1;
            continue;
        }

        if c1 == 0 || c2 == 0 {
            break;
        }

        // Grab the next completely numeric or completely alphabetic segment of each,
        // the kind being decided by the first string.
        let isnum = is_digit(c1);
        let class: fn(u8) -> bool = if isnum { is_digit } else { is_alpha };
        let mut end1 = one;
        while end1 < a.len() && class(a[end1]) {
            end1 += 1;
        }
        let mut end2 = two;
        while end2 < b.len() && class(b[end2]) {
            end2 += 1;
        }

        // `one` is on an alphanumeric byte, so its segment is never empty. If the other
        // segment is empty the two are of different kinds: numeric is newer than alpha.
        if end2 == two {
            return if isnum {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }

        let mut seg1 = &a[one..end1];
        let mut seg2 = &b[two..end2];
        if isnum {
            while let [b'0', rest @ ..] = seg1 {
                seg1 = rest;
            }
            while let [b'0', rest @ ..] = seg2 {
                seg2 = rest;
            }
            // Whichever number has more digits wins.
            match seg1.len().cmp(&seg2.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        // strcmp() on ASCII alphanumerics is plain byte order.
        match seg1.cmp(seg2) {
            Ordering::Equal => {}
            other => return other,
        }
        one = end1;
        two = end2;
    }

    // All segments compared equal; whichever string has characters left wins, unless
    // what is left on both is only separators.
    match (at(a, one) == 0, at(b, two) == 0) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}
