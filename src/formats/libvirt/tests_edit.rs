//! Writing libvirt domain XML: a value replaced in place, a self-closing element given
//! text, a missing one inserted where libvirt writes it with its siblings' indentation,
//! every other byte kept, and what XML cannot carry refused.

use super::*;
use proptest::prelude::*;

const DOMAIN: &str = "<domain type='kvm'>
  <name>g01</name>
  <memory unit='KiB'>524288</memory>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>/var/lib/libvirt/boot/vmlinuz-6.1.0-13-amd64</kernel>
    <boot dev='hd'/>
  </os>
  <!-- <cmdline>not this one</cmdline> -->
  <devices/>
</domain>
";

fn edit(xml: &str, which: OsText, value: &str) -> String {
    match with_os_text(xml, which, value) {
        Ok(x) => x,
        Err(e) => panic!("<{}> = {value:?}: {e}\n{xml}", which.tag()),
    }
}

#[test]
fn a_value_is_replaced_in_place() {
    let new = "/var/lib/libvirt/boot/vmlinuz-6.1.0-18-amd64 & <co>";
    let edited = edit(DOMAIN, OsText::Kernel, new);
    assert_eq!(
        edited,
        DOMAIN.replace(
            "vmlinuz-6.1.0-13-amd64<",
            "vmlinuz-6.1.0-18-amd64 &amp; &lt;co&gt;<"
        )
    );
    let d = parse_libvirt(&edited).unwrap();
    assert_eq!(d.kernel.as_deref(), Some(new));
    assert_eq!(
        edit(
            DOMAIN,
            OsText::Kernel,
            "/var/lib/libvirt/boot/vmlinuz-6.1.0-13-amd64"
        ),
        DOMAIN,
        "the same value changes nothing"
    );
}

#[test]
fn missing_elements_are_inserted_where_libvirt_writes_them() {
    let with_cmdline = edit(DOMAIN, OsText::Cmdline, "console=ttyS0 root=/dev/vda");
    assert_eq!(
        with_cmdline,
        DOMAIN.replace(
            "amd64</kernel>\n",
            "amd64</kernel>\n    <cmdline>console=ttyS0 root=/dev/vda</cmdline>\n"
        )
    );
    // The initrd goes between kernel and cmdline.
    let both = edit(&with_cmdline, OsText::Initrd, "/boot/initrd.img");
    assert!(
        both.contains("</kernel>\n    <initrd>/boot/initrd.img</initrd>\n    <cmdline>"),
        "{both}"
    );
    // On one line, the element goes in without a line of its own.
    let flat = "<domain><os><type>hvm</type><boot dev='hd'/></os></domain>";
    assert_eq!(
        edit(flat, OsText::Kernel, "/k"),
        "<domain><os><type>hvm</type><kernel>/k</kernel><boot dev='hd'/></os></domain>"
    );
    // Without <type>, before the first child, indented like it.
    let no_type = "<domain>\n  <os>\n    <boot dev='hd'/>\n  </os>\n</domain>";
    assert_eq!(
        edit(no_type, OsText::Kernel, "/k"),
        "<domain>\n  <os>\n    <kernel>/k</kernel>\n    <boot dev='hd'/>\n  </os>\n</domain>"
    );
    let empty = "<domain>\n  <os>\n  </os>\n</domain>";
    assert_eq!(
        edit(empty, OsText::Kernel, "/k"),
        "<domain>\n  <os>\n    <kernel>/k</kernel>\n  </os>\n</domain>"
    );
    assert_eq!(
        edit("<domain><os/></domain>", OsText::Kernel, "/k"),
        "<domain><os><kernel>/k</kernel></os></domain>"
    );
}

#[test]
fn self_closing_and_commented_elements() {
    let xml = "<domain><os><type>linux</type><cmdline /></os></domain>";
    assert_eq!(
        edit(xml, OsText::Cmdline, "quiet"),
        "<domain><os><type>linux</type><cmdline>quiet</cmdline></os></domain>"
    );
    let xml = "<domain><os><cmdline><!-- none yet --></cmdline></os></domain>";
    assert_eq!(
        edit(xml, OsText::Cmdline, "quiet"),
        "<domain><os><cmdline>quiet</cmdline></os></domain>"
    );
    // An absent element read as empty stays absent.
    let xml = "<domain><os><type>hvm</type></os></domain>";
    assert_eq!(edit(xml, OsText::Cmdline, ""), xml);
}

#[test]
fn what_cannot_be_written_is_refused_with_a_position() {
    let e = with_os_text(
        "<domain>\n  <name>x</name>\n</domain>",
        OsText::Kernel,
        "/k",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "1:1: the domain has no <os> element to add <kernel> to: it is not booted from a kernel the host names"
    );
    let e = with_os_text(DOMAIN, OsText::Kernel, "/k\u{1}").unwrap_err();
    assert_eq!((e.line, e.column), (6, 5));
    assert!(e.message.contains("cannot hold '\\u{1}'"), "{e}");
    let e = with_os_text("<domain><os>", OsText::Kernel, "/k").unwrap_err();
    assert_eq!((e.line, e.column), (1, 13));
}

proptest! {
    #[test]
    fn edits_read_back_keep_the_rest_and_repeat_as_no_ops(
        value in "[^\u{0}-\u{8}\u{b}-\u{1f}\u{7f}-\u{9f}\u{fffe}\u{ffff}]{0,30}",
        which in prop::sample::select(vec![OsText::Kernel, OsText::Initrd, OsText::Cmdline]),
    ) {
        let edited = with_os_text(DOMAIN, which, &value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let d = parse_libvirt(&edited).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let got = match which {
            OsText::Kernel => d.kernel.clone(),
            OsText::Initrd => d.initrd.clone(),
            OsText::Cmdline => d.cmdline.clone(),
        };
        let absent_and_empty = got.is_none() && value.is_empty();
        prop_assert!(absent_and_empty || got.as_deref() == Some(value.as_str()));
        prop_assert_eq!(with_os_text(&edited, which, &value).ok(), Some(edited.clone()));
        // Every line of the original is still there, but the kernel line when it is edited.
        for line in DOMAIN.lines().filter(|l| which != OsText::Kernel || !l.contains("<kernel>")) {
            prop_assert!(edited.lines().any(|e| e == line), "{} lost in\n{}", line, edited);
        }
    }
}
