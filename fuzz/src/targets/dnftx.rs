//! dnf/yum transaction tables (`parse_preview`, `config_warnings`, and old yum's shell
//! preview, `yumshell::parse_shell_preview`, on the same text): no panic; a transaction is
//! never empty, and every package in it has a version and a repository (the columns it
//! was read from; a name can be empty in a garbled `replacing .arch` line).
//!
//! Input: the exit status on the first line (a number; anything else is 1), the output
//! after it (invalid UTF-8 replaced).

use vmup::formats::dnftx::{Preview, config_warnings, parse_preview};
use vmup::formats::yumshell::parse_shell_preview;

use crate::input::split_header;

pub const CHECKS: &str = "no panic; transactions non-empty, packages have version and repo";

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let status: i32 = String::from_utf8_lossy(header).trim().parse().unwrap_or(1);
    let output = String::from_utf8_lossy(body);
    well_formed(parse_preview(&output, status));
    well_formed(parse_shell_preview(&output, &["Gpulse".to_string()]));
    let _ = config_warnings(&output);
}

fn well_formed(preview: Preview) {
    match preview {
        Preview::Nothing | Preview::Error(_) | Preview::Unavailable(_) => {}
        Preview::Transaction(packages) => {
            assert!(!packages.is_empty(), "an empty transaction is Nothing");
            for p in &packages {
                assert!(
                    !p.version.is_empty() && !p.repo.is_empty(),
                    "package without version or repository: {p:?}"
                );
                let _ = p.describe();
            }
        }
    }
}
