/* cpu/sse_cvt.c — SSE/SSE2 conversions: 0F 2A, 2C, 2D, 5A, 5B, E6
 * (SDM Vol. 2 CVT* pages; rounding per MXCSR.RC, truncating forms
 * round toward zero; out-of-range integer results are the "integer
 * indefinite" 0x80...0 with #I). */
#include "cpu/simd.h"
#include "cpu/sse_host.h"

HOST2(h_cvtdq2ps, "cvtdq2ps")
HOST2(h_cvtdq2pd, "cvtdq2pd")
HOST2(h_cvtps2dq, "cvtps2dq")
HOST2(h_cvttps2dq, "cvttps2dq")
HOST2(h_cvtpd2dq, "cvtpd2dq")
HOST2(h_cvttpd2dq, "cvttpd2dq")
HOST2(h_cvtps2pd, "cvtps2pd")
HOST2(h_cvtpd2ps, "cvtpd2ps")
HOST2(h_cvtss2sd, "cvtss2sd")
HOST2(h_cvtsd2ss, "cvtsd2ss")

typedef void (*cvt_fn)(union xmm *d, const union xmm *s);

enum cvt_kind {
    CK_NONE,
    CK_XMM,      /* xmm <- xmm/mem */
    CK_FROM_MM,  /* xmm low half <- mm/m64 (CVTPI2PS/PD) */
    CK_TO_MM,    /* mm <- xmm/mem (CVT[T]PS2PI, CVT[T]PD2PI) */
    CK_TO_GPR,   /* r32/64 <- xmm/mem (CVT[T]SS2SI, CVT[T]SD2SI) */
    CK_FROM_GPR, /* xmm <- r/m32/64 (CVTSI2SS/SD) */
};

struct cvt_form {
    cvt_fn fn;
    uint8_t kind;
    uint8_t src;   /* memory source bytes; 16 means aligned m128 */
    uint8_t sel;   /* CK_TO_GPR / CK_FROM_GPR: bit 0 double, bit 1 truncate */
};

static const struct cvt_form forms[0x100][4] = {
    [0x2a] = {{h_cvtdq2ps, CK_FROM_MM, 8, 0}, {h_cvtdq2pd, CK_FROM_MM, 8, 0},
              {0, CK_FROM_GPR, 0, 0}, {0, CK_FROM_GPR, 0, 1}},
    [0x2c] = {{h_cvttps2dq, CK_TO_MM, 8, 0}, {h_cvttpd2dq, CK_TO_MM, 16, 0},
              {0, CK_TO_GPR, 4, 2}, {0, CK_TO_GPR, 8, 3}},
    [0x2d] = {{h_cvtps2dq, CK_TO_MM, 8, 0}, {h_cvtpd2dq, CK_TO_MM, 16, 0},
              {0, CK_TO_GPR, 4, 0}, {0, CK_TO_GPR, 8, 1}},
    [0x5a] = {{h_cvtps2pd, CK_XMM, 8, 0}, {h_cvtpd2ps, CK_XMM, 16, 0},
              {h_cvtss2sd, CK_XMM, 4, 0}, {h_cvtsd2ss, CK_XMM, 8, 0}},
    [0x5b] = {{h_cvtdq2ps, CK_XMM, 16, 0}, {h_cvtps2dq, CK_XMM, 16, 0},
              {h_cvttps2dq, CK_XMM, 16, 0}, {0, CK_NONE, 0, 0}},
    [0xe6] = {{0, CK_NONE, 0, 0}, {h_cvttpd2dq, CK_XMM, 16, 0},
              {h_cvtdq2pd, CK_XMM, 8, 0}, {h_cvtpd2dq, CK_XMM, 16, 0}},
};

/* scalar float/double -> int32/int64 (sel: bit 0 double, bit 1 truncate) */
static uint64_t host_to_int(const union xmm *s, unsigned sel, bool q)
{
    host_xmm a;
    memcpy(&a, s, 16);
    int64_t r64 = 0;
    int32_t r32 = 0;
#define TO_INT(k, insn)                                                        \
    case k:                                                                    \
        if (q)                                                                 \
            __asm__ volatile(insn " %1, %0" : "=r"(r64) : "x"(a));             \
        else                                                                   \
            __asm__ volatile(insn " %1, %0" : "=r"(r32) : "x"(a));             \
        break;
    switch (sel & 3) {
    TO_INT(0, "cvtss2si")
    TO_INT(1, "cvtsd2si")
    TO_INT(2, "cvttss2si")
    default:
    TO_INT(3, "cvttsd2si")
    }
#undef TO_INT
    return q ? (uint64_t)r64 : (uint32_t)r32;
}

/* int32/int64 -> scalar float/double in d's low lane */
static void host_from_int(union xmm *d, uint64_t v, bool dbl, bool q)
{
    host_xmm a;
    memcpy(&a, d, 16);
    int64_t v64 = (int64_t)v;
    int32_t v32 = (int32_t)v;
    if (dbl && q)
        __asm__ volatile("cvtsi2sdq %1, %0" : "+x"(a) : "r"(v64));
    else if (dbl)
        __asm__ volatile("cvtsi2sdl %1, %0" : "+x"(a) : "r"(v32));
    else if (q)
        __asm__ volatile("cvtsi2ssq %1, %0" : "+x"(a) : "r"(v64));
    else
        __asm__ volatile("cvtsi2ssl %1, %0" : "+x"(a) : "r"(v32));
    memcpy(d, &a, 16);
}

void op_sse_cvt(struct cpu *c, const struct insn *i)
{
    unsigned p = sse_prefix(i);
    const struct cvt_form *f = &forms[i->op & 0xff][p];
    if (f->kind == CK_NONE)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
    bool q = i->opsize == 8;
    union xmm s = {0}, d = c->xmm[i->reg];
    uint64_t gpr = 0;
    switch (f->kind) {
    case CK_FROM_MM:
        if (i->mod == 3) {
            mmx_enter(c);
            s.q[0] = mmx_get(c, i->rm);
        } else {
            simd_load(c, i, simd_ea(c, i, 0), &s, 8);
        }
        break;
    case CK_FROM_GPR:
        gpr = rm_read(c, i, q ? 8 : 4);
        break;
    default:
        if (f->src == 16)
            vec_get_rm(c, i, 16, true, &s);
        else
            xmm_get_rm_part(c, i, f->src, &s);
        if (f->kind == CK_TO_MM) {
            mmx_enter(c);
            if (f->src == 8)
                s.q[1] = 0; /* only two singles convert: +0.0 raises nothing */
        }
        break;
    }
    union xmm r = d;
    uint32_t h = sse_fp_begin(c);
    if (f->kind == CK_TO_GPR)
        gpr = host_to_int(&s, f->sel, q);
    else if (f->kind == CK_FROM_GPR)
        host_from_int(&r, gpr, f->sel & 1, q);
    else
        f->fn(&r, &s);
    sse_fp_end(c, h);
    switch (f->kind) {
    case CK_TO_GPR:
        c->r[i->reg] = gpr; /* 32-bit results zero-extend */
        break;
    case CK_TO_MM:
        mmx_set(c, i->reg, r.q[0]);
        break;
    case CK_FROM_MM:
        d.q[0] = r.q[0]; /* CVTPI2PS keeps the upper half; CVTPI2PD fills both */
        if (p == PFX_66)
            d.q[1] = r.q[1];
        c->xmm[i->reg] = d;
        break;
    default:
        c->xmm[i->reg] = r;
        break;
    }
}
