//! Tests of rpm version ordering: every case of rpm's own `rpmvercmp.at`, edge cases, and
//! `Evr` parsing, ordering and display. The comparison against the system's rpm library
//! is in `differential`.

use super::*;

mod differential;

/// Every case from rpm's tests/rpmvercmp.at (rpm 4.15+, with the `~` and `^` ones).
const RPMVERCMP_AT: &[(&str, &str, i32)] = &[
    ("1.0", "1.0", 0),
    ("1.0", "2.0", -1),
    ("2.0", "1.0", 1),
    ("2.0.1", "2.0.1", 0),
    ("2.0", "2.0.1", -1),
    ("2.0.1", "2.0", 1),
    ("2.0.1a", "2.0.1a", 0),
    ("2.0.1a", "2.0.1", 1),
    ("2.0.1", "2.0.1a", -1),
    ("5.5p1", "5.5p1", 0),
    ("5.5p1", "5.5p2", -1),
    ("5.5p2", "5.5p1", 1),
    ("5.5p10", "5.5p10", 0),
    ("5.5p1", "5.5p10", -1),
    ("5.5p10", "5.5p1", 1),
    ("10xyz", "10.1xyz", -1),
    ("10.1xyz", "10xyz", 1),
    ("xyz10", "xyz10", 0),
    ("xyz10", "xyz10.1", -1),
    ("xyz10.1", "xyz10", 1),
    ("xyz.4", "xyz.4", 0),
    ("xyz.4", "8", -1),
    ("8", "xyz.4", 1),
    ("xyz.4", "2", -1),
    ("2", "xyz.4", 1),
    ("5.5p2", "5.6p1", -1),
    ("5.6p1", "5.5p2", 1),
    ("5.6p1", "6.5p1", -1),
    ("6.5p1", "5.6p1", 1),
    ("6.0.rc1", "6.0", 1),
    ("6.0", "6.0.rc1", -1),
    ("10b2", "10a1", 1),
    ("10a2", "10b2", -1),
    ("1.0aa", "1.0aa", 0),
    ("1.0a", "1.0aa", -1),
    ("1.0aa", "1.0a", 1),
    ("10.0001", "10.0001", 0),
    ("10.0001", "10.1", 0),
    ("10.1", "10.0001", 0),
    ("10.0001", "10.0039", -1),
    ("10.0039", "10.0001", 1),
    ("4.999.9", "5.0", -1),
    ("5.0", "4.999.9", 1),
    ("20101121", "20101121", 0),
    ("20101121", "20101122", -1),
    ("20101122", "20101121", 1),
    ("2_0", "2_0", 0),
    ("2.0", "2_0", 0),
    ("2_0", "2.0", 0),
    // RhBug:178798
    ("a", "a", 0),
    ("a+", "a+", 0),
    ("a+", "a_", 0),
    ("a_", "a+", 0),
    ("+a", "+a", 0),
    ("+a", "_a", 0),
    ("_a", "+a", 0),
    ("+_", "+_", 0),
    ("_+", "+_", 0),
    ("_+", "_+", 0),
    ("+", "_", 0),
    ("_", "+", 0),
    // tilde
    ("1.0~rc1", "1.0~rc1", 0),
    ("1.0~rc1", "1.0", -1),
    ("1.0", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc2", -1),
    ("1.0~rc2", "1.0~rc1", 1),
    ("1.0~rc1~git123", "1.0~rc1~git123", 0),
    ("1.0~rc1~git123", "1.0~rc1", -1),
    ("1.0~rc1", "1.0~rc1~git123", 1),
    // caret
    ("1.0^", "1.0^", 0),
    ("1.0^", "1.0", 1),
    ("1.0", "1.0^", -1),
    ("1.0^git1", "1.0^git1", 0),
    ("1.0^git1", "1.0", 1),
    ("1.0", "1.0^git1", -1),
    ("1.0^git1", "1.0^git2", -1),
    ("1.0^git2", "1.0^git1", 1),
    ("1.0^git1", "1.01", -1),
    ("1.01", "1.0^git1", 1),
    ("1.0^20160101", "1.0^20160101", 0),
    ("1.0^20160101", "1.0.1", -1),
    ("1.0.1", "1.0^20160101", 1),
    ("1.0^20160101^git1", "1.0^20160101^git1", 0),
    ("1.0^20160102", "1.0^20160101^git1", 1),
    ("1.0^20160101^git1", "1.0^20160102", -1),
    // tilde and caret together
    ("1.0~rc1^git1", "1.0~rc1^git1", 0),
    ("1.0~rc1^git1", "1.0~rc1", 1),
    ("1.0~rc1", "1.0~rc1^git1", -1),
    ("1.0^git1~pre", "1.0^git1~pre", 0),
    ("1.0^git1", "1.0^git1~pre", 1),
    ("1.0^git1~pre", "1.0^git1", -1),
    // The "oddities" rpmvercmp.at documents (commented out there, but they are
    // rpm's actual behaviour): RhBug:811992 and non-ASCII as separators.
    ("1b.fc17", "1b.fc17", 0),
    ("1b.fc17", "1.fc17", -1),
    ("1.fc17", "1b.fc17", 1),
    ("1g.fc17", "1g.fc17", 0),
    ("1g.fc17", "1.fc17", 1),
    ("1.fc17", "1g.fc17", -1),
    ("1.1.α", "1.1.α", 0),
    ("1.1.α", "1.1.β", 0),
    ("1.1.β", "1.1.α", 0),
    ("1.1.αα", "1.1.α", 0),
    ("1.1.α", "1.1.ββ", 0),
    ("1.1.ββ", "1.1.αα", 0),
];

fn ord_to_i32(o: Ordering) -> i32 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

#[test]
fn rpmvercmp_at_cases() {
    let mut failures = Vec::new();
    for &(a, b, want) in RPMVERCMP_AT {
        let got = ord_to_i32(vercmp(a, b));
        if got != want {
            failures.push(format!("vercmp({a:?}, {b:?}) = {got}, rpm says {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vercmp_edge_cases() {
    assert_eq!(vercmp("", ""), Ordering::Equal);
    assert_eq!(vercmp("", "1"), Ordering::Less);
    assert_eq!(vercmp("", "~"), Ordering::Greater);
    assert_eq!(vercmp("", "^"), Ordering::Less);
    assert_eq!(vercmp("1.", "1"), Ordering::Equal);
    assert_eq!(vercmp("000", "0"), Ordering::Equal);
    assert_eq!(vercmp("1a", "1"), Ordering::Greater);
    // Numbers longer than any machine integer still compare correctly.
    assert_eq!(
        vercmp(
            "123456789012345678901234567890",
            "123456789012345678901234567891"
        ),
        Ordering::Less
    );
    // A NUL ends the string, as in C.
    assert_eq!(vercmp("1.0\0garbage", "1.0"), Ordering::Equal);
}

#[test]
fn evr_parse_follows_rpm_parse_evr() {
    let cases: &[(&str, u64, &str, &str)] = &[
        ("1.0", 0, "1.0", ""),
        ("1.0-1", 0, "1.0", "1"),
        ("2:1.0-1.el5", 2, "1.0", "1.el5"),
        ("0:2.6.18-398.el5", 0, "2.6.18", "398.el5"),
        (":1.0-1", 0, "1.0", "1"),
        ("007:1.0", 7, "1.0", ""),
        ("a:1.0-1", 0, "a:1.0", "1"),
        ("1.0-1-2", 0, "1.0-1", "2"),
        ("1:", 1, "", ""),
        ("", 0, "", ""),
        ("99999999999999999999999:1", u64::MAX, "1", ""),
    ];
    for &(s, e, v, r) in cases {
        let evr = Evr::parse(s);
        assert_eq!(
            (evr.epoch, evr.version.as_str(), evr.release.as_str()),
            (e, v, r),
            "parsing {s:?}"
        );
    }
}

#[test]
fn evr_ordering_like_label_compare() {
    let lt = |a: &str, b: &str| {
        assert_eq!(
            Evr::parse(a).cmp(&Evr::parse(b)),
            Ordering::Less,
            "{a} < {b}"
        );
        assert_eq!(
            Evr::parse(b).cmp(&Evr::parse(a)),
            Ordering::Greater,
            "{b} > {a}"
        );
    };
    lt("2.6.18-398.el5", "2.6.18-400.el5");
    lt("2.6.9-89.EL", "2.6.18-8.el5");
    lt("9.9-9", "1:0.1-1");
    lt("1.0", "1.0-1"); // absent release sorts first
    lt("1.0", "1.0-~1"); // even before a tilde release
    lt("1.0~rc1-5", "1.0-1");
    lt("2.6.32-754.el6", "2.6.32-754.el6^1");
    assert_eq!(Evr::parse("0:1.0-1"), Evr::parse("1.0-1"));
    assert_eq!(Evr::parse("1.0-1"), Evr::parse("1_0-1"));
    assert_ne!(Evr::parse("1.0-1"), Evr::parse("1.0-2"));
    let newest = ["2.6.18-8.el5", "2.6.18-398.el5", "2.6.18-92.1.10.el5"]
        .iter()
        .map(|s| Evr::parse(s))
        .max();
    assert_eq!(newest.map(|e| e.to_string()), Some("2.6.18-398.el5".into()));
}

#[test]
fn evr_display_round_trips() {
    for s in ["1.0", "1.0-1", "3:2.6.18-398.el5", "a:b-c"] {
        assert_eq!(Evr::parse(s).to_string(), s);
    }
    assert_eq!(Evr::parse("0:1.0-1").to_string(), "1.0-1");
}
