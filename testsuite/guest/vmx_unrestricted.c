/*
 * vmx_unrestricted: the "unrestricted guest" control (SDM Vol. 3C 24.6.2,
 * 26.2.1.1, 26.3.1.1, 26.3.1.2, 25.3).  Under an EPT that identity-maps
 * guest-physical [0, 1 GiB), a guest starts in real mode (CR0.PE = 0,
 * CS 0800H with base 8000H), does port I/O under unconditional I/O
 * exiting and a VMCALL, then sets CR0.PE itself, far-jumps to 32-bit
 * code (protected mode, paging off) and VMCALLs again; MOV to CR0 with
 * PG set and PE clear still #GPs, and clearing PE again is allowed.
 * Each exit's reason, qualification, length and RIP, and the guest CR0
 * and segment state the VM exit saved, are asserted.  Also the VM-entry
 * checks the control changes: it needs "enable EPT" (VMfailValid 7),
 * CR0.PG = 1 still needs PE = 1 (exit 33), and the segment rules that
 * are relaxed (SS/CS RPL, DS DPL vs RPL, CS type 3) or still hold (SS.DPL
 * 0 with PE clear, CS type 3 only at DPL 0, IA-32e mode needs PG).
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

#define PROC_UNCOND_IO (1u << 24)
#define PROC2_EPT (1u << 1)
#define PROC2_UNRESTRICTED (1u << 7)
#define ENTRY_IA32E (1u << 9)
#define ENTRY_LOAD_EFER (1u << 15)

/* where the real-mode code runs: CS = 0800H, base = 0800H << 4 */
#define RM_CS 0x0800
#define RM_BASE 0x8000
#define RM_SS 0x0700

/* the guest's own GDT: null, 32-bit flat code at 08H, flat data at 10H */
static uint64_t guest_gdt[3] __attribute__((aligned(16))) = {
    0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};

/* rm_blob..rm_blob_end is copied to RM_BASE and runs in real mode; the
 * far jump leaves it for pm32_entry, which runs where it is linked */
void rm_blob(void), rm_out(void), rm_in_at(void), rm_vmcall(void), rm_blob_end(void);
void pm32_entry(void), pm32_vmcall(void), pm32_gp_at(void), pm32_clear_pe(void),
    pm32_vmcall3(void);
__asm__(".text\n"
        ".code16\n"
        "rm_blob:\n"
        "  mov $0x1234, %ax\n"
        "rm_out:\n"
        "  out %al, $0x80\n"        /* E6 80 */
        "  mov $0x71, %dx\n"
        "rm_in_at:\n"
        "  in (%dx), %ax\n"         /* ED */
        "rm_vmcall:\n"
        "  vmcall\n"                /* 0F 01 C1 */
        "  mov %cr0, %eax\n"
        "  or $1, %al\n"
        "  mov %eax, %cr0\n"
        "  ljmpl $0x08, $pm32_entry\n"
        "rm_blob_end:\n"
        ".code32\n"
        "pm32_entry:\n"
        "  mov $0x10, %ecx\n"
        "  mov %ecx, %ds\n"
        "  mov %ecx, %es\n"
        "  mov %ecx, %ss\n"
        "pm32_vmcall:\n"
        "  vmcall\n"
        "  mov $0x80000030, %ecx\n"
        "pm32_gp_at:\n"
        "  mov %ecx, %cr0\n"        /* PG without PE: #GP(0) */
        "  ud2\n"
        "pm32_clear_pe:\n"
        "  mov %cr0, %ecx\n"
        "  and $0xfffffffe, %ecx\n"
        "  mov %ecx, %cr0\n"        /* back to real mode */
        "pm32_vmcall3:\n"
        "  vmcall\n"
        "  ud2\n"
        ".code64\n");

void g_unused(void), g_vmcall64(void);
__asm__(".text\ng_unused:\n  ud2\ng_vmcall64:\n  vmcall\n  ud2\n");

static uint64_t off(void (*label)(void))
{
    return (uintptr_t)label - (uintptr_t)rm_blob;
}

/* A real-mode guest at RM_CS:0 under an identity EPT with "unrestricted
 * guest" and unconditional I/O exiting: what a hypervisor writes for a
 * vCPU after RESET, with CS at RM_CS instead of F000H. */
static void setup_real(void)
{
    memcpy((void *)(uintptr_t)RM_BASE, (const void *)rm_blob, off(rm_blob_end));
    vmx_setup_guest(g_unused, GUEST_RSP);
    vmx_use_ept(vmx_ept_identity(1));
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS,
            vmread(VMCS_SECONDARY_PROC_CONTROLS) | PROC2_UNRESTRICTED);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | PROC_UNCOND_IO);
    vmwrite(VMCS_ENTRY_CONTROLS, (vmread(VMCS_ENTRY_CONTROLS) & ~ENTRY_IA32E) | ENTRY_LOAD_EFER);
    vmwrite(VMCS_GUEST_IA32_EFER, 0);
    vmwrite(VMCS_GUEST_CR0, 0x30); /* NE, ET: PE = PG = 0 */
    vmwrite(VMCS_GUEST_CR3, 0);
    vmwrite(VMCS_GUEST_CR4, 0x2000); /* VMXE, which IA32_VMX_CR4_FIXED0 requires */
    /* real-mode segments: base = selector << 4, limit FFFFH, read/write
     * accessed data (type 3) or execute/read accessed code (type 11),
     * S, P, DPL 0 (24.4.1 access-rights format) */
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, RM_CS, RM_BASE, 0xffff, 0x9b);
    vmx_guest_seg(VMCS_GUEST_SS_SELECTOR, RM_SS, RM_SS << 4, 0xffff, 0x93);
    vmx_guest_seg(VMCS_GUEST_DS_SELECTOR, 0, 0, 0xffff, 0x93);
    vmx_guest_seg(VMCS_GUEST_ES_SELECTOR, 0, 0, 0xffff, 0x93);
    vmx_guest_seg(VMCS_GUEST_FS_SELECTOR, 0, 0, 0xffff, 0x93);
    vmx_guest_seg(VMCS_GUEST_GS_SELECTOR, 0, 0, 0xffff, 0x93);
    vmwrite(VMCS_GUEST_FS_BASE, 0);
    vmwrite(VMCS_GUEST_GS_BASE, 0);
    vmwrite(VMCS_GUEST_TR_SELECTOR, 0);
    vmwrite(VMCS_GUEST_TR_BASE, 0);
    vmwrite(VMCS_GUEST_TR_LIMIT, 0xffff);
    vmwrite(VMCS_GUEST_TR_AR, 0x8b); /* busy 32-bit TSS, present */
    vmwrite(VMCS_GUEST_GDTR_BASE, (uintptr_t)guest_gdt);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, sizeof(guest_gdt) - 1);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x3ff);
    vmwrite(VMCS_GUEST_RSP, 0x1000);
    vmwrite(VMCS_GUEST_RIP, 0);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
}

static void test_capability(void)
{
    /* A.3.3: bit 7 of IA32_VMX_PROCBASED_CTLS2 may be 1 */
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_UNRESTRICTED, PROC2_UNRESTRICTED);
    /* A.7: CR0_FIXED0 still reports PE and PG (and NE) as fixed to 1;
     * the control is what exempts PE and PG */
    ASSERT_EQ(rdmsr(MSR_VMX_CR0_FIXED0), 0x80000021);
}

static void test_real_then_protected(void)
{
    setup_real();
    /* OUT imm8, AL: Table 27-5 size 0 (1 byte), direction 0 (OUT),
     * operand encoding 1 (immediate, bit 6), port 80H in bits 31:16 */
    ASSERT_EQ(vmx_launch_exit(), 30);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x00800040);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(rm_out));
    ASSERT_EQ(vmx_guest.rax & 0xffff, 0x1234); /* the MOV before it ran */
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), 0x30);
    vmx_assert_guest_seg(VMCS_GUEST_CS_SELECTOR, RM_CS, RM_BASE, 0xffff, 0x9b);
    vmx_assert_guest_seg(VMCS_GUEST_SS_SELECTOR, RM_SS, RM_SS << 4, 0xffff, 0x93);

    /* IN AX, DX: size 1 (2 bytes), direction 1 (IN, bit 3), operand
     * encoding 0 (DX), port 71H */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 30);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x00710009);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 1);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(rm_in_at));

    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18); /* VMCALL */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 3);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(rm_vmcall));
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), 0x30);

    /* the guest sets CR0.PE and far-jumps to 32-bit code: protected
     * mode with paging off, CS from its GDT (accessed: type 11) */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)pm32_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), 0x31);
    vmx_assert_guest_seg(VMCS_GUEST_CS_SELECTOR, 0x08, 0, 0xffffffff, 0xc09b);
    vmx_assert_guest_seg(VMCS_GUEST_DS_SELECTOR, 0x10, 0, 0xffffffff, 0xc093);
    vmx_assert_guest_seg(VMCS_GUEST_SS_SELECTOR, 0x10, 0, 0xffffffff, 0xc093);

    /* MOV to CR0 with PG = 1 and PE = 0 is #GP(0) even for an
     * unrestricted guest (25.3): exit 0, hardware exception 13 with an
     * error code (Table 24-17: valid, type 3, bit 11) */
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0d);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)pm32_gp_at);
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), 0x31);

    /* clearing PE again is allowed: back in real mode */
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)pm32_clear_pe);
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)pm32_vmcall3);
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), 0x30);
}

/* a guest that enters straight into protected mode with paging off */
static void test_unpaged_protected_entry(void)
{
    setup_real();
    vmwrite(VMCS_GUEST_CR0, 0x31);
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, 0x08, 0, 0xffffffff, 0xc09b);
    vmx_guest_seg(VMCS_GUEST_SS_SELECTOR, 0x10, 0, 0xffffffff, 0xc093);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)pm32_vmcall);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)pm32_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_CR0), 0x31);
}

/* Event injection into a real-mode guest (26.6.1.2 delivers it as
 * real-address mode would): the IVT at IDTR base 9000H sends #GP
 * (vector 13) to RM_CS:rm_vmcall; a real-mode exception pushes FLAGS,
 * CS and IP but no error code, so the deliver-error-code bit must be 0
 * with CR0.PE = 0 (26.2.1.3). */
#define IVT_BASE 0x9000
static void test_inject_real_mode(void)
{
    setup_real();
    vmwrite(VMCS_GUEST_IDTR_BASE, IVT_BASE);
    volatile uint16_t *ivt = (volatile uint16_t *)(uintptr_t)IVT_BASE;
    ivt[13 * 2] = (uint16_t)off(rm_vmcall);
    ivt[13 * 2 + 1] = RM_CS;
    /* with the error-code bit: invalid control field */
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000b0d);
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
    /* without "unrestricted guest" the control check takes the guest as
     * protected-mode (a #GP needs its error code) and the guest-state
     * check fails on CR0 instead */
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT);
    vmx_expect_bad_guest();
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT | PROC2_UNRESTRICTED);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000b0d);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    /* without it the #GP is delivered through the IVT */
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x8000030d);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(rm_vmcall));
    ASSERT_EQ(vmread(VMCS_GUEST_CS_SELECTOR), RM_CS);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), 0x1000 - 6);
    volatile uint16_t *stack = (volatile uint16_t *)(uintptr_t)((RM_SS << 4) + 0x1000 - 6);
    ASSERT_EQ(stack[0], 0);     /* IP: the guest's first instruction */
    ASSERT_EQ(stack[1], RM_CS); /* CS */
    ASSERT_EQ(stack[2], 0x2);   /* FLAGS */
    ASSERT_EQ(vmread(VMCS_ENTRY_INTR_INFO) >> 31, 0); /* valid bit cleared on VM exit (27.2.5) */
}

/* EPT-violation #VE needs CR0.PE = 1 (SDM 25.5.7.1): in real mode a
 * convertible violation — the first fetch, from a page whose EPT entry
 * is not present with bit 63 clear — is a VM exit: fetch, linear valid,
 * final, and (paging off) a user-mode address of a read/write page
 * (Table 27-7 bits 9-10): 0x784.  The information area stays unused.
 * (A #VE would go through an IVT of the test's own whose vector 20
 * leads to the blob's VMCALL.) */
static uint32_t ve_area[1024] __attribute__((aligned(4096)));
static uint32_t ve_ivt[256];

static void test_no_ve_in_real_mode(void)
{
    setup_real();
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) | (1u << 18));
    vmwrite(VMCS_VE_INFO_ADDR, (uintptr_t)ve_area);
    memset(ve_area, 0, sizeof ve_area);
    ve_ivt[20] = ((uint32_t)RM_CS << 16) | (uint32_t)off(rm_vmcall);
    vmwrite(VMCS_GUEST_IDTR_BASE, (uintptr_t)ve_ivt);
    uint64_t *e = vmx_ept_entry(RM_BASE, 1);
    *e &= ~EPT_RWX;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x784);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), RM_BASE);
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), RM_BASE);
    ASSERT_EQ(ve_area[0], 0);
    ASSERT_EQ(ve_area[1], 0);
    *e |= EPT_RWX;
    ASSERT_EQ(vmx_resume_exit(), 30); /* the OUT: the guest ran on */
}

static void test_entry_checks(void)
{
    /* 26.2.1.1: "unrestricted guest" needs "enable EPT" */
    setup_real();
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_UNRESTRICTED);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);

    /* 26.3.1.1: CR0.PG = 1 needs CR0.PE = 1 */
    setup_real();
    vmwrite(VMCS_GUEST_CR0, 0x80000030);
    vmx_expect_bad_guest();

    /* without "unrestricted guest" PE = 0 breaks IA32_VMX_CR0_FIXED0 */
    setup_real();
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT);
    vmx_expect_bad_guest();

    /* "IA-32e mode guest" still needs CR0.PG = 1 */
    setup_real();
    vmwrite(VMCS_ENTRY_CONTROLS, vmread(VMCS_ENTRY_CONTROLS) | ENTRY_IA32E);
    vmwrite(VMCS_GUEST_IA32_EFER, 0x500); /* LME, LMA */
    vmx_expect_bad_guest();

    /* 26.3.1.2: SS.DPL must be 0 with CR0.PE = 0 (CS conforming, type
     * 15, so that CS.DPL 0 <= SS.DPL holds) */
    setup_real();
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, RM_CS, RM_BASE, 0xffff, 0x9f);
    vmx_guest_seg(VMCS_GUEST_SS_SELECTOR, RM_SS | 3, RM_SS << 4, 0xffff, 0xf3);
    vmx_expect_bad_guest();

    /* CS type 3 (read/write accessed data) only at DPL 0 */
    setup_real();
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, RM_CS, RM_BASE, 0xffff, 0xf3);
    vmx_expect_bad_guest();

    /* CS type 3 at DPL 0 enters: real mode as a mode switch leaves it */
    setup_real();
    vmx_guest_seg(VMCS_GUEST_CS_SELECTOR, RM_CS, RM_BASE, 0xffff, 0x93);
    ASSERT_EQ(vmx_launch_exit(), 30);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), off(rm_out));
    ASSERT_EQ(vmread(VMCS_GUEST_CS_AR), 0x93);

    /* relaxed for an unrestricted guest: SS.RPL may differ from CS.RPL
     * and from SS.DPL, DS.DPL may be below DS.RPL */
    setup_real();
    vmx_guest_seg(VMCS_GUEST_SS_SELECTOR, RM_SS | 3, RM_SS << 4, 0xffff, 0x93);
    vmx_guest_seg(VMCS_GUEST_DS_SELECTOR, 3, 0x30, 0xffff, 0x93);
    ASSERT_EQ(vmx_launch_exit(), 30);
    ASSERT_EQ(vmread(VMCS_GUEST_SS_SELECTOR), RM_SS | 3);
    ASSERT_EQ(vmread(VMCS_GUEST_DS_SELECTOR), 3);

    /* the same selectors in a paged 64-bit guest (the kernel's own
     * state, vmx_setup_guest) are refused without the control and
     * accepted with it: SS.RPL 3 against CS.RPL 0 and SS.DPL 0 */
    uint64_t ss_rpl3[2] = {VMCS_GUEST_SS_SELECTOR, 0x13}, ds_rpl3[2] = {VMCS_GUEST_DS_SELECTOR, 0x13};
    const uint64_t *cases[2] = {ss_rpl3, ds_rpl3};
    for (int k = 0; k < 2; k++) {
        vmx_setup_guest(g_vmcall64, GUEST_RSP);
        vmx_use_ept(vmx_ept_identity(1));
        vmwrite(cases[k][0], cases[k][1]);
        vmx_expect_bad_guest();
        vmwrite(VMCS_SECONDARY_PROC_CONTROLS,
                vmread(VMCS_SECONDARY_PROC_CONTROLS) | PROC2_UNRESTRICTED);
        ASSERT_EQ(vmx_launch_exit(), 18);
        ASSERT_EQ(vmread(cases[k][0]), 0x13);
    }
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capability);
    RUN_TEST(test_real_then_protected);
    RUN_TEST(test_unpaged_protected_entry);
    RUN_TEST(test_entry_checks);
    RUN_TEST(test_inject_real_mode);
    RUN_TEST(test_no_ve_in_real_mode);
    vmx_disable();
}
