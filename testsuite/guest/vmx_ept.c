/*
 * vmx_ept: EPT for a VMX guest, SDM Vol. 3C 28.2 and 27.2.1.  A 64-bit
 * guest that shares this kernel's page tables runs under an EPT that
 * identity-maps guest-physical [0, 1 GiB); single entries are then made
 * not present, read-only, non-executable, misconfigured or remapped, and
 * each access's VM exit is checked: reason 48 (EPT violation) with the
 * exit qualification of Table 27-7, the guest-physical and guest-linear
 * addresses and the guest RIP, or reason 49 (EPT misconfiguration); then
 * the entry is fixed and the guest resumes where it stopped.  Also the
 * capability MSRs, the VM-entry checks on the EPTP (26.2.1.1), 2-MiB and
 * 1-GiB pages, and the accessed and dirty flags (28.2.4).
 */
#include "rt.h"
#include "vmx.h"

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));
static uint64_t page_c[512] __attribute__((aligned(4096)));

#define VAL_A 0xa5a5000011112222ull
#define VAL_B 0xb6b6000033334444ull

/* guest code: each *_at label is the instruction that should exit;
 * g_nx sits alone on its page */
void g_read(void), g_read_at(void), g_write(void), g_write_at(void), g_nx(void);
void g_read_write(void);
void g_pae(void), g_pae_cr3(void);
void g_invept(void), g_invept_at(void);
void g_iret(void), g_iret_done(void), g_ud(void);
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
        ".code32\n"
        "g_pae:\n"
        "  mov (%eax), %ebx\n"
        "  vmcall\n"
        "  ud2\n"
        "g_pae_cr3:\n"
        "  mov %ecx, %cr3\n"
        "  mov (%eax), %ebx\n"
        "  vmcall\n"
        "  ud2\n"
        ".code64\n"
        "g_ud:\n"
        "  ud2\n"
        "g_iret:\n"
        "  iretq\n"
        "g_iret_done:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_invept:\n"
        "g_invept_at:\n"
        "  invept 8(%rdx), %rcx\n"
        "  ud2\n"
        "g_read_write:\n"
        "  mov (%rax), %rbx\n"
        "  add $1, %rbx\n"
        "  mov %rbx, 8(%rax)\n"
        "  vmcall\n"
        "  ud2\n"
        "  .balign 4096\n"
        "g_nx:\n"
        "  mov $0x77, %ebx\n"
        "  vmcall\n"
        "  ud2\n"
        "  .balign 4096\n");

/* Table 27-7 bits */
#define Q_READ 0x1
#define Q_WRITE 0x2
#define Q_FETCH 0x4
#define Q_READABLE 0x8
#define Q_WRITABLE 0x10
#define Q_EXECUTABLE 0x20
#define Q_LIN_VALID 0x80
#define Q_FINAL 0x100

static uint64_t addr(const void *p)
{
    return (uintptr_t)p;
}

/* VMRESUME at 'rip' (the guest's registers as vmx_guest holds them) */
static uint32_t rerun(void (*rip)(void))
{
    vmwrite(VMCS_GUEST_RIP, addr(rip));
    return vmx_resume_exit();
}

/* a guest at 'rip' under a fresh EPT with 2-MiB leaves (bit 6 of the
 * EPTP when 'ad') */
static void setup(void (*rip)(void), bool ad)
{
    vmx_setup_guest(rip, GUEST_RSP);
    vmx_use_ept(vmx_ept_identity(1) | (ad ? EPTP_AD : 0));
    page_a[3] = VAL_A;
    page_b[3] = VAL_B;
}

static void test_capabilities(void)
{
    /* the secondary controls may be 1, and of them "enable EPT" (bit 1) */
    ASSERT_EQ(rdmsr(MSR_VMX_TRUE_PROCBASED) >> 63, 1);
    ASSERT_EQ(rdmsr(MSR_VMX_PROCBASED) >> 63, 1);
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & 0x2, 0x2);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_PROCBASED2), 0); /* none required */
    /* SDM A.10: execute-only (0), page-walk lengths 4 (6) and 5 (7), UC
     * (8) and WB (14) EPT structures, 2-MiB (16) and 1-GiB (17) pages,
     * INVEPT (20), A/D flags (21), advanced VM-exit information for EPT
     * violations (22), single-context (25) and all-context (26) INVEPT;
     * INVVPID (32) with its four types (40-43) */
    ASSERT_EQ(rdmsr(MSR_VMX_EPT_VPID_CAP), 0xf01067341c1ull);
}

static void test_identity_map_runs(void)
{
    setup(g_read, false);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
    /* without EPTP bit 6 the flags are not touched */
    ASSERT_EQ(*vmx_ept_entry(addr(page_a), 2) & (EPT_A | EPT_D), 0);
    /* a 1-GiB leaf works as well */
    setup(g_read, false);
    vmx_use_ept(vmx_ept_identity(2));
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
}

static void test_read_not_present(void)
{
    setup(g_read, false);
    uint64_t *e = vmx_ept_entry(addr(page_a), 1);
    *e &= ~EPT_RWX;
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 48);
    /* read, nothing permitted, linear address valid, final translation,
     * and (advanced information, bits 9-11) a supervisor-mode address of
     * a read/write, executable page: this kernel's mapping */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x581);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(&page_a[3]));
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), addr(&page_a[3]));
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read_at));
    ASSERT_EQ(vmx_guest.rbx, 0);
    *e |= EPT_R;
    ASSERT_EQ(vmx_resume_exit(), 18); /* the read is done again and succeeds */
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
}

static void test_write_read_only(void)
{
    setup(g_write, false);
    uint64_t *e = vmx_ept_entry(addr(page_b), 1);
    *e &= ~(EPT_W | EPT_X);
    vmx_guest.rax = addr(&page_b[5]);
    vmx_guest.rbx = 0x5151;
    ASSERT_EQ(vmx_launch_exit(), 48);
    /* write, readable, linear address valid, final translation,
     * read/write page */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x58a);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(&page_b[5]));
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), addr(&page_b[5]));
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_write_at));
    ASSERT_EQ(page_b[5], 0); /* nothing written */
    /* read/execute: X joins the permissions */
    *e |= EPT_X;
    ASSERT_EQ(vmx_resume_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x5aa);
    *e |= EPT_W;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(page_b[5], 0x5151);
    /* the permissions are those of all entries walked, ANDed: a
     * read/execute PDE (the guest's code lies under it too) above a
     * read/write/execute PTE */
    uint64_t *pde = vmx_ept_entry(addr(page_b), 2);
    *pde &= ~EPT_W;
    vmx_guest.rax = addr(&page_b[6]);
    ASSERT_EQ(rerun(g_write), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x5aa);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(&page_b[6]));
    *pde |= EPT_W;
    ASSERT_EQ(vmx_resume_exit(), 18);
}

static void test_fetch_not_executable(void)
{
    setup(g_nx, false);
    uint64_t *e = vmx_ept_entry(addr(g_nx), 1);
    *e &= ~EPT_X;
    ASSERT_EQ(vmx_launch_exit(), 48);
    /* fetch, readable and writable, linear address valid, final */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x59c);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(g_nx));
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), addr(g_nx));
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_nx));
    /* execute-only (IA32_VMX_EPT_VPID_CAP bit 0) runs it */
    *e = (*e & ~EPT_RWX) | EPT_X;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, 0x77);
}

/* A mapping of its own for VA_PT: the guest's page-table page that
 * holds its PTE gets an EPT entry of its own. */
#define VA_PT 0x8000123000ull
static uint64_t *guest_pte;

static void map_va_pt(uint64_t pte_flags)
{
    rt_map_4k(VA_PT, addr(page_c), PTE_P | PTE_W | pte_flags);
    guest_pte = rt_pt_entry(VA_PT, 1, false);
    page_c[3] = VAL_B;
}

/* The traps (SDM 28.2.3.2, 28.2.4): a read-only EPT mapping of
 * a guest page table refuses the guest's A/D updates even with EPT A/D
 * off, and with EPTP bit 6 every guest paging-structure access is a
 * write: read and write (bits 0-1), readable (3), linear address valid
 * (7), not the final translation (8 clear) = 0x8b. */
static void test_page_table_read_only(void)
{
    for (int ad = 0; ad < 2; ad++) {
        setup(g_read, ad);
        map_va_pt(ad ? PTE_A | PTE_D : 0);
        uint64_t *e = vmx_ept_entry(addr(guest_pte) & ~0xfffull, 1);
        *e &= ~(EPT_W | EPT_X);
        vmx_guest.rax = VA_PT + 0x18;
        ASSERT_EQ(vmx_launch_exit(), 48);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x8b);
        ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(guest_pte));
        ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), VA_PT + 0x18);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read_at));
        ASSERT_EQ(*guest_pte & PTE_A, ad ? PTE_A : 0);
        /* read/execute: the same, with X (bit 5) */
        *e |= EPT_X;
        ASSERT_EQ(vmx_resume_exit(), 48);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0xab);
        *e |= EPT_W;
        ASSERT_EQ(vmx_resume_exit(), 18);
        ASSERT_EQ(vmx_guest.rbx, VAL_B);
        ASSERT_EQ(*guest_pte & PTE_A, PTE_A);
        if (!ad) {
            /* accessed now: without EPT A/D a read needs no write to
             * the page table, but a write must set the PTE's dirty flag */
            *e &= ~(EPT_W | EPT_X);
            vmx_guest.rax = VA_PT + 0x18;
            ASSERT_EQ(rerun(g_read), 18);
            vmx_guest.rax = VA_PT + 0x20;
            ASSERT_EQ(rerun(g_write), 48);
            ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x8b);
            ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(guest_pte));
            ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), VA_PT + 0x20);
            ASSERT_EQ(*guest_pte & PTE_D, 0);
            *e |= EPT_W;
            ASSERT_EQ(vmx_resume_exit(), 18);
            ASSERT_EQ(*guest_pte & PTE_D, PTE_D);
            ASSERT_EQ(page_c[4], VAL_B);
        }
    }
}

/* A not-present page-table page: a read (0x81), or with EPTP bit 6 a
 * read and a write (0x83). */
static void test_page_table_not_present(void)
{
    for (int ad = 0; ad < 2; ad++) {
        setup(g_read, ad);
        map_va_pt(PTE_A | PTE_D);
        uint64_t *e = vmx_ept_entry(addr(guest_pte) & ~0xfffull, 1);
        *e &= ~EPT_RWX;
        vmx_guest.rax = VA_PT + 0x18;
        ASSERT_EQ(vmx_launch_exit(), 48);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), ad ? 0x83 : 0x81);
        ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(guest_pte));
        ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), VA_PT + 0x18);
        *e |= EPT_RWX;
        ASSERT_EQ(vmx_resume_exit(), 18);
        ASSERT_EQ(vmx_guest.rbx, VAL_B);
    }
}

static void test_misconfigurations(void)
{
    setup(g_read, false);
    vmx_guest.rax = addr(&page_a[3]);
    uint64_t *e = vmx_ept_entry(addr(page_a), 1);
    static const uint64_t bad[] = {
        EPT_W | EPT_WB,                    /* write without read */
        EPT_W | EPT_X | EPT_WB,            /* write/execute without read */
        EPT_RWX | (7ull << 3),             /* memory type 7 (reserved) */
        EPT_RWX | (2ull << 3),             /* memory type 2 */
        EPT_RWX | EPT_WB | (1ull << 51),   /* beyond MAXPHYADDR */
    };
    uint64_t good = *e;
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        *e = addr(page_a) | bad[k];
        ASSERT_EQ(k ? vmx_resume_exit() : vmx_launch_exit(), 49);
        ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(&page_a[3]));
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_read_at));
    }
    *e = good;
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
    /* PDE level, on the last 2 MiB of the first GiB (nothing else of
     * the guest lives there): a 2-MiB leaf with bit 12 set, then a PDE
     * that points to a table with bit 3 set */
    uint64_t *pde = vmx_ept_entry(0x3fe00000, 2);
    *pde |= 1ull << 12;
    vmx_guest.rax = 0x3fe00018;
    ASSERT_EQ(rerun(g_read), 49);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), 0x3fe00018);
    *pde &= ~(1ull << 12);
    vmx_ept_entry(0x3fe00000, 1); /* now a table */
    uint64_t table = *pde;
    *pde = table | (1ull << 3);
    ASSERT_EQ(vmx_resume_exit(), 49);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), 0x3fe00018);
    /* reserved bits of a not-present entry do not matter: a violation */
    *pde = (table & ~EPT_RWX) | (1ull << 3);
    ASSERT_EQ(vmx_resume_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x581);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), 0x3fe00018);
    *pde = table;
    ASSERT_EQ(vmx_resume_exit(), 18);
}

/* Guest-physical is not host-physical: 4-KiB, 2-MiB and 1-GiB leaves
 * that map elsewhere. */
static void test_translation(void)
{
    setup(g_read, false);
    /* page_c's guest-physical page is page_a's host-physical one */
    *vmx_ept_entry(addr(page_c), 1) = addr(page_a) | EPT_RWX | EPT_WB;
    page_c[3] = 0xcccc;
    vmx_guest.rax = addr(&page_c[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
    /* the last 2 MiB of the first GiB -> the 2 MiB holding page_a */
    uint64_t base2m = addr(page_a) & ~0x1fffffull;
    *vmx_ept_entry(0x3fe00000, 2) = base2m | EPT_RWX | EPT_WB | EPT_PS;
    vmx_guest.rax = 0x3fe00000 + (addr(&page_a[3]) - base2m);
    ASSERT_EQ(rerun(g_read), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
    /* the second GiB -> the first, through a 1-GiB leaf */
    *vmx_ept_entry(0x40000000, 3) = 0 | EPT_RWX | EPT_WB | EPT_PS;
    vmx_guest.rax = 0x40000000 + addr(&page_b[3]);
    ASSERT_EQ(rerun(g_read), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_B);
}

/* SDM 28.2.4 with EPTP bit 6: accessed on every entry used, dirty on
 * the leaf for a write; guest paging-structure accesses are writes. */
static void test_accessed_dirty(void)
{
    setup(g_read, true);
    uint64_t *pte_a = vmx_ept_entry(addr(page_a), 1);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(*pte_a & (EPT_A | EPT_D), EPT_A);
    ASSERT_EQ(*vmx_ept_entry(addr(page_a), 2) & (EPT_A | EPT_D), EPT_A);
    ASSERT_EQ(*vmx_ept_entry(addr(page_a), 3) & EPT_A, EPT_A);
    ASSERT_EQ(*vmx_ept_entry(addr(page_a), 4) & EPT_A, EPT_A);
    /* untouched pages stay clear */
    ASSERT_EQ(*vmx_ept_entry(addr(page_b), 1) & (EPT_A | EPT_D), 0);

    setup(g_write, true);
    uint64_t *pte_b = vmx_ept_entry(addr(page_b), 1);
    vmx_guest.rax = addr(&page_b[7]);
    vmx_guest.rbx = 9;
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(*pte_b & (EPT_A | EPT_D), EPT_A | EPT_D);
    ASSERT_EQ(page_b[7], 9);

    setup(g_nx, true);
    uint64_t *pte_x = vmx_ept_entry(addr(g_nx), 1);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(*pte_x & (EPT_A | EPT_D), EPT_A);

    /* the guest only reads through its page table, yet its page-table
     * page is marked dirty */
    setup(g_read, true);
    map_va_pt(PTE_A | PTE_D);
    uint64_t *pte_pt = vmx_ept_entry(addr(guest_pte) & ~0xfffull, 1);
    uint64_t *pte_c = vmx_ept_entry(addr(page_c), 1);
    vmx_guest.rax = VA_PT + 0x18;
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(*pte_pt & (EPT_A | EPT_D), EPT_A | EPT_D);
    ASSERT_EQ(*pte_c & (EPT_A | EPT_D), EPT_A);

    /* a read, then a write to the same page: the read's translation
     * (cached while the EPT dirty flag is clear) must not serve the
     * write, which has to set the flag */
    setup(g_read_write, true);
    pte_a = vmx_ept_entry(addr(page_a), 1);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(page_a[4], VAL_A + 1);
    ASSERT_EQ(*pte_a & (EPT_A | EPT_D), EPT_A | EPT_D);

    /* without bit 6, none of it */
    setup(g_write, false);
    pte_b = vmx_ept_entry(addr(page_b), 1);
    vmx_guest.rax = addr(&page_b[7]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(*pte_b & (EPT_A | EPT_D), 0);
}

/* A 32-bit guest with PAE paging: with EPT its PDPTEs come from the
 * VMCS at VM entry (26.3.2.4) and go back there at the exit (27.3.4);
 * a MOV to CR3 in the guest loads them through EPT, as a read with no
 * guest-linear address (28.2.3.2, Table 27-7: qualification 0x1), even
 * with EPTP bit 6 (28.2.4). */
static uint64_t pae_pdpt[512] __attribute__((aligned(4096)));
static uint64_t pae_pd[512] __attribute__((aligned(4096)));

static void test_pae_guest(void)
{
    for (unsigned k = 0; k < 512; k++)
        pae_pd[k] = ((uint64_t)k << 21) | PTE_P | PTE_W | PTE_PS;
    memset(pae_pdpt, 0, sizeof pae_pdpt); /* memory holds no PDPTE */
    setup(g_pae, true);
    vmwrite(VMCS_ENTRY_CONTROLS, vmread(VMCS_ENTRY_CONTROLS) & ~(1u << 9));
    vmwrite(VMCS_GUEST_CS_SELECTOR, RT_SEL_CODE32);
    vmwrite(VMCS_GUEST_CS_AR, 0xc09b); /* 32-bit code: type 11, S, P, D/B, G */
    vmwrite(VMCS_GUEST_CR3, addr(pae_pdpt));
    vmwrite(VMCS_GUEST_PDPTE0, addr(pae_pd) | PTE_P);
    vmwrite(VMCS_GUEST_PDPTE1, 0);
    vmwrite(VMCS_GUEST_PDPTE2, 0);
    vmwrite(VMCS_GUEST_PDPTE3, 0);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ((uint32_t)vmx_guest.rbx, (uint32_t)VAL_A);
    ASSERT_EQ(vmread(VMCS_GUEST_PDPTE0), addr(pae_pd) | PTE_P);

    pae_pdpt[0] = addr(pae_pd) | PTE_P;
    pae_pdpt[1] = addr(pae_pd) | PTE_P | PTE_PWT; /* tells the load apart */
    uint64_t *e = vmx_ept_entry(addr(pae_pdpt), 1);
    *e &= ~EPT_RWX;
    vmx_guest.rax = addr(&page_b[3]);
    vmx_guest.rcx = addr(pae_pdpt);
    ASSERT_EQ(rerun(g_pae_cr3), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x1);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(pae_pdpt));
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_pae_cr3));
    ASSERT_EQ(vmread(VMCS_GUEST_PDPTE1), 0); /* nothing loaded */
    *e |= EPT_R; /* read-only is enough for the load */
    ASSERT_EQ(vmx_resume_exit(), 18);
    ASSERT_EQ((uint32_t)vmx_guest.rbx, (uint32_t)VAL_B);
    ASSERT_EQ(vmread(VMCS_GUEST_PDPTE1), addr(pae_pd) | PTE_P | PTE_PWT);
    ASSERT_EQ(*e & (EPT_A | EPT_D), EPT_A);

    /* 26.3.1.6: a present PDPTE field with a reserved bit (1) set fails
     * the entry with exit reason 33 */
    vmwrite(VMCS_GUEST_PDPTE2, addr(pae_pd) | PTE_P | PTE_W);
    ASSERT_EQ(rerun(g_pae), 0x80000021);
}

/* SDM 26.2.1.1: with "enable EPT", a bad EPTP fails VM entry with
 * VMfailValid 7 (invalid control fields). */
static void test_eptp_checks(void)
{
    uint32_t r[4];
    cpuid(0x80000008, 0, r);
    unsigned maxphy = r[0] & 0xff;
    uint64_t good = vmx_ept_identity(1), root = good & ~0xfffull;
    const uint64_t bad[] = {
        root | (3 << 3) | 7,  /* memory type 7 (reserved) */
        root | (3 << 3) | 1,  /* memory type 1 (WC): not offered */
        root | (7 << 3) | 6,  /* bits 5:3 = 7: an 8-level walk */
        root | (2 << 3) | 6,  /* bits 5:3 = 2: 3-level */
        good | (1ull << 7),   /* supervisor shadow-stack control: not offered */
        good | (1ull << 11),  /* reserved */
        good | (1ull << maxphy), /* beyond the physical-address width */
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        setup(g_read, false);
        vmwrite(VMCS_EPT_POINTER, bad[k]);
        ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
        ASSERT_EQ(vmx_error(), 7);
    }
    /* a secondary control that is not offered: enable VPID (bit 5) */
    setup(g_read, false);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, (1u << 1) | (1u << 5));
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
    /* uncacheable EPT structures and bit 6 are offered */
    setup(g_read, true);
    vmwrite(VMCS_EPT_POINTER, (good & ~0x7ull) | EPTP_AD);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    /* with the secondary controls off, "enable EPT" and the EPTP do not
     * count (24.6.2) */
    setup(g_read, false);
    vmwrite(VMCS_PROC_BASED_CONTROLS, vmread(VMCS_PROC_BASED_CONTROLS) & ~(1u << 31));
    vmwrite(VMCS_EPT_POINTER, 1ull << 11);
    vmx_guest.rax = addr(&page_a[3]);
    ASSERT_EQ(vmx_launch_exit(), 18);
    ASSERT_EQ(vmx_guest.rbx, VAL_A);
}

/* Table 27-7 bit 12: an IRET that unblocked NMIs and then met an EPT
 * violation popping its frame says so (0x1581); the saved
 * interruptibility shows NMIs unblocked.  Without blocking by NMI the
 * same violation is 0x581. */
static void test_nmi_unblocking_iret(void)
{
    for (int blocked = 0; blocked < 2; blocked++) {
        setup(g_iret, false);
        /* the frame IRETQ pops: RIP, CS, RFLAGS, RSP, SS */
        page_c[0] = addr(g_iret_done);
        page_c[1] = RT_SEL_CODE64;
        page_c[2] = 0x2;
        page_c[3] = GUEST_RSP;
        page_c[4] = RT_SEL_DATA;
        vmwrite(VMCS_GUEST_RSP, addr(page_c));
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocked ? 8 : 0); /* blocking by NMI */
        uint64_t *e = vmx_ept_entry(addr(page_c), 1);
        *e &= ~EPT_RWX;
        ASSERT_EQ(vmx_launch_exit(), 48);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), blocked ? 0x1581 : 0x581);
        ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR), addr(page_c));
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_iret));
        ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY) & 8, 0);
        *e |= EPT_RWX;
        ASSERT_EQ(vmx_resume_exit(), 18);
        ASSERT_EQ(vmread(VMCS_GUEST_RSP), GUEST_RSP);
    }
}

/* An EPT violation while an exception is delivered through the guest
 * IDT (its frame goes to a page EPT does not map): the exit records the
 * exception as IDT-vectoring information (27.2.3), the access as a
 * write of the final translation (0x182), RIP at the faulting
 * instruction. */
static void test_violation_during_delivery(void)
{
    setup(g_ud, false);
    vmwrite(VMCS_GUEST_RSP, addr(page_c) + 4096);
    *vmx_ept_entry(addr(page_c), 1) &= ~EPT_RWX;
    ASSERT_EQ(vmx_launch_exit(), 48);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x582);
    ASSERT_EQ(vmread(VMCS_GUEST_PHYSICAL_ADDR) & ~0xfffull, addr(page_c));
    ASSERT_EQ(vmread(VMCS_GUEST_LINEAR_ADDR), vmread(VMCS_GUEST_PHYSICAL_ADDR));
    /* valid, hardware exception (3), #UD (6), no error code */
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000306);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO) >> 31, 0);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_ud));
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), addr(page_c) + 4096);
}

/* INVEPT (SDM 30.3): types 1 and 2 as IA32_VMX_EPT_VPID_CAP offers,
 * VMfailValid 28 otherwise or for a single-context EPTP that VM entry
 * would refuse; #UD without the 66 prefix or with a register operand;
 * in non-root operation a VM exit (reason 50) with the displacement as
 * qualification and the operands in the instruction information. */
static void test_invept(void)
{
    setup(g_read, false); /* a current VMCS, for VMfailValid */
    static uint64_t desc[3];
    desc[0] = vmx_ept_identity(1);
    ASSERT_EQ(invept(1, desc), VMX_OK);
    ASSERT_EQ(invept(2, desc), VMX_OK);
    for (uint64_t type = 0; type < 5; type += 3) {
        ASSERT_EQ(invept(type, desc), VMX_FAIL_VALID);
        ASSERT_EQ(vmx_error(), 28);
    }
    uint64_t good = desc[0];
    desc[0] = (good & ~7ull) | 1; /* memory type WC */
    ASSERT_EQ(invept(1, desc), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 28);
    ASSERT_EQ(invept(2, desc), VMX_OK); /* all contexts: no EPTP to check */
    desc[0] = good | EPTP_AD;
    ASSERT_EQ(invept(1, desc), VMX_OK);
    desc[0] = good;
    /* 0F 38 80 without 66; the register form 66 0F 38 80 C1 */
    int v = catch_asm(RT_CATCH_BEGIN ".byte 0x0f, 0x38, 0x80, 0x08" RT_CATCH_END
                      ::"a"(desc), "c"(1) : "memory");
    ASSERT_EQ(v, VEC_UD);
    v = catch_asm(RT_CATCH_BEGIN ".byte 0x66, 0x0f, 0x38, 0x80, 0xc1" RT_CATCH_END
                  ::"c"(1) : "memory");
    ASSERT_EQ(v, VEC_UD);

    /* in the guest */
    setup(g_invept, false);
    vmx_guest.rdx = addr(desc) - 8;
    vmx_guest.rcx = 2;
    ASSERT_EQ(vmx_launch_exit(), 50);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), addr(g_invept_at));
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 6); /* 66 0F 38 80 4A 08 */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 8);   /* the displacement */
    /* Table 27-9: Reg2 RCX (1) 31:28, base RDX (2) 26:23, no index
     * (22), DS (3) 17:15, 64-bit addresses (2) 9:7 */
    ASSERT_EQ(vmread(VMCS_VMX_INSTRUCTION_INFO), 0x11418100);

    /* no current VMCS: a failure is VMfailInvalid (30.2) */
    ASSERT_EQ(vmclear((uintptr_t)vmx_vmcs_a), VMX_OK);
    ASSERT_EQ(invept(0, desc), VMX_FAIL_INVALID);
    ASSERT_EQ(invept(2, desc), VMX_OK);
}

void test_main(void)
{
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_identity_map_runs);
    RUN_TEST(test_read_not_present);
    RUN_TEST(test_write_read_only);
    RUN_TEST(test_fetch_not_executable);
    RUN_TEST(test_page_table_read_only);
    RUN_TEST(test_page_table_not_present);
    RUN_TEST(test_misconfigurations);
    RUN_TEST(test_translation);
    RUN_TEST(test_accessed_dirty);
    RUN_TEST(test_pae_guest);
    RUN_TEST(test_eptp_checks);
    RUN_TEST(test_invept);
    RUN_TEST(test_nmi_unblocking_iret);
    RUN_TEST(test_violation_during_delivery);
    vmx_disable();
}
