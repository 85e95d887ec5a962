/*
 * lm64_irq: external interrupts through the 8259 PIC from the 8254 PIT,
 * the STI and MOV SS interrupt shadows, exception priority, and #DF from
 * a fault while delivering a fault.
 */
#include "rt.h"

#define PIC1 0x20
#define PIC2 0xA0
#define VEC_IRQ0 0x20
#define PIT_HZ 1193182u

extern char irq_timer_entry[], irq_db_entry[];
volatile uint64_t irq_last_rip, irq_db_rip;
volatile uint32_t irq_count, irq_db_count;

/* 8259A initialization (ICW1-4, 8259A data sheet): edge, cascade, 8086
   mode; master vectors 0x20-0x27, slave 0x28-0x2F; only IRQ0 unmasked. */
static void pic_init(void)
{
    outb(PIC1, 0x11);
    outb(PIC2, 0x11);
    outb(PIC1 + 1, VEC_IRQ0);
    outb(PIC2 + 1, VEC_IRQ0 + 8);
    outb(PIC1 + 1, 0x04); /* slave on IRQ2 */
    outb(PIC2 + 1, 0x02);
    outb(PIC1 + 1, 0x01);
    outb(PIC2 + 1, 0x01);
    outb(PIC1 + 1, 0xFE);
    outb(PIC2 + 1, 0xFF);
}

static uint8_t pic_irr(void)
{
    outb(PIC1, 0x0A); /* OCW3: read IRR */
    return inb(PIC1);
}

/* PIT channel 0, mode 2 (rate generator), lobyte/hibyte. */
static void pit_periodic(unsigned hz)
{
    unsigned div = PIT_HZ / hz;
    outb(0x43, 0x34);
    outb(0x40, (uint8_t)div);
    outb(0x40, (uint8_t)(div >> 8));
}

static void setup(void)
{
    rt_idt_set_gate(VEC_IRQ0, (uintptr_t)irq_timer_entry, 0x8E, 0);
    pic_init();
    pit_periodic(1000);
}

/* With IF=1 the timer interrupt arrives on vector 0x20 (ICW2 base + 0). */
static void test_pit_irq0(void)
{
    setup();
    irq_count = 0;
    for (int i = 0; i < 5; i++)
        __asm__ volatile("sti\n\thlt\n\tcli" ::: "memory");
    ASSERT(irq_count >= 5);
    /* While IF=0 the request waits in the IRR and nothing is delivered. */
    uint32_t before = irq_count;
    for (unsigned spin = 0; !(pic_irr() & 1); spin++)
        ASSERT(spin < 10000000);
    ASSERT_EQ(irq_count, before);
    __asm__ volatile("sti\n\tnop\n\tnop\n\tcli" ::: "memory");
    ASSERT_EQ(irq_count, before + 1);
}

/* STI: "the processor recognizes interrupts after the next instruction"
   (SDM Vol. 2B, STI; Vol. 3A, 6.8.3). With IRQ0 already pending, the
   instruction after STI runs and the interrupt is taken right after it:
   the saved RIP is that instruction's end. */
static void test_sti_shadow(void)
{
    setup();
    while (!(pic_irr() & 1))
        ;
    uint64_t after_sti, after_next, marker = 0;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "lea 2f(%%rip), %1\n\t"
                     "sti\n"
                     "1:\tmovq $1, %2\n"
                     "2:\tnop\n\tnop\n\tcli"
                     : "=&r"(after_sti), "=&r"(after_next), "+r"(marker)
                     :: "memory");
    ASSERT_EQ(marker, 1);
    ASSERT_NE(irq_last_rip, after_sti);
    ASSERT_EQ(irq_last_rip, after_next);
}

/* MOV SS inhibits interrupts and debug traps until the next instruction
   has run (SDM Vol. 3A, 6.8.3): a single-step trap due after MOV SS comes
   after the following instruction instead. TF set by POPF traps after the
   instruction that follows POPF (Vol. 3A, 18.3.1.4). */
static void test_mov_ss_shadow(void)
{
    rt_idt_set_gate(VEC_DB, (uintptr_t)irq_db_entry, 0x8E, 0);
    uint64_t end1, end2;
    irq_db_count = 0;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "nop\n"
                     "1:\tnop\n\tnop"
                     : "=&r"(end1)::"memory");
    ASSERT_EQ(irq_db_count, 1);
    ASSERT_EQ(irq_db_rip, end1); /* control: right after the NOP */

    uint64_t after_mov_ss;
    __asm__ volatile("lea 1f(%%rip), %0\n\t"
                     "lea 2f(%%rip), %1\n\t"
                     "mov %%ss, %%eax\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "mov %%eax, %%ss\n"
                     "2:\tnop\n"
                     "1:\tnop\n\tnop"
                     : "=&r"(end2), "=&r"(after_mov_ss)::"rax", "memory");
    ASSERT_EQ(irq_db_count, 2);
    ASSERT_NE(irq_db_rip, after_mov_ss);
    ASSERT_EQ(irq_db_rip, end2); /* after MOV SS *and* the NOP */
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(VEC_DB, rt_isr_table[VEC_DB], 0x8E, 0);
}

/* Exception priority (SDM Vol. 3A, 6.9, Table 6-2): a fault fetching
   the next instruction (7) beats a decode fault (8), which beats a fault
   executing it (9). */
#define CODE_VA 0x0000060000000000ull
static uint8_t code_page[4096] __attribute__((aligned(4096)));
static void (*volatile jump_to)(void);
static void call_jump_to(void)
{
    jump_to();
}

static void test_exception_priority(void)
{
    /* LOCK MOV with a non-canonical address: #UD (LOCK on a non-lockable
       instruction) is found while decoding, before the #GP. */
    int v = catch_asm(RT_CATCH_BEGIN ".byte 0xf0\n\tmovl (%0), %%eax"
                      RT_CATCH_END
                      ::"r"(0x8000000000000000ull) : "rax", "memory");
    if (v == VEC_GP && rt_cmdline_has("qemu-tcg"))
        rt_printf("# qemu-tcg: LOCK MOV to a non-canonical address is #GP "
                  "(SDM Table 6-2: #UD first)\n");
    else
        ASSERT_EQ(v, VEC_UD);

    /* LOCK NOP split over a page boundary with the second page not
       present: the #PF fetching byte 2 beats the #UD. */
    rt_map_4k(CODE_VA, (uintptr_t)code_page, PTE_P | PTE_W);
    rt_map_4k(CODE_VA + 0x1000, 0, 0);
    code_page[4095] = 0xF0;
    jump_to = (void (*)(void))(uintptr_t)(CODE_VA + 4095);
    expect_fault(VEC_PF, call_jump_to);
    ASSERT_EQ(rt_fault.cr2, CODE_VA + 0x1000);
    ASSERT_EQ(rt_fault.error & ~(uint64_t)PF_I, 0); /* not present, read */
    ASSERT_EQ(rt_fault.ip, CODE_VA + 4095);
}

/* INT n through a not-present gate is #NP(vector*8+2); if delivering
   that #NP faults (#GP: the #NP gate's code selector is beyond the GDT
   limit), two contributory exceptions make #DF with error code 0 (SDM
   Vol. 3A, 6.15, Table 6-5). */
static void test_double_fault(void)
{
    rt_idt_set_gate(0x85, (uintptr_t)irq_db_entry, 0x0E, 0); /* P=0 */
    extern const uintptr_t rt_isr_table[32];
    rt_idt_set_gate(VEC_NP, rt_isr_table[VEC_NP], 0x8E, 0xFFF8);
    int v = catch_asm(RT_CATCH_BEGIN "int $0x85" RT_CATCH_END ::: "memory");
    rt_idt_set_gate(VEC_NP, rt_isr_table[VEC_NP], 0x8E, 0);
    ASSERT_EQ(v, VEC_DF);
    ASSERT_EQ(rt_fault.error, 0);

    /* Control: with a sound #NP gate the same INT gives #NP(0x85*8+2). */
    v = catch_asm(RT_CATCH_BEGIN "int $0x85" RT_CATCH_END ::: "memory");
    ASSERT_EQ(v, VEC_NP);
    if (rt_fault.error == 0x85 * 16 + 2 && rt_cmdline_has("qemu-tcg"))
        rt_printf("# qemu-tcg: #NP error 0x852 (SDM: IDT index, 0x42a)\n");
    else
        ASSERT_EQ(rt_fault.error, 0x85 * 8 + 2);
}

void test_main(void)
{
    RUN_TEST(test_pit_irq0);
    RUN_TEST(test_sti_shadow);
    RUN_TEST(test_mov_ss_shadow);
    RUN_TEST(test_exception_priority);
    RUN_TEST(test_double_fault);
}
