//! The kernel matrix: per guest, the kernels installed, the one its host boots and the
//! running one, from the `kernels` and `check` lines of the runs given.

use std::collections::BTreeMap;

use super::input::{GuestKernels, Run};

/// One row per guest, by name; where several runs report a guest, the last one given
/// wins (a `kernels` run saved after the apply shows the state after it).
pub fn matrix(runs: &[Run]) -> Vec<&GuestKernels> {
    let mut rows: BTreeMap<&str, &GuestKernels> = BTreeMap::new();
    for run in runs {
        for host in &run.hosts {
            if let Some(k) = &host.kernels {
                rows.insert(&k.guest, k);
            }
        }
    }
    rows.into_values().collect()
}
