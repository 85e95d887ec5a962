/* devices/machine.h — one emulated PC: its memory, buses, CPU, devices
 * and virtual clock.  Devices keep their state in their own structs
 * (allocated by their *_create function) and reach the rest of the
 * board only through the functions declared here.
 */
#ifndef NEST86_DEVICES_MACHINE_H
#define NEST86_DEVICES_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/bus.h"
#include "frontend/config.h"
#include "mmu/phys.h"

struct cpu;
struct pic;
struct pit;
struct rtc;
struct uart;
struct fwcfg;
struct i8042;
struct pcihost;
struct acpipm;
struct lapic;
struct ioapic;
struct hpet;
struct debugexit;
struct vga;
struct vbe;

/* Virtual time.  Guest time runs from the instruction count (DESIGN.md,
 * "Time and determinism"): one retired instruction is one nanosecond of
 * guest time, and HLT skips ahead to the next timer deadline, so a run
 * is reproducible to the instruction. */
struct timer {
    uint64_t deadline;      /* in vclock ns; valid while armed */
    bool armed;
    void (*cb)(void *opaque);
    void *opaque;
    struct timer *next;     /* armed list, sorted by deadline */
};

enum machine_stop {
    MACHINE_RUNNING = 0,
    MACHINE_EXIT,        /* debug-exit, power-off: exit_status is set */
    MACHINE_RESET,       /* reset requested (0xCF9, i8042, triple fault) */
    MACHINE_TRIPLE_FAULT,/* under -no-reboot */
    MACHINE_DEBUG,       /* the debugger asked to stop */
};

struct machine {
    const struct config *cfg;
    struct phys phys;
    struct iobus io;
    struct cpu *cpu;

    struct timer *timers;   /* armed timers, earliest first */
    uint64_t clock_offset;  /* ns added to the instruction count (HLT skips) */

    struct pic *pic;
    struct pit *pit;
    struct rtc *rtc;
    struct uart *uart[4];
    struct fwcfg *fwcfg;
    struct i8042 *i8042;
    struct pcihost *pci;
    struct acpipm *acpipm;
    struct lapic *lapic;
    struct ioapic *ioapic;
    struct hpet *hpet;
    struct debugexit *debugexit;
    struct vga *vga;
    struct vbe *vbe;

    /* device state from dev_zalloc() (devices/devutil.h), freed with
     * the machine */
    void **owned;
    size_t nowned, owned_cap;

    /* -d prof (frontend/prof.c): time slices at most slice_max_ns long
     * (0: no limit), slice_done called after each */
    uint64_t slice_max_ns;
    void (*slice_done)(void *opaque, struct cpu *c);
    void *slice_opaque;

    enum machine_stop stop;
    int exit_status;
    char stop_message[160];
};

/* Guest time in nanoseconds (see struct timer). */
uint64_t machine_clock_ns(const struct machine *m);

void timer_init(struct timer *t, void (*cb)(void *), void *opaque);
void timer_mod(struct machine *m, struct timer *t, uint64_t deadline_ns);
void timer_del(struct machine *m, struct timer *t);
/* Fires every timer whose deadline has passed; returns the next
 * deadline or UINT64_MAX. */
uint64_t machine_run_timers(struct machine *m);

/* Interrupt lines (devices/irq.c).  'gsi' 0-15 are the ISA IRQs; level
 * is 0 or 1.  An edge-triggered device raises then lowers.  Each line
 * goes to the 8259A pair (IRQ 0-15) and to the IOAPIC (ISA IRQ 0 on
 * pin 2, every other GSI on its own pin).  While the HPET is in legacy
 * replacement mode the PIT (IRQ 0) and RTC (IRQ 8) are disconnected. */
void machine_set_irq(struct machine *m, int gsi, int level);
/* The same routing without the legacy-replacement disconnect: the
 * HPET's own timer 0/1 outputs in legacy replacement mode. */
void machine_set_isa_irq_direct(struct machine *m, int irq, int level);
/* The 8259A's INT output: the local APIC's LINT0 when there is one,
 * else straight to the CPU. */
void machine_pic_intr(struct machine *m, bool level);

/* Board functions (devices/pc.c; testsuite/unit/dev_stubs.h for unit
 * tests).  machine_cpu_intr drives the CPU's INTR pin (the local APIC's
 * output, or the PIC's without an APIC). */
void machine_cpu_intr(struct machine *m, bool level);
/* An NMI for the CPU (edge). */
void machine_cpu_nmi(struct machine *m);
/* An INIT signal and a start-up IPI for the CPU (the local APIC's INIT
 * and start-up delivery modes). */
void machine_cpu_init(struct machine *m);
void machine_cpu_sipi(struct machine *m, uint8_t vector);
/* The CPU's time-stamp counter (1 GHz). */
uint64_t machine_tsc(const struct machine *m);
/* An MMIO window moved (the local APIC's base): cached translations of
 * the old layout must go. */
void machine_memory_map_changed(struct machine *m);

/* Ask the run loop to stop after the current instruction. */
void machine_request_stop(struct machine *m, enum machine_stop why, int exit_status,
                          const char *message);

#endif
