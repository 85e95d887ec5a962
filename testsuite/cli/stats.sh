#!/usr/bin/env bash
# testsuite/cli/stats.sh — `-d stats`, the figures `make bench` reads:
# at exit, on stderr, the instructions retired and guest time, then page
# walks, MMU epochs and writes to cached code.  Two runs of the same
# guest must print the same figures (execution is deterministic), and
# each figure must move the way its guest makes it move: lm64_tlb walks
# pages and flushes the TLB; lm64_smc writes to code it has run.
#
# Sub-tests (testsuite/run protocol): lines, deterministic, tlb, smc,
# vmx-exits.
set -u
NEST86=${NEST86:-./nest86}
root=${NEST86_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${NEST86_BUILD:-build}
. "$root/testsuite/missing.sh"
. "$root/testsuite/stats_field.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for k in lm64_tlb lm64_smc; do
    if [ ! -f "$build/guest/$k.elf" ]; then
        missing stats/lines "$build/guest/$k.elf is not built"
    fi
done

# stats KERNEL OUT: runs the kernel with -d stats, keeps stderr in OUT
stats() {
    timeout 60 "$NEST86" -kernel "$build/guest/$1.elf" -serial none -display none \
        -no-reboot -d stats < /dev/null > /dev/null 2> "$2"
}

stats lm64_tlb "$tmp/a"
stats lm64_tlb "$tmp/b"
stats lm64_smc "$tmp/c"

insns=$(field "$tmp/a" 'instructions retired')
walks=$(field "$tmp/a" 'page walks')
epochs=$(field "$tmp/a" 'MMU epochs')
if [ -n "$insns" ] && [ -n "$walks" ] && [ -n "$epochs" ] &&
    [ -n "$(field "$tmp/a" 'writes to cached code')" ]; then
    echo "PASS stats/lines"
else
    echo "FAIL stats/lines: expected the two stats lines on stderr, got:"
    sed 's/^/    | /' "$tmp/a"
fi

if grep '^stats:' "$tmp/a" | cmp -s - <(grep '^stats:' "$tmp/b"); then
    echo "PASS stats/deterministic"
else
    echo "FAIL stats/deterministic: two runs of lm64_tlb differ:"
    diff <(grep '^stats:' "$tmp/a") <(grep '^stats:' "$tmp/b") | sed 's/^/    | /'
fi

# lm64_tlb maps, remaps and invalidates pages: it walks more than once
# per test and moves the MMU epoch (INVLPG, CR3 loads) many times
if [ "${walks:-0}" -gt 100 ] && [ "${epochs:-0}" -gt 20 ] && [ "${insns:-0}" -gt 1000 ]; then
    echo "PASS stats/tlb"
else
    echo "FAIL stats/tlb: lm64_tlb: ${insns:-?} instructions, ${walks:-?} walks, ${epochs:-?} epochs"
fi

# lm64_smc rewrites code it has executed: several writes hit cached code
smc=$(field "$tmp/c" 'writes to cached code')
if [ "${smc:-0}" -ge 4 ]; then
    echo "PASS stats/smc"
else
    echo "FAIL stats/smc: lm64_smc: ${smc:-?} writes to cached code (expected at least 4)"
fi

# a VMX guest: the VM entries and exits by reason (vmx_entry exits by
# VMCALL in most tests and fails many entries on purpose), the same in
# two runs
if [ -f "$build/guest/vmx_entry.elf" ]; then
    stats vmx_entry "$tmp/v"
    stats vmx_entry "$tmp/w"
    line=$(grep '^stats: .* VM exits:' "$tmp/v")
    if echo "$line" | grep -qE 'VMCALL [1-9][0-9]*,' &&
        echo "$line" | grep -qE 'VM-entry failure due to invalid guest state [1-9][0-9]*' &&
        cmp -s <(grep '^stats:' "$tmp/v") <(grep '^stats:' "$tmp/w"); then
        echo "PASS stats/vmx-exits"
    else
        echo "FAIL stats/vmx-exits: got '${line:-no VM exits line}'"
    fi
else
    echo "FAIL stats/vmx-exits: $build/guest/vmx_entry.elf is not built (make check builds it)"
fi
