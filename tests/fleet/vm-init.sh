#!/bin/sh
# vm-init.sh: PID 1 of the test fleet's QEMU guest (installed in its root disk as
# /sbin/vmup-vm-init and booted with init=/sbin/vmup-vm-init). The Debian minbase has no
# init system, so this does what rc.sysinit and udev would do, and no more:
#   mounts, hostname, drivers for the devices present (from the guest's OWN
#   /lib/modules/$(uname -r), as udev's coldplug would), the network in QEMU's user-mode
#   LAN (10.0.2.15/24, gateway 10.0.2.2), then sshd.
# Every step says what it found on the console (the dom0 keeps it in
# /var/log/vmup-vm/<Domain>.console); tests wait for these markers:
#   "vmup-vm: sshd up"           sshd listens on port 22
#   "vmup-vm: no network"        no network interface came up: sshd cannot be reached
#   "vmup-vm: powered off"       clean shutdown done, the machine powers off now
# Shutdown: `xl shutdown` makes QEMU press ctrl-alt-del; with kernel.ctrl-alt-del = 0
# the kernel sends SIGINT to PID 1, and this script stops sshd, remounts / read-only and
# powers off (sysrq o). If this script ever exits, the kernel panics, and with `panic=1`
# and QEMU's -no-reboot the machine is gone as well.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "vmup-vm: $*"; }

mounted() { mountpoint -q "$1" 2>/dev/null; }
# dracut moves /proc, /sys, /dev and /run into the new root; a boot without an initrd
# has none of them.
mounted /proc || mount -t proc -o nosuid,nodev,noexec proc /proc
mounted /sys || mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mounted /dev || mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
mounted /run || mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
mkdir -p /dev/pts /dev/shm
mounted /dev/pts || mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mount -o remount,rw / || say "could not remount / read-write"
release=$(uname -r)
say "init on $release: $(cat /proc/cmdline)"

hostname -F /etc/hostname 2>/dev/null || cat /etc/hostname >/proc/sys/kernel/hostname

# ctrl-alt-del: SIGINT to PID 1 instead of an immediate reboot.
echo 0 >/proc/sys/kernel/ctrl-alt-del
sshd_pid=""
power_off() {
    say "shutting down (ctrl-alt-del)"
    [ -n "$sshd_pid" ] && kill -TERM "$sshd_pid" 2>/dev/null
    # sshd's session children get the same; nothing else runs here.
    kill -TERM -1 2>/dev/null
    sleep 1
    sync
    umount /tmp 2>/dev/null
    mount -o remount,ro / || say "could not remount / read-only"
    sync
    say "powered off"
    echo o >/proc/sysrq-trigger
    sleep 30
}
trap power_off INT TERM

# Coldplug: a driver for every device present, from the guest's own modules (what udev
# does at boot). Without /lib/modules/$release only the initrd's drivers are loaded.
if [ -d "/lib/modules/$release" ]; then
    say "loading drivers from /lib/modules/$release"
else
    say "/lib/modules/$release is missing: no drivers beyond the initrd's"
fi
cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u | xargs -r modprobe -a -b -q 2>&1 | sed 's/^/vmup-vm: /'
for m in virtio_blk virtio_net; do
    if [ -d "/sys/module/$m" ]; then say "driver $m: loaded"; else say "driver $m: NOT loaded"; fi
done

# The first interface that is not lo: eth0 here (no udev renames it), ens3 and the like
# if the initrd's udev did.
iface=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    for d in /sys/class/net/*; do
        n=${d##*/}
        [ "$n" = lo ] || [ ! -e "$d/device" ] || { iface=$n; break; }
    done
    [ -n "$iface" ] && break
    sleep 0.5
done
ip link set lo up
if [ -n "$iface" ]; then
    ip addr add 10.0.2.15/24 dev "$iface"
    ip link set "$iface" up
    ip route add default via 10.0.2.2
    say "network: $iface 10.0.2.15/24 via 10.0.2.2"
else
    say "no network: no interface besides lo (is the network driver in the initrd or in /lib/modules/$release?)"
fi

mkdir -p -m 0755 /run/sshd
/usr/sbin/sshd -D -E /var/log/sshd.log &
sshd_pid=$!
# sshd is up once it listens on port 22 (ss comes with iproute2).
for i in $(seq 1 100); do
    ss -Htln 'sport = :22' 2>/dev/null | grep -q . && break
    kill -0 "$sshd_pid" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$sshd_pid" 2>/dev/null; then
    say "sshd up (pid $sshd_pid)"
else
    say "sshd failed to start: $(tail -n 3 /var/log/sshd.log 2>/dev/null)"
fi

# PID 1 stays: the trap above runs when the signal arrives; `wait` returns early then.
while :; do
    sleep 3600 &
    wait $!
done
