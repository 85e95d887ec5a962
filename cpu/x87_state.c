/* cpu/x87_state.c — x87 tag word, pending exceptions and the control
 * instructions: FNINIT, FNCLEX, FLDCW, FNSTCW, FNSTSW, FLDENV, FNSTENV,
 * FRSTOR, FNSAVE (SDM Vol. 1 8.1, 8.6 and Figures 8-9 to 8-12). */
#include "cpu/x87.h"

uint8_t x87_abridged_tags(const struct cpu *c)
{
    uint8_t t = 0;
    for (unsigned p = 0; p < 8; p++)
        if (!x87_empty_phys(c, p))
            t |= (uint8_t)(1u << p);
    return t;
}

void x87_set_abridged_tags(struct cpu *c, uint8_t abridged)
{
    for (unsigned p = 0; p < 8; p++)
        x87_set_empty_phys(c, p, !((abridged >> p) & 1));
}

/* 00 valid, 01 zero, 10 special (NaN, infinity, denormal, unsupported), 11 empty */
uint16_t x87_full_tags(const struct cpu *c)
{
    uint16_t t = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned tag = 3;
        if (!x87_empty_phys(c, p)) {
            const uint8_t *r = c->fpu.st[p];
            uint64_t mant = load_le(r, 8);
            unsigned exp = (unsigned)load_le(r + 8, 2) & 0x7fff;
            if (exp == 0x7fff)
                tag = 2;
            else if (exp == 0)
                tag = mant ? 2 : 1;
            else
                tag = (mant >> 63) ? 0 : 2; /* unnormals are special */
        }
        t |= (uint16_t)(tag << (2 * p));
    }
    return t;
}

void x87_update_es(struct cpu *c)
{
    struct x87 *f = &c->fpu;
    if (f->fsw & ~f->fcw & FCW_MASKS)
        f->fsw |= FSW_ES | FSW_B;
    else
        f->fsw &= (uint16_t)~(FSW_ES | FSW_B);
}

void x87_check_pending(struct cpu *c)
{
    /* Without CR0.NE the PC signals FERR# to the interrupt controller
     * (IRQ13); that external path is not modelled, so the exception
     * stays pending in FSW.ES. */
    if ((c->fpu.fsw & FSW_ES) && (c->mmu.cr0 & CR0_NE))
        cpu_raise_noerr(c, EX_MF);
}

void x87_finit(struct cpu *c)
{
    struct x87 *f = &c->fpu;
    f->fcw = 0x037f;
    f->fsw = 0;
    f->ftw = 0xffff;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

/* ---- the 14/28-byte environment and the 94/108-byte save image ---- */

/* Environment layout by operand size and mode (SDM Vol. 1 8.1.10):
 * 32-bit forms use 4-byte slots, 16-bit forms 2-byte slots; real and
 * V86 mode store a 20-bit linear instruction/operand pointer. */
static unsigned env_size(const struct insn *i)
{
    return i->opsize == 2 ? 14 : 28;
}

static void env_build(const struct cpu *c, const struct insn *i, uint8_t *env)
{
    const struct x87 *f = &c->fpu;
    unsigned w = i->opsize == 2 ? 2 : 4;
    bool real = c->mode == MODE_REAL || c->mode == MODE_V86;
    memset(env, 0, 28);
    store_le(env + 0 * w, w, f->fcw | (w == 4 ? 0xffff0000u : 0));
    store_le(env + 1 * w, w, f->fsw | (w == 4 ? 0xffff0000u : 0));
    store_le(env + 2 * w, w, x87_full_tags(c) | (w == 4 ? 0xffff0000u : 0));
    if (real) {
        uint32_t fip = (uint32_t)(f->fip + ((uint32_t)f->fcs << 4));
        uint32_t fdp = (uint32_t)(f->fdp + ((uint32_t)f->fds << 4));
        store_le(env + 3 * w, 2, fip & 0xffff);
        store_le(env + 4 * w, w, ((fip >> 16) << (w == 4 ? 12 : 12)) | (f->fop & 0x7ff));
        store_le(env + 5 * w, 2, fdp & 0xffff);
        store_le(env + 6 * w, w, (fdp >> 16) << 12);
    } else {
        store_le(env + 3 * w, w, (uint32_t)f->fip & (w == 4 ? 0xffffffffu : 0xffff));
        store_le(env + 4 * w, w, f->fcs | (w == 4 ? (uint32_t)(f->fop & 0x7ff) << 16 : 0));
        store_le(env + 5 * w, w, (uint32_t)f->fdp & (w == 4 ? 0xffffffffu : 0xffff));
        store_le(env + 6 * w, 2, f->fds);
    }
}

static void env_load(struct cpu *c, const struct insn *i, const uint8_t *env)
{
    struct x87 *f = &c->fpu;
    unsigned w = i->opsize == 2 ? 2 : 4;
    bool real = c->mode == MODE_REAL || c->mode == MODE_V86;
    x87_set_fcw(c, (uint16_t)load_le(env, 2));
    f->fsw = (uint16_t)load_le(env + w, 2);
    uint16_t tags = (uint16_t)load_le(env + 2 * w, 2);
    for (unsigned p = 0; p < 8; p++)
        x87_set_empty_phys(c, p, ((tags >> (2 * p)) & 3) == 3);
    if (real) {
        uint32_t hi = (uint32_t)load_le(env + 4 * w, w);
        f->fip = load_le(env + 3 * w, 2) | ((uint64_t)(hi >> 12) << 16);
        f->fop = hi & 0x7ff;
        f->fdp = load_le(env + 5 * w, 2) | ((load_le(env + 6 * w, w) >> 12) << 16);
        f->fcs = f->fds = 0;
    } else {
        uint32_t sel = (uint32_t)load_le(env + 4 * w, w);
        f->fip = load_le(env + 3 * w, w);
        f->fcs = (uint16_t)sel;
        f->fop = w == 4 ? (sel >> 16) & 0x7ff : 0;
        f->fdp = load_le(env + 5 * w, w);
        f->fds = (uint16_t)load_le(env + 6 * w, 2);
    }
    x87_update_es(c);
}

/* Memory-operand control forms; false when i is not one of them. */
bool x87_control(struct cpu *c, const struct insn *i)
{
    unsigned op = i->op & 0xff, r = i->reg & 7;
    uint64_t ea = i->mod == 3 ? 0 : insn_ea(c, i);
    uint8_t buf[108];
    if (i->mod == 3) {
        if (op == 0xdf && i->rm == 0 && r == 4) { /* FNSTSW AX */
            c->r[R_RAX] = (c->r[R_RAX] & ~0xffffull) | c->fpu.fsw;
            return true;
        }
        if (op == 0xdb && r == 4 && (i->rm & 7) == 2) { /* FNCLEX */
            c->fpu.fsw &= (uint16_t)~(FSW_ES | FSW_B | FSW_SF | 0x3f);
            return true;
        }
        if (op == 0xdb && r == 4 && (i->rm & 7) == 3) { /* FNINIT */
            x87_finit(c);
            return true;
        }
        return false;
    }
    unsigned n = env_size(i);
    switch (op << 4 | r) {
    case 0xd95: /* FLDCW */
        x87_check_pending(c);
        x87_set_fcw(c, (uint16_t)mem_read(c, i->seg, ea, 2));
        x87_update_es(c);
        return true;
    case 0xd97: /* FNSTCW */
        mem_write(c, i->seg, ea, 2, c->fpu.fcw);
        return true;
    case 0xdd7: /* FNSTSW m16 */
        mem_write(c, i->seg, ea, 2, c->fpu.fsw);
        return true;
    case 0xd94: /* FLDENV */
        x87_check_pending(c);
        simd_load(c, i, ea, buf, n);
        env_load(c, i, buf);
        return true;
    case 0xd96: /* FNSTENV: then every exception masked */
        env_build(c, i, buf);
        simd_store(c, i, ea, buf, n);
        c->fpu.fcw |= FCW_MASKS;
        x87_update_es(c);
        return true;
    case 0xdd4: { /* FRSTOR */
        x87_check_pending(c);
        simd_load(c, i, ea, buf, n + 80);
        env_load(c, i, buf);
        for (unsigned k = 0; k < 8; k++)
            memcpy(c->fpu.st[x87_phys(c, k)], buf + n + 10 * k, 10);
        return true;
    }
    case 0xdd6: /* FNSAVE: then FNINIT */
        env_build(c, i, buf);
        for (unsigned k = 0; k < 8; k++)
            memcpy(buf + n + 10 * k, c->fpu.st[x87_phys(c, k)], 10);
        simd_store(c, i, ea, buf, n + 80);
        x87_finit(c);
        return true;
    default:
        return false;
    }
}
