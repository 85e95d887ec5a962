/* cpu/ops_muldiv.c — group 3 (TEST/NOT/NEG/MUL/IMUL/DIV/IDIV) and the
 * two- and three-operand IMUL forms. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

void grp3_not_neg(struct cpu *c, const struct insn *i, unsigned size);

typedef unsigned __int128 u128;
typedef __int128 s128;

static int64_t sx(uint64_t v, unsigned size)
{
    unsigned sh = 64 - 8 * size;
    return (int64_t)(v << sh) >> sh;
}

/* CF = OF = "the upper half is significant"; SF/ZF/AF/PF are undefined
 * by the SDM: take SF/ZF/PF from the low half, AF clear. */
static void mul_flags(struct cpu *c, unsigned size, uint64_t lo, bool overflow)
{
    /* kept lazily: CF = OF = overflow; SF/ZF/PF from the low half (the
     * SDM leaves them undefined), AF clear — see LF_MUL in flags.c */
    lf_set(c, LF_MUL, size, 0, overflow, lo);
}

static void set_pair(struct cpu *c, unsigned size, uint64_t lo, uint64_t hi)
{
    if (size == 1) {
        c->r[R_RAX] = (c->r[R_RAX] & ~0xffffull) | (lo & 0xff) | ((hi & 0xff) << 8);
        return;
    }
    struct insn none = {0};
    reg_write(c, &none, R_RAX, size, lo);
    reg_write(c, &none, R_RDX, size, hi);
}

static void do_mul(struct cpu *c, unsigned size, uint64_t src)
{
    uint64_t a = c->r[R_RAX] & size_mask(size);
    u128 p = (u128)a * (src & size_mask(size));
    uint64_t lo, hi;
    if (size == 8) {
        lo = (uint64_t)p;
        hi = (uint64_t)(p >> 64);
    } else {
        lo = (uint64_t)p & size_mask(size);
        hi = (uint64_t)(p >> (size * 8)) & size_mask(size);
    }
    set_pair(c, size, lo, hi);
    mul_flags(c, size, lo, hi != 0);
}

static void do_imul1(struct cpu *c, unsigned size, uint64_t src)
{
    s128 p = (s128)sx(c->r[R_RAX], size) * sx(src, size);
    uint64_t lo = (uint64_t)p & size_mask(size);
    uint64_t hi = size == 8 ? (uint64_t)(p >> 64) : (uint64_t)(p >> (size * 8)) & size_mask(size);
    set_pair(c, size, lo, hi);
    mul_flags(c, size, lo, p != (s128)sx(lo, size));
}

static void do_div(struct cpu *c, unsigned size, uint64_t src, bool sign)
{
    uint64_t m = size_mask(size);
    src &= m;
    if (src == 0)
        cpu_raise_noerr(c, EX_DE);
    u128 num;
    if (size == 1)
        num = c->r[R_RAX] & 0xffff;
    else if (size == 8)
        num = ((u128)c->r[R_RDX] << 64) | c->r[R_RAX];
    else
        num = ((u128)(c->r[R_RDX] & m) << (size * 8)) | (c->r[R_RAX] & m);
    uint64_t q, r;
    if (!sign) {
        u128 qq = num / src;
        if (qq > m)
            cpu_raise_noerr(c, EX_DE);
        q = (uint64_t)qq;
        r = (uint64_t)(num % src);
    } else {
        unsigned bits = size * 16;
        s128 n = bits == 128 ? (s128)num : ((s128)(num << (128 - bits)) >> (128 - bits));
        s128 d = sx(src, size);
        if (n == -((s128)1 << 126) * 2 && d == -1) /* INT128_MIN / -1 */
            cpu_raise_noerr(c, EX_DE);
        s128 qq = n / d, rr = n % d;
        s128 lim = (s128)1 << (size * 8 - 1);
        if (qq >= lim || qq < -lim)
            cpu_raise_noerr(c, EX_DE);
        q = (uint64_t)qq & m;
        r = (uint64_t)rr & m;
    }
    set_pair(c, size, q, r);
    /* flags are undefined after DIV/IDIV; leave them as they were */
}

void op_grp3(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    switch (i->reg & 7) {
    case 0:
    case 1:
        alu_op(c, 4, size, rm_read(c, i, size), i->imm);
        return;
    case 2:
    case 3:
        grp3_not_neg(c, i, size);
        return;
    case 4: do_mul(c, size, rm_read(c, i, size)); return;
    case 5: do_imul1(c, size, rm_read(c, i, size)); return;
    case 6: do_div(c, size, rm_read(c, i, size), false); return;
    default: do_div(c, size, rm_read(c, i, size), true); return;
    }
}

static uint64_t imul2(struct cpu *c, unsigned size, uint64_t a, uint64_t b)
{
    s128 p = (s128)sx(a, size) * sx(b, size);
    uint64_t lo = (uint64_t)p & size_mask(size);
    mul_flags(c, size, lo, p != (s128)sx(lo, size));
    return lo;
}

void op_imul_GE(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t r = imul2(c, size, reg_read(c, i, i->reg, size), rm_read(c, i, size));
    reg_write(c, i, i->reg, size, r);
}

void op_imul_GEI(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t r = imul2(c, size, rm_read(c, i, size), i->imm);
    reg_write(c, i, i->reg, size, r);
}
