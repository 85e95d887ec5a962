#!/usr/bin/env bash
# testsuite/integration/linux_debugger.sh — the debugger against Debian's
# cloud kernel (issue "Debugger, part 1"): a breakpoint on a kernel symbol
# is hit at the address the symbol map gives, `walk` of RIP shows the
# kernel's page walk down to a 2 MiB text page and to the physical address
# the kernel itself says its text is at, the backtrace reaches the
# kernel's entry code, and `continue` lets the guest power off (status 0).
#
# Debian ships System.map only as a placeholder, so the map is the
# running kernel's /proc/kallsyms (same format) from a nokaslr boot of
# the same kernel (cached in build/linux/System.map-cloud), and the same
# boot's /proc/iomem (build/linux/iomem-cloud) gives the physical address
# of the kernel's text ("Kernel code" = __pa_symbol(_text)): the guest's
# own view, against which `walk` is checked.
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
iomem=$build/linux/iomem-cloud
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
pass() { echo "PASS linux-debugger/$1"; }
fail() { echo "FAIL linux-debugger/$1: $2"; failures=$((failures + 1)); }

if [ ! -s "$map" ] || [ "$map" -ot "$kernel" ] || [ "$map" -ot "$initrd" ] ||
    [ ! -s "$iomem" ] || [ "$iomem" -ot "$initrd" ]; then
    timeout 300 "$NEST86" -m 512M -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 quiet nokaslr nest86.kallsyms" -serial stdio -no-reboot \
        < /dev/null 2> "$tmp/map.err" | tr -d '\r' > "$tmp/map.out"
    sed -n '/^NEST86_KALLSYMS_BEGIN/,/^NEST86_KALLSYMS_END/p' "$tmp/map.out" |
        grep -v '^NEST86_' > "$map.new"
    sed -n '/^NEST86_IOMEM_BEGIN/,/^NEST86_IOMEM_END/p' "$tmp/map.out" |
        grep -v '^NEST86_' > "$iomem.new"
    if [ "$(wc -l < "$map.new")" -lt 1000 ] || ! grep -q ': Kernel code$' "$iomem.new"; then
        echo "FAIL linux-debugger/map: no /proc/kallsyms and /proc/iomem from the guest ($(tail -n 1 "$tmp/map.err"))"
        rm -f "$map.new" "$iomem.new"
        exit 1
    fi
    mv "$map.new" "$map"
    mv "$iomem.new" "$iomem"
fi
addr=$(awk '$3 == "start_kernel" { print $1; exit }' "$map")
text=$(awk '$3 == "_text" { print $1; exit }' "$map")
code=$(sed -n 's/^ *\([0-9a-f]*\)-[0-9a-f]* : Kernel code$/\1/p' "$iomem" | head -n 1)
[ -n "$addr" ] && [ -n "$text" ] || { echo "FAIL linux-debugger/map: no start_kernel or _text in $map"; exit 1; }
[ -n "$code" ] || { echo "FAIL linux-debugger/map: no 'Kernel code' in $iomem"; exit 1; }
# where the guest says start_kernel is in physical memory
offset=$((0x$addr - 0x$text))
if [ $((0x$code)) -eq 0 ] || [ $offset -lt 0 ] || [ $offset -ge $((64 << 20)) ]; then
    echo "FAIL linux-debugger/map: implausible Kernel code 0x$code or start_kernel - _text = $offset"
    exit 1
fi
want_pa=$((0x$code + offset))
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
# the kernel text is mapped with 2 MiB pages: the walk ends in a PDE
# with PS=1, at the physical address the guest's /proc/iomem implies
got_pa=$(grep -A8 "walk 0x$addr" <<< "$out" | sed -n 's/^ *=> p:\(0x[0-9a-f]*\)$/\1/p' | head -n 1)
if grep -q "walk 0x$addr" <<< "$out" && grep -q "PDE .*PS=1.*2 MiB page" <<< "$out" &&
    [ -n "$got_pa" ] && [ $((got_pa)) -eq $want_pa ]; then
    pass walk
else
    fail walk "walk gave p:${got_pa:-none}, the guest's /proc/iomem says $(printf '0x%x' $want_pa): $(grep -A6 "walk 0x" <<< "$out" | head -7 | tr '\n' '|')"
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
