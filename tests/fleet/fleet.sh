#!/usr/bin/env bash
# fleet.sh: a fleet of fake Xen PV guests and dom0 hosts for vmup's end-to-end
# tests. Every machine is a set of Linux namespaces (net, mount, pid, uts,
# ipc) whose root is an overlayfs over one cached Debian base, with sshd as
# PID 1. Nothing is touched in the root network namespace: all machines hang
# off a bridge inside a private "controller" network namespace.
# See README.md beside this file for the layout and the measured costs.
set -euo pipefail
umask 022

FLEET_TOOLS=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SELF="$FLEET_TOOLS/fleet.sh"
FIXTURES=$(cd -- "$FLEET_TOOLS/../../fixtures/centos4" && pwd)
# What the base is debootstrapped with. dom0s build initrds with dracut (Debian's
# dracut-core: `dracut` itself conflicts with initramfs-tools), kmod and cpio, and
# read them with the decompressors. The default cache path carries a hash of this
# list, so a base built from another list is never reused (nor touched: fleets of
# other checkouts may have it mounted); a VMUP_TESTBED_CACHE built from another list
# is rebuilt (its .vmup-base-packages says which).
BASE_PACKAGES=openssh-server,rpm,dnf,python3,dracut-core,kmod,cpio,xz-utils,zstd,sudo,opendoas
BASE_KEY=$(printf '%s' "$BASE_PACKAGES" | sha256sum | cut -c1-8)
BASE_CACHE=${VMUP_TESTBED_CACHE:-/var/cache/vmup-testbed/base-bookworm-$BASE_KEY}
CACHE_ROOT=$(dirname -- "$BASE_CACHE")
SUITE=bookworm
# Bridge ports are limited to 1024 by the kernel (BR_MAX_PORTS): 1,000 guests
# and their dom0s fit, with the controller's port.
MAX_MACHINES=1020
# RFC 2544 benchmarking range: never routed, never clashes with a real LAN.
NET_PREFIX_LEN=15
CTL_ADDR=198.18.0.1
# Fixed MACs and permanent neighbour entries on both sides: the kernel's ARP
# table is shared by all namespaces and its limits (gc_thresh*, 1024 entries
# by default) can only be raised in the root namespace; permanent entries do
# not count against them, so 1000 machines need no ARP at all.
CTL_MAC=02:00:c6:12:00:01
FIRST_HOST_OFFSET=10
# Every overlay mount uses these: redirect_dir=on makes rename(2) of a lower
# directory work (else EXDEV); index and metacopy stay off so a host's upper
# dir can be thrown away and layers restacked freely.
OVL_OPTS="redirect_dir=on,index=off,metacopy=off,xino=off"

# Files `down` may remove from DIR (nothing else there is touched).
GENERATED_FILES=(.vmup-fleet .fleet.lock .lock fleet.env hosts.txt inventory.toml ssh_config
    known_hosts known_hosts.hashed id_ed25519 id_ed25519.pub id_rsa id_rsa.pub
    id_ecdsa id_ecdsa.pub hosts layers rpms vm)

# ---------------------------------------------------------------- messages

say() { printf 'fleet: %s\n' "$*" >&2; }
die() { printf 'fleet: error: %s\n' "$*" >&2; exit 1; }

now_ns() { date +%s%N; }

# VMUP_FLEET_TRACE=1 prints how long each step of a command took.
TRACE_LAST=""
trace() {
    [[ ${VMUP_FLEET_TRACE:-} == 1 ]] || return 0
    local t; t=$(now_ns)
    [[ -n $TRACE_LAST ]] && printf 'fleet: trace: %-28s %s s\n' "$1" "$(elapsed_since "$TRACE_LAST")" >&2
    TRACE_LAST=$t
}
elapsed_since() { # START_NS -> "1.23"
    local d=$(( $(now_ns) - $1 ))
    printf '%d.%02d' $(( d / 1000000000 )) $(( d % 1000000000 / 10000000 ))
}

usage() {
    cat <<'EOF'
usage: fleet.sh COMMAND ...
  base                          build (or reuse) the cached Debian base root
  up DIR N [--hosts H] [--vm]   bring up N guests and H dom0 hosts (state in DIR);
                                --vm: and vm1, a real QEMU guest that xen1 boots
  down DIR [--keep-files]       stop and remove everything the fleet created
  reset DIR                     wipe every machine's changes and restart it
  stop-host DIR NAME [--unreachable]
                                stop one machine's sshd (connections refused;
                                --unreachable: its link goes down too, timeouts)
  start-host DIR NAME           start it again
  become-host DIR NAME [--password]
                                root login refused on NAME; user vmup (the fleet's
                                keys) may sudo/doas without a password (with
                                --password: both ask for one)
  exec DIR NAME CMD...          run CMD inside machine NAME (no ssh)
  ctl DIR CMD...                run CMD in the controller network namespace
  count-commands DIR NAME       remote commands (exec/shell channels) NAME served
  count-connections DIR NAME    authenticated ssh connections NAME accepted
  count-forks DIR NAME          processes and threads created in NAME's PID
                                namespace since it started (its own reads not counted)
  clear-counts DIR              reset both counters on every machine
  status DIR                    list machines and whether they run
EOF
}

# ---------------------------------------------------------------- base root

# The mirror is read from apt's own configuration at run time, so no host
# name is ever written down here. Deb822 first, then one-line sources.
mirror_url() {
    local url=""
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        url=$(awk -v suite="$SUITE" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "" && found == "") {
                    split(uris, u, " "); found = u[1]
                }
                types = ""; suites = ""; uris = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "types:"  { $1 = ""; types = $0 }
            tolower($1) == "suites:" { $1 = ""; suites = $0 }
            tolower($1) == "uris:"   { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
            END { flush(); print found }
        ' /etc/apt/sources.list.d/*.sources)
    fi
    if [[ -z $url ]]; then
        url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk -v suite="$SUITE" '
            $1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                          if ($(i+1) == suite) { print $i; exit } }')
    fi
    [[ -n $url ]] || die "no apt source for $SUITE found in /etc/apt (cannot pick a mirror)"
    printf '%s\n' "$url"
}

# Build into a temp dir and rename it into place only when complete, under a
# lock, so a killed or concurrent build never leaves a broken cache.
cmd_base() {
    # --path: where the base is (or would be), for vm.sh; nothing is built.
    [[ $# -eq 1 && $1 == --path ]] && { printf '%s\n' "$BASE_CACHE"; return 0; }
    [[ $# -eq 0 ]] || die "usage: fleet.sh base [--path]"
    ensure_base
}

base_ready() {
    [[ -e $BASE_CACHE/.vmup-base-complete ]] \
        && [[ $(cat -- "$BASE_CACHE/.vmup-base-packages" 2>/dev/null) == "$BASE_PACKAGES" ]]
}

ensure_base() {
    base_ready && return 0
    mkdir -p -- "$CACHE_ROOT"
    exec 8>"$CACHE_ROOT/.base.lock"
    flock 8
    if base_ready; then exec 8>&-; return 0; fi
    command -v debootstrap >/dev/null || die "debootstrap is not installed"
    local mirror tmp start
    mirror=$(mirror_url)
    tmp="$BASE_CACHE.tmp.$$"
    # Leftovers of a killed build; --one-file-system in case anything is
    # still mounted below them (it cannot be: see unshare below).
    rm -rf --one-file-system -- "$BASE_CACHE".tmp.*
    start=$(now_ns)
    say "building base root $BASE_CACHE from $mirror (about a minute, once)"
    # debootstrap mounts /proc and /sys inside the target: in a private
    # mount namespace those mounts die with it, even if the build is killed.
    if ! unshare --mount --propagation private -- \
            debootstrap --variant=minbase --include="$BASE_PACKAGES" \
            "$SUITE" "$tmp" "$mirror" >"$CACHE_ROOT/debootstrap.log" 2>&1; then
        tail -n 20 "$CACHE_ROOT/debootstrap.log" >&2
        rm -rf --one-file-system -- "$tmp"
        die "debootstrap failed (full log: $CACHE_ROOT/debootstrap.log)"
    fi
    finish_base "$tmp"
    rm -rf -- "$BASE_CACHE"
    mv -T -- "$tmp" "$BASE_CACHE"
    exec 8>&-
    say "base root ready in $(elapsed_since "$start") s ($(du -sh "$BASE_CACHE" | cut -f1))"
}

# Make the base generic: no host keys, no hostname, no machine id, no apt
# cache; Debian's rpm keeps its database under ~/.rpmdb unless told otherwise.
finish_base() {
    local root=$1
    rm -f -- "$root"/etc/ssh/ssh_host_*
    : >"$root/etc/machine-id"
    printf 'localhost\n' >"$root/etc/hostname"
    rm -rf -- "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*_Packages
    mkdir -p -- "$root/etc/rpm" "$root/var/lib/rpm"
    printf '%%_dbpath /var/lib/rpm\n' >"$root/etc/rpm/macros"
    printf '%s\n' "$BASE_PACKAGES" >"$root/.vmup-base-packages"
    date -u +%FT%TZ >"$root/.vmup-base-complete"
}

# ---------------------------------------------------------------- fleet state

# open_fleet DIR: sets the globals every command uses. The DIR hash names
# the namespaces, so two fleets (two test runs) never collide.
open_fleet() {
    [[ -n ${1:-} ]] || die "missing DIR"
    DIR=$(realpath -m -- "$1")
    # Overlay options use ',' and ':' as separators: keep paths plain.
    [[ $DIR =~ ^[A-Za-z0-9/._+-]+$ ]] || die "DIR may only hold letters, digits and / . _ + - (got $DIR)"
    [[ $BASE_CACHE =~ ^[A-Za-z0-9/._+-]+$ ]] || die "VMUP_TESTBED_CACHE may only hold letters, digits and / . _ + -"
    HASH=$(printf '%s' "$DIR" | sha256sum | cut -c1-8)
    CTL_NS="vmup-ctl-$HASH"
    HOST_NS_PREFIX="vmup-$HASH-"
    MARKER="$DIR/.vmup-fleet"
}

# Serialise commands that change the fleet (two `up`s at once would race).
lock_fleet() {
    mkdir -p -- "$DIR"
    exec 9>"$DIR/.fleet.lock"
    flock -w 120 9 || die "$DIR is locked by another fleet.sh (waited 2 minutes)"
}

# plan_fleet N H: names, addresses and roles of every machine, dom0s first.
#   NAMES[i] ADDRS[i] MACS[i] ROLES[i] (host|guest); for guests DOM0_OF[i], DOMAIN_OF[i], GUEST_NO[i]
plan_fleet() {
    local n=$1 h=$2 i k=$FIRST_HOST_OFFSET mac
    NAMES=() ADDRS=() MACS=() ROLES=() DOM0_OF=() DOMAIN_OF=() GUEST_NO=()
    declare -gA INDEX=()
    next_addr() { # skips .0 and .255 so no tool mistakes an address for a network or broadcast one
        while (( k % 256 == 0 || k % 256 == 255 )); do k=$((k + 1)); done
        ADDRS+=("198.$((18 + k / 65536)).$((k / 256 % 256)).$((k % 256))")
        printf -v mac '02:00:c6:%02x:%02x:%02x' $((18 + k / 65536)) $((k / 256 % 256)) $((k % 256))
        MACS+=("$mac")
        k=$((k + 1))
    }
    for ((i = 1; i <= h; i++)); do
        next_addr
        NAMES+=("xen$i") ROLES+=(host) DOM0_OF+=("") DOMAIN_OF+=("") GUEST_NO+=(0)
    done
    local name
    for ((i = 1; i <= n; i++)); do
        next_addr
        printf -v name 'g%02d' "$i"
        NAMES+=("$name") ROLES+=(guest) GUEST_NO+=("$i") DOMAIN_OF+=("${name^^}")
        # Round robin over the dom0s: g01 on xen1, g02 on xen2, ...
        if (( h > 0 )); then DOM0_OF+=("xen$(( (i - 1) % h + 1 ))"); else DOM0_OF+=(""); fi
    done
    for i in "${!NAMES[@]}"; do INDEX[${NAMES[i]}]=$i; done
}

# read_fleet: plan_fleet from the marker written by `up`.
read_fleet() {
    [[ -f $MARKER ]] || die "no fleet in $DIR (run: fleet.sh up $DIR N)"
    local guests hosts
    guests=$(sed -n 's/^guests=//p' "$MARKER")
    hosts=$(sed -n 's/^hosts=//p' "$MARKER")
    plan_fleet "$guests" "$hosts"
    plan_vm "$(sed -n 's/^vms=//p' "$MARKER")"
}

index_of() { # NAME -> index into NAMES, or die
    [[ -n ${INDEX[$1]:-} ]] || die "no machine named $1 in $DIR (machines: ${NAMES[*]})"
    echo "${INDEX[$1]}"
}

# ---------------------------------------------------------------- processes

# netns_inodes NS...: prints "NS INODE" for every existing namespace file.
netns_inodes() {
    local f=() ns
    for ns in "$@"; do [[ -e /run/netns/$ns ]] && f+=("/run/netns/$ns"); done
    (( ${#f[@]} )) || return 0
    stat -L -c '%n %i' -- "${f[@]}" | sed 's|^/run/netns/||'
}

# in_netns PID NS: the process lives in that network namespace. [[ -ef ]]
# compares the nsfs inodes behind /proc/PID/ns/net and /run/netns/NS without
# starting a process (a zombie has no namespaces, so it never matches).
in_netns() { [[ /proc/$1/ns/net -ef /run/netns/$2 ]]; }

# running_pids NAME...: prints "NAME PID1 LAUNCHER" for each machine whose
# recorded PID 1 still exists and still lives in that machine's network
# namespace (so a reused pid is never signalled).
running_pids() {
    local name pid ppid
    for name in "$@"; do
        [[ -f $DIR/hosts/$name/pid ]] || continue
        read -r pid ppid <"$DIR/hosts/$name/pid" || continue
        in_netns "$pid" "$HOST_NS_PREFIX$name" || continue
        echo "$name $pid $ppid"
    done
}

# stop_machines NAME...: SIGTERM each PID 1 (sshd; `unshare --fork` would
# ignore it), wait until PID 1 and its launcher are gone (then the machine's
# mount namespace, and with it the overlay mount, is gone too), SIGKILL
# whatever is left after a few seconds.
stop_machines() {
    local -a victims=() ; local name pid ppid deadline sig
    while read -r name pid ppid; do
        kill -TERM "$pid" 2>/dev/null || true
        victims+=("$pid:$HOST_NS_PREFIX$name" "$ppid:$HOST_NS_PREFIX$name")
    done < <(running_pids "$@")
    for sig in KILL none; do
        deadline=$(( SECONDS + 5 ))
        while :; do
            local left=() v
            for v in "${victims[@]}"; do in_netns "${v%%:*}" "${v#*:}" && left+=("$v"); done
            victims=("${left[@]}")
            (( ${#victims[@]} == 0 )) && break 2
            (( SECONDS >= deadline )) && break
            sleep 0.02
        done
        [[ $sig == none ]] && die "could not stop pids: ${victims[*]%%:*}"
        say "machines did not stop on SIGTERM, sending SIGKILL to ${victims[*]%%:*}"
        for v in "${victims[@]}"; do kill -KILL "${v%%:*}" 2>/dev/null || true; done
    done
    local pidfiles=()
    for name in "$@"; do pidfiles+=("$DIR/hosts/$name/pid"); done
    rm -f -- "${pidfiles[@]}"
}

# start_machines NAME...: launch each machine in the background, detached
# (setsid) from the caller and without the lock fds (a machine must not hold
# the fleet lock); host-init.sh records its pids in DIR/hosts/NAME/pid.
start_machines() {
    local name i hd lower bind seed dirs=() pidfiles=()
    for name in "$@"; do
        dirs+=("$DIR/hosts/$name/upper" "$DIR/hosts/$name/work" "$DIR/hosts/$name/root")
        pidfiles+=("$DIR/hosts/$name/pid")
    done
    (( $# )) || return 0
    rm -f -- "${pidfiles[@]}"
    mkdir -p -- "${dirs[@]}"
    for name in "$@"; do
        i=${INDEX[$name]}
        hd="$DIR/hosts/$name"
        if [[ ${ROLES[i]} == host ]]; then seed="$DIR/layers/seed-dom0"; else seed="$DIR/layers/seed-guest"; fi
        lower="$hd/layer:$seed:$BASE_CACHE" bind=""
        if [[ $name == "$VM_DOM0" ]]; then
            # QEMU, the VM's repository and its kernel (files, and the rpm database that
            # holds it: a dom0 has none of its own); the VM's disk is written in place.
            lower="$hd/layer:$seed:$VM_DOM0_LAYER:$VM_REPO_LAYER:$VM_KERNEL_LAYER:$VM_KERNEL_RPMDB:$BASE_CACHE"
            bind="$DIR/vm/share:/var/lib/vmup-vm"
        fi
        # A machine lives on after this script: it keeps no descriptor of its caller
        # (a `flock LOCK cargo test` lock held open would stay held while it runs).
        (
            close_inherited_fds
            exec setsid nsenter --net="/run/netns/$HOST_NS_PREFIX$name" -- \
                unshare --mount --uts --ipc --pid --fork --kill-child -- \
                /bin/sh "$FLEET_TOOLS/host-init.sh" "$name" "$hd/root" "$lower" "$hd/upper" "$hd/work" \
                    "${ADDRS[i]}/$NET_PREFIX_LEN" "$CTL_ADDR" "$CTL_MAC" "$hd/pid" $bind
        ) </dev/null >"$hd/console.log" 2>&1 &
    done
}

# close_inherited_fds: closes every descriptor above 2 of this (sub)shell: the
# fleet's own locks and whatever the caller left open.
close_inherited_fds() {
    local fd fds=()
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        (( fd > 2 )) && fds+=("$fd")
    done
    for fd in "${fds[@]}"; do eval "exec $fd>&-" 2>/dev/null || true; done
}

# wait_ready NAME...: every machine's sshd answers on port 22 from the
# controller namespace (one parallel probe, 30 s at most).
wait_ready() {
    (( $# )) || return 0
    local args=() name i failed names=() f
    for name in "$@"; do
        i=${INDEX[$name]}
        args+=("$name=${ADDRS[i]}=$DIR/hosts/$name/pid")
    done
    if ! failed=$(nsenter --net="/run/netns/$CTL_NS" -- python3 "$FLEET_TOOLS/probe.py" 30 "${args[@]}" 2>&1); then
        while read -r name reason; do
            names+=("$name")
            say "$name $reason"
            for f in "$DIR/hosts/$name/console.log" "$DIR/hosts/$name/upper/var/log/sshd.log"; do
                [[ -s $f ]] && tail -n 5 -- "$f" | sed "s|^|  $name ${f##*/}: |" >&2
            done
        done <<<"$failed"
        die "machines not answering on port 22: ${names[*]}"
    fi
}

# ---------------------------------------------------------------- network

# ensure_network: controller namespace with bridge br0 (198.18.0.1/15), one
# namespace per machine, one veth pair each (eth0 inside the machine, vhI on
# the bridge). Only what is missing is created; the root namespace is never
# touched. The machine's eth0 gets its address from host-init.sh.
ensure_network() {
    local existing batch="" i name ns
    existing=" $(ip netns list | awk '{printf "%s ", $1}')"
    [[ $existing == *" $CTL_NS "* ]] || batch+="netns add $CTL_NS"$'\n'
    for name in "${NAMES[@]}"; do
        ns=$HOST_NS_PREFIX$name
        [[ $existing == *" $ns "* ]] || batch+="netns add $ns"$'\n'
    done
    [[ -z $batch ]] || ip -batch - <<<"$batch"

    if ! ip -n "$CTL_NS" link show br0 >/dev/null 2>&1; then
        ip -n "$CTL_NS" -batch - <<EOF
link set lo up
link add br0 address $CTL_MAC type bridge forward_delay 0 stp_state 0
addr add $CTL_ADDR/$NET_PREFIX_LEN dev br0
link set br0 up
EOF
    fi
    local links
    links=" $(ip -n "$CTL_NS" -o link show | awk -F': ' '{sub(/@.*/, "", $2); printf "%s ", $2}')"
    batch=""
    for i in "${!NAMES[@]}"; do
        [[ $links == *" vh$i "* ]] && continue
        batch+="link add vh$i type veth peer name eth0 address ${MACS[i]} netns $HOST_NS_PREFIX${NAMES[i]}"$'\n'
        batch+="link set vh$i master br0 up"$'\n'
    done
    for i in "${!NAMES[@]}"; do
        # (up again after stop-host --unreachable)
        batch+="link set vh$i up"$'\n'
        batch+="neigh replace ${ADDRS[i]} lladdr ${MACS[i]} dev br0 nud permanent"$'\n'
    done
    ip -n "$CTL_NS" -batch - <<<"$batch"
}

# ---------------------------------------------------------------- files

# write_atomic FILE: stdin to FILE via a temp file and rename.
write_atomic() {
    cat >"$1.tmp.$$"
    mv -f -- "$1.tmp.$$" "$1"
}

# Client keys (ed25519, RSA 3072, ECDSA P-256) are test keys, authorized only
# on fleet machines: they are generated once per machine next to the base
# cache and copied into each fleet, because RSA key generation alone costs
# about a second of CPU.
ensure_client_keys() {
    local keys="$CACHE_ROOT/client-keys" f
    if [[ ! -f $keys/id_ecdsa.pub ]]; then
        mkdir -p -- "$CACHE_ROOT"
        local tmp
        tmp=$(mktemp -d "$CACHE_ROOT/.client-keys.XXXXXX")
        ssh-keygen -q -t ed25519 -N '' -C "vmup-fleet" -f "$tmp/id_ed25519"
        ssh-keygen -q -t rsa -b 3072 -N '' -C "vmup-fleet-rsa" -f "$tmp/id_rsa"
        ssh-keygen -q -t ecdsa -b 256 -N '' -C "vmup-fleet-ecdsa" -f "$tmp/id_ecdsa"
        mv -T -- "$tmp" "$keys" 2>/dev/null || rm -rf -- "$tmp"
    fi
    for f in id_ed25519 id_rsa id_ecdsa; do
        [[ -f $DIR/$f && -f $DIR/$f.pub ]] && continue
        cp -- "$keys/$f" "$keys/$f.pub" "$DIR/"
    done
    chmod 0600 -- "$DIR/id_ed25519" "$DIR/id_rsa" "$DIR/id_ecdsa"
}

# The xm-style domain config the runbook edits on the dom0.
domain_config() { # GUEST-INDEX
    local i=$1 no=${GUEST_NO[$1]}
    printf 'kernel = "/boot/vmlinuz-2.6.9-ELxenU"\n'
    printf 'ramdisk = "/boot/initrd-2.6.9-ELxenU-xendrv.img"\n'
    printf 'memory = 512\n'
    printf 'name = "%s"\n' "${DOMAIN_OF[i]}"
    printf "vif = [ 'mac=00:16:3e:00:%02x:%02x, bridge=xenbr0' ]\n" $((no / 256 % 256)) $((no % 256))
    printf "disk = [ 'phy:/dev/vg0/%s,sda1,w' ]\n" "${NAMES[i]}"
    printf 'root = "/dev/sda1 ro"\n'
    printf 'extra = "3"\n'
}

# ensure_host_layers: the small per-machine layer (hostname, /etc/hosts, host key,
# authorized_keys, and on a dom0 the domain configs of its guests). Written
# into plain directories: a layer only holds real directories of the base
# (/etc, /root), never a path through one of bookworm's /lib-style symlinks,
# and its directory modes match the base's because an upper layer's win.
# DIR/hosts/NAME/layer.ok marks a complete layer (outside the layer, so the
# machine never sees it). Costs one ssh-keygen per machine, run in parallel.
ensure_host_layers() {
    local i j name l todo=() dirs=() roots=() rmdirs=() pids=() p failed=0 auth
    for i in "${!NAMES[@]}"; do
        name=${NAMES[i]}
        [[ -f $DIR/hosts/$name/layer.ok ]] && continue
        todo+=("$i")
        l="$DIR/hosts/$name/layer"
        [[ -e $l ]] && rmdirs+=("$l")
        dirs+=("$l/etc/ssh")
        roots+=("$l/root" "$l/root/.ssh")
        [[ ${ROLES[i]} == host ]] && dirs+=("$l/etc/xen")
    done
    (( ${#todo[@]} )) || return 0
    (( ${#rmdirs[@]} )) && rm -rf -- "${rmdirs[@]}"
    mkdir -p -- "${dirs[@]}"
    mkdir -m 0700 -- "${roots[@]}"
    for i in "${todo[@]}"; do
        ssh-keygen -q -t ed25519 -N '' -C "root@${NAMES[i]}" \
            -f "$DIR/hosts/${NAMES[i]}/layer/etc/ssh/ssh_host_ed25519_key" </dev/null >/dev/null &
        pids+=($!)
    done
    auth=$(<"$DIR/id_ed25519.pub")$'\n'$(<"$DIR/id_rsa.pub")$'\n'$(<"$DIR/id_ecdsa.pub")
    local oldmask
    oldmask=$(umask)
    umask 077
    for i in "${todo[@]}"; do
        l="$DIR/hosts/${NAMES[i]}/layer"
        printf '%s\n' "$auth" >"$l/root/.ssh/authorized_keys"
    done
    umask "$oldmask"
    for i in "${todo[@]}"; do
        name=${NAMES[i]}
        l="$DIR/hosts/$name/layer"
        printf '%s\n' "$name" >"$l/etc/hostname"
        # The base has no /etc/hosts and keeps the build machine's resolv.conf, whose
        # server is unreachable from the fleet. Every dnf run looks up the machine's
        # own name (librepo logs curl_version(), which initialises libldap, whose
        # ldap_pvt_get_fqdn calls getaddrinfo): without this line each dnf command
        # waited 2 x 5 s for DNS. A real guest resolves its own name locally.
        printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$name" >"$l/etc/hosts"
        if [[ ${ROLES[i]} == host ]]; then
            for j in "${!NAMES[@]}"; do
                [[ ${DOM0_OF[j]} == "$name" ]] && domain_config "$j" >"$l/etc/xen/${DOMAIN_OF[j]}"
            done
            [[ $name == "$VM_DOM0" ]] && write_vm_dom0_files "$l"
        fi
    done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    (( failed == 0 )) || die "ssh-keygen failed for some machine's host key"
    for i in "${todo[@]}"; do : >"$DIR/hosts/${NAMES[i]}/layer.ok"; done
}

# write_client_files: known_hosts (plain and hashed), ssh_config,
# inventory.toml, fleet.env, hosts.txt; regenerated on every `up`.
write_client_files() {
    local i ktype key
    {
        for i in "${!NAMES[@]}"; do
            read -r ktype key _ <"$DIR/hosts/${NAMES[i]}/layer/etc/ssh/ssh_host_ed25519_key.pub"
            printf '%s %s %s\n' "${ADDRS[i]}" "$ktype" "$key"
        done
        if (( HAS_VM )); then
            read -r ktype key _ <"$DIR/vm/ssh_host_ed25519_key.pub"
            printf '[%s]:%s %s %s\n' "$VM_ADDR" "$VM_PORT" "$ktype" "$key"
        fi
    } | write_atomic "$DIR/known_hosts"
    cp -- "$DIR/known_hosts" "$DIR/known_hosts.hashed.tmp"
    ssh-keygen -q -H -f "$DIR/known_hosts.hashed.tmp" >/dev/null 2>&1
    rm -f -- "$DIR/known_hosts.hashed.tmp.old"
    mv -f -- "$DIR/known_hosts.hashed.tmp" "$DIR/known_hosts.hashed"

    {
        echo "# generated by vmup tests/fleet/fleet.sh; use inside the controller namespace"
        for i in "${!NAMES[@]}"; do
            printf '\nHost %s\n  HostName %s\n  User root\n  IdentityFile %s\n' \
                "${NAMES[i]}" "${ADDRS[i]}" "$DIR/id_ed25519"
            printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n' \
                "$DIR/known_hosts"
        done
        if (( HAS_VM )); then
            printf '\nHost %s\n  HostName %s\n  Port %s\n  User root\n  IdentityFile %s\n' \
                "$VM_NAME" "$VM_ADDR" "$VM_PORT" "$DIR/id_ed25519"
            printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  IdentitiesOnly yes\n' \
                "$DIR/known_hosts"
        fi
        printf '\nHost *\n  BatchMode yes\n  ConnectTimeout 10\n'
    } | write_atomic "$DIR/ssh_config"

    {
        printf '[defaults]\nuser = "root"\n'
        for i in "${!NAMES[@]}"; do
            printf '\n[hosts.%s]\naddress = "%s"\n' "${NAMES[i]}" "${ADDRS[i]}"
            if [[ ${ROLES[i]} == host ]]; then
                printf 'role = "host"\n'
            else
                [[ -n ${DOM0_OF[i]} ]] && printf 'host = "%s"\ndomain = "%s"\ndomain_config = "/etc/xen/%s"\n' \
                    "${DOM0_OF[i]}" "${DOMAIN_OF[i]}" "${DOMAIN_OF[i]}"
                printf 'groups = ["grid"]\n'
            fi
        done
        if (( HAS_VM )); then
            printf '\n[hosts.%s]\naddress = "%s"\nport = %s\n' "$VM_NAME" "$VM_ADDR" "$VM_PORT"
            printf 'host = "%s"\ndomain = "%s"\ndomain_config = "/etc/xen/%s"\ngroups = ["vms"]\n' \
                "$VM_DOM0" "$VM_DOMAIN" "$VM_DOMAIN"
            # An xl config, but QEMU boots it: virtio, not Xen's front ends (vmup doctor).
            printf 'vars = { block_driver = "virtio_blk", net_driver = "virtio_net" }\n'
        fi
    } | write_atomic "$DIR/inventory.toml"

    local dom0s=() guests=()
    for i in "${!NAMES[@]}"; do
        if [[ ${ROLES[i]} == host ]]; then dom0s+=("${NAMES[i]}"); else guests+=("${NAMES[i]}"); fi
    done
    cat <<EOF | write_atomic "$DIR/fleet.env"
# generated by vmup tests/fleet/fleet.sh: source it from tests
FLEET_DIR="$DIR"
FLEET_SH="$SELF"
FLEET_CTL_NETNS="$CTL_NS"
FLEET_CTL_ADDR="$CTL_ADDR"
FLEET_SSH_CONFIG="$DIR/ssh_config"
FLEET_KNOWN_HOSTS="$DIR/known_hosts"
FLEET_KNOWN_HOSTS_HASHED="$DIR/known_hosts.hashed"
FLEET_INVENTORY="$DIR/inventory.toml"
FLEET_KEY="$DIR/id_ed25519"
FLEET_KEY_RSA="$DIR/id_rsa"
FLEET_KEY_ECDSA="$DIR/id_ecdsa"
FLEET_HOSTS="${NAMES[*]}"
FLEET_DOM0S="${dom0s[*]}"
FLEET_GUESTS="${guests[*]}"
FLEET_VMS="$( (( HAS_VM )) && echo "$VM_NAME")"
$(vm_env)
EOF
    {
        for i in "${!NAMES[@]}"; do
            printf '%s %s %s\n' "${NAMES[i]}" "${ADDRS[i]}" "${ROLES[i]}"
        done
        if (( HAS_VM )); then printf '%s %s:%s vm\n' "$VM_NAME" "$VM_ADDR" "$VM_PORT"; fi
    } | write_atomic "$DIR/hosts.txt"
}

# ---------------------------------------------------------------- seeds

# The packages every guest has installed: built once per machine (cached by
# mkrpm.sh), copied into DIR/rpms for tests that want to look at them.
ensure_seed_rpms() {
    [[ -f $DIR/rpms/.complete ]] && return 0
    mkdir -p -- "$DIR/rpms"
    "$FLEET_TOOLS/mkkernel.sh" kernel-xenU 2.6.9 55.EL "$DIR/rpms" >/dev/null
    "$FLEET_TOOLS/mkrpm.sh" centos-release 4 4.3 "$DIR/rpms" \
        --summary "CentOS release file (placeholder)" \
        --file /etc/redhat-release "CentOS release 4.4 (Final)"$'\n' \
        --provides "redhat-release = 4" --provides "system-release(releasever) = 4" >/dev/null
    : >"$DIR/rpms/.complete"
}

# ensure_seed KIND (guest|dom0): DIR/layers/seed-KIND, written through a
# temporary overlay mount of the base (so bookworm's /lib -> usr/lib symlink
# is followed, not hidden) in a private mount namespace (so a killed build
# leaves no mount behind), then renamed into place when complete.
ensure_seed() {
    local kind=$1 dest="$DIR/layers/seed-$1"
    [[ -d $dest ]] && return 0
    local tmp="$DIR/layers/.seed-$kind.tmp"
    rm -rf -- "$tmp"
    mkdir -p -- "$tmp/upper" "$tmp/work" "$tmp/mnt"
    unshare --mount --propagation private -- "$BASH" "$SELF" _fill-seed "$kind" "$tmp" "$DIR" \
        || die "building the $kind seed failed"
    mv -T -- "$tmp/upper" "$dest"
    rm -rf -- "$tmp"
}

# Internal, runs in its own mount namespace: mount, fill, unmount.
cmd_fill_seed() {
    local kind=$1 tmp=$2 root="$2/mnt"
    DIR=$3
    mount -t overlay overlay -o "lowerdir=$BASE_CACHE,upperdir=$tmp/upper,workdir=$tmp/work,$OVL_OPTS" "$root"
    write_sshd_config "$root"
    if [[ $kind == guest ]]; then
        write_guest_files "$root"
        # --nodeps: the placeholders need nothing. The database goes where
        # the base's /etc/rpm/macros points rpm inside the machines.
        rpm --root "$root" --dbpath /var/lib/rpm -i --nodeps --nosignature --noscripts --force-debian \
            "$DIR"/rpms/*.rpm
        [[ $(rpm --root "$root" --dbpath /var/lib/rpm -q --qf '%{NAME}-%{VERSION}-%{RELEASE}' kernel-xenU) \
            == kernel-xenU-2.6.9-55.EL ]] \
            || die "kernel-xenU is not in the guest seed's rpm database"
    else
        write_dom0_files "$root"
    fi
    umount "$root"
}

write_sshd_config() {
    cat >"$1/etc/ssh/sshd_config" <<'EOF'
# vmup test fleet: sshd runs as PID 1 of the machine, logging to
# /var/log/sshd.log. LogLevel VERBOSE logs one "Starting session: ..." line
# per exec/shell/subsystem channel, which the tests count as round trips.
Port 22
AddressFamily inet
ListenAddress 0.0.0.0
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
LogLevel VERBOSE
MaxStartups 1000
MaxSessions 100
MaxAuthTries 10
LoginGraceTime 30
PrintMotd no
PrintLastLog no
X11Forwarding no
PidFile none
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
}

# What a CentOS 4 guest of the runbook looks like, before vmup runs.
write_guest_files() {
    local root=$1
    # rpm -q prints name-version-release like CentOS 4's rpm did (modern
    # rpm appends .arch); the database stays where the base put it.
    printf '%%_dbpath /var/lib/rpm\n%%_query_all_fmt %%%%{nvr}\n' >"$root/etc/rpm/macros"
    # The shared CentOS 4 texts (fixtures/centos4/), as the demo and the editors'
    # unit tests use them.
    cp -- "$FIXTURES/yum.conf" "$root/etc/yum.conf"
    cp -- "$FIXTURES/inittab" "$root/etc/inittab"
    cp -- "$FIXTURES/securetty" "$root/etc/securetty"
    # installonlypkgs without kernel-xenU: a plain `dnf upgrade` replaces
    # kernel-xenU-2.6.9-55.EL and deletes its modules, the runbook's failure.
    cat >"$root/etc/dnf/dnf.conf" <<'EOF'
[main]
gpgcheck=1
installonly_limit=3
clean_requirements_on_remove=True
best=False
skip_if_unavailable=False
installonlypkgs=kernel kernel-smp kernel-devel kernel-smp-devel kernel-largesmp kernel-largesmp-devel kernel-hugemem kernel-hugemem-devel
EOF
    mkdir -p -- "$root/etc/yum.repos.d" "$root/var/cache/yum"
    # CentOS 4's TLS libraries, which must not be used in a Xen guest.
    # /lib is bookworm's symlink, so this lands in /usr/lib/tls of the seed.
    # Placeholders are never loaded: ld.so resolves libc through its cache.
    mkdir -p -- "$root/lib/tls"
    local lib
    for lib in libc-2.3.4.so libm-2.3.4.so libpthread-0.10.so librt-2.3.4.so; do
        printf 'placeholder %s from CentOS 4 glibc (i686 TLS)\n' "$lib" >"$root/lib/tls/$lib"
    done
    ln -s libc-2.3.4.so "$root/lib/tls/libc.so.6"
    ln -s libm-2.3.4.so "$root/lib/tls/libm.so.6"
    ln -s libpthread-0.10.so "$root/lib/tls/libpthread.so.0"
    ln -s librt-2.3.4.so "$root/lib/tls/librt.so.1"
}

# What a dom0 looks like: the xenU kernels 55 and 67.0.1 with their initrds,
# guests boot 55 through the stable symlinks, and xl/xm are the test double.
write_dom0_files() {
    local root=$1
    mkdir -p -- "$root/etc/xen" "$root/boot"
    local release
    for release in 2.6.9-55.ELxenU 2.6.9-67.0.1.ELxenU; do
        printf 'placeholder vmlinuz %s\n' "$release" >"$root/boot/vmlinuz-$release"
        printf 'placeholder initrd %s (preloads xenblk xennet)\n' "$release" \
            >"$root/boot/initrd-$release-xendrv.img"
    done
    ln -sfn vmlinuz-2.6.9-55.ELxenU "$root/boot/vmlinuz-2.6.9-ELxenU"
    ln -sfn initrd-2.6.9-55.ELxenU-xendrv.img "$root/boot/initrd-2.6.9-ELxenU-xendrv.img"
    # dracut without its systemd modules: about 29 s a build instead of 46 s on 2 cores; the
    # image keeps dracut's own shell init (module base).
    mkdir -p -- "$root/etc/dracut.conf.d"
    printf 'omit_dracutmodules+=" systemd systemd-initrd dracut-systemd "\n' \
        >"$root/etc/dracut.conf.d/90-vmup-test.conf"
    install -m 0755 "$FLEET_TOOLS/xl-double.sh" "$root/usr/sbin/xl"
    install -m 0755 "$FLEET_TOOLS/xl-double.sh" "$root/usr/sbin/xm"
    install -m 0755 "$FLEET_TOOLS/reboot-double.sh" "$root/usr/sbin/reboot"
    install -D -m 0755 "$FLEET_TOOLS/vm-qemu.py" "$root/usr/lib/vmup-testbed/vm-qemu.py"
}

# ---------------------------------------------------------------- the VM guest

# With `up --vm` the fleet holds one real virtual machine besides its namespace machines:
# vm1 (domain VM1), a QEMU guest that xen1's xl double boots from /etc/xen/VM1, reachable
# at xen1's address, port 2201 (QEMU's user-mode port forward inside xen1's namespace).
# `up` only prepares it (its disk, xen1's config, the client files); `xl create VM1` on
# xen1 boots it, once an initrd exists (README.md, "The VM guest"). Two real kernel
# releases: both machines start on the older (an installed rpm on each), and a pinned
# repository holds the newer for an update: xen1 has it at /srv/vmkernels and serves it
# over http on its loopback, which the guest reaches as 10.0.2.2 (QEMU's user network).
VM_NAME=vm1
VM_DOMAIN=VM1
VM_PORT=2201
VM_MAC=00:16:3e:76:6d:01
VM_REPO=vmkernels
VM_REPO_PORT=8080
# Debian packages the base lacks (only those are unpacked: vm.sh resolves them against
# the base): what the dom0 runs QEMU and builds initrds with, what the VM's init needs.
VM_DOM0_PACKAGES=(qemu-system-x86 dracut-core kmod cpio)
VM_GUEST_PACKAGES=(iproute2 kmod)

# vm_sh ARGS...: vm.sh on this fleet's base (its layers are resolved against it).
vm_sh() { VMUP_TESTBED_CACHE=$BASE_CACHE "$FLEET_TOOLS/vm.sh" "$@"; }

# plan_vm 0|1: HAS_VM, VM_DOM0, VM_ADDR; the cached parts from DIR/vm/vm.env.
plan_vm() {
    HAS_VM=${1:-0} VM_DOM0="" VM_ADDR="" VM_RELEASE="" VM_NEW_RELEASE="" VM_KERNEL_LAYER=""
    VM_KERNEL_RPMDB="" VM_KERNEL_RPM="" VM_REPO_LAYER="" VM_DOM0_LAYER="" VM_GUEST_LAYER=""
    (( HAS_VM )) || return 0
    [[ -n ${INDEX[xen1]:-} ]] || die "--vm needs a dom0 (--hosts 1 or more)"
    VM_DOM0=xen1 VM_ADDR=${ADDRS[${INDEX[xen1]}]}
    if [[ -f $DIR/vm/vm.env ]]; then
        local e="$DIR/vm/vm.env"
        VM_RELEASE=$(sed -n 's/^release=//p' "$e")
        VM_NEW_RELEASE=$(sed -n 's/^new_release=//p' "$e")
        VM_KERNEL_LAYER=$(sed -n 's/^kernel_layer=//p' "$e")
        VM_KERNEL_RPMDB=$(sed -n 's/^kernel_rpmdb=//p' "$e")
        VM_KERNEL_RPM=$(sed -n 's/^kernel_rpm=//p' "$e")
        VM_REPO_LAYER=$(sed -n 's/^repo_layer=//p' "$e")
        VM_DOM0_LAYER=$(sed -n 's/^dom0_layer=//p' "$e")
        VM_GUEST_LAYER=$(sed -n 's/^guest_layer=//p' "$e")
    fi
}

# ensure_vm_parts: the kernels, the repository and the package layers (cached per machine,
# vm.sh), chosen once per fleet and written down in DIR/vm/vm.env, so `reset` restacks the
# same ones; the VM's host key. The releases: OLD, the second-newest
# linux-image-6.1.0-N-cloud-amd64 apt offers, is the kernel both machines start on (its
# files' layer, and for the dom0 an rpm database holding it); NEW, the newest, is the one
# package of the pinned repository.
ensure_vm_parts() {
    (( HAS_VM )) || return 0
    mkdir -p -- "$DIR/vm/share"
    local l ok=1
    for l in "$VM_KERNEL_LAYER" "$VM_KERNEL_RPMDB" "$VM_REPO_LAYER" "$VM_DOM0_LAYER" "$VM_GUEST_LAYER"; do
        [[ -n $l && -e $l/.vmup-layer-complete ]] || ok=0
    done
    [[ -n $VM_NEW_RELEASE && -f $VM_KERNEL_RPM ]] || ok=0
    if (( ! ok )); then
        local releases old new kernel out
        releases=$(vm_sh releases) || die "no two kernel releases for the VM"
        read -r old new <<<"$releases"
        kernel=$(vm_sh kernel "$old") || die "no kernel for the VM"
        read -r VM_RELEASE VM_KERNEL_LAYER VM_KERNEL_RPMDB VM_KERNEL_RPM <<<"$kernel"
        out=$(VMUP_TESTBED_CACHE=$BASE_CACHE "$FLEET_TOOLS/debkernel.sh" --cached "$new") \
            || die "no package of the VM's new kernel"
        VM_NEW_RELEASE=$(sed -n 2p <<<"$out")
        VM_REPO_LAYER=$(vm_sh repo-layer "$VM_REPO" "$(sed -n 1p <<<"$out")") \
            || die "no repository for the VM's new kernel"
        VM_DOM0_LAYER=$(vm_sh pkg-layer dom0-qemu "${VM_DOM0_PACKAGES[@]}") \
            || die "no QEMU layer for the dom0"
        VM_GUEST_LAYER=$(vm_sh pkg-layer vm-guest "${VM_GUEST_PACKAGES[@]}") \
            || die "no package layer for the VM"
        {
            printf 'release=%s\nnew_release=%s\nkernel_layer=%s\nkernel_rpmdb=%s\nkernel_rpm=%s\n' \
                "$VM_RELEASE" "$VM_NEW_RELEASE" "$VM_KERNEL_LAYER" "$VM_KERNEL_RPMDB" "$VM_KERNEL_RPM"
            printf 'repo_layer=%s\ndom0_layer=%s\nguest_layer=%s\n' "$VM_REPO_LAYER" \
                "$VM_DOM0_LAYER" "$VM_GUEST_LAYER"
        } | write_atomic "$DIR/vm/vm.env"
    fi
    local k="$DIR/vm/ssh_host_ed25519_key"
    [[ -f $k && -f $k.pub ]] || { rm -f -- "$k" "$k.pub"; ssh-keygen -q -t ed25519 -N '' -C "root@$VM_NAME" -f "$k" </dev/null >/dev/null; }
}

# The VM's stable /boot names on its dom0, as the seed's are: version and flavour without
# the ABI number (6.1.0-57-cloud-amd64 -> 6.1.0-cloud-amd64).
vm_stable_release() { sed -E 's/^([0-9.]+)-[0-9]+-/\1-/' <<<"$VM_RELEASE"; }

# write_vm_dom0_files LAYER: the VM's domain config and the /boot links it names, and the
# http server of the VM's package repository. The kernel comes from the kernel layer; the
# initrd does not exist until someone builds it (dracut on the dom0: README.md).
write_vm_dom0_files() {
    local l=$1 stable
    stable=$(vm_stable_release)
    # (Debian's dnf makes no /etc/yum.repos.d; a dom0 that installs its guests' kernels
    # with dnf has one, where a runbook writes the repository's file.)
    mkdir -p -- "$l/boot" "$l/etc/vmup-testbed/boot.d" "$l/etc/yum.repos.d"
    # Started by the dom0's init (host-init.sh) before sshd, bound to the dom0's loopback
    # only: QEMU's user network takes the guest's connections to 10.0.2.2 there.
    cat >"$l/etc/vmup-testbed/boot.d/$VM_REPO-http" <<EOF
#!/bin/sh
# vmup test fleet: $VM_NAME's package repository (/srv/$VM_REPO) over http, for the guest
# at http://10.0.2.2:$VM_REPO_PORT/$VM_REPO (QEMU's user network: this machine's loopback).
cd /srv && exec python3 -m http.server --bind 127.0.0.1 $VM_REPO_PORT </dev/null >>/var/log/vmup-$VM_REPO-http.log 2>&1
EOF
    chmod 0755 "$l/etc/vmup-testbed/boot.d/$VM_REPO-http"
    ln -sfn "vmlinuz-$VM_RELEASE" "$l/boot/vmlinuz-$stable"
    ln -sfn "initrd-$VM_RELEASE-virtio.img" "$l/boot/initrd-$stable-virtio.img"
    cat >"$l/etc/xen/$VM_DOMAIN" <<EOF
# vmup test fleet: $VM_NAME, a real virtual machine. There is no hypervisor: xl (the test
# double) boots this config with QEMU (/usr/lib/vmup-testbed/vm-qemu.py), with the kernel,
# ramdisk and command line given here, and forwards the guest's ssh port to this address.
# vmup-qemu: ssh_forward = $VM_ADDR:$VM_PORT
kernel = "/boot/vmlinuz-$stable"
ramdisk = "/boot/initrd-$stable-virtio.img"
memory = 512
name = "$VM_DOMAIN"
vif = [ 'mac=$VM_MAC, bridge=xenbr0' ]
disk = [ 'file:/var/lib/vmup-vm/$VM_NAME.img,xvda,w' ]
root = "/dev/vda ro"
extra = "console=ttyS0 panic=1 rd.shell=0 rd.retry=10 rd.timeout=20 init=/sbin/vmup-vm-init"
EOF
}

# ensure_vm_disk: the pristine root disk (DIR/vm/vm1.img, built once per fleet) and the
# copy the VM boots (DIR/vm/share/vm1.img, /var/lib/vmup-vm/vm1.img on the dom0).
ensure_vm_disk() {
    (( HAS_VM )) || return 0
    local img="$DIR/vm/$VM_NAME.img"
    if [[ ! -f $img ]]; then
        cat -- "$DIR/id_ed25519.pub" "$DIR/id_rsa.pub" "$DIR/id_ecdsa.pub" >"$DIR/vm/authorized_keys"
        # The kernel's files; the guest's own rpm database (the seed's) records it as
        # installed (--installed), as the guest's rpm would have.
        vm_sh build-disk "$img" \
            --lower "$VM_GUEST_LAYER:$VM_KERNEL_LAYER:$DIR/layers/seed-guest:$BASE_CACHE" \
            --name "$VM_NAME" --host-key "$DIR/vm/ssh_host_ed25519_key" \
            --authorized-keys "$DIR/vm/authorized_keys" --installed "$VM_KERNEL_RPM" \
            || die "building the VM's disk failed"
    fi
    [[ -f $DIR/vm/share/$VM_NAME.img ]] || restore_vm_disk
}

# restore_vm_disk: the VM's disk as built (only while its dom0 is stopped).
restore_vm_disk() {
    (( HAS_VM )) || return 0
    cp --sparse=always -- "$DIR/vm/$VM_NAME.img" "$DIR/vm/share/.$VM_NAME.img.tmp"
    mv -f -- "$DIR/vm/share/.$VM_NAME.img.tmp" "$DIR/vm/share/$VM_NAME.img"
}

# vm_env: the VM's lines of fleet.env (none without a VM).
vm_env() {
    (( HAS_VM )) || return 0
    cat <<EOF
FLEET_VM_DOM0="$VM_DOM0"
FLEET_VM_DOMAIN="$VM_DOMAIN"
FLEET_VM_ADDR="$VM_ADDR"
FLEET_VM_PORT="$VM_PORT"
FLEET_VM_RELEASE="$VM_RELEASE"
FLEET_VM_NEW_RELEASE="$VM_NEW_RELEASE"
FLEET_VM_REPO="$VM_REPO"
FLEET_VM_REPO_URL="http://10.0.2.2:$VM_REPO_PORT/$VM_REPO"
FLEET_DOM0_REPO_URL="file:///srv/$VM_REPO"
FLEET_VM_CONSOLE="$DIR/hosts/$VM_DOM0/upper/var/log/vmup-vm/$VM_DOMAIN.console"
EOF
}

# vm_qemu_pid: the VM's QEMU, if it runs (a process of the dom0's network namespace).
vm_qemu_pid() {
    local p
    for p in $(pgrep -f -- "qemu-system-x86_64 -name $VM_DOMAIN " || true); do
        in_netns "$p" "$HOST_NS_PREFIX$VM_DOM0" && { echo "$p"; return 0; }
    done
    return 0
}

# ---------------------------------------------------------------- commands

cmd_up() {
    local dir="" n="" h="" vm=0 start
    start=$(now_ns)
    while [[ $# -gt 0 ]]; do
        case $1 in
            --hosts) [[ $# -ge 2 ]] || die "--hosts needs a number"; h=$2; shift 2 ;;
            --hosts=*) h=${1#--hosts=}; shift ;;
            --vm) vm=1; shift ;;
            -*) die "unknown option for up: $1" ;;
            *) if [[ -z $dir ]]; then dir=$1; elif [[ -z $n ]]; then n=$1; else die "too many arguments"; fi; shift ;;
        esac
    done
    [[ -n $dir && -n $n ]] || die "usage: fleet.sh up DIR N [--hosts H] [--vm]"
    [[ $n =~ ^[0-9]+$ ]] || die "N must be a number (got $n)"
    [[ -z $h ]] && { if (( n <= 10 )); then h=1; else h=2; fi; }
    [[ $h =~ ^[0-9]+$ ]] || die "H must be a number (got $h)"
    (( n + h >= 1 && n + h <= MAX_MACHINES )) || die "a fleet holds 1 to $MAX_MACHINES machines (asked for $((n + h)))"
    open_fleet "$dir"
    local created=0
    [[ -e $DIR ]] || created=1
    lock_fleet
    if [[ -f $MARKER ]]; then
        local was
        was=$(sed -n 's/^guests=//p' "$MARKER")/$(sed -n 's/^hosts=//p' "$MARKER")/$(sed -n 's/^vms=//p' "$MARKER")
        [[ $was == "$n/$h/$vm" || $was == "$n/$h/" && $vm == 0 ]] \
            || die "$DIR holds a fleet of $was guests/hosts/VMs, not $n/$h/$vm (run: fleet.sh down $DIR)"
    else
        # created_dir tells `down` it may remove DIR itself.
        printf 'guests=%s\nhosts=%s\nvms=%s\nhash=%s\ncreated_dir=%s\n' "$n" "$h" "$vm" "$HASH" "$created" >"$MARKER"
    fi
    trace start
    plan_fleet "$n" "$h"
    plan_vm "$vm"
    trace plan
    ensure_base
    trace base
    ensure_seed_rpms
    trace rpms
    ensure_client_keys
    trace client-keys
    ensure_seed guest
    ensure_seed dom0
    trace seeds
    ensure_vm_parts
    trace vm-parts
    ensure_host_layers
    trace host-layers
    ensure_vm_disk
    trace vm-disk
    write_client_files
    trace client-files
    ensure_network
    trace network

    local -A running=()
    local name pid ppid todo=()
    while read -r name pid ppid; do running[$name]=1; done < <(running_pids "${NAMES[@]}")
    for name in "${NAMES[@]}"; do [[ -n ${running[$name]:-} ]] || todo+=("$name"); done
    say "starting ${#todo[@]} of ${#NAMES[@]} machines (controller netns $CTL_NS)"
    start_machines "${todo[@]}"
    trace launch
    wait_ready "${NAMES[@]}"
    trace ready
    echo "fleet up: ${#NAMES[@]} machines in $(elapsed_since "$start") s"
    if (( HAS_VM )); then
        echo "vm: $VM_NAME ($VM_RELEASE) boots on $VM_DOM0 with 'xl create $VM_DOMAIN' once its initrd exists; ssh at $VM_ADDR:$VM_PORT; $VM_NEW_RELEASE in repository $VM_REPO"
    fi
}

cmd_down() {
    local dir="" keep=0
    while [[ $# -gt 0 ]]; do
        case $1 in
            --keep-files) keep=1; shift ;;
            -*) die "unknown option for down: $1" ;;
            *) [[ -z $dir ]] || die "too many arguments"; dir=$1; shift ;;
        esac
    done
    [[ -n $dir ]] || die "usage: fleet.sh down DIR [--keep-files]"
    local start; start=$(now_ns)
    open_fleet "$dir"
    [[ -d $DIR ]] && lock_fleet
    # Names come from the namespaces that exist as well as from DIR, so a
    # half-built fleet (or one whose DIR was deleted) is still found.
    local -a nss=() names=()
    local ns
    while read -r ns _; do
        [[ $ns == "$HOST_NS_PREFIX"* || $ns == "$CTL_NS" ]] && nss+=("$ns")
    done < <(ip netns list)
    for ns in "${nss[@]}"; do [[ $ns == "$HOST_NS_PREFIX"* ]] && names+=("${ns#"$HOST_NS_PREFIX"}"); done
    say "stopping ${#names[@]} machines, removing $(( ${#nss[@]} )) network namespaces"
    trace start
    (( ${#names[@]} )) && stop_machines "${names[@]}"
    trace stop
    kill_netns_processes "${nss[@]}"
    trace sweep
    if (( ${#nss[@]} )); then
        printf 'netns del %s\n' "${nss[@]}" | ip -batch - || die "could not delete network namespaces"
    fi
    trace netns-del
    kill_launchers
    trace launchers
    # Nothing of ours should be mounted in this namespace; make sure.
    local m
    while read -r m; do
        say "unmounting leftover $m"
        umount -l -- "$m" || true
    done < <(awk -v d="$DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
    if (( keep == 0 )) && [[ -f $MARKER ]]; then
        local created f
        created=$(sed -n 's/^created_dir=//p' "$MARKER")
        for f in "${GENERATED_FILES[@]}"; do rm -rf --one-file-system -- "${DIR:?}/$f"; done
        if [[ $created == 1 ]]; then rmdir -- "$DIR" 2>/dev/null || true; fi
    fi
    trace files
    echo "fleet down: $DIR in $(elapsed_since "$start") s"
}

# kill_netns_processes NS...: anything still running in the fleet's network
# namespaces (a stray ssh in the controller, a machine that refused to die)
# would keep them alive: find them in one pass over /proc and SIGKILL them.
kill_netns_processes() {
    (( $# )) || return 0
    local -A ours=()
    local ns ino p pids=()
    while read -r ns ino; do ours[$ino]=1; done < <(netns_inodes "$@")
    while read -r p ino; do
        p=${p#/proc/}
        [[ -n ${ours[$ino]:-} ]] && pids+=("${p%%/*}")
    done < <(stat -L -c '%n %i' /proc/[0-9]*/ns/net 2>/dev/null || true)
    (( ${#pids[@]} )) || return 0
    say "killing leftover processes in the fleet's namespaces: ${pids[*]}"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    local deadline=$(( SECONDS + 5 ))
    for p in "${pids[@]}"; do
        while [[ -e /proc/$p/ns/net ]] && (( SECONDS < deadline )); do sleep 0.02; done
    done
}

# kill_launchers: a machine still being launched when `up` was killed has no
# pid file yet and may enter its network namespace just before `down`
# deletes it. Its launcher chain (setsid, nsenter, unshare, host-init.sh)
# carries DIR/hosts/ and host-init.sh on its command line: SIGKILL those;
# unshare --kill-child then takes the machine's PID 1 down with it.
kill_launchers() {
    local files=() f p pids=()
    mapfile -t files < <(grep -lzF -- "$DIR/hosts/" /proc/[0-9]*/cmdline 2>/dev/null || true)
    (( ${#files[@]} )) || return 0
    while read -r f; do
        p=${f#/proc/}; p=${p%%/*}
        [[ $p == "$$" || $p == "$BASHPID" ]] || pids+=("$p")
    done < <(grep -lzF -- "$FLEET_TOOLS/host-init.sh" "${files[@]}" 2>/dev/null || true)
    (( ${#pids[@]} )) || return 0
    say "killing leftover machine launchers: ${pids[*]}"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    local deadline=$(( SECONDS + 5 ))
    for p in "${pids[@]}"; do
        while [[ -e /proc/$p/ns/net ]] && (( SECONDS < deadline )); do sleep 0.02; done
    done
}

cmd_reset() {
    [[ $# -eq 1 ]] || die "usage: fleet.sh reset DIR"
    local start; start=$(now_ns)
    open_fleet "$1"
    lock_fleet
    read_fleet
    trace start
    stop_machines "${NAMES[@]}"
    trace stop
    ensure_network
    trace network
    local name paths=()
    for name in "${NAMES[@]}"; do paths+=("$DIR/hosts/$name/upper" "$DIR/hosts/$name/work"); done
    rm -rf --one-file-system -- "${paths[@]}"
    restore_vm_disk
    trace wipe
    start_machines "${NAMES[@]}"
    trace launch
    wait_ready "${NAMES[@]}"
    trace ready
    echo "fleet reset: ${#NAMES[@]} machines in $(elapsed_since "$start") s"
}

# stop-host: sshd stops, so connections are refused at once; with
# --unreachable the machine's link on the bridge goes down as well, so
# packets vanish and clients hit their connect timeout instead.
cmd_stop_host() {
    local args=() unreachable=0
    while [[ $# -gt 0 ]]; do
        case $1 in
            --unreachable) unreachable=1; shift ;;
            -*) die "unknown option for stop-host: $1" ;;
            *) args+=("$1"); shift ;;
        esac
    done
    [[ ${#args[@]} -eq 2 ]] || die "usage: fleet.sh stop-host DIR NAME [--unreachable]"
    open_fleet "${args[0]}"
    lock_fleet
    read_fleet
    local name=${args[1]} i
    i=$(index_of "$name")
    stop_machines "$name"
    if (( unreachable )); then
        ip -n "$CTL_NS" link set "vh$i" down
        say "stopped $name (unreachable: its link is down)"
    else
        say "stopped $name (connections are refused)"
    fi
}

cmd_start_host() {
    [[ $# -eq 2 ]] || die "usage: fleet.sh start-host DIR NAME"
    open_fleet "$1"
    lock_fleet
    read_fleet
    local i
    i=$(index_of "$2")
    ip -n "$CTL_NS" link set "vh$i" up
    if [[ -n $(running_pids "$2") ]]; then
        say "$2 is already running"
    else
        start_machines "$2"
        say "started $2"
    fi
    wait_ready "$2"
}

# become-host: a machine of a site with `PermitRootLogin no`: user vmup (uid 1000, the
# fleet's client keys) logs in, and becomes root through sudo (NOPASSWD) or doas
# (`permit nopass`); with --password both want a password (which vmup never gives).
# Written into the machine's upper dir (`reset` undoes it); sshd is restarted to read
# its new config.
cmd_become_host() {
    local args=() password=0
    while [[ $# -gt 0 ]]; do
        case $1 in
            --password) password=1; shift ;;
            -*) die "unknown option for become-host: $1" ;;
            *) args+=("$1"); shift ;;
        esac
    done
    [[ ${#args[@]} -eq 2 ]] || die "usage: fleet.sh become-host DIR NAME [--password]"
    local dir=${args[0]} name=${args[1]} sudoers doas
    if (( password )); then
        sudoers='vmup ALL=(root) ALL' doas='permit vmup as root'
    else
        sudoers='vmup ALL=(root) NOPASSWD: ALL' doas='permit nopass vmup as root'
    fi
    # useradd leaves the password locked ("!"), which sshd refuses even for a key
    # (UsePAM no); "*" is no password at all: without NOPASSWD, `sudo -n` says "a
    # password is required" as on a real site, and no password would ever do.
    "$SELF" exec "$dir" "$name" sh -euc '
        id vmup >/dev/null 2>&1 || useradd --uid 1000 --create-home --shell /bin/sh vmup
        usermod -p "*" vmup
        install -d -m 0700 -o vmup -g vmup /home/vmup/.ssh
        install -m 0600 -o vmup -g vmup /root/.ssh/authorized_keys /home/vmup/.ssh/authorized_keys
        printf "%s\n" "$1" >/etc/sudoers.d/vmup
        chmod 0440 /etc/sudoers.d/vmup
        printf "%s\n" "$2" >/etc/doas.conf
        chmod 0600 /etc/doas.conf
        sed -i "s/^PermitRootLogin .*/PermitRootLogin no/" /etc/ssh/sshd_config
        grep -q "^PermitRootLogin no$" /etc/ssh/sshd_config
    ' sh "$sudoers" "$doas" || die "become-host: setting up $name failed"
    open_fleet "$dir"
    lock_fleet
    read_fleet
    index_of "$name" >/dev/null
    stop_machines "$name"
    start_machines "$name"
    wait_ready "$name"
    say "$name: root login refused; user vmup; sudoers: $sudoers; doas.conf: $doas"
}

# exec: enter every namespace and the root of the machine's PID 1.
cmd_exec() {
    [[ $# -ge 3 ]] || die "usage: fleet.sh exec DIR NAME CMD..."
    open_fleet "$1"
    read_fleet
    local name=$2 line pid
    shift 2
    index_of "$name" >/dev/null
    line=$(running_pids "$name")
    [[ -n $line ]] || die "$name is not running"
    read -r _ pid _ <<<"$line"
    exec nsenter --target "$pid" --mount --uts --ipc --net --pid --root --wd -- \
        env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C "$@"
}

cmd_ctl() {
    [[ $# -ge 2 ]] || die "usage: fleet.sh ctl DIR CMD..."
    open_fleet "$1"
    shift
    [[ -e /run/netns/$CTL_NS ]] || die "no controller namespace for $DIR (run: fleet.sh up $DIR N)"
    exec nsenter --net="/run/netns/$CTL_NS" -- "$@"
}

# Round trips are counted from sshd's own log inside each machine; the file
# lives in the machine's upper dir, so it is read from there directly.
sshd_log() { printf '%s' "$DIR/hosts/$1/upper/var/log/sshd.log"; }

count_log_lines() { # NAME PATTERN
    [[ $# -eq 2 ]] || die "usage: fleet.sh count-commands DIR NAME"
    local log; log=$(sshd_log "$1")
    if [[ -f $log ]]; then grep -c -- "$2" "$log" || true; else echo 0; fi
}

cmd_count_commands() {
    [[ $# -eq 2 ]] || die "usage: fleet.sh count-commands DIR NAME"
    open_fleet "$1"; read_fleet; index_of "$2" >/dev/null
    count_log_lines "$2" '^Starting session: '
}

cmd_count_connections() {
    [[ $# -eq 2 ]] || die "usage: fleet.sh count-connections DIR NAME"
    open_fleet "$1"; read_fleet; index_of "$2" >/dev/null
    count_log_lines "$2" '^Accepted publickey for '
}

# Forks are counted by the machine's own PID namespace: ns_last_pid, read by a
# process inside it, is the last PID the namespace handed out, and every fork,
# clone and thread there takes the next one (its sshd is the namespace's PID 1,
# so nothing outside the machine adds to it). The read itself is one such
# process (nsenter forks into the namespace, then execs cat, which reads its
# own PID), so each read is counted in DIR/hosts/NAME/fork-reads ("PID1 N",
# reset when the machine is restarted) and left out: the difference of two
# readings is exactly what ran in between. PIDs wrap at pid_max (32768 here).
cmd_count_forks() {
    [[ $# -eq 2 ]] || die "usage: fleet.sh count-forks DIR NAME"
    open_fleet "$1"; read_fleet
    local name=$2 line pid last file seen_pid reads=0
    index_of "$name" >/dev/null
    line=$(running_pids "$name")
    [[ -n $line ]] || die "$name is not running"
    read -r _ pid _ <<<"$line"
    file=$DIR/hosts/$name/fork-reads
    exec 8>>"$file.lock"
    flock -w 60 8 || die "count-forks: $file.lock is held"
    if [[ -f $file ]] && read -r seen_pid reads <"$file" && [[ $seen_pid == "$pid" ]]; then :; else reads=0; fi
    last=$(nsenter --target "$pid" --pid -- cat /proc/sys/kernel/ns_last_pid) \
        || die "count-forks: cannot read $name's ns_last_pid"
    reads=$(( reads + 1 ))
    printf '%s %s\n' "$pid" "$reads" >"$file"
    exec 8>&-
    echo $(( last - reads ))
}

cmd_clear_counts() {
    [[ $# -eq 1 ]] || die "usage: fleet.sh clear-counts DIR"
    open_fleet "$1"; lock_fleet; read_fleet
    local name log
    # Truncating keeps the inode sshd appends to (O_APPEND), so logging goes on.
    for name in "${NAMES[@]}"; do
        log=$(sshd_log "$name")
        [[ -f $log ]] && : >"$log"
    done
    say "cleared the sshd logs of ${#NAMES[@]} machines"
}

cmd_status() {
    [[ $# -eq 1 ]] || die "usage: fleet.sh status DIR"
    open_fleet "$1"; read_fleet
    local -A pid1=()
    local name pid ppid i
    while read -r name pid ppid; do pid1[$name]=$pid; done < <(running_pids "${NAMES[@]}")
    for i in "${!NAMES[@]}"; do
        name=${NAMES[i]}
        printf '%-6s %-15s %-5s %s\n' "$name" "${ADDRS[i]}" "${ROLES[i]}" \
            "$([[ -n ${pid1[$name]:-} ]] && echo "running pid ${pid1[$name]}" || echo stopped)"
    done
    if (( HAS_VM )); then
        pid=$(vm_qemu_pid)
        printf '%-6s %-15s %-5s %s\n' "$VM_NAME" "$VM_ADDR:$VM_PORT" vm \
            "$([[ -n $pid ]] && echo "running QEMU pid $pid on $VM_DOM0" || echo "stopped (xl create $VM_DOMAIN on $VM_DOM0)")"
    fi
}

# ---------------------------------------------------------------- dispatch

main() {
    [[ $# -ge 1 ]] || { usage >&2; exit 2; }
    [[ $(id -u) == 0 ]] || die "fleet.sh needs root (namespaces, mounts)"
    local cmd=$1; shift
    case $cmd in
        base) cmd_base "$@" ;;
        up) cmd_up "$@" ;;
        down) cmd_down "$@" ;;
        reset) cmd_reset "$@" ;;
        stop-host) cmd_stop_host "$@" ;;
        start-host) cmd_start_host "$@" ;;
        become-host) cmd_become_host "$@" ;;
        exec) cmd_exec "$@" ;;
        ctl) cmd_ctl "$@" ;;
        count-commands) cmd_count_commands "$@" ;;
        count-connections) cmd_count_connections "$@" ;;
        count-forks) cmd_count_forks "$@" ;;
        clear-counts) cmd_clear_counts "$@" ;;
        status) cmd_status "$@" ;;
        _fill-seed) cmd_fill_seed "$@" ;;
        -h|--help|help) usage ;;
        *) usage >&2; die "unknown command: $cmd" ;;
    esac
}

main "$@"
