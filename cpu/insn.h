/* cpu/insn.h — one decoded instruction and the operand helpers the
 * handlers share.
 *
 * The decoder turns bytes into a struct insn holding a handler pointer
 * and pre-decoded operands (DESIGN.md, "The data path of one
 * instruction"); the handler then runs on struct cpu.
 */
#ifndef NEST86_CPU_INSN_H
#define NEST86_CPU_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct insn;
typedef void (*insn_fn)(struct cpu *c, const struct insn *i);

/* Decoder attribute flags, one set per opcode row in cpu/opcodes.def. */
enum {
    D_MODRM = 1 << 0,   /* has a ModRM byte */
    D_IB = 1 << 1,      /* 8-bit immediate */
    D_IW = 1 << 2,      /* 16-bit immediate */
    D_IZ = 1 << 3,      /* 16/32-bit immediate by operand size (sign-extended in 64) */
    D_IV = 1 << 4,      /* 16/32/64-bit immediate (MOV r, imm) */
    D_MOFFS = 1 << 5,   /* address-size offset (MOV AL, moffs) */
    D_FAR = 1 << 6,     /* ptr16:16/16:32 */
    D_D64 = 1 << 7,     /* operand size defaults to 64 in 64-bit mode */
    D_F64 = 1 << 8,     /* operand size is always 64 in 64-bit mode */
    D_I64 = 1 << 9,     /* invalid in 64-bit mode */
    D_IWIB = 1 << 10,   /* ENTER: imm16 then imm8 */
    D_GRP3 = 1 << 11,   /* F6/F7: immediate only when ModRM.reg is 0 or 1 */
    D_REG_ONLY = 1 << 12, /* ModRM.mod must be 3 (else #UD) */
    D_MEM_ONLY = 1 << 13, /* ModRM.mod must not be 3 (else #UD) */
    D_LOCK = 1 << 14,   /* LOCK allowed (with a memory destination) */
    D_VEX = 1 << 15,    /* a VEX-encoded form exists (the handler checks i->vex) */
};

#define REP_NONE 0
#define REP_F3   1   /* REP / REPE */
#define REP_F2   2   /* REPNE */

/* Every decoded instruction has two entry points.  'fn' only executes
 * it (the uncached path, legacy-mode blocks, the block builder).  'run'
 * is its threaded form for 64-bit blocks (cpu/thread.h): it executes
 * the instruction, retires it and, when execution falls through with
 * nothing pending, enters the next decoded instruction's 'run' itself,
 * so a block runs without returning to the loop between instructions. */
struct insn {
    insn_fn fn;
    insn_fn run;
    uint16_t op;        /* map << 8 | opcode: 0xxx one-byte, 1xx 0F, 2xx 0F38, 3xx 0F3A */
    uint8_t len;
    uint8_t opsize;     /* 2, 4 or 8 */
    uint8_t adsize;     /* 2, 4 or 8 */
    uint8_t seg;        /* segment of the memory operand */
    uint8_t rep;        /* REP_* (last of F2/F3 seen) */
    uint8_t lock;
    uint8_t p66;        /* 66 prefix present (SSE mandatory-prefix selection) */
    uint8_t rex;        /* REX byte, 0 if none (VEX sets the equivalent R/X/B/W) */
    uint8_t vex;        /* VEX-encoded (C4/C5) */
    uint8_t vex_l;      /* VEX.L */
    uint8_t vvvv;       /* VEX.vvvv, un-inverted: a register number 0-15 */
    uint8_t mod, reg, rm; /* reg and rm include REX.R / REX.B */
    uint8_t base, index, scale; /* EA parts: 0xff = none */
    uint8_t riprel;
    /* in a threaded 64-bit block (cpu/thread.h): the instruction's index
     * in the block and the offset of its end from the block's first byte */
    uint8_t idx;
    uint16_t end;
    int64_t disp;
    /* imm2: the second immediate (a far pointer's selector, ENTER's
     * nesting level); for a relative JMP or Jcc decoded into a block,
     * its target's offset from the block's first byte (cpu/run.c
     * rel_target_offset, cpu/thread.h thread_rel_target) */
    uint64_t imm, imm2;
};

/* No base or index register: the number of the CPU's register slot
 * that is always 0 (struct cpu r[]), so an effective address adds it
 * instead of testing for it */
#define NO_REG 16

/* decode the instruction at c->rip; raises #UD/#GP/#PF as the CPU would */
void cpu_decode(struct cpu *c, struct insn *i);

/* ---- general-purpose registers ---- */

/* Jcc rel8 (70-7F) or rel32 (0F 80-8F), by the decoder's op numbering */
static inline bool insn_op_is_jcc(uint16_t op)
{
    return (op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f);
}

static inline uint64_t size_mask(unsigned size)
{
    return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

/* Byte registers: without REX, encodings 4-7 are AH, CH, DH, BH. */
static inline __attribute__((always_inline)) uint64_t reg_read8(const struct cpu *c,
                                                               const struct insn *i, unsigned r)
{
    if (!i->rex && r >= 4 && r < 8)
        return (c->r[r - 4] >> 8) & 0xff;
    return c->r[r] & 0xff;
}

static inline __attribute__((always_inline)) void reg_write8(struct cpu *c, const struct insn *i,
                                                           unsigned r, uint64_t v)
{
    if (!i->rex && r >= 4 && r < 8)
        c->r[r - 4] = (c->r[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
    else
        c->r[r] = (c->r[r] & ~0xffull) | (v & 0xff);
}

static inline uint64_t reg_read(const struct cpu *c, const struct insn *i, unsigned r,
                                unsigned size)
{
    if (size == 1)
        return reg_read8(c, i, r);
    return c->r[r] & size_mask(size);
}

/* 32-bit writes zero the upper half; 8/16-bit writes merge (SDM Vol. 1 3.4.1.1). */
static inline void reg_write(struct cpu *c, const struct insn *i, unsigned r, unsigned size,
                             uint64_t v)
{
    switch (size) {
    case 1: reg_write8(c, i, r, v); break;
    case 2: c->r[r] = (c->r[r] & ~0xffffull) | (v & 0xffff); break;
    case 4: c->r[r] = v & 0xffffffffull; break;
    default: c->r[r] = v; break;
    }
}

/* ---- memory operands ---- */

/* The ModRM operand accessors insn_ea, rm_read, rm_write, rmw_read and
 * rmw_write are inline in cpu/mem.h (their register paths are hot). */

/* Read-modify-write operands: the access is checked as a write first,
 * so a fault reports W=1 as hardware does; rmw_write then stores. */
struct rmw {
    uint64_t off; /* linear address of a memory operand */
    bool reg;
};

/* operand size of a byte/word form pair: low opcode bit clear = byte */
static inline unsigned insn_wsize(const struct insn *i)
{
    return (i->op & 1) ? i->opsize : 1;
}

#endif
