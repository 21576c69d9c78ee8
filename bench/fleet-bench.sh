#!/usr/bin/env bash
# fleet-bench.sh: vmup against its peers on the real ssh test fleet
# (tests/fleet/fleet.sh). See bench/README.md.
#
#   sudo bench/fleet-bench.sh [--sizes 10,50,200] [--runs 3]
#
# For each size N: one fleet of N guests is brought up; for each run and each
# tool: the fleet is reset, the tool's FIRST run (everything to change) and
# SECOND run (nothing to change) are timed inside the controller network
# namespace, and after each run the files of every guest are compared with
# vmup's result on a reference guest. Prints a table of medians and writes the
# raw figures to bench/results/<UTC date>.tsv. Exits non-zero when any tool
# failed or left any guest different from the reference.
set -euo pipefail
umask 022

BENCH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(git -C "$BENCH" rev-parse --show-toplevel)
FLEET="$REPO/tests/fleet/fleet.sh"
RUNBOOK="$REPO/examples/runbook.toml"
CACHE=${VMUP_BENCH_CACHE:-/var/cache/vmup-bench}
VENV="$CACHE/venv"
ALL_TOOLS="vmup vmup-openssh pyinfra ansible ssh ssh-cm"

SIZES=50,200,1000
RUNS=3
TOOLS=$ALL_TOOLS
BIG_TOOLS="vmup pyinfra"
BIG_FROM=100
HUGE_TOOLS="vmup"
HUGE_FROM=1000
MAX_FORKS=200
SYNTHETIC=10000
SYNTHETIC_LATENCY_MS=50
VMUP=""
KEEP_WORK=0
UPGRADE=0

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 2; }

usage() {
    cat <<EOF
usage: fleet-bench.sh [--sizes 10,50,200] [--runs 3] [options]
  --sizes LIST       guest counts, comma-separated (default $SIZES)
  --runs R           repetitions of every (tool, size) (default $RUNS)
  --tools LIST       tools, comma-separated, out of: ${ALL_TOOLS// /,}
                     (default all; vmup-openssh = vmup with transport = "openssh")
  --big-tools LIST   tools run at sizes >= $BIG_FROM (default ${BIG_TOOLS// /,})
  --huge-tools LIST  tools run at sizes >= $HUGE_FROM (default ${HUGE_TOOLS// /,})
  --max-forks F      parallel hosts of vmup and pyinfra at most (default $MAX_FORKS;
                     below it, N: every host at once)
  --synthetic N      then vmup alone on N synthetic hosts (transport = "synthetic",
                     answering like a fresh guest's tree; 0: none; default $SYNTHETIC)
  --latency-ms L     each synthetic host's wait per script (default $SYNTHETIC_LATENCY_MS)
  --vmup PATH        use this vmup binary instead of building the repo's
  --upgrade-tools    reinstall pyinfra and ansible-core (latest) in $VENV
  --keep-work        keep the work directory (logs of every run)
Needs root (the fleet uses namespaces). Environment: VMUP_BENCH_CACHE (venv
location, default /var/cache/vmup-bench), VMUP_BENCH_TMP (fleets and logs,
default /dev/shm), VMUP_BENCH_IDLE_WAIT (seconds to wait for a quiet machine
before each timed run, default 30).
EOF
}

while [[ $# -gt 0 ]]; do
    case $1 in
        --sizes) SIZES=${2:?--sizes needs a list}; shift 2 ;;
        --runs) RUNS=${2:?--runs needs a number}; shift 2 ;;
        --tools) TOOLS=${2:?--tools needs a list}; TOOLS=${TOOLS//,/ }; shift 2 ;;
        --big-tools) BIG_TOOLS=${2:?--big-tools needs a list}; BIG_TOOLS=${BIG_TOOLS//,/ }; shift 2 ;;
        --huge-tools) HUGE_TOOLS=${2:?--huge-tools needs a list}; HUGE_TOOLS=${HUGE_TOOLS//,/ }; shift 2 ;;
        --max-forks) MAX_FORKS=${2:?--max-forks needs a number}; shift 2 ;;
        --synthetic) SYNTHETIC=${2:?--synthetic needs a number}; shift 2 ;;
        --latency-ms) SYNTHETIC_LATENCY_MS=${2:?--latency-ms needs a number}; shift 2 ;;
        --vmup) VMUP=${2:?--vmup needs a path}; shift 2 ;;
        --upgrade-tools) UPGRADE=1; shift ;;
        --keep-work) KEEP_WORK=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number (got $RUNS)"
[[ $MAX_FORKS =~ ^[1-9][0-9]*$ ]] || die "--max-forks must be a positive number (got $MAX_FORKS)"
[[ $SYNTHETIC =~ ^[0-9]+$ ]] || die "--synthetic must be a number (got $SYNTHETIC)"
[[ $SYNTHETIC_LATENCY_MS =~ ^[0-9]+$ ]] || die "--latency-ms must be a number (got $SYNTHETIC_LATENCY_MS)"
[[ $SIZES =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--sizes must be numbers separated by commas (got $SIZES)"
for t in $TOOLS $BIG_TOOLS $HUGE_TOOLS; do
    [[ " $ALL_TOOLS " == *" $t "* ]] || die "unknown tool: $t (known: $ALL_TOOLS)"
done
# every tool authenticates with the fleet's key file only, never an agent
unset SSH_AUTH_SOCK
[[ $(id -u) == 0 ]] || die "needs root (the test fleet uses namespaces and mounts): sudo $0"
for c in nsenter python3 ssh xargs git; do command -v "$c" >/dev/null || die "$c is not installed"; done
[[ -d /sys/fs/cgroup/cpuacct ]] || die "needs the cgroup-v1 cpuacct controller at /sys/fs/cgroup/cpuacct (CPU of whole process trees)"

# tmpfs by default: the fleet's `down` and `reset` delete many small files,
# which is slow on this machine's disk (tests/fleet/README.md, "Costs").
TMPBASE=${VMUP_BENCH_TMP:-/dev/shm}
[[ -d $TMPBASE ]] || TMPBASE=/var/tmp
WORK=$(mktemp -d "$TMPBASE/vmup-bench.XXXXXX")
# Overlay options of the fleet forbid unusual characters in its directory.
[[ $WORK =~ ^[A-Za-z0-9/._+-]+$ ]] || die "work directory $WORK has unusual characters (set VMUP_BENCH_TMP)"
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$BENCH/results"
TSV="$BENCH/results/$STAMP.tsv"
CG_PREFIX="vmup-bench-$$"
# vmup records every apply (as it would for an operator), here in the work directory.
export VMUP_HISTORY="$WORK/history.sqlite"
FLEETS_UP=()
FAILURES=0

# ---------------------------------------------------------------- clean-up

# Processes of ours still in one of our cgroups (ssh ControlMaster processes
# that daemonized): their pids are read from the cgroup, so only processes
# this script started are signalled.
kill_cgroup() { # NAME
    local cg="/sys/fs/cgroup/cpuacct/$1" pids p
    [[ -d $cg ]] || return 0
    pids=$(cat "$cg/cgroup.procs")
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 50); do [[ -z $(cat "$cg/cgroup.procs") ]] && break; sleep 0.1; done
        for p in $(cat "$cg/cgroup.procs"); do kill -KILL "$p" 2>/dev/null || true; done
        for _ in $(seq 50); do [[ -z $(cat "$cg/cgroup.procs") ]] && break; sleep 0.1; done
    fi
    rmdir "$cg" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local cg d
    for cg in /sys/fs/cgroup/cpuacct/"$CG_PREFIX"-*; do [[ -d $cg ]] && kill_cgroup "${cg##*/}"; done
    for d in "${FLEETS_UP[@]}"; do
        [[ -n $d ]] || continue
        say "bringing fleet $d down"
        "$FLEET" down "$d" >/dev/null 2>&1 || say "could not bring $d down: run $FLEET down $d"
    done
    if (( KEEP_WORK )); then say "work directory kept: $WORK"; else rm -rf -- "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# ---------------------------------------------------------------- tools

build_vmup() {
    if [[ -n $VMUP ]]; then
        [[ -x $VMUP ]] || die "--vmup $VMUP is not an executable"
        VMUP=$(realpath -- "$VMUP")
        return
    fi
    command -v cargo >/dev/null || die "cargo is not installed (or pass --vmup PATH)"
    say "building vmup (cargo build --release in $REPO)"
    (cd "$REPO" && cargo build --release --quiet) || die "cargo build --release failed"
    VMUP="$REPO/target/release/vmup"
}

ensure_venv() {
    if [[ ! -x $VENV/bin/pyinfra || ! -x $VENV/bin/ansible-playbook || $UPGRADE == 1 ]]; then
        say "installing pyinfra and ansible-core (latest) into $VENV"
        mkdir -p -- "$CACHE"
        [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" || die "python3 -m venv failed (apt-get install python3-venv)"
        "$VENV/bin/pip" install --quiet --upgrade pip pyinfra ansible-core \
            || die "pip install pyinfra ansible-core failed"
    fi
}

versions() {
    local v
    # the commit the binary was built from (the repo holding it, for --vmup)
    local src
    src=$(git -C "$(dirname -- "$VMUP")" rev-parse --show-toplevel 2>/dev/null || echo "$REPO")
    echo "vmup        $("$VMUP" --version 2>/dev/null || echo '?') (commit $(git -C "$src" rev-parse --short HEAD)$(git -C "$src" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2>/dev/null || echo '+uncommitted'); $VMUP)"
    echo "pyinfra     $("$VENV/bin/pyinfra" --version 2>&1 | awk '{print $NF}')"
    v=$("$VENV/bin/pip" show ansible-core 2>/dev/null | awk '/^Version:/{print $2}')
    echo "ansible     ansible-core $v"
    echo "paramiko    $("$VENV/bin/pip" show paramiko 2>/dev/null | awk '/^Version:/{print $2}') (pyinfra's ssh client)"
    echo "openssh     $(ssh -V 2>&1)"
    echo "python      $("$VENV/bin/python" --version 2>&1)"
    echo "machine     $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
}

# ---------------------------------------------------------------- fleet

# guest_pids DIR: "NAME PID" of every running guest's PID 1 (from `status`).
guest_pids() {
    "$FLEET" status "$1" | awk '$3 == "guest" && $4 == "running" { print $1, $6 }'
}

# snapshot DIR OUTDIR: the state (lib/state.sh) of every guest, one file each,
# read from inside the machine's mount namespace (no ssh, no sshd log).
snapshot() {
    local dir=$1 out=$2 name pid n=0
    rm -rf -- "$out"; mkdir -p -- "$out"
    while read -r name pid; do
        nsenter --target "$pid" --mount --root --wd -- \
            env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -s <"$BENCH/lib/state.sh" >"$out/$name" 2>&1 &
        n=$((n + 1))
        (( n % 32 == 0 )) && wait
    done < <(guest_pids "$dir")
    wait
}

# verify DIR LABEL: every guest equals the reference; prints "ok" or "FAIL".
verify() {
    local dir=$1 label=$2 f bad=0 first=""
    snapshot "$dir" "$WORK/state"
    local count; count=$(find "$WORK/state" -type f | wc -l)
    if (( count != N )); then
        say "$label: found $count running guests, expected $N"
        echo FAIL; return
    fi
    for f in "$WORK/state"/*; do
        if ! cmp -s "$f" "$WORK/expected.state"; then
            bad=$((bad + 1)); [[ -n $first ]] || first=$f
        fi
    done
    if (( bad )); then
        say "$label: $bad of $N guests differ from the reference; first: ${first##*/}:"
        diff -u "$WORK/expected.state" "$first" | sed 's/^/    /' >&2 || true
        echo FAIL
    else
        echo ok
    fi
}

# ---------------------------------------------------------------- runs

# prepare_size DIR: inventories and host lists of this fleet for every tool.
prepare_size() {
    local dir=$1 rd=$2 name addr role
    mkdir -p -- "$rd"
    awk '$3 == "guest" { print $1 }' "$dir/hosts.txt" >"$rd/guests.txt"
    {
        echo "# generated by bench/fleet-bench.sh from $dir/hosts.txt"
        echo "guests = ["
        while read -r name addr role; do
            [[ $role == guest ]] || continue
            printf '    ("%s", {"ssh_hostname": "%s", "ssh_user": "root", "ssh_key": "%s",\n' "$name" "$addr" "$dir/id_ed25519"
            printf '            "ssh_known_hosts_file": "%s", "ssh_strict_host_key_checking": "yes",\n' "$dir/known_hosts"
            printf '            "ssh_allow_agent": False, "ssh_look_for_keys": False}),\n'
        done <"$dir/hosts.txt"
        echo "]"
    } >"$rd/pyinfra_inventory.py"
    { echo "[guests]"; cat "$rd/guests.txt"; } >"$rd/ansible_inventory.ini"
    # vmup-openssh: the fleet's inventory with the system-OpenSSH transport.
    sed 's/^user = "root"$/user = "root"\ntransport = "openssh"/' "$dir/inventory.toml" >"$rd/inventory-openssh.toml"
}

# tool_cmd TOOL DIR RUNDIR N: the command line, one word per line... set in CMD.
tool_cmd() {
    local tool=$1 dir=$2 rd=$3 n=$4
    (( n > MAX_FORKS )) && n=$MAX_FORKS
    case $tool in
        vmup) CMD=("$VMUP" apply -i "$dir/inventory.toml" "$RUNBOOK" -F "$dir/ssh_config" --forks "$n" --limit guests --yes) ;;
        vmup-openssh) CMD=("$VMUP" apply -i "$rd/inventory-openssh.toml" "$RUNBOOK" -F "$dir/ssh_config" --forks "$n" --limit guests --yes) ;;
        pyinfra) CMD=("$VENV/bin/pyinfra" -y --parallel "$n" "$rd/pyinfra_inventory.py" "$BENCH/pyinfra/deploy.py") ;;
        ansible) CMD=(env ANSIBLE_CONFIG="$BENCH/ansible/ansible.cfg" ANSIBLE_FORKS="$n"
                      ANSIBLE_SSH_ARGS="-C -o ControlMaster=auto -o ControlPersist=60s -F $dir/ssh_config"
                      ANSIBLE_SSH_CONTROL_PATH_DIR="$rd/ansible-cp" ANSIBLE_LOCAL_TEMP="$rd/ansible-tmp"
                      "$VENV/bin/ansible-playbook" -i "$rd/ansible_inventory.ini" "$BENCH/ansible/site.yml") ;;
        ssh) CMD=(xargs -a "$rd/guests.txt" -P "$n" -I '{}' sh -c 'exec ssh -F "$1" "$2" sh -s <"$3" >"$4/$2.log" 2>&1'
                  sh "$dir/ssh_config" '{}' "$BENCH/plain/update.sh" "$rd/ssh-logs") ;;
        ssh-cm) CMD=(xargs -a "$rd/guests.txt" -P "$n" -I '{}' sh -c 'exec ssh -F "$1" -o ControlMaster=no -o ControlPath="$5/%h" "$2" sh -s <"$3" >"$4/$2.log" 2>&1'
                  sh "$dir/ssh_config" '{}' "$BENCH/plain/update.sh" "$rd/ssh-logs" "$rd/cm") ;;
    esac
}

# open_masters DIR RUNDIR N CGROUP: one ControlMaster per guest, opened before
# the timing (in the run's cgroup, so the CPU they spend *during* the run is
# counted; their set-up is not).
open_masters() {
    local dir=$1 rd=$2 n=$3 cg=$4
    mkdir -p -- "$rd/cm"
    "$FLEET" ctl "$dir" python3 "$BENCH/lib/measure.py" "$rd/cm-open.tsv" "$cg" -- \
        xargs -a "$rd/guests.txt" -P "$n" -I '{}' \
        ssh -F "$dir/ssh_config" -o ControlMaster=yes -o ControlPath="$rd/cm/%h" -o ControlPersist=600 -fN '{}' \
        || die "could not open the ControlMaster connections"
}

# measure TOOL KIND REP: one timed run of TOOL on the fleet of size N; appends
# a TSV row; counts a failure when the tool fails or a guest is not as expected.
measure() {
    local tool=$1 kind=$2 rep=$3
    local rd="$WORK/n$N/$tool" cg="$CG_PREFIX-$tool-n$N"
    local log="$rd/$kind-$rep.log"
    mkdir -p -- "$rd/ssh-logs"
    tool_cmd "$tool" "$DIR" "$rd" "$N"
    rm -f -- "$rd/m.tsv"
    "$FLEET" clear-counts "$DIR" 2>/dev/null
    local g1 forks0 forks1
    g1=$(head -n 1 "$WORK/n$N/guests.txt")
    forks0=$("$FLEET" count-forks "$DIR" "$g1")
    local rc=0
    ( cd "$rd" && "$FLEET" ctl "$DIR" python3 "$BENCH/lib/measure.py" "$rd/m.tsv" "$cg" -- "${CMD[@]}" ) \
        >"$log" 2>&1 </dev/null || rc=$?
    [[ -s $rd/m.tsv ]] || die "$tool did not run (see $log)"
    local code wall tree rus busy load pre rss
    IFS=$'\t' read -r code wall tree rus busy load pre rss <"$rd/m.tsv"
    # Ansible's ControlPersist masters outlive the run: end them so that every
    # run starts from cold connections, as every other tool's does.
    [[ $tool == ansible ]] && kill_cgroup "$cg"
    # ssh connections and remote commands (exec channels) the first guest served
    forks1=$("$FLEET" count-forks "$DIR" "$g1")
    local conns cmds
    conns=$("$FLEET" count-connections "$DIR" "$g1")
    cmds=$("$FLEET" count-commands "$DIR" "$g1")
    # ssh-cm must go through the masters opened beforehand: a client whose
    # master refused would silently open its own connection.
    if [[ $tool == ssh-cm && $conns != 0 ]]; then
        say "ssh-cm: $g1 accepted $conns new connection(s): the ControlMaster was not used"
        code="cm-unused"
    fi
    local v; v=$(verify "$DIR" "$tool N=$N $kind run $rep")
    local per_host; per_host=$(awk -v t="$tree" -v n="$N" 'BEGIN { printf "%.1f", t / n }')
    if [[ $code != 0 || $v != ok ]]; then
        FAILURES=$((FAILURES + 1))
        say "$tool N=$N $kind run $rep: exit $code, guests $v (log: $log)"
        tail -n 15 "$log" | sed 's/^/    /' >&2
    fi
    record "$tool" "$kind" "$rep" "$code" "$v" "$wall" "$tree" "$per_host" "$rus" "$busy" "$load" "$pre" "$conns" "$cmds" "$rss" "$((forks1 - forks0))"
}

# record TOOL KIND REP CODE GUESTS WALL TREE PER_HOST RUS BUSY LOAD PRE CONNS CMDS RSS FORKS:
# one TSV line and one progress line.
record() {
    local IFS=$'\t'
    printf '%s\t%s\t%s\t%s\n' "$STAMP" "$1" "$N" "${*:2}" >>"$TSV"
    printf '  %-12s N=%-5s %-6s run %s: %7.2f s  %7.1f ms CPU/host  %6.1f MiB  %s conn %2s cmds %3s forks  (guests %s, exit %s, machine %s%% busy before)\n' \
        "$1" "$N" "$2" "$3" "$6" "$8" "${15}" "${13}" "${14}" "${16}" "$5" "$4" "${12}" >&2
}

reset_fleet() {
    "$FLEET" reset "$DIR" >"$WORK/reset.log" 2>&1 || { cat "$WORK/reset.log" >&2; die "fleet.sh reset $DIR failed"; }
}

# reference: vmup on one fresh guest gives the expected state of every guest
# (state.sh prints nothing host-specific). A fresh guest must differ from it.
make_reference() {
    reset_fleet
    local ref; ref=$(head -n 1 "$WORK/n$N/guests.txt")
    snapshot "$DIR" "$WORK/state"
    cp -- "$WORK/state/$ref" "$WORK/fresh.state"
    save_fresh_tree "$ref"
    say "reference: vmup apply on $ref"
    "$FLEET" ctl "$DIR" "$VMUP" apply -i "$DIR/inventory.toml" "$RUNBOOK" -F "$DIR/ssh_config" --limit "$ref" \
        >"$WORK/reference.log" 2>&1 </dev/null || { cat "$WORK/reference.log" >&2; die "vmup apply on the reference guest $ref failed"; }
    snapshot "$DIR" "$WORK/state"
    cp -- "$WORK/state/$ref" "$WORK/expected.state"
    cmp -s "$WORK/fresh.state" "$WORK/expected.state" && die "vmup changed nothing on the reference guest $ref"
    sed 's/^/    /' "$WORK/expected.state" >&2
}

# save_fresh_tree GUEST: the files the runbook reads, copied from a fresh guest into
# $WORK/fresh-tree (the synthetic hosts' tree; /lib's symlink followed into a directory).
save_fresh_tree() {
    local pid
    pid=$(guest_pids "$DIR" | awk -v g="$1" '$1 == g { print $2 }')
    [[ -n $pid ]] || die "guest $1 is not running"
    rm -rf -- "$WORK/fresh-tree"; mkdir -p -- "$WORK/fresh-tree"
    nsenter --target "$pid" --mount --root --wd -- tar --ignore-failed-read -C / -cf - etc lib/tls boot 2>/dev/null \
        | tar -C "$WORK/fresh-tree" -xf - || die "could not copy a fresh guest's files"
}

# run_synthetic N: vmup alone on N synthetic guests (100 per synthetic dom0), each
# answering like the fresh guest's tree after --latency-ms per script: the controller
# alone at a size no test machine holds in sshd processes. First run, then second run.
run_synthetic() {
    N=$1
    [[ -d $WORK/fresh-tree ]] || die "no fresh guest tree to make synthetic hosts from (run a real size first)"
    local sd="$WORK/synthetic-$N" d g rep kind
    for ((rep = 1; rep <= RUNS; rep++)); do
        rm -rf -- "$sd"; mkdir -p -- "$sd/dom0"
        cp -a -- "$WORK/fresh-tree" "$sd/guest"
        {
            printf '[defaults]\ntransport = "synthetic"\nlatency_ms = %s\n' "$SYNTHETIC_LATENCY_MS"
            for ((d = 0; d * 100 < N; d++)); do
                printf '\n[hosts.xen%03d]\nrole = "host"\nroot = "dom0"\n' "$d"
                for ((g = 0; g < 100 && d * 100 + g < N; g++)); do
                    printf '\n[hosts.g%05d]\nhost = "xen%03d"\nroot = "guest"\ngroups = ["grid"]\n' "$((d * 100 + g))" "$d"
                done
            done
        } >"$sd/inventory.toml"
        for kind in first second; do
            local rd="$WORK/n$N/vmup-synthetic" cg="$CG_PREFIX-synthetic-n$N"
            mkdir -p -- "$rd"; rm -f -- "$rd/m.tsv"
            local log="$rd/$kind-$rep.log" rc=0
            ( cd "$sd" && python3 "$BENCH/lib/measure.py" "$rd/m.tsv" "$cg" -- \
                "$VMUP" apply -i "$sd/inventory.toml" "$RUNBOOK" --forks "$MAX_FORKS" --limit guests --yes ) \
                >"$log" 2>&1 </dev/null || rc=$?
            [[ -s $rd/m.tsv ]] || die "vmup (synthetic) did not run (see $log)"
            local code wall tree rus busy load pre rss
            IFS=$'\t' read -r code wall tree rus busy load pre rss <"$rd/m.tsv"
            kill_cgroup "$cg"
            # Every guest changed on the first run and none on the second: the closing line.
            local want="$N changed"; [[ $kind == second ]] && want="0 changed"
            local v=ok
            grep -q "^apply: $N host(s), $want " "$log" || v=FAIL
            if [[ $code != 0 || $v != ok ]]; then
                FAILURES=$((FAILURES + 1))
                say "vmup-synthetic N=$N $kind run $rep: exit $code, summary $v (log: $log)"
                tail -n 5 "$log" | sed 's/^/    /' >&2
            fi
            local per_host; per_host=$(awk -v t="$tree" -v n="$N" 'BEGIN { printf "%.2f", t / n }')
            record vmup-synthetic "$kind" "$rep" "$code" "$v" "$wall" "$tree" "$per_host" "$rus" "$busy" "$load" "$pre" - - "$rss" -
        done
    done
}

run_size() {
    N=$1
    DIR="$WORK/fleet-$N"
    local tools=$TOOLS t rep kind
    if (( N >= BIG_FROM )); then
        local big=$BIG_TOOLS
        (( N >= HUGE_FROM )) && big=$HUGE_TOOLS
        tools=""
        for t in $TOOLS; do [[ " $big " != *" $t "* ]] || tools+="$t "; done
    fi
    [[ -n ${tools// /} ]] || { say "N=$N: no tool selected (see --big-tools, --huge-tools)"; return; }
    say "N=$N: bringing up $N guests"
    FLEETS_UP+=("$DIR")
    "$FLEET" up "$DIR" "$N" >"$WORK/up-$N.log" 2>&1 || { tail -n 20 "$WORK/up-$N.log" >&2; die "fleet.sh up $DIR $N failed"; }
    say "N=$N: $(tail -n 1 "$WORK/up-$N.log")"
    prepare_size "$DIR" "$WORK/n$N"
    for t in $tools; do prepare_size "$DIR" "$WORK/n$N/$t"; done
    [[ -f $WORK/expected.state ]] || make_reference
    local -a order
    read -r -a order <<<"$tools"
    for ((rep = 1; rep <= RUNS; rep++)); do
        for t in "${order[@]}"; do
            reset_fleet
            local cg="$CG_PREFIX-$t-n$N"
            [[ $t == ssh-cm ]] && open_masters "$DIR" "$WORK/n$N/$t" "$N" "$cg"
            for kind in first second; do measure "$t" "$kind" "$rep"; done
            kill_cgroup "$cg"
        done
        # next repetition starts with the next tool (drift spreads evenly)
        order=("${order[@]:1}" "${order[0]}")
    done
    say "N=$N: bringing the fleet down"
    "$FLEET" down "$DIR" >/dev/null 2>&1 || say "could not bring $DIR down"
    local keep=() d
    for d in "${FLEETS_UP[@]}"; do [[ $d == "$DIR" ]] || keep+=("$d"); done
    FLEETS_UP=("${keep[@]}")
}

# ---------------------------------------------------------------- main

ensure_venv
build_vmup
VERSIONS=$(versions)
printf '%s\n' "$VERSIONS" >&2
printf 'stamp\ttool\tN\trun\trep\texit\tguests\twall_s\tcpu_ms\tcpu_ms_per_host\trusage_cpu_ms\tmachine_busy_ms\tload1\tpre_busy_pct\tconns_guest1\tcmds_guest1\tpeak_rss_mib\tforks_guest1\n' >"$TSV"
say "raw results: $TSV"
IFS=, read -r -a SIZE_LIST <<<"$SIZES"
for n in "${SIZE_LIST[@]}"; do run_size "$n"; done
(( SYNTHETIC > 0 )) && run_synthetic "$SYNTHETIC"

echo
printf '%s\n' "$VERSIONS" | sed 's/^/# /'
python3 "$BENCH/lib/summarize.py" "$TSV"
if (( FAILURES )); then
    say "$FAILURES run(s) failed or left guests different from the reference (see above)"
    exit 1
fi
