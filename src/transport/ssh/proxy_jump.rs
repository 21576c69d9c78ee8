//! `ProxyJump` values: `[user@]host[:port]` hops, comma-separated, first hop first.

/// One `ProxyJump` hop: `[user@]host[:port]` (or `ssh://[user@]host[:port]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JumpHop {
    /// `user@`: the user for this hop, overriding its `User`.
    pub(super) user: Option<String>,
    /// The hop's name, resolved through ssh_config like an inventory name.
    pub(super) host: String,
    /// `:port`: overrides the hop's `Port`.
    pub(super) port: Option<u16>,
}

/// Splits a `ProxyJump` value into hops, first hop first.
pub(super) fn parse_proxy_jump(spec: &str) -> Result<Vec<JumpHop>, String> {
    spec.split(',')
        .map(|hop| {
            let hop = hop.trim();
            let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
            let (user, rest) = match hop.rsplit_once('@') {
                Some((user, rest)) if !user.is_empty() => (Some(user.to_string()), rest),
                Some(_) => return Err(format!("empty user in '{hop}'")),
                None => (None, hop),
            };
            let (host, port) = if let Some(bracketed) = rest.strip_prefix('[') {
                let Some((host, after)) = bracketed.split_once(']') else {
                    return Err(format!("missing ']' in '{hop}'"));
                };
                match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if after.is_empty() => (host, None),
                    None => return Err(format!("unexpected '{after}' in '{hop}'")),
                }
            } else {
                match rest.split_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (rest, None),
                }
            };
            if host.is_empty() {
                return Err(format!("empty host in '{hop}'"));
            }
            let port = match port {
                None => None,
                Some(p) => match p.parse::<u16>() {
                    Ok(p) if p > 0 => Some(p),
                    _ => return Err(format!("bad port '{p}' in '{hop}'")),
                },
            };
            Ok(JumpHop {
                user,
                host: host.to_string(),
                port,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_jump_forms() {
        assert_eq!(
            parse_proxy_jump("bastion"),
            Ok(vec![JumpHop {
                user: None,
                host: "bastion".into(),
                port: None
            }])
        );
        assert_eq!(
            parse_proxy_jump("ops@bastion:2222,ssh://root@[fe80::1]:22"),
            Ok(vec![
                JumpHop {
                    user: Some("ops".into()),
                    host: "bastion".into(),
                    port: Some(2222)
                },
                JumpHop {
                    user: Some("root".into()),
                    host: "fe80::1".into(),
                    port: Some(22)
                }
            ])
        );
        assert!(parse_proxy_jump("b:0").is_err());
        assert!(parse_proxy_jump("b:x").is_err());
        assert!(parse_proxy_jump("@b").is_err());
        assert!(parse_proxy_jump("a,,b").is_err());
        assert!(parse_proxy_jump("[::1").is_err());
    }
}
