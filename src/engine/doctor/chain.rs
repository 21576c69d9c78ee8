//! The boot chain of one guest, judged link by link: the host's config, the kernel file it
//! names (links resolved), that kernel's release, the release's modules in the guest, the
//! ramdisk and the drivers in it, the console. The first broken link decides the verdict.
//! Pure: what was read in, a [`GuestDoctor`] out.

use std::collections::BTreeSet;

use crate::facts::booted::{BootedKernel, DomainKind};
use crate::facts::initrd::{ImageState, module_name};

use super::console::{ConsoleFiles, console_problem};

/// How a guest's next boot will go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It boots, with its disk, network and a console to log in on.
    Ok,
    /// It does not come up (or comes up without its disk or network).
    WouldNotBoot,
    /// It boots, but nobody can log in on its serial console.
    NoConsole,
    /// The guest (or its host) could not be read, so nothing can be promised.
    Unknown,
}

impl Verdict {
    /// Words for tables: `ok`, `would not boot`, `no console`, `unknown`.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::WouldNotBoot => "would not boot",
            Verdict::NoConsole => "no console",
            Verdict::Unknown => "unknown",
        }
    }
}

/// One link of the chain and what was found there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChainLink {
    /// `config`, `kernel`, `modules`, `ramdisk`, `drivers` or `console`.
    pub link: &'static str,
    /// Whether this link holds.
    pub ok: bool,
    /// What was found, in a few words.
    pub detail: String,
}

/// `vmup doctor`'s finding for one guest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuestDoctor {
    /// Inventory name of the guest.
    pub guest: String,
    /// The host that boots it, when known.
    pub booted_by: Option<String>,
    /// The kernel release the host boots it with, when known.
    pub release: Option<String>,
    /// The release the guest runs now (`uname -r`), when it answered.
    pub running: Option<String>,
    /// Each link checked, in boot order, up to the first broken one.
    pub chain: Vec<ChainLink>,
    /// The verdict.
    pub verdict: Verdict,
    /// Why, when the verdict is not ok.
    pub reason: Option<String>,
    /// `--boot-test`: what booting the chain under QEMU on the host showed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_test: Option<super::boot_test::BootTest>,
    /// `--boot-test`: the console's last lines, when the boot failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
}

/// A driver the guest needs, by role, and the module names that provide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverNeed {
    /// `block` or `network`.
    pub role: &'static str,
    /// Any one of these modules will do (names compared with `-` read as `_`).
    pub any_of: Vec<String>,
}

/// The block and network drivers a guest of this kind boots with: Xen's front ends for xl
/// and xm configs and libvirt `xen` domains, virtio for KVM/QEMU domains. `vmup doctor`
/// lets the inventory override them (`block_driver`, `net_driver` variables).
pub fn default_drivers(kind: &DomainKind) -> Vec<DriverNeed> {
    let virtio = matches!(kind, DomainKind::Libvirt { domain_type } if domain_type != "xen");
    let names = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
    if virtio {
        vec![
            DriverNeed {
                role: "block",
                any_of: names(&["virtio_blk"]),
            },
            DriverNeed {
                role: "network",
                any_of: names(&["virtio_net"]),
            },
        ]
    } else {
        vec![
            DriverNeed {
                role: "block",
                any_of: names(&["xenblk", "xen_blkfront"]),
            },
            DriverNeed {
                role: "network",
                any_of: names(&["xennet", "xen_netfront"]),
            },
        ]
    }
}

/// What was read in the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestSeen {
    /// `/lib/modules/RELEASE` exists.
    pub modules_dir: bool,
    /// Module names built into the kernel (`/lib/modules/RELEASE/modules.builtin`).
    pub builtin: BTreeSet<String>,
    /// The files that decide console logins.
    pub console: ConsoleFiles,
}

/// Everything the verdict is made from.
#[derive(Debug, Clone)]
pub struct Observed {
    /// The host's config, read by the booted-kernel pre-phase.
    pub booted: Result<BootedKernel, String>,
    /// The guest's side, or why it could not be read.
    pub guest: Result<GuestSeen, String>,
    /// The ramdisk's listing on the host (None when the config names no ramdisk), or
    /// why it could not be listed.
    pub ramdisk: Option<Result<ImageState, String>>,
    /// The drivers the guest needs.
    pub drivers: Vec<DriverNeed>,
}

/// Judges the chain. Pure.
pub fn judge(guest: &str, seen: &Observed) -> GuestDoctor {
    let mut out = GuestDoctor {
        guest: guest.to_string(),
        booted_by: None,
        release: None,
        running: None,
        chain: Vec::new(),
        verdict: Verdict::Ok,
        reason: None,
        boot_test: None,
        console: None,
    };
    let booted = match &seen.booted {
        Ok(b) => b,
        Err(why) => {
            return out.broken(
                "config",
                Verdict::WouldNotBoot,
                format!("cannot tell what the host boots: {why}"),
            );
        }
    };
    out.booted_by = Some(booted.host.clone());
    out.release = Some(booted.release.clone());
    out.link(
        "config",
        true,
        format!("{} on {}", booted.config_path, booted.host),
    );
    let kernel = if booted.kernel_path == booted.resolved_path {
        booted.kernel_path.clone()
    } else {
        format!("{} -> {}", booted.kernel_path, booted.resolved_path)
    };
    if !booted.kernel_exists {
        return out.broken(
            "kernel",
            Verdict::WouldNotBoot,
            format!("kernel {kernel} does not exist on {}", booted.host),
        );
    }
    out.link(
        "kernel",
        true,
        format!("{kernel} (release {})", booted.release),
    );
    let guest_seen = match &seen.guest {
        Ok(g) => g,
        Err(why) => {
            return out.broken(
                "modules",
                Verdict::Unknown,
                format!("cannot read the guest: {why}"),
            );
        }
    };
    let modules = format!("/lib/modules/{}", booted.release);
    if !guest_seen.modules_dir {
        return out.broken(
            "modules",
            Verdict::WouldNotBoot,
            format!(
                "the guest has no {modules}: it would come up without its disk and network drivers"
            ),
        );
    }
    out.link("modules", true, format!("{modules} in the guest"));
    let in_ramdisk: BTreeSet<String> = match &seen.ramdisk {
        None => {
            out.link(
                "ramdisk",
                true,
                "none named: drivers must be built into the kernel".to_string(),
            );
            BTreeSet::new()
        }
        Some(Err(why)) => {
            return out.broken(
                "ramdisk",
                Verdict::Unknown,
                format!("cannot list the ramdisk: {why}"),
            );
        }
        Some(Ok(image)) => {
            let named = booted.ramdisk_path.as_deref().unwrap_or_default();
            let shown = match booted.ramdisk_resolved.as_deref() {
                Some(p) if p != named => format!("{named} -> {p}"),
                _ => named.to_string(),
            };
            let contents = match image {
                ImageState::Absent => {
                    return out.broken(
                        "ramdisk",
                        Verdict::WouldNotBoot,
                        format!("ramdisk {shown} does not exist on {}", booted.host),
                    );
                }
                ImageState::NotAFile => {
                    return out.broken(
                        "ramdisk",
                        Verdict::WouldNotBoot,
                        format!("ramdisk {shown} on {} is not a regular file", booted.host),
                    );
                }
                ImageState::Present(c) => c,
            };
            // An image built for another kernel holds modules the booted one cannot load.
            if !contents.by_release.is_empty() && !contents.by_release.contains_key(&booted.release)
            {
                let built: Vec<&str> = contents.by_release.keys().map(String::as_str).collect();
                return out.broken(
                    "ramdisk",
                    Verdict::WouldNotBoot,
                    format!(
                        "ramdisk {shown} holds modules for {}, not for {}",
                        built.join(", "),
                        booted.release
                    ),
                );
            }
            out.link(
                "ramdisk",
                true,
                format!(
                    "{shown} ({} entries, listed with {})",
                    contents.entries, contents.lister
                ),
            );
            match contents.by_release.get(&booted.release) {
                Some(mods) => mods.clone(),
                None => contents.modules.clone(),
            }
        }
    };
    let builtin: BTreeSet<String> = guest_seen.builtin.iter().map(|m| module_name(m)).collect();
    let mut found = Vec::new();
    for need in &seen.drivers {
        let names: Vec<String> = need.any_of.iter().map(|n| module_name(n)).collect();
        if let Some(n) = names.iter().find(|n| in_ramdisk.contains(*n)) {
            found.push(n.clone());
        } else if let Some(n) = names.iter().find(|n| builtin.contains(*n)) {
            found.push(format!("{n} (built in)"));
        } else {
            let wanted = need.any_of.join(" or ");
            let place = if seen.ramdisk.is_some() {
                "the ramdisk holds no"
            } else {
                "no ramdisk, and the kernel has no built-in"
            };
            return out.broken(
                "drivers",
                Verdict::WouldNotBoot,
                format!(
                    "{place} {} driver ({wanted}) for {}",
                    need.role, booted.release
                ),
            );
        }
    }
    out.link("drivers", true, found.join(", "));
    if let Some(why) = &booted.cmdline_error {
        return out.broken(
            "console",
            Verdict::Unknown,
            format!("cannot read the command line: {why}"),
        );
    }
    match console_problem(
        booted.cmdline.as_deref(),
        &booted.release,
        &guest_seen.console,
    ) {
        Some(problem) => out.broken("console", Verdict::NoConsole, problem),
        None => {
            out.link("console", true, booted.cmdline.clone().unwrap_or_default());
            out
        }
    }
}

impl GuestDoctor {
    fn link(&mut self, link: &'static str, ok: bool, detail: String) {
        self.chain.push(ChainLink { link, ok, detail });
    }

    fn broken(mut self, link: &'static str, verdict: Verdict, reason: String) -> GuestDoctor {
        self.link(link, false, reason.clone());
        self.verdict = verdict;
        self.reason = Some(reason);
        self
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
