/* cpu/alu_forms.h — the operand forms of the eight ALU operations, in
 * one place: the generic handlers (cpu/ops_alu.c) call these with the
 * operation read from the instruction, and the decoder's specialised
 * variants (cpu/ops_fast.c) with a constant, which the compiler folds.
 * op is ModRM.reg numbering: 0 add ... 7 cmp (alu_op()). */
#ifndef NEST86_CPU_ALU_FORMS_H
#define NEST86_CPU_ALU_FORMS_H

#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

#define ALU_INLINE static inline __attribute__((always_inline))

/* r/m op= reg (00, 01, 08, ...) */
ALU_INLINE void alu_form_eg(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    uint64_t src = reg_read(c, i, i->reg, size);
    if (op == 7) { /* CMP writes nothing: a plain read */
        alu_op(c, op, size, rm_read_inline(c, i, size), src);
        return;
    }
    struct rmw at;
    uint64_t dst = rmw_read(c, i, size, &at);
    rmw_write(c, i, size, &at, alu_op(c, op, size, dst, src));
}

/* reg op= r/m (02, 03, 0A, ...) */
ALU_INLINE void alu_form_ge(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    uint64_t r = alu_op(c, op, size, reg_read(c, i, i->reg, size), rm_read_inline(c, i, size));
    if (op != 7)
        reg_write(c, i, i->reg, size, r);
}

/* r/m op= imm (80-83; 80 and 82 are byte forms) */
ALU_INLINE void alu_form_ei(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    if (op == 7) {
        alu_op(c, op, size, rm_read_inline(c, i, size), i->imm);
        return;
    }
    struct rmw at;
    uint64_t dst = rmw_read(c, i, size, &at);
    rmw_write(c, i, size, &at, alu_op(c, op, size, dst, i->imm));
}

/* AL/rAX op= imm (04, 05, 0C, ...) */
ALU_INLINE void alu_form_ai(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    uint64_t r = alu_op(c, op, size, reg_read(c, i, R_RAX, size), i->imm);
    if (op != 7)
        reg_write(c, i, R_RAX, size, r);
}

#endif
