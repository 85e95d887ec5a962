/* testsuite/unit/cpu_flags.c — the inline condition and carry paths
 * that the threaded handlers use (cpu_cond_fast(), flag_cf_inline() in
 * cpu/cpu_internal.h) against the full derivation of cpu/flags.c: for
 * every lazy op, operand size and condition code, on edge-case and
 * random operands, whenever the inline path gives an answer it must be
 * the one cpu_cond_slow() and flag_cf_slow() give. */
#include <string.h>

#include "cpu/cpu_internal.h"
#include "testsuite/unit/unit.h"

static const uint64_t edges[] = {
    0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000ull,
    0xffffffffull, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
    0xfffffffffffffffeull, 0xffffffffffffffffull,
};
#define N_EDGES (sizeof edges / sizeof edges[0])

/* random() from its default seed: the same sequence every run */
static uint64_t next_rand(void)
{
    return ((uint64_t)random() << 42) ^ ((uint64_t)random() << 21) ^ (uint64_t)random();
}

static uint64_t pick(void)
{
    uint64_t r = next_rand();
    return (r & 3) ? edges[(r >> 2) % N_EDGES] : next_rand();
}

/* a lazy state as the handlers leave it: 'res' what the op computed */
static void lazy(struct cpu *c, unsigned op, unsigned size, uint64_t a, uint64_t b)
{
    uint64_t m = size_mask(size), res;
    a &= m;
    b &= m;
    bool cin = next_rand() & 1;
    switch (op) {
    case LF_ADD: res = a + b; break;
    case LF_ADC: res = a + b + cin; break;
    case LF_SUB: res = a - b; break;
    case LF_SBB: res = a - b - cin; break;
    case LF_INC: res = a + 1; break;
    case LF_DEC: res = a - 1; break;
    case LF_MUL: b = b & 1; res = a; break;
    case LF_SHL: b = b % (size * 8 - 1) + 1; res = a << b; break;
    case LF_SHR: b = b % (size * 8 - 1) + 1; res = a >> b; break;
    case LF_SAR: b = b % (size * 8 - 1) + 1; res = a >> b; break; /* flags only */
    default: res = a & b; break; /* LF_LOGIC, LF_NONE */
    }
    c->rflags = 0x2 | (next_rand() & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF));
    lf_set(c, (enum lf_op)op, size, a, b, res);
    if (op == LF_NONE)
        c->lf_op = LF_NONE;
}

static void conditions_match(void)
{
    static struct cpu c;
    unsigned answered = 0;
    for (unsigned n = 0; n < 200000; n++) {
        unsigned op = n % (LF_MUL + 1), size = 1u << (next_rand() % 4);
        lazy(&c, op, size, pick(), pick());
        for (unsigned cc = 0; cc < 16; cc++) {
            bool fast;
            if (!cpu_cond_fast(&c, cc, &fast))
                continue;
            answered++;
            bool slow = cpu_cond_slow(&c, cc);
            UNIT_CHECKF(fast == slow, "op %u size %u a %#llx b %#llx res %#llx cc %u: %d, flags say %d",
                        op, size, (unsigned long long)c.lf_a, (unsigned long long)c.lf_b,
                        (unsigned long long)c.lf_res, cc, fast, slow);
        }
    }
    UNIT_CHECK(answered > 1000000);
}

static void carry_matches(void)
{
    static struct cpu c;
    for (unsigned n = 0; n < 200000; n++) {
        unsigned op = n % (LF_MUL + 1), size = 1u << (next_rand() % 4);
        lazy(&c, op, size, pick(), pick());
        UNIT_CHECK(flag_cf(&c) == flag_cf_slow(&c));
        if (flag_cf_inline_ok(&c))
            UNIT_CHECKF(flag_cf_inline(&c) == flag_cf_slow(&c), "op %u size %u", op, size);
    }
}

int main(void)
{
    UNIT_RUN(conditions_match);
    UNIT_RUN(carry_matches);
    return unit_done();
}
