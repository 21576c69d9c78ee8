//! The write side of libvirt domain XML: the text of `<os><kernel>`, `<initrd>` or
//! `<cmdline>` given a new value, every other byte of the document kept.
//!
//! An element that is there gets its content replaced (escaped with [`escape_xml_text`];
//! whatever was between its tags, a comment or a CDATA section included, is the old value
//! and goes). A self-closing one (`<cmdline/>`) gets a content. A missing one is inserted
//! inside `<os>` where libvirt itself writes it (after `<type>`, `<loader>`, `<nvram>` and
//! the elements before it of kernel, initrd, cmdline), on a line of its own indented like
//! the sibling it follows when the siblings are on lines of their own. Every edit is read
//! back before it is returned: the element must read as the new value and the others as
//! before.

use super::{
    LibvirtDomain, ParseError, TextSpan, error_at, escape_xml_text, is_plain, parse_libvirt,
};

/// The text elements under `<os>` that vmup edits.
///
/// Exists so an edit names its element by type, not by a string that could be misspelt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsText {
    /// `<kernel>`: the host path of the kernel.
    Kernel,
    /// `<initrd>`: the host path of the initial ramdisk.
    Initrd,
    /// `<cmdline>`: the kernel command line.
    Cmdline,
}

impl OsText {
    /// The element's tag name.
    ///
    /// Exists for messages and for writing new elements.
    pub fn tag(self) -> &'static str {
        match self {
            OsText::Kernel => "kernel",
            OsText::Initrd => "initrd",
            OsText::Cmdline => "cmdline",
        }
    }

    /// The element's decoded text and span in a parsed domain.
    fn of(self, d: &LibvirtDomain) -> (&Option<String>, &Option<TextSpan>) {
        match self {
            OsText::Kernel => (&d.kernel, &d.kernel_span),
            OsText::Initrd => (&d.initrd, &d.initrd_span),
            OsText::Cmdline => (&d.cmdline, &d.cmdline_span),
        }
    }

    /// The `<os>` children libvirt writes before this element.
    fn after(self) -> &'static [&'static str] {
        match self {
            OsText::Kernel => &["type", "loader", "nvram"],
            OsText::Initrd => &["type", "loader", "nvram", "kernel"],
            OsText::Cmdline => &["type", "loader", "nvram", "kernel", "initrd"],
        }
    }
}

/// `xml` with the text of `which` set to `value`; the document as it is when the element
/// already holds that text (or is absent and `value` is empty, which libvirt reads alike).
///
/// Exists so vmup can point a direct-kernel-boot guest at a new kernel, initrd or command
/// line without rewriting the rest of its definition.
///
/// # Errors
///
/// The document does not parse (see [`parse_libvirt`]); it has no `<os>` element; the
/// value holds a character XML cannot carry as text (control characters other than tab
/// and newline, U+FFFE, U+FFFF); or the edited document would not read back as intended.
/// Each has the line and column it is about.
pub fn with_os_text(xml: &str, which: OsText, value: &str) -> Result<String, ParseError> {
    let tag = which.tag();
    let domain = parse_libvirt(xml)?;
    let (current, span) = which.of(&domain);
    if current.as_deref() == Some(value) || (current.is_none() && value.is_empty()) {
        return Ok(xml.to_string());
    }
    let here = span
        .as_ref()
        .or(domain.os_span.as_ref())
        .map_or(0, |s| s.element.start);
    if let Some(bad) = value.chars().find(|&c| {
        (c.is_control() && c != '\t' && c != '\n') || matches!(c, '\u{fffe}' | '\u{ffff}')
    }) {
        return Err(error_at(
            xml,
            here,
            format!("<{tag}> cannot hold {bad:?}: XML has no way to write it as text"),
        ));
    }
    let text = escape_xml_text(value);
    let edited = match span {
        Some(TextSpan {
            content: Some(content),
            ..
        }) => splice(xml, content.start, content.end, &text),
        Some(TextSpan {
            element,
            content: None,
        }) => {
            // `<cmdline/>` (or `<cmdline />`): the start tag keeps its attributes.
            let whole = xml.get(element.clone()).unwrap_or_default();
            let open = whole.trim_end_matches('>').trim_end_matches('/').trim_end();
            splice(
                xml,
                element.start,
                element.end,
                &format!("{open}>{text}</{tag}>"),
            )
        }
        None => insert(xml, &domain, which, &format!("<{tag}>{text}</{tag}>"))?,
    };
    reads_back(&domain, &edited, which, value).map_err(|m| error_at(xml, here, m))?;
    Ok(edited)
}

fn splice(xml: &str, start: usize, end: usize, new: &str) -> String {
    format!(
        "{}{new}{}",
        xml.get(..start).unwrap_or_default(),
        xml.get(end..).unwrap_or_default()
    )
}

/// The whitespace before `offset` on its line, when nothing else is there.
fn indent_before(xml: &str, offset: usize) -> Option<&str> {
    let before = xml.get(..offset)?;
    let line_start = before.rfind('\n')? + 1;
    let indent = before.get(line_start..)?;
    indent
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(indent)
}

/// `xml` with `element` added inside `<os>`, where libvirt writes `which`.
fn insert(
    xml: &str,
    domain: &LibvirtDomain,
    which: OsText,
    element: &str,
) -> Result<String, ParseError> {
    let Some(os) = &domain.os_span else {
        return Err(error_at(
            xml,
            0,
            format!(
                "the domain has no <os> element to add <{}> to: it is not booted from a kernel the host names",
                which.tag()
            ),
        ));
    };
    let doc = roxmltree::Document::parse(xml).map_err(|e| super::xml_error(xml, &e))?;
    let os_node = doc
        .root_element()
        .children()
        .find(|c| is_plain(c, "os") && c.range() == os.element);
    let children: Vec<_> = os_node
        .map(|n| n.children().filter(|c| c.is_element()).collect())
        .unwrap_or_default();
    let previous = children
        .iter()
        .rev()
        .find(|c| which.after().iter().any(|name| is_plain(c, name)));
    if let Some(prev) = previous {
        let at = prev.range().end;
        return Ok(match indent_before(xml, prev.range().start) {
            Some(indent) => splice(xml, at, at, &format!("\n{indent}{element}")),
            None => splice(xml, at, at, element),
        });
    }
    if let Some(first) = children.first() {
        let at = first.range().start;
        return Ok(match indent_before(xml, at) {
            Some(indent) => splice(xml, at, at, &format!("{element}\n{indent}")),
            None => splice(xml, at, at, element),
        });
    }
    // An `<os>` without child elements.
    let os_indent = indent_before(xml, os.element.start).unwrap_or("");
    match &os.content {
        Some(content) => {
            let at = content.start;
            let closing_on_own_line = indent_before(xml, content.end).is_some();
            Ok(if closing_on_own_line {
                splice(xml, at, at, &format!("\n{os_indent}  {element}"))
            } else {
                splice(xml, at, at, element)
            })
        }
        None => {
            let whole = xml.get(os.element.clone()).unwrap_or_default();
            let open = whole.trim_end_matches('>').trim_end_matches('/').trim_end();
            Ok(splice(
                xml,
                os.element.start,
                os.element.end,
                &format!("{open}>{element}</os>"),
            ))
        }
    }
}

/// Checks that `edited` reads `which` as `value` and everything else as `before`.
fn reads_back(
    before: &LibvirtDomain,
    edited: &str,
    which: OsText,
    value: &str,
) -> Result<(), String> {
    let tag = which.tag();
    let after = parse_libvirt(edited)
        .map_err(|e| format!("setting <{tag}> would leave a document that does not parse ({e})"))?;
    if which.of(&after).0.as_deref() != Some(value) {
        return Err(format!("setting <{tag}> would not read back as {value:?}"));
    }
    let others = [OsText::Kernel, OsText::Initrd, OsText::Cmdline]
        .into_iter()
        .filter(|o| *o != which)
        .all(|o| o.of(&after).0 == o.of(before).0);
    if !others || after.name != before.name || after.domain_type != before.domain_type {
        return Err(format!(
            "setting <{tag}> would change other settings of the domain too"
        ));
    }
    Ok(())
}
