/* cpu/ops_ctrl.c — near and far branches, calls, returns, loops,
 * software interrupts and group 5. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

void op_jcc(struct cpu *c, const struct insn *i)
{
    if (cpu_cond(c, i->op & 0xf))
        cpu_jump_near(c, c->rip + i->imm, i->opsize);
}

void op_jmp_rel(struct cpu *c, const struct insn *i)
{
    cpu_jump_near(c, c->rip + i->imm, i->opsize);
}

void op_call_rel(struct cpu *c, const struct insn *i)
{
    uint64_t ret = c->rip;
    uint64_t target = ret + i->imm;
    uint64_t m = size_mask(i->opsize);
    /* the target is checked before the push (SDM "CALL": #GP if beyond CS limit) */
    uint64_t saved = c->rip;
    cpu_jump_near(c, target, i->opsize);
    uint64_t t = c->rip;
    c->rip = saved;
    cpu_push(c, i->opsize, ret & m);
    c->rip = t;
}

void op_ret_near(struct cpu *c, const struct insn *i)
{
    uint64_t target = cpu_peek(c, i->opsize, 0);
    uint64_t saved = c->rip;
    cpu_jump_near(c, target, i->opsize);
    uint64_t t = c->rip;
    c->rip = saved;
    cpu_pop(c, i->opsize);
    if (i->op == 0xc2) {
        uint64_t m = sp_mask(c);
        c->r[R_RSP] = (c->r[R_RSP] & ~m) | ((c->r[R_RSP] + (i->imm & 0xffff)) & m);
    }
    c->rip = t;
}

static uint64_t counter(const struct cpu *c, const struct insn *i)
{
    return c->r[R_RCX] & size_mask(i->adsize);
}

void op_loop(struct cpu *c, const struct insn *i)
{
    uint64_t m = size_mask(i->adsize);
    uint64_t n = (c->r[R_RCX] - 1) & m;
    bool take = n != 0;
    if (i->op == 0xe0)
        take = take && !flag_zf(c);
    else if (i->op == 0xe1)
        take = take && flag_zf(c);
    if (take)
        cpu_jump_near(c, c->rip + i->imm, i->opsize);
    /* the count register has the address size: CX merges, ECX is a 32-bit
     * register write and zero-extends (SDM Vol. 1 3.4.1.1) */
    c->r[R_RCX] = i->adsize == 2 ? (c->r[R_RCX] & ~m) | n : n;
}

void op_jcxz(struct cpu *c, const struct insn *i)
{
    if (counter(c, i) == 0)
        cpu_jump_near(c, c->rip + i->imm, i->opsize);
}

void op_jmpf_imm(struct cpu *c, const struct insn *i)
{
    cpu_far_jump(c, (uint16_t)i->imm2, i->imm, i->opsize);
}

void op_callf_imm(struct cpu *c, const struct insn *i)
{
    cpu_far_call(c, (uint16_t)i->imm2, i->imm, i->opsize);
}

void op_retf(struct cpu *c, const struct insn *i)
{
    cpu_far_return(c, i->opsize, i->op == 0xca ? (uint16_t)i->imm : 0);
}

void op_grp5(struct cpu *c, const struct insn *i)
{
    unsigned op = i->reg & 7;
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    switch (op) {
    case 0:
    case 1: {
        struct rmw at;
        unsigned size = i->opsize;
        uint64_t v = rmw_read(c, i, size, &at);
        bool cf = flag_cf(c);
        flags_materialize(c);
        c->rflags = (c->rflags & ~(uint64_t)FL_CF) | (cf ? FL_CF : 0);
        uint64_t r = op ? v - 1 : v + 1;
        lf_set(c, op ? LF_DEC : LF_INC, size, v & size_mask(size), 1, r);
        rmw_write(c, i, size, &at, r);
        return;
    }
    case 2:
    case 4: { /* near CALL/JMP indirect: 64-bit operand in 64-bit mode (Intel) */
        if (i->lock)
            cpu_raise(c, EX_UD, 0);
        unsigned size = long64 ? 8 : i->opsize;
        uint64_t target = rm_read(c, i, size);
        uint64_t ret = c->rip;
        cpu_jump_near(c, target, size);
        if (op == 2) {
            uint64_t t = c->rip;
            c->rip = ret;
            cpu_push(c, size, ret);
            c->rip = t;
        }
        return;
    }
    case 3:
    case 5: { /* far CALL/JMP through memory m16:16/32/64 */
        if (i->mod == 3 || i->lock)
            cpu_raise(c, EX_UD, 0);
        unsigned size = i->opsize;
        uint64_t ea = insn_ea(c, i);
        uint64_t off = mem_read(c, i->seg, ea, size);
        uint16_t sel = (uint16_t)mem_read(c, i->seg, (ea + size) & size_mask(i->adsize), 2);
        if (op == 3)
            cpu_far_call(c, sel, off, size);
        else
            cpu_far_jump(c, sel, off, size);
        return;
    }
    case 6:
        if (i->lock)
            cpu_raise(c, EX_UD, 0);
        cpu_push(c, long64 && i->opsize != 2 ? 8 : i->opsize, rm_read(c, i, long64 && i->opsize != 2 ? 8 : i->opsize));
        return;
    default:
        cpu_raise(c, EX_UD, 0);
    }
}

/* ---- software interrupts ---- */

void op_int3(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->vmx.nonroot) /* a software exception: the exception bitmap applies */
        vmx_soft_exception(c, EX_BP, 6);
    cpu_deliver(c, EX_BP, INT_SOFTWARE, false, 0);
}

void op_int_imm(struct cpu *c, const struct insn *i)
{
    /* V86 (SDM "INT n", Table 20-2): with CR4.VME the TSS's redirection
     * bit map may send it to the 8086 program's vector table; otherwise
     * IOPL < 3 is #GP(0), IOPL 3 the protected-mode IDT */
    if (c->mode == MODE_V86) {
        if (vme_int_redirect(c, i->imm & 0xff))
            return;
        if (((c->rflags & FL_IOPL) >> 12) < 3)
            cpu_raise(c, EX_GP, 0);
    }
    cpu_deliver(c, (int)(i->imm & 0xff), INT_SOFTWARE, false, 0);
}

void op_into(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (!flag_of(c))
        return;
    if (c->vmx.nonroot)
        vmx_soft_exception(c, EX_OF, 6);
    cpu_deliver(c, EX_OF, INT_SOFTWARE, false, 0);
}

void op_int1(struct cpu *c, const struct insn *i)
{
    (void)i;
    if (c->vmx.nonroot) /* a privileged software exception */
        vmx_soft_exception(c, EX_DB, 5);
    /* INT1 raises #DB without setting any DR6 bit (SDM Vol. 2 "INT1").
     * Debug exceptions held pending by a MOV SS/POP SS before it are
     * lost, not delivered a second time at the handler's first
     * instruction: the SDM (Vol. 3C 26.6.3, pending debug exceptions
     * with an injected software exception other than #BP and #OF)
     * allows losing them, and hardware runs the handler once. */
    c->dr_hit = 0;
    cpu_deliver(c, EX_DB, INT_PRIV_SW, false, 0);
}

void op_iret(struct cpu *c, const struct insn *i)
{
    cpu_iret(c, i->opsize);
}

void op_ud(struct cpu *c, const struct insn *i)
{
    (void)i;
    cpu_raise_noerr(c, EX_UD);
}
