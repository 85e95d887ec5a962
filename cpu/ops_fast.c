/* cpu/ops_fast.c — specialised forms of the hottest instructions.
 *
 * cpu/opcodes.def names one generic handler per opcode; for the forms
 * that dominate real code (ALU ops, MOV, Jcc, PUSH/POP, CALL/RET, INC/
 * DEC), the decoder swaps in a variant here whose operation, condition
 * or operand kind is a compile-time constant (cpu_specialize()).  The
 * semantics are the generic handler's: each variant calls the same
 * inline helpers, so there is still one definition of what ADD does. */
#include "cpu/alu_forms.h"
#include "cpu/simd_fast.h"
#include "cpu/thread.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* A fast path's memory operand: RIP-relative from the deferred RIP
 * (cpu/thread.h), since fast paths run before c->rip is stored. */
static ALWAYS_INLINE uint64_t fast_ea(const struct cpu *c, const struct insn *i)
{
    return insn_ea_at(c, i, thread_rip(c, i));
}

/* ---- ALU: op = ModRM.reg numbering (0 add ... 7 cmp) ---- */

#define FOR_EACH_ALU_OP(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

#define ALU_VARIANTS(n)                                                                  \
    static void alu_eg_##n(struct cpu *c, const struct insn *i) { alu_form_eg(c, i, n); } \
    static void alu_ge_##n(struct cpu *c, const struct insn *i) { alu_form_ge(c, i, n); } \
    static void alu_ei_##n(struct cpu *c, const struct insn *i) { alu_form_ei(c, i, n); } \
    static void alu_ai_##n(struct cpu *c, const struct insn *i) { alu_form_ai(c, i, n); } \
    THREADED(alu_eg_##n) THREADED(alu_ge_##n) THREADED(alu_ei_##n) THREADED(alu_ai_##n)
FOR_EACH_ALU_OP(ALU_VARIANTS)

/* register-register forms with a constant operand size: no RMW
 * bookkeeping and no size dispatch (32-bit results zero-extend) */
static ALWAYS_INLINE void alu_rr(struct cpu *c, unsigned dst, uint64_t src, unsigned op,
                                 unsigned size)
{
    uint64_t r = alu_op(c, op, size, c->r[dst], src);
    if (op != 7)
        c->r[dst] = r; /* alu_op masks to the size: 32-bit results zero-extend */
}

/* the same without a call: ADC and SBB leave a carry that needs
 * deriving (after INC, DEC or a shift) to the full handler */
static ALWAYS_INLINE bool alu_rr_fast(struct cpu *c, unsigned dst, uint64_t src, unsigned op,
                                      unsigned size)
{
    bool carry = op == 2 || op == 3;
    if (carry && !flag_cf_inline_ok(c))
        return false;
    uint64_t r = alu_op_cf(c, op, size, c->r[dst], src, carry && flag_cf_inline(c));
    if (op != 7)
        c->r[dst] = r;
    return true;
}

#define ALU_RR_FORM(name, n, dst, src, size)                                              \
    static void name(struct cpu *c, const struct insn *i) { alu_rr(c, dst, src, n, size); } \
    static ALWAYS_INLINE bool name##_fast(struct cpu *c, const struct insn *i)              \
    {                                                                                     \
        return alu_rr_fast(c, dst, src, n, size);                                         \
    }                                                                                     \
    THREADED_FAST(name)
/* the six register forms of ALU op n: name, destination, source, size */
#define ALU_RR_SHAPES(M, n)                                                              \
    M(alu_eg64_##n, n, i->rm, c->r[i->reg], 8)                                             \
    M(alu_eg32_##n, n, i->rm, c->r[i->reg], 4)                                             \
    M(alu_ge64_##n, n, i->reg, c->r[i->rm], 8)                                             \
    M(alu_ge32_##n, n, i->reg, c->r[i->rm], 4)                                             \
    M(alu_ri64_##n, n, i->rm, i->imm, 8)                                                   \
    M(alu_ri32_##n, n, i->rm, i->imm, 4)
#define ALU_RR_VARIANTS(n) ALU_RR_SHAPES(ALU_RR_FORM, n)
FOR_EACH_ALU_OP(ALU_RR_VARIANTS)

/* Memory forms with a constant 32/64-bit operand size in 64-bit code
 * with 64-bit addressing: 'kind' 0 reg op= [m], 1 [m] op= reg,
 * 2 [m] op= imm.  The accesses are the generic forms' (mem_read, and
 * rmw_read_mem's write check before the read), minus the run-time size
 * dispatch. */
static ALWAYS_INLINE void alu_mem(struct cpu *c, const struct insn *i, unsigned op,
                                  unsigned size, unsigned kind)
{
    if (kind == 0) {
        uint64_t r = alu_op(c, op, size, reg_read(c, i, i->reg, size),
                            mem_read(c, i->seg, insn_ea(c, i), size));
        if (op != 7)
            reg_write(c, i, i->reg, size, r);
        return;
    }
    uint64_t src = kind == 1 ? reg_read(c, i, i->reg, size) : i->imm;
    if (op == 7) {
        alu_op(c, op, size, mem_read(c, i->seg, insn_ea(c, i), size), src);
        return;
    }
    struct rmw at;
    uint64_t dst = rmw_read_mem(c, i, size, &at);
    lin_write(c, at.off, size, alu_op(c, op, size, dst, src));
}

/* the same through mem_fast_ptr() (the write check first for a
 * read-modify-write, as rmw_read_mem) */
static ALWAYS_INLINE bool alu_mem_fast_at(struct cpu *c, const struct insn *i, unsigned op,
                                          unsigned size, unsigned kind, int seg, uint64_t ea)
{
    bool carry = op == 2 || op == 3;
    if (carry && !flag_cf_inline_ok(c))
        return false;
    bool cf = carry && flag_cf_inline(c);
    bool rmw = kind != 0 && op != 7;
    uint8_t *p = mem_fast_ptr(c, seg, ea, size, rmw ? MMU_WRITE : MMU_READ);
    if (!p)
        return false;
    uint64_t m = load_le(p, size);
    if (kind == 0) {
        uint64_t r = alu_op_cf(c, op, size, reg_read(c, i, i->reg, size), m, cf);
        if (op != 7)
            reg_write(c, i, i->reg, size, r);
        return true;
    }
    uint64_t r = alu_op_cf(c, op, size, m, kind == 1 ? reg_read(c, i, i->reg, size) : i->imm, cf);
    if (rmw)
        store_le(p, size, r);
    return true;
}

static ALWAYS_INLINE bool alu_mem_fast(struct cpu *c, const struct insn *i, unsigned op,
                                       unsigned size, unsigned kind)
{
    return alu_mem_fast_at(c, i, op, size, kind, i->seg, fast_ea(c, i));
}

#define ALU_MEM_FORM(name, n, size, kind)                                                 \
    static void name(struct cpu *c, const struct insn *i) { alu_mem(c, i, n, size, kind); } \
    static ALWAYS_INLINE bool name##_fast(struct cpu *c, const struct insn *i)              \
    {                                                                                     \
        return alu_mem_fast(c, i, n, size, kind);                                         \
    }                                                                                     \
    THREADED_FAST(name)
/* the same for base + displacement without an FS/GS override (the
 * commonest address form: the segment base is 0, no index, no RIP) */
#define ALU_MEM_BD_FORM(name, n, size, kind)                                              \
    static void name##_bd(struct cpu *c, const struct insn *i) { alu_mem(c, i, n, size, kind); } \
    static ALWAYS_INLINE bool name##_bd_fast(struct cpu *c, const struct insn *i)           \
    {                                                                                     \
        return alu_mem_fast_at(c, i, n, size, kind, SEG_DS, c->r[i->base] + (uint64_t)i->disp); \
    }                                                                                     \
    THREADED_FAST(name##_bd)
#define ALU_MEM_VARIANTS(n)                                                              \
    ALU_MEM_FORM(alu_gm64_##n, n, 8, 0) ALU_MEM_FORM(alu_gm32_##n, n, 4, 0)                \
    ALU_MEM_FORM(alu_mg64_##n, n, 8, 1) ALU_MEM_FORM(alu_mg32_##n, n, 4, 1)                \
    ALU_MEM_FORM(alu_mi64_##n, n, 8, 2) ALU_MEM_FORM(alu_mi32_##n, n, 4, 2)                \
    ALU_MEM_FORM(alu_mi8_##n, n, 1, 2) ALU_MEM_FORM(alu_mi16_##n, n, 2, 2)                 \
    ALU_MEM_FORM(alu_gm8_##n, n, 1, 0) ALU_MEM_FORM(alu_mg8_##n, n, 1, 1)                  \
    ALU_MEM_BD_FORM(alu_gm64_##n, n, 8, 0) ALU_MEM_BD_FORM(alu_gm32_##n, n, 4, 0)          \
    ALU_MEM_BD_FORM(alu_mg64_##n, n, 8, 1) ALU_MEM_BD_FORM(alu_mg32_##n, n, 4, 1)          \
    ALU_MEM_BD_FORM(alu_mi64_##n, n, 8, 2) ALU_MEM_BD_FORM(alu_mi32_##n, n, 4, 2)          \
    ALU_MEM_BD_FORM(alu_mi16_##n, n, 2, 2) ALU_MEM_BD_FORM(alu_mi8_##n, n, 1, 2)          \
    ALU_MEM_BD_FORM(alu_gm8_##n, n, 1, 0) ALU_MEM_BD_FORM(alu_mg8_##n, n, 1, 1)
FOR_EACH_ALU_OP(ALU_MEM_VARIANTS)

/* Byte registers and the accumulator forms: reg_read/reg_write with a
 * constant size give AH..BH without REX, the byte merge and the 32-bit
 * zero-extension (SDM Vol. 1 3.4.1.1).  The flags as alu_rr_fast. */
static ALWAYS_INLINE bool alu_reg_fast(struct cpu *c, const struct insn *i, unsigned dst,
                                       uint64_t src, unsigned op, unsigned size)
{
    bool carry = op == 2 || op == 3;
    if (carry && !flag_cf_inline_ok(c))
        return false;
    uint64_t r = alu_op_cf(c, op, size, reg_read(c, i, dst, size), src,
                           carry && flag_cf_inline(c));
    if (op != 7)
        reg_write(c, i, dst, size, r);
    return true;
}

#define ALU_REG_FORM(name, n, dst, src, size)                                             \
    static void name(struct cpu *c, const struct insn *i)                                 \
    {                                                                                     \
        uint64_t r = alu_op(c, n, size, reg_read(c, i, dst, size), src);                  \
        if (n != 7)                                                                       \
            reg_write(c, i, dst, size, r);                                                \
    }                                                                                     \
    static ALWAYS_INLINE bool name##_fast(struct cpu *c, const struct insn *i)              \
    {                                                                                     \
        return alu_reg_fast(c, i, dst, src, n, size);                                     \
    }                                                                                     \
    THREADED_FAST(name)
/* r8 op= r8 (00 ...), r8 op= r8 (02 ...), r8 op= imm8 (80 /op), AL op= imm8 (04 ...),
 * eAX op= imm32 (05 ...) */
#define ALU_REG_VARIANTS(n)                                                               \
    ALU_REG_FORM(alu_eg8_##n, n, i->rm, reg_read8(c, i, i->reg), 1)                        \
    ALU_REG_FORM(alu_ge8_##n, n, i->reg, reg_read8(c, i, i->rm), 1)                        \
    ALU_REG_FORM(alu_ri8_##n, n, i->rm, i->imm, 1)                                         \
    ALU_REG_FORM(alu_ai8_##n, n, R_RAX, i->imm, 1)                                         \
    ALU_REG_FORM(alu_ai32_##n, n, R_RAX, i->imm, 4)                                        \
    ALU_REG_FORM(alu_ai64_##n, n, R_RAX, i->imm, 8)
FOR_EACH_ALU_OP(ALU_REG_VARIANTS)

/* Variant tables hold both entry points of each handler (cpu/insn.h). */
struct fast {
    insn_fn fn, run;
};
#define F(name) {name, name##_run}
#define EIGHT(p) {F(p##_0), F(p##_1), F(p##_2), F(p##_3), F(p##_4), F(p##_5), F(p##_6), F(p##_7)}
static const struct fast alu_rr_fn[3][2][8] = { /* [EG, GE, EI][32, 64][op] */
    {EIGHT(alu_eg32), EIGHT(alu_eg64)},
    {EIGHT(alu_ge32), EIGHT(alu_ge64)},
    {EIGHT(alu_ri32), EIGHT(alu_ri64)},
};
static const struct fast alu_mem_fn[3][2][8] = { /* [GE, EG, EI][32, 64][op] */
    {EIGHT(alu_gm32), EIGHT(alu_gm64)},
    {EIGHT(alu_mg32), EIGHT(alu_mg64)},
    {EIGHT(alu_mi32), EIGHT(alu_mi64)},
};
#define EIGHT_BD(p)                                                                       \
    {F(p##_0_bd), F(p##_1_bd), F(p##_2_bd), F(p##_3_bd), F(p##_4_bd), F(p##_5_bd),        \
     F(p##_6_bd), F(p##_7_bd)}
static const struct fast alu_mem_bd_fn[3][2][8] = { /* base + displacement */
    {EIGHT_BD(alu_gm32), EIGHT_BD(alu_gm64)},
    {EIGHT_BD(alu_mg32), EIGHT_BD(alu_mg64)},
    {EIGHT_BD(alu_mi32), EIGHT_BD(alu_mi64)},
};
static const struct fast alu_mi16_bd_fn[8] = EIGHT_BD(alu_mi16);
static const struct fast alu_mi8_bd_fn[8] = EIGHT_BD(alu_mi8);
static const struct fast alu_mem8_bd_fn[2][8] = {EIGHT_BD(alu_gm8), EIGHT_BD(alu_mg8)};
/* [m8] op= imm8 (80 /op): byte flags and loops, the sieve's cmpb $0, (a + p) */
static const struct fast alu_mi8_fn[8] = EIGHT(alu_mi8);
static const struct fast alu_eg_fn[8] = EIGHT(alu_eg);
static const struct fast alu_ge_fn[8] = EIGHT(alu_ge);
static const struct fast alu_ei_fn[8] = EIGHT(alu_ei);
static const struct fast alu_ai_fn[8] = EIGHT(alu_ai);
/* the byte and accumulator forms above: [m8] op= r8, r8 op= [m8], [m16] op= imm */
static const struct fast alu_mem8_fn[2][8] = {EIGHT(alu_gm8), EIGHT(alu_mg8)};
static const struct fast alu_mi16_fn[8] = EIGHT(alu_mi16);
static const struct fast alu_reg8_fn[3][8] = {EIGHT(alu_eg8), EIGHT(alu_ge8), EIGHT(alu_ri8)};
static const struct fast alu_acc_fn[3][8] = {EIGHT(alu_ai8), EIGHT(alu_ai32), EIGHT(alu_ai64)};

/* ---- Jcc with a constant condition ---- */

static ALWAYS_INLINE void jcc(struct cpu *c, const struct insn *i, unsigned cc)
{
    if (cpu_cond(c, cc))
        cpu_jump_near(c, c->rip + i->imm, i->opsize);
}

/* threaded: a taken branch follows the block link (thread_jump); not
 * taken goes straight on.  Without a call where the condition comes
 * from cpu_cond_fast() and a 64-bit target is canonical; the rest
 * (flags to derive, #GP) is the full handler's. */

#define JCC_VARIANT(n)                                                                \
    static void jcc_##n(struct cpu *c, const struct insn *i) { jcc(c, i, n); }        \
    static __attribute__((noinline)) void jcc_##n##_full_run(struct cpu *c,          \
                                                              const struct insn *i)   \
    {                                                                                 \
        thread_sync(c, i);                                                            \
        uint64_t next = c->rip;                                                       \
        jcc(c, i, n);                                                                 \
        thread_next_if(c, i, next);                                                   \
    }                                                                                 \
    static void jcc_##n##_run(struct cpu *c, const struct insn *i)                    \
    {                                                                                 \
        bool taken;                                                                   \
        if (likely(cpu_cond_fast(c, n, &taken))) {                                    \
            if (taken) /* 64-bit blocks only: operand size 64 (D_F64), no wrap;    \
                          the canonical check is thread_jump's */                     \
                thread_jump(c, i, thread_rel_target(c, i), true);                     \
            else                                                                      \
                thread_next_fast(c, i);                                               \
            return;                                                                   \
        }                                                                             \
        jcc_##n##_full_run(c, i);                                                     \
    }                                                                                 \
    COPYRUN_REGISTER(jcc_##n##_run, 1);
JCC_VARIANT(0) JCC_VARIANT(1) JCC_VARIANT(2) JCC_VARIANT(3)
JCC_VARIANT(4) JCC_VARIANT(5) JCC_VARIANT(6) JCC_VARIANT(7)
JCC_VARIANT(8) JCC_VARIANT(9) JCC_VARIANT(10) JCC_VARIANT(11)
JCC_VARIANT(12) JCC_VARIANT(13) JCC_VARIANT(14) JCC_VARIANT(15)
#define SIXTEEN(p) {F(p##_0), F(p##_1), F(p##_2), F(p##_3), F(p##_4), F(p##_5), F(p##_6), \
                    F(p##_7), F(p##_8), F(p##_9), F(p##_10), F(p##_11), F(p##_12), \
                    F(p##_13), F(p##_14), F(p##_15)}
static const struct fast jcc_fn[16] = SIXTEEN(jcc);

/* ---- CMOVcc and SETcc with a constant condition; MOVZX to 32/64 bits ---- */

/* as op_cmovcc: the source is read (and may fault) whatever the
 * condition, and a 32-bit destination is zero-extended either way */
static ALWAYS_INLINE void cmov(struct cpu *c, const struct insn *i, unsigned cc, unsigned size)
{
    uint64_t v = rm_read_inline(c, i, size);
    if (cpu_cond(c, cc))
        c->r[i->reg] = v;
    else if (size == 4)
        c->r[i->reg] &= 0xffffffffull;
}

/* an r/m source of 1-8 bytes without a call, or false */
static ALWAYS_INLINE bool rm_read_fast(struct cpu *c, const struct insn *i, unsigned size,
                                       uint64_t *v)
{
    if (i->mod == 3) {
        *v = reg_read(c, i, i->rm, size);
        return true;
    }
    uint8_t *p = mem_fast_ptr(c, i->seg, fast_ea(c, i), size, MMU_READ);
    if (!p)
        return false;
    *v = load_le(p, size);
    return true;
}

static ALWAYS_INLINE bool cmov_fast(struct cpu *c, const struct insn *i, unsigned cc,
                                    unsigned size)
{
    bool r;
    uint64_t v;
    if (!cpu_cond_fast(c, cc, &r) || !rm_read_fast(c, i, size, &v))
        return false;
    if (r)
        c->r[i->reg] = v;
    else if (size == 4)
        c->r[i->reg] &= 0xffffffffull;
    return true;
}

/* the register forms, without the memory operand's code (the
 * carry-select CMOVAE of mpihelp's loops) */
static ALWAYS_INLINE bool cmov_rr_fast(struct cpu *c, const struct insn *i, unsigned cc,
                                       unsigned size)
{
    bool r;
    if (!cpu_cond_fast(c, cc, &r))
        return false;
    uint64_t v = r ? c->r[i->rm] : c->r[i->reg];
    c->r[i->reg] = size == 4 ? (uint32_t)v : v;
    return true;
}

static ALWAYS_INLINE bool setcc_fast(struct cpu *c, const struct insn *i, unsigned cc)
{
    bool r;
    if (!cpu_cond_fast(c, cc, &r))
        return false;
    if (i->mod == 3) {
        reg_write8(c, i, i->rm, r);
        return true;
    }
    uint8_t *p = mem_fast_ptr(c, i->seg, fast_ea(c, i), 1, MMU_WRITE);
    if (!p)
        return false;
    *p = r;
    return true;
}

/* one CMOVcc form: its full handler (cmov) and fast path 'fast' */
#define CMOV_FORM(name, fast, n, size)                                                        \
    static void name##_##n(struct cpu *c, const struct insn *i) { cmov(c, i, n, size); }    \
    static ALWAYS_INLINE bool name##_##n##_fast(struct cpu *c, const struct insn *i)         \
    {                                                                                        \
        return fast(c, i, n, size);                                                          \
    }                                                                                        \
    THREADED_FAST(name##_##n)
#define CC_VARIANTS(n)                                                                        \
    CMOV_FORM(cmov64, cmov_fast, n, 8) CMOV_FORM(cmov32, cmov_fast, n, 4)                    \
    CMOV_FORM(cmov_rr64, cmov_rr_fast, n, 8) CMOV_FORM(cmov_rr32, cmov_rr_fast, n, 4)        \
    static void setcc_##n(struct cpu *c, const struct insn *i) { rm_write(c, i, 1, cpu_cond(c, n)); } \
    static ALWAYS_INLINE bool setcc_##n##_fast(struct cpu *c, const struct insn *i)          \
    {                                                                                        \
        return setcc_fast(c, i, n);                                                          \
    }                                                                                        \
    THREADED_FAST(setcc_##n)
CC_VARIANTS(0) CC_VARIANTS(1) CC_VARIANTS(2) CC_VARIANTS(3)
CC_VARIANTS(4) CC_VARIANTS(5) CC_VARIANTS(6) CC_VARIANTS(7)
CC_VARIANTS(8) CC_VARIANTS(9) CC_VARIANTS(10) CC_VARIANTS(11)
CC_VARIANTS(12) CC_VARIANTS(13) CC_VARIANTS(14) CC_VARIANTS(15)
static const struct fast cmov_fn[2][2][16] = { /* [register form][64-bit][cc] */
    {SIXTEEN(cmov32), SIXTEEN(cmov64)}, {SIXTEEN(cmov_rr32), SIXTEEN(cmov_rr64)}};
static const struct fast setcc_fn[16] = SIXTEEN(setcc);

/* MUL r/m (F7 /4): RDX:RAX = RAX * src; CF = OF = upper half non-zero,
 * the rest as op_grp3's MUL (lazy LF_MUL) */
static void mul64(struct cpu *c, const struct insn *i)
{
    unsigned __int128 p = (unsigned __int128)c->r[R_RAX] * rm_read(c, i, 8);
    uint64_t lo = (uint64_t)p, hi = (uint64_t)(p >> 64);
    c->r[R_RAX] = lo;
    c->r[R_RDX] = hi;
    lf_set(c, LF_MUL, 8, 0, hi != 0, lo);
}
static ALWAYS_INLINE bool mul64_fast(struct cpu *c, const struct insn *i)
{
    uint64_t v;
    if (!rm_read_fast(c, i, 8, &v))
        return false;
    unsigned __int128 p = (unsigned __int128)c->r[R_RAX] * v;
    uint64_t lo = (uint64_t)p, hi = (uint64_t)(p >> 64);
    c->r[R_RAX] = lo;
    c->r[R_RDX] = hi;
    lf_set(c, LF_MUL, 8, 0, hi != 0, lo);
    return true;
}
THREADED_FAST(mul64)

static void mul32(struct cpu *c, const struct insn *i)
{
    uint64_t p = (c->r[R_RAX] & 0xffffffffu) * (rm_read(c, i, 4) & 0xffffffffu);
    c->r[R_RAX] = p & 0xffffffffu;
    c->r[R_RDX] = p >> 32;
    lf_set(c, LF_MUL, 4, 0, (p >> 32) != 0, p);
}
THREADED(mul32)

/* ---- TEST r/m, imm (F6/F7 /0), NOT and NEG of a register (F7 /2, /3),
 * MOVSXD r64, m32: the forms the Linux boot and the KVM scenario still
 * sent through op_grp3 and op_arpl_movsxd most often (flag tests on
 * struct fields, the multi-precision code's negations, sign-extending
 * loads of 32-bit table entries) ---- */

/* TEST: AND's flags (CF = OF = 0), nothing written.  The decoder has
 * the immediate sign-extended; only the operand size's bits count. */
#define TEST_EI_FORM(bits, size)                                                            static void test_ei##bits(struct cpu *c, const struct insn *i)                           {                                                                                             lf_set_logic(c, size, rm_read_inline(c, i, size) & i->imm);                           }                                                                                         static ALWAYS_INLINE bool test_ei##bits##_fast(struct cpu *c, const struct insn *i)       {                                                                                             uint64_t v;                                                                               if (!rm_read_fast(c, i, size, &v))                                                            return false;                                                                         lf_set_logic(c, size, v & i->imm);                                                        return true;                                                                          }                                                                                         THREADED_FAST(test_ei##bits)
TEST_EI_FORM(8, 1)
TEST_EI_FORM(32, 4)
TEST_EI_FORM(64, 8)

/* NOT changes no flag; NEG's flags are SUB 0, src's (SDM Vol. 2B "NEG":
 * CF = src != 0, the others from the result), as op_grp3 computes them */
static void not_r64(struct cpu *c, const struct insn *i) { c->r[i->rm] = ~c->r[i->rm]; }
static void not_r32(struct cpu *c, const struct insn *i) { c->r[i->rm] = (uint32_t)~c->r[i->rm]; }
static void neg_r64(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = alu_op_cf(c, 5, 8, 0, c->r[i->rm], false);
}
static void neg_r32(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = alu_op_cf(c, 5, 4, 0, c->r[i->rm], false);
}
THREADED_REG(not_r64)
THREADED_REG(not_r32)
THREADED_REG(neg_r64)
THREADED_REG(neg_r32)

/* MOVSXD r64, m32 (REX.W 63 with a memory operand) */
static void movsxd_m(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint64_t)(int64_t)(int32_t)rm_read_inline(c, i, 4);
}
static ALWAYS_INLINE bool movsxd_m_fast(struct cpu *c, const struct insn *i)
{
    uint64_t v;
    if (!rm_read_fast(c, i, 4, &v))
        return false;
    c->r[i->reg] = (uint64_t)(int64_t)(int32_t)v;
    return true;
}
THREADED_FAST(movsxd_m)

/* MOVZX into a 32- or 64-bit register: both zero-extend to 64 bits */
static void movzx8(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = rm_read_inline(c, i, 1);
}
static ALWAYS_INLINE bool movzx8_fast(struct cpu *c, const struct insn *i)
{
    return rm_read_fast(c, i, 1, &c->r[i->reg]);
}
THREADED_FAST(movzx8)

/* the same from a byte register, and from base + displacement without
 * an FS/GS override (the string and table walks of byte code) */
static void movzx8_rr(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = reg_read8(c, i, i->rm);
}
THREADED_REG(movzx8_rr)
static void movzx8_bd(struct cpu *c, const struct insn *i)
{
    movzx8(c, i);
}
static ALWAYS_INLINE bool movzx8_bd_fast(struct cpu *c, const struct insn *i)
{
    uint8_t *p = mem_fast_ptr(c, SEG_DS, c->r[i->base] + (uint64_t)i->disp, 1, MMU_READ);
    if (!p)
        return false;
    c->r[i->reg] = *p;
    return true;
}
THREADED_FAST(movzx8_bd)

static void movzx16(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = rm_read_inline(c, i, 2);
}
static ALWAYS_INLINE bool movzx16_fast(struct cpu *c, const struct insn *i)
{
    return rm_read_fast(c, i, 2, &c->r[i->reg]);
}
THREADED_FAST(movzx16)

/* ---- 64-bit-mode register moves, pushes and pops ---- */

static void mov_rr64(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = c->r[i->reg];
}
THREADED_REG(mov_rr64)

static void mov_rr32(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = (uint32_t)c->r[i->reg];
}
THREADED_REG(mov_rr32)

static void mov_rr64_load(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->r[i->rm];
}
THREADED_REG(mov_rr64_load)

static void mov_rr32_load(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint32_t)c->r[i->rm];
}
THREADED_REG(mov_rr32_load)

static void mov_ri64(struct cpu *c, const struct insn *i)
{
    c->r[(i->op & 7) | ((i->rex & 1) << 3)] = i->imm;
}
THREADED_REG(mov_ri64)

static void mov_ri32(struct cpu *c, const struct insn *i)
{
    c->r[(i->op & 7) | ((i->rex & 1) << 3)] = (uint32_t)i->imm;
}
THREADED_REG(mov_ri32)

static void lea64_bd(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->r[i->base] + (uint64_t)i->disp;
}
THREADED_REG(lea64_bd)

/* base + index * scale + displacement, and RIP + displacement (the
 * kernel's address computations and its RIP-relative globals) */
static void lea64_bi(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->r[i->base] + (c->r[i->index] << i->scale) + (uint64_t)i->disp;
}
THREADED_REG(lea64_bi)
/* index * scale + displacement, no base (mpihelp's limb offsets) */
static void lea64_id(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (c->r[i->index] << i->scale) + (uint64_t)i->disp;
}
THREADED_REG(lea64_id)
static void lea64_rip(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->rip + (uint64_t)i->disp;
}
static ALWAYS_INLINE bool lea64_rip_fast(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = thread_rip(c, i) + (uint64_t)i->disp;
    return true;
}
THREADED_FAST(lea64_rip)

/* any other LEA into a 64- or 32-bit register (insn_ea wraps to the
 * address size; a 32-bit destination keeps the low half, zero-extended) */
static void lea64(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = insn_ea(c, i);
}

static void lea32(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint32_t)insn_ea(c, i);
}
static ALWAYS_INLINE bool lea64_fast(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = fast_ea(c, i);
    return true;
}
static ALWAYS_INLINE bool lea32_fast(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint32_t)fast_ea(c, i);
    return true;
}
THREADED_FAST(lea64)
THREADED_FAST(lea32)

/* 90 without REX.B, and the hint NOPs 0F 18-1F: nothing at all (no
 * memory operand is accessed) */
static void nop(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
}
THREADED_REG(nop)

/* F3 90 PAUSE: a NOP too, but one that may exit in VMX non-root
 * operation, which the generic handler decides */
static void pause_nop(struct cpu *c, const struct insn *i)
{
    if (c->vmx.nonroot)
        op_xchg_A(c, i);
}
static ALWAYS_INLINE bool pause_nop_fast(struct cpu *c, const struct insn *i)
{
    (void)i;
    return !c->vmx.nonroot; /* spin-wait loops, a million per boot */
}
THREADED_FAST(pause_nop)

/* JMP rel8/rel32 in 64-bit mode */
static void jmp_rel64(struct cpu *c, const struct insn *i)
{
    cpu_jump_near(c, c->rip + i->imm, 8);
}
static void jmp_rel64_run(struct cpu *c, const struct insn *i)
{
    thread_jump(c, i, thread_rel_target(c, i), true); /* which checks the target when it must */
}
COPYRUN_REGISTER(jmp_rel64_run, 0);

/* ---- FF /0, /1: INC and DEC of a 32/64-bit register or memory ----
 * INC and DEC keep CF, which cpu/flags.c then reads from RFLAGS: the
 * fast path stores it there first when the last flag producer left it
 * lazy (op_grp5 materializes every flag; only CF is read from RFLAGS
 * under LF_INC/LF_DEC).  False, having changed nothing, when CF is not
 * inline (cpu_internal.h LF_CF_INLINE). */
static ALWAYS_INLINE bool incdec_keep_cf(struct cpu *c)
{
    unsigned op = c->lf_op;
    if (op == LF_NONE || op == LF_INC || op == LF_DEC)
        return true;
    if (!flag_cf_inline_ok(c))
        return false;
    c->rflags = (c->rflags & ~(uint64_t)FL_CF) | (flag_cf_inline(c) ? FL_CF : 0);
    return true;
}

static ALWAYS_INLINE uint64_t incdec_op(struct cpu *c, bool dec, unsigned size, uint64_t v)
{
    uint64_t r = dec ? v - 1 : v + 1;
    lf_set(c, dec ? LF_DEC : LF_INC, size, v & size_mask(size), 1, r);
    return r & size_mask(size);
}

#define INCDEC_FORM(name, dec, size, mem)                                                 \
    static void name(struct cpu *c, const struct insn *i) { op_grp5(c, i); }               \
    static ALWAYS_INLINE bool name##_fast(struct cpu *c, const struct insn *i)              \
    {                                                                                     \
        if (!(mem)) {                                                                     \
            if (!incdec_keep_cf(c))                                                       \
                return false;                                                             \
            c->r[i->rm] = incdec_op(c, dec, size, c->r[i->rm]); /* 32 bits zero-extend */ \
            return true;                                                                  \
        }                                                                                 \
        uint8_t *p = mem_fast_ptr(c, i->seg, fast_ea(c, i), size, MMU_WRITE);             \
        if (!p || !incdec_keep_cf(c))                                                     \
            return false;                                                                 \
        store_le(p, size, incdec_op(c, dec, size, load_le(p, size)));                     \
        return true;                                                                      \
    }                                                                                     \
    THREADED_FAST(name)
INCDEC_FORM(inc_r32, false, 4, false) INCDEC_FORM(inc_r64, false, 8, false)
INCDEC_FORM(dec_r32, true, 4, false) INCDEC_FORM(dec_r64, true, 8, false)
INCDEC_FORM(inc_m32, false, 4, true) INCDEC_FORM(inc_m64, false, 8, true)
INCDEC_FORM(dec_m32, true, 4, true) INCDEC_FORM(dec_m64, true, 8, true)

/* ---- FF /2, /4: CALL and JMP through a register or memory, 64-bit ---- */
static ALWAYS_INLINE bool near_indirect_fast(struct cpu *c, const struct insn *i, bool call)
{
    uint64_t target;
    if (i->mod == 3) {
        target = c->r[i->rm];
    } else {
        const uint8_t *p = mem_fast_ptr(c, i->seg, fast_ea(c, i), 8, MMU_READ);
        if (!p)
            return false;
        target = load_le(p, 8);
    }
    if (!mem_canonical(c, target))
        return false;
    if (call) {
        uint64_t sp = c->r[R_RSP] - 8;
        uint8_t *s = mem_fast_ptr(c, SEG_SS, sp, 8, MMU_WRITE);
        if (!s)
            return false;
        store_le(s, 8, thread_rip(c, i));
        c->r[R_RSP] = sp;
    }
    c->rip = target;
    return true;
}
static void call_ind64(struct cpu *c, const struct insn *i) { op_grp5(c, i); }
static void jmp_ind64(struct cpu *c, const struct insn *i) { op_grp5(c, i); }
static ALWAYS_INLINE bool call_ind64_fast(struct cpu *c, const struct insn *i)
{
    return near_indirect_fast(c, i, true);
}
static ALWAYS_INLINE bool jmp_ind64_fast(struct cpu *c, const struct insn *i)
{
    return near_indirect_fast(c, i, false);
}
THREADED_EXIT_FAST(call_ind64)
THREADED_EXIT_FAST(jmp_ind64)

/* ---- TEST AL/eAX, imm (A8, A9): flags only ---- */
#define TEST_ACC_FORM(name, size)                                                         \
    static void name(struct cpu *c, const struct insn *i)                                 \
    {                                                                                     \
        lf_set_logic(c, size, reg_read(c, i, R_RAX, size) & i->imm);                      \
    }                                                                                     \
    THREADED_REG(name)
TEST_ACC_FORM(test_acc8, 1)
TEST_ACC_FORM(test_acc32, 4)
TEST_ACC_FORM(test_acc64, 8)

/* MOV r/m, imm (C7 /0) into a 64- or 32-bit register (the immediate is
 * sign-extended for 64 bits by the decoder) */
static void mov_ri_c7_64(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = i->imm;
}

static void mov_ri_c7_32(struct cpu *c, const struct insn *i)
{
    c->r[i->rm] = (uint32_t)i->imm;
}
THREADED_REG(mov_ri_c7_64)
THREADED_REG(mov_ri_c7_32)

static ALWAYS_INLINE void test_rr(struct cpu *c, const struct insn *i, unsigned size)
{
    lf_set_logic(c, size, c->r[i->rm] & c->r[i->reg]);
}
static void test_rr8(struct cpu *c, const struct insn *i)
{
    lf_set_logic(c, 1, reg_read8(c, i, i->rm) & reg_read8(c, i, i->reg));
}
THREADED_REG(test_rr8)
static void test_rr64(struct cpu *c, const struct insn *i) { test_rr(c, i, 8); }
static void test_rr32(struct cpu *c, const struct insn *i) { test_rr(c, i, 4); }
THREADED_REG(test_rr64)
THREADED_REG(test_rr32)

static void imul_rr64(struct cpu *c, const struct insn *i)
{
    int64_t r;
    bool ovf = __builtin_mul_overflow((int64_t)c->r[i->reg], (int64_t)c->r[i->rm], &r);
    lf_set(c, LF_MUL, 8, 0, ovf, (uint64_t)r);
    c->r[i->reg] = (uint64_t)r;
}
THREADED_REG(imul_rr64)

static void imul_rr32(struct cpu *c, const struct insn *i)
{
    int64_t p = (int64_t)(int32_t)c->r[i->reg] * (int32_t)c->r[i->rm];
    lf_set(c, LF_MUL, 4, 0, p != (int32_t)p, (uint64_t)p);
    c->r[i->reg] = (uint32_t)p;
}
THREADED_REG(imul_rr32)

static void movsxd_rr(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint64_t)(int64_t)(int32_t)c->r[i->rm];
}
THREADED_REG(movsxd_rr)

/* PUSH/POP r64 (50-5F): cpu_specialize() puts the register, opcode
 * bits 2:0 with REX.B, in i->rm */
static void push64(struct cpu *c, const struct insn *i)
{
    unsigned r = i->rm;
    uint64_t sp = c->r[R_RSP] - 8;
    lin_write(c, mem_linear(c, SEG_SS, sp, 8, true), 8, c->r[r]);
    c->r[R_RSP] = sp;
}
static ALWAYS_INLINE bool push64_fast(struct cpu *c, const struct insn *i)
{
    unsigned r = i->rm;
    uint64_t sp = c->r[R_RSP] - 8;
    uint8_t *p = mem_fast_ptr(c, SEG_SS, sp, 8, MMU_WRITE);
    if (!p)
        return false;
    store_le(p, 8, c->r[r]);
    c->r[R_RSP] = sp;
    return true;
}
THREADED_FAST(push64)

static void pop64(struct cpu *c, const struct insn *i)
{
    unsigned r = i->rm;
    uint64_t sp = c->r[R_RSP];
    uint64_t v = lin_read(c, mem_linear(c, SEG_SS, sp, 8, false), 8);
    c->r[R_RSP] = sp + 8;
    c->r[r] = v;
}
static ALWAYS_INLINE bool pop64_fast(struct cpu *c, const struct insn *i)
{
    unsigned r = i->rm;
    uint64_t sp = c->r[R_RSP];
    uint8_t *p = mem_fast_ptr(c, SEG_SS, sp, 8, MMU_READ);
    if (!p)
        return false;
    uint64_t v = load_le(p, 8);
    c->r[R_RSP] = sp + 8;
    c->r[r] = v;
    return true;
}
THREADED_FAST(pop64)

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
static ALWAYS_INLINE bool call_rel64_fast(struct cpu *c, const struct insn *i)
{
    uint64_t ret = thread_rip(c, i), target = ret + i->imm, sp = c->r[R_RSP] - 8;
    if (!mem_canonical(c, target))
        return false;
    uint8_t *p = mem_fast_ptr(c, SEG_SS, sp, 8, MMU_WRITE);
    if (!p)
        return false;
    store_le(p, 8, ret);
    c->r[R_RSP] = sp;
    c->rip = target;
    return true;
}
THREADED_EXIT_FAST(call_rel64)

static void ret64(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint64_t sp = c->r[R_RSP];
    uint64_t target = lin_read(c, mem_linear(c, SEG_SS, sp, 8, false), 8);
    cpu_jump_near(c, target, 8);
    c->r[R_RSP] = sp + 8;
}
static ALWAYS_INLINE bool ret64_fast(struct cpu *c, const struct insn *i)
{
    (void)i;
    uint64_t sp = c->r[R_RSP];
    uint8_t *p = mem_fast_ptr(c, SEG_SS, sp, 8, MMU_READ);
    if (!p)
        return false;
    uint64_t target = load_le(p, 8);
    if (!mem_canonical(c, target))
        return false;
    c->rip = target;
    c->r[R_RSP] = sp + 8;
    return true;
}
THREADED_EXIT_FAST_VIA(ret64, thread_return)

/* ---- 64-bit-mode MOV between a register and memory ---- */

/* base + displacement, the commonest address form: no index, no RIP */
static inline __attribute__((always_inline)) uint64_t ea_base_disp(const struct cpu *c,
                                                                  const struct insn *i)
{
    return c->r[i->base] + (uint64_t)i->disp;
}

/* base + index * scale + displacement with a 64-bit address size: the
 * array walks of the multi-precision loops (mpihelp_*), table lookups */
static inline __attribute__((always_inline)) uint64_t ea_base_index(const struct cpu *c,
                                                                   const struct insn *i)
{
    return c->r[i->base] + (c->r[i->index] << i->scale) + (uint64_t)i->disp;
}

/* loads and stores of 64 and 32 bits (a 32-bit load zero-extends)
 * through one address form 'ea' */
static ALWAYS_INLINE bool mov_mem_fast(struct cpu *c, const struct insn *i, int seg, uint64_t ea,
                                       unsigned size, bool load)
{
    uint8_t *p = mem_fast_ptr(c, seg, ea, size, load ? MMU_READ : MMU_WRITE);
    if (!p)
        return false;
    if (load)
        c->r[i->reg] = load_le(p, size);
    else
        store_le(p, size, c->r[i->reg]);
    return true;
}

#define MOV_MEM_FORM(name, ea, fea, fseg, size, load)                                                \
    static void name(struct cpu *c, const struct insn *i)                                 \
    {                                                                                     \
        if (load)                                                                         \
            c->r[i->reg] = mem_read(c, i->seg, ea(c, i), size);                           \
        else                                                                              \
            mem_write(c, i->seg, ea(c, i), size, c->r[i->reg] & size_mask(size));         \
    }                                                                                     \
    static ALWAYS_INLINE bool name##_fast(struct cpu *c, const struct insn *i)              \
    {                                                                                     \
        return mov_mem_fast(c, i, fseg, fea(c, i), size, load);                                  \
    }                                                                                     \
    THREADED_FAST(name)
#define MOV_MEM_VARIANTS(sfx, ea, fea, fseg)                                                         \
    MOV_MEM_FORM(mov_load64_##sfx, ea, fea, fseg, 8, true)                                    \
    MOV_MEM_FORM(mov_store64_##sfx, ea, fea, fseg, 8, false) \
    MOV_MEM_FORM(mov_load32_##sfx, ea, fea, fseg, 4, true)                                    \
    MOV_MEM_FORM(mov_store32_##sfx, ea, fea, fseg, 4, false)
MOV_MEM_VARIANTS(bd, ea_base_disp, ea_base_disp, SEG_DS)
MOV_MEM_VARIANTS(bi, ea_base_index, ea_base_index, SEG_DS)

MOV_MEM_VARIANTS(any, insn_ea, fast_ea, i->seg)

/* ---- 64-bit-mode byte MOV, and MOV of an immediate to memory ----
 * The full handlers are the generic ones (op_mov_EG, op_mov_GE,
 * op_mov_E_imm); the fast paths store or load through the TLB without
 * a call.  Byte stores of a constant or a register are the sieve's and
 * string code's inner loops. */
static ALWAYS_INLINE bool mov_val_store_fast(struct cpu *c, int seg, uint64_t ea, unsigned size,
                                             uint64_t v)
{
    uint8_t *p = mem_fast_ptr(c, seg, ea, size, MMU_WRITE);
    if (!p)
        return false;
    store_le(p, size, v);
    return true;
}

static ALWAYS_INLINE bool mov_load8_fast_at(struct cpu *c, const struct insn *i, int seg,
                                            uint64_t ea)
{
    uint8_t *p = mem_fast_ptr(c, seg, ea, 1, MMU_READ);
    if (!p)
        return false;
    reg_write8(c, i, i->reg, *p);
    return true;
}

/* MOV r/m, imm of 'bits' to memory: the generic handler, and a fast path */
#define MOV_IMM_FORM(sfx, ea, fseg, bits)                                                       \
    static void mov_store_imm##bits##_##sfx(struct cpu *c, const struct insn *i)          \
    {                                                                                     \
        op_mov_E_imm(c, i);                                                               \
    }                                                                                     \
    static ALWAYS_INLINE bool mov_store_imm##bits##_##sfx##_fast(struct cpu *c,           \
                                                                 const struct insn *i)    \
    {                                                                                     \
        return mov_val_store_fast(c, fseg, ea(c, i), bits / 8, i->imm);                      \
    }                                                                                     \
    THREADED_FAST(mov_store_imm##bits##_##sfx)

#define MOV_BYTE_FORMS(sfx, ea, fseg)                                                           \
    MOV_IMM_FORM(sfx, ea, fseg, 8) MOV_IMM_FORM(sfx, ea, fseg, 32)                     \
    MOV_IMM_FORM(sfx, ea, fseg, 64)          \
    static void mov_store8_##sfx(struct cpu *c, const struct insn *i) { op_mov_EG(c, i); }  \
    static void mov_load8_##sfx(struct cpu *c, const struct insn *i) { op_mov_GE(c, i); }   \
    static ALWAYS_INLINE bool mov_store8_##sfx##_fast(struct cpu *c, const struct insn *i) \
    {                                                                                     \
        return mov_val_store_fast(c, fseg, ea(c, i), 1, reg_read8(c, i, i->reg));            \
    }                                                                                     \
    static ALWAYS_INLINE bool mov_load8_##sfx##_fast(struct cpu *c, const struct insn *i)  \
    {                                                                                     \
        return mov_load8_fast_at(c, i, fseg, ea(c, i));                                         \
    }                                                                                     \
    THREADED_FAST(mov_store8_##sfx) THREADED_FAST(mov_load8_##sfx)                         \
    static void mov_store16_##sfx(struct cpu *c, const struct insn *i) { op_mov_EG(c, i); } \
    static void mov_load16_##sfx(struct cpu *c, const struct insn *i) { op_mov_GE(c, i); }  \
    static ALWAYS_INLINE bool mov_store16_##sfx##_fast(struct cpu *c, const struct insn *i) \
    {                                                                                     \
        return mov_val_store_fast(c, fseg, ea(c, i), 2, c->r[i->reg]);                    \
    }                                                                                     \
    static ALWAYS_INLINE bool mov_load16_##sfx##_fast(struct cpu *c, const struct insn *i)  \
    {                                                                                     \
        const uint8_t *p = mem_fast_ptr(c, fseg, ea(c, i), 2, MMU_READ);                  \
        if (!p)                                                                           \
            return false;                                                                 \
        reg_write(c, i, i->reg, 2, load_le(p, 2)); /* merges into bits 15:0 */           \
        return true;                                                                      \
    }                                                                                     \
    THREADED_FAST(mov_store16_##sfx) THREADED_FAST(mov_load16_##sfx)
MOV_BYTE_FORMS(bd, ea_base_disp, SEG_DS)
MOV_BYTE_FORMS(any, fast_ea, i->seg)

/* ---- SHL/SHR/SAR on a 32/64-bit register by an immediate or 1 ----
 * Same results and lazy flags as the generic group-2 code (ops_shift.c,
 * flags.c LF_SHL/LF_SHR/LF_SAR); a zero count leaves the flags alone
 * but still writes the (zero-extended) destination. */
static ALWAYS_INLINE void shift_ri_flags(struct cpu *c, const struct insn *i, unsigned kind,
                                         unsigned size, bool flags)
{
    unsigned bits = size * 8;
    unsigned count = (unsigned)i->imm & (size == 8 ? 63 : 31); /* D1: 1 (cpu_specialize) */
    uint64_t m = size_mask(size), v = c->r[i->rm] & m, r;
    if (flags && !count) { /* no flag changes; without flags the shift by 0 below is v */
        c->r[i->rm] = v;
        return;
    }
    if (kind == 4) {
        r = (v << count) & m;
        if (flags)
            lf_set(c, LF_SHL, size, v, count, r);
    } else if (kind == 5) {
        r = v >> count;
        if (flags)
            lf_set(c, LF_SHR, size, v, count, r);
    } else {
        int64_t s = (int64_t)(v << (64 - bits)) >> (64 - bits);
        r = (uint64_t)(s >> count) & m;
        if (flags)
            lf_set(c, LF_SAR, size, v, count, r);
    }
    c->r[i->rm] = r;
}

static ALWAYS_INLINE void shift_ri(struct cpu *c, const struct insn *i, unsigned kind,
                                   unsigned size)
{
    shift_ri_flags(c, i, kind, size, true);
}

/* the result alone, for a shift whose flags are dead (cpu_flagless) */
static ALWAYS_INLINE void shift_value(struct cpu *c, const struct insn *i, unsigned kind,
                                      unsigned size)
{
    shift_ri_flags(c, i, kind, size, false);
}

#define SHIFT_VARIANTS(name, kind)                                                        \
    static void name##64(struct cpu *c, const struct insn *i) { shift_ri(c, i, kind, 8); } \
    static void name##32(struct cpu *c, const struct insn *i) { shift_ri(c, i, kind, 4); } \
    THREADED_REG(name##64) THREADED_REG(name##32)
SHIFT_VARIANTS(shl_ri, 4)
SHIFT_VARIANTS(shr_ri, 5)
SHIFT_VARIANTS(sar_ri, 7)

/* ---- ROL/ROR on a 32/64-bit register by an immediate or 1 ----
 * As the generic group-2 code (ops_shift.c): a zero count changes no
 * flag; otherwise CF and OF are the rotation's and SF, ZF, AF and PF
 * keep what the previous op left, so the lazy flags are made concrete
 * first.  The fast path does that inline when no op is pending or a
 * logic op is (XOR/AND then ROR: the SHA-256 rounds), else the full
 * handler calls flags_materialize(). */
static ALWAYS_INLINE uint64_t rotate_ri(struct cpu *c, const struct insn *i, bool right,
                                        unsigned size, uint32_t *cfof)
{
    unsigned bits = size * 8;
    unsigned n = (unsigned)i->imm & (bits - 1); /* D1: 1 (cpu_specialize) */
    uint64_t v = c->r[i->rm] & size_mask(size), r;
    if (!n) {
        *cfof = UINT32_MAX;
        return v;
    }
    if (right) {
        r = ((v >> n) | (v << (bits - n))) & size_mask(size);
        bool msb = (r >> (bits - 1)) & 1;
        *cfof = (msb ? FL_CF : 0) | ((msb ^ ((r >> (bits - 2)) & 1)) ? FL_OF : 0);
    } else {
        r = ((v << n) | (v >> (bits - n))) & size_mask(size);
        bool cf = r & 1;
        *cfof = (cf ? FL_CF : 0) | ((((r >> (bits - 1)) & 1) ^ cf) ? FL_OF : 0);
    }
    return r;
}

static ALWAYS_INLINE void rotate_full(struct cpu *c, const struct insn *i, bool right,
                                      unsigned size)
{
    uint32_t cfof;
    uint64_t r = rotate_ri(c, i, right, size, &cfof);
    if (cfof != UINT32_MAX) {
        flags_materialize(c);
        c->rflags = (c->rflags & ~(uint64_t)(FL_CF | FL_OF)) | cfof;
    }
    c->r[i->rm] = r;
}

static ALWAYS_INLINE bool rotate_fast(struct cpu *c, const struct insn *i, bool right,
                                      unsigned size)
{
    if (c->lf_op != LF_NONE && c->lf_op != LF_LOGIC)
        return false;
    uint32_t cfof;
    uint64_t r = rotate_ri(c, i, right, size, &cfof);
    if (cfof != UINT32_MAX) {
        uint64_t f = c->rflags & ~(uint64_t)(FL_CF | FL_OF);
        if (c->lf_op == LF_LOGIC) { /* flags_materialize() for a logic op */
            uint64_t res = c->lf_res;
            f &= ~(uint64_t)FL_ARITH;
            f |= (res == 0 ? FL_ZF : 0) | (((res >> (8 * c->lf_size - 1)) & 1) ? FL_SF : 0) |
                 (__builtin_parity((unsigned)(res & 0xff)) ? 0 : FL_PF);
            c->lf_op = LF_NONE;
        }
        c->rflags = f | cfof;
    }
    c->r[i->rm] = r;
    return true;
}

#define ROTATE_VARIANTS(name, right)                                                      \
    static void name##64(struct cpu *c, const struct insn *i) { rotate_full(c, i, right, 8); } \
    static void name##32(struct cpu *c, const struct insn *i) { rotate_full(c, i, right, 4); } \
    static ALWAYS_INLINE bool name##64_fast(struct cpu *c, const struct insn *i)          \
    {                                                                                     \
        return rotate_fast(c, i, right, 8);                                               \
    }                                                                                     \
    static ALWAYS_INLINE bool name##32_fast(struct cpu *c, const struct insn *i)          \
    {                                                                                     \
        return rotate_fast(c, i, right, 4);                                               \
    }                                                                                     \
    THREADED_FAST(name##64) THREADED_FAST(name##32)
ROTATE_VARIANTS(rol_ri, false)
ROTATE_VARIANTS(ror_ri, true)

/* The rotation alone, for a rotate whose CF and OF the next instruction
 * overwrites before anything can look at them (cpu_fuse(): the SHA-256
 * rounds' ROR then XOR or ADD), so neither they nor the flags the
 * rotate would have to make concrete are computed. */
#define ROTATE_FLAGLESS(name, right, size)                                                \
    static void name##_nf(struct cpu *c, const struct insn *i)                            \
    {                                                                                     \
        uint32_t cfof;                                                                    \
        c->r[i->rm] = rotate_ri(c, i, right, size, &cfof);                                \
    }                                                                                     \
    THREADED_REG(name##_nf)
ROTATE_FLAGLESS(rol_ri64, false, 8)
ROTATE_FLAGLESS(rol_ri32, false, 4)
ROTATE_FLAGLESS(ror_ri64, true, 8)
ROTATE_FLAGLESS(ror_ri32, true, 4)

/* The same for the register ALU forms, shifts and IMUL: the result
 * alone.  CMP and TEST with dead flags do nothing at all. */
static ALWAYS_INLINE uint64_t alu_result(unsigned op, uint64_t a, uint64_t b)
{
    switch (op) {
    case 0: return a + b;
    case 1: return a | b;
    case 4: return a & b;
    case 5: return a - b;
    default: return a ^ b;
    }
}
#define ALU_NF_FORM(name, n, dst, src, size)                                              \
    static void name##_nf(struct cpu *c, const struct insn *i)                            \
    {                                                                                     \
        c->r[dst] = alu_result(n, c->r[dst], src) & size_mask(size);                      \
    }                                                                                     \
    THREADED_REG(name##_nf)
#define ALU_NF_VARIANTS(n) ALU_RR_SHAPES(ALU_NF_FORM, n)
ALU_NF_VARIANTS(0) ALU_NF_VARIANTS(1) ALU_NF_VARIANTS(4) ALU_NF_VARIANTS(5) ALU_NF_VARIANTS(6)
/* ADC and SBB still read CF (the carry chains of multi-precision code:
 * SUB, ADC, then an ADD that overwrites the ADC's flags) */
#define ALU_CARRY_NF_FORM(name, n, dst, src, size)                                        \
    static void name##_nf(struct cpu *c, const struct insn *i)                            \
    {                                                                                     \
        uint64_t cf = flag_cf(c);                                                         \
        uint64_t v = n == 2 ? c->r[dst] + src + cf : c->r[dst] - src - cf;                \
        c->r[dst] = v & size_mask(size);                                                  \
    }                                                                                     \
    THREADED_REG(name##_nf)
ALU_RR_SHAPES(ALU_CARRY_NF_FORM, 2) ALU_RR_SHAPES(ALU_CARRY_NF_FORM, 3)
#define ALU_NF_ROW(f, w)                                                                  \
    {f##w##_0_nf_run, f##w##_1_nf_run, f##w##_2_nf_run, f##w##_3_nf_run, f##w##_4_nf_run, \
     f##w##_5_nf_run, f##w##_6_nf_run, NULL}
static const insn_fn alu_nf_run[3][2][8] = { /* [EG, GE, EI][32, 64][op]: not CMP */
    {ALU_NF_ROW(alu_eg, 32), ALU_NF_ROW(alu_eg, 64)},
    {ALU_NF_ROW(alu_ge, 32), ALU_NF_ROW(alu_ge, 64)},
    {ALU_NF_ROW(alu_ri, 32), ALU_NF_ROW(alu_ri, 64)},
};

static void flags_only_nf(struct cpu *c, const struct insn *i)
{
    (void)c;
    (void)i;
}
THREADED_REG(flags_only_nf)

#define SHIFT_NF(name, kind, size)                                                        \
    static void name##_nf(struct cpu *c, const struct insn *i)                            \
    {                                                                                     \
        shift_value(c, i, kind, size);                                                    \
    }                                                                                     \
    THREADED_REG(name##_nf)
SHIFT_NF(shl_ri64, 4, 8) SHIFT_NF(shl_ri32, 4, 4) SHIFT_NF(shr_ri64, 5, 8)
SHIFT_NF(shr_ri32, 5, 4) SHIFT_NF(sar_ri64, 7, 8) SHIFT_NF(sar_ri32, 7, 4)

static void imul_rr64_nf(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = c->r[i->reg] * c->r[i->rm]; /* the low half is the same signed or not */
}
THREADED_REG(imul_rr64_nf)
static void imul_rr32_nf(struct cpu *c, const struct insn *i)
{
    c->r[i->reg] = (uint32_t)((uint32_t)c->r[i->reg] * (uint32_t)c->r[i->rm]);
}
THREADED_REG(imul_rr32_nf)

bool cpu_flagless(struct insn *i)
{
    static const insn_fn rot[2][2] = {{rol_ri32_nf_run, rol_ri64_nf_run},
                                      {ror_ri32_nf_run, ror_ri64_nf_run}};
    static const insn_fn shift[8][2] = {
        [4] = {shl_ri32_nf_run, shl_ri64_nf_run}, [5] = {shr_ri32_nf_run, shr_ri64_nf_run},
        [6] = {shl_ri32_nf_run, shl_ri64_nf_run}, [7] = {sar_ri32_nf_run, sar_ri64_nf_run}};
    if (i->mod != 3 || i->lock)
        return false;
    if (i->op == 0x84) { /* TEST r/m8, r8 */
        i->run = flags_only_nf_run;
        return true;
    }
    if (i->opsize != 4 && i->opsize != 8)
        return false;
    unsigned q = i->opsize == 8, r = i->reg & 7, op = i->op;
    insn_fn run = NULL;
    if (op == 0xc1 || op == 0xd1)
        run = r <= 1 ? rot[r][q] : shift[r][q]; /* not RCL, RCR (they read CF) */
    else if (op == 0x81 || op == 0x83)
        run = r == 7 ? flags_only_nf_run : alu_nf_run[2][q][r];
    else if (op == 0x1af)
        run = q ? imul_rr64_nf_run : imul_rr32_nf_run;
    else if (op == 0x39 || op == 0x3b || op == 0x85)
        run = flags_only_nf_run;
    else if (op < 0x40 && (op & 7) < 4 && (op & 1))
        run = alu_nf_run[(op & 2) ? 1 : 0][q][(op >> 3) & 7];
    if (!run)
        return false;
    i->run = run;
    return true;
}

/* Picks a specialised handler for a freshly decoded instruction. */
static void pick(struct insn *i, struct fast f)
{
    i->fn = f.fn;
    i->run = f.run;
}
#define FAST(name) ((struct fast)F(name))
#define PICK(name) pick(i, FAST(name))

void cpu_specialize(const struct cpu *c, struct insn *i)
{
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    uint16_t op = i->op;
    if (i->fn == op_ud)
        return;
    /* register-register forms, 32/64-bit, no LOCK (which #UDs anyway) */
    bool rr = i->mod == 3 && (i->opsize == 4 || i->opsize == 8) && !i->lock;
    unsigned q = i->opsize == 8;
    if (rr && op < 0x40 && (op & 7) < 4 && (op & 1)) {
        pick(i, alu_rr_fn[(op & 2) ? 1 : 0][q][(op >> 3) & 7]);
        return;
    }
    if (rr && (op == 0x81 || op == 0x83)) {
        pick(i, alu_rr_fn[2][q][i->reg & 7]);
        return;
    }
    if (rr && (op == 0xc1 || op == 0xd1)) {
        /* the count by 1 (D1) as if it were the immediate, which D1 has
         * not: the threaded forms read only the immediate (the generic
         * op_grp2 counts 1 for D1 whatever imm holds) */
        if (op == 0xd1)
            i->imm = 1;
        switch (i->reg & 7) {
        case 4:
        case 6:
            if (q) PICK(shl_ri64); else PICK(shl_ri32);
            return;
        case 5:
            if (q) PICK(shr_ri64); else PICK(shr_ri32);
            return;
        case 7:
            if (q) PICK(sar_ri64); else PICK(sar_ri32);
            return;
        case 0:
            if (q) PICK(rol_ri64); else PICK(rol_ri32);
            return;
        case 1:
            if (q) PICK(ror_ri64); else PICK(ror_ri32);
            return;
        default: return; /* RCL/RCR stay generic */
        }
    }
    /* memory forms, 32/64-bit, 64-bit code and addressing, no LOCK */
    bool mem64 = long64 && i->mod != 3 && i->adsize == 8 && !i->lock &&
                 (i->opsize == 4 || i->opsize == 8);
    /* base + displacement without an FS/GS override: the segment base
     * is 0 (as the MOV forms' 'based' below) */
    bool bd = i->base != NO_REG && i->index == NO_REG && !i->riprel && i->seg < SEG_FS;
    if (mem64 && op < 0x40 && ((op & 7) == 1 || (op & 7) == 3)) {
        pick(i, (bd ? alu_mem_bd_fn : alu_mem_fn)[(op & 2) ? 0 : 1][q][(op >> 3) & 7]);
        return;
    }
    if (mem64 && (op == 0x81 || op == 0x83)) {
        pick(i, (bd ? alu_mem_bd_fn : alu_mem_fn)[2][q][i->reg & 7]);
        return;
    }
    if (long64 && op == 0x80 && i->mod != 3 && i->adsize == 8 && !i->lock) {
        pick(i, (bd ? alu_mi8_bd_fn : alu_mi8_fn)[i->reg & 7]);
        return;
    }
    /* byte registers, the accumulator with an immediate, byte memory,
     * [m16] op= imm: no LOCK (#UD with a register operand, and atomic
     * read-modify-writes stay the generic handler's) */
    if (!i->lock && op < 0x40 && (op & 7) < 6) {
        unsigned n = (op >> 3) & 7, form = op & 7;
        if (i->mod == 3 && (form == 0 || form == 2)) {
            pick(i, alu_reg8_fn[form >> 1][n]);
            return;
        }
        if (form == 4) {
            pick(i, alu_acc_fn[0][n]);
            return;
        }
        if (form == 5 && (i->opsize == 4 || i->opsize == 8)) {
            pick(i, alu_acc_fn[i->opsize == 8 ? 2 : 1][n]);
            return;
        }
        if (long64 && i->mod != 3 && i->adsize == 8 && (form == 0 || form == 2)) {
            pick(i, (bd ? alu_mem8_bd_fn : alu_mem8_fn)[form == 0 ? 1 : 0][n]);
            return;
        }
    }
    if (op == 0x80 && i->mod == 3 && !i->lock) {
        pick(i, alu_reg8_fn[2][i->reg & 7]);
        return;
    }
    if (long64 && (op == 0x81 || op == 0x83) && i->mod != 3 && i->adsize == 8 && !i->lock &&
        i->opsize == 2) {
        bool bd16 = i->base != NO_REG && i->index == NO_REG && !i->riprel && i->seg < SEG_FS;
        pick(i, bd16 ? alu_mi16_bd_fn[i->reg & 7] : alu_mi16_fn[i->reg & 7]);
        return;
    }
    if (op < 0x40 && (op & 7) < 6) {
        unsigned n = (op >> 3) & 7;
        switch (op & 7) {
        case 0:
        case 1: pick(i, alu_eg_fn[n]); return;
        case 2:
        case 3: pick(i, alu_ge_fn[n]); return;
        default: pick(i, alu_ai_fn[n]); return;
        }
    }
    if (op == 0x80 || op == 0x81 || op == 0x83) {
        pick(i, alu_ei_fn[i->reg & 7]);
        return;
    }
    if (insn_op_is_jcc(op)) {
        pick(i, jcc_fn[op & 0xf]);
        return;
    }
    if (op == 0x89 && i->mod == 3 && !i->lock) {
        if (i->opsize == 8)
            PICK(mov_rr64);
        else if (i->opsize == 4)
            PICK(mov_rr32);
        return;
    }
    if (rr && op == 0x8b) {
        pick(i, q ? FAST(mov_rr64_load) : FAST(mov_rr32_load));
        return;
    }
    if ((op >= 0x140 && op <= 0x14f) && (i->opsize == 4 || i->opsize == 8)) {
        pick(i, cmov_fn[i->mod == 3][i->opsize == 8][op & 0xf]);
        return;
    }
    if (op >= 0x190 && op <= 0x19f) {
        pick(i, setcc_fn[op & 0xf]);
        return;
    }
    if ((op == 0x1b6 || op == 0x1b7) && (i->opsize == 4 || i->opsize == 8)) {
        if (op == 0x1b6 && i->mod == 3)
            PICK(movzx8_rr);
        else if (op == 0x1b6 && i->adsize == 8 && i->base != NO_REG && i->index == NO_REG &&
                 !i->riprel && i->seg < SEG_FS)
            PICK(movzx8_bd);
        else
            pick(i, op == 0x1b6 ? FAST(movzx8) : FAST(movzx16));
        return;
    }
    /* TEST r/m, imm (F6/F7 /0; /1 is an alias the generic handler keeps;
     * a LOCK prefix is #UD there) */
    if ((op == 0xf6 || (op == 0xf7 && (i->opsize == 8 || i->opsize == 4))) &&
        (i->reg & 7) == 0 && !i->lock) {
        pick(i, op == 0xf6 ? FAST(test_ei8) : i->opsize == 8 ? FAST(test_ei64) : FAST(test_ei32));
        return;
    }
    if (rr && op == 0xf7 && ((i->reg & 7) == 2 || (i->reg & 7) == 3)) {
        if ((i->reg & 7) == 2)
            pick(i, q ? FAST(not_r64) : FAST(not_r32));
        else
            pick(i, q ? FAST(neg_r64) : FAST(neg_r32));
        return;
    }
    if (op == 0xf7 && (i->reg & 7) == 4 && !i->lock && (i->opsize == 8 || i->opsize == 4)) {
        pick(i, i->opsize == 8 ? FAST(mul64) : FAST(mul32));
        return;
    }
    if (rr && op == 0x1af) {
        pick(i, q ? FAST(imul_rr64) : FAST(imul_rr32));
        return;
    }
    if (op == 0x84 && i->mod == 3) {
        PICK(test_rr8);
        return;
    }
    if ((op == 0x90 && !(i->rex & 1)) || i->fn == op_nop_modrm) {
        if (op == 0x90 && i->rep == REP_F3)
            PICK(pause_nop);
        else
            PICK(nop);
        return;
    }
    if (rr && op == 0xc7 && (i->reg & 7) == 0) {
        pick(i, q ? FAST(mov_ri_c7_64) : FAST(mov_ri_c7_32));
        return;
    }
    if (op == 0x8d && i->opsize == 4) {
        PICK(lea32);
        return;
    }
    if (rr && op == 0x85) {
        pick(i, q ? FAST(test_rr64) : FAST(test_rr32));
        return;
    }
    if (op >= 0xb8 && op <= 0xbf && (i->opsize == 8 || i->opsize == 4)) {
        pick(i, i->opsize == 8 ? FAST(mov_ri64) : FAST(mov_ri32));
        return;
    }
    if (!long64)
        return;
    /* the hot 128-bit SSE forms (cpu/simd_fast.h) */
    if (!i->vex && i->fn == op_vec_int) {
        sse_int_specialize(i);
        return;
    }
    if (!i->vex && (i->fn == op_vec_mov || i->fn == op_vec_pshuf)) {
        sse_move_specialize(i);
        return;
    }
    if (op == 0x8d && i->opsize == 8 && i->adsize == 8) {
        if (i->base != NO_REG && i->index == NO_REG && !i->riprel)
            PICK(lea64_bd);
        else if (i->base != NO_REG && i->index != NO_REG && !i->riprel)
            PICK(lea64_bi);
        else if (i->base == NO_REG && i->index != NO_REG && !i->riprel)
            PICK(lea64_id);
        else if (i->riprel && i->base == NO_REG && i->index == NO_REG)
            PICK(lea64_rip);
        else
            PICK(lea64);
        return;
    }
    if (op == 0xe9 || op == 0xeb) {
        PICK(jmp_rel64);
        return;
    }
    if ((op == 0x89 || op == 0x8b) && i->mod != 3 && !i->lock &&
        (i->opsize == 8 || i->opsize == 4)) {
        bool load = op == 0x8b, q = i->opsize == 8;
        /* the bd and bi forms' fast paths take the segment base as 0:
         * no FS or GS override (the full handlers use i->seg) */
        bool based = i->adsize == 8 && i->base != NO_REG && !i->riprel && i->seg < SEG_FS;
        if (based && i->index == NO_REG)
            pick(i, load ? (q ? FAST(mov_load64_bd) : FAST(mov_load32_bd))
                         : (q ? FAST(mov_store64_bd) : FAST(mov_store32_bd)));
        else if (based)
            pick(i, load ? (q ? FAST(mov_load64_bi) : FAST(mov_load32_bi))
                         : (q ? FAST(mov_store64_bi) : FAST(mov_store32_bi)));
        else
            pick(i, load ? (q ? FAST(mov_load64_any) : FAST(mov_load32_any))
                         : (q ? FAST(mov_store64_any) : FAST(mov_store32_any)));
        return;
    }
    /* MOV r/m16, r16; MOV r16, r/m16 */
    if ((op == 0x89 || op == 0x8b) && i->mod != 3 && !i->lock && i->opsize == 2) {
        bool bd = i->adsize == 8 && i->base != NO_REG && i->index == NO_REG && !i->riprel &&
                  i->seg < SEG_FS; /* as 'based' above */
        if (op == 0x89)
            pick(i, bd ? FAST(mov_store16_bd) : FAST(mov_store16_any));
        else
            pick(i, bd ? FAST(mov_load16_bd) : FAST(mov_load16_any));
        return;
    }
    if (op == 0xff && !i->lock) {
        unsigned r = i->reg & 7;
        bool q = i->opsize == 8, mem = i->mod != 3;
        if ((r == 0 || r == 1) && (q || i->opsize == 4) && (!mem || i->adsize == 8)) {
            static const struct fast incdec[2][2][2] = { /* [dec][mem][64] */
                {{F(inc_r32), F(inc_r64)}, {F(inc_m32), F(inc_m64)}},
                {{F(dec_r32), F(dec_r64)}, {F(dec_m32), F(dec_m64)}}};
            pick(i, incdec[r][mem][q]);
            return;
        }
        if ((r == 2 || r == 4) && (!mem || i->adsize == 8)) {
            pick(i, r == 2 ? FAST(call_ind64) : FAST(jmp_ind64));
            return;
        }
    }
    if (op == 0xa8 || op == 0xa9) {
        if (op == 0xa8)
            PICK(test_acc8);
        else if (i->opsize == 8)
            PICK(test_acc64);
        else if (i->opsize == 4)
            PICK(test_acc32);
        return;
    }
    /* MOV r/m8, r8; MOV r8, r/m8; MOV r/m, imm (C6/C7 /0) to memory */
    bool movm = i->mod != 3 && !i->lock &&
                (op == 0x88 || op == 0x8a || ((op == 0xc6 || op == 0xc7) && (i->reg & 7) == 0));
    if (movm && (op != 0xc7 || i->opsize == 4 || i->opsize == 8)) {
        bool bd = i->adsize == 8 && i->base != NO_REG && i->index == NO_REG && !i->riprel &&
                  i->seg < SEG_FS; /* as 'based' above */
#define MOV_BYTE_PICK(sfx)                                                                \
    pick(i, op == 0x88   ? FAST(mov_store8_##sfx)                                         \
            : op == 0x8a ? FAST(mov_load8_##sfx)                                          \
            : op == 0xc6 ? FAST(mov_store_imm8_##sfx)                                     \
            : i->opsize == 8 ? FAST(mov_store_imm64_##sfx) : FAST(mov_store_imm32_##sfx))
        if (bd)
            MOV_BYTE_PICK(bd);
        else
            MOV_BYTE_PICK(any);
#undef MOV_BYTE_PICK
        return;
    }
    if (op == 0x63 && i->mod == 3 && i->opsize == 8) {
        PICK(movsxd_rr);
        return;
    }
    if (op == 0x63 && i->mod != 3 && i->opsize == 8 && !i->lock) {
        PICK(movsxd_m);
        return;
    }
    if (op >= 0x50 && op <= 0x5f && i->opsize == 8) {
        i->rm = (uint8_t)((op & 7) | ((i->rex & 1) << 3)); /* no ModRM: free */
        if (op <= 0x57)
            PICK(push64);
        else
            PICK(pop64);
    } else if (op == 0xe8) {
        PICK(call_rel64);
    } else if (op == 0xc3) {
        PICK(ret64);
    }
}
