//! Unified diffs of file contents for plans, the way `diff -u` would show them.

use similar::TextDiff;

use crate::remote::{Action, Expect};
use crate::resource::{Planned, Resource};

use super::report::ChangeReport;

/// A unified diff from `old` to `new` labelled with `path`; empty old means a new file.
pub fn unified(path: &str, old: Option<&[u8]>, new: &[u8]) -> String {
    let old_text = String::from_utf8_lossy(old.unwrap_or(&[]));
    let new_text = String::from_utf8_lossy(new);
    let old_label = if old.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".to_string()
    };
    TextDiff::from_lines(old_text.as_ref(), new_text.as_ref())
        .unified_diff()
        .context_radius(3)
        .missing_newline_hint(true)
        .header(&old_label, &format!("b{path}"))
        .to_string()
}

/// How the report shows a planned change of the step labelled `label` (of kind `kind`):
/// the one shape for the plan's changes and for check-only findings.
pub fn change_report(
    kind: &str,
    resource: &dyn Resource,
    label: &str,
    change: &Planned,
) -> ChangeReport {
    ChangeReport {
        step: label.to_string(),
        resource: kind.to_string(),
        path: change
            .action
            .path()
            .map(str::to_string)
            .or(resource.subject().map(str::to_string)),
        summary: change.summary.clone(),
        diff: of_change(change),
        output: None,
    }
}

/// What a plan shows under a change: the diff of a file write (None when the bytes do not
/// change), otherwise the resource's own detail (a transaction's package list).
pub fn of_change(change: &Planned) -> Option<String> {
    match &change.action {
        Action::WriteFile {
            path,
            expect,
            content,
            ..
        } => {
            let old = match expect {
                Expect::File(old) => Some(old.as_slice()),
                _ => None,
            };
            Some(unified(path, old, content)).filter(|d| !d.is_empty())
        }
        _ => change.detail.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_inserted_line_with_context() {
        let d = unified(
            "/etc/securetty",
            Some(b"tty1\ntty2\n"),
            b"tty1\ntty2\nttyS0\n",
        );
        assert!(
            d.starts_with("--- a/etc/securetty\n+++ b/etc/securetty\n"),
            "{d}"
        );
        assert!(d.contains("+ttyS0\n"), "{d}");
        assert!(d.contains(" tty2\n"), "{d}");
    }

    #[test]
    fn new_file_is_from_dev_null() {
        assert!(unified("/x", None, b"a\n").starts_with("--- /dev/null\n+++ b/x\n"));
    }
}
