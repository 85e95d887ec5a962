/*
 * lm64_fused_jcc: a register CMP, TEST, SUB, ADD or AND directly
 * followed by a Jcc, which nest86 runs as one fused step (cpu/fuse.c),
 * must branch exactly as the Jcc on its own would and leave the same
 * flags and result.  For every condition code, every fused setter form
 * (CMP, SUB, ADD and AND with a register either way round or an
 * immediate, TEST in 64, 32 and 8 bits, CMP AL or a byte register and
 * TEST AL/EAX/RAX with an immediate)
 * and operands at the edges (zero, one, all ones, the sign boundaries,
 * equal values), the pair is run as written and with a NOP between the
 * two (not fused), and both are checked against the condition computed
 * here from the operands (SDM Vol. 2 Appendix B.1.4); PF (conditions
 * 0xA/0xB) against the low byte's parity.  The RFLAGS image after the
 * pair must match the unfused run's.  The same for CMP then SETcc.
 */
#include "rt.h"

#define FLAGS_MASK 0x8d5ull /* OF SF ZF AF PF CF */

/* One pair: 'setter' (operands %[a] and %[b]) then Jcc, 'gap' between
 * them; returns whether it branched, the flags after it in *fl and the
 * register %[a] after it in *out. */
#define PAIR(name, cc, mn, setter, gap)                                                   \
    static int name##_##cc(uint64_t a, uint64_t b, uint64_t *fl, uint64_t *out)           \
    {                                                                                    \
        int t;                                                                           \
        uint64_t f;                                                                      \
        asm volatile(setter "\n\t" gap "j" #mn " 1f\n\t"                                  \
                     "movl $0, %[t]\n\t"                                                 \
                     "jmp 2f\n"                                                          \
                     "1: movl $1, %[t]\n"                                                \
                     "2: pushfq\n\t"                                                     \
                     "popq %[f]"                                                         \
                     : [t] "=&r"(t), [f] "=&r"(f), [a] "+r"(a)                          \
                     : [b] "r"(b)                                                        \
                     : "rax", "cc"); /* rax: the accumulator forms' */                   \
        *fl = f;                                                                         \
        *out = a;                                                                        \
        return t;                                                                        \
    }

/* The setter forms: name, instruction, operand size, the operation
 * (0 a - b, 1 a + b, 2 a & b) and the immediate the form uses in place
 * of b (0: b itself). */
#define FORMS(M)                                                   \
    M(cmp64, "cmpq %[b], %[a]", 8, 0, 0)                           \
    M(cmp64r, "%{load%} cmpq %[b], %[a]", 8, 0, 0)                 \
    M(cmp32, "cmpl %k[b], %k[a]", 4, 0, 0)                         \
    M(cmp32r, "%{load%} cmpl %k[b], %k[a]", 4, 0, 0)               \
    M(cmpi8, "cmpq $-2, %[a]", 8, 0, -2)                           \
    M(cmpi32, "cmpl $0x7ffffff0, %k[a]", 4, 0, 0x7ffffff0)         \
    M(sub64, "subq %[b], %[a]", 8, 0, 0)                           \
    M(sub32, "subl %k[b], %k[a]", 4, 0, 0)                         \
    M(subi64, "subq $0x1234567, %[a]", 8, 0, 0x1234567)            \
    M(subi32, "subl $1, %k[a]", 4, 0, 1)                           \
    M(add64, "addq %[b], %[a]", 8, 1, 0)                           \
    M(add64r, "%{load%} addq %[b], %[a]", 8, 1, 0)                 \
    M(add32, "addl %k[b], %k[a]", 4, 1, 0)                         \
    M(add32r, "%{load%} addl %k[b], %k[a]", 4, 1, 0)               \
    M(addi64, "addq $-1, %[a]", 8, 1, -1)                          \
    M(addi32, "addl $0x40000000, %k[a]", 4, 1, 0x40000000)         \
    M(and64, "andq %[b], %[a]", 8, 2, 0)                           \
    M(and32, "andl %k[b], %k[a]", 4, 2, 0)                         \
    M(andi64, "andq $0x80, %[a]", 8, 2, 0x80)                      \
    M(andi32, "andl $-0x10, %k[a]", 4, 2, -0x10)                   \
    M(test64, "testq %[b], %[a]", 8, 2, 0)                         \
    M(test32, "testl %k[b], %k[a]", 4, 2, 0)                       \
    M(test8, "testb %b[b], %b[a]", 1, 2, 0)                         \
    M(cmpal, "movq %[a], %%rax\n\tcmpb $0x7f, %%al", 1, 0, 0x7f)     \
    M(cmpr8, "cmpb $-0x80, %b[a]", 1, 0, -0x80)                    \
    M(testal, "movq %[a], %%rax\n\ttestb $0x81, %%al", 1, 2, 0x81)   \
    M(testeax, "movq %[a], %%rax\n\ttestl $0x80000001, %%eax", 4, 2, 0x80000001) \
    M(testrax, "movq %[a], %%rax\n\ttestq $-0x10, %%rax", 8, 2, -0x10)

#define PAIRS_CC(cc, mn, name, setter)                                  \
    PAIR(name##_fused, cc, mn, setter, "")                             \
    PAIR(name##_split, cc, mn, setter, "nop\n\t")
/* M(cc, mnemonic suffix, arg1, arg2) for each of the sixteen conditions */
#define FOR_EACH_CC(M, arg1, arg2)                                                  \
    M(0, o, arg1, arg2) M(1, no, arg1, arg2) M(2, b, arg1, arg2)                    \
    M(3, ae, arg1, arg2) M(4, e, arg1, arg2) M(5, ne, arg1, arg2)                   \
    M(6, be, arg1, arg2) M(7, a, arg1, arg2) M(8, s, arg1, arg2)                    \
    M(9, ns, arg1, arg2) M(10, p, arg1, arg2) M(11, np, arg1, arg2)                 \
    M(12, l, arg1, arg2) M(13, ge, arg1, arg2) M(14, le, arg1, arg2)                \
    M(15, g, arg1, arg2)
#define PAIRS_FORM(name, setter, size, op, imm) FOR_EACH_CC(PAIRS_CC, name, setter)
FORMS(PAIRS_FORM)

typedef int (*pair_fn)(uint64_t, uint64_t, uint64_t *, uint64_t *);

/* the sixteen fused and split functions of a form, as two table rows */
#define SIXTEEN(p)                                                                      \
    {p##_0, p##_1, p##_2, p##_3, p##_4, p##_5, p##_6, p##_7, p##_8, p##_9, p##_10, p##_11, \
     p##_12, p##_13, p##_14, p##_15}
#define ROW(name, setter, size, op, imm)                                                    \
    {#name, size, op, (uint64_t)(imm), SIXTEEN(name##_fused), SIXTEEN(name##_split)},

static const struct form {
    const char *name;
    unsigned size, op;
    uint64_t imm;
    pair_fn fused[16], split[16];
} forms[] = {FORMS(ROW)};

static const uint64_t values[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000,
    0x7ffffff0, 0x1234567, 0x7fffffffffffffff, 0x8000000000000000, 0xfffffffffffffffe,
    0xffffffffffffffff, 0x8000000012345678, 0x00000000fffffffe,
};
#define NVALUES (sizeof values / sizeof values[0])

static bool parity_even(uint64_t v)
{
    unsigned n = 0;
    for (unsigned k = 0; k < 8; k++)
        n += (v >> k) & 1;
    return (n & 1) == 0;
}

/* The condition from the operands: op 0 a - b, 1 a + b, 2 a & b. */
static int expected(unsigned size, unsigned op, unsigned cc, uint64_t a, uint64_t b)
{
    unsigned bits = size * 8;
    uint64_t m = size == 8 ? ~0ull : (1ull << bits) - 1;
    a &= m;
    b &= m;
    bool cf, of, zf, sf, pf;
    uint64_t r;
    if (op == 2) {
        r = a & b;
        cf = of = false;
    } else if (op == 1) {
        r = (a + b) & m;
        cf = r < a;
        of = (((a ^ r) & (b ^ r)) >> (bits - 1)) & 1;
    } else {
        r = (a - b) & m;
        cf = a < b;
        of = (((a ^ b) & (a ^ r)) >> (bits - 1)) & 1;
    }
    zf = r == 0;
    sf = (r >> (bits - 1)) & 1;
    pf = parity_even(r);
    bool t;
    switch (cc >> 1) {
    case 0: t = of; break;
    case 1: t = cf; break;
    case 2: t = zf; break;
    case 3: t = cf || zf; break;
    case 4: t = sf; break;
    case 5: t = pf; break;
    case 6: t = sf != of; break;
    default: t = zf || sf != of; break;
    }
    return (cc & 1) ? !t : t;
}

static unsigned checked;

static void test_all_pairs(void)
{
    for (unsigned f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        const struct form *fm = &forms[f];
        for (unsigned cc = 0; cc < 16; cc++) {
            for (unsigned x = 0; x < NVALUES; x++) {
                for (unsigned y = 0; y < NVALUES; y++) {
                    uint64_t a = values[x], b = fm->imm ? fm->imm : values[y];
                    if (fm->imm && y > 0)
                        break; /* the immediate forms have one second operand */
                    uint64_t ff, fs, of, os;
                    /* twice each, so the second run finds the pair decoded
                     * and fused (the first decodes it as it goes) */
                    int tf = 0, ts = 0;
                    for (unsigned rep = 0; rep < 2; rep++) {
                        tf = fm->fused[cc](a, b, &ff, &of);
                        ts = fm->split[cc](a, b, &fs, &os);
                    }
                    int want = expected(fm->size, fm->op, cc, a, b);
                    if (tf != want || ts != want || (ff & FLAGS_MASK) != (fs & FLAGS_MASK) ||
                        of != os) {
                        rt_printf("%s cc %u a %llx b %llx: fused %d split %d want %d, "
                                  "flags %llx/%llx, result %llx/%llx\n",
                                  fm->name, cc, (unsigned long long)a, (unsigned long long)b,
                                  tf, ts, want, (unsigned long long)(ff & FLAGS_MASK),
                                  (unsigned long long)(fs & FLAGS_MASK),
                                  (unsigned long long)of, (unsigned long long)os);
                        ASSERT(false);
                    }
                    checked++;
                }
            }
        }
    }
    rt_printf("fused pairs checked: %u\n", checked);
    ASSERT(checked > 1000);
}

/* A rotate, shift, IMUL or register ALU op whose flags the next
 * instruction overwrites runs without them (cpu_flagless): its result,
 * and the flags after the pair, must be as with a NOP between the two. */
#define ROT_PAIR(name, rot, next, gap)                                                    \
    static uint64_t name(uint64_t a, uint64_t b, uint64_t *fl)                           \
    {                                                                                    \
        uint64_t f;                                                                      \
        asm volatile(rot "\n\t" gap next "\n\t"                                         \
                     "pushfq\n\t"                                                        \
                     "popq %[f]"                                                         \
                     : [f] "=&r"(f), [a] "+r"(a)                                        \
                     : [b] "r"(b)                                                        \
                     : "rax", "cc"); /* rax: the accumulator forms' */                   \
        *fl = f;                                                                         \
        return a;                                                                        \
    }
#define ROT_FORMS(M)                                                  \
    M(ror32_xor, "rorl $7, %k[a]", "xorl %k[b], %k[a]")               \
    M(rol64_add, "rolq $13, %[a]", "addq %[b], %[a]")                 \
    M(ror64_1_test, "rorq $1, %[a]", "testq %[b], %[a]")              \
    M(rol32_cmp, "roll $31, %k[a]", "cmpl $5, %k[a]")                 \
    M(add64_xor, "addq %[b], %[a]", "xorq $0x55, %[a]")               \
    M(sub32_or, "subl %k[b], %k[a]", "orl $1, %k[a]")                 \
    M(xor64_add, "xorq %[b], %[a]", "%{load%} addq %[b], %[a]")       \
    M(shl64_and, "shlq $5, %[a]", "andq %[b], %[a]")                  \
    M(sar32_sub, "sarl $3, %k[a]", "subl $7, %k[a]")                  \
    M(shr64_cmp, "shrq $63, %[a]", "cmpq %[b], %[a]")                 \
    M(imul64_test, "imulq %[b], %[a]", "testq %[a], %[a]")            \
    M(imul32_add, "imull %k[b], %k[a]", "addl $3, %k[a]")             \
    M(cmp64_sub, "cmpq %[b], %[a]", "subq %[b], %[a]")                \
    M(test8_xor, "testb %b[b], %b[a]", "xorl %k[b], %k[a]")           \
    M(andi32_add, "andl $0xff00ff, %k[a]", "addl %k[b], %k[a]")
#define ROT_BOTH(name, rot, next)                                     \
    ROT_PAIR(name##_paired, rot, next, "") ROT_PAIR(name##_apart, rot, next, "nop\n\t")
ROT_FORMS(ROT_BOTH)

/* ROR, MOV, ROR, XOR: the SHA-256 Sigma shape; 'apart' puts a NOP
 * before the XOR */
static uint64_t ror_mov_ror_xor(uint64_t a, int apart, uint64_t *fl)
{
    uint64_t t, f;
    if (apart)
        asm volatile("rorq $6, %[a]\n\tmovq %[a], %[t]\n\trorq $11, %[t]\n\tnop\n\t"
                     "xorq %[t], %[a]\n\tpushfq\n\tpopq %[f]"
                     : [a] "+r"(a), [t] "=&r"(t), [f] "=&r"(f) : : "cc");
    else
        asm volatile("rorq $6, %[a]\n\tmovq %[a], %[t]\n\trorq $11, %[t]\n\t"
                     "xorq %[t], %[a]\n\tpushfq\n\tpopq %[f]"
                     : [a] "+r"(a), [t] "=&r"(t), [f] "=&r"(f) : : "cc");
    *fl = f;
    return a;
}

/* ADD, then ADC reading its CF, then XOR: the ADD keeps its flags */
static uint64_t add_adc_xor(uint64_t a, uint64_t b)
{
    uint64_t t = 0;
    asm volatile("addq %[b], %[a]\n\tadcq $0, %[t]\n\txorq %[t], %[a]"
                 : [a] "+r"(a), [t] "+r"(t) : [b] "r"(b) : "cc");
    return t;
}

/* ROR, then ADC reading its CF, then XOR: the ROR keeps its flags */
static uint64_t ror_adc_xor(uint64_t a)
{
    uint64_t t = 0;
    asm volatile("rorq $1, %[a]\n\tadcq $0, %[t]\n\txorq %[t], %[a]"
                 : [a] "+r"(a), [t] "+r"(t) : : "cc");
    return t;
}

static void test_rotate_then_flag_writer(void)
{
    for (unsigned x = 0; x < NVALUES; x++)
        for (unsigned rep = 0; rep < 2; rep++) {
            ASSERT_EQ(ror_adc_xor(values[x]), values[x] & 1);
            ASSERT_EQ(add_adc_xor(values[x], values[NVALUES - 1 - x]),
                      values[x] + values[NVALUES - 1 - x] < values[x]);
        }
    typedef uint64_t (*rot_fn)(uint64_t, uint64_t, uint64_t *);
#define ROT_ROW(name, rot, next) {#name, name##_paired, name##_apart},
    static const struct {
        const char *name;
        rot_fn paired, apart;
    } rots[] = {ROT_FORMS(ROT_ROW)};
    unsigned n = 0;
    for (unsigned k = 0; k < sizeof rots / sizeof rots[0]; k++)
        for (unsigned x = 0; x < NVALUES; x++)
            for (unsigned y = 0; y < NVALUES; y += 3) {
                uint64_t fp = 0, fa = 0, rp = 0, ra = 0;
                for (unsigned rep = 0; rep < 2; rep++) {
                    rp = rots[k].paired(values[x], values[y], &fp);
                    ra = rots[k].apart(values[x], values[y], &fa);
                }
                if (rp != ra || (fp & FLAGS_MASK) != (fa & FLAGS_MASK)) {
                    rt_printf("%s a %llx b %llx: %llx/%llx flags %llx/%llx\n", rots[k].name,
                              (unsigned long long)values[x], (unsigned long long)values[y],
                              (unsigned long long)rp, (unsigned long long)ra,
                              (unsigned long long)(fp & FLAGS_MASK),
                              (unsigned long long)(fa & FLAGS_MASK));
                    ASSERT(false);
                }
                n++;
            }
    /* two rotates through a move before the XOR (both without flags),
     * against the same with a NOP before the XOR (both with them) */
    for (unsigned x = 0; x < NVALUES; x++) {
        uint64_t fp, fa, rp = 0, ra = 0;
        for (unsigned rep = 0; rep < 2; rep++) {
            rp = ror_mov_ror_xor(values[x], 0, &fp);
            ra = ror_mov_ror_xor(values[x], 1, &fa);
        }
        uint64_t v = values[x];
        uint64_t want = ((v >> 6) | (v << 58)) ^ ((v >> 17) | (v << 47));
        ASSERT_EQ(rp, want);
        ASSERT_EQ(ra, want);
        ASSERT_EQ(fp & FLAGS_MASK, fa & FLAGS_MASK);
    }
    /* one value worked out here: 0x80000001 ror 7 = 0x03000000, xor 1 */
    uint64_t f;
    ASSERT_EQ(ror32_xor_paired(0x80000001, 1, &f), 0x03000001);
    ASSERT(n > 100);
}

/* The multi-precision shapes (Linux's mpihelp_submul_1 and _addmul_1):
 * SUB or ADD, ADC or SBB reading its carry, then an ADD that overwrites
 * the ADC's flags.  nest86 runs such an ADC without computing its own
 * flags (cpu_fuse()), but the carry it adds must still be the SUB's or
 * ADD's: a - b borrows when a < b, a + b carries when the sum wraps
 * (SDM Vol. 1 3.4.3.1, Vol. 2 "ADC", "SBB").  *fl: the flags after the
 * closing ADD, which must be that ADD's alone. */
static uint64_t sub_adc_add(uint64_t a, uint64_t b, uint64_t s, uint64_t *fl, bool load_form)
{
    uint64_t t = 5, f;
    if (load_form) /* ADC r64, r/m64 (13 /r) instead of ADC r/m64, r64 (11 /r) */
        asm volatile("subq %[b], %[a]\n\t%{load%} adcq %[s], %[t]\n\taddq %[b], %[t]\n\t"
                     "pushfq\n\tpopq %[f]"
                     : [a] "+r"(a), [t] "+r"(t), [f] "=&r"(f) : [b] "r"(b), [s] "r"(s) : "cc");
    else
        asm volatile("subq %[b], %[a]\n\tadcq %[s], %[t]\n\taddq %[b], %[t]\n\t"
                     "pushfq\n\tpopq %[f]"
                     : [a] "+r"(a), [t] "+r"(t), [f] "=&r"(f) : [b] "r"(b), [s] "r"(s) : "cc");
    *fl = f;
    return t;
}

static uint64_t add_sbb_add32(uint64_t a, uint64_t b, uint64_t s, uint64_t *fl)
{
    uint64_t t = 5, f;
    asm volatile("addl %k[b], %k[a]\n\tsbbl %k[s], %k[t]\n\tmovq %[b], %[s]\n\t"
                 "addl %k[b], %k[t]\n\tpushfq\n\tpopq %[f]"
                 : [a] "+r"(a), [t] "+r"(t), [s] "+r"(s), [f] "=&r"(f) : [b] "r"(b) : "cc");
    *fl = f;
    return t;
}

/* CMP, then ADC of an immediate and XOR: the immediate forms */
static uint64_t cmp_adci_xor(uint64_t a, uint64_t b)
{
    uint64_t t = 0x100;
    asm volatile("cmpq %[b], %[a]\n\tadcq $7, %[t]\n\txorq %[b], %[a]"
                 : [a] "+r"(a), [t] "+r"(t) : [b] "r"(b) : "cc");
    return t;
}

static void test_carry_chain_flagless(void)
{
    unsigned n = 0;
    for (unsigned x = 0; x < NVALUES; x++)
        for (unsigned y = 0; y < NVALUES; y++) {
            uint64_t a = values[x], b = values[y], s = values[(x + y) % NVALUES];
            uint64_t f1 = 0, f2 = 0, f4 = 0, r1 = 0, r2 = 0, r3 = 0, r4 = 0;
            for (unsigned rep = 0; rep < 3; rep++) { /* the second and third threaded */
                r1 = sub_adc_add(a, b, s, &f1, false);
                r4 = sub_adc_add(a, b, s, &f4, true);
                r2 = add_sbb_add32(a, b, s, &f2);
                r3 = cmp_adci_xor(a, b);
            }
            uint64_t t1 = 5 + s + (a < b);
            uint64_t w1 = t1 + b;
            ASSERT_EQ(r1, w1);
            /* the ADD's flags: CF from its own carry, ZF from its result */
            ASSERT_EQ(f1 & 1, w1 < t1);
            ASSERT_EQ((f1 >> 6) & 1, w1 == 0);
            ASSERT_EQ(r4, w1);
            ASSERT_EQ(f4 & 1, w1 < t1);
            uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
            uint32_t t2 = 5u - (uint32_t)s - (uint32_t)((uint32_t)(a32 + b32) < a32);
            uint32_t w2 = t2 + b32;
            ASSERT_EQ(r2, w2);
            ASSERT_EQ(f2 & 1, w2 < t2);
            ASSERT_EQ(r3, 0x107 + (a < b));
            n++;
        }
    ASSERT(n == NVALUES * NVALUES);
}

/* CMP then SETcc of a register (the carry tests of multi-precision
 * code), which nest86 also fuses: the byte set, the rest of the
 * destination register kept, and the flags, as with a NOP between. */
#define SET_PAIR(name, cc, mn, setter, gap)                                               \
    static uint64_t name##_##cc(uint64_t a, uint64_t b, uint64_t *fl)                     \
    {                                                                                    \
        uint64_t f, d = 0x1111111111111100ull;                                           \
        asm volatile(setter "\n\t" gap "set" #mn " %b[d]\n\t"                             \
                     "pushfq\n\t"                                                        \
                     "popq %[f]"                                                         \
                     : [f] "=&r"(f), [d] "+r"(d), [a] "+r"(a)                           \
                     : [b] "r"(b)                                                        \
                     : "cc");                                                            \
        *fl = f;                                                                         \
        return d;                                                                        \
    }
#define SET_FORMS(M)                                                  \
    M(scmp64, "cmpq %[b], %[a]", 8, 0)                                \
    M(scmp64r, "%{load%} cmpq %[b], %[a]", 8, 0)                      \
    M(scmp32, "cmpl %k[b], %k[a]", 4, 0)                              \
    M(scmp32r, "%{load%} cmpl %k[b], %k[a]", 4, 0)                    \
    M(scmpi64, "cmpq $-2, %[a]", 8, -2)                               \
    M(scmpi32, "cmpl $0x7ffffff0, %k[a]", 4, 0x7ffffff0)
#define SET_CC(cc, mn, name, setter)                                  \
    SET_PAIR(name##_fused, cc, mn, setter, "") SET_PAIR(name##_split, cc, mn, setter, "nop\n\t")
#define SET_FORM(name, setter, size, imm) FOR_EACH_CC(SET_CC, name, setter)
SET_FORMS(SET_FORM)

typedef uint64_t (*set_fn)(uint64_t, uint64_t, uint64_t *);
#define SET_ROW(name, setter, size, imm)                                                   \
    {#name, size, (uint64_t)(imm), SIXTEEN(name##_fused), SIXTEEN(name##_split)},
static const struct set_form {
    const char *name;
    unsigned size;
    uint64_t imm;
    set_fn fused[16], split[16];
} set_forms[] = {SET_FORMS(SET_ROW)};

static void test_cmp_setcc(void)
{
    unsigned n = 0;
    for (unsigned f = 0; f < sizeof set_forms / sizeof set_forms[0]; f++) {
        const struct set_form *fm = &set_forms[f];
        for (unsigned cc = 0; cc < 16; cc++)
            for (unsigned x = 0; x < NVALUES; x++)
                for (unsigned y = 0; y < NVALUES; y++) {
                    if (fm->imm && y > 0)
                        break;
                    uint64_t a = values[x], b = fm->imm ? fm->imm : values[y];
                    uint64_t ff = 0, fs = 0, df = 0, ds = 0;
                    for (unsigned rep = 0; rep < 2; rep++) {
                        df = fm->fused[cc](a, b, &ff);
                        ds = fm->split[cc](a, b, &fs);
                    }
                    uint64_t want = 0x1111111111111100ull |
                                    (uint64_t)expected(fm->size, 0, cc, a, b);
                    if (df != want || ds != want || (ff & FLAGS_MASK) != (fs & FLAGS_MASK)) {
                        rt_printf("%s cc %u a %llx b %llx: fused %llx split %llx want %llx\n",
                                  fm->name, cc, (unsigned long long)a, (unsigned long long)b,
                                  (unsigned long long)df, (unsigned long long)ds,
                                  (unsigned long long)want);
                        ASSERT(false);
                    }
                    n++;
                }
    }
    rt_printf("cmp+setcc pairs checked: %u\n", n);
    ASSERT(n > 1000);
}

void test_main(void)
{
    RUN_TEST(test_all_pairs);
    RUN_TEST(test_rotate_then_flag_writer);
    RUN_TEST(test_carry_chain_flagless);
    RUN_TEST(test_cmp_setcc);
}
