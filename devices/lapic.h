/* devices/lapic.h — the local APIC of the (single) CPU: xAPIC registers
 * in a 4 KiB MMIO page at IA32_APIC_BASE, the same registers as MSRs
 * 0x800-0x8FF in x2APIC mode, the APIC timer (one-shot, periodic,
 * TSC-deadline through IA32_TSC_DEADLINE, MSR 0x6E0), CR8 as TPR[7:4]
 * and interrupt acceptance for the CPU's INTR pin (SDM Vol. 3A ch. 10).
 *
 * Virtual wire: the 8259A's INT output is this APIC's LINT0 input.  With
 * LINT0 programmed as ExtINT and unmasked (its state after reset, as a
 * PC BIOS leaves it), or with the APIC disabled in IA32_APIC_BASE, the
 * PIC's requests reach the CPU and lapic_intack() runs the PIC's INTA.
 * The timer counts at 1 GHz divided by the divide configuration; the
 * TSC also runs at 1 GHz (one tick per nanosecond of guest time).
 */
#ifndef NEST86_DEVICES_LAPIC_H
#define NEST86_DEVICES_LAPIC_H

#include "cpu/msr.h" /* MSR_IA32_TSC_DEADLINE, MSR_X2APIC_FIRST/LAST */

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"

#define LAPIC_DEFAULT_BASE 0xFEE00000u
#define LAPIC_VERSION      0x00050014u /* version 0x14, max LVT entry 5 */

/* IA32_APIC_BASE bits (SDM 10.4.4) */
#define APIC_BASE_BSP    (1u << 8)
#define APIC_BASE_EXTD   (1u << 10) /* x2APIC mode */
#define APIC_BASE_EN     (1u << 11)

/* xAPIC register offsets (SDM Table 10-1); x2APIC MSR = 0x800 + off/16 */
enum {
    APIC_ID = 0x20, APIC_VER = 0x30, APIC_TPR = 0x80, APIC_APR = 0x90, APIC_PPR = 0xA0,
    APIC_EOI = 0xB0, APIC_RRD = 0xC0, APIC_LDR = 0xD0, APIC_DFR = 0xE0, APIC_SVR = 0xF0,
    APIC_ISR = 0x100, APIC_TMR = 0x180, APIC_IRR = 0x200, APIC_ESR = 0x280,
    APIC_LVT_CMCI = 0x2F0, APIC_ICR_LO = 0x300, APIC_ICR_HI = 0x310,
    APIC_LVT_TIMER = 0x320, APIC_LVT_THERMAL = 0x330, APIC_LVT_PERF = 0x340,
    APIC_LVT_LINT0 = 0x350, APIC_LVT_LINT1 = 0x360, APIC_LVT_ERROR = 0x370,
    APIC_TIMER_ICR = 0x380, APIC_TIMER_CCR = 0x390, APIC_TIMER_DCR = 0x3E0,
    APIC_SELF_IPI = 0x3F0, /* x2APIC only (MSR 0x83F) */
};

/* LVT indices in struct lapic.lvt, in register order */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

#define APIC_LVT_MASKED     (1u << 16)
#define APIC_LVT_LEVEL      (1u << 15)
#define APIC_LVT_REMOTE_IRR (1u << 14)
#define APIC_SVR_ENABLE     (1u << 8)

/* Delivery modes (ICR, LVT, IOAPIC redirection entries, SDM 10.6.1) */
enum { APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
       APIC_DM_INIT = 5, APIC_DM_STARTUP = 6, APIC_DM_EXTINT = 7 };

/* Timer modes, LVT timer bits 18:17 */
enum { APIC_TIMER_ONESHOT = 0, APIC_TIMER_PERIODIC = 1, APIC_TIMER_TSC_DEADLINE = 2 };

/* ESR bits (SDM 10.5.3) */
#define APIC_ESR_SEND_ILLEGAL_VECTOR    (1u << 5)
#define APIC_ESR_RECEIVE_ILLEGAL_VECTOR (1u << 6)
#define APIC_ESR_ILLEGAL_REGISTER       (1u << 7)

struct lapic {
    struct machine *m;
    uint64_t base_msr;      /* IA32_APIC_BASE as last written */
    int region;             /* index of the MMIO window in m->phys.regions */
    uint32_t id;            /* APIC ID (0 for the BSP) */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr, esr_pending; /* ESR reads the errors latched by the last write */
    uint32_t isr[8], tmr[8], irr[8]; /* 256-bit vectors, 32 per word */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    uint32_t dcr;           /* divide configuration */
    uint32_t initial_count;
    uint64_t timer_start;   /* vclock ns when the count was (re)loaded */
    uint64_t tsc_deadline;  /* IA32_TSC_DEADLINE; 0 = disarmed */
    struct timer timer;
    bool lint_level[2];     /* LINT0/LINT1 input levels (LINT0 = 8259A INT) */
    bool extint_pending;    /* an ExtINT message: the next INTA goes to the PIC */
    bool intr_out;          /* our INTR output to the CPU */
};

/* Creates the BSP's APIC at LAPIC_DEFAULT_BASE and stores it in
 * m->lapic.  The board points the CPU's hooks (intr_ack, apic_*) at
 * the functions below (pc_devices_attach_cpu). */
struct lapic *lapic_create(struct machine *m);
void lapic_reset(void *opaque);

/* xAPIC MMIO (offset within the 4 KiB page). */
uint32_t lapic_read(struct lapic *l, uint32_t offset);
void lapic_write(struct lapic *l, uint32_t offset, uint32_t value);
/* x2APIC MSRs and IA32_TSC_DEADLINE; false means #GP. */
bool lapic_msr_read(void *opaque, uint32_t index, uint64_t *value);
bool lapic_msr_write(void *opaque, uint32_t index, uint64_t value);
/* CR8 (TPR[7:4]). */
uint8_t lapic_cr8_read(void *opaque);
void lapic_cr8_write(void *opaque, uint8_t cr8);
/* An EOI, as a write of 0 to the EOI register in either mode. */
void lapic_eoi_cb(void *opaque);
/* IA32_APIC_BASE was written (base move, enable, x2APIC). */
void lapic_base_write(void *opaque, uint64_t value);

/* The CPU's INTA: the highest-priority deliverable vector (IRR above
 * PPR) moves to ISR, or the PIC's vector through ExtINT; -1 when
 * nothing is deliverable any more. */
int lapic_intack(struct lapic *l);
int lapic_intack_cb(void *opaque);

/* LINT0/LINT1 input pins (pin 0 or 1). */
void lapic_set_lint(struct lapic *l, int pin, bool level);

/* Whether an interrupt message for 'dest' (physical APIC ID, or logical
 * when 'logical') addresses this APIC (SDM 10.6.2). */
bool lapic_match_dest(const struct lapic *l, uint32_t dest, bool logical);
/* An interrupt message (from the IOAPIC or an IPI) for this APIC:
 * delivery mode, vector, trigger mode.  Returns false when not taken
 * (APIC disabled). */
bool lapic_deliver(struct lapic *l, int mode, uint8_t vector, bool level_trig);

/* Interrupt state for tests and the debugger: highest vector set in IRR
 * or ISR (-1 when empty), and the processor priority. */
int lapic_highest_irr(const struct lapic *l);
int lapic_highest_isr(const struct lapic *l);
uint32_t lapic_ppr(const struct lapic *l);
/* Current timer count. */
uint32_t lapic_current_count(const struct lapic *l);

#endif
