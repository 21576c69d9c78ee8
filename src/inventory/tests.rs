//! The TOML inventory: what it reads, what it refuses, and where it says so.

use super::*;

const SAMPLE: &str = r#"
[defaults]
user = "root"

[hosts.xen1]
address = "192.0.2.10"
role = "host"

[hosts.ng2]
address = "192.0.2.12"
host = "xen1"
domain = "NG2"
domain_config = "/etc/xen/NG2"
groups = ["grid"]

[hosts.img]
transport = "local"
root = "/srv/guests/img"
"#;

#[test]
fn reads_the_documented_shape_in_order() {
    let inv = Inventory::parse(Path::new("inv.toml"), SAMPLE).unwrap();
    let names: Vec<&str> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["xen1", "ng2", "img"]);
    let ng2 = inv.host("ng2").unwrap();
    assert_eq!(ng2.all_groups(), ["all", "guests", "grid"]);
    assert_eq!(ng2.user.as_deref(), Some("root"));
    assert_eq!(inv.host("xen1").unwrap().all_groups(), ["all", "hosts"]);
    assert_eq!(inv.host("img").unwrap().path_root(), "/srv/guests/img");
}

#[test]
fn endpoint_says_how_to_reach_the_host() {
    let inv = Inventory::parse(Path::new("dir/inv.toml"), SAMPLE).unwrap();
    let ng2 = inv.host("ng2").unwrap().endpoint();
    assert_eq!(ng2.name, "ng2");
    assert_eq!(ng2.address.as_deref(), Some("192.0.2.12"));
    assert_eq!(ng2.user.as_deref(), Some("root"));
    assert_eq!(ng2.port, None);
    assert_eq!(ng2.kind, TransportKind::Ssh);
    assert_eq!(ng2.root, None);
    let img = inv.host("img").unwrap().endpoint();
    assert_eq!(img.kind, TransportKind::Local);
    assert_eq!(img.root, Some(PathBuf::from("/srv/guests/img")));
}

#[test]
fn ssh_algorithms_from_the_host_its_groups_or_the_defaults() {
    let text = r#"
[defaults]
ssh_algorithms = "modern"
[groups.centos4]
ssh_algorithms = "legacy"
[groups.guests]
ssh_algorithms = "auto"
[hosts.dom0]
role = "host"
[hosts.old]
groups = ["centos4"]
[hosts.oldbutforced]
groups = ["centos4"]
ssh_algorithms = "modern"
[hosts.new]
[hosts.g1]
host = "dom0"
"#;
    let inv = Inventory::parse(Path::new("inv.toml"), text).unwrap();
    let of = |n: &str| inv.host(n).unwrap().endpoint().algorithms;
    assert_eq!(of("old"), AlgorithmPolicy::Legacy);
    assert_eq!(of("oldbutforced"), AlgorithmPolicy::Modern);
    assert_eq!(of("new"), AlgorithmPolicy::Modern);
    assert_eq!(of("dom0"), AlgorithmPolicy::Modern);
    assert_eq!(of("g1"), AlgorithmPolicy::Auto);
    let clash = error(
        "[groups.a]\nssh_algorithms = \"legacy\"\n[groups.b]\nssh_algorithms = \"modern\"\n[hosts.x]\ngroups = [\"a\", \"b\"]\n",
    );
    assert!(
        clash.contains("host x is in groups a (legacy) and b (modern)"),
        "{clash}"
    );
    assert!(clash.contains("set it on the host"), "{clash}");
    let bad = error("[hosts.x]\nssh_algorithms = \"sha1\"\n");
    assert!(bad.contains("unknown variant"), "{bad}");
}

fn error(text: &str) -> String {
    Inventory::parse(Path::new("inv.toml"), text)
        .unwrap_err()
        .to_string()
}

#[test]
fn unknown_key_names_the_place() {
    let e = error("[hosts.a]\naddress = \"x\"\nadress = \"y\"\n");
    assert!(e.starts_with("inv.toml:3:1:"), "{e}");
    assert!(e.contains("adress"), "{e}");
}

#[test]
fn duplicate_host_names_are_refused() {
    let e = error("[hosts.a]\naddress = \"x\"\n[hosts.a]\naddress = \"y\"\n");
    assert!(e.starts_with("inv.toml:3:"), "{e}");
}

#[test]
fn guest_naming_a_missing_host() {
    let e = error("[hosts.g]\nhost = \"xen9\"\n");
    assert_eq!(
        e,
        "inv.toml:2:8: host g runs on \"xen9\", which is not in the inventory"
    );
}

/// Found by the inventory fuzz target's "every host and group can be selected by its
/// own name" check: `[` makes a pattern term a glob (`web[12]` selects web1 and web2,
/// `a[b` is an invalid glob) and patterns are trimmed and split at `,`, so such names
/// were accepted but could not be selected by name.
#[test]
fn names_that_patterns_cannot_select_are_refused() {
    for name in ["web[12]", "a[b", "\\ttab", "new\\nline", "a\\u00a0b"] {
        let e = error(&format!("[hosts.\"{name}\"]\naddress = \"x\"\n"));
        assert!(e.contains("cannot be a host name"), "{name}: {e}");
    }
    for group in ["g[1]", "a,b", "!g", "g*", "@g", "g h", " g", "g\\t", ""] {
        let e = error(&format!("[hosts.a]\ngroups = [\"{group}\"]\n"));
        assert!(e.contains("cannot be a group name"), "{group:?}: {e}");
        assert!(e.starts_with("inv.toml:2:11:"), "{group:?}: {e}");
    }
    let inv = Inventory::parse(
        Path::new("inv.toml"),
        "[hosts.\"web-1.example\"]\ngroups = [\"grid_2\"]\n",
    )
    .unwrap();
    for name in ["web-1.example", "grid_2"] {
        let selected = HostPattern::new(name).select(&inv).unwrap();
        assert_eq!(selected.len(), 1, "{name}");
    }
}

#[test]
fn local_needs_root() {
    let e = error("[hosts.g]\ntransport = \"local\"\n");
    assert!(e.contains("needs `root`"), "{e}");
}
