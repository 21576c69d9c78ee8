//! Tests of what the `ini` fuzz target found (`fuzz/corpus/ini/finding-*`): each input
//! as the fuzzer saw it, and the rule of the module doc it broke.

use super::*;

fn text(file: &IniFile) -> String {
    String::from_utf8(file.to_bytes()).expect("utf-8 test data")
}

/// The edited file is what reading its bytes again gives.
fn assert_rereads_as_held(file: &IniFile) {
    assert_eq!(&IniFile::parse(&file.to_bytes()), file, "{:?}", text(file));
}

/// `finding-cr-last-line`: a key added after an unterminated last line ending in `\r`
/// gives that line a `\n`; the bytes then read back with `\r\n` as its terminator, and
/// the editor must hold the line that way too (as the line editor does).
#[test]
fn a_last_line_ending_in_cr_that_gets_a_newline_is_held_as_crlf() {
    let mut file = IniFile::parse(b"[main]\nx=1\r");
    assert_eq!(file.set(b"main", b"k", b"v"), Ok(true));
    assert_eq!(text(&file), "[main]\nx=1\r\nk=v\n");
    assert_rereads_as_held(&file);

    let mut file = IniFile::parse(b"[main]\nx=1\r");
    assert_eq!(file.set(b"base", b"k", b"v"), Ok(true));
    assert_eq!(text(&file), "[main]\nx=1\r\n\n[base]\nk=v\n");
    assert_rereads_as_held(&file);
}

/// The same for a line the editor writes: an inline comment moved to a line of its own
/// keeps the `\r` it ended in, and gets `\n`.
#[test]
fn a_moved_comment_ending_in_cr_is_held_as_crlf() {
    let mut file = IniFile::parse(b"[main]\nk=1 ;c\r\r\n");
    assert_eq!(file.set(b"main", b"k", b"2"), Ok(true));
    assert_eq!(text(&file), "[main]\n;c\r\nk=2\r\n");
    assert_rereads_as_held(&file);
}

/// `finding-empty-key`: `set(section, "", value)` wrote `=value`, a line no reader (nor
/// `get`) reads as a key, so every run appended another one. An empty key (or one of only
/// whitespace) is refused by every editing method, and the file is left as it was.
#[test]
fn an_empty_key_is_refused_and_writes_nothing() {
    let original = b"[main]\ngpgcheck=1\n";
    for key in [&b""[..], b" \t"] {
        let mut file = IniFile::parse(original);
        let refused = Err(IniError::key(b"", "it is empty"));
        assert_eq!(file.set(b"main", key, b"kernel-xenU"), refused);
        assert_eq!(file.set(b"new", key, b"kernel-xenU"), refused);
        assert_eq!(file.add_words(b"main", key, &[b"kernel-xenU"]), refused);
        assert_eq!(file.remove_words(b"main", key, &[b"kernel-xenU"]), refused);
        assert_eq!(text(&file), "[main]\ngpgcheck=1\n");
        assert_eq!(file.get(b"main", key), None);
    }
}

/// Every editing method refuses what `key_problem` refuses, the rule the resources check
/// their keys with, and a section name no header can hold; reading and removing take any
/// key and find no empty one.
#[test]
fn edits_refuse_what_would_not_read_back() {
    let original = "[main]\ngpgcheck=1\n=orphan\n";
    let mut file = IniFile::parse(original.as_bytes());
    for key in [&b""[..], b" ", b"a=b", b"#k", b"[k", b"remove"] {
        let why = key_problem(key).expect("a key the resources refuse");
        let want = Err(IniError::key(key.trim_ascii(), why));
        assert_eq!(file.set(b"main", key, b"1"), want);
        assert_eq!(file.add_words(b"main", key, &[b"w"]), want);
        assert_eq!(file.remove_words(b"main", key, &[b"w"]), want);
    }
    for section in [&b"a]b"[..], b"a\nb"] {
        let refused = file.set(section, b"k", b"1");
        assert!(
            matches!(refused, Err(IniError::Section { .. })),
            "{refused:?}"
        );
    }
    let refused = file.set(b"main", b"k", b"1 ;2");
    assert!(
        matches!(refused, Err(IniError::Value { .. })),
        "{refused:?}"
    );
    for word in [&b";w"[..], b"w\0"] {
        let refused = file.add_words(b"main", b"k", &[b"v", word]);
        assert!(
            matches!(refused, Err(IniError::Value { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(text(&file), original);

    assert_eq!(file.get(b"main", b""), None);
    assert!(!file.remove_key(b"main", b""));
    assert_eq!(file.spelling_dnf_misses(b"main", b""), None);
    assert_eq!(text(&file), original);
}

/// A key taken over from `[DEFAULT]` is written on one key line; when its words came from
/// continuation lines, one starting with `;` would start an inline comment there, so the
/// edit is refused rather than losing that word.
#[test]
fn a_default_value_that_does_not_fit_on_one_line_is_refused() {
    let original = "[DEFAULT]\nexclude=a\n  ;b\n[main]\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.get(b"main", b"exclude"), Some(b"a\n;b".to_vec()));
    let refused = file.add_words(b"main", b"exclude", &[b"c"]);
    assert!(
        matches!(refused, Err(IniError::Value { .. })),
        "{refused:?}"
    );
    let refused = file.remove_words(b"main", b"exclude", &[b"a"]);
    assert_eq!(refused, Ok(true), "`;b` alone starts the value: no comment");
    assert_eq!(
        text(&file),
        "[DEFAULT]\nexclude=a\n  ;b\n[main]\nexclude=;b\n"
    );
}
