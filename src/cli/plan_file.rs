//! The file `plan --out` writes and `apply --plan` reads: JSON, one fingerprint per host
//! (see `engine::saved_plan`), and what the plan was made with: the runbook's, the
//! inventory's and the `-e` values' SHA-256 (values themselves are not written), and the
//! vmup version. A plan made from other inputs is refused whole, before any host is
//! contacted; a host whose facts moved on is refused alone, at apply time.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vmup::engine::saved_plan::Fingerprint;
use vmup::engine::{HostReport, Status};

use super::error::CliError;

/// The format's version; a file of another is refused.
const FORMAT: u32 = 1;

/// A saved plan.
#[derive(Debug, Serialize, Deserialize)]
pub struct PlanFile {
    /// [`FORMAT`].
    pub vmup_plan: u32,
    /// The vmup that made it: another version may plan differently.
    pub vmup_version: String,
    /// When it was made (UTC).
    pub created: String,
    /// SHA-256 of the runbook, the inventory and the `-e` values it was made with.
    pub inputs: Inputs,
    /// Per host that was planned: its fingerprint and how its plan ended.
    pub hosts: BTreeMap<String, SavedHost>,
}

/// What a plan was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The runbook file's SHA-256.
    pub runbook: String,
    /// The inventory file's SHA-256.
    pub inventory: String,
    /// SHA-256 over the `-e NAME=VALUE` pairs, in order.
    pub extra_vars: String,
}

/// One host of a saved plan.
#[derive(Debug, Serialize, Deserialize)]
pub struct SavedHost {
    /// `changed` or `ok` (a host whose plan failed is not saved).
    pub status: String,
    /// What its plan was made from and what it planned.
    pub fingerprint: Fingerprint,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Inputs {
    /// The hashes of the files and values a run is given.
    pub fn of(
        runbook: &Path,
        inventory: &Path,
        extra_vars: &[(String, String)],
    ) -> Result<Inputs, CliError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map(|b| sha256_hex(&b))
                .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))
        };
        let mut vars = Vec::new();
        for (name, value) in extra_vars {
            for part in [name, value] {
                vars.extend((part.len() as u64).to_be_bytes());
                vars.extend(part.as_bytes());
            }
        }
        Ok(Inputs {
            runbook: read(runbook)?,
            inventory: read(inventory)?,
            extra_vars: sha256_hex(&vars),
        })
    }
}

impl PlanFile {
    /// The plan of `reports`: every host whose plan was made (`ok`, `changed`).
    pub fn from_reports(inputs: Inputs, reports: &[HostReport]) -> PlanFile {
        PlanFile {
            vmup_plan: FORMAT,
            vmup_version: env!("CARGO_PKG_VERSION").to_string(),
            created: super::logging::utc(std::time::SystemTime::now()),
            inputs,
            hosts: reports
                .iter()
                .filter(|r| matches!(r.status, Status::Ok | Status::Changed))
                .filter_map(|r| {
                    let fingerprint = r.fingerprint.clone()?;
                    Some((
                        r.host.clone(),
                        SavedHost {
                            status: r.status.as_str().to_string(),
                            fingerprint,
                        },
                    ))
                })
                .collect(),
        }
    }

    /// Writes the plan whole (a temporary file renamed over FILE), readable by its owner
    /// only: it holds the diffs, which hold file contents.
    pub fn save(&self, path: &Path) -> Result<(), CliError> {
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| CliError::failed(format!("cannot encode the plan: {e}")))?;
        let temp = path.with_extension("vmup-new");
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)
            .and_then(|mut f| {
                f.write_all(&text)?;
                f.write_all(b"\n")?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&temp, path));
        written.map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            CliError::failed(format!("cannot write the plan to {}: {e}", path.display()))
        })
    }

    /// Reads a saved plan and checks it was made by this vmup from `inputs`.
    pub fn load(path: &Path, inputs: &Inputs) -> Result<PlanFile, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::input(format!("--plan {}: {e}", path.display()))
                .hint("make one with vmup plan --out FILE")
        })?;
        let plan: PlanFile = serde_json::from_str(&text).map_err(|e| {
            CliError::input(format!(
                "{}:{}:{}: not a vmup plan: {e}",
                path.display(),
                e.line(),
                e.column()
            ))
            .hint("make one with vmup plan --out FILE")
        })?;
        let again = |why: String| {
            CliError::input(format!("--plan {}: {why}; nothing was run", path.display()))
                .hint("review a new plan: vmup plan --out FILE")
        };
        if plan.vmup_plan != FORMAT || plan.vmup_version != env!("CARGO_PKG_VERSION") {
            return Err(again(format!(
                "made by vmup {} (plan format {}), this is vmup {} (format {FORMAT})",
                plan.vmup_version,
                plan.vmup_plan,
                env!("CARGO_PKG_VERSION")
            )));
        }
        for (what, saved, now) in [
            ("the runbook", &plan.inputs.runbook, &inputs.runbook),
            ("the inventory", &plan.inputs.inventory, &inputs.inventory),
            ("the -e values", &plan.inputs.extra_vars, &inputs.extra_vars),
        ] {
            if saved != now {
                return Err(again(format!(
                    "{what} changed since the plan was made ({})",
                    plan.created
                )));
            }
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_values_are_hashed_unambiguously() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let of = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            Inputs::of(&file, &file, &vars).unwrap().extra_vars
        };
        assert_ne!(of(&[("ab", "c")]), of(&[("a", "bc")]));
        assert_eq!(of(&[("a", "b")]), of(&[("a", "b")]));
        assert!(!of(&[("token", "s3cret")]).contains("s3cret"));
    }
}
