/* vmx/vmx.h — VMX operation (SDM Vol. 3C chapters 23-30): the state one
 * logical processor keeps for it and the hooks the CPU calls.
 *
 * The CPU calls in at a few points only: the VMX instructions (their
 * handlers live here), instructions and events that may cause a VM exit
 * in non-root operation (vmx_exit_*), the capability MSRs and the
 * CR0/CR4 rules in VMX operation.  Everything else about VMX — the VMCS,
 * the entry checks, loading and saving state — stays in this folder. */
#ifndef NEST86_VMX_VMX_H
#define NEST86_VMX_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/ept.h"
#include "vmx/vmcs.h"

struct cpu;
struct insn;

/* VMCS revision identifier (IA32_VMX_BASIC bits 30:0): nest86's own
 * in-memory VMCS format, so no real CPU's VMCS is mistaken for one. */
#define VMX_REVISION_ID 0x0000e86eu
#define VMX_INVALID_PTR (~0ull)
/* revision-identifier bit 31: a shadow VMCS (SDM 24.2, 24.10) */
#define VMX_SHADOW_VMCS_BIT 0x80000000u

enum vmx_exit_reason {
#define EXIT_REASON(name, num, text) VMX_EXIT_##name = num,
#include "vmx/exit_reasons.def"
#undef EXIT_REASON
};

enum vmx_error {
#define VMX_ERROR(name, num, text) VMX_ERR_##name = num,
#include "vmx/errors.def"
#undef VMX_ERROR
};

/* room for every basic exit reason (the SDM's run below 128) */
#define VMX_EXIT_REASONS 128
#define EXIT_REASON(name, num, text) \
    _Static_assert((num) < VMX_EXIT_REASONS, "exit reason " #name " needs a larger table");
#include "vmx/exit_reasons.def"
#undef EXIT_REASON

/* IA32_VMX_MISC bits 4:0: the VMX-preemption timer counts down by one
 * each time bit 5 of the TSC changes (SDM 25.5.1) */
#define VMX_TIMER_RATE 5

/* exit-reason field bit 31: VM-entry failure (SDM 24.9.1) */
#define VMX_EXIT_REASON_ENTRY_FAIL (1u << 31)

struct vmx {
    bool on;              /* in VMX operation (after VMXON) */
    bool nonroot;         /* in VMX non-root operation */
    uint64_t vmxon_ptr;
    uint64_t current;     /* current-VMCS pointer, VMX_INVALID_PTR if none */
    bool current_shadow;  /* the current VMCS is a shadow VMCS (revision bit 31) */
    bool tlb_switched;    /* the guest runs on its own TLB context (VPID != 0) */
    bool timer_armed;     /* the VMX-preemption timer counts down (24.6.1) */
    uint64_t timer_deadline; /* in TSC >> VMX_TIMER_RATE units */
    uint64_t tlb_key;     /* that context's tag: VPID and EPTP */
    struct vmcs vmcs;     /* the current VMCS, cached (valid while current != invalid) */
    const char *entry_failure; /* the check the last failed VM entry broke, or NULL */
    struct ept_ctx ept;   /* the MMU's EPT hook state while an EPT guest runs */
    uint64_t entries, exits;
    uint64_t exits_by_reason[VMX_EXIT_REASONS]; /* -d stats: basic exit reason -> count */

    /* events in non-root operation (vmx/events.c) */
    bool vnmi_blocked;       /* virtual-NMI blocking ("virtual NMIs" = 1, SDM 24.4.2) */
    uint32_t vectoring;      /* the event being delivered through the guest IDT, in the
                                IDT-vectoring information format (SDM 24.9.3); 0 if none */
    uint32_t vectoring_err, vectoring_len;
    uint8_t soft_type;       /* 5 or 6: the software event about to be delivered is
                                INT1, or INT3/INTO (else INT n is type 4) */
    uint8_t shadow;          /* interruptibility bits 1:0 (STI, MOV SS) of the
                                instruction now executing in a shadow */
    bool event_exit;         /* this exit wrote its own interruption information */
    bool iret_unblocked;     /* the IRET at icount iret_icount removed (virtual-)NMI blocking */
    uint64_t iret_icount;

    /* APIC virtualization (vmx/apicv.c) */
    bool vintr_recognized;   /* a pending virtual interrupt is recognized (SDM 29.2.1) */
    uint16_t apic_trap;      /* the trap-like exit (TPR below threshold, APIC write,
                                virtualized EOI) the last instruction caused; 0 if none */
    uint64_t apic_trap_qual;

    /* the inactive state a VM entry put the guest in besides HLT
     * (VMX_ACTIVITY_SHUTDOWN or _WAIT_SIPI, vmx/caps.h; 0 otherwise),
     * meaningful while the CPU is halted (SDM 26.6.2); a SIPI that
     * arrived in the wait-for-SIPI state and its vector */
    uint8_t activity;
    bool sipi_pending;
    uint8_t sipi_vector;

    /* the monitor trap flag (vmx/events.c, SDM 25.5.2): an MTF VM exit
     * is pending at the next instruction boundary (after an event's
     * delivery, or injected by VM entry); with the control 1, also once
     * an instruction retires after the boundary where mtf_icount was
     * taken (mtf_counting).  rep_one: REP string instructions stop after
     * each iteration, each being an instruction for MTF. */
    bool mtf_pending, mtf_counting, rep_one;
    uint64_t mtf_icount;
    /* debug exceptions pending for the guest (SDM 24.4.2 format): from
     * VM entry until delivered, or a trap an MTF VM exit preempted */
    uint32_t pending_dbg;

    /* PAUSE-loop exiting (vmx/nonroot.c): the TSC at the last PAUSE at
     * CPL 0 and at the first PAUSE of the current loop; ple_seen is
     * false until the first PAUSE after VM entry */
    bool ple_seen;
    uint64_t ple_last, ple_first;
};

/* names for logs and the debugger; NULL for an unknown number */
const char *vmx_exit_reason_name(unsigned reason);
const char *vmx_error_name(unsigned error);
/* the exit reason called NAME in vmx/exit_reasons.def (any case, e.g.
 * "vmcall", "EPT_VIOLATION"), or -1 */
int vmx_exit_reason_by_name(const char *name);

/* Capability MSRs IA32_VMX_BASIC (0x480) .. IA32_VMX_VMFUNC (0x491):
 * false when the index is not one of them or VMX is not offered. */
bool vmx_msr_read(const struct cpu *c, uint32_t index, uint64_t *value);
/* CR0/CR4 bits VMX operation requires to be 1 (FIXED0) and allows to be
 * 1 (FIXED1), SDM Appendix A.7/A.8. */
uint64_t vmx_cr0_fixed0(void);
uint64_t vmx_cr0_fixed1(void);
uint64_t vmx_cr4_fixed0(void);
uint64_t vmx_cr4_fixed1(const struct cpu *c);

/* Called by MOV to CR0/CR4 (and LMSW/CLTS) in VMX operation: true when
 * the new value keeps the fixed bits (else the instruction #GPs). */
bool vmx_cr_allowed(const struct cpu *c, int cr, uint64_t value);
/* The same for a guest's CR0 (VM entry, 26.3.1.1; MOV to CR0 in
 * non-root operation, 25.3): with "unrestricted guest" the fixed bits
 * PE and PG do not apply. */
bool vmx_guest_cr0_allowed(const struct cpu *c, uint64_t value, bool unrestricted);
/* "unrestricted guest" in the current VMCS (with the secondary controls
 * activated) */
bool vmx_unrestricted_guest(const struct cpu *c);

/* Exit qualification for task switches (SDM Table 28-2): the new TSS's
 * selector in bits 15:0, the source in bits 31:30. */
enum vmx_task_source { VMX_TASK_CALL = 0, VMX_TASK_IRET = 1, VMX_TASK_JMP = 2, VMX_TASK_IDT = 3 };
static inline uint64_t vmx_task_switch_qualification(uint16_t tss_sel, enum vmx_task_source src)
{
    return tss_sel | (uint64_t)src << 30;
}

/* Non-root operation, MOV from/to CR0 and CR4 (SDM 25.3): the value a
 * read returns (host-owned bits from the read shadow), and the value a
 * write leaves in the register — or a CR-access VM exit when the write
 * changes a host-owned bit away from its shadow (does not return then). */
uint64_t vmx_cr_read(const struct cpu *c, int cr, uint64_t real);
uint64_t vmx_cr_write(struct cpu *c, int cr, uint64_t value, unsigned gpr, uint64_t real);

/* MOV to CR3 in non-root operation: exits with "CR3-load exiting" unless
 * the value is a CR3-target value (does not return then). */
void vmx_cr3_write_check(struct cpu *c, uint64_t value, unsigned gpr);
/* exit qualification of a control-register access (SDM Table 27-3):
 * CR number 3:0, access type 5:4 (0 MOV to CR, 1 MOV from CR, 2 CLTS,
 * 3 LMSW), general-purpose register 11:8 */
static inline uint64_t vmx_cr_qualification(unsigned cr, unsigned type, unsigned gpr)
{
    return cr | (type << 4) | ((uint64_t)gpr << 8);
}

/* RDMSR (write = false) or WRMSR of MSR 'index' in non-root operation:
 * true when it causes a VM exit (SDM 25.1.3: always without "use MSR
 * bitmaps"; else the MSR's bit in the bitmap, and always for MSRs
 * outside 0-1FFFH and C0000000H-C0001FFFH). */
bool vmx_msr_exits(const struct cpu *c, uint32_t index, bool write);

/* exit qualification of a MOV DR (SDM Table 27-4): debug register 2:0,
 * direction bit 4 (0 MOV to DR, 1 MOV from DR), general-purpose
 * register 11:8 */
static inline uint64_t vmx_dr_qualification(unsigned dr, bool from_dr, unsigned gpr)
{
    return (dr & 7) | ((uint64_t)from_dr << 4) | ((uint64_t)gpr << 8);
}

/* Non-root operation: the instruction being executed causes a VM exit
 * with this reason and qualification.  Does not return (unwinds to the
 * run loop like a fault). */
_Noreturn void vmx_exit_insn(struct cpu *c, unsigned reason, uint64_t qualification);
/* An EPT violation or misconfiguration the MMU reported (vector
 * MMU_FAULT_EPT_*): the VM exit happens instead of the access's
 * instruction (SDM Vol. 3C 28.2.3).  Does not return. */
_Noreturn void vmx_ept_exit(struct cpu *c, const struct mmu_fault *f);
/* The same for a VMX instruction with a ModR/M operand (VMCLEAR,
 * VMPTRLD, VMPTRST, VMXON, VMREAD, VMWRITE; the others too, whose exits
 * then record no operand): the exit qualification is the operand's
 * displacement (SDM 27.2.1) and the VM-exit instruction-information
 * field describes the operand (27.2.5, Tables 27-13 and 27-14). */
_Noreturn void vmx_exit_insn_info(struct cpu *c, const struct insn *i, unsigned reason);

/* Non-root operation, RDTSC and RDTSCP (SDM 25.1.3, 25.3) after their
 * #UD/#GP checks: a VM exit with "RDTSC exiting", else the value the
 * guest reads for the time-stamp counter value 'tsc'. */
uint64_t vmx_rdtsc(struct cpu *c, uint64_t tsc, bool rdtscp);
/* The guest's view of IA32_TIME_STAMP_COUNTER: 'tsc' plus the TSC
 * offset with "use TSC offsetting" (SDM 25.3, RDMSR). */
uint64_t vmx_guest_tsc(const struct cpu *c, uint64_t tsc);

/* PAUSE in non-root operation (SDM 25.1.3): exits with "PAUSE
 * exiting", or with "PAUSE-loop exiting" when it ends a PAUSE loop at
 * CPL 0 longer than PLE_Window (does not return then). */
void vmx_pause(struct cpu *c);

/* I/O instructions in non-root operation (SDM 25.1.3).  'flags' says
 * which form; vmx_io_exits() whether the access exits, vmx_exit_io()
 * does the exit (qualification Table 27-5; for INS/OUTS also the
 * guest-linear address 'lin' and instruction information, Table 27-8). */
enum { VMX_IO_IN = 1, VMX_IO_STRING = 2, VMX_IO_IMM = 4 };
bool vmx_io_exits(const struct cpu *c, uint16_t port, unsigned size);
_Noreturn void vmx_exit_io(struct cpu *c, const struct insn *i, uint16_t port, unsigned size,
                           unsigned flags, uint64_t lin);
/* A triple fault in non-root operation: VM exit instead of shutdown. */
void vmx_exit_triple_fault(struct cpu *c);
/* ---- events in non-root operation (vmx/events.c) ---- */

/* Hardware exception 'vector' in non-root operation: true if the
 * exception bitmap (and #PF mask/match) sends it to the VMM; the exit
 * then has happened and the caller must not deliver it (SDM 25.2). */
bool vmx_exception_exits(struct cpu *c, int vector, bool has_error, uint32_t error);
/* INT3/INTO (type 6) or INT1 (type 5) about to be delivered: exits
 * instead when the exception bitmap says so (does not return then). */
void vmx_soft_exception(struct cpu *c, int vector, unsigned type);
/* #DB with these DR6 bits in non-root operation, before DR6 changes:
 * a fault (instruction breakpoint, general detect) exits without
 * returning; a trap returns true when it exited. */
void vmx_debug_fault(struct cpu *c, unsigned dr6_bits);
bool vmx_debug_trap_exits(struct cpu *c, unsigned dr6_bits);
/* MTF exits, pending debug exceptions, the preemption timer, NMIs,
 * external interrupts and the interrupt/NMI windows at an instruction
 * boundary in non-root operation, in the SDM's priority order: true
 * when something happened (a VM exit or a delivery). */
bool vmx_take_event(struct cpu *c);
/* cpu_deliver() starts delivering an event through the guest IDT
 * (kind is an enum int_kind): IDT-vectoring record and NMI blocking. */
void vmx_delivery_begin(struct cpu *c, int vector, int kind, bool has_error, uint32_t error);
/* IRET in non-root operation: what it does to (virtual-)NMI blocking */
void vmx_iret(struct cpu *c);
/* true when an external interrupt would end HLT whatever RFLAGS.IF says */
bool vmx_intr_exits(const struct cpu *c);

/* ---- APIC virtualization (vmx/apicv.c, SDM chapter 29) ---- */

/* MOV from/to CR8 in non-root operation after the CR8 exits: with "use
 * TPR shadow" they use VTPR on the virtual-APIC page and return true
 * (29.3); false: the instruction operates normally. */
bool vmx_apicv_cr8_read(const struct cpu *c, uint64_t *value);
bool vmx_apicv_cr8_write(struct cpu *c, uint64_t value);
/* RDMSR/WRMSR of MSR 'index' in non-root operation that did not exit,
 * with "virtualize x2APIC mode" (29.5): 1 virtualized (done), 0 the
 * instruction operates normally, -1 #GP. */
int vmx_apicv_rdmsr(struct cpu *c, uint32_t index, uint64_t *value);
int vmx_apicv_wrmsr(struct cpu *c, uint32_t index, uint64_t value);
/* A linear access of 'size' bytes at physical address 'pa' on the
 * APIC-access page (mmu.slow_page): a virtualized read fills *value, a
 * virtualized write stores *value in the virtual-APIC page (29.4);
 * otherwise an APIC-access VM exit (does not return then). */
bool vmx_apicv_access(struct cpu *c, uint64_t pa, unsigned size, enum mmu_access_type type,
                      uint64_t *value);

/* the opcode groups' VMX forms: true when the instruction was one */
bool vmx_grp7(struct cpu *c, const struct insn *i);   /* VMCALL VMLAUNCH VMRESUME VMXOFF */
bool vmx_grp9(struct cpu *c, const struct insn *i);   /* VMPTRLD VMCLEAR VMXON VMPTRST */

/* A -d vmx line (no-op unless tracing asked for VMX events). */
void vmx_log(const struct cpu *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* the current VMCS's primary processor-based controls (for the CPU's
 * exit checks in non-root operation) */
#define VMX_PROC_CONTROLS(c) ((uint32_t)(c)->vmx.vmcs.f[VF_PROC_BASED_CONTROLS])
/* the secondary controls in effect: all 0 unless "activate secondary
 * controls" is 1 (SDM 24.6.2); the masks are in vmx/caps.h */
#define VMX_PROC2_CONTROLS(c)                                                                  \
    ((VMX_PROC_CONTROLS(c) & PROC_SECONDARY_CONTROLS)                                          \
         ? (uint32_t)(c)->vmx.vmcs.f[VF_SECONDARY_PROC_CONTROLS]                               \
         : 0u)

/* After a snapshot load (vmx/restore.c): the MMU hooks of non-root
 * operation (EPT walk, APIC-access page) to match the loaded state. */
void vmx_after_restore(struct cpu *c);
/* the value cpu_raise() leaves in exc_vector when a VM exit unwound */
#define VMX_UNWIND_EXIT (-2)

#endif
