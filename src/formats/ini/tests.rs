//! Tests of the INI editor: real CentOS `yum.conf` and `.repo` files, each reading and
//! editing rule of the module doc, and properties that any file round-trips and that
//! edits are idempotent and leave other keys alone.

use super::words::split_words;
use super::*;
use proptest::prelude::*;

/// CentOS 4 `/etc/yum.conf`, which has no `installonlypkgs` line.
const YUM_CONF: &str = include_str!("../../../fixtures/centos4/yum.conf");

const INSTALLONLY: &str = "installonlypkgs=kernel kernel-smp kernel-devel \
        kernel-smp-devel kernel-largesmp kernel-largesmp-devel kernel-hugemem \
        kernel-hugemem-devel";

const XEN_WORDS: [&[u8]; 2] = [b"kernel-xenU", b"kernel-xenU-devel"];

/// A site `.repo` file with two repositories; only the first says `enabled`.
const MONASH_REPO: &str = "\
# Monash mirror of CentOS 4
[monashbase]
name=CentOS-$releasever - Base (Monash)
baseurl=http://mirror.monash.edu/centos/$releasever/os/$basearch/
gpgcheck=1
enabled=1

[monashupdates]
name=CentOS-$releasever - Updates (Monash)
baseurl=http://mirror.monash.edu/centos/$releasever/updates/$basearch/
gpgcheck=1
";

fn yum_conf_with_installonly() -> String {
    YUM_CONF.replace("gpgcheck=1\n", &format!("gpgcheck=1\n{INSTALLONLY}\n"))
}

fn text(file: &IniFile) -> String {
    String::from_utf8(file.to_bytes()).expect("utf-8 test data")
}

#[test]
fn installonlypkgs_gets_only_missing_words_once() {
    let original = yum_conf_with_installonly();
    let mut file = IniFile::parse(original.as_bytes());
    assert!(
        file.add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
    let expected = original.replace(
        "kernel-hugemem-devel\n",
        "kernel-hugemem-devel kernel-xenU kernel-xenU-devel\n",
    );
    assert_eq!(text(&file), expected);
    assert!(
        !file
            .add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
    assert_eq!(text(&file), expected);
}

#[test]
fn add_words_adds_only_the_missing_ones() {
    let original = yum_conf_with_installonly().replace(
        "kernel-smp kernel-devel",
        "kernel-smp kernel-xenU-devel kernel-devel",
    );
    let mut file = IniFile::parse(original.as_bytes());
    assert!(
        file.add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
    let expected = original.replace(
        "kernel-hugemem-devel\n",
        "kernel-hugemem-devel kernel-xenU\n",
    );
    assert_eq!(text(&file), expected);
}

#[test]
fn add_words_splits_and_dedups_given_words() {
    let mut file = IniFile::parse(b"[main]\nexclude=a\n");
    assert!(
        file.add_words(b"main", b"exclude", &[b"b  c", b"b", b"a", b""])
            .unwrap()
    );
    assert_eq!(file.to_bytes(), b"[main]\nexclude=a b c\n");
    assert!(!file.add_words(b"main", b"exclude", &[]).unwrap());
}

#[test]
fn absent_key_is_added_after_last_key_of_section() {
    let mut file = IniFile::parse(YUM_CONF.as_bytes());
    assert!(
        file.add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
    let expected = YUM_CONF.replace(
        "gpgcheck=1\n",
        "gpgcheck=1\ninstallonlypkgs=kernel-xenU kernel-xenU-devel\n",
    );
    assert_eq!(text(&file), expected);
    assert!(
        !file
            .add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
}

/// libdnf has no inline comments: it would read the comment as part of the value.
#[test]
fn add_words_moves_inline_comment_above_the_line() {
    let mut file = IniFile::parse(b"[main]\nexclude=foo*   ; local builds\n");
    assert!(file.add_words(b"main", b"exclude", &[b"bar"]).unwrap());
    assert_eq!(
        file.to_bytes(),
        b"[main]\n; local builds\nexclude=foo* bar\n"
    );
    assert_eq!(file.get(b"main", b"exclude"), Some(b"foo* bar".to_vec()));
}

#[test]
fn add_words_on_empty_value_joins_with_single_spaces() {
    let mut file = IniFile::parse(b"[main]\ninstallonlypkgs=\nexactarch=1\n");
    assert!(
        file.add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
    assert_eq!(
        file.to_bytes(),
        b"[main]\ninstallonlypkgs=kernel-xenU kernel-xenU-devel\nexactarch=1\n"
    );
}

#[test]
fn add_words_with_no_words_does_not_create_key() {
    let mut file = IniFile::parse(YUM_CONF.as_bytes());
    assert!(!file.add_words(b"main", b"exclude", &[]).unwrap());
    assert_eq!(text(&file), YUM_CONF);
}

#[test]
fn remove_words_keeps_other_words_and_spacing() {
    let mut file = IniFile::parse(b"[main]\nexclude=a  b\tc d ; note\n");
    assert!(
        file.remove_words(b"main", b"exclude", &[b"b", b"d"])
            .unwrap()
    );
    assert_eq!(file.to_bytes(), b"[main]\n; note\nexclude=a\tc\n");
    assert!(!file.remove_words(b"main", b"exclude", &[b"b"]).unwrap());
    assert!(file.remove_words(b"main", b"exclude", &[b"a c"]).unwrap());
    assert_eq!(file.to_bytes(), b"[main]\n; note\nexclude=\n");
    assert_eq!(file.get(b"main", b"exclude"), Some(Vec::new()));
    assert!(!file.remove_words(b"main", b"missing", &[b"a"]).unwrap());
}

#[test]
fn remove_words_from_installonlypkgs() {
    let original = yum_conf_with_installonly();
    let mut file = IniFile::parse(original.as_bytes());
    assert!(
        file.remove_words(b"main", b"installonlypkgs", &[b"kernel-smp"])
            .unwrap()
    );
    assert_eq!(
        text(&file),
        original.replace("kernel kernel-smp kernel-devel", "kernel kernel-devel")
    );
}

#[test]
fn absent_section_is_appended_with_one_blank_line() {
    let mut file = IniFile::parse(MONASH_REPO.as_bytes());
    assert!(file.set(b"local", b"enabled", b"0").unwrap());
    assert_eq!(text(&file), format!("{MONASH_REPO}\n[local]\nenabled=0\n"));

    let ends_blank = format!("{MONASH_REPO}\n");
    let mut file = IniFile::parse(ends_blank.as_bytes());
    assert!(file.set(b"local", b"enabled", b"0").unwrap());
    assert_eq!(text(&file), format!("{ends_blank}[local]\nenabled=0\n"));

    let mut file = IniFile::parse(b"[main]\ngpgcheck=1");
    assert!(file.set(b"local", b"enabled", b"0").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"[main]\ngpgcheck=1\n\n[local]\nenabled=0\n"
    );

    let mut file = IniFile::parse(b"");
    assert!(file.set(b"main", b"gpgcheck", b"1").unwrap());
    assert_eq!(file.to_bytes(), b"[main]\ngpgcheck=1\n");
}

#[test]
fn key_written_twice_uses_last_occurrence() {
    let original = "[main]\ngpgcheck=0\nexclude=a\ndebuglevel=2\ngpgcheck=1\nexclude=b\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.get(b"main", b"gpgcheck"), Some(b"1".to_vec()));
    assert!(file.set(b"main", b"gpgcheck", b"0").unwrap());
    assert!(file.add_words(b"main", b"exclude", &[b"a"]).unwrap());
    assert_eq!(
        text(&file),
        "[main]\ngpgcheck=0\nexclude=a\ndebuglevel=2\ngpgcheck=0\nexclude=b a\n"
    );
    assert!(file.remove_words(b"main", b"exclude", &[b"a"]).unwrap());
    assert_eq!(
        text(&file),
        "[main]\ngpgcheck=0\nexclude=a\ndebuglevel=2\ngpgcheck=0\nexclude=b\n"
    );
    assert!(!file.set(b"main", b"gpgcheck", b"0").unwrap());
}

#[test]
fn section_written_twice_is_one_section() {
    let original = "[main]\na=1\n\n[other]\nb=2\n\n[main]\nc=3\n\n# end\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.get(b"main", b"a"), Some(b"1".to_vec()));
    assert_eq!(file.get(b"main", b"c"), Some(b"3".to_vec()));
    assert_eq!(file.get(b"other", b"a"), None);
    assert_eq!(file.sections(), vec![b"main".to_vec(), b"other".to_vec()]);
    assert!(file.set(b"main", b"a", b"9").unwrap());
    assert!(file.set(b"main", b"d", b"4").unwrap());
    assert_eq!(
        text(&file),
        "[main]\na=9\n\n[other]\nb=2\n\n[main]\nc=3\nd=4\n\n# end\n"
    );
}

#[test]
fn comments_and_spacing_are_kept_byte_for_byte() {
    let original = "\
; global comment\r\n\
[main]   \r\n\
cachedir = /var/cache/yum\r\n\
debuglevel   =\t2   ; inline\r\n\
# gpgcheck=0\r\n\
\r\n\
   \r\n\
tolerant=1\r\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.to_bytes(), original.as_bytes());
    assert_eq!(file.get(b"main", b"debuglevel"), Some(b"2".to_vec()));
    assert!(file.set(b"main", b"debuglevel", b"10").unwrap());
    assert!(file.set(b"main", b"exactarch", b"1").unwrap());
    let expected = "\
; global comment\r\n\
[main]   \r\n\
cachedir = /var/cache/yum\r\n\
; inline\r\n\
debuglevel   =\t10\r\n\
# gpgcheck=0\r\n\
\r\n\
   \r\n\
tolerant=1\r\n\
exactarch = 1\r\n";
    // Two of the section's three key lines are spaced, so the new one is too; the edited
    // line's inline comment moved above it, as libdnf would read it as part of the value.
    assert_eq!(text(&file), expected);
}

#[test]
fn new_key_follows_spaced_style_of_section() {
    let original = "[base]\nname = Base\ngpgcheck = 1\n\n[updates]\nname=Updates\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert!(file.set(b"base", b"enabled", b"0").unwrap());
    assert!(file.set(b"updates", b"enabled", b"0").unwrap());
    assert_eq!(
        text(&file),
        "[base]\nname = Base\ngpgcheck = 1\nenabled = 0\n\n[updates]\nname=Updates\n\
             enabled=0\n"
    );
}

#[test]
fn new_section_follows_spaced_style_of_file() {
    let mut file = IniFile::parse(b"[base]\nname = Base\n");
    assert!(file.set(b"extras", b"enabled", b"0").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"[base]\nname = Base\n\n[extras]\nenabled = 0\n"
    );
}

#[test]
fn repo_file_enabled_set_in_one_section_only() {
    let mut file = IniFile::parse(MONASH_REPO.as_bytes());
    assert_eq!(
        file.sections(),
        vec![b"monashbase".to_vec(), b"monashupdates".to_vec()]
    );
    assert_eq!(file.get(b"monashbase", b"enabled"), Some(b"1".to_vec()));
    assert_eq!(file.get(b"monashupdates", b"enabled"), None);

    assert!(file.set(b"monashupdates", b"enabled", b"0").unwrap());
    assert_eq!(text(&file), format!("{MONASH_REPO}enabled=0\n"));
    assert!(!file.set(b"monashupdates", b"enabled", b"0").unwrap());

    assert!(file.set(b"monashbase", b"enabled", b"0").unwrap());
    assert_eq!(
        text(&file),
        format!("{MONASH_REPO}enabled=0\n").replace("enabled=1", "enabled=0")
    );
}

#[test]
fn crlf_file_gets_crlf_for_new_lines() {
    let original = MONASH_REPO.replace('\n', "\r\n");
    let mut file = IniFile::parse(original.as_bytes());
    assert!(file.set(b"monashbase", b"exclude", b"kernel*").unwrap());
    assert!(file.set(b"local", b"enabled", b"0").unwrap());
    let expected = original.replace("enabled=1\r\n", "enabled=1\r\nexclude=kernel*\r\n")
        + "\r\n[local]\r\nenabled=0\r\n";
    assert_eq!(text(&file), expected);
}

#[test]
fn multi_line_values_are_kept_and_not_keys() {
    let original = "\
[base]
baseurl=http://mirror.a/centos/4/os/
        http://mirror.b/centos/4/os/
# a comment inside the list

\tftp://mirror.c:21/centos/4/os/
gpgcheck=1
";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(file.to_bytes(), original.as_bytes());
    assert_eq!(
        file.get(b"base", b"baseurl"),
        Some(
            b"http://mirror.a/centos/4/os/\nhttp://mirror.b/centos/4/os/\n\
                  ftp://mirror.c:21/centos/4/os/"
                .to_vec()
        )
    );
    assert_eq!(file.get(b"base", b"http"), None);
    assert_eq!(file.get(b"base", b"\tftp"), None);
    assert_eq!(file.get(b"base", b"gpgcheck"), Some(b"1".to_vec()));

    assert!(
        file.add_words(b"base", b"baseurl", &[b"http://mirror.d/"])
            .unwrap()
    );
    let added = original.replace(
        "\tftp://mirror.c:21/centos/4/os/\n",
        "\tftp://mirror.c:21/centos/4/os/ http://mirror.d/\n",
    );
    assert_eq!(text(&file), added);

    assert!(
        file.remove_words(b"base", b"baseurl", &[b"http://mirror.b/centos/4/os/"])
            .unwrap()
    );
    assert_eq!(
        text(&file),
        added.replace("        http://mirror.b/centos/4/os/\n", "")
    );

    assert!(file.set(b"base", b"baseurl", b"http://only/").unwrap());
    assert_eq!(
        text(&file),
        "[base]\nbaseurl=http://only/\n# a comment inside the list\n\ngpgcheck=1\n"
    );
}

#[test]
fn new_key_goes_after_continuation_lines() {
    let mut file = IniFile::parse(b"[base]\nbaseurl=http://a/\n  http://b/\n\n[next]\n");
    assert!(file.set(b"base", b"enabled", b"1").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"[base]\nbaseurl=http://a/\n  http://b/\nenabled=1\n\n[next]\n"
    );
}

#[test]
fn new_key_does_not_swallow_indented_lines() {
    let mut file = IniFile::parse(b"[base]\n  # indented note\n\n[next]\n");
    assert!(file.set(b"base", b"enabled", b"1").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"[base]\n  # indented note\nenabled=1\n\n[next]\n"
    );
    assert_eq!(file.get(b"base", b"enabled"), Some(b"1".to_vec()));
}

#[test]
fn new_key_right_after_header_when_section_has_no_keys() {
    let mut file = IniFile::parse(b"[base]\n\n# about next\n[next]\nx=1\n");
    assert!(file.set(b"base", b"enabled", b"1").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"[base]\nenabled=1\n\n# about next\n[next]\nx=1\n"
    );
}

#[test]
fn keys_before_any_header_belong_to_empty_section() {
    let mut file = IniFile::parse(b"# top\nglobal=1\n[main]\nglobal=2\n");
    assert_eq!(file.get(b"", b"global"), Some(b"1".to_vec()));
    assert_eq!(file.get(b"main", b"global"), Some(b"2".to_vec()));
    assert!(file.set(b"", b"other", b"3").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"# top\nglobal=1\nother=3\n[main]\nglobal=2\n"
    );
    assert_eq!(file.sections(), vec![b"main".to_vec()]);

    let mut file = IniFile::parse(b"[main]\n");
    assert!(file.set(b"", b"first", b"1").unwrap());
    assert_eq!(file.to_bytes(), b"first=1\n[main]\n");
}

#[test]
fn keys_are_trimmed_and_found_in_any_case() {
    let mut file = IniFile::parse(b"[main]\n  Enabled  =  1  \n");
    assert_eq!(file.get(b"main", b"Enabled"), Some(b"1".to_vec()));
    assert_eq!(file.get(b"main", b" Enabled "), Some(b"1".to_vec()));
    assert_eq!(file.get(b"main", b"enabled"), Some(b"1".to_vec()));
    assert_eq!(file.get(b"MAIN", b"enabled"), None);
    assert!(file.set(b"main", b"ENABLED ", b" 0 ").unwrap());
    assert_eq!(file.to_bytes(), b"[main]\n  Enabled  =  0  \n");
}

#[test]
fn colon_delimiter_and_header_variants() {
    let mut file = IniFile::parse(b"  [main] ; the main section\ngpgcheck: 1\n[ spaced ]\n");
    assert_eq!(
        file.sections(),
        vec![b"main".to_vec(), b" spaced ".to_vec()]
    );
    assert_eq!(file.get(b"main", b"gpgcheck"), Some(b"1".to_vec()));
    assert!(file.set(b"main", b"gpgcheck", b"0").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"  [main] ; the main section\ngpgcheck: 0\n[ spaced ]\n"
    );
}

#[test]
fn indented_header_is_a_header_even_after_a_key() {
    let mut file = IniFile::parse(b" [main]\nbaseurl=http://a/\n  [other]\n  x=1\n");
    assert_eq!(file.sections(), vec![b"main".to_vec(), b"other".to_vec()]);
    assert_eq!(file.get(b"main", b"baseurl"), Some(b"http://a/".to_vec()));
    assert_eq!(file.get(b"other", b"x"), Some(b"1".to_vec()));
    assert!(file.set(b"", b"k", b"v").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"k=v\n [main]\nbaseurl=http://a/\n  [other]\n  x=1\n"
    );
    assert_eq!(file.sections(), vec![b"main".to_vec(), b"other".to_vec()]);
}

#[test]
fn setting_empty_value_moves_inline_comment() {
    let mut file = IniFile::parse(b"[main]\nexclude = kernel* ; no kernels\n");
    assert!(file.set(b"main", b"exclude", b"").unwrap());
    assert_eq!(file.to_bytes(), b"[main]\n; no kernels\nexclude = \n");
    assert_eq!(file.get(b"main", b"exclude"), Some(Vec::new()));
    assert!(!file.set(b"main", b"exclude", b"").unwrap());
    // A `;` right at the start of a value is part of it, as in yum.
    let file = IniFile::parse(b"[main]\nname= ;semi\n");
    assert_eq!(file.get(b"main", b"name"), Some(b";semi".to_vec()));
}

#[test]
fn remove_key_removes_every_occurrence_and_continuations() {
    let original = "[main]\nexclude=a\n  b\ngpgcheck=1\nexclude=c\n[other]\nexclude=d\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert!(file.remove_key(b"main", b"exclude"));
    assert_eq!(text(&file), "[main]\ngpgcheck=1\n[other]\nexclude=d\n");
    assert_eq!(file.get(b"main", b"exclude"), None);
    assert!(!file.remove_key(b"main", b"exclude"));
}

#[test]
fn unknown_and_non_utf8_lines_are_kept() {
    let original: &[u8] = b"garbage line\n[]\n[main\n=novalue\n[main]\nname=caf\xe9\n\xff";
    let mut file = IniFile::parse(original);
    assert_eq!(file.to_bytes(), original);
    assert_eq!(file.get(b"main", b"name"), Some(b"caf\xe9".to_vec()));
    assert_eq!(file.sections(), vec![b"main".to_vec()]);
    assert!(file.set(b"main", b"name", b"\xe9t\xe9").unwrap());
    assert_eq!(
        file.to_bytes(),
        b"garbage line\n[]\n[main\n=novalue\n[main]\nname=\xe9t\xe9\n\xff".to_vec()
    );
}

/// Random ini-like files from a few typical line shapes and terminators.
fn ini_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::sample::select(vec![
        "[a]",
        "[b]",
        " [a] ",
        "k=1",
        "k = 2",
        "j:3",
        "k=x y ; c",
        "  cont",
        "\tk=4",
        "# c",
        "; c",
        "",
        "  ",
        "junk",
        "[",
        "=",
        "j=",
    ]);
    let term = prop::sample::select(vec!["\n", "\r\n", ""]);
    prop::collection::vec((line, term), 0..12).prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(l, t)| [l.as_bytes(), t.as_bytes()].concat())
            .collect()
    })
}

/// The values of the test keys other than `key` in `section`.
fn other_values(file: &IniFile, section: &[u8], key: &[u8]) -> Vec<Option<Vec<u8>>> {
    [&b"k"[..], b"j", b"new"]
        .into_iter()
        .filter(|k| *k != key)
        .map(|k| file.get(section, k))
        .collect()
}

proptest! {
    #[test]
    fn parse_to_bytes_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut file = IniFile::parse(&bytes);
        prop_assert_eq!(file.to_bytes(), bytes);
        // Whatever the input, queries and edits must not panic.
        let _ = file.sections();
        let _ = file.get(b"a", b"k");
        // Refusing is allowed (a `[DEFAULT]` value may not fit on one line).
        let _ = file.add_words(b"a", b"k", &[b"w"]);
        let _ = file.remove_words(b"", b"k", &[b"w"]);
        let _ = file.set(b"", b"j", b"v");
        file.remove_key(b"a", b"k");
    }

    #[test]
    fn set_then_get_and_idempotent(
        bytes in ini_strategy(),
        section in prop::sample::select(vec!["", "a", "b", "c"]),
        key in prop::sample::select(vec!["k", "j", "new"]),
        value in prop::sample::select(vec!["", "1", "x y", "2"]),
    ) {
        let (s, k, v) = (section.as_bytes(), key.as_bytes(), value.as_bytes());
        let mut file = IniFile::parse(&bytes);
        let others = other_values(&file, s, k);
        file.set(s, k, v).unwrap();
        let once = file.to_bytes();
        let reparsed = IniFile::parse(&once);
        prop_assert_eq!(reparsed.get(s, k), Some(v.to_vec()));
        prop_assert_eq!(other_values(&reparsed, s, k), others);
        prop_assert!(!file.set(s, k, v).unwrap());
        prop_assert_eq!(file.to_bytes(), once);

        let mut sections = IniFile::parse(&bytes).sections();
        if !s.is_empty() && !sections.contains(&s.to_vec()) {
            sections.push(s.to_vec());
        }
        prop_assert_eq!(reparsed.sections(), sections);

        prop_assert!(file.remove_key(s, k));
        prop_assert_eq!(IniFile::parse(&file.to_bytes()).get(s, k), None);
    }

    #[test]
    fn add_words_idempotent_and_other_keys_untouched(
        bytes in ini_strategy(),
        section in prop::sample::select(vec!["", "a", "b", "c"]),
        key in prop::sample::select(vec!["k", "j", "new"]),
        words in prop::collection::vec(prop::sample::select(vec!["x", "y", "z"]), 0..3),
    ) {
        let (s, k) = (section.as_bytes(), key.as_bytes());
        let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        let mut file = IniFile::parse(&bytes);
        let others = other_values(&file, s, k);
        file.add_words(s, k, &words).unwrap();
        let reparsed = IniFile::parse(&file.to_bytes());
        prop_assert_eq!(other_values(&reparsed, s, k), others);
        match reparsed.get(s, k) {
            Some(value) => {
                let have: Vec<&[u8]> = split_words(&value).collect();
                prop_assert!(words.iter().all(|w| have.contains(w)));
            }
            None => prop_assert!(words.is_empty()),
        }
        prop_assert!(!reparsed.clone().add_words(s, k, &words).unwrap());
        prop_assert!(!file.add_words(s, k, &words).unwrap());
        prop_assert_eq!(file.remove_words(s, k, &words).unwrap(), !words.is_empty());
        prop_assert!(!file.remove_words(s, k, &words).unwrap());
    }
}

/// The safety issue's seed: yum lowercases option names (ConfigParser's `optionxform`), so
/// `InstallOnlyPkgs` IS yum's `installonlypkgs`; the words go into that line, keeping its
/// spelling, and no second key is written (yum would read only that one).
#[test]
fn differently_cased_key_is_the_key_and_is_edited_in_place() {
    let original = "[main]\nInstallOnlyPkgs=kernel kernel-smp mysite-kmod\ngpgcheck=1\n";
    let mut file = IniFile::parse(original.as_bytes());
    assert_eq!(
        file.get(b"main", b"installonlypkgs"),
        Some(b"kernel kernel-smp mysite-kmod".to_vec())
    );
    assert!(
        file.add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
    assert_eq!(
        text(&file),
        "[main]\nInstallOnlyPkgs=kernel kernel-smp mysite-kmod kernel-xenU kernel-xenU-devel\n\
         gpgcheck=1\n"
    );
    assert!(
        !file
            .add_words(b"main", b"installonlypkgs", &XEN_WORDS)
            .unwrap()
    );
}
