//! Reading libvirt domain XML: `virsh dumpxml` output, odd but valid markup, empty and
//! self-closing elements, and errors with their positions.

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
    let dtd =
        "<!DOCTYPE domain [<!ENTITY k '/boot/x'>]><domain><os><kernel>&k;</kernel></os></domain>";
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

#[test]
fn the_first_disk_is_the_root_disk_and_cdroms_are_not() {
    let dom = parse(
        "<domain type='kvm'><name>k</name><os><kernel>/boot/k</kernel></os><devices>\
         <disk type='file' device='cdrom'><source file='/iso/x.iso'/></disk>\
         <disk type='file' device='disk'><source file='/var/lib/libvirt/images/k.img'/><target dev='vda'/></disk>\
         <disk type='block'><source dev='/dev/vg0/k2'/></disk></devices></domain>",
    );
    assert_eq!(dom.disk.as_deref(), Some("/var/lib/libvirt/images/k.img"));
    assert_eq!(parse("<domain><name>n</name></domain>").disk, None);
}
