//! Tests of the rules that come from the real readers (module doc, "How lines are read"
//! and "Where yum and dnf disagree"): key case, `rem` comments, the first `;`, `[DEFAULT]`,
//! the line dnf reads, inline comments of edited lines, and what keys and values are refused.

use super::*;

fn text(file: &IniFile) -> String {
    String::from_utf8(file.to_bytes()).expect("utf-8 test data")
}

fn get(file: &IniFile, section: &str, key: &str) -> Option<String> {
    file.get(section.as_bytes(), key.as_bytes())
        .map(|v| String::from_utf8(v).expect("utf-8 test data"))
}

#[test]
fn a_key_written_in_several_cases_is_one_key_and_the_last_wins() {
    let original = "[main]\nEnabled=1\nname=x\nENABLED = 0\n[other]\nenabled=1\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(get(&file, "main", "enabled").as_deref(), Some("0"));
    assert_eq!(get(&file, "main", "eNaBlEd").as_deref(), Some("0"));
    assert_eq!(get(&file, "Main", "enabled"), None);
    assert!(file.remove_key(b"main", b"enabled"));
    assert_eq!(text(&file), "[main]\nname=x\n[other]\nenabled=1\n");
}

#[test]
fn set_in_another_case_keeps_the_spelling_and_adds_no_second_key() {
    let mut file = IniFile::parse(b"[base]\nEnabled = 1\n");
    assert!(file.set(b"base", b"enabled", b"0").unwrap());
    assert_eq!(text(&file), "[base]\nEnabled = 0\n");
    assert!(!file.set(b"base", b"enabled", b"0").unwrap());
    assert_eq!(
        file.spelling_dnf_misses(b"base", b"enabled"),
        Some(b"Enabled".to_vec())
    );
    assert_eq!(file.spelling_dnf_misses(b"base", b"Enabled"), None);
    assert_eq!(file.spelling_dnf_misses(b"base", b"gpgcheck"), None);
}

/// yum reads the later `InstallOnlyPkgs`, dnf (exact names) the earlier `installonlypkgs`:
/// both get the edit, each on its own words.
#[test]
fn the_line_dnf_reads_gets_the_edit_too() {
    let original = "[main]\ninstallonlypkgs=kernel\nInstallOnlyPkgs=kernel mysite-kmod\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.spelling_dnf_misses(b"main", b"installonlypkgs"), None);
    assert!(
        file.add_words(b"main", b"installonlypkgs", &[b"kernel-xenU"])
            .unwrap()
    );
    assert_eq!(
        text(&file),
        "[main]\ninstallonlypkgs=kernel kernel-xenU\n\
         InstallOnlyPkgs=kernel mysite-kmod kernel-xenU\n"
    );
    assert!(
        !file
            .add_words(b"main", b"installonlypkgs", &[b"kernel-xenU"])
            .unwrap()
    );
    assert!(
        file.remove_words(b"main", b"installonlypkgs", &[b"kernel"])
            .unwrap()
    );
    assert_eq!(
        text(&file),
        "[main]\ninstallonlypkgs=kernel-xenU\nInstallOnlyPkgs=mysite-kmod kernel-xenU\n"
    );
    assert!(file.set(b"main", b"installonlypkgs", b"kernel").unwrap());
    assert_eq!(
        text(&file),
        "[main]\ninstallonlypkgs=kernel\nInstallOnlyPkgs=kernel\n"
    );
    assert!(!file.set(b"main", b"installonlypkgs", b"kernel").unwrap());
}

/// Python 2: `line.split(None, 1)[0].lower() == 'rem' and line[0] in "rR"`.
#[test]
fn rem_lines_from_the_first_column_are_comments() {
    let file = IniFile::parse(
        b"[main]\nrem exclude=kernel*\nREM\tgpgcheck=0\nRem\nrem=1\n  rem x=3\nremote = 2\n",
    );
    assert_eq!(get(&file, "main", "rem exclude"), None);
    assert_eq!(get(&file, "main", "rem"), Some("1\nrem x=3".into()));
    assert_eq!(get(&file, "main", "remote").as_deref(), Some("2"));
    assert_eq!(get(&file, "main", "gpgcheck"), None);
    // A new key after a `rem` comment goes after the last key line, as after any comment.
    let mut file = IniFile::parse(b"[main]\na=1\nrem note\n");
    assert!(file.set(b"main", b"b", b"2").unwrap());
    assert_eq!(text(&file), "[main]\na=1\nb=2\nrem note\n");
}

/// Python 2 and iniparse look at the value's first `;` only.
#[test]
fn only_the_first_semicolon_can_start_an_inline_comment() {
    let file =
        IniFile::parse(b"[main]\na=x;y ;c\nb=x ;c ;d\nc= ;x ;y\nd=x\t;c\ne=http://h/p;v ; note\n");
    assert_eq!(get(&file, "main", "a").as_deref(), Some("x;y ;c"));
    assert_eq!(get(&file, "main", "b").as_deref(), Some("x"));
    assert_eq!(get(&file, "main", "c").as_deref(), Some(";x ;y"));
    assert_eq!(get(&file, "main", "d").as_deref(), Some("x"));
    assert_eq!(
        get(&file, "main", "e").as_deref(),
        Some("http://h/p;v ; note")
    );
}

/// A continuation line has no inline comment, in Python 2 as in libdnf.
#[test]
fn a_semicolon_on_a_continuation_line_is_part_of_the_value() {
    let file = IniFile::parse(b"[base]\nbaseurl=http://a/ ; first\n  http://b/ ; second\n");
    assert_eq!(
        get(&file, "base", "baseurl").as_deref(),
        Some("http://a/\nhttp://b/ ; second")
    );
}

#[test]
fn a_section_reads_what_it_lacks_from_default() {
    let original = "[DEFAULT]\ngpgcheck=1\nexclude=a b\n[base]\nname=Base\n";
    let file = IniFile::parse(original.as_bytes());
    assert_eq!(get(&file, "base", "gpgcheck").as_deref(), Some("1"));
    assert_eq!(get(&file, "DEFAULT", "gpgcheck").as_deref(), Some("1"));
    assert_eq!(get(&file, "missing", "gpgcheck"), None);
    assert_eq!(get(&file, "", "gpgcheck"), None);
    assert_eq!(file.sections(), vec![b"DEFAULT".to_vec(), b"base".to_vec()]);

    // dnf has no such rule: an edit writes the key into the section, whose value both read.
    let mut set = file.clone();
    assert!(set.set(b"base", b"gpgcheck", b"1").unwrap());
    assert_eq!(text(&set), format!("{original}gpgcheck=1\n"));
    assert!(!set.set(b"base", b"gpgcheck", b"1").unwrap());

    let mut added = file.clone();
    assert!(added.add_words(b"base", b"exclude", &[b"b", b"c"]).unwrap());
    assert_eq!(text(&added), format!("{original}exclude=a b c\n"));
    assert!(!added.add_words(b"base", b"exclude", &[b"c"]).unwrap());

    let mut removed = file.clone();
    assert!(!removed.remove_words(b"base", b"exclude", &[b"z"]).unwrap());
    assert!(removed.remove_words(b"base", b"exclude", &[b"a"]).unwrap());
    assert_eq!(text(&removed), format!("{original}exclude=b\n"));

    // Editing [DEFAULT] itself edits its own lines.
    let mut default = file.clone();
    assert!(default.set(b"DEFAULT", b"gpgcheck", b"0").unwrap());
    assert_eq!(text(&default), original.replace("gpgcheck=1", "gpgcheck=0"));
}

#[test]
fn an_edited_lines_comment_moves_above_it_with_the_files_terminator() {
    let original = "[base]\r\nbaseurl=http://a/ ; mirrors\r\n  http://b/\r\ngpgcheck=1";
    let mut file = IniFile::parse(original.as_bytes());
    assert!(
        file.remove_words(b"base", b"baseurl", &[b"http://a/"])
            .unwrap()
    );
    assert_eq!(
        text(&file),
        "[base]\r\n; mirrors\r\nbaseurl=\r\n  http://b/\r\ngpgcheck=1"
    );
    assert_eq!(
        get(&file, "base", "baseurl").as_deref(),
        Some("\nhttp://b/")
    );
    let mut file = IniFile::parse(original.as_bytes());
    assert!(file.set(b"base", b"baseurl", b"http://c/").unwrap());
    assert_eq!(
        text(&file),
        "[base]\r\n; mirrors\r\nbaseurl=http://c/\r\ngpgcheck=1"
    );
    // A line that is not edited keeps its comment.
    assert!(file.set(b"base", b"enabled", b"0").unwrap());
    assert!(text(&file).ends_with("gpgcheck=1\r\nenabled=0\r\n"));
}

#[test]
fn keys_and_values_some_reader_would_misread_are_refused() {
    for key in [
        "",
        " ",
        "a=b",
        "a:b",
        "a\nb",
        "[x",
        "#x",
        ";x",
        "rem",
        "remove_leaf_only",
        "REMOTE",
    ] {
        assert!(key_problem(key.as_bytes()).is_some(), "{key:?}");
    }
    for key in [
        "installonlypkgs",
        "InstallOnlyPkgs",
        "re",
        "x rem",
        "baseurl",
    ] {
        assert_eq!(key_problem(key.as_bytes()), None, "{key:?}");
    }
    for value in ["a ;b", "a\t;b", "a\nb", "a\rb"] {
        assert!(value_problem(value.as_bytes()).is_some(), "{value:?}");
    }
    for value in [
        "",
        "a;b",
        ";a",
        "a; b",
        "kernel kernel-xenU",
        "http://h/p;v",
    ] {
        assert_eq!(value_problem(value.as_bytes()), None, "{value:?}");
    }
}
