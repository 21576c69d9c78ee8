//! Faults during a kernel prune. Placeholder until written.
pub fn run(_seed: u64, _rounds: usize) -> usize {
    0
}
