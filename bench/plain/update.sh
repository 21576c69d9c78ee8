#!/bin/sh
# update.sh: the guest steps of examples/runbook.toml as ONE hand-written,
# idempotent POSIX sh script, for the "plain ssh" floor of the benchmark:
#     ssh HOST sh -s < update.sh
# Every file is rewritten through a temporary file beside it and rename(2),
# and only when its content would change; it prints one line per change.
# Simplifications against vmup (irrelevant to the seed files, listed for
# honesty): no compare-and-swap, no CRLF handling, a file without a final
# newline gets one when edited.
set -eu
umask 022
LC_ALL=C; export LC_ALL
T=".bench-tmp.$$"

# commit FILE: rename FILE$T over FILE if it differs, else drop it.
commit() {
    if cmp -s "$1$T" "$1"; then rm -f "$1$T"; else mv -f "$1$T" "$1"; echo "changed $1"; fi
}

# 1. installonlypkgs in [main] of /etc/yum.conf: add the missing words only,
#    at the end of the (last) key's value; a missing key goes after the last
#    key of the section, a missing section at the end of the file.
f=/etc/yum.conf
cp -p "$f" "$f$T"
awk -v sec=main -v key=installonlypkgs \
    -v words="kernel kernel-smp kernel-devel kernel-smp-devel kernel-largesmp kernel-largesmp-devel kernel-hugemem kernel-hugemem-devel kernel-xenU kernel-xenU-devel" '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
NR == FNR {
    l = trim($0); lines = FNR; prev_blank = (l == "")
    if (l ~ /^\[[^]]*\]$/) { insec = (substr(l, 2, length(l) - 2) == sec); if (insec) hdr = FNR; next }
    if (insec && l ~ /^[^#;=[][^=]*=/) {
        last = FNR; k = l; sub(/[ \t]*=.*/, "", k)
        if (k == key) { target = FNR; val = l; sub(/^[^=]*=/, "", val); val = trim(val) }
    }
    next
}
FNR == 1 {
    nh = split(val, have, /[ \t]+/); for (i = 1; i <= nh; i++) got[have[i]] = 1
    nw = split(words, want, / /); add = ""
    for (i = 1; i <= nw; i++) if (!(want[i] in got)) { got[want[i]] = 1; add = add (add == "" ? "" : " ") want[i] }
}
add != "" && FNR == target {
    cr = sub(/\r$/, ""); sub(/[ \t]+$/, "")
    $0 = $0 (val == "" ? "" : " ") add (cr ? "\r" : "")
}
{ print }
add != "" && !target && hdr && FNR == (last ? last : hdr) { print key "=" add }
END {
    if (add == "" || hdr) exit
    if (lines && !prev_blank) print ""
    print "[" sec "]"; print key "=" add
}' "$f" "$f" >"$f$T"
commit "$f"

# 2. the KAREN-reachable mirror, whole file, mode 0644.
f=/etc/yum.repos.d/Monash-base.repo
mkdir -p /etc/yum.repos.d
cat >"$f$T" <<'EOF'
[monashbase]
name=Updated distro at Monash - 4.6
#baseurl=http://132.181.50.89/install/CentOS/$releasever/os/$basearch/
baseurl=http://ftp.monash.edu.au/pub/linux/CentOS/4.6/os/i386/
enabled=0
gpgcheck=1

[monashupdates]
name=Distro updates at Monash - 4.6
baseurl=http://ftp.monash.edu.au/pub/linux/CentOS/4.6/updates/i386/
enabled=0
gpgcheck=1
EOF
chmod 0644 "$f$T"
if [ -f "$f" ] && [ -n "$(find "$f" -prune -perm 0644 -user 0)" ]; then commit "$f"
else mv -f "$f$T" "$f"; echo "changed $f"; fi

# 3. root login on the serial console.
f=/etc/securetty
if ! grep -qxF ttyS0 "$f"; then
    cp -p "$f" "$f$T"; printf 'ttyS0\n' >>"$f$T"; commit "$f"
fi

# 4. a getty on the serial console, before the first "1:" line; an existing
#    (last) "S0:" line is replaced in place.
f=/etc/inittab
line='S0:2345:respawn:/sbin/agetty ttyS0 38400 vt100-nav'
if ! grep -qxF "$line" "$f"; then
    cp -p "$f" "$f$T"
    if ! awk -v line="$line" '
        NR == FNR { if ($0 ~ /^S0:/) last = FNR; if (!first && $0 ~ /^1:/) first = FNR; next }
        FNR == 1 && !last && !first { exit 1 }
        last && FNR == last { print line; next }
        !last && FNR == first { print line }
        { print }' "$f" "$f" >"$f$T"; then
        rm -f "$f$T"; echo "error: $f: no line matches ^1: (where the S0 line goes)" >&2; exit 1
    fi
    commit "$f"
fi

# 5. /lib/tls stays disabled: tls.disabled becomes tls.disabled.old (the
#    previous .old is removed), then tls becomes tls.disabled.
if [ -e /lib/tls ] || [ -L /lib/tls ]; then
    if [ -e /lib/tls.disabled ] || [ -L /lib/tls.disabled ]; then
        rm -rf /lib/tls.disabled.old
        mv /lib/tls.disabled /lib/tls.disabled.old
        echo "moved /lib/tls.disabled to /lib/tls.disabled.old"
    fi
    mv /lib/tls /lib/tls.disabled
    echo "moved /lib/tls to /lib/tls.disabled"
fi

# The stable /boot names are the dom0's (examples/runbook.toml: hosts = "hosts"); every
# tool here works on the guests only.
