/* testsuite/difftest/forms_simd.c — the MMX/SSE form table, in the
 * same shape as forms_int.c (struct dt_form in difftest.h).
 *
 * A case compares GPRs, RFLAGS and the data window only, and neither
 * executor starts from known vector registers, so every SIMD unit is
 * self-contained: setup code points a GPR at a 16-byte-aligned block in
 * the window, loads the vector operands (and MXCSR, with a random
 * rounding mode and DAZ/FTZ) from it, then comes the instruction under
 * test, and after it the result register (and MXCSR, for the floating-
 * point forms) is stored back into the block, where the comparison of
 * the window sees it.  Flag results and GPR results are compared as
 * they are.
 *
 * Block layout (offsets from the block base):
 *   0   destination / first source      16  second source (register form)
 *   32  XMM0 (implicit operand)         48  the stored result
 *   64  MXCSR in, 68 MXCSR out          80  memory source operand (16..31
 *                                           bytes, unaligned when allowed)
 * x87 forms are not generated: the two executors start with different
 * x87 control words, and the units would need an FNINIT of their own. */
#include <string.h>

#include "testsuite/difftest/difftest.h"

#define ALL DT_ARITH
#define BLOCK 112 /* bytes a unit's block occupies */

/* per-form attributes (dt_form.arg2) */
enum {
    VF_IMM = 1 << 0,      /* imm8 follows */
    VF_MMX = 1 << 1,      /* the no-prefix form on mm registers exists too */
    VF_UNALIGNED = 1 << 2, /* the memory operand need not be aligned */
    VF_X0IN = 1 << 3,     /* reads XMM0 */
    VF_X0OUT = 1 << 4,    /* the result is XMM0 (PCMPxSTRM) */
    VF_FP = 1 << 5,       /* MXCSR in and out */
    VF_GPR_SRC = 1 << 6,  /* ModRM.rm is a GPR (register form) */
    VF_GPR_DST = 1 << 7,  /* ModRM.rm is a GPR destination (register form) */
    VF_REGDST = 1 << 8,   /* ModRM.reg is a GPR destination, rm the vector */
    VF_REGONLY = 1 << 9,
    VF_MEMONLY = 1 << 10,
    VF_W = 1 << 11,       /* REX.W now and then */
    VF_LEN = 1 << 12,     /* explicit lengths: small values into RAX and RDX */
    VF_STORE = 1 << 13,   /* ModRM.rm is the destination (memory or xmm) */
};

/* dt_form.arg: mandatory prefix << 16 | map << 8 | opcode (map 1: 0F,
 * 2: 0F 38, 3: 0F 3A) */
#define OPC(pfx, map, op) ((pfx) << 16 | (map) << 8 | (op))

/* an instruction "op reg, [base + disp8]" built byte by byte for the
 * setup and store code around the unit */
static void mem_insn(struct gen *g, unsigned pfx, bool w, const uint8_t *opc, unsigned nopc,
                     unsigned reg, unsigned base, unsigned disp)
{
    uint8_t b[16];
    unsigned n = 0;
    if (pfx)
        b[n++] = (uint8_t)pfx;
    uint8_t rex = (uint8_t)(0x40 | (w ? 8 : 0) | (reg & 8 ? 4 : 0) | (base & 8 ? 1 : 0));
    if (rex != 0x40)
        b[n++] = rex;
    memcpy(b + n, opc, nopc);
    n += nopc;
    b[n++] = (uint8_t)(0x40 | (reg & 7) << 3 | (base & 7)); /* mod 01: disp8 */
    if ((base & 7) == 4)
        b[n++] = 0x24; /* SIB: base only */
    b[n++] = (uint8_t)disp;
    gen_setup_bytes(g, b, n);
}

static const uint8_t op_movdqu_load[] = {0x0f, 0x6f}, op_movdqu_store[] = {0x0f, 0x7f};
static const uint8_t op_0fae[] = {0x0f, 0xae}, op_81[] = {0x81}; /* LDMXCSR/STMXCSR, ALU imm32 */

/* xmm (F3 0F 6F/7F) or mm (0F 6F/7F) k <-> [base + disp] */
static void vec_move(struct gen *g, bool mmx, bool store, unsigned k, unsigned base,
                     unsigned disp)
{
    mem_insn(g, mmx ? 0 : 0xf3, false, store ? op_movdqu_store : op_movdqu_load, 2,
             mmx ? k & 7 : k, base, disp);
}

/* MXCSR := the dword at [base + 64], masked to all exceptions masked,
 * no flags, a random rounding mode and DAZ/FTZ. */
static void mxcsr_setup(struct gen *g, unsigned base)
{
    /* and dword [base + 64], 0xe040; or dword [base + 64], 0x1f80 */
    static const uint8_t keep[4] = {0x40, 0xe0, 0, 0}, masks[4] = {0x80, 0x1f, 0, 0};
    mem_insn(g, 0, false, op_81, 1, 4, base, 64);
    gen_setup_bytes(g, keep, 4);
    mem_insn(g, 0, false, op_81, 1, 1, base, 64);
    gen_setup_bytes(g, masks, 4);
    mem_insn(g, 0, false, op_0fae, 2, 2, base, 64);
}

/* dword [base + disp] := v, a setup store for a fixed case's inputs */
static void store_dword(struct gen *g, unsigned base, unsigned disp, uint32_t v)
{
    static const uint8_t op_c7[] = {0xc7};
    uint8_t imm[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    mem_insn(g, 0, false, op_c7, 1, 0, base, disp);
    gen_setup_bytes(g, imm, 4);
}

/* The unit of a vector form with all its choices made (random by
 * e_vec, given by a fixed case): see the top of this file. */
void dt_vec_unit(struct gen *g, const struct dt_form *f, const struct dt_vec_args *a)
{
    unsigned pfx = (unsigned)f->arg >> 16 & 0xff, map = (unsigned)f->arg >> 8 & 0xff;
    unsigned op = (unsigned)f->arg & 0xff, fl = (unsigned)f->arg2;
    struct dt_ins in;
    ins_init(&in);
    bool mmx = a->mmx;
    unsigned base = a->base, d = a->d, s = a->s;
    gen_setup_mov(g, base, 8, a->blk);
    if (a->preset) { /* the inputs the unit reads: destination, source, XMM0, MXCSR, memory */
        bool dst_in = !(fl & VF_REGDST), src_in = !(fl & (VF_GPR_SRC | VF_GPR_DST)) && !a->mem;
        for (unsigned k = 0; k < 24; k++)
            if ((k < 4 && dst_in) || (k >= 4 && k < 8 && src_in) ||
                (k >= 8 && k < 12 && (fl & VF_X0IN)) || (k == 16 && (fl & VF_FP)) ||
                (k >= 20 && a->mem))
                store_dword(g, base, 4 * k, a->preset[k]);
    }
    if (fl & VF_LEN) {
        gen_setup_mov(g, 0, 8, a->rax);
        gen_setup_mov(g, 2, a->edx_only ? 4 : 8, a->rdx);
    }
    if (fl & VF_FP)
        mxcsr_setup(g, base);
    if (!(fl & VF_REGDST))
        vec_move(g, mmx, false, d, base, 0);
    if (!(fl & (VF_GPR_SRC | VF_GPR_DST)))
        vec_move(g, mmx, false, s, base, 16);
    if (fl & VF_X0IN)
        vec_move(g, false, false, 0, base, 32);

    /* the instruction under test */
    if (pfx == 0x66 && !mmx)
        in.p66 = true;
    else if (pfx == 0xf2 || pfx == 0xf3)
        in.legacy[in.nlegacy++] = (uint8_t)pfx;
    in.opc[0] = 0x0f;
    in.nopc = 1;
    if (map == 2 || map == 3)
        in.opc[in.nopc++] = map == 2 ? 0x38 : 0x3a;
    in.opc[in.nopc++] = (uint8_t)op;
    if (a->w)
        in.rex |= 8;
    in.modrm = true;
    unsigned avoid = 1u << base | ((fl & VF_LEN) ? 5u : 0);
    if (fl & VF_REGDST) { /* GPR destination in ModRM.reg; the vector in rm */
        in.reg = gen_reg(g, &in, 4, true, avoid);
    } else {
        in.reg = mmx ? d & 7 : d;
    }
    uint64_t target = a->blk + 80 + a->mis;
    if (a->mem) {
        gen_mem_at(g, &in, target, avoid);
    } else if (fl & VF_GPR_DST) {
        in.rm = gen_reg(g, &in, 4, true, avoid);
    } else if (fl & VF_GPR_SRC) {
        in.rm = gen_reg(g, &in, 4, false, 0);
    } else {
        in.rm = mmx ? s & 7 : s;
    }
    if (fl & VF_IMM) {
        in.imm_size = 1;
        in.imm = a->imm;
    }
    if (a->noise)
        gen_noise_prefix(g, &in);
    gen_emit(g, &in);
    if (map == 3 && (op == 0x40 || op == 0x41)) {
        /* DPPS/DPPD: which NaN each lane's sum returns is the vendor's
         * choice; another host gets Intel's from the model
         * (testsuite/vendor_diffs.h, dpps-lane-order, dppd-lane-order) */
        struct dt_item *it = gen_item(g);
        struct dt_fixup *fx = gen_fixup(g, op == 0x41 ? VD_DPPD_LANE_ORDER : VD_DPPS_LANE_ORDER,
                                        it->main_off, it->main_len);
        if (fx) {
            fx->arg[1] = (uint8_t)d;
            fx->arg[2] = a->mem ? 0xff : (uint8_t)s;
            fx->arg[3] = (uint8_t)a->imm;
            fx->addr = target;
        }
    }

    /* the results into the block */
    if (fl & VF_X0OUT)
        vec_move(g, false, true, 0, base, 48);
    else if (!(fl & (VF_REGDST | VF_GPR_DST)))
        vec_move(g, mmx, true, (fl & VF_STORE) && !a->mem ? s : d, base, 48);
    if (fl & VF_FP)
        mem_insn(g, 0, false, op_0fae, 2, 3, base, 68); /* STMXCSR */
}

static void e_vec(struct gen *g, const struct dt_form *f)
{
    unsigned fl = (unsigned)f->arg2;
    struct dt_vec_args a = {.noise = true};
    struct dt_ins tmp;
    ins_init(&tmp);
    a.mmx = (fl & VF_MMX) && gen_chance(g, 30);
    /* the block and the GPR that points at it (not RAX/RCX/RDX, which
     * the string compares read or write) */
    a.base = gen_reg(g, &tmp, 8, true, 7);
    a.blk = (gen_data_addr(g, BLOCK + 16) + 15) & ~15ull;
    unsigned nregs = a.mmx ? 8 : 16;
    a.d = gen_below(g, nregs);
    a.s = gen_below(g, nregs);
    if (fl & VF_LEN) { /* lengths around -17..17, sometimes with upper bits */
        a.rax = (uint64_t)(int64_t)((int)gen_below(g, 35) - 17);
        a.edx_only = !gen_chance(g, 20);
        a.rdx = (uint64_t)(int64_t)((int)gen_below(g, 35) - 17);
    }
    a.w = (fl & VF_W) && gen_chance(g, 50);
    a.mem = !(fl & VF_REGONLY) && ((fl & VF_MEMONLY) || gen_chance(g, 40));
    a.mis = a.mem && (fl & VF_UNALIGNED) ? gen_below(g, 16) : 0;
    a.imm = (unsigned)(gen_rand(g) & 0xff);
    dt_vec_unit(g, f, &a);
}

/* rows: name, group, encoding, attributes, flags written, host feature */
#define V(name, group, enc, fl, writes, needs) \
    {name, group, e_vec, enc, fl, writes, 0, 0, 8, DT_A_MEM, needs},
#define I(name, p, m, o, fl) V(name, "simd-int", OPC(p, m, o), fl, 0, NULL)
#define I41(name, p, m, o, fl) V(name, "simd-int", OPC(p, m, o), fl, 0, "sse4.2")
#define F(name, p, m, o, fl) V(name, "simd-fp", OPC(p, m, o), (fl) | VF_FP, 0, NULL)
#define M(name, p, m, o, fl) V(name, "simd-move", OPC(p, m, o), fl, 0, NULL)
#define M41(name, p, m, o, fl) V(name, "simd-move", OPC(p, m, o), fl, 0, "sse4.2")

const struct dt_form dt_forms_simd[] = {
    /* MMX/SSE2 packed integer */
    I("paddb", 0x66, 1, 0xfc, VF_MMX) I("paddw", 0x66, 1, 0xfd, VF_MMX)
    I("paddd", 0x66, 1, 0xfe, VF_MMX) I("paddq", 0x66, 1, 0xd4, VF_MMX)
    I("psubusb", 0x66, 1, 0xd8, VF_MMX) I("paddsw", 0x66, 1, 0xed, VF_MMX)
    I("pmullw", 0x66, 1, 0xd5, VF_MMX) I("pmulhuw", 0x66, 1, 0xe4, VF_MMX)
    I("pmuludq", 0x66, 1, 0xf4, VF_MMX) I("pmaddwd", 0x66, 1, 0xf5, VF_MMX)
    I("psadbw", 0x66, 1, 0xf6, VF_MMX) I("pavgb", 0x66, 1, 0xe0, VF_MMX)
    I("pcmpgtb", 0x66, 1, 0x64, VF_MMX) I("pcmpeqw", 0x66, 1, 0x75, VF_MMX)
    I("packsswb", 0x66, 1, 0x63, VF_MMX) I("packuswb", 0x66, 1, 0x67, VF_MMX)
    I("punpcklbw", 0x66, 1, 0x60, VF_MMX) I("punpckhdq", 0x66, 1, 0x6a, VF_MMX)
    I("psraw", 0x66, 1, 0xe1, VF_MMX) I("psrlq", 0x66, 1, 0xd3, VF_MMX)
    I("pslld", 0x66, 1, 0xf2, VF_MMX) I("pxor", 0x66, 1, 0xef, VF_MMX)
    I("pandn", 0x66, 1, 0xdf, VF_MMX) I("pminsw", 0x66, 1, 0xea, VF_MMX)
    I("pshufd", 0x66, 1, 0x70, VF_IMM)
    /* SSSE3, SSE4.1 */
    I41("pshufb", 0x66, 2, 0x00, VF_MMX) I41("phaddsw", 0x66, 2, 0x03, VF_MMX)
    I41("pmaddubsw", 0x66, 2, 0x04, VF_MMX) I41("pmulhrsw", 0x66, 2, 0x0b, VF_MMX)
    I41("psignd", 0x66, 2, 0x0a, VF_MMX) I41("palignr", 0x66, 3, 0x0f, VF_MMX | VF_IMM)
    I41("pblendvb", 0x66, 2, 0x10, VF_X0IN) I41("pmovsxbw", 0x66, 2, 0x20, VF_UNALIGNED)
    I41("pmovzxwq", 0x66, 2, 0x34, VF_UNALIGNED) I41("pmuldq", 0x66, 2, 0x28, 0)
    I41("packusdw", 0x66, 2, 0x2b, 0) I41("pminsd", 0x66, 2, 0x39, 0)
    I41("pmulld", 0x66, 2, 0x40, 0) I41("phminposuw", 0x66, 2, 0x41, 0)
    I41("pblendw", 0x66, 3, 0x0e, VF_IMM) I41("mpsadbw", 0x66, 3, 0x42, VF_IMM)
    /* SSE/SSE2/SSE3/SSE4.1 floating point */
    F("addps", 0, 1, 0x58, 0) F("mulpd", 0x66, 1, 0x59, 0) F("subss", 0xf3, 1, 0x5c, VF_UNALIGNED)
    F("divsd", 0xf2, 1, 0x5e, VF_UNALIGNED) F("sqrtps", 0, 1, 0x51, 0)
    F("maxpd", 0x66, 1, 0x5f, 0) F("minss", 0xf3, 1, 0x5d, VF_UNALIGNED)
    F("cmpps", 0, 1, 0xc2, VF_IMM) F("cmpsd", 0xf2, 1, 0xc2, VF_IMM | VF_UNALIGNED)
    F("cvtps2pd", 0, 1, 0x5a, VF_UNALIGNED) F("cvtpd2ps", 0x66, 1, 0x5a, 0)
    F("cvtdq2ps", 0, 1, 0x5b, 0) F("cvttps2dq", 0xf3, 1, 0x5b, 0)
    F("cvtsd2ss", 0xf2, 1, 0x5a, VF_UNALIGNED) F("haddps", 0xf2, 1, 0x7c, 0)
    F("addsubpd", 0x66, 1, 0xd0, 0)
    V("roundps", "simd-fp", OPC(0x66, 3, 0x08), VF_FP | VF_IMM, 0, "sse4.2")
    V("roundsd", "simd-fp", OPC(0x66, 3, 0x0b), VF_FP | VF_IMM | VF_UNALIGNED, 0, "sse4.2")
    V("dpps", "simd-fp", OPC(0x66, 3, 0x40), VF_FP | VF_IMM, 0, "sse4.2")
    V("dppd", "simd-fp", OPC(0x66, 3, 0x41), VF_FP | VF_IMM, 0, "sse4.2")
    V("ucomiss", "simd-fp", OPC(0, 1, 0x2e), VF_FP | VF_UNALIGNED, ALL, NULL)
    V("comisd", "simd-fp", OPC(0x66, 1, 0x2f), VF_FP | VF_UNALIGNED, ALL, NULL)
    V("cvtsi2sd", "simd-fp", OPC(0xf2, 1, 0x2a), VF_FP | VF_GPR_SRC | VF_W | VF_UNALIGNED, 0,
      NULL)
    V("cvttss2si", "simd-fp", OPC(0xf3, 1, 0x2c), VF_FP | VF_REGDST | VF_W | VF_UNALIGNED, 0,
      NULL)
    V("cvtsd2si", "simd-fp", OPC(0xf2, 1, 0x2d), VF_FP | VF_REGDST | VF_W | VF_UNALIGNED, 0,
      NULL)
    /* moves, shuffles, lanes */
    M("movups", 0, 1, 0x10, VF_UNALIGNED) M("movss-st", 0xf3, 1, 0x11, VF_UNALIGNED | VF_STORE)
    M("movhps", 0, 1, 0x16, VF_UNALIGNED) M("shufps", 0, 1, 0xc6, VF_IMM)
    M("unpckhpd", 0x66, 1, 0x15, 0) M("movddup", 0xf2, 1, 0x12, VF_UNALIGNED)
    M("pinsrw", 0x66, 1, 0xc4, VF_MMX | VF_IMM | VF_GPR_SRC | VF_UNALIGNED)
    M("pextrw", 0x66, 1, 0xc5, VF_MMX | VF_IMM | VF_REGDST | VF_REGONLY)
    M("pmovmskb", 0x66, 1, 0xd7, VF_MMX | VF_REGDST | VF_REGONLY)
    M("movmskpd", 0x66, 1, 0x50, VF_REGDST | VF_REGONLY)
    M("movd-load", 0x66, 1, 0x6e, VF_MMX | VF_GPR_SRC | VF_W | VF_UNALIGNED)
    M41("pextrb", 0x66, 3, 0x14, VF_IMM | VF_GPR_DST | VF_UNALIGNED)
    M41("pextrd/q", 0x66, 3, 0x16, VF_IMM | VF_GPR_DST | VF_W | VF_UNALIGNED)
    M41("extractps", 0x66, 3, 0x17, VF_IMM | VF_GPR_DST | VF_UNALIGNED)
    M41("pinsrb", 0x66, 3, 0x20, VF_IMM | VF_GPR_SRC | VF_UNALIGNED)
    M41("pinsrd/q", 0x66, 3, 0x22, VF_IMM | VF_GPR_SRC | VF_W | VF_UNALIGNED)
    M41("insertps", 0x66, 3, 0x21, VF_IMM | VF_UNALIGNED)
    /* SSE4.2 and PTEST: flag results */
    V("pcmpestri", "sse42", OPC(0x66, 3, 0x61), VF_IMM | VF_UNALIGNED | VF_LEN | VF_W, ALL,
      "sse4.2")
    V("pcmpestrm", "sse42", OPC(0x66, 3, 0x60), VF_IMM | VF_UNALIGNED | VF_LEN | VF_X0OUT, ALL,
      "sse4.2")
    V("pcmpistri", "sse42", OPC(0x66, 3, 0x63), VF_IMM | VF_UNALIGNED, ALL, "sse4.2")
    V("pcmpistrm", "sse42", OPC(0x66, 3, 0x62), VF_IMM | VF_UNALIGNED | VF_X0OUT, ALL,
      "sse4.2")
    V("pcmpgtq", "sse42", OPC(0x66, 2, 0x37), 0, 0, "sse4.2")
    V("ptest", "sse42", OPC(0x66, 2, 0x17), 0, ALL, "sse4.2")
    /* AES-NI, PCLMULQDQ (host_has() in main.c must know these names) */
    V("aesenc", "aes", OPC(0x66, 2, 0xdc), 0, 0, "aes")
    V("aesenclast", "aes", OPC(0x66, 2, 0xdd), 0, 0, "aes")
    V("aesdec", "aes", OPC(0x66, 2, 0xde), 0, 0, "aes")
    V("aesdeclast", "aes", OPC(0x66, 2, 0xdf), 0, 0, "aes")
    V("aesimc", "aes", OPC(0x66, 2, 0xdb), 0, 0, "aes")
    V("aeskeygenassist", "aes", OPC(0x66, 3, 0xdf), VF_IMM, 0, "aes")
    V("pclmulqdq", "aes", OPC(0x66, 3, 0x44), VF_IMM, 0, "pclmulqdq")
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL},
};
