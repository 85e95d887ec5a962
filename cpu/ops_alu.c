/* cpu/ops_alu.c — ADD/OR/ADC/SBB/AND/SUB/XOR/CMP in all forms, TEST,
 * INC/DEC, NOT/NEG, and the group opcodes built on them. */
#include "cpu/alu_forms.h"

/* 00-3D: the ALU operation is opcode bits 5:3 */
#define ALU_OP(i) (((i)->op >> 3) & 7)

void op_alu_EG(struct cpu *c, const struct insn *i)
{
    alu_form_eg(c, i, ALU_OP(i));
}

void op_alu_GE(struct cpu *c, const struct insn *i)
{
    alu_form_ge(c, i, ALU_OP(i));
}

void op_alu_AI(struct cpu *c, const struct insn *i)
{
    alu_form_ai(c, i, ALU_OP(i));
}

void op_grp1(struct cpu *c, const struct insn *i)
{
    alu_form_ei(c, i, i->reg & 7);
}

void op_test_EG(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    alu_op(c, 4, size, rm_read(c, i, size), reg_read(c, i, i->reg, size));
}

void op_test_AI(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    alu_op(c, 4, size, reg_read(c, i, R_RAX, size), i->imm);
}

/* INC/DEC leave CF alone (SDM Vol. 2A "INC"): fold it into RFLAGS first. */
static uint64_t incdec(struct cpu *c, unsigned size, uint64_t v, bool dec)
{
    bool cf = flag_cf(c);
    flags_materialize(c);
    c->rflags = (c->rflags & ~(uint64_t)FL_CF) | (cf ? FL_CF : 0);
    uint64_t r = dec ? v - 1 : v + 1;
    lf_set(c, dec ? LF_DEC : LF_INC, size, v & size_mask(size), 1, r);
    return r & size_mask(size);
}

void op_inc_r(struct cpu *c, const struct insn *i)
{
    unsigned r = i->op & 7;
    reg_write(c, i, r, i->opsize, incdec(c, i->opsize, c->r[r], false));
}

void op_dec_r(struct cpu *c, const struct insn *i)
{
    unsigned r = i->op & 7;
    reg_write(c, i, r, i->opsize, incdec(c, i->opsize, c->r[r], true));
}

void op_grp4(struct cpu *c, const struct insn *i)
{
    if ((i->reg & 7) > 1)
        cpu_raise(c, EX_UD, 0);
    struct rmw at;
    uint64_t v = rmw_read(c, i, 1, &at);
    rmw_write(c, i, 1, &at, incdec(c, 1, v, i->reg & 1));
}

/* NOT, NEG; TEST/MUL/IMUL/DIV/IDIV live in ops_muldiv.c */
void grp3_not_neg(struct cpu *c, const struct insn *i, unsigned size);
void grp3_not_neg(struct cpu *c, const struct insn *i, unsigned size)
{
    struct rmw at;
    uint64_t v = rmw_read(c, i, size, &at);
    if ((i->reg & 7) == 2) {
        rmw_write(c, i, size, &at, ~v);
        return;
    }
    uint64_t r = alu_op(c, 5, size, 0, v);
    rmw_write(c, i, size, &at, r);
}

void op_cmpxchg(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    struct rmw at;
    uint64_t dst = rmw_read(c, i, size, &at);
    uint64_t acc = reg_read(c, i, R_RAX, size);
    alu_op(c, 7, size, acc, dst);
    if (acc == dst) {
        rmw_write(c, i, size, &at, reg_read(c, i, i->reg, size));
    } else {
        /* A memory destination is written back unchanged (SDM Vol. 2A
         * "CMPXCHG": "the destination operand receives a write cycle
         * without regard to the result of the comparison").  That is a
         * bus cycle: a register destination is not written at all, so a
         * 32-bit one keeps its upper half, as Intel and AMD parts do. */
        if (!at.reg)
            rmw_write(c, i, size, &at, dst);
        reg_write(c, i, R_RAX, size, dst);
    }
}

void op_xadd(struct cpu *c, const struct insn *i)
{
    unsigned size = insn_wsize(i);
    struct rmw at;
    uint64_t dst = rmw_read(c, i, size, &at);
    uint64_t src = reg_read(c, i, i->reg, size);
    uint64_t sum = alu_op(c, 0, size, dst, src);
    reg_write(c, i, i->reg, size, dst);
    rmw_write(c, i, size, &at, sum);
}
