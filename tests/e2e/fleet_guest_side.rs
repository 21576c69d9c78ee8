//! The seed's guest-side "Massive deploying" items over real ssh on the test fleet: a small
//! SysV daemon with a real init script stopped and disabled (`service haldaemon stop`,
//! rc links turned off as chkconfig would; Debian has no chkconfig), irqbalance only
//! where the guest itself has one CPU, and the dbus user created with uid 81 by the
//! guest's own useradd, a clash at 81 refused naming both accounts, and a second run
//! changing nothing. Everything asserted is read back over plain OpenSSH.

use crate::fleet::Fleet;
use crate::support::Run;

/// A pre-LSB Red Hat style init script for a daemon that is just a long sleep: `status`
/// says 0 running, 1 dead with a pid file, 3 stopped, as the old scripts do.
const HALDAEMON: &str = r#"#!/bin/sh
# chkconfig: 345 98 02
# description: HAL daemon stand-in (a sleep with a pid file)
PIDFILE=/var/run/haldaemon.pid
running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
  start) running && exit 0
         setsid sleep 100000 </dev/null >/dev/null 2>&1 &
         echo $! > "$PIDFILE"; echo "Starting HAL daemon: [  OK  ]" ;;
  stop) running && kill "$(cat "$PIDFILE")"; rm -f "$PIDFILE"
        echo "Stopping HAL daemon: [  OK  ]" ;;
  status) if running; then echo "hald (pid $(cat "$PIDFILE")) is running..."; exit 0; fi
          [ -f "$PIDFILE" ] && { echo "hald dead but pid file exists"; exit 1; }
          echo "hald is stopped"; exit 3 ;;
  *) echo "Usage: $0 {start|stop|status}"; exit 2 ;;
esac
"#;

const RUNBOOK: &str = r#"
[[step]]
name = "haldaemon off"
hosts = "guests"
service = { name = "haldaemon", enabled = false, running = false }

[[step]]
name = "mdmonitor off"
hosts = "guests"
service = { name = "mdmonitor", enabled = false, running = false }

[[step]]
name = "irqbalance off on 1-CPU hosts"
hosts = "guests"
when = "cpus == 1"
service = { name = "irqbalance", enabled = false, running = false }

[[step]]
name = "dbus group"
hosts = "guests"
group = { name = "dbus", gid = 81, system = true }

[[step]]
name = "dbus user"
hosts = "guests"
user = { name = "dbus", uid = 81, group = "dbus", comment = "System message bus", shell = "/sbin/nologin", home = "/", system = true }
"#;

fn vmup(fleet: &Fleet, cmd: &str, limit: &str) -> Run {
    fleet.vmup(&[
        cmd,
        "-i",
        "inventory.toml",
        "seed-guest.toml",
        "-F",
        "ssh_config",
        "--limit",
        limit,
        "--json",
    ])
}

/// Installs the haldaemon stand-in with rc links as chkconfig leaves them, and starts it.
pub fn install_daemon(fleet: &Fleet, guest: &str) {
    let script = format!(
        "mkdir -p /etc/rc.d/init.d && cat > /etc/rc.d/init.d/haldaemon <<'EOF'\n{HALDAEMON}EOF\n\
         chmod 755 /etc/rc.d/init.d/haldaemon && for l in 0 1 2 3 4 5 6; do mkdir -p /etc/rc.d/rc$l.d; done && \
         for l in 3 4 5; do ln -s ../init.d/haldaemon /etc/rc.d/rc$l.d/S98haldaemon; done && \
         for l in 0 1 2 6; do ln -s ../init.d/haldaemon /etc/rc.d/rc$l.d/K02haldaemon; done && \
         /etc/rc.d/init.d/haldaemon start"
    );
    fleet.exec(guest, &script);
}

#[test]
fn sysv_daemon_cpus_and_the_dbus_user_for_real_over_ssh() {
    let fleet = Fleet::up(2);
    let guests = fleet.guests();
    let (g1, g2) = (&guests[0], &guests[1]);
    std::fs::write(fleet.path("seed-guest.toml"), RUNBOOK).unwrap();
    for g in [g1, g2] {
        install_daemon(&fleet, g);
    }
    let status = |g: &str| fleet.ssh(g, "/etc/rc.d/init.d/haldaemon status; echo \"exit $?\"");
    assert!(status(g1).contains("is running"), "{}", status(g1));
    let cpus: usize = fleet
        .ssh(g1, "grep -c ^processor /proc/cpuinfo")
        .trim()
        .parse()
        .unwrap();

    let plan = vmup(&fleet, "plan", g1);
    assert_eq!(plan.code, 3, "{}{}", plan.stdout, plan.stderr);
    let host = &plan.hosts()[g1.as_str()];
    let summaries = host["changes"].to_string();
    assert!(
        summaries.contains("stop haldaemon (/etc/rc.d/init.d/haldaemon stop)"),
        "{summaries}"
    );
    assert!(
        summaries.contains("rename /etc/rc.d/rc3.d/S98haldaemon to K02haldaemon"),
        "{summaries}"
    );
    assert!(
        summaries.contains("create system user dbus (uid 81"),
        "{summaries}"
    );
    let notes = host["notes"].to_string();
    assert!(notes.contains("mdmonitor is not installed"), "{notes}");
    if cpus > 1 {
        assert!(
            notes.contains("skipped, `cpus == 1` is false here"),
            "{notes}"
        );
    }
    assert!(status(g1).contains("is running"), "plan stopped nothing");

    let apply = vmup(&fleet, "apply", g1);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let st = status(g1);
    assert!(
        st.contains("hald is stopped") && st.contains("exit 3"),
        "{st}"
    );
    let links = fleet.ssh(g1, "ls /etc/rc.d/rc3.d /etc/rc.d/rc5.d");
    assert!(
        links.contains("K02haldaemon") && !links.contains("S98haldaemon"),
        "{links}"
    );
    assert_eq!(
        fleet.ssh(g1, "getent passwd dbus").trim(),
        "dbus:x:81:81:System message bus:/:/sbin/nologin"
    );
    assert_eq!(fleet.ssh(g1, "getent group dbus").trim(), "dbus:x:81:");
    let again = vmup(&fleet, "plan", g1);
    assert_eq!(
        again.code, 0,
        "a second run changes nothing: {}",
        again.stdout
    );

    // uid 81 taken by another name on g2: refused naming both, nothing applied there.
    fleet.exec(
        g2,
        "groupadd -g 82 haldaemon && useradd -u 81 -g 82 -M -s /sbin/nologin haldaemon",
    );
    let clash = vmup(&fleet, "apply", g2);
    assert_eq!(clash.code, 1, "{}{}", clash.stdout, clash.stderr);
    let error = clash.hosts()[g2.as_str()]["error"].to_string();
    assert!(
        error.contains("uid 81 is taken by haldaemon; the step wants it for dbus"),
        "{error}"
    );
    assert!(
        status(g2).contains("is running"),
        "a refused plan applies nothing"
    );
    assert!(
        fleet
            .ssh(g2, "getent passwd dbus || echo none")
            .contains("none")
    );

    // Old init scripts whose status code does not say it: a pre-LSB one that exits 0
    // saying "is stopped" is stopped (nothing to do); one without a status action cannot
    // be judged, so `running` on it is refused at plan time, naming the script.
    fleet.exec(
        g2,
        "printf '#!/bin/sh\\ncase \"$1\" in status) echo \"cpuspeed is stopped\"; exit 0;; *) exit 0;; esac\\n' > /etc/rc.d/init.d/cpuspeed && \
         printf '#!/bin/sh\\ncase \"$1\" in start|stop) exit 0;; *) echo \"Usage: $0 {start|stop}\"; exit 1;; esac\\n' > /etc/rc.d/init.d/apmd && \
         chmod 755 /etc/rc.d/init.d/cpuspeed /etc/rc.d/init.d/apmd",
    );
    let plan_stopped = |service: &str| {
        std::fs::write(
            fleet.path("old-scripts.toml"),
            format!("[[step]]\nservice = {{ name = \"{service}\", running = false }}\n"),
        )
        .unwrap();
        fleet.vmup(&[
            "plan",
            "-i",
            "inventory.toml",
            "old-scripts.toml",
            "-F",
            "ssh_config",
            "--limit",
            g2,
            "--json",
        ])
    };
    let old = plan_stopped("cpuspeed");
    assert_eq!(old.code, 0, "pre-LSB stopped: {}{}", old.stdout, old.stderr);
    let old = plan_stopped("apmd");
    assert_eq!(old.code, 1, "{}{}", old.stdout, old.stderr);
    let error = old.hosts()[g2.as_str()]["error"].to_string();
    assert!(
        error.contains("cannot tell whether apmd runs: /etc/rc.d/init.d/apmd has no status action"),
        "{error}"
    );
}
