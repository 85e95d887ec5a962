/*
 * vmx_stale_ept: a hypervisor that forgets an INVEPT, for the debugger's
 * missing-invalidation detector (`check invept on`) and `ept watch`
 * (testsuite/cli/vmx_ept_watchers.sh).
 *
 * The guest runs with EPT and a VPID, so the translations it fills the
 * TLB with may survive its VM exits (SDM Vol. 3C 28.3.3.3).  It reads a
 * page the EPT maps onto 'page_one'; the hypervisor then points that
 * EPT entry at 'page_two' and runs the guest again:
 *   - test_with_invept does it right: INVEPT (single context) first, and
 *     the guest must read page_two;
 *   - test_without_invept forgets the INVEPT (stale_remap).  The guest
 *     may read either page — the architecture allows the stale mapping,
 *     and nest86 keeps it — so both pass; after a late INVEPT the guest
 *     must read page_two.
 * The writes to the EPT entry happen in their own functions
 * (remap_with_invept, stale_remap) so the debugger names them.
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))
#define PROC2_VPID (1u << 5)

volatile uint64_t page_one[512] __attribute__((aligned(4096))) = {0x1111};
volatile uint64_t page_two[512] __attribute__((aligned(4096))) = {0x2222};

void g_reads(void);
__asm__(".text\n"
        "g_reads:\n"
        "1:mov page_one(%rip), %rax\n"
        "  vmcall\n"
        "  jmp 1b\n");

static uint64_t eptp;
static volatile uint64_t *pte; /* the EPT PTE for page_one */

/* a guest with EPT (identity, page_one's entry a 4-KiB one) and 'vpid' */
static void setup(uint16_t vpid)
{
    vmx_setup_guest(g_reads, GUEST_RSP);
    eptp = vmx_ept_identity(1);
    pte = vmx_ept_entry((uintptr_t)page_one, 1);
    vmx_use_ept(eptp);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, vmread(VMCS_SECONDARY_PROC_CONTROLS) | PROC2_VPID);
    vmwrite(VMCS_VPID, vpid);
}

static void flush_ept(void)
{
    uint64_t desc[2] = {eptp, 0};
    ASSERT_EQ(invept(1, desc), VMX_OK);
}

__attribute__((noinline)) void remap_with_invept(void)
{
    *pte = (uintptr_t)page_two | EPT_RWX | EPT_WB;
    flush_ept();
}

/* the bug: the EPT entry changes, the cached translation is not flushed */
__attribute__((noinline)) void stale_remap(void)
{
    *pte = (uintptr_t)page_two | EPT_RWX | EPT_WB;
}

/* the guest reads page_one's guest-physical address again */
static uint64_t run_again(void)
{
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), 18);
    return vmx_guest.rax;
}

static void test_with_invept(void)
{
    setup(3);
    ASSERT_EQ(vmx_launch_exit(), 18); /* VMCALL */
    ASSERT_EQ(vmx_guest.rax, 0x1111);
    remap_with_invept();
    ASSERT_EQ(run_again(), 0x2222);
}

static void test_without_invept(void)
{
    setup(4);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rax, 0x1111);
    stale_remap();
    uint64_t seen = run_again();
    ASSERT(seen == 0x1111 || seen == 0x2222);
    flush_ept();
    ASSERT_EQ(run_again(), 0x2222);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_with_invept);
    RUN_TEST(test_without_invept);
    vmx_disable();
}
