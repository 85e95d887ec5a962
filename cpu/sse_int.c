/* cpu/sse_int.c — packed-integer MMX/SSE2/SSSE3/SSE4.1 operations that
 * have the shape "vector op= vector/memory": one table row per opcode
 * names an element-wise routine and the forms it exists in (no prefix:
 * MMX on mm registers; 66: SSE on xmm registers).  SDM Vol. 2 and
 * Vol. 1 chapters 9, 11 and 12 describe each operation. */
#include "cpu/simd_fast.h"

/* ---- element-wise building blocks ---- */

static inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* d[k] = expr(a = d[k], b = s[k]) over every lane of type T. */
#define LANES(name, T, expr)                                                     \
    static void name(union xmm *d, const union xmm *s, unsigned n, unsigned imm) \
    {                                                                            \
        (void)imm;                                                               \
        for (unsigned k = 0; k < n / sizeof(T); k++) {                           \
            T a = LANE_GET(T, d, k), b = LANE_GET(T, s, k);                      \
            (void)a;                                                             \
            LANE_SET(T, d, k, (T)(expr));                                        \
        }                                                                        \
    }

#define SAT_S8(v) clamp64(v, -128, 127)
#define SAT_U8(v) clamp64(v, 0, 255)
#define SAT_S16(v) clamp64(v, -32768, 32767)
#define SAT_U16(v) clamp64(v, 0, 65535)

LANES(padd_b, uint8_t, a + b)
LANES(padd_w, uint16_t, a + b)
LANES(padd_d, uint32_t, a + b)
LANES(padd_q, uint64_t, a + b)
LANES(psub_b, uint8_t, a - b)
LANES(psub_w, uint16_t, a - b)
LANES(psub_d, uint32_t, a - b)
LANES(psub_q, uint64_t, a - b)
LANES(padds_b, int8_t, SAT_S8((int)a + b))
LANES(padds_w, int16_t, SAT_S16((int)a + b))
LANES(paddus_b, uint8_t, SAT_U8((int)a + b))
LANES(paddus_w, uint16_t, SAT_U16((int)a + b))
LANES(psubs_b, int8_t, SAT_S8((int)a - b))
LANES(psubs_w, int16_t, SAT_S16((int)a - b))
LANES(psubus_b, uint8_t, SAT_U8((int)a - b))
LANES(psubus_w, uint16_t, SAT_U16((int)a - b))
LANES(pcmpeq_b, uint8_t, a == b ? 0xff : 0)
LANES(pcmpeq_w, uint16_t, a == b ? 0xffff : 0)
LANES(pcmpeq_d, uint32_t, a == b ? ~0u : 0)
LANES(pcmpeq_q, uint64_t, a == b ? ~0ull : 0)
LANES(pcmpgt_b, int8_t, a > b ? -1 : 0)
LANES(pcmpgt_w, int16_t, a > b ? -1 : 0)
LANES(pcmpgt_d, int32_t, a > b ? -1 : 0)
LANES(pcmpgt_q, int64_t, a > b ? -1 : 0)
LANES(pand, uint64_t, a & b)
LANES(pandn, uint64_t, ~a & b)
LANES(por, uint64_t, a | b)
LANES(pxor, uint64_t, a ^ b)
LANES(pmull_w, uint16_t, (uint32_t)a * b)
LANES(pmull_d, uint32_t, (uint64_t)a * b)
LANES(pmulh_w, int16_t, ((int32_t)a * b) >> 16)
LANES(pmulhu_w, uint16_t, ((uint32_t)a * b) >> 16)
LANES(pmulhrs_w, int16_t, ((((int32_t)a * b) >> 14) + 1) >> 1)
LANES(pmulu_dq, uint64_t, (a & 0xffffffffu) * (b & 0xffffffffu))
LANES(pmul_dq, int64_t, (int64_t)(int32_t)a * (int32_t)b)
LANES(pavg_b, uint8_t, ((unsigned)a + b + 1) >> 1)
LANES(pavg_w, uint16_t, ((unsigned)a + b + 1) >> 1)
LANES(pminu_b, uint8_t, a < b ? a : b)
LANES(pminu_w, uint16_t, a < b ? a : b)
LANES(pminu_d, uint32_t, a < b ? a : b)
LANES(pmins_b, int8_t, a < b ? a : b)
LANES(pmins_w, int16_t, a < b ? a : b)
LANES(pmins_d, int32_t, a < b ? a : b)
LANES(pmaxu_b, uint8_t, a > b ? a : b)
LANES(pmaxu_w, uint16_t, a > b ? a : b)
LANES(pmaxu_d, uint32_t, a > b ? a : b)
LANES(pmaxs_b, int8_t, a > b ? a : b)
LANES(pmaxs_w, int16_t, a > b ? a : b)
LANES(pmaxs_d, int32_t, a > b ? a : b)
LANES(psign_b, int8_t, b < 0 ? -a : b == 0 ? 0 : a)
LANES(psign_w, int16_t, b < 0 ? -a : b == 0 ? 0 : a)
LANES(psign_d, int32_t, b < 0 ? -(int64_t)a : b == 0 ? 0 : a)
LANES(pabs_b, uint8_t, (int8_t)b < 0 ? -b : b)
LANES(pabs_w, uint16_t, (int16_t)b < 0 ? -b : b)
LANES(pabs_d, uint32_t, (int32_t)b < 0 ? -b : b)

/* ---- pairs, sums and lane rearrangement ---- */

static void pmadd_wd(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned k = 0; k < n / 4; k++) {
        int64_t sum = 0;
        for (unsigned h = 0; h < 2; h++)
            sum += (int32_t)LANE_GET(int16_t, d, 2 * k + h) * LANE_GET(int16_t, s, 2 * k + h);
        LANE_SET(uint32_t, d, k, (uint32_t)sum); /* only 0x8000^4 wraps, as on hardware */
    }
}

static void pmaddubs_w(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned k = 0; k < n / 2; k++) {
        int32_t sum = 0;
        for (unsigned h = 0; h < 2; h++)
            sum += (int32_t)d->b[2 * k + h] * (int8_t)s->b[2 * k + h];
        LANE_SET(int16_t, d, k, (int16_t)SAT_S16(sum));
    }
}

static void psad_bw(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    for (unsigned q = 0; q < n / 8; q++) {
        unsigned sum = 0;
        for (unsigned k = 8 * q; k < 8 * q + 8; k++)
            sum += d->b[k] > s->b[k] ? d->b[k] - s->b[k] : s->b[k] - d->b[k];
        d->q[q] = sum;
    }
}

/* Horizontal add/subtract (SSSE3): pairs of d, then pairs of s. */
static void hop(union xmm *d, const union xmm *s, unsigned n, unsigned size, bool sub, bool sat)
{
    union xmm r;
    unsigned half = n / size / 2;
    for (unsigned k = 0; k < 2 * half; k++) {
        const union xmm *src = k < half ? d : s;
        unsigned j = 2 * (k % half);
        int64_t a, b;
        if (size == 2) {
            a = LANE_GET(int16_t, src, j);
            b = LANE_GET(int16_t, src, j + 1);
        } else {
            a = LANE_GET(int32_t, src, j);
            b = LANE_GET(int32_t, src, j + 1);
        }
        int64_t v = sub ? a - b : a + b;
        if (sat)
            v = SAT_S16(v);
        if (size == 2)
            LANE_SET(uint16_t, &r, k, (uint16_t)v);
        else
            LANE_SET(uint32_t, &r, k, (uint32_t)v);
    }
    memcpy(d, &r, n);
}

/* A vec_fn that calls a shared routine with fixed parameters. */
#define VEC_WRAP(name, call) \
    static void name(union xmm *d, const union xmm *s, unsigned n, unsigned imm) \
    { (void)d; (void)s; (void)n; (void)imm; call; }

#define HOP(name, size, sub, sat) VEC_WRAP(name, hop(d, s, n, size, sub, sat))
HOP(phadd_w, 2, false, false)
HOP(phadd_d, 4, false, false)
HOP(phadds_w, 2, false, true)
HOP(phsub_w, 2, true, false)
HOP(phsub_d, 4, true, false)
HOP(phsubs_w, 2, true, true)

/* Narrowing with saturation: lanes of d, then lanes of s. */
static void pack(union xmm *d, const union xmm *s, unsigned n, unsigned in, bool to_signed)
{
    union xmm r;
    unsigned cnt = n / in;
    int64_t lo = to_signed ? -(1ll << (in * 4 - 1)) : 0;
    int64_t hi = to_signed ? (1ll << (in * 4 - 1)) - 1 : (1ll << (in * 4)) - 1;
    for (unsigned k = 0; k < 2 * cnt; k++) {
        const union xmm *src = k < cnt ? d : s;
        int64_t v = in == 2 ? LANE_GET(int16_t, src, k % cnt) : LANE_GET(int32_t, src, k % cnt);
        v = clamp64(v, lo, hi);
        if (in == 2)
            r.b[k] = (uint8_t)v;
        else
            LANE_SET(uint16_t, &r, k, (uint16_t)v);
    }
    memcpy(d, &r, n);
}

#define PACK(name, in, sgn) VEC_WRAP(name, pack(d, s, n, in, sgn))
PACK(packss_wb, 2, true)
PACK(packus_wb, 2, false)
PACK(packss_dw, 4, true)
PACK(packus_dw, 4, false)

/* Interleave the low (or high) halves of d and s. */
void vec_unpack(union xmm *d, const union xmm *s, unsigned n, unsigned size, bool high)
{
    union xmm r;
    unsigned cnt = n / size / 2, base = high ? cnt : 0;
    for (unsigned k = 0; k < cnt; k++) {
        memcpy(r.b + 2 * k * size, d->b + (base + k) * size, size);
        memcpy(r.b + (2 * k + 1) * size, s->b + (base + k) * size, size);
    }
    memcpy(d, &r, n);
}

#define UNPACK(name, size, high) VEC_WRAP(name, vec_unpack(d, s, n, size, high))
UNPACK(punpckl_bw, 1, false)
UNPACK(punpckl_wd, 2, false)
UNPACK(punpckl_dq, 4, false)
UNPACK(punpckl_qdq, 8, false)
UNPACK(punpckh_bw, 1, true)
UNPACK(punpckh_wd, 2, true)
UNPACK(punpckh_dq, 4, true)
UNPACK(punpckh_qdq, 8, true)

/* Shifts by a count (SDM PSLLW etc.): the count is the whole low
 * quadword; counts past the lane width clear (or sign-fill) the lane. */
void vec_shift(union xmm *d, unsigned n, unsigned size, enum vec_shift_kind kind,
               uint64_t count)
{
    unsigned bits = size * 8;
    for (unsigned k = 0; k < n / size; k++) {
        uint64_t v = 0;
        memcpy(&v, d->b + k * size, size);
        if (kind == SH_SRA) {
            int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);
            v = (uint64_t)(sv >> (count >= bits ? bits - 1 : count));
        } else if (count >= bits) {
            v = 0;
        } else {
            v = kind == SH_SLL ? v << count : v >> count;
        }
        memcpy(d->b + k * size, &v, size);
    }
}

#define SHIFT(name, size, kind) VEC_WRAP(name, vec_shift(d, n, size, kind, s->q[0]))
SHIFT(psrl_w, 2, SH_SRL)
SHIFT(psrl_d, 4, SH_SRL)
SHIFT(psrl_q, 8, SH_SRL)
SHIFT(psra_w, 2, SH_SRA)
SHIFT(psra_d, 4, SH_SRA)
SHIFT(psll_w, 2, SH_SLL)
SHIFT(psll_d, 4, SH_SLL)
SHIFT(psll_q, 8, SH_SLL)

static void pshuf_b(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)imm;
    union xmm r;
    for (unsigned k = 0; k < n; k++)
        r.b[k] = (s->b[k] & 0x80) ? 0 : d->b[s->b[k] & (n - 1)];
    memcpy(d, &r, n);
}

/* PALIGNR: (d:s) >> (imm * 8), low n bytes. */
static void palignr(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    uint8_t cat[32];
    memcpy(cat, s->b, n);
    memcpy(cat + n, d->b, n);
    for (unsigned k = 0; k < n; k++)
        d->b[k] = imm + k < 2 * n ? cat[imm + k] : 0;
}

/* ---- SSE4.1 ---- */

/* Blend by immediate: lane k comes from s when imm bit k is set. */
static void blend_imm(union xmm *d, const union xmm *s, unsigned size, unsigned imm)
{
    for (unsigned k = 0; k < 16 / size; k++)
        if ((imm >> k) & 1)
            memcpy(d->b + k * size, s->b + k * size, size);
}

#define BLEND(name, size) VEC_WRAP(name, blend_imm(d, s, size, imm))
BLEND(pblend_w, 2)
BLEND(blend_ps, 4)
BLEND(blend_pd, 8)

BLEND(pblend_b, 1)

/* Sign/zero extension from the low lanes of s. */
static void pmovx(union xmm *d, const union xmm *s, unsigned from, unsigned to, bool sgn)
{
    union xmm r;
    for (unsigned k = 0; k < 16 / to; k++) {
        uint64_t v = 0;
        memcpy(&v, s->b + k * from, from);
        if (sgn)
            v = (uint64_t)((int64_t)(v << (64 - 8 * from)) >> (64 - 8 * from));
        memcpy(r.b + k * to, &v, to);
    }
    *d = r;
}

#define PMOVX(name, from, to, sgn) VEC_WRAP(name, pmovx(d, s, from, to, sgn))
PMOVX(pmovsx_bw, 1, 2, true)
PMOVX(pmovsx_bd, 1, 4, true)
PMOVX(pmovsx_bq, 1, 8, true)
PMOVX(pmovsx_wd, 2, 4, true)
PMOVX(pmovsx_wq, 2, 8, true)
PMOVX(pmovsx_dq, 4, 8, true)
PMOVX(pmovzx_bw, 1, 2, false)
PMOVX(pmovzx_bd, 1, 4, false)
PMOVX(pmovzx_bq, 1, 8, false)
PMOVX(pmovzx_wd, 2, 4, false)
PMOVX(pmovzx_wq, 2, 8, false)
PMOVX(pmovzx_dq, 4, 8, false)

static void phminpos_uw(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    unsigned best = 0;
    for (unsigned k = 1; k < 8; k++)
        if (s->w[k] < s->w[best])
            best = k;
    uint16_t v = s->w[best];
    memset(d, 0, 16);
    d->w[0] = v;
    d->w[1] = (uint16_t)best;
}

/* MPSADBW: eight sums of absolute differences of 4-byte groups; imm[2]
 * picks the d offset (0/4), imm[1:0] the s group. */
static void mpsad_bw(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    union xmm r;
    unsigned doff = (imm & 4) ? 4 : 0, soff = (imm & 3) * 4;
    for (unsigned k = 0; k < 8; k++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 4; j++) {
            int a = d->b[doff + k + j], b = s->b[soff + j];
            sum += (unsigned)(a > b ? a - b : b - a);
        }
        r.w[k] = (uint16_t)sum;
    }
    *d = r;
}

/* ---- the table ---- */

enum {
    V_MMX = 1,       /* no-prefix form on mm registers */
    V_XMM = 2,       /* 66 form on xmm registers */
    V_SRC8 = 4,      /* memory source is 8 bytes (PMOVSX/ZX) */
    V_SRC4 = 8,
    V_SRC2 = 16,
    V_XMM0 = 32,     /* variable blend: mask is XMM0 */
    V_NP = 64,       /* no-prefix form on xmm registers: the SHA extensions */
};

struct vec_op {
    vec_fn fn;
    uint8_t forms;
    /* instead of fn, for SHA256RNDS2: XMM0 is its third operand */
    void (*fn_xmm0)(union xmm *d, const union xmm *s, const union xmm *x0);
};

#define BOTH (V_MMX | V_XMM)
static const struct vec_op vec_ops[0x400] = {
    [0x160] = {punpckl_bw, BOTH}, [0x161] = {punpckl_wd, BOTH}, [0x162] = {punpckl_dq, BOTH},
    [0x163] = {packss_wb, BOTH}, [0x164] = {pcmpgt_b, BOTH}, [0x165] = {pcmpgt_w, BOTH},
    [0x166] = {pcmpgt_d, BOTH}, [0x167] = {packus_wb, BOTH}, [0x168] = {punpckh_bw, BOTH},
    [0x169] = {punpckh_wd, BOTH}, [0x16a] = {punpckh_dq, BOTH}, [0x16b] = {packss_dw, BOTH},
    [0x16c] = {punpckl_qdq, V_XMM}, [0x16d] = {punpckh_qdq, V_XMM},
    [0x174] = {pcmpeq_b, BOTH}, [0x175] = {pcmpeq_w, BOTH}, [0x176] = {pcmpeq_d, BOTH},
    [0x1d1] = {psrl_w, BOTH}, [0x1d2] = {psrl_d, BOTH}, [0x1d3] = {psrl_q, BOTH},
    [0x1d4] = {padd_q, BOTH}, [0x1d5] = {pmull_w, BOTH},
    [0x1d8] = {psubus_b, BOTH}, [0x1d9] = {psubus_w, BOTH}, [0x1da] = {pminu_b, BOTH},
    [0x1db] = {pand, BOTH}, [0x1dc] = {paddus_b, BOTH}, [0x1dd] = {paddus_w, BOTH},
    [0x1de] = {pmaxu_b, BOTH}, [0x1df] = {pandn, BOTH},
    [0x1e0] = {pavg_b, BOTH}, [0x1e1] = {psra_w, BOTH}, [0x1e2] = {psra_d, BOTH},
    [0x1e3] = {pavg_w, BOTH}, [0x1e4] = {pmulhu_w, BOTH}, [0x1e5] = {pmulh_w, BOTH},
    [0x1e8] = {psubs_b, BOTH}, [0x1e9] = {psubs_w, BOTH}, [0x1ea] = {pmins_w, BOTH},
    [0x1eb] = {por, BOTH}, [0x1ec] = {padds_b, BOTH}, [0x1ed] = {padds_w, BOTH},
    [0x1ee] = {pmaxs_w, BOTH}, [0x1ef] = {pxor, BOTH},
    [0x1f1] = {psll_w, BOTH}, [0x1f2] = {psll_d, BOTH}, [0x1f3] = {psll_q, BOTH},
    [0x1f4] = {pmulu_dq, BOTH}, [0x1f5] = {pmadd_wd, BOTH}, [0x1f6] = {psad_bw, BOTH},
    [0x1f8] = {psub_b, BOTH}, [0x1f9] = {psub_w, BOTH}, [0x1fa] = {psub_d, BOTH},
    [0x1fb] = {psub_q, BOTH}, [0x1fc] = {padd_b, BOTH}, [0x1fd] = {padd_w, BOTH},
    [0x1fe] = {padd_d, BOTH},
    /* SSSE3 (0F 38) */
    [0x200] = {pshuf_b, BOTH}, [0x201] = {phadd_w, BOTH}, [0x202] = {phadd_d, BOTH},
    [0x203] = {phadds_w, BOTH}, [0x204] = {pmaddubs_w, BOTH}, [0x205] = {phsub_w, BOTH},
    [0x206] = {phsub_d, BOTH}, [0x207] = {phsubs_w, BOTH}, [0x208] = {psign_b, BOTH},
    [0x209] = {psign_w, BOTH}, [0x20a] = {psign_d, BOTH}, [0x20b] = {pmulhrs_w, BOTH},
    [0x21c] = {pabs_b, BOTH}, [0x21d] = {pabs_w, BOTH}, [0x21e] = {pabs_d, BOTH},
    [0x30f] = {palignr, BOTH},
    /* SSE4.1 (66 0F 38 / 66 0F 3A) */
    [0x210] = {pblend_b, V_XMM | V_XMM0}, [0x214] = {blend_ps, V_XMM | V_XMM0},
    [0x215] = {blend_pd, V_XMM | V_XMM0},
    [0x220] = {pmovsx_bw, V_XMM | V_SRC8}, [0x221] = {pmovsx_bd, V_XMM | V_SRC4},
    [0x222] = {pmovsx_bq, V_XMM | V_SRC2}, [0x223] = {pmovsx_wd, V_XMM | V_SRC8},
    [0x224] = {pmovsx_wq, V_XMM | V_SRC4}, [0x225] = {pmovsx_dq, V_XMM | V_SRC8},
    [0x228] = {pmul_dq, V_XMM}, [0x229] = {pcmpeq_q, V_XMM}, [0x22b] = {packus_dw, V_XMM},
    [0x230] = {pmovzx_bw, V_XMM | V_SRC8}, [0x231] = {pmovzx_bd, V_XMM | V_SRC4},
    [0x232] = {pmovzx_bq, V_XMM | V_SRC2}, [0x233] = {pmovzx_wd, V_XMM | V_SRC8},
    [0x234] = {pmovzx_wq, V_XMM | V_SRC4}, [0x235] = {pmovzx_dq, V_XMM | V_SRC8},
    [0x237] = {pcmpgt_q, V_XMM},
    [0x238] = {pmins_b, V_XMM}, [0x239] = {pmins_d, V_XMM}, [0x23a] = {pminu_w, V_XMM},
    [0x23b] = {pminu_d, V_XMM}, [0x23c] = {pmaxs_b, V_XMM}, [0x23d] = {pmaxs_d, V_XMM},
    [0x23e] = {pmaxu_w, V_XMM}, [0x23f] = {pmaxu_d, V_XMM},
    [0x240] = {pmull_d, V_XMM}, [0x241] = {phminpos_uw, V_XMM},
    [0x30c] = {blend_ps, V_XMM}, [0x30d] = {blend_pd, V_XMM}, [0x30e] = {pblend_w, V_XMM},
    [0x342] = {mpsad_bw, V_XMM},
    /* AES-NI and PCLMULQDQ (cpu/sse_aes.c) */
    [0x2db] = {vec_aesimc, V_XMM}, [0x2dc] = {vec_aesenc, V_XMM},
    [0x2dd] = {vec_aesenclast, V_XMM}, [0x2de] = {vec_aesdec, V_XMM},
    [0x2df] = {vec_aesdeclast, V_XMM}, [0x3df] = {vec_aeskeygenassist, V_XMM},
    [0x344] = {vec_pclmulqdq, V_XMM},
    /* SHA (NP 0F 38 C8-CD, NP 0F 3A CC; cpu/sse_sha.c) */
    [0x2c8] = {vec_sha1nexte, V_NP}, [0x2c9] = {vec_sha1msg1, V_NP},
    [0x2ca] = {vec_sha1msg2, V_NP}, [0x2cb] = {.fn_xmm0 = sha256_rnds2, .forms = V_NP},
    [0x2cc] = {vec_sha256msg1, V_NP}, [0x2cd] = {vec_sha256msg2, V_NP},
    [0x3cc] = {vec_sha1rnds4, V_NP},
};

/* Lane size of the variable blends: PBLENDVB 1, BLENDVPS 4, BLENDVPD 8. */
static unsigned blendv_size(unsigned op)
{
    return op == 0x210 ? 1 : op == 0x214 ? 4 : 8;
}

void op_vec_int(struct cpu *c, const struct insn *i)
{
    const struct vec_op *o = &vec_ops[i->op];
    unsigned form = i->p66 ? V_XMM : (o->forms & V_NP) ? V_NP : V_MMX;
    unsigned n = form == V_MMX ? 8 : 16;
    if ((!o->fn && !o->fn_xmm0) || i->rep || !(o->forms & form))
        cpu_raise_noerr(c, EX_UD);
    if (form == V_NP && !CPU_HAS(c, sha_ni))
        cpu_raise_noerr(c, EX_UD);
    if (n == 16)
        sse_check(c);
    else
        mmx_enter(c);
    union xmm d, s;
    if (o->forms & (V_SRC8 | V_SRC4 | V_SRC2))
        xmm_get_rm_part(c, i, (o->forms & V_SRC8) ? 8 : (o->forms & V_SRC4) ? 4 : 2, &s);
    else
        vec_get_rm(c, i, n, true, &s);
    vec_get_reg(c, i->reg, n, &d);
    unsigned imm = (unsigned)(i->imm & 0xff);
    if (o->forms & V_XMM0) { /* variable blends: the mask is XMM0's lane sign bits */
        unsigned size = blendv_size(i->op);
        imm = 0;
        for (unsigned k = 0; k < 16 / size; k++)
            imm |= (unsigned)(c->xmm[0].b[k * size + size - 1] >> 7) << k;
    }
    if (o->fn_xmm0)
        o->fn_xmm0(&d, &s, &c->xmm[0]);
    else
        o->fn(&d, &s, n, imm);
    vec_set_reg(c, i->reg, n, &d);
}

/* ---- threaded fast paths (cpu/simd_fast.h) ----
 * The rows below run as op_vec_int would for their form — 66 with an
 * xmm destination, or no prefix for the SHA rows — calling the row's
 * own function (vec_ops[op], folded to a direct call). */

/* table row, name: 66 0F.. xmm, xmm/m128 */
#define SSE_INT_FAST_66(M)                                                                   \
    M(0x1fe, paddd) M(0x1d4, paddq) M(0x1fa, psubd) M(0x1ef, pxor) M(0x1eb, por)               \
    M(0x1db, pand) M(0x1df, pandn) M(0x162, punpckldq) M(0x16c, punpcklqdq) M(0x200, pshufb)   \
    M(0x30f, palignr)
/* table row, name: NP 0F 38.. xmm, xmm/m128 (the SHA extensions) */
#define SSE_INT_FAST_NP(M) M(0x2c8, sha1nexte) M(0x2c9, sha1msg1) M(0x2ca, sha1msg2)         \
    M(0x2cc, sha256msg1) M(0x2cd, sha256msg2) M(0x3cc, sha1rnds4)

SIMD_FAST_INLINE bool vec_int_fast(struct cpu *c, const struct insn *i, unsigned op, bool sha)
{
    union xmm s;
    if (!sse_fast_ok(c) || (sha && !CPU_HAS(c, sha_ni)) || !xmm_src_fast(c, i, true, &s))
        return false;
    union xmm d = c->xmm[i->reg];
    if (vec_ops[op].fn_xmm0)
        vec_ops[op].fn_xmm0(&d, &s, &c->xmm[0]);
    else
        vec_ops[op].fn(&d, &s, 16, (unsigned)(i->imm & 0xff));
    c->xmm[i->reg] = d;
    return true;
}

#define SSE_INT_FAST_FORM(row, name, sha)                                                     \
    static void fast_##name(struct cpu *c, const struct insn *i) { op_vec_int(c, i); }          \
    SIMD_FAST_INLINE bool fast_##name##_fast(struct cpu *c, const struct insn *i)           \
    {                                                                                         \
        return vec_int_fast(c, i, row, sha);                                                  \
    }                                                                                         \
    THREADED_FAST(fast_##name)
#define SSE_INT_FAST_66_FORM(row, name) SSE_INT_FAST_FORM(row, name, false)
#define SSE_INT_FAST_NP_FORM(row, name) SSE_INT_FAST_FORM(row, name, true)
SSE_INT_FAST_66(SSE_INT_FAST_66_FORM)
SSE_INT_FAST_NP(SSE_INT_FAST_NP_FORM)
SSE_INT_FAST_NP_FORM(0x2cb, sha256rnds2)

bool sse_int_specialize(struct insn *i)
{
    if (i->rep)
        return false; /* F2/F3: #UD from op_vec_int */
#define SSE_INT_PICK(row, name, prefixed)                                                     \
    case row:                                                                                 \
        if (!i->p66 != !(prefixed))                                                           \
            return false;                                                                     \
        i->fn = fast_##name;                                                                   \
        i->run = fast_##name##_run;                                                            \
        return true;
#define SSE_INT_PICK_66(row, name) SSE_INT_PICK(row, name, true)
#define SSE_INT_PICK_NP(row, name) SSE_INT_PICK(row, name, false)
    switch (i->op) {
        SSE_INT_FAST_66(SSE_INT_PICK_66)
        SSE_INT_FAST_NP(SSE_INT_PICK_NP)
        SSE_INT_PICK_NP(0x2cb, sha256rnds2)
    default: return false;
    }
#undef SSE_INT_PICK
#undef SSE_INT_PICK_66
#undef SSE_INT_PICK_NP
}
