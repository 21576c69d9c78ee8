//! The fault-injection suite: vmup's promise ("every file old or new, never a half-done host
//! that could have been refused, never a removed kernel that is still needed, the summary
//! names every host's true state, and a rerun converges") checked after faults injected on
//! a seeded random schedule: on local trees (another writer in place or by replacement, a
//! script killed mid-apply, a host too slow for the timeout, a full disk, SIGINT to the
//! process group or SIGTERM at random moments, rpm's lock held during a kernel prune) and on
//! the real ssh test fleet (sshd killed mid-apply, a host's link cut, signals).
//!
//! `VMUP_FAULT_SEED=N` replays a schedule; the seed and the counts are printed (CI runs
//! this module with `--nocapture`). At least 1,000 faults are injected per full run.

mod fleet;
mod local;
mod model;
mod prune;
mod rng;

use std::sync::atomic::{AtomicUsize, Ordering};

/// Faults actually injected (a scheduled fault that never fired is not counted).
pub static INJECTED: AtomicUsize = AtomicUsize::new(0);

/// The seed for this run: `VMUP_FAULT_SEED` or the clock.
pub fn seed() -> u64 {
    std::env::var("VMUP_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

/// One run of all three parts, with the totals printed.
#[test]
fn faults_keep_every_promise() {
    let seed = seed();
    eprintln!("fault injection: seed {seed} (replay with VMUP_FAULT_SEED={seed})");
    let started = std::time::Instant::now();
    let timed = |part: &str, run: &dyn Fn() -> usize| {
        let t = std::time::Instant::now();
        let n = run();
        eprintln!(
            "fault injection: {part} took {:.0}s",
            t.elapsed().as_secs_f64()
        );
        n
    };
    let local = timed("local trees", &|| {
        local::run(
            seed,
            if std::env::var("VMUP_FAULT_SKIP_LOCAL").is_ok() {
                0
            } else {
                1000
            },
        )
    });
    let prune = timed("kernel prunes", &|| prune::run(seed ^ 0x5eed_0001, 6));
    let fleet = timed("ssh fleet", &|| fleet::run(seed ^ 0x5eed_0002, 6));
    let total = INJECTED.load(Ordering::SeqCst);
    eprintln!(
        "fault injection: {total} faults injected ({local} on local trees, {prune} during kernel prunes, {fleet} on the ssh fleet) in {:.0}s, 0 invariant violations, seed {seed}",
        started.elapsed().as_secs_f64()
    );
    assert!(total >= 1000, "only {total} faults were injected");
}
