//! Will each guest come up on its next boot? Installed kernels, the one the host boots, the
//! running one, and whether the booted release's modules are in the guest.
//!
//! The seed's failure in one sentence: after an update removed the old kernel package, the
//! host still boots the old kernel, whose /lib/modules directory is gone, and the guest
//! comes up without disk and network drivers. This is the check `vmup kernels` prints.

use crate::facts::Fact;
use crate::facts::booted::BootedKernel;
use crate::facts::kernels::KernelPackages;
use crate::formats::rpmqa::KernelInventory;

use super::gather::gather;
use super::prepare::Job;
use super::report::{HostDetail, HostReport, Phase, Status};
use super::work::{HostCtx, HostWork};

/// One installed kernel package of a guest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InstalledKernel {
    /// `NAME-VERSION-RELEASE.ARCH`.
    pub package: String,
    /// The kernel release it provides.
    pub release: String,
    /// /lib/modules/RELEASE exists in the guest.
    pub modules: bool,
}

/// A guest's kernels and the verdict on its next boot.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuestKernels {
    /// Inventory name of the guest.
    pub guest: String,
    /// Kernel packages installed in the guest, oldest first.
    pub installed: Vec<InstalledKernel>,
    /// The guest has no rpm database, so `installed` is unknown (the verdict, which reads
    /// /lib/modules, holds all the same).
    pub no_rpm_database: bool,
    /// What the host boots the guest with, if known.
    pub booted: Option<BootedKernel>,
    /// Why the booted kernel is unknown, when it is.
    pub booted_error: Option<String>,
    /// `uname -r` in the guest.
    pub running: Option<String>,
    /// True when nothing would break on the next boot.
    pub ok: bool,
    /// `ok`, or what would break.
    pub verdict: String,
}

/// Package names that are not kernels themselves, though they match `kernel*`.
const NOT_KERNELS: [&str; 6] = [
    "-devel",
    "-headers",
    "-doc",
    "-firmware",
    "-tools",
    "-tools-libs",
];

/// `vmup kernels`: per guest, the installed kernels and the verdict on its next boot. The
/// booted kernel comes from the job (the pre-phase read it on the guest's host).
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelCheck;

impl HostWork for KernelCheck {
    fn run(&self, job: &Job<'_>, ctx: &HostCtx<'_>) -> HostReport {
        let booted = job
            .booted
            .clone()
            .unwrap_or_else(|| Err("not read".to_string()));
        ctx.phase(&job.host.name, Phase::Facts);
        let fact = KernelPackages::new(&["kernel*".to_string()]);
        let checked = gather(job, &[fact.key()], ctx).and_then(|facts| {
            let inv = facts
                .get(&fact)
                .map_err(|e| super::error::HostError::Other(e.to_string()))?;
            Ok((inv, facts.kernel_release))
        });
        let (guest, status) = match checked {
            Ok((inv, running)) => {
                let guest = judge(&job.host.name, &inv, booted, running);
                let status = if guest.ok { Status::Ok } else { Status::Failed };
                (guest, status)
            }
            Err(e) => (
                GuestKernels {
                    guest: job.host.name.clone(),
                    installed: Vec::new(),
                    no_rpm_database: false,
                    booted: booted.as_ref().ok().cloned(),
                    booted_error: booted.err(),
                    running: None,
                    ok: false,
                    verdict: format!("cannot read the guest: {e}"),
                },
                e.status(),
            ),
        };
        let mut report = ctx.report(&job.host.name, Phase::Facts, status);
        if !guest.ok {
            report.error = Some(guest.verdict.clone());
        }
        report.detail = Some(HostDetail::Kernels(Box::new(guest)));
        report
    }
}

/// The verdict from what was read. Pure.
pub fn judge(
    guest: &str,
    inv: &KernelInventory,
    booted: Result<BootedKernel, String>,
    running: Option<String>,
) -> GuestKernels {
    let mut installed: Vec<InstalledKernel> = inv
        .packages
        .iter()
        .filter(|p| !NOT_KERNELS.iter().any(|s| p.name.ends_with(s)))
        .map(|p| {
            let release = inv.release_of(p);
            InstalledKernel {
                package: p.nevra(),
                modules: inv.modules.contains(&release),
                release,
            }
        })
        .collect();
    installed.sort_by(|a, b| a.package.cmp(&b.package));
    let (ok, verdict) = match &booted {
        Err(why) => (
            false,
            format!("cannot tell which kernel the host boots: {why}"),
        ),
        Ok(b) if !b.kernel_exists => (
            false,
            format!(
                "{} boots {}, which does not exist there: the guest will not start",
                b.host, b.resolved_path
            ),
        ),
        Ok(b) if !inv.modules.contains(&b.release) => (
            false,
            format!(
                "host boots {} but /lib/modules/{} is missing: the guest will come up without disk and network drivers",
                b.release, b.release
            ),
        ),
        Ok(_) => (true, "ok".to_string()),
    };
    GuestKernels {
        guest: guest.to_string(),
        installed,
        no_rpm_database: inv.no_database,
        booted: booted.as_ref().ok().cloned(),
        booted_error: booted.err(),
        running,
        ok,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn booted(release: &str) -> Result<BootedKernel, String> {
        Ok(BootedKernel::example(release))
    }

    #[test]
    fn missing_modules_of_the_booted_kernel_is_the_seeds_failure() {
        let inv = KernelInventory::parse(
            "pkg kernel-xenU (none) 2.6.9 67.0.1.EL noarch\npkg kernel-xenU-devel (none) 2.6.9 67.0.1.EL noarch\nmod 2.6.9-67.0.1.ELxenU\n",
        );
        let g = judge("ng2", &inv, booted("2.6.9-55.ELxenU"), None);
        assert!(!g.ok);
        assert_eq!(
            g.verdict,
            "host boots 2.6.9-55.ELxenU but /lib/modules/2.6.9-55.ELxenU is missing: the guest will come up without disk and network drivers"
        );
        assert_eq!(g.installed.len(), 1, "devel packages are not kernels");
        let g = judge("ng2", &inv, booted("2.6.9-67.0.1.ELxenU"), None);
        assert!(g.ok);
        assert_eq!(g.verdict, "ok");
        let g = judge("ng2", &inv, Err("no host".into()), None);
        assert!(!g.ok && g.verdict.contains("no host"));
    }
}
