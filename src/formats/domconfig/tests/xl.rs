//! xl dialect tests: every grammar element, errors with their positions, libxlu's rules
//! for numbers and `+=`, lossless value edits, and quoting strings for xl.

use super::*;

#[test]
fn xl_every_grammar_element() {
    let src = concat!(
        "# xl config using every grammar element\n",
        "name = \"ng2\"   # trailing comment\n",
        "kernel = '/boot/vmlinuz-2.6.32 its'\n",
        "memory = 512; vcpus = 0x2 ; maxmem=010\n",
        "escapes = \"q\\\" s\\' b\\\\ n\\n t\\t r\\r a\\a b\\b f\\f v\\v x\\x41 o\\101 o\\7\"\n",
        "single = 'it\\'s \"fine\"'\n",
        "disk = [ 'phy:/dev/vg/ng2,xvda1,w', # first disk\n",
        "         # a comment line inside the list\n",
        "\n",
        "         [ \"nested\", 0x10 ],\n",
        "         'file:/srv/ng2-swap.img,xvda2,w',\n",
        "       ]\n",
        "empty = []\n",
        "extra = \"console=hvc0\"\n",
        "extra += \" xencons=tty\"\n",
        "disk += [ 'phy:/dev/vg/ng2-data,xvdb,w' ]\n",
        "_Private.name = 1 # capitals, underscore and dot in names\n",
        "last = \"no newline at end\"",
    );
    let c = xl(src);

    assert_eq!(c.get("name"), Some(&s("ng2")));
    assert_eq!(c.kernel(), Some(Ok("/boot/vmlinuz-2.6.32 its")));
    assert_eq!(c.get("memory"), Some(&Value::Int(512)));
    assert_eq!(c.get("vcpus"), Some(&Value::Int(2)));
    assert_eq!(
        c.get("maxmem"),
        Some(&Value::Int(8)),
        "leading 0 is octal to strtol"
    );
    assert_eq!(
        c.get("escapes"),
        Some(&s(
            "q\" s' b\\ n\n t\t r\r a\u{7} b\u{8} f\u{c} v\u{b} xA oA o\u{7}"
        ))
    );
    assert_eq!(c.get("single"), Some(&s("it's \"fine\"")));
    assert_eq!(c.get("empty"), Some(&Value::List(vec![])));
    assert_eq!(c.extra(), Some(Ok("console=hvc0 xencons=tty")));
    assert_eq!(c.get("_Private.name"), Some(&Value::Int(1)));
    assert_eq!(c.get("last"), Some(&s("no newline at end")));
    assert_eq!(
        c.get("disk"),
        Some(&Value::List(vec![
            s("phy:/dev/vg/ng2,xvda1,w"),
            Value::List(vec![s("nested"), Value::Int(16)]),
            s("file:/srv/ng2-swap.img,xvda2,w"),
            s("phy:/dev/vg/ng2-data,xvdb,w"),
        ]))
    );

    // Spans point at the exact bytes, for later in-place edits.
    let disk = c.settings().iter().find(|x| x.name == "disk");
    let Some(disk) = disk else {
        panic!("no disk setting")
    };
    let disk_text = &c.source()[disk.value_span.clone()];
    assert!(disk_text.starts_with("[ 'phy:") && disk_text.ends_with("w',\n       ]"));
    assert_eq!((disk.line, disk.column, disk.op), (7, 1, AssignOp::Set));
    let vcpus = c.setting("vcpus");
    let Some(vcpus) = vcpus else {
        panic!("no vcpus")
    };
    assert_eq!(&c.source()[vcpus.span.clone()], "vcpus = 0x2");
    assert_eq!(&c.source()[vcpus.value_span.clone()], "0x2");
    assert_eq!((vcpus.line, vcpus.column), (4, 15));
    let appends: Vec<&str> = c
        .settings()
        .iter()
        .filter(|x| x.op == AssignOp::Append)
        .map(|x| x.name.as_str())
        .collect();
    assert_eq!(appends, ["extra", "disk"]);
    assert_eq!(c.settings().len(), 14);
}

#[test]
fn xl_error_unterminated_string() {
    let e = err(
        "name = \"ng2\"\nkernel = \"/boot/vmlinuz\nmemory = 512\n",
        Dialect::Xl,
    );
    assert_eq!(e.to_string(), "2:10: unterminated string");
    let e = err("name = 'ng2", Dialect::Xl);
    assert_eq!((e.line, e.column), (1, 8));
}

#[test]
fn xl_error_missing_equals() {
    let e = err("name = \"ng2\"\n  kernel \"/boot/vmlinuz\"\n", Dialect::Xl);
    assert_eq!(e.to_string(), "2:10: expected `=` or `+=` after `kernel`");
    let e = err("memory\n", Dialect::Xl);
    assert_eq!((e.line, e.column), (1, 7));
}

#[test]
fn xl_other_errors() {
    let cases: &[(&str, &str)] = &[
        (
            "kernel = \"/boot/vmlinuz-\" + os.uname()[2]\n",
            "1:27: unexpected character `+`",
        ),
        ("memory = 256 * 2\n", "1:14: unexpected character `*`"),
        ("disk = [ 'a' 'b' ]\n", "1:14: expected `,` or `]` in list"),
        ("disk = [ 'a',\n", "1:8: unterminated list"),
        ("disk = [ , ]\n", "1:10: expected a value"),
        (
            "kernel =\n'/boot/x'\n",
            "1:9: expected a value, found end of line",
        ),
        ("a = 1 b = 2\n", "1:7: expected end of line or `;`"),
        ("x = \"\\q\"\n", "1:6: invalid escape `\\q` in string"),
        (
            "x = \"\\x4\"\n",
            "1:6: `\\x` must be followed by two hex digits",
        ),
        ("x = \"\\777\"\n", "1:6: octal escape is larger"),
        ("x = 'a'\r\n", "1:8: carriage return"),
        (
            "x = 'a'\nx += ['b']\n",
            "2:1: cannot add a list to a string",
        ),
        ("= 5\n", "1:1: expected a setting name"),
    ];
    for (src, want) in cases {
        let got = err(src, Dialect::Xl).to_string();
        assert!(got.starts_with(want), "{src:?}: got {got:?}, want {want:?}");
    }
    let python = err("import os\n", Dialect::Xl).to_string();
    assert!(
        python.starts_with("1:8: expected `=` or `+=` after `import` (this looks like Python"),
        "{python}"
    );
    let python = err("kernel = os.path.join('/boot', 'x')\n", Dialect::Xl).to_string();
    assert!(python.contains("looks like Python"), "{python}");
}

#[test]
fn xl_numbers_and_appends_follow_libxlu() {
    let c = xl("a = 08\nb = 0x\nc = 99999999999999999999\nd = 0\nm = 1\nm += 2\nn += 'x'\n");
    assert_eq!(c.get("a"), Some(&Value::Computed("08".into())));
    assert_eq!(c.get("b"), Some(&Value::Computed("0x".into())));
    assert_eq!(
        c.get("c"),
        Some(&Value::Computed("99999999999999999999".into()))
    );
    assert_eq!(c.get("d"), Some(&Value::Int(0)));
    assert_eq!(c.get("m"), Some(&Value::Computed("m += 2".into())));
    assert_eq!(
        c.get("n"),
        Some(&s("x")),
        "+= with nothing before is a plain set"
    );
    let c = xl("kernel = '/a'\nkernel = '/b'\nkernel = [ '/c' ]\n");
    assert_eq!(
        c.kernel().map(|r| r.map_err(|e| e.to_string())),
        Some(Err("cannot be read safely: kernel = [ '/c' ]".into()))
    );
    assert_eq!(c.ramdisk(), None);
}

/// A small xl guest config with comments; the differential test reads it with xl too.
pub(super) const XL_NG2: &str = "# guest ng2\nname = \"ng2\" # keep me\nkernel = '/boot/old'  # old kernel\n\
                                 extra = 'console=hvc0'\n";

#[test]
fn value_span_edit_is_lossless() {
    let src = XL_NG2;
    let c = xl(src);
    let Some(k) = c.setting("kernel") else {
        panic!("no kernel")
    };
    let new_path = "/boot/vmlinuz-4.19 \"quoted\"";
    let edited = format!(
        "{}{}{}",
        &src[..k.value_span.start],
        quote_xl_string(new_path),
        &src[k.value_span.end..]
    );
    assert_eq!(
        edited,
        "# guest ng2\nname = \"ng2\" # keep me\nkernel = \"/boot/vmlinuz-4.19 \\\"quoted\\\"\"  \
             # old kernel\nextra = 'console=hvc0'\n"
    );
    let c2 = xl(&edited);
    assert_eq!(c2.kernel(), Some(Ok(new_path)));
    assert_eq!(c2.extra(), Some(Ok("console=hvc0")));
}

#[test]
fn quote_examples() {
    assert_eq!(quote_xl_string("/boot/vmlinuz"), "\"/boot/vmlinuz\"");
    assert_eq!(quote_xl_string("a\"b\\c\nd\0"), "\"a\\\"b\\\\c\\nd\\x00\"");
    assert_eq!(quote_xl_string("it's"), "\"it's\"");
}

proptest! {
    #[test]
    fn quote_xl_string_round_trips(value in any::<String>()) {
        let src = format!("v = {}\nnext = 1\n", quote_xl_string(&value));
        let parsed = DomainConfig::parse(&src, Dialect::Xl);
        prop_assert!(parsed.is_ok(), "{:?}", parsed.err());
        if let Ok(c) = parsed {
            prop_assert_eq!(c.get("v"), Some(&Value::Str(value.clone())));
            prop_assert_eq!(c.get("next"), Some(&Value::Int(1)));
        }
    }
}
