/*
 * vmx_roundtrip: the guest side of `make bench`'s VM-exit figure.  A
 * hypervisor loop in the smallest useful form: the guest executes VMCALL
 * in a loop; each exit, the host reads the exit reason, steps GUEST_RIP
 * past the VMCALL and resumes — the VMCALL -> VM exit -> VMRESUME round
 * trip a nested hypervisor pays for every exit.  Prints the number of
 * round trips; the host script divides wall time (less the empty run) by
 * it.  "none" on the command line: the empty run (set-up only).
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
void bench_guest(void);
__asm__(".text\nbench_guest:\n1: vmcall\n  jmp 1b\n");

#define ROUND_TRIPS 200000ul

void test_main(void)
{
    unsigned long n = rt_cmdline_has("none") ? 0 : ROUND_TRIPS;
    vmx_enable();
    vmx_setup_guest(bench_guest, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    /* with a VPID, as KVM runs its guests: the TLB keeps both sides */
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 31));
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, 1u << 5);
    vmwrite(VMCS_VPID, 1);
    uint32_t reason = n ? vmx_launch_exit() : 18;
    for (unsigned long k = 1; k < n && reason == 18; k++) {
        vmx_skip_insn();
        reason = vmx_resume_exit();
    }
    ASSERT_EQ(reason, 18);
    rt_printf("bench-roundtrips: %lu\n", n);
    vmx_disable();
}
