//! Reads what a yum too old for `--assumeno` (before 3.4.3: CentOS 4's 2.4, CentOS 5's
//! 3.2) prints for a `yum shell` script that stages the transaction, then `ts solve`,
//! `ts list` and `exit`, never `run`: the preview such a yum can honestly give.
//!
//! From yum 2.4's source (git history of rpm-software-management/yum at the 2.4.0 mark,
//! cb0b9a25, the base of the 2.4.x branch that CentOS 4 ships as 2.4.3): `shell.py`'s
//! `do_transaction` prints `Success resolving dependencies` when `ts solve` resolves, or
//! one `Error: MESSAGE` line per problem; `ts list` prints `output.py`'s
//! `listTransaction`: a table (`=` rules, ` Package  Arch  Version  Repository  Size`,
//! then sections `Installing:`, `Updating:`, `Removing:`, `Installing for
//! dependencies:`, `Updating for dependencies:`, `Removing for dependencies:`, one
//! ` NAME ARCH [E:]V-R REPO SIZE` row per member, `     replacing  NAME.ARCH EVR` under
//! obsoleting ones) only when the transaction has members, and always `Transaction
//! Summary` with `Install N Package(s)`, `Update N Package(s)`, `Remove N Package(s)`.
//! A 2.4 name longer than its 22-column field overflows it (yum 3.2 moves it onto a line
//! of its own, which [`read_table`] joins). The shell itself exits 0 whatever happened
//! (`yummain.py`: `doShell` returns result 0), and an install argument nothing matches is
//! only `No Match for argument: NAME` (`cli.py` `installPkgs`): so the preview is honest
//! only when the solve succeeded, the summary was printed and it counts exactly the rows,
//! and an unmatched argument refuses it. `erasePkgs` says the same of a package to remove
//! that is not installed, which is nothing to do (as for dnf): those are passed over.
//! yum 3.2 (CentOS 5; read at its 3.2.22 mark, git 8656f90d) prints the same solve lines,
//! summary and `Finished Transaction`, sizes its table's columns to fit and says `No
//! package NAME available.` for an install nothing matches.

use super::dnftx::{Preview, TxAction, read_table};

/// `ts solve`'s success line (yum 2.4 and 3.2 `shell.py`).
const SOLVED: &str = "Success resolving dependencies";

/// Parses the combined output of the old-yum shell preview of a transaction that removes
/// `removing` (whose unmatched names are not installed: nothing to remove).
pub fn parse_shell_preview(output: &str, removing: &[String]) -> Preview {
    let lines: Vec<&str> = output.lines().collect();
    let errors: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| {
            let unmatched = l.strip_prefix("No Match for argument:").map(str::trim);
            l.starts_with("Error")
                || unmatched.is_some_and(|name| !removing.iter().any(|r| r == name))
                || (l.starts_with("No package ") && l.ends_with(" available."))
                || l.starts_with("Command line error")
                || l.starts_with("Config Error")
                || l.starts_with("Options Error")
        })
        .collect();
    if !errors.is_empty() {
        return Preview::Error(errors.join("\n"));
    }
    let tail = || {
        let tail: Vec<&str> = lines
            .iter()
            .rev()
            .filter(|l| !l.trim().is_empty())
            .take(5)
            .copied()
            .collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
    };
    if !lines.iter().any(|l| l.trim() == SOLVED) {
        return Preview::Error(format!(
            "yum's shell did not resolve the transaction (no {SOLVED:?}): {}",
            tail()
        ));
    }
    let Some(summary) = lines.iter().position(|l| l.trim() == "Transaction Summary") else {
        return Preview::Error(format!(
            "yum's shell did not list the transaction (no \"Transaction Summary\"): {}",
            tail()
        ));
    };
    let start = lines[..summary]
        .iter()
        .rposition(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.first() == Some(&"Package") && w.get(1) == Some(&"Arch")
        })
        .map_or(summary, |i| i + 1);
    let packages = read_table(&lines[start..summary]);
    let mut counted = 0usize;
    for line in &lines[summary + 1..] {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [verb, n, rest, ..] = words.as_slice()
            && rest.starts_with("Package")
            && matches!(
                *verb,
                "Install" | "Update" | "Upgrade" | "Remove" | "Erase" | "Reinstall" | "Downgrade"
            )
        {
            match n.parse::<usize>() {
                Ok(n) => counted += n,
                Err(_) => {
                    return Preview::Error(format!("yum's summary line {line:?} has no count"));
                }
            }
        }
    }
    // `replacing` lines are obsoleted packages, which the summary does not count.
    let rows = packages
        .iter()
        .filter(|p| !(p.action == TxAction::Remove && p.repo == "@System"))
        .count();
    if rows != counted {
        return Preview::Error(format!(
            "yum's transaction table has {rows} package row(s) but its summary counts {counted}: the preview cannot be read"
        ));
    }
    if packages.is_empty() {
        Preview::Nothing
    } else {
        Preview::Transaction(packages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::dnftx::TxPackage;

    fn short(p: &Preview) -> Vec<String> {
        match p {
            Preview::Transaction(p) => p.iter().map(TxPackage::describe).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yum24_pinned_update_lists_each_package() {
        let p = parse_shell_preview(include_str!("testdata/yum24-pinned.txt"), &[]);
        assert_eq!(
            short(&p),
            [
                "upgrade kernel-xenU-2.6.9-67.0.1.EL.i686 from monashupdates",
                "upgrade kernel-xenU-devel-2.6.9-67.0.1.EL.i686 from monashupdates"
            ]
        );
    }

    #[test]
    fn yum24_swap_with_an_overflowing_name_and_dependency() {
        let p = parse_shell_preview(include_str!("testdata/yum24-swap.txt"), &[]);
        assert_eq!(
            short(&p),
            [
                "install APAC-gateway-gridpulse-2.0-1.noarch from arcs",
                "remove Gpulse-1.0-1.noarch",
                "install (dependency) libgridpulse-helper-with-a-long-name-1.0-1.noarch from arcs"
            ]
        );
    }

    #[test]
    fn yum24_empty_transaction_is_nothing() {
        assert_eq!(
            parse_shell_preview(include_str!("testdata/yum24-noop.txt"), &[]),
            Preview::Nothing
        );
    }

    #[test]
    fn yum24_solve_errors_and_unmatched_arguments_refuse() {
        match parse_shell_preview(include_str!("testdata/yum24-swaperr.txt"), &[]) {
            Preview::Error(m) => assert_eq!(
                m,
                "Error: Missing Dependency: missing-thing is needed by package broken-gridpulse"
            ),
            other => panic!("{other:?}"),
        }
        let nomatch = include_str!("testdata/yum24-nomatch.txt");
        match parse_shell_preview(nomatch, &[]) {
            Preview::Error(m) => assert_eq!(m, "No Match for argument: no-such-package"),
            other => panic!("{other:?}"),
        }
        let yum32 = nomatch.replace(
            "No Match for argument: no-such-package",
            "No package no-such-package available.",
        );
        assert!(
            matches!(parse_shell_preview(&yum32, &[]), Preview::Error(m) if m == "No package no-such-package available.")
        );
        // A package to remove that is not installed: nothing to do, as for dnf.
        assert_eq!(
            parse_shell_preview(nomatch, &["no-such-package".to_string()]),
            Preview::Nothing
        );
    }

    #[test]
    fn output_without_the_solve_or_the_summary_is_not_a_preview() {
        let text = include_str!("testdata/yum24-pinned.txt");
        let unsolved = text.replace(SOLVED, "");
        assert!(
            matches!(parse_shell_preview(&unsolved, &[]), Preview::Error(m) if m.contains("did not resolve"))
        );
        let unlisted = text.replace("Transaction Summary", "");
        assert!(
            matches!(parse_shell_preview(&unlisted, &[]), Preview::Error(m) if m.contains("did not list"))
        );
        // yum 2.4 answers a shell command it does not know with its help text.
        let help = "Setting up Yum Shell\n\n    commands:  clean, config, exit, groupinfo, groupinstall, grouplist,\n\nLeaving Shell\n";
        assert!(matches!(parse_shell_preview(help, &[]), Preview::Error(_)));
    }

    #[test]
    fn a_row_the_summary_does_not_count_refuses() {
        let text = include_str!("testdata/yum24-pinned.txt")
            .replace("Update       2 Package(s)", "Update       3 Package(s)");
        assert!(
            matches!(parse_shell_preview(&text, &[]), Preview::Error(m) if m.contains("has 2 package row(s) but its summary counts 3"))
        );
    }
}
