#!/usr/bin/env bash
# Installs what vmup's tests need on a Debian machine (run as root): the tools the test
# fleet is built from (debootstrap, OpenSSH, rpm, dnf, createrepo_c, iproute2), what initrds
# are built and opened with (dracut-core, not `dracut`, which conflicts with initramfs-tools;
# cpio, kmod and every decompressor the initrd fact reads), Xen's xl and libvirt's virsh
# (the domain config tests read and define configs with the real tools; xl needs no
# hypervisor for that, see src/formats/domconfig/tests/differential.rs), e2fsprogs for the
# fleet's VM guest's root disk (`mkfs.ext4 -d`; its QEMU and dracut run inside the fleet's
# dom0, from packages tests/fleet/vm.sh fetches with apt at run time), busybox and mksh
# (tests/e2e/old_shells.rs runs every generated script under dash, busybox sh, bash
# --posix and mksh, with busybox's applets as the only base tools), bsdutils for script(1)
# (tests/e2e/colour.rs runs vmup on a pseudo-terminal), chromium (tests/e2e/report.rs
# opens `vmup report`'s page in it, headless), ansible-core (the Ansible inventory test
# compares vmup with `ansible-inventory --list`), slurm-wlm (slurmctld, slurmd and the
# client commands) with munge (tests/e2e/fleet_slurm.rs runs a sharded job array on a
# real Slurm, with daemons of its own in a temporary directory), the Rust
# components for the lint steps, and cargo-afl for scripts/fuzz.sh. Idempotent: a machine
# that has them skips apt and cargo install.
set -euo pipefail

packages=(debootstrap openssh-server openssh-client rpm createrepo-c dnf python3-rpm
          iproute2 util-linux bsdutils procps diffutils ca-certificates make gcc
          cpio kmod dracut-core gzip xz-utils zstd lz4 bzip2 e2fsprogs
          xen-utils-4.17 libvirt-clients busybox mksh chromium ansible-core
          slurm-wlm slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The test hosts run their own sshd; the machine's own must not hold port 22 of the
# namespaces (it does not: each host has its own network namespace).
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
# Fuzzing (scripts/fuzz.sh): cargo-afl from crates.io; installing it builds AFL++ from the
# source the crate ships (with make and gcc; no download). `cargo afl --version` fails
# while AFL++ is not built for the current rustc, e.g. after a toolchain update.
command -v cargo-afl >/dev/null 2>&1 || cargo install cargo-afl --locked --version '^0.18' --quiet
cargo afl --version >/dev/null 2>&1 || cargo afl config --build --force
