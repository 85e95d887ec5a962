/*
 * lm64_grp3: TEST r/m, imm (F6/F7 /0), NOT and NEG of a register (F7
 * /2, /3) and MOVSXD r64, m32, each executed many times from the same
 * place, so that their threaded fast paths (cpu/ops_fast.c) run as well
 * as their first, decoding execution (SDM Vol. 2B "TEST", "NOT", "NEG",
 * Vol. 2A "MOVSX/MOVSXD").
 *
 * The expected values come from the SDM's definitions, computed here
 * with other instructions: TEST sets SF, ZF and PF from src AND imm and
 * clears CF and OF (AF undefined: not compared); NOT changes no flag;
 * NEG is 0 - src with CF = (src != 0) and OF, SF, ZF, AF, PF from the
 * subtraction; MOVSXD sign-extends bit 31.
 */
#include "rt.h"

#define FL_CF (1u << 0)
#define FL_PF (1u << 2)
#define FL_AF (1u << 4)
#define FL_ZF (1u << 6)
#define FL_SF (1u << 7)
#define FL_OF (1u << 11)
#define ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

static const uint64_t values[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ull,
    0x123456789abcdef0ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
    0xfffffffffffffff0ull, 0x10, 0x8000000080000080ull,
};
#define NVALUES (sizeof(values) / sizeof(values[0]))
#define ROUNDS 4 /* the first round decodes; the others run threaded */

static volatile uint64_t zero; /* keeps the compiler from folding 0 - x into NEG */

static unsigned parity_flag(uint64_t r)
{
    unsigned ones = 0;
    for (int k = 0; k < 8; k++)
        ones += (unsigned)(r >> k) & 1;
    return ones % 2 ? 0 : FL_PF;
}

static unsigned result_flags(uint64_t r, unsigned bits)
{
    uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
    r &= m;
    return (r == 0 ? FL_ZF : 0) | ((r >> (bits - 1)) & 1 ? FL_SF : 0) | parity_flag(r);
}

/* ---- TEST ---- */

static uint64_t test_flags64(uint64_t v)
{
    uint64_t f;
    __asm__ volatile("testq $-0x7ff0, %1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(v) : "cc");
    return f;
}
static uint64_t test_flags32(uint64_t v)
{
    uint64_t f;
    __asm__ volatile("testl $0x80000081, %k1\n\tpushfq\n\tpopq %0" : "=r"(f) : "r"(v) : "cc");
    return f;
}
static uint64_t test_flags8(uint64_t v)
{
    uint64_t f;
    /* BH without REX: the byte register encodings 4-7 */
    __asm__ volatile("movq %1, %%rbx\n\tshlq $8, %%rbx\n\ttestb $0x81, %%bh\n\tpushfq\n\tpopq %0"
                     : "=r"(f) : "r"(v) : "rbx", "cc");
    return f;
}
static uint64_t test_flags_mem8(const uint64_t *p)
{
    uint64_t f;
    uintptr_t base = (uintptr_t)p - 0x100; /* a disp32 form, as the kernel's field tests */
    __asm__ volatile("testb $0x90, 0x100(%1)\n\tpushfq\n\tpopq %0"
                     : "=r"(f) : "r"(base) : "cc", "memory");
    return f;
}
static uint64_t test_flags_mem64(const uint64_t *p)
{
    uint64_t f;
    __asm__ volatile("testq $0x40000001, (%1)\n\tpushfq\n\tpopq %0"
                     : "=r"(f) : "r"(p) : "cc", "memory");
    return f;
}

static void check_test(const char *form, uint64_t f, uint64_t and_result, unsigned bits)
{
    unsigned want = result_flags(and_result, bits); /* CF = OF = 0 */
    unsigned got = (unsigned)f & (ARITH & ~FL_AF);
    if (got != want)
        rt_fail(RT_FILE, __LINE__, "%s: flags 0x%x, want 0x%x (AND result 0x%llx)", form, got, want,
                (unsigned long long)and_result);
    rt_checks++;
}

static void test_test_imm(void)
{
    static uint64_t cell;
    for (int round = 0; round < ROUNDS; round++)
        for (unsigned k = 0; k < NVALUES; k++) {
            uint64_t v = values[k];
            check_test("test r64, imm32", test_flags64(v), v & 0xffffffffffff8010ull, 64);
            check_test("test r32, imm32", test_flags32(v), v & 0x80000081u, 32);
            check_test("test bh, imm8", test_flags8(v), v & 0x81, 8);
            cell = v;
            check_test("test m8, imm8", test_flags_mem8(&cell), v & 0x90, 8);
            check_test("test m64, imm32", test_flags_mem64(&cell), v & 0x40000001, 64);
        }
}

/* ---- NOT and NEG ---- */

static uint64_t not64(uint64_t v, uint64_t *f)
{
    /* flags set to a known pattern first: NOT must leave them */
    __asm__ volatile("pushq $0x8d5\n\tpopfq\n\tnotq %0\n\tpushfq\n\tpopq %1"
                     : "+r"(v), "=r"(*f) : : "cc");
    return v;
}
static uint64_t not32(uint64_t v, uint64_t *f)
{
    __asm__ volatile("pushq $0x2\n\tpopfq\n\tnotl %k0\n\tpushfq\n\tpopq %1"
                     : "+r"(v), "=r"(*f) : : "cc");
    return v;
}
static uint64_t neg64(uint64_t v, uint64_t *f)
{
    __asm__ volatile("negq %0\n\tpushfq\n\tpopq %1" : "+r"(v), "=r"(*f) : : "cc");
    return v;
}
static uint64_t neg32(uint64_t v, uint64_t *f)
{
    __asm__ volatile("negl %k0\n\tpushfq\n\tpopq %1" : "+r"(v), "=r"(*f) : : "cc");
    return v;
}

/* the flags of 0 - v in 'bits' bits, from their definitions */
static unsigned neg_flags(uint64_t v, unsigned bits)
{
    uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1, sign = 1ull << (bits - 1);
    v &= m;
    uint64_t r = (zero - v) & m;
    return (v != 0 ? FL_CF : 0) | (v == sign ? FL_OF : 0) | (((v ^ r) & 0x10) ? FL_AF : 0) |
           result_flags(r, bits);
}

static void test_not_neg(void)
{
    for (int round = 0; round < ROUNDS; round++)
        for (unsigned k = 0; k < NVALUES; k++) {
            uint64_t v = values[k], f, r;
            r = not64(v, &f);
            ASSERT_EQ(r, v ^ ~0ull);
            ASSERT_EQ(f & ARITH, 0x8d5 & ARITH);
            r = not32(v, &f);
            ASSERT_EQ(r, (v ^ 0xffffffffu) & 0xffffffffu); /* upper half zeroed */
            ASSERT_EQ(f & ARITH, 0);
            r = neg64(v, &f);
            ASSERT_EQ(r, zero - v);
            ASSERT_EQ(f & ARITH, neg_flags(v, 64));
            r = neg32(v, &f);
            ASSERT_EQ(r, (zero - v) & 0xffffffffu);
            ASSERT_EQ(f & ARITH, neg_flags(v, 32));
        }
}

/* ---- MOVSXD r64, m32 ---- */

static void test_movsxd_mem(void)
{
    static uint64_t cells[NVALUES];
    for (unsigned k = 0; k < NVALUES; k++)
        cells[k] = values[k];
    for (int round = 0; round < ROUNDS; round++)
        for (unsigned k = 0; k < NVALUES; k++) {
            uint64_t r;
            __asm__ volatile("movslq (%1), %0" : "=r"(r) : "r"(&cells[k]) : "memory");
            uint64_t lo = values[k] & 0xffffffffu;
            ASSERT_EQ(r, (lo & 0x80000000u) ? lo | 0xffffffff00000000ull : lo);
        }
}

void test_main(void)
{
    RUN_TEST(test_test_imm);
    RUN_TEST(test_not_neg);
    RUN_TEST(test_movsxd_mem);
}
