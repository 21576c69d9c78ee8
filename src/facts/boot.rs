//! Which boot a machine is in, and the hypervisor it runs: what a host reboot is judged by.
//!
//! A reconnect alone does not prove a reboot happened (sshd may answer before the reboot
//! starts): the kernel's boot id (`/proc/sys/kernel/random/boot_id`, new on every boot)
//! does. On a Xen dom0 the hypervisor's version comes from `xl info` (or `xm info` on
//! Xen 3), read before and after so the report says what the host came up with.

use crate::remote::script::Script;

use super::{CommandOutput, Fact, FactError};

/// The boot id and, on a Xen host, the hypervisor version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostBoot;

/// What [`HostBoot`] read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BootState {
    /// The kernel's boot id: changes on every boot.
    pub boot_id: String,
    /// `xen_major.xen_minor` plus `xen_extra` from `xl info` / `xm info`, on a Xen host.
    pub xen: Option<String>,
}

impl Fact for HostBoot {
    type Value = BootState;

    fn name(&self) -> String {
        "host-boot".to_string()
    }

    fn script(&self, s: &mut Script) {
        s.code(
            "read -r b </proc/sys/kernel/random/boot_id && echo \"boot $b\"\n\
             for t in xl xm; do\n\
             \x20 if command -v $t >/dev/null 2>&1; then $t info 2>/dev/null | sed -n 's/^\\(xen_[a-z]*\\)[[:space:]]*:[[:space:]]*/\\1 /p'; break; fi\n\
             done\n:",
        );
    }

    fn parse(&self, output: &CommandOutput) -> Result<BootState, FactError> {
        if output.status != 0 {
            return Err(FactError::failed(&self.name(), output));
        }
        let text = String::from_utf8_lossy(&output.stdout);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
                .map(|v| v.trim().to_string())
        };
        let boot_id =
            field("boot")
                .filter(|b| !b.is_empty())
                .ok_or_else(|| FactError::Malformed {
                    fact: self.name(),
                    why: "no boot id in /proc/sys/kernel/random/boot_id".to_string(),
                })?;
        let xen = match (field("xen_major"), field("xen_minor")) {
            (Some(major), Some(minor)) => Some(format!(
                "{major}.{minor}{}",
                field("xen_extra").unwrap_or_default()
            )),
            _ => None,
        };
        Ok(BootState { boot_id, xen })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(stdout: &str) -> CommandOutput {
        CommandOutput {
            status: 0,
            stdout: stdout.as_bytes().to_vec(),
        }
    }

    #[test]
    fn boot_id_and_xen_version_are_read() {
        let state = HostBoot
            .parse(&out(
                "boot 5b1c\nxen_major 4\nxen_minor 17\nxen_extra .3-pre\n",
            ))
            .unwrap();
        assert_eq!(
            state,
            BootState {
                boot_id: "5b1c".into(),
                xen: Some("4.17.3-pre".into())
            }
        );
        assert_eq!(HostBoot.parse(&out("boot 5b1c\n")).unwrap().xen, None);
        assert!(
            HostBoot.parse(&out("")).is_err(),
            "no boot id is an error, not a new boot"
        );
    }

    #[test]
    fn the_script_reads_this_machine() {
        let mut s = Script::new();
        HostBoot.script(&mut s);
        let script = s.finish().unwrap();
        let run = std::process::Command::new("sh")
            .arg("-c")
            .arg(String::from_utf8_lossy(&script).as_ref())
            .output()
            .unwrap();
        let state = HostBoot
            .parse(&CommandOutput {
                status: run.status.code().unwrap_or(-1),
                stdout: run.stdout,
            })
            .unwrap();
        assert_eq!(state.boot_id.len(), 36, "{state:?}");
    }
}
