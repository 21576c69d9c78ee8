//! `service`: a service enabled or disabled at boot, running or stopped (the seed's
//! `chkconfig haldaemon off; service haldaemon stop`, and mdmonitor, lvm2-monitor and, on
//! 1-CPU guests, irqbalance).
//!
//! The init system comes from the facts: systemd (`systemctl disable/stop/mask`, with
//! `--root` on a local tree), chkconfig (`chkconfig X off`, the init script's `stop`), or
//! the plain rc links where there is no chkconfig (an `SNN` link renamed to `KNN` with the
//! script's own stop priority, as chkconfig would; back again to enable). A service that is
//! not installed is a note, unless `must_exist = true`. A local tree does not run, so
//! `running = false` holds there by itself and `running = true` is refused.

use serde::Deserialize;
use toml::Spanned;

use crate::facts::services::{Backend, RcLink, ServiceInfo, ServiceState};
use crate::facts::{Fact, FactKey};
use crate::remote::pkg::RPM_FN;
use crate::remote::script::Script;
use crate::remote::{Action, Expect};

use super::spec::SpecError;
use super::{FromSpec, HostView, PlanError, Planned, Resource, Scope, StepPlan};

/// The `service = {...}` table of a runbook step.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// The service, as its init script or unit is named (`haldaemon`, `irqbalance`).
    pub name: Spanned<String>,
    /// Started at boot (true) or not (false); absent: left as it is.
    pub enabled: Option<bool>,
    /// Running now (true) or stopped (false); absent: left as it is.
    pub running: Option<bool>,
    /// systemd only: masked, so nothing can start it.
    pub masked: Option<bool>,
    /// Fail when the service does not exist, instead of noting it.
    #[serde(default)]
    pub must_exist: bool,
}

/// A validated `service` step.
#[derive(Debug, Clone)]
pub struct ServiceResource {
    name: String,
    enabled: Option<bool>,
    running: Option<bool>,
    masked: Option<bool>,
    must_exist: bool,
    state: ServiceState,
}

impl FromSpec for ServiceResource {
    type Spec = ServiceSpec;

    fn from_spec(spec: &ServiceSpec) -> Result<ServiceResource, SpecError> {
        let name = spec.name.get_ref();
        if name.is_empty()
            || name.starts_with(['-', '.'])
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c))
        {
            return Err(SpecError::at(
                spec.name.span(),
                format!("{name:?} is not a service name"),
            ));
        }
        if spec.enabled.is_none() && spec.running.is_none() && spec.masked.is_none() {
            return Err(SpecError::step(
                "a `service` step needs `enabled`, `running` or `masked`",
            ));
        }
        if spec.masked == Some(true) && (spec.enabled == Some(true) || spec.running == Some(true)) {
            return Err(SpecError::step(
                "a masked service can be neither enabled nor running",
            ));
        }
        Ok(ServiceResource {
            name: name.clone(),
            enabled: spec.enabled,
            running: spec.running,
            masked: spec.masked,
            must_exist: spec.must_exist,
            state: ServiceState { name: name.clone() },
        })
    }
}

impl Resource for ServiceResource {
    fn subject(&self) -> Option<&str> {
        Some(&self.name)
    }

    fn facts(&self, _scope: &Scope) -> Vec<FactKey> {
        vec![self.state.key()]
    }

    fn plan(&self, view: &HostView<'_>) -> Result<StepPlan, PlanError> {
        let info = view.get(&self.state)?;
        let name = &self.name;
        if !info.exists {
            if self.must_exist {
                return Err(PlanError::Refused(format!(
                    "service {name} does not exist on this host (must_exist = true)"
                )));
            }
            return Ok(StepPlan::unchanged(format!("{name} is not installed")));
        }
        let mut changes = Vec::new();
        let mut notes = Vec::new();
        match info.backend {
            Backend::Systemd | Backend::SystemdRoot => self.systemd(&info, &mut changes, &mut notes)?,
            Backend::Chkconfig => {
                if self.masked == Some(true) {
                    return Err(PlanError::Refused(format!(
                        "{name} is kept by chkconfig, which cannot mask: use enabled = false"
                    )));
                }
                match (self.enabled, info.enabled()) {
                    (Some(false), true) => changes.push(run(
                        format!("disable {name} at boot (chkconfig {name} off)"),
                        &["chkconfig", name, "off"],
                    )),
                    (Some(true), false) => changes.push(run(
                        format!("enable {name} at boot (chkconfig {name} on)"),
                        &["chkconfig", name, "on"],
                    )),
                    _ => {}
                }
                self.sysv_running(&info, &mut changes, &mut notes)?;
            }
            Backend::SysvLinks => {
                if self.masked == Some(true) {
                    return Err(PlanError::Refused(format!(
                        "{name} is a SysV service, which cannot be masked: use enabled = false"
                    )));
                }
                self.links(&info, &mut changes);
                self.sysv_running(&info, &mut changes, &mut notes)?;
            }
        }
        if changes.is_empty() {
            notes.insert(0, format!("{name} is already as wanted"));
        }
        Ok(StepPlan {
            changes,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            warning: None,
            promises: Vec::new(),
                transaction: Vec::new(),
        })
    }
}

/// A command change: `words` quoted, run as they are.
fn run(summary: String, words: &[&str]) -> Planned {
    let mut s = Script::new();
    s.code(RPM_FN);
    let mut first = true;
    for w in words {
        if first {
            s.code(w);
            first = false;
        } else {
            s.arg(w.as_bytes());
        }
    }
    Planned {
        summary,
        action: Action::Run {
            script: s.finish().unwrap_or_default(),
        },
        detail: None,
    }
}

impl ServiceResource {
    fn systemd(
        &self,
        info: &ServiceInfo,
        changes: &mut Vec<Planned>,
        notes: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        let name = &self.name;
        let unit = format!("{name}.service");
        let tree = info.backend == Backend::SystemdRoot;
        let systemctl = |verb: &str| -> Planned {
            let mut s = Script::new();
            s.code(RPM_FN);
            if tree {
                s.code("systemctl --root=\"$(vmup_abs_root)\"");
            } else {
                s.code("systemctl");
            }
            s.arg(verb.as_bytes()).code(" --").arg(unit.as_bytes());
            Planned {
                summary: format!("{verb} {name} (systemctl {verb})"),
                action: Action::Run {
                    script: s.finish().unwrap_or_default(),
                },
                detail: None,
            }
        };
        let masked = info.unit_state.as_deref() == Some("masked");
        match self.masked {
            Some(true) if !masked => changes.push(systemctl("mask")),
            Some(false) if masked => changes.push(systemctl("unmask")),
            _ => {}
        }
        let static_unit = matches!(info.unit_state.as_deref(), Some("static" | "indirect"));
        match (self.enabled, info.enabled()) {
            (Some(false), true) if self.masked != Some(true) => changes.push(systemctl("disable")),
            (Some(true), false) if static_unit => notes.push(format!(
                "{name} is a {} unit: it has no boot setting of its own",
                info.unit_state.as_deref().unwrap_or("static")
            )),
            (Some(true), false) => changes.push(systemctl("enable")),
            _ => {}
        }
        if tree {
            return self.tree_running(notes);
        }
        // A masked service is also stopped: nothing may run it.
        let stop = self.running == Some(false) || self.masked == Some(true);
        match info.running {
            Some(true) if stop => changes.push(systemctl("stop")),
            Some(false) if self.running == Some(true) => changes.push(systemctl("start")),
            _ => {}
        }
        Ok(())
    }

    /// A tree runs nothing: stopped holds by itself, running cannot.
    fn tree_running(&self, notes: &mut Vec<String>) -> Result<(), PlanError> {
        match self.running {
            Some(true) => Err(PlanError::Refused(format!(
                "{} cannot be running on a local tree (nothing runs there)",
                self.name
            ))),
            Some(false) => {
                notes.push("a local tree runs nothing, so it is not running".into());
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Stops or starts through the init script, on a running host.
    fn sysv_running(
        &self,
        info: &ServiceInfo,
        changes: &mut Vec<Planned>,
        notes: &mut Vec<String>,
    ) -> Result<(), PlanError> {
        let Some(script) = &info.script else {
            return Ok(());
        };
        let name = &self.name;
        if let (Some(_), Some(why)) = (self.running, &info.status_unknown) {
            return Err(PlanError::Refused(format!(
                "cannot tell whether {name} runs: {why}; leave `running` out of this step, or give the script a status action"
            )));
        }
        match (self.running, info.running) {
            (_, None) if info.status_unknown.is_some() => Ok(()),
            (_, None) => self.tree_running(notes),
            (Some(false), Some(true)) => {
                changes.push(run(format!("stop {name} ({script} stop)"), &[script, "stop"]));
                Ok(())
            }
            (Some(true), Some(false)) => {
                changes.push(run(format!("start {name} ({script} start)"), &[script, "start"]));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The rc links, as chkconfig would leave them.
    fn links(&self, info: &ServiceInfo, changes: &mut Vec<Planned>) {
        let name = &self.name;
        let (levels, start, stop) = info.header.clone().unwrap_or((vec![2, 3, 4, 5], 50, 50));
        let rename = |link: &RcLink, to: RcLink, changes: &mut Vec<Planned>| {
            let (from, to_path) = (link.path(name), to.path(name));
            let target_taken = info.links.contains(&to);
            changes.push(if target_taken {
                Planned {
                    summary: format!("remove {from} ({} is there already)", to_path),
                    action: Action::Remove {
                        path: from,
                        expect: Expect::Exists,
                    },
                    detail: None,
                }
            } else {
                Planned {
                    summary: format!("rename {from} to {}", to_path.rsplit('/').next().unwrap_or("")),
                    action: Action::Rename {
                        from,
                        to: to_path,
                        expect: Expect::Exists,
                    },
                    detail: None,
                }
            });
        };
        match (self.enabled, info.enabled()) {
            (Some(false), true) => {
                for link in info.links.iter().filter(|l| l.start) {
                    let k = RcLink {
                        start: false,
                        priority: stop,
                        ..link.clone()
                    };
                    rename(link, k, changes);
                }
            }
            (Some(true), false) => {
                // `/etc/rc.d/rc3.d` -> `/etc/rc.d/rc`; without links, where the script is.
                let base = match (info.links.first(), info.script.as_deref()) {
                    (Some(l), _) => l
                        .dir
                        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == 'd')
                        .to_string(),
                    (None, Some(s)) if s.starts_with("/etc/init.d/") => "/etc/rc".to_string(),
                    _ => "/etc/rc.d/rc".to_string(),
                };
                let want: Vec<u8> = if levels.is_empty() { vec![2, 3, 4, 5] } else { levels };
                for level in want {
                    let s = RcLink {
                        dir: format!("{base}{level}.d"),
                        level,
                        start: true,
                        priority: start,
                    };
                    match info.links.iter().find(|l| l.level == level && !l.start) {
                        Some(k) => rename(k, s, changes),
                        None if !info.links.iter().any(|l| l.level == level && l.start) => {
                            changes.push(Planned {
                                summary: format!("link {} -> ../init.d/{name}", s.path(name)),
                                action: Action::Symlink {
                                    path: s.path(name),
                                    target: format!("../init.d/{name}").into_bytes(),
                                    expect: Expect::Absent,
                                },
                                detail: None,
                            });
                        }
                        None => {}
                    }
                }
            }
            _ => {}
        }
    }
}
