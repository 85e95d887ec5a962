#!/usr/bin/env bash
# testsuite/integration/linux_kvm_debugger.sh — the debugger's VMX views
# on Debian's own KVM inside nest86 (the linux_kvm scenario: the cloud
# kernel, initrd-kvm.img, `nest86.kvm`).  A -x script counts every VM
# exit and EPT event (trace vmexit, trace ept), stops at KVM's first
# I/O-instruction exit — nest86's KVM client's `io` guest writes port
# 0x1234 with OUT DX, AL — and looks at it: vmcs, vmcs execution and
# exit, vmcs diff, ept dump, ept walk and the 2-D walk of the guest's
# RIP, which must agree with each other; at the next VM entry `ept step`
# follows the guest's next fetch through both dimensions; then it lets
# the scenario run to its end.
#
# Sub-tests (testsuite/run protocol): kvmdbg/*.
set -u
. "$(dirname "$0")/../kvm_boot.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/cmds" <<CMDS
symbols $build/linux/System.map-cloud
trace vmexit
trace ept
break vmexit io_instruction
continue
vmcs
vmcs execution
vmcs exit
vmcs diff
ept dump
ept walk 0x10000
walk 0x10006 x vmcs
delete
break vmentry
continue
ept step
delete
continue
CMDS
kvm_boot linux_kvm_debugger kvmdbg/boot 512M initrd-kvm.img "console=ttyS0 quiet nest86.kvm" 300 \
    -S -x "$tmp/cmds"
out=$console.txt
has() { grep -qF -- "$1" "$out"; }

result kvmdbg/stop "$(has 'stopped: Breakpoint 1: VM exit 30 (I/O instruction), qualification 0x12340000 [OUT port 0x1234, 1 byte, port in DX], guest rip 0x10006' && echo 1)" \
    "no stop at the io guest's OUT to port 0x1234"
result kvmdbg/vmcs "$(has 'last exit: VM exit 30 (I/O instruction), qualification 0x12340000 [OUT port 0x1234' && echo 1)" \
    "vmcs did not show the last exit"
result kvmdbg/controls "$(grep -q '^  SECONDARY_PROC_CONTROLS        401e  control 32  0x[0-9a-f]*  .*ENABLE_EPT' "$out" && echo 1)" \
    "vmcs execution did not decode the secondary controls with ENABLE_EPT"
result kvmdbg/eptp "$(grep -q '^  EPT_POINTER .* PML4 at 0x[0-9a-f]*, 4-level' "$out" && echo 1)" "no EPTP decoded"
result kvmdbg/exit-fields "$(has '  EXIT_QUALIFICATION             6400  exit    64  0x0000000012340000  OUT port 0x1234' && echo 1)" \
    "vmcs exit did not decode the qualification"
result kvmdbg/diff "$(grep -q '^  GUEST_RIP  *0x[0-9a-f]* -> 0x0000000000010006' "$out" && echo 1)" \
    "vmcs diff did not show the exit moving GUEST_RIP to 0x10006"
# the guest's code page 0x10000: ept dump, ept walk and the 2-D walk of
# RIP 0x10006 must name the same host page
dump_hpa=$(sed -n 's/^0x000000010000-0x[0-9a-f]* *[0-9a-f]*  -> 0x0*\([0-9a-f]*\)  r.x .*/\1/p' "$out" | head -1)
walk_hpa=$(sed -n 's/^  => guest-physical 0x10000 -> host-physical 0x\([0-9a-f]*\) (r.x)$/\1/p' "$out" | head -1)
walk2d_hpa=$(sed -n 's/^  => host-physical 0x0*\([0-9a-f]*\)$/\1/p' "$out" | head -1)
result kvmdbg/ept-dump "$([ -n "$dump_hpa" ] && echo 1)" "ept dump shows no mapping of guest-physical 0x10000"
result kvmdbg/ept-walk "$([ -n "$walk_hpa" ] && [ "$walk_hpa" = "$dump_hpa" ] && echo 1)" \
    "ept walk 0x10000 gave host-physical '$walk_hpa', ept dump '$dump_hpa'"
result kvmdbg/walk-2d "$([ -n "$walk2d_hpa" ] && [ $((0x$walk2d_hpa)) = $((0x${walk_hpa:-0} + 6)) ] &&
    [ "$(grep -c '^    EPT walk of ' "$out")" -ge 2 ] && echo 1)" \
    "walk 0x10006 vmcs ended at '$walk2d_hpa', want host page $walk_hpa + 6, through the EPT"
# ept step at the next VM entry: KVM resumes the guest after its OUT
# (one byte), whose fetch walks the guest's tables through the EPT to
# the same code page
step_hpa=$(sed -n '/^guest-physical 0x10007: the access itself (fetch) for linear 0x10007/,/=>/s/^  => guest-physical 0x10007 -> host-physical 0x\([0-9a-f]*\) .*/\1/p' "$out" | head -1)
result kvmdbg/ept-step "$([ -n "$step_hpa" ] && [ $((0x$step_hpa)) = $((0x${walk_hpa:-0} + 7)) ] &&
    has 'stopped: ept step: translated at guest-physical 0x10007' &&
    grep -q '^guest-physical 0x[0-9a-f]*: guest paging-structure read for linear 0x10007' "$out" && echo 1)" \
    "ept step did not follow the guest's fetch at 0x10007 to host page $walk_hpa (got '$step_hpa')"
n=$(sed -n 's/^ *\([0-9][0-9]*\)  exit 30 I\/O instruction .*/\1/p' "$out" | head -1)
result kvmdbg/trace "$([ "${n:-0}" -ge 1 ] && has 'trace counts at exit:' && echo 1)" \
    "no I/O-instruction exits counted by trace vmexit"
result kvmdbg/trace-ept "$(grep -q '^ *[0-9][0-9]*  EPT violation 0x0-0x1fffff ' "$out" && echo 1)" \
    "no EPT violations in the guest's first 2 MiB counted by trace ept"
result kvmdbg/done "$(has 'NEST86_KVM_DONE' && [ "$status" = 0 ] && echo 1)" \
    "the KVM scenario did not finish under the debugger (status $status)"
