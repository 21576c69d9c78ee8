//! Reads the direct-kernel-boot parts of a libvirt domain XML (as printed by
//! `virsh dumpxml`): the guest's name and the `<kernel>`, `<initrd>` and `<cmdline>`
//! under `<os>`, so vmup can tell which host kernel a KVM/Xen guest boots. Each value's
//! byte spans are kept so a later edit can replace just that text and leave the rest of
//! the document byte for byte.

use std::ops::Range;

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
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DUMPXML: &str = r#"<domain type='kvm' id='7' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>ng2</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <memory unit='KiB'>1048576</memory>
  <currentMemory unit='KiB'>1048576</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/var/lib/libvirt/boot/vmlinuz-5.10.0-28-amd64</kernel>
    <initrd>/var/lib/libvirt/boot/initrd.img-5.10.0-28-amd64</initrd>
    <cmdline>root=/dev/vda1 ro console=ttyS0,115200 quiet audit=0 init=&quot;/sbin/my init&quot; a&amp;b &lt;x&gt; &#x41;&#66;</cmdline>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source dev='/dev/vg0/ng2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-no-reboot'/>
  </qemu:commandline>
</domain>
"#;

    fn parse(xml: &str) -> LibvirtDomain {
        match parse_libvirt(xml) {
            Ok(d) => d,
            Err(e) => panic!("parse failed: {e}"),
        }
    }

    fn content<'a>(xml: &'a str, span: &Option<TextSpan>) -> &'a str {
        match span.as_ref().and_then(|s| s.content.clone()) {
            Some(r) => &xml[r],
            None => panic!("no content span"),
        }
    }

    #[test]
    fn virsh_dumpxml_direct_kernel_boot() {
        let d = parse(DUMPXML);
        assert_eq!(d.domain_type.as_deref(), Some("kvm"));
        assert_eq!(d.name.as_deref(), Some("ng2"));
        assert_eq!(
            d.kernel.as_deref(),
            Some("/var/lib/libvirt/boot/vmlinuz-5.10.0-28-amd64")
        );
        assert_eq!(
            d.initrd.as_deref(),
            Some("/var/lib/libvirt/boot/initrd.img-5.10.0-28-amd64")
        );
        assert_eq!(
            d.cmdline.as_deref(),
            Some(
                "root=/dev/vda1 ro console=ttyS0,115200 quiet audit=0 \
                 init=\"/sbin/my init\" a&b <x> AB"
            )
        );
        // Spans point at the raw, still-escaped text and at the whole elements.
        assert_eq!(content(DUMPXML, &d.name_span), "ng2");
        assert_eq!(
            content(DUMPXML, &d.kernel_span),
            "/var/lib/libvirt/boot/vmlinuz-5.10.0-28-amd64"
        );
        assert!(content(DUMPXML, &d.cmdline_span).ends_with("&lt;x&gt; &#x41;&#66;"));
        let Some(k) = &d.kernel_span else {
            panic!("no kernel span")
        };
        assert_eq!(
            &DUMPXML[k.element.clone()],
            "<kernel>/var/lib/libvirt/boot/vmlinuz-5.10.0-28-amd64</kernel>"
        );
        let Some(os) = &d.os_span else {
            panic!("no os span")
        };
        assert!(DUMPXML[os.element.clone()].starts_with("<os>\n    <type"));
        assert!(DUMPXML[os.element.clone()].ends_with("<boot dev='hd'/>\n  </os>"));
    }

    #[test]
    fn lossless_kernel_edit() {
        let d = parse(DUMPXML);
        let Some(range) = d.kernel_span.and_then(|s| s.content) else {
            panic!("no kernel")
        };
        let new_kernel = "/var/lib/libvirt/boot/vmlinuz-6.1.0-18-amd64 & <new>";
        let edited = format!(
            "{}{}{}",
            &DUMPXML[..range.start],
            escape_xml_text(new_kernel),
            &DUMPXML[range.end..]
        );
        let d2 = parse(&edited);
        assert_eq!(d2.kernel.as_deref(), Some(new_kernel));
        assert_eq!(d2.cmdline, d.cmdline);
        assert_eq!(
            edited.replace(&escape_xml_text(new_kernel), "X"),
            DUMPXML.replace("/var/lib/libvirt/boot/vmlinuz-5.10.0-28-amd64", "X")
        );
    }

    #[test]
    fn xen_guest_with_odd_but_valid_markup() {
        let xml = "<?xml version='1.0'?>\n<domain type=\"xen\">\n  <name>NG2</name>\n  \
                   <os a='>'>\n    <type>linux</type>\n    \
                   <kernel attr=\"x>y\">/boot/vmlinuz-2.6.18-xen</kernel>\n    \
                   <initrd><![CDATA[/boot/initrd <xen>.img]]></initrd>\n    \
                   <cmdline><!-- none yet --></cmdline>\n  </os>\n</domain>";
        let d = parse(xml);
        assert_eq!(d.domain_type.as_deref(), Some("xen"));
        assert_eq!(d.kernel.as_deref(), Some("/boot/vmlinuz-2.6.18-xen"));
        assert_eq!(content(xml, &d.kernel_span), "/boot/vmlinuz-2.6.18-xen");
        assert_eq!(d.initrd.as_deref(), Some("/boot/initrd <xen>.img"));
        assert_eq!(
            content(xml, &d.initrd_span),
            "<![CDATA[/boot/initrd <xen>.img]]>"
        );
        assert_eq!(d.cmdline.as_deref(), Some(""));
        assert_eq!(content(xml, &d.cmdline_span), "<!-- none yet -->");
    }

    #[test]
    fn empty_self_closing_and_absent_elements() {
        let xml = "<domain type='kvm'><name>a</name><os><type>hvm</type>\
                   <kernel></kernel><cmdline/></os></domain>";
        let d = parse(xml);
        assert_eq!(d.kernel.as_deref(), Some(""));
        let Some(k) = &d.kernel_span else {
            panic!("no kernel span")
        };
        let Some(kc) = k.content.clone() else {
            panic!("no kernel content")
        };
        assert_eq!(&xml[k.element.clone()], "<kernel></kernel>");
        assert!(kc.is_empty() && xml[kc.start..].starts_with("</kernel>"));
        assert_eq!(d.cmdline.as_deref(), Some(""));
        let Some(c) = &d.cmdline_span else {
            panic!("no cmdline span")
        };
        assert_eq!(
            (&xml[c.element.clone()], c.content.clone()),
            ("<cmdline/>", None)
        );
        assert_eq!((d.initrd, d.initrd_span), (None, None));

        let d = parse(
            "<domain type='kvm'><name>b</name><os><type>hvm</type><boot dev='hd'/></os></domain>",
        );
        assert_eq!((d.kernel, d.initrd, d.cmdline), (None, None, None));
        assert!(d.os_span.is_some());
        let d = parse("<domain/>");
        assert_eq!((d.name, d.os_span), (None, None));
    }

    #[test]
    fn malformed_xml_reports_position() {
        let xml = "<domain type='kvm'>\n  <name>ng2</name>\n  <os>\n    <kernel>/boot/vmlinuz</kernal>\n  </os>\n</domain>\n";
        let e = parse_libvirt(xml).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("4:26: expected 'kernel' tag, not 'kernal'".into())
        );
        let e = parse_libvirt("<domain>\n  <name>ng2</name>\n  <os>\n").err();
        assert_eq!(e.map(|e| (e.line, e.column)), Some((4, 1)));
        let e = parse_libvirt("<domain><cmdline>a & b</cmdline></domain>").err();
        assert_eq!(e.map(|e| (e.line, e.column)), Some((1, 20)));
    }

    #[test]
    fn wrong_structure_reports_position() {
        let e = parse_libvirt("<?xml version='1.0'?>\n<network><name>x</name></network>").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("2:1: expected a <domain> root element, found <network>".into())
        );
        let xml = "<domain>\n  <os>\n    <cmdline>console=<b>tty</b></cmdline>\n  </os>\n</domain>";
        let e = parse_libvirt(xml).err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("3:22: unexpected element <b> inside <cmdline>".into())
        );
        let dtd = "<!DOCTYPE domain [<!ENTITY k '/boot/x'>]><domain><os><kernel>&k;</kernel></os></domain>";
        assert!(parse_libvirt(dtd).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(xml in any::<String>()) {
            let _ = parse_libvirt(&xml);
        }

        #[test]
        fn escaped_text_round_trips(value in any::<String>()) {
            // XML cannot carry most control characters or U+FFFE/U+FFFF at all, and turns
            // CR into LF; leave those out.
            let value: String = value
                .chars()
                .filter(|&c| (!c.is_control() || matches!(c, '\t' | '\n')) && c != '\u{fffe}' && c != '\u{ffff}')
                .collect();
            let xml = format!(
                "<domain><os><cmdline>{}</cmdline></os></domain>",
                escape_xml_text(&value)
            );
            let parsed = parse_libvirt(&xml);
            prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
            if let Ok(d) = parsed {
                prop_assert_eq!(d.cmdline, Some(value));
            }
        }
    }
}
