//! `become` and `become_method`: whether a host's scripts run as root through sudo (or
//! doas) when its login is not root, as `[defaults]`, `[groups.NAME]` and the host say.
//! A host's own setting wins, then its groups' (explicit groups, then `hosts`/`guests`,
//! then `all`; groups that disagree are an error naming both), then `[defaults]`'s.

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::transport::{BecomeMethod, TransportKind};

/// `become_method` as written: `su` is a word people try, refused with a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawMethod {
    /// `sudo -n`.
    Sudo,
    /// `doas -n`.
    Doas,
    /// Refused: su reads a password from a terminal and has no way never to prompt.
    Su,
}

/// What one level of the inventory (`[defaults]`, a group, a host) says.
#[derive(Debug, Default)]
pub(super) struct BecomeSaid<'a> {
    /// `become = true|false`.
    pub(super) enabled: Option<&'a Spanned<bool>>,
    /// `become_method = "..."`.
    pub(super) method: Option<&'a Spanned<RawMethod>>,
}

/// An inventory mistake: where, and what to say.
pub(super) type Problem = (Range<usize>, String);

/// A host's become setting, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Resolved {
    /// Its scripts run as root through `method`.
    pub(super) enabled: bool,
    /// How, when they do (also what `--become` uses).
    pub(super) method: BecomeMethod,
}

/// Refuses `su` wherever it is written (also where no host uses it).
pub(super) fn check_method(method: Option<&Spanned<RawMethod>>) -> Result<(), Problem> {
    match method {
        Some(m) if *m.get_ref() == RawMethod::Su => Err((
            m.span(),
            "become_method = \"su\" cannot be used: su reads root's password from a terminal and cannot be told never to prompt; use \"sudo\" (a NOPASSWD sudoers line) or \"doas\" (`permit nopass`), or log in as root".to_string(),
        )),
        _ => Ok(()),
    }
}

/// A host's setting from its own table (`own`, at `span`), its groups (`chain`: the
/// groups in precedence order, `all` last) and `[defaults]`.
pub(super) fn resolve(
    name: &str,
    span: Range<usize>,
    transport: TransportKind,
    own: &BecomeSaid<'_>,
    chain: &[&str],
    groups: &BTreeMap<&str, BecomeSaid<'_>>,
    defaults: &BecomeSaid<'_>,
) -> Result<Resolved, Problem> {
    if transport.is_tree()
        && let Some(enabled) = own.enabled.filter(|e| *e.get_ref())
    {
        return Err((
            enabled.span(),
            format!(
                "host {name} uses a transport over a tree, whose scripts run as the user running vmup: `become` means nothing there (run vmup as root instead)"
            ),
        ));
    }
    check_method(own.method)?;
    let enabled = pick(
        name,
        &span,
        "become",
        own.enabled.map(|e| *e.get_ref()),
        chain,
        |g| groups.get(g).and_then(|s| s.enabled.map(|e| *e.get_ref())),
        |b| b.to_string(),
    )?
    .or(defaults.enabled.map(|e| *e.get_ref()))
    .unwrap_or(false);
    let method = pick(
        name,
        &span,
        "become_method",
        own.method.map(|m| *m.get_ref()),
        chain,
        |g| groups.get(g).and_then(|s| s.method.map(|m| *m.get_ref())),
        |m| format!("{m:?}").to_lowercase(),
    )?
    .or(defaults.method.map(|m| *m.get_ref()));
    let method = match method {
        Some(RawMethod::Doas) => BecomeMethod::Doas,
        // `su` was refused where it was written.
        Some(RawMethod::Sudo | RawMethod::Su) | None => BecomeMethod::Sudo,
    };
    Ok(Resolved { enabled, method })
}

/// The host's own value, else the one its groups agree on (`None` when none says).
fn pick<T: Copy + PartialEq>(
    name: &str,
    span: &Range<usize>,
    key: &str,
    own: Option<T>,
    chain: &[&str],
    of_group: impl Fn(&str) -> Option<T>,
    show: impl Fn(T) -> String,
) -> Result<Option<T>, Problem> {
    if own.is_some() {
        return Ok(own);
    }
    let said: Vec<(&str, T)> = chain
        .iter()
        .filter_map(|g| of_group(g).map(|v| (*g, v)))
        .collect();
    let Some(&(first, value)) = said.first() else {
        return Ok(None);
    };
    if let Some((other, differs)) = said.iter().find(|(_, v)| *v != value) {
        return Err((
            span.clone(),
            format!(
                "host {name} is in groups {first} ({}) and {other} ({}), which disagree on `{key}`: set it on the host",
                show(value),
                show(*differs)
            ),
        ));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Inventory;
    use crate::transport::BecomeMethod;

    fn parse(text: &str) -> Result<Inventory, String> {
        Inventory::parse(Path::new("inv.toml"), text).map_err(|e| e.to_string())
    }

    fn of(inv: &Inventory, name: &str) -> Option<BecomeMethod> {
        inv.host(name).and_then(|h| h.endpoint().become_method)
    }

    #[test]
    fn from_the_host_its_groups_or_the_defaults() {
        let text = r#"
[defaults]
user = "ops"
become = true
[groups.bsd]
become_method = "doas"
[groups.rootlogin]
become = false
[hosts.a]
[hosts.b]
groups = ["bsd"]
[hosts.c]
groups = ["rootlogin"]
[hosts.d]
groups = ["rootlogin"]
become = true
[hosts.img]
transport = "local"
root = "/srv/img"
"#;
        let inv = match parse(text) {
            Ok(inv) => inv,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(of(&inv, "a"), Some(BecomeMethod::Sudo));
        assert_eq!(of(&inv, "b"), Some(BecomeMethod::Doas));
        assert_eq!(of(&inv, "c"), None);
        assert_eq!(of(&inv, "d"), Some(BecomeMethod::Sudo));
        // Inherited by a local host: ignored, it runs as the user running vmup.
        assert_eq!(of(&inv, "img"), None);
        let mut everywhere = inv.clone();
        everywhere.become_everywhere();
        assert_eq!(of(&everywhere, "c"), Some(BecomeMethod::Sudo));
        assert_eq!(of(&everywhere, "img"), None);
        let plain = match parse("[hosts.x]\n") {
            Ok(inv) => inv,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(of(&plain, "x"), None);
    }

    #[test]
    fn disagreeing_groups_su_and_local_are_refused_where_written() {
        let clash = parse(
            "[groups.a]\nbecome = true\n[groups.b]\nbecome = false\n[hosts.x]\ngroups = [\"a\", \"b\"]\n",
        )
        .unwrap_err();
        assert!(clash.starts_with("inv.toml:5:1:"), "{clash}");
        assert!(
            clash.contains("host x is in groups a (true) and b (false), which disagree on `become`: set it on the host"),
            "{clash}"
        );
        let clash = parse(
            "[groups.a]\nbecome_method = \"doas\"\n[hosts.x]\ngroups = [\"a\"]\nrole = \"host\"\n[groups.hosts]\nbecome_method = \"sudo\"\n",
        )
        .unwrap_err();
        assert!(clash.contains("a (doas) and hosts (sudo)"), "{clash}");
        // A host's own setting settles it.
        assert!(
            parse("[groups.a]\nbecome = true\n[groups.b]\nbecome = false\n[hosts.x]\ngroups = [\"a\", \"b\"]\nbecome = true\n")
                .is_ok()
        );
        let su = parse("[defaults]\nbecome_method = \"su\"\n[hosts.x]\n").unwrap_err();
        assert!(su.starts_with("inv.toml:2:17:"), "{su}");
        assert!(su.contains("cannot be told never to prompt"), "{su}");
        let su = parse("[hosts.x]\nbecome_method = \"su\"\n").unwrap_err();
        assert!(su.starts_with("inv.toml:2:17:"), "{su}");
        let su = parse("[groups.all]\nbecome_method = \"su\"\n[hosts.x]\n").unwrap_err();
        assert!(su.starts_with("inv.toml:2:17:"), "{su}");
        let local = parse("[hosts.img]\ntransport = \"local\"\nroot = \"/x\"\nbecome = true\n")
            .unwrap_err();
        assert!(local.starts_with("inv.toml:4:10:"), "{local}");
        assert!(local.contains("run vmup as root instead"), "{local}");
        let bad = parse("[hosts.x]\nbecome_method = \"pkexec\"\n").unwrap_err();
        assert!(bad.contains("unknown variant"), "{bad}");
        let bad = parse("[hosts.x]\nbecome = \"yes\"\n").unwrap_err();
        assert!(bad.starts_with("inv.toml:2:"), "{bad}");
    }
}
