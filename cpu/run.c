/* cpu/run.c — the execution loop: decoded blocks from the instruction
 * cache, event delivery at block boundaries (DESIGN.md, "Events"),
 * single-stepping, and exception escalation (#DF, shutdown). */
#include <stdlib.h>

#include "cpu/copyrun.h"
#include "cpu/cpu_internal.h"
#include "cpu/icache.h"
#include "cpu/mem.h"
#include "cpu/thread.h"
#include "devices/machine.h"
#include "vmx/caps.h"

/* SDM Vol. 3A Tables 6-4 and 6-5: exception classes for double-fault
 * detection; a virtualization exception is in the page-fault class */
enum exc_class { BENIGN, CONTRIBUTORY, PAGE_FAULT };

static enum exc_class exc_class(int v)
{
    if (v == EX_PF || v == EX_VE)
        return PAGE_FAULT;
    if (v == EX_DE || (v >= EX_TS && v <= EX_GP))
        return CONTRIBUTORY;
    return BENIGN;
}

/* SDM Vol. 3A Table 6-1: the fault-class exceptions.  #DB is a fault
 * for an instruction breakpoint and for general detect, a trap
 * otherwise; the traps never come through take_exception(). */
#define FAULT_VECTORS                                                                        \
    ((1u << EX_DE) | (1u << EX_DB) | (1u << EX_BR) | (1u << EX_UD) | (1u << EX_NM) |         \
     (1u << 9) | (1u << EX_TS) | (1u << EX_NP) | (1u << EX_SS) | (1u << EX_GP) |            \
     (1u << EX_PF) | (1u << EX_MF) | (1u << EX_AC) | (1u << EX_XM) | (1u << EX_VE) |        \
     (1u << EX_CP))

void cpu_set_intr(struct cpu *c, bool level)
{
    if (level)
        __atomic_or_fetch(&c->pending, PEND_INTR, __ATOMIC_RELAXED);
    else
        __atomic_and_fetch(&c->pending, ~PEND_INTR, __ATOMIC_RELAXED);
}

void cpu_set_nmi(struct cpu *c)
{
    __atomic_or_fetch(&c->pending, PEND_NMI, __ATOMIC_RELAXED);
}

void cpu_signal_init(struct cpu *c)
{
    c->init_latched = true;
    cpu_init_update(c);
}

void cpu_init_update(struct cpu *c)
{
    /* SDM 33.2: INIT is blocked in VMX root operation, not in non-root
     * operation (where the wait-for-SIPI state blocks it: vmx_take_event) */
    if (c->init_latched && (!c->vmx.on || c->vmx.nonroot))
        __atomic_or_fetch(&c->pending, PEND_INIT, __ATOMIC_RELAXED);
    else
        __atomic_and_fetch(&c->pending, ~PEND_INIT, __ATOMIC_RELAXED);
}

void cpu_signal_sipi(struct cpu *c, uint8_t vector)
{
    if (c->vmx.nonroot && c->halted && c->vmx.activity == VMX_ACTIVITY_WAIT_SIPI) {
        c->vmx.sipi_pending = true;
        c->vmx.sipi_vector = vector;
        __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
    }
}

void cpu_request_stop(struct cpu *c)
{
    __atomic_or_fetch(&c->pending, PEND_STOP, __ATOMIC_RELAXED);
}

static void shutdown(struct cpu *c)
{
    if (c->vmx.nonroot) { /* a triple fault in a VMX guest exits (SDM 25.2) */
        c->vmx.vectoring = 0; /* not an exit during event delivery (27.2.3) */
        vmx_exit_triple_fault(c);
        return;
    }
    /* SDM 6.15 "Interrupt 8": a fault while delivering #DF shuts the processor down */
    c->delivering = -1;
    c->halted = true;
    machine_request_stop(c->machine, MACHINE_TRIPLE_FAULT, 0, "triple fault");
}

bool cpu_intr_can_wake(const struct cpu *c)
{
    /* SDM 26.6.2: a VMX guest in the shutdown state wakes for NMIs,
     * INIT and its preemption timer, not for interrupts; in the
     * wait-for-SIPI state only a SIPI wakes it */
    if (c->vmx.nonroot && c->halted && c->vmx.activity == VMX_ACTIVITY_WAIT_SIPI)
        return c->vmx.sipi_pending;
    if (c->vmx.nonroot && c->halted && c->vmx.activity == VMX_ACTIVITY_SHUTDOWN)
        return c->vmx.timer_armed || (c->pending & PEND_INIT);
    return (c->rflags & FL_IF) ||
           (c->vmx.nonroot && (vmx_intr_exits(c) || c->vmx.timer_armed));
}

/* SDM 17.3.1.1: a fault-class exception other than an instruction
 * breakpoint saves RF = 1, so that the restarted instruction does not
 * hit its instruction breakpoint again; aborts (#DF) do not. */
static bool fault_rf(int v, bool insn_bp)
{
    return v < 32 && ((FAULT_VECTORS >> v) & 1) && !(v == EX_DB && insn_bp);
}

/* VMX non-root operation: the exception bitmap (vmx/events.c).  An
 * exiting exception saves the RF its delivery would have pushed (SDM
 * 27.3.3) and leaves CR2 alone (27.1). */
static bool guest_exception_exits(struct cpu *c, int v, bool has_err, uint32_t err, bool insn_bp)
{
    c->event_rf = fault_rf(v, insn_bp);
    bool exits = vmx_exception_exits(c, v, has_err, err);
    c->event_rf = false;
    if (exits && v == EX_PF)
        c->cr2 = c->cr2_before_pf;
    return exits;
}

/* Called after cpu_raise() unwound to the run loop. */
static void take_exception(struct cpu *c)
{
    int v = c->exc_vector;
    if (v == VMX_UNWIND_EXIT)
        return; /* a VM exit replaced the instruction; host state is loaded */
    bool has_err = c->exc_has_error;
    uint32_t err = c->exc_error;
    int prev = c->delivering;
    bool insn_bp = c->exc_insn_bp;
    c->exc_insn_bp = false;
    c->rip = c->insn_rip; /* faults report the faulting instruction */
    c->dr_hit = 0;        /* a faulting instruction reports no data breakpoint */
    /* in a VMX guest the exception bitmap sees an exception raised
     * during event delivery before it can become #DF (SDM 27.2.3) */
    if (c->vmx.nonroot && guest_exception_exits(c, v, has_err, err, insn_bp))
        return;
    if (prev >= 0) {
        enum exc_class a = exc_class(prev), b = exc_class(v);
        if (prev == EX_DF) {
            if (b != BENIGN) {
                shutdown(c);
                return;
            }
        } else if ((a == CONTRIBUTORY && b == CONTRIBUTORY) ||
                   (a == PAGE_FAULT && b != BENIGN)) {
            v = EX_DF;
            has_err = true;
            err = 0;
            /* a #DF that exits does so directly: no IDT-vectoring
             * information (SDM 27.2.3) */
            if (c->vmx.nonroot) {
                c->vmx.vectoring = 0;
                if (guest_exception_exits(c, v, has_err, err, false))
                    return;
            }
        }
    }
    c->delivering = v;
    c->event_rf = fault_rf(v, insn_bp);
    cpu_deliver(c, v, INT_EXCEPTION, has_err, err);
    c->event_rf = false;
    c->delivering = -1;
}

/* Interrupts and NMIs at an instruction boundary (SDM 6.9 priorities). */
static bool take_event(struct cpu *c)
{
    uint32_t p = c->pending;
    if (p & PEND_INIT) {
        /* SDM 9.1, 10.4.7.3: INIT puts the processor in its reset state
         * and the BSP starts over at the reset vector.  nest86 has no
         * firmware there: it resets the machine, as a reset request
         * does, and says why. */
        __atomic_and_fetch(&c->pending, ~PEND_INIT, __ATOMIC_RELAXED);
        c->init_latched = false;
        machine_request_stop(c->machine, MACHINE_RESET, 0, "INIT signal");
        return true;
    }
    if ((p & PEND_NMI) && !c->nmi_blocked) {
        __atomic_and_fetch(&c->pending, ~PEND_NMI, __ATOMIC_RELAXED);
        c->insn_rip = c->rip;
        c->delivering = -1;
        cpu_deliver(c, EX_NMI, INT_NMI, false, 0);
        return true;
    }
    if ((p & PEND_INTR) && (c->rflags & FL_IF) && c->intr_ack) {
        int vec = c->intr_ack(c->intr_opaque);
        if (vec < 0)
            return false; /* the controller withdrew the request */
        c->insn_rip = c->rip;
        c->delivering = -1;
        cpu_deliver(c, vec, INT_EXTERNAL, false, 0);
        return true;
    }
    return false;
}

static inline uint64_t wrap_ip(const struct cpu *c, uint64_t ip)
{
    return c->code_size == 8 ? ip : c->code_size == 4 ? (uint32_t)ip : (uint16_t)ip;
}

/* One instruction, decoded afresh and not cached: single-stepping,
 * code outside RAM, and the STI/MOV SS shadow. */
static bool run_one(struct cpu *c)
{
    struct insn in;
    if (c->dbg_active && c->dbg_before && c->dbg_before(c->dbg_opaque, c))
        return true; /* the debugger stops the CPU before this instruction */
    bool tf = (c->rflags & FL_TF) != 0;
    c->insn_rip = c->rip;
    c->inhibit_debug = false;
    c->sw_int = false;
    if (c->dr_exec_mask)
        cpu_dr_exec_check(c, c->code_size == 8 ? c->rip
                                               : (uint32_t)(c->seg[SEG_CS].base + c->rip));
    /* RF has done its work (the breakpoint check above) and lasts one
     * instruction (SDM 17.3.1.1): cleared now, it is 0 in whatever this
     * instruction's completion pushes (INT n, a trap), and an IRET or
     * task switch that loads RF = 1 keeps it for the next instruction.
     * A fault in this instruction saves RF = 1 anyway (take_exception). */
    c->rflags &= ~(uint64_t)FL_RF;
    cpu_decode(c, &in);
    c->rip = wrap_ip(c, c->rip + in.len);
    in.fn(c, &in);
    c->icount++;
    /* single-step and data-breakpoint traps after the instruction
     * (SDM 17.3.1.2, 17.3.1.4); MOV SS holds them one more instruction.
     * INT n, INT3, INTO and INT1 clear TF as they deliver, and the
     * instruction takes no single-step trap (SDM 17.3.1.4: debuggers
     * emulate them instead). */
    if (!c->inhibit_debug)
        cpu_dr_deliver_traps(c, tf && !c->sw_int);
    return false;
}

#define BLOCK_LEFT UINT32_MAX

/* Executes a legacy-mode block's decoded instructions one by one (and
 * a 64-bit block's first instruction when an event is pending);
 * returns how many ran, or BLOCK_LEFT when execution left the block
 * before its end. */
static unsigned run_cached(struct cpu *c, const struct block *b)
{
    for (unsigned k = 0; k < b->n; k++) {
        const struct insn *in = &b->insn[k];
        c->insn_rip = c->rip;
        if (c->code_size != 8 && c->rip + in->len - 1 > c->seg[SEG_CS].limit)
            cpu_raise(c, EX_GP, 0); /* CS shrank since the decode */
        uint64_t next = wrap_ip(c, c->rip + in->len);
        c->rip = next;
        in->fn(c, in);
        c->icount++;
        /* a store to this block's page raises PEND_BREAK (phys.h) */
        if (c->rip != next || c->pending)
            return BLOCK_LEFT;
    }
    return b->n;
}

void cpu_branch_rel_fault(struct cpu *c, const struct insn *i)
{
    thread_sync(c, i);
    i->fn(c, i); /* cpu_jump_near's canonical check raises #GP(0) */
    thread_leave(c, i); /* not reached */
}

void cpu_run_generic(struct cpu *c, const struct insn *i)
{
    thread_sync(c, i);
    uint64_t next = c->rip;
    i->fn(c, i);
    thread_next_if(c, i, next);
}
COPYRUN_REGISTER(cpu_run_generic, 1);

/* Falling off a complete block (cpu/icache.h) is a branch to the next
 * byte: a loop longer than BLOCK_MAX instructions then stays in the
 * chain, going on through the block's link as a taken branch does. */
void cpu_run_stop(struct cpu *c, const struct insn *i)
{
    struct block *b = c->cur_block;
    uint64_t rip = thread_rip(c, i), count = c->block_icount + i->idx;
    /* no pending-event test, as in thread_jump: the entry before this
     * one was a fast path or a full handler that found none */
    if (b->complete && count < c->chain_until) {
        struct block *nb = block_linked(b, rip, icache_stamp(c->mmu.epoch));
        if (nb) {
            thread_enter_at(c, nb, rip, count); /* tail position */
            return;
        }
    }
    c->icount = count;
    c->insn_rip = rip;
    c->rip = rip;
    c->block_done = true;
}

/* The stop entry after k decoded instructions ending 'end' bytes after
 * the block's first byte (cpu_run_stop reads both). */
static inline void set_stop(struct insn *in, unsigned k, unsigned end)
{
    in->run = cpu_run_stop;
    in->len = 0;
    in->idx = (uint8_t)k;
    in->end = (uint16_t)end;
}

/* Runs a 64-bit block's decoded instructions threaded (cpu/thread.h),
 * possibly going on into linked blocks: c->cur_block is the block the
 * chain ended in, and c->block_done tells whether it ran to its end. */
static inline void run_threaded(struct cpu *c, struct block *b)
{
    c->block_done = false;
    thread_enter(c, b, c->rip);
}

/* The block for the code at RIP, created empty if needed; NULL when the
 * code is not in RAM (one instruction was run uncached instead).
 * *global tells whether the fetch went through a global translation. */
static struct block *lookup_block(struct cpu *c, bool *global)
{
    c->insn_rip = c->rip;
    uint64_t lin;
    if (c->code_size == 8) {
        lin = c->rip;
    } else {
        if (c->rip > c->seg[SEG_CS].limit)
            cpu_raise(c, EX_GP, 0);
        lin = (uint32_t)(c->seg[SEG_CS].base + c->rip);
    }
    uint8_t *host = mmu_fast_ptr(&c->mmu, lin, 1, mmu_need_bit(MMU_FETCH, c->cpl == 3, false));
    if (!host) {
        uint8_t *page = mem_code_page(c, lin);
        if (!page) {
            run_one(c); /* executing from MMIO or open bus */
            return NULL;
        }
        host = page + (lin & 0xfff);
    }
    *global = mmu_tlb_global(&c->mmu, lin);
    struct phys *ph = c->mmu.phys;
    uint64_t off = phys_ram_offset(ph, host);
    const uint32_t *genp = &ph->code_gen[off >> 12];
    struct block *b = icache_slot(c->icache, off);
    if (b->ram_off != off || b->gen != *genp || b->code_size != c->code_size) {
        b->ram_off = off;
        b->gen = *genp;
        b->code_size = c->code_size;
        c->icache->inits[c->code_size]++;
        b->n = 0;
        b->copied_n = 0;
        b->heat = 0;
        b->closed = false;
        b->complete = false;
        /* stamp 0 matches no stamp (icache_stamp): the old code's links
         * are dead, and link_valid need not test 'to' */
        b->link[0].stamp = b->link[1].stamp = 0;
        b->link[0].gstamp = b->link[1].gstamp = 0;
        icache_reserve(c->icache, b, 0, 0);
        set_stop(&b->insn[0], 0, 0);
        if (phys_mark_code(ph, off))
            mmu_drop_writes_to(&c->mmu, host - (off & 0xfff));
    }
    return b;
}

/* The global stamp (cpu/icache.h) as it is now */
static inline uint64_t cur_gstamp(const struct cpu *c)
{
    return icache_gstamp(c->mmu.epoch, c->mmu.gepoch);
}

void cpu_branch_unlinked(struct cpu *c, const struct insn *i, uint64_t rip, uint64_t stamp)
{
    struct block *b = c->cur_block;
    struct block_link *j = icache_jslot(c->icache, rip);
    if (!link_valid(j, rip, stamp)) {
        /* after a CR3 load: the block's own link into global code, or
         * the jump cache's */
        uint64_t g = cur_gstamp(c);
        for (unsigned k = 0; k < 2; k++)
            if (link_revive(&b->link[k], rip, stamp, g)) {
                thread_enter(c, b->link[k].to, rip); /* tail position */
                return;
            }
        if (!link_revive(j, rip, stamp, g)) {
            c->insn_rip = thread_rip(c, i) - i->len;
            return;
        }
    }
    b->link[b->link_next] = *j;
    b->link_next ^= 1;
    thread_enter(c, j->to, rip); /* tail position */
}

void cpu_branch_slow(struct cpu *c, const struct insn *i, uint64_t rip, bool unchecked)
{
    c->rip = rip;
    thread_branch_x(c, i, unchecked);
}

/* Copies the runs of a 64-bit block that grew since its last copy
 * (cpu/copyrun.h); from the loop only, where no copy is running. */
/* A block's runs are copied (cpu/copyrun.h) on the ic->copy_heat-th
 * time the loop goes to it with runs not yet copied (-accel
 * copy,heat=N; cpu/copyrun.h COPYRUN_HEAT_DEFAULT says why 64). */
static inline struct block *copy_runs(struct cpu *c, struct block *b)
{
    struct icache *ic = c->icache;
    if (b->copied_n != b->n && b->code_size == 8 && ic->copies &&
        (b->heat >= ic->copy_heat || ++b->heat == ic->copy_heat))
        copyrun_block(ic->copies, ic, b);
    return b;
}

/* The block execution continues in after leaving 'b': one of its
 * links, the jump cache, or a full lookup (which refreshes both). */
static struct block *next_block(struct cpu *c, struct block *b)
{
    uint64_t rip = c->rip, stamp = icache_stamp(c->mmu.epoch);
    struct block *nb = block_linked(b, rip, stamp);
    if (nb)
        return copy_runs(c, nb);
    uint64_t g = cur_gstamp(c);
    for (unsigned k = 0; k < 2; k++)
        if (link_revive(&b->link[k], rip, stamp, g))
            return copy_runs(c, b->link[k].to);
    struct block_link *j = icache_jslot(c->icache, rip);
    if (link_valid(j, rip, stamp) || link_revive(j, rip, stamp, g)) {
        nb = j->to;
    } else {
        bool global;
        nb = lookup_block(c, &global);
        if (!nb)
            return NULL;
        /* the stamps were read before the lookup: whatever the lookup
         * changed (a page walk writing A bits) can only make the new
         * links look stale, never a stale one look valid */
        *j = (struct block_link){nb, rip, nb->ram_off, stamp, global ? g : 0};
    }
    b->link[b->link_next] = *j;
    b->link_next ^= 1;
    return copy_runs(c, nb);
}

/* A relative JMP or Jcc keeps its target's offset from the block's
 * first byte in imm2, which its decoding leaves unused
 * (thread_rel_target) */
static void rel_target_offset(struct insn *in)
{
    if (insn_op_is_jcc(in->op) || in->op == 0xe9 || in->op == 0xeb)
        in->imm2 = in->end + in->imm;
}

/* Executes the part of a block that has not been decoded yet, decoding
 * each instruction as execution reaches it. */
static void run_decode(struct cpu *c, struct block *b)
{
    unsigned k = b->n;
    unsigned page_off = (unsigned)(b->ram_off & 0xfff);
    for (unsigned j = 0; j < k; j++)
        page_off += b->insn[j].len;
    for (;;) {
        if (b->closed) {
            /* the next instruction is not cacheable (it crosses onto the
             * next page): run it alone */
            if (k == 0)
                run_one(c);
            return;
        }
        if (k >= BLOCK_MAX || page_off >= 4096) {
            b->complete = true;
            return;
        }
        /* decoded aside: a decode fault must leave the stop entry intact */
        struct insn tmp;
        c->insn_rip = c->rip;
        cpu_decode(c, &tmp);
        if (page_off + tmp.len > 4096) {
            /* its bytes run onto the next page, which the block's
             * generation does not cover: execute it without caching */
            b->closed = true;
            c->rip = wrap_ip(c, c->rip + tmp.len);
            tmp.fn(c, &tmp);
            c->icount++;
            return;
        }
        icache_reserve(c->icache, b, k + 1, k + 1); /* k entries and the stop */
        struct insn *in = &b->insn[k];
        *in = tmp;
        unsigned end = page_off + in->len - (unsigned)(b->ram_off & 0xfff);
        in->idx = (uint8_t)k;
        in->end = (uint16_t)end;
        rel_target_offset(in);
        set_stop(&b->insn[k + 1], k + 1, end);
        if (k > 0 && c->code_size == 8)
            cpu_fuse(b->insn, k);
        b->n++;
        k++;
        page_off += in->len;
        uint64_t next = wrap_ip(c, c->rip + in->len);
        c->rip = next;
        in->fn(c, in);
        c->icount++;
        if (c->rip != next || c->pending)
            return;
    }
}

/* Instructions one threaded chain may run before it returns to the
 * loop: bounds the host stack should a build not compile the chain's
 * tail calls as jumps. */
#define CHAIN_MAX 4096

/* Runs blocks from RIP, following block links while they are valid,
 * until an event is pending, the budget is used, or a block needs
 * decoding.  The budget is checked between blocks, so a slice may
 * overrun by up to BLOCK_MAX - 1 instructions — deterministically. */
static void run_blocks(struct cpu *c, uint64_t until)
{
    bool global;
    struct block *b = lookup_block(c, &global);
    if (!b)
        return;
    for (;;) {
        /* The code size cannot change inside a block (that sets
         * PEND_BREAK), so 64-bit blocks, which need neither the
         * CS-limit check nor the IP wrap, run threaded — unless an
         * event is pending (one the CPU cannot take yet, such as an
         * interrupt while IF = 0): then one instruction runs and the
         * loop looks again, since the threaded fast paths do not check
         * (cpu/thread.h thread_next_fast). */
        bool done;
        if (c->code_size == 8 && !c->pending) {
            c->chain_until = until - c->icount > CHAIN_MAX ? c->icount + CHAIN_MAX : until;
            run_threaded(c, b);
            b = c->cur_block; /* where the chain ended (cpu/thread.h) */
            done = c->block_done;
        } else {
            done = run_cached(c, b) != BLOCK_LEFT;
        }
        if (done) {
            if (!b->complete) {
                run_decode(c, b);
                copy_runs(c, b);
                if (!b->complete)
                    return;
            }
            /* a complete block falls through to its successor like a
             * branch (a closed one must not: the instruction after it
             * crosses the page and runs alone, from run_decode) */
        }
        if (c->pending || c->icount >= until)
            return;
        b = next_block(c, b);
        if (!b)
            return;
    }
}

/*
 * Where this slice must stop for the VMX-preemption timer (SDM 25.5.1):
 * it expires when TSC >> VMX_TIMER_RATE reaches its deadline, and the
 * TSC advances one tick per instruction (idle skips move tsc_offset).
 * Blocks run to the returned bound, which stays BLOCK_MAX instructions
 * short of the expiry, since a legacy-mode block may overrun its
 * budget; within BLOCK_MAX of it PEND_VMX makes vmx_take_event() look
 * at every instruction boundary, so the exit comes exactly on time.
 */
static uint64_t timer_bound(struct cpu *c, uint64_t until)
{
    int64_t left = (int64_t)((c->vmx.timer_deadline << VMX_TIMER_RATE) -
                             (c->icount + c->tsc_offset));
    if (left <= BLOCK_MAX) {
        __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
        return until;
    }
    uint64_t stop = c->icount + (uint64_t)left - BLOCK_MAX;
    return stop < until ? stop : until;
}

void cpu_run(struct cpu *c, uint64_t until)
{
    if (setjmp(c->fault_jmp)) {
        /* a fault (possibly raised while delivering another) unwound here */
        take_exception(c);
        c->icount++;
    }
    while (c->icount < until) {
        uint64_t bound = until;
        if (__builtin_expect(c->vmx.timer_armed, 0))
            bound = timer_bound(c, until);
        if (__builtin_expect(c->pending != 0 || c->halted, 0)) {
            if (c->pending & PEND_BREAK)
                __atomic_and_fetch(&c->pending, ~PEND_BREAK, __ATOMIC_RELAXED);
            if (c->pending & PEND_STOP) {
                __atomic_and_fetch(&c->pending, ~PEND_STOP, __ATOMIC_RELAXED);
                return;
            }
            if (__builtin_expect(c->vmx.nonroot, 0)) {
                if (vmx_take_event(c)) /* VMX guest: exits and windows (vmx/events.c) */
                    continue;
            } else if (!c->inhibit_irq && take_event(c)) {
                continue;
            }
            if (c->halted && c->mwait_break_masked && (c->pending & PEND_INTR)) {
                /* MWAIT with "interrupts as break events": wake, do not deliver */
                c->halted = false;
                c->mwait_break_masked = false;
                continue;
            }
            if (c->halted)
                return; /* nothing to wake it: the board advances time */
        }
        /* one instruction at a time: the STI/MOV SS shadow, TF, RF (it
         * lasts one instruction, run_one clears it), breakpoints and the
         * debugger */
        if (__builtin_expect(c->inhibit_irq || (c->rflags & (FL_TF | FL_RF)) ||
                                 (c->dr_exec_mask | c->dr_data_mask) || c->dbg_active,
                             0)) {
            /* the shadow covers exactly one instruction */
            bool shadow = c->inhibit_irq;
            c->inhibit_irq = false;
            /* a VM exit by the instruction in the shadow saves the
             * blocking still in effect (SDM 27.3.4) */
            c->vmx.shadow = shadow ? (c->inhibit_debug ? 2 : 1) : 0;
            if (run_one(c)) {
                c->inhibit_irq = shadow;
                c->vmx.shadow = 0;
                return;
            }
            c->vmx.shadow = 0;
            continue;
        }
        run_blocks(c, bound);
    }
}
