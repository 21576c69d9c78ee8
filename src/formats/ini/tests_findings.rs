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

/// No line of `file` that reads as a continuation starts with `[`: libdnf would end the
/// value there and read a section header (or reject the file).
fn assert_no_continuation_starts_with_bracket(file: &IniFile) {
    for (line, parsed) in file.lines.iter().zip(file.analyze()) {
        if let Kind::Continuation { value } = parsed.kind {
            let text = &line.content[value];
            assert!(
                !text.starts_with(b"["),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}

/// `finding-continuation-becomes-header`: `add_words` appends to the value's last line, and
/// a continuation line `  [x` plus the word `]` became `  [x ]`, which reads as a section
/// header (to libdnf and to `classify`): the words were lost from the value and the keys
/// after it moved to that section. The value now goes on the key line instead, where
/// every reader reads the same words in the same order.
#[test]
fn add_words_never_turns_a_continuation_line_into_a_header() {
    // As the fuzzer saw it: `a<TAB>0a00<TAB>0<TAB>]`.
    let mut file = IniFile::parse(b"[0a00]\n0=\n [");
    assert_eq!(file.add_words(b"0a00", b"0", &[b"]"]), Ok(true));
    assert_eq!(text(&file), "[0a00]\n0=[ ]\n");
    assert_eq!(file.get(b"0a00", b"0"), Some(b"[ ]".to_vec()));
    assert_eq!(file.sections(), vec![b"0a00".to_vec()]);
    assert_rereads_as_held(&file);

    let original = "[main]\nexclude=kernel* ; local\n  [a-c\ngpgcheck=1\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(
        file.add_words(b"main", b"exclude", &[b"]*-devel"]),
        Ok(true)
    );
    assert_eq!(
        text(&file),
        "[main]\n; local\nexclude=kernel* [a-c ]*-devel\ngpgcheck=1\n"
    );
    assert_eq!(file.sections(), vec![b"main".to_vec()]);
    assert_eq!(file.get(b"main", b"gpgcheck"), Some(b"1".to_vec()));
    assert_eq!(
        file.add_words(b"main", b"exclude", &[b"]*-devel"]),
        Ok(false)
    );
    assert_rereads_as_held(&file);

    // A last line that starts with anything else is still edited in place.
    let mut file = IniFile::parse(b"[main]\nexclude=kernel*\n  php* [a-c\n");
    assert_eq!(
        file.add_words(b"main", b"exclude", &[b"]*-devel"]),
        Ok(true)
    );
    assert_eq!(
        text(&file),
        "[main]\nexclude=kernel*\n  php* [a-c ]*-devel\n"
    );

    // Without a `]` the line would stay a continuation to yum, but libdnf rejects a file
    // with an indented line starting with `[` that is no header: vmup writes none.
    let mut file = IniFile::parse(b"[main]\nexclude=a\n\t[x\n");
    assert_eq!(file.add_words(b"main", b"exclude", &[b"y"]), Ok(true));
    assert_eq!(text(&file), "[main]\nexclude=a [x y\n");
    assert_no_continuation_starts_with_bracket(&file);
}

/// `finding-continuation-becomes-header-2`: `remove_words` keeps the words after a removed
/// one, so `\t0000\t[0]` without the word `0000` became `\t[0]`, a section header. The
/// value then goes on the key line, as for `add_words`.
#[test]
fn remove_words_never_turns_a_continuation_line_into_a_header() {
    // As the fuzzer saw it: `r<TAB>0000<TAB>00000r0<TAB>0000`.
    let mut file = IniFile::parse(b"[0000]\n00000r0=\n\t0000\t[0]");
    assert_eq!(file.remove_words(b"0000", b"00000r0", &[b"0000"]), Ok(true));
    assert_eq!(text(&file), "[0000]\n00000r0=[0]\n");
    assert_eq!(file.sections(), vec![b"0000".to_vec()]);
    assert_rereads_as_held(&file);

    // An exclude list with a glob: the keys after it stay in their section.
    let original = "[main]\nexclude=kernel*\n    php* [a-c]*-devel\n# end\ngpgcheck=1\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.remove_words(b"main", b"exclude", &[b"php*"]), Ok(true));
    assert_eq!(
        text(&file),
        "[main]\nexclude=kernel* [a-c]*-devel\n# end\ngpgcheck=1\n"
    );
    assert_eq!(file.sections(), vec![b"main".to_vec()]);
    assert_eq!(file.get(b"main", b"gpgcheck"), Some(b"1".to_vec()));
    assert_eq!(
        file.remove_words(b"main", b"exclude", &[b"php*"]),
        Ok(false)
    );
    assert_rereads_as_held(&file);

    // No `]` left: still no continuation line starting with `[`.
    let mut file = IniFile::parse(b"[main]\nexclude=a\n  b [x\n  c\n");
    assert_eq!(file.remove_words(b"main", b"exclude", &[b"b"]), Ok(true));
    assert_eq!(text(&file), "[main]\nexclude=a [x c\n");
    assert_no_continuation_starts_with_bracket(&file);

    // Where no line starts with `[`, continuation lines are edited in place as before.
    let mut file = IniFile::parse(b"[main]\nexclude=a\n  b [x]\n");
    assert_eq!(file.remove_words(b"main", b"exclude", &[b"[x]"]), Ok(true));
    assert_eq!(text(&file), "[main]\nexclude=a\n  b\n");
}

/// The same rule for a key line: `remove_words` must not leave a `;` after whitespace as
/// the value's first `;`, which yum reads as an inline comment (`w x;y ;z` without `x;y`
/// would read `w`). Such a value cannot go on any line, so the edit is refused; a refusal
/// for one of the key's occurrences (here dnf's, spelled exactly) writes nothing to the
/// others either.
#[test]
fn a_word_edit_that_would_start_an_inline_comment_is_refused() {
    let original = "[main]\nexclude=w x;y ;z\nEXCLUDE=w x;y\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.get(b"main", b"exclude"), Some(b"w x;y".to_vec()));
    let refused = file.remove_words(b"main", b"exclude", &[b"x;y"]);
    let why = "yum reads a `;` after whitespace as the start of a comment";
    assert_eq!(refused, Err(IniError::value(b"w ;z", why)));
    assert_eq!(text(&file), original);

    // A `;` after whitespace on a continuation line starts no comment (only key lines have
    // inline comments), but on the key line, where the value has to go, it would.
    let original = "[main]\nexclude=a\n  [x ;b\n";
    let mut file = IniFile::parse(original.as_bytes());
    let refused = file.add_words(b"main", b"exclude", &[b"]"]);
    assert_eq!(refused, Err(IniError::value(b"a [x ;b ]", why)));
    assert_eq!(text(&file), original);
}

/// `finding-cr-before-emptied-value` (AFL++, in the run after the fixes above): the
/// whitespace between a key's delimiter and its value may hold a `\r` (`k=\r1`); `set` to
/// an empty value left the line ending in that `\r` before its `\n`, which reads back as a
/// `\r\n` terminator, so the editor held the line differently from its bytes again (as in
/// `finding-cr-last-line`). The edited line is now held as it reads back.
#[test]
fn a_value_emptied_after_a_cr_is_held_as_it_reads_back() {
    let mut file = IniFile::parse(b"[main]\nk=\r1\n");
    assert_eq!(file.set(b"main", b"k", b""), Ok(true));
    assert_eq!(text(&file), "[main]\nk=\r\n");
    assert_rereads_as_held(&file);
    assert_eq!(file.get(b"main", b"k"), Some(Vec::new()));
    assert_eq!(file.set(b"main", b"k", b""), Ok(false));

    // The same when the value's inline comment moves above it, and for `remove_words`.
    let mut file = IniFile::parse(b"[main]\nk=\r1 ;c\n");
    assert_eq!(file.set(b"main", b"k", b""), Ok(true));
    assert_eq!(text(&file), "[main]\n;c\nk=\r\n");
    assert_rereads_as_held(&file);
    let mut file = IniFile::parse(b"[main]\nk=\r1\n");
    assert_eq!(file.remove_words(b"main", b"k", &[b"1"]), Ok(true));
    assert_rereads_as_held(&file);
}
