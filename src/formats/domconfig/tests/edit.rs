//! The write side: `with_str` splices, appends, keeps every other byte, and refuses what
//! a rewrite of one statement cannot get right, naming the statement; `cmdline` and
//! `cmdline_setting` read the command line as xl (and xm) build it.

use super::*;

fn set(c: &DomainConfig, name: &str, value: &str) -> String {
    match c.with_str(name, value) {
        Ok(t) => t,
        Err(e) => panic!("{name} = {value:?}: {e}\n{}", c.source()),
    }
}

fn refused(c: &DomainConfig, name: &str, value: &str) -> EditError {
    match c.with_str(name, value) {
        Ok(t) => panic!("{name} = {value:?} was written:\n{t}"),
        Err(e) => e,
    }
}

/// The test fleet's guest config, as tests/fleet/fleet.sh writes it on xen1 (with a
/// comment and single quotes added).
pub(super) const G01: &str = "# G01, a CentOS 4 guest\nkernel = '/boot/vmlinuz-2.6.9-ELxenU'   # stable link\n\
                   ramdisk = \"/boot/initrd-2.6.9-ELxenU-xendrv.img\"\nmemory = 512\n\
                   name = \"G01\"\nvif = [ 'mac=00:16:3e:00:00:01, bridge=xenbr0' ]\n\
                   root = \"/dev/sda1 ro\"\nextra = \"3\"\n";

#[test]
fn a_value_is_spliced_and_every_other_byte_kept() {
    let c = xl(G01);
    let edited = set(&c, "kernel", "/boot/vmlinuz-2.6.9-67.0.1.ELxenU");
    assert_eq!(
        edited,
        G01.replace(
            "'/boot/vmlinuz-2.6.9-ELxenU'",
            "\"/boot/vmlinuz-2.6.9-67.0.1.ELxenU\""
        )
    );
    let edited = set(&xl(&edited), "extra", "3 xencons=ttyS console=ttyS0");
    assert!(edited.ends_with("extra = \"3 xencons=ttyS console=ttyS0\"\n"));
    // An unchanged value keeps its quoting: the file is returned as it is.
    assert_eq!(set(&c, "kernel", "/boot/vmlinuz-2.6.9-ELxenU"), G01);
    // Quotes and backslashes are quoted, and read back.
    let odd = "/boot/it's \"odd\" \\ é";
    let edited = set(&c, "ramdisk", odd);
    assert_eq!(xl(&edited).ramdisk(), Some(Ok(odd)));
}

#[test]
fn a_name_the_file_never_sets_is_appended() {
    let c = xl("kernel = \"/boot/k\"\nmemory = 128 # no newline at the end");
    assert_eq!(
        set(&c, "extra", "console=ttyS0"),
        "kernel = \"/boot/k\"\nmemory = 128 # no newline at the end\nextra = \"console=ttyS0\"\n"
    );
    assert_eq!(set(&xl(""), "kernel", "/boot/k"), "kernel = \"/boot/k\"\n");
    let e = refused(&c, "Extra", "x");
    assert!(
        e.message.contains("cannot be written as a new setting"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (2, 37), "the end of the file");
    let e = refused(&xm("x = 1\n"), "import", "x");
    assert!(e.message.contains("Python keyword"), "{e}");
}

#[test]
fn the_last_of_several_assignments_is_the_one_rewritten() {
    let src = "kernel = '/boot/a'\nkernel = '/boot/b'\n";
    assert_eq!(
        set(&xl(src), "kernel", "/boot/c"),
        "kernel = '/boot/a'\nkernel = \"/boot/c\"\n"
    );
    // `+=` with nothing before it is a plain set in xl.
    assert_eq!(
        set(&xl("extra += 'a'\n"), "extra", "a b"),
        "extra += \"a b\"\n"
    );
}

#[test]
fn a_plus_equals_chain_is_rewritten_only_when_its_earlier_part_stays() {
    let src = "extra = 'console=hvc0'\nmemory = 1\nextra += ' quiet'\n";
    for c in [xl(src), xm(src)] {
        let edited = set(&c, "extra", "console=hvc0 quiet console=ttyS0");
        assert!(
            edited.ends_with("extra += \" quiet console=ttyS0\"\n"),
            "{edited}"
        );
        assert!(edited.starts_with("extra = 'console=hvc0'\n"));
        let e = refused(&c, "extra", "quiet");
        assert_eq!((e.line, e.column), (3, 1));
        assert!(
            e.message
                .contains("built with `+=` (last by `extra += ' quiet'`)")
                && e.message.contains("does not start with \"console=hvc0\""),
            "{e}"
        );
    }
}

#[test]
fn numbers_and_lists_are_not_overwritten_with_strings() {
    let e = refused(&xl("memory = 512\n"), "memory", "1024");
    assert_eq!(
        e.to_string(),
        "1:1: `memory` is set by `memory = 512`, which is not a string; edit it by hand"
    );
    let e = refused(&xl("kernel = [ '/boot/a' ]\n"), "kernel", "/boot/b");
    assert!(e.message.contains("`kernel = [ '/boot/a' ]`"), "{e}");
    let e = refused(&xl("extra = 'a'\n"), "extra", "a\0b");
    assert!(e.message.contains("NUL"), "{e}");
}

#[test]
fn xm_literals_are_written_as_python_strings() {
    let src = "# -*- mode: python; -*-\nname = \"NG2\"\nkernel = \"/boot/vmlinuz-2.6.9-ELxenU\"\n\
               extra = 'xencons=tty'\nvcpus = 1\n";
    let c = xm(src);
    let edited = set(&c, "extra", "xencons=ttyS console=ttyS0 café");
    assert_eq!(
        edited,
        src.replace(
            "'xencons=tty'",
            "\"xencons=ttyS console=ttyS0 caf\\xc3\\xa9\""
        )
    );
    assert!(
        edited.is_ascii(),
        "Python 2 wants an encoding line for non-ASCII"
    );
    assert_eq!(
        xm(&edited).extra(),
        Some(Ok("xencons=ttyS console=ttyS0 café"))
    );
    assert!(
        set(&c, "ramdisk", "/boot/initrd.img")
            .ends_with("vcpus = 1\nramdisk = \"/boot/initrd.img\"\n")
    );
}

#[test]
fn xm_computed_values_are_refused_naming_the_statement() {
    let src = "import os\nname = \"NG2\"\n\nkernel = \"/boot/vmlinuz-\" + os.uname()[2]\n";
    let e = refused(&xm(src), "kernel", "/boot/vmlinuz-2.6.9-67.0.1.ELxenU");
    assert_eq!(
        e.to_string(),
        "4:1: `kernel` is computed by `kernel = \"/boot/vmlinuz-\" + os.uname()[2]`: vmup does \
         not rewrite what the file computes; edit it by hand"
    );
    let conditional =
        "import os\nkernel = '/boot/a'\nif os.path.exists('/boot/b'):\n    kernel = '/boot/b'\n";
    let e = refused(&xm(conditional), "kernel", "/boot/c");
    assert_eq!((e.line, e.column), (3, 1));
    assert!(
        e.message
            .contains("`if os.path.exists('/boot/b'):     kernel = '/boot/b'`"),
        "{e}"
    );
    // After `from m import *` even a name the file never sets may be defined elsewhere.
    let e = refused(&xm("from defaults import *\nname = 'x'\n"), "extra", "a");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("from defaults import *"), "{e}");
}

#[test]
fn xl_cmdline_follows_xl_rules() {
    let line = |src: &str| xl(src).cmdline().map(|r| r.map_err(|e| e.to_string()));
    assert_eq!(
        line("root = '/dev/sda1 ro'\nextra = '3'\n"),
        Some(Ok("root=/dev/sda1 ro 3".into()))
    );
    assert_eq!(
        line("root = '/dev/sda1'\n"),
        Some(Ok("root=/dev/sda1".into()))
    );
    assert_eq!(line("extra = 'quiet'\n"), Some(Ok("quiet".into())));
    assert_eq!(line("extra = 'a'\nextra += ' b'\n"), Some(Ok("a b".into())));
    assert_eq!(line("root = ''\nextra = ''\n"), Some(Ok("root= ".into())));
    assert_eq!(
        line("root = 'root=/dev/x'\n"),
        Some(Ok("root=root=/dev/x".into()))
    );
    assert_eq!(
        line("cmdline = 'c'\nroot = '/r'\nextra = 'e'\n"),
        Some(Ok("c".into()))
    );
    assert_eq!(line("kernel = '/k'\n"), None);
    assert!(matches!(line("extra = [ 'a' ]\n"), Some(Err(_))));
    let c = xl("cmdline = ''\nextra = 'e'\n");
    assert_eq!(
        (c.cmdline_setting(), c.cmdline()),
        ("cmdline", Some(Ok(String::new())))
    );
    assert_eq!(xl("extra = 'e'\n").cmdline_setting(), "extra");
    assert_eq!(xl("").cmdline_setting(), "extra");
}

#[test]
fn xm_cmdline_is_root_and_extra() {
    let c = xm("root = 'root=/dev/sda1 ro'\nextra = '3'\ncmdline = 'ignored'\n");
    assert_eq!(c.cmdline(), Some(Ok("root=/dev/sda1 ro 3".into())));
    assert_eq!(c.cmdline_setting(), "extra");
    assert_eq!(
        xm("root = ''\nextra = 'quiet'\n").cmdline(),
        Some(Ok("quiet".into()))
    );
    assert_eq!(xm("root = ''\nextra = ''\n").cmdline(), None);
}

proptest! {
    #[test]
    fn quote_xm_string_round_trips(value in any::<String>()) {
        let src = format!("v = {}\nnext = 1\n", quote_xm_string(&value));
        prop_assert!(src.is_ascii());
        let c = DomainConfig::parse(&src, Dialect::Xm);
        prop_assert!(c.is_ok(), "{:?}", c.err());
        if let Ok(c) = c {
            prop_assert_eq!(c.get("v"), Some(&Value::Str(value.clone())));
            prop_assert_eq!(c.get("next"), Some(&Value::Int(1)));
        }
    }

    #[test]
    fn edits_read_back_and_repeat_as_no_ops(
        value in "[^\0]{0,40}",
        name in prop::sample::select(vec!["kernel", "ramdisk", "extra", "root", "bootloader"]),
    ) {
        for (src, dialect) in [(G01, Dialect::Xl), (G01, Dialect::Xm)] {
            let c = DomainConfig::parse(src, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let edited = c.with_str(name, &value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let again = DomainConfig::parse(&edited, dialect).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again.get_str(name), Some(Ok(value.as_str())));
            prop_assert_eq!(again.with_str(name, &value).ok(), Some(edited.clone()));
            // Only the one statement's value changed (or one line was added).
            let kept = src.lines().filter(|l| edited.lines().any(|e| e == *l)).count();
            prop_assert!(kept + 1 >= src.lines().count(), "{}", edited);
        }
    }
}
