//! The dbus user for real: created with uid 81 by the machine's own useradd and groupadd
//! (`--root` on a local tree) on a guest that lacks it, a second run changes nothing, and a
//! clash with another name at 81 is refused naming both.

use crate::support::{LocalFleet, apply_converges};

const DBUS: &str = "[[step]]\nname = \"messagebus group\"\ngroup = { name = \"dbus\", gid = 81, system = true }\n[[step]]\nname = \"messagebus user\"\nuser = { name = \"dbus\", uid = 81, group = \"dbus\", comment = \"System message bus\", shell = \"/sbin/nologin\", home = \"/\", system = true }\n";

fn guest(fleet: &LocalFleet, extra_passwd: &str) {
    fleet.write(
        "g",
        "/etc/passwd",
        format!(
            "root:x:0:0:root:/root:/bin/bash\nnobody:x:99:99:Nobody:/:/sbin/nologin\n{extra_passwd}"
        )
        .as_bytes(),
    );
    fleet.write("g", "/etc/group", b"root:x:0:root\nnobody:x:99:\n");
    fleet.write(
        "g",
        "/etc/shadow",
        b"root:!!:13000:0:99999:7:::\nnobody:*:13000:0:99999:7:::\n",
    );
    fleet.write("g", "/etc/gshadow", b"root:::root\nnobody:::\n");
}

#[test]
fn the_dbus_user_is_created_with_uid_81_and_converges() {
    let fleet = LocalFleet::new(&["g"]);
    guest(&fleet, "");
    let rb = fleet.runbook(DBUS);
    let plan = fleet.vmup(&["plan", "-i", "inventory.toml", rb]);
    assert!(
        plan.stdout.contains(
            "create system user dbus (uid 81, group dbus, shell /sbin/nologin, home /) (useradd)"
        ),
        "{}",
        plan.stdout
    );
    apply_converges(&fleet, rb);
    let passwd = String::from_utf8(fleet.read("g", "/etc/passwd")).unwrap();
    assert!(
        passwd.contains("\ndbus:x:81:81:System message bus:/:/sbin/nologin\n"),
        "{passwd}"
    );
    let group = String::from_utf8(fleet.read("g", "/etc/group")).unwrap();
    assert!(group.contains("dbus:x:81:"), "{group}");
    let shadow = String::from_utf8(fleet.read("g", "/etc/shadow")).unwrap();
    assert!(shadow.lines().any(|l| l.starts_with("dbus:")), "{shadow}");
}

#[test]
fn uid_81_taken_by_another_name_is_refused_with_both_names() {
    let fleet = LocalFleet::new(&["g"]);
    guest(&fleet, "haldaemon:x:81:81:HAL daemon:/:/sbin/nologin\n");
    let before = fleet.snapshot();
    let rb = fleet.runbook(
        DBUS.split("[[step]]\nname = \"messagebus user\"")
            .nth(1)
            .map(|u| format!("[[step]]{u}"))
            .unwrap()
            .replace("group = \"dbus\", ", "")
            .as_str(),
    );
    let run = fleet.vmup(&["apply", "-i", "inventory.toml", rb, "--json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let error = run.hosts()["g"]["error"].to_string();
    assert!(
        error.contains("uid 81 is taken by haldaemon; the step wants it for dbus"),
        "{error}"
    );
    let after = fleet.snapshot();
    assert_eq!(
        before
            .into_iter()
            .filter(|(p, _)| !p.ends_with("runbook.toml"))
            .collect::<Vec<_>>(),
        after
            .into_iter()
            .filter(|(p, _)| !p.ends_with("runbook.toml"))
            .collect::<Vec<_>>(),
        "nothing was touched"
    );
}
