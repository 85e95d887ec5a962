/* cpu/ops_bcd.c — decimal and ASCII adjust (legacy modes only):
 * DAA, DAS, AAA, AAS, AAM, AAD, and SALC.  Pseudocode: SDM Vol. 2A. */
#include "cpu/cpu_internal.h"

static uint32_t szp8(uint8_t v)
{
    return (v ? 0 : FL_ZF) | ((v & 0x80) ? FL_SF : 0) | (parity8(v) ? FL_PF : 0);
}

static uint8_t al(const struct cpu *c)
{
    return (uint8_t)c->r[R_RAX];
}

static void set_al(struct cpu *c, uint8_t v)
{
    c->r[R_RAX] = (c->r[R_RAX] & ~0xffull) | v;
}

void op_daa(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint8_t a = al(c), old = a;
    bool cf = flag_cf(c), af = flag_af(c), ncf;
    if ((a & 0xf) > 9 || af) {
        a += 6;
        af = true;
    } else {
        af = false;
    }
    /* the second step decides CF alone: "ELSE CF := 0" in the SDM's DAA */
    if (old > 0x99 || cf)
        a += 0x60;
    ncf = old > 0x99 || cf;
    set_al(c, a);
    flags_set_arith(c, szp8(a) | (ncf ? FL_CF : 0) | (af ? FL_AF : 0));
}

void op_das(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint8_t a = al(c), old = a;
    bool cf = flag_cf(c), af = flag_af(c), ncf = false;
    if ((a & 0xf) > 9 || af) {
        ncf = cf || a < 6;
        a -= 6;
        af = true;
    } else {
        af = false;
    }
    if (old > 0x99 || cf) {
        a -= 0x60;
        ncf = true;
    }
    set_al(c, a);
    flags_set_arith(c, szp8(a) | (ncf ? FL_CF : 0) | (af ? FL_AF : 0));
}

static void ascii_adjust(struct cpu *c, bool sub)
{
    uint8_t a = al(c);
    bool adj = (a & 0xf) > 9 || flag_af(c);
    uint16_t ax = (uint16_t)c->r[R_RAX];
    if (adj) {
        if (sub) {
            ax = (uint16_t)(ax - 6);
            ax = (uint16_t)(ax - 0x100);
        } else {
            ax = (uint16_t)(ax + 0x106);
        }
    }
    ax &= 0xff0f;
    c->r[R_RAX] = (c->r[R_RAX] & ~0xffffull) | ax;
    flags_set_arith(c, szp8((uint8_t)ax) | (adj ? FL_CF | FL_AF : 0));
}

void op_aaa(struct cpu *c, const struct insn *i)
{
    (void)i;
    ascii_adjust(c, false);
}

void op_aas(struct cpu *c, const struct insn *i)
{
    (void)i;
    ascii_adjust(c, true);
}

void op_aam(struct cpu *c, const struct insn *i)
{
    uint8_t base = (uint8_t)i->imm, a = al(c);
    if (base == 0)
        cpu_raise_noerr(c, EX_DE);
    uint8_t q = a / base, r = a % base;
    c->r[R_RAX] = (c->r[R_RAX] & ~0xffffull) | ((uint64_t)q << 8) | r;
    flags_set_arith(c, szp8(r));
}

void op_aad(struct cpu *c, const struct insn *i)
{
    uint8_t base = (uint8_t)i->imm;
    uint8_t r = (uint8_t)(al(c) + ((c->r[R_RAX] >> 8) & 0xff) * base);
    c->r[R_RAX] = (c->r[R_RAX] & ~0xffffull) | r;
    flags_set_arith(c, szp8(r));
}

void op_salc(struct cpu *c, const struct insn *i)
{
    (void)i;
    set_al(c, flag_cf(c) ? 0xff : 0);
}
