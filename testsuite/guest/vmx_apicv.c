/*
 * vmx_apicv: APIC virtualization (SDM Vol. 3C chapter 29) as a VMM sees
 * it: the TPR shadow and the TPR-below-threshold exit (43) at VM entry
 * and after MOV to CR8 (29.1.2, 29.3, 26.7.7); the APIC-access page's
 * exits (44) with offset and access type (Table 27-6), virtualized
 * reads and writes that land in the virtual-APIC page and the
 * APIC-write exit (56) (29.4); virtual-interrupt delivery with RVI/SVI,
 * VPPR, EOI virtualization and the EOI-induced exit (45) (29.1.3-29.2);
 * x2APIC MSR virtualization (29.5); posted-interrupt processing (29.6);
 * the VM-entry checks these controls add (26.2.1.1).
 *
 * The guest shares this kernel's page tables, so a guest-linear address
 * of the APIC-access page translates to its physical address (no EPT).
 */
#include "rt.h"
#include "vmx.h"

#define PIN_EXTINT (1u << 0)
#define PIN_POSTED (1u << 7)
#define PROC_TPR_SHADOW (1u << 21)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_SECONDARY (1u << 31)
#define P2_VAPIC (1u << 0)
#define P2_X2APIC (1u << 4)
#define P2_REGVIRT (1u << 8)
#define P2_VID (1u << 9)
#define EXIT_ACK (1u << 15)

#define EXIT_EXTINT 1
#define EXIT_VMCALL 18
#define EXIT_TPR_BELOW 43
#define EXIT_APIC_ACCESS 44
#define EXIT_EOI 45
#define EXIT_APIC_WRITE 56

#define APIC_BASE 0xfee00000ul
#define VEC_NOTIFY 0xf2 /* posted-interrupt notification vector */
#define VEC_OTHER 0x45  /* any other external interrupt */

static uint8_t apic_access[4096] __attribute__((aligned(4096)));
static uint8_t vapic[4096] __attribute__((aligned(4096)));
static uint8_t msr_bitmap[4096] __attribute__((aligned(4096)));
static volatile uint32_t pi_desc[16] __attribute__((aligned(64)));
static uint8_t guest_stack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))

/* what the guest's IDT delivered last */
volatile uint64_t g_vec, g_count;

static volatile uint32_t *vreg(unsigned off)
{
    return (volatile uint32_t *)(vapic + off);
}

static int vbit(unsigned base, unsigned vec)
{
    return (*vreg(base + 16 * (vec / 32)) >> (vec % 32)) & 1;
}

static void vbit_set(unsigned base, unsigned vec)
{
    *vreg(base + 16 * (vec / 32)) |= 1u << (vec % 32);
}

/* ---- the guest IDT: vectors 32-255, each records itself and VMCALLs ---- */
__asm__(".text\n"
        ".balign 16\n"
        "g_irq_stubs:\n"
        ".set ivec, 32\n"
        ".rept 224\n"
        ".balign 16\n"
        "  pushq $ivec\n"
        "  jmp g_irq_common\n"
        ".set ivec, ivec + 1\n"
        ".endr\n"
        "g_irq_common:\n"
        "  popq g_vec(%rip)\n"
        "  incq g_count(%rip)\n"
        "g_irq_vmcall:\n"
        "  vmcall\n"
        "  iretq\n");
extern char g_irq_stubs[], g_irq_vmcall[];

static struct vmx_gate64 guest_idt[256] __attribute__((aligned(16)));

static void guest_idt_init(void)
{
    for (unsigned v = 32; v < 256; v++)
        guest_idt[v] = vmx_gate64((uintptr_t)(g_irq_stubs + 16 * (v - 32)), 0x8e);
}

/* ---- guest code: each label marks an instruction a test names ---- */
void g_cr8_write(void), g_cr8_write_next(void), g_cr8_read(void), g_load(void),
    g_load_next(void), g_store8(void), g_store(void), g_store_next(void), g_jump(void), g_sti(void),
    g_sti_hlt(void), g_rdmsr(void), g_wrmsr(void), g_wrmsr_next(void);
__asm__(".text\n"
        "g_cr8_write:\n  mov %rax, %cr8\n"
        "g_cr8_write_next:\n  vmcall\n  ud2\n"
        "g_cr8_read:\n  mov %cr8, %rbx\n  vmcall\n  ud2\n"
        "g_load:\n  mov (%rsi), %ebx\n"
        "g_load_next:\n  vmcall\n  ud2\n"
        "g_store8:\n  mov %al, (%rsi)\n  vmcall\n  ud2\n"
        "g_store:\n  mov %eax, (%rsi)\n"
        "g_store_next:\n  vmcall\n  ud2\n"
        "g_jump:\n  jmp *%rsi\n"
        "g_sti:\n  sti\n  nop\n  nop\n  vmcall\n  ud2\n"
        "g_sti_hlt:\n  sti\n  hlt\n  vmcall\n  ud2\n"
        "g_rdmsr:\n  rdmsr\n  vmcall\n  ud2\n"
        "g_wrmsr:\n  wrmsr\n"
        "g_wrmsr_next:\n  vmcall\n  ud2\n");

/* the guest goes (back) to g_store: a 32-bit store of 'value' at
 * offset 'off' of the APIC-access page */
static void guest_store(unsigned off, uint32_t value)
{
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_store);
    vmx_guest.rsi = (uintptr_t)apic_access + off;
    vmx_guest.rax = value;
}

static void set_ctl(uint64_t field, uint32_t bits)
{
    vmwrite(field, vmread(field) | bits);
}

static void clear_ctl(uint64_t field, uint32_t bits)
{
    vmwrite(field, vmread(field) & ~(uint64_t)bits);
}

/* a guest at 'rip' with the TPR shadow on and secondary controls p2 */
static void setup(void (*rip)(void), uint32_t p2)
{
    vmx_setup_guest(rip, GUEST_RSP);
    vmwrite(VMCS_GUEST_IDTR_BASE, (uintptr_t)guest_idt);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
    memset(vapic, 0, sizeof(vapic));
    memset(apic_access, 0, sizeof(apic_access));
    g_vec = ~0ull;
    g_count = 0;
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_TPR_SHADOW | PROC_SECONDARY);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, p2);
    vmwrite(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uintptr_t)vapic);
    vmwrite(VMCS_APIC_ACCESS_ADDR, (uintptr_t)apic_access);
    vmwrite(VMCS_TPR_THRESHOLD, 0);
    if (p2 & P2_VID) {
        set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
        set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
        vmwrite(VMCS_GUEST_INTR_STATUS, 0);
        for (int k = 0; k < 4; k++)
            vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * k, 0);
    }
}

/* VM entry fails with VMfailValid 7 (invalid control field) */
static void expect_bad_controls(void)
{
    ASSERT_EQ(vmx_run(1), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
}

static void test_capabilities(void)
{
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_PROCBASED) >> 32) & PROC_TPR_SHADOW, PROC_TPR_SHADOW);
    uint32_t p2 = P2_VAPIC | P2_X2APIC | P2_REGVIRT | P2_VID;
    ASSERT_EQ((rdmsr(MSR_VMX_PROCBASED2) >> 32) & p2, p2);
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_PINBASED) >> 32) & PIN_POSTED, PIN_POSTED);
}

static void test_tpr_threshold_at_entry(void)
{
    /* without "virtualize APIC accesses" a threshold above VTPR[7:4]
     * fails the entry checks ... */
    setup(g_cr8_read, 0);
    vmwrite(VMCS_SECONDARY_PROC_CONTROLS, 0);
    *vreg(0x80) = 0x30;
    vmwrite(VMCS_TPR_THRESHOLD, 5);
    expect_bad_controls();
    vmwrite(VMCS_TPR_THRESHOLD, 0x13); /* bits 31:4 must be 0 without VID */
    expect_bad_controls();
    /* ... with it, the entry succeeds and exits at once (26.7.7): the
     * guest has not run its first instruction */
    setup(g_cr8_read, P2_VAPIC);
    *vreg(0x80) = 0x30;
    vmwrite(VMCS_TPR_THRESHOLD, 5);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TPR_BELOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_cr8_read);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    /* at or above the threshold: the guest runs */
    vmwrite(VMCS_TPR_THRESHOLD, 3);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmx_guest.rbx, 3); /* MOV from CR8 reads VTPR[7:4] (29.3) */
}

static void test_mov_cr8(void)
{
    uint32_t real_tpr = *(volatile uint32_t *)(APIC_BASE + 0x80);
    setup(g_cr8_write, 0);
    *vreg(0x80) = 0x5f;
    vmwrite(VMCS_TPR_THRESHOLD, 4);
    vmx_guest.rax = 3;
    /* 3 < 4: a trap-like exit after the MOV; VTPR = 30H, bits 3:0 clear */
    ASSERT_EQ(vmx_launch_exit(), EXIT_TPR_BELOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_cr8_write_next);
    ASSERT_EQ(*vreg(0x80), 0x30);
    ASSERT_EQ(*(volatile uint32_t *)(APIC_BASE + 0x80), real_tpr); /* the real TPR untouched */
    /* the VMM lowers the threshold to VTPR[7:4] (else the entry check
     * fails); a MOV at the threshold: no exit */
    vmwrite(VMCS_TPR_THRESHOLD, 3);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_cr8_write);
    vmx_guest.rax = 3;
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(*vreg(0x80), 0x30);
}

static void test_apic_access_exits(void)
{
    /* "APIC-register virtualization" 0: only VTPR reads and writes are
     * virtualized; everything else exits with offset and access type */
    setup(g_load, P2_VAPIC);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x20;
    ASSERT_EQ(vmx_launch_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x020); /* linear read of 20H */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_load); /* fault-like */
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);

    setup(g_store, P2_VAPIC);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x300;
    vmx_guest.rax = 0x4000;
    ASSERT_EQ(vmx_launch_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x1300); /* linear write of 300H */
    ASSERT_EQ(*vreg(0x300), 0);

    /* a byte write to 81H: without register virtualization only writes
     * at offset 80H itself are virtualized */
    setup(g_store8, P2_VAPIC);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x81;
    ASSERT_EQ(vmx_launch_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x1081);

    setup(g_jump, P2_VAPIC);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x10;
    ASSERT_EQ(vmx_launch_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x2010); /* instruction fetch at 10H */

    /* without "use TPR shadow" even VTPR exits */
    setup(g_load, P2_VAPIC);
    clear_ctl(VMCS_PROC_BASED_CONTROLS, PROC_TPR_SHADOW);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x80;
    ASSERT_EQ(vmx_launch_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x080);
}

static void test_vtpr_accesses(void)
{
    /* a read of 80H comes from the virtual-APIC page */
    setup(g_load, P2_VAPIC);
    *vreg(0x80) = 0x47;
    apic_access[0x80] = 0x99;
    vmx_guest.rsi = (uintptr_t)apic_access + 0x80;
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmx_guest.rbx, 0x47);
    /* a write goes there, bytes 81H-83H cleared, then TPR virtualization */
    setup(g_store, P2_VAPIC);
    *vreg(0x80) = 0x30;
    vmwrite(VMCS_TPR_THRESHOLD, 2);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x80;
    vmx_guest.rax = 0xabcd0010;
    ASSERT_EQ(vmx_launch_exit(), EXIT_TPR_BELOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_store_next); /* trap-like */
    ASSERT_EQ(*vreg(0x80), 0x10);
    ASSERT_EQ(*(volatile uint32_t *)(apic_access + 0x80), 0); /* the page itself untouched */
}

static void test_register_virtualization(void)
{
    setup(g_load, P2_VAPIC | P2_REGVIRT);
    *vreg(0x20) = 0x5000000;
    vmx_guest.rsi = (uintptr_t)apic_access + 0x20;
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmx_guest.rbx, 0x5000000);
    /* PPR (A0H) is not among the virtualized registers; nor is a read
     * that goes past a register's low 4 bytes */
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_load);
    vmx_guest.rsi = (uintptr_t)apic_access + 0xa0;
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x0a0);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x22;
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_ACCESS);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x022);

    /* a write to the ID register lands in the virtual-APIC page, then
     * an APIC-write exit with its offset, after the instruction */
    setup(g_store, P2_VAPIC | P2_REGVIRT);
    vmx_guest.rsi = (uintptr_t)apic_access + 0x20;
    vmx_guest.rax = 0x7000000;
    ASSERT_EQ(vmx_launch_exit(), EXIT_APIC_WRITE);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x020);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_store_next);
    ASSERT_EQ(*vreg(0x20), 0x7000000);
    /* an ICR write without virtual-interrupt delivery: APIC-write exit */
    guest_store(0x300, 0x40055);
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_WRITE);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x300);
    ASSERT_EQ(*vreg(0x300), 0x40055);
}

/* a VID guest with RVI and VIRR holding 'vec' */
static void setup_vid(void (*rip)(void), uint32_t p2, unsigned vec)
{
    setup(rip, p2 | P2_VID);
    vbit_set(0x200, vec);
    vmwrite(VMCS_GUEST_INTR_STATUS, vec);
}

static void test_virtual_interrupt_delivery(void)
{
    /* VTPR 60H masks vector 51H (class 5 <= class 6): nothing delivered,
     * VPPR = VTPR after the entry's PPR virtualization (29.1.3) */
    setup_vid(g_sti, P2_VAPIC | P2_REGVIRT, 0x51);
    *vreg(0x80) = 0x60;
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(g_count, 0);
    ASSERT_EQ(*vreg(0xa0), 0x60);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x51);

    /* VTPR 0: delivered through the guest IDT once IF = 1 (after the
     * STI shadow); RVI -> SVI, VIRR -> VISR, VPPR = 50H (29.2.2) */
    setup_vid(g_sti, P2_VAPIC | P2_REGVIRT, 0x51);
    vbit_set(0x200, 0x31);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(g_vec, 0x51);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_irq_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x5131); /* SVI 51H, RVI 31H */
    ASSERT_EQ(vbit(0x100, 0x51), 1);
    ASSERT_EQ(vbit(0x200, 0x51), 0);
    ASSERT_EQ(*vreg(0xa0), 0x50);
    /* 31H (class 3) waits behind 51H in service */
    ASSERT_EQ(g_count, 1);

    /* EOI virtualization by a write to B0H: VISR clears, SVI 0, VPPR 0,
     * and 31H is now delivered */
    guest_store(0xb0, 0);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(g_vec, 0x31);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x3100);
    ASSERT_EQ(vbit(0x100, 0x51), 0);
    ASSERT_EQ(*vreg(0xa0), 0x30);

    /* with 31H's EOI-exit bit set the EOI exits, qualification 31H (45) */
    vmwrite(VMCS_EOI_EXIT_BITMAP0, 1ull << 0x31);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_store);
    ASSERT_EQ(vmx_resume_exit(), EXIT_EOI);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x31);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_store_next);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0);
    ASSERT_EQ(*vreg(0xa0), 0);
}

static void test_self_ipi_and_hlt(void)
{
    /* a self-IPI through ICR_LO (shorthand self, fixed, edge) is
     * virtualized: VIRR, RVI, then delivery (29.1.5) */
    setup(g_store, P2_VAPIC | P2_VID);
    guest_store(0x300, 0x40062);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(g_vec, 0x62);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x6200);
    /* other ICR values exit (APIC write) */
    guest_store(0x300, 0x4062); /* no shorthand, NMI delivery mode */
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_WRITE);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x300);
    guest_store(0x300, 0x48062); /* self, level-triggered */
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_WRITE);
    guest_store(0x300, 0x41062); /* self, delivery-status bit set */
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_WRITE);
    guest_store(0x300, 0x4000f); /* self, vector below 16 */
    ASSERT_EQ(vmx_resume_exit(), EXIT_APIC_WRITE);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x6200);

    /* a recognized virtual interrupt wakes the HLT state: an entry in
     * HLT with IF = 1 delivers it (the frame's RIP is the entry's) */
    setup_vid(g_sti_hlt, P2_VAPIC, 0x70);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(g_vec, 0x70);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 0);
    ASSERT_EQ(*(volatile uint64_t *)(vmread(VMCS_GUEST_RSP)), (uintptr_t)g_sti_hlt);
}

/* a guest that executes WRMSR of 'value' to 'msr' with "virtualize
 * x2APIC mode" and an MSR bitmap that lets it through */
static void setup_wrmsr(uint32_t p2, uint32_t msr, uint64_t value)
{
    setup(g_wrmsr, p2);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_MSR_BITMAPS);
    vmwrite(VMCS_MSR_BITMAP, (uintptr_t)msr_bitmap);
    vmx_guest.rcx = msr;
    vmx_guest.rax = value;
    vmx_guest.rdx = 0;
}

static void test_x2apic_msrs(void)
{
    memset(msr_bitmap, 0, sizeof(msr_bitmap));
    /* TPR through WRMSR 808H: the virtual-APIC page, TPR virtualization */
    setup_wrmsr(P2_X2APIC, 0x808, 0x20);
    *vreg(0x80) = 0x30;
    vmwrite(VMCS_TPR_THRESHOLD, 3);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TPR_BELOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_wrmsr_next);
    ASSERT_EQ(*vreg(0x80), 0x20);
    /* RDMSR 808H reads it back */
    vmwrite(VMCS_TPR_THRESHOLD, 0);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_rdmsr);
    vmx_guest.rax = vmx_guest.rdx = 0;
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmx_guest.rax, 0x20);
    /* the MSR bitmap still decides first */
    msr_bitmap[0x808 / 8] |= 1u << (0x808 % 8);
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_rdmsr);
    ASSERT_EQ(vmx_resume_exit(), 31);
    msr_bitmap[0x808 / 8] = 0;

    /* with VID: self IPI (83FH) and EOI (80BH) */
    setup_wrmsr(P2_X2APIC | P2_REGVIRT | P2_VID, 0x83f, 0x66);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(g_vec, 0x66);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x6600);
    /* ISR bits 127:96 through RDMSR 813H (APIC-register virtualization) */
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_rdmsr);
    vmx_guest.rcx = 0x813;
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmx_guest.rax, 1u << (0x66 % 32));
    vmwrite(VMCS_GUEST_RIP, (uintptr_t)g_wrmsr);
    vmwrite(VMCS_EOI_EXIT_BITMAP1, 1ull << (0x66 - 64));
    vmx_guest.rcx = 0x80b;
    vmx_guest.rax = 0;
    ASSERT_EQ(vmx_resume_exit(), EXIT_EOI);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x66);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0);
}

static void test_posted_interrupts(void)
{
    /* the local APIC on, and a real interrupt with the notification
     * vector pending when the guest is entered */
    *(volatile uint32_t *)(APIC_BASE + 0xf0) = 0x1ff;
    setup(g_sti, P2_VAPIC | P2_REGVIRT | P2_VID);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_POSTED);
    vmwrite(VMCS_POSTED_INTR_NOTIFY_VECTOR, VEC_NOTIFY);
    vmwrite(VMCS_POSTED_INTR_DESC_ADDR, (uintptr_t)pi_desc);
    memset((void *)pi_desc, 0, sizeof(pi_desc));
    pi_desc[0x61 / 32] |= 1u << (0x61 % 32);
    pi_desc[0x72 / 32] |= 1u << (0x72 % 32);
    pi_desc[8] = 1; /* ON */
    *(volatile uint32_t *)(APIC_BASE + 0x300) = 0x40000 | VEC_NOTIFY;
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    /* PIR moved to VIRR, ON clear, 72H delivered, 61H waiting in RVI */
    ASSERT_EQ(g_vec, 0x72);
    for (int k = 0; k < 8; k++)
        ASSERT_EQ(pi_desc[k], 0);
    ASSERT_EQ(pi_desc[8] & 1, 0);
    ASSERT_EQ(vbit(0x200, 0x61), 1);
    ASSERT_EQ(vbit(0x100, 0x72), 1);
    ASSERT_EQ(vmread(VMCS_GUEST_INTR_STATUS), 0x7261);
    /* the notification itself was acknowledged and EOIed: not in service */
    ASSERT_EQ((*(volatile uint32_t *)(APIC_BASE + 0x100 + 16 * (VEC_NOTIFY / 32)) >>
               (VEC_NOTIFY % 32)) & 1, 0);

    /* another vector exits as an external interrupt (acknowledged) */
    *(volatile uint32_t *)(APIC_BASE + 0x300) = 0x40000 | VEC_OTHER;
    ASSERT_EQ(vmx_resume_exit(), EXIT_EXTINT);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000000u | VEC_OTHER);
    *(volatile uint32_t *)(APIC_BASE + 0xb0) = 0;
}

static void test_entry_checks(void)
{
    /* VID without external-interrupt exiting */
    setup(g_sti, P2_VID);
    clear_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
    expect_bad_controls();
    /* APIC-register virtualization without the TPR shadow */
    setup(g_sti, P2_REGVIRT);
    clear_ctl(VMCS_PROC_BASED_CONTROLS, PROC_TPR_SHADOW);
    expect_bad_controls();
    /* x2APIC virtualization with APIC-access virtualization */
    setup(g_sti, P2_X2APIC | P2_VAPIC);
    expect_bad_controls();
    /* misaligned virtual-APIC and APIC-access addresses */
    setup(g_sti, P2_VAPIC);
    vmwrite(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uintptr_t)vapic + 8);
    expect_bad_controls();
    setup(g_sti, P2_VAPIC);
    vmwrite(VMCS_APIC_ACCESS_ADDR, (uintptr_t)apic_access + 0x800);
    expect_bad_controls();
    /* posted interrupts: without VID, without acknowledge on exit, with
     * vector bits 15:8 or a descriptor not 64-byte aligned */
    setup(g_sti, P2_VAPIC);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT | PIN_POSTED);
    set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
    vmwrite(VMCS_POSTED_INTR_DESC_ADDR, (uintptr_t)pi_desc);
    expect_bad_controls();
    setup(g_sti, P2_VAPIC | P2_VID);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_POSTED);
    vmwrite(VMCS_POSTED_INTR_DESC_ADDR, (uintptr_t)pi_desc);
    vmwrite(VMCS_POSTED_INTR_NOTIFY_VECTOR, VEC_NOTIFY);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL); /* the valid setting enters */
    clear_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
    ASSERT_EQ(vmx_run(0), VMX_FAIL_VALID);
    ASSERT_EQ(vmx_error(), 7);
    set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
    vmwrite(VMCS_POSTED_INTR_NOTIFY_VECTOR, 0x1f2);
    ASSERT_EQ(vmx_run(0), VMX_FAIL_VALID);
    vmwrite(VMCS_POSTED_INTR_NOTIFY_VECTOR, VEC_NOTIFY);
    vmwrite(VMCS_POSTED_INTR_DESC_ADDR, (uintptr_t)pi_desc + 8);
    ASSERT_EQ(vmx_run(0), VMX_FAIL_VALID);
}

void test_main(void)
{
    guest_idt_init();
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_tpr_threshold_at_entry);
    RUN_TEST(test_mov_cr8);
    RUN_TEST(test_apic_access_exits);
    RUN_TEST(test_vtpr_accesses);
    RUN_TEST(test_register_virtualization);
    RUN_TEST(test_virtual_interrupt_delivery);
    RUN_TEST(test_self_ipi_and_hlt);
    RUN_TEST(test_x2apic_msrs);
    RUN_TEST(test_posted_interrupts);
    RUN_TEST(test_entry_checks);
    vmx_disable();
}
