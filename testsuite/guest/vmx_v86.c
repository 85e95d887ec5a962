/*
 * vmx_v86: a virtual-8086 guest (guest RFLAGS.VM = 1), as KVM runs real
 * mode without "unrestricted guest" (SDM Vol. 3C 26.3.1.2, 26.3.1.4).
 * The VM-entry checks take CS, SS, DS, ES, FS and GS as V86 mode gives
 * them — base = selector << 4, limit FFFFH, access rights F3H — and
 * refuse anything else; such a guest enters at CPL 3 in V86 mode with
 * guest CR4.VME, runs CLI (VIF) and an INT n that the TSS's redirection
 * bit map sends to its own vector table, and the exit (a #GP from HLT,
 * through the exception bitmap) saves the state V86 mode left,
 * access rights F3H included.  Paging is off (identity EPT,
 * "unrestricted guest"), as the VM-entry checks allow with CR0.PE = 1.
 */
#include <stddef.h>

#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))


#define V86_CS 0x0800 /* code at V86_CS << 4 */
#define V86_BASE 0x8000
#define V86_SS 0x0700
#define V86_SP 0x1000
#define VEC_IVT 0x30
#define RFL_IF 0x200u
#define RFL_RF 0x10000u
#define RFL_VM 0x20000u
#define RFL_VIF 0x80000u

struct __attribute__((packed)) tss32 {
    uint8_t fixed[102];
    uint16_t iomap;
    uint8_t redirect[32]; /* all clear: every INT n to the guest's vector table */
    uint8_t io_end;
};
static struct tss32 tss __attribute__((aligned(128)));

void v86_blob(void), v86_int(void), v86_handler(void), v86_blob_end(void);
__asm__(".text\n"
        ".code16\n"
        "v86_blob:\n"
        "  cli\n"           /* IOPL 0 with CR4.VME: clears VIF */
        "v86_int:\n"
        "  int $0x30\n"
        "v86_handler:\n"
        "  hlt\n"           /* CPL 3: #GP(0) */
        "v86_blob_end:\n"
        ".code64\n");

static uint64_t off(void (*label)(void))
{
    return (uintptr_t)label - (uintptr_t)v86_blob;
}

/* low memory through a pointer the compiler cannot fold */
static volatile uint16_t *low16(uintptr_t addr)
{
    __asm__("" : "+r"(addr));
    return (volatile uint16_t *)addr;
}

static void v86_seg(uint64_t sel_field, uint64_t sel)
{
    vmx_guest_seg(sel_field, sel, sel << 4, 0xffff, 0xf3);
}

static void setup_v86(void)
{
    memcpy((void *)(uintptr_t)V86_BASE, (const void *)v86_blob, off(v86_blob_end));
    volatile uint16_t *ivt = low16(VEC_IVT * 4);
    ivt[0] = (uint16_t)off(v86_handler);
    ivt[1] = V86_CS;
    tss.iomap = offsetof(struct tss32, redirect) + sizeof(tss.redirect);
    tss.io_end = 0xff;

    vmx_setup_unpaged_guest(GUEST_RSP, 0x31, 0x2001); /* CR0 NE, ET, PE; CR4 VMXE, VME */
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    v86_seg(VMCS_GUEST_CS_SELECTOR, V86_CS);
    v86_seg(VMCS_GUEST_SS_SELECTOR, V86_SS);
    v86_seg(VMCS_GUEST_DS_SELECTOR, 0);
    v86_seg(VMCS_GUEST_ES_SELECTOR, 0);
    v86_seg(VMCS_GUEST_FS_SELECTOR, 0);
    v86_seg(VMCS_GUEST_GS_SELECTOR, 0);
    vmwrite(VMCS_GUEST_TR_SELECTOR, 0);
    vmwrite(VMCS_GUEST_TR_BASE, (uintptr_t)&tss);
    vmwrite(VMCS_GUEST_TR_LIMIT, sizeof(tss) - 1);
    vmwrite(VMCS_GUEST_TR_AR, 0x8b); /* busy 32-bit TSS, present */
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
    vmwrite(VMCS_GUEST_RSP, V86_SP);
    vmwrite(VMCS_GUEST_RIP, 0);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2 | RFL_VM | RFL_IF | RFL_VIF); /* IOPL 0 */
}

static void test_v86_guest_runs(void)
{
    setup_v86();
    /* HLT at CPL 3: #GP(0), exit 0 with a hardware exception and an
     * error code (Table 24-17: valid, type 3, bit 11, vector 13) */
    ASSERT_EQ(vmx_launch_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0d);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
    /* the INT went to the guest's vector table, inside V86 mode */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(v86_handler));
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), V86_SP - 6);
    /* CLI cleared VIF, the INT (method 6) cleared it again; IF kept;
     * RF as a fault's frame would have it (27.3.3) */
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x2 | RFL_RF | RFL_VM | RFL_IF);
    volatile uint16_t *stack = low16((V86_SS << 4) + V86_SP - 6);
    ASSERT_EQ(stack[0], off(v86_handler)); /* IP after INT 0x30 */
    ASSERT_EQ(stack[1], V86_CS);
    ASSERT_EQ(stack[2], 0x3002); /* IF from VIF (0), IOPL shown as 3 */
    /* V86 segments: what the next VM entry requires */
    vmx_assert_guest_seg(VMCS_GUEST_CS_SELECTOR, V86_CS, V86_BASE, 0xffff, 0xf3);
    vmx_assert_guest_seg(VMCS_GUEST_SS_SELECTOR, V86_SS, V86_SS << 4, 0xffff, 0xf3);
    vmx_assert_guest_seg(VMCS_GUEST_DS_SELECTOR, 0, 0, 0xffff, 0xf3);
    ASSERT_EQ(vmread(VMCS_GUEST_CR4), 0x2001);

    /* resume at the INT again: the saved state enters as it is */
    vmwrite(VMCS_GUEST_RIP, off(v86_int));
    ASSERT_EQ(vmx_resume_exit(), 0);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(v86_handler));
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), V86_SP - 12);
}

/* 26.3.1.2: with RFLAGS.VM = 1, base, limit and access rights of CS,
 * SS, DS, ES, FS and GS are fixed */
static void test_v86_entry_checks(void)
{
    setup_v86();
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, V86_CS, V86_BASE, 0xffff, 0xfb); /* a code type */
    vmx_expect_bad_guest();
    setup_v86();
    vmx_guest_seg(VMCS_GUEST_DS_SELECTOR, 0x10, 0x1000, 0xffff, 0xf3); /* base not selector << 4 */
    vmx_expect_bad_guest();
    setup_v86();
    vmx_guest_seg(VMCS_GUEST_GS_SELECTOR, 0, 0, 0xfffff, 0xf3); /* limit not FFFFH */
    vmx_expect_bad_guest();
    setup_v86();
    vmx_guest_seg(VMCS_GUEST_SS_SELECTOR, V86_SS, V86_SS << 4, 0xffff, 0x93); /* DPL 0 */
    vmx_expect_bad_guest();
    /* 26.3.1.4: VM = 1 needs CR0.PE = 1 */
    setup_v86();
    vmwrite(VMCS_GUEST_CR0, 0x30);
    vmx_expect_bad_guest();
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_v86_guest_runs);
    RUN_TEST(test_v86_entry_checks);
    vmx_disable();
}
