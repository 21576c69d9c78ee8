//! Which algorithms the in-process client offers: modern first, the legacy ones CentOS 4-6
//! guests need last, and the host key types already known for the host ahead of the rest.

use std::borrow::Cow;
use std::time::Duration;

use russh::Preferred;
use russh::client;
use russh::keys::Algorithm;

/// russh settings for one connection: Nagle off, keepalives, host key algorithms already
/// known for the host first, legacy algorithms last (see the module docs).
pub(super) fn client_config(known_types: &[String]) -> client::Config {
    let defaults = Preferred::default();
    let mut key: Vec<Algorithm> = defaults.key.to_vec();
    let type_name = |a: &Algorithm| match a {
        Algorithm::Rsa { .. } => "ssh-rsa".to_string(),
        other => other.as_str().to_string(),
    };
    // Stable sort: known types first, each group in russh's preference order.
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
        russh::kex::DH_G14_SHA1,
        russh::kex::DH_GEX_SHA1,
        russh::kex::DH_G1_SHA1,
    ]);
    kex.extend(defaults.kex.iter().copied().filter(is_kex_extension));

    let mut mac: Vec<russh::mac::Name> = defaults.mac.to_vec();
    mac.extend([russh::mac::HMAC_SHA1_ETM, russh::mac::HMAC_SHA1]);

    client::Config {
        preferred: Preferred {
            kex: Cow::Owned(kex),
            key: Cow::Owned(key),
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

    #[test]
    fn config_prefers_known_key_types_and_keeps_legacy_last() {
        let config = client_config(&["ssh-rsa".to_string()]);
        assert!(matches!(config.preferred.key[0], Algorithm::Rsa { .. }));
        assert!(config.nodelay);
        let kex = &config.preferred.kex;
        let position = |n: russh::kex::Name| kex.iter().position(|k| *k == n);
        assert!(position(russh::kex::CURVE25519) < position(russh::kex::DH_G14_SHA1));
        assert!(
            position(russh::kex::DH_G14_SHA1) < position(russh::kex::EXTENSION_SUPPORT_AS_CLIENT)
        );
        assert_eq!(config.preferred.mac.last(), Some(&russh::mac::HMAC_SHA1));
        let default = client_config(&[]);
        assert_eq!(default.preferred.key[0], Algorithm::Ed25519);
    }
}
