/* testsuite/difftest/forms_int.c — the integer form table: every
 * user-mode integer instruction form the tester generates, with its
 * SDM flag effects, and the emitters that encode random instances.
 *
 * Flag columns (SDM Vol. 2 "Flags Affected" of each instruction):
 * 'writes' is every arithmetic flag the form may change, 'undef' the
 * ones the SDM leaves undefined, 'reads' the ones it consumes.
 * Emitters refine these per instance where the SDM makes them depend
 * on an operand (shift counts, REP with rCX = 0). */
#include <string.h>

#include "testsuite/difftest/difftest.h"

#define ALL DT_ARITH
#define SZ_BWDQ (1 | 2 | 4 | 8)
#define SZ_WDQ (2 | 4 | 8)

/* ---- helpers ---- */

static void opc1(struct dt_ins *in, unsigned b)
{
    in->opc[0] = (uint8_t)b;
    in->nopc = 1;
}

static void opc2(struct dt_ins *in, unsigned b)
{
    in->opc[0] = 0x0f;
    in->opc[1] = (uint8_t)b;
    in->nopc = 2;
}

static void opc3(struct dt_ins *in, unsigned m, unsigned b)
{
    in->opc[0] = 0x0f;
    in->opc[1] = (uint8_t)m;
    in->opc[2] = (uint8_t)b;
    in->nopc = 3;
}

static void legacy(struct dt_ins *in, uint8_t b)
{
    in->legacy[in->nlegacy++] = b;
}

static int imm_bytes(unsigned size)
{
    return size == 1 ? 1 : size == 2 ? 2 : 4;
}

/* the common start and end of an emitter */
static unsigned begin(struct gen *g, struct dt_ins *in, unsigned mask)
{
    ins_init(in);
    unsigned size = gen_size(g, in, mask);
    gen_byte_rex(g, in, size);
    return size;
}

static void finish(struct gen *g, struct dt_ins *in)
{
    gen_noise_prefix(g, in);
    gen_emit(g, in);
}

/* ModRM.rm (register or memory) then ModRM.reg */
static void operands(struct gen *g, struct dt_ins *in, unsigned size, bool e_dst, bool g_dst,
                     unsigned pct_mem)
{
    gen_rm(g, in, size, e_dst, 0, pct_mem);
    in->reg = gen_reg(g, in, size, g_dst, 0);
}

/* group opcodes: ModRM.reg is an opcode extension; REX.R is ignored */
static unsigned ext(struct gen *g, const struct dt_ins *in, unsigned n)
{
    return n | (in->byte_mode != 1 && gen_chance(g, 10) ? 8 : 0);
}

static bool is_prefix(uint8_t b)
{
    return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 || b == 0x65 ||
           b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || (b & 0xf0) == 0x40;
}

/* A 66 prefix on a near branch in 64-bit mode: Intel ignores it, AMD
 * branches with 16 bits.  A host that is not Intel runs a 3E (ignored)
 * in its place (testsuite/vendor_diffs.h, near-branch-66).  Looks for
 * the 66 among the prefixes of the unit's main instruction. */
static void near66_fixup(struct gen *g)
{
    struct dt_item *it = gen_item(g);
    for (unsigned k = it->main_off; k < (unsigned)it->main_off + it->main_len; k++) {
        if (it->bytes[k] == 0x66) {
            struct dt_fixup *fx = gen_fixup(g, VD_NEAR_66, k, 1);
            if (fx)
                fx->sub[0] = 0x3e;
            return;
        }
        if (!is_prefix(it->bytes[k]))
            return;
    }
}

/* Sets byte/word/... register operand 'r' (as encoded in 'in') to v. */
static void setup_operand_reg(struct gen *g, const struct dt_ins *in, unsigned size, unsigned r,
                              uint64_t v)
{
    if (size == 1) {
        uint8_t b[3];
        unsigned n = 0;
        if (in->byte_mode == 2 || r >= 8)
            b[n++] = (uint8_t)(0x40 | (r >= 8 ? 1 : 0));
        b[n++] = (uint8_t)(0xb0 + (r & 7));
        b[n++] = (uint8_t)v;
        gen_setup_bytes(g, b, n);
        return;
    }
    gen_setup_mov(g, r, size == 8 ? 8 : (gen_chance(g, 50) ? 8 : size), v);
}

static void setup_movrr(struct gen *g, unsigned dst, unsigned src)
{
    uint8_t b[3] = {(uint8_t)(0x48 | (src >= 8 ? 4 : 0) | (dst >= 8 ? 1 : 0)), 0x89,
                    (uint8_t)(0xc0 | (src & 7) << 3 | (dst & 7))};
    gen_setup_bytes(g, b, 3);
}

/* Stack operand size: 16 (66) or 64, with an optional REX.W (no 32-bit
 * form exists in 64-bit mode). */
static unsigned stack_size(struct gen *g, struct dt_ins *in, unsigned mask)
{
    in->byte_mode = 3;
    unsigned size = (mask & 2) && ((mask & 8) == 0 || gen_chance(g, 30)) ? 2 : 8;
    if (size == 2)
        in->p66 = true;
    else if (gen_chance(g, 30))
        in->rex |= 8;
    return size;
}

/* keep 'down' bytes below and 'up' bytes above RSP inside the stack zone */
static void stack_room(struct gen *g, int64_t down, int64_t up)
{
    int64_t sp = gen_rsp(g), adj = 0;
    if (sp - down < (int64_t)DT_STACK_LO)
        adj = (int64_t)DT_STACK_LO + down - sp + 64;
    else if (sp + up > (int64_t)DT_STACK_HI)
        adj = (int64_t)DT_STACK_HI - up - sp - 64;
    if (!adj)
        return;
    /* lea rsp, [rsp + disp32] */
    uint8_t b[8] = {0x48, 0x8d, 0xa4, 0x24};
    int32_t d = (int32_t)adj;
    memcpy(b + 4, &d, 4);
    gen_setup_bytes(g, b, 8);
    gen_rsp_move(g, adj);
}

/* ---- ALU: ADD OR ADC SBB AND SUB XOR CMP ---- */

enum { K_EG, K_GE, K_AI, K_80, K_81, K_83 };

static void e_alu(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned op = (unsigned)f->arg, size = begin(g, &in, f->sizes);
    bool w = op != 7;
    switch (f->arg2) {
    case K_EG:
        opc1(&in, op * 8 + (size != 1));
        operands(g, &in, size, w, false, 50);
        if (w)
            gen_lock(g, &in, 15);
        break;
    case K_GE:
        opc1(&in, op * 8 + 2 + (size != 1));
        operands(g, &in, size, false, w, 50);
        break;
    case K_AI:
        opc1(&in, op * 8 + 4 + (size != 1));
        in.imm_size = imm_bytes(size);
        in.imm = gen_value(g, (unsigned)in.imm_size);
        break;
    default:
        opc1(&in, f->arg2 == K_80 ? 0x80 : f->arg2 == K_81 ? 0x81 : 0x83);
        gen_rm(g, &in, size, w, 0, 50);
        in.reg = ext(g, &in, op);
        in.imm_size = f->arg2 == K_81 ? imm_bytes(size) : 1;
        in.imm = gen_value(g, (unsigned)in.imm_size);
        if (w)
            gen_lock(g, &in, 15);
        break;
    }
    finish(g, &in);
}

/* TEST: 84/85, A8/A9, F6/F7 /0 */
static void e_test(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    switch (f->arg2) {
    case 0:
        opc1(&in, 0x84 + (size != 1));
        operands(g, &in, size, false, false, 50);
        break;
    case 1:
        opc1(&in, 0xa8 + (size != 1));
        in.imm_size = imm_bytes(size);
        in.imm = gen_value(g, (unsigned)in.imm_size);
        break;
    default:
        opc1(&in, 0xf6 + (size != 1));
        gen_rm(g, &in, size, false, 0, 50);
        in.reg = ext(g, &in, 0);
        in.imm_size = imm_bytes(size);
        in.imm = gen_value(g, (unsigned)in.imm_size);
        break;
    }
    finish(g, &in);
}

/* INC/DEC FE/FF /0 /1, NOT/NEG F6/F7 /2 /3 */
static void e_unary(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    opc1(&in, (unsigned)f->arg2 + (size != 1));
    gen_rm(g, &in, size, true, 0, 50);
    in.reg = ext(g, &in, (unsigned)f->arg);
    gen_lock(g, &in, 15);
    finish(g, &in);
}

/* ---- multiply and divide ---- */

/* MUL/IMUL F6/F7 /4 /5: RDX:RAX (AX) implicit */
static void e_mul1(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    opc1(&in, 0xf6 + (size != 1));
    gen_rm(g, &in, size, false, 0, 40);
    in.reg = ext(g, &in, (unsigned)f->arg);
    finish(g, &in);
}

/* A dividend whose quotient sits on the edge of the destination: the
 * largest that fits, or one past it (#DE).  SDM Vol. 2A "DIV"/"IDIV":
 * the quotient must fit in AL/AX/EAX/RAX, truncated toward zero, the
 * remainder has the dividend's sign. */
static void div_edge(struct gen *g, const struct dt_ins *in, unsigned size, bool sign)
{
    typedef __int128 s128;
    unsigned bits = size * 8;
    uint64_t m = size == 8 ? ~0ull : (1ull << bits) - 1;
    s128 d, q;
    uint64_t dv;
    do
        dv = gen_value(g, size) & m;
    while (!dv || (sign && dv == m)); /* not 0, and not -1 for IDIV */
    if (sign) {
        d = (s128)(int64_t)(dv << (64 - bits)) >> (64 - bits);
        s128 lim = (s128)1 << (bits - 1);
        static const int pick[4] = {-1, 0, 1, 2};
        switch (pick[gen_below(g, 4)]) {
        case -1: q = -lim - 1; break;
        case 0: q = -lim; break;
        case 1: q = lim - 1; break;
        default: q = lim; break;
        }
    } else {
        d = (s128)dv;
        q = (s128)m + (gen_chance(g, 50) ? 1 : 0);
    }
    /* wrap-around product: only the low bits of the dividend are used,
     * and a signed __int128 overflow would be undefined */
    s128 n = (s128)((unsigned __int128)q * (unsigned __int128)d);
    s128 ad = d < 0 ? -d : d;
    s128 r = (s128)(gen_rand(g) % (uint64_t)ad);
    /* nudge the dividend by the remainder, wrapping like the product */
    n = (s128)((unsigned __int128)n + (unsigned __int128)(n < 0 ? -r : r));
    bool overflow = sign ? (q < -((s128)1 << (bits - 1)) || q >= ((s128)1 << (bits - 1)))
                         : q > (s128)m;
    gen_item(g)->fault_ok = overflow;
    setup_operand_reg(g, in, size, in->rm, dv);
    unsigned __int128 un = (unsigned __int128)n;
    if (size == 1) {
        uint8_t b[4] = {0x66, 0xb8, (uint8_t)un, (uint8_t)(un >> 8)}; /* mov ax, imm16 */
        gen_setup_bytes(g, b, 4);
    } else {
        gen_setup_mov(g, 0, size, (uint64_t)un & m);
        gen_setup_mov(g, 2, size, (uint64_t)(un >> bits) & m);
    }
}

/* DIV/IDIV F6/F7 /6 /7.  Most instances set the dividend up so the
 * quotient fits; a quarter leave rDX random, which mostly raises #DE. */
static void e_div(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    bool sign = f->arg == 7;
    unsigned size = gen_size(g, &in, f->sizes);
    gen_byte_rex(g, &in, size);
    opc1(&in, 0xf6 + (size != 1));
    unsigned mode = gen_below(g, 100);
    bool wild = mode < 20, edge = mode >= 20 && mode < 45;
    unsigned keep = 1u << 0 | 1u << 2; /* RAX, RDX */
    gen_rm(g, &in, size, !wild, keep, edge ? 0 : 40);
    if (edge) {
        div_edge(g, &in, size, sign);
    } else if (!wild) {
        if (!in.rm_mem) {
            uint64_t d = gen_value(g, size);
            if ((d & (size == 8 ? ~0ull : (1ull << (size * 8)) - 1)) == 0)
                d |= 1ull << gen_below(g, size * 8);
            setup_operand_reg(g, &in, size, in.rm, d);
        }
        static const uint8_t cbw[] = {0x66, 0x98}, cwd[] = {0x66, 0x99}, cdq[] = {0x99},
                             cqo[] = {0x48, 0x99}, ah0[] = {0xb4, 0x00};
        static const uint8_t xor_edx[] = {0x31, 0xd2};
        if (sign) {
            if (size == 1)
                gen_setup_bytes(g, cbw, 2);
            else if (size == 2)
                gen_setup_bytes(g, cwd, 2);
            else if (size == 4)
                gen_setup_bytes(g, cdq, 1);
            else
                gen_setup_bytes(g, cqo, 2);
        } else if (size == 1) {
            gen_setup_bytes(g, ah0, 2);
        } else {
            gen_setup_bytes(g, xor_edx, 2); /* its flags: DIV leaves all undefined */
        }
    } else {
        gen_item(g)->fault_ok = true;
    }
    in.reg = ext(g, &in, (unsigned)f->arg);
    finish(g, &in);
    /* a zero divisor in memory can still raise #DE: harmless, compared too */
}

/* IMUL Gv,Ev (0F AF); IMUL Gv,Ev,Iz/Ib (69/6B) */
static void e_imul(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    if (f->arg == 0)
        opc2(&in, 0xaf);
    else
        opc1(&in, f->arg == 1 ? 0x69 : 0x6b);
    operands(g, &in, size, false, true, 40);
    if (f->arg) {
        in.imm_size = f->arg == 1 ? imm_bytes(size) : 1;
        in.imm = gen_value(g, (unsigned)in.imm_size);
    }
    finish(g, &in);
}

/* ---- shifts and rotates ---- */

static unsigned pick_count(struct gen *g, unsigned bits)
{
    if (gen_chance(g, 60))
        return gen_below(g, bits + 2);
    if (gen_chance(g, 30))
        return gen_chance(g, 50) ? 1 : 0;
    return gen_below(g, 256);
}

/* SDM Vol. 2B "SAL/SAR/SHL/SHR" and "RCL/RCR/ROL/ROR": a masked count
 * of 0 touches no flag; OF is defined only for a count of 1; AF is
 * undefined for any shift; CF is undefined for SHL/SHR when the count
 * is at least the operand width; ROL/ROR touch only CF and OF. */
static void shift_flags(struct dt_item *it, unsigned op, unsigned size, unsigned count)
{
    unsigned mc = count & (size == 8 ? 63 : 31), bits = size * 8;
    it->reads = 0;
    it->writes = it->undef = 0;
    if (mc == 0)
        return;
    uint32_t of = mc == 1 ? 0 : DT_OF;
    switch (op) {
    case 0:
    case 1:
        it->writes = DT_CF | DT_OF;
        it->undef = of;
        break;
    case 2:
    case 3:
        it->reads = DT_CF;
        it->writes = DT_CF | DT_OF;
        it->undef = of;
        break;
    case 7:
        it->writes = ALL;
        it->undef = DT_AF | of;
        break;
    default:
        it->writes = ALL;
        it->undef = DT_AF | of | (mc >= bits ? DT_CF : 0);
        break;
    }
}

/* arg = ModRM.reg operation, arg2: 0 D0/D1 (by 1), 1 C0/C1 ib, 2 D2/D3 (CL) */
static void e_shift(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = gen_size(g, &in, f->sizes), count;
    gen_byte_rex(g, &in, size);
    gen_rm(g, &in, size, true, f->arg2 == 2 ? 1u << 1 : 0, 40);
    in.reg = ext(g, &in, (unsigned)f->arg);
    switch (f->arg2) {
    case 0:
        opc1(&in, 0xd0 + (size != 1));
        count = 1;
        break;
    case 1:
        opc1(&in, 0xc0 + (size != 1));
        count = pick_count(g, size * 8);
        in.imm_size = 1;
        in.imm = count;
        break;
    default: {
        opc1(&in, 0xd2 + (size != 1));
        count = pick_count(g, size * 8);
        uint8_t b[2] = {0xb1, (uint8_t)count}; /* mov cl, imm8 */
        gen_setup_bytes(g, b, 2);
        break;
    }
    }
    shift_flags(gen_item(g), (unsigned)f->arg, size, count);
    finish(g, &in);
}

/* SHLD/SHRD (0F A4/A5/AC/AD): arg 0 SHLD 1 SHRD, arg2 0 imm8 1 CL.
 * SDM Vol. 2B "SHLD": count 0 touches no flag; OF only for 1; AF
 * undefined; a count above the operand size leaves all undefined. */
static void e_shxd(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    unsigned count = pick_count(g, size * 8);
    if (size == 2 && (count & 31) > 16) { /* vendor_diffs.h: shxd16-count-above-16 */
        gen_vendor_avoided(VD_SHXD16);
        count = gen_below(g, 17) | (count & 0xe0);
    }
    gen_rm(g, &in, size, true, f->arg2 ? 1u << 1 : 0, 40);
    in.reg = gen_reg(g, &in, size, false, 0);
    opc2(&in, (f->arg ? 0xac : 0xa4) + (unsigned)f->arg2);
    if (f->arg2) {
        uint8_t b[2] = {0xb1, (uint8_t)count};
        gen_setup_bytes(g, b, 2);
    } else {
        in.imm_size = 1;
        in.imm = count;
    }
    struct dt_item *it = gen_item(g);
    unsigned mc = count & (size == 8 ? 63 : 31);
    it->writes = mc ? ALL : 0;
    it->undef = mc ? (DT_AF | (mc == 1 ? 0 : DT_OF)) : 0;
    finish(g, &in);
}

/* ---- bit tests ---- */

/* BT/BTS/BTR/BTC: arg = 0..3, arg2 0 register offset (0F A3/AB/B3/BB),
 * 1 immediate (0F BA /4-7).  A register offset with a memory operand
 * addresses bits far outside the operand (SDM Vol. 2A "BT"). */
static void e_bt(struct gen *g, const struct dt_form *f)
{
    static const uint8_t reg_op[4] = {0xa3, 0xab, 0xb3, 0xbb};
    struct dt_ins in;
    ins_init(&in);
    unsigned op = (unsigned)f->arg, size = gen_size(g, &in, f->sizes);
    gen_byte_rex(g, &in, size);
    if (f->arg2 == 0) {
        opc2(&in, reg_op[op]);
        if (gen_chance(g, 50)) {
            unsigned r = gen_reg(g, &in, size, true, 0);
            uint64_t center = DT_DATA_ADDR + 0x2000 + gen_below(g, 0x4000);
            gen_mem_at(g, &in, center, 1u << r);
            int64_t off;
            if (size == 2)
                off = (int64_t)(int16_t)gen_rand(g);
            else
                off = (int64_t)gen_below(g, 0x3000 * 8) - 0x1800 * 8;
            uint64_t v = (uint64_t)off;
            if (size < 8) /* bits above the operand size are ignored */
                v = (v & ((1ull << (size * 8)) - 1)) | (gen_rand(g) << (size * 8));
            gen_setup_mov(g, r, 8, v);
            in.reg = r;
        } else {
            operands(g, &in, size, op != 0, false, 0);
        }
    } else {
        opc2(&in, 0xba);
        gen_rm(g, &in, size, op != 0, 0, 50);
        in.reg = ext(g, &in, 4 + op);
        in.imm_size = 1;
        in.imm = gen_below(g, 256);
    }
    if (op)
        gen_lock(g, &in, 15);
    finish(g, &in);
}

/* BSF BSR TZCNT LZCNT POPCNT: arg 0..4 */
static void e_bitscan(struct gen *g, const struct dt_form *f)
{
    static const uint8_t opc[5] = {0xbc, 0xbd, 0xbc, 0xbd, 0xb8};
    struct dt_ins in;
    ins_init(&in);
    if (f->arg >= 2)
        legacy(&in, 0xf3);
    unsigned size = gen_size(g, &in, f->sizes);
    gen_byte_rex(g, &in, size);
    opc2(&in, opc[f->arg]);
    operands(g, &in, size, false, true, 30);
    if (!in.rm_mem && in.rm != 4 && gen_chance(g, 30)) {
        uint64_t v = gen_rand(g) & ~(size == 8 ? ~0ull : (1ull << (size * 8)) - 1);
        gen_setup_mov(g, in.rm, 8, gen_chance(g, 50) ? v : 0); /* a zero source */
    }
    finish(g, &in);
}

/* BSWAP 0F C8+r */
static void e_bswap(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    unsigned r = gen_reg(g, &in, size, true, 0);
    if (r >= 8)
        in.rex |= 1;
    opc2(&in, 0xc8 + (r & 7));
    finish(g, &in);
}

/* MOVBE 0F 38 F0 (load) / F1 (store) */
static void e_movbe(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    opc3(&in, 0x38, 0xf0 + (unsigned)f->arg);
    gen_rm_mem(g, &in, size, 0);
    in.reg = gen_reg(g, &in, size, f->arg == 0, 0);
    finish(g, &in);
}

/* CRC32 F2 0F 38 F0 (r/m8) / F1 (r/m16/32/64) */
static void e_crc32(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    legacy(&in, 0xf2);
    unsigned size;
    if (f->arg == 0) {
        size = 1;
        if (gen_chance(g, 40))
            in.rex |= 8; /* CRC32 r64, r/m8 */
        in.byte_mode = in.rex ? 2 : 0;
    } else {
        size = gen_size(g, &in, f->sizes);
    }
    gen_byte_rex(g, &in, size);
    opc3(&in, 0x38, 0xf0 + (unsigned)f->arg);
    gen_rm(g, &in, size, false, 0, 40);
    in.reg = gen_reg(g, &in, size > 1 ? size : 4, true, 0);
    gen_emit(g, &in);
}

/* ---- moves ---- */

/* MOVZX/MOVSX/MOVSXD: arg 0 movzx r/m8, 1 movzx r/m16, 2 movsx r/m8,
 * 3 movsx r/m16, 4 movsxd */
static void e_movx(struct gen *g, const struct dt_form *f)
{
    static const uint8_t opc[4] = {0xb6, 0xb7, 0xbe, 0xbf};
    static const unsigned src_size[5] = {1, 2, 1, 2, 4};
    struct dt_ins in;
    ins_init(&in);
    unsigned size = gen_size(g, &in, f->sizes), ss = src_size[f->arg];
    if (f->arg == 4)
        opc1(&in, 0x63);
    else
        opc2(&in, opc[f->arg]);
    if (ss == 1)
        gen_byte_rex(g, &in, 1);
    gen_rm(g, &in, f->arg == 4 && size == 2 ? 2 : ss, false, 0, 40);
    in.reg = gen_reg(g, &in, size, true, 0);
    finish(g, &in);
}

/* MOV: arg2 0 88/89, 1 8A/8B, 2 C6/C7, 3 B0+r/B8+r, 4 A0-A3 moffs */
static void e_mov(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    switch (f->arg2) {
    case 0:
        opc1(&in, 0x88 + (size != 1));
        operands(g, &in, size, true, false, 50);
        break;
    case 1:
        opc1(&in, 0x8a + (size != 1));
        operands(g, &in, size, false, true, 50);
        break;
    case 2:
        opc1(&in, 0xc6 + (size != 1));
        gen_rm(g, &in, size, true, 0, 50);
        in.reg = ext(g, &in, 0);
        in.imm_size = imm_bytes(size);
        in.imm = gen_value(g, (unsigned)in.imm_size);
        break;
    case 3: {
        unsigned r = gen_reg(g, &in, size, true, 0);
        if (r >= 8)
            in.rex |= 1;
        opc1(&in, (size == 1 ? 0xb0 : 0xb8) + (r & 7));
        in.imm_size = (int)size;
        in.imm = gen_value(g, size);
        break;
    }
    default: {
        bool store = gen_chance(g, 50);
        opc1(&in, 0xa0 + (store ? 2 : 0) + (size != 1));
        in.p67 = gen_chance(g, 25);
        in.imm_size = in.p67 ? 4 : 8;
        in.imm = gen_data_addr(g, size);
        break;
    }
    }
    finish(g, &in);
}

/* LEA with every addressing form; nothing is accessed */
static void e_lea(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    opc1(&in, 0x8d);
    gen_mem_any(g, &in);
    in.reg = gen_reg(g, &in, size, true, 0);
    finish(g, &in);
}

/* ---- exchanges ---- */

/* XCHG 86/87 (arg 0), 90+r (arg 1); XADD 0F C0/C1 (arg 2); CMPXCHG 0F B0/B1 (arg 3) */
static void e_xchg(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    switch (f->arg) {
    case 0:
        opc1(&in, 0x86 + (size != 1));
        operands(g, &in, size, true, true, 50);
        gen_lock(g, &in, 10);
        break;
    case 1: {
        unsigned r = gen_reg(g, &in, size, true, 0);
        if (r >= 8)
            in.rex |= 1;
        opc1(&in, 0x90 + (r & 7));
        break;
    }
    case 2:
        opc2(&in, 0xc0 + (size != 1));
        operands(g, &in, size, true, true, 50);
        gen_lock(g, &in, 15);
        break;
    default:
        opc2(&in, 0xb0 + (size != 1));
        gen_rm(g, &in, size, true, 1u << 0, 50);
        in.reg = gen_reg(g, &in, size, false, 0);
        if (gen_chance(g, 40)) { /* make the compare succeed */
            if (in.rm_mem)
                gen_setup_mem(g, 0, size, &in.mem, false);
            else if (gen_reg_gpr(&in, size, in.rm) == in.rm)
                setup_movrr(g, 0, in.rm);
        }
        gen_lock(g, &in, 15);
        break;
    }
    finish(g, &in);
}

/* CMPXCHG8B / CMPXCHG16B (0F C7 /1): arg 0 8B, 1 16B */
static void e_cmpxchg8b(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned half = f->arg ? 8 : 4;
    if (f->arg)
        in.rex |= 8;
    in.byte_mode = 3;
    opc2(&in, 0xc7);
    uint64_t a = gen_data_addr(g, 2 * half);
    if (f->arg) {
        if (gen_chance(g, 90))
            a &= ~15ull; /* CMPXCHG16B needs 16-byte alignment, else #GP(0) */
        else
            gen_item(g)->fault_ok = (a & 15) != 0;
    }
    unsigned keep = 0xf; /* RAX RCX RDX RBX */
    gen_mem_at(g, &in, a, keep);
    if (gen_chance(g, 50)) {
        struct dt_mem hi = in.mem;
        hi.disp += half;
        hi.target += half;
        gen_setup_mem(g, 0, half, &in.mem, false);
        gen_setup_mem(g, 2, half, &hi, false);
    }
    in.reg = ext(g, &in, 1);
    gen_lock(g, &in, 20);
    finish(g, &in);
}

/* ---- conditions ---- */

static void e_cmov(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned cc = gen_below(g, 16), size = gen_size(g, &in, f->sizes);
    gen_byte_rex(g, &in, size);
    opc2(&in, 0x40 + cc);
    operands(g, &in, size, false, true, 40);
    gen_item(g)->reads = gen_cc_reads(cc);
    finish(g, &in);
}

static void e_setcc(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    (void)f;
    unsigned cc = gen_below(g, 16);
    gen_byte_rex(g, &in, 1);
    opc2(&in, 0x90 + cc);
    gen_rm(g, &in, 1, true, 0, 40);
    in.reg = gen_below(g, 8); /* ignored by the processor (SDM "SETcc") */
    gen_item(g)->reads = gen_cc_reads(cc);
    finish(g, &in);
}

/* Jcc/JMP over a body unit: arg 0 Jcc rel8, 1 Jcc rel32, 2 JMP rel8, 3 JMP rel32,
 * 4 LOOP, 5 LOOPE, 6 LOOPNE, 7 JrCXZ (rCX or, with 67, ECX) */
static void e_branch(struct gen *g, const struct dt_form *f)
{
    struct dt_item body;
    gen_body(g, &body);
    struct dt_item *it = gen_item(g);
    unsigned cc = gen_below(g, 16);
    bool rel8 = f->arg == 0 || f->arg == 2 || f->arg >= 4;
    bool p66 = gen_chance(g, 3); /* ignored by Intel: near-branch-66 */
    uint8_t b[9];
    unsigned n = 0;
    if (gen_chance(g, 5))
        b[n++] = gen_chance(g, 50) ? 0x2e : 0x3e; /* branch hints */
    if (p66)
        b[n++] = 0x66;
    if (f->arg >= 4) {
        static const uint8_t lop[4] = {0xe2, 0xe1, 0xe0, 0xe3};
        if (gen_chance(g, 50))
            gen_setup_mov(g, 1, gen_chance(g, 50) ? 4 : 8,
                          gen_below(g, 3) | (gen_chance(g, 30) ? gen_rand(g) << 32 : 0));
        if (gen_chance(g, 30))
            b[n++] = 0x67;
        b[n++] = lop[f->arg - 4];
    } else if (f->arg == 0) {
        b[n++] = (uint8_t)(0x70 + cc);
    } else if (f->arg == 1) {
        b[n++] = 0x0f;
        b[n++] = (uint8_t)(0x80 + cc);
    } else {
        b[n++] = rel8 ? 0xeb : 0xe9;
    }
    unsigned main_off = it->len;
    if (rel8) {
        b[n++] = (uint8_t)body.len;
    } else {
        uint32_t d = body.len;
        memcpy(b + n, &d, 4);
        n += 4;
    }
    gen_setup_bytes(g, b, n);
    it->main_off = (uint8_t)main_off;
    it->main_len = (uint8_t)n;
    if (p66)
        near66_fixup(g);
    gen_put_body(g, &body);
    if (f->arg < 2 || f->arg >= 4) {
        uint32_t reads = f->arg < 2 ? gen_cc_reads(cc) : (f->arg == 5 || f->arg == 6) ? DT_ZF : 0;
        it->reads = reads | body.reads;
        it->writes = body.writes;
        it->undef = body.undef;
        it->join = true;
        it->fault_ok = body.fault_ok;
    } else { /* the body never runs */
        it->reads = it->writes = it->undef = 0;
    }
}

/* ---- conversions and flag moves ---- */

static void e_cbw(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    gen_size(g, &in, f->sizes);
    opc1(&in, 0x98 + (unsigned)f->arg);
    finish(g, &in);
}

/* LAHF 9F, SAHF 9E (AH set up first), CLC/STC/CMC/CLD/STD */
static void e_simple(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    if (f->arg == 0x9e) {
        uint8_t b[2] = {0xb4, (uint8_t)gen_rand(g)}; /* mov ah, imm8 */
        gen_setup_bytes(g, b, 2);
    }
    opc1(&in, (unsigned)f->arg);
    finish(g, &in);
}

/* ---- stack ---- */

static void e_pushf(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = stack_size(g, &in, f->sizes);
    stack_room(g, 16, 0);
    opc1(&in, 0x9c);
    gen_emit(g, &in);
    gen_rsp_move(g, -(int64_t)size);
}

/* POPF of an immediate pushed just before.  TF, NT and AC stay clear:
 * TF would single-step, AC would check alignment (Linux runs user code
 * with CR0.AM set) and NT matters only to IRET. */
static void e_popf(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = stack_size(g, &in, f->sizes);
    stack_room(g, 16, 16);
    uint32_t v = (uint32_t)gen_rand(g) & ~(0x100u | 0x4000u | 0x40000u);
    if (size == 2) {
        uint8_t b[4] = {0x66, 0x68, (uint8_t)v, (uint8_t)(v >> 8)};
        gen_setup_bytes(g, b, 4);
    } else {
        uint8_t b[5] = {0x68};
        memcpy(b + 1, &v, 4);
        gen_setup_bytes(g, b, 5);
    }
    opc1(&in, 0x9d);
    gen_emit(g, &in);
}

/* PUSH: arg 0 50+r, 1 6A ib, 2 68 iz, 3 FF /6 */
static void e_push(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = stack_size(g, &in, f->sizes);
    stack_room(g, 16, 0);
    switch (f->arg) {
    case 0: {
        unsigned r = gen_below(g, 16);
        if (r >= 8)
            in.rex |= 1;
        opc1(&in, 0x50 + (r & 7));
        break;
    }
    case 1:
        opc1(&in, 0x6a);
        in.imm_size = 1;
        in.imm = gen_value(g, 1);
        break;
    case 2:
        opc1(&in, 0x68);
        in.imm_size = size == 2 ? 2 : 4;
        in.imm = gen_value(g, (unsigned)in.imm_size);
        break;
    default:
        opc1(&in, 0xff);
        gen_rm(g, &in, size, false, 0, 50);
        in.reg = ext(g, &in, 6);
        break;
    }
    gen_emit(g, &in);
    gen_rsp_move(g, -(int64_t)size);
}

/* POP: arg 0 58+r, 1 8F /0 (an RSP-based address uses the popped RSP) */
static void e_pop(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = stack_size(g, &in, f->sizes);
    stack_room(g, 0, 16);
    if (f->arg == 0) {
        unsigned r = gen_reg(g, &in, size, true, 0);
        if (r >= 8)
            in.rex |= 1;
        opc1(&in, 0x58 + (r & 7));
    } else {
        opc1(&in, 0x8f);
        gen_rsp_ea_adjust(g, (int64_t)size);
        gen_rm(g, &in, size, true, 0, 60);
        gen_rsp_ea_adjust(g, 0);
        in.reg = ext(g, &in, 0);
    }
    gen_emit(g, &in);
    gen_rsp_move(g, (int64_t)size);
}

/* ENTER imm16, imm8 with RBP set up inside the window first */
static void e_enter(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = stack_size(g, &in, f->sizes);
    unsigned level = gen_chance(g, 70) ? gen_below(g, 4) : gen_below(g, 256);
    unsigned alloc = gen_chance(g, 30) ? 0 : gen_below(g, 0x200);
    stack_room(g, 8 + 32 * 8 + alloc + 16, 0);
    gen_setup_mov(g, 5, 8, DT_DATA_ADDR + 0x800 + gen_below(g, 0x3000));
    opc1(&in, 0xc8);
    in.imm_size = 2;
    in.imm = alloc;
    in.imm2_size = 1;
    in.imm2 = level;
    gen_emit(g, &in);
    unsigned l = level & 31;
    gen_rsp_move(g, -(int64_t)(size + (l ? l * size : 0) + alloc));
}

/* LEAVE with RBP = RSP + k set up first */
static void e_leave(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    unsigned size = stack_size(g, &in, f->sizes);
    unsigned k = gen_chance(g, 80) ? 8 * gen_below(g, 16) : gen_below(g, 128);
    stack_room(g, 0, k + 16);
    uint8_t b[5] = {0x48, 0x8d, 0x6c, 0x24, (uint8_t)k}; /* lea rbp, [rsp + k] */
    gen_setup_bytes(g, b, 5);
    opc1(&in, 0xc9);
    gen_emit(g, &in);
    gen_rsp_move(g, (int64_t)(k + size));
}

/* ---- strings ---- */

void dt_string_unit(struct gen *g, const struct dt_string_args *a)
{
    static const uint8_t opc[5] = {0xa4, 0xaa, 0xac, 0xa6, 0xae};
    struct dt_ins in;
    ins_init(&in);
    in.byte_mode = 3;
    if (a->size == 2 || a->p66_and_w)
        in.p66 = true;
    if (a->size == 8)
        in.rex |= 8;
    bool src = a->op == 0 || a->op == 2 || a->op == 3;
    bool dst = a->op != 2;
    in.p67 = a->a32;
    if (a->rep) {
        legacy(&in, a->rep == 1 ? 0xf3 : 0xf2);
        gen_setup_mov(g, 1, 8, a->rcx);
    }
    if (src && a->gs)
        legacy(&in, 0x65); /* the source segment can be overridden, the destination not */
    if (src)
        gen_setup_mov(g, 6, 8, a->rsi);
    if (dst)
        gen_setup_mov(g, 7, 8, a->rdi);
    opc1(&in, opc[a->op] + (a->size != 1));
    uint64_t count = a->rep ? a->rcx & (a->a32 ? 0xffffffffull : ~0ull) : 1;
    if (a->op == 3 || a->op == 4)
        gen_item(g)->writes = count ? ALL : 0;
    if (a->noise)
        gen_noise_prefix(g, &in);
    gen_emit(g, &in);
    /* Intel writes ECX and the index registers even when no iteration
     * runs; another vendor leaves them (vendor_diffs.h, rep-a32-empty) */
    if (a->rep && a->a32 && count == 0) {
        struct dt_item *it = gen_item(g);
        struct dt_fixup *fx = gen_fixup(g, VD_REP_A32_EMPTY, it->main_off, it->main_len);
        if (fx)
            fx->arg[0] = (uint8_t)((src ? VD_USES_RSI : 0) | (dst ? VD_USES_RDI : 0));
    }
}

/* arg: 0 MOVS 1 STOS 2 LODS 3 CMPS 4 SCAS; arg2: 0 none, 1 REP/REPE, 2 REPNE */
static void e_string(struct gen *g, const struct dt_form *f)
{
    struct dt_string_args a = {.op = (unsigned)f->arg, .rep = (unsigned)f->arg2, .noise = true};
    struct dt_ins tmp;
    ins_init(&tmp);
    a.size = gen_size(g, &tmp, f->sizes);
    a.p66_and_w = a.size == 8 && tmp.p66;
    bool src = a.op == 0 || a.op == 2 || a.op == 3;
    a.a32 = gen_chance(g, 20);
    bool big = false;
    if (a.rep) {
        /* now and then a long run: past the interpreter's per-call batch */
        big = gen_chance(g, 5);
        uint64_t count = big ? gen_below(g, 0x3000 / a.size)
                             : gen_chance(g, 10) ? 0 : gen_below(g, 40);
        a.rcx = a.a32 ? (count | gen_rand(g) << 32) : count;
    }
    uint64_t s, d;
    if (big) { /* the middle of the window, so either direction fits */
        s = DT_DATA_ADDR + 0x3800 + gen_below(g, 0x1000);
        d = DT_DATA_ADDR + 0x3800 + gen_below(g, 0x1000);
    } else {
        s = DT_DATA_ADDR + 0x1000 + gen_below(g, 0x6000);
        d = DT_DATA_ADDR + 0x1000 + gen_below(g, 0x6000);
    }
    if (gen_chance(g, 20))
        d = s + gen_below(g, 33) - 16; /* overlapping; equal for CMPS runs to the end */
    if (src && gen_chance(g, 10)) {
        a.gs = true;
        s -= DT_GS_BASE;
    }
    a.rsi = a.a32 ? ((s & 0xffffffffull) | gen_rand(g) << 32) : s;
    a.rdi = a.a32 ? (d | gen_rand(g) << 32) : d;
    dt_string_unit(g, &a);
}

/* XLAT D7: AL := [rBX + AL] */
static void e_xlat(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    (void)f;
    bool a32 = gen_chance(g, 25);
    uint64_t b = DT_DATA_ADDR + 0x100 + gen_below(g, DT_DATA_SIZE - 0x300);
    gen_setup_mov(g, 3, 8, a32 ? (b | gen_rand(g) << 32) : b);
    in.p67 = a32;
    if (gen_chance(g, 20))
        in.rex |= 8;
    opc1(&in, 0xd7);
    finish(g, &in);
}

/* NOP forms: arg 0 90, 1 66 90, 2 F3 90 (PAUSE), 3 0F 1F /0, 4 0F 18 /0-3
 * (PREFETCHh), 5 0F 0D /1 (PREFETCHW) */
static void e_nop(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    in.byte_mode = 3;
    switch (f->arg) {
    case 0: opc1(&in, 0x90); break;
    case 1: in.p66 = true; opc1(&in, 0x90); break;
    case 2: legacy(&in, 0xf3); opc1(&in, 0x90); break;
    case 3:
        gen_size(g, &in, 2 | 4);
        opc2(&in, 0x1f);
        if (gen_chance(g, 70))
            gen_mem_any(g, &in);
        else {
            in.modrm = true;
            in.rm = gen_below(g, 16);
        }
        in.reg = 0;
        break;
    case 4:
        opc2(&in, 0x18);
        gen_mem_any(g, &in);
        in.reg = gen_below(g, 4);
        break;
    default:
        opc2(&in, 0x0d);
        gen_mem_any(g, &in);
        in.reg = 1;
        break;
    }
    finish(g, &in);
}

/* ---- #UD: encodings both sides must refuse ---- */

static void e_ud(struct gen *g, const struct dt_form *f)
{
    static const uint8_t forms[][5] = {
        {2, 0x0f, 0x0b},        /* UD2 */
        {3, 0xf0, 0x01, 0xc0},  /* LOCK ADD eax, eax: register destination */
        {3, 0xf0, 0x8b, 0x00},  /* LOCK MOV: not lockable */
        {2, 0xfe, 0xd0},        /* FE /2: no such form */
        {3, 0x0f, 0xba, 0xc0},  /* 0F BA /0-3 is reserved (imm follows) */
        {3, 0x82, 0xc0, 0x01},  /* 82 is invalid in 64-bit mode */
        {1, 0x06},              /* PUSH ES: invalid in 64-bit mode */
        {1, 0x27},              /* DAA: invalid in 64-bit mode */
        {4, 0x0f, 0x38, 0xf0, 0xc0}, /* MOVBE with a register operand */
        {3, 0x0f, 0xc7, 0xc8},  /* CMPXCHG8B with a register operand */
        {2, 0x8d, 0xc0},        /* LEA with a register operand */
        {3, 0x0f, 0xb8, 0xc0},  /* 0F B8 without F3 (JMPE) */
    };
    const uint8_t *b = forms[f->arg];
    _Static_assert(sizeof(forms[0]) >= 5, "room for the longest");
    struct dt_item *it = gen_item(g);
    it->main_off = it->len;
    gen_setup_bytes(g, b + 1, b[0]);
    if (f->arg == 4) { /* the immediate */
        uint8_t imm = (uint8_t)gen_rand(g);
        gen_setup_bytes(g, &imm, 1);
    }
    it->main_len = (uint8_t)(it->len - it->main_off);
}

/* Redundant prefixes (ignored segment overrides) in front of ADD r, r:
 * arg 0 up to the 15-byte limit, arg 1 past it (#GP(0), SDM Vol. 2A
 * 2.3.11). */
static void e_long(struct gen *g, const struct dt_form *f)
{
    static const uint8_t segs[] = {0x2e, 0x3e, 0x26, 0x36};
    struct dt_ins in;
    unsigned size = begin(g, &in, f->sizes);
    opc1(&in, 0x01);
    operands(g, &in, size, true, false, 0);
    in.nlegacy = 0;
    /* ADD r, r is 2 bytes, plus 66 and REX when present */
    unsigned base = 2 + in.p66 + (in.rex || in.reg >= 8 || in.rm >= 8);
    unsigned len = f->arg ? 16 + gen_below(g, 3) : base + gen_below(g, 16 - base);
    uint8_t pfx[20];
    unsigned n = len - base;
    for (unsigned k = 0; k < n; k++)
        pfx[k] = segs[gen_below(g, 4)];
    struct dt_item *it = gen_item(g);
    unsigned start = it->len;
    gen_setup_bytes(g, pfx, n);
    in.rex_any = in.rex_any || in.rex; /* keep the REX count exact */
    unsigned before = it->len;
    gen_emit(g, &in);
    if (it->len - before != base) /* a REX we did not count: stay honest */
        it->fault_ok = true;
    it->main_off = (uint8_t)start;
    it->main_len = (uint8_t)(it->len - start);
}

/* ---- near calls, returns and indirect jumps ---- */

/* Patches a 'lea r64, [rip + disp32]' placed at 'at' so that it points
 * at the current end of the unit. */
static void point_lea_here(struct dt_item *it, unsigned at)
{
    int32_t d = (int32_t)(it->len - (at + 7));
    memcpy(it->bytes + at + 3, &d, 4);
}

static unsigned put_lea_rip(struct gen *g, unsigned r)
{
    uint8_t b[7] = {(uint8_t)(0x48 | (r >= 8 ? 4 : 0)), 0x8d, (uint8_t)(0x05 | (r & 7) << 3)};
    unsigned at = gen_item(g)->len;
    gen_setup_bytes(g, b, 7);
    return at;
}

static void put_body(struct gen *g)
{
    struct dt_item body;
    gen_body(g, &body);
    gen_put_body(g, &body);
}

/* arg 0 CALL rel32 over a body (it never runs; the return address is
 * pushed); 1 RET and 2 RET imm16 to a target pushed first; 3 CALL r/m
 * and 4 JMP r/m to a target after the body */
static void e_near(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    in.byte_mode = 3;
    struct dt_item *it = gen_item(g);
    unsigned imm = f->arg == 2 ? gen_below(g, 64) * (gen_chance(g, 80) ? 8 : 1) : 0;
    stack_room(g, 32, 32 + imm);
    bool p66 = gen_chance(g, 3); /* ignored by Intel: near-branch-66 */
    if (f->arg == 0) {
        uint8_t b[6] = {0x66, 0xe8};
        unsigned at = it->len, n = p66 ? 6 : 5;
        gen_setup_bytes(g, b + !p66, n);
        it->main_off = (uint8_t)at;
        it->main_len = (uint8_t)n;
        if (p66)
            near66_fixup(g);
        put_body(g);
        uint32_t d = it->len - (at + n);
        memcpy(it->bytes + at + n - 4, &d, 4);
        gen_rsp_move(g, -8);
        return;
    }
    in.p66 = p66;
    unsigned r = gen_reg(g, &in, 8, true, 0);
    unsigned lea = put_lea_rip(g, r);
    if (f->arg <= 2) {
        uint8_t push[2] = {0x41, (uint8_t)(0x50 + (r & 7))};
        gen_setup_bytes(g, push + (r < 8), r < 8 ? 1 : 2);
        it->main_off = it->len;
        if (f->arg == 1) {
            opc1(&in, 0xc3);
        } else {
            opc1(&in, 0xc2);
            in.imm_size = 2;
            in.imm = imm;
        }
        gen_emit(g, &in);
        near66_fixup(g);
        put_body(g);
        point_lea_here(it, lea);
        gen_rsp_move(g, imm);
        return;
    }
    opc1(&in, 0xff);
    in.reg = f->arg == 3 ? 2 : 4;
    if (gen_chance(g, 50)) {
        in.modrm = true;
        in.rm = r;
    } else {
        gen_mem_at(g, &in, gen_data_addr(g, 8), 1u << r);
        gen_setup_mem(g, r, 8, &in.mem, true);
    }
    if (gen_chance(g, 30))
        in.rex |= 8; /* 64-bit regardless */
    gen_emit(g, &in);
    near66_fixup(g);
    put_body(g);
    point_lea_here(it, lea);
    if (f->arg == 3)
        gen_rsp_move(g, -8);
}

/* ---- faults: #PF, #GP ---- */

/* arg 0 load, 1 store, 2 read-modify-write from an unmapped address;
 * 3 a load straddling the window's end; 4 REP STOS/MOVS running off the
 * end; 5 a non-canonical address (#GP); 6 BT with an offset far outside */
static void e_fault(struct gen *g, const struct dt_form *f)
{
    struct dt_ins in;
    ins_init(&in);
    in.byte_mode = 3;
    uint64_t end = DT_DATA_ADDR + DT_DATA_SIZE;
    uint64_t far = gen_chance(g, 50) ? DT_UNMAPPED + gen_below(g, 0x100000)
                                     : end + gen_below(g, 0x10000);
    unsigned size = gen_size(g, &in, 2 | 4 | 8);
    switch (f->arg) {
    case 0:
    case 1:
    case 2:
        opc1(&in, f->arg == 0 ? 0x8b : f->arg == 1 ? 0x89 : 0x01);
        gen_mem_at(g, &in, far, 0);
        in.reg = gen_reg(g, &in, size, f->arg == 0, 0);
        if (f->arg == 2)
            gen_lock(g, &in, 20);
        break;
    case 3:
        opc1(&in, gen_chance(g, 50) ? 0x8b : 0x89);
        gen_mem_at(g, &in, end - 1 - gen_below(g, size - 1), 0);
        in.reg = gen_reg(g, &in, size, true, 0);
        break;
    case 4: {
        static const uint8_t cld[] = {0xfc};
        gen_setup_bytes(g, cld, 1);
        unsigned n = 4 + gen_below(g, 60);
        gen_setup_mov(g, 1, 8, n);
        gen_setup_mov(g, 7, 8, end - (n * size) / 2 - gen_below(g, 4));
        gen_setup_mov(g, 6, 8, DT_DATA_ADDR + 0x1000 + gen_below(g, 0x1000));
        legacy(&in, 0xf3);
        opc1(&in, (gen_chance(g, 50) ? 0xaa : 0xa4) + 1);
        break;
    }
    case 5: {
        uint64_t nc = 0x8000000000000000ull + (gen_rand(g) & 0x7fff000000000000ull) +
                      (gen_rand(g) & 0xffffffffull);
        opc1(&in, gen_chance(g, 50) ? 0x8b : 0x89);
        gen_mem_at(g, &in, nc, 1u << 5);
        in.reg = gen_reg(g, &in, size, true, 0);
        break;
    }
    case 7: { /* JMP rel32 into the unmapped page after the code: #PF on the fetch */
        struct dt_item *it = gen_item(g);
        uint8_t b[5] = {0xe9};
        it->main_off = it->len;
        gen_setup_bytes(g, b, 5);
        it->main_len = 5;
        it->reloc[0].off = (uint8_t)(it->len - 4);
        it->reloc[0].end = it->len;
        it->reloc[0].target = DT_CODE_ADDR + DT_CODE_SIZE + gen_below(g, 0x1000);
        it->nreloc = 1;
        return;
    }
    case 8: { /* JMP r to a non-canonical address: #GP(0) at the JMP (a 66
               * from gen_size above is ignored, near-branch-66) */
        unsigned r = gen_reg(g, &in, 8, true, 0);
        gen_setup_mov(g, r, 8, 0x0000800000000000ull + (gen_rand(g) & 0x7fff000000000000ull) +
                                   (gen_rand(g) & 0xfffffff));
        opc1(&in, 0xff);
        in.modrm = true;
        in.reg = 4;
        in.rm = r;
        break;
    }
    default: {
        unsigned r = gen_reg(g, &in, size, true, 0);
        opc2(&in, 0xa3);
        gen_mem_at(g, &in, DT_DATA_ADDR + 0x4000, 1u << r);
        int64_t off = (int64_t)(gen_rand(g) % 0x40000000) * (gen_chance(g, 50) ? 1 : -1);
        if (size == 2)
            off = 0; /* a 16-bit offset cannot leave the window */
        off += off >= 0 ? 0x10000 * 8 : -0x10000 * 8;
        gen_setup_mov(g, r, 8, (uint64_t)off);
        in.reg = r;
        break;
    }
    }
    gen_emit(g, &in);
    if (f->arg == 8)
        near66_fixup(g);
}

/* ---- the table ---- */

#define ALU_ROWS(n, op, w, u, r)                                                         \
    {n " Eb/Ev,G", "alu", e_alu, op, K_EG, w, u, r, SZ_BWDQ, DT_A_MEM, NULL},           \
    {n " G,Eb/Ev", "alu", e_alu, op, K_GE, w, u, r, SZ_BWDQ, DT_A_MEM, NULL},           \
    {n " AL/rAX,imm", "alu", e_alu, op, K_AI, w, u, r, SZ_BWDQ, 0, NULL},               \
    {n " Eb,Ib (80)", "alu", e_alu, op, K_80, w, u, r, 1, DT_A_MEM, NULL},              \
    {n " Ev,Iz (81)", "alu", e_alu, op, K_81, w, u, r, SZ_WDQ, DT_A_MEM, NULL},         \
    {n " Ev,Ib (83)", "alu", e_alu, op, K_83, w, u, r, SZ_WDQ, DT_A_MEM, NULL},

#define SHIFT_ROWS(n, op, u)                                                             \
    {n " E,1", "shift", e_shift, op, 0, ALL, u, 0, SZ_BWDQ, DT_A_MEM, NULL},             \
    {n " E,imm8", "shift", e_shift, op, 1, ALL, u, 0, SZ_BWDQ, DT_A_MEM, NULL},          \
    {n " E,CL", "shift", e_shift, op, 2, ALL, u, 0, SZ_BWDQ, DT_A_MEM, NULL},

const struct dt_form dt_forms_int[] = {
    /* SDM: ADD/ADC/SUB/SBB/CMP set all six; AND/OR/XOR clear OF and CF,
     * AF undefined */
    ALU_ROWS("add", 0, ALL, 0, 0)
    ALU_ROWS("or", 1, ALL, DT_AF, 0)
    ALU_ROWS("adc", 2, ALL, 0, DT_CF)
    ALU_ROWS("sbb", 3, ALL, 0, DT_CF)
    ALU_ROWS("and", 4, ALL, DT_AF, 0)
    ALU_ROWS("sub", 5, ALL, 0, 0)
    ALU_ROWS("xor", 6, ALL, DT_AF, 0)
    ALU_ROWS("cmp", 7, ALL, 0, 0)
    {"test E,G", "alu", e_test, 0, 0, ALL, DT_AF, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"test AL/rAX,imm", "alu", e_test, 0, 1, ALL, DT_AF, 0, SZ_BWDQ, 0, NULL},
    {"test E,imm (F6/F7 /0)", "alu", e_test, 0, 2, ALL, DT_AF, 0, SZ_BWDQ, DT_A_MEM, NULL},

    /* INC/DEC: CF unaffected; NOT: no flags; NEG: all six */
    {"inc E", "incdec", e_unary, 0, 0xfe, ALL & ~DT_CF, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"dec E", "incdec", e_unary, 1, 0xfe, ALL & ~DT_CF, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"not E", "notneg", e_unary, 2, 0xf6, 0, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"neg E", "notneg", e_unary, 3, 0xf6, ALL, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},

    /* MUL/IMUL: CF OF defined; SF ZF AF PF undefined.  DIV/IDIV: all undefined */
    {"mul E", "muldiv", e_mul1, 4, 0, ALL, DT_SF | DT_ZF | DT_AF | DT_PF, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"imul E", "muldiv", e_mul1, 5, 0, ALL, DT_SF | DT_ZF | DT_AF | DT_PF, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"imul G,E", "muldiv", e_imul, 0, 0, ALL, DT_SF | DT_ZF | DT_AF | DT_PF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"imul G,E,Iz", "muldiv", e_imul, 1, 0, ALL, DT_SF | DT_ZF | DT_AF | DT_PF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"imul G,E,Ib", "muldiv", e_imul, 2, 0, ALL, DT_SF | DT_ZF | DT_AF | DT_PF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"div E", "muldiv", e_div, 6, 0, ALL, ALL, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"idiv E", "muldiv", e_div, 7, 0, ALL, ALL, 0, SZ_BWDQ, DT_A_MEM, NULL},

    /* shifts: see shift_flags() for the per-count rules */
    SHIFT_ROWS("rol", 0, DT_OF)
    SHIFT_ROWS("ror", 1, DT_OF)
    SHIFT_ROWS("rcl", 2, DT_OF)
    SHIFT_ROWS("rcr", 3, DT_OF)
    SHIFT_ROWS("shl", 4, DT_OF | DT_AF | DT_CF)
    SHIFT_ROWS("shr", 5, DT_OF | DT_AF | DT_CF)
    SHIFT_ROWS("sal (/6)", 6, DT_OF | DT_AF | DT_CF)
    SHIFT_ROWS("sar", 7, DT_OF | DT_AF)
    {"shld E,G,imm8", "shxd", e_shxd, 0, 0, ALL, DT_OF | DT_AF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"shld E,G,CL", "shxd", e_shxd, 0, 1, ALL, DT_OF | DT_AF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"shrd E,G,imm8", "shxd", e_shxd, 1, 0, ALL, DT_OF | DT_AF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"shrd E,G,CL", "shxd", e_shxd, 1, 1, ALL, DT_OF | DT_AF, 0, SZ_WDQ, DT_A_MEM, NULL},

    /* BT*: CF is the bit; ZF unaffected; OF SF AF PF undefined */
#define BT_U (DT_OF | DT_SF | DT_AF | DT_PF)
    {"bt E,G", "bittest", e_bt, 0, 0, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"bts E,G", "bittest", e_bt, 1, 0, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"btr E,G", "bittest", e_bt, 2, 0, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"btc E,G", "bittest", e_bt, 3, 0, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"bt E,imm8", "bittest", e_bt, 0, 1, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"bts E,imm8", "bittest", e_bt, 1, 1, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"btr E,imm8", "bittest", e_bt, 2, 1, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"btc E,imm8", "bittest", e_bt, 3, 1, DT_CF | BT_U, BT_U, 0, SZ_WDQ, DT_A_MEM, NULL},

    /* BSF/BSR: ZF defined, the rest undefined.  TZCNT/LZCNT: ZF CF
     * defined, OF SF AF PF undefined.  POPCNT: all defined */
    {"bsf G,E", "bitscan", e_bitscan, 0, 0, ALL, ALL & ~DT_ZF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"bsr G,E", "bitscan", e_bitscan, 1, 0, ALL, ALL & ~DT_ZF, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"tzcnt G,E", "bitscan", e_bitscan, 2, 0, ALL, BT_U, 0, SZ_WDQ, DT_A_MEM, "bmi1"},
    {"lzcnt G,E", "bitscan", e_bitscan, 3, 0, ALL, BT_U, 0, SZ_WDQ, DT_A_MEM, "lzcnt"},
    {"popcnt G,E", "bitscan", e_bitscan, 4, 0, ALL, 0, 0, SZ_WDQ, DT_A_MEM, "popcnt"},
    {"bswap r32/r64", "byteops", e_bswap, 0, 0, 0, 0, 0, 4 | 8, 0, NULL},
    /* BSWAP r16 is undefined in the SDM, but Intel and AMD both clear the
     * low word (nest86 does too), so it is compared */
    {"bswap r16", "byteops", e_bswap, 0, 0, 0, 0, 0, 2, 0, NULL},
    {"movbe G,M", "byteops", e_movbe, 0, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, "movbe"},
    {"movbe M,G", "byteops", e_movbe, 1, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, "movbe"},
    {"crc32 G,Eb", "byteops", e_crc32, 0, 0, 0, 0, 0, 1, DT_A_MEM, "sse4.2"},
    {"crc32 G,Ev", "byteops", e_crc32, 1, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, "sse4.2"},

    {"movzx G,Eb", "movx", e_movx, 0, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"movzx G,Ew", "movx", e_movx, 1, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"movsx G,Eb", "movx", e_movx, 2, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"movsx G,Ew", "movx", e_movx, 3, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"movsxd G,Ed", "movx", e_movx, 4, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"mov E,G", "mov", e_mov, 0, 0, 0, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"mov G,E", "mov", e_mov, 0, 1, 0, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"mov E,imm", "mov", e_mov, 0, 2, 0, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"mov r,imm", "mov", e_mov, 0, 3, 0, 0, 0, SZ_BWDQ, 0, NULL},
    {"mov moffs", "mov", e_mov, 0, 4, 0, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"lea G,M", "lea", e_lea, 0, 0, 0, 0, 0, SZ_WDQ, 0, NULL},

    /* XCHG: no flags; XADD and CMPXCHG as ADD and CMP; CMPXCHG8B/16B: ZF */
    {"xchg E,G", "xchg", e_xchg, 0, 0, 0, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"xchg rAX,r (90+r)", "xchg", e_xchg, 1, 0, 0, 0, 0, SZ_WDQ, 0, NULL},
    {"xadd E,G", "xchg", e_xchg, 2, 0, ALL, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"cmpxchg E,G", "xchg", e_xchg, 3, 0, ALL, 0, 0, SZ_BWDQ, DT_A_MEM, NULL},
    {"cmpxchg8b M", "xchg", e_cmpxchg8b, 0, 0, DT_ZF, 0, 0, 8, DT_A_MEM, NULL},
    {"cmpxchg16b M", "xchg", e_cmpxchg8b, 1, 0, DT_ZF, 0, 0, 8, DT_A_MEM, "cx16"},

    {"cmovcc G,E", "cond", e_cmov, 0, 0, 0, 0, 0, SZ_WDQ, DT_A_MEM, NULL},
    {"setcc Eb", "cond", e_setcc, 0, 0, 0, 0, 0, 1, DT_A_MEM, NULL},
    {"jcc rel8", "cond", e_branch, 0, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"jcc rel32", "cond", e_branch, 1, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"jmp rel8", "cond", e_branch, 2, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"jmp rel32", "cond", e_branch, 3, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"loop", "cond", e_branch, 4, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"loope", "cond", e_branch, 5, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"loopne", "cond", e_branch, 6, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},
    {"jrcxz/jecxz", "cond", e_branch, 7, 0, 0, 0, 0, 8, DT_A_CTRL, NULL},

    {"cbw/cwde/cdqe", "conv", e_cbw, 0, 0, 0, 0, 0, SZ_WDQ, 0, NULL},
    {"cwd/cdq/cqo", "conv", e_cbw, 1, 0, 0, 0, 0, SZ_WDQ, 0, NULL},
    /* LAHF reads SF ZF AF PF CF; SAHF writes them */
#define SZAPC (DT_SF | DT_ZF | DT_AF | DT_PF | DT_CF)
    {"lahf", "flags", e_simple, 0x9f, 0, 0, 0, SZAPC, 0, 0, "lahf"},
    {"sahf", "flags", e_simple, 0x9e, 0, SZAPC, 0, 0, 0, 0, "lahf"},
    {"clc", "flags", e_simple, 0xf8, 0, DT_CF, 0, 0, 0, 0, NULL},
    {"stc", "flags", e_simple, 0xf9, 0, DT_CF, 0, 0, 0, 0, NULL},
    {"cmc", "flags", e_simple, 0xf5, 0, DT_CF, 0, DT_CF, 0, 0, NULL},
    {"cld", "flags", e_simple, 0xfc, 0, 0, 0, 0, 0, 0, NULL},
    {"std", "flags", e_simple, 0xfd, 0, 0, 0, 0, 0, 0, NULL},
    {"pushf", "flags", e_pushf, 0, 0, 0, 0, ALL, 2 | 8, DT_A_STACK, NULL},
    {"popf", "flags", e_popf, 0, 0, ALL, 0, 0, 2 | 8, DT_A_STACK, NULL},

    {"push r", "stack", e_push, 0, 0, 0, 0, 0, 2 | 8, DT_A_STACK, NULL},
    {"push imm8", "stack", e_push, 1, 0, 0, 0, 0, 2 | 8, DT_A_STACK, NULL},
    {"push imm", "stack", e_push, 2, 0, 0, 0, 0, 2 | 8, DT_A_STACK, NULL},
    {"push E", "stack", e_push, 3, 0, 0, 0, 0, 2 | 8, DT_A_STACK | DT_A_MEM, NULL},
    {"pop r", "stack", e_pop, 0, 0, 0, 0, 0, 2 | 8, DT_A_STACK, NULL},
    {"pop E", "stack", e_pop, 1, 0, 0, 0, 0, 2 | 8, DT_A_STACK | DT_A_MEM, NULL},
    {"enter", "stack", e_enter, 0, 0, 0, 0, 0, 2 | 8, DT_A_STACK, NULL},
    {"leave", "stack", e_leave, 0, 0, 0, 0, 0, 2 | 8, DT_A_STACK, NULL},

#define STR_ROWS(n, op, w)                                                                  \
    {n, "string", e_string, op, 0, w, 0, 0, SZ_BWDQ, 0, NULL},                              \
    {"rep " n, "string", e_string, op, 1, w, 0, 0, SZ_BWDQ, 0, NULL},
    STR_ROWS("movs", 0, 0)
    STR_ROWS("stos", 1, 0)
    STR_ROWS("lods", 2, 0)
    STR_ROWS("cmps", 3, ALL)
    STR_ROWS("scas", 4, ALL)
    {"repne cmps", "string", e_string, 3, 2, ALL, 0, 0, SZ_BWDQ, 0, NULL},
    {"repne scas", "string", e_string, 4, 2, ALL, 0, 0, SZ_BWDQ, 0, NULL},
    {"xlat", "misc", e_xlat, 0, 0, 0, 0, 0, 1, 0, NULL},
    {"nop (90)", "misc", e_nop, 0, 0, 0, 0, 0, 0, 0, NULL},
    {"nop (66 90)", "misc", e_nop, 1, 0, 0, 0, 0, 0, 0, NULL},
    {"pause", "misc", e_nop, 2, 0, 0, 0, 0, 0, 0, NULL},
    {"nop Ev (0F 1F)", "misc", e_nop, 3, 0, 0, 0, 0, 0, 0, NULL},
    {"prefetch (0F 18)", "misc", e_nop, 4, 0, 0, 0, 0, 0, 0, NULL},
    {"prefetchw (0F 0D)", "misc", e_nop, 5, 0, 0, 0, 0, 0, 0, NULL},

    {"ud2", "ud", e_ud, 0, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"lock on a register form", "ud", e_ud, 1, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"lock mov", "ud", e_ud, 2, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"FE /2", "ud", e_ud, 3, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"0F BA /4-less", "ud", e_ud, 4, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"82 in 64-bit mode", "ud", e_ud, 5, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"push es in 64-bit mode", "ud", e_ud, 6, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"daa in 64-bit mode", "ud", e_ud, 7, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"movbe register form", "ud", e_ud, 8, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"cmpxchg8b register form", "ud", e_ud, 9, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"lea register form", "ud", e_ud, 10, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"0F B8 without F3", "ud", e_ud, 11, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"#GP: longer than 15 bytes", "ud", e_long, 1, 0, ALL, 0, 0, SZ_WDQ, DT_A_FAULT, NULL},
    {"prefixes up to 15 bytes", "misc", e_long, 0, 0, ALL, 0, 0, SZ_WDQ, 0, NULL},

    {"#PF load", "fault", e_fault, 0, 0, 0, 0, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#PF store", "fault", e_fault, 1, 0, 0, 0, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#PF read-modify-write", "fault", e_fault, 2, 0, ALL, 0, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#PF page-straddling access", "fault", e_fault, 3, 0, 0, 0, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#PF rep string off the end", "fault", e_fault, 4, 0, 0, 0, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#GP non-canonical", "fault", e_fault, 5, 0, 0, 0, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#PF bt far offset", "fault", e_fault, 6, 0, BT_U | DT_CF, BT_U, 0, 0, DT_A_FAULT | DT_A_MEM, NULL},
    {"#PF fetch from an unmapped page", "fault", e_fault, 7, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},
    {"#GP jmp to non-canonical", "fault", e_fault, 8, 0, 0, 0, 0, 0, DT_A_FAULT, NULL},

    {"call rel32", "ctrl", e_near, 0, 0, 0, 0, 0, 8, DT_A_STACK | DT_A_CTRL, NULL},
    {"ret", "ctrl", e_near, 1, 0, 0, 0, 0, 8, DT_A_STACK | DT_A_CTRL, NULL},
    {"ret imm16", "ctrl", e_near, 2, 0, 0, 0, 0, 8, DT_A_STACK | DT_A_CTRL, NULL},
    {"call r/m", "ctrl", e_near, 3, 0, 0, 0, 0, 8, DT_A_STACK | DT_A_CTRL | DT_A_MEM, NULL},
    {"jmp r/m", "ctrl", e_near, 4, 0, 0, 0, 0, 8, DT_A_CTRL | DT_A_MEM, NULL},
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL},
};
