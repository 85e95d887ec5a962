/*
 * vmx_ept_workload: the `make bench` workload (workload.c, the "mix" of
 * register-only and memory-heavy phases) run twice by the script: once
 * directly ("direct" on the command line) and once as a VMX guest under
 * a 4-level EPT with 4-KiB leaves ("ept"), the issue 12 figure: what the
 * two-dimensional walk costs.  The guest shares this kernel's page
 * tables, GDT and IDT (testsuite/vmx/vmx.h) and runs at CPL 0; the
 * EPT maps guest-physical [0, 64 MiB) to itself with 4-KiB pages.
 */
#define test_main workload_main
#include "workload.c"
#undef test_main

#include "vmx.h"

#define EPT_MIB 64
static uint64_t ept_pml4[512] __attribute__((aligned(4096)));
static uint64_t ept_pdpt[512] __attribute__((aligned(4096)));
static uint64_t ept_pd[512] __attribute__((aligned(4096)));
static uint64_t ept_pt[EPT_MIB / 2][512] __attribute__((aligned(4096)));
static uint8_t guest_stack[256 * 1024] __attribute__((aligned(16)));

void bench_guest(void);
void bench_guest_body(void);
void bench_guest_body(void)
{
    workload_main();
}
__asm__(".text\nbench_guest:\n  call bench_guest_body\n  vmcall\n  ud2\n");

static uint64_t ept_4k_identity(void)
{
    for (unsigned t = 0; t < EPT_MIB / 2; t++) {
        for (uint64_t k = 0; k < 512; k++)
            ept_pt[t][k] = ((uint64_t)t << 21 | k << 12) | EPT_RWX | EPT_WB;
        ept_pd[t] = (uintptr_t)ept_pt[t] | EPT_RWX;
    }
    ept_pdpt[0] = (uintptr_t)ept_pd | EPT_RWX;
    ept_pml4[0] = (uintptr_t)ept_pdpt | EPT_RWX;
    return (uintptr_t)ept_pml4 | EPTP_WB_4LEVEL;
}

void test_main(void)
{
    if (!rt_cmdline_has("ept")) {
        workload_main();
        return;
    }
    vmx_enable();
    vmx_setup_guest(bench_guest, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    vmx_use_ept(ept_4k_identity());
    ASSERT_EQ(vmx_launch_exit(), 18); /* the guest ran the workload and VMCALLed */
    vmx_disable();
}
