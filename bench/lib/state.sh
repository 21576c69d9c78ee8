# state.sh: run on a guest (fleet.sh exec DIR NAME sh -s < state.sh); prints
# everything the runbook's steps decide, one line each, host-independent, so
# two guests in the same state print the same text.
LC_ALL=C; export LC_ALL
for f in /etc/yum.conf /etc/yum.repos.d/Monash-base.repo /etc/securetty /etc/inittab; do
    if [ -L "$f" ]; then echo "$f symlink"
    elif [ -f "$f" ]; then echo "$f file $(stat -c '%a %U:%G' "$f") $(sha256sum <"$f" | cut -c1-64)"
    else echo "$f absent"; fi
done
echo "/etc/yum.repos.d: $(ls -A /etc/yum.repos.d | tr '\n' ' ')"
# shellcheck disable=SC2010  # ls | grep: a few fixed names
echo "/etc: $(ls -A /etc | grep -E '^(yum\.conf|securetty|inittab)' | tr '\n' ' ')"
for d in /lib/tls /lib/tls.disabled /lib/tls.disabled.old; do
    if [ -L "$d" ]; then echo "$d symlink -> $(readlink "$d")"
    elif [ -d "$d" ]; then
        echo "$d dir $(stat -c '%a' "$d") $(cd "$d" && find . -printf '%p %y %m %l %s\n' | sort | sha256sum | cut -c1-16)"
    elif [ -e "$d" ]; then echo "$d other"
    else echo "$d absent"; fi
done
# shellcheck disable=SC2010
echo "/lib: $(ls -A /lib/ | grep -E '^tls' | tr '\n' ' ')"
for l in /boot/vmlinuz-2.6.9-ELxenU /boot/initrd-2.6.9-ELxenU-xendrv.img; do
    if [ -L "$l" ]; then echo "$l -> $(readlink "$l")"
    elif [ -e "$l" ]; then echo "$l not-a-symlink"
    else echo "$l absent"; fi
done
echo "/boot: $(ls -A /boot | tr '\n' ' ')"
