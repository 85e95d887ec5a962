/* vmx/vmx_internal.h — shared between the files of vmx/ only. */
#ifndef NEST86_VMX_INTERNAL_H
#define NEST86_VMX_INTERNAL_H

#include "cpu/cpu_internal.h"
#include "vmx/caps.h"
#include "vmx/vmx.h"

/* SDM 30.2 conventions: VMsucceed, and VMfail (VMfailInvalid when there
 * is no current VMCS, else VMfailValid with the error number) */
void vmx_succeed(struct cpu *c);
void vmx_fail(struct cpu *c, enum vmx_error err);

/* INVEPT and INVVPID (vmx/ept.c): the #UD conditions, the VM exit in
 * non-root operation, the CPL check; returns the type operand */
uint64_t vmx_inv_prologue(struct cpu *c, const struct insn *i, unsigned exit_reason);

/* the VMX-preemption timer's value now (events.c) */
uint64_t vmx_timer_remaining(const struct cpu *c);

/* An EPT violation (MMU_FAULT_EPT_VIOLATION) that becomes a
 * virtualization exception: true when the information area was written
 * and the caller is to raise #VE instead of exiting (vmx/ve.c) */
bool vmx_ve_convert(struct cpu *c, const struct mmu_fault *f);

/* VM functions (vmfunc.c): the VM-entry checks on the VM-function
 * controls (NULL: all well, 26.2.1.1), VMFUNC */
const char *vmx_vmfunc_entry_problem(const struct cpu *c, uint32_t proc2);
void vmx_vmfunc(struct cpu *c, const struct insn *i);

/* the guest's TLB context key, 0 without VPID (vmx/vpid.c) */
uint64_t vmx_tlb_key(const struct cpu *c);

/* VMLAUNCH (launch = true) / VMRESUME after the common checks (entry.c) */
void vmx_launch(struct cpu *c, bool launch);

/* An instruction's VM exit (exit.c): the instruction length and the
 * VM-exit instruction-information field 'info' (SDM 27.2.5; 0 for the
 * instructions that have no format for it) go with the reason and
 * qualification.  Does not return. */
_Noreturn void vmx_exit_insn_with_info(struct cpu *c, unsigned reason, uint64_t qualification,
                                       uint32_t info);

/* Loads host state and leaves non-root operation (exit.c); the exit
 * information fields must already be written. */
void vmx_load_host_state(struct cpu *c);
/* Saves the guest state into the VMCS (exit.c). */
void vmx_save_guest_state(struct cpu *c);

static inline uint64_t vmcs_get(const struct cpu *c, enum vmcs_field_id id)
{
    return c->vmx.vmcs.f[id];
}

static inline void vmcs_set(struct cpu *c, enum vmcs_field_id id, uint64_t v)
{
    c->vmx.vmcs.f[id] = v & vmcs_field_mask[id];
}

/* EPT (ept.c): what is wrong with an EPTP (NULL: nothing, 26.2.1.1);
 * the PAE guest's PDPTE fields (26.3.1.6); hooking the walk in at VM
 * entry (true when "enable EPT" is 1), saving guest state, unhooking
 * when host state is loaded */
const char *vmx_ept_eptp_problem(uint64_t eptp);
/* events.c: the current instruction is an IRET that removed (virtual-)
 * NMI blocking (exit qualification / interruption information bit 12) */
bool vmx_nmi_unblocked_by_iret(const struct cpu *c);
bool vmx_ept_guest_pdptes_ok(const struct cpu *c);
bool vmx_ept_enter(struct cpu *c);
void vmx_ept_save_guest(struct cpu *c);
void vmx_ept_leave(struct cpu *c);

/* the guest or host segment register fields, in SEG_* order (ES, CS, SS,
 * DS, FS, GS), then LDTR and TR */
enum { VMX_SEG_LDTR = 6, VMX_SEG_TR = 7 };
/* events.c: VM entry's event part — virtual-NMI state, window exits,
 * event injection (SDM 26.5) and the HLT activity state (26.6.2) */
void vmx_entry_events(struct cpu *c);
/* events.c, for exit.c: at the start of every VM exit (interruption and
 * IDT-vectoring information of exits that wrote none are invalid), the
 * interruptibility state to save (27.3.4), and leaving non-root operation */
void vmx_exit_event_fields(struct cpu *c);
uint32_t vmx_saved_interruptibility(const struct cpu *c);
/* the debug exceptions still pending at the exit (27.3.4), in the
 * pending-debug-exceptions format; taking them clears them */
uint32_t vmx_saved_pending_dbg(struct cpu *c);
void vmx_events_leave(struct cpu *c);
/* exit.c, for events.c: the VM exit once its information fields are written */
void vmx_event_vm_exit(struct cpu *c, unsigned reason, uint64_t qualification);

/* apicv.c: VM entry's part (26.7.5, 26.7.7: PPR virtualization and
 * evaluation of pending virtual interrupts, the TPR-threshold exit, the
 * APIC-access page to the MMU), leaving non-root operation, the pending
 * trap-like exit (its reason, 0 if none; taking it), the virtual
 * interrupt to deliver now (29.2.2: the vector, -1 if none), and
 * posted-interrupt processing for an acknowledged vector (29.6: true
 * when it was the notification vector) */
void vmx_apicv_enter(struct cpu *c);
void vmx_apicv_leave(struct cpu *c);
unsigned vmx_apicv_trap(struct cpu *c, uint64_t *qualification);
int vmx_apicv_virtual_intr(struct cpu *c);
bool vmx_apicv_posted(struct cpu *c, int vector);

extern const uint8_t vmx_guest_sel[8], vmx_guest_base[8], vmx_guest_limit[8], vmx_guest_ar[8];

/* A VMX instruction passed its #UD/exit/CPL checks in root operation:
 * tells the debugger (break vmx-insn, trace ept), naming the instruction
 * by the exit reason it would cause in non-root operation; 'arg' is the
 * INVEPT/INVVPID type. */
static inline void vmx_dbg_insn(struct cpu *c, unsigned reason, uint64_t arg)
{
    if (c->dbg_vmx)
        c->dbg_vmx(c->dbg_opaque, c, CPU_VMX_INSN, reason, arg);
}


#endif
