#!/usr/bin/env bash
# The whole check, as CI runs it: dependencies, formatting, lints, docs, every test
# (unit tests, and end-to-end tests against the built binary, local trees and the real
# ssh test fleet), then a short fuzzing run of every parser and editor. Run as root on
# Debian: the fleet needs network namespaces and mounts.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

scripts/install-deps.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "== cargo clippy -D warnings on the fuzz harness (its own workspace: built nowhere else before the fuzzing step)"
# In the main target dir: its lock file pins the same dependencies, so their check builds
# are the ones the line above made (a target dir of its own rebuilt them all, 1-2 minutes).
CARGO_TARGET_DIR=target cargo clippy --manifest-path fuzz/Cargo.toml --all-targets --quiet -- -D warnings
echo "== cargo doc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
echo "== forbidden leftovers"
if grep -rnE '\b(dbg!|todo!|unimplemented!)' src tests; then echo "remove the leftovers above"; exit 1; fi
echo "== the README's demo command"
cargo run --quiet -- demo >/tmp/vmup-demo.log || { cat /tmp/vmup-demo.log; exit 1; }
tail -1 /tmp/vmup-demo.log
# The fuzz targets' build (an instrumented release build of its own, mostly one core for
# the vmup crate) runs at the lowest priority beside the tests, which leave cores idle
# while they wait on sshd, QEMU and timeouts; the fuzzing step below then finds it built.
echo "== building the fuzz targets in the background, niced (log: /tmp/vmup-fuzz-build.log)"
setsid nice -n 19 scripts/fuzz.sh --build-only >/tmp/vmup-fuzz-build.log 2>&1 &
fuzz_build=$!
# Its own process group, stopped with everything it started if a step below fails.
trap 'kill -- "-$fuzz_build" 2>/dev/null || true' EXIT
echo "== tests"
cargo test --quiet -- --skip faults:: 2>&1 | tee /tmp/vmup-test.log
echo "== fault injection (seeded; replay a failure with VMUP_FAULT_SEED=N)"
cargo test --quiet --test e2e faults:: -- --nocapture 2>&1 | tee /tmp/vmup-faults.log
echo "== waiting for the fuzz targets' build"
wait "$fuzz_build" || { cat /tmp/vmup-fuzz-build.log; echo "the fuzz build failed"; exit 1; }
cat /tmp/vmup-fuzz-build.log
echo "== fuzzing, short run (scripts/fuzz.sh --short)"
scripts/fuzz.sh --short
echo "== ci done in $(( $(date +%s) - start ))s"
