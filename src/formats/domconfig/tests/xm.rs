//! xm dialect tests: real xend configs, Python's string and integer forms, values that
//! are computed or conditional (and so unreadable), and input Python itself rejects.

use super::*;

/// A CentOS 5 guest's xend config; also valid xl (the differential test reads it with xl).
pub(super) const NG2_XM: &str = r#"# Automatically generated xen config file
name = "NG2"
memory = 512
kernel = "/boot/vmlinuz-2.6.9-ELxenU"
ramdisk = "/boot/initrd-2.6.9-ELxenU-xendrv.img"
vif = [ 'mac=00:16:3e:00:00:12, bridge=xenbr0' ]
disk = [ 'phy:/dev/vg0/ng2,sda1,w',
         'phy:/dev/vg0/ng2-swap,sda2,w', ]
root = "/dev/sda1 ro"
extra = "xencons=ttyS console=ttyS0"
vcpus = 1
on_reboot   = 'restart'
on_crash    = 'restart'
"#;

#[test]
fn xm_centos_ng2_config() {
    let c = xm(NG2_XM);
    assert_eq!(c.get("name"), Some(&s("NG2")));
    assert_eq!(c.get("memory"), Some(&Value::Int(512)));
    assert_eq!(c.kernel(), Some(Ok("/boot/vmlinuz-2.6.9-ELxenU")));
    assert_eq!(
        c.ramdisk(),
        Some(Ok("/boot/initrd-2.6.9-ELxenU-xendrv.img"))
    );
    assert_eq!(c.extra(), Some(Ok("xencons=ttyS console=ttyS0")));
    assert_eq!(c.get_str("root"), Some(Ok("/dev/sda1 ro")));
    assert_eq!(
        c.get("vif"),
        Some(&Value::List(vec![s(
            "mac=00:16:3e:00:00:12, bridge=xenbr0"
        )]))
    );
    assert_eq!(
        c.get("disk"),
        Some(&Value::List(vec![
            s("phy:/dev/vg0/ng2,sda1,w"),
            s("phy:/dev/vg0/ng2-swap,sda2,w")
        ]))
    );
    assert_eq!(c.get("on_crash"), Some(&s("restart")));
    let k = c.setting("kernel");
    let Some(k) = k else { panic!("no kernel") };
    assert_eq!(
        &c.source()[k.value_span.clone()],
        "\"/boot/vmlinuz-2.6.9-ELxenU\""
    );
    assert_eq!((k.line, k.column, k.nested), (4, 1, false));
    assert!(c.settings().iter().all(|x| !x.nested));
    // The same file is also valid xl.
    let as_xl = xl(NG2_XM);
    assert_eq!(as_xl.kernel(), Some(Ok("/boot/vmlinuz-2.6.9-ELxenU")));
}

#[test]
fn xm_import_os_and_computed_kernel() {
    let src = r#"import os, re
arch = os.uname()[4]
name = "NG2"
kernel = "/boot/vmlinuz-" + os.uname()[2]
ramdisk = "/boot/initrd-2.6.9-ELxenU.img"
memory = 256 * 2
vcpus = 2
"#;
    let c = xm(src);
    let kernel = c.kernel();
    let Some(Err(unreadable)) = kernel else {
        panic!("kernel: {kernel:?}")
    };
    assert_eq!(
        unreadable.to_string(),
        "cannot be read safely: \"/boot/vmlinuz-\" + os.uname()[2]"
    );
    assert_eq!(unreadable.name, "kernel");
    assert_eq!(c.get("memory"), Some(&Value::Computed("256 * 2".into())));
    assert_eq!(
        c.get("arch"),
        Some(&Value::Computed("os.uname()[4]".into()))
    );
    assert_eq!(c.ramdisk(), Some(Ok("/boot/initrd-2.6.9-ELxenU.img")));
    assert_eq!(c.get("name"), Some(&s("NG2")));
    assert_eq!(c.get("vcpus"), Some(&Value::Int(2)));
    assert!(matches!(c.get("os"), Some(Value::Computed(_))));
    let k = c.setting("kernel");
    let Some(k) = k else {
        panic!("no kernel setting")
    };
    assert_eq!((k.line, k.column), (4, 1));
    assert_eq!(
        &c.source()[k.value_span.clone()],
        "\"/boot/vmlinuz-\" + os.uname()[2]"
    );
}

#[test]
fn xm_triple_quoted_and_other_python_strings() {
    let src = concat!(
        "extra = \"\"\"console=hvc0\n",
        "  xencons=tty 'quoted' \"dq\" \\\"\"\"\"\n",
        "root = '''/dev/xvda1 ro'''\n",
        "raw = r'C:\\boot\\n'\n",
        "uni = u'caf\\xe9 \\u00e9'\n",
        "byt = 'caf\\xc3\\xa9 \\101 \\q'\n",
        "joined = ('/boot/'\n",
        "          'vmlinuz')\n",
        "neg = -0x10; big = 10L; octal = 0755\n",
        "cont = 'a' \\\n",
        "       'b'\n",
    );
    let c = xm(src);
    assert_eq!(
        c.extra(),
        Some(Ok("console=hvc0\n  xencons=tty 'quoted' \"dq\" \""))
    );
    assert_eq!(c.get_str("root"), Some(Ok("/dev/xvda1 ro")));
    assert_eq!(c.get_str("raw"), Some(Ok("C:\\boot\\n")));
    assert_eq!(c.get_str("uni"), Some(Ok("café é")));
    assert_eq!(c.get_str("byt"), Some(Ok("café A \\q")));
    assert_eq!(c.get_str("joined"), Some(Ok("/boot/vmlinuz")));
    assert_eq!(c.get("neg"), Some(&Value::Int(-16)));
    assert_eq!(c.get("big"), Some(&Value::Int(10)));
    assert_eq!(c.get("octal"), Some(&Value::Int(0o755)));
    assert_eq!(c.get_str("cont"), Some(Ok("ab")));
    let e = c.setting("extra");
    let Some(e) = e else { panic!("no extra") };
    assert_eq!((e.span.start, e.value_span.start), (0, 8));
    assert!(c.source()[e.value_span.clone()].ends_with("\\\"\"\"\""));
}

#[test]
fn xm_xmexample_hvm_style_config() {
    // Shaped like xend's /etc/xen/xmexample.hvm.
    let src = r#"#  -*- mode: python; -*-
import os, re

arch = os.uname()[4]
if re.search('64', arch):
    arch_libdir = 'lib64'
else:
    arch_libdir = 'lib'

kernel = "/usr/lib/xen/boot/hvmloader"
builder='hvm'
memory = 128
name = "ExampleHVMDomain"
vif = [ 'type=ioemu, bridge=xenbr0' ]
disk = [ 'file:/var/images/min-el3-i386.img,hda,w', ',hdc:cdrom,r' ]
device_model = '/usr/' + arch_libdir + '/xen/bin/qemu-dm'
sdl=0
vnc=1
serial='pty'
"#;
    let c = xm(src);
    assert_eq!(c.kernel(), Some(Ok("/usr/lib/xen/boot/hvmloader")));
    assert_eq!(c.get("memory"), Some(&Value::Int(128)));
    assert_eq!(c.get("vnc"), Some(&Value::Int(1)));
    assert_eq!(c.get_str("builder"), Some(Ok("hvm")));
    assert!(
        matches!(c.get("arch_libdir"), Some(Value::Computed(t)) if t.starts_with("if re.search"))
    );
    assert_eq!(
        c.get("device_model"),
        Some(&Value::Computed(
            "'/usr/' + arch_libdir + '/xen/bin/qemu-dm'".into()
        ))
    );
    assert_eq!(c.ramdisk(), None);
    let nested: Vec<&str> = c
        .settings()
        .iter()
        .filter(|x| x.nested)
        .map(|x| x.name.as_str())
        .collect();
    assert_eq!(nested, ["arch_libdir", "arch_libdir"]);
    // xl refuses the same file, pointing at the Python.
    let e = err(src, Dialect::Xl);
    assert!(
        e.to_string()
            .starts_with("2:8: expected `=` or `+=` after `import`"),
        "{e}"
    );
}

#[test]
fn xm_unreadable_strings_are_computed_not_errors() {
    let c = xm("a = '\\xff'\nb = u'\\N{BULLET}'\nc = 1.5\nd = True\ne = [1, x]\n");
    for name in ["a", "b", "c", "d", "e"] {
        assert!(matches!(c.get(name), Some(Value::Computed(_))), "{name}");
    }
}

#[test]
fn xm_conditionals_and_mutations_are_computed() {
    let src = r#"import os
kernel = "/boot/vmlinuz-xen"
if os.path.exists("/boot/vmlinuz-new"):
    kernel = "/boot/vmlinuz-new"
else:
    kernel = "/boot/vmlinuz-old"
ramdisk = "/boot/initrd-old.img"
for i in range(2): ramdisk = "/boot/initrd-%d.img" % i
disk = [ 'phy:/dev/vg/a,xvda,w' ]
disk.append('phy:/dev/vg/b,xvdb,w')
extra = "console=hvc0"
name = "web1"; memory = 1024
"#;
    let c = xm(src);
    let Some(Err(k)) = c.kernel() else {
        panic!("kernel should be unreadable")
    };
    assert!(
        k.source_text.starts_with("if os.path.exists"),
        "{}",
        k.source_text
    );
    assert!(
        k.source_text.ends_with("kernel = \"/boot/vmlinuz-old\""),
        "{}",
        k.source_text
    );
    assert!(matches!(c.ramdisk(), Some(Err(_))));
    assert!(matches!(c.get("disk"), Some(Value::Computed(t)) if t.starts_with("disk.append")));
    assert_eq!(c.extra(), Some(Ok("console=hvc0")));
    assert_eq!(c.get("name"), Some(&s("web1")));
    assert_eq!(c.get("memory"), Some(&Value::Int(1024)));
    let nested: Vec<(&str, &Value)> = c
        .settings()
        .iter()
        .filter(|x| x.nested)
        .map(|x| (x.name.as_str(), &x.value))
        .collect();
    assert_eq!(
        nested,
        [
            ("kernel", &s("/boot/vmlinuz-new")),
            ("kernel", &s("/boot/vmlinuz-old"))
        ]
    );

    // A later unconditional literal assignment settles it again...
    let c = xm("if x:\n    kernel = 'a'\nkernel = '/boot/b'\n");
    assert_eq!(c.kernel(), Some(Ok("/boot/b")));
    // ...unless deferred code (a function, a lambda) may still change it.
    let c = xm("def f():\n    global kernel\n    kernel = 'a'\nkernel = '/boot/b'\nf()\n");
    assert!(matches!(c.kernel(), Some(Err(_))));
    let c = xm("add = lambda: disk.append('x')\ndisk = ['a']\nadd()\n");
    assert!(matches!(c.get("disk"), Some(Value::Computed(_))));
    // Anything that can rebind arbitrary names makes everything unknown.
    let c = xm("kernel = '/boot/a'\nexec(open('/etc/xen/common').read())\n");
    assert!(matches!(c.kernel(), Some(Err(_))));
    let c = xm("from common import *\n");
    assert!(
        matches!(c.kernel(), Some(Err(_))),
        "star import may define kernel"
    );
    let c = xm("kernel = ramdisk = '/boot/x'\n");
    assert!(matches!(c.kernel(), Some(Err(_))));
    assert!(matches!(c.ramdisk(), Some(Err(_))));
    let c = xm("extra = 'a'\nextra += ' b'\ndisk = []\ndisk += ['x']\nmemory = 1\nmemory += 2\n");
    assert_eq!(c.extra(), Some(Ok("a b")));
    assert_eq!(c.get("disk"), Some(&Value::List(vec![s("x")])));
    assert_eq!(c.get("memory"), Some(&Value::Int(3)));
    let c = xm("extra += ' b'\n");
    assert!(matches!(c.extra(), Some(Err(_))), "NameError in Python");
}

#[test]
fn xm_broken_input_errors() {
    let e = err("name = 'NG2'\nkernel = \"/boot/vmlinuz\n", Dialect::Xm);
    assert_eq!(e.to_string(), "2:10: unterminated string");
    let e = err("extra = '''never closed\n\n", Dialect::Xm);
    assert_eq!(e.to_string(), "1:9: unterminated string");
    let e = err("disk = [ 'a',\n  'b'\n", Dialect::Xm);
    assert_eq!(e.to_string(), "1:8: `[` is never closed");
    let e = err("disk = [ 'a' )\n", Dialect::Xm);
    assert_eq!(
        e.to_string(),
        "1:14: `)` does not match the `[` opened at 1:8"
    );
    let e = err("  kernel = '/boot/a'\n", Dialect::Xm);
    assert_eq!(e.to_string(), "1:3: unexpected indentation");
    let e = err("kernel = '/boot/a'\n    ramdisk = '/boot/b'\n", Dialect::Xm);
    assert_eq!(e.to_string(), "2:5: unexpected indentation");
    let e = err("x = 'a\\x4'\n", Dialect::Xm);
    assert_eq!(
        e.to_string(),
        "1:7: invalid `\\x` escape: expected 2 hex digits"
    );
}
