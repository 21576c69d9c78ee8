//! Reads the direct-kernel-boot parts of a libvirt domain XML (as printed by
//! `virsh dumpxml`): the guest's name and the `<kernel>`, `<initrd>` and `<cmdline>`
//! under `<os>`, so vmup can tell which host kernel a KVM/Xen guest boots. Each value's
//! byte spans are kept so an edit replaces just that text and leaves the rest of the
//! document byte for byte: [`with_os_text`] (in `edit`) is that writer.

use std::ops::Range;

mod edit;

pub use edit::{OsText, with_os_text};

/// Where one element and its text are in the document.
///
/// Exists for lossless editing: replacing `xml[content]` with new escaped text (see
/// [`escape_xml_text`]) changes the value and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSpan {
    /// Bytes of the whole element, from the `<` of its start tag to the `>` of its end
    /// tag (or of the self-closing tag).
    pub element: Range<usize>,
    /// Bytes between the start tag and the end tag, still escaped as in the file
    /// (`&amp;` and so on). `None` for a self-closing element such as `<cmdline/>`, which
    /// has no place for text: an editor has to rewrite the whole element instead.
    pub content: Option<Range<usize>>,
}

/// The direct-kernel-boot settings of one libvirt domain.
///
/// Exists as the libvirt counterpart of a Xen config file: for guests whose kernel the
/// host names, these are the values vmup checks and updates. A `None` value means the
/// element is absent; text is entity-decoded and otherwise exactly as written (not
/// trimmed). libvirt treats an empty element like an absent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibvirtDomain {
    /// The `type` attribute of `<domain>` (`kvm`, `qemu`, `xen`, ...).
    pub domain_type: Option<String>,
    /// `<domain><name>`.
    pub name: Option<String>,
    /// `<domain><os><kernel>`: the host path of the kernel the guest boots.
    pub kernel: Option<String>,
    /// `<domain><os><initrd>`.
    pub initrd: Option<String>,
    /// `<domain><os><cmdline>`: the kernel command line.
    pub cmdline: Option<String>,
    /// Where `<name>` is.
    pub name_span: Option<TextSpan>,
    /// Where `<os>` is, so an editor can add a `<kernel>`, `<initrd>` or `<cmdline>`
    /// that is not there yet.
    pub os_span: Option<TextSpan>,
    /// Where `<kernel>` is.
    pub kernel_span: Option<TextSpan>,
    /// Where `<initrd>` is.
    pub initrd_span: Option<TextSpan>,
    /// Where `<cmdline>` is.
    pub cmdline_span: Option<TextSpan>,
    /// The first `<devices><disk device="disk">`'s `<source file=...>` (or `dev=`): the
    /// guest's root disk on the host, for a boot test.
    pub disk: Option<String>,
}

/// Why a domain XML could not be read, and where.
///
/// Exists so a user can be pointed at the exact spot; displays as
/// `line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses a libvirt domain XML document and extracts its direct-kernel-boot settings.
///
/// Exists as the single entry point for reading `virsh dumpxml` output or files under
/// `/etc/libvirt/qemu/`. Malformed XML, a root element other than `<domain>`, and markup
/// inside one of the text elements are errors. DTDs are refused (libvirt never writes
/// them, and refusing them rules out entity-expansion tricks).
///
/// # Errors
///
/// Malformed XML (with roxmltree's message and position), a root element that is not
/// `<domain>`, an element nested inside `<name>`, `<kernel>`, `<initrd>` or `<cmdline>`.
pub fn parse_libvirt(xml: &str) -> Result<LibvirtDomain, ParseError> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| xml_error(xml, &e))?;
    let root = doc.root_element();
    if !is_plain(&root, "domain") {
        return Err(error_at(
            xml,
            root.range().start,
            format!(
                "expected a <domain> root element, found <{}>",
                root.tag_name().name()
            ),
        ));
    }
    let os = child(&root, "os");
    let name = child(&root, "name");
    let kernel = os.as_ref().and_then(|os| child(os, "kernel"));
    let initrd = os.as_ref().and_then(|os| child(os, "initrd"));
    let cmdline = os.as_ref().and_then(|os| child(os, "cmdline"));

    let text_of = |node: &Option<roxmltree::Node<'_, '_>>| -> Result<Option<String>, ParseError> {
        node.as_ref().map(|n| element_text(xml, n)).transpose()
    };
    Ok(LibvirtDomain {
        domain_type: root.attribute("type").map(str::to_string),
        name: text_of(&name)?,
        kernel: text_of(&kernel)?,
        initrd: text_of(&initrd)?,
        cmdline: text_of(&cmdline)?,
        name_span: name.as_ref().map(|n| span(xml, n)),
        os_span: os.as_ref().map(|n| span(xml, n)),
        kernel_span: kernel.as_ref().map(|n| span(xml, n)),
        initrd_span: initrd.as_ref().map(|n| span(xml, n)),
        cmdline_span: cmdline.as_ref().map(|n| span(xml, n)),
        disk: child(&root, "devices").and_then(|devices| {
            devices
                .children()
                .filter(|d| {
                    is_plain(d, "disk") && d.attribute("device").unwrap_or("disk") == "disk"
                })
                .find_map(|d| child(&d, "source"))
                .and_then(|s| s.attribute("file").or_else(|| s.attribute("dev")))
                .map(str::to_string)
        }),
    })
}

/// Escapes text for use as element content (`&`, `<` and `>`).
///
/// Exists for the write side: a new kernel path or command line must be escaped before
/// it is spliced into a [`TextSpan::content`] range.
pub fn escape_xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// An element with this local name and no namespace (libvirt's own elements).
fn is_plain(node: &roxmltree::Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace().is_none()
}

/// The first child element called `name`, as libvirt's `./name[1]` XPath picks it.
fn child<'a, 'input>(
    node: &roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children().find(|c| is_plain(c, name))
}

/// The decoded text of an element that may hold only text (and comments).
fn element_text(xml: &str, node: &roxmltree::Node<'_, '_>) -> Result<String, ParseError> {
    let mut out = String::new();
    for c in node.children() {
        if c.is_text() {
            out.push_str(c.text().unwrap_or_default());
        } else if c.is_element() {
            return Err(error_at(
                xml,
                c.range().start,
                format!(
                    "unexpected element <{}> inside <{}>",
                    c.tag_name().name(),
                    node.tag_name().name()
                ),
            ));
        }
    }
    Ok(out)
}

fn span(xml: &str, node: &roxmltree::Node<'_, '_>) -> TextSpan {
    let element = node.range();
    let bytes = xml.as_bytes();
    // End of the start tag: the first '>' outside a quoted attribute value.
    let mut i = element.start;
    let mut quote: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        if i >= element.end {
            break;
        }
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => break,
            None => {}
        }
        i += 1;
    }
    let tag_end = i + 1;
    let self_closing = tag_end >= element.end && bytes.get(i.wrapping_sub(1)) == Some(&b'/');
    let content = if self_closing {
        None
    } else {
        // The end tag starts at the last '<' of the element: nothing after it is markup.
        xml.get(tag_end..element.end)
            .and_then(|inner| inner.rfind('<'))
            .map(|lt| tag_end..tag_end + lt)
    };
    TextSpan { element, content }
}

/// Byte offset to 1-based line and character column.
fn position(xml: &str, offset: usize) -> (usize, usize) {
    let before = xml.get(..offset).unwrap_or(xml);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |t| t.chars().count()) + 1;
    (line, column)
}

fn error_at(xml: &str, offset: usize, message: String) -> ParseError {
    let (line, column) = position(xml, offset);
    ParseError {
        line,
        column,
        message,
    }
}

fn xml_error(xml: &str, e: &roxmltree::Error) -> ParseError {
    let pos = e.pos();
    let mut message = e.to_string();
    let suffix = format!(" at {}:{}", pos.row, pos.col);
    if let Some(stripped) = message.strip_suffix(&suffix) {
        message = stripped.to_string();
    }
    // These errors carry no position of their own; the problem is at the end.
    if matches!(
        e,
        roxmltree::Error::UnclosedRootNode | roxmltree::Error::UnexpectedEndOfStream
    ) {
        return error_at(xml, xml.len(), message);
    }
    ParseError {
        line: usize::try_from(pos.row).unwrap_or(usize::MAX),
        column: usize::try_from(pos.col).unwrap_or(usize::MAX),
        message,
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edit;
