/*
 * demo_ept: the bundled demo (`make demo`): a tiny hypervisor that shows,
 * decoded, what happens at the EPT level when it runs a guest.  It turns
 * VMX on, builds an EPT (identity map with 2-MiB pages, accessed/dirty
 * flags on), remaps one guest page to another host page and makes a
 * second one read-only, then runs a 64-bit guest that reads the first
 * page and writes the second.  It prints every VM entry and exit with
 * its reason, the EPT violation's exit qualification bit by bit, the EPT
 * entries it wrote, the accessed/dirty flags the walk set, and an
 * INVEPT.  It is also a test: every value printed is checked against the
 * SDM (Vol. 3C 28.2, Table 27-7).
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
/* three pages: the guest reads 'shown', the hypervisor maps it onto
 * 'secret'; the guest writes 'target', which EPT makes read-only */
static volatile uint64_t shown[512] __attribute__((aligned(4096))) = {0x1111};
static volatile uint64_t secret[512] __attribute__((aligned(4096))) = {0x5ec7e7};
static volatile uint64_t target[512] __attribute__((aligned(4096)));

void demo_guest(void), demo_write_at(void);
__asm__(".text\n"
        "demo_guest:\n"
        "  mov shown(%rip), %rax\n"   /* through EPT: the host page 'secret' */
        "  mov %rax, %rbx\n"
        "demo_write_at:\n"
        "  mov %rbx, target(%rip)\n"  /* read-only in EPT: a violation first */
        "  vmcall\n"
        "  ud2\n");

static const char *yes(uint64_t v, uint64_t bit) { return (v & bit) ? "yes" : "no"; }

static void show_ept_entry(const char *what, uint64_t gpa, uint64_t e)
{
    unsigned type = (unsigned)((e >> 3) & 7);
    rt_printf("  EPT PTE for guest-physical 0x%llx (%s): 0x%llx = host 0x%llx, %s%s%s, "
              "%s, accessed %s, dirty %s\n",
              (unsigned long long)gpa, what, (unsigned long long)e,
              (unsigned long long)(e & EPT_ADDR), (e & EPT_R) ? "R" : "-", (e & EPT_W) ? "W" : "-",
              (e & EPT_X) ? "X" : "-", type == 6 ? "write-back" : type == 0 ? "uncacheable" : "?",
              yes(e, EPT_A), yes(e, EPT_D));
}

static void show_qualification(uint64_t q)
{
    /* SDM Table 27-7 */
    rt_printf("  exit qualification 0x%llx:\n", (unsigned long long)q);
    rt_printf("    bit 0 data read %s, bit 1 data write %s, bit 2 instruction fetch %s\n",
              yes(q, 1), yes(q, 2), yes(q, 4));
    rt_printf("    bits 3-5: the page was readable %s, writable %s, executable %s\n", yes(q, 8),
              yes(q, 0x10), yes(q, 0x20));
    rt_printf("    bit 7 guest-linear address valid %s; bit 8 %s\n", yes(q, 0x80),
              (q & 0x100) ? "the access was to the translated address (not a page-table entry)"
                          : "the access was to a guest page-table entry");
    if (q & 0x100) /* advanced information (IA32_VMX_EPT_VPID_CAP bit 22) */
        rt_printf("    bits 9-11: user-mode address %s, read/write page %s, execute-disable page %s\n",
                  yes(q, 0x200), yes(q, 0x400), yes(q, 0x800));
}

static void test_demo(void)
{
    rt_printf("nest86 EPT demo: a hypervisor, a guest, and what the EPT walk does\n");
    vmx_enable();
    rt_printf("VMXON done (VMCS revision 0x%llx)\n",
              (unsigned long long)(rdmsr(MSR_VMX_BASIC) & 0x7fffffff));
    vmx_setup_guest(demo_guest, (uintptr_t)(guest_stack + sizeof(guest_stack)));
    uint64_t eptp = vmx_ept_identity(1) | EPTP_AD;
    vmx_use_ept(eptp);
    rt_printf("EPT: identity map of the first GiB with 2-MiB pages, EPTP 0x%llx "
              "(write-back, 4 levels, accessed/dirty flags on)\n", (unsigned long long)eptp);

    uint64_t *pte_shown = vmx_ept_entry((uintptr_t)shown, 1);
    uint64_t *pte_target = vmx_ept_entry((uintptr_t)target, 1);
    *pte_shown = (uintptr_t)secret | EPT_RWX | EPT_WB;
    *pte_target = (*pte_target & ~EPT_W) & ~(EPT_A | EPT_D);
    rt_printf("the hypervisor writes two EPT entries (splitting the 2-MiB pages they lie in):\n");
    show_ept_entry("remapped", (uintptr_t)shown, *pte_shown);
    show_ept_entry("read-only", (uintptr_t)target, *pte_target);
    ASSERT_EQ(*pte_shown & (EPT_A | EPT_D), 0);

    uint32_t reason = vmx_launch_exit();
    rt_printf("VMLAUNCH -> VM exit %u (%s) at guest RIP 0x%llx\n", reason,
              reason == 48 ? "EPT violation" : "?", (unsigned long long)vmread(VMCS_GUEST_RIP));
    ASSERT_EQ(reason, 48);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)demo_write_at);
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    show_qualification(q);
    /* a data write (1) to a page that is readable and executable (3, 5)
     * but not writable, linear address valid (7), final translation (8) */
    ASSERT_EQ(q, 0x5aa);
    rt_printf("  guest-physical 0x%llx, guest-linear 0x%llx\n",
              (unsigned long long)vmread(VMCS_GUEST_PHYSICAL_ADDR),
              (unsigned long long)vmread(VMCS_GUEST_LINEAR_ADDR));
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), (uintptr_t)target);
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), (uintptr_t)target);
    rt_printf("  the guest had read 0x%llx through the remapped page (the host page 'secret')\n",
              (unsigned long long)vmx_guest.rax);
    ASSERT_EQ(vmx_guest.rax, 0x5ec7e7);
    rt_printf("the walk set the accessed flag on the page the guest read:\n");
    show_ept_entry("remapped", (uintptr_t)shown, *pte_shown);
    ASSERT_EQ(*pte_shown & (EPT_A | EPT_D), EPT_A);

    *pte_target |= EPT_W;
    uint64_t desc[2] = {eptp, 0};
    int r = invept(1, desc);
    rt_printf("the hypervisor makes the page writable and runs INVEPT (single context): %s\n",
              r == VMX_OK ? "VMsucceed" : "failed");
    ASSERT_EQ(r, VMX_OK);
    reason = vmx_resume_exit();
    rt_printf("VMRESUME -> VM exit %u (%s): the guest's write went through\n", reason,
              reason == 18 ? "VMCALL" : "?");
    ASSERT_EQ(reason, 18);
    ASSERT_EQ(target[0], 0x5ec7e7);
    rt_printf("the walk set accessed and dirty on the page the guest wrote:\n");
    show_ept_entry("now writable", (uintptr_t)target, *pte_target);
    ASSERT_EQ(*pte_target & (EPT_A | EPT_D), EPT_A | EPT_D);
    vmx_disable();
    rt_printf("VMXOFF. Run it again with -d vmx to see nest86's own log of each entry and exit.\n");
}

void test_main(void)
{
    RUN_TEST(test_demo);
}
