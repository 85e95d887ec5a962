#!/usr/bin/env bash
# testsuite/cli/vmx_ept_watchers.sh — the debugger watching a hypervisor
# write its EPT: `ept watch GPA` and the missing-invalidation detector
# (`check invept on`), on the vmx_stale_ept guest kernel
# (testsuite/guest/vmx_stale_ept.c).  Its hypervisor points the EPT
# entry of page_one at page_two twice: once followed by INVEPT
# (remap_with_invept, correct), once without (stale_remap, the bug).
#
# Sub-tests (testsuite/run protocol):
#   watch/hit     `ept watch page_one`, set before any EPT exists (armed
#                 at the first VM entry), stops at the write in
#                 remap_with_invept, naming the PTE and the writer
#   watch/old, watch/new   the entry before and after, decoded
#   watch/stack   the stack names the caller, test_with_invept
#   watch/list    `ept watch` lists the four entries of the walk, the PTE
#                 with its new value
#   invept/silent the detector does not fire on the correct hypervisor:
#                 the first stop is the breakpoint on test_without_invept
#   invept/fires  ... and fires once, at the VM entry after stale_remap
#   invept/entry  the report shows the PTE's old and new value
#   invept/writer ... and the writer, stale_remap, with its caller
#   invept/guest  the buggy hypervisor still passes as a guest test
#   invvpid/*     the same detector on guest/vmx_vpid, whose hypervisor
#                 changes its guest's PTE without INVVPID once (on
#                 purpose), then runs INVVPID: one report, naming the PTE,
#                 its old and new value and the writer
set -u
. "${NEST86_ROOT:-.}/testsuite/vmx_cli.sh"
. "${NEST86_ROOT:-.}/testsuite/missing.sh"
vmx_cli_setup vmx_stale_ept
command -v nm >/dev/null || missing watch/hit "no nm (binutils)"

addr() { printf '0x%x' "0x$(nm "$elf64" | awk -v n="$1" '$3 == n { print $1 }')"; }
one=$(addr page_one)
two=$(addr page_two)
# an EPT PTE as the debugger decodes it: read/write/execute, write-back
pte() { printf '0x%016x  RWX WB --  -> 4 KiB page p:%s' $(($1 | 0x37)) "$1"; }

cat > "$tmp/watch.x" <<CMDS
ept watch page_one
continue
ept watch
quit
CMDS
timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot \
    -x "$tmp/watch.x" < /dev/null > "$tmp/watch" 2>&1
check watch/hit "$tmp/watch" "for guest-physical $one (EPTP "
check watch/writer "$tmp/watch" "stopped: EPT watch 1: write to the EPT PTE at p:"
check watch/writer-symbol "$tmp/watch" "<remap_with_invept+"
check watch/old "$tmp/watch" "  old $(pte "$one")"
check watch/new "$tmp/watch" "  new $(pte "$two")"
check watch/stack "$tmp/watch" "<test_with_invept+"
check watch/list "$tmp/watch" "PTE   at p:"
check watch/list-new "$tmp/watch" "= $(pte "$two")"

cat > "$tmp/inv.x" <<CMDS
check invept on
break test_without_invept
continue
continue
continue
CMDS
timeout 60 "$NEST86" -kernel "$kernel" -serial file:"$tmp/console" -display none -no-reboot \
    -x "$tmp/inv.x" < /dev/null > "$tmp/inv" 2>&1
status=$?
grep '^stopped:' "$tmp/inv" > "$tmp/stops"
first=$(sed -n 2p "$tmp/stops")
case $first in
*"Breakpoint 1 at "*"<test_without_invept>"*) echo "PASS invept/silent" ;;
*) echo "FAIL invept/silent: the first stop is '$first'" ;;
esac
n=$(grep -c 'stopped: missing INVEPT: VM entry' "$tmp/inv")
if [ "$n" = 1 ] && sed -n 3p "$tmp/stops" | grep -q 'missing INVEPT'; then
    echo "PASS invept/fires"
else
    echo "FAIL invept/fires: $n reports, stops: $(tr '\n' '|' < "$tmp/stops")"
fi
check invept/entry "$tmp/inv" "    old $(pte "$one")"
check invept/entry-new "$tmp/inv" "    new $(pte "$two")"
check invept/what "$tmp/inv" "points elsewhere since the VM exit, with no INVEPT"
check invept/writer "$tmp/inv" "<stale_remap+"
check invept/writer-caller "$tmp/inv" "<test_without_invept+"
if [ "$status" = 1 ] && grep -q 'PASS (2 tests' "$tmp/console"; then
    echo "PASS invept/guest"
else
    echo "FAIL invept/guest: status $status, $(tail -n 2 "$tmp/console" | tr '\n' '|')"
fi

# a guest page-table entry the hypervisor changes under VPID
vpid_kernel=$build/guest/vmx_vpid.elf
printf 'check invept on\ncontinue\ncontinue\n' > "$tmp/vpid.x"
timeout 60 "$NEST86" -kernel "$vpid_kernel" -serial none -display none -no-reboot \
    -x "$tmp/vpid.x" < /dev/null > "$tmp/vpid" 2>&1
n=$(grep -c '^stopped: missing INVVPID: VM entry' "$tmp/vpid")
if [ "$n" = 1 ] && [ "$(grep -c '^stopped: missing' "$tmp/vpid")" = 1 ]; then
    echo "PASS invvpid/fires-once"
else
    echo "FAIL invvpid/fires-once: $(grep '^stopped:' "$tmp/vpid" | tr '\n' '|')"
fi
check invvpid/entry "$tmp/vpid" "guest PTE at p:"
check invvpid/what "$tmp/vpid" "points elsewhere since the VM exit, with no INVVPID:"
check invvpid/writer "$tmp/vpid" "<test_translations_survive_exits+"
