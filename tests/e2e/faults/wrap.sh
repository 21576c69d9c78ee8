#!/bin/sh
# vmup's fault injection: installed under the names of the tools apply scripts run (cmp,
# mv, chmod, ln, rm), first on PATH. A host NAME whose root is hosts/NAME has a plan when
# $VMUP_FAULT_DIR/plan.NAME exists, holding "KIND K": at the K-th call of these tools for
# that host, act as KIND says:
#   inplace  another process appends to the file this call is about (in place)
#   replace  another process replaces that file (a new file renamed over it)
#   crash    the host's whole script dies at once (SIGKILL to its process group)
#   slow     the host stops answering (until --command-timeout kills it)
#   crashlate  the tool starts, and DELAY seconds later the host's script dies (plan:
#            "crashlate K DELAY")
# What was done is logged to $VMUP_FAULT_DIR/injected.NAME; then the real tool runs.
tool=${0##*/}
name=
for a; do
  case $a in hosts/*/*|*/hosts/*) name=${a#*hosts/}; name=${name%%/*}; break ;; esac
done
plan="$VMUP_FAULT_DIR/plan.$name"
if [ -z "$name" ] || [ ! -f "$plan" ]; then exec "$VMUP_FAULT_DIR/real/$tool" "$@"; fi
read -r kind k delay < "$plan"
root=hosts/$name
c="$VMUP_FAULT_DIR/count.$name"
n=0
[ -f "$c" ] && read -r n < "$c"
n=$((n + 1))
echo "$n" > "$c"
if [ "$n" = "$k" ]; then
  f=
  for a; do
    case $a in
      "$root"/*.vmup-*) ;;
      "$root"/*) [ -f "$a" ] && [ ! -L "$a" ] && f=$a ;;
    esac
  done
  log="$VMUP_FAULT_DIR/injected.$name"
  case $kind in
    inplace)
      if [ -n "$f" ]; then printf '#fault\n' >> "$f"; echo "inplace $f" >> "$log"; fi ;;
    replace)
      if [ -n "$f" ]; then
        printf 'replaced by another writer\n' > "$f.fault.$$" &&
          "$VMUP_FAULT_DIR/real/mv" -f -- "$f.fault.$$" "$f" && echo "replace $f" >> "$log"
      fi ;;
    crash) echo "crash $tool" >> "$log"; kill -KILL 0 ;;
    crashlate)
      echo "crash $tool" >> "$log"
      "$VMUP_FAULT_DIR/real/$tool" "$@" &
      sleep "$delay"; kill -KILL 0 ;;
    slow) echo "slow $tool" >> "$log"; sleep 30 ;;
  esac
fi
exec "$VMUP_FAULT_DIR/real/$tool" "$@"
