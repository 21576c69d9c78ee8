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
    assert!(file.set(b"main", b"k", b"v"));
    assert_eq!(text(&file), "[main]\nx=1\r\nk=v\n");
    assert_rereads_as_held(&file);

    let mut file = IniFile::parse(b"[main]\nx=1\r");
    assert!(file.set(b"base", b"k", b"v"));
    assert_eq!(text(&file), "[main]\nx=1\r\n\n[base]\nk=v\n");
    assert_rereads_as_held(&file);
}

/// The same for a line the editor writes: an inline comment moved to a line of its own
/// keeps the `\r` it ended in, and gets `\n`.
#[test]
fn a_moved_comment_ending_in_cr_is_held_as_crlf() {
    let mut file = IniFile::parse(b"[main]\nk=1 ;c\r\r\n");
    assert!(file.set(b"main", b"k", b"2"));
    assert_eq!(text(&file), "[main]\n;c\r\nk=2\r\n");
    assert_rereads_as_held(&file);
}
