/* cpu/ops_mov.c — moves, exchanges, extensions, LEA, conditional moves
 * and sets, flag-register byte moves, segment-register moves. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"
#include "vmx/caps.h"

void op_mov_EG(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    rm_write(c, i, size, reg_read(c, i, i->reg, size));
}

void op_mov_GE(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    reg_write(c, i, i->reg, size, rm_read(c, i, size));
}

void op_mov_E_imm(struct cpu *c, const struct insn *i)
{
    if ((i->reg & 7) != 0)
        cpu_raise(c, EX_UD, 0);
    rm_write(c, i, insn_wsize(i), i->imm);
}

void op_mov_r8_imm(struct cpu *c, const struct insn *i)
{
    reg_write8(c, i, (i->op & 7) | ((i->rex & 1) << 3), i->imm);
}

void op_mov_r_imm(struct cpu *c, const struct insn *i)
{
    reg_write(c, i, (i->op & 7) | ((i->rex & 1) << 3), i->opsize, i->imm);
}

/* A0-A3: AL/rAX <-> moffs */
void op_mov_moffs(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    uint64_t off = i->imm & size_mask(i->adsize);
    if (i->op & 2)
        mem_write(c, i->seg, off, size, reg_read(c, i, R_RAX, size));
    else
        reg_write(c, i, R_RAX, size, mem_read(c, i->seg, off, size));
}

void op_lea(struct cpu *c, const struct insn *i)
{
    reg_write(c, i, i->reg, i->opsize, insn_ea(c, i));
}

void op_movzx(struct cpu *c, const struct insn *i)
{
    unsigned src = (i->op & 1) ? 2 : 1;
    reg_write(c, i, i->reg, i->opsize, rm_read(c, i, src));
}

void op_movsx(struct cpu *c, const struct insn *i)
{
    unsigned src = (i->op & 1) ? 2 : 1, sh = 64 - 8 * src;
    int64_t v = (int64_t)(rm_read(c, i, src) << sh) >> sh;
    reg_write(c, i, i->reg, i->opsize, (uint64_t)v);
}

void op_arpl_movsxd(struct cpu *c, const struct insn *i)
{
    if (c->mode == MODE_LONG && c->code_size == 8) { /* MOVSXD */
        uint64_t v = rm_read(c, i, i->opsize == 2 ? 2 : 4);
        if (i->opsize == 8)
            v = (uint64_t)(int64_t)(int32_t)v;
        reg_write(c, i, i->reg, i->opsize, v);
        return;
    }
    if (c->mode == MODE_REAL || c->mode == MODE_V86)
        cpu_raise(c, EX_UD, 0);
    struct rmw at;
    uint64_t d = rmw_read(c, i, 2, &at);
    uint64_t s = reg_read(c, i, i->reg, 2);
    flags_materialize(c);
    if ((d & 3) < (s & 3)) {
        rmw_write(c, i, 2, &at, (d & ~3ull) | (s & 3));
        c->rflags |= FL_ZF;
    } else {
        rmw_write(c, i, 2, &at, d);
        c->rflags &= ~(uint64_t)FL_ZF;
    }
}

void op_xchg_EG(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    struct rmw at;
    uint64_t d = rmw_read(c, i, size, &at);
    uint64_t s = reg_read(c, i, i->reg, size);
    rmw_write(c, i, size, &at, s);
    reg_write(c, i, i->reg, size, d);
}

void op_xchg_A(struct cpu *c, const struct insn *i)
{
    unsigned r = (i->op & 7) | ((i->rex & 1) << 3);
    if (r == R_RAX) {
        /* 90 is NOP (and F3 90 is PAUSE) unless REX.B makes it XCHG r8;
         * PAUSE may exit in non-root operation (vmx/nonroot.c) */
        if (i->rep == REP_F3 && c->vmx.nonroot)
            vmx_pause(c);
        return;
    }
    uint64_t a = reg_read(c, i, R_RAX, i->opsize), b = reg_read(c, i, r, i->opsize);
    reg_write(c, i, R_RAX, i->opsize, b);
    reg_write(c, i, r, i->opsize, a);
}

void op_cbw(struct cpu *c, const struct insn *i)
{
    uint64_t a = c->r[R_RAX];
    switch (i->opsize) {
    case 2: reg_write(c, i, R_RAX, 2, (uint64_t)(int64_t)(int8_t)a); break;
    case 4: reg_write(c, i, R_RAX, 4, (uint64_t)(int64_t)(int16_t)a); break;
    default: c->r[R_RAX] = (uint64_t)(int64_t)(int32_t)a; break;
    }
}

void op_cwd(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t sign = (c->r[R_RAX] >> (size * 8 - 1)) & 1;
    reg_write(c, i, R_RDX, size, sign ? ~0ull : 0);
}

void op_cmovcc(struct cpu *c, const struct insn *i)
{
    /* the source is read even when the condition is false (it can fault) */
    uint64_t v = rm_read(c, i, i->opsize);
    if (cpu_cond(c, i->op & 0xf))
        reg_write(c, i, i->reg, i->opsize, v);
    else if (i->opsize == 4)
        c->r[i->reg] &= 0xffffffffull; /* 32-bit form zero-extends regardless */
}

void op_setcc(struct cpu *c, const struct insn *i)
{
    rm_write(c, i, 1, cpu_cond(c, i->op & 0xf));
}

void op_lahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint64_t f = cpu_get_flags(c) & 0xff;
    c->r[R_RAX] = (c->r[R_RAX] & ~0xff00ull) | (f << 8);
}

void op_sahf(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint64_t ah = (c->r[R_RAX] >> 8) & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF);
    uint64_t f = cpu_get_flags(c);
    cpu_set_flags(c, (f & ~(uint64_t)(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF)) | ah);
}

void op_xlat(struct cpu *c, const struct insn *i)
{
    uint64_t off = (c->r[R_RBX] + (c->r[R_RAX] & 0xff)) & size_mask(i->adsize);
    c->r[R_RAX] = (c->r[R_RAX] & ~0xffull) | mem_read(c, i->seg, off, 1);
}

void op_nop_modrm(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i; /* hint NOPs and prefetches: the operand is not accessed */
}

void op_bound(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t ea = insn_ea(c, i);
    unsigned sh = 64 - 8 * size;
    int64_t lo = (int64_t)(mem_read(c, i->seg, ea, size) << sh) >> sh;
    int64_t hi = (int64_t)(mem_read(c, i->seg, (ea + size) & size_mask(i->adsize), size) << sh) >> sh;
    int64_t v = (int64_t)(reg_read(c, i, i->reg, size) << sh) >> sh;
    if (v < lo || v > hi)
        cpu_raise_noerr(c, EX_BR);
}

/* ---- segment registers ---- */

static void load_sreg(struct cpu *c, int seg, uint16_t sel)
{
    if (c->mode == MODE_REAL || c->mode == MODE_V86)
        seg_load_real(c, seg, sel);
    else
        seg_load(c, seg, sel);
    if (seg == SEG_SS)
        cpu_inhibit_events(c, true);
}

void op_mov_E_sreg(struct cpu *c, const struct insn *i)
{
    unsigned s = i->reg & 7;
    if (s > SEG_GS)
        cpu_raise(c, EX_UD, 0);
    uint16_t sel = c->seg[s].sel;
    if (i->mod == 3)
        reg_write(c, i, i->rm, i->opsize, sel); /* 32/64-bit register: zero-extended */
    else
        mem_write(c, i->seg, insn_ea(c, i), 2, sel);
}

void op_mov_sreg_E(struct cpu *c, const struct insn *i)
{
    unsigned s = i->reg & 7;
    if (s > SEG_GS || s == SEG_CS)
        cpu_raise(c, EX_UD, 0);
    load_sreg(c, (int)s, (uint16_t)rm_read(c, i, 2));
}

static int sreg_of(uint16_t op)
{
    switch (op) {
    case 0x06: case 0x07: return SEG_ES;
    case 0x0e: return SEG_CS;
    case 0x16: case 0x17: return SEG_SS;
    case 0x1e: case 0x1f: return SEG_DS;
    case 0x1a0: case 0x1a1: return SEG_FS;
    default: return SEG_GS;
    }
}

void op_push_sreg(struct cpu *c, const struct insn *i)
{
    /* Intel writes only the low 16 bits for a 32-bit push of a segment
     * register; the stack slot is still opsize wide. */
    uint16_t sel = c->seg[sreg_of(i->op)].sel;
    if (i->opsize == 2) {
        cpu_push(c, 2, sel);
        return;
    }
    uint64_t sp = (c->r[R_RSP] - i->opsize) & sp_mask(c);
    mem_probe_write(c, SEG_SS, sp, i->opsize);
    mem_write(c, SEG_SS, sp, 2, sel);
    c->r[R_RSP] = (c->r[R_RSP] & ~sp_mask(c)) | sp;
}

void op_pop_sreg(struct cpu *c, const struct insn *i)
{
    uint16_t sel = (uint16_t)cpu_peek(c, 2, 0);
    load_sreg(c, sreg_of(i->op), sel);
    cpu_pop(c, i->opsize);
}

/* LES/LDS/LSS/LFS/LGS: offset then selector in memory */
void op_load_far_ptr(struct cpu *c, const struct insn *i)
{
    int seg;
    switch (i->op) {
    case 0xc4: seg = SEG_ES; break;
    case 0xc5: seg = SEG_DS; break;
    case 0x1b2: seg = SEG_SS; break;
    case 0x1b4: seg = SEG_FS; break;
    default: seg = SEG_GS; break;
    }
    uint64_t ea = insn_ea(c, i);
    unsigned size = i->opsize;
    uint64_t off = mem_read(c, i->seg, ea, size);
    uint16_t sel = (uint16_t)mem_read(c, i->seg, (ea + size) & size_mask(i->adsize), 2);
    load_sreg(c, seg, sel);
    reg_write(c, i, i->reg, size, off);
}
