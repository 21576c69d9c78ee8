//! Differential test: vmup's reading of generated files against Python's own
//! `configparser`, and edits checked by reading the result with Python again.
//!
//! yum reads its files with Python 2's `ConfigParser` (or iniparse, which copies it); what
//! runs here is Python 3's `RawConfigParser`, configured as close to Python 2 as it goes:
//! - `strict=False`: duplicate sections merge and a later duplicate option wins, as in 2;
//! - `interpolation=None`: no `%(name)s` expansion (the generator writes no `%` either);
//! - `inline_comment_prefixes=(";",)`: 2 strips a `;` after whitespace on a key line;
//! - `empty_lines_in_values=True`: with `False` a comment line ends a multi-line value,
//!   which in 2 goes on; blank lines, which 2 skips entirely (3 keeps them in the value),
//!   are dropped before Python 3 reads the file, which is exactly what 2 does with them;
//! - `SECTCRE` set to 2's `\[(?P<header>[^]]+)\]` (3's takes the name up to the LAST `]`);
//! - `comment_prefixes` with `rem` followed by a space or tab, in each case: 2 skips a line
//!   whose first word is `rem`; 3 knows only prefixes, and these cover the generated lines.
//!
//! Where 3 and 2 still differ the generator stays out: 3 strips comments and whitespace
//! before it looks at a line, so it reads indented headers, keys and comments that 2
//! rejects or reads as continuation lines (the generator indents only continuation lines,
//! whose text never starts with `#`, `;`, `[` or `rem`); 3 looks for an inline `;` on
//! every line and at every `;` (2: key lines only, the first `;` only), so a line with an
//! inline comment has no other `;`, a value never starts with `;`, and continuation lines
//! have none; 2 empties a value of `""` (3 does not), so no value is quoted; 3 lowercases
//! names with Unicode rules, so names are ASCII. Files have a header before any key (2
//! refuses a file without), and no line either reader rejects.
//!
//! The edits are `set`, `add_words` and `remove_words`. A continuation line may hold `[x]`
//! after its first word, so that `remove_words` of the words before it would leave a line
//! starting with `[`: Python reads that as a continuation, vmup (as libdnf) as a header,
//! so an edit writing one would show here as a disagreement. The editor writes none (the
//! value then goes on the key line), and Python must read the same words there.

use std::io::Write;
use std::process::{Command, Stdio};

use proptest::prelude::*;
use serde_json::Value;

use super::IniFile;
use super::words::split_words;

/// Reads each file of the JSON list on stdin; prints, per file, its sections, defaults and
/// options (with defaults merged, as `get` sees them), or the parsing error.
const READER: &str = r##"
import configparser, io, json, re, sys

PY2_SECTCRE = re.compile(r"\[(?P<header>[^]]+)\]")
REM = tuple(a + b + c + s for a in "rR" for b in "eE" for c in "mM" for s in " \t")

def read(text):
    kept = "".join(l for l in io.StringIO(text, newline="\n") if l.strip() != "")
    cp = configparser.RawConfigParser(
        strict=False, interpolation=None, comment_prefixes=("#", ";") + REM,
        inline_comment_prefixes=(";",), empty_lines_in_values=True)
    cp.SECTCRE = PY2_SECTCRE
    cp.read_string(kept)
    return cp

out = []
for text in json.load(sys.stdin):
    try:
        cp = read(text)
        out.append({
            "sections": cp.sections(),
            "defaults": dict(cp.defaults()),
            "options": {s: dict(cp.items(s)) for s in cp.sections()},
        })
    except configparser.Error as e:
        out.append({"error": str(e)})
json.dump(out, sys.stdout)
"##;

/// What Python read of one file.
#[derive(Debug, Clone, PartialEq)]
struct PyRead {
    sections: Vec<String>,
    defaults: Vec<(String, String)>,
    options: Vec<(String, Vec<(String, String)>)>,
}

impl PyRead {
    /// Python's `get(section, key)`: `None` where it raises.
    fn get(&self, section: &str, key: &str) -> Option<String> {
        let key = key.to_ascii_lowercase();
        let find = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        if section == "DEFAULT" {
            return find(&self.defaults);
        }
        let (_, pairs) = self.options.iter().find(|(s, _)| s == section)?;
        find(pairs)
    }
}

fn pairs(value: &Value) -> Vec<(String, String)> {
    let Some(map) = value.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect()
}

/// Reads every file with Python in one run.
fn python_reads(files: &[String]) -> Vec<Result<PyRead, String>> {
    let mut child = Command::new("python3")
        .args(["-c", READER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs (the differential test needs it)");
    let input = serde_json::to_vec(files).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("python3 reads its input");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(output.status.success(), "python3 failed: {output:?}");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).expect("python's json");
    results
        .iter()
        .map(|r| {
            if let Some(e) = r.get("error") {
                return Err(e.to_string());
            }
            let sections: Vec<String> = r["sections"]
                .as_array()
                .expect("sections")
                .iter()
                .map(|s| s.as_str().expect("name").to_string())
                .collect();
            let options = sections
                .iter()
                .map(|s| (s.clone(), pairs(&r["options"][s])))
                .collect();
            Ok(PyRead {
                sections,
                defaults: pairs(&r["defaults"]),
                options,
            })
        })
        .collect()
}

/// Section names the generator writes, and two it never writes.
const SECTIONS: [&str; 9] = [
    "main", "Main", "base", "DEFAULT", " main ", "x.y-z", "a b", "", "new",
];

/// Option names the generator writes, lowercase.
const KEYS: [&str; 8] = [
    "installonlypkgs",
    "enabled",
    "gpgcheck",
    "exclude",
    "baseurl",
    "name",
    "foo bar",
    "x.y-z_1",
];

/// Words of a key line's value: some with `;`, `#`, `=`, `:` or brackets inside.
const VALUE_WORDS: [&str; 10] = [
    "kernel",
    "kernel-smp",
    "mysite-kmod",
    "1",
    "0",
    "http://mirror/centos/$releasever/os/",
    "a=b",
    "#frag",
    "x;y",
    "[x]",
];

/// Words of a continuation line: nothing a line could start with to be read otherwise.
const CONTINUATION_WORDS: [&str; 5] = ["kernel-xenU", "http://b/", "ftp://c:21/", "x#y", "2"];

/// Words a continuation line may hold after its first: also one that no continuation line
/// may start with (libdnf would read a header), which a `remove_words` of the words before
/// it would bring to the start of the line.
const LATER_CONTINUATION_WORDS: [&str; 6] =
    ["kernel-xenU", "http://b/", "ftp://c:21/", "x#y", "2", "[x]"];

fn header() -> impl Strategy<Value = String> {
    let name = prop::sample::select(SECTIONS[..7].to_vec());
    let after = prop::sample::select(vec!["", " ", " ; note", "\t# note", "#x", ";x"]);
    (name, after).prop_map(|(n, a)| format!("[{n}]{a}"))
}

/// A key in one of its cases: as is, upper, capitalised, or letter by letter.
fn key_spelling() -> impl Strategy<Value = String> {
    let key = prop::sample::select(KEYS.to_vec());
    let mask = prop::collection::vec(any::<bool>(), 16);
    (key, 0..4u8, mask).prop_map(|(k, how, mask)| match how {
        0 => k.to_string(),
        1 => k.to_ascii_uppercase(),
        2 => k[..1].to_ascii_uppercase() + &k[1..],
        _ => k
            .chars()
            .zip(mask)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect(),
    })
}

fn comment_line() -> impl Strategy<Value = String> {
    let lines = vec![
        "# comment",
        "#",
        ";",
        "; [main]",
        "# k=v",
        "rem note",
        "REM\tx=1",
        "Rem note",
    ];
    prop::sample::select(lines).prop_map(str::to_string)
}

fn blank_line() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["", " ", "\t "]).prop_map(str::to_string)
}

/// A key line, then its continuation lines with blank and comment lines among them.
fn key_lines() -> impl Strategy<Value = Vec<String>> {
    let spacing = prop::sample::select(vec!["", " ", "\t", "   "]);
    let delimiter = prop::sample::select(vec!["=", ":"]);
    let after = prop::sample::select(vec!["", " ", "\t"]);
    let words = prop::collection::vec(prop::sample::select(VALUE_WORDS.to_vec()), 0..4);
    let trailing = prop::sample::select(vec!["", " ", "\t"]);
    let comment = prop::sample::select(vec!["", " ; note", "\t;note", "  ; a=b [x]"]);
    let continuation = prop_oneof![
        3 => (
            prop::sample::select(vec![" ", "\t", "    "]),
            prop::sample::select(CONTINUATION_WORDS.to_vec()),
            prop::collection::vec(prop::sample::select(LATER_CONTINUATION_WORDS.to_vec()), 0..3),
        )
            .prop_map(|(indent, first, later)| {
                format!("{indent}{first}{}", later.iter().map(|w| format!(" {w}")).collect::<String>())
            }),
        1 => blank_line(),
        1 => comment_line(),
    ];
    let key_line = (
        key_spelling(),
        spacing,
        delimiter,
        after,
        words,
        trailing,
        comment,
    );
    (key_line, prop::collection::vec(continuation, 0..4)).prop_map(
        |((key, spacing, delimiter, after, words, trailing, comment), rest)| {
            let value = words.join(" ");
            // An inline comment only where both Pythons see it (see the module doc).
            let comment = if value.is_empty() || value.contains(';') {
                ""
            } else {
                comment
            };
            let mut lines = vec![format!(
                "{key}{spacing}{delimiter}{after}{value}{trailing}{comment}"
            )];
            lines.extend(rest);
            lines
        },
    )
}

/// A whole file: comments and blank lines, then sections of key, comment and blank lines,
/// each line ended by `\n` or `\r\n`, the last one maybe by nothing.
fn file() -> impl Strategy<Value = String> {
    let loose = prop_oneof![comment_line(), blank_line()].prop_map(|l| vec![l]);
    let body_item = prop_oneof![3 => key_lines(), 1 => loose.clone()];
    let section = (header(), prop::collection::vec(body_item, 0..6)).prop_map(|(h, items)| {
        let mut lines = vec![h];
        lines.extend(items.into_iter().flatten());
        lines
    });
    let preamble = prop::collection::vec(loose, 0..3);
    let sections = prop::collection::vec(section, 1..5);
    let terminators = prop::collection::vec(prop::sample::select(vec!["\n", "\r\n"]), 64);
    (preamble, sections, terminators, any::<bool>()).prop_map(
        |(preamble, sections, terminators, last_ended)| {
            let lines: Vec<String> = preamble
                .into_iter()
                .flatten()
                .chain(sections.into_iter().flatten())
                .collect();
            let mut out = String::new();
            for (i, line) in lines.iter().enumerate() {
                out.push_str(line);
                if i + 1 < lines.len() || last_ended {
                    out.push_str(terminators[i % terminators.len()]);
                }
            }
            out
        },
    )
}

/// An edit to make on a generated file.
#[derive(Debug, Clone)]
enum Edit {
    Set(&'static str, String, &'static str),
    AddWords(&'static str, String, Vec<&'static str>),
    RemoveWords(&'static str, String, Vec<&'static str>),
}

fn edit() -> impl Strategy<Value = Edit> {
    let section = prop::sample::select(vec!["main", "base", "DEFAULT", " main ", "new"]);
    let value = prop::sample::select(vec!["0", "1", "", "kernel kernel-xenU", "a;b #c"]);
    let words = prop::collection::vec(
        prop::sample::select(vec![
            "kernel-xenU",
            "kernel-xenU-devel",
            "kernel",
            "a;b",
            "[x]",
        ]),
        0..3,
    );
    // Words of key lines and of continuation lines, so that some lines lose their first.
    let unwanted = prop::collection::vec(
        prop::sample::select(vec![
            "kernel",
            "kernel-xenU",
            "http://b/",
            "2",
            "1",
            "x;y",
            "a=b",
            "[x]",
        ]),
        0..3,
    );
    prop_oneof![
        (section.clone(), key_spelling(), value).prop_map(|(s, k, v)| Edit::Set(s, k, v)),
        (section.clone(), key_spelling(), words).prop_map(|(s, k, w)| Edit::AddWords(s, k, w)),
        (section, key_spelling(), unwanted).prop_map(|(s, k, w)| Edit::RemoveWords(s, k, w)),
    ]
}

fn text(file: &IniFile) -> String {
    String::from_utf8(file.to_bytes()).expect("generated files are ASCII")
}

/// vmup's `get` agrees with Python for every section and key the generator writes, in
/// two cases each, and for sections and keys that are not there.
fn check_reading(file: &str, py: &PyRead) -> Result<(), String> {
    let ini = IniFile::parse(file.as_bytes());
    let sections: Vec<String> = ini
        .sections()
        .into_iter()
        .map(|s| String::from_utf8(s).expect("ascii"))
        .filter(|s| s != "DEFAULT")
        .collect();
    if sections != py.sections {
        return Err(format!(
            "sections: vmup {sections:?}, python {:?}",
            py.sections
        ));
    }
    for section in SECTIONS {
        for key in KEYS
            .iter()
            .flat_map(|k| [k.to_string(), k.to_ascii_uppercase()])
        {
            let ours = ini
                .get(section.as_bytes(), key.as_bytes())
                .map(|v| String::from_utf8(v).expect("ascii"));
            let theirs = py.get(section, &key);
            if ours != theirs {
                return Err(format!(
                    "[{section}] {key}: vmup {ours:?}, python {theirs:?}"
                ));
            }
        }
    }
    Ok(())
}

/// What Python must read for the edited key once the edit is made.
fn intended(edit: &Edit, before: &PyRead) -> (&'static str, String, String) {
    match edit {
        Edit::Set(section, key, value) => (section, key.clone(), value.to_string()),
        Edit::AddWords(section, key, words) => {
            // A new section inherits nothing: Python 2 has no such section to read from.
            let old = match before.sections.iter().any(|s| s == section) || *section == "DEFAULT" {
                true => before.get(section, key).unwrap_or_default(),
                false => String::new(),
            };
            let mut all: Vec<&str> = split_words(old.as_bytes())
                .map(|w| std::str::from_utf8(w).expect("ascii"))
                .collect();
            let mut added = false;
            for word in words {
                if !all.contains(word) {
                    all.push(word);
                    added = true;
                }
            }
            let value = if added || before.get(section, key).is_some() {
                all.join(" ")
            } else {
                String::new()
            };
            (section, key.clone(), value)
        }
        Edit::RemoveWords(section, key, words) => {
            let old = before.get(section, key).unwrap_or_default();
            let kept: Vec<&str> = old
                .split_whitespace()
                .filter(|w| !words.contains(w))
                .collect();
            (section, key.clone(), kept.join(" "))
        }
    }
}

/// After an edit Python reads the intended value, and every other value as before (a
/// `[DEFAULT]` edit also reaches the sections that inherit the key).
fn check_edit(edit: &Edit, before: &PyRead, after: &PyRead) -> Result<(), String> {
    let (section, key, value) = intended(edit, before);
    // No words to add, or a key to remove words from that no reader sees: nothing to write.
    let skipped = match edit {
        Edit::AddWords(_, _, w) => w.is_empty(),
        Edit::RemoveWords(..) => true,
        Edit::Set(..) => false,
    } && before.get(section, &key).is_none();
    let got = after.get(section, &key);
    let want = (!skipped).then(|| value.clone());
    fn words(v: &Option<String>) -> Option<Vec<&str>> {
        v.as_ref().map(|v| v.split_whitespace().collect())
    }
    let same = match edit {
        Edit::Set(..) => got == want,
        Edit::AddWords(..) | Edit::RemoveWords(..) => words(&got) == words(&want),
    };
    if !same {
        return Err(format!(
            "[{section}] {key}: python reads {got:?}, want {want:?}"
        ));
    }
    let has = |read: &PyRead| read.sections.iter().any(|s| s == section);
    let created = !has(before) && has(after);
    for s in SECTIONS {
        for k in KEYS {
            let edited = k.eq_ignore_ascii_case(&key)
                && (s == section
                    || section == "DEFAULT" && before.get(s, k) == before.get("DEFAULT", k));
            if edited {
                continue;
            }
            // A section the edit creates reads the rest from [DEFAULT].
            let was = match created && s == section {
                true => before.get("DEFAULT", k),
                false => before.get(s, k),
            };
            if was != after.get(s, k) {
                return Err(format!(
                    "[{s}] {k} changed: {was:?} -> {:?}",
                    after.get(s, k)
                ));
            }
        }
    }
    Ok(())
}

fn run_batch(batch: &[(String, Edit)]) -> Result<(), TestCaseError> {
    let files: Vec<String> = batch.iter().map(|(f, _)| f.clone()).collect();
    let before = python_reads(&files);
    let mut edited = Vec::new();
    for ((file, edit), py) in batch.iter().zip(&before) {
        let py = py
            .as_ref()
            .map_err(|e| TestCaseError::fail(format!("python rejects {file:?}: {e}")))?;
        check_reading(file, py).map_err(|e| TestCaseError::fail(format!("{file:?}: {e}")))?;
        let mut ini = IniFile::parse(file.as_bytes());
        let done = match edit {
            Edit::Set(s, k, v) => ini.set(s.as_bytes(), k.as_bytes(), v.as_bytes()),
            Edit::AddWords(s, k, w) => {
                let words: Vec<&[u8]> = w.iter().map(|w| w.as_bytes()).collect();
                ini.add_words(s.as_bytes(), k.as_bytes(), &words)
            }
            Edit::RemoveWords(s, k, w) => {
                let words: Vec<&[u8]> = w.iter().map(|w| w.as_bytes()).collect();
                ini.remove_words(s.as_bytes(), k.as_bytes(), &words)
            }
        };
        done.map_err(|e| TestCaseError::fail(format!("{file:?}: {edit:?} refused: {e}")))?;
        edited.push(text(&ini));
    }
    let after = python_reads(&edited);
    for (i, ((file, edit), py)) in batch.iter().zip(&after).enumerate() {
        let fail = |e: String| {
            TestCaseError::fail(format!("{file:?} after {edit:?} = {:?}: {e}", edited[i]))
        };
        let py = py
            .as_ref()
            .map_err(|e| fail(format!("python rejects it: {e}")))?;
        let Ok(old) = &before[i] else { continue };
        check_edit(edit, old, py).map_err(fail)?;
        check_reading(&edited[i], py).map_err(fail)?;
    }
    Ok(())
}

/// Batches of 100 files, each read by Python once before and once after its edit:
/// `PROPTEST_CASES` sets how many batches (3 by default, so 300 files).
fn batches() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(batches()))]

    #[test]
    fn vmup_reads_and_edits_as_python_configparser(
        batch in prop::collection::vec((file(), edit()), 100)
    ) {
        run_batch(&batch)?;
    }
}
