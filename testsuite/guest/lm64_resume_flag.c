/*
 * lm64_resume_flag: RFLAGS.RF in the saved image of each kind of event
 * (SDM Vol. 3A 17.3.1.1, "Instruction-Breakpoint Exception Condition"):
 * a fault-class exception saves RF = 1, so that the handler's IRET
 * restarts the instruction without hitting its instruction breakpoint
 * again; traps (INT3, INT n) and interrupts save RF as it is. An IRET
 * that loads RF = 1 covers exactly one instruction: the processor clears
 * RF when that instruction completes, with or without debug registers
 * in use, while an interrupt taken before it saves RF = 1.
 */
#include "ev_hook64.h"
#include "rt.h"

#define RF (1ull << 16)
#define TF (1ull << 8)
#define IF (1ull << 9)

#define APIC_BASE 0xfee00000ul
#define APIC_SVR 0xf0
#define APIC_EOI 0xb0
#define APIC_ICR_LO 0x300
#define VEC_SOFT 0x40 /* INT n target */
#define VEC_IPI 0x41  /* fixed self-IPI */

/* ---- a logging handler for the vectors the runtime does not catch ---- */

#define EV_MAX 4
static volatile struct {
    uint64_t vec, rip, rflags;
} ev[EV_MAX];
static volatile unsigned ev_count;

void ev_record(struct ev_frame *f)
{
    unsigned n = ev_count++;
    if (n < EV_MAX) {
        ev[n].vec = f->vec;
        ev[n].rip = f->rip;
        ev[n].rflags = f->rflags;
    }
    if (f->vec == VEC_IPI)
        *(volatile uint32_t *)(APIC_BASE + APIC_EOI) = 0;
    f->rflags &= ~TF;
}

__asm__(".text\n" EV_COMMON_ASM EV_ENTRY_ASM(ev_bp_entry, 3)
        EV_ENTRY_ASM(ev_soft_entry, 0x40) EV_ENTRY_ASM(ev_ipi_entry, 0x41));
extern char ev_bp_entry[], ev_soft_entry[], ev_ipi_entry[];

static void ev_reset(void)
{
    ev_count = 0;
    for (unsigned k = 0; k < EV_MAX; k++)
        ev[k].vec = ev[k].rip = ev[k].rflags = 0;
}

/* The saved RF must be 'want' (0 or RF). QEMU 7.2 TCG neither sets RF
 * in the image a fault saves nor clears an RF that IRET loaded: under
 * qemu-tcg a wrong RF is noted, not failed. */
#define ASSERT_RF(flags, want) check_rf((flags), (want), __LINE__)
static void check_rf(uint64_t flags, uint64_t want, int line)
{
    if ((flags & RF) == want)
        return;
    if (rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: line %d: saved RF = %d where SDM 17.3.1.1 has %d\n", line,
                  want ? 0 : 1, want ? 1 : 0);
        return;
    }
    rt_fail(RT_FILE, line, "saved RFLAGS 0x%llx: RF should be %d", (unsigned long long)flags,
            want ? 1 : 0);
}

/* ---- fault-class exceptions: RF = 1 in the saved RFLAGS ---- */

static void expect_rf_fault(int v, int vec, uintptr_t insn)
{
    ASSERT_EQ(v, vec);
    ASSERT_EQ(rt_fault.ip, insn);              /* a fault: RIP at the instruction */
    ASSERT_RF(rt_fault.flags, RF);
}

static void test_de(void)
{
    uintptr_t insn;
    uint64_t zero = 0;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN
                      "xor %%eax, %%eax\n\txor %%edx, %%edx\n"
                      "8764: divq %1" RT_CATCH_END
                      : "=&r"(insn) : "r"(zero) : "rax", "rdx", "memory");
    expect_rf_fault(v, VEC_DE, insn);
}

static void test_ud(void)
{
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: ud2" RT_CATCH_END
                      : "=&r"(insn)::"memory");
    expect_rf_fault(v, VEC_UD, insn);
}

static void test_gp(void)
{
    uintptr_t insn;
    uint64_t val;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: movq (%2), %1" RT_CATCH_END
                      : "=&r"(insn), "=r"(val) : "r"(0x8000000000000000ull) : "memory");
    expect_rf_fault(v, VEC_GP, insn);
}

/* a non-canonical address formed with RSP as the base: #SS(0) */
static void test_ss(void)
{
    uintptr_t insn;
    uint64_t val;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: movq (%%rsp,%2), %1" RT_CATCH_END
                      : "=&r"(insn), "=r"(val) : "r"(0x8000000000000000ull) : "memory");
    if (v == VEC_GP && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: #GP for a non-canonical RSP-based reference (SDM 6.15: #SS)\n");
        return;
    }
    expect_rf_fault(v, VEC_SS, insn);
}

static void test_pf(void)
{
    uintptr_t insn;
    uint64_t val;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: movq (%2), %1" RT_CATCH_END
                      : "=&r"(insn), "=r"(val) : "r"(0x00007ffffffff000ull) : "memory");
    expect_rf_fault(v, VEC_PF, insn);
}

/* MOV DS with a not-present data descriptor: #NP(selector) */
static void test_np(void)
{
    rt_user_init();
    /* flat data, type 3, DPL 0, P = 0 */
    rt_gdt_set(RT_SEL_SPARE, 0x00cf13000000ffffull);
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: mov %w1, %%ds" RT_CATCH_END
                      : "=&r"(insn) : "r"(RT_SEL_SPARE) : "memory");
    expect_rf_fault(v, VEC_NP, insn);
    ASSERT_EQ(rt_fault.error, RT_SEL_SPARE);
}

/* CR0.TS = 1: an x87 instruction raises #NM */
static void test_nm(void)
{
    write_cr0(read_cr0() | (1ul << 3));
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: fldz" RT_CATCH_END
                      : "=&r"(insn)::"memory");
    __asm__ volatile("clts");
    expect_rf_fault(v, VEC_NM, insn);
}

/* An unmasked x87 divide-by-zero with CR0.NE = 1 is reported as #MF by
 * the next waiting x87 instruction (SDM Vol. 3A 6.15, "Interrupt 16"). */
static void test_mf(void)
{
    write_cr0((read_cr0() | (1ul << 5) | (1ul << 1)) & ~((1ul << 2) | (1ul << 3)));
    uint16_t cw = 0x37b; /* all masked but ZM */
    static const float zero = 0.0f;
    __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfdivs %1" ::"m"(cw), "m"(zero));
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: fwait" RT_CATCH_END
                      : "=&r"(insn)::"memory");
    __asm__ volatile("fninit");
    expect_rf_fault(v, VEC_MF, insn);
}

/* An unmasked SSE divide-by-zero with CR4.OSXMMEXCPT = 1: #XM */
static void test_xm(void)
{
    write_cr4(read_cr4() | (1ul << 9) | (1ul << 10));
    uint32_t mxcsr = 0x1f80 & ~0x200u, def = 0x1f80; /* ZM clear */
    static const float one = 1.0f, zero = 0.0f;
    __asm__ volatile("ldmxcsr %0\n\tmovss %1, %%xmm0\n\tmovss %2, %%xmm1"
                     ::"m"(mxcsr), "m"(one), "m"(zero)); /* the C code uses no XMM register */
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: divss %%xmm1, %%xmm0" RT_CATCH_END
                      : "=&r"(insn)::"memory");
    __asm__ volatile("ldmxcsr %0" ::"m"(def));
    if (v == -1 && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: no #XM for an unmasked SSE exception (SDM 6.15 vector 19)\n");
        return;
    }
    expect_rf_fault(v, VEC_XM, insn);
}

static RT_USER_DATA uint8_t user_buf[16] __attribute__((aligned(16)));

/* CPL 3, CR0.AM = RFLAGS.AC = 1, an unaligned read: #AC(0) */
static RT_USER_TEXT uint64_t user_unaligned(uint64_t arg)
{
    uint32_t v;
    __asm__ volatile("pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq\n\t"
                     "movl (%1), %0" : "=r"(v) : "r"(user_buf + arg) : "memory", "cc");
    return v;
}

static void test_ac(void)
{
    write_cr0(read_cr0() | (1ul << 18));
    rt_fault_reset();
    rt_user_call(user_unaligned, 1);
    write_cr0(read_cr0() & ~(1ul << 18));
    if (rt_fault.vector == -1 && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: no #AC for an unaligned CPL-3 access\n");
        return;
    }
    ASSERT_EQ(rt_fault.vector, VEC_AC);
    ASSERT_RF(rt_fault.flags, RF);
}

/* ---- traps and software interrupts: RF as it was (0) ---- */

static void test_int3_and_int_n(void)
{
    rt_idt_set_gate(VEC_BP, (uintptr_t)ev_bp_entry, 0x8E, 0);
    rt_idt_set_gate(VEC_SOFT, (uintptr_t)ev_soft_entry, 0x8E, 0);
    ev_reset();
    uintptr_t a, b;
    __asm__ volatile("lea 1f(%%rip), %0\n\tlea 2f(%%rip), %1\n\t"
                     "int3\n1:\tint $0x40\n2:"
                     : "=&r"(a), "=&r"(b)::"memory");
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(VEC_BP, rt_isr_table[VEC_BP], 0x8E, 0);
    ASSERT_EQ(ev_count, 2);
    ASSERT_EQ(ev[0].vec, VEC_BP);
    ASSERT_EQ(ev[0].rip, a);              /* traps: RIP after the instruction */
    ASSERT_RF(ev[0].rflags, 0);
    ASSERT_EQ(ev[1].vec, VEC_SOFT);
    ASSERT_EQ(ev[1].rip, b);
    ASSERT_RF(ev[1].rflags, 0);
}

/* ---- IRET with RF = 1 ---- */

/* IRETQ to 'target' at CPL 0 with RFLAGS = flags (the current stack) */
#define IRET_TO(target_label, flags)                                     \
    "mov %%rsp, %%rax\n\t"                                               \
    "pushq $0x10\n\t"                                                    \
    "pushq %%rax\n\t"                                                    \
    "pushq " flags "\n\t"                                                \
    "pushq $0x18\n\t"                                                    \
    "lea " target_label "(%%rip), %%rax\n\t"                             \
    "pushq %%rax\n\t"                                                    \
    "iretq\n"

/* Without debug registers in use, RF still lasts one instruction: the
 * INT3 after the first instruction saves RF = 0. */
static void test_iret_rf_one_instruction(void)
{
    rt_idt_set_gate(VEC_BP, (uintptr_t)ev_bp_entry, 0x8E, 0);
    ev_reset();
    uintptr_t after;
    __asm__ volatile("lea 2f(%%rip), %0\n\t"
                     IRET_TO("1f", "$0x10002")
                     "1:\tnop\n\tint3\n2:"
                     : "=&r"(after)::"rax", "memory");
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(VEC_BP, rt_isr_table[VEC_BP], 0x8E, 0);
    ASSERT_EQ(ev_count, 1);
    ASSERT_EQ(ev[0].rip, after);
    ASSERT_RF(ev[0].rflags, 0); /* cleared when the NOP completed */
}

/* An instruction breakpoint on each of two instructions; IRET with
 * RF = 1 to the first: its breakpoint is suppressed, the second's is not
 * (#DB, a fault, at the second, B1 in DR6, RF = 0 saved). */
static void test_iret_rf_suppresses_one_breakpoint(void)
{
    uintptr_t first, second;
    __asm__ volatile("mov %0, %%dr6" ::"r"(0ull));
    int v = catch_asm("lea 3f(%%rip), %0\n\t"
                      "lea 4f(%%rip), %1\n\t"
                      "mov %0, %%dr0\n\t"
                      "mov %1, %%dr1\n\t"
                      "mov $5, %%eax\n\t" /* L0, L1; RW and LEN 0: execute */
                      "mov %%rax, %%dr7\n\t" RT_CATCH_BEGIN
                      IRET_TO("3f", "$0x10002")
                      "3:\tnop\n"
                      "4:\tnop" RT_CATCH_END
                      : "=&r"(first), "=&r"(second)::"rax", "memory");
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    __asm__ volatile("mov %0, %%dr7" ::"r"(0ull));
    ASSERT_EQ(v, VEC_DB);
    ASSERT_EQ(rt_fault.ip, second);
    ASSERT_NE(first, second);
    ASSERT_EQ(dr6, 0xffff0ff2);
    ASSERT_RF(rt_fault.flags, 0); /* an instruction breakpoint: RF as it was */
}

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

/* An interrupt taken right after an IRET that loaded RF = 1, before the
 * instruction it returns to, saves RF = 1: the suppression survives the
 * interrupt. A fixed self-IPI sent with IF = 0 waits in the IRR until
 * the IRET sets IF. */
static void test_interrupt_saves_rf(void)
{
    rt_idt_set_gate(VEC_IPI, (uintptr_t)ev_ipi_entry, 0x8E, 0);
    apic_write(APIC_SVR, 0x1ff);
    ev_reset();
    __asm__ volatile("cli");
    apic_write(APIC_ICR_LO, VEC_IPI | (1u << 18)); /* fixed, self */
    for (volatile int k = 0; k < 100; k++)
        ;
    ASSERT_EQ(ev_count, 0); /* held while IF = 0 */
    uintptr_t target;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     IRET_TO("1f", "$0x10202")
                     "1:\tcli"
                     : "=&r"(target)::"rax", "memory");
    ASSERT_EQ(ev_count, 1);
    ASSERT_EQ(ev[0].vec, VEC_IPI);
    ASSERT_EQ(ev[0].rip, target);             /* before the first instruction */
    ASSERT_EQ(ev[0].rflags & IF, IF);
    ASSERT_RF(ev[0].rflags, RF);              /* RF as it was: 1 */
}

void test_main(void)
{
    RUN_TEST(test_de);
    RUN_TEST(test_ud);
    RUN_TEST(test_gp);
    RUN_TEST(test_ss);
    RUN_TEST(test_pf);
    RUN_TEST(test_np);
    RUN_TEST(test_nm);
    RUN_TEST(test_mf);
    RUN_TEST(test_xm);
    RUN_TEST(test_ac);
    RUN_TEST(test_int3_and_int_n);
    RUN_TEST(test_iret_rf_one_instruction);
    RUN_TEST(test_iret_rf_suppresses_one_breakpoint);
    RUN_TEST(test_interrupt_saves_rf);
}
