//! Colour for people at a terminal: diffs, statuses and verdicts, never in pipes or
//! `--json`.
//!
//! Whether to colour follows the conventions people already set: `NO_COLOR` (non-empty)
//! turns colour off everywhere (no-color.org), `CLICOLOR_FORCE` (non-empty, not `0`) turns
//! it on where the stream is not a terminal (a pager, `script`), and otherwise only a
//! terminal gets it. `NO_COLOR` wins: it is the user's wish, `CLICOLOR_FORCE` a tool's.
//!
//! The report is painted after [`super::safe::safe`] has escaped every control byte that
//! came from a host, so the only escape sequences on the terminal are the ones added here,
//! and a file's content can still never recolour or hide a line. Painting works on the
//! report's own line shapes (`== ` headings, diff lines indented by six spaces, the
//! `STATUS`/`VERDICT` column under its heading, the closing line's verdict), which vmup
//! writes itself; it changes no character of the text, only adds colour around it.

use std::ffi::OsString;
use std::io::IsTerminal;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const MAGENTA: &str = "\x1b[35m";
const DIM: &str = "\x1b[2m";

/// Colour on a stream that is (`terminal`) or is not a terminal, given the environment's
/// `NO_COLOR` and `CLICOLOR_FORCE`. Pure, so the rule is tested without a terminal.
pub fn decide(terminal: bool, no_color: Option<OsString>, force: Option<OsString>) -> bool {
    let set = |v: &Option<OsString>| v.as_ref().is_some_and(|v| !v.is_empty());
    if set(&no_color) {
        false
    } else if set(&force) && force.as_deref() != Some("0".as_ref()) {
        true
    } else {
        terminal
    }
}

fn from_env(terminal: bool) -> bool {
    decide(
        terminal,
        std::env::var_os("NO_COLOR"),
        std::env::var_os("CLICOLOR_FORCE"),
    )
}

/// Whether the final report on standard output is coloured.
pub fn stdout() -> bool {
    from_env(std::io::stdout().is_terminal())
}

/// Whether progress lines on standard error are coloured.
pub fn stderr() -> bool {
    from_env(std::io::stderr().is_terminal())
}

fn wrap(colour: &str, text: &str) -> String {
    format!("{colour}{text}{RESET}")
}

/// The colour of a host status or a verdict word, if it has one.
pub fn of_status(word: &str) -> Option<&'static str> {
    match word {
        "ok" | "OK" => Some(GREEN),
        "changed" | "held" => Some(YELLOW),
        "failed" | "Not OK" => Some(RED),
        "unreachable" => Some(MAGENTA),
        "skipped" => Some(DIM),
        _ => None,
    }
}

/// `word` in its status colour (unchanged when it has none).
pub fn status(word: &str) -> String {
    match of_status(word) {
        Some(colour) => wrap(colour, word),
        None => word.to_string(),
    }
}

/// The whole human report, painted. Every line keeps its characters.
pub fn paint(report: &str) -> String {
    let mut out = String::with_capacity(report.len() + report.len() / 8);
    // The column the status word starts at, under a `STATUS` or `VERDICT` heading, until
    // the table ends at an empty line.
    let mut column: Option<usize> = None;
    for line in report.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        if body.is_empty() {
            column = None;
        }
        let painted = if body.starts_with("HOST ") {
            column = body
                .find("  STATUS")
                .or(body.find("  VERDICT"))
                .map(|i| i + 2);
            wrap(BOLD, body)
        } else if let Some(at) = column {
            status_cell(body, at)
        } else {
            line_of_report(body)
        };
        out.push_str(&painted);
        out.push_str(newline);
    }
    out
}

/// A table row with its status (or verdict) painted, found at the heading's column.
fn status_cell(row: &str, at: usize) -> String {
    let (Some(before), Some(rest)) = (row.get(..at), row.get(at..)) else {
        return line_of_report(row);
    };
    // "Not OK" is the one status of two words.
    let word_len = if rest.starts_with("Not OK") {
        "Not OK".len()
    } else {
        rest.find(' ').unwrap_or(rest.len())
    };
    let (word, after) = rest.split_at(word_len);
    if of_status(word).is_none() {
        return line_of_report(row);
    }
    format!("{before}{}{after}", status(word))
}

/// Headings, diff lines, errors, warnings and closing lines; the rest stays as it is.
fn line_of_report(line: &str) -> String {
    if line.starts_with("== ") {
        return wrap(BOLD, line);
    }
    if let Some(diff) = line.strip_prefix("      ") {
        let colour = if diff.starts_with("+++ ") || diff.starts_with("--- ") {
            Some(BOLD)
        } else if diff.starts_with('+') {
            Some(GREEN)
        } else if diff.starts_with('-') {
            Some(RED)
        } else if diff.starts_with("@@") {
            Some(CYAN)
        } else {
            None
        };
        return match colour {
            Some(colour) => format!("      {}", wrap(colour, diff)),
            None => line.to_string(),
        };
    }
    if line.starts_with("  error") {
        return wrap(RED, line);
    }
    if line.starts_with("  warning: ") {
        return wrap(YELLOW, line);
    }
    closing_line(line).unwrap_or_else(|| line.to_string())
}

/// `plan: ... in 0.05s: converged`: the verdict after the last `: `, coloured by what it
/// says. Only the closing lines of vmup's commands are recognised.
fn closing_line(line: &str) -> Option<String> {
    const COMMANDS: [&str; 5] = ["plan: ", "apply: ", "check: ", "facts: ", "run: "];
    if !COMMANDS.iter().any(|c| line.starts_with(c)) {
        return None;
    }
    let (head, verdict) = line.rsplit_once(": ")?;
    let colour = if verdict.starts_with("NOT ") || verdict.starts_with("not ") {
        RED
    } else if ["converged", "all OK", "all succeeded"]
        .iter()
        .any(|v| verdict.starts_with(v))
    {
        GREEN
    } else if verdict.starts_with("changes pending") {
        YELLOW
    } else {
        return None;
    };
    Some(format!("{head}: {}", wrap(colour, verdict)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(OsString::from(s))
    }

    #[test]
    fn no_color_wins_and_force_reaches_pipes() {
        assert!(decide(true, None, None));
        assert!(!decide(false, None, None));
        assert!(!decide(true, os("1"), None));
        assert!(decide(true, os(""), None), "an empty NO_COLOR is unset");
        assert!(decide(false, None, os("1")));
        assert!(!decide(false, None, os("0")));
        assert!(!decide(false, None, os("")));
        assert!(!decide(true, os("1"), os("1")), "NO_COLOR wins");
    }

    #[test]
    fn the_report_keeps_its_text_and_gains_colour_where_it_means_something() {
        let report = "== ng2, ng3 (2 change(s) pending each)\n  step 1 (line): edit /etc/securetty\n      --- /etc/securetty\n      +++ /etc/securetty\n      @@ -1 +1,2 @@\n       console\n      +ttyS0\n      -tty1\n  error (apply phase): boom\n  warning: held\n\nHOST  STATUS       CHANGES     TIME\nng2   changed            2    0.02s\nng3   unreachable        0    0.00s\nplan: 2 host(s), 1 with changes pending (2 changes) in 0.05s: NOT CONVERGED\n";
        let painted = paint(report);
        let plain = painted
            .replace(RESET, "")
            .replace(BOLD, "")
            .replace(RED, "")
            .replace(GREEN, "")
            .replace(YELLOW, "")
            .replace(CYAN, "")
            .replace(MAGENTA, "");
        assert_eq!(plain, report, "only colour is added");
        for expected in [
            "\x1b[1m== ng2, ng3 (2 change(s) pending each)\x1b[0m\n",
            "      \x1b[32m+ttyS0\x1b[0m\n",
            "      \x1b[31m-tty1\x1b[0m\n",
            "      \x1b[36m@@ -1 +1,2 @@\x1b[0m\n",
            "      \x1b[1m--- /etc/securetty\x1b[0m\n",
            "       console\n",
            "\x1b[31m  error (apply phase): boom\x1b[0m\n",
            "ng2   \x1b[33mchanged\x1b[0m            2",
            "ng3   \x1b[35munreachable\x1b[0m        0",
            "in 0.05s: \x1b[31mNOT CONVERGED\x1b[0m\n",
        ] {
            assert!(painted.contains(expected), "{expected:?} in\n{painted}");
        }
        assert!(
            !painted.contains("\x1b[1m  step 1"),
            "change lines stay plain"
        );
    }

    #[test]
    fn check_verdicts_are_painted_in_their_column() {
        let report = "HOST  VERDICT  REASONS\nng2   Not OK   change: step 1\n               kernel: gone\nng3   OK\ncheck: 2 host(s), 1 OK, 1 Not OK in 0.01s: NOT OK\n";
        let painted = paint(report);
        assert!(
            painted.contains("ng2   \x1b[31mNot OK\x1b[0m   change"),
            "{painted}"
        );
        assert!(painted.contains("ng3   \x1b[32mOK\x1b[0m\n"), "{painted}");
        assert!(
            painted.contains("               kernel: gone\n"),
            "a continuation line has no status: {painted}"
        );
    }

    #[test]
    fn a_closing_line_that_is_not_vmups_is_left_alone() {
        assert_eq!(paint("note: converged\n"), "note: converged\n");
        assert_eq!(
            paint("apply: 1 host(s) in 0.01s: converged\n"),
            "apply: 1 host(s) in 0.01s: \x1b[32mconverged\x1b[0m\n"
        );
    }
}
