/* cpu/run.c — the fetch/decode/execute loop, event delivery at
 * instruction boundaries, and exception escalation (#DF, shutdown). */
#include "cpu/cpu_internal.h"
#include "devices/machine.h"

/* SDM Vol. 3A Table 6-5: exception classes for double-fault detection */
enum exc_class { BENIGN, CONTRIBUTORY, PAGE_FAULT };

static enum exc_class exc_class(int v)
{
    if (v == EX_PF)
        return PAGE_FAULT;
    if (v == EX_DE || (v >= EX_TS && v <= EX_GP))
        return CONTRIBUTORY;
    return BENIGN;
}

void cpu_set_intr(struct cpu *c, bool level)
{
    if (level)
        __atomic_or_fetch(&c->pending, PEND_INTR, __ATOMIC_RELAXED);
    else
        __atomic_and_fetch(&c->pending, ~PEND_INTR, __ATOMIC_RELAXED);
}

void cpu_request_stop(struct cpu *c)
{
    __atomic_or_fetch(&c->pending, PEND_STOP, __ATOMIC_RELAXED);
}

static void shutdown(struct cpu *c)
{
    /* SDM 6.15 "Interrupt 8": a fault while delivering #DF shuts the processor down */
    c->delivering = -1;
    c->halted = true;
    machine_request_stop(c->machine, MACHINE_TRIPLE_FAULT, 0, "triple fault");
}

/* Called after cpu_raise() unwound to the run loop. */
static void take_exception(struct cpu *c)
{
    int v = c->exc_vector;
    bool has_err = c->exc_has_error;
    uint32_t err = c->exc_error;
    int prev = c->delivering;
    c->rip = c->insn_rip; /* faults report the faulting instruction */
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
        }
    }
    c->delivering = v;
    cpu_deliver(c, v, INT_EXCEPTION, has_err, err);
    c->delivering = -1;
}

/* Interrupts and NMIs at an instruction boundary (SDM 6.9 priorities). */
static bool take_event(struct cpu *c)
{
    uint32_t p = c->pending;
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

void cpu_run(struct cpu *c, uint64_t until)
{
    struct insn in;
    if (setjmp(c->fault_jmp)) {
        /* a fault (possibly raised while delivering another) unwound here */
        take_exception(c);
        c->icount++;
    }
    while (c->icount < until) {
        if (__builtin_expect(c->pending != 0 || c->halted, 0)) {
            if (c->pending & PEND_STOP) {
                __atomic_and_fetch(&c->pending, ~PEND_STOP, __ATOMIC_RELAXED);
                return;
            }
            if (!c->inhibit_irq && take_event(c))
                continue;
            if (c->halted)
                return; /* nothing to wake it: the board advances time */
        }
        c->inhibit_irq = false;
        bool tf = (c->rflags & FL_TF) != 0;
        c->insn_rip = c->rip;
        cpu_decode(c, &in);
        c->cur = &in;
        uint64_t next = c->rip + in.len;
        c->rip = c->code_size == 8 ? next : c->code_size == 4 ? (uint32_t)next : (uint16_t)next;
        in.fn(c, &in);
        c->icount++;
        if (__builtin_expect(tf, 0)) {
            /* single-step trap after the instruction (SDM 17.3.1.4) */
            c->dr[6] |= 1u << 14;
            c->insn_rip = c->rip;
            cpu_deliver(c, EX_DB, INT_EXCEPTION, false, 0);
        }
    }
}
