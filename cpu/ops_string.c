/* cpu/ops_string.c — MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS with REP.
 *
 * A REP instruction runs one element per pass and leaves RIP on the
 * instruction until the count is exhausted, so a fault mid-string
 * leaves rCX/rSI/rDI describing exactly the remaining work and the
 * instruction restarts (SDM Vol. 2B "REP"); interrupts are taken
 * between passes. */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

/* elements done per handler call before returning to the run loop */
#define REP_BATCH 1024

static inline unsigned esize(const struct insn *i)
{
    return (i->op & 1) ? i->opsize : 1;
}

static inline uint64_t amask(const struct insn *i)
{
    return size_mask(i->adsize);
}

/* Writes an address-size register: a 16-bit one merges, a 32-bit one
 * zero-extends like any 32-bit register write (SDM Vol. 1 3.4.1.1), so
 * with a 67 prefix in 64-bit mode REP MOVS leaves RSI/RDI/RCX with their
 * upper halves cleared, as hardware does. */
static inline void set_areg(struct cpu *c, const struct insn *i, unsigned r, uint64_t v)
{
    uint64_t m = amask(i);
    c->r[r] = i->adsize == 2 ? (c->r[r] & ~m) | (v & m) : v & m;
}

static inline void advance(struct cpu *c, const struct insn *i, unsigned r, unsigned n)
{
    uint64_t d = (c->rflags & FL_DF) ? (uint64_t)-(int64_t)n : n;
    set_areg(c, i, r, c->r[r] + d);
}

static inline uint64_t count(const struct cpu *c, const struct insn *i)
{
    return c->r[R_RCX] & amask(i);
}

static inline void dec_count(struct cpu *c, const struct insn *i)
{
    set_areg(c, i, R_RCX, c->r[R_RCX] - 1);
}

/* Runs body() for each element; returns with RIP rewound when work remains. */
#define REP_LOOP(c, i, cond_stop, body)                                        \
    do {                                                                       \
        if (!(i)->rep) {                                                       \
            body;                                                              \
            break;                                                             \
        }                                                                      \
        for (unsigned n_ = 0; n_ < REP_BATCH; n_++) {                          \
            if (count(c, i) == 0)                                              \
                return;                                                        \
            body;                                                              \
            dec_count(c, i);                                                   \
            if (cond_stop)                                                     \
                return;                                                        \
        }                                                                      \
        if (count(c, i) != 0)                                                  \
            (c)->rip = (c)->insn_rip;                                          \
    } while (0)

void op_movs(struct cpu *c, const struct insn *i)
{
    unsigned sz = esize(i);
    REP_LOOP(c, i, 0, {
        uint64_t v = mem_read(c, i->seg, c->r[R_RSI] & amask(i), sz);
        mem_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz, v);
        advance(c, i, R_RSI, sz);
        advance(c, i, R_RDI, sz);
    });
}

void op_stos(struct cpu *c, const struct insn *i)
{
    unsigned sz = esize(i);
    uint64_t v = c->r[R_RAX];
    REP_LOOP(c, i, 0, {
        mem_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz, v);
        advance(c, i, R_RDI, sz);
    });
}

void op_lods(struct cpu *c, const struct insn *i)
{
    unsigned sz = esize(i);
    REP_LOOP(c, i, 0, {
        uint64_t v = mem_read(c, i->seg, c->r[R_RSI] & amask(i), sz);
        reg_write(c, i, R_RAX, sz, v);
        advance(c, i, R_RSI, sz);
    });
}

/* REPE stops when ZF = 0, REPNE when ZF = 1 */
#define ZF_STOP(c, i) ((i)->rep == REP_F3 ? !flag_zf(c) : flag_zf(c))

void op_cmps(struct cpu *c, const struct insn *i)
{
    unsigned sz = esize(i);
    REP_LOOP(c, i, ZF_STOP(c, i), {
        uint64_t a = mem_read(c, i->seg, c->r[R_RSI] & amask(i), sz);
        uint64_t b = mem_read(c, SEG_ES, c->r[R_RDI] & amask(i), sz);
        alu_op(c, 7, sz, a, b);
        advance(c, i, R_RSI, sz);
        advance(c, i, R_RDI, sz);
    });
}

void op_scas(struct cpu *c, const struct insn *i)
{
    unsigned sz = esize(i);
    REP_LOOP(c, i, ZF_STOP(c, i), {
        uint64_t b = mem_read(c, SEG_ES, c->r[R_RDI] & amask(i), sz);
        alu_op(c, 7, sz, c->r[R_RAX], b);
        advance(c, i, R_RDI, sz);
    });
}

void op_ins(struct cpu *c, const struct insn *i)
{
    unsigned sz = (i->op & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
    uint16_t port = (uint16_t)c->r[R_RDX];
    REP_LOOP(c, i, 0, {
        /* the destination is checked before the port is read */
        mem_probe_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz);
        uint32_t v = cpu_io_in(c, port, sz);
        mem_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz, v);
        advance(c, i, R_RDI, sz);
    });
}

void op_outs(struct cpu *c, const struct insn *i)
{
    unsigned sz = (i->op & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
    uint16_t port = (uint16_t)c->r[R_RDX];
    REP_LOOP(c, i, 0, {
        uint64_t v = mem_read(c, i->seg, c->r[R_RSI] & amask(i), sz);
        cpu_io_out(c, port, (uint32_t)v, sz);
        advance(c, i, R_RSI, sz);
    });
}
