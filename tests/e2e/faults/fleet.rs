//! Faults on the ssh fleet. Placeholder until written.
pub fn run(_seed: u64, _rounds: usize) -> usize {
    0
}
