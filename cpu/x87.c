/* cpu/x87.c — the x87 FPU instructions, D8-DF (SDM Vol. 1 chapter 8,
 * Vol. 2 F* pages).  Values are 80-bit extended precision computed by
 * the host FPU under the guest's precision and rounding control (see
 * cpu/x87_host.h); this file keeps the register stack, tags, stack
 * faults, condition codes, exception flags and masking.
 *
 * Unmasked exceptions set FSW.ES and are delivered as #MF at the next
 * waiting x87/MMX instruction (CR0.NE=1).  Approximation: for unmasked
 * overflow/underflow the destination gets the masked result rather than
 * the exponent-wrapped one (SDM 8.5.4/8.5.5). */
#include "cpu/x87_host.h"

/* the QNaN "real indefinite" */
static f80 indefinite(void)
{
    uint8_t raw[10] = {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff};
    return x87_ld_from(raw);
}

static void st_set(struct cpu *c, unsigned i, f80 v)
{
    unsigned p = x87_phys(c, i);
    x87_ld_to(c->fpu.st[p], v);
    x87_set_empty_phys(c, p, false);
}

static void x87_pop(struct cpu *c)
{
    x87_set_empty_phys(c, x87_phys(c, 0), true);
    x87_set_top(c, x87_top(c) + 1);
}

static void x87_push(struct cpu *c, f80 v)
{
    x87_set_top(c, x87_top(c) - 1);
    st_set(c, 0, v);
}

/* Raises the flags in 'sw' (and C1 from it); returns true when the
 * result may be stored, i.e. no unmasked invalid/denormal/zero-divide. */
static bool x87_flags(struct cpu *c, uint16_t sw)
{
    struct x87 *f = &c->fpu;
    uint16_t ex = sw & 0x3f;
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | ex | (sw & FSW_C1));
    x87_update_es(c);
    return !(ex & ~f->fcw & (FSW_IE | FSW_DE | FSW_ZE));
}

/* Stack underflow/overflow (SDM 8.5.1.1): #IS, C1 = overflow.  Returns
 * true when masked, i.e. the instruction goes on with the indefinite. */
static bool stack_fault(struct cpu *c, bool overflow)
{
    struct x87 *f = &c->fpu;
    f->fsw = (uint16_t)((f->fsw & ~FSW_C1) | FSW_IE | FSW_SF | (overflow ? FSW_C1 : 0));
    x87_update_es(c);
    return (f->fcw & FSW_IE) != 0;
}

/* ---- memory operands ---- */

/* Real or integer memory operand of 'size' bytes as an 80-bit value
 * (inside a host bracket: the conversion raises #I/#D as hardware's). */
static f80 load_real(struct cpu *c, const struct insn *i, uint64_t ea, unsigned size)
{
    if (size == 4)
        return h_from_f32((uint32_t)mem_read(c, i->seg, ea, 4));
    if (size == 8)
        return h_from_f64(mem_read(c, i->seg, ea, 8));
    uint8_t raw[10];
    simd_load(c, i, ea, raw, 10);
    return x87_ld_from(raw);
}

static f80 load_int(struct cpu *c, const struct insn *i, uint64_t ea, unsigned size)
{
    uint64_t v = mem_read(c, i->seg, ea, size);
    unsigned sh = 64 - 8 * size;
    return (f80)((int64_t)(v << sh) >> sh);
}

/* ---- instruction groups ---- */

/* D8/DC/DA/DE arithmetic and compares: ST(0) op src, or for the DC/DE
 * register forms ST(i) op ST(0) with SUB/SUBR and DIV/DIVR exchanged. */
static void arith(struct cpu *c, const struct insn *i, uint64_t ea)
{
    unsigned op = i->op & 0xff, r = i->reg & 7;
    bool reg = i->mod == 3, cmp = r == 2 || r == 3;
    bool to_sti = reg && !cmp && (op == 0xdc || op == 0xde);
    bool pop = reg && op == 0xde;
    unsigned dst = to_sti ? (i->rm & 7) : 0, other = reg ? (to_sti ? 0 : i->rm & 7) : 0;
    if (op == 0xde && reg && r == 3) { /* FCOMPP: DE D9 only */
        if ((i->rm & 7) != 1)
            cpu_raise_noerr(c, EX_UD);
    }
    if (to_sti && r >= 4)
        r ^= 1;
    if (x87_empty(c, 0) || (reg && x87_empty(c, other ? other : dst))) {
        if (!stack_fault(c, false))
            return;
        if (cmp)
            c->fpu.fsw |= FSW_C0 | FSW_C2 | FSW_C3;
        else
            st_set(c, dst, indefinite());
    } else {
        uint16_t h = x87_host_begin(c);
        f80 a = x87_get(c, dst), b = 0, res = 0;
        bool real_mem = !reg && (op == 0xd8 || op == 0xdc);
        unsigned size = op == 0xd8 ? 4 : 8;
        uint64_t m = real_mem ? mem_read(c, i->seg, ea, size) : 0;
        if (reg)
            b = x87_get(c, other);
        else if (!real_mem)
            b = load_int(c, i, ea, op == 0xda ? 4 : 2);
        uint16_t sw = 0;
        if (cmp && real_mem)
            sw = h_compare_mem(a, m, size);
        else if (cmp)
            sw = h_compare(a, b, false);
        else if (real_mem)
            res = h_arith_mem(r, a, m, size, &sw);
        else
            res = h_arith(r, a, b, &sw);
        sw = (uint16_t)((sw & ~0x3fu) | (x87_host_end(h) & 0x3f));
        if (!x87_flags(c, sw))
            return;
        if (cmp) {
            c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) |
                                    (sw & (FSW_C0 | FSW_C2 | FSW_C3)));
        } else {
            st_set(c, dst, res);
        }
    }
    if (pop || r == 3)
        x87_pop(c);
    if (op == 0xde && reg && r == 3)
        x87_pop(c); /* FCOMPP */
}

/* FLD from memory or ST(i), FILD, FBLD, constants */
static void push_value(struct cpu *c, const struct insn *i, uint64_t ea, int kind)
{
    if (!x87_empty(c, 7)) {
        if (stack_fault(c, true))
            x87_push(c, indefinite());
        return;
    }
    f80 v;
    uint16_t h = x87_host_begin(c);
    switch (kind) {
    case 0: v = load_real(c, i, ea, 4); break;
    case 1: v = load_real(c, i, ea, 8); break;
    case 2: v = load_real(c, i, ea, 10); break;
    case 3: v = load_int(c, i, ea, 2); break;
    case 4: v = load_int(c, i, ea, 4); break;
    case 5: v = load_int(c, i, ea, 8); break;
    case 6: {
        uint8_t bcd[10];
        simd_load(c, i, ea, bcd, 10);
        v = h_from_bcd(bcd);
        break;
    }
    default: v = h_const((unsigned)(kind - 7)); break;
    }
    uint16_t sw = x87_host_end(h);
    if (x87_flags(c, sw & ~FSW_C1))
        x87_push(c, v);
}

/* FST/FSTP/FIST/FISTP/FISTTP/FBSTP to memory: kind 0 m32, 1 m64, 2 m80,
 * 3 m16int, 4 m32int, 5 m64int, 6 bcd; 'trunc' for FISTTP. */
static void store_value(struct cpu *c, const struct insn *i, uint64_t ea, int kind, bool pop,
                        bool trunc)
{
    static const uint8_t sizes[7] = {4, 8, 10, 2, 4, 8, 10};
    unsigned n = sizes[kind];
    uint8_t out[10] = {0};
    if (x87_empty(c, 0)) {
        if (!stack_fault(c, false))
            return;
        /* masked: the indefinite of the destination format */
        static const uint8_t ind_real[3][10] = {{0, 0, 0xc0, 0xff}, {0, 0, 0, 0, 0, 0, 0xf8, 0xff},
                                                {0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff}};
        if (kind <= 2)
            memcpy(out, ind_real[kind], 10);
        else if (kind == 6)
            memcpy(out + 7, "\xc0\xff\xff", 3);
        else
            out[n - 1] = 0x80;
    } else {
        f80 v = x87_get(c, 0);
        uint16_t h = x87_host_begin(c), sw = 0;
        switch (kind) {
        case 0: store_le(out, 4, h_to_f32(v, &sw)); break;
        case 1: store_le(out, 8, h_to_f64(v, &sw)); break;
        case 2: x87_ld_to(out, v); break;
        case 6: h_to_bcd(v, out, &sw); break;
        default: store_le(out, n, h_to_int(v, n, trunc, &sw)); break;
        }
        sw = (uint16_t)((sw & FSW_C1) | (x87_host_end(h) & 0x3f));
        mem_probe_write(c, i->seg, ea, n);
        /* an unmasked exception other than precision leaves memory as it was */
        if (!x87_flags(c, sw) || (sw & ~c->fpu.fcw & (FSW_OE | FSW_UE)))
            return;
    }
    simd_store(c, i, ea, out, n);
    if (pop)
        x87_pop(c);
}

/* Compares ST(0) with ST(k): returns false when an unmasked exception
 * stops the instruction; else *cc holds C3/C2/C0 (all set when a masked
 * stack underflow made the result "unordered"). */
static bool compare_st(struct cpu *c, unsigned k, bool unordered_ok, uint16_t *cc)
{
    *cc = FSW_C0 | FSW_C2 | FSW_C3;
    if (x87_empty(c, 0) || x87_empty(c, k))
        return stack_fault(c, false);
    uint16_t h = x87_host_begin(c);
    uint16_t sw = h_compare(x87_get(c, 0), x87_get(c, k), unordered_ok);
    sw |= x87_host_end(h);
    *cc = sw & (FSW_C0 | FSW_C2 | FSW_C3);
    return x87_flags(c, sw & ~FSW_C1);
}

/* FUCOM/FUCOMP/FUCOMPP: the condition codes; 'pops' pops afterwards */
static void compare_cc(struct cpu *c, unsigned k, unsigned pops)
{
    uint16_t cc;
    if (!compare_st(c, k, true, &cc))
        return;
    c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~(FSW_C0 | FSW_C2 | FSW_C3)) | cc);
    while (pops--)
        x87_pop(c);
}

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP: ZF/PF/CF from the compare */
static void compare_eflags(struct cpu *c, unsigned sti, bool unordered_ok, bool pop)
{
    uint16_t cc;
    if (!compare_st(c, sti, unordered_ok, &cc))
        return;
    flags_set_arith(c, (cc & FSW_C3 ? FL_ZF : 0) | (cc & FSW_C2 ? FL_PF : 0) |
                           (cc & FSW_C0 ? FL_CF : 0));
    if (pop)
        x87_pop(c);
}

/* FXAM: class of ST(0) in C3,C2,C0 and its sign in C1 (SDM FXAM table) */
static void fxam(struct cpu *c)
{
    uint16_t cc;
    const uint8_t *raw = c->fpu.st[x87_phys(c, 0)];
    uint64_t mant = load_le(raw, 8);
    unsigned se = (unsigned)load_le(raw + 8, 2), e = se & 0x7fff;
    if (x87_empty(c, 0))
        cc = FSW_C3 | FSW_C0;
    else if (e == 0x7fff && !(mant >> 63))
        cc = 0;                                       /* pseudo-NaN/infinity: unsupported */
    else if (e == 0x7fff)
        cc = (mant << 1) ? FSW_C0 : FSW_C2 | FSW_C0; /* NaN : infinity */
    else if (e == 0)
        cc = mant ? FSW_C3 | FSW_C2 : FSW_C3;         /* denormal : zero */
    else
        cc = (mant >> 63) ? FSW_C2 : 0;               /* normal : unsupported */
    if (se & 0x8000)
        cc |= FSW_C1;
    c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc);
}

/* D9 E0-FF and the register forms around them */
static void d9_reg(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7, k = i->rm & 7, code = 0xc0 | r << 3 | k;
    if (r == 0) { /* FLD ST(i) */
        if (x87_empty(c, k)) {
            if (stack_fault(c, false))
                x87_push(c, indefinite());
            return;
        }
        f80 v = x87_get(c, k);
        if (!x87_empty(c, 7)) {
            if (stack_fault(c, true))
                x87_push(c, indefinite());
            return;
        }
        x87_push(c, v);
        return;
    }
    if (r == 1) { /* FXCH */
        if (x87_empty(c, 0) || x87_empty(c, k)) {
            if (!stack_fault(c, false))
                return;
            /* masked: empty operands become the indefinite */
            if (x87_empty(c, 0))
                st_set(c, 0, indefinite());
            if (x87_empty(c, k))
                st_set(c, k, indefinite());
        }
        f80 a = x87_get(c, 0), b = x87_get(c, k);
        st_set(c, 0, b);
        st_set(c, k, a);
        c->fpu.fsw &= (uint16_t)~FSW_C1;
        return;
    }
    if (code == 0xd0) /* FNOP */
        return;
    if (code >= 0xe8 && code <= 0xee) {
        push_value(c, i, 0, (int)(7 + code - 0xe8));
        return;
    }
    if (code == 0xf6 || code == 0xf7) { /* FDECSTP / FINCSTP */
        x87_set_top(c, x87_top(c) + (code == 0xf7 ? 1 : 7));
        c->fpu.fsw &= (uint16_t)~FSW_C1;
        return;
    }
    if (code == 0xe5) {
        fxam(c);
        return;
    }
    /* everything else reads ST(0) (and ST(1) for the two-operand ones) */
    bool two = code == 0xf1 || code == 0xf3 || code == 0xf5 || code == 0xf8 || code == 0xf9 ||
               code == 0xfd;
    bool known = code == 0xe0 || code == 0xe1 || code == 0xe4 || code == 0xf0 || code == 0xf2 ||
                 code == 0xf4 || code == 0xfa || code == 0xfb || code == 0xfc ||
                 code == 0xfe || code == 0xff || two;
    if (!known)
        cpu_raise_noerr(c, EX_UD);
    if (x87_empty(c, 0) || (two && x87_empty(c, 1))) {
        if (stack_fault(c, false)) {
            st_set(c, 0, indefinite());
            if (code == 0xe4)
                c->fpu.fsw |= FSW_C0 | FSW_C2 | FSW_C3;
        }
        return;
    }
    f80 x = x87_get(c, 0), y = two ? x87_get(c, 1) : 0;
    if (code == 0xe0 || code == 0xe1) { /* FCHS / FABS: sign bit only */
        uint8_t *raw = c->fpu.st[x87_phys(c, 0)];
        raw[9] = code == 0xe0 ? raw[9] ^ 0x80 : raw[9] & 0x7f;
        c->fpu.fsw &= (uint16_t)~FSW_C1;
        return;
    }
    bool push2 = code == 0xf2 || code == 0xfb || code == 0xf4;
    if (push2 && !x87_empty(c, 7)) {
        if (stack_fault(c, true)) {
            st_set(c, 0, indefinite());
            x87_push(c, indefinite());
        }
        return;
    }
    uint16_t h = x87_host_begin(c);
    uint16_t sw = 0;
    f80 res = 0, extra = 0;
    switch (code) {
    case 0xe4: sw = h_compare(x, 0, false); break;                 /* FTST */
    case 0xf0: res = h_unary(HU_F2XM1, x, &sw); break;
    case 0xf1: res = h_binary(HB_YL2X, x, y, &sw); break;
    case 0xf3: res = h_binary(HB_PATAN, x, y, &sw); break;
    case 0xf5: res = h_binary(HB_PREM1, x, y, &sw); break;
    case 0xf8: res = h_binary(HB_PREM, x, y, &sw); break;
    case 0xf9: res = h_binary(HB_YL2XP1, x, y, &sw); break;
    case 0xfa: res = h_unary(HU_SQRT, x, &sw); break;
    case 0xfc: res = h_unary(HU_RNDINT, x, &sw); break;
    case 0xfd: res = h_binary(HB_SCALE, x, y, &sw); break;
    case 0xfe: res = h_unary(HU_SIN, x, &sw); break;
    case 0xff: res = h_unary(HU_COS, x, &sw); break;
    case 0xf2: sw = h_push2(HP_PTAN, x, &extra, &res); break;
    case 0xfb: sw = h_push2(HP_SINCOS, x, &extra, &res); break;
    default: sw = h_push2(HP_XTRACT, x, &extra, &res); break;      /* FXTRACT */
    }
    sw = (uint16_t)((sw & ~0x3fu) | (x87_host_end(h) & 0x3f));
    bool pushed = code == 0xf4 || (push2 && !(sw & FSW_C2));
    if (!x87_flags(c, sw))
        return;
    uint16_t cc = FSW_C0 | FSW_C2 | FSW_C3;
    bool keeps_cc = code == 0xe4 || code == 0xf5 || code == 0xf8;
    bool reduces = code == 0xf2 || code == 0xfb || code == 0xfe || code == 0xff;
    if (keeps_cc)
        c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~cc) | (sw & cc));
    else if (reduces)
        c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C2) | (sw & FSW_C2));
    if (code == 0xf5 || code == 0xf8) /* FPREM: C1 is a quotient bit */
        c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_C1) | (sw & FSW_C1));
    if (code == 0xe4)
        return;
    if ((code == 0xfe || code == 0xff) && (sw & FSW_C2))
        return; /* out of range: operand unchanged */
    if (code == 0xf1 || code == 0xf3 || code == 0xf9) { /* result in ST(1), pop */
        st_set(c, 1, res);
        x87_pop(c);
        return;
    }
    if (push2 && !pushed)
        return;
    st_set(c, 0, res);
    if (pushed)
        x87_push(c, extra);
}

/* FCMOVcc (DA/DB C0-DF): condition from RFLAGS */
static void fcmov(struct cpu *c, const struct insn *i)
{
    static const uint8_t cc[4] = {2, 4, 6, 10}; /* B, E, BE, P as Jcc codes */
    bool cond = cpu_cond(c, cc[i->reg & 3]);
    if ((i->op & 0xff) == 0xdb)
        cond = !cond;
    unsigned k = i->rm & 7;
    if (x87_empty(c, 0) || x87_empty(c, k)) {
        if (stack_fault(c, false))
            st_set(c, 0, indefinite());
        return;
    }
    c->fpu.fsw &= (uint16_t)~FSW_C1;
    if (cond)
        st_set(c, 0, x87_get(c, k));
}

/* FST/FSTP ST(i), FFREE, FUCOM/FUCOMP (DD register forms) */
static void dd_reg(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7, k = i->rm & 7;
    switch (r) {
    case 0: /* FFREE */
        x87_set_empty_phys(c, x87_phys(c, k), true);
        return;
    case 2:
    case 3:
        if (x87_empty(c, 0)) {
            if (!stack_fault(c, false))
                return;
            st_set(c, k, indefinite());
        } else {
            st_set(c, k, x87_get(c, 0));
            c->fpu.fsw &= (uint16_t)~FSW_C1;
        }
        if (r == 3)
            x87_pop(c);
        return;
    case 4:
    case 5:
        compare_cc(c, k, r == 5);
        return;
    default: cpu_raise_noerr(c, EX_UD);
    }
}

/* Records the last non-control instruction (SDM 8.1.8-8.1.9). */
static void note_insn(struct cpu *c, const struct insn *i, uint64_t ea)
{
    struct x87 *f = &c->fpu;
    f->fop = (uint16_t)(((i->op & 7) << 8) | (i->mod << 6) | ((i->reg & 7) << 3) | (i->rm & 7));
    f->fip = c->insn_rip;
    f->fcs = c->seg[SEG_CS].sel;
    if (i->mod != 3) {
        f->fdp = ea;
        f->fds = c->seg[i->seg].sel;
    }
}

void op_x87(struct cpu *c, const struct insn *i)
{
    if (c->mmu.cr0 & (CR0_EM | CR0_TS))
        cpu_raise_noerr(c, EX_NM);
    if (x87_control(c, i))
        return;
    x87_check_pending(c);
    unsigned op = i->op & 0xff, r = i->reg & 7;
    uint64_t ea = i->mod == 3 ? 0 : insn_ea(c, i);
    if (i->mod != 3) {
        static const int8_t load_kind[8][8] = {
            /* d8 */ {-1}, /* d9 */ {0, -1, -1, -1, -1, -1, -1, -1},
            /* da */ {-1}, /* db */ {4, -1, -1, -1, -1, 2, -1, -1},
            /* dc */ {-1}, /* dd */ {1, -1, -1, -1, -1, -1, -1, -1},
            /* de */ {-1}, /* df */ {3, -1, -1, -1, 6, 5, -1, -1},
        };
        /* store forms: kind, then pop and truncation from the reg field */
        static const int8_t store_kind[8][8] = {
            {-1}, {-1, -1, 0, 0, -1, -1, -1, -1}, {-1},
            {-1, 4, 4, 4, -1, -1, -1, 2}, {-1},
            {-1, 5, 1, 1, -1, -1, -1, -1}, {-1},
            {-1, 3, 3, 3, -1, -1, 6, 5},
        };
        if (!(op & 1) && op != 0xdd) {
            note_insn(c, i, ea);
            arith(c, i, ea);
            return;
        }
        int lk = load_kind[op & 7][r], sk = store_kind[op & 7][r];
        if (lk < 0 && sk < 0)
            cpu_raise_noerr(c, EX_UD);
        note_insn(c, i, ea);
        if (lk >= 0)
            push_value(c, i, ea, lk);
        else
            store_value(c, i, ea, sk, r != 2, r == 1);
        return;
    }
    note_insn(c, i, 0);
    switch (op) {
    case 0xd8:
    case 0xdc:
        arith(c, i, 0);
        return;
    case 0xde:
        if (r == 2)
            cpu_raise_noerr(c, EX_UD);
        arith(c, i, 0);
        return;
    case 0xd9:
        d9_reg(c, i);
        return;
    case 0xda:
        if (r < 4) {
            fcmov(c, i);
            return;
        }
        if (r == 5 && (i->rm & 7) == 1) { /* FUCOMPP */
            compare_cc(c, 1, 2);
            return;
        }
        break;
    case 0xdb:
        if (r < 4) {
            fcmov(c, i);
            return;
        }
        if (r == 4 && (i->rm & 7) <= 4) /* FENI/FDISI/FSETPM: no-ops since the 287 */
            return;
        if (r == 5 || r == 6) {
            compare_eflags(c, i->rm & 7, r == 5, false);
            return;
        }
        break;
    case 0xdd:
        dd_reg(c, i);
        return;
    case 0xdf:
        if (r == 5 || r == 6) {
            compare_eflags(c, i->rm & 7, r == 5, true);
            return;
        }
        if (r == 0) { /* FFREEP (undocumented but present everywhere) */
            x87_set_empty_phys(c, x87_phys(c, i->rm & 7), true);
            x87_pop(c);
            return;
        }
        break;
    default:
        break;
    }
    cpu_raise_noerr(c, EX_UD);
}
