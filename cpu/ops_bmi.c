/* cpu/ops_bmi.c — BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR), BMI2 (BZHI,
 * MULX, PDEP, PEXT, RORX, SARX, SHLX, SHRX) and ADX (ADCX, ADOX).
 * Semantics and flags: SDM Vol. 2.  The BMI forms are VEX-encoded with
 * VEX.L = 0; their operand size is 64 with VEX.W in 64-bit mode, else 32. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

static unsigned bmi_size(struct cpu *c, const struct insn *i)
{
    if (!i->vex || i->vex_l)
        cpu_raise(c, EX_UD, 0);
    return (i->rex & 8) ? 8 : 4;
}

static void set_flags(struct cpu *c, uint32_t set, uint32_t mask)
{
    uint64_t f = cpu_get_flags(c);
    cpu_set_flags(c, (f & ~(uint64_t)mask) | set);
}

static uint32_t zs(uint64_t r, unsigned size)
{
    return (r ? 0 : FL_ZF) | (((r >> (size * 8 - 1)) & 1) ? FL_SF : 0);
}

/* ANDN: reg = ~vvvv & r/m; SF ZF from the result, CF OF cleared */
void op_andn(struct cpu *c, const struct insn *i)
{
    unsigned size = bmi_size(c, i);
    uint64_t r = ~c->r[i->vvvv] & rm_read(c, i, size) & size_mask(size);
    reg_write(c, i, i->reg, size, r);
    set_flags(c, zs(r, size), FL_ZF | FL_SF | FL_CF | FL_OF);
}

/* group 17: BLSR (/1), BLSMSK (/2), BLSI (/3); the destination is vvvv */
void op_grp17(struct cpu *c, const struct insn *i)
{
    unsigned size = bmi_size(c, i), op = i->reg & 7;
    if (op < 1 || op > 3)
        cpu_raise(c, EX_UD, 0);
    uint64_t m = size_mask(size), s = rm_read(c, i, size), r;
    uint32_t f;
    if (op == 1) { /* BLSR: lowest set bit cleared; CF = (src == 0) */
        r = s & (s - 1) & m;
        f = zs(r, size) | (s ? 0 : FL_CF);
    } else if (op == 2) { /* BLSMSK: mask up to the lowest set bit; ZF cleared */
        r = (s ^ (s - 1)) & m;
        f = (zs(r, size) & FL_SF) | (s ? 0 : FL_CF);
    } else { /* BLSI: lowest set bit isolated; CF = (src != 0) */
        r = s & (0 - s) & m;
        f = zs(r, size) | (s ? FL_CF : 0);
    }
    reg_write(c, i, i->vvvv, size, r);
    set_flags(c, f, FL_ZF | FL_SF | FL_CF | FL_OF);
}

static uint64_t pdep(uint64_t src, uint64_t mask)
{
    uint64_t r = 0;
    for (uint64_t bit = 1; mask; bit <<= 1, mask &= mask - 1)
        if (src & bit)
            r |= mask & (0 - mask);
    return r;
}

static uint64_t pext(uint64_t src, uint64_t mask)
{
    uint64_t r = 0;
    for (uint64_t bit = 1; mask; bit <<= 1, mask &= mask - 1)
        if (src & mask & (0 - mask))
            r |= bit;
    return r;
}

/* 0F38 F5: BZHI (no prefix), PEXT (F3), PDEP (F2) */
void op_bzhi_pdep_pext(struct cpu *c, const struct insn *i)
{
    unsigned size = bmi_size(c, i), bits = size * 8;
    uint64_t m = size_mask(size), src = rm_read(c, i, size), r;
    if (i->p66)
        cpu_raise(c, EX_UD, 0);
    if (i->rep == REP_F2) {
        reg_write(c, i, i->reg, size, pdep(c->r[i->vvvv] & m, src));
        return;
    }
    if (i->rep == REP_F3) {
        reg_write(c, i, i->reg, size, pext(c->r[i->vvvv] & m, src));
        return;
    }
    /* BZHI: zero the bits from index vvvv[7:0] up; CF when the index is past the size */
    unsigned n = c->r[i->vvvv] & 0xff;
    bool past = n >= bits;
    r = past ? src : src & ((1ull << n) - 1);
    reg_write(c, i, i->reg, size, r);
    set_flags(c, zs(r, size) | (past ? FL_CF : 0), FL_ZF | FL_SF | FL_CF | FL_OF);
}

/* 0F38 F6: ADCX (66) and ADOX (F3) — legacy-encoded, carry through CF
 * or OF only — and MULX (VEX F2): RDX/EDX * r/m, high half to reg, low
 * half to vvvv, flags untouched. */
void op_adx_mulx(struct cpu *c, const struct insn *i)
{
    if (i->vex) {
        unsigned size = bmi_size(c, i);
        if (i->rep != REP_F2)
            cpu_raise(c, EX_UD, 0);
        uint64_t src = rm_read(c, i, size), lo, hi;
        if (size == 8) {
            unsigned __int128 p = (unsigned __int128)c->r[R_RDX] * src;
            lo = (uint64_t)p;
            hi = (uint64_t)(p >> 64);
        } else {
            uint64_t p = (c->r[R_RDX] & 0xffffffffu) * (src & 0xffffffffu);
            lo = p & 0xffffffffu;
            hi = p >> 32;
        }
        reg_write(c, i, i->vvvv, size, lo);
        reg_write(c, i, i->reg, size, hi); /* the same register twice: the high half wins */
        return;
    }
    bool adox = i->rep == REP_F3;
    if (!(i->p66 ^ adox) || i->rep == REP_F2)
        cpu_raise(c, EX_UD, 0);
    unsigned size = i->opsize == 8 ? 8 : 4;
    uint64_t m = size_mask(size), a = c->r[i->reg] & m, b = rm_read(c, i, size) & m;
    uint64_t f = cpu_get_flags(c);
    uint64_t flag = adox ? FL_OF : FL_CF;
    uint64_t cin = (f & flag) ? 1 : 0;
    uint64_t r = (a + b + cin) & m;
    bool cout = size == 8 ? (r < a || (cin && r == a)) : ((a + b + cin) >> 32) & 1;
    reg_write(c, i, i->reg, size, r);
    cpu_set_flags(c, (f & ~flag) | (cout ? flag : 0));
}

/* 0F38 F7: BEXTR (no prefix), SHLX (66), SARX (F3), SHRX (F2) */
void op_bextr_shiftx(struct cpu *c, const struct insn *i)
{
    unsigned size = bmi_size(c, i), bits = size * 8;
    uint64_t m = size_mask(size), src = rm_read(c, i, size) & m, ctl = c->r[i->vvvv];
    if (!i->p66 && !i->rep) {
        unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff;
        uint64_t r = start >= bits ? 0 : src >> start;
        if (len < 64)
            r &= (1ull << len) - 1;
        reg_write(c, i, i->reg, size, r);
        set_flags(c, r ? 0 : FL_ZF, FL_ZF | FL_CF | FL_OF);
        return;
    }
    unsigned n = ctl & (bits - 1);
    uint64_t r;
    if (i->p66)
        r = (src << n) & m;
    else if (i->rep == REP_F3)
        r = (uint64_t)((int64_t)(src << (64 - bits)) >> (64 - bits + n)) & m;
    else
        r = src >> n;
    reg_write(c, i, i->reg, size, r);
}

/* 0F3A F0 (VEX F2): RORX, rotate right by an immediate, flags untouched */
void op_rorx(struct cpu *c, const struct insn *i)
{
    unsigned size = bmi_size(c, i), bits = size * 8;
    if (i->rep != REP_F2)
        cpu_raise(c, EX_UD, 0);
    uint64_t m = size_mask(size), src = rm_read(c, i, size) & m;
    unsigned n = (unsigned)i->imm & (bits - 1);
    uint64_t r = n ? ((src >> n) | (src << (bits - n))) & m : src;
    reg_write(c, i, i->reg, size, r);
}
