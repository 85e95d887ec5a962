#!/usr/bin/env bash
# testsuite/cli/vmx_sipi.sh — the wait-for-SIPI activity state on a
# one-processor machine, where only the debugger's `ipi` can send what
# another processor would: the vmx_init kernel with `-append sipi` puts
# its guest in wait-for-SIPI; the script sends INIT (held by that state)
# and SIPI 0x9a (VM exit 4); the kernel then checks the exits and leaves
# VMX operation with an INIT held, which resets the machine.  Without the
# debugger nest86 says why the guest can never wake.
#
# Sub-tests (testsuite/run protocol): sipi/*, alone/*.
set -u
. "${NEST86_ROOT:-.}/testsuite/vmx_cli.sh"
vmx_cli_setup vmx_init

cat > "$tmp/cmds" <<CMDS
symbols $elf64
break test_wait_for_sipi
continue
break vmentry
continue
vmcs
ipi sipi
ipi init
vmcs
ipi sipi 0x9a
delete
continue
CMDS
status=0
timeout 60 "$NEST86" -kernel "$kernel" -append sipi -serial stdio -display none -no-reboot -S \
    -d vmx -D "$tmp/trace" -x "$tmp/cmds" < /dev/null > "$tmp/out" 2>&1 || status=$?
check sipi/waits "$tmp/out" "guest activity state: wait-for-SIPI"
check sipi/usage "$tmp/out" "usage: ipi nmi | init | sipi VECTOR"
check sipi/init-held "$tmp/out" "INIT sent: held (the guest waits for a SIPI)"
check sipi/init-pending "$tmp/out" "INIT pending (blocked by the wait-for-SIPI state)"
check sipi/sent "$tmp/out" "SIPI 0x9a sent: VM exit 4 (start-up IPI) next"
check sipi/exit-logged "$tmp/trace" "VM exit 4 (start-up IPI) qualification 0x9a"
check sipi/init-logged "$tmp/trace" "VM exit 3 (INIT signal)"
check sipi/kernel-checks "$tmp/out" "ok - test_wait_for_sipi"
check sipi/vmxoff "$tmp/out" "INIT held; VMXOFF"
check sipi/reset "$tmp/out" "nest86: guest requested a reset (INIT signal) (-no-reboot): stopping"
check_count sipi/no-pass-line "$tmp/out" "PASS (" 0

# no debugger: nothing can ever send the SIPI, and nest86 says so
status=0
timeout 60 "$NEST86" -kernel "$kernel" -append sipi -serial stdio -display none -no-reboot \
    < /dev/null > "$tmp/alone" 2>&1 || status=$?
check alone/hung "$tmp/alone" "VMX guest in the wait-for-SIPI state at RIP=0x"
check alone/why "$tmp/alone" "no other processor can send one"
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
    echo "PASS alone/status"
else
    echo "FAIL alone/status: exit status $status, expected a hang's"
fi
