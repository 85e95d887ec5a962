/*
 * lm64_debugreg: debug registers (SDM Vol. 3A 17.2-17.3): instruction
 * breakpoints are faults (RIP = the breakpoint, resumed with RF),
 * data breakpoints are traps after the access (write-only vs read/write,
 * any overlapping byte), DR7.GD faults MOV DR with DR6.BD, and
 * single-step sets DR6.BS.
 */
#include "rt.h"

volatile uint64_t db_rip, db_dr6, db_count;

/* #DB handler: records, clears DR6 and TF, sets RF so an instruction
 * breakpoint does not fire again on the return (SDM 17.3.1.1). */
__asm__(".text\n.globl db_entry\n"
        "db_entry:\n"
        "  push %rax\n"
        "  mov 8(%rsp), %rax\n"
        "  mov %rax, db_rip(%rip)\n"
        "  incq db_count(%rip)\n"
        "  mov %dr6, %rax\n"
        "  mov %rax, db_dr6(%rip)\n"
        "  xor %eax, %eax\n"
        "  mov %rax, %dr6\n"
        "  orq $0x10000, 24(%rsp)\n"
        "  andq $~0x100, 24(%rsp)\n"
        "  pop %rax\n"
        "  iretq\n");
void db_entry(void);

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

static void reset(void)
{
    db_count = 0;
    db_rip = 0;
    db_dr6 = 0;
    set_dr7(0);
    __asm__ volatile("mov %0, %%dr6" ::"r"(0ull));
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
    ASSERT_EQ(db_rip, (uint64_t)(uintptr_t)target); /* a fault: RIP = the breakpoint */
    ASSERT_EQ(db_dr6 & 0xf, 0x1);                   /* B0 */
    ASSERT_EQ(target_runs, before + 1);             /* and the function still ran */
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
    ASSERT_EQ(db_rip, after);      /* a trap: RIP after the store */
    ASSERT_EQ(watched[1], v + 5);  /* the store completed */
    ASSERT_EQ(db_dr6 & 0xf, 0x2);  /* B1 */
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
    ASSERT_EQ(db_dr6 & 0xf, 0x4); /* B2 */
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
    ASSERT_NE(dr6 & (1ull << 13), 0); /* BD */
    ASSERT_EQ(dr7 & (1ull << 13), 0); /* GD cleared on entry to the handler */
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
    ASSERT_EQ(db_rip, after);
    ASSERT_NE(db_dr6 & (1ull << 14), 0); /* BS */
}

void test_main(void)
{
    rt_idt_set_gate(1, (uintptr_t)db_entry, 0x8E, RT_SEL_CODE64);
    RUN_TEST(test_instruction_breakpoint);
    RUN_TEST(test_write_breakpoint);
    RUN_TEST(test_read_write_breakpoint_range);
    RUN_TEST(test_single_step_bs);
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(1, rt_isr_table[1], 0x8E, RT_SEL_CODE64); /* rt's handler catches GD */
    RUN_TEST(test_general_detect);
}
