//! libvirt domain XML (`parse_libvirt`): no panic; spans lie in the document (content
//! inside its element, on character boundaries); and the write side's contract holds:
//! splicing `escape_xml_text(new)` over the content span of `<name>`, `<kernel>`,
//! `<initrd>` or `<cmdline>` reads back as `new`, leaves the other values alone, gives a
//! content span that is exactly the new text, and doing it again changes nothing. The
//! editor, `with_os_text`, never refuses the value for `<kernel>`, `<initrd>` and
//! `<cmdline>` of a domain with `<os>` (present, self-closing or missing elements alike):
//! the result reads back as the value, the other values as before, and a second edit
//! returns it unchanged.
//!
//! Input: the new value on the first line, the document after it (invalid UTF-8
//! replaced). The value loses what XML cannot carry as text (control characters but tab
//! and newline, U+FFFE, U+FFFF; a CR would read back as LF).

use vmup::formats::libvirt::{
    LibvirtDomain, OsText, TextSpan, escape_xml_text, parse_libvirt, with_os_text,
};

use crate::input::split_header;

pub const CHECKS: &str = "no panic; spans valid; name/kernel/initrd/cmdline spliced at \
                          their span read back, others unchanged, idempotent; with_os_text \
                          likewise, inserting missing elements";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Name,
    Kernel,
    Initrd,
    Cmdline,
}

const FIELDS: [Field; 4] = [Field::Name, Field::Kernel, Field::Initrd, Field::Cmdline];

fn field(d: &LibvirtDomain, f: Field) -> (&Option<String>, &Option<TextSpan>) {
    match f {
        Field::Name => (&d.name, &d.name_span),
        Field::Kernel => (&d.kernel, &d.kernel_span),
        Field::Initrd => (&d.initrd, &d.initrd_span),
        Field::Cmdline => (&d.cmdline, &d.cmdline_span),
    }
}

fn check_span(xml: &str, span: &TextSpan) {
    assert!(
        xml.get(span.element.clone()).is_some(),
        "element span outside the document: {span:?}"
    );
    if let Some(content) = &span.content {
        assert!(
            xml.get(content.clone()).is_some()
                && span.element.start <= content.start
                && content.end <= span.element.end,
            "content span outside its element: {span:?}"
        );
    }
}

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let value: String = String::from_utf8_lossy(header)
        .chars()
        .filter(|&c| {
            (!c.is_control() || matches!(c, '\t' | '\n')) && c != '\u{fffe}' && c != '\u{ffff}'
        })
        .collect();
    let xml = String::from_utf8_lossy(body).into_owned();
    let domain = match parse_libvirt(&xml) {
        Ok(d) => d,
        Err(e) => {
            assert!(
                e.line >= 1 && e.column >= 1,
                "error position not 1-based: {e}"
            );
            return;
        }
    };
    for span in [
        &domain.name_span,
        &domain.os_span,
        &domain.kernel_span,
        &domain.initrd_span,
        &domain.cmdline_span,
    ]
    .into_iter()
    .flatten()
    {
        check_span(&xml, span);
    }
    for f in FIELDS {
        let (_, span) = field(&domain, f);
        let Some(range) = span.as_ref().and_then(|s| s.content.clone()) else {
            continue;
        };
        let escaped = escape_xml_text(&value);
        let edited = format!("{}{escaped}{}", &xml[..range.start], &xml[range.end..]);
        let reread = match parse_libvirt(&edited) {
            Ok(d) => d,
            Err(e) => panic!("{f:?} set to {escaped:?} no longer parses: {e}\n{edited}"),
        };
        let (new_value, new_span) = field(&reread, f);
        assert_eq!(
            new_value.as_deref(),
            Some(value.as_str()),
            "{f:?} reads back differently"
        );
        for other in FIELDS.into_iter().filter(|&o| o != f) {
            assert_eq!(
                field(&domain, other).0,
                field(&reread, other).0,
                "setting {f:?} changed {other:?}"
            );
        }
        assert_eq!(
            domain.domain_type, reread.domain_type,
            "the domain type changed"
        );
        let Some(new_range) = new_span.as_ref().and_then(|s| s.content.clone()) else {
            panic!("{f:?} lost its content span");
        };
        assert_eq!(
            new_range,
            range.start..range.start + escaped.len(),
            "the new content span is not the spliced text"
        );
        let again = format!(
            "{}{escaped}{}",
            &edited[..new_range.start],
            &edited[new_range.end..]
        );
        assert_eq!(
            again, edited,
            "splicing the same value again changed the file"
        );
    }
    if domain.os_span.is_some() {
        for which in [OsText::Kernel, OsText::Initrd, OsText::Cmdline] {
            editor_round_trip(&xml, &domain, which, &value);
        }
    }
}

/// `with_os_text`'s contract (see the module doc).
fn editor_round_trip(xml: &str, domain: &LibvirtDomain, which: OsText, value: &str) {
    let f = match which {
        OsText::Kernel => Field::Kernel,
        OsText::Initrd => Field::Initrd,
        OsText::Cmdline => Field::Cmdline,
    };
    let edited = match with_os_text(xml, which, value) {
        Ok(e) => e,
        Err(e) => panic!("with_os_text refused {which:?} = {value:?}: {e}\n{xml}"),
    };
    let reread = match parse_libvirt(&edited) {
        Ok(d) => d,
        Err(e) => panic!("with_os_text({which:?}) no longer parses: {e}\n{edited}"),
    };
    let got = field(&reread, f).0;
    assert!(
        got.as_deref() == Some(value) || (value.is_empty() && got.is_none()),
        "with_os_text({which:?}) reads back as {got:?}"
    );
    for other in FIELDS.into_iter().filter(|&o| o != f) {
        assert_eq!(
            field(domain, other).0,
            field(&reread, other).0,
            "with_os_text({which:?}) changed {other:?}"
        );
    }
    assert_eq!(
        with_os_text(&edited, which, value).ok().as_deref(),
        Some(edited.as_str()),
        "with_os_text({which:?}) again changed the document"
    );
}
