/*
 * vmx_pml: page-modification logging (SDM Vol. 3C 28.2.6, 24.6.18,
 * 26.2.1.1, 27.2.1): with "enable PML" and EPT accessed/dirty flags,
 * each write that sets a leaf's EPT dirty flag first logs the page's
 * guest-physical address at PML address + 8 x PML index and decrements
 * the index; with the index outside 0-511 the write causes a PML-full
 * VM exit (reason 62) instead, leaving the dirty flag clear.  A write to
 * an already-dirty page logs nothing.  VM entry checks: PML needs EPT,
 * and a 4-KiB-aligned PML address.
 */
#include "rt.h"
#include "vmx.h"

#define PROC2_EPT (1u << 1)
#define PROC2_PML (1u << 17)

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint64_t pml_log[512] __attribute__((aligned(4096)));
volatile uint64_t page_a[512] __attribute__((aligned(4096)));
volatile uint64_t page_b[512] __attribute__((aligned(4096)));
volatile uint64_t page_c[512] __attribute__((aligned(4096)));

void g_writes(void), g_write_a(void), g_write_b(void), g_write_c(void), g_done(void);
__asm__(".text\n"
        "g_writes:\n"
        "g_write_a:\n  movq $1, page_a(%rip)\n"
        "  movq $2, page_a+8(%rip)\n"   /* the same page again: no new entry */
        "g_write_b:\n  movq $3, page_b(%rip)\n"
        "g_write_c:\n  movq $4, page_c(%rip)\n"
        "g_done:\n  vmcall\n  ud2\n");

static void setup(void)
{
    vmx_setup_guest(g_writes, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    vmx_use_ept(vmx_ept_identity(1) | EPTP_AD);
    /* 4-KiB EPT pages for the three; every other leaf starts accessed
     * and dirty, so that only the three can be logged (the guest's own
     * page-table pages would be too: with A/D on, its paging-structure
     * accesses are writes for EPT, 28.2.4) */
    uint64_t *pages[3] = {(uint64_t *)page_a, (uint64_t *)page_b, (uint64_t *)page_c};
    for (int k = 0; k < 3; k++)
        (void)vmx_ept_entry((uintptr_t)pages[k], 1);
    for (uint64_t gpa = 0; gpa < (1ull << 30); gpa += 1ull << 21) {
        uint64_t *pde = vmx_ept_entry(gpa, 2);
        if (*pde & EPT_PS) {
            *pde |= EPT_A | EPT_D;
            continue;
        }
        for (uint64_t k = 0; k < 512; k++)
            *vmx_ept_entry(gpa + (k << 12), 1) |= EPT_A | EPT_D;
    }
    for (int k = 0; k < 3; k++)
        *vmx_ept_entry((uintptr_t)pages[k], 1) &= ~(EPT_A | EPT_D);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT | PROC2_PML);
    vmwrite(VMCS_PML_ADDRESS, (uintptr_t)pml_log);
    memset(pml_log, 0, sizeof(pml_log));
}

static void test_log_then_full(void)
{
    setup();
    vmwrite(VMCS_GUEST_PML_INDEX, 1); /* room for two entries */
    ASSERT_EQ(vmx_launch_exit(), 62);  /* page-modification log full */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_write_c); /* the third page's write */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(pml_log[1], (uintptr_t)page_a);
    ASSERT_EQ(pml_log[0], (uintptr_t)page_b);
    ASSERT_EQ(vmread(VMCS_GUEST_PML_INDEX), 0xffff);
    ASSERT_EQ(page_a[0], 1);
    ASSERT_EQ(page_a[1], 2);
    ASSERT_EQ(page_b[0], 3);
    ASSERT_EQ(page_c[0], 0);            /* the write did not happen */
    ASSERT_EQ(*vmx_ept_entry((uintptr_t)page_c, 1) & EPT_D, 0); /* nor its dirty flag */
    /* the hypervisor empties the log and resumes: the write completes */
    vmwrite(VMCS_GUEST_PML_INDEX, 511);
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(pml_log[511], (uintptr_t)page_c);
    ASSERT_EQ(vmread(VMCS_GUEST_PML_INDEX), 510);
    ASSERT_EQ(page_c[0], 4);
    ASSERT_EQ(*vmx_ept_entry((uintptr_t)page_c, 1) & EPT_D, EPT_D);
}

static void test_entry_checks(void)
{
    setup();
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_PML); /* PML without EPT */
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
    setup();
    vmwrite(VMCS_PML_ADDRESS, (uintptr_t)pml_log + 8); /* not aligned */
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_log_then_full);
    RUN_TEST(test_entry_checks);
    vmx_disable();
}
