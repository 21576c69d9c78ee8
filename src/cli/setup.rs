//! Loading the user's files for a fleet command: everything that can be wrong with the
//! input is found here or in `engine::prepare`, before any host is contacted, so bad input
//! exits 2 with nothing touched anywhere.

use std::path::Path;

use vmup::inventory::Inventory;
use vmup::runbook::Runbook;

use super::error::CliError;

/// Reads and checks the inventory; `become_everywhere` is `--become`: every host's scripts
/// then run as root through sudo (or its `become_method`).
pub fn inventory(path: &Path, become_everywhere: bool) -> Result<Inventory, CliError> {
    let mut inventory = Inventory::load(path).map_err(CliError::input)?;
    if become_everywhere {
        inventory.become_everywhere();
    }
    Ok(inventory)
}

/// Reads and checks the runbook.
pub fn runbook(path: &Path) -> Result<Runbook, CliError> {
    Runbook::load(path).map_err(CliError::input)
}
