/* vmx/events.c — events in VMX non-root operation (SDM Vol. 3C): the
 * pin-based controls for external interrupts and NMIs and virtual NMIs
 * (24.6.1, 25.2, 25.3), interrupt- and NMI-window exiting (25.2,
 * 26.7.5-26.7.6), exceptions and the exception bitmap (25.2), event
 * injection and the HLT activity state at VM entry (26.6, 26.7), and
 * the information a VM exit records about events: VM-exit interruption
 * information and IDT-vectoring information (27.2.2-27.2.4), saved
 * interruptibility and activity state (27.3.4); and the monitor trap
 * flag (25.5.2, 26.6.8).
 *
 * The CPU calls in only when c->vmx.nonroot is set (one predictable
 * branch at each hook), so ordinary execution pays nothing.
 *
 * Choices the SDM leaves to the implementation (25.4.1 "Event
 * blocking"): blocking by STI and by MOV SS holds external interrupts
 * and NMIs for one instruction even when they cause VM exits, and it
 * holds NMI-window exits too, as it does outside VMX operation. */
#include <setjmp.h>

#include "cpu/cpu_internal.h"
#include "vmx/vmx_internal.h"

#define VMX_PIN_CONTROLS(c) ((uint32_t)(c)->vmx.vmcs.f[VF_PIN_BASED_CONTROLS])

/* interruption-information fields (SDM Tables 24-15, 24-16, 24-17) */
#define INFO_VALID     (1u << 31)
#define INFO_ERR_VALID (1u << 11)
#define INFO_NMI_UNBLOCK (1u << 12) /* VM-exit interruption information only */
enum { TYPE_EXTERNAL = 0, TYPE_NMI = 2, TYPE_HW_EXCEPTION = 3, TYPE_SW_INTERRUPT = 4,
       TYPE_PRIV_SW_EXCEPTION = 5, TYPE_SW_EXCEPTION = 6, TYPE_OTHER = 7 };

static uint32_t event_info(unsigned vector, unsigned type, bool has_error)
{
    return vector | (type << 8) | (has_error ? INFO_ERR_VALID : 0) | INFO_VALID;
}

static _Noreturn void unwind(struct cpu *c)
{
    c->exc_vector = VMX_UNWIND_EXIT;
    longjmp(c->fault_jmp, 1);
}

/* A VM exit caused by an event: its interruption information, the
 * IDT-vectoring information when it happened during event delivery
 * (27.2.3), then the common exit. */
/* the VMX-preemption timer's clock: the TSC >> the rate of IA32_VMX_MISC */
static uint64_t timer_now(const struct cpu *c)
{
    return (c->icount + c->tsc_offset) >> VMX_TIMER_RATE;
}

static void event_exit(struct cpu *c, unsigned reason, uint32_t info, uint32_t error,
                       uint64_t qualification, bool during_delivery)
{
    vmcs_set(c, VF_EXIT_INTR_INFO, info);
    vmcs_set(c, VF_EXIT_INTR_ERROR_CODE, (info & INFO_ERR_VALID) ? error : 0);
    uint32_t vectoring = during_delivery ? c->vmx.vectoring : 0;
    vmcs_set(c, VF_IDT_VECTORING_INFO, vectoring);
    vmcs_set(c, VF_IDT_VECTORING_ERROR_CODE,
             (vectoring & INFO_ERR_VALID) ? c->vmx.vectoring_err : 0);
    c->vmx.event_exit = true;
    vmx_event_vm_exit(c, reason, qualification);
}

/* 25.2: the exception bitmap selects which exceptions exit; for #PF
 * the bit's meaning is inverted unless (error & mask) == match. */
static bool bitmap_exits(const struct cpu *c, int vector, uint32_t error)
{
    bool exits = (vmcs_get(c, VF_EXCEPTION_BITMAP) >> vector) & 1;
    if (vector == EX_PF) {
        uint32_t mask = (uint32_t)vmcs_get(c, VF_PAGE_FAULT_ERROR_MASK);
        uint32_t match = (uint32_t)vmcs_get(c, VF_PAGE_FAULT_ERROR_MATCH);
        if ((error & mask) != match)
            exits = !exits;
    }
    return exits;
}

/* 27.2.2 bit 12 "NMI unblocking due to IRET": the exit is a fault of an
 * IRET that removed blocking by NMI (virtual-NMI blocking with virtual
 * NMIs); undefined, and left 0, with NMI exiting but not virtual NMIs.
 * EPT violations report the same in their qualification (vmx/ept.c). */
bool vmx_nmi_unblocked_by_iret(const struct cpu *c)
{
    uint32_t pin = VMX_PIN_CONTROLS(c);
    if ((pin & PIN_NMI_EXITING) && !(pin & PIN_VIRTUAL_NMIS))
        return false;
    return c->vmx.iret_unblocked && c->vmx.iret_icount == c->icount;
}

bool vmx_exception_exits(struct cpu *c, int vector, bool has_error, uint32_t error)
{
    if (!bitmap_exits(c, vector, error))
        return false;
    uint32_t info = event_info((unsigned)vector, TYPE_HW_EXCEPTION, has_error);
    bool during_delivery = c->vmx.vectoring & INFO_VALID;
    if (!during_delivery && vector != EX_DF && vmx_nmi_unblocked_by_iret(c))
        info |= INFO_NMI_UNBLOCK;
    /* 27.2.4: an exit during delivery of a software interrupt or
     * exception (INT n, INT3, INTO, INT1, or one VM entry injected)
     * gives that instruction's length */
    unsigned vtype = (c->vmx.vectoring >> 8) & 7;
    bool soft = during_delivery && vtype >= TYPE_SW_INTERRUPT && vtype <= TYPE_SW_EXCEPTION;
    vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, soft ? c->vmx.vectoring_len : 0);
    c->rip = c->insn_rip;
    /* 27.3.3: RFLAGS.RF as the delivery would have pushed it (1 for a
     * fault, cpu/run.c) */
    if (c->event_rf)
        c->rflags |= FL_RF;
    /* 27.2.1: a #PF's qualification is its linear address (the caller
     * puts CR2 back: an exiting #PF leaves it alone, 27.1) */
    event_exit(c, VMX_EXIT_EXCEPTION_NMI, info, error, vector == EX_PF ? c->cr2 : 0,
               during_delivery);
    return true;
}

void vmx_soft_exception(struct cpu *c, int vector, unsigned type)
{
    if (!bitmap_exits(c, vector, 0)) {
        c->vmx.soft_type = (uint8_t)type; /* for the IDT-vectoring record */
        return;
    }
    /* 25.2: the bitmap applies to INT3, INTO and INT1 too; the exit is
     * fault-like — the guest RIP is the instruction's, and the
     * instruction length is saved (27.2.4) so that the VMM can
     * re-inject the event as a software exception */
    uint64_t len = (c->rip - c->insn_rip) & size_mask(c->code_size);
    c->rip = c->insn_rip;
    vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, len);
    event_exit(c, VMX_EXIT_EXCEPTION_NMI, event_info((unsigned)vector, type, false), 0, 0, false);
    unwind(c);
}

/* 25.5.2: an MTF VM exit is due on this boundary: pending since VM
 * entry or an event's delivery, or an instruction retired since the
 * boundary the count started at */
static bool mtf_due(const struct cpu *c)
{
    const struct vmx *v = &c->vmx;
    return v->mtf_pending || ((VMX_PROC_CONTROLS(c) & PROC_MONITOR_TRAP_FLAG) &&
                              v->mtf_counting && c->icount != v->mtf_icount);
}

static void mtf_exit(struct cpu *c)
{
    c->vmx.mtf_pending = false;
    vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
    event_exit(c, VMX_EXIT_MONITOR_TRAP_FLAG, 0, 0, 0, false);
}

/* The pending debug exceptions field (SDM Table 24-4): B3-B0 in 3:0
 * and BS in 14, where DR6 has them; bit 12 "enabled breakpoint" when
 * one of B3-B0 is set (nest86 records hits of enabled breakpoints
 * only). */
#define PDBG_B0_3 0xfu
#define PDBG_ENABLED_BP (1u << 12)
#define PDBG_BS (1u << 14)

static uint32_t pending_dbg_of(unsigned dr6_bits)
{
    uint32_t v = dr6_bits & (PDBG_B0_3 | PDBG_BS);
    return v | ((v & PDBG_B0_3) ? PDBG_ENABLED_BP : 0);
}

/* 26.6.3: debug exceptions pending at VM entry are delivered (or exit
 * through the exception bitmap) on the boundary before the guest's
 * first instruction, as traps of the instruction before it */
static void deliver_pending_dbg(struct cpu *c)
{
    uint32_t bits = c->vmx.pending_dbg;
    c->vmx.pending_dbg = 0;
    c->dr_hit = bits & PDBG_B0_3;
    cpu_dr_deliver_traps(c, bits & PDBG_BS);
}

/* 27.2.1: a #DB exit's qualification holds the DR6 bits B0-B3, BD and
 * BS of the exception, and DR6/DR7 are left alone (27.1) */
void vmx_debug_fault(struct cpu *c, unsigned dr6_bits)
{
    if (!bitmap_exits(c, EX_DB, 0))
        return;
    c->rip = c->insn_rip;
    if (dr6_bits & (1u << 13)) /* general detect is a fault: RF = 1 (27.3.3) */
        c->rflags |= FL_RF;
    vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
    event_exit(c, VMX_EXIT_EXCEPTION_NMI, event_info(EX_DB, TYPE_HW_EXCEPTION, false), 0,
               dr6_bits, false);
    unwind(c);
}

bool vmx_debug_trap_exits(struct cpu *c, unsigned dr6_bits)
{
    if (mtf_due(c)) {
        /* 25.5.2: an MTF VM exit comes before a debug trap, which stays
         * pending in the guest's pending debug exceptions (27.3.4) for
         * the next VM entry to deliver */
        c->vmx.shadow = 0;
        c->vmx.pending_dbg = pending_dbg_of(dr6_bits);
        mtf_exit(c);
        return true;
    }
    if (!bitmap_exits(c, EX_DB, 0))
        return false;
    c->vmx.shadow = 0; /* the instruction completed: its shadow is over */
    vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
    event_exit(c, VMX_EXIT_EXCEPTION_NMI, event_info(EX_DB, TYPE_HW_EXCEPTION, false), 0,
               dr6_bits, false);
    return true;
}

bool vmx_intr_exits(const struct cpu *c)
{
    return VMX_PIN_CONTROLS(c) & PIN_EXT_INTR_EXITING;
}

/* Delivers interrupt 'vec' through the guest IDT at this instruction
 * boundary; false for -1 (nothing to deliver). */
static bool deliver_interrupt(struct cpu *c, int vec)
{
    if (vec < 0)
        return false;
    c->insn_rip = c->rip;
    c->delivering = -1;
    cpu_deliver(c, vec, INT_EXTERNAL, false, 0);
    return true;
}

/* An external interrupt the local APIC requests, not blocked by STI or
 * MOV SS: true when something happened (an exit, posted-interrupt
 * processing or a delivery). */
static bool external_interrupt(struct cpu *c, uint32_t pin)
{
    if (pin & PIN_EXT_INTR_EXITING) {
        /* 25.2: exits whatever RFLAGS.IF says.  With "acknowledge
         * interrupt on exit" the controller is acknowledged and the
         * vector recorded (27.2.2); without, the interruption
         * information is invalid and the interrupt stays pending.
         * "Process posted interrupts" needs the acknowledgement (26.2.1.1)
         * and takes the notification vector instead of exiting (29.6). */
        uint32_t info = 0;
        if (vmcs_get(c, VF_EXIT_CONTROLS) & EXIT_ACK_INTR_ON_EXIT) {
            int vec = c->intr_ack(c->intr_opaque);
            if (vec < 0)
                return false; /* the controller withdrew the request */
            if (vmx_apicv_posted(c, vec))
                return true;
            info = event_info((unsigned)vec, TYPE_EXTERNAL, false);
        }
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, VMX_EXIT_EXTERNAL_INTERRUPT, info, 0, 0, false);
        return true;
    }
    if (!(c->rflags & FL_IF))
        return false;
    return deliver_interrupt(c, c->intr_ack(c->intr_opaque));
}

/* The MTF exit at an instruction boundary, else the count's start (the
 * first boundary after VM entry; an instruction that exits instead of
 * retiring ends the guest first).  Not blocked by STI, MOV SS or the
 * HLT state (26.6.8); the exit records none of the event fields. */
static bool mtf_exits(struct cpu *c)
{
    struct vmx *v = &c->vmx;
    bool counting = VMX_PROC_CONTROLS(c) & PROC_MONITOR_TRAP_FLAG;
    if (mtf_due(c)) {
        mtf_exit(c);
        return true;
    }
    if (counting && !v->mtf_counting) {
        v->mtf_counting = true;
        v->mtf_icount = c->icount;
    }
    return false;
}

/* Interrupts, NMIs and the window exits at an instruction boundary, in
 * the SDM's priority order (6.9 with 25.2): MTF exits, pending debug
 * exceptions, the preemption timer, NMI-window exits, NMIs,
 * interrupt-window exits, external interrupts.  Each of them also ends
 * the HLT state (26.7.5, 26.7.6); the exits save activity state HLT. */
bool vmx_take_event(struct cpu *c)
{
    uint32_t pin = VMX_PIN_CONTROLS(c), proc = VMX_PROC_CONTROLS(c);
    uint32_t p = c->pending;
    bool shadow = c->inhibit_irq; /* blocking by STI or by MOV SS */
    uint8_t inactive = c->halted ? c->vmx.activity : 0;

    /* 26.6.2: the wait-for-SIPI state blocks external interrupts, NMIs,
     * INIT and SMIs, and no exit of the controls occurs in it (25.2,
     * 25.5.1, 26.6.8); a SIPI exits with its vector as the
     * qualification (27.2.1) */
    if (inactive == VMX_ACTIVITY_WAIT_SIPI) {
        if (!c->vmx.sipi_pending)
            return false;
        c->vmx.sipi_pending = false;
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, VMX_EXIT_SIPI, 0, 0, c->vmx.sipi_vector, false);
        return true;
    }

    /* the trap-like exits of APIC virtualization follow the instruction
     * (or VM entry) that caused them before anything else (29.1.2,
     * 29.1.4, 29.4.3.3; 26.7.7) */
    uint64_t trap_qual;
    unsigned trap = vmx_apicv_trap(c, &trap_qual);
    if (trap) {
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, trap, 0, 0, trap_qual, false);
        return true;
    }
    /* 25.2: an INIT causes a VM exit, in any state but wait-for-SIPI;
     * INIT comes after those trap-like exits (26.6.7) and before debug
     * traps and MTF exits (6.9; nest86 has no SMIs) */
    if (p & PEND_INIT) {
        c->init_latched = false;
        __atomic_and_fetch(&c->pending, ~PEND_INIT, __ATOMIC_RELAXED);
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, VMX_EXIT_INIT_SIGNAL, 0, 0, 0, false);
        return true;
    }
    /* 25.5.2: MTF VM exits come before debug traps and all that follows */
    if (mtf_exits(c))
        return true;
    /* 26.6.3: pending debug exceptions have the priority of traps on
     * the previous instruction: after MTF, before the timer */
    if (c->vmx.pending_dbg) {
        deliver_pending_dbg(c);
        return true;
    }
    /* 25.2: the preemption timer's exit comes before NMI-window exits
     * and NMIs; it also ends the HLT state */
    if (c->vmx.timer_armed && timer_now(c) >= c->vmx.timer_deadline) {
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, VMX_EXIT_PREEMPTION_TIMER, 0, 0, 0, false);
        return true;
    }
    /* 25.2: no virtual-NMI blocking and no blocking by MOV SS (nor, in
     * nest86, by STI, which the SDM permits) */
    if ((proc & PROC_NMI_WINDOW_EXITING) && !c->vmx.vnmi_blocked && !shadow) {
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, VMX_EXIT_NMI_WINDOW, 0, 0, 0, false);
        return true;
    }
    /* with virtual NMIs, NMIs are not blocked in non-root operation
     * (26.7.1); without, blocking by NMI holds them */
    bool nmi_blocked = (pin & PIN_VIRTUAL_NMIS) ? false : c->nmi_blocked;
    if ((p & PEND_NMI) && !shadow && !nmi_blocked) {
        __atomic_and_fetch(&c->pending, ~PEND_NMI, __ATOMIC_RELAXED);
        if (pin & PIN_NMI_EXITING) {
            /* exit reason 0 with an NMI's interruption information;
             * NMIs are blocked only after the exit (27.1, 27.5.5) */
            vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
            event_exit(c, VMX_EXIT_EXCEPTION_NMI, event_info(EX_NMI, TYPE_NMI, false), 0, 0,
                       false);
            c->nmi_blocked = true;
            return true;
        }
        c->insn_rip = c->rip;
        c->delivering = -1;
        cpu_deliver(c, EX_NMI, INT_NMI, false, 0);
        return true;
    }
    /* 26.6.2: the shutdown state blocks external interrupts, and with
     * them the exits and deliveries that would wake it as one would
     * (25.2 interrupt-window exits, 29.2.2 virtual interrupts) */
    if (inactive == VMX_ACTIVITY_SHUTDOWN)
        return false;
    if ((proc & PROC_INTR_WINDOW_EXITING) && (c->rflags & FL_IF) && !shadow) {
        vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, 0);
        event_exit(c, VMX_EXIT_INTERRUPT_WINDOW, 0, 0, 0, false);
        return true;
    }
    if ((p & PEND_INTR) && !shadow && c->intr_ack && external_interrupt(c, pin))
        return true;
    /* 29.2.2: virtual-interrupt delivery, below external interrupts and
     * with the priority of interrupt-window exits (which come first
     * when armed: evaluation recognizes nothing then) */
    if (shadow || !(c->rflags & FL_IF))
        return false;
    return deliver_interrupt(c, vmx_apicv_virtual_intr(c));
}

void vmx_delivery_begin(struct cpu *c, int vector, int kind, bool has_error, uint32_t error)
{
    unsigned type;
    switch (kind) {
    case INT_EXTERNAL: type = TYPE_EXTERNAL; break;
    case INT_NMI: type = TYPE_NMI; break;
    case INT_EXCEPTION: type = TYPE_HW_EXCEPTION; break;
    case INT_PRIV_SW: type = TYPE_PRIV_SW_EXCEPTION; break;
    default: type = c->vmx.soft_type == TYPE_SW_EXCEPTION ? TYPE_SW_EXCEPTION : TYPE_SW_INTERRUPT; break;
    }
    struct vmx *v = &c->vmx;
    v->soft_type = 0;
    /* 25.5.2: with the monitor trap flag, an MTF VM exit is pending once
     * the event is delivered (its handler's first instruction is next) */
    if (VMX_PROC_CONTROLS(c) & PROC_MONITOR_TRAP_FLAG)
        v->mtf_pending = true;
    /* 27.2.3: what an exit during this delivery reports */
    v->vectoring = event_info((unsigned)vector & 0xff, type, has_error);
    v->vectoring_err = error;
    v->vectoring_len = type >= TYPE_SW_INTERRUPT
                           ? (uint32_t)((c->rip - c->insn_rip) & size_mask(c->code_size)) : 0;
    /* an event ends blocking by STI and MOV SS (26.7.1) and an inactive
     * state (27.1: an exit during delivery saves the active state) */
    v->shadow = 0;
    c->halted = false;
    v->activity = 0;
    if (kind == INT_NMI) {
        /* with virtual NMIs, delivering an NMI (only an injected one
         * reaches the guest IDT) blocks virtual NMIs (26.6.1.1) */
        if (VMX_PIN_CONTROLS(c) & PIN_VIRTUAL_NMIS)
            v->vnmi_blocked = true;
        else
            c->nmi_blocked = true;
    }
}

void vmx_iret(struct cpu *c)
{
    uint32_t pin = VMX_PIN_CONTROLS(c);
    bool was;
    if (pin & PIN_VIRTUAL_NMIS) {
        /* 25.3: IRET removes virtual-NMI blocking (even if it faults) */
        was = c->vmx.vnmi_blocked;
        c->vmx.vnmi_blocked = false;
    } else if (pin & PIN_NMI_EXITING) {
        /* 26.7.1: blocking by NMI lasts as long as non-root operation */
        was = false;
    } else {
        was = c->nmi_blocked;
        c->nmi_blocked = false;
    }
    c->vmx.iret_unblocked = was;
    c->vmx.iret_icount = c->icount;
}

/* ---- VM entry (SDM 26.6-26.7) ---- */

/* 26.6: the event in the VM-entry interruption-information field,
 * delivered through the guest IDT as if it happened now */
static void inject_event(struct cpu *c, uint32_t info)
{
    /* the valid bit is cleared on every VM exit (24.8.3); clear it now so
     * an exit during delivery sees it clear */
    vmcs_set(c, VF_ENTRY_INTR_INFO, info & ~INFO_VALID);
    unsigned vec = info & 0xff, type = (info >> 8) & 7;
    if (type == TYPE_OTHER) {
        /* 26.5.2: type 7 vector 0 injects a pending MTF VM exit, even
         * with the monitor trap flag 0; nothing is delivered */
        c->vmx.mtf_pending = true;
        __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
        return;
    }
    bool has_err = info & INFO_ERR_VALID;
    uint32_t err = (uint32_t)vmcs_get(c, VF_ENTRY_EXCEPTION_ERROR_CODE);
    uint64_t len = vmcs_get(c, VF_ENTRY_INSTRUCTION_LEN);
    enum int_kind kind;
    switch (type) {
    case TYPE_EXTERNAL: kind = INT_EXTERNAL; break;
    case TYPE_NMI: kind = INT_NMI; break;
    case TYPE_HW_EXCEPTION: kind = INT_EXCEPTION; break;
    case TYPE_PRIV_SW_EXCEPTION: kind = INT_PRIV_SW; break;
    default: kind = INT_SOFTWARE; break; /* 4 software interrupt, 6 software exception */
    }
    /* 26.7.1: a vectoring VM entry leaves no blocking by STI or MOV SS */
    c->inhibit_irq = false;
    c->inhibit_debug = false;
    c->insn_rip = c->rip;
    if (kind == INT_SOFTWARE || kind == INT_PRIV_SW)
        c->rip = (c->rip + len) & size_mask(c->code_size); /* the return address follows the "instruction" */
    c->vmx.soft_type = (uint8_t)type;
    c->delivering = kind == INT_EXCEPTION ? (int)vec : -1;
    cpu_deliver(c, (int)vec, kind, has_err, err);
    c->delivering = -1;
}

/* The VMX-preemption timer's value now (27.3.4: saved at VM exits with
 * "save VMX-preemption timer value"); 0 once it has expired. */
uint64_t vmx_timer_remaining(const struct cpu *c)
{
    uint64_t now = timer_now(c);
    return c->vmx.timer_deadline > now ? c->vmx.timer_deadline - now : 0;
}

void vmx_entry_events(struct cpu *c)
{
    uint32_t info = (uint32_t)vmcs_get(c, VF_ENTRY_INTR_INFO);
    /* 26.5.2: injecting a pending MTF exit (type 7) is not vectoring */
    bool vectoring = (info & INFO_VALID) && ((info >> 8) & 7) != TYPE_OTHER;
    struct vmx *v = &c->vmx;
    uint32_t pin = VMX_PIN_CONTROLS(c), proc = VMX_PROC_CONTROLS(c);
    /* 25.5.1: the timer starts from the VMCS field at VM entry and is
     * looked at every instruction boundary; at zero it exits, before the
     * guest's first instruction if it starts at zero.  cpu_run() runs
     * the guest in slices that end short of the deadline and raises
     * PEND_VMX only for the last few instructions before it, so a timer
     * far away costs nothing per instruction. */
    v->timer_armed = pin & PIN_PREEMPTION_TIMER;
    if (v->timer_armed)
        v->timer_deadline = timer_now(c) + (uint32_t)vmcs_get(c, VF_PREEMPTION_TIMER_VALUE);
    v->vectoring = 0;
    v->soft_type = 0;
    v->shadow = 0;
    v->event_exit = false;
    v->iret_unblocked = false;
    v->vnmi_blocked = false;
    v->ple_seen = false; /* the next PAUSE starts a loop (25.1.3) */
    v->mtf_pending = false;
    v->mtf_counting = false;
    v->rep_one = proc & PROC_MONITOR_TRAP_FLAG;
    /* 26.6.3: the pending debug exceptions (B3-B0 or BS set) are
     * delivered after a VM entry that is not vectoring (injecting a
     * pending MTF exit is not) and leaves no blocking by MOV SS;
     * otherwise nest86 drops them, which the SDM permits for MOV SS and
     * for most vectoring entries */
    uint64_t pdbg = vmcs_get(c, VF_GUEST_PENDING_DBG_EXCEPTIONS);
    v->pending_dbg = 0;
    if ((pdbg & (PDBG_B0_3 | PDBG_BS)) && !vectoring &&
        !(vmcs_get(c, VF_GUEST_INTERRUPTIBILITY) & 2)) {
        v->pending_dbg = (uint32_t)pdbg & (PDBG_B0_3 | PDBG_ENABLED_BP | PDBG_BS);
        __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
    }
    if (pin & PIN_VIRTUAL_NMIS) {
        /* 26.7.1: interruptibility bit 3 is virtual-NMI blocking; NMIs
         * themselves are not blocked in non-root operation */
        v->vnmi_blocked = vmcs_get(c, VF_GUEST_INTERRUPTIBILITY) & 8;
        c->nmi_blocked = false;
    }
    /* window and MTF exits are looked for at every instruction boundary
     * while armed; pending interrupts and NMIs are already in
     * c->pending, so they are evaluated before the guest's first
     * instruction */
    if (proc & (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING | PROC_MONITOR_TRAP_FLAG))
        __atomic_or_fetch(&c->pending, PEND_VMX, __ATOMIC_RELAXED);
    cpu_break_block(c);
    vmx_apicv_enter(c); /* the APIC-access page, RVI/SVI, the TPR threshold */
    if (info & INFO_VALID)
        inject_event(c, info); /* 26.7.2: a vectoring entry ends active */
    /* 26.6.2: a vectoring entry leaves the guest active; otherwise it
     * ends in the activity state of the guest-state area.  An INIT that
     * root operation held is recognized now (33.2) */
    uint64_t act = vmcs_get(c, VF_GUEST_ACTIVITY_STATE);
    v->activity = 0;
    v->sipi_pending = false;
    if (!vectoring && act != VMX_ACTIVITY_ACTIVE) {
        c->halted = true;
        if (act != VMX_ACTIVITY_HLT)
            v->activity = (uint8_t)act;
    }
    cpu_init_update(c);
}

/* ---- VM exit (SDM 27.2-27.3) ---- */

void vmx_exit_event_fields(struct cpu *c)
{
    struct vmx *v = &c->vmx;
    /* exits that are not caused by an event leave the VM-exit
     * interruption information invalid (27.2.2); one that happens
     * while an event is delivered through the guest IDT (a task switch,
     * an EPT violation or APIC access of the delivery) records that
     * event as IDT-vectoring information, with the length of a software
     * event's instruction (27.2.3, 27.2.4) — instructions never run
     * during a delivery, so for them the record is empty */
    if (!v->event_exit) {
        vmcs_set(c, VF_EXIT_INTR_INFO, 0);
        vmcs_set(c, VF_IDT_VECTORING_INFO, v->vectoring);
        if (v->vectoring & INFO_VALID) {
            vmcs_set(c, VF_IDT_VECTORING_ERROR_CODE, v->vectoring_err);
            unsigned type = (v->vectoring >> 8) & 7;
            if (type >= TYPE_SW_INTERRUPT && type <= TYPE_SW_EXCEPTION)
                vmcs_set(c, VF_EXIT_INSTRUCTION_LEN, v->vectoring_len);
        }
    }
    v->event_exit = false;
}

uint32_t vmx_saved_interruptibility(const struct cpu *c)
{
    /* blocking by STI or MOV SS: after the instruction that set it, or
     * during the instruction in its shadow that caused the exit */
    uint32_t intr = c->vmx.shadow;
    if (c->inhibit_irq)
        intr = c->inhibit_debug ? 2 : 1;
    /* 27.3.4: bit 3 is virtual-NMI blocking with virtual NMIs */
    bool nmi = (VMX_PIN_CONTROLS(c) & PIN_VIRTUAL_NMIS) ? c->vmx.vnmi_blocked : c->nmi_blocked;
    return intr | (nmi ? 8 : 0);
}

uint32_t vmx_saved_pending_dbg(struct cpu *c)
{
    uint32_t v = c->vmx.pending_dbg;
    c->vmx.pending_dbg = 0;
    return v;
}

void vmx_events_leave(struct cpu *c)
{
    vmx_apicv_leave(c);
    c->vmx.timer_armed = false;
    c->vmx.mtf_pending = false;
    c->vmx.rep_one = false;
    __atomic_and_fetch(&c->pending, ~PEND_VMX, __ATOMIC_RELAXED);
    c->vmx.vectoring = 0;
    c->vmx.soft_type = 0;
    c->vmx.shadow = 0;
    c->vmx.iret_unblocked = false;
}
