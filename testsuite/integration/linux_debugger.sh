#!/usr/bin/env bash
# testsuite/integration/linux_debugger.sh — the debugger against Debian's
# cloud kernel (issue "Debugger, part 1"): a breakpoint on a kernel symbol
# is hit at the address the symbol map gives, `walk` of RIP shows the
# kernel's page walk down to a 2 MiB text page, the backtrace reaches the
# kernel's entry code, and `continue` lets the guest power off (status 0).
#
# Debian ships System.map only as a placeholder, so the map is the
# running kernel's /proc/kallsyms (same format) from a nokaslr boot of
# the same kernel (cached in build/linux/System.map-cloud).
set -u
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NEST86=${NEST86:-$root/nest86}
build=${NEST86_BUILD:-$root/build}
[ -x "$NEST86" ] || { echo "FAIL linux-debugger/setup: no $NEST86 (run make)"; exit 1; }
. "$root/testsuite/missing.sh"
if ! err=$("$root/scripts/linux-fetch.sh" --cloud-only --quiet 2>&1); then
    missing linux-debugger/setup "cannot fetch Debian's kernel: ${err##*$'\n'}"
fi
kernel=$build/linux/vmlinuz-cloud
initrd=$build/linux/initrd.img
map=$build/linux/System.map-cloud
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "PASS linux-debugger/$1"; }
fail() { echo "FAIL linux-debugger/$1: $2"; failures=$((failures + 1)); }

if [ ! -s "$map" ] || [ "$map" -ot "$kernel" ] || [ "$map" -ot "$initrd" ]; then
    timeout 300 "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 quiet nokaslr nest86.kallsyms" -serial stdio -no-reboot \
        < /dev/null 2> "$tmp/map.err" | tr -d '\r' |
        sed -n '/^NEST86_KALLSYMS_BEGIN/,/^NEST86_KALLSYMS_END/p' | grep -v '^NEST86_' > "$map.new"
    if [ "$(wc -l < "$map.new")" -lt 1000 ]; then
        echo "FAIL linux-debugger/map: no /proc/kallsyms from the guest ($(tail -n 1 "$tmp/map.err"))"
        rm -f "$map.new"
        exit 1
    fi
    mv "$map.new" "$map"
fi
addr=$(awk '$3 == "start_kernel" { print $1; exit }' "$map")
[ -n "$addr" ] || { echo "FAIL linux-debugger/map: no start_kernel in $map"; exit 1; }
pass map

cat > "$tmp/session.x" <<EOS
symbols $map
break start_kernel
continue
print rip
walk rip
backtrace
delete
continue
EOS
timeout 300 "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 quiet nokaslr nest86.poweroff" -serial none -no-reboot \
    -x "$tmp/session.x" < /dev/null > "$tmp/out" 2>&1
status=$?
out=$(cat "$tmp/out")

if grep -q "stopped: Breakpoint 1 at 0x$addr <start_kernel>" <<< "$out" &&
    grep -q "^0x$addr .*<start_kernel>" <<< "$out"; then
    pass breakpoint
else
    fail breakpoint "no stop at start_kernel (0x$addr): $(grep -m1 stopped <<< "$out")"
fi
# the kernel text is mapped with 2 MiB pages: the walk ends in a PDE with PS=1
if grep -q "walk 0x$addr" <<< "$out" && grep -q "PDE .*PS=1.*2 MiB page" <<< "$out" &&
    grep -q "=> p:0x" <<< "$out"; then
    pass walk
else
    fail walk "$(grep -A6 "walk 0x" <<< "$out" | head -7 | tr '\n' '|')"
fi
if grep -q "^#1 .*<secondary_startup_64" <<< "$out"; then
    pass backtrace
else
    fail backtrace "$(grep '^#' <<< "$out" | tr '\n' '|')"
fi
if [ "$status" -eq 0 ]; then
    pass continue-to-poweroff
else
    fail continue-to-poweroff "nest86 exit status $status, want 0"
fi
exit $((failures ? 1 : 0))
