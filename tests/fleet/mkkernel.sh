#!/usr/bin/env bash
# mkkernel.sh: build placeholder kernel packages NAME and NAME-devel (noarch)
# the way CentOS 4 shipped its Xen guest kernel, for any version:
#
#   mkkernel.sh kernel-xenU 2.6.9 55.EL OUTDIR
#     -> OUTDIR/kernel-xenU-2.6.9-55.EL.noarch.rpm with
#          /boot/vmlinuz-2.6.9-55.ELxenU, /boot/System.map-2.6.9-55.ELxenU,
#          /lib/modules/2.6.9-55.ELxenU/kernel/drivers/xen/{xenblk,xennet}.ko
#        (the package owns its /lib/modules/<kver> tree, so removing or
#        upgrading it deletes that directory, as on CentOS)
#     -> OUTDIR/kernel-xenU-devel-2.6.9-55.EL.noarch.rpm with
#          /usr/src/kernels/2.6.9-55.EL-xenU-i686/{Makefile,.config}
#
# The flavour (xenU) is NAME without its "kernel-" prefix. The packages
# deliberately provide nothing like "kernel" or installonlypkg(kernel): dnf
# and yum must treat them as ordinary packages unless installonlypkgs names
# them, which is the failure the runbook is about. Prints both .rpm paths.
# Built packages are cached by mkrpm.sh.
set -euo pipefail

die() { printf 'mkkernel: error: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 4 ]] || die "usage: mkkernel.sh NAME VERSION RELEASE OUTDIR (e.g. kernel-xenU 2.6.9 55.EL out/)"
name=$1 version=$2 release=$3 outdir=$4
[[ $name == kernel-* ]] || die "NAME must start with kernel- (got $name)"
flavour=${name#kernel-}
kver="$version-$release$flavour"
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
mods="/lib/modules/$kver"
src="/usr/src/kernels/$version-$release-$flavour-i686"

"$here/mkrpm.sh" "$name" "$version" "$release" "$outdir" \
    --summary "The Linux kernel compiled for Xen guests ($flavour, placeholder)" \
    --file "/boot/vmlinuz-$kver" "placeholder vmlinuz $kver"$'\n' \
    --file "/boot/System.map-$kver" "c0100000 T _text placeholder System.map $kver"$'\n' \
    --dir "$mods" --dir "$mods/kernel" --dir "$mods/kernel/drivers" --dir "$mods/kernel/drivers/xen" \
    --file "$mods/kernel/drivers/xen/xenblk.ko" "placeholder xenblk module for $kver"$'\n' \
    --file "$mods/kernel/drivers/xen/xennet.ko" "placeholder xennet module for $kver"$'\n' \
    --file "$mods/modules.dep" "kernel/drivers/xen/xenblk.ko:"$'\n'"kernel/drivers/xen/xennet.ko:"$'\n'

"$here/mkrpm.sh" "$name-devel" "$version" "$release" "$outdir" \
    --summary "Development package for building modules against the $flavour kernel (placeholder)" \
    --dir "$src" \
    --file "$src/Makefile" "VERSION = ${version%%.*}"$'\n'"EXTRAVERSION = -$release$flavour"$'\n' \
    --file "$src/.config" "CONFIG_XEN=y"$'\n'"CONFIG_XEN_BLKDEV_FRONTEND=m"$'\n'"CONFIG_XEN_NETDEV_FRONTEND=m"$'\n'
