/* cpu/thread.h — threaded dispatch inside a decoded 64-bit block.
 *
 * A block's instructions sit in an array ending in a stop entry (len 0,
 * run = cpu_run_stop).  The run loop enters the first instruction's
 * 'run'; each 'run' executes its instruction and, if execution fell
 * through and nothing is pending, jumps to the next entry's 'run' (a
 * tail call, so the host stack does not grow and each handler has its
 * own indirect branch for the predictor).  A taken branch goes on into
 * the next block when the block it left has a valid link for the
 * target (thread_branch, thread_jump).  The chain ends at the stop
 * entry, at a branch without a valid link, at an event pending after a
 * full handler or at c->chain_until; the loop in cpu/run.c then
 * continues exactly as it would after the same instructions run one by
 * one, from the block in c->cur_block.
 *
 * Deferred state: inside a chain, c->rip, c->insn_rip and c->icount
 * are not stored per instruction.  Each follows from where the block
 * was entered (c->block_rip, c->block_icount) and the instruction's
 * place in it (insn->idx, insn->end), so a fast path that needs the
 * next RIP computes it (thread_rip) and one that needs none of them
 * (register moves, ALU, most loads and stores) costs only its own work
 * and the jump.  Everything else sees them exact: a full handler is
 * entered through thread_sync, which stores all three as they are
 * while the instruction executes, and every way out of the chain back
 * to the loop stores them as they are after it.  Fast paths therefore
 * must not raise, call out, or read those three fields.
 *
 * Only 64-bit blocks are threaded: there the next RIP needs no wrap to
 * the code size and no CS-limit check.  Legacy-mode blocks run 'fn'
 * from the loop in cpu/run.c. */
#ifndef NEST86_CPU_THREAD_H
#define NEST86_CPU_THREAD_H

#include "cpu/copyrun.h"
#include "cpu/icache.h"
#include "cpu/insn.h"
#include "cpu/mem.h"

/* Runs entry n: a tail call, compiled to a jump.  The empty asm makes
 * n a value GCC must hold in a register before the call, so it builds
 * n in the argument register and jumps through memory ("add $64, %rsi;
 * jmp *8(%rsi)"), where it would otherwise compute n aside, load the
 * target, move n over and jump through a register: two host
 * instructions more on every instruction the chain dispatches. */
static inline __attribute__((always_inline)) void thread_dispatch(struct cpu *c,
                                                                  const struct insn *n)
{
    __asm__("" : "+r"(n));
    n->run(c, n);
}

/* The RIP after instruction i (its fall-through). */
static inline __attribute__((always_inline)) uint64_t thread_rip(const struct cpu *c,
                                                                 const struct insn *i)
{
    return c->block_rip + i->end;
}

/* The target of a relative JMP or Jcc taken: run_decode keeps its
 * offset from the block's first byte in imm2 (cpu/run.c
 * rel_target_offset), which saves reading the instruction's end and
 * adding it on every taken branch. */
static inline __attribute__((always_inline)) uint64_t thread_rel_target(const struct cpu *c,
                                                                        const struct insn *i)
{
    return c->block_rip + i->imm2;
}

/* Stores RIP, the instruction's own RIP and the count as they are
 * while i executes: before a full handler, which may read them, fault
 * or exit. */
static inline __attribute__((always_inline)) void thread_sync(struct cpu *c,
                                                              const struct insn *i)
{
    uint64_t next = thread_rip(c, i);
    c->icount = c->block_icount + i->idx;
    c->insn_rip = next - i->len;
    c->rip = next;
}

/* The same after i retired without branching: leaving the chain. */
static inline __attribute__((always_inline)) void thread_leave(struct cpu *c,
                                                               const struct insn *i)
{
    uint64_t next = thread_rip(c, i);
    c->icount = c->block_icount + i->idx + 1;
    c->insn_rip = next - i->len;
    c->rip = next;
}

/* Go on after a full handler's instruction i (one that did not
 * branch): to the next entry of the block, or, with an event pending
 * (the handler may have raised one), back to the loop. */
static inline __attribute__((always_inline)) void thread_next(struct cpu *c,
                                                              const struct insn *i)
{
    if (__builtin_expect(c->pending != 0, 0)) {
        thread_leave(c, i);
        return;
    }
    thread_dispatch(c, i + 1);
}

/* The same after a fast path or a register handler, which cannot raise
 * an event: no check.  An event raised from another thread (the
 * debugger's interrupt) waits for the next full handler, a branch a
 * full handler took, or the chain's budget (at most CHAIN_MAX
 * instructions: the fast paths' branches do not test either,
 * thread_jump); one already pending when the loop starts a chain
 * makes it run a single instruction instead (cpu/run.c run_blocks),
 * and every full handler tests after it runs, so events raised by the
 * machine itself are taken exactly where they were before. */
static inline __attribute__((always_inline)) void thread_next_fast(struct cpu *c,
                                                                   const struct insn *i)
{
    thread_dispatch(c, i + 1);
}

/* Enter block b at its first instruction, at 'rip', with 'count'
 * instructions retired before it. */
static inline __attribute__((always_inline)) void thread_enter_at(struct cpu *c,
                                                                  struct block *b,
                                                                  uint64_t rip,
                                                                  uint64_t count)
{
    c->cur_block = b;
    c->block_rip = rip;
    c->block_icount = count;
    thread_dispatch(c, &b->insn[0]);
}

/* The same with c->icount retired */
static inline __attribute__((always_inline)) void thread_enter(struct cpu *c,
                                                               struct block *b,
                                                               uint64_t rip)
{
    thread_enter_at(c, b, rip, c->icount);
}

/* A branch whose block has no link for the target: the jump cache's
 * entry for it, if valid, becomes one of the block's links and the
 * chain goes on there; otherwise back to the loop (cpu/run.c). */
void cpu_branch_unlinked(struct cpu *c, const struct insn *i, uint64_t rip, uint64_t stamp);

/* A relative JMP or Jcc (i) that took its branch to a non-canonical
 * target: its #GP(0), raised by its full handler (cpu/run.c). */
void cpu_branch_rel_fault(struct cpu *c, const struct insn *i);

/* After instruction i branched (c->rip is the target): when the block
 * it left has a valid link (cpu/icache.h) for the target, go on into
 * that block's first entry, so each branch site dispatches with its own
 * indirect jump.  Otherwise, or with an event pending or the chain's
 * budget (c->chain_until, within the time slice) used, return to the
 * loop, which does the full lookup.
 *
 * 'unchecked': a relative JMP or Jcc stored a target it did not check
 * for canonicity.  A target with a valid link needs no check (links
 * lead only to code that was fetched, so to canonical addresses, and
 * CR4.LA57 cannot change in IA-32e mode); on the other ways on, a
 * non-canonical one is the branch's #GP(0). */
static inline __attribute__((always_inline)) void thread_branch_x(struct cpu *c,
                                                                  const struct insn *i,
                                                                  bool unchecked)
{
    uint64_t count = c->block_icount + i->idx + 1;
    c->icount = count;
    uint64_t rip = c->rip;
    if (__builtin_expect(c->pending != 0, 0) || count >= c->chain_until) {
        c->insn_rip = thread_rip(c, i) - i->len;
        if (unchecked && !mem_canonical(c, rip))
            cpu_branch_rel_fault(c, i);
        return;
    }
    uint64_t stamp = icache_stamp(c->mmu.epoch);
    struct block *nb = block_linked(c->cur_block, rip, stamp);
    if (!nb) {
        if (unchecked && !mem_canonical(c, rip)) {
            cpu_branch_rel_fault(c, i);
            return;
        }
        cpu_branch_unlinked(c, i, rip, stamp);
        return;
    }
    thread_enter(c, nb, rip);
}

static inline __attribute__((always_inline)) void thread_branch(struct cpu *c,
                                                                const struct insn *i)
{
    thread_branch_x(c, i, false);
}

/* thread_jump's other ways: stores 'rip' in c->rip, then as
 * thread_branch_x (cpu/run.c) */
void cpu_branch_slow(struct cpu *c, const struct insn *i, uint64_t rip, bool unchecked);

/* A fast path's taken branch to 'rip' (c->rip not stored): the common
 * case, a valid link with the chain's budget left, enters the linked
 * block and stores only the block's RIP and count (RIP and count are
 * deferred inside the chain); anything else stores them and goes on as
 * thread_branch_x.  No pending-event test on the linked way: a fast
 * path raises none, every full handler leaves the chain when one is
 * pending (thread_next), and one raised from outside the CPU's thread
 * (the debugger's Ctrl-C) waits at most for the budget, CHAIN_MAX
 * instructions (cpu/run.c). */
static inline __attribute__((always_inline)) void thread_jump(struct cpu *c,
                                                              const struct insn *i,
                                                              uint64_t rip, bool unchecked)
{
    uint64_t count = c->block_icount + i->idx + 1;
    if (__builtin_expect(count < c->chain_until, 1)) {
        struct block *nb = block_linked(c->cur_block, rip, icache_stamp(c->mmu.epoch));
        if (__builtin_expect(nb != NULL, 1)) {
            thread_enter_at(c, nb, rip, count);
            return;
        }
    }
    cpu_branch_slow(c, i, rip, unchecked); /* out of line: no frame on the way above */
}

/* After a full handler that may have branched: 'next' is the
 * fall-through RIP (c->rip when it was entered). */
static inline __attribute__((always_inline)) void thread_next_if(struct cpu *c,
                                                                 const struct insn *i,
                                                                 uint64_t next)
{
    if (c->rip != next) {
        thread_branch(c, i);
        return;
    }
    thread_next(c, i);
}

/* The threaded entry 'name_run' of a full handler that never changes
 * RIP.  'flatten' puts the handler's body in it (GCC would otherwise
 * call the out-of-line copy that 'fn' points at for the larger ones). */
#define THREADED(name)                                                 \
    static __attribute__((flatten)) void name##_run(struct cpu *c,     \
                                                    const struct insn *i) \
    {                                                                  \
        thread_sync(c, i);                                             \
        name(c, i);                                                    \
        thread_next(c, i);                                             \
    }                                                                  \
    COPYRUN_REGISTER(name##_run, 1);

/* The same for a handler that only moves registers (no memory, no
 * fault, no RIP, no count): it runs with the state deferred. */
#define THREADED_REG(name)                                             \
    static __attribute__((flatten)) void name##_run(struct cpu *c,     \
                                                    const struct insn *i) \
    {                                                                  \
        name(c, i);                                                    \
        thread_next_fast(c, i);                                        \
    }                                                                  \
    COPYRUN_REGISTER(name##_run, 1);

/* thread_jump for a target the fast path checked for canonicity */
static inline __attribute__((always_inline)) void thread_jump_checked(struct cpu *c,
                                                                      const struct insn *i,
                                                                      uint64_t rip)
{
    thread_jump(c, i, rip, false);
}

/* thread_jump for a RET: a return site has as many targets as its
 * function has callers, more than a block's two links hold, so when
 * they fail the jump cache is tried here, and not copied into them
 * (which would only push out the block's other exits' links). */
static inline __attribute__((always_inline)) void thread_return(struct cpu *c,
                                                                const struct insn *i,
                                                                uint64_t rip)
{
    uint64_t count = c->block_icount + i->idx + 1;
    if (__builtin_expect(count < c->chain_until, 1)) {
        uint64_t stamp = icache_stamp(c->mmu.epoch);
        struct block *nb = block_linked(c->cur_block, rip, stamp);
        if (!nb) {
            const struct block_link *j = icache_jslot(c->icache, rip);
            if (link_valid(j, rip, stamp))
                nb = j->to;
        }
        if (__builtin_expect(nb != NULL, 1)) {
            thread_enter_at(c, nb, rip, count);
            return;
        }
    }
    cpu_branch_slow(c, i, rip, false);
}

/* The threaded entry of a handler 'name' with an inline fast path
 * 'name##_fast' that returns true when it has done the whole
 * instruction, false (having changed nothing) when the full handler
 * must run: a TLB miss, a fault to raise, flags to derive.  The fast
 * path makes no call, so it needs neither a stack frame nor saved
 * registers, and runs with the state deferred (thread_rip for the next
 * RIP); the full handler is entered by a tail call, after thread_sync. */
#define THREADED_FAST(name)                                            \
    static __attribute__((noinline, flatten)) void name##_full_run(    \
        struct cpu *c, const struct insn *i)                           \
    {                                                                  \
        thread_sync(c, i);                                             \
        name(c, i);                                                    \
        thread_next(c, i);                                             \
    }                                                                  \
    static void name##_run(struct cpu *c, const struct insn *i)        \
    {                                                                  \
        if (__builtin_expect(name##_fast(c, i), 1)) {                  \
            thread_next_fast(c, i);                                    \
            return;                                                    \
        }                                                              \
        name##_full_run(c, i);                                         \
    }                                                                  \
    COPYRUN_REGISTER(name##_run, 1);

/* The same for a handler that always branches (JMP, CALL, RET): the
 * fast path sets c->rip to the target, which 'go' (thread_jump's
 * checked form, or thread_return) follows. */
#define THREADED_EXIT_FAST(name) THREADED_EXIT_FAST_VIA(name, thread_jump_checked)
#define THREADED_EXIT_FAST_VIA(name, go)                               \
    static __attribute__((noinline, flatten)) void name##_full_run(    \
        struct cpu *c, const struct insn *i)                           \
    {                                                                  \
        thread_sync(c, i);                                             \
        name(c, i);                                                    \
        thread_branch(c, i);                                           \
    }                                                                  \
    static void name##_run(struct cpu *c, const struct insn *i)        \
    {                                                                  \
        if (__builtin_expect(name##_fast(c, i), 1)) {                  \
            go(c, i, c->rip);                                          \
            return;                                                    \
        }                                                              \
        name##_full_run(c, i);                                         \
    }                                                                  \
    COPYRUN_REGISTER(name##_run, 0);

/* 'run' of every handler without a threaded entry of its own: 'fn',
 * then as thread_next_if. */
void cpu_run_generic(struct cpu *c, const struct insn *i);

/* 'run' of the stop entry after a block's last decoded instruction:
 * tells the loop the block ran to its end (cpu_run's block_done). */
void cpu_run_stop(struct cpu *c, const struct insn *i);

#endif
