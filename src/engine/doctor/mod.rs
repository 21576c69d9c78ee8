//! `vmup doctor`: will each guest boot, with its disk, network and a console? The boot
//! chain from the host's config to the guest's login prompt, read on both machines and
//! judged link by link (`chain`), without writing anything.
//!
//! The host side (config, kernel, links, the ramdisk and the modules inside it) comes from
//! the booted-kernel pre-phase, which lists ramdisks when the selection needs
//! [`Need::RamdiskDrivers`](crate::resource::Need); the guest side (its
//! `/lib/modules/RELEASE`, `modules.builtin`, inittab, securetty, PAM's login) is one
//! round trip to the guest.

pub mod boot_test;
pub mod chain;
pub mod console;

use std::collections::BTreeSet;

use crate::facts::booted::BootedKernel;
use crate::facts::{FactKey, Facts, PathFact, file_fact, stat_fact};
use crate::inventory::Vars;

use super::gather::gather;
use super::prepare::Job;
use super::report::{HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork};

use boot_test::{BootTest, BootTestSpec, boot_test_script, parse_boot_test};
use chain::{DriverNeed, GuestSeen, Observed, default_drivers, judge};
pub use chain::{GuestDoctor, Verdict};
use console::ConsoleFiles;

/// `vmup doctor` on one guest job (the booted kernel, with its ramdisk listing, comes
/// from the job).
#[derive(Debug, Clone, Copy, Default)]
pub struct DoctorWork {
    /// `--boot-test`: boot each guest's chain under QEMU on its host, giving up after this
    /// many seconds without a verdict.
    pub boot_test: Option<u64>,
}

impl HostWork for DoctorWork {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        ctx.phase(&job.host.name, Phase::Facts);
        let mut found = diagnose(job, ctx);
        if let Some(timeout) = self.boot_test {
            ctx.phase(&job.host.name, Phase::Verify);
            boot_test(job, ctx, timeout, &mut found);
        }
        // A judged guest that would not boot is Not OK, not a failure: every guest gets
        // its verdict whatever the failure budget. A guest that could not be read failed.
        let status = match found.verdict {
            Verdict::Ok => Status::Ok,
            Verdict::WouldNotBoot | Verdict::NoConsole => Status::NotOk,
            Verdict::Unknown => Status::Failed,
        };
        let mut report = ctx.report(&job.host.name, Phase::Facts, status);
        report.error = found.reason.clone();
        report.detail = Some(HostDetail::Doctor(Box::new(found)));
        report
    }
}

/// Judges one guest job's boot chain: the host side from the job (read by the pre-phase
/// with [`Need::RamdiskDrivers`](crate::resource::Need)), the guest side in one round
/// trip. `vmup recreate` asks this before it touches a domain.
pub fn diagnose(job: &Job<'_>, ctx: &HostCtx<'_>) -> GuestDoctor {
    let booted = job
        .booted
        .clone()
        .unwrap_or_else(|| Err("not read".to_string()));
    let mut running = None;
    let guest = match &booted {
        Ok(b) => {
            let keys = guest_keys(&b.release);
            gather(job, &keys, ctx)
                .map(|facts| {
                    running.clone_from(&facts.kernel_release);
                    guest_seen(&facts, &b.release)
                })
                .map_err(|e| e.to_string())
        }
        Err(_) => Err("not read: the host side failed first".to_string()),
    };
    let (drivers, driver_error) = match &booted {
        Ok(b) => drivers_for(b, &job.vars),
        Err(_) => (Vec::new(), None),
    };
    let ramdisk = booted.as_ref().ok().and_then(|b| b.ramdisk_listing.clone());
    let observed = Observed {
        booted,
        guest,
        ramdisk,
        drivers,
    };
    let mut found = judge(&job.host.name, &observed);
    found.running = running;
    if let Some(why) = driver_error {
        found.verdict = Verdict::Unknown;
        found.reason = Some(why);
    }
    found
}

/// Boots the guest's chain under QEMU on its host and folds the result into `found`: a
/// failed boot makes an ok guest "would not boot"; an untestable kernel changes nothing
/// and says why.
fn boot_test(job: &Job<'_>, ctx: &HostCtx<'_>, timeout: u64, found: &mut GuestDoctor) {
    let (Some(Ok(booted)), Some((host, parent))) = (&job.booted, &job.parent) else {
        found.boot_test = Some(BootTest::Untestable(
            "the host's config could not be read".into(),
        ));
        return;
    };
    if !booted.kernel_exists {
        found.boot_test = Some(BootTest::Untestable(format!(
            "{} does not exist",
            booted.resolved_path
        )));
        return;
    }
    // The files the links lead to, under a local tree's root where the host is one.
    let spec = BootTestSpec {
        root: host.path_root(),
        kernel: booted.resolved_path.clone(),
        ramdisk: booted
            .ramdisk_resolved
            .clone()
            .or_else(|| booted.ramdisk_path.clone()),
        cmdline: booted.cmdline.clone().unwrap_or_default(),
        disk: booted.disk.clone(),
        timeout_secs: timeout,
    };
    ctx.count_trip();
    let result = boot_test_script(&spec)
        .map_err(|e| e.to_string())
        .and_then(|s| parent.run(&s).map_err(|e| e.to_string()));
    let (test, console) = match result {
        Ok(out) => parse_boot_test(&String::from_utf8_lossy(&out.stdout)),
        Err(e) => (
            BootTest::Failed(format!("on {}: {e}", booted.host)),
            String::new(),
        ),
    };
    if let BootTest::Failed(line) = &test {
        found.console = Some(console);
        if found.verdict == Verdict::Ok || found.verdict == Verdict::NoConsole {
            found.verdict = Verdict::WouldNotBoot;
            found.reason = Some(format!("the boot test on {} failed: {line}", booted.host));
        }
        found.chain.push(chain::ChainLink {
            link: "boot",
            ok: false,
            detail: line.clone(),
        });
    } else if let BootTest::Booted(line) = &test {
        found.chain.push(chain::ChainLink {
            link: "boot",
            ok: true,
            detail: line.clone(),
        });
    }
    found.boot_test = Some(test);
}

/// The guest's paths the chain reads, for `release`.
fn guest_keys(release: &str) -> Vec<FactKey> {
    vec![
        stat_fact(&format!("/lib/modules/{release}")),
        file_fact(&format!("/lib/modules/{release}/modules.builtin")),
        file_fact("/etc/inittab"),
        file_fact("/etc/securetty"),
        file_fact("/etc/pam.d/login"),
        stat_fact("/lib/systemd/systemd"),
        stat_fact("/usr/lib/systemd/systemd"),
    ]
}

/// What the guest's facts say. Pure.
fn guest_seen(facts: &Facts, release: &str) -> GuestSeen {
    let text = |path: &str| match facts.paths.get(path) {
        Some(PathFact::File {
            content: Some(c), ..
        }) => Some(String::from_utf8_lossy(c).into_owned()),
        _ => None,
    };
    let exists = |path: &str| !matches!(facts.paths.get(path), None | Some(PathFact::Absent));
    let builtin: BTreeSet<String> = text(&format!("/lib/modules/{release}/modules.builtin"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().rsplit('/').next())
        .filter_map(|f| f.split(".ko").next())
        .filter(|m| !m.is_empty())
        .map(crate::facts::initrd::module_name)
        .collect();
    GuestSeen {
        modules_dir: matches!(
            facts.paths.get(&format!("/lib/modules/{release}")),
            Some(PathFact::Dir { .. })
        ),
        builtin,
        console: ConsoleFiles {
            inittab: text("/etc/inittab"),
            securetty: text("/etc/securetty"),
            pam_login: text("/etc/pam.d/login"),
            systemd: exists("/lib/systemd/systemd") || exists("/usr/lib/systemd/systemd"),
        },
    }
}

/// The drivers the guest needs: the inventory's `block_driver` / `net_driver` variables
/// (a module name, or a list of alternatives) where set, else the domain kind's. A
/// variable of another type is an error for that guest, not a silent default.
fn drivers_for(booted: &BootedKernel, vars: &Vars) -> (Vec<DriverNeed>, Option<String>) {
    let mut needs = default_drivers(&booted.kind);
    for (var, role) in [("block_driver", "block"), ("net_driver", "network")] {
        let Some(value) = vars.get(var) else { continue };
        let names: Option<Vec<String>> = match value {
            toml::Value::String(s) => Some(s.split_whitespace().map(str::to_string).collect()),
            toml::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => None,
        };
        match names {
            Some(names) if !names.is_empty() => {
                if let Some(need) = needs.iter_mut().find(|n| n.role == role) {
                    need.any_of = names;
                }
            }
            _ => {
                return (
                    needs,
                    Some(format!(
                        "variable {var} must be a module name or a list of names, not {value}"
                    )),
                );
            }
        }
    }
    (needs, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inventory_variables_override_the_drivers_and_bad_ones_are_errors() {
        let booted = BootedKernel::example("6.1.0-27-cloud-amd64");
        let vars = Vars::from([
            ("block_driver".to_string(), toml::Value::from("virtio_blk")),
            (
                "net_driver".to_string(),
                toml::Value::Array(vec!["virtio_net".into(), "e1000".into()]),
            ),
        ]);
        let (needs, error) = drivers_for(&booted, &vars);
        assert_eq!(error, None);
        assert_eq!(needs[0].any_of, ["virtio_blk"]);
        assert_eq!(needs[1].any_of, ["virtio_net", "e1000"]);
        let vars = Vars::from([("net_driver".to_string(), toml::Value::from(3))]);
        let (_, error) = drivers_for(&booted, &vars);
        assert!(error.unwrap().contains("net_driver must be a module name"));
        let (needs, _) = drivers_for(&booted, &Vars::new());
        assert_eq!(needs[0].any_of, ["xenblk", "xen_blkfront"]);
    }

    #[test]
    fn built_in_modules_are_read_from_modules_builtin() {
        let mut facts = Facts::default();
        let release = "6.1.0-27-cloud-amd64";
        facts.paths.insert(
            format!("/lib/modules/{release}/modules.builtin"),
            PathFact::root_file(
                b"kernel/drivers/block/virtio_blk.ko\nkernel/drivers/net/xen-netfront.ko\n",
            ),
        );
        facts
            .paths
            .insert("/usr/lib/systemd/systemd".into(), PathFact::Other);
        let seen = guest_seen(&facts, release);
        assert!(!seen.modules_dir, "no directory fact: not there");
        assert_eq!(
            seen.builtin.into_iter().collect::<Vec<_>>(),
            ["virtio_blk", "xen_netfront"]
        );
        assert!(seen.console.systemd);
        assert_eq!(seen.console.inittab, None);
    }
}
