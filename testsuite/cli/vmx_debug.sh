#!/usr/bin/env bash
# testsuite/cli/vmx_debug.sh — what nest86 shows of VMX: `-d vmx` logs
# every VM entry and exit by name and, for a failed entry, the check it
# broke; the debugger's `vmcs` command shows VMX operation and fields by
# name.  Runs the vmx_entry guest kernel, whose exits and failures are
# known (testsuite/guest/vmx_entry.c).
#
# Sub-tests (testsuite/run protocol): trace/*, vmcs/*.
set -u
. "${NEST86_ROOT:-.}/testsuite/vmx_cli.sh"
vmx_cli_setup vmx_entry

timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot \
    -d vmx -D "$tmp/trace" < /dev/null > /dev/null 2>&1
check trace/entry "$tmp/trace" "vmx: VM entry (VMLAUNCH) to 0018:"
check trace/exit-vmcall "$tmp/trace" "VM exit 18 (VMCALL) qualification 0x0 at guest rip"
check trace/exit-cpuid "$tmp/trace" "VM exit 10 (CPUID)"
check trace/exit-cr "$tmp/trace" "VM exit 28 (control-register access) qualification 0x103"
check trace/fail-controls "$tmp/trace" \
    "VM entry failed (VMfailValid 7): CR3-target count greater than 4 (SDM 26.2.1.1)"
check trace/fail-host "$tmp/trace" \
    "VM entry failed (VMfailValid 8): host CS selector is null (SDM 26.2.3)"
check trace/fail-guest "$tmp/trace" \
    "VM entry failed (exit reason 33 VM-entry failure due to invalid guest state): guest CS.L and CS.D both set (SDM 26.3.1.2)"

cat > "$tmp/cmds" <<CMDS
vmcs
symbols $elf64
break test_exit_sequence
continue
vmcs
vmcs exit_reason vm_instruction_error guest_rip
vmcs nosuch
quit
CMDS
timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot -S \
    -x "$tmp/cmds" < /dev/null > "$tmp/out" 2>&1
check vmcs/off "$tmp/out" "VMX: off (not in VMX operation)"
check vmcs/summary "$tmp/out" "VMX: root operation, VMXON region 0x"
check vmcs/launched "$tmp/out" "(launched), 1 entries, 1 exits"
check vmcs/exit-reason "$tmp/out" "EXIT_REASON                    4402  exit    32  0x00000012  VMCALL"
check vmcs/error "$tmp/out" "VM_INSTRUCTION_ERROR           4400  exit    32  0x00000004  VMLAUNCH with non-clear VMCS"
check vmcs/unknown "$tmp/out" "vmcs: no field 'nosuch'"

# catchpoints on VM exits and entries: stop at the host's first
# instruction after the exit (vmx_host_entry in the VMX library), at the
# guest's first after the entry; a failed entry is an exit 33
cat > "$tmp/catch" <<CMDS
catch vmexit cr_access
catch vmentry
continue
delete 2
continue
continue
delete
catch vmexit 33
continue
vmcs
quit
CMDS
timeout 60 "$NEST86" -kernel "$kernel" -serial none -display none -no-reboot -S \
    -x "$tmp/catch" < /dev/null > "$tmp/catch.out" 2>&1
check catch/set "$tmp/catch.out" "Catchpoint 1: VM exit 28 (control-register access)"
check catch/entry "$tmp/catch.out" "stopped: Catchpoint 2: VM entry"
check catch/entry-at-guest "$tmp/catch.out" "<g_vmcall>:"
check catch/exit "$tmp/catch.out" "stopped: Catchpoint 1: VM exit 28 (control-register access), qualification 0x0 [MOV to CR0 from rax], guest rip"
check catch/exit-cr3 "$tmp/catch.out" "VM exit 28 (control-register access), qualification 0x103 [MOV to CR3 from rcx], guest rip"
check catch/exit-at-host "$tmp/catch.out" "<vmx_host_entry>:"
check catch/failed-entry "$tmp/catch.out" "Catchpoint 3: failed VM entry, VM exit 33 (VM-entry failure due to invalid guest state)"
check catch/failed-check "$tmp/catch.out" "last VM entry failed: guest CR0 outside IA32_VMX_CR0_FIXED0/1 (SDM 26.3.1.1)"
