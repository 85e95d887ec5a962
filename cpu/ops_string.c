/* cpu/ops_string.c — MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS with REP.
 *
 * A REP instruction runs one element per pass and leaves RIP on the
 * instruction until the count is exhausted, so a fault mid-string
 * leaves rCX/rSI/rDI describing exactly the remaining work and the
 * instruction restarts (SDM Vol. 2B "REP"); interrupts are taken
 * between passes. */
#include <string.h>

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

/* The index registers an instruction uses, for rep_empty(). */
enum { IDX_SI = 1, IDX_DI = 2 };

/* A REP instruction that finds its count already 0 runs no iteration,
 * but Intel processors still write the count register and the index
 * registers the instruction uses at its address size: with a 32-bit
 * address size in 64-bit mode, `F3 67 A5` with ECX = 0 leaves bits
 * 63:32 of RCX, RSI and RDI cleared, `F3 67 AE` those of RCX and RDI
 * (measured on Intel Xeon hosts, issue 10; a 32-bit register write
 * zero-extends, SDM Vol. 1 3.4.1.1).  AMD processors leave all three
 * untouched; nest86 follows Intel.  A 16-bit address size merges, so
 * nothing changes there.  True when the instruction is finished. */
static inline bool rep_empty(struct cpu *c, const struct insn *i, unsigned idx)
{
    if (!i->rep || count(c, i) != 0)
        return false;
    if (i->adsize == 4) {
        c->r[R_RCX] = (uint32_t)c->r[R_RCX];
        if (idx & IDX_SI)
            c->r[R_RSI] = (uint32_t)c->r[R_RSI];
        if (idx & IDX_DI)
            c->r[R_RDI] = (uint32_t)c->r[R_RDI];
    }
    return true;
}

/* One pass of a REP instruction: up to REP_BATCH elements, then RIP
 * rewound when work remains (interrupts may be taken between passes).
 * 'bulk' does as many of the next elements at once as it can, at most
 * the pass's remaining 'left_' (0: none, body() does the next one). */
#define REP_PASS(c, i, bulk, cond_stop, body)                                  \
    do {                                                                       \
        for (uint64_t n_ = 0; n_ < REP_BATCH;) {                               \
            if (count(c, i) == 0)                                              \
                return;                                                        \
            uint64_t left_ = REP_BATCH - n_, done_ = (bulk);                   \
            (void)left_;                                                       \
            if (done_) {                                                       \
                n_ += done_;                                                   \
                continue;                                                      \
            }                                                                  \
            body;                                                              \
            dec_count(c, i);                                                   \
            n_++;                                                              \
            if (cond_stop)                                                     \
                return;                                                        \
            if ((c)->vmx.rep_one) /* MTF: one iteration per boundary */        \
                break;                                                         \
        }                                                                      \
        if (count(c, i) != 0)                                                  \
            (c)->rip = (c)->insn_rip;                                          \
    } while (0)

/* Runs body() for each element; returns with RIP rewound when work remains. */
#define REP_LOOP(c, i, cond_stop, body)                                        \
    do {                                                                       \
        if (!(i)->rep) {                                                       \
            body;                                                              \
            break;                                                             \
        }                                                                      \
        REP_PASS(c, i, 0, cond_stop, body);                                    \
    } while (0)

/* ---- bulk fast paths for REP STOS / REP MOVS ----
 *
 * In 64-bit mode, or with flat 32-bit segments and a 32-bit address
 * size, and DF = 0, as many whole elements as lie on the
 * current page (and, for MOVS, the current source page) are done at
 * once on host memory when the TLB grants the access; the result is the
 * element-by-element one, faults and all, because anything the TLB does
 * not grant (a fault, MMIO, a code page, a watched page) is left to the
 * element path.  Returns the number of elements done. */
#define BULK_STEPS 16 /* pages per handler call, like REP_BATCH */

static uint64_t page_room(uint64_t lin, unsigned sz)
{
    return (4096 - (lin & 0xfff)) / sz;
}

static uint8_t *bulk_ptr(struct cpu *c, uint64_t lin, uint64_t bytes, enum mmu_access_type t)
{
    bool user = c->cpl == 3, ac = (c->rflags & FL_AC) != 0;
    if (user && ac && (c->mmu.cr0 & CR0_AM))
        return NULL; /* alignment checks stay on the element path */
    return mmu_fast_ptr(&c->mmu, lin, (unsigned)bytes, mmu_need_bit(t, user, ac) & c->fast_mask);
}

/* A flat segment: base 0, 4 GiB limit, expand-up, usable — so with a
 * 32-bit address size no limit check can fail inside one page. */
static bool flat32(const struct seg *s, bool write)
{
    unsigned type = AR_TYPE(s->ar);
    if (s->base || s->limit != 0xffffffffu || (s->ar & AR_UNUSABLE) || (!(type & 8) && (type & 4)))
        return false;
    return write ? !(type & 8) && (type & 2) : !(type & 8) || (type & 2);
}

static bool bulk_ok(const struct cpu *c, const struct insn *i, bool reads_src)
{
    if ((c->rflags & FL_DF) || c->vmx.rep_one)
        return false;
    if (c->mode == MODE_LONG)
        return i->adsize == 8;
    return (c->mode == MODE_PROT || c->mode == MODE_COMPAT) && i->adsize == 4 &&
           flat32(&c->seg[SEG_ES], true) && (!reads_src || flat32(&c->seg[i->seg], false));
}

/* 'limit': at most that many elements (the rest of an element pass) */
static uint64_t stos_bulk_n(struct cpu *c, const struct insn *i, unsigned sz, uint64_t limit)
{
    uint64_t lin = mem_linear(c, SEG_ES, c->r[R_RDI] & amask(i), sz, true);
    uint64_t n = page_room(lin, sz), left = count(c, i);
    if (left > limit)
        left = limit;
    if (n > left)
        n = left;
    uint8_t *p = n ? bulk_ptr(c, lin, n * sz, MMU_WRITE) : NULL;
    if (!p)
        return 0;
    if (sz == 1)
        memset(p, (int)(c->r[R_RAX] & 0xff), n);
    else
        for (uint64_t k = 0; k < n; k++)
            store_le(p + k * sz, sz, c->r[R_RAX]);
    set_areg(c, i, R_RDI, c->r[R_RDI] + n * sz);
    set_areg(c, i, R_RCX, c->r[R_RCX] - n);
    return n;
}

static uint64_t stos_bulk(struct cpu *c, const struct insn *i, unsigned sz)
{
    return stos_bulk_n(c, i, sz, UINT64_MAX);
}

static uint64_t movs_bulk_n(struct cpu *c, const struct insn *i, unsigned sz, uint64_t limit)
{
    uint64_t src = mem_linear(c, i->seg, c->r[R_RSI] & amask(i), sz, false);
    uint64_t dst = mem_linear(c, SEG_ES, c->r[R_RDI] & amask(i), sz, true);
    uint64_t n = page_room(src, sz), left = count(c, i);
    if (left > limit)
        left = limit;
    if (page_room(dst, sz) < n)
        n = page_room(dst, sz);
    if (n > left)
        n = left;
    if (!n)
        return 0;
    const uint8_t *s = bulk_ptr(c, src, n * sz, MMU_READ);
    uint8_t *d = s ? bulk_ptr(c, dst, n * sz, MMU_WRITE) : NULL;
    if (!d)
        return 0;
    uint64_t bytes = n * sz;
    if (d >= s + bytes || s >= d + bytes || d < s) {
        memmove(d, s, bytes); /* no forward overlap: same as element order */
    } else {
        /* the destination starts inside the source: hardware's element
         * order (each element read whole, then written) differs from
         * memmove, so copy element by element */
        for (uint64_t k = 0; k < n; k++)
            store_le(d + k * sz, sz, load_le(s + k * sz, sz));
    }
    set_areg(c, i, R_RSI, c->r[R_RSI] + bytes);
    set_areg(c, i, R_RDI, c->r[R_RDI] + bytes);
    set_areg(c, i, R_RCX, c->r[R_RCX] - n);
    return n;
}

static uint64_t movs_bulk(struct cpu *c, const struct insn *i, unsigned sz)
{
    return movs_bulk_n(c, i, sz, UINT64_MAX);
}

/* An element pass of REP STOS/MOVS (REP_PASS) that does the elements
 * the TLB grants in bulk too: when a pass starts on a page the TLB does
 * not grant yet (a first write that sets the dirty bit), the element
 * that takes the slow path fills the TLB and the rest of the page goes
 * at host speed.  The same elements in the same passes as element by
 * element, so the same instruction count. */
#define REP_PASS_BULK(c, i, sz, step_n, body)                                  \
    REP_PASS(c, i, bulk_ok(c, i, step_n == movs_bulk_n) ? step_n(c, i, sz, left_) : 0, 0, body)

/* Runs the bulk path for up to BULK_STEPS pages.  True: this call is
 * finished (the count is exhausted, or RIP was rewound to continue in
 * the next pass, as REP_LOOP does); false: take the element path. */
static bool rep_bulk(struct cpu *c, const struct insn *i, unsigned sz,
                     uint64_t (*step)(struct cpu *, const struct insn *, unsigned))
{
    if (!i->rep || !bulk_ok(c, i, step == movs_bulk))
        return false;
    for (unsigned k = 0; k < BULK_STEPS; k++) {
        if (!count(c, i))
            return true;
        if (!step(c, i, sz))
            return false;
    }
    if (count(c, i))
        c->rip = c->insn_rip; /* more to do: interrupts may be taken between passes */
    return true;
}

void op_movs(struct cpu *c, const struct insn *i)
{
    if (rep_empty(c, i, IDX_SI | IDX_DI))
        return;
    unsigned sz = esize(i);
    if (rep_bulk(c, i, sz, movs_bulk))
        return;
#define MOVS_ELEMENT                                                           \
    do {                                                                       \
        uint64_t v = mem_read(c, i->seg, c->r[R_RSI] & amask(i), sz);          \
        mem_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz, v);                   \
        advance(c, i, R_RSI, sz);                                              \
        advance(c, i, R_RDI, sz);                                              \
    } while (0)
    if (!i->rep) {
        MOVS_ELEMENT;
        return;
    }
    REP_PASS_BULK(c, i, sz, movs_bulk_n, MOVS_ELEMENT);
#undef MOVS_ELEMENT
}

void op_stos(struct cpu *c, const struct insn *i)
{
    if (rep_empty(c, i, IDX_DI))
        return;
    unsigned sz = esize(i);
    if (rep_bulk(c, i, sz, stos_bulk))
        return;
    uint64_t v = c->r[R_RAX];
    if (!i->rep) {
        mem_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz, v);
        advance(c, i, R_RDI, sz);
        return;
    }
    REP_PASS_BULK(c, i, sz, stos_bulk_n, {
        mem_write(c, SEG_ES, c->r[R_RDI] & amask(i), sz, v);
        advance(c, i, R_RDI, sz);
    });
}

void op_lods(struct cpu *c, const struct insn *i)
{
    if (rep_empty(c, i, IDX_SI))
        return;
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
    if (rep_empty(c, i, IDX_SI | IDX_DI))
        return;
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
    if (rep_empty(c, i, IDX_DI))
        return;
    unsigned sz = esize(i);
    REP_LOOP(c, i, ZF_STOP(c, i), {
        uint64_t b = mem_read(c, SEG_ES, c->r[R_RDI] & amask(i), sz);
        alu_op(c, 7, sz, c->r[R_RAX], b);
        advance(c, i, R_RDI, sz);
    });
}

uint64_t cpu_io_string_operand(struct cpu *c, const struct insn *i, unsigned size, bool in)
{
    uint64_t off = c->r[in ? R_RDI : R_RSI] & amask(i);
    uint64_t lin = mem_linear_unchecked_type(c, in ? SEG_ES : i->seg, off, size);
    if ((lin & (size - 1)) && c->cpl == 3 && (c->rflags & FL_AC) && (c->mmu.cr0 & CR0_AM))
        cpu_raise(c, EX_AC, 0);
    return lin;
}

/* INS/OUTS in VMX non-root operation exit before the count is looked
 * at: a REP form with rCX = 0 exits too (SDM 25.1.3 has no exception) */
void op_ins(struct cpu *c, const struct insn *i)
{
    unsigned sz = (i->op & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
    uint16_t port = (uint16_t)c->r[R_RDX];
    if (c->vmx.nonroot)
        cpu_io_nonroot(c, i, port, sz, VMX_IO_IN | VMX_IO_STRING);
    if (rep_empty(c, i, IDX_DI))
        return;
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
    if (c->vmx.nonroot)
        cpu_io_nonroot(c, i, port, sz, VMX_IO_STRING);
    if (rep_empty(c, i, IDX_SI))
        return;
    REP_LOOP(c, i, 0, {
        uint64_t v = mem_read(c, i->seg, c->r[R_RSI] & amask(i), sz);
        cpu_io_out(c, port, (uint32_t)v, sz);
        advance(c, i, R_RSI, sz);
    });
}
