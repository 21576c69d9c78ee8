#!/bin/sh
# host-init.sh: turns a fresh set of namespaces into one fleet machine.
# fleet.sh runs it as
#   nsenter --net=/run/netns/NS unshare --mount --uts --ipc --pid --fork -- \
#       /bin/sh host-init.sh NAME ROOT LOWERDIRS UPPER WORK ADDR/LEN GATEWAY GATEWAY-MAC PIDFILE [BIND]
# so it starts as PID 1 of a new PID namespace, inside the machine's network
# namespace, with a private copy of the mount table. It configures the
# network, mounts the machine's overlay root, pivot_roots into it and execs
# sshd, which stays PID 1 until it is signalled (then the kernel kills every
# process of the machine and drops its mounts with the mount namespace).
# BIND, optional, is SRC:DST: directory SRC of this machine's host appears at DST inside
# (a dom0's VM disks, so they are written in place, never copied up into the overlay).
# Services: every executable /etc/vmup-testbed/boot.d/* of the machine is started in the
# background just before sshd (a dom0's package repository over http).
set -eu
name=$1 root=$2 lower=$3 upper=$4 work=$5 addr=$6 gateway=$7 gateway_mac=$8 pidfile=$9 bind=${10:-}

# /proc is still the outer one here, so these are our pid and parent pid as
# the root namespace sees them: fleet.sh signals the pid, waits on the parent,
# and its readiness probe gives up at once if this pid dies. One write(2), so
# readers never see half a line.
read -r pid _ _ ppid _ </proc/self/stat
echo "$pid $ppid" >"$pidfile"

ip -batch - <<EOF
link set lo up
addr replace $addr dev eth0
link set eth0 up
route replace default via $gateway
neigh replace $gateway lladdr $gateway_mac dev eth0 nud permanent
EOF

mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work,redirect_dir=on,index=off,metacopy=off,xino=off" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o mode=0755,nosuid,nodev,size=64m tmpfs "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev,size=256m tmpfs "$root/tmp"
# The base's /dev holds real device nodes (debootstrap made them); only a
# private devpts instance is added so `ssh -t` can allocate a pty.
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
mkdir -m 0755 "$root/run/sshd"
if [ -n "$bind" ]; then
    mkdir -p "$root${bind#*:}"
    mount --bind "${bind%%:*}" "$root${bind#*:}"
fi
echo "$name" >/proc/sys/kernel/hostname

cd "$root"
pivot_root . mnt
cd /
umount -l /mnt
if [ -d /etc/vmup-testbed/boot.d ]; then
    for service in /etc/vmup-testbed/boot.d/*; do
        [ -x "$service" ] && "$service" </dev/null >/dev/null 2>&1 &
    done
fi
exec /usr/sbin/sshd -D -E /var/log/sshd.log
