/*
 * vmx_ept5: 5-level EPT (SDM Vol. 3C 24.6.11, 28.2.2; IA32_VMX_EPT_VPID_CAP
 * bit 7).  An EPTP with page-walk length 5 (bits 5:3 = 4) names a PML5
 * table whose entry 0 holds the 4-level identity map's PML4 table: the
 * guest runs through five levels, the PML5E gets its accessed flag, a
 * not-present PML5E is an EPT violation and a PML5E with reserved bits
 * an EPT misconfiguration; VM entry (26.2.1.1) and INVEPT (30.3) accept
 * lengths 4 and 5 only.
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t pml5[512] __attribute__((aligned(4096)));

#define EPTP_WALK5 (4ull << 3)
#define EPTP_WALK_MASK (7ull << 3)

void g_read(void), g_read_at(void);
__asm__(".text\n"
        "g_read:\n"
        "g_read_at:\n"
        "  mov (%rax), %rbx\n"
        "  vmcall\n"
        "  ud2\n");

static uint64_t addr(const void *p)
{
    return (uintptr_t)p;
}

/* the identity map under a PML5 table; returns the 5-level EPTP */
static uint64_t eptp5(bool ad)
{
    uint64_t four = vmx_ept_identity(1);
    memset(pml5, 0, sizeof pml5);
    pml5[0] = (four & ~0xfffull) | EPT_RWX;
    return addr(pml5) | EPTP_WALK5 | (four & 7) | (ad ? EPTP_AD : 0);
}

static void setup(bool ad)
{
    vmx_setup_guest(g_read, GUEST_RSP);
    vmx_use_ept(eptp5(ad));
    page_a[3] = 0xa5a5;
    vmx_guest.rax = addr(&page_a[3]);
}

static void test_capability(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_EPT_VPID_CAP) >> 7) & 1, 1);
}

static void test_runs_through_five_levels(void)
{
    setup(true);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0xa5a5);
    /* 28.2.4: the PML5E used is accessed, the unused one is not */
    ASSERT_EQ(pml5[0] & (EPT_A | EPT_D), EPT_A);
    ASSERT_EQ(pml5[1], 0);
    ASSERT_EQ(*vmx_ept_entry(addr(page_a), 4) & EPT_A, EPT_A);
}

/* A not-present PML5E: the guest's first access, reading its PML4E to
 * translate its RIP, is an EPT violation (read, nothing permitted,
 * linear valid, a paging-structure access: 0x81); a PML5E with a
 * reserved bit (7:3, or MAXPHYADDR and up) is a
 * misconfiguration; its reserved bits do not matter while it is not
 * present. */
static void test_pml5e(void)
{
    setup(false);
    uint64_t good = pml5[0];
    pml5[0] = 0;
    uint64_t pml4e = (vmread(VMCS_GUEST_CR3) & ~0xfffull) + 8 * ((addr(g_read) >> 39) & 511);
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x81);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), pml4e);
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), addr(g_read));
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read));
    uint32_t r[4];
    cpuid(0x80000008, 0, r);
    unsigned maxphy = r[0] & 0xff;
    const int bits[] = {3, 4, 5, 6, 7, (int)maxphy, 51};
    for (unsigned k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
        pml5[0] = good | (1ull << bits[k]);
        ASSERT_EQ(vmx_resume_exit(), 49);
        ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), pml4e);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
        pml5[0] = (good & ~EPT_RWX) | (1ull << bits[k]);
        ASSERT_EQ(vmx_resume_exit(), 48);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x81);
    }
    /* bits 8-11 and 52-63 are ignored (A/D off) */
    pml5[0] = good | (1ull << 9) | (1ull << 11) | (1ull << 52) | (1ull << 63);
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0xa5a5);
}

/* 26.2.1.1 and 30.3: walk lengths 4 and 5 pass, 1-3 and 6-8 fail */
static void test_eptp_checks(void)
{
    static uint64_t desc[2];
    uint64_t five = eptp5(false);
    for (uint64_t len = 0; len < 8; len++) {
        uint64_t eptp = (five & ~EPTP_WALK_MASK) | (len << 3);
        bool ok = len == 3 || len == 4;
        setup(false);
        vmwrite(VMCS_EPT_POINTER, eptp);
        desc[0] = eptp;
        ASSERT_EQ(invept(1, desc), ok ? VMX_OK : VMX_FAIL_VALID);
        if (!ok) {
            ASSERT_EQ(vmx_error(), 28);
            ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
            ASSERT_EQ(vmx_error(), 7);
        } else if (len == 4) {
            ASSERT_EQ(vmx_launch_exit(), 18);
            ASSERT_EQ(vmx_guest.rbx, 0xa5a5);
        }
    }
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capability);
    RUN_TEST(test_runs_through_five_levels);
    RUN_TEST(test_pml5e);
    RUN_TEST(test_eptp_checks);
    vmx_disable();
}
