//! Which algorithms the in-process client offers.
//!
//! Two sets. The **modern** one is russh's defaults (curve25519, ML-KEM, DH groups 14-18
//! with SHA-2; Ed25519, ECDSA and RSA with SHA-2 signatures; AES-GCM, ChaCha20, AES-CTR;
//! SHA-2 MACs) plus ECDH over the NIST curves, without `ssh-rsa` (SHA-1 signatures). The
//! NIST curves stay after curve25519 although OpenSSH 9.2 spends about 3 ms less CPU on a
//! P-256 exchange (libcrypto) than on curve25519 (its reference code): russh computes P-256
//! in portable Rust, which cost the controller about 0.35 ms per host, a fifth of its whole
//! CPU per host (perf, 50-host test fleet). A fleet is limited by the one controller's CPU;
//! each host's exchange runs on that host. The
//! **legacy** one appends to it what OpenSSH 3.9p1 (CentOS 4) speaks and russh implements:
//! key exchange `diffie-hellman-group14-sha1`, `diffie-hellman-group-exchange-sha1`,
//! `diffie-hellman-group1-sha1`; host keys `ssh-rsa` with SHA-1 and `ssh-dss`; ciphers
//! `aes128-cbc`, `aes192-cbc`, `aes256-cbc`, `3des-cbc` (3.9p1 has the CTR modes too);
//! MAC `hmac-sha1` (3.9p1 also offers `hmac-md5`, which russh does not implement: hmac-sha1
//! is on every OpenSSH since 2.x). Modern algorithms stay first in the legacy set, so a
//! server that has some of them (CentOS 6: SHA-2 key exchange, SHA-1 host key signatures)
//! still gets them where it can.
//!
//! Host key types already known for the host are preferred, as ssh(1) does, so the
//! server presents the key known_hosts can check.

use std::borrow::Cow;
use std::time::Duration;

use russh::client;
use russh::keys::Algorithm;
use russh::{AlgorithmKind, Preferred};

/// The legacy key exchanges, newest first.
const LEGACY_KEX: &[russh::kex::Name] = &[
    russh::kex::DH_G14_SHA1,
    russh::kex::DH_GEX_SHA1,
    russh::kex::DH_G1_SHA1,
];

/// The legacy ciphers, strongest first.
const LEGACY_CIPHERS: &[russh::cipher::Name] = &[
    russh::cipher::AES_256_CBC,
    russh::cipher::AES_192_CBC,
    russh::cipher::AES_128_CBC,
    russh::cipher::TRIPLE_DES_CBC,
];

/// russh settings for one connection: Nagle off, keepalives, host key algorithms already
/// known for the host first, and the legacy set appended when `legacy` (module docs).
pub(super) fn client_config(known_types: &[String], legacy: bool) -> client::Config {
    let defaults = Preferred::default();
    let mut key: Vec<Algorithm> = defaults
        .key
        .iter()
        .filter(|a| legacy || !matches!(a, Algorithm::Rsa { hash: None }))
        .cloned()
        .collect();
    if legacy {
        if !key.contains(&Algorithm::Rsa { hash: None }) {
            key.push(Algorithm::Rsa { hash: None });
        }
        key.push(Algorithm::Dsa);
    }
    let type_name = |a: &Algorithm| match a {
        Algorithm::Rsa { .. } => "ssh-rsa".to_string(),
        other => other.as_str().to_string(),
    };
    // Stable sort: known types first, each group in preference order.
    key.sort_by_key(|a| !known_types.contains(&type_name(a)));

    let mut kex: Vec<russh::kex::Name> = defaults
        .kex
        .iter()
        .copied()
        .filter(|k| !is_kex_extension(k))
        .collect();
    kex.extend([
        russh::kex::ECDH_SHA2_NISTP256,
        russh::kex::ECDH_SHA2_NISTP384,
        russh::kex::ECDH_SHA2_NISTP521,
    ]);
    if legacy {
        kex.extend(LEGACY_KEX);
    }
    kex.extend(defaults.kex.iter().copied().filter(is_kex_extension));

    let mut cipher: Vec<russh::cipher::Name> = defaults.cipher.to_vec();
    let mut mac: Vec<russh::mac::Name> = defaults.mac.to_vec();
    if legacy {
        cipher.extend(LEGACY_CIPHERS);
        mac.extend([russh::mac::HMAC_SHA1_ETM, russh::mac::HMAC_SHA1]);
    }

    client::Config {
        preferred: Preferred {
            kex: Cow::Owned(kex),
            key: Cow::Owned(key),
            cipher: Cow::Owned(cipher),
            mac: Cow::Owned(mac),
            ..defaults
        },
        nodelay: true,
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 4,
        inactivity_timeout: None,
        ..client::Config::default()
    }
}

/// What `kind` is called in messages.
pub(super) fn kind_name(kind: &AlgorithmKind) -> &'static str {
    match kind {
        AlgorithmKind::Kex => "key exchange",
        AlgorithmKind::Key => "host key",
        AlgorithmKind::Cipher => "cipher",
        AlgorithmKind::Mac => "MAC",
        AlgorithmKind::Compression => "compression",
    }
}

fn is_kex_extension(name: &russh::kex::Name) -> bool {
    [
        russh::kex::EXTENSION_SUPPORT_AS_CLIENT,
        russh::kex::EXTENSION_SUPPORT_AS_SERVER,
        russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
        russh::kex::EXTENSION_OPENSSH_STRICT_KEX_AS_SERVER,
    ]
    .contains(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<T: AsRef<str>>(list: &[T]) -> Vec<String> {
        list.iter().map(|n| n.as_ref().to_string()).collect()
    }

    #[test]
    fn the_modern_set_has_nothing_sha1_or_cbc() {
        let config = client_config(&[], false);
        let p = &config.preferred;
        assert_eq!(p.key[0], Algorithm::Ed25519);
        assert!(
            !p.key.contains(&Algorithm::Rsa { hash: None }),
            "{:?}",
            p.key
        );
        assert!(!p.key.contains(&Algorithm::Dsa));
        for k in names(&p.kex) {
            assert!(!k.ends_with("-sha1"), "{k}");
        }
        for c in names(&p.cipher) {
            assert!(!c.ends_with("-cbc"), "{c}");
        }
        for m in names(&p.mac) {
            assert!(!m.contains("sha1") && !m.contains("md5"), "{m}");
        }
        assert!(config.nodelay);
    }

    #[test]
    fn the_legacy_set_is_openssh_3_9_after_the_modern_one() {
        let modern = client_config(&[], false).preferred;
        let config = client_config(&[], true);
        let p = &config.preferred;
        let kex = names(&p.kex);
        let position = |n: &str| kex.iter().position(|k| k == n);
        // Modern first, then the SHA-1 exchanges, then the extension markers.
        assert!(position("curve25519-sha256") < position("diffie-hellman-group14-sha1"));
        for legacy in [
            "diffie-hellman-group14-sha1",
            "diffie-hellman-group-exchange-sha1",
            "diffie-hellman-group1-sha1",
        ] {
            assert!(position(legacy).is_some(), "{legacy} missing: {kex:?}");
            assert!(position(legacy) < position("ext-info-c"), "{kex:?}");
        }
        assert!(p.key.contains(&Algorithm::Rsa { hash: None }));
        assert!(p.key.contains(&Algorithm::Dsa));
        assert_eq!(p.key[..modern.key.len()], modern.key[..]);
        let ciphers = names(&p.cipher);
        for c in ["aes128-ctr", "aes128-cbc", "3des-cbc"] {
            assert!(ciphers.contains(&c.to_string()), "{c}: {ciphers:?}");
        }
        assert_eq!(names(&p.mac).last().map(String::as_str), Some("hmac-sha1"));
    }

    #[test]
    fn known_host_key_types_come_first() {
        let config = client_config(&["ssh-dss".to_string()], true);
        assert_eq!(config.preferred.key[0], Algorithm::Dsa);
        let config = client_config(&["ssh-rsa".to_string()], false);
        assert!(matches!(config.preferred.key[0], Algorithm::Rsa { .. }));
    }
}
