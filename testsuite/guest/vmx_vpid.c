/*
 * vmx_vpid: "enable VPID" and INVVPID (SDM Vol. 3C 24.6.2, 26.2.1.1,
 * 28.1, 30.3 "INVVPID"): a VM entry with VPID 0 fails (VMfailValid 7),
 * one with a VPID enters; INVVPID of each type the capability MSR
 * offers succeeds with a valid descriptor and fails with VMfailValid 28
 * for an unsupported type, reserved descriptor bits, VPID 0 (except
 * all-context) and a non-canonical address (individual-address); in a
 * guest it exits with reason 53 and the instruction information of
 * Table 27-9.  The root's own code across exits to a guest with a VPID:
 * code the guest rewrites, or runs in another mode, is what the root
 * runs afterwards; code the guest rewrites through a translation its
 * VPID kept across an exit is what the guest runs; the guest's own call
 * site runs what the root rewrote, and after INVVPID what a changed
 * PTE names.
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))
#define PROC2_VPID (1u << 5)
#define PROC_SECONDARY (1u << 31)

struct __attribute__((aligned(16))) invvpid_desc {
    uint64_t vpid; /* bits 15:0; 63:16 reserved */
    uint64_t lin;
};

static int invvpid(uint64_t type, const struct invvpid_desc *d)
{
    unsigned long f;
    __asm__ volatile("invvpid %1, %2\n\tpushf\n\tpop %0" : "=r"(f) : "m"(*d), "r"(type)
                     : "cc", "memory");
    return vmx_outcome(f);
}

void g_invvpid(void), g_invvpid_at(void);
__asm__(".text\n"
        "g_invvpid:\n"
        "  mov $1, %ecx\n"
        "  lea vpid_desc(%rip), %rax\n"
        "g_invvpid_at:\n"
        "  invvpid (%rax), %rcx\n" /* 66 0F 38 81 08 */
        "  ud2\n");
struct invvpid_desc vpid_desc = {5, 0};

static void enable_vpid(uint16_t vpid)
{
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) | PROC_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_VPID);
    vmwrite(VMCS_VPID, vpid);
}

#define STALE_VA 0x100000000ull /* 4 GiB: a 4-KiB page of the test's own */
static volatile uint64_t page_one[512] __attribute__((aligned(4096))) = {0x1111};
static volatile uint64_t page_two[512] __attribute__((aligned(4096))) = {0x2222};
void g_reads(void);
__asm__(".text\n"
        "g_reads:\n"
        "  mov $0x100000000, %rsi\n"
        "1:mov (%rsi), %rax\n"
        "  vmcall\n"
        "  jmp 1b\n");

void g_vmcall(void);
__asm__(".text\ng_vmcall:\n  vmcall\n  ud2\n");

static void test_capabilities(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_VPID, PROC2_VPID);
    /* A.10: INVVPID (32), individual-address (40), single-context (41),
     * all-context (42), single-context-retaining-globals (43) */
    ASSERT_EQ(rdmsr(0x48c) >> 32 & 0xf01, 0xf01);
}

static void test_entry_needs_nonzero_vpid(void)
{
    vmx_setup_guest(g_vmcall, GUEST_RSP);
    enable_vpid(0);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7); /* invalid control fields */
    vmx_setup_guest(g_vmcall, GUEST_RSP);
    enable_vpid(1);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmread(VMCS_VPID), 1);
    vmx_skip_insn(); /* and again, through VMRESUME: the exit repeats */
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_vmcall);
    ASSERT_EQ(vmx_resume_exit(), 18);
}

static void test_invvpid_outcomes(void)
{
    struct invvpid_desc d = {3, 0x1000};
    for (uint64_t type = 0; type <= 3; type++)
        ASSERT_EQ(invvpid(type, &d), VMX_OK);
    ASSERT_EQ(invvpid(4, &d), VMX_FAIL_VALID); /* no such type */
    ASSERT_EQ(vmx_error(), 28);
    d.vpid = 3 | (1ull << 16); /* reserved bits 63:16 */
    ASSERT_EQ(invvpid(1, &d), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 28);
    d.vpid = 0; /* VPID 0: only all-context accepts it */
    ASSERT_EQ(invvpid(0, &d), VMX_FAIL_VALID);
    ASSERT_EQ(invvpid(1, &d), VMX_FAIL_VALID);
    ASSERT_EQ(invvpid(3, &d), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 28);
    ASSERT_EQ(invvpid(2, &d), VMX_OK);
    d.vpid = 3;
    d.lin = 0x0100000000000000ull; /* non-canonical at 57 bits too */
    ASSERT_EQ(invvpid(0, &d), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 28);
    ASSERT_EQ(invvpid(1, &d), VMX_OK); /* the address matters to type 0 only */
}

static void test_invvpid_exits(void)
{
    vmx_setup_guest(g_invvpid, GUEST_RSP);
    enable_vpid(2);
    ASSERT_EQ(vmx_launch_exit(), 53); /* INVVPID */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_invvpid_at);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 5);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0); /* displacement */
    /* Table 27-9: scaling 0, address size 64-bit (2 << 7), segment DS
     * (3 << 15), index invalid (bit 22), base RAX (0 << 23), reg2 RCX
     * (1 << 28) */
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), (2u << 7) | (3u << 15) | (1u << 22) | (1u << 28));
}

/* SDM 28.3.3.3: with a VPID, VM entries and exits need not invalidate
 * the guest's linear mappings, so a PTE the hypervisor changes behind
 * the guest's back (no INVVPID) may still be used, as on hardware —
 * nest86 keeps them exactly until INVVPID, INVEPT or the guest's own
 * invalidations.  Without a VPID every entry starts afresh. */
static void test_translations_survive_exits(void)
{
    rt_map_4k(STALE_VA, (uintptr_t)page_one, PTE_P | PTE_W);
    uint64_t *pte = rt_pt_entry(STALE_VA, 1, false);
    vmx_setup_guest(g_reads, GUEST_RSP);
    enable_vpid(7);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 0x1111);
    *pte = (uintptr_t)page_two | PTE_P | PTE_W | PTE_A; /* no INVLPG, no INVVPID */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 0x1111); /* the VPID-tagged mapping survived */
    struct invvpid_desc d = {7, 0};
    ASSERT_EQ(invvpid(1, &d), VMX_OK); /* single context: VPID 7 */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 0x2222);
    /* without a VPID the next entry sees the new PTE at once */
    *pte = (uintptr_t)page_one | PTE_P | PTE_W | PTE_A;
    vmx_setup_guest(g_reads, GUEST_RSP);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 0x1111);
    *pte = (uintptr_t)page_two | PTE_P | PTE_W | PTE_A;
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 0x2222);
}

/* The root's own code across VM exits to a guest with a VPID, which
 * leave the root's translations alone (SDM 28.3.3.3): a call site the
 * root keeps calling must still run what is in memory — the guest
 * rewriting the callee's code (cross-modifying code, SDM 11.6: the VM
 * exit serializes) makes the root run the new code, and the guest
 * running the callee's bytes in compatibility mode, where they mean
 * something else, leaves the root's 64-bit meaning of them intact. */
static uint8_t root_fn[4096] __attribute__((aligned(4096)));

static uint32_t root_call3(void)
{
    uint32_t a = rt_call_code((uintptr_t)root_fn), b = rt_call_code((uintptr_t)root_fn),
             c = rt_call_code((uintptr_t)root_fn);
    ASSERT_EQ(a, b);
    ASSERT_EQ(b, c);
    return c;
}

void g_poke(void), g_compat(void);
__asm__(".text\n"
        "g_poke:\n"
        "  movb $2, 1(%rbx)\n" /* the callee's immediate: mov eax, 2 */
        "  vmcall\n"
        "  ud2\n"
        "g_compat:\n"
        "  .byte 0xff, 0xd3\n"       /* call *%ebx (32-bit code) */
        "  .byte 0x0f, 0x01, 0xc1\n" /* vmcall */
        "  .byte 0x0f, 0x0b\n");     /* ud2 */

static void test_root_code_across_exits(void)
{
    static const uint8_t mov1[] = {0xB8, 1, 0, 0, 0, 0xC3}; /* mov eax, 1; ret */
    /* xor eax, eax; then 64-bit: lea rax, [rax + 7] (7); 32-bit: dec eax;
     * lea eax, [eax + 7] (6); ret */
    static const uint8_t lea7[] = {0x31, 0xC0, 0x48, 0x8D, 0x40, 0x07, 0xC3};
    for (unsigned k = 0; k < sizeof mov1; k++)
        root_fn[k] = mov1[k];
    ASSERT_EQ(root_call3(), 1);
    vmx_setup_guest(g_poke, GUEST_RSP);
    enable_vpid(9);
    vmx_guest.rbx = (uintptr_t)root_fn;
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(root_fn[1], 2);
    ASSERT_EQ(root_call3(), 2);                           /* must */

    for (unsigned k = 0; k < sizeof lea7; k++)
        root_fn[k] = lea7[k];
    ASSERT_EQ(root_call3(), 7);
    vmx_setup_guest(g_compat, GUEST_RSP);
    enable_vpid(9);
    /* CS: code type 11, S, P, D, G and not L (24.4.1): compatibility mode */
    vmwrite(VMCS_GUEST_CS_AR, 0xc09b);
    vmx_guest.rbx = (uintptr_t)root_fn;
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 6);                          /* the 32-bit meaning */
    ASSERT_EQ(root_call3(), 7);                           /* must */
}

/* Self-modifying code in a guest whose TLB context (a VPID) kept a
 * writable translation of a page across a VM exit and entry (SDM
 * 28.3.3.3, 11.6): the guest wrote the page, the root ran code from it
 * and rewrote it, and back in the guest the page is code again -- the
 * guest's own store into it must reach the code it then calls. */
static uint8_t smc_page[4096] __attribute__((aligned(4096)));

void g_smc(void);
__asm__(".text\n"
        "g_smc:\n"
        "  movb $0xC3, 5(%rbx)\n" /* a store: the page is writable in the guest's TLB */
        "  vmcall\n"
        "  call *%rbx\n"
        "  mov %eax, %r12d\n"
        "  movb $2, 1(%rbx)\n"    /* mov eax, 2 */
        "  call *%rbx\n"
        "  mov %eax, %r13d\n"
        "  vmcall\n"
        "  ud2\n");

static void test_guest_smc_after_exit(void)
{
    static const uint8_t mov1[] = {0xB8, 1, 0, 0, 0, 0xC3}; /* mov eax, 1; ret */
    for (unsigned k = 0; k < sizeof mov1; k++)
        smc_page[k] = mov1[k];
    vmx_setup_guest(g_smc, GUEST_RSP);
    enable_vpid(11);
    vmx_guest.rbx = (uintptr_t)smc_page;
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(rt_call_code((uintptr_t)smc_page), 1); /* the root runs it... */
    smc_page[1] = 3;                                  /* ...and rewrites it */
    ASSERT_EQ(rt_call_code((uintptr_t)smc_page), 3);
    smc_page[1] = 1;
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.r12, 1);
    ASSERT_EQ(vmx_guest.r13, 2);                      /* must */
}

/* The guest's own call site across VM exits and entries on the same
 * VPID: it must run the code the root wrote meanwhile (11.6), and the
 * frame a PTE names once the root invalidated the old translation with
 * INVVPID (30.3); without INVVPID the VPID-tagged translation may stay
 * (28.3.3.3), and nest86 keeps it. */
#define CODE_VA 0x100002000ull
static uint8_t guest_fn[2][4096] __attribute__((aligned(4096)));

void g_calls(void);
__asm__(".text\n"
        "g_calls:\n"
        "1:call *%rbx\n"
        "  mov %eax, %r12d\n"
        "  vmcall\n"
        "  jmp 1b\n");

static uint64_t guest_call_again(void)
{
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    return vmx_guest.r12;
}

static void test_guest_code_across_entries(void)
{
    static const uint8_t mov1[] = {0xB8, 1, 0, 0, 0, 0xC3}; /* mov eax, 1; ret */
    for (unsigned k = 0; k < sizeof mov1; k++)
        guest_fn[0][k] = guest_fn[1][k] = mov1[k];
    guest_fn[1][1] = 3;
    rt_map_4k(CODE_VA, (uintptr_t)guest_fn[0], PTE_P);
    uint64_t *pte = rt_pt_entry(CODE_VA, 1, false);
    vmx_setup_guest(g_calls, GUEST_RSP);
    enable_vpid(13);
    vmx_guest.rbx = CODE_VA;
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.r12, 1);
    ASSERT_EQ(guest_call_again(), 1);
    ASSERT_EQ(guest_call_again(), 1);
    guest_fn[0][1] = 2;                                    /* the root rewrites it */
    ASSERT_EQ(guest_call_again(), 2);                      /* must */
    *pte = (uintptr_t)guest_fn[1] | PTE_P | PTE_A;         /* no invalidation */
    ASSERT_EQ(guest_call_again(), 2);                      /* kept */
    struct invvpid_desc d = {13, 0};
    ASSERT_EQ(invvpid(1, &d), VMX_OK);
    ASSERT_EQ(guest_call_again(), 3);                      /* must */
    ASSERT_EQ(guest_call_again(), 3);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_entry_needs_nonzero_vpid);
    RUN_TEST(test_invvpid_outcomes);
    RUN_TEST(test_invvpid_exits);
    RUN_TEST(test_translations_survive_exits);
    RUN_TEST(test_root_code_across_exits);
    RUN_TEST(test_guest_smc_after_exit);
    RUN_TEST(test_guest_code_across_entries);
    vmx_disable();
}
