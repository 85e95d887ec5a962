/* cpu/fuse.c — instructions seen together: a flag setter and the Jcc
 * after it run as one, and flags nobody reads are not computed.
 *
 * In a threaded 64-bit block (cpu/thread.h), when the decoder appends a
 * Jcc right after a register CMP, TEST, SUB, ADD or AND (the loop and
 * test-and-branch pairs that make up a good part of kernel code),
 * cpu_fuse() points the flag setter's threaded entry at a handler that
 * does both: it sets the lazy flags exactly as the setter alone would
 * (later instructions may read them), then decides the branch from the
 * operands it already holds, with the condition a compile-time
 * constant, and goes on after the Jcc or into the branch target's
 * block.  That saves the Jcc's dispatch and its look at the lazy flag
 * state.  PF is left to the Jcc's own entry, which reads the flags the
 * setter stored; a non-canonical target to thread_branch_x.
 *
 * The same look gives a flag writer whose flags are overwritten before
 * anything can read them (by the next instruction, or after register
 * moves: a rotate, shift, IMUL or register ALU op) a threaded entry
 * that leaves them alone (cpu_flagless()).
 *
 * Both instructions keep their 'fn' and decoded fields: single-stepped,
 * or run one by one with an event pending (cpu/run.c), they run apart
 * as before.  Only the setter's 'run' changes; a block is entered only
 * at its first instruction, so the Jcc's own entry is never reached
 * from outside the pair. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"
#include "cpu/thread.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Condition cc after the setter, or -1 for PF, which the Jcc derives
 * itself: cond_after_sub/cond_after_logic (cpu_internal.h) with the
 * operands the setter holds in registers. */
static ALWAYS_INLINE int fused_cond_sub(unsigned cc, unsigned size, uint64_t a, uint64_t b,
                                        uint64_t r)
{
    bool t;
    return cond_after_sub(cc >> 1, size, a, b, r, &t) ? (int)(t ^ (cc & 1)) : -1;
}

static ALWAYS_INLINE int fused_cond_add(unsigned cc, unsigned size, uint64_t a, uint64_t b,
                                        uint64_t r)
{
    bool t;
    return cond_after_add(cc >> 1, size, a, b, r, &t) ? (int)(t ^ (cc & 1)) : -1;
}

static ALWAYS_INLINE int fused_cond_logic(unsigned cc, unsigned size, uint64_t r)
{
    bool t;
    return cond_after_logic(cc >> 1, size, r, &t) ? (int)(t ^ (cc & 1)) : -1;
}

/* The pair's second half: j is the Jcc after the setter. */
static ALWAYS_INLINE void fused_jcc(struct cpu *c, const struct insn *j, int taken)
{
    if (taken == 0) {
        thread_next_fast(c, j);
        return;
    }
    if (taken > 0) {
        thread_jump(c, j, thread_rel_target(c, j), true); /* the canonical check where needed */
        return;
    }
    j->run(c, j); /* the Jcc on its own, from the stored flags (PF) */
}

/* CMP (writes nothing) or SUB (writes dst) of a and b */
static ALWAYS_INLINE void fused_sub(struct cpu *c, const struct insn *i, unsigned cc,
                                    unsigned size, uint64_t a, uint64_t b, int dst)
{
    uint64_t m = size_mask(size);
    a &= m;
    b &= m;
    uint64_t r = (a - b) & m;
    lf_set(c, LF_SUB, size, a, b, r);
    if (dst >= 0)
        c->r[dst] = r;
    fused_jcc(c, i + 1, fused_cond_sub(cc, size, a, b, r));
}

/* ADD a, b into dst */
static ALWAYS_INLINE void fused_add(struct cpu *c, const struct insn *i, unsigned cc,
                                    unsigned size, uint64_t a, uint64_t b, unsigned dst)
{
    uint64_t m = size_mask(size);
    a &= m;
    b &= m;
    uint64_t r = (a + b) & m;
    lf_set(c, LF_ADD, size, a, b, r);
    c->r[dst] = r;
    fused_jcc(c, i + 1, fused_cond_add(cc, size, a, b, r));
}

/* TEST (writes nothing, dst < 0) or AND of a value already combined */
static ALWAYS_INLINE void fused_logic(struct cpu *c, const struct insn *i, unsigned cc,
                                      unsigned size, uint64_t v, int dst)
{
    uint64_t r = v & size_mask(size);
    lf_set_logic(c, size, r);
    if (dst >= 0)
        c->r[dst] = r;
    fused_jcc(c, i + 1, fused_cond_logic(cc, size, r));
}

/* CMP then SETcc of a register: the carry and compare results of
 * multi-precision code (cmp; setb).  j is the SETcc; PF is left to its
 * own entry, which reads the stored flags. */
static ALWAYS_INLINE void fused_setcc(struct cpu *c, const struct insn *j, int cond)
{
    if (cond < 0) {
        j->run(c, j);
        return;
    }
    reg_write8(c, j, j->rm, (uint64_t)cond);
    thread_next_fast(c, j);
}

static ALWAYS_INLINE void fused_cmp_set(struct cpu *c, const struct insn *i, unsigned cc,
                                        unsigned size, uint64_t a, uint64_t b)
{
    uint64_t m = size_mask(size);
    a &= m;
    b &= m;
    uint64_t r = (a - b) & m;
    lf_set(c, LF_SUB, size, a, b, r);
    fused_setcc(c, i + 1, fused_cond_sub(cc, size, a, b, r));
}

/* The CMP forms fused with a SETcc, in the order of enum fuse_set_form */
#define FUSE_SET_FORMS(M)                                                         \
    M(cmp_eg64, fused_cmp_set(c, i, cc, 8, c->r[i->rm], c->r[i->reg]))            \
    M(cmp_eg32, fused_cmp_set(c, i, cc, 4, c->r[i->rm], c->r[i->reg]))            \
    M(cmp_ge64, fused_cmp_set(c, i, cc, 8, c->r[i->reg], c->r[i->rm]))            \
    M(cmp_ge32, fused_cmp_set(c, i, cc, 4, c->r[i->reg], c->r[i->rm]))            \
    M(cmp_ri64, fused_cmp_set(c, i, cc, 8, c->r[i->rm], i->imm))                  \
    M(cmp_ri32, fused_cmp_set(c, i, cc, 4, c->r[i->rm], i->imm))

/* The setter forms, in the order of enum fuse_form. */
#define FUSE_FORMS(M)                                                             \
    M(cmp_eg64, fused_sub(c, i, cc, 8, c->r[i->rm], c->r[i->reg], -1))            \
    M(cmp_eg32, fused_sub(c, i, cc, 4, c->r[i->rm], c->r[i->reg], -1))            \
    M(cmp_ge64, fused_sub(c, i, cc, 8, c->r[i->reg], c->r[i->rm], -1))            \
    M(cmp_ge32, fused_sub(c, i, cc, 4, c->r[i->reg], c->r[i->rm], -1))            \
    M(cmp_ri64, fused_sub(c, i, cc, 8, c->r[i->rm], i->imm, -1))                  \
    M(cmp_ri32, fused_sub(c, i, cc, 4, c->r[i->rm], i->imm, -1))                  \
    M(sub_eg64, fused_sub(c, i, cc, 8, c->r[i->rm], c->r[i->reg], i->rm))         \
    M(sub_eg32, fused_sub(c, i, cc, 4, c->r[i->rm], c->r[i->reg], i->rm))         \
    M(sub_ri64, fused_sub(c, i, cc, 8, c->r[i->rm], i->imm, i->rm))               \
    M(sub_ri32, fused_sub(c, i, cc, 4, c->r[i->rm], i->imm, i->rm))               \
    M(add_eg64, fused_add(c, i, cc, 8, c->r[i->rm], c->r[i->reg], i->rm))         \
    M(add_eg32, fused_add(c, i, cc, 4, c->r[i->rm], c->r[i->reg], i->rm))         \
    M(add_ge64, fused_add(c, i, cc, 8, c->r[i->reg], c->r[i->rm], i->reg))        \
    M(add_ge32, fused_add(c, i, cc, 4, c->r[i->reg], c->r[i->rm], i->reg))        \
    M(add_ri64, fused_add(c, i, cc, 8, c->r[i->rm], i->imm, i->rm))               \
    M(add_ri32, fused_add(c, i, cc, 4, c->r[i->rm], i->imm, i->rm))               \
    M(and_eg64, fused_logic(c, i, cc, 8, c->r[i->rm] & c->r[i->reg], i->rm))      \
    M(and_eg32, fused_logic(c, i, cc, 4, c->r[i->rm] & c->r[i->reg], i->rm))      \
    M(and_ri64, fused_logic(c, i, cc, 8, c->r[i->rm] & i->imm, i->rm))            \
    M(and_ri32, fused_logic(c, i, cc, 4, c->r[i->rm] & i->imm, i->rm))            \
    M(test_rr64, fused_logic(c, i, cc, 8, c->r[i->rm] & c->r[i->reg], -1))        \
    M(test_rr32, fused_logic(c, i, cc, 4, c->r[i->rm] & c->r[i->reg], -1))        \
    M(test_rr8, fused_logic(c, i, cc, 1, reg_read8(c, i, i->rm) & reg_read8(c, i, i->reg), -1)) \
    M(cmp_ai8, fused_sub(c, i, cc, 1, c->r[R_RAX], i->imm, -1))                   \
    M(cmp_ri8, fused_sub(c, i, cc, 1, reg_read8(c, i, i->rm), i->imm, -1))        \
    M(test_ai8, fused_logic(c, i, cc, 1, c->r[R_RAX] & i->imm, -1))               \
    M(test_ai32, fused_logic(c, i, cc, 4, c->r[R_RAX] & i->imm, -1))              \
    M(test_ai64, fused_logic(c, i, cc, 8, c->r[R_RAX] & i->imm, -1))

#define FUSE_ENUM(name, body) FF_##name,
enum fuse_form { FUSE_FORMS(FUSE_ENUM) FF_COUNT };

/* Sixteen handlers per form, one per condition code (a constant in each),
 * named PFX##name##_##cc, and the table row naming them */
#define FUSE_CC(pfx, name, body, n)                                             \
    static void pfx##name##_##n(struct cpu *c, const struct insn *i)             \
    {                                                                           \
        const unsigned cc = n;                                                  \
        body;                                                                   \
    }
#define FUSE_SIXTEEN_BY(CC, pfx, name, body)                                            \
    CC(pfx, name, body, 0) CC(pfx, name, body, 1) CC(pfx, name, body, 2)               \
    CC(pfx, name, body, 3) CC(pfx, name, body, 4) CC(pfx, name, body, 5)               \
    CC(pfx, name, body, 6) CC(pfx, name, body, 7) CC(pfx, name, body, 8)               \
    CC(pfx, name, body, 9) CC(pfx, name, body, 10) CC(pfx, name, body, 11)             \
    CC(pfx, name, body, 12) CC(pfx, name, body, 13) CC(pfx, name, body, 14)            \
    CC(pfx, name, body, 15)
#define FUSE_SIXTEEN(pfx, name, body) FUSE_SIXTEEN_BY(FUSE_CC, pfx, name, body)
/* A CMP + SETcc pair always goes on to the entry after the SETcc: its
 * handlers may be copied into runs, two entries each (cpu/copyrun.h) */
#define FUSE_CC_SET(pfx, name, body, n)                                         \
    FUSE_CC(pfx, name, body, n)                                                 \
    COPYRUN_REGISTER(pfx##name##_##n, 2);
#define FUSE_ROW_OF(pfx, name)                                                            \
    {pfx##name##_0, pfx##name##_1, pfx##name##_2, pfx##name##_3, pfx##name##_4,           \
     pfx##name##_5, pfx##name##_6, pfx##name##_7, pfx##name##_8, pfx##name##_9,           \
     pfx##name##_10, pfx##name##_11, pfx##name##_12, pfx##name##_13, pfx##name##_14,      \
     pfx##name##_15},

/* A setter + Jcc pair goes on to the entry after the Jcc when the
 * branch is not taken: copied into runs as two entries */
#define FUSE_CC_JCC(pfx, name, body, n)                                         \
    FUSE_CC(pfx, name, body, n)                                                 \
    COPYRUN_REGISTER(pfx##name##_##n, 2);
#define FUSE_HANDLERS(name, body) FUSE_SIXTEEN_BY(FUSE_CC_JCC, fused_, name, body)
#define FUSE_ROW(name, body) FUSE_ROW_OF(fused_, name)
FUSE_FORMS(FUSE_HANDLERS)
static const insn_fn fused_run[FF_COUNT][16] = {FUSE_FORMS(FUSE_ROW)};

#define FUSE_SET_ENUM(name, body) FS_##name,
enum fuse_set_form { FUSE_SET_FORMS(FUSE_SET_ENUM) FS_COUNT };
#define FUSE_SET_HANDLERS(name, body) FUSE_SIXTEEN_BY(FUSE_CC_SET, fused_set_, name, body)
#define FUSE_SET_ROW(name, body) FUSE_ROW_OF(fused_set_, name)
FUSE_SET_FORMS(FUSE_SET_HANDLERS)
static const insn_fn fused_set_run[FS_COUNT][16] = {FUSE_SET_FORMS(FUSE_SET_ROW)};

/* The setter form of a CMP a SETcc can fuse with, or -1 */
static int set_form(int form)
{
    switch (form) {
    case FF_cmp_eg64: return FS_cmp_eg64;
    case FF_cmp_eg32: return FS_cmp_eg32;
    case FF_cmp_ge64: return FS_cmp_ge64;
    case FF_cmp_ge32: return FS_cmp_ge32;
    case FF_cmp_ri64: return FS_cmp_ri64;
    case FF_cmp_ri32: return FS_cmp_ri32;
    default: return -1;
    }
}

/* The setter form of a decoded instruction, or -1.  The forms are the
 * ones cpu_specialize() gives a register fast path: 32/64-bit operands,
 * ModRM.mod = 3, no LOCK; and the byte and accumulator compares and
 * tests (cpu/ops_fast.c alu_reg_fast, TEST_ACC_FORM). */
static int setter_form(const struct insn *i)
{
    if (i->lock)
        return -1;
    switch (i->op) { /* the accumulator forms: no ModRM */
    case 0x3c: return FF_cmp_ai8; /* CMP AL, imm8: string scans */
    case 0xa8: return FF_test_ai8; /* TEST AL, imm8 */
    case 0xa9: return i->opsize == 8 ? FF_test_ai64 : i->opsize == 4 ? FF_test_ai32 : -1;
    default: break;
    }
    if (i->mod != 3)
        return -1;
    if (i->op == 0x84) /* TEST r/m8, r8 */
        return FF_test_rr8;
    if (i->op == 0x80 && (i->reg & 7) == 7) /* CMP r8, imm8 */
        return FF_cmp_ri8;
    if (i->opsize != 4 && i->opsize != 8)
        return -1;
    bool q = i->opsize == 8;
    switch (i->op) {
    case 0x01: return q ? FF_add_eg64 : FF_add_eg32; /* ADD r/m, r */
    case 0x03: return q ? FF_add_ge64 : FF_add_ge32; /* ADD r, r/m */
    case 0x21: return q ? FF_and_eg64 : FF_and_eg32; /* AND r/m, r */
    case 0x29: return q ? FF_sub_eg64 : FF_sub_eg32; /* SUB r/m, r */
    case 0x39: return q ? FF_cmp_eg64 : FF_cmp_eg32; /* CMP r/m, r */
    case 0x3b: return q ? FF_cmp_ge64 : FF_cmp_ge32; /* CMP r, r/m */
    case 0x85: return q ? FF_test_rr64 : FF_test_rr32; /* TEST r/m, r */
    case 0x81:
    case 0x83: /* group 1 with an immediate (sign-extended by the decoder) */
        switch (i->reg & 7) {
        case 0: return q ? FF_add_ri64 : FF_add_ri32;
        case 4: return q ? FF_and_ri64 : FF_and_ri32;
        case 5: return q ? FF_sub_ri64 : FF_sub_ri32;
        case 7: return q ? FF_cmp_ri64 : FF_cmp_ri32;
        default: return -1;
        }
    default: return -1;
    }
}

/* Writes all six arithmetic flags, reads none, and can neither fault
 * nor leave the chain: ADD, OR, AND, SUB, XOR, CMP and TEST between
 * registers or with an immediate (their threaded entries always finish
 * on the fast path), so the flags before it are dead. */
static bool overwrites_flags(const struct insn *i)
{
    if (i->lock)
        return false;
    if (i->op == 0x3c || i->op == 0xa8 || (i->op == 0xa9 && i->opsize != 2))
        return true; /* CMP AL, imm8; TEST AL/eAX, imm */
    if (i->mod != 3)
        return false;
    if (i->op == 0x84 || (i->op == 0x80 && (i->reg & 7) == 7))
        return true;
    if (i->opsize != 4 && i->opsize != 8)
        return false;
    switch (i->op) {
    case 0x01: case 0x03: case 0x09: case 0x0b: case 0x21: case 0x23: case 0x29:
    case 0x2b: case 0x31: case 0x33: case 0x39: case 0x3b: case 0x85:
        return true;
    case 0x81:
    case 0x83: return (i->reg & 7) != 2 && (i->reg & 7) != 3; /* not ADC, SBB */
    default: return false;
    }
}

/* ADC or SBB (which cpu_flagless() may have given a flagless entry) */
static bool reads_carry(const struct insn *i)
{
    if (i->op == 0x81 || i->op == 0x83)
        return (i->reg & 7) == 2 || (i->reg & 7) == 3;
    return i->op < 0x40 && ((i->op >> 3) & 7) >= 2 && ((i->op >> 3) & 7) <= 3;
}

/* Neither reads nor writes a flag, and its threaded entry is a
 * register handler that cannot fault or leave the chain: MOV between
 * registers or of an immediate, LEA (cpu_specialize() gives each of
 * these forms such an entry). */
static bool flag_transparent(const struct insn *i)
{
    if (i->lock || (i->opsize != 4 && i->opsize != 8))
        return false;
    switch (i->op) {
    case 0x89:
    case 0x8b: return i->mod == 3;
    case 0xc7: return i->mod == 3 && (i->reg & 7) == 0;
    case 0x8d: return i->opsize == 4 || i->adsize == 8;
    default: return i->op >= 0xb8 && i->op <= 0xbf;
    }
}

void cpu_fuse(struct insn *insn, unsigned k)
{
    struct insn *prev = &insn[k - 1];
    const struct insn *next = &insn[k];
    bool is_jcc = insn_op_is_jcc(next->op);
    int form = setter_form(prev);
    if (is_jcc && form >= 0) {
        prev->run = fused_run[form][next->op & 0xf];
        return;
    }
    /* SETcc of a register (0F 90-9F, ModRM.mod = 3) after a CMP */
    bool is_setcc = next->op >= 0x190 && next->op <= 0x19f && next->mod == 3 && !next->lock;
    if (is_setcc && form >= 0 && set_form(form) >= 0) {
        prev->run = fused_set_run[set_form(form)][next->op & 0xf];
        return;
    }
    /* the flag writers since the last flag reader, through moves, have
     * dead flags: the SHA-256 rounds' ROR, MOV, ROR, XOR; XOR, XOR.  An
     * ADC or SBB among them is the last: it reads the CF written before
     * it (multi-precision code's SUB, ADC, ADD) */
    if (overwrites_flags(next))
        for (unsigned j = k; j-- > 0;) {
            if (flag_transparent(&insn[j]))
                continue;
            if (!cpu_flagless(&insn[j]) || reads_carry(&insn[j]))
                break;
        }
}
