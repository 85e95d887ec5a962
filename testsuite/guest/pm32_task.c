/*
 * pm32_task: hardware task switching in 32-bit protected mode (SDM Vol. 3A
 * chapter 7): CALL to a TSS and IRET back (NT, previous-task link, busy
 * bits, CR0.TS, saved EIP), JMP between tasks, an exception through a task
 * gate with its error code on the new task's stack (and RF = 1 in the
 * EFLAGS it saved in the old TSS), and #TS for a TSS whose limit is too
 * small.
 */
#include "rt.h"

struct __attribute__((packed)) tss32 {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10;
    uint16_t trap, iomap;
};

#define SEL_TSS_A   0x30 /* the test's own task */
#define SEL_TSS_B   0x38 /* called or jumped to */
#define SEL_TSS_C   0x40 /* #GP handler task */
#define SEL_TSS_BAD 0x48 /* limit 0x60 < 0x67: #TS */
#define SEL_GATE_B  0x50 /* task gate to B */
#define GDT_N 11

static uint64_t gdt[GDT_N] __attribute__((aligned(8)));
static struct tss32 tss_a, tss_b, tss_c, tss_bad __attribute__((aligned(128)));
static uint8_t stack_b[4096] __attribute__((aligned(16)));
static uint8_t stack_c[4096] __attribute__((aligned(16)));

/* SDM Figure 7-3: TSS descriptor, present; type 9 = available 32-bit TSS */
static uint64_t tss_desc(const void *base, uint32_t limit, unsigned type)
{
    return rt_desc((uint32_t)(uintptr_t)base, limit, (uint8_t)(0x80 | type), 0);
}

/* SDM Figure 7-6: task gate (type 5) naming a TSS selector */
static uint64_t task_gate(uint16_t tss_sel)
{
    return ((uint64_t)tss_sel << 16) | (5ull << 40) | (1ull << 47);
}

static unsigned desc_type(uint16_t sel)
{
    return (unsigned)((gdt[sel >> 3] >> 40) & 0xf);
}

static void init_task(struct tss32 *t, void (*entry)(void), uint8_t *stack)
{
    for (unsigned k = 0; k < sizeof(*t); k++)
        ((uint8_t *)t)[k] = 0;
    t->eip = (uint32_t)(uintptr_t)entry;
    t->esp = (uint32_t)(uintptr_t)(stack + 4096);
    t->eflags = 0x2;
    t->cs = RT_SEL_CODE32;
    t->ss = t->ds = t->es = t->fs = t->gs = RT_SEL_DATA;
    t->iomap = sizeof(*t);
}

/* observations made inside the tasks */
static volatile uint32_t b_eflags, b_cr0, b_link, b_runs;
static volatile uint16_t b_tr;
static volatile uint32_t c_error, c_link, c_a_eflags;

static void task_b_call(void)
{
    for (;;) {
        uint32_t fl, cr0;
        uint16_t tr;
        __asm__ volatile("pushfl; popl %0; movl %%cr0, %1; str %2"
                         : "=r"(fl), "=r"(cr0), "=r"(tr));
        b_eflags = fl;
        b_cr0 = cr0;
        b_tr = tr;
        b_link = tss_b.link;
        b_runs++;
        /* IRET with NT = 1 returns to the task named by the link field;
         * the next CALL resumes here, after the IRET */
        __asm__ volatile("iret");
    }
}

static void task_b_jmp(void)
{
    for (;;) {
        b_runs++;
        __asm__ volatile("ljmp %0, $0" ::"i"(SEL_TSS_A));
    }
}

static volatile uint32_t recover_eip;

static void task_c_gp(void)
{
    for (;;) {
        uint32_t err;
        __asm__ volatile("popl %0" : "=r"(err)); /* SDM 7.3 step 13 */
        c_error = err;
        c_link = tss_c.link;
        c_a_eflags = tss_a.eflags; /* A's EFLAGS as the fault saved it */
        tss_a.eip = recover_eip; /* resume A after the faulting instruction */
        __asm__ volatile("iret");
    }
}

static void setup(void)
{
    init_task(&tss_a, 0, 0);
    init_task(&tss_b, task_b_call, stack_b);
    init_task(&tss_c, task_c_gp, stack_c);
    init_task(&tss_bad, task_b_call, stack_b);
    gdt[SEL_TSS_A >> 3] = tss_desc(&tss_a, sizeof(tss_a) - 1, 9);
    gdt[SEL_TSS_B >> 3] = tss_desc(&tss_b, sizeof(tss_b) - 1, 9);
    gdt[SEL_TSS_C >> 3] = tss_desc(&tss_c, sizeof(tss_c) - 1, 9);
    gdt[SEL_TSS_BAD >> 3] = tss_desc(&tss_bad, 0x60, 9);
    gdt[SEL_GATE_B >> 3] = task_gate(SEL_TSS_B);
    rt_gdt_load(gdt, GDT_N);
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS_A));
}

static void test_ltr_marks_busy(void)
{
    ASSERT_EQ(desc_type(SEL_TSS_A), 0xb); /* LTR sets the busy bit */
}

static void test_call_and_iret(void)
{
    uint32_t cr0;
    __asm__ volatile("clts");
    uint32_t marker = 0x12345678, after;
    __asm__ volatile("movl %2, %%esi\n\t"
                     "lcall %3, $0\n"
                     "1:\tmovl %%esi, %0\n\t"
                     "movl $1b, %1"
                     : "=r"(after), "=r"(recover_eip)
                     : "r"(marker), "i"(SEL_TSS_B)
                     : "esi", "memory");
    ASSERT_EQ(b_runs, 1);
    ASSERT_EQ(b_tr, SEL_TSS_B);
    ASSERT_EQ(b_link, SEL_TSS_A);        /* previous-task link (SDM 7.4) */
    ASSERT_NE(b_eflags & 0x4000, 0);    /* NT set by CALL */
    ASSERT_NE(b_cr0 & 0x8, 0);          /* CR0.TS set on every switch */
    ASSERT_EQ(after, marker);           /* A's registers came back from its TSS */
    ASSERT_EQ(tss_a.eip, recover_eip);  /* saved EIP: after the CALL */
    ASSERT_EQ(desc_type(SEL_TSS_B), 0x9); /* IRET cleared B's busy bit */
    ASSERT_EQ(desc_type(SEL_TSS_A), 0xb);
    __asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
    ASSERT_NE(cr0 & 0x8, 0);
    uint32_t fl;
    __asm__ volatile("pushfl; popl %0" : "=r"(fl));
    ASSERT_EQ(fl & 0x4000, 0); /* A's NT was clear and stays clear */
    __asm__ volatile("clts");
}

static void test_call_through_task_gate(void)
{
    __asm__ volatile("lcall %0, $0" ::"i"(SEL_GATE_B) : "memory");
    ASSERT_EQ(b_runs, 2);
    ASSERT_EQ(b_link, SEL_TSS_A);
    ASSERT_EQ(b_tr, SEL_TSS_B);
    ASSERT_EQ(desc_type(SEL_TSS_B), 0x9);
    __asm__ volatile("clts");
}

static void test_jmp(void)
{
    init_task(&tss_b, task_b_jmp, stack_b);
    uint32_t runs = b_runs;
    __asm__ volatile("ljmp %0, $0\n" ::"i"(SEL_TSS_B) : "memory");
    ASSERT_EQ(b_runs, runs + 1);
    /* JMP clears the outgoing busy bit and sets no NT (SDM Table 7-2) */
    ASSERT_EQ(desc_type(SEL_TSS_B), 0x9);
    ASSERT_EQ(desc_type(SEL_TSS_A), 0xb);
    uint32_t fl;
    __asm__ volatile("pushfl; popl %0" : "=r"(fl));
    ASSERT_EQ(fl & 0x4000, 0);
    __asm__ volatile("clts");
}

static void test_exception_task_gate(void)
{
    /* IDT gate 13 becomes a task gate to C (SDM 6.11.2) */
    uint64_t *gate = rt_idt_gate(13), saved = *gate;
    *gate = task_gate(SEL_TSS_C);
    __asm__ volatile("movl $1f, %0\n\t"
                     "movw %w1, %%ds\n"
                     "1:"
                     : "=m"(recover_eip)
                     : "r"(0x1003) /* index beyond the GDT limit: #GP(0x1000) */
                     : "memory");
    *gate = saved;
    ASSERT_EQ(c_error, 0x1000);
    ASSERT_EQ(c_link, SEL_TSS_A);
    /* a fault saves RF = 1, in the old TSS too (SDM 17.3.1.1) */
    if (!(c_a_eflags & (1u << 16)) && rt_cmdline_has("qemu-tcg"))
        rt_printf("# qemu-tcg: a fault through a task gate saves RF = 0 in the TSS\n");
    else
        ASSERT_EQ(c_a_eflags & (1u << 16), 1u << 16);
    __asm__ volatile("clts");
}

static void test_ts_small_limit(void)
{
    rt_fault_reset();
    int v = catch_asm(RT_CATCH_BEGIN "lcall %0, $0" RT_CATCH_END ::"i"(SEL_TSS_BAD) : "memory");
    ASSERT_EQ(v, 10); /* #TS: limit below 0x67 (SDM 7.3 step 4) */
    ASSERT_EQ(rt_fault.error, SEL_TSS_BAD);
    if (!(rt_fault.flags & (1u << 16)) && rt_cmdline_has("qemu-tcg"))
        rt_printf("# qemu-tcg: #TS saves RF = 0\n");
    else
        ASSERT_EQ(rt_fault.flags & (1u << 16), 1u << 16); /* a fault: RF = 1 saved */
    ASSERT_EQ(desc_type(SEL_TSS_BAD), 0x9); /* nothing was switched */
}

void test_main(void)
{
    setup();
    RUN_TEST(test_ltr_marks_busy);
    RUN_TEST(test_call_and_iret);
    RUN_TEST(test_call_through_task_gate);
    RUN_TEST(test_jmp);
    RUN_TEST(test_exception_task_gate);
    RUN_TEST(test_ts_small_limit);
}
