//! The service fact from captured output of each backend, and run for real on trees:
//! systemd unit files with the machine's own `systemctl --root`, and SysV rc links.

use super::*;
use crate::facts::{facts_script, parse_facts};
use crate::remote::frame::Boundary;
use crate::transport::Transport;
use crate::transport::local::LocalTransport;

fn out(text: &str) -> CommandOutput {
    CommandOutput {
        stdout: text.as_bytes().to_vec(),
        status: 0,
    }
}

fn fact(name: &str) -> ServiceState {
    ServiceState { name: name.into() }
}

/// `chkconfig --list` as CentOS 4.6 and 5 print it (tab-separated).
const CENTOS4_LIST: &str = "haldaemon      \t0:off\t1:off\t2:off\t3:on\t4:on\t5:on\t6:off";
const CENTOS5_LIST: &str = "irqbalance     \t0:off\t1:off\t2:on\t3:on\t4:on\t5:on\t6:off";

#[test]
fn chkconfig_lists_of_centos_4_and_5() {
    assert_eq!(
        parse_chkconfig_list(CENTOS4_LIST, "haldaemon"),
        Some(vec![3, 4, 5])
    );
    assert_eq!(
        parse_chkconfig_list(CENTOS5_LIST, "irqbalance"),
        Some(vec![2, 3, 4, 5])
    );
    assert_eq!(
        parse_chkconfig_list("", "haldaemon"),
        None,
        "not registered"
    );
    let info = fact("haldaemon")
        .parse(&out(&format!(
            "backend chkconfig\nlist {CENTOS4_LIST}\nscript /etc/rc.d/init.d/haldaemon\nheader  345 98 02\nstatus 0\n"
        )))
        .unwrap();
    assert_eq!(info.backend, Backend::Chkconfig);
    assert!(info.exists && info.enabled());
    assert_eq!(info.header, Some((vec![3, 4, 5], 98, 2)));
    assert_eq!(info.running, Some(true));
}

#[test]
fn old_status_codes_mean_not_running() {
    for code in [1, 2, 3] {
        let info = fact("mdmonitor")
            .parse(&out(&format!(
                "backend sysv\nscript /etc/init.d/mdmonitor\nstatus {code}\n"
            )))
            .unwrap();
        assert_eq!(info.running, Some(false), "status {code}");
    }
}

#[test]
fn systemd_words() {
    let info = fact("haldaemon")
        .parse(&out(
            "backend systemd\nunit masked\nactive inactive\nload masked\n",
        ))
        .unwrap();
    assert!(info.exists && !info.enabled());
    assert_eq!(info.running, Some(false));
    let missing = fact("nope")
        .parse(&out(
            "backend systemd\nunit \nactive inactive\nload not-found\n",
        ))
        .unwrap();
    assert!(!missing.exists);
}

fn gather(root: &std::path::Path, name: &str) -> ServiceInfo {
    let f = fact(name);
    let keys = vec![f.key()];
    let b = Boundary::random();
    let script = facts_script(&keys, root.to_str().unwrap(), &b).unwrap();
    let out = LocalTransport::new("t").run(&script).unwrap();
    let facts = parse_facts(&keys, &b, &out.stdout).unwrap();
    facts.get(&f).unwrap()
}

#[test]
fn sysv_links_in_a_tree() {
    let dir = tempfile::tempdir().unwrap();
    let init = dir.path().join("etc/rc.d/init.d");
    std::fs::create_dir_all(&init).unwrap();
    std::fs::write(
        init.join("haldaemon"),
        "#!/bin/sh\n#\n# chkconfig: 345 98 02\n# description: HAL\n",
    )
    .unwrap();
    for (lv, name) in [
        (2, "K02haldaemon"),
        (3, "S98haldaemon"),
        (5, "S98haldaemon"),
    ] {
        let d = dir.path().join(format!("etc/rc.d/rc{lv}.d"));
        std::fs::create_dir_all(&d).unwrap();
        std::os::unix::fs::symlink("../init.d/haldaemon", d.join(name)).unwrap();
    }
    let info = gather(dir.path(), "haldaemon");
    assert_eq!(info.backend, Backend::SysvLinks);
    assert!(info.exists && info.enabled());
    assert_eq!(info.header, Some((vec![3, 4, 5], 98, 2)));
    assert_eq!(info.links.len(), 3);
    assert_eq!(info.running, None, "a tree does not run");
    assert_eq!(
        info.links[1].path("haldaemon"),
        "/etc/rc.d/rc3.d/S98haldaemon"
    );
}

#[test]
fn systemd_units_in_a_tree_are_read_with_systemctl_root() {
    let dir = tempfile::tempdir().unwrap();
    let units = dir.path().join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    std::fs::create_dir_all(
        dir.path()
            .join("etc/systemd/system/multi-user.target.wants"),
    )
    .unwrap();
    std::fs::write(
        units.join("haldaemon.service"),
        "[Unit]\nDescription=HAL\n[Service]\nExecStart=/usr/sbin/hald\n[Install]\nWantedBy=multi-user.target\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/usr/lib/systemd/system/haldaemon.service",
        dir.path()
            .join("etc/systemd/system/multi-user.target.wants/haldaemon.service"),
    )
    .unwrap();
    let info = gather(dir.path(), "haldaemon");
    assert_eq!(info.backend, Backend::SystemdRoot);
    assert_eq!(info.unit_state.as_deref(), Some("enabled"));
    assert!(info.exists && info.enabled());
    let none = gather(dir.path(), "mdmonitor");
    assert!(!none.exists, "{none:?}");
}

/// `chkconfig --list NAME` of an xinetd-based service (chkconfig 1.3 on CentOS 4/5), and
/// the same service as the full listing shows it (`\tNAME:\tSTATE`).
#[test]
fn chkconfig_lists_xinetd_services() {
    assert_eq!(
        parse_chkconfig_list("rsync          \ton", "rsync"),
        Some(vec![2, 3, 4, 5])
    );
    assert_eq!(
        parse_chkconfig_list("\trsync:\toff", "rsync"),
        Some(Vec::new())
    );
    assert_eq!(parse_chkconfig_list("rsyncd \ton", "rsync"), None);
}

/// Init scripts as CentOS 4 and 5 ship them, and older ones: each run by the fact's own
/// shell function, its output parsed.
#[test]
fn init_script_status_of_lsb_and_pre_lsb_scripts() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    // (script body for `status`, running?, or the reason it is unknown)
    let cases: &[(&str, &str, Result<bool, &str>)] = &[
        // CentOS 4 `status()` from /etc/rc.d/init.d/functions, and LSB codes.
        (
            "running",
            "echo 'hald (pid 2345) is running...'; exit 0",
            Ok(true),
        ),
        ("stopped", "echo 'hald is stopped'; exit 3", Ok(false)),
        (
            "pidfile",
            "echo 'hald dead but pid file exists'; exit 1",
            Ok(false),
        ),
        (
            "locked",
            "echo 'hald dead but subsys locked'; exit 2",
            Ok(false),
        ),
        // Pre-LSB: `status hald` without passing its code on.
        ("prelsb", "echo 'hald is stopped'; exit 0", Ok(false)),
        ("prelsb2", "echo 'cpuspeed is not running'", Ok(false)),
        // No status action: the usage line.
        (
            "nostatus",
            "echo 'Usage: /etc/init.d/nostatus {start|stop|restart}' >&2; exit 1",
            Err("has no status action (it printed its usage, exit 1)"),
        ),
        ("unknown", "exit 4", Err("the state is unknown (exit 4)")),
        ("odd", "exit 9", Err("exited 9")),
    ];
    for (name, body, want) in cases {
        let script = dir.path().join(name);
        std::fs::write(
            &script,
            format!("#!/bin/sh\ncase \"$1\" in\n  status) {body} ;;\n  *) echo \"Usage: $0 {{start|stop}}\"; exit 1 ;;\nesac\n"),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let ran = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{SYSV_STATUS_FN}vmup_sysv_status \"$1\""))
            .arg("sh")
            .arg(&script)
            .output()
            .unwrap();
        let text = format!(
            "backend chkconfig\nscript /etc/rc.d/init.d/{name}\n{}",
            String::from_utf8_lossy(&ran.stdout)
        );
        let info = fact(name).parse(&out(&text)).unwrap();
        match want {
            Ok(running) => {
                assert_eq!(info.running, Some(*running), "{name}: {text}");
                assert_eq!(info.status_unknown, None, "{name}");
            }
            Err(why) => {
                assert_eq!(info.running, None, "{name}: {text}");
                let said = info.status_unknown.clone().unwrap_or_default();
                assert!(said.contains(why), "{name}: {said}");
                assert!(
                    said.starts_with(&format!("/etc/rc.d/init.d/{name} ")),
                    "{said}"
                );
            }
        }
    }
}
