//! Ansible inventories read by vmup against the real `ansible-inventory --list` (Debian's
//! ansible-core, installed by scripts/install-deps.sh): for INI and YAML inventories with
//! hosts in several groups, children, ranges, group vars, host vars over group vars and
//! vmup's own keys, vmup's hosts, group memberships and resolved variables must equal
//! Ansible's. Missing `ansible-inventory` is a failure, never a skip.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vmup::inventory::{Inventory, Role, TransportKind};
use vmup::runbook::context::host_vars;

/// Hosts in several groups, nested children (depth decides, then name), same-depth groups
/// disagreeing, `[all:vars]`, host vars over group vars, a host named twice, ranges with
/// padding, letters and steps, `host:port`, Python literals and shell quoting, and the
/// settings vmup maps (`ansible_*`, `vmup_*`).
const INI: &str = r#"# the fleet
solo ansible_host=192.0.2.1 note='two words' n=7 flag=True hexa=0x10 text=yes zero=022
xen1 vmup_role=host ansible_user=admin

[dom0s]
xen1
xen[2:3]

[web]
web[01:03]:2222 site=web tier=front
both site=host-level

[db]
db[a:c] ansible_port="5022"
both list="[1, 'x']" dict="{'k': 'v'}"

[edge:children]
web

[prod:children]
edge
db

[web:vars]
shared=web
deep=web
spaced =  a value with spaces  # not a comment
[db:vars]
shared=db
[edge:vars]
deep=edge
level=edge
[prod:vars]
deep=prod
level=prod
env=production
num=42
[all:vars]
env=all
ansible_user=root
ansible_become=true
ansible_become_user=root
ansible_become_password=never-kept

# Same depth, disagreeing: the name decides (b1 over a1), not the file's order.
[b1]  # a trailing comment
pair v=b1host
[b1:vars]
same=b1
[a1]
pair
[a1:vars]
same=a1
only=a1

[late:vars]
declared=after
vports=80, 443
cat="a" "b"
[parent:children]
late
[late]
latecomer hash=d#e esc="q\"x" uni=zürich f=2.5 neg=-3 t=(1,2) p=(1) ports=80,443 s="'a' 'b'"
[empty]
[empty:vars]
unused=1

[vms]
ng1 vmup_host=xen1 vmup_domain=NG1 vmup_domain_config=/etc/xen/NG1 vmup_cpus=1
img ansible_connection=local vmup_root=trees/img
"#;

/// The same ideas in YAML, with YAML 1.1 scalars (`yes`, `010`), a group under `all` and
/// under another group (its depth is the longer chain), nested vars, and aliases.
const YAML: &str = r#"
all:
  vars:
    env: all
    b_yes: yes
    b_off: off
    octal: 010
    sci: 1e3
    date: 2001-12-14
    quoted: "yes"
    nested: &n {a: 1, b: [x, 2.5]}
    more: [0o10, +12, 1_000, 0b101, .5, 1., 1.0e3, 1.0e+3, !!str 5, 0x_1f, 07_7, -0, Yes, NO, y]
  hosts:
    solo:
      ansible_host: 192.0.2.1
      copy: *n
  children:
    zz:
      vars: {v: zz, only_zz: 1}
      hosts:
        h[1:2]:
          own: 1
        h5:2200:
    aa:
      vars: {v: aa, only_aa: 1}
      hosts:
        h1:
          own: 2
        h3:
      children:
        zz:
    dom0s:
      vars:
        vmup_role: host
      hosts:
        xen[a:b]:
          ansible_user: admin
    single:
      hosts: only1
    vms:
      hosts:
        g1:
          vmup_host: xena
          vmup_domain: G1
          vmup_domain_config: /etc/xen/G1
          v: host-level
"#;

fn ansible_list(file: &Path) -> Value {
    let out = Command::new("ansible-inventory")
        .arg("-i")
        .arg(file)
        .arg("--list")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_HOME", file.parent().unwrap())
        .env("ANSIBLE_LOCAL_TEMP", file.parent().unwrap())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run ansible-inventory ({e}): this test compares vmup with it; \
                 install it with scripts/install-deps.sh (Debian package ansible-core)"
            )
        });
    assert!(
        out.status.success(),
        "ansible-inventory -i {} --list failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ansible-inventory prints JSON")
}

/// Each host's groups by Ansible: the groups listing it and their ancestors, `all` too.
fn ansible_groups(list: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let groups = list.as_object().unwrap();
    fn members(groups: &serde_json::Map<String, Value>, g: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some(group) = groups.get(g) {
            for h in group["hosts"].as_array().into_iter().flatten() {
                out.insert(h.as_str().unwrap().to_string());
            }
            for c in group["children"].as_array().into_iter().flatten() {
                out.extend(members(groups, c.as_str().unwrap()));
            }
        }
        out
    }
    let mut of: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for name in groups.keys().filter(|k| *k != "_meta") {
        for host in members(groups, name) {
            of.entry(host).or_default().insert(name.clone());
        }
    }
    of
}

const SETTINGS: &[&str] = &[
    "ansible_host",
    "ansible_user",
    "ansible_port",
    "ansible_connection",
    "ansible_become",
    "ansible_become_method",
    "ansible_become_user",
    "ansible_become_password",
];

/// Loads `text` with vmup and with ansible-inventory and compares every host.
fn compare(name: &str, text: &str) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let ansible = ansible_list(&file);
    let inventory =
        Inventory::load(&file).unwrap_or_else(|e| panic!("vmup cannot read {name}: {e}"));
    let hostvars = ansible["_meta"]["hostvars"].as_object().unwrap();
    let groups = ansible_groups(&ansible);
    let ours: BTreeSet<&str> = inventory.hosts.iter().map(|h| h.name.as_str()).collect();
    let theirs: BTreeSet<&str> = groups.keys().map(String::as_str).collect();
    assert_eq!(ours, theirs, "{name}: hosts");
    for host in &inventory.hosts {
        let h = &host.name;
        let empty = serde_json::Map::new();
        let vars = hostvars.get(h).and_then(Value::as_object).unwrap_or(&empty);
        // Groups: vmup's implicit hosts/guests are its roles, not Ansible groups.
        let ours: BTreeSet<String> = host
            .all_groups()
            .into_iter()
            .filter(|g| !matches!(*g, "hosts" | "guests") || groups[h].contains(*g))
            .map(String::from)
            .collect();
        assert_eq!(ours, groups[h], "{name}: groups of {h}");
        // Template variables: everything Ansible resolves but the settings vmup maps.
        let resolved = host_vars(&Default::default(), &BTreeMap::new(), &inventory, host, &[])
            .unwrap_or_else(|e| panic!("{name}: {h}: {e}"));
        let ours = serde_json::to_value(&resolved).unwrap();
        let theirs: serde_json::Map<String, Value> = vars
            .iter()
            .filter(|(k, _)| !SETTINGS.contains(&k.as_str()) && !k.starts_with("vmup_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(ours, Value::Object(theirs), "{name}: variables of {h}");
        // Settings.
        let text = |k: &str| {
            vars.get(k)
                .map(|v| v.as_str().map_or(v.to_string(), String::from))
        };
        assert_eq!(host.address, text("ansible_host"), "{name}: address of {h}");
        assert_eq!(host.user, text("ansible_user"), "{name}: user of {h}");
        assert_eq!(
            host.port.map(|p| p.to_string()),
            text("ansible_port"),
            "{name}: port of {h}"
        );
        let local = text("ansible_connection").as_deref() == Some("local");
        assert_eq!(host.transport == TransportKind::Local, local, "{name}: {h}");
        if let Some(root) = text("vmup_root") {
            assert_eq!(host.root.as_deref(), Some(dir.path().join(root).as_path()));
        }
        assert_eq!(host.parent, text("vmup_host"), "{name}: vmup_host of {h}");
        assert_eq!(host.domain, text("vmup_domain"), "{name}: {h}");
        assert_eq!(
            host.domain_config,
            text("vmup_domain_config"),
            "{name}: {h}"
        );
        assert_eq!(host.cpus.map(|c| c.to_string()), text("vmup_cpus"), "{h}");
        let role = match text("vmup_role").as_deref() {
            Some("host") => Some(Role::Host),
            _ if host.parent.is_some() => Some(Role::Guest),
            _ => None,
        };
        assert_eq!(host.role, role, "{name}: role of {h}");
        let become_root = text("ansible_become").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on")
        });
        // A local tree ignores an inherited become (it runs as whoever runs vmup).
        if !local {
            assert_eq!(host.become_root, become_root, "{name}: become of {h}");
        }
    }
    inventory.hosts.len()
}

#[test]
fn ansible_ini_inventory_resolves_as_ansible_inventory_does() {
    let n = compare("hosts.ini", INI);
    assert_eq!(n, 15);
    // Without an extension the INI is found by content, as Ansible's default file is.
    assert_eq!(compare("hosts", INI), 15);
}

#[test]
fn ansible_yaml_inventory_resolves_as_ansible_inventory_does() {
    assert_eq!(compare("hosts.yml", YAML), 9);
}

#[test]
fn ansible_host_list_resolves_as_ansible_inventory_does() {
    let dir = tempfile::tempdir().unwrap();
    let list = "web1, web2:2222,,db1,";
    let ansible = Command::new("ansible-inventory")
        .args(["-i", list, "--list"])
        .env("ANSIBLE_HOME", dir.path())
        .env("ANSIBLE_LOCAL_TEMP", dir.path())
        .current_dir(dir.path())
        .output()
        .expect("ansible-inventory runs (scripts/install-deps.sh installs ansible-core)");
    assert!(ansible.status.success());
    let ansible: Value = serde_json::from_slice(&ansible.stdout).unwrap();
    let inventory = Inventory::load(Path::new(list)).unwrap();
    let names: Vec<&str> = inventory.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["web1", "web2", "db1"]);
    assert_eq!(ansible["ungrouped"]["hosts"], serde_json::json!(names));
    let web2 = inventory.host("web2").unwrap();
    assert_eq!(web2.port, Some(2222));
    assert_eq!(ansible["_meta"]["hostvars"]["web2"]["ansible_port"], 2222);
    assert_eq!(web2.all_groups(), ["all", "ungrouped"]);
    assert_eq!(web2.transport, TransportKind::Ssh);
    assert_eq!(web2.user, None);
}

/// What vmup does with an Ansible inventory, through the binary: the same plan as with
/// its TOML twin (selection, templates rendered from Ansible's variable precedence, the
/// local transport from `ansible_connection=local`), an apply, and the twin's second plan
/// empty.
#[test]
fn an_ansible_inventory_plans_and_applies_like_its_toml_twin() {
    use crate::support::LocalFleet;
    let fleet = LocalFleet::new(&["web1", "db1", "other"]);
    for host in ["web1", "db1", "other"] {
        std::fs::create_dir_all(fleet.file(host, "/etc")).unwrap();
    }
    let ini = "\
[web]
web1 vmup_root=web1 site=web-own
[db]
db1 vmup_root=db1
[prod:children]
web
db
[prod:vars]
site=prod
[edge]
other vmup_root=other
[edge:vars]
site=edge
[all:vars]
ansible_connection=local
motd=hello
";
    let toml = r#"
[defaults]
transport = "local"
[hosts.web1]
root = "web1"
groups = ["prod", "web"]
vars = { site = "web-own" }
[hosts.db1]
root = "db1"
groups = ["db", "prod"]
[hosts.other]
root = "other"
groups = ["edge"]
[groups.all.vars]
motd = "hello"
[groups.prod.vars]
site = "prod"
[groups.edge.vars]
site = "edge"
"#;
    std::fs::write(fleet.path().join("hosts.ini"), ini).unwrap();
    std::fs::write(fleet.path().join("inventory.toml"), toml).unwrap();
    let rb = fleet.runbook(
        r#"
[[step]]
hosts = "prod"
file = { path = "/etc/motd", content = "{{ motd }} from {{ site }}\n" }
"#,
    );
    let plan = |inv: &str| {
        let run = fleet.vmup(&["plan", "-i", inv, rb]);
        assert_eq!(run.code, 3, "{inv}: {}{}", run.stdout, run.stderr);
        let timings = regex::Regex::new(r"[0-9]+\.[0-9]+s").unwrap();
        timings.replace_all(&run.stdout, "T").into_owned()
    };
    assert_eq!(plan("hosts.ini"), plan("inventory.toml"));
    let apply = fleet.vmup(&["apply", "-i", "hosts.ini", rb]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    assert_eq!(fleet.read("web1", "/etc/motd"), b"hello from web-own\n");
    assert_eq!(fleet.read("db1", "/etc/motd"), b"hello from prod\n");
    assert!(!fleet.file("other", "/etc/motd").exists());
    let again = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    // A bad line stops the run before anything, at its place.
    std::fs::write(fleet.path().join("bad.ini"), "[web]\nweb1 site\n").unwrap();
    let bad = fleet.vmup(&["plan", "-i", "bad.ini", rb]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("bad.ini:2:6: expected key=value"),
        "{}",
        bad.stderr
    );
}
