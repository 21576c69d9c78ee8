//! Shared pieces of resource specifications as read from a runbook.
//!
//! Specs are plain serde structs; turning one into a resource validates it (regexes compile,
//! paths are absolute, choices are consistent) and reports problems with the byte span of
//! the offending value, which the runbook loader turns into `file:line:column`.

use std::ops::Range;

use regex::bytes::Regex;
use toml::Spanned;

/// A problem with one step's specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// What is wrong and what to do.
    pub message: String,
    /// Where in the runbook, when known; else the step's own span is used.
    pub span: Option<Range<usize>>,
}

impl SpecError {
    /// An error about the value at `span`.
    pub fn at(span: Range<usize>, message: impl Into<String>) -> SpecError {
        SpecError {
            message: message.into(),
            span: Some(span),
        }
    }

    /// An error about the step as a whole.
    pub fn step(message: impl Into<String>) -> SpecError {
        SpecError {
            message: message.into(),
            span: None,
        }
    }
}

/// Compiles a runbook regex, naming the field when it is invalid.
pub fn regex(field: &str, value: &Spanned<String>) -> Result<Regex, SpecError> {
    Regex::new(value.get_ref()).map_err(|e| {
        let detail = e.to_string();
        let last = detail.lines().last().unwrap_or("invalid").trim();
        let last = last.strip_prefix("error: ").unwrap_or(last).to_string();
        SpecError::at(value.span(), format!("invalid regex in `{field}`: {last}"))
    })
}

/// Checks that a path is absolute and free of NUL, since it is used on a remote host.
pub fn path(field: &str, value: &Spanned<String>) -> Result<String, SpecError> {
    let p = value.get_ref();
    if !p.starts_with('/') {
        return Err(SpecError::at(
            value.span(),
            format!("`{field}` must be an absolute path, got {p:?}"),
        ));
    }
    no_nul(field, value)?;
    // `..` could climb out of a local root, and both it and `.` make one file look like
    // two to the plan; control characters would garble reports.
    if p.split('/').any(|c| c == ".." || c == ".") {
        return Err(SpecError::at(
            value.span(),
            format!("`{field}` must not contain `.` or `..` components, got {p:?}"),
        ));
    }
    if p.contains(|c: char| c.is_control()) {
        return Err(SpecError::at(
            value.span(),
            format!("`{field}` must not contain control characters (newline, tab, ...), got {p:?}"),
        ));
    }
    if p.len() > 1 && (p.ends_with('/') || p.contains("//")) {
        return Err(SpecError::at(
            value.span(),
            format!("`{field}` must not end with `/` or contain `//`, got {p:?}"),
        ));
    }
    Ok(p.clone())
}

/// Refuses NUL bytes, which no shell argument can hold.
pub fn no_nul(field: &str, value: &Spanned<String>) -> Result<(), SpecError> {
    if value.get_ref().contains('\0') {
        return Err(SpecError::at(
            value.span(),
            format!("`{field}` contains a NUL byte, which cannot be passed to a shell"),
        ));
    }
    Ok(())
}

/// Parses an octal mode such as "0644" or "644".
pub fn mode(value: &Spanned<String>) -> Result<u32, SpecError> {
    u32::from_str_radix(value.get_ref().trim_start_matches("0o"), 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| {
            SpecError::at(
                value.span(),
                format!(
                    "`mode` must be octal like \"0644\", got {:?}",
                    value.get_ref()
                ),
            )
        })
}

/// Refuses line breaks and other control characters (a tab is fine) in a value written as
/// one line of a file: a line that holds `\r` or `\n` would never read back as written, so
/// the step could never converge.
pub fn single_line(field: &str, value: &Spanned<String>) -> Result<(), SpecError> {
    no_nul(field, value)?;
    if value.get_ref().chars().any(|c| c.is_control() && c != '\t') {
        return Err(SpecError::at(
            value.span(),
            format!(
                "`{field}` must be a single line without control characters, got {:?}",
                value.get_ref()
            ),
        ));
    }
    Ok(())
}
