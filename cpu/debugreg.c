/* cpu/debugreg.c — DR0-DR7 breakpoints (SDM Vol. 3A 17.2-17.3).
 *
 * While any breakpoint is enabled in DR7 the CPU runs one instruction
 * at a time (cpu/run.c, run_one) and every explicit memory access takes
 * the slow path (fast_mask = 0), where cpu_dr_data_access() compares it
 * with the data breakpoints.  With DR7 clear none of this costs
 * anything. */
#include "cpu/cpu_internal.h"

/* B0-B3 report the breakpoints that matched: a #DB for a breakpoint
 * match rewrites them, dropping stale ones, while BD and BS are only
 * ever set by the processor (SDM 17.2.3). */
#define DR6_B0_3 0xfu
#define DR6_BD (1u << 13)
#define DR6_BS (1u << 14)
#define DR7_GD (1u << 13)

/* LEN encodings 00, 01, 10, 11 are 1, 2, 8, 4 bytes (SDM Table 17-2) */
static const uint8_t len_bytes[4] = {1, 2, 8, 4};

void cpu_dr7_changed(struct cpu *c)
{
    uint64_t dr7 = c->dr[7];
    c->dr_exec_mask = 0;
    c->dr_data_mask = 0;
    for (unsigned k = 0; k < 4; k++) {
        if (!((dr7 >> (2 * k)) & 3))
            continue;
        unsigned rw = (dr7 >> (16 + 4 * k)) & 3;
        if (rw == 0)
            c->dr_exec_mask |= (uint8_t)(1u << k);
        else if (rw == 1 || rw == 3)
            c->dr_data_mask |= (uint8_t)(1u << k);
        /* rw == 2 is an I/O breakpoint (CR4.DE): not modelled */
    }
    c->fast_mask = (c->dr_data_mask || c->dbg_watch_mem) ? 0 : 0xff;
    cpu_fast_need_update(c);
    cpu_break_block(c);
}

void cpu_debug_config(struct cpu *c, bool active, bool watch_mem)
{
    c->dbg_active = active;
    c->dbg_watch_mem = watch_mem;
    cpu_dr7_changed(c); /* recomputes fast_mask and leaves the block */
}

/* Instruction breakpoints are faults, taken before the instruction
 * runs unless RFLAGS.RF is set (SDM 17.3.1.1). */
void cpu_dr_exec_check(struct cpu *c, uint64_t lin)
{
    if (c->rflags & FL_RF)
        return;
    unsigned hit = 0;
    for (unsigned k = 0; k < 4; k++)
        if (((c->dr_exec_mask >> k) & 1) && c->dr[k] == lin)
            hit |= 1u << k;
    if (!hit)
        return;
    if (c->vmx.nonroot) /* an exiting #DB leaves DR6 alone (SDM 27.1) */
        vmx_debug_fault(c, hit);
    c->dr[6] = (c->dr[6] & ~(uint64_t)DR6_B0_3) | hit;
    c->exc_insn_bp = true; /* saved with RF as it is (0), take_exception() */
    cpu_raise_noerr(c, EX_DB);
}

/* Data breakpoints are traps, reported after the instruction
 * (cpu/run.c delivers c->dr_hit). */
void cpu_dr_data_access(struct cpu *c, uint64_t lin, unsigned size, bool write)
{
    for (unsigned k = 0; k < 4; k++) {
        if (!((c->dr_data_mask >> k) & 1))
            continue;
        unsigned rw = (c->dr[7] >> (16 + 4 * k)) & 3;
        if (rw == 1 && !write)
            continue;
        uint64_t n = len_bytes[(c->dr[7] >> (18 + 4 * k)) & 3];
        uint64_t start = c->dr[k] & ~(n - 1); /* the range is LEN-aligned */
        if (lin < start + n && start < lin + size)
            c->dr_hit |= (uint8_t)(1u << k);
    }
}

/* MOV to or from a debug register with DR7.GD set: #DB fault with BD */
void cpu_dr_general_detect(struct cpu *c)
{
    if (!(c->dr[7] & DR7_GD))
        return;
    if (c->vmx.nonroot) /* an exiting #DB leaves DR6 and DR7.GD alone (SDM 27.1) */
        vmx_debug_fault(c, DR6_BD);
    c->dr[6] |= DR6_BD;
    c->dr[7] &= ~(uint64_t)DR7_GD; /* cleared on entry to the handler */
    cpu_raise_noerr(c, EX_DB);
}

/* After an instruction: the pending single-step and data-breakpoint
 * traps become one #DB (SDM 17.3.1.2). */
void cpu_dr_deliver_traps(struct cpu *c, bool single_step)
{
    if (!single_step && !c->dr_hit)
        return;
    unsigned hit = c->dr_hit;
    c->dr_hit = 0;
    c->insn_rip = c->rip;
    if (c->vmx.nonroot && vmx_debug_trap_exits(c, hit | (single_step ? DR6_BS : 0)))
        return; /* DR6 untouched (SDM 27.1) */
    if (hit)
        c->dr[6] = (c->dr[6] & ~(uint64_t)DR6_B0_3) | hit;
    if (single_step)
        c->dr[6] |= DR6_BS;
    c->dr[7] &= ~(uint64_t)DR7_GD;
    cpu_deliver(c, EX_DB, INT_EXCEPTION, false, 0);
}
