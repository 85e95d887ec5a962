/* cpu/thread.h — threaded dispatch inside a decoded 64-bit block.
 *
 * A block's instructions sit in an array ending in a stop entry (len 0,
 * run = cpu_run_stop).  The run loop enters the first instruction's
 * 'run' with c->insn_rip at that instruction and c->rip at the next
 * one; each 'run' executes its instruction, retires it and, if
 * execution fell through and nothing is pending, sets up the next
 * entry the same way and jumps to its 'run' (a tail call, so the host
 * stack does not grow and each handler has its own indirect branch for
 * the predictor).  A taken branch goes on into the next block when the
 * block it left has a valid link for the target (thread_branch).  The
 * chain ends at the stop entry, at a branch without a valid link, at a
 * pending event or at c->chain_until; the loop in cpu/run.c then
 * continues exactly as it would after the same instructions run one by
 * one, from the block in c->cur_block.
 *
 * Only 64-bit blocks are threaded: there the next RIP needs no wrap to
 * the code size and no CS-limit check.  Legacy-mode blocks run 'fn'
 * from the loop in cpu/run.c. */
#ifndef NEST86_CPU_THREAD_H
#define NEST86_CPU_THREAD_H

#include "cpu/icache.h"
#include "cpu/insn.h"

/* Retire the instruction just executed (one that cannot branch) and,
 * with nothing pending, go on to the next entry of the block. */
static inline __attribute__((always_inline)) void thread_next(struct cpu *c,
                                                              const struct insn *i)
{
    c->icount++;
    if (__builtin_expect(c->pending != 0, 0))
        return;
    const struct insn *n = i + 1;
    uint64_t rip = c->rip;
    c->insn_rip = rip;
    c->rip = rip + n->len;
    n->run(c, n); /* tail position: compiled to a jump */
}

/* Retire an instruction that branched and, when the block it left has
 * a valid link (cpu/icache.h) for the new RIP, go on into that block's
 * first entry: each branch site then dispatches with its own indirect
 * jump.  Otherwise, or with an event pending or the chain's budget
 * (c->chain_until, within the time slice) used, return to the loop,
 * which does the full lookup. */
static inline __attribute__((always_inline)) void thread_branch(struct cpu *c)
{
    c->icount++;
    if (__builtin_expect(c->pending != 0, 0) || c->icount >= c->chain_until)
        return;
    uint64_t rip = c->rip;
    struct block *nb =
        block_linked(c->cur_block, rip, icache_stamp(c->mmu.epoch, c->mmu.phys->code_writes));
    if (!nb)
        return;
    c->cur_block = nb;
    const struct insn *n = &nb->insn[0];
    c->insn_rip = rip;
    c->rip = rip + n->len;
    n->run(c, n);
}

/* After an instruction that may have branched: 'next' is the
 * fall-through RIP it was entered with. */
static inline __attribute__((always_inline)) void thread_next_if(struct cpu *c,
                                                                 const struct insn *i,
                                                                 uint64_t next)
{
    if (c->rip != next) {
        thread_branch(c);
        return;
    }
    c->icount++;
    if (__builtin_expect(c->pending != 0, 0))
        return;
    const struct insn *n = i + 1;
    c->insn_rip = next;
    c->rip = next + n->len;
    n->run(c, n);
}

/* The threaded entry 'name_run' of a handler that never changes RIP.
 * 'flatten' puts the handler's body in it (GCC would otherwise call the
 * out-of-line copy that 'fn' points at for the larger ones). */
#define THREADED(name)                                                 \
    static __attribute__((flatten)) void name##_run(struct cpu *c,     \
                                                    const struct insn *i) \
    {                                                                  \
        name(c, i);                                                    \
        thread_next(c, i);                                             \
    }

/* The threaded entry of a handler that always branches (JMP, CALL,
 * RET). */
#define THREADED_EXIT(name)                                            \
    static __attribute__((flatten)) void name##_run(struct cpu *c,     \
                                                    const struct insn *i) \
    {                                                                  \
        name(c, i);                                                    \
        thread_branch(c);                                              \
    }

/* The threaded entry of a handler 'name' with an inline fast path
 * 'name##_fast' that returns true when it has done the whole
 * instruction, false (having changed nothing) when the full handler
 * must run: a TLB miss, a fault to raise, flags to derive.  The fast
 * path makes no call, so it needs neither a stack frame nor saved
 * registers; the full handler is entered by a tail call.  */
#define THREADED_FAST(name)                                            \
    static __attribute__((noinline, flatten)) void name##_full_run(    \
        struct cpu *c, const struct insn *i)                           \
    {                                                                  \
        name(c, i);                                                    \
        thread_next(c, i);                                             \
    }                                                                  \
    static void name##_run(struct cpu *c, const struct insn *i)        \
    {                                                                  \
        if (__builtin_expect(name##_fast(c, i), 1)) {                  \
            thread_next(c, i);                                         \
            return;                                                    \
        }                                                              \
        name##_full_run(c, i);                                         \
    }

/* The same for a handler that always branches (CALL, RET). */
#define THREADED_EXIT_FAST(name)                                       \
    static __attribute__((noinline, flatten)) void name##_full_run(    \
        struct cpu *c, const struct insn *i)                           \
    {                                                                  \
        name(c, i);                                                    \
        thread_branch(c);                                              \
    }                                                                  \
    static void name##_run(struct cpu *c, const struct insn *i)        \
    {                                                                  \
        if (__builtin_expect(name##_fast(c, i), 1)) {                  \
            thread_branch(c);                                          \
            return;                                                    \
        }                                                              \
        name##_full_run(c, i);                                         \
    }

/* 'run' of every handler without a threaded entry of its own: 'fn',
 * then as thread_next_if. */
void cpu_run_generic(struct cpu *c, const struct insn *i);

/* 'run' of the stop entry after a block's last decoded instruction:
 * tells the loop the block ran to its end (cpu_run's block_done). */
void cpu_run_stop(struct cpu *c, const struct insn *i);

#endif
