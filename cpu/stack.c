/* cpu/stack.c — PUSH/POP on SS:rSP with the stack-address size
 * (SS.B, or 64-bit in 64-bit mode; SDM Vol. 1 6.2.3). */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

static void set_sp(struct cpu *c, uint64_t sp)
{
    uint64_t m = sp_mask(c);
    c->r[R_RSP] = (c->r[R_RSP] & ~m) | (sp & m);
}

void cpu_push(struct cpu *c, unsigned size, uint64_t v)
{
    uint64_t sp = (c->r[R_RSP] - size) & sp_mask(c);
    mem_write(c, SEG_SS, sp, size, v);
    set_sp(c, sp);
}

uint64_t cpu_pop(struct cpu *c, unsigned size)
{
    uint64_t sp = c->r[R_RSP] & sp_mask(c);
    uint64_t v = mem_read(c, SEG_SS, sp, size);
    set_sp(c, sp + size);
    return v;
}

uint64_t cpu_peek(struct cpu *c, unsigned size, unsigned depth)
{
    uint64_t sp = (c->r[R_RSP] + depth) & sp_mask(c);
    return mem_read(c, SEG_SS, sp, size);
}

void op_push_r(struct cpu *c, const struct insn *i)
{
    unsigned r = (i->op & 7) | ((i->rex & 1) << 3);
    cpu_push(c, i->opsize, c->r[r]);
}

void op_pop_r(struct cpu *c, const struct insn *i)
{
    unsigned r = (i->op & 7) | ((i->rex & 1) << 3);
    uint64_t v = cpu_pop(c, i->opsize);
    reg_write(c, i, r, i->opsize, v);
}

void op_push_imm(struct cpu *c, const struct insn *i)
{
    cpu_push(c, i->opsize, i->imm);
}

void op_pop_E(struct cpu *c, const struct insn *i)
{
    if ((i->reg & 7) != 0)
        cpu_raise(c, EX_UD, 0);
    /* SDM "POP": an rSP-based destination is computed after the increment */
    uint64_t old_sp = c->r[R_RSP];
    uint64_t v = cpu_pop(c, i->opsize);
    if (i->mod == 3) {
        reg_write(c, i, i->rm, i->opsize, v);
        return;
    }
    uint64_t new_sp = c->r[R_RSP];
    uint64_t ea = insn_ea(c, i); /* with the incremented rSP */
    c->r[R_RSP] = old_sp;         /* restartable if the store faults */
    mem_write(c, i->seg, ea, i->opsize, v);
    c->r[R_RSP] = new_sp;
}

void op_pusha(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t sp0 = c->r[R_RSP];
    for (unsigned r = R_RAX; r <= R_RDI; r++)
        cpu_push(c, size, r == R_RSP ? sp0 : c->r[r]);
}

void op_popa(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    uint64_t v[8];
    for (int r = R_RDI; r >= R_RAX; r--)
        v[r] = cpu_pop(c, size);
    for (unsigned r = R_RAX; r <= R_RDI; r++)
        if (r != R_RSP)
            reg_write(c, i, r, size, v[r]);
}

void op_enter(struct cpu *c, const struct insn *i)
{
    unsigned size = i->opsize;
    unsigned level = i->imm2 & 31;
    uint64_t m = sp_mask(c);
    cpu_push(c, size, c->r[R_RBP]);
    uint64_t frame = c->r[R_RSP] & m;
    if (level) {
        uint64_t bp = c->r[R_RBP];
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - size) & m;
            cpu_push(c, size, mem_read(c, SEG_SS, bp, size));
        }
        cpu_push(c, size, frame);
    }
    uint64_t sp = (c->r[R_RSP] - i->imm) & m;
    mem_probe_write(c, SEG_SS, sp, 1); /* the new stack top must be writable */
    reg_write(c, i, R_RBP, size == 8 ? 8 : size, frame);
    c->r[R_RSP] = (c->r[R_RSP] & ~m) | sp;
}

void op_leave(struct cpu *c, const struct insn *i)
{
    uint64_t m = sp_mask(c);
    uint64_t bp = c->r[R_RBP] & m;
    uint64_t v = mem_read(c, SEG_SS, bp, i->opsize);
    c->r[R_RSP] = (c->r[R_RSP] & ~m) | ((bp + i->opsize) & m);
    reg_write(c, i, R_RBP, i->opsize, v);
}

/* PUSHF/POPF, SDM Vol. 2B "POPF" table of flag effects by mode and CPL */
void op_pushf(struct cpu *c, const struct insn *i)
{
    if (c->mode == MODE_V86 && ((c->rflags & FL_IOPL) >> 12) < 3) {
        vme_pushf(c, i->opsize); /* VIF in IF's place, or #GP */
        return;
    }
    uint64_t f = cpu_get_flags(c) & ~(uint64_t)(FL_VM | FL_RF);
    cpu_push(c, i->opsize, f);
}

void op_popf(struct cpu *c, const struct insn *i)
{
    unsigned iopl = (c->rflags & FL_IOPL) >> 12;
    if (c->mode == MODE_V86 && iopl < 3) {
        vme_popf(c, i->opsize); /* IF's bit to VIF, or #GP */
        return;
    }
    uint64_t v = cpu_pop(c, i->opsize);
    uint64_t writable = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_IF | FL_IOPL;
    if (c->cpl > 0)
        writable &= ~(uint64_t)FL_IOPL;
    if (c->cpl > iopl)
        writable &= ~(uint64_t)FL_IF;
    if (i->opsize == 2)
        writable &= 0xffff;
    uint64_t f = cpu_get_flags(c);
    f = (f & ~writable) | (v & writable);
    f &= ~(uint64_t)FL_RF;
    cpu_set_flags(c, f);
}
