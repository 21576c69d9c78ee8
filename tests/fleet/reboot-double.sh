#!/bin/sh
# Test double for `reboot` on the fleet's dom0 machines (installed as
# /usr/sbin/reboot). A fleet machine cannot reboot its kernel: it shares the
# test machine's. What a reboot means to vmup is emulated instead: the call is
# logged to /var/log/vmup-xl-calls.log ("EPOCH reboot ARGS"); the machine gets
# a new boot id (a file bind-mounted over /proc/sys/kernel/random/boot_id);
# no domain runs any more (the xl double's state says every domain stopped);
# every process but PID 1 (sshd) ends, which drops every ssh connection; and
# sshd re-executes itself on SIGHUP, so the machine answers again a moment
# later, as a rebooted one does.
log=/var/log/vmup-xl-calls.log
state=/var/lib/vmup-xl-double
echo "$(date +%s) reboot $*" >>"$log"
cat /proc/sys/kernel/random/uuid >/run/vmup-boot-id
grep -q ' /proc/sys/kernel/random/boot_id ' /proc/self/mountinfo ||
    mount --bind /run/vmup-boot-id /proc/sys/kernel/random/boot_id
mkdir -p "$state"
for f in /etc/xen/*; do
    [ -f "$f" ] || continue
    n=$(sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*["'\'']\{0,1\}\([^"'\'']*\)["'\'']\{0,1\}[[:space:]]*$/\1/p' "$f" | head -n 1)
    [ -n "$n" ] || continue
    rm -f "$state/$n.running"
    : >"$state/$n.stopped"
done
kill -TERM -1 2>/dev/null
kill -HUP 1
exit 0
