/* cpu/sse_fp.c — SSE/SSE2/SSE3/SSE4.1 floating-point arithmetic with
 * MXCSR semantics (SDM Vol. 1 10.2.3, 11.5).
 *
 * Each operation runs as the same instruction on the host with the
 * guest's rounding control, DAZ and FTZ loaded into the host MXCSR and
 * every exception masked; the flags the host raised are then applied to
 * the guest: merged into MXCSR when masked, or, when one is unmasked,
 * #XM (#UD without CR4.OSXMMEXCPT) with the destination untouched.  This
 * makes results, NaN propagation, denormal handling and flags exact on
 * the x86-64 hosts nest86 requires (cpu/simd.h). */
#include "cpu/simd.h"
#include "cpu/sse_host.h"

uint32_t sse_fp_begin(const struct cpu *c)
{
    uint32_t host, guest = (c->mxcsr & (MXCSR_RC | MXCSR_DAZ | MXCSR_FTZ)) | MXCSR_MASKS;
    __asm__ volatile("stmxcsr %0" : "=m"(host));
    __asm__ volatile("ldmxcsr %0" : : "m"(guest) : "memory");
    return host;
}

uint32_t sse_fp_flags(uint32_t host)
{
    uint32_t now;
    __asm__ volatile("stmxcsr %0" : "=m"(now) : : "memory");
    __asm__ volatile("ldmxcsr %0" : : "m"(host) : "memory");
    return now & MXCSR_FLAGS;
}

/* SDM Vol. 1 11.5.2: with an unmasked pre-computation exception (#I,
 * #D, #Z) post-computation exceptions are not reported; either way the
 * destination is left as it was and the exception is delivered. */
void sse_fp_raise(struct cpu *c, uint32_t flags)
{
    uint32_t unmasked = flags & ~(c->mxcsr >> 7) & MXCSR_FLAGS;
    if (!unmasked) {
        c->mxcsr |= flags;
        return;
    }
    uint32_t pre = flags & (MXCSR_IE | MXCSR_DE | MXCSR_ZE);
    c->mxcsr |= (pre & unmasked) ? pre : flags;
    cpu_raise_noerr(c, (c->mmu.cr4 & CR4_OSXMMEXCPT) ? EX_XM : EX_UD);
}

void sse_fp_end(struct cpu *c, uint32_t host)
{
    sse_fp_raise(c, sse_fp_flags(host));
}

/* ---- two-operand arithmetic: 0F 51-5F, 7C/7D, D0 ---- */

HOST2(h_sqrtps, "sqrtps")
HOST2(h_sqrtpd, "sqrtpd")
HOST2(h_sqrtss, "sqrtss")
HOST2(h_sqrtsd, "sqrtsd")
HOST2(h_rsqrtps, "rsqrtps")
HOST2(h_rsqrtss, "rsqrtss")
HOST2(h_rcpps, "rcpps")
HOST2(h_rcpss, "rcpss")
#define ARITH4(op) HOST2(h_##op##ps, #op "ps") HOST2(h_##op##pd, #op "pd") \
    HOST2(h_##op##ss, #op "ss") HOST2(h_##op##sd, #op "sd")
ARITH4(add)
ARITH4(mul)
ARITH4(sub)
ARITH4(min)
ARITH4(div)
ARITH4(max)
HOST2(h_haddps, "haddps")
HOST2(h_haddpd, "haddpd")
HOST2(h_hsubps, "hsubps")
HOST2(h_hsubpd, "hsubpd")
HOST2(h_addsubps, "addsubps")
HOST2(h_addsubpd, "addsubpd")

typedef void (*host2_fn)(union xmm *d, const union xmm *s);

/* [opcode][PFX_*]: none = PS, 66 = PD, F3 = SS, F2 = SD (SSE3 rows differ) */
#define ROW4(op) {h_##op##ps, h_##op##pd, h_##op##ss, h_##op##sd}
static const host2_fn arith[0x100][4] = {
    [0x51] = ROW4(sqrt),
    [0x52] = {h_rsqrtps, 0, h_rsqrtss, 0},
    [0x53] = {h_rcpps, 0, h_rcpss, 0},
    [0x58] = ROW4(add), [0x59] = ROW4(mul), [0x5c] = ROW4(sub),
    [0x5d] = ROW4(min), [0x5e] = ROW4(div), [0x5f] = ROW4(max),
    [0x7c] = {0, h_haddpd, 0, h_haddps},
    [0x7d] = {0, h_hsubpd, 0, h_hsubps},
    [0xd0] = {0, h_addsubpd, 0, h_addsubps},
};

/* Source operand of an FP form: m128 (aligned) for packed, m32/m64 for
 * scalar; SSE3's F2-prefixed rows are packed. */
static void fp_source(struct cpu *c, const struct insn *i, unsigned p, union xmm *s)
{
    bool scalar = (p == PFX_F3 || p == PFX_F2) && (i->op & 0xff) >= 0x51 &&
                  (i->op & 0xff) <= 0x5f;
    if (scalar)
        xmm_get_rm_part(c, i, p == PFX_F3 ? 4 : 8, s);
    else
        vec_get_rm(c, i, 16, true, s);
}

void op_sse_arith(struct cpu *c, const struct insn *i)
{
    unsigned p = sse_prefix(i);
    host2_fn fn = arith[i->op & 0xff][p];
    if (!fn)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s, d = c->xmm[i->reg];
    fp_source(c, i, p, &s);
    uint32_t h = sse_fp_begin(c);
    fn(&d, &s);
    sse_fp_end(c, h);
    c->xmm[i->reg] = d;
}

/* ---- 0F C2: CMPPS/CMPPD/CMPSS/CMPSD, predicate imm8[2:0] ---- */

HOST2_IMM8(h_cmpps, "cmpps")
HOST2_IMM8(h_cmppd, "cmppd")
HOST2_IMM8(h_cmpss, "cmpss")
HOST2_IMM8(h_cmpsd, "cmpsd")

typedef void (*host_imm_fn)(union xmm *d, const union xmm *s, unsigned imm);

/* Forms k = 0 PS, 1 PD, 2 SS, 3 SD with an immediate operand. */
static void fp_imm_form(struct cpu *c, const struct insn *i, host_imm_fn fn, unsigned k,
                        unsigned imm)
{
    sse_check(c);
    union xmm s, d = c->xmm[i->reg];
    if (k >= 2)
        xmm_get_rm_part(c, i, k == 2 ? 4 : 8, &s);
    else
        vec_get_rm(c, i, 16, true, &s);
    uint32_t h = sse_fp_begin(c);
    fn(&d, &s, imm);
    sse_fp_end(c, h);
    c->xmm[i->reg] = d;
}

void op_sse_cmp(struct cpu *c, const struct insn *i)
{
    static const host_imm_fn fns[4] = {h_cmpps, h_cmppd, h_cmpss, h_cmpsd};
    unsigned p = sse_prefix(i);
    fp_imm_form(c, i, fns[p], p, (unsigned)i->imm & 7);
}

/* ---- 0F 2E/2F: UCOMISS/COMISS, 66: UCOMISD/COMISD ---- */

void op_sse_comis(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s, d = c->xmm[i->reg];
    xmm_get_rm_part(c, i, i->p66 ? 8 : 4, &s);
    unsigned sel = (i->p66 ? 2 : 0) | (i->op & 1);
    uint32_t h = sse_fp_begin(c);
    uint32_t zpc = host_comis(sel, &d, &s);
    sse_fp_end(c, h);
    flags_set_arith(c, zpc);
}

/* ---- SSE4.1 ROUNDPS/PD/SS/SD (66 0F 3A 08-0B) ---- */

HOST2_IMM16(h_roundps, "roundps")
HOST2_IMM16(h_roundpd, "roundpd")
HOST2_IMM16(h_roundss, "roundss")
HOST2_IMM16(h_roundsd, "roundsd")

void op_sse_round(struct cpu *c, const struct insn *i)
{
    static const host_imm_fn fns[4] = {h_roundps, h_roundpd, h_roundss, h_roundsd};
    if (sse_prefix(i) != PFX_66)
        cpu_raise_noerr(c, EX_UD);
    fp_imm_form(c, i, fns[i->op & 3], i->op & 3, (unsigned)i->imm & 15);
}

/* ---- SSE4.1 DPPS/DPPD (66 0F 3A 40/41) ----
 *
 * SDM Vol. 2 DPPS/DPPD: the products of the lanes imm8[7:4] selects
 * (DEST * SRC; the other lanes contribute +0.0 and raise nothing) are
 * summed pairwise, and the sum goes to the lanes imm8[3:0] selects (the
 * others get +0.0).  "Exceptions are determined separately for each add
 * and multiply operation, in the order of their execution": an unmasked
 * one stops the instruction after that step, the destination untouched,
 * with only the flags of the steps done so far.
 *
 * Which NaN comes out is where the SDM's pseudo-code (one sum
 * (T0+T1)+(T2+T3), copied to every selected lane) and Intel hardware
 * part: Intel forms the sum in each lane on its own, the operands of each
 * addition in a lane-dependent order, and an addition of two NaNs returns
 * its first operand's (SDM Vol. 1 4.8.3.5, Table 4-7).  Any other result
 * is the same in every lane, since IEEE addition commutes.  Per lane:
 *
 *   DPPS lane 0: (T1+T0) + (T3+T2)      DPPD lane 0: T0 + T1
 *        lane 1: (T0+T1) + (T2+T3)           lane 1: T1 + T0
 *        lane 2: (T3+T2) + (T1+T0)
 *        lane 3: (T2+T3) + (T0+T1)
 *
 * i.e. U = swap-pairs(T) + T, then sum = U + swap-halves(U).
 *
 * Seen on an Intel host: dpps xmm6, xmm7, 0x76 with T = {-inf, +inf, NaN
 * ffffffff, +0} gives ffc00000 in lane 1 ((T0+T1) = -inf + inf comes
 * first) but ffffffff in lane 2 ((T3+T2) first), where the SDM's single
 * sum gives ffc00000 in both; and with T = {+0, NaN 7fefffff, ffc00000,
 * 00e00000} imm8 e4 gives ffc00000 in lane 2, not 7fefffff.  Both are
 * cases of unit/simd_sse's sse-dp-values, with the arithmetic.  The order
 * inside a pair (T1+T0 in lane 0) and DPPD's order follow the same model
 * (Bochs's) but have not been seen on Intel silicon with two NaN
 * products in one pair; unit/simd_sse's sweep compares these forms with
 * the host on an Intel host and has such states, so it would show it.
 * AMD hosts give the SDM's single sum in every lane. */

static void dp_mask_products(union xmm *d, union xmm *s, unsigned imm, bool dbl)
{
    /* 0 * 0 = +0 raises nothing, whatever the mode */
    for (unsigned k = 0; k < (dbl ? 2u : 4u); k++)
        if (!((imm >> (4 + k)) & 1)) {
            if (dbl)
                d->q[k] = s->q[k] = 0;
            else
                d->d[k] = s->d[k] = 0;
        }
}

/* One step of the instruction: a = op(a, b) on the host, its exceptions
 * delivered (or merged into MXCSR when masked) before the next step. */
static void dp_step(struct cpu *c, host2_fn op, union xmm *a, const union xmm *b)
{
    uint32_t h = sse_fp_begin(c);
    op(a, b);
    sse_fp_end(c, h);
}

void op_sse_dp(struct cpu *c, const struct insn *i)
{
    if (sse_prefix(i) != PFX_66)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s, t = c->xmm[i->reg], r = {0};
    unsigned imm = (unsigned)i->imm & 0xff;
    vec_get_rm(c, i, 16, true, &s);
    bool dbl = i->op == 0x341;
    dp_mask_products(&t, &s, imm, dbl);
    if (dbl) {
        dp_step(c, h_mulpd, &t, &s);
        union xmm sw = {.q = {t.q[1], t.q[0]}};
        dp_step(c, h_addpd, &t, &sw); /* {T0+T1, T1+T0} */
        for (unsigned k = 0; k < 2; k++)
            if ((imm >> k) & 1)
                r.q[k] = t.q[k];
    } else {
        dp_step(c, h_mulps, &t, &s);
        union xmm u = {.d = {t.d[1], t.d[0], t.d[3], t.d[2]}};
        dp_step(c, h_addps, &u, &t); /* {T1+T0, T0+T1, T3+T2, T2+T3} */
        union xmm v = {.d = {u.d[2], u.d[3], u.d[0], u.d[1]}};
        dp_step(c, h_addps, &u, &v);
        for (unsigned k = 0; k < 4; k++)
            if ((imm >> k) & 1)
                r.d[k] = u.d[k];
    }
    c->xmm[i->reg] = r;
}
