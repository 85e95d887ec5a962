/* cpu/sse_move.c — MMX/SSE/SSE2 data movement, shuffles, immediate
 * shifts and mask extraction (SDM Vol. 2, the MOV*, PSHUF*, PEXTRW,
 * PINSRW, PMOVMSKB, MOVMSKP*, SHUFP*, UNPCK*P*, MASKMOV* pages). */
#include "cpu/simd_fast.h"

/* Vector width from the prefix of an MMX/SSE2 pair: 66 selects xmm. */
static unsigned pair_width(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    if (i->p66) {
        sse_check(c);
        return 16;
    }
    mmx_enter(c);
    return 8;
}

/* Writes the low 'bytes' of v to the ModRM.rm operand: an xmm register
 * keeps its other bytes (MOVSS/MOVSD/MOVLPS register forms), memory
 * gets exactly 'bytes'. */
static void xmm_put_rm(struct cpu *c, const struct insn *i, const union xmm *v, unsigned bytes,
                       bool align)
{
    if (i->mod == 3) {
        memcpy(c->xmm[i->rm].b, v->b, bytes);
        return;
    }
    simd_store(c, i, simd_ea(c, i, align ? 16 : 0), v, bytes);
}

static void mm_put_rm(struct cpu *c, const struct insn *i, uint64_t v)
{
    if (i->mod == 3)
        mmx_set(c, i->rm, v);
    else
        simd_store(c, i, simd_ea(c, i, 0), &v, 8);
}

/* 0F 10 / 0F 11: MOVUPS, MOVUPD, MOVSS, MOVSD */
void op_sse_movu(struct cpu *c, const struct insn *i)
{
    sse_check(c);
    unsigned p = sse_prefix(i);
    unsigned bytes = p == PFX_F3 ? 4 : p == PFX_F2 ? 8 : 16;
    union xmm v;
    if (i->op == 0x111) {
        xmm_put_rm(c, i, &c->xmm[i->reg], bytes, false);
        return;
    }
    if (bytes == 16 || i->mod != 3) {
        xmm_get_rm_part(c, i, bytes, &v); /* memory scalar loads zero the rest */
        c->xmm[i->reg] = v;
    } else {
        memcpy(c->xmm[i->reg].b, c->xmm[i->rm].b, bytes);
    }
}

/* 0F 28 / 0F 29: MOVAPS, MOVAPD (0F 2B: MOVNTPS/PD, memory only) */
void op_sse_mova(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    if (i->op == 0x128) {
        vec_get_rm(c, i, 16, true, &c->xmm[i->reg]);
        return;
    }
    xmm_put_rm(c, i, &c->xmm[i->reg], 16, true);
}

/* 0F 12/13/16/17: the 64-bit halves (MOVLPS/MOVHLPS/MOVLPD, MOVHPS/
 * MOVLHPS/MOVHPD) and SSE3's MOVSLDUP/MOVSHDUP/MOVDDUP. */
void op_sse_movhl(struct cpu *c, const struct insn *i)
{
    sse_check(c);
    unsigned p = sse_prefix(i), hi = (i->op & 4) ? 1 : 0;
    union xmm *d = &c->xmm[i->reg], s;
    if (i->op & 1) { /* 13/17 stores */
        if (p >= PFX_F3 || i->mod == 3)
            cpu_raise_noerr(c, EX_UD);
        simd_store(c, i, simd_ea(c, i, 0), &d->q[hi], 8);
        return;
    }
    if (p == PFX_F3) { /* MOVSLDUP / MOVSHDUP */
        vec_get_rm(c, i, 16, true, &s);
        for (unsigned k = 0; k < 4; k++)
            d->d[k] = s.d[(k & ~1u) + hi];
        return;
    }
    if (p == PFX_F2) {
        if (hi)
            cpu_raise_noerr(c, EX_UD);
        xmm_get_rm_part(c, i, 8, &s); /* MOVDDUP */
        d->q[0] = d->q[1] = s.q[0];
        return;
    }
    if (i->mod == 3 && p == PFX_66)
        cpu_raise_noerr(c, EX_UD);
    xmm_get_rm_part(c, i, 8, &s);
    /* register forms: MOVHLPS takes the high half, MOVLHPS the low */
    d->q[hi] = i->mod == 3 && !hi ? s.q[1] : s.q[0];
}

/* 0F 14 / 0F 15: UNPCKLPS/PD, UNPCKHPS/PD */
void op_sse_unpck(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s;
    vec_get_rm(c, i, 16, true, &s);
    vec_unpack(&c->xmm[i->reg], &s, 16, i->p66 ? 8 : 4, i->op == 0x115);
}

/* 0F 54-57: ANDPS/ANDNPS/ORPS/XORPS and the PD forms (bitwise) */
void op_sse_logic(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s, *d = &c->xmm[i->reg];
    vec_get_rm(c, i, 16, true, &s);
    for (unsigned k = 0; k < 2; k++) {
        uint64_t a = d->q[k], b = s.q[k];
        switch (i->op & 3) {
        case 0: d->q[k] = a & b; break;
        case 1: d->q[k] = ~a & b; break;
        case 2: d->q[k] = a | b; break;
        default: d->q[k] = a ^ b; break;
        }
    }
}

/* 0F C6: SHUFPS / SHUFPD */
void op_sse_shuf(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    union xmm s, *d = &c->xmm[i->reg], r;
    unsigned imm = (unsigned)i->imm & 0xff;
    vec_get_rm(c, i, 16, true, &s);
    if (i->p66) {
        r.q[0] = d->q[imm & 1];
        r.q[1] = s.q[(imm >> 1) & 1];
    } else {
        for (unsigned k = 0; k < 4; k++)
            r.d[k] = (k < 2 ? d : &s)->d[(imm >> (2 * k)) & 3];
    }
    *d = r;
}

/* 0F 50: MOVMSKPS / MOVMSKPD (register source only) */
void op_sse_movmsk(struct cpu *c, const struct insn *i)
{
    if (i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    unsigned size = i->p66 ? 8 : 4, m = 0;
    for (unsigned k = 0; k < 16 / size; k++)
        m |= (unsigned)(c->xmm[i->rm].b[k * size + size - 1] >> 7) << k;
    c->r[i->reg] = m;
}

/* 0F 6E: MOVD/MOVQ mm|xmm, r/m32|64 (zero-extended) */
void op_vec_movd_load(struct cpu *c, const struct insn *i)
{
    unsigned n = pair_width(c, i);
    union xmm v = {0};
    v.q[0] = rm_read(c, i, i->opsize == 8 ? 8 : 4);
    vec_set_reg(c, i->reg, n, &v);
}

/* 0F 7E: MOVD/MOVQ r/m32|64, mm|xmm; F3: MOVQ xmm, xmm/m64 */
void op_vec_movd_store(struct cpu *c, const struct insn *i)
{
    if (i->rep == REP_F3) {
        sse_check(c);
        union xmm v;
        xmm_get_rm_part(c, i, 8, &v);
        v.q[1] = 0;
        c->xmm[i->reg] = v;
        return;
    }
    unsigned n = pair_width(c, i);
    union xmm v;
    vec_get_reg(c, i->reg, n, &v);
    rm_write(c, i, i->opsize == 8 ? 8 : 4, v.q[0]);
}

/* 0F 6F: MOVQ mm, mm/m64; 66 MOVDQA; F3 MOVDQU.  0F 7F: the stores. */
void op_vec_mov(struct cpu *c, const struct insn *i)
{
    bool store = i->op == 0x17f;
    if (i->rep == REP_F2)
        cpu_raise_noerr(c, EX_UD);
    if (i->rep == REP_F3 || i->p66) {
        sse_check(c);
        bool align = i->rep != REP_F3;
        if (store)
            xmm_put_rm(c, i, &c->xmm[i->reg], 16, align);
        else
            vec_get_rm(c, i, 16, align, &c->xmm[i->reg]);
        return;
    }
    mmx_enter(c);
    if (store) {
        mm_put_rm(c, i, mmx_get(c, i->reg));
    } else {
        union xmm v;
        vec_get_rm(c, i, 8, false, &v);
        mmx_set(c, i->reg, v.q[0]);
    }
}

/* 0F D6: 66 MOVQ xmm/m64, xmm; F3 MOVQ2DQ; F2 MOVDQ2Q */
void op_vec_movq_d6(struct cpu *c, const struct insn *i)
{
    unsigned p = sse_prefix(i);
    if (p == PFX_NONE || (p != PFX_66 && i->mod != 3))
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    if (p == PFX_66) {
        union xmm v = {.q = {c->xmm[i->reg].q[0], 0}};
        if (i->mod == 3)
            c->xmm[i->rm] = v;
        else
            simd_store(c, i, simd_ea(c, i, 0), &v, 8);
        return;
    }
    mmx_enter(c);
    if (p == PFX_F3) {
        union xmm v = {.q = {mmx_get(c, i->rm), 0}};
        c->xmm[i->reg] = v;
    } else {
        mmx_set(c, i->reg, c->xmm[i->rm].q[0]);
    }
}

/* 0F E7: MOVNTQ m64, mm; 66 MOVNTDQ m128, xmm (memory only) */
void op_vec_movnt(struct cpu *c, const struct insn *i)
{
    unsigned n = pair_width(c, i);
    union xmm v;
    vec_get_reg(c, i->reg, n, &v);
    simd_store(c, i, simd_ea(c, i, n == 16 ? 16 : 0), &v, n);
}

/* 0F C3: MOVNTI m32/64, r32/64 (memory only) */
void op_movnti(struct cpu *c, const struct insn *i)
{
    if (i->rep || i->p66)
        cpu_raise_noerr(c, EX_UD);
    mem_write(c, i->seg, insn_ea(c, i), i->opsize == 8 ? 8 : 4, c->r[i->reg]);
}

/* F2 0F F0: LDDQU (SSE3); 66 0F 38 2A: MOVNTDQA (SSE4.1, aligned) */
void op_sse_load_only(struct cpu *c, const struct insn *i)
{
    bool lddqu = i->op == 0x1f0;
    if (lddqu ? sse_prefix(i) != PFX_F2 : sse_prefix(i) != PFX_66)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    vec_get_rm(c, i, 16, !lddqu, &c->xmm[i->reg]);
}

/* PSHUFD: dword k of r is dword imm[2k+1:2k] of s */
static inline void pshufd_lanes(union xmm *r, const union xmm *s, unsigned imm)
{
    for (unsigned k = 0; k < 4; k++)
        r->d[k] = s->d[(imm >> (2 * k)) & 3];
}

/* 0F 70: PSHUFW (MMX), 66 PSHUFD, F3 PSHUFHW, F2 PSHUFLW */
void op_vec_pshuf(struct cpu *c, const struct insn *i)
{
    unsigned p = sse_prefix(i), imm = (unsigned)i->imm & 0xff;
    unsigned n = 16;
    if (p == PFX_NONE) {
        mmx_enter(c);
        n = 8;
    } else {
        sse_check(c);
    }
    union xmm s, r;
    vec_get_rm(c, i, n, true, &s);
    r = s;
    if (p == PFX_66) {
        pshufd_lanes(&r, &s, imm);
    } else {
        unsigned base = p == PFX_F3 ? 4 : 0; /* which quadword's words move */
        for (unsigned k = 0; k < 4; k++)
            r.w[base + k] = s.w[base + ((imm >> (2 * k)) & 3)];
    }
    vec_set_reg(c, i->reg, n, &r);
}

/* 0F 71/72/73: shifts of the rm register by imm8 (register form only).
 * reg 2 SRL, 4 SRA, 6 SLL; 0F 73 also 3 PSRLDQ and 7 PSLLDQ (xmm only,
 * byte shifts of the whole register). */
void op_vec_shift_imm(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7, size = 2u << (i->op - 0x171); /* 2, 4, 8 */
    unsigned count = (unsigned)i->imm & 0xff;
    bool bytes = i->op == 0x173 && (r == 3 || r == 7);
    bool ok = r == 2 || r == 6 || (r == 4 && i->op != 0x173) || (bytes && i->p66);
    if (!ok)
        cpu_raise_noerr(c, EX_UD);
    unsigned n = pair_width(c, i);
    union xmm v;
    vec_get_reg(c, i->rm, n, &v);
    if (bytes) {
        union xmm out = {0};
        for (unsigned k = 0; k < 16; k++) {
            int from = r == 3 ? (int)(k + count) : (int)k - (int)count;
            if (from >= 0 && from < 16)
                out.b[k] = v.b[from];
        }
        v = out;
    } else {
        vec_shift(&v, n, size, r == 2 ? SH_SRL : r == 4 ? SH_SRA : SH_SLL, count);
    }
    vec_set_reg(c, i->rm, n, &v);
}

/* 0F 77: EMMS — every x87 tag empty (SDM Vol. 1 9.6.3) */
void op_emms(struct cpu *c, const struct insn *i)
{
    if (i->rep || i->p66)
        cpu_raise_noerr(c, EX_UD);
    mmx_enter(c);
    c->fpu.ftw = 0xffff;
}

/* 0F C4: PINSRW mm|xmm, r32/m16, imm8 */
void op_vec_pinsrw(struct cpu *c, const struct insn *i)
{
    unsigned n = pair_width(c, i);
    uint16_t w = (uint16_t)rm_read(c, i, 2);
    union xmm v;
    vec_get_reg(c, i->reg, n, &v);
    v.w[i->imm & (n / 2 - 1)] = w;
    vec_set_reg(c, i->reg, n, &v);
}

/* 0F C5: PEXTRW r32, mm|xmm, imm8 (register source) */
void op_vec_pextrw(struct cpu *c, const struct insn *i)
{
    unsigned n = pair_width(c, i);
    union xmm v;
    vec_get_reg(c, i->rm, n, &v);
    c->r[i->reg] = v.w[i->imm & (n / 2 - 1)];
}

/* 0F D7: PMOVMSKB r32, mm|xmm */
void op_vec_pmovmskb(struct cpu *c, const struct insn *i)
{
    unsigned n = pair_width(c, i), m = 0;
    union xmm v;
    vec_get_reg(c, i->rm, n, &v);
    for (unsigned k = 0; k < n; k++)
        m |= (unsigned)(v.b[k] >> 7) << k;
    c->r[i->reg] = m;
}

/* 0F F7: MASKMOVQ / MASKMOVDQU — bytes of reg whose mask byte (rm) has
 * bit 7 set go to DS:rDI (segment overridable). */
void op_vec_maskmov(struct cpu *c, const struct insn *i)
{
    unsigned n = pair_width(c, i);
    union xmm v, m;
    vec_get_reg(c, i->reg, n, &v);
    vec_get_reg(c, i->rm, n, &m);
    uint64_t ea = c->r[R_RDI] & size_mask(i->adsize);
    bool any = false;
    for (unsigned k = 0; k < n; k++)
        any |= (m.b[k] & 0x80) != 0;
    if (!any)
        return;
    mem_probe_write(c, i->seg, ea, n);
    for (unsigned k = 0; k < n; k++)
        if (m.b[k] & 0x80)
            mem_write(c, i->seg, (ea + k) & size_mask(i->adsize), 1, v.b[k]);
}

/* ---- threaded fast paths (cpu/simd_fast.h) ---- */

/* 66 0F 6F MOVDQA xmm, xmm/m128 (aligned); F3 0F 6F MOVDQU (not) */
SIMD_FAST_INLINE bool movdq_load_fast(struct cpu *c, const struct insn *i, bool align)
{
    union xmm s;
    if (!sse_fast_ok(c) || !xmm_src_fast(c, i, align, &s))
        return false;
    c->xmm[i->reg] = s;
    return true;
}

/* 66 0F 7F MOVDQA xmm/m128, xmm; F3 0F 7F MOVDQU.  A store to a page
 * holding decoded code misses (the TLB keeps no write permission for
 * it) and takes the full handler, which notes the write. */
SIMD_FAST_INLINE bool movdq_store_fast(struct cpu *c, const struct insn *i, bool align)
{
    if (!sse_fast_ok(c))
        return false;
    if (i->mod == 3) {
        c->xmm[i->rm] = c->xmm[i->reg];
        return true;
    }
    uint64_t ea = insn_ea_at(c, i, thread_rip(c, i));
    if (align && (ea & 15))
        return false;
    uint8_t *p = mem_fast_ptr(c, i->seg, ea, 16, MMU_WRITE);
    if (!p)
        return false;
    memcpy(p, &c->xmm[i->reg], 16);
    return true;
}

/* 66 0F 70 PSHUFD xmm, xmm/m128, imm8: as op_vec_pshuf */
SIMD_FAST_INLINE bool pshufd_xmm_fast(struct cpu *c, const struct insn *i)
{
    union xmm s, r;
    if (!sse_fast_ok(c) || !xmm_src_fast(c, i, true, &s))
        return false;
    pshufd_lanes(&r, &s, (unsigned)i->imm & 0xff);
    c->xmm[i->reg] = r;
    return true;
}

#define SSE_MOVE_FAST_FORM(name, full, expr)                                                  \
    static void name(struct cpu *c, const struct insn *i) { full(c, i); }                    \
    SIMD_FAST_INLINE bool name##_fast(struct cpu *c, const struct insn *i) { return expr; }  \
    THREADED_FAST(name)
SSE_MOVE_FAST_FORM(movdqa_load, op_vec_mov, movdq_load_fast(c, i, true))
SSE_MOVE_FAST_FORM(movdqu_load, op_vec_mov, movdq_load_fast(c, i, false))
SSE_MOVE_FAST_FORM(movdqa_store, op_vec_mov, movdq_store_fast(c, i, true))
SSE_MOVE_FAST_FORM(movdqu_store, op_vec_mov, movdq_store_fast(c, i, false))
SSE_MOVE_FAST_FORM(pshufd, op_vec_pshuf, pshufd_xmm_fast(c, i))

bool sse_move_specialize(struct insn *i)
{
    unsigned p = sse_prefix(i);
    if (p != PFX_66 && p != PFX_F3)
        return false;
    bool a = p == PFX_66;
    switch (i->op) {
    case 0x16f:
        i->fn = a ? movdqa_load : movdqu_load;
        i->run = a ? movdqa_load_run : movdqu_load_run;
        return true;
    case 0x17f:
        i->fn = a ? movdqa_store : movdqu_store;
        i->run = a ? movdqa_store_run : movdqu_store_run;
        return true;
    case 0x170:
        if (!a)
            return false; /* F3: PSHUFHW */
        i->fn = pshufd;
        i->run = pshufd_run;
        return true;
    default: return false;
    }
}
