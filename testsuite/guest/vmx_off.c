/*
 * vmx_off: `-cpu nest86,vmx=off` (vmx_off.args) removes VMX entirely:
 * CPUID.1:ECX.VMX is 0, CR4.VMXE is reserved (#GP), the IA32_VMX_*
 * capability MSRs do not exist (#GP), and the VMX instructions are #UD
 * (SDM Vol. 3C 23.6, "Discovering Support for VMX").
 */
#include "rt.h"
#include "vmx.h"

static void test_cpuid_clear(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    ASSERT_EQ((r[2] >> 5) & 1, 0);
}

static void do_set_vmxe(void) { write_cr4(read_cr4() | CR4_VMXE); }
static void do_read_basic(void) { (void)rdmsr(MSR_VMX_BASIC); }
static void do_read_true_entry(void) { (void)rdmsr(MSR_VMX_TRUE_ENTRY); }
static void do_vmxoff(void) { __asm__ volatile("vmxoff" ::: "cc"); }
/* IA32_FEATURE_CONTROL is enumerated by VMX here (no SMX, SGX or LMCE) */
static void do_read_feature_control(void) { (void)rdmsr(MSR_FEATURE_CONTROL); }

static void test_no_vmx(void)
{
    expect_fault(13, do_set_vmxe);
    expect_fault(13, do_read_basic);
    expect_fault(13, do_read_true_entry);
    expect_fault(6, do_vmxoff);
    expect_fault(13, do_read_feature_control);
}

void test_main(void)
{
    RUN_TEST(test_cpuid_clear);
    RUN_TEST(test_no_vmx);
}
