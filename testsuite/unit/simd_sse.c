/* testsuite/unit/simd_sse.c — MMX/SSE/SSE2/SSE3/SSSE3/SSE4.1 forms run
 * in nest86 and natively on the host from the same random states
 * (special floats, every MXCSR rounding mode, DAZ/FTZ), compared
 * register by register and byte by byte.  See simd_harness.h.
 *
 * The sweeps run every form and report each failing one on its own line
 * (sse-forms/NAME), so one defect cannot hide another.  Where Intel and
 * other vendors differ (testsuite/vendor_diffs.h, the test suite's one
 * Intel/AMD table, which the differential tester reads too), a non-Intel
 * host is replaced as the oracle by the row's model of Intel's rule;
 * sse-dp-values checks DPPS/DPPD against hand-computed values on any
 * host. */
#include "testsuite/unit/simd_harness.h"
#include "testsuite/vendor_diffs.h"

enum {
    S_MMX = 1,     /* also the no-prefix form on mm registers */
    S_IMM = 2,     /* takes an imm8 */
    S_REG = 4,     /* register form only */
    S_MEM = 8,     /* memory form only */
    S_NOREX = 16,  /* no REX variant (e.g. GPR destination handled in a list) */
    S_W = 32,      /* REX.W form (PEXTRQ/PINSRQ): every variant carries REX.W */
    S_SHA = 64,    /* the SHA extensions: compared only on a host that has them */
};

struct spec {
    const char *name;
    uint8_t pfx;    /* 0, 0x66, 0xf3, 0xf2 */
    uint8_t map;    /* 1: 0F, 2: 0F 38, 3: 0F 3A */
    uint8_t op;
    uint8_t flags;
};

static const struct spec specs[] = {
    /* SSE2 integer (and their MMX forms) */
    {"punpcklbw", 0x66, 1, 0x60, S_MMX}, {"punpcklwd", 0x66, 1, 0x61, S_MMX},
    {"punpckldq", 0x66, 1, 0x62, S_MMX}, {"packsswb", 0x66, 1, 0x63, S_MMX},
    {"pcmpgtb", 0x66, 1, 0x64, S_MMX}, {"pcmpgtw", 0x66, 1, 0x65, S_MMX},
    {"pcmpgtd", 0x66, 1, 0x66, S_MMX}, {"packuswb", 0x66, 1, 0x67, S_MMX},
    {"punpckhbw", 0x66, 1, 0x68, S_MMX}, {"punpckhwd", 0x66, 1, 0x69, S_MMX},
    {"punpckhdq", 0x66, 1, 0x6a, S_MMX}, {"packssdw", 0x66, 1, 0x6b, S_MMX},
    {"punpcklqdq", 0x66, 1, 0x6c, 0}, {"punpckhqdq", 0x66, 1, 0x6d, 0},
    {"movdqa", 0x66, 1, 0x6f, S_MMX}, {"movdqu", 0xf3, 1, 0x6f, 0},
    {"pshufd", 0x66, 1, 0x70, S_MMX | S_IMM}, {"pshufhw", 0xf3, 1, 0x70, S_IMM},
    {"pshuflw", 0xf2, 1, 0x70, S_IMM},
    {"pcmpeqb", 0x66, 1, 0x74, S_MMX}, {"pcmpeqw", 0x66, 1, 0x75, S_MMX},
    {"pcmpeqd", 0x66, 1, 0x76, S_MMX},
    {"movdqa-st", 0x66, 1, 0x7f, S_MMX}, {"movdqu-st", 0xf3, 1, 0x7f, 0},
    {"movq-7e", 0xf3, 1, 0x7e, 0}, {"movq-d6", 0x66, 1, 0xd6, 0},
    {"psrlw", 0x66, 1, 0xd1, S_MMX}, {"psrld", 0x66, 1, 0xd2, S_MMX},
    {"psrlq", 0x66, 1, 0xd3, S_MMX}, {"paddq", 0x66, 1, 0xd4, S_MMX},
    {"pmullw", 0x66, 1, 0xd5, S_MMX}, {"psubusb", 0x66, 1, 0xd8, S_MMX},
    {"psubusw", 0x66, 1, 0xd9, S_MMX}, {"pminub", 0x66, 1, 0xda, S_MMX},
    {"pand", 0x66, 1, 0xdb, S_MMX}, {"paddusb", 0x66, 1, 0xdc, S_MMX},
    {"paddusw", 0x66, 1, 0xdd, S_MMX}, {"pmaxub", 0x66, 1, 0xde, S_MMX},
    {"pandn", 0x66, 1, 0xdf, S_MMX}, {"pavgb", 0x66, 1, 0xe0, S_MMX},
    {"psraw", 0x66, 1, 0xe1, S_MMX}, {"psrad", 0x66, 1, 0xe2, S_MMX},
    {"pavgw", 0x66, 1, 0xe3, S_MMX}, {"pmulhuw", 0x66, 1, 0xe4, S_MMX},
    {"pmulhw", 0x66, 1, 0xe5, S_MMX}, {"movntdq", 0x66, 1, 0xe7, S_MMX | S_MEM},
    {"psubsb", 0x66, 1, 0xe8, S_MMX}, {"psubsw", 0x66, 1, 0xe9, S_MMX},
    {"pminsw", 0x66, 1, 0xea, S_MMX}, {"por", 0x66, 1, 0xeb, S_MMX},
    {"paddsb", 0x66, 1, 0xec, S_MMX}, {"paddsw", 0x66, 1, 0xed, S_MMX},
    {"pmaxsw", 0x66, 1, 0xee, S_MMX}, {"pxor", 0x66, 1, 0xef, S_MMX},
    {"psllw", 0x66, 1, 0xf1, S_MMX}, {"pslld", 0x66, 1, 0xf2, S_MMX},
    {"psllq", 0x66, 1, 0xf3, S_MMX}, {"pmuludq", 0x66, 1, 0xf4, S_MMX},
    {"pmaddwd", 0x66, 1, 0xf5, S_MMX}, {"psadbw", 0x66, 1, 0xf6, S_MMX},
    {"psubb", 0x66, 1, 0xf8, S_MMX}, {"psubw", 0x66, 1, 0xf9, S_MMX},
    {"psubd", 0x66, 1, 0xfa, S_MMX}, {"psubq", 0x66, 1, 0xfb, S_MMX},
    {"paddb", 0x66, 1, 0xfc, S_MMX}, {"paddw", 0x66, 1, 0xfd, S_MMX},
    {"paddd", 0x66, 1, 0xfe, S_MMX},
    {"pinsrw", 0x66, 1, 0xc4, S_MMX | S_IMM | S_MEM},
    /* SSE/SSE2 moves, logic, shuffles */
    {"movups", 0, 1, 0x10, 0}, {"movupd", 0x66, 1, 0x10, 0}, {"movss", 0xf3, 1, 0x10, 0},
    {"movsd", 0xf2, 1, 0x10, 0}, {"movups-st", 0, 1, 0x11, 0}, {"movss-st", 0xf3, 1, 0x11, 0},
    {"movsd-st", 0xf2, 1, 0x11, 0}, {"movlps", 0, 1, 0x12, 0}, {"movlpd", 0x66, 1, 0x12, S_MEM},
    {"movsldup", 0xf3, 1, 0x12, 0}, {"movddup", 0xf2, 1, 0x12, 0},
    {"movlps-st", 0, 1, 0x13, S_MEM}, {"unpcklps", 0, 1, 0x14, 0},
    {"unpcklpd", 0x66, 1, 0x14, 0}, {"unpckhps", 0, 1, 0x15, 0}, {"unpckhpd", 0x66, 1, 0x15, 0},
    {"movhps", 0, 1, 0x16, 0}, {"movhpd", 0x66, 1, 0x16, S_MEM}, {"movshdup", 0xf3, 1, 0x16, 0},
    {"movhps-st", 0, 1, 0x17, S_MEM}, {"movaps", 0, 1, 0x28, 0}, {"movapd-st", 0x66, 1, 0x29, 0},
    {"movntps", 0, 1, 0x2b, S_MEM}, {"andps", 0, 1, 0x54, 0}, {"andnpd", 0x66, 1, 0x55, 0},
    {"orps", 0, 1, 0x56, 0}, {"xorpd", 0x66, 1, 0x57, 0},
    {"shufps", 0, 1, 0xc6, S_IMM}, {"shufpd", 0x66, 1, 0xc6, S_IMM},
    {"lddqu", 0xf2, 1, 0xf0, S_MEM},
    /* floating point */
    {"sqrtps", 0, 1, 0x51, 0}, {"sqrtpd", 0x66, 1, 0x51, 0}, {"sqrtss", 0xf3, 1, 0x51, 0},
    {"sqrtsd", 0xf2, 1, 0x51, 0}, {"rsqrtps", 0, 1, 0x52, 0}, {"rsqrtss", 0xf3, 1, 0x52, 0},
    {"rcpps", 0, 1, 0x53, 0}, {"rcpss", 0xf3, 1, 0x53, 0},
    {"addps", 0, 1, 0x58, 0}, {"addpd", 0x66, 1, 0x58, 0}, {"addss", 0xf3, 1, 0x58, 0},
    {"addsd", 0xf2, 1, 0x58, 0}, {"mulps", 0, 1, 0x59, 0}, {"mulpd", 0x66, 1, 0x59, 0},
    {"mulss", 0xf3, 1, 0x59, 0}, {"mulsd", 0xf2, 1, 0x59, 0}, {"subps", 0, 1, 0x5c, 0},
    {"subpd", 0x66, 1, 0x5c, 0}, {"subss", 0xf3, 1, 0x5c, 0}, {"subsd", 0xf2, 1, 0x5c, 0},
    {"minps", 0, 1, 0x5d, 0}, {"minpd", 0x66, 1, 0x5d, 0}, {"minss", 0xf3, 1, 0x5d, 0},
    {"minsd", 0xf2, 1, 0x5d, 0}, {"divps", 0, 1, 0x5e, 0}, {"divpd", 0x66, 1, 0x5e, 0},
    {"divss", 0xf3, 1, 0x5e, 0}, {"divsd", 0xf2, 1, 0x5e, 0}, {"maxps", 0, 1, 0x5f, 0},
    {"maxpd", 0x66, 1, 0x5f, 0}, {"maxss", 0xf3, 1, 0x5f, 0}, {"maxsd", 0xf2, 1, 0x5f, 0},
    {"cmpps", 0, 1, 0xc2, S_IMM}, {"cmppd", 0x66, 1, 0xc2, S_IMM},
    {"cmpss", 0xf3, 1, 0xc2, S_IMM}, {"cmpsd", 0xf2, 1, 0xc2, S_IMM},
    {"ucomiss", 0, 1, 0x2e, 0}, {"comiss", 0, 1, 0x2f, 0}, {"ucomisd", 0x66, 1, 0x2e, 0},
    {"comisd", 0x66, 1, 0x2f, 0},
    {"cvtps2pd", 0, 1, 0x5a, 0}, {"cvtpd2ps", 0x66, 1, 0x5a, 0},
    {"cvtss2sd", 0xf3, 1, 0x5a, 0}, {"cvtsd2ss", 0xf2, 1, 0x5a, 0},
    {"cvtdq2ps", 0, 1, 0x5b, 0}, {"cvtps2dq", 0x66, 1, 0x5b, 0},
    {"cvttps2dq", 0xf3, 1, 0x5b, 0}, {"cvttpd2dq", 0x66, 1, 0xe6, 0},
    {"cvtdq2pd", 0xf3, 1, 0xe6, 0}, {"cvtpd2dq", 0xf2, 1, 0xe6, 0},
    {"cvtpi2ps", 0, 1, 0x2a, S_NOREX}, {"cvtpi2pd", 0x66, 1, 0x2a, S_NOREX},
    {"cvttps2pi", 0, 1, 0x2c, S_NOREX}, {"cvttpd2pi", 0x66, 1, 0x2c, S_NOREX},
    {"cvtps2pi", 0, 1, 0x2d, S_NOREX}, {"cvtpd2pi", 0x66, 1, 0x2d, S_NOREX},
    /* SSE3 */
    {"haddpd", 0x66, 1, 0x7c, 0}, {"haddps", 0xf2, 1, 0x7c, 0}, {"hsubpd", 0x66, 1, 0x7d, 0},
    {"hsubps", 0xf2, 1, 0x7d, 0}, {"addsubpd", 0x66, 1, 0xd0, 0},
    {"addsubps", 0xf2, 1, 0xd0, 0},
    /* SSSE3 */
    {"pshufb", 0x66, 2, 0x00, S_MMX}, {"phaddw", 0x66, 2, 0x01, S_MMX},
    {"phaddd", 0x66, 2, 0x02, S_MMX}, {"phaddsw", 0x66, 2, 0x03, S_MMX},
    {"pmaddubsw", 0x66, 2, 0x04, S_MMX}, {"phsubw", 0x66, 2, 0x05, S_MMX},
    {"phsubd", 0x66, 2, 0x06, S_MMX}, {"phsubsw", 0x66, 2, 0x07, S_MMX},
    {"psignb", 0x66, 2, 0x08, S_MMX}, {"psignw", 0x66, 2, 0x09, S_MMX},
    {"psignd", 0x66, 2, 0x0a, S_MMX}, {"pmulhrsw", 0x66, 2, 0x0b, S_MMX},
    {"pabsb", 0x66, 2, 0x1c, S_MMX}, {"pabsw", 0x66, 2, 0x1d, S_MMX},
    {"pabsd", 0x66, 2, 0x1e, S_MMX}, {"palignr", 0x66, 3, 0x0f, S_MMX | S_IMM},
    /* SSE4.1 */
    {"pblendvb", 0x66, 2, 0x10, 0}, {"blendvps", 0x66, 2, 0x14, 0},
    {"blendvpd", 0x66, 2, 0x15, 0}, {"pmovsxbw", 0x66, 2, 0x20, 0},
    {"pmovsxbd", 0x66, 2, 0x21, 0}, {"pmovsxbq", 0x66, 2, 0x22, 0},
    {"pmovsxwd", 0x66, 2, 0x23, 0}, {"pmovsxwq", 0x66, 2, 0x24, 0},
    {"pmovsxdq", 0x66, 2, 0x25, 0}, {"pmuldq", 0x66, 2, 0x28, 0},
    {"pcmpeqq", 0x66, 2, 0x29, 0}, {"movntdqa", 0x66, 2, 0x2a, S_MEM},
    {"packusdw", 0x66, 2, 0x2b, 0}, {"pmovzxbw", 0x66, 2, 0x30, 0},
    {"pmovzxbd", 0x66, 2, 0x31, 0}, {"pmovzxbq", 0x66, 2, 0x32, 0},
    {"pmovzxwd", 0x66, 2, 0x33, 0}, {"pmovzxwq", 0x66, 2, 0x34, 0},
    {"pmovzxdq", 0x66, 2, 0x35, 0}, {"pcmpgtq", 0x66, 2, 0x37, 0},
    {"pminsb", 0x66, 2, 0x38, 0}, {"pminsd", 0x66, 2, 0x39, 0}, {"pminuw", 0x66, 2, 0x3a, 0},
    {"pminud", 0x66, 2, 0x3b, 0}, {"pmaxsb", 0x66, 2, 0x3c, 0}, {"pmaxsd", 0x66, 2, 0x3d, 0},
    {"pmaxuw", 0x66, 2, 0x3e, 0}, {"pmaxud", 0x66, 2, 0x3f, 0}, {"pmulld", 0x66, 2, 0x40, 0},
    {"phminposuw", 0x66, 2, 0x41, 0},
    {"roundps", 0x66, 3, 0x08, S_IMM}, {"roundpd", 0x66, 3, 0x09, S_IMM},
    {"roundss", 0x66, 3, 0x0a, S_IMM}, {"roundsd", 0x66, 3, 0x0b, S_IMM},
    {"blendps", 0x66, 3, 0x0c, S_IMM}, {"blendpd", 0x66, 3, 0x0d, S_IMM},
    {"pblendw", 0x66, 3, 0x0e, S_IMM}, {"dpps", 0x66, 3, 0x40, S_IMM},
    {"dppd", 0x66, 3, 0x41, S_IMM}, {"mpsadbw", 0x66, 3, 0x42, S_IMM},
    {"ptest", 0x66, 2, 0x17, 0}, {"insertps", 0x66, 3, 0x21, S_IMM},
    /* SSE4.1 lane moves: the GPR operand is rdx (ModRM.rm 2), so no REX.B */
    {"pextrb", 0x66, 3, 0x14, S_IMM | S_NOREX}, {"pextrw-3a", 0x66, 3, 0x15, S_IMM | S_NOREX},
    {"pextrd", 0x66, 3, 0x16, S_IMM | S_NOREX}, {"pextrq", 0x66, 3, 0x16, S_IMM | S_NOREX | S_W},
    {"extractps", 0x66, 3, 0x17, S_IMM | S_NOREX},
    {"extractps.w", 0x66, 3, 0x17, S_IMM | S_NOREX | S_W},
    {"pinsrb", 0x66, 3, 0x20, S_IMM | S_NOREX}, {"pinsrd", 0x66, 3, 0x22, S_IMM | S_NOREX},
    {"pinsrq", 0x66, 3, 0x22, S_IMM | S_NOREX | S_W},
    /* SSE4.2 PCMPGTQ is above; AES-NI, PCLMULQDQ */
    {"aesimc", 0x66, 2, 0xdb, 0}, {"aesenc", 0x66, 2, 0xdc, 0},
    {"aesenclast", 0x66, 2, 0xdd, 0}, {"aesdec", 0x66, 2, 0xde, 0},
    {"aesdeclast", 0x66, 2, 0xdf, 0}, {"aeskeygenassist", 0x66, 3, 0xdf, S_IMM},
    {"pclmulqdq", 0x66, 3, 0x44, S_IMM},
    /* SHA (no mandatory prefix; SHA256RNDS2's XMM0 is random like the rest) */
    {"sha1nexte", 0, 2, 0xc8, S_SHA}, {"sha1msg1", 0, 2, 0xc9, S_SHA},
    {"sha1msg2", 0, 2, 0xca, S_SHA}, {"sha256rnds2", 0, 2, 0xcb, S_SHA},
    {"sha256msg1", 0, 2, 0xcc, S_SHA}, {"sha256msg2", 0, 2, 0xcd, S_SHA},
    {"sha1rnds4", 0, 3, 0xcc, S_SHA | S_IMM},
};

/* CPUID.7.0:EBX.SHA[29] of the host */

static unsigned encode(const struct spec *s, bool mmx, uint8_t rex, uint8_t modrm, uint8_t imm,
                       uint8_t *out)
{
    unsigned n = 0;
    if (s->pfx && !mmx)
        out[n++] = s->pfx;
    if (s->flags & S_W)
        rex |= 0x48;
    if (rex)
        out[n++] = rex;
    out[n++] = 0x0f;
    if (s->map == 2)
        out[n++] = 0x38;
    if (s->map == 3)
        out[n++] = 0x3a;
    out[n++] = s->op;
    out[n++] = modrm;
    if (s->flags & S_IMM)
        out[n++] = imm;
    return n;
}

static const uint8_t imms[] = {0x00, 0x1b, 0x4e, 0xe4, 0xff, 0x01, 0x31, 0x93, 0x07, 0x0c,
                               0x10, 0x6a};

#define ROUNDS 40

/* Where one encoding of a form listed in testsuite/vendor_diffs.h keeps
 * its operands: on a non-Intel host its destination register is compared
 * against the row's model of Intel's rule instead of the host (MXCSR,
 * whose flags do not depend on the order of the operations, the other
 * registers and memory are still compared with the host).  On an Intel
 * host the table is not used: the silicon checks nest86, and so the
 * rule, directly. */
struct vendor_fix {
    const struct vendor_diff *vd;
    unsigned dst;   /* xmm register */
    int src;        /* xmm register, or -1: memory at [rbx] */
    uint8_t imm;
};

static void vendor_fix_apply(const struct h_fix *f, const struct hstate *in, struct hstate *out)
{
    const struct vendor_fix *v = f->ctx;
    const uint8_t *src = v->src < 0 ? in->mem : in->xmm[v->src];
    uint32_t mxcsr = in->mxcsr; /* h_rand_state masks every exception */
    v->vd->vec(in->xmm[v->dst], src, v->imm, &mxcsr, out->xmm[v->dst]);
}

/* Appends name to a comma-separated list, as far as it fits. */
static void list_add(char *list, size_t n, const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, n - used, "%s%s", used ? ", " : "", name);
}

/* Every spec: register and memory forms, REX-extended registers, the
 * MMX form where there is one, and a set of immediates.  Every form
 * runs; each failing one is reported as sse-forms/NAME with its first
 * failing encoding. */
static void sse_forms(void)
{
    char why[200], first[200], line[300], bad[200] = "";
    unsigned nforms = 0, nbad = 0;
    const size_t nspecs = sizeof(specs) / sizeof(specs[0]);
    bool intel = vd_host_is_intel(), sha = sha256_rnds2_on_host();
    for (size_t k = 0; k < nspecs; k++) {
        const struct spec *s = &specs[k];
        if ((s->flags & S_SHA) && !sha) {
            /* guest/lm64_sha checks these against FIPS 180 on any host */
            printf("# host has no SHA extensions: %s is checked by guest/lm64_sha only\n",
                   s->name);
            continue;
        }
        const struct vendor_diff *vd = intel ? NULL : vendor_diff_for_form(s->name);
        if (vd && !vd->vec) { /* a row this test cannot apply: say so, never compare */
            unit_fail_item("sse-forms", s->name, "testsuite/vendor_diffs.h lists the form "
                                                 "but gives no vector model");
            list_add(bad, sizeof(bad), s->name);
            nbad++;
            continue;
        }
        if (vd)
            printf("# host is not Intel: %s compared against Intel's rule (%s: %s)\n", s->name,
                   vd->name, vd->intel);
        unsigned nenc = 0, nfail = 0;
        for (unsigned variant = 0; variant < 5; variant++) {
            bool mmx = variant >= 3;
            bool mem = variant == 1 || variant == 4;
            uint8_t rex = variant == 2 ? 0x45 : 0;
            if (mmx && !(s->flags & S_MMX))
                continue;
            if ((mem && (s->flags & S_REG)) || (!mem && (s->flags & S_MEM)))
                continue;
            if (rex && (s->flags & (S_NOREX | S_MEM)))
                continue;
            /* reg 1, rm 2 (xmm9/xmm10 with REX.RB); memory is [rbx] */
            uint8_t modrm = mem ? (1 << 3) | 3 : 0xc0 | (1 << 3) | 2;
            unsigned nimm = (s->flags & S_IMM) ? sizeof(imms) : 1;
            for (unsigned m = 0; m < nimm; m++) {
                uint8_t code[16];
                unsigned len = encode(s, mmx, rex, modrm, imms[m], code);
                struct vendor_fix vf = {vd, rex ? 9 : 1, mem ? -1 : rex ? 10 : 2, imms[m]};
                struct h_fix fix = {vendor_fix_apply, &vf};
                nforms++;
                nenc++;
                if (h_diff_fix(code, len, ROUNDS, true, vd ? &fix : NULL, why, sizeof(why)))
                    continue;
                if (!nfail++)
                    snprintf(first, sizeof(first), "%s%s%s%s imm %02x: %.150s", s->name,
                             mmx ? " (mmx)" : "", mem ? " mem" : "", rex ? " rex" : "",
                             imms[m], why);
            }
        }
        if (nfail) {
            snprintf(line, sizeof(line), "%s; %u of %u encodings differ", first, nfail, nenc);
            unit_fail_item("sse-forms", s->name, line);
            list_add(bad, sizeof(bad), s->name);
            nbad++;
        }
    }
    printf("# %u SSE/MMX form encodings x %d random states\n", nforms, ROUNDS);
    UNIT_CHECKF(nbad == 0, "%u of %zu forms differ: %s", nbad, nspecs, bad);
}

/* Forms with general-purpose or special operands, as explicit bytes. */
static const struct h_form gpr_forms[] = {
    {"movd xmm1,eax", 4, {0x66, 0x0f, 0x6e, 0xc8}},
    {"movq xmm9,rax", 5, {0x66, 0x4c, 0x0f, 0x6e, 0xc8}},
    {"movd mm1,eax", 3, {0x0f, 0x6e, 0xc8}},
    {"movd mm1,[rbx]", 3, {0x0f, 0x6e, 0x0b}},
    {"movd eax,xmm1", 4, {0x66, 0x0f, 0x7e, 0xc8}},
    {"movq rax,xmm9", 5, {0x66, 0x4c, 0x0f, 0x7e, 0xc8}},
    {"movq [rbx],mm1", 4, {0x48, 0x0f, 0x7e, 0x0b}},
    {"movd [rbx],xmm1", 4, {0x66, 0x0f, 0x7e, 0x0b}},
    {"pmovmskb eax,xmm2", 4, {0x66, 0x0f, 0xd7, 0xc2}},
    {"pmovmskb ecx,mm2", 3, {0x0f, 0xd7, 0xca}},
    {"pextrw eax,xmm2,5", 5, {0x66, 0x0f, 0xc5, 0xc2, 0x05}},
    {"pextrw eax,mm2,6", 4, {0x0f, 0xc5, 0xc2, 0x06}},
    {"pinsrw xmm1,eax,3", 5, {0x66, 0x0f, 0xc4, 0xc8, 0x03}},
    {"movmskps eax,xmm2", 3, {0x0f, 0x50, 0xc2}},
    {"movmskpd ecx,xmm2", 4, {0x66, 0x0f, 0x50, 0xca}},
    {"psrlw xmm2,3", 5, {0x66, 0x0f, 0x71, 0xd2, 0x03}},
    {"psraw xmm2,17", 5, {0x66, 0x0f, 0x71, 0xe2, 0x11}},
    {"psllw mm2,9", 4, {0x0f, 0x71, 0xf2, 0x09}},
    {"psrld xmm2,31", 5, {0x66, 0x0f, 0x72, 0xd2, 0x1f}},
    {"psrad mm2,7", 4, {0x0f, 0x72, 0xe2, 0x07}},
    {"pslld xmm10,1", 6, {0x66, 0x41, 0x0f, 0x72, 0xf2, 0x01}},
    {"psrlq xmm2,33", 5, {0x66, 0x0f, 0x73, 0xd2, 0x21}},
    {"psrldq xmm2,5", 5, {0x66, 0x0f, 0x73, 0xda, 0x05}},
    {"psllq mm2,63", 4, {0x0f, 0x73, 0xf2, 0x3f}},
    {"pslldq xmm2,11", 5, {0x66, 0x0f, 0x73, 0xfa, 0x0b}},
    {"pslldq xmm2,17", 5, {0x66, 0x0f, 0x73, 0xfa, 0x11}},
    {"movq2dq xmm1,mm2", 4, {0xf3, 0x0f, 0xd6, 0xca}},
    {"movdq2q mm1,xmm2", 4, {0xf2, 0x0f, 0xd6, 0xca}},
    {"movntq [rbx],mm1", 3, {0x0f, 0xe7, 0x0b}},
    {"movnti [rbx],rax", 4, {0x48, 0x0f, 0xc3, 0x03}},
    {"maskmovdqu xmm1,xmm2", 4, {0x66, 0x0f, 0xf7, 0xca}},
    {"maskmovq mm1,mm2", 3, {0x0f, 0xf7, 0xca}},
    {"cvtsi2ss xmm1,eax", 4, {0xf3, 0x0f, 0x2a, 0xc8}},
    {"cvtsi2ss xmm1,rax", 5, {0xf3, 0x48, 0x0f, 0x2a, 0xc8}},
    {"cvtsi2sd xmm1,eax", 4, {0xf2, 0x0f, 0x2a, 0xc8}},
    {"cvtsi2sd xmm1,rax", 5, {0xf2, 0x48, 0x0f, 0x2a, 0xc8}},
    {"cvtsi2sd xmm1,[rbx]", 4, {0xf2, 0x0f, 0x2a, 0x0b}},
    {"cvtss2si eax,xmm2", 4, {0xf3, 0x0f, 0x2d, 0xc2}},
    {"cvtss2si rax,xmm2", 5, {0xf3, 0x48, 0x0f, 0x2d, 0xc2}},
    {"cvttss2si eax,xmm2", 4, {0xf3, 0x0f, 0x2c, 0xc2}},
    {"cvttss2si rax,[rbx]", 5, {0xf3, 0x48, 0x0f, 0x2c, 0x03}},
    {"cvtsd2si eax,xmm2", 4, {0xf2, 0x0f, 0x2d, 0xc2}},
    {"cvtsd2si rax,xmm2", 5, {0xf2, 0x48, 0x0f, 0x2d, 0xc2}},
    {"cvttsd2si eax,[rbx]", 4, {0xf2, 0x0f, 0x2c, 0x03}},
    {"cvttsd2si rax,xmm2", 5, {0xf2, 0x48, 0x0f, 0x2c, 0xc2}},
    {"ldmxcsr; addss; stmxcsr", 19, {0xc7, 0x43, 0x10, 0xc0, 0x7f, 0, 0, 0x0f, 0xae, 0x53, 0x10,
                                     0xf3, 0x0f, 0x58, 0xca, 0x0f, 0xae, 0x5b, 0x20}},
    {"stmxcsr [rbx+8]", 4, {0x0f, 0xae, 0x5b, 0x08}},
    {"emms; movq mm0,[rbx]", 5, {0x0f, 0x77, 0x0f, 0x6f, 0x03}},
};

static void sse_gpr_forms(void)
{
    char why[200], bad[200] = "";
    unsigned nbad = 0;
    const size_t n = sizeof(gpr_forms) / sizeof(gpr_forms[0]);
    for (size_t k = 0; k < n; k++) {
        const struct h_form *f = &gpr_forms[k];
        if (h_diff(f->bytes, f->len, ROUNDS, true, why, sizeof(why)))
            continue;
        unit_fail_item("sse-gpr-forms", f->name, why);
        list_add(bad, sizeof(bad), f->name);
        nbad++;
    }
    UNIT_CHECKF(nbad == 0, "%u of %zu forms differ: %s", nbad, n, bad);
}

/* Runs code in the guest alone from a random state; returns the vector. */
static int guest_only(const uint8_t *code, unsigned len, struct hstate *s)
{
    h_rand_state(s);
    return h_guest(s, code, len);
}

/* #GP for misaligned 16-byte operands of the aligned forms; none for
 * MOVDQU/MOVUPS. */
static void sse_alignment(void)
{
    struct hstate s;
    static const uint8_t movdqa_mis[] = {0x66, 0x0f, 0x6f, 0x4b, 0x01}; /* [rbx+1] */
    static const uint8_t paddb_mis[] = {0x66, 0x0f, 0xfc, 0x4b, 0x08};
    static const uint8_t movups_mis[] = {0x0f, 0x10, 0x4b, 0x01};
    static const uint8_t movaps_st_mis[] = {0x0f, 0x29, 0x4b, 0x04};
    static const uint8_t addss_mis[] = {0xf3, 0x0f, 0x58, 0x4b, 0x01};
    h_reset_cpu();
    UNIT_CHECK(guest_only(movdqa_mis, sizeof(movdqa_mis), &s) == EX_GP);
    UNIT_CHECK(guest_only(paddb_mis, sizeof(paddb_mis), &s) == EX_GP);
    UNIT_CHECK(guest_only(movaps_st_mis, sizeof(movaps_st_mis), &s) == EX_GP);
    UNIT_CHECK(guest_only(movups_mis, sizeof(movups_mis), &s) == -1);
    UNIT_CHECK(guest_only(addss_mis, sizeof(addss_mis), &s) == -1);
}

/* CR0.TS -> #NM, CR0.EM -> #UD (SSE) / #NM (x87), no CR4.OSFXSR -> #UD. */
static void sse_availability(void)
{
    struct hstate s;
    static const uint8_t paddb[] = {0x66, 0x0f, 0xfc, 0xca};
    static const uint8_t paddb_mmx[] = {0x0f, 0xfc, 0xca};
    static const uint8_t fxsave[] = {0x0f, 0xae, 0x03};
    h_reset_cpu();
    UNIT_CHECK(guest_only(paddb, sizeof(paddb), &s) == -1);
    h_cpu.mmu.cr0 |= CR0_TS;
    UNIT_CHECK(guest_only(paddb, sizeof(paddb), &s) == EX_NM);
    UNIT_CHECK(guest_only(paddb_mmx, sizeof(paddb_mmx), &s) == EX_NM);
    UNIT_CHECK(guest_only(fxsave, sizeof(fxsave), &s) == EX_NM);
    h_cpu.mmu.cr0 &= ~CR0_TS;
    h_cpu.mmu.cr0 |= CR0_EM;
    UNIT_CHECK(guest_only(paddb, sizeof(paddb), &s) == EX_UD);
    UNIT_CHECK(guest_only(paddb_mmx, sizeof(paddb_mmx), &s) == EX_UD);
    h_cpu.mmu.cr0 &= ~CR0_EM;
    h_cpu.mmu.cr4 &= ~CR4_OSFXSR;
    UNIT_CHECK(guest_only(paddb, sizeof(paddb), &s) == EX_UD);
    UNIT_CHECK(guest_only(paddb_mmx, sizeof(paddb_mmx), &s) == -1);
}

/* Unmasked exceptions: #XM (or #UD without OSXMMEXCPT), the destination
 * kept and the flag set; LDMXCSR with a reserved bit is #GP. */
static void sse_unmasked(void)
{
    struct hstate s;
    static const uint8_t divss[] = {0xf3, 0x0f, 0x5e, 0xca}; /* divss xmm1, xmm2 */
    static const uint8_t ldmxcsr[] = {0x0f, 0xae, 0x13};
    h_reset_cpu();
    h_rand_state(&s);
    memset(s.xmm[1], 0, 16);
    s.xmm[1][3] = 0x3f;
    s.xmm[1][2] = 0x80; /* 1.0f */
    memset(s.xmm[2], 0, 16);
    uint8_t before[16];
    memcpy(before, s.xmm[1], 16);
    s.mxcsr = 0x1f80 & ~(MXCSR_ZE << 7);
    UNIT_CHECK(h_guest(&s, divss, sizeof(divss)) == EX_XM);
    UNIT_CHECK(memcmp(s.xmm[1], before, 16) == 0 && (s.mxcsr & MXCSR_ZE));
    h_cpu.mmu.cr4 &= ~CR4_OSXMMEXCPT;
    s.mxcsr = 0x1f80 & ~(MXCSR_ZE << 7);
    UNIT_CHECK(h_guest(&s, divss, sizeof(divss)) == EX_UD);
    s.mxcsr = 0x1f80;
    UNIT_CHECK(h_guest(&s, divss, sizeof(divss)) == -1 && (s.mxcsr & MXCSR_ZE));
    s.mem[2] = 1; /* bit 16: reserved */
    UNIT_CHECK(h_guest(&s, ldmxcsr, sizeof(ldmxcsr)) == EX_GP);
}

/* ---- DPPS/DPPD against hand-computed values (SDM Vol. 2 DPPS/DPPD,
 * Vol. 1 4.8.3.5 Table 4-7 for NaNs, and the per-lane order cpu/sse_fp.c
 * describes), on any host.  T[k] is lane k's product, +0.0 if imm8 bit
 * 4+k is clear; "n1" is the QNaN 7fc00001 and so on. ---- */

#define L4(a, b, c, d) {(uint64_t)(b) << 32 | (a), (uint64_t)(d) << 32 | (c)}
#define ONE4 L4(0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000)
#define DONE 0x3ff0000000000000ull /* 1.0 */
#define DNAN1 0x7ff8000000000001ull
#define DNAN2 0x7ff8000000000002ull
#define DINF 0x7ff0000000000000ull
#define DDEF 0xfff8000000000000ull /* QNaN indefinite */

struct dp_case {
    const char *name;
    bool dbl;
    uint8_t imm;
    uint32_t mxcsr;
    uint64_t d[2], s[2];   /* xmm1, xmm2 */
    uint64_t want[2];      /* xmm1 after */
    uint32_t want_mxcsr;
    int want_vector;       /* -1, or the exception (xmm1 unchanged) */
};

static const struct dp_case dp_cases[] = {
    /* The state unit/simd_sse's sweep gives dpps imm e4 in round 0, on
     * which an Intel host gave ffc00000 and nest86 7fefffff.  T0 = +0
     * (masked: the NaN and the denormal in lane 0 raise nothing); T1 =
     * QNaN 7fefffff * 0 = 7fefffff; T2 = 0 * -inf: invalid, ffc00000, IE;
     * T3 = 1.75 * 2^-126 = 00e00000.  Lane 2 = (T3 + T2) + (T1 + T0) =
     * ffc00000 + 7fefffff = ffc00000 (first operand).  The SDM's one sum
     * (T0 + T1) + (T2 + T3) would be 7fefffff + ffc00000 = 7fefffff. */
    {"intel-seen-simd-sse", false, 0xe4, 0x1fc0,
     L4(0xffffffca, 0x7fefffff, 0x00000000, 0x3fe00000),
     L4(0x00000001, 0x00000000, 0xff800000, 0x00800000), L4(0, 0, 0xffc00000, 0), 0x1fc1, -1},
    /* difftest seed 1 K=11059, dpps xmm6, xmm7, 0x76 on an Intel host:
     * T0 = 1.5e23 * -3.0e35 overflows to -inf, T1 = -9.9e12 * -5.8e33 to
     * +inf (OE PE), T2 = x * QNaN ffffffff = ffffffff, T3 = +0.  Lane 1 =
     * (T0 + T1) + (T2 + T3) = ffc00000 (IE) + ffffffff = ffc00000; lane 2 =
     * (T3 + T2) + (T1 + T0) = ffffffff + ffc00000 = ffffffff. */
    {"intel-seen-difftest", false, 0x76, 0x1f80,
     L4(0x65f9a857, 0xd510b991, 0x7ddb13e0, 0xdbcf854c),
     L4(0xfa66d3f3, 0xf78f3041, 0xffffffff, 0xffffffff), L4(0, 0xffc00000, 0xffffffff, 0),
     0x1fa9, -1},
    /* NaNs in lanes 0 and 2 meet in the second addition: lanes 0 and 1
     * add T0's half first (n1), lanes 2 and 3 T2's half (n3). */
    {"ps-nan-lanes-0-2", false, 0xff, 0x1f80, L4(0x7fc00001, 0x3f800000, 0x7fc00003, 0x3f800000),
     ONE4, L4(0x7fc00001, 0x7fc00001, 0x7fc00003, 0x7fc00003), 0x1f80, -1},
    /* Two NaNs in one pair: lanes 0 and 2 add T1 + T0 (n2), lanes 1 and 3
     * T0 + T1 (n1); (1 + 1) + NaN keeps that NaN. */
    {"ps-nan-pair-0-1", false, 0xff, 0x1f80, L4(0x7fc00001, 0x7fc00002, 0x3f800000, 0x3f800000),
     ONE4, L4(0x7fc00002, 0x7fc00001, 0x7fc00002, 0x7fc00001), 0x1f80, -1},
    /* inf * 0 in lane 0 (ffc00000, IE) meets QNaN n2 of lane 1: T1 + T0
     * = n2 in lanes 0 and 2, T0 + T1 = ffc00000 in lanes 1 and 3. */
    {"ps-inf-times-0", false, 0xff, 0x1f80, L4(0x7f800000, 0x7fc00002, 0x3f800000, 0x3f800000),
     L4(0, 0x3f800000, 0x3f800000, 0x3f800000),
     L4(0x7fc00002, 0xffc00000, 0x7fc00002, 0xffc00000), 0x1f81, -1},
    /* +inf + -inf in the second addition: the default NaN in lanes 0, 2. */
    {"ps-inf-minus-inf", false, 0xf5, 0x1f80, L4(0x7f800000, 0, 0xff800000, 0), ONE4,
     L4(0xffc00000, 0, 0xffc00000, 0), 0x1f81, -1},
    /* Lanes 0-2 masked off: their SNaN, inf * 0 and denormal raise
     * nothing; 2 * 3 = 6 goes to every lane. */
    {"ps-masked-lanes", false, 0x8f, 0x1f80, L4(0x7f800001, 0x7f800000, 0x00000001, 0x40000000),
     L4(0x3f800000, 0, 0x3f800000, 0x40400000),
     L4(0x40c00000, 0x40c00000, 0x40c00000, 0x40c00000), 0x1f80, -1},
    /* An SNaN product is quieted (IE). */
    {"ps-snan", false, 0x11, 0x1f80, L4(0x7f800001, 0x3f800000, 0x3f800000, 0x3f800000), ONE4,
     L4(0x7fc00001, 0, 0, 0), 0x1f81, -1},
    /* No destination lane: the sum is still computed (the SDM's Temp4),
     * so MAX + MAX overflows (OE PE); every lane +0. */
    {"ps-no-dest-lane", false, 0xf0, 0x1f80, L4(0x7f7fffff, 0, 0x7f7fffff, 0), ONE4,
     L4(0, 0, 0, 0), 0x1fa8, -1},
    /* Exceptions in order of execution, precision unmasked: the multiply
     * overflows (OE PE) and #XM is taken there, before +inf + -inf could
     * add IE; xmm1 unchanged. */
    {"ps-unmasked-order", false, 0x31, 0x0f80, L4(0x7f7fffff, 0xff7fffff, 0, 0),
     L4(0x40000000, 0x40000000, 0, 0), L4(0x7f7fffff, 0xff7fffff, 0, 0), 0x0fa8, EX_XM},
    /* DPPD: lane 0 = T0 + T1, lane 1 = T1 + T0. */
    {"pd-nan-both", true, 0x33, 0x1f80, {DNAN1, DNAN2}, {DONE, DONE}, {DNAN1, DNAN2}, 0x1f80, -1},
    {"pd-inf-times-0", true, 0x33, 0x1f80, {DNAN1, DINF}, {DONE, 0}, {DNAN1, DDEF}, 0x1f81, -1},
    {"pd-masked-lane", true, 0x22, 0x1f80, {0x7ff0000000000001ull, 0x4008000000000000ull},
     {0, 0x4000000000000000ull}, {0, 0x4018000000000000ull}, 0x1f80, -1},
    {"pd-inf-minus-inf", true, 0x31, 0x1f80, {DINF, DINF | 1ull << 63}, {DONE, DONE}, {DDEF, 0},
     0x1f81, -1},
};

static void sse_dp_values(void)
{
    char why[200], bad[200] = "";
    unsigned nbad = 0;
    const size_t n = sizeof(dp_cases) / sizeof(dp_cases[0]);
    h_reset_cpu();
    for (size_t k = 0; k < n; k++) {
        const struct dp_case *t = &dp_cases[k];
        const uint8_t code[] = {0x66, 0x0f, 0x3a, t->dbl ? 0x41 : 0x40, 0xca, t->imm};
        struct hstate st;
        memset(&st, 0, sizeof(st));
        memcpy(st.xmm[1], t->d, 16);
        memcpy(st.xmm[2], t->s, 16);
        st.mxcsr = t->mxcsr;
        int v = h_guest(&st, code, sizeof(code));
        uint64_t got[2];
        memcpy(got, st.xmm[1], 16);
        if (v == t->want_vector && got[0] == t->want[0] && got[1] == t->want[1] &&
            st.mxcsr == t->want_mxcsr)
            continue;
        snprintf(why, sizeof(why),
                 "%s imm %02x: xmm1 %016llx:%016llx mxcsr %04x vector %d, want "
                 "%016llx:%016llx mxcsr %04x vector %d",
                 t->dbl ? "dppd" : "dpps", t->imm, (unsigned long long)got[1],
                 (unsigned long long)got[0], st.mxcsr, v, (unsigned long long)t->want[1],
                 (unsigned long long)t->want[0], t->want_mxcsr, t->want_vector);
        unit_fail_item("sse-dp-values", t->name, why);
        list_add(bad, sizeof(bad), t->name);
        nbad++;
    }
    UNIT_CHECKF(nbad == 0, "%u of %zu cases differ: %s", nbad, n, bad);
}

/* SHA256RNDS2's definition in C against the host's instruction, which
 * nest86 runs in its place on such a host (cpu/sse_sha.c): random
 * states, the two results compared.  sse-forms compares the whole
 * instruction path (decode, XMM0, memory form) with the host. */
static void sha256rnds2_soft_vs_host(void)
{
    uint64_t st = 0x9e3779b97f4a7c15ull;
    for (unsigned k = 0; k < 200000; k++) {
        union xmm d, s, wk;
        for (unsigned q = 0; q < 2; q++) {
            d.q[q] = unit_xorshift(&st);
            s.q[q] = unit_xorshift(&st);
            wk.q[q] = unit_xorshift(&st);
        }
        union xmm soft = d, used = d;
        sha256_rnds2_soft(&soft, &s, &wk);
        sha256_rnds2(&used, &s, &wk);
        if (memcmp(&soft, &used, sizeof(soft))) {
            UNIT_CHECKF(false, "state %u: C %08x %08x %08x %08x, host %08x %08x %08x %08x", k,
                        soft.d[3], soft.d[2], soft.d[1], soft.d[0], used.d[3], used.d[2],
                        used.d[1], used.d[0]);
            return;
        }
    }
}

int main(void)
{
    h_reset_cpu();
    UNIT_RUN(sse_forms);
    h_reset_cpu();
    UNIT_RUN(sse_gpr_forms);
    UNIT_RUN(sse_alignment);
    UNIT_RUN(sse_availability);
    UNIT_RUN(sse_unmasked);
    UNIT_RUN(sse_dp_values);
    if (sha256_rnds2_on_host())
        UNIT_RUN(sha256rnds2_soft_vs_host);
    else
        unit_skip("sha256rnds2-soft-vs-host", "the host has no SHA extensions (nest86 then runs "
                                             "the C, which guest/lm64_sha checks against FIPS "
                                             "180-4)");
    return unit_done();
}
