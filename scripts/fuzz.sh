#!/usr/bin/env bash
# Coverage-guided fuzzing of vmup's parsers and editors with AFL++ (cargo-afl, stable Rust).
#
#   scripts/fuzz.sh --short              CI: replay the corpus, the planted-bug self check,
#                                        then 8 s per target, two at a time (1 minute)
#   scripts/fuzz.sh 300                  long mode: 300 s per target
#   scripts/fuzz.sh 300 ini lines        only these targets
#   scripts/fuzz.sh --self-test          the planted bug: found with coverage, and not found
#                                        by the same fuzzer without it (-n) in 30 s
#   scripts/fuzz.sh --minimize 300 ...   long mode, then add what the fuzzer found to
#                                        fuzz/corpus/<target>/: afl-cmin's pick of seeds and
#                                        queue, at most 40 per target (the smallest), those
#                                        over 512 bytes trimmed by afl-tmin
#   scripts/fuzz.sh --jobs 2 300         two targets at a time (one core each)
#   scripts/fuzz.sh --keep DIR 300       keep afl-fuzz's output (queues, stats) in DIR
#   scripts/fuzz.sh --minimize-kept DIR  --minimize on the queues a --keep run left in DIR
#   scripts/fuzz.sh --build-only         build the targets and stop (CI builds them early,
#                                        niced, while the tests run)
#
# Targets and their checks: fuzz/src/targets/ (`vmup-fuzz --list`). Prints executions per
# target; exits 1 on a crash (a panic: a failed property) or a reproducible hang, with the
# input saved under fuzz/artifacts/<target>/. Needs cargo-afl (scripts/install-deps.sh).
# The build goes to fuzz/target (FUZZ_TARGET_DIR overrides), never the main target dir:
# its flags differ and would throw the main build's cache away.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 2; }

mode=long seconds="" minimize=0 jobs=1 keep="" reuse=0 targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) mode=short; seconds=8; jobs=2 ;;
    --self-test) mode=selftest ;;
    --minimize) minimize=1 ;;
    --jobs) jobs=$2; shift ;;
    --keep) keep=$2; shift ;;
    --minimize-kept) minimize=1; reuse=1; keep=$2; mode=reuse; shift ;;
    --build-only) mode=build ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) if [ -z "$seconds" ] && [[ "$1" =~ ^[0-9]+$ ]]; then seconds=$1; else targets+=("$1"); fi ;;
  esac
  shift
done
if [ "$mode" = long ] && [ -z "$seconds" ]; then usage; fi

if ! cargo afl --version >/dev/null 2>&1; then
  echo "cargo-afl is missing: run scripts/install-deps.sh (cargo install cargo-afl)" >&2
  exit 1
fi

target_dir=${FUZZ_TARGET_DIR:-$root/fuzz/target}
echo "== building the fuzz targets (cargo afl build, $target_dir)"
build_start=$(date +%s)
# An explicit --target keeps cargo-afl's RUSTFLAGS (instrumentation, opt-level 3, one
# codegen unit) off the build scripts and proc macros (syn, serde_derive, ...), which then
# build as the release profile's build-override says: a tenth of the build's CPU, and the
# start of its critical path.
host=$(rustc -vV | sed -n 's/^host: //p')
CARGO_TARGET_DIR=$target_dir cargo afl build --release --features afl --quiet \
  --target "$host" --manifest-path fuzz/Cargo.toml
bin=$target_dir/$host/release/vmup-fuzz
echo "   built in $(( $(date +%s) - build_start ))s"
if [ "$mode" = build ]; then exit 0; fi

if [ "${#targets[@]}" -eq 0 ] && [ "$mode" != selftest ]; then
  # Every default target (`vmup-fuzz --list` names them; selftest is not one).
  mapfile -t targets < <("$bin" --list | cut -f1 | grep -vx selftest)
fi

if [ "$reuse" = 1 ]; then
  work=$(realpath "$keep")
elif [ -n "$keep" ]; then
  work=$(realpath -m "$keep"); rm -rf "$work"; mkdir -p "$work"
else
  work=$(mktemp -d /tmp/vmup-fuzz.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
export VMUP_FUZZ_SCRATCH=$work/scratch
export AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_FAST_CAL=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

field() { sed -n "s/^$2 *: *//p" "$1/default/fuzzer_stats" 2>/dev/null | head -1; }

# fuzz TARGET SECONDS [AFL-OPTIONS...]: one afl-fuzz run into $work/TARGET.
fuzz() {
  local t=$1 secs=$2; shift 2
  local seeds=$root/fuzz/corpus/$t
  if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
    seeds=$work/$t.seed; mkdir -p "$seeds"; printf 'seed' > "$seeds/seed"
  fi
  rm -rf "${work:?}/$t"
  cargo afl fuzz "$@" -i "$seeds" -o "$work/$t" -V "$secs" -t 1000 -- "$bin" "$t" \
    > "$work/$t.log" 2>&1 || { tail -30 "$work/$t.log"; echo "afl-fuzz failed for $t" >&2; return 1; }
}

# The planted bug in the selftest target: a coverage-guided fuzzer finds it in seconds.
selftest() {
  local start found
  start=$(date +%s)
  # It is found in 15-40 s here; the bound is only for a fuzzer that cannot find it (the run
  # stops at the first crash), so it is generous: a slow machine is not a broken fuzzer.
  AFL_BENCH_UNTIL_CRASH=1 fuzz selftest 180
  found=$(field "$work/selftest" saved_crashes)
  if [ "${found:-0}" -lt 1 ]; then
    echo "FAIL: the planted bug was not found in 180 s: coverage feedback is not working" >&2
    return 1
  fi
  echo "   planted bug found after $(field "$work/selftest" execs_done) executions," \
       "$(( $(date +%s) - start ))s (6 magic bytes: 2^48 blind guesses)"
}

if [ "$mode" = selftest ]; then
  echo "== self test: the planted bug, with coverage feedback"
  selftest
  echo "== the same fuzzer without coverage feedback (afl-fuzz -n, no CmpLog), 30 s"
  AFL_BENCH_UNTIL_CRASH=1 fuzz selftest 30 -n -c -
  # -n writes its statistics to plot_data only: total_execs is column 12, crashes 8.
  tail -1 "$work/selftest/plot_data" | awk -F', *' '{ print "   " $12 " executions, " $8 " crashes found" }'

  exit 0
fi

echo "== replaying the corpus (fuzz/corpus/<target>/)"
for t in "${targets[@]}"; do
  if [ -d "fuzz/corpus/$t" ]; then
    "$bin" "$t" "fuzz/corpus/$t" > "$work/replay.log" 2>&1 || {
      cat "$work/replay.log"; echo "FAIL: a corpus input of $t fails its check" >&2; exit 1; }
    tail -1 "$work/replay.log" | sed 's/^/   /'
  fi
done

if [ "$mode" = short ]; then
  echo "== self test: the planted bug"
  selftest
fi

[ "$reuse" = 1 ] || echo "== fuzzing ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
fuzz_start=$(date +%s)
# Run the fuzzers (up to $jobs at once; each afl-fuzz uses one core), then report.
running=0
for t in "${targets[@]}"; do
  if [ "$reuse" = 1 ]; then break; fi
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  ( fuzz "$t" "$seconds" || touch "$work/$t.failed" ) &
  running=$((running + 1))
done
wait
[ "$reuse" = 1 ] || echo "   fuzzed in $(( $(date +%s) - fuzz_start ))s"
failed=0 passed=0 broken=0
printf '%-14s %12s %6s %10s %7s %7s %8s %6s\n' target executions secs execs/s corpus edges crashes hangs
for t in "${targets[@]}"; do
  out=$work/$t
  if [ -e "$work/$t.failed" ]; then failed=1; broken=$((broken + 1)); continue; fi
  crashes=$(find "$out/default/crashes" -name 'id:*' 2>/dev/null | wc -l)
  hangs=$(find "$out/default/hangs" -name 'id:*' 2>/dev/null | wc -l)
  printf '%-14s %12s %6s %10s %7s %7s %8s %6s\n' "$t" "$(field "$out" execs_done)" \
    "$(field "$out" run_time)" "$(field "$out" execs_per_sec)" "$(field "$out" corpus_count)" \
    "$(field "$out" edges_found)" "$crashes" "$hangs"
  shown=0 bad=0
  for f in $(find "$out/default/crashes" "$out/default/hangs" -name 'id:*' 2>/dev/null); do
    kind=crash; case "$f" in */hangs/*) kind=hang ;; esac
    mkdir -p "fuzz/artifacts/$t"
    saved=fuzz/artifacts/$t/$kind-$(sha1sum "$f" | cut -c1-12)
    cp "$f" "$saved"
    if [ "$kind" = hang ]; then
      # A hang under load may be a slow machine: it counts when it still hangs alone.
      if timeout 10 "$bin" "$t" "$saved" >/dev/null 2>&1; then
        echo "   (not reproduced: $saved took under 10 s alone)"; rm -f "$saved"; continue
      fi
      echo "HANG: $t on $saved (over 10 s)" >&2
    else
      shown=$((shown + 1))
      if [ "$shown" -le 3 ]; then
        echo "CRASH: $t on $saved; replay: $bin $t $saved" >&2
        "$bin" "$t" "$saved" 2>&1 | grep -m1 -A1 panicked | sed 's/^/   /' >&2 || true
      fi
    fi
    bad=1
  done
  if [ "$shown" -gt 3 ]; then echo "   ... $((shown - 3)) more crashes of $t in fuzz/artifacts/$t/" >&2; fi
  if [ "$bad" = 1 ]; then failed=1; broken=$((broken + 1)); continue; fi
  passed=$((passed + 1))
  if [ "$minimize" = 1 ]; then
    # Keep the seeds (real files, readable) and add found inputs from afl-cmin's smallest
    # set covering what seeds and queue cover: the 40 smallest, big ones trimmed.
    mkdir -p "$work/$t.all" "$work/$t.min"
    cp "fuzz/corpus/$t"/* "$work/$t.all/" 2>/dev/null || true
    for q in "$out"/default/queue/id:*; do cp "$q" "$work/$t.all/found-$(sha1sum "$q" | cut -c1-12)"; done
    cargo afl cmin -i "$work/$t.all" -o "$work/$t.min" -t 1000 -- "$bin" "$t" > "$work/$t.cmin.log" 2>&1
    added=0
    for f in $(ls -Sr "$work/$t.min" | grep '^found-' | head -40); do
      f=$work/$t.min/$f
      if [ "$(stat -c %s "$f")" -gt 512 ]; then
        cargo afl tmin -i "$f" -o "$f.t" -t 1000 -- "$bin" "$t" > /dev/null 2>&1 || cp "$f" "$f.t"
      else
        cp "$f" "$f.t"
      fi
      cp "$f.t" "fuzz/corpus/$t/found-$(sha1sum "$f.t" | cut -c1-12)"
      added=$((added + 1))
    done
    echo "   corpus: $added found inputs added to fuzz/corpus/$t"
  fi
done
# The plain closing line CI reads: targets that ran clean, and those that did not.
echo "fuzz: $passed passed, $broken failed"
if [ "$failed" = 1 ]; then
  echo "FAIL: see the crashes and hangs above (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "== fuzzing done: no crash, no hang"
