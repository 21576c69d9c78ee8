//! An Ansible inventory reads to the same `Inventory` as the TOML one it is equivalent to,
//! and what vmup does with it (selection, merged variables, endpoints) is the same; errors
//! name the Ansible file's line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::inventory::{HostPattern, Inventory};
use crate::runbook::context::host_vars;

const INI: &str = r#"
[dom0s]
xen1 ansible_host=192.0.2.10 vmup_role=host

[grid]
ng[1:2] vmup_host=xen1 vmup_domain_config=/etc/xen/NG
ng2 ansible_port=2222 site=ng2-own

[centos4:children]
grid

[grid:vars]
site=APAC-Grid
vmup_ssh_algorithms=legacy

[centos4:vars]
site=centos4
release="2.6.9"

[all:vars]
ansible_user=root
site=ARCS
ansible_become=true
"#;

/// The same fleet as vmup's own TOML (the Ansible group depth aside: `grid` is below
/// `centos4` there, which alphabetical order happens to agree with).
const TOML: &str = r#"
[defaults]
user = "root"
become = true

[hosts.xen1]
address = "192.0.2.10"
role = "host"
groups = ["dom0s"]

[hosts.ng1]
host = "xen1"
domain_config = "/etc/xen/NG"
ssh_algorithms = "legacy"
groups = ["centos4", "grid"]

[hosts.ng2]
host = "xen1"
domain_config = "/etc/xen/NG"
port = 2222
ssh_algorithms = "legacy"
groups = ["centos4", "grid"]
vars = { site = "ng2-own" }

[groups.all.vars]
site = "ARCS"

[groups.grid.vars]
site = "APAC-Grid"

[groups.centos4.vars]
site = "centos4"
release = "2.6.9"
"#;

fn ini(text: &str) -> Result<Inventory, String> {
    super::parse_ini(Path::new("hosts.ini"), text).map_err(|e| e.to_string())
}

fn yaml(text: &str) -> Result<Inventory, String> {
    super::parse_yaml(Path::new("hosts.yml"), text).map_err(|e| e.to_string())
}

#[test]
fn an_ansible_ini_inventory_reads_as_its_toml_equivalent() {
    let ansible = ini(INI).unwrap();
    let toml = Inventory::parse(Path::new("hosts.ini"), TOML).unwrap();
    assert_eq!(ansible.hosts, toml.hosts);
    assert_eq!(ansible.group_vars, toml.group_vars);
    assert_eq!(ansible.group_depth["grid"], 2);
    for host in &toml.hosts {
        let merged = |inv: &Inventory| {
            host_vars(&BTreeMap::new(), &BTreeMap::new(), inv, host, &[]).unwrap()
        };
        assert_eq!(merged(&ansible), merged(&toml), "{}", host.name);
        let ep = |inv: &Inventory| inv.host(&host.name).unwrap().endpoint();
        assert_eq!(ep(&ansible), ep(&toml), "{}", host.name);
    }
    let ng2 = host_vars(
        &BTreeMap::new(),
        &BTreeMap::new(),
        &ansible,
        &ansible.hosts[2],
        &[],
    )
    .unwrap();
    assert_eq!(ng2["site"].as_str(), Some("ng2-own"));
    let ng1 = host_vars(
        &BTreeMap::new(),
        &BTreeMap::new(),
        &ansible,
        &ansible.hosts[1],
        &[],
    )
    .unwrap();
    assert_eq!(ng1["site"].as_str(), Some("APAC-Grid"));
    for pattern in ["centos4", "guests", "hosts", "ng*,!ng2", "all"] {
        let names = |inv: &Inventory| -> Vec<String> {
            HostPattern::new(pattern)
                .select(inv)
                .unwrap()
                .iter()
                .map(|h| h.name.clone())
                .collect()
        };
        assert_eq!(names(&ansible), names(&toml), "{pattern}");
    }
}

#[test]
fn the_yaml_form_reads_the_same() {
    let text = r#"
all:
  vars: {ansible_user: root, site: ARCS, ansible_become: "true"}
  children:
    dom0s:
      hosts:
        xen1: {ansible_host: 192.0.2.10, vmup_role: host}
    centos4:
      vars: {site: centos4, release: "2.6.9"}
      children:
        grid:
          vars: {site: APAC-Grid, vmup_ssh_algorithms: legacy}
          hosts:
            ng[1:2]: {vmup_host: xen1, vmup_domain_config: /etc/xen/NG}
            ng2: {ansible_port: 2222, site: ng2-own}
"#;
    let from_yaml = yaml(text).unwrap();
    let from_ini = ini(INI).unwrap();
    assert_eq!(from_yaml.hosts, from_ini.hosts);
    assert_eq!(from_yaml.group_vars, from_ini.group_vars);
    assert_eq!(from_yaml.group_depth, from_ini.group_depth);
}

#[test]
fn errors_name_the_ansible_line_and_column() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "[g]\nh vmup_rol=host\n",
            "hosts.ini:2:3:",
            "unknown vmup setting vmup_rol",
        ),
        (
            "[g]\nh vmup_host=nowhere\n",
            "hosts.ini:2:3:",
            "not in the inventory",
        ),
        (
            "[g]\nh vmup_domain_config=rel\n",
            "hosts.ini:2:3:",
            "absolute path",
        ),
        (
            "[g]\nh ansible_connection=winrm\n",
            "hosts.ini:2:3:",
            "not a transport vmup has",
        ),
        (
            "[g]\nh ansible_connection=local\n",
            "hosts.ini:2:1:",
            "needs `vmup_root`",
        ),
        (
            "[g]\nh vmup_role=boss\n",
            "hosts.ini:2:3:",
            "unknown variant",
        ),
        ("[hosts]\nh\n", "hosts.ini:1:2:", "implicit groups"),
        (
            "[a:children]\nb\n[b:children]\na\n",
            "hosts.ini:",
            "child of itself",
        ),
        (
            "[g]\nh ansible_group_priority=2\n",
            "hosts.ini:2:3:",
            "ansible_group_priority",
        ),
        ("[g]\nh\n[g:vars]\nx=None\n", "hosts.ini:4:3:", "null"),
        (
            "[g]\nh ansible_host=a\n[g:vars]\nansible_ssh_host=b\n",
            "hosts.ini:4:1:",
            "ansible_host and ansible_ssh_host disagree for host h",
        ),
    ];
    for (text, at, what) in cases {
        let e = ini(text).unwrap_err();
        assert!(e.starts_with(at) && e.contains(what), "{text:?}: {e}");
    }
    let e = yaml("all:\n  hosts:\n    h:\n      vmup_cpus: 0\n").unwrap_err();
    assert!(
        e.starts_with("hosts.yml:4:7:") && e.contains("`vmup_cpus`"),
        "{e}"
    );
}

#[test]
fn load_picks_the_format_and_refuses_what_it_would_miss() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let names = |path: &Path| -> Vec<String> {
        Inventory::load(path)
            .unwrap()
            .hosts
            .into_iter()
            .map(|h| h.name)
            .collect()
    };
    assert_eq!(names(&write("a.toml", "[hosts.t]\n")), ["t"]);
    assert_eq!(names(&write("plain", "# fleet\n[hosts.t]\n")), ["t"]);
    assert_eq!(names(&write("b", "[web]\nw1\n")), ["w1"]);
    assert_eq!(names(&write("c", "---\nall:\n  hosts:\n    y1:\n")), ["y1"]);
    assert_eq!(names(&write("d.cfg", "w1\n")), ["w1"]);
    assert_eq!(names(Path::new("q1,q2")), ["q1", "q2"]);
    let script = write("script", "#!/bin/sh\necho {}\n");
    let e = Inventory::load(&script).unwrap_err().to_string();
    assert!(e.contains("inventory script"), "{e}");
    let exe = write("exe.ini", "[g]\nh\n");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let e = Inventory::load(&exe).unwrap_err().to_string();
    assert!(e.contains("inventory script"), "{e}");
    std::fs::create_dir(dir.path().join("group_vars")).unwrap();
    let e = Inventory::load(&write("e.ini", "h\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("group_vars"), "{e}");
    // vmup's TOML never had Ansible's directories: they do not stop it.
    assert_eq!(names(&write("f.toml", "[hosts.t]\n")), ["t"]);
    let e = Inventory::load(Path::new("ok,bad[1:2]"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("column 4") && e.contains("no ranges"), "{e}");
}

proptest::proptest! {
    /// No input makes a reader panic, and every error points inside the text.
    #[test]
    fn any_text_is_read_or_refused_at_a_place(
        text in "([a-z0-9]{0,3}|[\\[\\]:=#;'\" ,{}\\-]|\n|  |all:\n|  hosts:\n|vars|children|\\[0[1-9]:1[0-9]\\]){0,40}"
    ) {
        for result in [ini(&text), yaml(&text)] {
            if let Err(e) = result {
                let at: Vec<&str> = e.splitn(4, ':').collect();
                let line: usize = at[1].parse().unwrap_or(0);
                proptest::prop_assert!(line >= 1 && line <= text.lines().count().max(1) + 1, "{e}");
            }
        }
        let _ = super::list::parse(&text);
    }
}

#[test]
fn ansible_become_sets_become_and_its_password_is_never_kept() {
    let inv = ini(
        "[grid]\nng1\nng2 ansible_become=no\n\n[grid:vars]\nansible_become=yes\nansible_become_method=doas\nansible_become_user=root\nansible_become_password=s3cret\n",
    )
    .unwrap();
    let ng1 = inv.host("ng1").unwrap();
    assert!(ng1.become_root);
    assert_eq!(ng1.become_method, crate::transport::BecomeMethod::Doas);
    assert!(!inv.host("ng2").unwrap().become_root, "the host's own wins");
    for host in &inv.hosts {
        let vars = host_vars(&BTreeMap::new(), &BTreeMap::new(), &inv, host, &[]).unwrap();
        assert!(
            vars.keys().all(|k| !k.starts_with("ansible_become")),
            "{vars:?}"
        );
    }
    let other_user = ini("[g]\nh ansible_become_user=postgres\n").unwrap_err();
    assert!(
        other_user
            .starts_with("hosts.ini:2:3: ansible_become_user=postgres: vmup becomes root only"),
        "{other_user}"
    );
    let su = ini("[g]\nh ansible_become=true ansible_become_method=su\n").unwrap_err();
    assert!(
        su.starts_with("hosts.ini:2:23: ") && su.contains("su reads root's password"),
        "{su}"
    );
}
