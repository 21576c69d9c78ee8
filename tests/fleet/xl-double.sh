#!/bin/sh
# Test double for Xen's `xl` and `xm` on the fleet's dom0 machines (installed
# as /usr/sbin/xl and /usr/sbin/xm). There is no hypervisor here: every call
# is appended to /var/log/vmup-xl-calls.log as "EPOCH xl ARGS..." so tests
# can check what vmup asked for. Domains are the /etc/xen/* files with a
# `name = "..."` line; all run until `shutdown`/`destroy` marks them stopped
# and `create FILE` marks them running again (state under
# /var/lib/vmup-xl-double), so `list` answers like the real tool would; a
# NAME.stuck file there makes `shutdown NAME` do nothing.
# A config with a "# vmup-qemu: ..." line is a real virtual machine instead:
# create, shutdown, destroy and list go to vm-qemu.py, which boots the config
# with QEMU; such a domain runs exactly while its QEMU does.
prog=${0##*/}
log=/var/log/vmup-xl-calls.log
state=/var/lib/vmup-xl-double
vmq=/usr/lib/vmup-testbed/vm-qemu.py
echo "$(date +%s) $prog $*" >>"$log"
mkdir -p "$state"

config_name() { # FILE -> the domain name it defines
    sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*["'\'']\{0,1\}\([^"'\'']*\)["'\'']\{0,1\}[[:space:]]*$/\1/p' "$1" | head -n 1
}
config_memory() {
    sed -n 's/^[[:space:]]*memory[[:space:]]*=[[:space:]]*["'\'']\{0,1\}\([0-9]*\).*/\1/p' "$1" | head -n 1
}
is_vm_config() { grep -q '^[[:space:]]*#[[:space:]]*vmup-qemu:' "$1"; }
is_vm_domain() { # NAME: a real VM runs under it, or some config of a real VM defines it
    [ -f "/run/vmup-vm/$1.cfg" ] && return 0
    for f in /etc/xen/* "$state"/*.cfg; do
        [ -f "$f" ] && is_vm_config "$f" && [ "$(config_name "$f")" = "$1" ] && return 0
    done
    return 1
}
running_domains() { # prints "NAME MEMORY" per running domain
    {
        for f in /etc/xen/* "$state"/*.cfg; do
            [ -f "$f" ] || continue
            is_vm_config "$f" && continue
            n=$(config_name "$f")
            [ -n "$n" ] || continue
            [ -e "$state/$n.stopped" ] && continue
            case $f in "$state"/*.cfg) [ -e "$state/$n.running" ] || continue ;; esac
            m=$(config_memory "$f")
            echo "$n ${m:-512}"
        done
        # (no /run/vmup-vm: no VM was ever started here, no python to run)
        [ -d /run/vmup-vm ] && "$vmq" list | cut -d' ' -f1,2
    } | sort -u -k1,1
}
domain_is_running() {
    running_domains | grep -q "^$1 "
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
    list)
        [ "${1:-}" = "-l" ] && shift
        [ "${1:-}" = "--" ] && shift
        if [ $# -gt 0 ] && ! domain_is_running "$1"; then
            echo "Error: Domain '$1' does not exist." >&2
            exit 1
        fi
        printf '%-40s %5s %5s %5s     %-6s %9s\n' Name ID Mem VCPUs State 'Time(s)'
        [ $# -eq 0 ] && printf '%-40s %5d %5d %5d     %-6s %9s\n' Domain-0 0 1024 2 r----- 4711.3
        id=0
        running_domains | while read -r n m; do
            id=$((id + 1))
            if [ $# -eq 0 ] || [ "$1" = "$n" ]; then
                printf '%-40s %5d %5d %5d     %-6s %9s\n' "$n" "$id" "$m" 1 -b---- 42.$id
            fi
        done
        ;;
    shutdown|destroy)
        # A domain with a NAME.stuck file in the state directory ignores `shutdown`
        # (a guest that hangs on its way down); `destroy` always stops it.
        wait=""
        for a in "$@"; do case $a in -w|--wait) wait=--wait ;; esac; done
        rc=0
        while [ $# -gt 0 ]; do
            case $1 in
                -*) shift ;;
                *)
                    if is_vm_domain "$1"; then
                        if [ "$cmd" = shutdown ]; then "$vmq" shutdown $wait "$1" || rc=1
                        else "$vmq" destroy "$1" || rc=1; fi
                    elif [ "$cmd" = destroy ] || [ ! -e "$state/$1.stuck" ]; then
                        rm -f "$state/$1.running"; : >"$state/$1.stopped"
                    fi
                    shift ;;
            esac
        done
        exit $rc
        ;;
    create)
        f=""
        for a in "$@"; do case $a in -*) ;; *=*) ;; *) [ -z "$f" ] && f=$a ;; esac; done
        [ -n "$f" ] && [ ! -f "$f" ] && [ -f "/etc/xen/$f" ] && f="/etc/xen/$f"
        if [ -z "$f" ] || [ ! -f "$f" ]; then
            echo "Error: config file '$f' not found" >&2
            exit 1
        fi
        n=$(config_name "$f")
        [ -n "$n" ] || { echo "Error: no name in $f" >&2; exit 1; }
        if is_vm_config "$f"; then
            echo "Using config file \"$f\"."
            # KEY=VALUE arguments are config lines read after the file, as with xl.
            for a in "$@"; do
                shift
                case $a in -*) ;; *=*) set -- "$@" "$a" ;; esac
            done
            exec "$vmq" start "$f" "$@"
        fi
        rm -f "$state/$n.stopped"
        case $f in /etc/xen/*) ;; *) cp "$f" "$state/$n.cfg"; : >"$state/$n.running" ;; esac
        echo "Using config file \"$f\"."
        echo "Started domain $n"
        ;;
    info)
        echo "host                   : $(hostname)"
        echo "xen_major              : 3"
        echo "xen_minor              : 0"
        echo "xen_extra              : .4-1"
        ;;
    *) ;;
esac
exit 0
