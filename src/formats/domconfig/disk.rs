//! The guest's first disk, from a config's `disk = [ ... ]`: what a boot test opens on the
//! host as the guest's root disk. Reads xl's disk specs (`xl-disk-configuration(5)`):
//! positional `TARGET,VDEV,ACCESS,DEVTYPE` and keyed parameters, where a keyed `target=`
//! comes last and takes the rest of the spec, commas included; the legacy prefixes
//! (`phy:`, `file:`, `tap:aio:`, ...) that xm configs use are stripped.

use super::{DomainConfig, Unreadable, Value};

/// Prefixes a target may carry: the backend or format, not part of the path.
const PREFIXES: &[&str] = &[
    "tap2:", "tap:", "tapdisk:", "phy:", "file:", "aio:", "raw:", "qcow2:", "qcow:", "vhd:",
];

impl DomainConfig {
    /// The path of the first disk with a target, as the host names it; `None` when the
    /// config sets no disk; an error when `disk` cannot be read safely.
    ///
    /// Exists so `vmup doctor --boot-test` can boot the guest on a snapshot of its own disk.
    pub fn first_disk(&self) -> Option<Result<String, Unreadable>> {
        let eff = self.lookup("disk")?;
        let unreadable = || self.unreadable("disk", eff);
        let items = match &eff.value {
            Value::List(items) => items.clone(),
            Value::Str(s) => vec![Value::Str(s.clone())],
            _ => return Some(Err(unreadable())),
        };
        for item in items {
            match item {
                Value::Str(spec) => {
                    if let Some(path) = disk_target(&spec) {
                        return Some(Ok(path));
                    }
                }
                _ => return Some(Err(unreadable())),
            }
        }
        None
    }
}

/// The target path of one disk spec, if it has one. Pure.
pub fn disk_target(spec: &str) -> Option<String> {
    let target = if let Some(at) = spec
        .find("target=")
        .filter(|&i| i == 0 || spec[..i].trim_end().ends_with(','))
    {
        spec[at + "target=".len()..].to_string()
    } else {
        spec.split(',')
            .map(str::trim)
            .find(|f| !f.contains('='))?
            .to_string()
    };
    let mut t = target.trim();
    while let Some(p) = PREFIXES.iter().find(|p| t.starts_with(*p)) {
        t = &t[p.len()..];
    }
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::domconfig::Dialect;

    #[test]
    fn targets_of_every_spec_form() {
        assert_eq!(
            disk_target("phy:/dev/vg0/g01,sda1,w").as_deref(),
            Some("/dev/vg0/g01")
        );
        assert_eq!(
            disk_target("file:/var/lib/vmup-vm/vm1.img,xvda,w").as_deref(),
            Some("/var/lib/vmup-vm/vm1.img")
        );
        assert_eq!(
            disk_target("tap:aio:/srv/g.img,xvda1,w").as_deref(),
            Some("/srv/g.img")
        );
        assert_eq!(
            disk_target("format=raw, vdev=xvda, access=rw, target=/a,b.img").as_deref(),
            Some("/a,b.img")
        );
        assert_eq!(
            disk_target("/srv/plain.img,raw,xvda,rw").as_deref(),
            Some("/srv/plain.img")
        );
        assert_eq!(disk_target(",hdc:cdrom,r"), None);
    }

    #[test]
    fn the_first_disk_of_a_config() {
        let c = DomainConfig::parse(
            "disk = [ ',hdc:cdrom,r', 'phy:/dev/vg0/g01,sda1,w' ]\n",
            Dialect::Xl,
        )
        .unwrap();
        assert_eq!(c.first_disk().unwrap().unwrap(), "/dev/vg0/g01");
        let c = DomainConfig::parse("name = 'x'\n", Dialect::Xl).unwrap();
        assert!(c.first_disk().is_none());
        let c = DomainConfig::parse("import os\ndisk = [os.environ['D']]\n", Dialect::Xm).unwrap();
        assert!(c.first_disk().unwrap().is_err());
    }
}
