/*
 * lm64_desc: interrupt stack table and descriptor-inspection instructions
 * in 64-bit mode.  IST (SDM Vol. 3A 6.14.5): a gate with IST = n always
 * switches to TSS.ISTn, even without a privilege change, aligned to 16.
 * LAR/LSL/VERR/VERW (SDM Vol. 2A/2B): ZF and the values for code, data,
 * system descriptors and null selectors, with IA-32e's valid-type rules.
 */
#include "rt.h"

#define VEC_IST 0x50
#define SEL_DATA RT_SEL_SPARE          /* 0x70 */
#define SEL_CODE (RT_SEL_SPARE + 8)    /* 0x78 */
#define SEL_GATE (RT_SEL_SPARE + 16)   /* 0x80, 16 bytes: a 64-bit call gate */

static uint8_t ist_stack[4096] __attribute__((aligned(16)));
volatile uint64_t ist_seen_rsp;

__asm__(".text\n.globl ist_entry\n"
        "ist_entry:\n"
        "  mov %rsp, ist_seen_rsp(%rip)\n"
        "  iretq\n");
void ist_entry(void);

static void test_ist_switches_stack(void)
{
    rt_user_init(); /* loads the runtime's GDT with a 64-bit TSS */
    uint64_t top = (uint64_t)(uintptr_t)(ist_stack + sizeof(ist_stack) - 8); /* misaligned on purpose */
    rt_tss.ist[0] = top;
    rt_idt_set_gate(VEC_IST, (uintptr_t)ist_entry, 0x8E, RT_SEL_CODE64);
    uint64_t *gate = rt_idt_gate(VEC_IST);
    gate[0] |= 1ull << 32; /* IST = 1 */
    __asm__ volatile("int %0" ::"i"(VEC_IST) : "memory");
    /* five 8-byte words (SS, RSP, RFLAGS, CS, RIP) below the aligned top */
    ASSERT_EQ(ist_seen_rsp, (top & ~0xfull) - 40);
}

static uint64_t lar(uint16_t sel, bool *zf)
{
    uint64_t v = 0xdead;
    uint8_t z;
    __asm__ volatile("lar %2, %0\n\tsetz %1" : "+r"(v), "=r"(z) : "r"((uint64_t)sel) : "cc");
    *zf = z;
    return v;
}

static uint64_t lsl(uint16_t sel, bool *zf)
{
    uint64_t v = 0xdead;
    uint8_t z;
    __asm__ volatile("lsl %2, %0\n\tsetz %1" : "+r"(v), "=r"(z) : "r"((uint64_t)sel) : "cc");
    *zf = z;
    return v;
}

static bool verr(uint16_t sel)
{
    uint8_t z;
    __asm__ volatile("verr %w1\n\tsetz %0" : "=r"(z) : "r"(sel) : "cc");
    return z;
}

static bool verw(uint16_t sel)
{
    uint8_t z;
    __asm__ volatile("verw %w1\n\tsetz %0" : "=r"(z) : "r"(sel) : "cc");
    return z;
}

static void test_lar_lsl_verr_verw(void)
{
    rt_user_init();
    /* data: limit 0x12345 byte-granular, type 3 (RW, accessed), DPL 0, P, D/B */
    uint64_t data = 0x2345ull | (0x93ull << 40) | (0x1ull << 48) | (1ull << 54);
    /* code: limit 0xfffff, G=1, type 9 (execute-only, accessed), L=1 */
    uint64_t code = 0xffffull | (0x99ull << 40) | (0xfull << 48) | (1ull << 53) | (1ull << 55);
    rt_gdt_set(SEL_DATA, data);
    rt_gdt_set(SEL_CODE, code);
    rt_gdt_set(SEL_GATE, (0x8ull << 16) | (0x8cull << 40)); /* 64-bit call gate, P, DPL 0 */
    rt_gdt_set(SEL_GATE + 8, 0);
    bool zf;
    ASSERT_EQ(lar(SEL_DATA, &zf), (data >> 32) & 0x00f0ff00);
    ASSERT(zf);
    ASSERT_EQ(lsl(SEL_DATA, &zf), 0x12345);
    ASSERT(zf);
    ASSERT_EQ(lsl(SEL_CODE, &zf), 0xffffffff); /* G = 1: scaled limit */
    ASSERT(zf);
    ASSERT(verr(SEL_DATA) && verw(SEL_DATA));
    ASSERT(!verr(SEL_CODE)); /* execute-only code is not readable */
    ASSERT(!verw(SEL_CODE));
    /* a 64-bit call gate is valid for LAR but not for LSL in IA-32e mode */
    lar(SEL_GATE, &zf);
    ASSERT(zf);
    ASSERT_EQ(lsl(SEL_GATE, &zf), 0xdead); /* destination unchanged */
    ASSERT(!zf);
    /* the 64-bit TSS is valid for both */
    ASSERT_EQ(lsl(RT_SEL_TSS, &zf), sizeof(struct rt_tss64) - 1);
    ASSERT(zf);
    /* a null selector: ZF = 0 and nothing loaded */
    ASSERT_EQ(lar(0, &zf), 0xdead);
    ASSERT(!zf);
    ASSERT(!verr(0));
}

void test_main(void)
{
    RUN_TEST(test_ist_switches_stack);
    RUN_TEST(test_lar_lsl_verr_verw);
}
