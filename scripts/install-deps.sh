#!/usr/bin/env bash
# Installs what vmup's tests need on a Debian machine (run as root): the tools the test
# fleet is built from (debootstrap, OpenSSH, rpm, dnf, createrepo_c, iproute2) and the
# Rust components for the lint steps. Idempotent: a machine that has them skips apt.
set -euo pipefail

packages=(debootstrap openssh-server openssh-client rpm createrepo-c dnf python3-rpm
          iproute2 util-linux procps diffutils ca-certificates)
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
