/*
 * vmx_ept_mbec: mode-based execute control for EPT (SDM Vol. 3C 24.6.2
 * secondary control 22, 28.2.2, 28.2.3.2) and the advanced information
 * of EPT violations (Table 27-7 bits 9-11, IA32_VMX_EPT_VPID_CAP bit
 * 22).  A 64-bit guest at CPL 0 runs one code page through two linear
 * addresses: this kernel's supervisor-mode identity mapping and a
 * user-mode alias (U/S 1 in every guest paging entry; SMEP is off, so
 * CPL 0 may fetch from it).  With the control, bit 2 of the EPT entries
 * governs fetches through the first and bit 10 through the second,
 * whatever the CPL; bit 6 of the qualification reports bit 10.
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

static uint64_t page_a[512] __attribute__((aligned(4096)));

#define EPT_XU (1ull << 10) /* execute for user-mode linear addresses */
#define PROC2_EPT (1u << 1)
#define PROC2_MBEC (1u << 22)

/* guest code: g_code sits alone on its page */
void g_code(void), g_read(void), g_read_at(void), g_read_jump(void);
__asm__(".text\n"
        "g_read_jump:\n"
        "  mov (%rax), %rbx\n"
        "  jmp *%rax\n"
        "g_read:\n"
        "g_read_at:\n"
        "  mov (%rax), %rbx\n"
        "  vmcall\n"
        "  ud2\n"
        "  .balign 4096\n"
        "g_code:\n"
        "  mov $0x77, %ebx\n"
        "  vmcall\n"
        "  ud2\n"
        "  .balign 4096\n");

/* the user-mode aliases of g_code's page and of page_a */
#define VA_UCODE 0x8000200000ull
#define VA_UDATA 0x8000201000ull

static uint64_t addr(const void *p)
{
    return (uintptr_t)p;
}

/* VMRESUME at 'rip' */
static uint32_t rerun_at(void (*rip)(void))
{
    vmwrite(VMCS_GUEST_RIP, addr(rip));
    return vmx_resume_exit();
}

/* a guest at 'rip' under a fresh identity EPT with 4-KiB leaves for
 * g_code and page_a, and bit 10 in the entries above them (so that only
 * the leaves decide), with mode-based execute control when 'mbec' */
static uint64_t *code_pte, *data_pte;

static void setup(void (*rip)(void), bool mbec)
{
    vmx_setup_guest(rip, GUEST_RSP);
    vmx_use_ept(vmx_ept_identity(1));
    if (mbec)
        vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT | PROC2_MBEC);
    code_pte = vmx_ept_entry(addr(g_code), 1);
    data_pte = vmx_ept_entry(addr(page_a), 1);
    for (int lv = 2; lv <= 4; lv++) {
        *vmx_ept_entry(addr(g_code), lv) |= EPT_XU;
        *vmx_ept_entry(addr(page_a), lv) |= EPT_XU;
    }
    rt_map_4k(VA_UCODE, addr(g_code), PTE_P | PTE_W | PTE_U);
    rt_map_4k(VA_UDATA, addr(page_a), PTE_P | PTE_U); /* read-only */
    page_a[3] = 0x3333;
}

static void test_capability(void)
{
    /* IA32_VMX_PROCBASED_CTLS2 allows bit 22 (A.3.3) */
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & PROC2_MBEC, PROC2_MBEC);
    /* IA32_VMX_EPT_VPID_CAP bit 22: advanced EPT-violation information */
    ASSERT_EQ((rdmsr(MSR_VMX_EPT_VPID_CAP) >> 22) & 1, 1);
}

/* 26.2.1.1: the control needs "enable EPT" */
static void test_entry_check(void)
{
    setup(g_code, false);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_MBEC);
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
}

/* A user-mode address: bit 10 decides; a supervisor-mode one: bit 2. */
static void test_fetch_by_address_mode(void)
{
    setup((void (*)(void))VA_UCODE, true);
    /* the leaf grants R/W/X but not XU: fetch (4), readable (8), writable
     * (10H), executable for supervisor-mode addresses (20H), bit 6 clear,
     * linear valid (80H), final (100H), user-mode address (200H),
     * read/write page (400H) */
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x7bc);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(g_code));
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), VA_UCODE);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), VA_UCODE);
    *code_pte |= EPT_XU;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x77);

    /* the same page through the supervisor-mode address, with XU but not
     * X: readable, writable, user-executable (40H), supervisor-mode
     * address, read/write page */
    vmx_guest.rbx = 0;
    *code_pte &= ~EPT_X;
    vmwrite(VMCS_GUEST_RIP, addr(g_code));
    ASSERT_EQ(vmx_resume_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x5dc);
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), addr(g_code));
    /* the user-mode alias still runs: the TLB keeps the two apart */
    vmwrite(VMCS_GUEST_RIP, VA_UCODE);
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x77);
    /* an entry with bit 10 alone is present: user execute-only */
    *code_pte &= ~(EPT_R | EPT_W);
    vmx_guest.rbx = 0;
    vmwrite(VMCS_GUEST_RIP, VA_UCODE);
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x77);
    vmwrite(VMCS_GUEST_RIP, addr(g_code));
    ASSERT_EQ(vmx_resume_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x5c4);
}

/* A read through the user-mode alias fills the TLB; the fetch that
 * follows in the same run must not be served by it (no XU). */
static void test_tlb_read_then_fetch(void)
{
    setup(g_read_jump, true);
    vmx_guest.rax = VA_UCODE;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x7bc);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), VA_UCODE);
    ASSERT_EQ(vmx_guest.rbx, *(uint64_t *)(uintptr_t)addr(g_code));
}

/* With a VPID the guest's translations survive VM exits (28.3.3.3),
 * but ones cached without the control must not serve fetches with it:
 * turning it on for the same VPID and EPTP finds no stale right to
 * execute the user-mode alias. */
static void test_vpid_keeps_modes_apart(void)
{
    setup((void (*)(void))VA_UCODE, false);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT | (1u << 5)); /* enable VPID */
    vmwrite(VMCS_VPID, 1);
    ASSERT_EQ(vmx_launch_exit(), 18); /* bit 2 lets it run without the control */
    ASSERT_EQ(vmx_guest.rbx, 0x77);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, PROC2_EPT | (1u << 5) | PROC2_MBEC);
    ASSERT_EQ(rerun_at((void (*)(void))VA_UCODE), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x7bc);
}

/* Without the control bit 10 is ignored and bit 6 is 0: bit 2 rules
 * fetches through both addresses. */
static void test_control_off(void)
{
    setup((void (*)(void))VA_UCODE, false);
    *code_pte = (*code_pte & ~EPT_X) | EPT_XU;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x79c);
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), VA_UCODE);
    *code_pte |= EPT_X;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x77);
}

/* Bits 9-11 describe the linear address of a final translation: a read
 * through the user-mode, read-only alias of a not-present page is 0x381
 * (user-mode 200H, read-only: bit 10 clear); through this kernel's
 * mapping 0x581.  A guest paging-structure access leaves them 0. */
static void test_advanced_information(void)
{
    setup(g_read, true);
    *data_pte &= ~EPT_RWX;
    vmx_guest.rax = VA_UDATA + 0x18;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x381);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(&page_a[3]));
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), VA_UDATA + 0x18);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(rerun_at(g_read), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x581);
    *data_pte |= EPT_R;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x3333);
    /* the guest PTE's page not present in EPT: a paging-structure read */
    uint64_t *guest_pte = rt_pt_entry(VA_UDATA, 1, false);
    uint64_t *pt_ept = vmx_ept_entry(addr(guest_pte) & ~0xfffull, 1);
    *pt_ept &= ~EPT_RWX;
    vmx_guest.rax = VA_UDATA + 0x18;
    ASSERT_EQ(rerun_at(g_read), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x81);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(guest_pte));
    *pt_ept |= EPT_RWX;
    ASSERT_EQ(vmx_resume_exit(), 18);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capability);
    RUN_TEST(test_entry_check);
    RUN_TEST(test_fetch_by_address_mode);
    RUN_TEST(test_tlb_read_then_fetch);
    RUN_TEST(test_control_off);
    RUN_TEST(test_vpid_keeps_modes_apart);
    RUN_TEST(test_advanced_information);
    vmx_disable();
}
