/* cpu/sse_string.c — the SSE4.2 packed string compares PCMPESTRI,
 * PCMPESTRM, PCMPISTRI, PCMPISTRM (66 0F 3A 60-63), after SDM Vol. 2B
 * 4.1 "Imm8 Control Byte Operation for PCMPESTRI / PCMPESTRM /
 * PCMPISTRI / PCMPISTRM":
 *
 *   imm[1:0]  element format: unsigned bytes, unsigned words, signed
 *             bytes, signed words
 *   imm[3:2]  aggregation: equal any, ranges, equal each, equal ordered
 *   imm[5:4]  polarity: positive, negative, masked positive, masked
 *             negative
 *   imm[6]    index: least/most significant bit; mask: bit/element mask
 *
 * The first operand (ModRM.reg) is the set / ranges / needle, the second
 * (xmm or m128, no alignment required) the string being searched. */
#include "cpu/simd.h"

struct str_fmt {
    unsigned ctl;
    unsigned n; /* elements: 16 bytes or 8 words */
};

static int32_t str_elem(const struct str_fmt *f, const union xmm *v, unsigned k)
{
    switch (f->ctl & 3) {
    case 0: return v->b[k];
    case 1: return v->w[k];
    case 2: return (int8_t)v->b[k];
    default: return (int16_t)v->w[k];
    }
}

/* Implicit length: elements before the first zero one. */
static unsigned str_len_implicit(const struct str_fmt *f, const union xmm *v)
{
    unsigned k = 0;
    while (k < f->n && str_elem(f, v, k) != 0)
        k++;
    return k;
}

/* Explicit length: |rAX| or |rDX| (64-bit with REX.W, else the signed
 * 32-bit register), saturated to the element count. */
static unsigned str_len_explicit(const struct str_fmt *f, uint64_t reg, bool wide)
{
    int64_t v = wide ? (int64_t)reg : (int32_t)reg;
    int64_t n = f->n;
    if (v >= n || v <= -n)
        return f->n;
    return (unsigned)(v < 0 ? -v : v);
}

/* IntRes1 bit j for the string element j, with the SDM's forcing of
 * comparisons that involve invalid elements (Table 4-7): equal any and
 * ranges never match an invalid element; equal each matches where both
 * are invalid; equal ordered matches once the needle has run out. */
static bool str_match(const struct str_fmt *f, const union xmm *a, unsigned la,
                      const union xmm *b, unsigned lb, unsigned j)
{
    unsigned n = f->n;
    switch ((f->ctl >> 2) & 3) {
    case 0: /* equal any */
        for (unsigned i = 0; j < lb && i < la; i++)
            if (str_elem(f, a, i) == str_elem(f, b, j))
                return true;
        return false;
    case 1: /* ranges: pairs (a[i], a[i+1]) are inclusive [low, high] */
        for (unsigned i = 0; j < lb && i + 1 < la; i += 2) {
            int32_t v = str_elem(f, b, j);
            if (v >= str_elem(f, a, i) && v <= str_elem(f, a, i + 1))
                return true;
        }
        return false;
    case 2: /* equal each */
        if (j >= la || j >= lb)
            return j >= la && j >= lb;
        return str_elem(f, a, j) == str_elem(f, b, j);
    default: /* equal ordered: the needle a starts at b[j] */
        for (unsigned k = 0; k < la && j + k < n; k++)
            if (j + k >= lb || str_elem(f, a, k) != str_elem(f, b, j + k))
                return false;
        return true;
    }
}

void op_sse_pcmpstr(struct cpu *c, const struct insn *i)
{
    sse_check_66(c, i);
    struct str_fmt f = {.ctl = (unsigned)i->imm & 0xff};
    f.n = (f.ctl & 1) ? 8 : 16;
    union xmm b;
    vec_get_rm(c, i, 16, false, &b);
    const union xmm a = c->xmm[i->reg];
    bool explicit_len = !(i->op & 2), index = i->op & 1;
    bool wide = i->opsize == 8;
    unsigned la = explicit_len ? str_len_explicit(&f, c->r[R_RAX], wide) : str_len_implicit(&f, &a);
    unsigned lb = explicit_len ? str_len_explicit(&f, c->r[R_RDX], wide) : str_len_implicit(&f, &b);

    uint32_t res = 0;
    for (unsigned j = 0; j < f.n; j++)
        res |= (uint32_t)str_match(&f, &a, la, &b, lb, j) << j;
    switch ((f.ctl >> 4) & 3) { /* polarity: IntRes2 */
    case 1: res ^= (1u << f.n) - 1; break;
    case 3: res ^= (1u << lb) - 1; break; /* only the valid string elements */
    default: break;
    }

    if (index) {
        unsigned idx = f.n;
        if (res)
            idx = (f.ctl & 0x40) ? 31u - (unsigned)__builtin_clz(res) : (unsigned)__builtin_ctz(res);
        c->r[R_RCX] = idx; /* ECX, zero-extended */
    } else {
        union xmm m = {0};
        if (f.ctl & 0x40) {
            unsigned size = 16 / f.n;
            for (unsigned j = 0; j < f.n; j++)
                memset(m.b + j * size, (res >> j) & 1 ? 0xff : 0, size);
        } else {
            m.d[0] = res;
        }
        c->xmm[0] = m;
    }
    flags_set_arith(c, (res ? FL_CF : 0) | (lb < f.n ? FL_ZF : 0) | (la < f.n ? FL_SF : 0) |
                           ((res & 1) ? FL_OF : 0));
}
