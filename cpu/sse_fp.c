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

/* ---- SSE4.1 DPPS/DPPD (66 0F 3A 40/41): SDM's order of operations,
 * each step rounded by the host under the guest MXCSR ---- */


void op_sse_dp(struct cpu *c, const struct insn *i)
{
    if (sse_prefix(i) != PFX_66)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s, d = c->xmm[i->reg], prod, r = {0};
    unsigned imm = (unsigned)i->imm & 0xff;
    vec_get_rm(c, i, 16, true, &s);
    bool dbl = i->op == 0x341;
    unsigned lanes = dbl ? 2 : 4;
    /* lanes not selected by imm[7:4] contribute +0.0 and raise nothing */
    for (unsigned k = 0; k < lanes; k++)
        if (!((imm >> (4 + k)) & 1)) {
            if (dbl)
                d.q[k] = s.q[k] = 0;
            else
                d.d[k] = s.d[k] = 0;
        }
    prod = d;
    uint32_t h = sse_fp_begin(c);
    if (dbl)
        h_mulpd(&prod, &s);
    else
        h_mulps(&prod, &s);
    union xmm sum = {0};
    if (dbl) {
        union xmm hi = {.q = {prod.q[1], 0}};
        sum.q[0] = prod.q[0];
        h_addsd(&sum, &hi);
    } else {
        union xmm t1 = {.d = {prod.d[0]}}, t2 = {.d = {prod.d[2]}}, b1 = {.d = {prod.d[1]}},
                  b2 = {.d = {prod.d[3]}};
        h_addss(&t1, &b1);
        h_addss(&t2, &b2);
        h_addss(&t1, &t2);
        sum = t1;
    }
    sse_fp_end(c, h);
    for (unsigned k = 0; k < lanes; k++)
        if ((imm >> k) & 1) {
            if (dbl)
                r.q[k] = sum.q[0];
            else
                r.d[k] = sum.d[0];
        }
    c->xmm[i->reg] = r;
}
