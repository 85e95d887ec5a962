/* cpu/cpu.h — architectural state of one x86-64 logical processor and
 * the interface the rest of the machine uses to run it.
 *
 * Faults unwind with longjmp to the run loop (DESIGN.md, "Faults"):
 * cpu_raise() never returns.  Handlers therefore do every access that
 * can fault before they update architectural state.
 */
#ifndef NEST86_CPU_CPU_H
#define NEST86_CPU_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"
#include "vmx/vmx.h"

struct machine;

enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_NONE = 7 };

/* RFLAGS bits, SDM Vol. 1 3.4.3 */
#define FL_CF   (1u << 0)
#define FL_FIXED1 (1u << 1)
#define FL_PF   (1u << 2)
#define FL_AF   (1u << 4)
#define FL_ZF   (1u << 6)
#define FL_SF   (1u << 7)
#define FL_TF   (1u << 8)
#define FL_IF   (1u << 9)
#define FL_DF   (1u << 10)
#define FL_OF   (1u << 11)
#define FL_IOPL (3u << 12)
#define FL_NT   (1u << 14)
#define FL_RF   (1u << 16)
#define FL_VM   (1u << 17)
#define FL_AC   (1u << 18)
#define FL_VIF  (1u << 19)
#define FL_VIP  (1u << 20)
#define FL_ID   (1u << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Exception vectors, SDM Vol. 3A 6.3.1 */
enum { EX_DE = 0, EX_DB = 1, EX_NMI = 2, EX_BP = 3, EX_OF = 4, EX_BR = 5, EX_UD = 6,
       EX_NM = 7, EX_DF = 8, EX_TS = 10, EX_NP = 11, EX_SS = 12, EX_GP = 13,
       EX_PF = 14, EX_MF = 16, EX_AC = 17, EX_MC = 18, EX_XM = 19, EX_VE = 20,
       EX_CP = 21 };

/* Segment access rights in the VMCS format (SDM Vol. 3C 24.4.1): type
 * 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13, D/B 14, G 15, unusable 16.
 * Kept in this format so VM entry/exit copy them without conversion. */
#define AR_TYPE(ar)  ((ar) & 0xf)
#define AR_S         (1u << 4)
#define AR_DPL(ar)   (((ar) >> 5) & 3)
#define AR_P         (1u << 7)
#define AR_AVL       (1u << 12)
#define AR_L         (1u << 13)
#define AR_DB        (1u << 14)
#define AR_G         (1u << 15)
#define AR_UNUSABLE  (1u << 16)

struct seg {
    uint16_t sel;
    uint32_t limit;   /* byte-granular, already scaled by G */
    uint64_t base;
    uint32_t ar;
};

struct dtr {
    uint64_t base;
    uint16_t limit;
};

/* Lazy arithmetic flags: the last flag-setting ALU operation is kept
 * as (op, size, a, b, result); individual flags are derived only when
 * read.  LF_NONE means RFLAGS holds the arithmetic flags itself.  LF_SUB
 * is exactly a - b (SUB, CMP, NEG), so conditions can be read off a and
 * b directly; SBB/ADC carry a borrow/carry in and use LF_SBB/LF_ADC. */
enum lf_op { LF_NONE, LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC, LF_ADC, LF_SBB,
             LF_SHL, LF_SHR, LF_SAR, /* a = value, b = masked count (non-zero) */
             LF_MUL /* b = 1 when the product overflowed the destination size */ };

enum cpu_mode { MODE_REAL, MODE_V86, MODE_PROT, MODE_COMPAT, MODE_LONG };

/* 'pending' word bits: checked once per block (DESIGN.md, "Events"). */
#define PEND_INTR   (1u << 0) /* INTR line asserted */
#define PEND_NMI    (1u << 1)
#define PEND_STOP   (1u << 2) /* the machine or debugger asked to stop */
#define PEND_SMI    (1u << 3)
#define PEND_INIT   (1u << 4)
#define PEND_BREAK  (1u << 5) /* leave the current block: HLT, STI/MOV SS shadow,
                                 TF set, code size changed */
#define PEND_VMX    (1u << 6) /* VMX non-root: an interrupt- or NMI-window exit is
                                 armed, so every instruction boundary is checked */

union xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float f[4];
    double df[2];
};

struct x87 {
    uint8_t st[8][10];  /* 80-bit registers, physical order R0..R7 */
    uint16_t fcw, fsw, ftw; /* full tag word: 2 bits per register */
    uint16_t fop;
    uint64_t fip, fdp;
    uint16_t fcs, fds;
};

struct insn;

#define CPU_GPRS 16 /* RAX ... R15 */

struct cpu {
    /* the general registers, and r[NO_REG] (cpu/insn.h), always 0: an
     * address without a base or index adds it (insn_ea_at) */
    uint64_t r[CPU_GPRS + 1];
    uint64_t rip;
    uint64_t rflags;   /* non-arithmetic bits always; arithmetic when lf_op == LF_NONE */
    uint8_t lf_op, lf_size;
    uint64_t lf_a, lf_b, lf_res;

    struct seg seg[6];
    struct seg ldtr, tr;
    struct dtr gdtr, idtr;
    uint64_t cr2, cr8;
    uint64_t dr[8];
    uint64_t xcr0;

    struct mmu mmu;    /* CR0, CR3, CR4, EFER, PKRU live here */

    /* derived from the above; refreshed by cpu_update_mode() */
    enum cpu_mode mode;
    uint8_t cpl;
    uint8_t code_size;  /* 2, 4 or 8: default operand size of CS */
    uint8_t stack_size; /* 2, 4 or 8: SS.B / 64-bit */
    /* what block links were made under (cpu_update_mode()); the CPL is
     * part of each link's stamp instead (icache_stamp()) */
    uint8_t link_code_size;
    enum cpu_mode link_mode;
    uint64_t link_cs_base;
    /* The links' state when the VMX root last entered a guest that runs
     * on a TLB context of its own (a VPID): cpu_links_resume_root() */
    struct cpu_root_links {
        uint64_t epoch, gepoch; /* epoch 0: no record */
        uint64_t cr0, cr3, cr4, efer, cs_base;
        enum cpu_mode mode;
        uint8_t code_size;
        uint64_t code_writes; /* phys->code_writes then */
        uint64_t other_inits; /* block slots initialised for other code sizes */
    } root_links;

    /* SSE and x87 */
    union xmm xmm[16];
    uint32_t mxcsr;
    struct x87 fpu;

    /* MSR-backed state (see cpu/msr.def for the table) */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base, tsc_offset, tsc_aux, pat, misc_enable, spec_ctrl;
    uint64_t feature_control; /* IA32_FEATURE_CONTROL (with VMX) */
    uint64_t debugctl, mtrr_def_type, mtrr_fixed[11];
    uint64_t mtrr_var[16]; /* base/mask pairs */

    /* events */
    volatile uint32_t pending;
    bool halted;
    bool monitor_armed;      /* MONITOR ran since the last MWAIT */
    bool mwait_break_masked; /* halted in MWAIT with ECX[0]: INTR wakes even with IF = 0 */
    bool nmi_blocked;      /* from NMI delivery until the next IRET */
    bool init_latched;     /* an INIT arrived and is not yet taken: it waits while
                            * VMX root operation blocks it (cpu_init_update) */
    uint64_t inhibit_irq_at; /* RIP+1 marker: interrupts held for one insn after STI/MOV SS */
    bool inhibit_irq;
    bool inhibit_debug;    /* MOV SS/POP SS: single-step trap held one insn */
    bool sw_int;           /* this instruction delivered INT n/INT3/INTO/INT1:
                            * it takes no single-step trap (cpu/run.c) */

    /* debug-register breakpoints (cpu/debugreg.c) */
    uint8_t dr_exec_mask;  /* enabled instruction breakpoints */
    uint8_t dr_data_mask;  /* enabled data breakpoints */
    uint8_t dr_hit;        /* data breakpoints hit by this instruction */
    uint8_t fast_mask;     /* 0xff, or 0 to send every access to the slow path */
    /* The TLB permission bit the threaded fast paths need for a read or
     * a write (cpu/mem.h mem_fast_ptr), by RFLAGS.AC; 0 when they must
     * not be taken: outside 64-bit mode, with fast_mask 0, or for AC = 1
     * at CPL 3 (an alignment check to make).  Derived from the mode, CPL
     * and fast_mask by cpu_fast_need_update(), which
     * cpu_update_mode() and cpu_dr7_changed() call: every change of
     * those goes through one of the two. */
    uint8_t fast_need[2][2];
    /* fast_need[type][RFLAGS.AC] for the current AC, so the fast paths
     * need not extract the bit: refreshed by cpu_fast_need_update() and
     * by cpu_ac_changed(), which every write of RFLAGS.AC outside
     * cpu_update_mode()'s callers makes (cpu_set_flags, STAC/CLAC,
     * real-mode interrupt delivery). */
    uint8_t need_now[2];
    uint64_t cr2_before_pf; /* CR2 before the last #PF wrote it: a #PF that
                               causes a VM exit leaves CR2 alone (SDM 27.1) */

    struct vmx vmx;        /* VMX operation (vmx/vmx.h) */


    /* fault unwinding (everything above is cleared by cpu_reset; what
     * follows — board and debugger wiring, counters — survives a reset) */
    jmp_buf fault_jmp;
    int exc_vector;        /* the exception being raised */
    uint32_t exc_error;
    bool exc_has_error;
    bool exc_insn_bp;      /* the #DB being raised is an instruction breakpoint */
    bool event_rf;         /* the event being delivered is a fault: its saved
                            * RFLAGS image has RF = 1 (SDM 17.3.1.1) */
    int delivering;        /* vector whose delivery is in progress, or -1 */
    uint64_t insn_rip;     /* RIP of the instruction being executed */
    int fault_depth;       /* 0 normal, 1 delivering, 2 delivering #DF */

    uint64_t icount;       /* retired instructions */
    /* threaded block runs (cpu/thread.h) */
    struct block *cur_block; /* the block being run */
    uint64_t block_rip;    /* where it was entered (its first instruction) */
    uint64_t block_icount; /* icount then */
    uint64_t chain_until;  /* icount at which a chain stops following links */
    bool block_done;       /* the run reached its block's stop entry */
    struct machine *machine;

    struct icache *icache; /* decoded-instruction cache (cpu/icache.h) */

    /* board wiring */
    int (*intr_ack)(void *opaque); /* returns the vector of the INTR being taken */
    void *intr_opaque;

    /* Board hooks for architectural state that lives in the local APIC:
     * MSRs 0x800-0x8ff (x2APIC) and CR8, which is the APIC's TPR[7:4]
     * (SDM Vol. 3A 10.8.6.1).  NULL: x2APIC MSRs #GP, CR8 is a plain
     * register. */
    bool (*apic_msr_read)(void *opaque, uint32_t index, uint64_t *value);
    bool (*apic_msr_write)(void *opaque, uint32_t index, uint64_t value);
    uint8_t (*apic_tpr_read)(void *opaque);   /* returns TPR[7:4] */
    void (*apic_tpr_write)(void *opaque, uint8_t cr8);
    void (*apic_base_write)(void *opaque, uint64_t value); /* IA32_APIC_BASE changed */
    /* an EOI to the local APIC whatever its mode: VMX posted-interrupt
     * processing dismisses the notification vector so (SDM Vol. 3C 29.6) */
    void (*apic_eoi)(void *opaque);
    void *apic_opaque;

    /* Debugger hooks (debugger/).  While dbg_active, every instruction
     * runs alone and dbg_before() is asked first: returning true stops
     * the CPU before that instruction (cpu_run returns; the hook is
     * expected to have called machine_request_stop(MACHINE_DEBUG)).
     * dbg_event() sees every exception and interrupt after delivery.
     * While dbg_watch_mem, every explicit or implicit access goes through
     * the slow path and dbg_mem() sees it with its physical address.
     * Change dbg_active/dbg_watch_mem only through cpu_debug_config(). */
    bool dbg_active, dbg_watch_mem;
    bool (*dbg_before)(void *opaque, struct cpu *c);
    void (*dbg_event)(void *opaque, struct cpu *c, int vector, int kind);
    void (*dbg_mem)(void *opaque, struct cpu *c, uint64_t lin, uint64_t pa, unsigned size,
                    bool write);
    void *dbg_opaque;

    /* The debugger's VMX breakpoints and counters (enum cpu_vmx_event):
     * after every VM exit (the host state is loaded; 'code' as in the
     * exit-reason field, bit 31 for a failed VM entry), after every VM
     * entry (code 0), after a VMLAUNCH/VMRESUME that failed its checks
     * on controls or host state (code: the VM-instruction error), and
     * when a VMX instruction executes in root operation ('code' the
     * basic exit reason that names it, e.g. VMPTRLD 21, INVEPT 50;
     * 'arg' the INVEPT/INVVPID type). */
    void (*dbg_vmx)(void *opaque, struct cpu *c, int event, uint32_t code, uint64_t arg);
    /* The debugger's EPT observer (`ept step`), handed to the EPT hook at
     * each VM entry with EPT (vmx/ept.c) */
    ept_observe_fn dbg_ept;

    /* -d vmx: one line per VM entry, exit and failed VM-entry check */
    void (*vmx_trace)(void *opaque, const char *line);
    void *vmx_trace_opaque;


    /* feature switches from -cpu (see cpu/cpuid.c) */
    uint64_t feat_disabled; /* bit per enum cpu_feature */
};

/* lifecycle */
/* Returns 0, or -1 when the host cannot allocate the instruction cache. */
int cpu_init(struct cpu *c, struct machine *m, struct phys *phys);
void cpu_free(struct cpu *c);
void cpu_reset(struct cpu *c); /* power-on state, SDM Vol. 3A 9.1.1 */

/* Runs until 'icount' reaches 'until', the CPU halts with nothing to
 * wake it, or PEND_STOP is set. */
void cpu_run(struct cpu *c, uint64_t until);

/* What dbg_vmx() reports */
enum cpu_vmx_event { CPU_VMX_EXIT, CPU_VMX_ENTRY, CPU_VMX_ENTRY_VMFAIL, CPU_VMX_INSN };

/* The kinds of event dbg_event() reports (the order of enum int_kind). */
enum cpu_event_kind { CPU_EVENT_EXCEPTION, CPU_EVENT_SOFTWARE, CPU_EVENT_EXTERNAL,
                      CPU_EVENT_NMI, CPU_EVENT_PRIV_SW };

/* RDMSR/WRMSR without the #GP: false when the MSR does not exist or the
 * value is refused.  Reads have no side effects beyond RDMSR's. */
bool cpu_msr_read(struct cpu *c, uint32_t index, uint64_t *value);
bool cpu_msr_write(struct cpu *c, uint32_t index, uint64_t value);

/* debugger: switch per-instruction checks and memory watching on/off */
void cpu_debug_config(struct cpu *c, bool active, bool watch_mem);

/* events from the board */
void cpu_set_intr(struct cpu *c, bool level);
void cpu_set_nmi(struct cpu *c); /* an NMI is pending (held while NMIs are blocked) */
/* An INIT signal (a local APIC's INIT IPI, SDM 10.6.1).  Outside VMX
 * operation it resets the processor; in VMX non-root operation it
 * causes a VM exit; VMX root operation blocks it until VMXOFF or the
 * next VM entry (SDM 25.2, 33.2). */
void cpu_signal_init(struct cpu *c);
/* Recomputes PEND_INIT after VMX operation changed (VMXON, VMXOFF,
 * VM entry, VM exit). */
void cpu_init_update(struct cpu *c);
/* A start-up IPI with its vector.  Only a VMX guest in the
 * wait-for-SIPI activity state takes it (a VM exit); the processor
 * discards it in every other state nest86 has (SDM 26.6.2). */
void cpu_signal_sipi(struct cpu *c, uint8_t vector);
/* Would an external interrupt end HLT now?  RFLAGS.IF = 1, or in VMX
 * non-root operation with "external-interrupt exiting", which ignores
 * IF (SDM 25.2). */
bool cpu_intr_can_wake(const struct cpu *c);
void cpu_request_stop(struct cpu *c);

/* faults: never return */
_Noreturn void cpu_raise(struct cpu *c, int vector, uint32_t error_code);
_Noreturn void cpu_raise_noerr(struct cpu *c, int vector);

/* flags */
uint64_t cpu_get_flags(struct cpu *c);
void cpu_set_flags(struct cpu *c, uint64_t value); /* raw: no privilege checks */

/* mode bookkeeping after CR0/EFER/CS/RFLAGS.VM changes */
void cpu_update_mode(struct cpu *c);
/* A VM entry that switches to the guest's own TLB context, before it
 * loads the guest's state: records the root's epochs and what its links
 * were made under. */
void cpu_links_leave_root(struct cpu *c);
/* The VM exit back from that guest, after the root's state and TLB
 * context are back and cpu_update_mode() ran: the root's links hold
 * again (its epochs come back) when nothing since could have changed
 * what they were made under.  Returns whether they do. */
bool cpu_links_resume_root(struct cpu *c);
void cpu_fast_need_update(struct cpu *c);

/* After RFLAGS.AC may have changed: the fast paths' permission bits */
static inline void cpu_ac_changed(struct cpu *c)
{
    unsigned ac = (c->rflags >> 18) & 1; /* FL_AC */
    c->need_now[0] = c->fast_need[0][ac];
    c->need_now[1] = c->fast_need[1][ac];
}

/* state setup for boot loaders */
void cpu_set_seg_flat32(struct cpu *c, int seg, uint16_t sel, bool code);

#endif
