/*
 * vmx_ve: EPT-violation virtualization exceptions, SDM Vol. 3C 25.5.7
 * (secondary control 18, the virtualization-exception information
 * address and EPTP-index fields of 24.6.18, bit 63 "suppress #VE" of
 * EPT entries).  A 64-bit guest with an IDT of its own reads or writes a
 * page whose EPT entry refuses it: a convertible violation becomes #VE
 * (vector 20, no error code) through the guest IDT, with the information
 * area holding exit reason 48, FFFFFFFFH, the qualification, the
 * guest-linear and guest-physical addresses and the EPTP index (Table
 * 25-1); otherwise — suppress #VE set, the area's word at offset 4 not
 * 0, an event being delivered — the violation is a VM exit as before.
 * The exception bitmap's bit 20 turns the #VE itself into a VM exit.
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(4096)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint8_t ve_area[4096] __attribute__((aligned(4096)));
static struct vmx_gate64 guest_idt[256] __attribute__((aligned(16)));

#define PROC2_EPT (1u << 1)
#define PROC2_VE (1u << 18)
#define EPT_SUPPRESS_VE (1ull << 63)
#define VEC_VE 20

/* guest code: the handlers say which vector came in R8 and stop */
void g_read(void), g_read_at(void), g_write(void), g_write_at(void), g_ud(void);
void g_ve_handler(void), g_ve_stop(void), g_ud_handler(void), g_df_handler(void);
void g_np_handler(void);
__asm__(".text\n"
        "g_read:\n"
        "g_read_at:\n"
        "  mov (%rax), %rbx\n"
        "  vmcall\n"
        "  ud2\n"
        "g_write:\n"
        "g_write_at:\n"
        "  mov %rbx, (%rax)\n"
        "  vmcall\n"
        "  ud2\n"
        "g_ud:\n"
        "  ud2\n"
        "g_ve_handler:\n"
        "  mov $20, %r8d\n"
        "g_ve_stop:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_ud_handler:\n"
        "  mov $6, %r8d\n"
        "  vmcall\n"
        "  ud2\n"
        "g_df_handler:\n"
        "  mov $8, %r8d\n"
        "  vmcall\n"
        "  ud2\n"
        "g_np_handler:\n"
        "  mov $11, %r8d\n"
        "  vmcall\n"
        "  ud2\n");

static uint64_t addr(const void *p)
{
    return (uintptr_t)p;
}

static uint32_t area32(unsigned off)
{
    uint32_t v;
    memcpy(&v, ve_area + off, 4);
    return v;
}

static uint64_t area64(unsigned off)
{
    uint64_t v;
    memcpy(&v, ve_area + off, 8);
    return v;
}

static uint32_t rerun(void (*rip)(void))
{
    vmwrite(VMCS_GUEST_RIP, addr(rip));
    vmwrite(VMCS_GUEST_RSP, GUEST_RSP);
    return vmx_resume_exit();
}

/* a guest at 'rip' under an identity EPT with a 4-KiB leaf for page_a,
 * its own IDT (#VE and #UD handlers), "EPT-violation #VE" on, the
 * information area cleared to 0 and then CCH from offset 40 on */
static uint64_t *pte_a;

static void setup(void (*rip)(void))
{
    vmx_setup_guest(rip, GUEST_RSP);
    vmx_use_ept(vmx_ept_identity(1));
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT | PROC2_VE);
    vmwrite(VMCS_VE_INFO_ADDR, addr(ve_area));
    vmwrite(VMCS_EPTP_INDEX, 5);
    memset(ve_area, 0, 40);
    memset(ve_area + 40, 0xcc, sizeof ve_area - 40);
    memset(guest_idt, 0, sizeof guest_idt);
    guest_idt[VEC_VE] = vmx_gate64(addr(g_ve_handler), 0x8e);
    guest_idt[6] = vmx_gate64(addr(g_ud_handler), 0x8e);
    vmwrite(VMCS_GUEST_IDTR_BASE, addr(guest_idt));
    vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
    pte_a = vmx_ept_entry(addr(page_a), 1);
    page_a[3] = 0x3333;
    vmx_guest.rax = addr(&page_a[3]);
    vmx_guest.r8 = 0;
}

/* the #VE handler stopped at its VMCALL; the frame the delivery pushed
 * (no error code): RIP of the faulting instruction, CS, RFLAGS, RSP, SS */
static void assert_ve_frame(void (*faulting)(void))
{
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_ve_stop));
    ASSERT_EQ(vmx_guest.r8, VEC_VE);
    const uint64_t *frame = (const uint64_t *)(uintptr_t)vmread(VMCS_GUEST_RSP);
    ASSERT_EQ(addr(frame), GUEST_RSP - 40);
    ASSERT_EQ(frame[0], addr(faulting));
    ASSERT_EQ(frame[1], RT_SEL_CODE64);
    ASSERT_EQ(frame[3], GUEST_RSP);
}

static void test_capability(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_VE, PROC2_VE);
    /* the two fields exist (24.6.18): 16-bit EPTP index, 64-bit address */
    setup(g_read);
    ASSERT_EQ(vmwrite_checked(VMCS_EPTP_INDEX, 0x12345), VMX_OK);
    ASSERT_EQ(vmread(VMCS_EPTP_INDEX), 0x2345);
    ASSERT_EQ(vmwrite_checked(VMCS_VE_INFO_ADDR, 0xabc000), VMX_OK);
    ASSERT_EQ(vmread(VMCS_VE_INFO_ADDR), 0xabc000);
}

/* 26.2.1.1: the address must be 4-KiB aligned and within the
 * physical-address width when the control is 1, and is not looked at
 * when it is 0 */
static void test_entry_checks(void)
{
    uint32_t r[4];
    cpuid(0x80000008, 0, r);
    unsigned maxphy = r[0] & 0xff;
    const uint64_t bad[] = {addr(ve_area) | 0x800, addr(ve_area) | 4, 1ull << maxphy};
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        setup(g_read);
        vmwrite(VMCS_VE_INFO_ADDR, bad[k]);
        ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
        ASSERT_EQ(vmx_error(), 7);
    }
    setup(g_read);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT);
    vmwrite(VMCS_VE_INFO_ADDR, 0x801);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x3333);
}

/* A read of a not-present page: #VE, and Table 25-1 */
static void test_delivery(void)
{
    setup(g_read);
    *pte_a &= ~EPT_RWX;
    ASSERT_EQ(vmx_launch_exit(), 18);
    assert_ve_frame(g_read_at);
    ASSERT_EQ(vmx_guest.rbx, 0);
    ASSERT_EQ(area32(0), 48);
    ASSERT_EQ(area32(4), 0xffffffff);
    /* read, nothing permitted, linear valid, final, read/write page */
    ASSERT_EQ(area64(8), 0x581);
    ASSERT_EQ(area64(16), addr(&page_a[3]));
    ASSERT_EQ(area64(24), addr(&page_a[3]));
    ASSERT_EQ(area32(32) & 0xffff, 5);
    ASSERT_EQ(ve_area[34], 0); /* nothing else written */
    ASSERT_EQ(ve_area[40], 0xcc);
    ASSERT_EQ(ve_area[4095], 0xcc);
    /* the violation did not exit: the VM-exit fields are the VMCALL's */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    /* software makes the page present, clears the word at 4, and IRETs:
     * here, resumes at the faulting instruction */
    *pte_a |= EPT_RWX;
    memset(ve_area + 4, 0, 4);
    ASSERT_EQ(rerun(g_read), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read_at) + 3);
    ASSERT_EQ(vmx_guest.rbx, 0x3333);
}

/* The word at offset 4 must be 0: FFFFFFFFH (left by the last #VE) or
 * any other value makes the violation a VM exit, and the area is left
 * alone. */
static void test_area_in_use(void)
{
    static const uint32_t busy[] = {0xffffffff, 1, 0x80000000};
    for (unsigned k = 0; k < sizeof(busy) / sizeof(busy[0]); k++) {
        setup(g_read);
        *pte_a &= ~EPT_RWX;
        memcpy(ve_area + 4, &busy[k], 4);
        ASSERT_EQ(vmx_launch_exit(), 48);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x581);
        ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(&page_a[3]));
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read_at));
        ASSERT_EQ(area32(0), 0);
        ASSERT_EQ(area32(4), busy[k]);
        ASSERT_EQ(area64(8), 0);
        ASSERT_EQ(vmx_guest.r8, 0);
    }
    /* once cleared, the next violation is a #VE again */
    memset(ve_area + 4, 0, 4);
    ASSERT_EQ(vmx_resume_exit(), 18);
    assert_ve_frame(g_read_at);
    ASSERT_EQ(area32(4), 0xffffffff);
}

/* 25.5.7.1: bit 63 of the entry that decides — a not-present entry
 * (here the PTE: the levels above also map this kernel; the unit test
 * mmu_ept covers them), or the leaf of a translation that refuses the
 * access; a present table pointer's bit 63 does not count. */
static void test_suppress(void)
{
    setup(g_read);
    *pte_a = EPT_SUPPRESS_VE;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x581);
    ASSERT_EQ(area32(4), 0);
    /* without the bit: #VE */
    *pte_a = 0;
    ASSERT_EQ(rerun(g_read), 18);
    assert_ve_frame(g_read_at);
    /* a read-only leaf refusing a write */
    setup(g_write);
    vmx_guest.rbx = 0x99;
    *pte_a = (*pte_a & ~EPT_RWX) | EPT_R | EPT_SUPPRESS_VE;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x58a);
    *pte_a &= ~EPT_SUPPRESS_VE;
    ASSERT_EQ(rerun(g_write), 18);
    assert_ve_frame(g_write_at);
    ASSERT_EQ(area64(8), 0x58a);
    ASSERT_EQ(page_a[3], 0x3333);
    /* bit 63 on the PDE above (a table pointer) changes nothing */
    memset(ve_area + 4, 0, 4);
    *vmx_ept_entry(addr(page_a), 2) |= EPT_SUPPRESS_VE;
    ASSERT_EQ(rerun(g_write), 18);
    assert_ve_frame(g_write_at);
}

/* 25.5.7.3: bit 20 of the exception bitmap makes the #VE a VM exit
 * (reason 0, a hardware exception, vector 20, no error code), after the
 * information was saved. */
static void test_exception_bitmap(void)
{
    setup(g_read);
    *pte_a &= ~EPT_RWX;
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_VE);
    ASSERT_EQ(vmx_launch_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000314);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read_at));
    ASSERT_EQ(area32(0), 48);
    ASSERT_EQ(area32(4), 0xffffffff);
    ASSERT_EQ(area64(8), 0x581);
    ASSERT_EQ(area64(24), addr(&page_a[3]));
}

/* 25.5.7.1: not during event delivery.  The guest's #UD pushes its
 * frame on a stack page that EPT does not map: a VM exit, with the #UD
 * in the IDT-vectoring information. */
static void test_not_during_delivery(void)
{
    setup(g_ud);
    uint64_t *stack_pte = vmx_ept_entry(addr(guest_stack), 1);
    *stack_pte &= ~EPT_RWX;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000306);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION) & 0x1bf, 0x182);
    ASSERT_EQ(area32(4), 0);
    *stack_pte |= EPT_RWX;
    /* the same stack page, not present, for a plain write: #VE, whose
     * own delivery then faults on the stack: a VM exit during the #VE's
     * delivery */
    vmx_guest.rax = addr(guest_stack) + 8;
    *stack_pte &= ~EPT_RWX;
    ASSERT_EQ(rerun(g_write), 48);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000314);
    ASSERT_EQ(area32(4), 0xffffffff);
    ASSERT_EQ(area64(24), addr(guest_stack) + 8);
}

/* Vol. 3A Tables 6-4 and 6-5: #VE is in the page-fault class, so a
 * contributory exception while delivering it is a double fault.  The
 * #VE gate is not present: #NP during the delivery. */
static void test_double_fault(void)
{
    setup(g_read);
    *pte_a &= ~EPT_RWX;
    guest_idt[VEC_VE] = vmx_gate64(addr(g_ve_handler), 0x0e);
    guest_idt[8] = vmx_gate64(addr(g_df_handler), 0x8e);
    guest_idt[11] = vmx_gate64(addr(g_np_handler), 0x8e);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.r8, 8);
    ASSERT_EQ(area32(4), 0xffffffff);
    const uint64_t *frame = (const uint64_t *)(uintptr_t)vmread(VMCS_GUEST_RSP);
    ASSERT_EQ(frame[0], 0); /* #DF's error code (its saved RIP is undefined) */
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capability);
    RUN_TEST(test_entry_checks);
    RUN_TEST(test_delivery);
    RUN_TEST(test_area_in_use);
    RUN_TEST(test_suppress);
    RUN_TEST(test_exception_bitmap);
    RUN_TEST(test_not_during_delivery);
    RUN_TEST(test_double_fault);
    vmx_disable();
}
