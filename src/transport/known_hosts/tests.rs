//! known_hosts reading, matching and appending, against the real formats ssh(1) writes.

use super::*;

// Two real public keys (generated with ssh-keygen) of each kind used below.
const ED_A: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
const ED_B: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPrQTTB4LQsdMgMdFsyGm0vcOc55cH/CIaCp8+2LvDML";
const ECDSA: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOZ/wKei+vl+5yKFkiGi8csqzZLs0mFl1ZdmMwtnCajZD3lQZBBZcHDxRcSaKPCC03cE42+M+s40EHC1Xdk1n1I=";

fn key(text: &str) -> PublicKey {
    match PublicKey::from_openssh(text) {
        Ok(k) => k,
        Err(e) => panic!("bad test key: {e}"),
    }
}

fn hashed_name(name: &str, salt: &[u8]) -> String {
    let mut mac = match hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    };
    mac.update(name.as_bytes());
    format!(
        "|1|{}|{}",
        BASE64.encode(salt),
        BASE64.encode(mac.finalize().into_bytes())
    )
}

#[test]
fn names_use_brackets_off_port_22() {
    assert_eq!(host_key_name("web1", 22), "web1");
    assert_eq!(host_key_name("10.0.0.1", 2222), "[10.0.0.1]:2222");
}

#[test]
fn plain_entry_with_host_list() {
    let f = KnownHostsFile::parse(
        &format!("# comment\n\nother,web1,10.0.0.1 {ED_A}\n"),
        Path::new("/kh"),
    );
    assert_eq!(
        verify([&f], "web1", &key(ED_A)),
        Verdict::Trusted {
            path: "/kh".into(),
            line: 3
        }
    );
    assert_eq!(
        verify([&f], "10.0.0.1", &key(ED_A)),
        Verdict::Trusted {
            path: "/kh".into(),
            line: 3
        }
    );
    assert!(matches!(
        verify([&f], "web2", &key(ED_A)),
        Verdict::Unknown { .. }
    ));
}

#[test]
fn a_line_per_host_among_wildcard_and_hashed_lines_keeps_file_order() {
    // Lines found by name and lines tried for every name (wildcards, hashed names)
    // are still taken in file order: the first trusted line, a revocation anywhere.
    let mut text = format!("*.lan {ED_B}\n{} {ED_B}\n", hashed_name("h7", b"salt7"));
    for i in 0..50 {
        text.push_str(&format!("H{i},10.0.1.{i} {ED_A}\n"));
    }
    text.push_str(&format!("h7 {ED_B}\n@revoked h9 {ED_A}\n"));
    let f = KnownHostsFile::parse(&text, Path::new("/kh"));
    let trusted = |line| Verdict::Trusted {
        path: "/kh".into(),
        line,
    };
    assert_eq!(verify([&f], "h3", &key(ED_A)), trusted(6));
    assert_eq!(verify([&f], "10.0.1.3", &key(ED_A)), trusted(6));
    assert_eq!(verify([&f], "h7", &key(ED_A)), trusted(10));
    assert_eq!(verify([&f], "h7", &key(ED_B)), trusted(2));
    assert_eq!(verify([&f], "h3.lan", &key(ED_B)), trusted(1));
    assert!(matches!(
        verify([&f], "h9", &key(ED_A)),
        Verdict::Revoked { line: 54, .. }
    ));
    assert_eq!(f.key_types_for("h7"), ["ssh-ed25519"; 3]);
    assert!(f.key_types_for("h99").is_empty());
}

#[test]
fn bracketed_port_form_and_patterns() {
    let f = KnownHostsFile::parse(
        &format!("[127.0.0.1]:2222 {ED_A}\n*.lan,!bad.lan {ED_B}\n"),
        Path::new("/kh"),
    );
    assert!(matches!(
        verify([&f], "[127.0.0.1]:2222", &key(ED_A)),
        Verdict::Trusted { line: 1, .. }
    ));
    // The port matters: the same address on 22 is a different name.
    assert!(matches!(
        verify([&f], "127.0.0.1", &key(ED_A)),
        Verdict::Unknown { .. }
    ));
    assert!(matches!(
        verify([&f], "a.lan", &key(ED_B)),
        Verdict::Trusted { line: 2, .. }
    ));
    assert!(matches!(
        verify([&f], "bad.lan", &key(ED_B)),
        Verdict::Unknown { .. }
    ));
}

#[test]
fn hashed_entries() {
    let line = format!(
        "{} {ED_A}\n",
        hashed_name("[10.0.0.9]:2200", b"0123456789abcdefghij")
    );
    let f = KnownHostsFile::parse(&line, Path::new("/kh"));
    assert!(matches!(
        verify([&f], "[10.0.0.9]:2200", &key(ED_A)),
        Verdict::Trusted { line: 1, .. }
    ));
    assert!(matches!(
        verify([&f], "10.0.0.9", &key(ED_A)),
        Verdict::Unknown { .. }
    ));
    assert_eq!(f.key_types_for("[10.0.0.9]:2200"), vec!["ssh-ed25519"]);
}

#[test]
fn changed_key_names_file_line_and_old_fingerprint() {
    let f = KnownHostsFile::parse(&format!("x {ECDSA}\nweb1 {ED_B}\n"), Path::new("/kh"));
    match verify([&f], "web1", &key(ED_A)) {
        Verdict::Changed {
            path,
            line,
            old_fingerprint,
        } => {
            assert_eq!(path, PathBuf::from("/kh"));
            assert_eq!(line, 2);
            assert_eq!(old_fingerprint, fingerprint(&key(ED_B)));
            assert!(old_fingerprint.starts_with("SHA256:"));
        }
        other => panic!("expected Changed, got {other:?}"),
    }
}

#[test]
fn other_key_type_is_unknown_not_changed() {
    let f = KnownHostsFile::parse(&format!("web1 {ECDSA}\n"), Path::new("/kh"));
    assert_eq!(
        verify([&f], "web1", &key(ED_A)),
        Verdict::Unknown {
            other_types: vec!["/kh:1 (ecdsa-sha2-nistp256)".to_string()]
        }
    );
}

#[test]
fn later_files_and_lines_can_still_trust() {
    let a = KnownHostsFile::parse(&format!("web1 {ED_B}\n"), Path::new("/a"));
    let b = KnownHostsFile::parse(&format!("web1 {ED_A}\n"), Path::new("/b"));
    assert_eq!(
        verify([&a, &b], "web1", &key(ED_A)),
        Verdict::Trusted {
            path: "/b".into(),
            line: 1
        }
    );
}

#[test]
fn revoked_wins_and_cert_authority_is_ignored() {
    let f = KnownHostsFile::parse(
        &format!("web1 {ED_A}\n@revoked * {ED_A}\n@cert-authority *.lan {ED_B}\n"),
        Path::new("/kh"),
    );
    assert_eq!(
        verify([&f], "web1", &key(ED_A)),
        Verdict::Revoked {
            path: "/kh".into(),
            line: 2
        }
    );
    assert!(matches!(
        verify([&f], "x.lan", &key(ED_B)),
        Verdict::Unknown { .. }
    ));
}

#[test]
fn garbage_lines_are_skipped() {
    let f = KnownHostsFile::parse(
        &format!("justonefield\nweb1 ssh-ed25519 !!notbase64!!\n|2|x|y {ED_A}\nweb1 {ED_A}\n"),
        Path::new("/kh"),
    );
    assert!(matches!(
        verify([&f], "web1", &key(ED_A)),
        Verdict::Trusted { line: 4, .. }
    ));
}

#[test]
fn append_creates_locks_and_does_not_duplicate() {
    let dir = std::env::temp_dir().join(format!("vmup-kh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("sub/known_hosts");
    match append(&path, "[h]:2", &key(ED_A)) {
        Ok(None) => {}
        other => panic!("expected an append, got {other:?}"),
    }
    match append(&path, "[h]:2", &key(ED_A)) {
        Ok(Some(Verdict::Trusted { line: 1, .. })) => {}
        other => panic!("expected the existing entry, got {other:?}"),
    }
    match append(&path, "[h]:2", &key(ED_B)) {
        Ok(Some(Verdict::Changed { line: 1, .. })) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(text.lines().count(), 1);
    assert!(text.starts_with("[h]:2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3"));
    // A file without a final newline gets one before the new line.
    assert!(std::fs::write(&path, format!("x {ED_B}")).is_ok());
    assert!(matches!(append(&path, "y", &key(ED_A)), Ok(None)));
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(text.lines().count(), 2);
    let reread = KnownHostsFile::load(&path).ok();
    assert!(matches!(
        reread.as_ref().map(|f| verify([f], "y", &key(ED_A))),
        Some(Verdict::Trusted { line: 2, .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Found by fuzzing (fuzz/corpus/known_hosts/): a name that a known_hosts line cannot
/// hold as itself was written anyway, so the new line never matched it (an append on
/// every connection) or matched other hosts too (`web?` trusts the key for `web1`).
#[test]
fn append_refuses_names_a_line_cannot_hold() {
    let dir = std::env::temp_dir().join(format!("vmup-kh-names-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("known_hosts");
    for name in [
        "",
        "a b",
        "a\tb",
        "a\u{a0}b",
        "web1,web2",
        "web?",
        "*",
        "!web1",
        "#web1",
        "@web1",
        "|1|x",
        "[a b]:2222",
    ] {
        match append(&path, name, &key(ED_A)) {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{name:?}"),
            other => panic!("{name:?} was not refused: {other:?}"),
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(text, "", "{name:?} changed the file");
    }
    for name in [
        "web1",
        "10.0.0.1",
        "[::1]:2222",
        "fe80::1%eth0",
        "Web-1.example",
    ] {
        assert!(
            matches!(append(&path, name, &key(ED_A)), Ok(None)),
            "{name:?}"
        );
        let reread = KnownHostsFile::load(&path).ok();
        assert!(
            matches!(
                reread.as_ref().map(|f| verify([f], name, &key(ED_A))),
                Some(Verdict::Trusted { .. })
            ),
            "{name:?} does not read back"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn missing_file_is_empty() {
    let f = KnownHostsFile::load(Path::new("/nonexistent/vmup/known_hosts"));
    assert!(matches!(f.map(|f| f.entries.len()), Ok(0)));
}
