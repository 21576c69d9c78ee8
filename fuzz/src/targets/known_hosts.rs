//! known_hosts (`KnownHostsFile::parse`, `verify`, `append`): no panic; and `append` is an
//! editor that keeps every existing byte (it only adds a line at the end), whose new line
//! makes the key trusted for the name, and that does nothing the second time; when it
//! declines, the file is unchanged and its verdict is the file's.
//!
//! Input: `HOST<TAB>PORT<TAB>KEY` on the first line (PORT a number, else 22; KEY's first
//! byte picks one of three keys), the file after it.

use std::path::PathBuf;
use std::sync::OnceLock;

use russh::keys::PublicKey;
use vmup::transport::known_hosts::{KnownHostsFile, Verdict, append, host_key_name, verify};

use crate::input::{Fields, scratch_dir, split_header};

pub const CHECKS: &str = "no panic; append keeps old bytes, makes the key trusted, is \
                          idempotent; a refusal leaves the file alone";

const KEYS: [&str; 3] = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPrQTTB4LQsdMgMdFsyGm0vcOc55cH/CIaCp8+2LvDML",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBOZ/wKei+vl+5yKFkiGi8csqzZLs0mFl1ZdmMwtnCajZD3lQZBBZcHDxRcSaKPCC03cE42+M+s40EHC1Xdk1n1I=",
];

fn keys() -> &'static [PublicKey] {
    static PARSED: OnceLock<Vec<PublicKey>> = OnceLock::new();
    PARSED.get_or_init(|| {
        KEYS.iter()
            .map(|k| match PublicKey::from_openssh(k) {
                Ok(key) => key,
                Err(e) => panic!("bad built-in key: {e}"),
            })
            .collect()
    })
}

fn scratch_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| scratch_dir().join("known_hosts"))
}

pub fn check(data: &[u8]) {
    let (header, body) = split_header(data);
    let fields = Fields::new(header);
    let host = fields.text(0);
    let port: u16 = fields.text(1).trim().parse().unwrap_or(22);
    let keys = keys();
    let key = &keys[usize::from(fields.get(2).first().copied().unwrap_or(0)) % keys.len()];
    let name = host_key_name(&host, port);

    let path = scratch_file();
    let file = KnownHostsFile::parse(&String::from_utf8_lossy(body), path);
    let _ = file.key_types_for(&name);
    for k in keys {
        let _ = verify([&file], &name, k);
    }
    let before_verdict = verify([&file], &name, key);

    if let Err(e) = std::fs::write(path, body) {
        panic!("cannot write {}: {e}", path.display());
    }
    let outcome = append(path, &name, key);
    let after = std::fs::read(path).unwrap_or_default();
    match outcome {
        Ok(None) => {
            assert!(
                matches!(before_verdict, Verdict::Unknown { .. }),
                "appended although the file decided: {before_verdict:?}"
            );
            assert!(after.starts_with(body), "append changed existing bytes");
            let added = &after[body.len()..];
            let mut line = added.strip_suffix(b"\n");
            if !body.is_empty() && !body.ends_with(b"\n") {
                line = line.and_then(|l| l.strip_prefix(b"\n"));
            }
            assert!(
                line.is_some_and(|l| !l.contains(&b'\n')),
                "append added other than one line: {:?}",
                String::from_utf8_lossy(added)
            );
            let reread = KnownHostsFile::parse(&String::from_utf8_lossy(&after), path);
            assert!(
                matches!(verify([&reread], &name, key), Verdict::Trusted { .. }),
                "the appended line does not make the key trusted for {name:?}: {:?}",
                String::from_utf8_lossy(added)
            );
            match append(path, &name, key) {
                Ok(Some(Verdict::Trusted { .. })) => {}
                other => panic!("second append for {name:?} did {other:?}"),
            }
            let again = std::fs::read(path).unwrap_or_default();
            assert_eq!(again, after, "second append changed the file");
        }
        Ok(Some(verdict)) => {
            assert_eq!(after, body, "append declined but changed the file");
            assert_eq!(
                verdict, before_verdict,
                "append's verdict is not the file's"
            );
        }
        Err(_) => assert_eq!(after, body, "a failed append changed the file"),
    }
}
