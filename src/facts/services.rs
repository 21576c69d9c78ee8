//! A service's state, read the way its init system keeps it: systemd (`systemctl` on a
//! running host; `systemctl --root` on a local tree that has unit files), chkconfig (CentOS's
//! SysV bookkeeping), or the plain `/etc/rc.d/rcN.d` (or `/etc/rcN.d`) links where there is
//! no chkconfig (a tree, Debian). The seed's `chkconfig --list X; service X status`.
//!
//! Whether it runs is asked of its init script (`X status`: 0 running, anything else not,
//! as LSB and the older Red Hat `status` function both say) or of systemd; a local tree is
//! not running, so it has no answer there.

use crate::remote::pkg::RPM_FN;
use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// Which init system keeps the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// systemd on a running host.
    Systemd,
    /// systemd unit files in a local tree, managed with `systemctl --root`.
    SystemdRoot,
    /// SysV init scripts registered with chkconfig.
    Chkconfig,
    /// SysV init scripts and rc links, without chkconfig.
    SysvLinks,
}

/// One `rcN.d` link of a SysV service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcLink {
    /// The directory, e.g. `/etc/rc.d/rc3.d`.
    pub dir: String,
    /// The runlevel (0-6).
    pub level: u8,
    /// `S` (started in that runlevel) or `K` (stopped).
    pub start: bool,
    /// The two-digit priority.
    pub priority: u8,
}

impl RcLink {
    /// The link's path.
    pub fn path(&self, name: &str) -> String {
        format!(
            "{}/{}{:02}{name}",
            self.dir,
            if self.start { 'S' } else { 'K' },
            self.priority
        )
    }
}

/// What is known about a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Its init system.
    pub backend: Backend,
    /// systemd: the unit is known; SysV: the init script exists.
    pub exists: bool,
    /// systemd's `is-enabled` word (`enabled`, `disabled`, `masked`, `static`, ...).
    pub unit_state: Option<String>,
    /// systemd's `is-active` word, on a running host.
    pub active: Option<String>,
    /// chkconfig: the runlevels (0-6) it is on in.
    pub chkconfig_on: Option<Vec<u8>>,
    /// SysV: the init script's path (`/etc/rc.d/init.d/NAME` or `/etc/init.d/NAME`).
    pub script: Option<String>,
    /// SysV: the init script's `# chkconfig: LEVELS START STOP` header.
    pub header: Option<(Vec<u8>, u8, u8)>,
    /// SysV: its rc links.
    pub links: Vec<RcLink>,
    /// Whether it runs: Some(true/false) on a running host, None on a tree or when the
    /// init script cannot say (then `status_unknown` says why).
    pub running: Option<bool>,
    /// On a running host: why `SCRIPT status` did not tell whether it runs (no status
    /// action, LSB's 4 "unknown", a script that failed to run).
    pub status_unknown: Option<String>,
}

impl ServiceInfo {
    /// True when the service starts at boot in a multi-user runlevel (2-5) or target.
    pub fn enabled(&self) -> bool {
        match self.backend {
            Backend::Systemd | Backend::SystemdRoot => matches!(
                self.unit_state.as_deref(),
                Some("enabled" | "enabled-runtime" | "alias" | "indirect" | "generated")
            ),
            Backend::Chkconfig => self
                .chkconfig_on
                .as_ref()
                .is_some_and(|on| on.iter().any(|l| (2..=5).contains(l))),
            Backend::SysvLinks => self
                .links
                .iter()
                .any(|l| l.start && (2..=5).contains(&l.level)),
        }
    }
}

/// The state of the service `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    /// The service (without `.service`).
    pub name: String,
}

const SERVICE_FN: &str = r##"vmup_unit_in_tree() {
  for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
    vmup_under "$d/$n.service" && { [ -e "$R" ] || [ -L "$R" ]; } && return 0
  done; return 1
}
vmup_sysv() {
  s=
  for d in /etc/rc.d/init.d /etc/init.d; do
    if vmup_under "$d/$n" && [ -f "$R" ]; then s=$d/$n; f=$R; break; fi
  done
  if [ -n "$s" ]; then
    echo "script $s"
    while IFS= read -r line; do case $line in "# chkconfig:"*) echo "header ${line#\# chkconfig:}"; break ;; esac; done < "$f"
  fi
  for lv in 0 1 2 3 4 5 6; do
    for d in /etc/rc.d/rc$lv.d /etc/rc$lv.d; do
      vmup_under "$d/." || continue
      for l in "$R"/[SK][0-9][0-9]"$n"; do { [ -L "$l" ] || [ -e "$l" ]; } && echo "link $lv $d ${l##*/}"; done
    done
  done
  if [ -z "$VMUP_ROOT" ] && [ -n "$s" ]; then vmup_sysv_status "$s"; fi
}
"##;

/// `vmup_sysv_status SCRIPT`: its `status` action's exit code, and what its words say
/// where old scripts' codes do not (see [`sysv_status`]).
pub const SYSV_STATUS_FN: &str = r##"vmup_sysv_status() {
  o=$("$1" status 2>&1 </dev/null); st=$?
  echo "status $st"
  case $o in
    *[Uu]sage:*) echo "status-says usage" ;;
    *"is stopped"*|*"not running"*|*"dead but"*) echo "status-says stopped" ;;
  esac
}
"##;

impl Fact for ServiceState {
    type Value = ServiceInfo;

    fn name(&self) -> String {
        format!("service {}", self.name)
    }

    fn script(&self, s: &mut Script) {
        s.code(RPM_FN);
        s.code("n=").word(self.name.as_bytes()).newline();
        s.code(SYSV_STATUS_FN);
        s.code(SERVICE_FN);
        s.code(
            "if [ -z \"$VMUP_ROOT\" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then\n\
             echo backend systemd\n\
             echo \"unit $(systemctl is-enabled -- \"$n.service\" 2>/dev/null)\"\n\
             echo \"active $(systemctl is-active -- \"$n.service\" 2>/dev/null)\"\n\
             echo \"load $(systemctl show -p LoadState --value -- \"$n.service\" 2>/dev/null)\"\n\
             elif [ -n \"$VMUP_ROOT\" ] && vmup_unit_in_tree && command -v systemctl >/dev/null 2>&1; then\n\
             echo backend systemd-root\n\
             echo \"unit $(systemctl --root=\"$(vmup_abs_root)\" is-enabled -- \"$n.service\" 2>/dev/null)\"\n\
             elif [ -z \"$VMUP_ROOT\" ] && command -v chkconfig >/dev/null 2>&1; then\n\
             echo backend chkconfig\n\
             echo \"list $(chkconfig --list \"$n\" 2>/dev/null)\"\n\
             vmup_sysv\n\
             else\n\
             echo backend sysv\n\
             vmup_sysv\n\
             fi",
        );
    }

    /// Built-ins, functions and the tools it asks (systemctl, chkconfig, the init
    /// script's `status`), never `exit`: no subshell of its own.
    fn in_shell(&self) -> bool {
        true
    }

    fn parse(&self, output: &CommandOutput) -> Result<ServiceInfo, FactError> {
        let bad = |why: String| FactError::Malformed {
            fact: self.name(),
            why,
        };
        let mut info = ServiceInfo {
            backend: Backend::SysvLinks,
            exists: false,
            unit_state: None,
            active: None,
            chkconfig_on: None,
            script: None,
            header: None,
            links: Vec::new(),
            running: None,
            status_unknown: None,
        };
        let mut backend = None;
        let mut load = None;
        let mut status = None;
        let mut says = None;
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            match word {
                "backend" => {
                    backend = Some(match rest {
                        "systemd" => Backend::Systemd,
                        "systemd-root" => Backend::SystemdRoot,
                        "chkconfig" => Backend::Chkconfig,
                        "sysv" => Backend::SysvLinks,
                        other => return Err(bad(format!("unknown backend {other:?}"))),
                    })
                }
                "unit" => info.unit_state = Some(rest.to_string()).filter(|s| !s.is_empty()),
                "active" => info.active = Some(rest.to_string()).filter(|s| !s.is_empty()),
                "load" => load = Some(rest.to_string()),
                "list" => info.chkconfig_on = parse_chkconfig_list(rest, &self.name),
                "script" => info.script = Some(rest.to_string()),
                "header" => info.header = parse_header(rest),
                "link" => {
                    let parts: Vec<&str> = rest.split(' ').collect();
                    if let [level, dir, file] = parts.as_slice() {
                        let level = level.parse().map_err(|_| bad(line.to_string()))?;
                        let start = file.starts_with('S');
                        let priority = file
                            .get(1..3)
                            .and_then(|p| p.parse().ok())
                            .ok_or_else(|| bad(line.to_string()))?;
                        info.links.push(RcLink {
                            dir: dir.to_string(),
                            level,
                            start,
                            priority,
                        });
                    }
                }
                "status" => status = rest.parse::<i32>().ok(),
                "status-says" => says = Some(rest.to_string()),
                _ => {}
            }
        }
        info.backend = backend.ok_or_else(|| bad("no backend line".into()))?;
        info.exists = match info.backend {
            Backend::Systemd => load
                .as_deref()
                .is_some_and(|l| l != "not-found" && !l.is_empty()),
            Backend::SystemdRoot => info.unit_state.as_deref().is_some_and(|u| u != "not-found"),
            Backend::Chkconfig | Backend::SysvLinks => info.script.is_some(),
        };
        if let Some(code) = status {
            match sysv_status(code, says.as_deref(), info.script.as_deref().unwrap_or("")) {
                Ok(running) => info.running = Some(running),
                Err(why) => info.status_unknown = Some(why),
            }
        }
        if info.backend == Backend::Systemd {
            info.running = info
                .active
                .as_deref()
                .map(|a| a == "active" || a == "reloading" || a == "activating");
        }
        Ok(info)
    }
}

/// What `SCRIPT status` exiting `code` means, with what its output said (`usage`,
/// `stopped`). LSB 3.1 (iniscrptact): 0 running, 1 dead with a pid file, 2 dead with a
/// lock file, 3 not running, 4 unknown. CentOS 4/5's `status()` in
/// /etc/rc.d/init.d/functions returns the same 0-3 ("is running...", "dead but pid file
/// exists", "dead but subsys locked", "is stopped"); pre-LSB scripts may exit 0 whatever
/// `status` printed, or have no status action at all (their usage line, exit 1 or 2).
pub fn sysv_status(code: i32, says: Option<&str>, script: &str) -> Result<bool, String> {
    match (code, says) {
        (_, Some("usage")) => Err(format!(
            "{script} has no status action (it printed its usage, exit {code})"
        )),
        (0, Some("stopped")) => Ok(false),
        (0, _) => Ok(true),
        (1..=3, _) => Ok(false),
        (4, _) => Err(format!(
            "{script} status says the state is unknown (exit 4)"
        )),
        (126 | 127, _) => Err(format!("{script} could not be run (exit {code})")),
        (other, _) => Err(format!(
            "{script} status exited {other}, which says neither running nor stopped"
        )),
    }
}

/// `haldaemon      0:off   1:off   2:off   3:on    4:on    5:on    6:off` -> [3, 4, 5].
/// An xinetd-based service (`rsync          on`, listed by chkconfig without runlevels)
/// runs in every runlevel xinetd does: `on` reads as 2-5.
pub fn parse_chkconfig_list(line: &str, name: &str) -> Option<Vec<u8>> {
    let mut words = line.split_whitespace();
    if words.next()?.trim_end_matches(':') != name {
        return None;
    }
    let rest: Vec<&str> = words.collect();
    match rest.as_slice() {
        ["on"] => return Some(vec![2, 3, 4, 5]),
        ["off"] => return Some(Vec::new()),
        _ => {}
    }
    Some(
        rest.iter()
            .filter_map(|w| w.split_once(':'))
            .filter(|(_, state)| *state == "on")
            .filter_map(|(level, _)| level.parse().ok())
            .collect(),
    )
}

/// ` 2345 26 74` (or ` - 60 20`) -> the levels, start and stop priorities.
pub fn parse_header(text: &str) -> Option<(Vec<u8>, u8, u8)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [levels, start, stop] = words.as_slice() else {
        return None;
    };
    let levels = if *levels == "-" {
        Vec::new()
    } else {
        levels
            .chars()
            .filter_map(|c| c.to_digit(10))
            .map(|d| d as u8)
            .collect()
    };
    Some((levels, start.parse().ok()?, stop.parse().ok()?))
}

#[cfg(test)]
mod tests;
