/* cpu/ops_fast.c — specialised forms of the hottest instructions.
 *
 * cpu/opcodes.def names one generic handler per opcode; for the forms
 * that dominate real code (ALU ops, MOV, Jcc, PUSH/POP, CALL/RET, INC/
 * DEC), the decoder swaps in a variant here whose operation, condition
 * or operand kind is a compile-time constant (cpu_specialize()).  The
 * semantics are the generic handler's: each variant calls the same
 * inline helpers, so there is still one definition of what ADD does. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* ---- ALU: op = ModRM.reg numbering (0 add ... 7 cmp) ---- */

static ALWAYS_INLINE void alu_eg(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    uint64_t src = reg_read(c, i, i->reg, size);
    if (op == 7) {
        alu_op(c, op, size, rm_read(c, i, size), src);
        return;
    }
    struct rmw at;
    uint64_t dst = rmw_read(c, i, size, &at);
    rmw_write(c, i, size, &at, alu_op(c, op, size, dst, src));
}

static ALWAYS_INLINE void alu_ge(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    uint64_t r = alu_op(c, op, size, reg_read(c, i, i->reg, size), rm_read(c, i, size));
    if (op != 7)
        reg_write(c, i, i->reg, size, r);
}

static ALWAYS_INLINE void alu_ei(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = i->op == 0x80 ? 1 : i->opsize;
    if (op == 7) {
        alu_op(c, op, size, rm_read(c, i, size), i->imm);
        return;
    }
    struct rmw at;
    uint64_t dst = rmw_read(c, i, size, &at);
    rmw_write(c, i, size, &at, alu_op(c, op, size, dst, i->imm));
}

static ALWAYS_INLINE void alu_ai(struct cpu *c, const struct insn *i, unsigned op)
{
    unsigned size = insn_wsize(i);
    uint64_t r = alu_op(c, op, size, reg_read(c, i, R_RAX, size), i->imm);
    if (op != 7)
        reg_write(c, i, R_RAX, size, r);
}

#define ALU_VARIANTS(n)                                                                  \
    static void alu_eg_##n(struct cpu *c, const struct insn *i) { alu_eg(c, i, n); }   \
    static void alu_ge_##n(struct cpu *c, const struct insn *i) { alu_ge(c, i, n); }   \
    static void alu_ei_##n(struct cpu *c, const struct insn *i) { alu_ei(c, i, n); }   \
    static void alu_ai_##n(struct cpu *c, const struct insn *i) { alu_ai(c, i, n); }
ALU_VARIANTS(0)
ALU_VARIANTS(1)
ALU_VARIANTS(2)
ALU_VARIANTS(3)
ALU_VARIANTS(4)
ALU_VARIANTS(5)
ALU_VARIANTS(6)
ALU_VARIANTS(7)

#define EIGHT(p) {p##_0, p##_1, p##_2, p##_3, p##_4, p##_5, p##_6, p##_7}
static const insn_fn alu_eg_fn[8] = EIGHT(alu_eg);
static const insn_fn alu_ge_fn[8] = EIGHT(alu_ge);
static const insn_fn alu_ei_fn[8] = EIGHT(alu_ei);
static const insn_fn alu_ai_fn[8] = EIGHT(alu_ai);

/* ---- Jcc with a constant condition ---- */

static ALWAYS_INLINE void jcc(struct cpu *c, const struct insn *i, unsigned cc)
{
    if (cpu_cond(c, cc))
        cpu_jump_near(c, c->rip + i->imm, i->opsize);
}

#define JCC_VARIANT(n) \
    static void jcc_##n(struct cpu *c, const struct insn *i) { jcc(c, i, n); }
JCC_VARIANT(0) JCC_VARIANT(1) JCC_VARIANT(2) JCC_VARIANT(3)
JCC_VARIANT(4) JCC_VARIANT(5) JCC_VARIANT(6) JCC_VARIANT(7)
JCC_VARIANT(8) JCC_VARIANT(9) JCC_VARIANT(10) JCC_VARIANT(11)
JCC_VARIANT(12) JCC_VARIANT(13) JCC_VARIANT(14) JCC_VARIANT(15)
static const insn_fn jcc_fn[16] = {jcc_0, jcc_1, jcc_2,  jcc_3,  jcc_4,  jcc_5,  jcc_6,  jcc_7,
                                   jcc_8, jcc_9, jcc_10, jcc_11, jcc_12, jcc_13, jcc_14, jcc_15};

/* ---- 64-bit-mode register moves, pushes and pops ---- */

static void mov_rr64(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = c->r[i->reg];
}

static void mov_rr32(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = (uint32_t)c->r[i->reg];
}

static void push64(struct cpu *c, const struct insn *i)
{
    unsigned r = (i->op & 7) | ((i->rex & 1) << 3);
    uint64_t sp = c->r[R_RSP] - 8;
    lin_write(c, mem_linear(c, SEG_SS, sp, 8, true), 8, c->r[r]);
    c->r[R_RSP] = sp;
}

static void pop64(struct cpu *c, const struct insn *i)
{
    unsigned r = (i->op & 7) | ((i->rex & 1) << 3);
    uint64_t sp = c->r[R_RSP];
    uint64_t v = lin_read(c, mem_linear(c, SEG_SS, sp, 8, false), 8);
    c->r[R_RSP] = sp + 8;
    c->r[r] = v;
}

static void call_rel64(struct cpu *c, const struct insn *i)
{
    uint64_t ret = c->rip;
    uint64_t target = ret + i->imm;
    cpu_jump_near(c, target, 8); /* checks canonical before the push */
    uint64_t sp = c->r[R_RSP] - 8;
    uint64_t t = c->rip;
    c->rip = ret;
    lin_write(c, mem_linear(c, SEG_SS, sp, 8, true), 8, ret);
    c->r[R_RSP] = sp;
    c->rip = t;
}

static void ret64(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint64_t sp = c->r[R_RSP];
    uint64_t target = lin_read(c, mem_linear(c, SEG_SS, sp, 8, false), 8);
    cpu_jump_near(c, target, 8);
    c->r[R_RSP] = sp + 8;
}

/* ---- 64-bit-mode MOV between a register and memory ---- */

/* base + displacement, the commonest address form: no index, no RIP */
static inline __attribute__((always_inline)) uint64_t ea_base_disp(const struct cpu *c,
                                                                  const struct insn *i)
{
    return c->r[i->base] + (uint64_t)i->disp;
}

static void mov_load64_bd(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = mem_read(c, i->seg, ea_base_disp(c, i), 8);
}

static void mov_store64_bd(struct cpu *c, const struct insn *i)
{
    mem_write(c, i->seg, ea_base_disp(c, i), 8, c->r[i->reg]);
}

static void mov_load32_bd(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = mem_read(c, i->seg, ea_base_disp(c, i), 4); /* zero-extends */
}

static void mov_store32_bd(struct cpu *c, const struct insn *i)
{
    mem_write(c, i->seg, ea_base_disp(c, i), 4, (uint32_t)c->r[i->reg]);
}

static void mov_load64(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = mem_read(c, i->seg, insn_ea(c, i), 8);
}

static void mov_store64(struct cpu *c, const struct insn *i)
{
    mem_write(c, i->seg, insn_ea(c, i), 8, c->r[i->reg]);
}

/* Picks a specialised handler for a freshly decoded instruction. */
void cpu_specialize(const struct cpu *c, struct insn *i)
{
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    uint16_t op = i->op;
    if (i->fn == op_ud)
        return;
    if (op < 0x40 && (op & 7) < 6) {
        unsigned n = (op >> 3) & 7;
        switch (op & 7) {
        case 0:
        case 1: i->fn = alu_eg_fn[n]; return;
        case 2:
        case 3: i->fn = alu_ge_fn[n]; return;
        default: i->fn = alu_ai_fn[n]; return;
        }
    }
    if (op == 0x80 || op == 0x81 || op == 0x83) {
        i->fn = alu_ei_fn[i->reg & 7];
        return;
    }
    if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
        i->fn = jcc_fn[op & 0xf];
        return;
    }
    if (op == 0x89 && i->mod == 3 && !i->lock) {
        if (i->opsize == 8)
            i->fn = mov_rr64;
        else if (i->opsize == 4)
            i->fn = mov_rr32;
        return;
    }
    if (!long64)
        return;
    if ((op == 0x89 || op == 0x8b) && i->mod != 3 && !i->lock &&
        (i->opsize == 8 || i->opsize == 4)) {
        bool load = op == 0x8b, q = i->opsize == 8;
        bool bd = i->adsize == 8 && i->base != NO_REG && i->index == NO_REG && !i->riprel;
        if (bd)
            i->fn = load ? (q ? mov_load64_bd : mov_load32_bd) : (q ? mov_store64_bd : mov_store32_bd);
        else if (q)
            i->fn = load ? mov_load64 : mov_store64;
        return;
    }
    if (c->mmu.cr4 & CR4_LA57)
        return; /* the stack fast paths below assume 48-bit 64-bit mode */
    if (op >= 0x50 && op <= 0x57 && i->opsize == 8)
        i->fn = push64;
    else if (op >= 0x58 && op <= 0x5f && i->opsize == 8)
        i->fn = pop64;
    else if (op == 0xe8)
        i->fn = call_rel64;
    else if (op == 0xc3)
        i->fn = ret64;
}
