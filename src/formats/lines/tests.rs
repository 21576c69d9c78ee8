//! Tests of the line editor: CentOS `inittab` and `securetty` edits, anchors, terminator
//! rules and untouched bytes, and properties that any file round-trips and that edits are
//! idempotent.

use super::*;
use proptest::prelude::*;

/// CentOS 4 `/etc/inittab`, byte for byte (note the trailing spaces on some comments).
const INITTAB: &str = include_str!("../../../fixtures/centos4/inittab");

/// CentOS 4 `/etc/securetty`.
const SECURETTY: &str = include_str!("../../../fixtures/centos4/securetty");

const S0: &str = "S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("test regex")
}

/// 1-based number of the first line of `text` starting with `prefix`.
fn line_no_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .expect("prefix in fixture")
        + 1
}

/// The inittab edit of the seed case: S0 getty before the first mingetty line.
fn serial_getty_edit<'a>(matcher: &'a Regex, anchor: &'a Regex) -> LineEdit<'a> {
    LineEdit {
        line: S0.as_bytes(),
        matcher: Some(matcher),
        insert: Some(Insert {
            position: Position::Before,
            anchor,
            which: Anchor::First,
        }),
        or_append: false,
    }
}

fn apply(text: &str, edit: &LineEdit<'_>) -> (Result<LineOutcome, LineError>, String) {
    let mut file = LineFile::parse(text.as_bytes());
    let outcome = file.ensure_present(edit);
    let bytes = String::from_utf8(file.to_bytes()).expect("utf-8 test data");
    (outcome, bytes)
}

#[test]
fn inittab_serial_getty_inserted_before_first_mingetty() {
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let (outcome, bytes) = apply(INITTAB, &serial_getty_edit(&matcher, &anchor));
    let expected = INITTAB.replace(
        "1:2345:respawn:/sbin/mingetty tty1\n",
        &format!("{S0}\n1:2345:respawn:/sbin/mingetty tty1\n"),
    );
    assert_eq!(bytes, expected);
    assert_eq!(
        outcome,
        Ok(LineOutcome::Inserted {
            line_no: line_no_of(INITTAB, "1:2345")
        })
    );
}

#[test]
fn inittab_second_run_changes_nothing() {
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let edit = serial_getty_edit(&matcher, &anchor);
    let (_, once) = apply(INITTAB, &edit);
    let (outcome, twice) = apply(&once, &edit);
    assert_eq!(outcome, Ok(LineOutcome::AlreadyPresent));
    assert_eq!(twice, once);
}

#[test]
fn line_present_elsewhere_is_neither_moved_nor_duplicated() {
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let text = format!("{INITTAB}{S0}\n");
    let (outcome, bytes) = apply(&text, &serial_getty_edit(&matcher, &anchor));
    assert_eq!(outcome, Ok(LineOutcome::AlreadyPresent));
    assert_eq!(bytes, text);
}

#[test]
fn exact_line_wins_over_other_matching_lines() {
    // An older S0 line exists too, but the wanted one is already there: no change.
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let text = format!("S0:2345:respawn:/sbin/agetty ttyS0 9600 vt100\n{S0}\nx\n");
    let (outcome, bytes) = apply(&text, &serial_getty_edit(&matcher, &anchor));
    assert_eq!(outcome, Ok(LineOutcome::AlreadyPresent));
    assert_eq!(bytes, text);
}

#[test]
fn replaces_last_of_several_matches_in_place() {
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let old1 = "S0:2345:respawn:/sbin/agetty ttyS0 9600 vt100";
    let old2 = "S0:2345:respawn:/sbin/agetty ttyS0 19200 vt100";
    let text = INITTAB.replace("# Run xdm", &format!("{old1}\n\n{old2}\n# Run xdm"));
    let (outcome, bytes) = apply(&text, &serial_getty_edit(&matcher, &anchor));
    assert_eq!(bytes, text.replace(old2, S0));
    assert!(bytes.contains(old1));
    assert_eq!(
        outcome,
        Ok(LineOutcome::Replaced {
            line_no: line_no_of(&text, old2)
        })
    );
}

#[test]
fn replace_keeps_terminator_of_replaced_line() {
    let matcher = re("^S0:");
    let edit = LineEdit {
        line: b"S0:new",
        matcher: Some(&matcher),
        insert: None,
        or_append: false,
    };
    let (outcome, bytes) = apply("a\r\nS0:old\r\nb\n", &edit);
    assert_eq!(outcome, Ok(LineOutcome::Replaced { line_no: 2 }));
    assert_eq!(bytes, "a\r\nS0:new\r\nb\n");
    let (outcome, bytes) = apply("a\nS0:old", &edit);
    assert_eq!(outcome, Ok(LineOutcome::Replaced { line_no: 2 }));
    assert_eq!(bytes, "a\nS0:new");
}

#[test]
fn anchor_matching_several_lines_first_last_before_after() {
    let anchor = re("mingetty");
    let cases = [
        (Position::Before, Anchor::First, "1:2345", 0),
        (Position::After, Anchor::First, "1:2345", 1),
        (Position::Before, Anchor::Last, "6:2345", 0),
        (Position::After, Anchor::Last, "6:2345", 1),
    ];
    for (position, which, anchor_line, offset) in cases {
        let edit = LineEdit {
            line: b"NEW",
            matcher: None,
            insert: Some(Insert {
                position,
                anchor: &anchor,
                which,
            }),
            or_append: false,
        };
        let (outcome, bytes) = apply(INITTAB, &edit);
        let line_no = line_no_of(INITTAB, anchor_line) + offset;
        assert_eq!(outcome, Ok(LineOutcome::Inserted { line_no }));
        let mut expected: Vec<&str> = INITTAB.lines().collect();
        expected.insert(line_no - 1, "NEW");
        assert_eq!(bytes, expected.join("\n") + "\n", "{position:?} {which:?}");
    }
}

#[test]
fn missing_anchor_is_an_error_and_changes_nothing() {
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let mut file = LineFile::parse(SECURETTY.as_bytes());
    let outcome = file.ensure_present(&serial_getty_edit(&matcher, &anchor));
    assert_eq!(outcome, Err(LineError::AnchorMissing("^1:".to_owned())));
    assert_eq!(file.to_bytes(), SECURETTY.as_bytes());
    assert_eq!(
        LineError::AnchorMissing("^1:".to_owned()).to_string(),
        "no line matches the anchor /^1:/"
    );
}

#[test]
fn missing_anchor_with_or_append_appends() {
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let edit = LineEdit {
        or_append: true,
        ..serial_getty_edit(&matcher, &anchor)
    };
    let (outcome, bytes) = apply(SECURETTY, &edit);
    assert_eq!(bytes, format!("{SECURETTY}{S0}\n"));
    let line_no = SECURETTY.lines().count() + 1;
    assert_eq!(outcome, Ok(LineOutcome::Appended { line_no }));
}

#[test]
fn securetty_gets_ttys0_appended_once() {
    let edit = LineEdit {
        line: b"ttyS0",
        matcher: None,
        insert: None,
        or_append: false,
    };
    let (outcome, once) = apply(SECURETTY, &edit);
    assert_eq!(once, format!("{SECURETTY}ttyS0\n"));
    assert_eq!(outcome, Ok(LineOutcome::Appended { line_no: 24 }));
    let (outcome, twice) = apply(&once, &edit);
    assert_eq!(outcome, Ok(LineOutcome::AlreadyPresent));
    assert_eq!(twice, once);
}

#[test]
fn securetty_ttys0_after_last_vc() {
    let anchor = re("^vc/");
    let edit = LineEdit {
        line: b"ttyS0",
        matcher: None,
        insert: Some(Insert {
            position: Position::After,
            anchor: &anchor,
            which: Anchor::Last,
        }),
        or_append: false,
    };
    let (outcome, bytes) = apply(SECURETTY, &edit);
    assert_eq!(outcome, Ok(LineOutcome::Inserted { line_no: 13 }));
    assert_eq!(bytes, SECURETTY.replace("vc/11\n", "vc/11\nttyS0\n"));
}

#[test]
fn crlf_file_gets_crlf_for_new_line_and_keeps_other_bytes() {
    let text = INITTAB.replace('\n', "\r\n");
    let (matcher, anchor) = (re("^S0:"), re("^1:"));
    let (_, bytes) = apply(&text, &serial_getty_edit(&matcher, &anchor));
    let expected = text.replace(
        "1:2345:respawn:/sbin/mingetty tty1\r\n",
        &format!("{S0}\r\n1:2345:respawn:/sbin/mingetty tty1\r\n"),
    );
    assert_eq!(bytes, expected);
}

#[test]
fn dominant_terminator_is_majority_with_lf_on_tie() {
    let edit = LineEdit {
        line: b"new",
        matcher: None,
        insert: None,
        or_append: false,
    };
    assert_eq!(apply("a\r\nb\r\nc\n", &edit).1, "a\r\nb\r\nc\nnew\r\n");
    assert_eq!(apply("a\r\nb\n", &edit).1, "a\r\nb\nnew\n");
    assert_eq!(apply("a\r\nb\r\nc", &edit).1, "a\r\nb\r\nc\r\nnew");
}

#[test]
fn missing_final_newline_is_kept() {
    let append = LineEdit {
        line: b"new",
        matcher: None,
        insert: None,
        or_append: false,
    };
    assert_eq!(apply("a\nb", &append).1, "a\nb\nnew");

    let anchor = re("^b$");
    let after_last = LineEdit {
        insert: Some(Insert {
            position: Position::After,
            anchor: &anchor,
            which: Anchor::First,
        }),
        ..append
    };
    assert_eq!(
        apply("a\nb", &after_last),
        (
            Ok(LineOutcome::Inserted { line_no: 3 }),
            "a\nb\nnew".to_owned()
        )
    );

    let before_last = LineEdit {
        insert: Some(Insert {
            position: Position::Before,
            anchor: &anchor,
            which: Anchor::First,
        }),
        ..append
    };
    assert_eq!(apply("a\nb", &before_last).1, "a\nnew\nb");
}

#[test]
fn empty_file_append_gets_newline() {
    let edit = LineEdit {
        line: b"ttyS0",
        matcher: None,
        insert: None,
        or_append: false,
    };
    assert_eq!(
        apply("", &edit),
        (
            Ok(LineOutcome::Appended { line_no: 1 }),
            "ttyS0\n".to_owned()
        )
    );
}

#[test]
fn empty_line_after_unterminated_last_line_gets_terminator() {
    let append = LineEdit {
        line: b"",
        matcher: None,
        insert: None,
        or_append: false,
    };
    assert_eq!(apply("a", &append).1, "a\n\n");
    let matcher = re("^b");
    let replace = LineEdit {
        matcher: Some(&matcher),
        ..append
    };
    assert_eq!(apply("a\r\nb", &replace).1, "a\r\n\r\n");
}

#[test]
fn ensure_absent_removes_every_match() {
    let text = format!("{SECURETTY}ttyS0\nconsole\nttyS0");
    let mut file = LineFile::parse(text.as_bytes());
    assert_eq!(file.ensure_absent(&re("^ttyS0$")), 2);
    assert_eq!(file.to_bytes(), format!("{SECURETTY}console\n").as_bytes());
    assert_eq!(file.ensure_absent(&re("^ttyS0$")), 0);

    let mut file = LineFile::parse(INITTAB.as_bytes());
    assert_eq!(file.ensure_absent(&re("mingetty")), 6);
    let expected: Vec<&str> = INITTAB
        .lines()
        .filter(|l| !l.contains("mingetty"))
        .collect();
    assert_eq!(file.to_bytes(), (expected.join("\n") + "\n").as_bytes());
}

#[test]
fn non_utf8_bytes_are_kept() {
    let text: &[u8] = b"caf\xe9\n\xff\xfe\r\nend";
    let mut file = LineFile::parse(text);
    assert_eq!(file.to_bytes(), text);
    let edit = LineEdit {
        line: b"\xe9t\xe9",
        matcher: None,
        insert: None,
        or_append: false,
    };
    assert_eq!(
        file.ensure_present(&edit),
        Ok(LineOutcome::Appended { line_no: 4 })
    );
    assert_eq!(file.to_bytes(), b"caf\xe9\n\xff\xfe\r\nend\n\xe9t\xe9");
}

/// Found by the lines fuzz target (fuzz/corpus/lines/finding-cr-last-line): an
/// unterminated last line ending in `\r` that gets a `\n` ends in `\r\n`, so it reads back
/// without the `\r`; the editor kept the `\r` in the line and the `\n` as its terminator,
/// and so held other lines than the file it wrote.
#[test]
fn terminating_a_last_line_that_ends_in_cr_reads_back_as_held() {
    for (text, edit_line, written) in [
        (&b"ab\r"[..], &b"new"[..], &b"ab\r\nnew"[..]),
        (b"x\nab\r", b"", b"x\nab\r\n\n"),
        (b"x\r\n\r\nab\r", b"new", b"x\r\n\r\nab\r\r\nnew"),
    ] {
        let mut file = LineFile::parse(text);
        let edit = LineEdit {
            line: edit_line,
            matcher: None,
            insert: None,
            or_append: false,
        };
        assert!(matches!(
            file.ensure_present(&edit),
            Ok(LineOutcome::Appended { .. })
        ));
        assert_eq!(file.to_bytes(), written);
        assert_eq!(
            LineFile::parse(written),
            file,
            "{:?}",
            String::from_utf8_lossy(text)
        );
    }
}

/// Random files made of short lines with mixed terminators.
fn file_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::sample::select(vec!["", "a", "b", "S0:x", "1:y", "ab", "c\r"]);
    let term = prop::sample::select(vec!["\n", "\r\n", ""]);
    prop::collection::vec((line, term), 0..8).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(l, t)| [l.as_bytes(), t.as_bytes()].concat())
            .collect()
    })
}

proptest! {
    #[test]
    fn parse_to_bytes_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(LineFile::parse(&bytes).to_bytes(), bytes);
    }

    #[test]
    fn edits_on_arbitrary_bytes_do_not_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let (matcher, anchor) = (re("^S0:"), re("(?-u)\\xff"));
        let mut file = LineFile::parse(&bytes);
        let _ = file.ensure_present(&serial_getty_edit(&matcher, &anchor));
        file.ensure_absent(&anchor);
        prop_assert_eq!(LineFile::parse(&file.to_bytes()), file);
    }

    #[test]
    fn ensure_present_twice_equals_once(
        bytes in file_strategy(),
        line in prop::sample::select(vec!["a", "S0:new", "1:y", "new", ""]),
        matcher in prop::option::of(prop::sample::select(vec!["^S0:", "^a", "x"])),
        anchor in prop::option::of(prop::sample::select(vec!["^1:", "b", "^$", "zzz"])),
        before in any::<bool>(),
        first in any::<bool>(),
        or_append in any::<bool>(),
    ) {
        let matcher = matcher.map(re);
        let anchor = anchor.map(re);
        let edit = LineEdit {
            line: line.as_bytes(),
            matcher: matcher.as_ref(),
            insert: anchor.as_ref().map(|anchor| Insert {
                position: if before { Position::Before } else { Position::After },
                anchor,
                which: if first { Anchor::First } else { Anchor::Last },
            }),
            or_append,
        };
        let mut file = LineFile::parse(&bytes);
        let first_outcome = file.ensure_present(&edit);
        let once = file.to_bytes();
        let second_outcome = file.ensure_present(&edit);
        prop_assert_eq!(file.to_bytes(), once.clone());
        let mut reparsed = LineFile::parse(&once);
        let reparsed_outcome = reparsed.ensure_present(&edit);
        prop_assert_eq!(reparsed.to_bytes(), once.clone());
        if first_outcome.is_ok() {
            prop_assert_eq!(second_outcome, Ok(LineOutcome::AlreadyPresent));
            prop_assert_eq!(reparsed_outcome, Ok(LineOutcome::AlreadyPresent));
        } else {
            prop_assert_eq!(once, bytes);
        }
    }
}
