/* cpu/flags.c — lazy arithmetic flags (SDM Vol. 1 3.4.3.1).
 *
 * ADD and ADC share one derivation, as do SUB, SBB, CMP and NEG: the
 * carry out of the top bit follows from the top bits of a, b and the
 * result alone, whatever the carry in was. */
#include "cpu/cpu_internal.h"

static inline uint64_t top(const struct cpu *c, uint64_t v)
{
    return (v >> (c->lf_size * 8 - 1)) & 1;
}

bool parity8(uint64_t v)
{
    return !__builtin_parity((unsigned)(v & 0xff));
}

/* every lazy op's CF (flag_cf() in cpu_internal.h inlines the common ones) */
bool flag_cf_slow(const struct cpu *c)
{
    uint64_t a = c->lf_a, b = c->lf_b, r = c->lf_res;
    switch (c->lf_op) {
    case LF_ADD:
    case LF_ADC: return top(c, (a & b) | ((a | b) & ~r));
    case LF_SUB:
    case LF_SBB: return top(c, (~a & b) | ((~a | b) & r));
    case LF_LOGIC: return false;
    case LF_MUL: return b != 0;
    case LF_SHL: return b <= 8u * c->lf_size ? (a >> (8 * c->lf_size - b)) & 1 : 0;
    case LF_SHR: return b <= 8u * c->lf_size ? (a >> (b - 1)) & 1 : 0;
    case LF_SAR: {
        unsigned bits = 8 * c->lf_size;
        int64_t s = (int64_t)(a << (64 - bits)) >> (64 - bits);
        return b >= bits ? s < 0 : (s >> (b - 1)) & 1;
    }
    default: return c->rflags & FL_CF; /* LF_NONE, INC, DEC keep CF */
    }
}

bool flag_of(const struct cpu *c)
{
    uint64_t a = c->lf_a, b = c->lf_b, r = c->lf_res;
    switch (c->lf_op) {
    case LF_ADD:
    case LF_ADC:
    case LF_INC: return top(c, (a ^ r) & (b ^ r));
    case LF_SUB:
    case LF_SBB:
    case LF_DEC: return top(c, (a ^ b) & (a ^ r));
    case LF_LOGIC: return false;
    case LF_MUL: return b != 0;
    /* SDM "SAL/SAR/SHL/SHR": OF is defined for 1-bit shifts; larger
     * counts give what the 1-bit rule gives, as Intel parts do */
    case LF_SHL: return top(c, r) ^ flag_cf(c);
    case LF_SHR: return top(c, a);
    case LF_SAR: return false;
    default: return c->rflags & FL_OF;
    }
}

bool flag_af(const struct cpu *c)
{
    switch (c->lf_op) {
    case LF_NONE: return c->rflags & FL_AF;
    case LF_LOGIC:
    case LF_MUL:
    case LF_SHL:
    case LF_SHR:
    case LF_SAR: return false; /* undefined by the SDM; nest86 gives 0 */
    default: return ((c->lf_a ^ c->lf_b ^ c->lf_res) >> 4) & 1;
    }
}

bool flag_zf(const struct cpu *c)
{
    return c->lf_op == LF_NONE ? (c->rflags & FL_ZF) != 0 : c->lf_res == 0;
}

bool flag_sf(const struct cpu *c)
{
    return c->lf_op == LF_NONE ? (c->rflags & FL_SF) != 0 : top(c, c->lf_res);
}

bool flag_pf(const struct cpu *c)
{
    return c->lf_op == LF_NONE ? (c->rflags & FL_PF) != 0 : parity8(c->lf_res);
}

void flags_materialize(struct cpu *c)
{
    if (c->lf_op == LF_NONE)
        return;
    uint64_t f = c->rflags & ~(uint64_t)FL_ARITH;
    f |= (flag_cf(c) ? FL_CF : 0) | (flag_pf(c) ? FL_PF : 0) | (flag_af(c) ? FL_AF : 0) |
         (flag_zf(c) ? FL_ZF : 0) | (flag_sf(c) ? FL_SF : 0) | (flag_of(c) ? FL_OF : 0);
    c->rflags = f;
    c->lf_op = LF_NONE;
}

void flags_set_arith(struct cpu *c, uint32_t bits)
{
    c->rflags = (c->rflags & ~(uint64_t)FL_ARITH) | (bits & FL_ARITH);
    c->lf_op = LF_NONE;
}

uint64_t cpu_get_flags(struct cpu *c)
{
    flags_materialize(c);
    return c->rflags | FL_FIXED1;
}

void cpu_set_flags(struct cpu *c, uint64_t v)
{
    c->rflags = (v | FL_FIXED1) & ~(uint64_t)((1u << 3) | (1u << 5) | (1u << 15)) &
                0x3fffffull;
    c->lf_op = LF_NONE;
    cpu_ac_changed(c);
    /* single-stepping, and the one instruction RF covers, run outside
     * blocks (cpu/run.c) */
    if (v & (FL_TF | FL_RF))
        c->pending |= PEND_BREAK;
}

/* SDM Vol. 2 Appendix B.1.4, condition codes tttn, from the flags
 * themselves (cpu_cond() in cpu_internal.h takes shortcuts first). */
bool cpu_cond_slow(const struct cpu *c, unsigned cc)
{
    bool r;
    switch (cc >> 1) {
    case 0: r = flag_of(c); break;
    case 1: r = flag_cf(c); break;
    case 2: r = flag_zf(c); break;
    case 3: r = flag_cf(c) || flag_zf(c); break;
    case 4: r = flag_sf(c); break;
    case 5: r = flag_pf(c); break;
    case 6: r = flag_sf(c) != flag_of(c); break;
    default: r = flag_zf(c) || (flag_sf(c) != flag_of(c)); break;
    }
    return r ^ (cc & 1);
}
