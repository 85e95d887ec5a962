/*
 * vmx_shadow: VMCS shadowing (SDM Vol. 3C 24.6.15, 24.10, 26.3.1.5, 30.3
 * "VMREAD"/"VMWRITE"): with "VMCS shadowing", a guest's VMREAD and
 * VMWRITE of a field whose bit is clear in the VMREAD/VMWRITE bitmap use
 * the shadow VMCS the VMCS link pointer names, without a VM exit; a set
 * bit exits (23, 25).  A shadow VMCS has revision bit 31 set: VMPTRLD
 * takes it, VMLAUNCH of it fails (VMfailInvalid), and VM entry checks
 * that the link pointer's shadow indicator matches the control.
 */
#include "rt.h"
#include "vmx.h"

#define PROC2_SHADOWING (1u << 14)
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint8_t vmread_bitmap[4096] __attribute__((aligned(4096)));
static uint8_t vmwrite_bitmap[4096] __attribute__((aligned(4096)));

void g_shadow(void), g_shadow_exit(void);
__asm__(".text\n"
        "g_shadow:\n"
        "  mov $0x681e, %rax\n"        /* GUEST_RIP: shadowed */
        "  vmread %rax, %rbx\n"
        "  mov $0x6820, %rax\n"        /* GUEST_RFLAGS: shadowed */
        "  mov $0x246, %rcx\n"
        "  vmwrite %rcx, %rax\n"
        "  mov $0x4402, %rax\n"        /* EXIT_REASON: its VMREAD bit is set */
        "g_shadow_exit:\n"
        "  vmread %rax, %rdx\n"
        "  vmcall\n"
        "  ud2\n");

static void make_shadow(void)
{
    uint32_t rev = (uint32_t)rdmsr(MSR_VMX_BASIC) & 0x7fffffff;
    *(uint32_t *)vmx_vmcs_b = rev | 0x80000000u; /* shadow-VMCS indicator */
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_b), VMX_OK);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_b), VMX_OK);
    vmwrite(VMCS_GUEST_RIP, 0x1234);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_INVALID); /* a shadow VMCS cannot be launched */
}

static void shadowing_on(void)
{
    memset(vmread_bitmap, 0, sizeof(vmread_bitmap));
    memset(vmwrite_bitmap, 0, sizeof(vmwrite_bitmap));
    vmread_bitmap[0x4402 / 8] |= 1u << (0x4402 % 8);
    vmwrite(VMCS_VMREAD_BITMAP, (uintptr_t)vmread_bitmap);
    vmwrite(VMCS_VMWRITE_BITMAP, (uintptr_t)vmwrite_bitmap);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | (1u << 31));
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_SHADOWING);
    vmwrite(VMCS_VMCS_LINK_POINTER, (uintptr_t)vmx_vmcs_b);
}

static void test_shadowed_accesses(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_SHADOWING, PROC2_SHADOWING);
    make_shadow();
    vmx_setup_guest(g_shadow, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    shadowing_on();
    ASSERT_EQ(vmx_launch_exit(), 23); /* VMREAD of the one field with its bit set */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_shadow_exit);
    ASSERT_EQ(vmx_guest.rbx, 0x1234); /* read from the shadow VMCS */
    /* the guest's VMWRITE went to the shadow VMCS, not to this one */
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x200, 0);
    ASSERT_EQ(vmptrld((uintptr_t)vmx_vmcs_b), VMX_OK);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x246);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), 0x1234);
}

static void test_link_pointer_checks(void)
{
    make_shadow();
    vmx_setup_guest(g_shadow, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    shadowing_on();
    /* the link pointer names an ordinary VMCS while shadowing is on */
    vmwrite(VMCS_VMCS_LINK_POINTER, (uintptr_t)vmx_vmcs_a);
    ASSERT_EQ(vmx_run(1), VMX_OK);
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), 0x80000021); /* entry failure, invalid guest state */
    /* a shadow VMCS while shadowing is off */
    make_shadow();
    vmx_setup_guest(g_shadow, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    vmwrite(VMCS_VMCS_LINK_POINTER, (uintptr_t)vmx_vmcs_b);
    ASSERT_EQ(vmx_run(1), VMX_OK);
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), 0x80000021);
    /* a misaligned VMREAD bitmap: VMfailValid 7 */
    make_shadow();
    vmx_setup_guest(g_shadow, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    shadowing_on();
    vmwrite(VMCS_VMREAD_BITMAP, (uintptr_t)vmread_bitmap + 8);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_shadowed_accesses);
    RUN_TEST(test_link_pointer_checks);
    vmx_disable();
}
