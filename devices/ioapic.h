/* devices/ioapic.h — the I/O APIC (Intel 82093AA datasheet): 24 input
 * pins at 0xFEC00000, an indirect register window (IOREGSEL at +0x00,
 * IOWIN at +0x10), and a redirection table that turns a pin into an
 * interrupt message for the local APIC.
 *
 * Pins are the board's GSIs: ISA IRQ n is pin n except IRQ 0 (the
 * timer), which is pin 2 — the interrupt source override the MADT
 * describes.  Input levels are logical (1 = asserted); the polarity bit
 * is stored for the guest but not applied, as on the board every line
 * is reported in its asserted sense.
 */
#ifndef NEST86_DEVICES_IOAPIC_H
#define NEST86_DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define IOAPIC_BASE     0xFEC00000u
#define IOAPIC_PINS     24
#define IOAPIC_ID       0          /* the MADT's I/O APIC ID */
#define IOAPIC_VERSION  0x00170011u /* max redirection entry 23, version 0x11 */

/* indirect registers */
#define IOAPIC_REG_ID    0x00
#define IOAPIC_REG_VER   0x01
#define IOAPIC_REG_ARB   0x02
#define IOAPIC_REG_REDTBL 0x10 /* + 2 * pin (low dword), + 1 (high dword) */

/* redirection entry bits */
#define IOAPIC_RTE_DEST_LOGICAL (1u << 11)
#define IOAPIC_RTE_DELIV_STATUS (1u << 12)
#define IOAPIC_RTE_POLARITY_LOW (1u << 13)
#define IOAPIC_RTE_REMOTE_IRR   (1u << 14)
#define IOAPIC_RTE_LEVEL        (1u << 15)
#define IOAPIC_RTE_MASKED       (1u << 16)

struct ioapic {
    struct machine *m;
    uint32_t id;         /* bits 27:24 of the ID register */
    uint8_t regsel;
    uint64_t redir[IOAPIC_PINS];
    uint32_t lines;      /* input levels, bit per pin */
    uint32_t pending;    /* edge seen while it could not be delivered yet */
};

/* Creates the IOAPIC at IOAPIC_BASE and stores it in m->ioapic. */
struct ioapic *ioapic_create(struct machine *m);
void ioapic_reset(void *opaque);

/* Drives input pin 0-23. */
void ioapic_set_irq(struct ioapic *io, int pin, bool level);
/* The local APIC's EOI for a level-triggered 'vector': clears Remote
 * IRR of the pins using it, redelivering those still asserted. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

/* MMIO registers (offset 0x00 IOREGSEL, 0x10 IOWIN). */
uint32_t ioapic_mmio_read(struct ioapic *io, uint32_t offset);
void ioapic_mmio_write(struct ioapic *io, uint32_t offset, uint32_t value);

#endif
