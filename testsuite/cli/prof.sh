#!/usr/bin/env bash
# testsuite/cli/prof.sh — `-d prof`, the sampled profile of the guest
# (frontend/prof.c): one sample per 10,000 ns of guest time, counted by
# function with the -kernel image's symbols, split by mode.  vmx_timer's
# VMX guest spins in g_count_loop for 160,000 instructions (its
# preemption-timer test) — more than anything else the kernel runs — so
# that must be the top row, attributed to the VMX guest.
#
# Sub-tests (testsuite/run protocol): header, samples (their number
# matches the instructions -d stats reports), top (g_count_loop, vmx-guest
# kernel), deterministic (two runs print the same profile).
set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-build}
. "$root/testsuite/missing.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
k=$build/guest/vmx_timer.elf
[ -f "$k" ] || missing prof/header "$k is not built"

prof() {
    timeout 60 "$NEST86" -kernel "$k" -serial none -display none -no-reboot -d prof,stats \
        < /dev/null > /dev/null 2> "$1"
}
prof "$tmp/a"
prof "$tmp/b"

result() { if [ "$2" = 1 ]; then echo "PASS $1"; else echo "FAIL $1: $3"; fi; }

head_line=$(grep -m1 '^prof: [0-9]* samples, one per 10000 guest ns; [0-9]* halted$' "$tmp/a")
result prof/header "$([ -n "$head_line" ] && echo 1)" "no header line: $(head -3 "$tmp/a" | tr '\n' '|')"
samples=$(echo "$head_line" | awk '{ print $2 }')
halted=$(echo "$head_line" | awk '{ print $(NF - 1) }')
insns=$(sed -n 's/^stats: \([0-9]*\) instructions retired.*/\1/p' "$tmp/a")
# a sample ends every slice, which runs at most 10,000 instructions (one
# per guest ns); slices also end at timer deadlines and when the CPU
# halts, a few more here
ok=$(awk -v s="${samples:-0}" -v h="${halted:-0}" -v i="${insns:-0}" \
    'BEGIN { lo = int(i / 10000); print (i > 0 && s >= lo && s <= lo + h + 4) ? 1 : 0 }')
result prof/samples "$ok" "$samples samples ($halted halted) for $insns instructions"
top=$(grep -m1 '^prof: *[0-9.]*%' "$tmp/a" | awk '{ print $4, $5, $6 }')
result prof/top "$([ "$top" = "vmx-guest kernel g_count_loop" ] && echo 1)" "the top row is '$top'"
result prof/deterministic "$(cmp -s "$tmp/a" "$tmp/b" && echo 1)" "two runs differ: $(diff "$tmp/a" "$tmp/b" | head -3 | tr '\n' '|')"
