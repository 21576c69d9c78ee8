//! The README's "remote requirements" table, read as data, and checked against what
//! coreutils 5.2.1 (CentOS 4) has.

use std::collections::BTreeSet;
use std::path::Path;

/// Where a table entry comes from in the tests' `PATH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The busybox applet of the same name.
    Busybox,
    /// The machine's own coreutils program, where Debian's busybox has no applet.
    Coreutils,
    /// The runbook's own tool (package manager, init system, initrd and domain tools): the
    /// machine's, wrapped so it runs with the machine's full PATH, or absent.
    Tool,
    /// The shell under test itself.
    Shell,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub command: String,
    /// Options the scripts use.
    pub options: Vec<String>,
    /// Options used only where the command has them (a fallback exists).
    pub optional: Vec<String>,
    pub package: String,
    pub provider: Provider,
}

/// The rows between the README's `remote-requirements` markers.
pub fn table() -> Vec<Requirement> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable");
    let begin = readme
        .find("<!-- remote-requirements:begin -->")
        .expect("README.md has the remote-requirements begin marker");
    let end = readme
        .find("<!-- remote-requirements:end -->")
        .expect("README.md has the remote-requirements end marker");
    let mut rows = Vec::new();
    for line in readme[begin..end].lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.first() == Some(&"command") || cells.iter().all(|c| c.starts_with("---")) {
            continue;
        }
        assert_eq!(cells.len(), 5, "README requirements row {line:?}");
        let code = |c: &str| c.trim_matches('`').to_string();
        let mut options = Vec::new();
        let mut optional = Vec::new();
        for word in code(cells[1]).split_whitespace() {
            match word.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
                Some(w) => optional.push(w.to_string()),
                None => options.push(word.to_string()),
            }
        }
        let provider = match cells[3] {
            "busybox" => Provider::Busybox,
            "coreutils" => Provider::Coreutils,
            "tool" => Provider::Tool,
            "shell" => Provider::Shell,
            other => panic!("README requirements row {line:?}: unknown `tests` value {other:?}"),
        };
        rows.push(Requirement {
            command: code(cells[0]),
            options,
            optional,
            package: cells[2].to_string(),
            provider,
        });
    }
    assert!(
        rows.len() > 20,
        "the requirements table was not found whole"
    );
    rows
}

/// coreutils 5.2.1's programs: `bin_PROGRAMS` and `EXTRA_PROGRAMS` of its `src/Makefile.am`
/// (git tag v5.2.1 of coreutils; `ginstall` is installed as `install`, `[` since 5.0.1).
const COREUTILS_5_2_1: &[&str] = &[
    "[",
    "chgrp",
    "chown",
    "chmod",
    "cp",
    "dd",
    "dircolors",
    "du",
    "install",
    "link",
    "ln",
    "dir",
    "vdir",
    "ls",
    "mkdir",
    "mkfifo",
    "mknod",
    "mv",
    "nohup",
    "readlink",
    "rm",
    "rmdir",
    "shred",
    "stat",
    "sync",
    "touch",
    "unlink",
    "cat",
    "cksum",
    "comm",
    "csplit",
    "cut",
    "expand",
    "fmt",
    "fold",
    "head",
    "join",
    "md5sum",
    "nl",
    "od",
    "paste",
    "pr",
    "ptx",
    "sha1sum",
    "sort",
    "split",
    "sum",
    "tac",
    "tail",
    "tr",
    "tsort",
    "unexpand",
    "uniq",
    "wc",
    "basename",
    "date",
    "dirname",
    "echo",
    "env",
    "expr",
    "factor",
    "false",
    "hostname",
    "id",
    "kill",
    "logname",
    "pathchk",
    "printenv",
    "printf",
    "pwd",
    "seq",
    "sleep",
    "tee",
    "test",
    "true",
    "tty",
    "whoami",
    "yes",
    "chroot",
    "df",
    "hostid",
    "nice",
    "pinky",
    "stty",
    "su",
    "uname",
    "uptime",
    "users",
    "who",
];

/// Programs that came later, so a CentOS 4 host lacks them (coreutils NEWS: base64,
/// sha224sum, sha256sum, sha384sum, sha512sum and shuf are "New programs" of 6.0; mktemp
/// joined coreutils in 7.1, CentOS 4 has the separate mktemp 1.5 package; timeout 7.0,
/// truncate 7.1, stdbuf 7.5, nproc 8.1, realpath 8.15, base32 8.25, b2sum 8.26).
const COREUTILS_LATER: &[&str] = &[
    "base64",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "shuf",
    "timeout",
    "truncate",
    "stdbuf",
    "nproc",
    "realpath",
    "base32",
    "b2sum",
    "numfmt",
    "mktemp",
];

/// The options of the programs the scripts use, from each one's `usage()` in coreutils
/// 5.2.1's `src/*.c` (git tag v5.2.1). Not there: `mv -T` (`--no-target-directory`, new in
/// 5.3.0 per NEWS), `stat --printf` (new in 6.0 per NEWS; `-c`/`--format` is in 5.2.1),
/// `readlink -e`/`-m` (5.3.0; `-f` is in 5.2.1). `--` ends options in every one of them
/// (getopt_long).
fn coreutils_5_2_1_options(program: &str) -> &'static [&'static str] {
    match program {
        "cat" => &[
            "-A", "-b", "-e", "-E", "-n", "-s", "-t", "-T", "-u", "-v", "-B",
        ],
        "chmod" => &["-c", "-f", "-v", "-R", "--reference"],
        "chown" => &[
            "-c",
            "-f",
            "-v",
            "-h",
            "-R",
            "-H",
            "-L",
            "-P",
            "--from",
            "--reference",
        ],
        "cp" => &[
            "-a",
            "-b",
            "-d",
            "-f",
            "-i",
            "-H",
            "-l",
            "-L",
            "-p",
            "-P",
            "-R",
            "-r",
            "-s",
            "-S",
            "-u",
            "-v",
            "-x",
            "--parents",
            "--target-directory",
        ],
        "env" => &["-i", "-u"],
        "head" => &["-c", "-n", "-q", "-v"],
        "ln" => &[
            "-b",
            "-d",
            "-f",
            "-n",
            "-i",
            "-s",
            "-S",
            "-v",
            "--target-directory",
        ],
        "mv" => &[
            "-b",
            "-f",
            "-i",
            "-S",
            "-u",
            "-v",
            "--reply",
            "--target-directory",
        ],
        "od" => &[
            "-A", "-j", "-N", "-s", "-t", "-v", "-w", "-a", "-b", "-c", "-d", "-f", "-h", "-i",
            "-l", "-o", "-x",
        ],
        "readlink" => &["-f", "-n", "-q", "-s", "-v"],
        "rm" => &["-d", "-f", "-i", "-r", "-R", "-v"],
        "sort" => &[
            "-b", "-d", "-f", "-g", "-i", "-M", "-n", "-r", "-c", "-k", "-m", "-o", "-s", "-S",
            "-t", "-T", "-u", "-z",
        ],
        "stat" => &["-f", "-c", "-L", "-t", "--format"],
        "tail" => &["-c", "-f", "-F", "-n", "-q", "-s", "-v", "--pid", "--retry"],
        "tr" => &["-c", "-d", "-s", "-t"],
        "uname" => &["-a", "-s", "-n", "-r", "-v", "-m", "-p", "-i", "-o"],
        "wc" => &["-c", "-m", "-l", "-L", "-w"],
        // Operands only (`bs=`, `skip=`, `count=` for dd): no options at all.
        "cksum" | "dd" | "sleep" | "nohup" => &[],
        _ => &[],
    }
}

#[test]
fn every_coreutils_entry_is_in_coreutils_5_2_1_with_the_options_it_has() {
    let mut wrong = Vec::new();
    for r in table() {
        let is_coreutils = r.package.starts_with("coreutils");
        if COREUTILS_LATER.contains(&r.command.as_str()) && is_coreutils {
            wrong.push(format!("{} is not in coreutils 5.2.1", r.command));
        }
        if !is_coreutils {
            continue;
        }
        assert_eq!(
            r.package, "coreutils 5.2.1",
            "{}: CentOS 4 has coreutils 5.2.1",
            r.command
        );
        if !COREUTILS_5_2_1.contains(&r.command.as_str()) {
            wrong.push(format!("{} is not a coreutils 5.2.1 program", r.command));
            continue;
        }
        let known = coreutils_5_2_1_options(&r.command);
        for o in r.options.iter().filter(|o| *o != "--") {
            if !known.contains(&o.as_str()) {
                wrong.push(format!(
                    "{} {o}: coreutils 5.2.1 has no such option",
                    r.command
                ));
            }
        }
        for o in &r.optional {
            assert!(
                !known.contains(&o.as_str()),
                "{} {o} is in coreutils 5.2.1: list it as a plain option",
                r.command
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_checker_knows_what_coreutils_5_2_1_lacks() {
    // The facts the check above relies on, against the mistakes it is there to catch.
    assert!(!coreutils_5_2_1_options("mv").contains(&"-T"));
    assert!(!coreutils_5_2_1_options("stat").contains(&"--printf"));
    assert!(coreutils_5_2_1_options("stat").contains(&"-c"));
    assert!(coreutils_5_2_1_options("readlink").contains(&"-f"));
    assert!(!COREUTILS_5_2_1.contains(&"sha256sum") && !COREUTILS_5_2_1.contains(&"mktemp"));
    let commands: BTreeSet<String> = table().into_iter().map(|r| r.command).collect();
    assert!(!commands.contains("sha256sum") && !commands.contains("realpath"));
}
