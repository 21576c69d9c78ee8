#!/usr/bin/env bash
# vm.sh: the pieces of the test fleet's real virtual machine (a QEMU guest booted by the
# dom0 from its domain config; see README.md beside this file, "The VM guest").
#
#   vm.sh pkg-layer NAME PKG...    a cached overlay layer holding Debian packages PKG (and
#                                  what they depend on) that the fleet's base lacks; prints
#                                  its path
#   vm.sh releases                 "OLD NEW": the two newest N of linux-image-6.1.0-N-cloud-amd64
#                                  that apt offers (the VM starts on OLD and is updated to NEW)
#   vm.sh kernel [N]               a real Debian kernel, linux-image-6.1.0-N-cloud-amd64 (N: the
#                                  newest apt offers) as debkernel.sh's rpm, installed into
#                                  two cached layers, its files and an rpm database holding
#                                  it; prints "RELEASE LAYER RPMDB-LAYER RPM"
#   vm.sh repo-layer NAME RPM...   a cached layer holding a package repository (createrepo_c)
#                                  of RPM... at srv/NAME/; prints its path
#   vm.sh build-disk OUT.img --lower L1:L2:... --name NAME --host-key KEY
#                    --authorized-keys FILE [--installed RPM]...
#                                  the VM's ext4 root disk image: the layers L1 (top) ...
#                                  merged, plus the VM's init, hostname, host key and
#                                  root's authorized_keys; each RPM (whose files the layers
#                                  hold) recorded as installed in its rpm database; no loop
#                                  device (mkfs.ext4 -d)
#
# Everything cached lives beside the fleet's base ($VMUP_TESTBED_CACHE as fleet.sh passes
# it; by default the base fleet.sh would use): layers/NAME-KEY/ (KEY: the base and the package
# list), layers/repo-NAME-KEY/ (KEY: the packages), kernels/ (the .deb files, named as apt
# names them, as tests/fleet/debkernel.sh keeps them, and RELEASE-KEY.layer/ and
# RELEASE-KEY.rpmdb/, KEY: the rpm's spec hash), rpms/ (debkernel.sh's). Builds go to a temp dir renamed into place under a
# lock, so a killed or concurrent build never leaves a half layer behind.
set -euo pipefail
umask 022

TOOLS=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SELF="$TOOLS/vm.sh"
BASE_CACHE=${VMUP_TESTBED_CACHE:-$("$TOOLS/fleet.sh" base --path)}
CACHE_ROOT=$(dirname -- "$BASE_CACHE")
KERNELS=${VMUP_KERNEL_CACHE:-$CACHE_ROOT/kernels}
# Bump when the layout of a package layer changes, so old ones are not reused.
LAYER_FORMAT=1

say() { printf 'vm: %s\n' "$*" >&2; }
die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }
now_ns() { date +%s%N; }
elapsed_since() {
    local d=$(( $(now_ns) - $1 ))
    printf '%d.%01d' $(( d / 1000000000 )) $(( d % 1000000000 / 100000000 ))
}

# lock_cache: one builder at a time for everything this script caches.
lock_cache() {
    mkdir -p -- "$CACHE_ROOT"
    exec 7>"$CACHE_ROOT/.vm.lock"
    flock -w 600 7 || die "$CACHE_ROOT/.vm.lock is held by another build (waited 10 minutes)"
}

# merge_usr DIR: bookworm's /bin, /sbin and /lib are symlinks into /usr; a layer holding a
# real /lib directory would hide them and break every binary, so what a .deb puts there
# moves under usr/.
merge_usr() {
    local d
    for d in bin sbin lib lib32 lib64 libx32; do
        [[ -d $1/$d && ! -L $1/$d ]] || continue
        mkdir -p -- "$1/usr/$d"
        cp -a -- "$1/$d/." "$1/usr/$d/"
        rm -rf -- "${1:?}/$d"
    done
}

# slim DIR: what no test machine reads.
slim() {
    rm -rf -- "$1"/usr/share/{doc,man,info,locale,lintian,bug}
}

# ---------------------------------------------------------------- package layers

# pkg-layer NAME PKG...: apt resolves PKG against the base's own dpkg status (so only what
# the base lacks comes in, with Depends and no Recommends), downloads the .debs with the
# machine's apt and unpacks them (dpkg-deb -x: no maintainer scripts, the layer is files
# only). About 20 s for QEMU and dracut, once per machine.
cmd_pkg_layer() {
    [[ $# -ge 2 ]] || die "usage: vm.sh pkg-layer NAME PKG..."
    local name=$1; shift
    [[ $name =~ ^[a-z0-9-]+$ ]] || die "layer name must be lowercase letters, digits and - (got $name)"
    [[ -e $BASE_CACHE/.vmup-base-complete ]] || die "no fleet base at $BASE_CACHE (run: fleet.sh base)"
    local pkgs key dest
    pkgs=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
    key=$(printf '%s\n' "$LAYER_FORMAT" "$BASE_CACHE" "$(<"$BASE_CACHE/.vmup-base-complete")" "$pkgs" \
        | sha256sum | cut -c1-12)
    dest="$CACHE_ROOT/layers/$name-$key"
    if [[ ! -e $dest/.vmup-layer-complete ]]; then
        lock_cache
        [[ -e $dest/.vmup-layer-complete ]] || build_pkg_layer "$dest" $pkgs
    fi
    printf '%s\n' "$dest"
}

build_pkg_layer() {
    local dest=$1; shift
    local start tmp wanted=()
    start=$(now_ns)
    mkdir -p -- "$CACHE_ROOT/layers"
    rm -rf -- "$dest".tmp.*
    tmp="$dest.tmp.$$"
    mkdir -p -- "$tmp/debs" "$tmp/root"
    if ! fetch_debs "$tmp" "$@"; then
        # Stale or missing apt lists (a machine set up long ago): refresh them once.
        say "apt failed ($(tail -n 1 "$tmp/apt.log")); apt-get update, then once more"
        apt-get update -qq >&2 || true
        rm -f -- "$tmp"/debs/*.deb
        if ! fetch_debs "$tmp" "$@"; then
            tail -n 15 "$tmp/apt.log" >&2
            rm -rf -- "$tmp"
            die "apt could not resolve or download $* for the layer"
        fi
    fi
    mapfile -t wanted <"$tmp/wanted"
    local deb
    for deb in "$tmp"/debs/*.deb; do
        [[ -f $deb ]] && dpkg-deb -x "$deb" "$tmp/root"
    done
    merge_usr "$tmp/root"
    slim "$tmp/root"
    cp -- "$tmp/wanted" "$tmp/root/.vmup-layer-packages"
    date -u +%FT%TZ >"$tmp/root/.vmup-layer-complete"
    rm -rf -- "$dest"
    mv -T -- "$tmp/root" "$dest"
    rm -rf -- "$tmp"
    say "layer $dest: ${#wanted[@]} packages in $(elapsed_since "$start") s ($(du -sh "$dest" | cut -f1))"
}

# fetch_debs TMP PKG...: what apt would install on the base for PKG (TMP/wanted, one
# NAME=VERSION a line), downloaded into TMP/debs; apt's words in TMP/apt.log.
fetch_debs() {
    local tmp=$1; shift
    apt-get install -s -q --no-install-recommends \
        -o Dir::State::status="$BASE_CACHE/var/lib/dpkg/status" "$@" >"$tmp/apt.log" 2>&1 || return 1
    # "Inst NAME [OLD] (VERSION SUITE [ARCH])": upgrades of base packages come too.
    sed -nE 's/^Inst ([^ ]+) (\[[^]]*\] )?\(([^ ]+) .*/\1=\3/p' "$tmp/apt.log" >"$tmp/wanted"
    [[ -s $tmp/wanted ]] || return 0
    (cd "$tmp/debs" && xargs -a ../wanted apt-get download -q) >"$tmp/apt.log" 2>&1
}

# ---------------------------------------------------------------- kernel

# apt_kernel_numbers: every N of linux-image-6.1.0-N-cloud-amd64 that apt has a candidate
# for, oldest first. One apt call (apt-cache search also lists packages apt merely heard
# of); the mirror keeps a few and drops old ones, so no number is written down anywhere.
apt_kernel_numbers() {
    apt-cache policy '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null \
        | awk '/^[^ ]/ { p = $1 } /Candidate: [0-9]/ { print p }' \
        | sed -nE 's/^linux-image-6\.1\.0-([0-9]+)-cloud-amd64:$/\1/p' | sort -n -u
}

# cached_kernel_numbers: the N of every linux-image .deb in the cache, oldest first.
cached_kernel_numbers() {
    local f k
    for f in "$KERNELS"/linux-image-6.1.0-*-cloud-amd64_*_amd64.deb; do
        [[ -f $f ]] || continue
        k=${f##*/linux-image-6.1.0-}; k=${k%%-*}
        [[ $k =~ ^[0-9]+$ ]] && printf '%s\n' "$k"
    done | sort -n -u
}

# releases: the VM starts on the second-newest kernel apt offers and is updated to the
# newest, two real releases. Without apt lists at all (apt knows no such package), the two
# newest debs in the cache, said on stderr; with only one release offered, an error.
cmd_releases() {
    [[ $# -eq 0 ]] || die "usage: vm.sh releases"
    local ns=()
    mapfile -t ns < <(apt_kernel_numbers)
    if (( ${#ns[@]} == 0 )); then
        mapfile -t ns < <(cached_kernel_numbers)
        (( ${#ns[@]} >= 2 )) \
            || die "apt knows no linux-image-6.1.0-N-cloud-amd64 and $KERNELS holds fewer than two (run apt-get update)"
        say "apt knows no linux-image-6.1.0-N-cloud-amd64 (no lists?): using the two newest cached, ${ns[-2]} and ${ns[-1]}"
    elif (( ${#ns[@]} == 1 )); then
        die "apt offers only one linux-image-6.1.0-N-cloud-amd64 (${ns[0]}); the VM's update needs two real releases, an older one to start on and a newer one to install (run apt-get update, or use a mirror that keeps older kernels)"
    fi
    printf '%s %s\n' "${ns[-2]}" "${ns[-1]}"
}

# kernel [N]: kernel-cloud-amd64-6.1.0-N (debkernel.sh: Debian's linux-image-6.1.0-N-cloud-amd64
# repackaged, with the modules.dep that Debian's postinst would make) installed by rpm into
# an empty tree, kept as two layers: LAYER, its files (boot/vmlinuz-R, config-R,
# System.map-R, usr/lib/modules/R), and RPMDB-LAYER, the rpm database rpm wrote
# (var/lib/rpm), which holds the package and nothing else. A machine with both and no rpm
# database of its own has the kernel installed (the dom0); a guest has its own database,
# where the package is recorded (build-disk --installed) over the files of LAYER. N
# defaults to the newest that apt has a candidate for; without apt lists, the newest .deb
# cached.
cmd_kernel() {
    [[ $# -le 1 ]] || die "usage: vm.sh kernel [N]"
    local n=${1:-}
    [[ -z $n || $n =~ ^[0-9]+$ ]] || die "N must be a number (got $n)"
    command -v rpm >/dev/null || die "rpm is not installed (scripts/install-deps.sh installs it)"
    mkdir -p -- "$KERNELS"
    if [[ -z $n ]]; then
        n=$(apt_kernel_numbers | tail -n 1)
        [[ -n $n ]] || n=$(cached_kernel_numbers | tail -n 1)
        [[ -n $n ]] || die "no linux-image-6.1.0-N-cloud-amd64 in apt's lists nor in $KERNELS (run apt-get update)"
    fi
    local out rpm release layer db
    out=$(VMUP_TESTBED_CACHE=$BASE_CACHE VMUP_KERNEL_CACHE=$KERNELS "$TOOLS/debkernel.sh" --cached "$n") \
        || die "debkernel.sh could not build kernel-cloud-amd64-6.1.0-$n"
    rpm=$(sed -n 1p <<<"$out") release=$(sed -n 2p <<<"$out")
    [[ -f $rpm && $release == "6.1.0-$n-cloud-amd64" ]] || die "debkernel.sh said: $out"
    layer="$KERNELS/$release-$(basename -- "$(dirname -- "$rpm")").layer"
    db="${layer%.layer}.rpmdb"
    if [[ ! -e $layer/.vmup-layer-complete || ! -e $db/.vmup-layer-complete ]]; then
        lock_cache
        [[ -e $layer/.vmup-layer-complete && -e $db/.vmup-layer-complete ]] \
            || build_kernel_layer "$rpm" "$release" "$layer" "$db"
    fi
    printf '%s %s %s %s\n' "$release" "$layer" "$db" "$rpm"
}

build_kernel_layer() {
    local rpm=$1 release=$2 layer=$3 db=$4 tmp start nvr n
    start=$(now_ns)
    rm -rf -- "$layer".tmp.* "$db".tmp.*
    tmp="$layer.tmp.$$"
    mkdir -p -- "$tmp" "$db.tmp.$$"
    rpm --root "$tmp" --dbpath /var/lib/rpm -i --nodeps --noscripts --nosignature --force-debian "$rpm" \
        || { rm -rf -- "$tmp"; die "rpm could not install ${rpm##*/} into the kernel's layer"; }
    nvr=$(rpm --root "$tmp" --dbpath /var/lib/rpm -q kernel-cloud-amd64) || true
    n=${release#6.1.0-} n=${n%%-*}
    [[ $nvr == "kernel-cloud-amd64-6.1.0-$n.noarch" ]] \
        || die "the kernel's layer has no kernel-cloud-amd64 in its rpm database (rpm -q: $nvr)"
    [[ -f $tmp/boot/vmlinuz-$release && -d $tmp/usr/lib/modules/$release && ! -e $tmp/lib ]] \
        || die "${rpm##*/} holds no boot/vmlinuz-$release or usr/lib/modules/$release"
    # The database alone: sqlite's lock, index and log files are made again by whoever
    # opens it (and must not show through beneath a guest's own database).
    rm -f -- "$tmp"/var/lib/rpm/.rpm.lock "$tmp"/var/lib/rpm/*-shm "$tmp"/var/lib/rpm/*-wal
    mv -- "$tmp/var" "$db.tmp.$$/var"
    printf '%s\n' "${rpm##*/}" | tee "$db.tmp.$$/.vmup-layer-packages" >"$tmp/.vmup-layer-packages"
    date -u +%FT%TZ | tee "$db.tmp.$$/.vmup-layer-complete" >"$tmp/.vmup-layer-complete"
    rm -rf -- "$layer" "$db"
    mv -T -- "$tmp" "$layer"
    mv -T -- "$db.tmp.$$" "$db"
    say "kernel $release installed into its layers in $(elapsed_since "$start") s ($(du -sh "$layer" | cut -f1))"
}

# ---------------------------------------------------------------- package repository

# repo-layer NAME RPM...: a package repository as dnf reads one, at srv/NAME/ of a layer:
# the packages (hard links into the rpm cache where it is the same file system) and
# createrepo_c's repodata (no sqlite databases: dnf reads the XML). KEY: the packages'
# paths, which carry their spec's hash (rpms/KEY/ of debkernel.sh and mkrpm.sh).
cmd_repo_layer() {
    [[ $# -ge 2 ]] || die "usage: vm.sh repo-layer NAME RPM..."
    local name=$1 r key dest
    shift
    [[ $name =~ ^[a-z0-9-]+$ ]] || die "repository name must be lowercase letters, digits and - (got $name)"
    for r in "$@"; do [[ $r == /* && -f $r ]] || die "no such package (absolute path): $r"; done
    command -v createrepo_c >/dev/null || die "createrepo_c is not installed (scripts/install-deps.sh installs it)"
    key=$(printf '%s\n' "$LAYER_FORMAT" "$name" "$@" | sha256sum | cut -c1-12)
    dest="$CACHE_ROOT/layers/repo-$name-$key"
    if [[ ! -e $dest/.vmup-layer-complete ]]; then
        lock_cache
        [[ -e $dest/.vmup-layer-complete ]] || build_repo_layer "$dest" "$name" "$@"
    fi
    printf '%s\n' "$dest"
}

build_repo_layer() {
    local dest=$1 name=$2 start tmp r
    shift 2
    start=$(now_ns)
    mkdir -p -- "$CACHE_ROOT/layers"
    rm -rf -- "$dest".tmp.*
    tmp="$dest.tmp.$$"
    mkdir -p -- "$tmp/srv/$name"
    for r in "$@"; do
        ln -f -- "$r" "$tmp/srv/$name/" 2>/dev/null || cp -- "$r" "$tmp/srv/$name/"
    done
    createrepo_c -q --no-database "$tmp/srv/$name" >&2 \
        || { rm -rf -- "$tmp"; die "createrepo_c failed for $name"; }
    printf '%s\n' "${@##*/}" >"$tmp/.vmup-layer-packages"
    date -u +%FT%TZ >"$tmp/.vmup-layer-complete"
    mv -T -- "$tmp" "$dest"
    say "repository $name ($#: ${*##*/}) in $(elapsed_since "$start") s"
}

# ---------------------------------------------------------------- root disk

# build-disk: the layers are merged by an overlay mount in a private mount namespace (so
# bookworm's /lib -> usr/lib symlink is followed and a killed build leaves no mount); the
# VM's own files are written into its upper dir, and mkfs.ext4 -d copies the merged tree
# into a sparse image file. xino=on keeps inode numbers unique across layers on different
# file systems (mkfs.ext4 -d links files with the same inode number).
cmd_build_disk() {
    local out="" lower="" name="" key="" auth="" installed=()
    while [[ $# -gt 0 ]]; do
        case $1 in
            --lower) lower=$2; shift 2 ;;
            --installed) installed+=("$2"); shift 2 ;;
            --name) name=$2; shift 2 ;;
            --host-key) key=$2; shift 2 ;;
            --authorized-keys) auth=$2; shift 2 ;;
            -*) die "unknown option for build-disk: $1" ;;
            *) [[ -z $out ]] || die "too many arguments"; out=$1; shift ;;
        esac
    done
    [[ -n $out && -n $lower && -n $name && -f $key && -f $auth ]] \
        || die "usage: vm.sh build-disk OUT.img --lower L1:L2:... --name NAME --host-key KEY --authorized-keys FILE [--installed RPM]..."
    local r
    for r in "${installed[@]}"; do [[ -f $r ]] || die "no such package: $r"; done
    [[ $name =~ ^[a-z0-9-]+$ ]] || die "VM name must be lowercase letters, digits and - (got $name)"
    command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is not installed (e2fsprogs)"
    local start tmp
    start=$(now_ns)
    tmp=$(mktemp -d "$(dirname -- "$out")/.disk.XXXXXX")
    mkdir -p -- "$tmp/upper" "$tmp/work" "$tmp/mnt"
    if ! unshare --mount --propagation private -- "$BASH" "$SELF" _fill-disk \
            "$tmp" "$lower" "$name" "$key" "$auth" "$out.tmp" "${installed[@]}"; then
        rm -rf -- "$tmp" "$out.tmp"
        die "building the root disk of $name failed"
    fi
    rm -rf -- "$tmp"
    mv -f -- "$out.tmp" "$out"
    say "root disk $out: $(du -h --apparent-size "$out" | cut -f1) image, $(du -h "$out" | cut -f1) on disk, in $(elapsed_since "$start") s"
}

# Internal, in its own mount namespace.
cmd_fill_disk() {
    local tmp=$1 lower=$2 name=$3 key=$4 auth=$5 img=$6 root="$1/mnt"
    shift 6
    mount -t overlay overlay \
        -o "lowerdir=$lower,upperdir=$tmp/upper,workdir=$tmp/work,redirect_dir=on,index=off,metacopy=off,xino=on" \
        "$root"
    # Packages whose files a layer holds already (the kernel's): recorded as installed in
    # the guest's own rpm database, as if rpm had installed them there, and verified file
    # by file against it (rpm -V), so the guest's rpm sees exactly what it would.
    local r nvr bad
    for r in "$@"; do
        rpm --root "$root" --dbpath /var/lib/rpm -i --justdb --nodeps --noscripts --nosignature \
            --force-debian "$r" || die "rpm --justdb could not record ${r##*/}"
        nvr=$(rpm -qp --nosignature --qf '%{NAME}-%{VERSION}-%{RELEASE}' "$r")
        bad=$(rpm --root "$root" --dbpath /var/lib/rpm -V "$nvr" 2>&1) \
            || die "the layers do not hold ${r##*/} as it is packaged (rpm -V): $(head -n 5 <<<"$bad")"
    done
    install -m 0755 -- "$TOOLS/vm-init.sh" "$root/sbin/vmup-vm-init"
    printf '%s\n' "$name" >"$root/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$name" >"$root/etc/hosts"
    printf '/dev/vda\t/\text4\tdefaults\t0 1\n' >"$root/etc/fstab"
    rm -f -- "$root"/etc/ssh/ssh_host_*
    install -m 0600 -- "$key" "$root/etc/ssh/ssh_host_ed25519_key"
    install -m 0644 -- "$key.pub" "$root/etc/ssh/ssh_host_ed25519_key.pub"
    install -d -m 0700 -- "$root/root/.ssh"
    install -m 0600 -- "$auth" "$root/root/.ssh/authorized_keys"
    # dracut's initrd reads the root's os-release before switching to it.
    [[ -e $root/etc/os-release ]] || die "the VM's root has no /etc/os-release"
    for tool in ip ss modprobe mountpoint sshd; do
        chroot "$root" sh -c "command -v $tool" >/dev/null || die "the VM's root has no $tool"
    done
    slim "$root"
    rm -rf -- "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/log/*.log
    rm -f -- "$root"/.vmup-base-complete "$root"/.vmup-layer-complete "$root"/.vmup-layer-packages
    # Contents plus a quarter, plus 256 MB for what tests install (dnf transactions).
    local used size
    used=$(du -s -B1M --apparent-size -x "$root" | cut -f1)
    size=$(( used + used / 4 + 256 ))
    truncate -s "${size}M" "$img"
    mkfs.ext4 -q -F -L vmroot -E lazy_itable_init=1,lazy_journal_init=1 -d "$root" "$img" \
        || die "mkfs.ext4 -d failed"
    umount "$root"
}

main() {
    [[ $# -ge 1 ]] || { sed -n '2,22p' "$SELF" | sed 's/^# \{0,1\}//' >&2; exit 2; }
    [[ $(id -u) == 0 ]] || die "vm.sh needs root (mounts, chroot)"
    local cmd=$1; shift
    case $cmd in
        pkg-layer) cmd_pkg_layer "$@" ;;
        releases) cmd_releases "$@" ;;
        kernel) cmd_kernel "$@" ;;
        repo-layer) cmd_repo_layer "$@" ;;
        build-disk) cmd_build_disk "$@" ;;
        _fill-disk) cmd_fill_disk "$@" ;;
        *) die "unknown command: $cmd" ;;
    esac
}

main "$@"
