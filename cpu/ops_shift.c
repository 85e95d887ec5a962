/* cpu/ops_shift.c — group 2 shifts and rotates, SHLD/SHRD.
 * Flag rules from SDM Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR",
 * "SHLD", "SHRD": a masked count of 0 changes no flag. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

static uint32_t szp(uint64_t r, unsigned size)
{
    uint32_t f = 0;
    r &= size_mask(size);
    if (r == 0)
        f |= FL_ZF;
    if ((r >> (size * 8 - 1)) & 1)
        f |= FL_SF;
    if (parity8(r))
        f |= FL_PF;
    return f;
}

static inline uint64_t msb(uint64_t v, unsigned size)
{
    return (v >> (size * 8 - 1)) & 1;
}

/* op: ModRM.reg numbering 0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL(=SHL) 7 SAR.
 * The SHL/SHR/SAR flag rules live in cpu/flags.c (LF_SHL/LF_SHR/LF_SAR). */
static uint64_t shift_op(struct cpu *c, unsigned op, unsigned size, uint64_t v, unsigned count)
{
    unsigned bits = size * 8;
    uint64_t m = size_mask(size);
    count &= size == 8 ? 63 : 31;
    if (count == 0)
        return v & m;
    v &= m;
    /* plain shifts keep their flags lazily (LF_SHL/LF_SHR/LF_SAR) */
    if (op >= 4) {
        uint64_t r;
        enum lf_op lf;
        if (op == 5) {
            r = count < 64 ? v >> count : 0;
            lf = LF_SHR;
        } else if (op == 7) {
            int64_t s = (int64_t)(v << (64 - bits)) >> (64 - bits);
            r = (uint64_t)(s >> (count >= bits ? bits - 1 : count)) & m;
            lf = LF_SAR;
        } else {
            r = count < 64 ? (v << count) & m : 0;
            lf = LF_SHL;
        }
        lf_set(c, lf, size, v, count, r);
        return r;
    }
    /* rotates: CF and OF only, computed now */
    uint64_t old = cpu_get_flags(c);
    uint64_t r;
    uint32_t f = old & FL_ARITH;
    bool cf, of;
    switch (op) {
    case 0: { /* ROL */
        unsigned n = count % bits;
        r = n ? ((v << n) | (v >> (bits - n))) & m : v;
        cf = r & 1;
        of = msb(r, size) ^ cf;
        f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    case 1: { /* ROR */
        unsigned n = count % bits;
        r = n ? ((v >> n) | (v << (bits - n))) & m : v;
        cf = msb(r, size);
        of = msb(r, size) ^ ((r >> (bits - 2)) & 1);
        f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    case 2: { /* RCL: rotate through CF, a (bits+1)-bit rotation */
        unsigned n = size < 4 ? count % (bits + 1) : count;
        bool c_in = old & FL_CF;
        r = v;
        cf = c_in;
        for (unsigned k = 0; k < n; k++) {
            bool out = msb(r, size);
            r = ((r << 1) | cf) & m;
            cf = out;
        }
        of = msb(r, size) ^ cf;
        f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    default: { /* RCR */
        unsigned n = size < 4 ? count % (bits + 1) : count;
        bool c_in = old & FL_CF;
        of = msb(v, size) ^ c_in;
        r = v;
        cf = c_in;
        for (unsigned k = 0; k < n; k++) {
            bool out = r & 1;
            r = (r >> 1) | ((uint64_t)cf << (bits - 1));
            cf = out;
        }
        f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
        break;
    }
    }
    flags_set_arith(c, f);
    return r;
}

void op_grp2(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    unsigned count;
    if (i->op <= 0xc1)
        count = (unsigned)i->imm & 0xff;
    else if (i->op <= 0xd1)
        count = 1;
    else
        count = c->r[R_RCX] & 0xff;
    struct rmw at;
    uint64_t v = rmw_read(c, i, size, &at);
    rmw_write(c, i, size, &at, shift_op(c, i->reg & 7, size, v, count));
}

void op_shld_shrd(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize, bits = size * 8;
    bool left = (i->op & 0xff) < 0xa8;
    unsigned count = ((i->op & 1) ? c->r[R_RCX] : i->imm) & (size == 8 ? 63 : 31);
    struct rmw at;
    uint64_t d = rmw_read(c, i, size, &at);
    if (count == 0) {
        rmw_write(c, i, size, &at, d);
        return;
    }
    uint64_t s = reg_read(c, i, i->reg, size), m = size_mask(size), r;
    bool cf;
    /* A 16-bit count above 16 is undefined; shift through the 32-bit pair as Intel does */
    if (size == 2) {
        /* the result of a 16-bit count above 16 is undefined; Intel shifts
         * through d:s:d, which this reproduces */
        uint64_t x = (d << 32) | (s << 16) | d;
        if (left) {
            r = (x >> (32 - count)) & m;
            cf = (x >> (48 - count)) & 1;
        } else {
            r = (x >> count) & m;
            cf = (x >> (count - 1)) & 1;
        }
    } else if (left) {
        r = ((d << count) | (s >> (bits - count))) & m;
        cf = (d >> (bits - count)) & 1;
    } else {
        r = ((d >> count) | (s << (bits - count))) & m;
        cf = (d >> (count - 1)) & 1;
    }
    uint32_t f = szp(r, size) | (cf ? FL_CF : 0) | ((msb(r, size) ^ msb(d, size)) ? FL_OF : 0);
    flags_set_arith(c, f);
    rmw_write(c, i, size, &at, r);
}
