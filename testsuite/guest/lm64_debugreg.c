/*
 * lm64_debugreg: debug registers (SDM Vol. 3A 17.2-17.3): instruction
 * breakpoints are faults (RIP = the breakpoint, resumed with RF),
 * data breakpoints are traps after the access (write-only vs read/write,
 * any overlapping byte), DR7.GD faults MOV DR with DR6.BD, and
 * single-step sets DR6.BS; a breakpoint #DB rewrites DR6.B0-B3; ICEBP
 * and INT3 are not single-stepped; a data breakpoint held by MOV SS.
 */
#include "ev_hook64.h"
#include "rt.h"

#define RF (1ull << 16)
#define TF (1ull << 8)
#define DR6_FIXED 0xffff0ff0ull /* DR6 with no condition bit: the reserved bits read 1 */
#define DR6_BS (1ull << 14)

/* #DB and #BP handlers: log vector, saved RIP, saved RFLAGS and DR6 in
 * the order the handlers run; clear DR6; return with TF clear (no more
 * stepping) and, from #DB, RF set so that an instruction breakpoint does
 * not fire again on the return (SDM 17.3.1.1). */
#define EV_MAX 4
static volatile struct {
    uint64_t vec, rip, rflags, dr6;
} ev[EV_MAX];
volatile uint64_t db_count; /* #DB handler runs */
static volatile unsigned ev_count;

void ev_record(struct ev_frame *f)
{
    unsigned n = ev_count++;
    uint64_t dr6;
    __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
    if (n < EV_MAX) {
        ev[n].vec = f->vec;
        ev[n].rip = f->rip;
        ev[n].rflags = f->rflags;
        ev[n].dr6 = dr6;
    }
    if (f->vec == VEC_DB) {
        db_count++;
        __asm__ volatile("mov %0, %%dr6" ::"r"(0ull));
        f->rflags |= RF;
    }
    f->rflags &= ~TF;
}

__asm__(".text\n" EV_COMMON_ASM
        EV_ENTRY_ASM(db_entry, 1) EV_ENTRY_ASM(bp_entry, 3));
void db_entry(void);
void bp_entry(void);

static volatile uint32_t watched[4] __attribute__((aligned(16)));
static volatile uint64_t target_runs;

static __attribute__((noinline)) void target(void)
{
    target_runs++;
}

static void set_dr7(uint64_t v)
{
    __asm__ volatile("mov %0, %%dr7" ::"r"(v));
}

static void set_dr6(uint64_t v)
{
    __asm__ volatile("mov %0, %%dr6" ::"r"(v));
}

static void reset(void)
{
    db_count = 0;
    ev_count = 0;
    for (unsigned k = 0; k < EV_MAX; k++)
        ev[k].vec = ev[k].rip = ev[k].rflags = ev[k].dr6 = 0;
    set_dr7(0);
    set_dr6(0);
}

static void test_instruction_breakpoint(void)
{
    reset();
    __asm__ volatile("mov %0, %%dr0" ::"r"((uint64_t)(uintptr_t)target));
    set_dr7(1); /* L0, RW0 = 00 (execute), LEN0 = 00 */
    uint64_t before = target_runs;
    target();
    set_dr7(0);
    ASSERT_EQ(db_count, 1);                        /* once: RF suppresses the retry */
    ASSERT_EQ(ev[0].rip, (uint64_t)(uintptr_t)target); /* a fault: RIP = the breakpoint */
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | 0x1);               /* B0 */
    ASSERT_EQ(ev[0].rflags & RF, 0);                     /* the one fault saved with RF as it was */
    ASSERT_EQ(target_runs, before + 1);                  /* and the function still ran */
}

static void test_write_breakpoint(void)
{
    reset();
    __asm__ volatile("mov %0, %%dr1" ::"r"((uint64_t)(uintptr_t)&watched[1]));
    /* L1 (bit 2), RW1 = 01 (writes), LEN1 = 11 (4 bytes) */
    set_dr7((1ull << 2) | (1ull << 20) | (3ull << 22));
    uint32_t v = watched[1]; /* a read does not trigger a write breakpoint */
    ASSERT_EQ(db_count, 0);
    uint64_t after;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "movl %2, %1\n"
                     "1:"
                     : "=&r"(after), "=m"(watched[1])
                     : "r"(v + 5)
                     : "memory");
    set_dr7(0);
    ASSERT_EQ(db_count, 1);
    ASSERT_EQ(ev[0].rip, after);          /* a trap: RIP after the store */
    ASSERT_EQ(watched[1], v + 5);         /* the store completed */
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | 0x2); /* B1 */
    ASSERT_EQ(ev[0].rflags & RF, 0);
}

/* SDM 17.2.5 and Table 17-1: a data breakpoint triggers when any byte
 * of the access lies in the DRn/LENn range; neighbouring bytes do not. */
static void test_read_write_breakpoint_range(void)
{
    reset();
    __asm__ volatile("mov %0, %%dr2" ::"r"((uint64_t)(uintptr_t)&watched[2]));
    /* L2 (bit 4), RW2 = 11 (reads and writes), LEN2 = 11 (4 bytes) */
    set_dr7((1ull << 4) | (3ull << 24) | (3ull << 26));
    volatile uint8_t *b = (volatile uint8_t *)&watched[2];
    uint8_t x = b[-1] + ((volatile uint8_t *)&watched[3])[0]; /* outside: no trap */
    ASSERT_EQ(db_count, 0);
    x += b[3]; /* the last byte of the range */
    (void)x;
    set_dr7(0);
    ASSERT_EQ(db_count, 1);
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | 0x4); /* B2 */
}

static void test_general_detect(void)
{
    reset();
    set_dr7(1ull << 13); /* GD */
    uint64_t at;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: mov %%dr0, %%rax" RT_CATCH_END
                      : "=&r"(at)::"rax", "memory");
    if (v == -1 && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: MOV DR with DR7.GD=1 does not fault (SDM 17.2.4: #DB, BD)\n");
        set_dr7(0);
        return;
    }
    ASSERT_EQ(v, 1);
    ASSERT_EQ(rt_fault.ip, at); /* a fault on the MOV itself */
    uint64_t dr6, dr7;
    __asm__ volatile("mov %%dr6, %0; mov %%dr7, %1" : "=r"(dr6), "=r"(dr7));
    ASSERT_EQ(dr6, DR6_FIXED | (1ull << 13)); /* BD */
    ASSERT_EQ(dr7 & (1ull << 13), 0);         /* GD cleared on entry to the handler */
    /* a fault-class #DB that is not an instruction breakpoint: RF = 1
     * saved (SDM 17.3.1.1) */
    ASSERT_EQ(rt_fault.flags & RF, RF);
}

static void test_single_step_bs(void)
{
    reset();
    uint64_t after;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "nop\n"
                     "1:\tnop"
                     : "=&r"(after)::"memory", "cc");
    ASSERT_EQ(db_count, 1);
    ASSERT_EQ(ev[0].rip, after);
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | DR6_BS);
    ASSERT_EQ(ev[0].rflags & (TF | RF), TF); /* a trap: RF as it was */
}

/* SDM 17.2.3: B0-B3 report the breakpoints that matched; a #DB for a
 * breakpoint rewrites them, so stale ones from an earlier #DB that the
 * handler left in DR6 disappear, while BS (only ever set by the
 * processor) stays. */
static void test_breakpoint_clears_stale_bits(void)
{
    reset();
    set_dr6(DR6_BS | 0xa); /* stale BS, B1, B3 */
    __asm__ volatile("mov %0, %%dr0" ::"r"((uint64_t)(uintptr_t)target));
    set_dr7(1);
    target();
    set_dr7(0);
    ASSERT_EQ(db_count, 1);
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | DR6_BS | 0x1); /* B0 only */

    reset();
    set_dr6(DR6_BS | 0x1); /* stale BS, B0 */
    __asm__ volatile("mov %0, %%dr1" ::"r"((uint64_t)(uintptr_t)&watched[1]));
    set_dr7((1ull << 2) | (1ull << 20) | (3ull << 22)); /* DR1: 4-byte writes */
    watched[1] = 7;
    set_dr7(0);
    ASSERT_EQ(db_count, 1);
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | DR6_BS | 0x2); /* B1 only */
}

/* INT1 (ICEBP, F1) raises #DB without setting any DR6 bit (SDM Vol. 2,
 * "INT n/INTO/INT3/INT1"). With TF set it is not single-stepped: like
 * INT n it clears TF as it delivers and takes no single-step trap (SDM
 * 17.3.1.4), so there is one #DB, after the F1, with DR6.BS clear and
 * TF = 1 in the saved image. INT3 likewise: a #BP and no #DB. */
static bool qemu_no_icebp(void)
{
    if (!rt_cmdline_has("qemu-tcg"))
        return false;
    rt_printf("# qemu-tcg: ICEBP (F1) raises #UD in 64-bit mode (SDM Vol. 2: #DB); skipped\n");
    return true;
}

static void test_icebp_with_tf(void)
{
    rt_idt_set_gate(VEC_BP, (uintptr_t)bp_entry, 0x8E, RT_SEL_CODE64);
    reset();
    uint64_t after;
    if (qemu_no_icebp())
        goto int3;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     ".byte 0xf1\n"
                     "1:\tnop"
                     : "=&r"(after)::"memory", "cc");
    ASSERT_EQ(ev_count, 1);
    ASSERT_EQ(ev[0].vec, VEC_DB);
    ASSERT_EQ(ev[0].rip, after);              /* trap-like: after the F1 */
    ASSERT_EQ(ev[0].dr6, DR6_FIXED);          /* no BS, nothing else */
    ASSERT_EQ(ev[0].rflags & (TF | RF), TF);

int3:
    reset();
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "int3\n"
                     "1:\tnop"
                     : "=&r"(after)::"memory", "cc");
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(VEC_BP, rt_isr_table[VEC_BP], 0x8E, RT_SEL_CODE64);
    ASSERT_EQ(ev_count, 1);
    ASSERT_EQ(ev[0].vec, VEC_BP);
    ASSERT_EQ(ev[0].rip, after);
    ASSERT_EQ(ev[0].rflags & (TF | RF), TF);
    ASSERT_EQ(db_count, 0);
}

/* MOV SS holds the debug exceptions of its own execution until after
 * the next instruction (SDM 6.8.3). A data breakpoint on MOV SS's
 * source is therefore pending when the next instruction runs:
 * - after ICEBP, whose #DB is the only one: the pending one is lost, not
 *   taken again at the handler's first instruction (SDM Vol. 3C 26.6.3
 *   allows losing it for a software exception other than #BP and #OF);
 *   DR6 is untouched, as INT1 sets no bit of its own;
 * - after INT3, it is taken after the #BP's delivery, at the #BP
 *   handler's first instruction (SDM 26.6.3 on INT3 after MOV SS), with
 *   B0 set. */
static volatile uint16_t ss_sel __attribute__((aligned(8))) = RT_SEL_DATA;

static void watch_ss_sel(void)
{
    __asm__ volatile("mov %0, %%dr0" ::"r"((uint64_t)(uintptr_t)&ss_sel));
    set_dr7(1 | (3ull << 16) | (1ull << 18)); /* L0, RW0 = 11 (read/write), LEN0 = 01 */
}

static void test_mov_ss_data_breakpoint(void)
{
    uint64_t after;
    if (qemu_no_icebp())
        goto int3;
    reset();
    watch_ss_sel();
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "mov ss_sel(%%rip), %%ss\n\t"
                     ".byte 0xf1\n"
                     "1:\tnop"
                     : "=&r"(after)::"memory");
    set_dr7(0);
    ASSERT_EQ(ev_count, 1);
    ASSERT_EQ(ev[0].vec, VEC_DB);
    ASSERT_EQ(ev[0].rip, after);
    ASSERT_EQ(ev[0].dr6, DR6_FIXED);

int3:
    rt_idt_set_gate(VEC_BP, (uintptr_t)bp_entry, 0x8E, RT_SEL_CODE64);
    reset();
    watch_ss_sel();
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "mov ss_sel(%%rip), %%ss\n\t"
                     "int3\n"
                     "1:\tnop"
                     : "=&r"(after)::"memory");
    set_dr7(0);
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(VEC_BP, rt_isr_table[VEC_BP], 0x8E, RT_SEL_CODE64);
    if (ev_count == 2 && ev[0].vec == VEC_DB && ev[0].rip == after - 1 &&
        rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: a data breakpoint on MOV SS traps at once (SDM 6.8.3: held)\n");
        return;
    }
    ASSERT_EQ(ev_count, 2);
    ASSERT_EQ(ev[0].vec, VEC_DB); /* its handler runs first: it interrupted the #BP's */
    ASSERT_EQ(ev[0].rip, (uint64_t)(uintptr_t)bp_entry);
    ASSERT_EQ(ev[0].dr6, DR6_FIXED | 0x1);
    ASSERT_EQ(ev[1].vec, VEC_BP);
    ASSERT_EQ(ev[1].rip, after);
}

void test_main(void)
{
    rt_idt_set_gate(1, (uintptr_t)db_entry, 0x8E, RT_SEL_CODE64);
    RUN_TEST(test_instruction_breakpoint);
    RUN_TEST(test_write_breakpoint);
    RUN_TEST(test_read_write_breakpoint_range);
    RUN_TEST(test_single_step_bs);
    RUN_TEST(test_breakpoint_clears_stale_bits);
    RUN_TEST(test_icebp_with_tf);
    RUN_TEST(test_mov_ss_data_breakpoint);
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(1, rt_isr_table[1], 0x8E, RT_SEL_CODE64); /* rt's handler catches GD */
    RUN_TEST(test_general_detect);
}
