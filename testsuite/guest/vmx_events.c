/*
 * vmx_events: events in VMX non-root operation, SDM Vol. 3C — external
 * interrupts and NMIs with the pin-based controls (24.6.1, 25.2),
 * virtual NMIs, interrupt- and NMI-window exiting, the HLT activity
 * state (24.4.2, 26.7.2, 27.3.4), event injection (26.6), exception
 * routing through the exception bitmap (25.2) and the information VM
 * exits record about events: VM-exit interruption information and
 * IDT-vectoring information (27.2.2-27.2.4).
 *
 * The guest is a 64-bit CPL-0 twin of this kernel (testsuite/vmx/vmx.h) with an
 * IDT of its own: every vector's handler records the frame it got in
 * g_ev and executes VMCALL, so the host sees exactly what the guest IDT
 * delivered; after that VMCALL a VMRESUME lets the handler IRET.
 * External interrupts come from this CPU's local APIC (a self-IPI or
 * the one-shot timer), NMIs from a self-NMI through the ICR.
 */
#include "rt.h"
#include "vmx.h"

#define APIC_BASE 0xfee00000ul
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ICR_LO 0x300
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_DCR 0x3e0
#define ICR_SELF (1u << 18)          /* destination shorthand 01: self */
#define ICR_NMI_SELF (ICR_SELF | (4u << 8)) /* delivery mode 100: NMI */

/* exit reasons (SDM Appendix C) */
enum { EXIT_EXC_NMI = 0, EXIT_EXTINT = 1, EXIT_TRIPLE = 2, EXIT_INTR_WINDOW = 7,
       EXIT_NMI_WINDOW = 8, EXIT_VMCALL = 18 };
#define ENTRY_FAIL_GUEST 0x80000021u
/* controls (SDM 24.6.1, 24.6.2, 24.7.1, 24.8.1) */
#define PIN_EXTINT (1u << 0)
#define PIN_NMI (1u << 3)
#define PIN_VNMI (1u << 5)
#define PROC_INTR_WINDOW (1u << 2)
#define PROC_NMI_WINDOW (1u << 22)
#define EXIT_ACK (1u << 15)
#define ENTRY_LOAD_DEBUG (1u << 2)

#define VEC_SELF 0x40  /* self-IPI */
#define VEC_TIMER 0x41 /* APIC timer */
#define VEC_INJ 0x42   /* injected external interrupt */
#define VEC_NP 0x43    /* a not-present gate in the guest IDT */
#define UNMAPPED 0x40000000000ull  /* 4 TiB: no PML4 entry */
#define UNMAPPED_RSP (UNMAPPED + 0x1000)
#define SEL_CODE RT_SEL_CODE64

static uint8_t guest_stack[4096] __attribute__((aligned(16)));
static uint8_t guest_kstack[4096] __attribute__((aligned(16)));
#define GUEST_RSP ((uintptr_t)(guest_stack + sizeof(guest_stack)))
uint8_t g_user_stack[4096] RT_USER_DATA __attribute__((aligned(16)));
uint8_t g_ac_data[64] RT_USER_DATA __attribute__((aligned(16)));

/* what the guest IDT delivered last (written by g_common) */
struct guest_event {
    uint64_t vec, err, rip, cs, rflags, rsp, ss, cr2, count;
};
volatile struct guest_event g_ev;
volatile uint64_t host_nmi_count;

/* ---- the guest IDT: 256 stubs of 16 bytes, then the common handler ---- */
__asm__(".text\n"
        ".balign 16\n"
        "g_stubs:\n"
        ".set gvec, 0\n"
        ".rept 256\n"
        ".balign 16\n"
        /* vectors that push an error code (SDM Table 6-1) push none here */
        ".if (gvec == 8) || ((gvec >= 10) && (gvec <= 14)) || (gvec == 17) || (gvec == 21)\n"
        ".else\n"
        "  pushq $0\n"
        ".endif\n"
        "  pushq $gvec\n"
        "  jmp g_common\n"
        ".set gvec, gvec + 1\n"
        ".endr\n"
        "g_common:\n"
        "  push %rax\n"
        "  mov 8(%rsp), %rax\n  mov %rax, g_ev+0(%rip)\n"
        "  mov 16(%rsp), %rax\n  mov %rax, g_ev+8(%rip)\n"
        "  mov 24(%rsp), %rax\n  mov %rax, g_ev+16(%rip)\n"
        "  mov 32(%rsp), %rax\n  mov %rax, g_ev+24(%rip)\n"
        "  mov 40(%rsp), %rax\n  mov %rax, g_ev+32(%rip)\n"
        "  mov 48(%rsp), %rax\n  mov %rax, g_ev+40(%rip)\n"
        "  mov 56(%rsp), %rax\n  mov %rax, g_ev+48(%rip)\n"
        "  mov %cr2, %rax\n  mov %rax, g_ev+56(%rip)\n"
        "  incq g_ev+64(%rip)\n"
        "  pop %rax\n"
        "g_handler_vmcall:\n"
        "  vmcall\n"
        "  add $16, %rsp\n"
        "  iretq\n"
        /* the host's NMI handler: counts, and IRET ends NMI blocking */
        "host_nmi_entry:\n"
        "  incq host_nmi_count(%rip)\n"
        "  iretq\n");
extern char g_stubs[], g_handler_vmcall[], host_nmi_entry[];

static struct vmx_gate64 guest_idt[256] __attribute__((aligned(16)));

static void guest_gate(unsigned vec, uint8_t type_attr)
{
    guest_idt[vec] = vmx_gate64((uintptr_t)(g_stubs + 16 * vec), type_attr);
}

static uintptr_t stub(unsigned vec)
{
    return (uintptr_t)(g_stubs + 16 * vec);
}

/* ---- guest code: each label marks an instruction a test names ---- */
void g_vmcall(void), g_nop2(void), g_hlt(void), g_hlt_next(void), g_sti_hlt(void),
    g_sti_hlt_next(void), g_sti(void), g_sti_cpuid(void), g_sti_cpuid_at(void),
    g_movss_cpuid(void), g_movss_cpuid_at(void), g_sti_open(void), g_popf(void), g_popf_open(void),
    g_nmi(void), g_nmi_after(void), g_nmi_iret(void), g_nmi_iret_done(void), g_iret(void),
    g_iret_done(void), g_iret_bad(void), g_iret_bad_at(void), g_int80(void), g_int80_next(void),
    g_de(void), g_de_at(void), g_ud(void), g_bp(void), g_bp_next(void), g_icebp(void),
    g_icebp_next(void), g_int3cd(void), g_int3cd_next(void), g_nm(void), g_nm_at(void),
    g_ss(void), g_ss_at(void), g_gp(void), g_gp_at(void), g_np(void), g_np_at(void),
    g_pf(void), g_pf_at(void), g_mf(void), g_mf_at(void), g_xm(void), g_xm_at(void),
    g_tf(void), g_tf_insn(void), g_tf_next(void), g_tf_int(void), g_brk(void), g_brk_at(void), g_ac(void),
    g_ac_at(void);
__asm__(".text\n"
        "g_vmcall:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_nop2:\n"
        "  nop\n"
        "  nop\n"
        "  vmcall\n"
        "  ud2\n"
        "g_hlt:\n"
        "  hlt\n"
        "g_hlt_next:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_sti_hlt:\n"
        "  sti\n"
        "  hlt\n"
        "g_sti_hlt_next:\n"
        "  vmcall\n"
        "  ud2\n"
        "g_sti:\n"
        "  nop\n"
        "  sti\n"
        "  nop\n"             /* the STI shadow */
        "g_sti_open:\n"
        "  nop\n"
        "  vmcall\n"
        "  ud2\n"
        "g_sti_cpuid:\n"
        "  sti\n"
        "g_sti_cpuid_at:\n"
        "  cpuid\n"
        "  nop\n"
        "  ud2\n"
        "g_movss_cpuid:\n"
        "  mov %ss, %eax\n"
        "  mov %eax, %ss\n"
        "g_movss_cpuid_at:\n"
        "  cpuid\n"
        "  ud2\n"
        "g_popf:\n"
        "  pushq $0x202\n"
        "  popfq\n"           /* IF = 1 without a shadow */
        "g_popf_open:\n"
        "  nop\n"
        "  vmcall\n"
        "  ud2\n"
        "g_nmi:\n"
        "  mov $0xfee00300, %eax\n"
        "  movl $0x40400, (%rax)\n" /* ICR: NMI to self */
        "g_nmi_after:\n"
        "  nop\n"
        "  vmcall\n"
        "  ud2\n"
        "g_nmi_iret:\n"       /* an NMI to self, then an IRET to the next label */
        "  mov $0xfee00300, %eax\n"
        "  movl $0x40400, (%rax)\n"
        "g_iret:\n"
        "  mov %rsp, %rax\n"
        "  mov %ss, %ecx\n"
        "  push %rcx\n"
        "  push %rax\n"
        "  pushfq\n"
        "  mov %cs, %ecx\n"
        "  push %rcx\n"
        "  lea g_iret_done(%rip), %rax\n"
        "  push %rax\n"
        "  iretq\n"
        "g_iret_done:\n"
        "g_nmi_iret_done:\n"
        "  nop\n"
        "  vmcall\n"
        "  ud2\n"
        "g_iret_bad:\n"       /* IRET to a null CS selector: #GP(0) */
        "  mov %rsp, %rax\n"
        "  mov %ss, %ecx\n"
        "  push %rcx\n"
        "  push %rax\n"
        "  pushfq\n"
        "  pushq $0\n"
        "  lea g_iret_done(%rip), %rax\n"
        "  push %rax\n"
        "g_iret_bad_at:\n"
        "  iretq\n"
        "g_int80:\n"
        "  int $0x80\n"
        "g_int80_next:\n"
        "  ud2\n"
        "g_de:\n"
        "  xor %ecx, %ecx\n"
        "g_de_at:\n"
        "  div %ecx\n"
        "  ud2\n"
        "g_ud:\n"
        "  ud2\n"
        "g_bp:\n"
        "  int3\n"
        "g_bp_next:\n"
        "  ud2\n"
        "g_icebp:\n"
        "  .byte 0xf1\n"      /* INT1 */
        "g_icebp_next:\n"
        "  ud2\n"
        "g_int3cd:\n"
        "  .byte 0xcd, 0x03\n" /* INT 3 (CD 03): a software interrupt, not INT3 */
        "g_int3cd_next:\n"
        "  ud2\n"
        "g_nm:\n"
        "g_nm_at:\n"
        "  fwait\n"           /* CR0.MP and CR0.TS: #NM */
        "  ud2\n"
        "g_ss:\n"
        "  movabs $0x8000000000000000, %rbp\n"
        "g_ss_at:\n"
        "  mov (%rbp), %rax\n" /* non-canonical through SS: #SS(0) */
        "  ud2\n"
        "g_gp:\n"
        "  movabs $0x8000000000000000, %rax\n"
        "g_gp_at:\n"
        "  mov (%rax), %rbx\n" /* non-canonical: #GP(0) */
        "  ud2\n"
        "g_np:\n"
        "  mov $0x70, %eax\n"
        "g_np_at:\n"
        "  mov %eax, %ds\n"   /* a not-present descriptor: #NP(70H) */
        "  ud2\n"
        "g_pf:\n"
        "  movabs $0x40000000000, %rax\n"
        "g_pf_at:\n"
        "  mov (%rax), %rbx\n" /* not present, read: #PF(0) */
        "  ud2\n"
        "g_mf:\n"
        "  fninit\n"
        "  fldcw 8f(%rip)\n"
        "  fld1\n"
        "  fldz\n"
        "  .byte 0xde, 0xf9\n" /* FDIVP ST(1), ST(0): 1 / 0, #Z unmasked */
        "g_mf_at:\n"
        "  fwait\n"
        "  ud2\n"
        "8: .word 0x37b\n"
        "g_xm:\n"
        "  ldmxcsr 9f(%rip)\n"
        "  xorps %xmm0, %xmm0\n"
        "  mov $1, %eax\n"
        "  cvtsi2ss %eax, %xmm1\n"
        "g_xm_at:\n"
        "  divss %xmm0, %xmm1\n" /* 1 / 0 with ZM clear: #XM */
        "  ud2\n"
        "9: .long 0x1d80\n"
        "g_tf:\n"
        "  pushfq\n"
        "  orq $0x100, (%rsp)\n"
        "  popfq\n"
        "g_tf_insn:\n"
        "  nop\n"             /* the single-step trap follows this one */
        "g_tf_next:\n"
        "  nop\n"
        "  vmcall\n"
        "  ud2\n"
        "g_tf_int:\n"
        "  pushfq\n"
        "  orq $0x100, (%rsp)\n"
        "  popfq\n"
        "  int $0x80\n"        /* runs with TF = 1: no single-step trap after it */
        "  ud2\n"
        "g_brk:\n"
        "  nop\n"
        "g_brk_at:\n"
        "  nop\n"             /* DR0 points here */
        "  vmcall\n"
        "  ud2\n"
        ".pushsection .user_text, \"ax\"\n"
        "g_ac:\n"
        "  pushfq\n"
        "  orq $0x40000, (%rsp)\n" /* RFLAGS.AC */
        "  popfq\n"
        "  lea g_ac_data+1(%rip), %rax\n"
        "g_ac_at:\n"
        "  mov (%rax), %ecx\n" /* misaligned at CPL 3 with CR0.AM: #AC(0) */
        "  ud2\n"
        ".popsection\n");

/* ---- host helpers ---- */

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

static uint32_t apic_read(unsigned reg)
{
    return *(volatile uint32_t *)(APIC_BASE + reg);
}

static int apic_bit(unsigned base, unsigned vec)
{
    return (apic_read(base + 0x10 * (vec / 32)) >> (vec % 32)) & 1;
}

static void self_ipi(unsigned vec)
{
    apic_write(APIC_ICR_LO, ICR_SELF | vec);
}

/* one-shot APIC timer on VEC_TIMER, divide by 1 */
static void timer_oneshot(uint32_t count)
{
    apic_write(APIC_TIMER_DCR, 0xb);
    apic_write(APIC_LVT_TIMER, VEC_TIMER);
    apic_write(APIC_TIMER_ICR, count);
}

/* no interrupt of ours left requested or in service */
static void assert_apic_quiet(void)
{
    static const unsigned vecs[] = {VEC_SELF, VEC_TIMER, VEC_INJ, VEC_NP};
    for (unsigned k = 0; k < 4; k++) {
        ASSERT_EQ(apic_bit(APIC_IRR, vecs[k]), 0);
        ASSERT_EQ(apic_bit(APIC_ISR, vecs[k]), 0);
    }
}

/* an IRET to the next instruction: ends the host's blocking by NMI */
static void host_iret(void)
{
    __asm__ volatile("mov %%rsp, %%rax\n\t"
                     "mov %%ss, %%ecx\n\t"
                     "push %%rcx\n\t"
                     "push %%rax\n\t"
                     "pushfq\n\t"
                     "mov %%cs, %%ecx\n\t"
                     "push %%rcx\n\t"
                     "lea 1f(%%rip), %%rax\n\t"
                     "push %%rax\n\t"
                     "iretq\n"
                     "1:"
                     ::: "rax", "rcx", "memory", "cc");
}

static void setup(void (*rip)(void))
{
    vmx_setup_guest(rip, GUEST_RSP);
    vmwrite(VMCS_GUEST_IDTR_BASE, (uintptr_t)guest_idt);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
    memset((void *)&g_ev, 0, sizeof(g_ev));
    g_ev.vec = ~0ull;
}

static void set_ctl(uint64_t field, uint32_t bits)
{
    vmwrite(field, vmread(field) | bits);
}

static void clear_ctl(uint64_t field, uint32_t bits)
{
    vmwrite(field, vmread(field) & ~(uint64_t)bits);
}

/* the guest's handler ran: its VMCALL exited */
static void expect_handler(uint64_t vec, uint64_t err, uint64_t rip)
{
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_handler_vmcall);
    ASSERT_EQ(g_ev.vec, vec);
    ASSERT_EQ(g_ev.err, err);
    ASSERT_EQ(g_ev.rip, rip);
    ASSERT_EQ(g_ev.cs, SEL_CODE);
}

static void expect_no_vectoring(void)
{
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO) >> 31, 0);
}

/* ---- capabilities ---- */

static void test_capabilities(void)
{
    /* allowed-1 settings (bits 63:32): external-interrupt exiting 0,
     * NMI exiting 3, virtual NMIs 5; interrupt-window exiting 2,
     * NMI-window exiting 22; acknowledge interrupt on exit 15 */
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_PINBASED) >> 32) & 0x29, 0x29);
    ASSERT_EQ((rdmsr(MSR_VMX_PINBASED) >> 32) & 0x29, 0x29);
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_PROCBASED) >> 32) & 0x400004, 0x400004);
    ASSERT_EQ((rdmsr(MSR_VMX_TRUE_EXIT) >> 32) & 0x8000, 0x8000);
    /* none of them is a default1 bit */
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_TRUE_PINBASED) & 0x29, 0);
    ASSERT_EQ((uint32_t)rdmsr(MSR_VMX_TRUE_PROCBASED) & 0x400004, 0);
    /* IA32_VMX_MISC bits 8:6: activity states HLT, shutdown and
     * wait-for-SIPI (A.6) */
    ASSERT_EQ((rdmsr(MSR_VMX_MISC) >> 6) & 7, 7);
}

/* ---- external interrupts (25.2, 27.2.2) ---- */

static void test_extint_exit_ack(void)
{
    /* the interrupt is pending before VMLAUNCH: it is evaluated at VM
     * entry and the exit comes before the guest's first instruction,
     * whatever the guest's RFLAGS.IF */
    static const uint64_t rflags[2] = {0x2, 0x202};
    for (int k = 0; k < 2; k++) {
        setup(g_vmcall);
        set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
        set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
        vmwrite(VMCS_GUEST_RFLAGS, rflags[k]);
        self_ipi(VEC_SELF);
        ASSERT_EQ(apic_bit(APIC_IRR, VEC_SELF), 1);
        ASSERT_EQ(vmx_launch_exit(), EXIT_EXTINT);
        /* 27.2.2: vector 40H, type 0 (external interrupt), valid */
        ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000040);
        ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
        ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), rflags[k]);
        ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 0);
        ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
        expect_no_vectoring();
        /* acknowledged: in service, no longer requested */
        ASSERT_EQ(apic_bit(APIC_IRR, VEC_SELF), 0);
        ASSERT_EQ(apic_bit(APIC_ISR, VEC_SELF), 1);
        ASSERT_EQ(read_flags() & 0x200, 0); /* the host runs with IF = 0 */
        apic_write(APIC_EOI, 0);
        assert_apic_quiet();
    }
}

static void test_extint_exit_noack(void)
{
    setup(g_vmcall);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
    self_ipi(VEC_SELF);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXTINT);
    /* without "acknowledge interrupt on exit" the interruption
     * information is invalid and the interrupt stays requested */
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO) >> 31, 0);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(apic_bit(APIC_IRR, VEC_SELF), 1);
    ASSERT_EQ(apic_bit(APIC_ISR, VEC_SELF), 0);
    /* without external-interrupt exiting and with IF = 1, the guest
     * takes it through its own IDT as soon as it is entered */
    clear_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    expect_handler(VEC_SELF, 0, (uintptr_t)g_vmcall);
    ASSERT_EQ(g_ev.rflags, 0x202);
    ASSERT_EQ(g_ev.rsp, GUEST_RSP);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x200, 0); /* interrupt gate: IF = 0 */
    ASSERT_EQ(apic_bit(APIC_ISR, VEC_SELF), 1);
    apic_write(APIC_EOI, 0);
    /* with IF = 0 and no exiting, the interrupt waits: the guest runs */
    setup(g_vmcall);
    self_ipi(VEC_SELF);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(g_ev.count, 0);
    ASSERT_EQ(apic_bit(APIC_IRR, VEC_SELF), 1);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    expect_handler(VEC_SELF, 0, (uintptr_t)g_vmcall);
    apic_write(APIC_EOI, 0);
    assert_apic_quiet();
}

/* ---- HLT (trap list: HLT must wake for the exits) ---- */

static void test_hlt_wakes(void)
{
    /* guest HLT with IF = 0 and no HLT exiting halts the guest; the
     * timer's interrupt exits (external-interrupt exiting ignores IF)
     * with activity state HLT saved and RIP after the HLT */
    setup(g_hlt);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
    set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
    timer_oneshot(100000);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXTINT);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000041);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_hlt_next);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 1);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x2);
    apic_write(APIC_EOI, 0);
    /* the VMM makes it active again; it goes on after the HLT */
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_hlt_next);

    /* STI; HLT with interrupt-window exiting: HLT runs in the STI
     * shadow, then the window opens and wakes the HLT state */
    setup(g_sti_hlt);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_sti_hlt_next);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 1);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x202);
    assert_apic_quiet();
}

static void test_activity_hlt_entry(void)
{
    /* VM entry into the HLT state (26.7.2): the guest waits with IF = 1
     * until the timer's interrupt, which its IDT delivers; the frame's
     * RIP is the guest RIP of the entry */
    setup(g_vmcall);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    timer_oneshot(100000);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(VEC_TIMER, 0, (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 0);
    apic_write(APIC_EOI, 0);

    /* HLT state with IF = 0 and external-interrupt exiting: exit 1,
     * activity state HLT saved, RIP unchanged */
    setup(g_vmcall);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
    set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
    timer_oneshot(100000);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXTINT);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000041);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 1);
    apic_write(APIC_EOI, 0);
    /* VMRESUME into the saved HLT state with an interrupt window open:
     * the window exit wakes it at once (26.7.5) */
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_resume_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 1);

    /* a vectoring entry ends active whatever the activity state says:
     * an injected NMI is delivered in the HLT state (26.7.2) */
    setup(g_vmcall);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(2, 0, (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_ACTIVITY_STATE), 0);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8); /* blocking by NMI */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL); /* the handler's IRET */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    assert_apic_quiet();
}

/* a CPL-3 guest (for #AC and the SS.DPL check on the HLT state) */
static void setup_user(void (*rip)(void))
{
    setup(rip);
    vmwrite(VMCS_GUEST_CS_SELECTOR, RT_SEL_UCODE64 | 3);
    vmwrite(VMCS_GUEST_CS_AR, 0xa0fb); /* code, S, DPL 3, P, L, G */
    vmwrite(VMCS_GUEST_SS_SELECTOR, RT_SEL_UDATA | 3);
    vmwrite(VMCS_GUEST_SS_AR, 0xc0f3); /* data, S, DPL 3, P, D/B, G */
    vmwrite(VMCS_GUEST_RSP, (uintptr_t)(g_user_stack + sizeof(g_user_stack)));
    rt_tss.rsp[0] = (uintptr_t)(guest_kstack + sizeof(guest_kstack));
}

static void test_activity_hlt_checks(void)
{
    /* 26.3.1.5: the HLT state needs SS.DPL = 0 */
    setup_user(g_ac);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    ASSERT_EQ(vmx_run(1), VMX_OK);
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), ENTRY_FAIL_GUEST);
    /* the same guest in the active state enters (control case) */
    setup_user(g_ac);
    vmwrite(VMCS_EXCEPTION_BITMAP, ~0u);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    /* HLT state injecting an external interrupt or #DB is allowed */
    setup(g_vmcall);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000000 | VEC_INJ);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(VEC_INJ, 0, (uintptr_t)g_vmcall);
    setup(g_vmcall);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, 1);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000301);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(1, 0, (uintptr_t)g_vmcall);
}

/* ---- interrupt-window exiting (25.2, 26.7.5) ---- */

static void test_intr_window(void)
{
    /* IF = 1 and no blocking: the exit comes before the first instruction */
    setup(g_nop2);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nop2);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO) >> 31, 0);
    expect_no_vectoring();
    /* blocking by STI (1) or by MOV SS (2) holds it for one instruction */
    for (uint64_t block = 1; block <= 2; block++) {
        setup(g_nop2);
        set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
        vmwrite(VMCS_GUEST_RFLAGS, 0x202);
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, block);
        ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nop2 + 1);
        ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    }
    /* IF = 0: STI opens the window after its shadow */
    setup(g_sti);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_sti_open);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x202);
    /* POPF setting IF opens it at the next instruction */
    setup(g_popf);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_popf_open);
    /* IF = 0 throughout: no exit */
    setup(g_nop2);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);

    /* the exit follows event injection (26.7.5): an external interrupt
     * injected through a trap gate (IF stays 1) exits at the handler's
     * first instruction, its frame on the guest stack */
    setup(g_vmcall);
    guest_gate(VEC_INJ, 0x8f);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000000 | VEC_INJ);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), stub(VEC_INJ));
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), GUEST_RSP - 40);
    ASSERT_EQ(vmread(VMCS_ENTRY_INTR_INFO) >> 31, 0);
    guest_gate(VEC_INJ, 0x8e);
    /* a vectoring entry leaves no blocking by STI (26.7.1): an injected
     * #BP (type 6, length 1) through a trap gate, with blocking by STI
     * in the interruptibility field, still exits at the first handler
     * instruction */
    setup(g_vmcall);
    guest_gate(3, 0x8f);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 1);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000603);
    vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, 1);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), stub(3));
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    guest_gate(3, 0x8e);

    /* priority (25.2): an interrupt-window exit comes before an external
     * interrupt's exit */
    setup(g_vmcall);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_EXTINT);
    set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    self_ipi(VEC_SELF);
    ASSERT_EQ(vmx_launch_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(apic_bit(APIC_IRR, VEC_SELF), 1);
    clear_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    ASSERT_EQ(vmx_resume_exit(), EXIT_EXTINT);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000040);
    apic_write(APIC_EOI, 0);
    assert_apic_quiet();
}

/* an instruction that exits in the shadow of STI or MOV SS did not
 * complete: the saved interruptibility state still has the blocking
 * (27.3.4), so that VMRESUME gives the shadow back */
static void test_shadow_saved(void)
{
    setup(g_sti_cpuid);
    ASSERT_EQ(vmx_launch_exit(), 10); /* CPUID */
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_sti_cpuid_at);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 1); /* blocking by STI */
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x202);
    /* re-entered in the shadow, an open interrupt window still waits
     * for the instruction */
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    ASSERT_EQ(vmx_resume_exit(), 10);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 1);
    /* skipped with the blocking kept, the NOP after it runs in the
     * shadow and the window opens after the NOP */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), EXIT_INTR_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_sti_cpuid_at + 3);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    setup(g_movss_cpuid);
    ASSERT_EQ(vmx_launch_exit(), 10);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_movss_cpuid_at);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 2); /* blocking by MOV SS */
}

/* ---- NMIs, NMI exiting, virtual NMIs, NMI-window exiting ---- */

static void test_nmi_exiting(void)
{
    rt_idt_set_gate(2, (uintptr_t)host_nmi_entry, 0x8E, 0);
    apic_write(APIC_SVR, 0x1ff);
    host_nmi_count = 0;
    /* the guest sends itself an NMI: exit 0 at the next instruction */
    setup(g_nmi);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    /* 27.2.2: vector 2, type 2 (NMI), valid */
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000202);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nmi_after);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0);
    expect_no_vectoring();
    ASSERT_EQ(g_ev.count, 0);
    /* 27.5.5: an exit caused by an NMI leaves NMIs blocked until IRET */
    apic_write(APIC_ICR_LO, ICR_NMI_SELF);
    ASSERT_EQ(host_nmi_count, 0);
    /* priority: the held NMI exits before an open interrupt window */
    setup(g_vmcall);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_INTR_WINDOW);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000202);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmx_resume_exit(), EXIT_INTR_WINDOW);
    host_iret();
    ASSERT_EQ(host_nmi_count, 0);

    /* blocking by NMI at entry with NMI exiting lasts through the
     * guest's IRET (26.7.1): the NMI is held until after the exit */
    setup(g_nmi_iret);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 8);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nmi_iret_done + 1);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8);
    ASSERT_EQ(host_nmi_count, 0); /* the host inherits the blocking */
    host_iret();
    ASSERT_EQ(host_nmi_count, 1);
}

static void test_nmi_in_guest(void)
{
    /* without NMI exiting the guest IDT takes the NMI; blocking by NMI
     * lasts until the guest's IRET */
    host_nmi_count = 0;
    setup(g_nmi);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(2, 0, (uintptr_t)g_nmi_after);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8);
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nmi_after + 1);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    ASSERT_EQ(host_nmi_count, 0);
}

static void test_virtual_nmis(void)
{
    host_nmi_count = 0;
    /* no virtual-NMI blocking: the NMI-window exit comes at once */
    setup(g_nop2);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI | PIN_VNMI);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_NMI_WINDOW);
    ASSERT_EQ(vmx_launch_exit(), EXIT_NMI_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nop2);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO) >> 31, 0);
    expect_no_vectoring();
    /* with virtual-NMI blocking (bit 3) the window opens after IRET */
    setup(g_iret);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI | PIN_VNMI);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_NMI_WINDOW);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 8);
    ASSERT_EQ(vmx_launch_exit(), EXIT_NMI_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_iret_done);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    /* an injected NMI blocks virtual NMIs (26.6.1.1) until its handler's
     * IRET; then the window exit comes at the interrupted RIP */
    setup(g_vmcall);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI | PIN_VNMI);
    set_ctl(VMCS_PROC_BASED_CONTROLS, PROC_NMI_WINDOW);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(2, 0, (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8); /* virtual-NMI blocking */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), EXIT_NMI_WINDOW);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    /* a real NMI is not blocked by virtual-NMI blocking: it exits */
    setup(g_nmi);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI | PIN_VNMI);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 8);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000202);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_nmi_after);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8);
    host_iret();
    ASSERT_EQ(host_nmi_count, 0);
}

static void test_nmi_unblocking_iret(void)
{
    /* 27.2.2 bit 12: a fault of an IRET that removed virtual-NMI
     * blocking, and the blocking is already gone in the saved state */
    for (int blocked = 0; blocked < 2; blocked++) {
        setup(g_iret_bad);
        set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI | PIN_VNMI);
        vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY, blocked ? 8 : 0);
        ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
        ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), blocked ? 0x80001b0d : 0x80000b0d);
        ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_iret_bad_at);
        ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    }
    /* the same with blocking by NMI (neither NMI exiting nor virtual NMIs) */
    setup(g_iret_bad);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 8);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80001b0d);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    /* a fault elsewhere does not set it */
    setup(g_gp);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 8);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0d);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8);
    host_iret(); /* the host inherited blocking by NMI */
}

/* ---- event injection (26.6) ---- */

static void test_injection(void)
{
    /* external interrupt: needs IF = 1; the frame holds the guest's RIP,
     * RFLAGS and RSP */
    setup(g_vmcall);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000000 | VEC_INJ);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(VEC_INJ, 0, (uintptr_t)g_vmcall);
    ASSERT_EQ(g_ev.rflags, 0x202);
    ASSERT_EQ(g_ev.rsp, GUEST_RSP);
    ASSERT_EQ(g_ev.ss, RT_SEL_DATA);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), GUEST_RSP - 56); /* frame, vector, RAX push gone */
    ASSERT_EQ(vmread(VMCS_ENTRY_INTR_INFO) >> 31, 0);  /* cleared by the exit */
    assert_apic_quiet(); /* injection does not touch the APIC */
    /* the handler's IRET returns to the guest RIP */
    vmx_skip_insn();
    ASSERT_EQ(vmx_resume_exit(), EXIT_VMCALL);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), GUEST_RSP);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS), 0x202);

    /* NMI: blocking by NMI after delivery; injection never exits, not
     * even with NMI exiting (26.6.1.2) */
    setup(g_vmcall);
    set_ctl(VMCS_PIN_BASED_CONTROLS, PIN_NMI);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000202);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(2, 0, (uintptr_t)g_vmcall);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8);
    host_iret();

    /* hardware exception with an error code, even with its
     * exception-bitmap bit set */
    setup(g_vmcall);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000b0d);
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x1234);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(13, 0x1234, (uintptr_t)g_vmcall);
    /* #PF: CR2 is the VMM's business, injection leaves it */
    setup(g_vmcall);
    write_cr2(0x5678);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000b0e);
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 6);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(14, 6, (uintptr_t)g_vmcall);
    ASSERT_EQ(g_ev.cr2, 0x5678);

    /* software interrupt, software exception, privileged software
     * exception: the return address is RIP + the instruction length */
    static const struct {
        uint32_t info, len, vec;
    } soft[] = {
        {0x80000480, 2, 0x80}, /* INT 80H, type 4 */
        {0x80000603, 1, 3},    /* #BP, type 6 */
        {0x80000501, 1, 1},    /* INT1, type 5 */
        {0x80000604, 1, 4},    /* #OF, type 6 */
    };
    for (unsigned k = 0; k < sizeof(soft) / sizeof(soft[0]); k++) {
        setup(g_vmcall);
        vmwrite(VMCS_EXCEPTION_BITMAP, ~0u);
        vmwrite(VMCS_ENTRY_INTR_INFO, soft[k].info);
        vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, soft[k].len);
        ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
        expect_handler(soft[k].vec, 0, (uintptr_t)g_vmcall + soft[k].len);
    }
    /* a software interrupt checks the gate's DPL against CPL: a DPL-0
     * gate from CPL 3 is #GP(vector * 8 + 2) */
    setup_user(g_ac);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 13);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000480);
    vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, 2);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0d);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0x80 * 8 + 2);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000480);
    ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), 2);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_ac);
}

/* ---- exception routing (25.2) ---- */

struct exc_case {
    const char *name;
    void (*code)(void);
    uintptr_t at;      /* the faulting instruction, or the trapping one */
    uintptr_t frame;   /* the RIP the guest handler's frame holds */
    unsigned vec, type; /* type 3 hardware, 5 privileged software, 6 software */
    bool has_err;
    uint32_t err;
    uint64_t cr0_or, cr4_or;
};

static void run_exc_case(const struct exc_case *k)
{
    /* bitmap bit clear: the guest's IDT gets it */
    for (int exits = 0; exits < 2; exits++) {
        setup(k->code);
        vmwrite(VMCS_GUEST_CR0, vmread(VMCS_GUEST_CR0) | k->cr0_or);
        vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | k->cr4_or);
        vmwrite(VMCS_EXCEPTION_BITMAP, exits ? 1u << k->vec : ~(1u << k->vec));
        vmwrite(VMCS_PAGE_FAULT_ERROR_MASK, 0);
        vmwrite(VMCS_PAGE_FAULT_ERROR_MATCH, 0);
        uint32_t r = vmx_launch_exit();
        if (!exits) {
            if (r != EXIT_VMCALL || g_ev.vec != k->vec)
                rt_fail(RT_FILE, __LINE__, "%s: exit %u, guest vector %lld", k->name, r,
                        (long long)g_ev.vec);
            expect_handler(k->vec, k->err, k->frame);
            /* a fault's frame has RF = 1 (SDM 17.3.1.1), a trap's not */
            ASSERT_EQ(g_ev.rflags & 0x10000, k->type == 3 ? 0x10000 : 0);
            continue;
        }
        if (r != EXIT_EXC_NMI)
            rt_fail(RT_FILE, __LINE__, "%s: exit reason %u", k->name, r);
        uint32_t info = k->vec | (k->type << 8) | (k->has_err ? 1u << 11 : 0) | (1u << 31);
        ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), info);
        if (k->has_err)
            ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), k->err);
        ASSERT_EQ(vmread(VMCS_GUEST_RIP), k->at);
        /* 27.3.3: the RF the delivery would have pushed */
        ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x10000, k->type == 3 ? 0x10000 : 0);
        if (k->type != 3) /* software exceptions: their length (27.2.4) */
            ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), k->frame - k->at);
        expect_no_vectoring();
        ASSERT_EQ(g_ev.count, 0);
    }
}

static void test_exception_routing(void)
{
    /* a not-present data descriptor for #NP */
    rt_gdt_set(RT_SEL_SPARE, 0x00cf13000000ffffull);
    const struct exc_case cases[] = {
        {"#DE", g_de, (uintptr_t)g_de_at, (uintptr_t)g_de_at, 0, 3, false, 0, 0, 0},
        {"INT1", g_icebp, (uintptr_t)g_icebp, (uintptr_t)g_icebp_next, 1, 5, false, 0, 0, 0},
        {"INT3", g_bp, (uintptr_t)g_bp, (uintptr_t)g_bp_next, 3, 6, false, 0, 0, 0},
        {"#UD", g_ud, (uintptr_t)g_ud, (uintptr_t)g_ud, 6, 3, false, 0, 0, 0},
        {"#NM", g_nm, (uintptr_t)g_nm_at, (uintptr_t)g_nm_at, 7, 3, false, 0, 0xa, 0},
        {"#NP", g_np, (uintptr_t)g_np_at, (uintptr_t)g_np_at, 11, 3, true, 0x70, 0, 0},
        {"#SS", g_ss, (uintptr_t)g_ss_at, (uintptr_t)g_ss_at, 12, 3, true, 0, 0, 0},
        {"#GP", g_gp, (uintptr_t)g_gp_at, (uintptr_t)g_gp_at, 13, 3, true, 0, 0, 0},
        {"#PF", g_pf, (uintptr_t)g_pf_at, (uintptr_t)g_pf_at, 14, 3, true, 0, 0, 0},
        {"#MF", g_mf, (uintptr_t)g_mf_at, (uintptr_t)g_mf_at, 16, 3, false, 0, 0, 0},
        {"#XM", g_xm, (uintptr_t)g_xm_at, (uintptr_t)g_xm_at, 19, 3, false, 0, 0, 0x600},
    };
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
        run_exc_case(&cases[k]);
    __asm__ volatile("fninit");
    /* INT 3 (CD 03) is a software interrupt: the bitmap does not apply */
    setup(g_int3cd);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 3);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(3, 0, (uintptr_t)g_int3cd_next);
}

static void test_alignment_check(void)
{
    /* #AC at CPL 3 (CR0.AM, RFLAGS.AC): exits with error code 0, or
     * reaches the guest's handler through the TSS's RSP0 */
    for (int exits = 0; exits < 2; exits++) {
        setup_user(g_ac);
        vmwrite(VMCS_GUEST_CR0, vmread(VMCS_GUEST_CR0) | (1ul << 18));
        vmwrite(VMCS_EXCEPTION_BITMAP, exits ? 1u << 17 : 0);
        uint32_t r = vmx_launch_exit();
        if (exits) {
            ASSERT_EQ(r, EXIT_EXC_NMI);
            ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b11);
            ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
            ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_ac_at);
            ASSERT_EQ(vmread(VMCS_GUEST_CS_SELECTOR), RT_SEL_UCODE64 | 3);
        } else {
            ASSERT_EQ(r, EXIT_VMCALL);
            ASSERT_EQ(g_ev.vec, 17);
            ASSERT_EQ(g_ev.err, 0);
            ASSERT_EQ(g_ev.rip, (uintptr_t)g_ac_at);
            ASSERT_EQ(g_ev.cs, RT_SEL_UCODE64 | 3);
            ASSERT_EQ(g_ev.ss, RT_SEL_UDATA | 3);
            ASSERT_EQ(g_ev.rsp, (uintptr_t)(g_user_stack + sizeof(g_user_stack)));
        }
    }
}

static uint64_t read_dr6(void)
{
    uint64_t v;
    __asm__ volatile("mov %%dr6, %0" : "=r"(v));
    return v;
}

static void test_debug_exceptions(void)
{
    __asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff0ull));
    /* single step: a trap after the instruction that follows the POPF
     * setting TF; the exit's qualification has BS (bit 14), and DR6 is
     * left alone (27.1) */
    setup(g_tf);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 1);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000301);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x4000);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_tf_next);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x100, 0x100);
    ASSERT_EQ(read_dr6(), 0xffff0ff0);
    /* INT n with TF = 1: the handler runs with TF = 0 and no #DB comes
     * after the INT (SDM 17.3.1.4) */
    setup(g_tf_int);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 1);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(0x80, 0, (uintptr_t)g_tf_int + 12);
    ASSERT_EQ(g_ev.rflags & 0x100, 0x100);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x100, 0);
    /* without the bitmap bit the guest's handler sees DR6.BS */
    setup(g_tf);
    ASSERT_EQ(vmx_launch_exit(), EXIT_VMCALL);
    expect_handler(1, 0, (uintptr_t)g_tf_next);
    ASSERT_EQ(read_dr6() & 0x4000, 0x4000);
    __asm__ volatile("mov %0, %%dr6" ::"r"(0xffff0ff0ull));
    /* an instruction breakpoint (DR0, DR7.L0 from the guest DR7 field):
     * a fault, qualification B0 */
    setup(g_brk);
    __asm__ volatile("mov %0, %%dr0" ::"r"((uint64_t)(uintptr_t)g_brk_at));
    set_ctl(VMCS_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG);
    vmwrite(VMCS_GUEST_DR7, 0x401);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 1);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000301);
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), 0x1);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_brk_at);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x10000, 0); /* RF as it was (27.3.3) */
    ASSERT_EQ(read_dr6(), 0xffff0ff0);
    __asm__ volatile("mov %0, %%dr0" ::"r"(0ull));
}

/* ---- IDT-vectoring information (27.2.3) ---- */

/* a #PF exit while the guest pushes a frame onto an unmapped stack */
static void expect_push_fault(uint32_t vectoring, uint32_t vectoring_err, uintptr_t rip,
                              uint32_t len)
{
    ASSERT_EQ(vmread(VMCS_EXIT_REASON), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0e);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 2); /* write, not present */
    ASSERT_EQ(vmread(VMCS_EXIT_QUALIFICATION), UNMAPPED_RSP - 8);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), vectoring);
    if (vectoring & (1u << 11))
        ASSERT_EQ(vmread(VMCS_IDT_VECTORING_ERROR_CODE), vectoring_err);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), rip);
    ASSERT_EQ(vmread(VMCS_GUEST_RSP), UNMAPPED_RSP);
    ASSERT_EQ(vmread(VMCS_GUEST_RFLAGS) & 0x10000, 0x10000); /* the #PF is a fault */
    if (len)
        ASSERT_EQ(vmread(VMCS_EXIT_INSTRUCTION_LEN), len);
    ASSERT_EQ(g_ev.count, 0);
}

static void setup_unmapped_stack(void (*rip)(void))
{
    setup(rip);
    vmwrite(VMCS_GUEST_RSP, UNMAPPED_RSP);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 14);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MASK, 0);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MATCH, 0);
}

static void test_idt_vectoring(void)
{
    uint64_t cr2 = 0x2468;
    write_cr2(cr2);
    /* an external interrupt (type 0) */
    setup_unmapped_stack(g_vmcall);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    self_ipi(VEC_SELF);
    vmx_launch_exit();
    expect_push_fault(0x80000040, 0, (uintptr_t)g_vmcall, 0);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0);
    ASSERT_EQ(read_cr2(), cr2);
    ASSERT_EQ(apic_bit(APIC_ISR, VEC_SELF), 1); /* it was acknowledged */
    apic_write(APIC_EOI, 0);
    /* an injected external interrupt */
    setup_unmapped_stack(g_vmcall);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000000 | VEC_INJ);
    vmx_launch_exit();
    expect_push_fault(0x80000042, 0, (uintptr_t)g_vmcall, 0);
    /* an injected hardware exception with its error code */
    setup_unmapped_stack(g_vmcall);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000b0d);
    vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x1234);
    vmx_launch_exit();
    expect_push_fault(0x80000b0d, 0x1234, (uintptr_t)g_vmcall, 0);
    /* an injected software interrupt: the VM-exit instruction length is
     * the VM-entry one (27.2.4), the RIP the guest's */
    setup_unmapped_stack(g_vmcall);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0x80000480);
    vmwrite(VMCS_ENTRY_INSTRUCTION_LEN, 3);
    vmx_launch_exit();
    expect_push_fault(0x80000480, 0, (uintptr_t)g_vmcall, 3);
    /* INT 80H (type 4), INT3 (type 6), INT1 (type 5): their lengths */
    setup_unmapped_stack(g_int80);
    vmx_launch_exit();
    expect_push_fault(0x80000480, 0, (uintptr_t)g_int80, 2);
    setup_unmapped_stack(g_bp);
    vmx_launch_exit();
    expect_push_fault(0x80000603, 0, (uintptr_t)g_bp, 1);
    setup_unmapped_stack(g_icebp);
    vmx_launch_exit();
    expect_push_fault(0x80000501, 0, (uintptr_t)g_icebp, 1);
    /* #PF while delivering #GP(0): handled serially, the bitmap's #PF
     * exits with #GP as the IDT-vectoring event */
    setup_unmapped_stack(g_gp);
    vmx_launch_exit();
    expect_push_fault(0x80000b0d, 0, (uintptr_t)g_gp_at, 0);
    /* an NMI: blocking by NMI is in effect before the exit (27.1) */
    setup_unmapped_stack(g_nmi);
    vmx_launch_exit();
    expect_push_fault(0x80000202, 0, (uintptr_t)g_nmi_after, 0);
    ASSERT_EQ(vmread(VMCS_GUEST_INTERRUPTIBILITY), 8);
    host_iret();
    /* a not-present gate: #NP(vector * 8 + 2 + EXT) exits, the
     * interrupt is the IDT-vectoring event */
    setup(g_vmcall);
    guest_gate(VEC_NP, 0x0e);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 11);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);
    self_ipi(VEC_NP);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0b);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), VEC_NP * 8 + 3);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000000 | VEC_NP);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_vmcall);
    guest_gate(VEC_NP, 0x8e);
    apic_write(APIC_EOI, 0);
    assert_apic_quiet();
}

static void test_double_fault(void)
{
    /* #PF (read, error 0) whose delivery meets #PF (write, error 2):
     * with only #DF in the bitmap, the #DF exits directly — error code
     * 0 and no IDT-vectoring information (27.2.3) */
    setup_unmapped_stack(g_pf);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 8);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b08);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
    expect_no_vectoring();
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_pf_at);
    /* the bitmap sees the second exception before it becomes #DF: only
     * write faults exit (mask 2, match 2), so the read #PF is delivered
     * and the write #PF of its delivery exits, #PF(0) the IDT-vectoring
     * event */
    setup_unmapped_stack(g_pf);
    vmwrite(VMCS_EXCEPTION_BITMAP, (1u << 14) | (1u << 8));
    vmwrite(VMCS_PAGE_FAULT_ERROR_MASK, 2);
    vmwrite(VMCS_PAGE_FAULT_ERROR_MATCH, 2);
    vmx_launch_exit();
    expect_push_fault(0x80000b0e, 0, (uintptr_t)g_pf_at, 0);
    /* #DF not in the bitmap: delivering it fails too — a triple fault,
     * which exits without IDT-vectoring information */
    setup_unmapped_stack(g_pf);
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    ASSERT_EQ(vmx_launch_exit(), EXIT_TRIPLE);
    expect_no_vectoring();
    /* an exception while delivering #DF exits with #DF (error code 0)
     * as the IDT-vectoring event: #GP(0) whose gate names a data
     * segment meets #GP(70H + EXT) — contributory twice, #DF — and the
     * #DF gate is not present: #NP(8 * 8 + 2 + EXT) */
    rt_gdt_set(RT_SEL_SPARE, 0x00cf13000000ffffull);
    setup(g_gp);
    guest_gate(13, 0x8e);
    guest_idt[13].sel = RT_SEL_SPARE;
    guest_gate(8, 0x0e);
    vmwrite(VMCS_EXCEPTION_BITMAP, 1u << 11);
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0b);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0x43);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_INFO), 0x80000b08);
    ASSERT_EQ(vmread(VMCS_IDT_VECTORING_ERROR_CODE), 0);
    ASSERT_EQ(vmread(VMCS_GUEST_RIP), (uintptr_t)g_gp_at);
    /* with #GP in the bitmap the instruction's #GP exits directly */
    setup(g_gp);
    vmwrite(VMCS_EXCEPTION_BITMAP, (1u << 13) | (1u << 8));
    ASSERT_EQ(vmx_launch_exit(), EXIT_EXC_NMI);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_INFO), 0x80000b0d);
    ASSERT_EQ(vmread(VMCS_EXIT_INTR_ERROR_CODE), 0);
    expect_no_vectoring(); /* the first #GP itself exits: not during delivery */
    guest_gate(13, 0x8e);
    guest_gate(8, 0x8e);
}

void test_main(void)
{
    for (unsigned v = 0; v < 256; v++)
        guest_gate(v, 0x8e);
    apic_write(APIC_SVR, 0x1ff); /* APIC software-enabled */
    vmx_enable();
    RUN_TEST(test_capabilities);
    RUN_TEST(test_extint_exit_ack);
    RUN_TEST(test_extint_exit_noack);
    RUN_TEST(test_hlt_wakes);
    RUN_TEST(test_activity_hlt_entry);
    RUN_TEST(test_activity_hlt_checks);
    RUN_TEST(test_intr_window);
    RUN_TEST(test_shadow_saved);
    RUN_TEST(test_nmi_exiting);
    RUN_TEST(test_nmi_in_guest);
    RUN_TEST(test_virtual_nmis);
    RUN_TEST(test_nmi_unblocking_iret);
    RUN_TEST(test_injection);
    RUN_TEST(test_exception_routing);
    RUN_TEST(test_alignment_check);
    RUN_TEST(test_debug_exceptions);
    RUN_TEST(test_idt_vectoring);
    RUN_TEST(test_double_fault);
    vmx_disable();
}
