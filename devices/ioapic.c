/* devices/ioapic.c — I/O APIC (82093AA datasheet, section 3). */
#include "devices/devutil.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/snap.h"

/* Writable bits of a redirection entry: vector, delivery mode, dest
 * mode, polarity, trigger, mask (low dword) and destination 63:56. */
#define RTE_WRITABLE 0xFF0000000001AFFFull

/* Sends the interrupt message of 'pin' if it is due. */
static void service(struct ioapic *io, int pin)
{
    uint64_t e = io->redir[pin];
    uint32_t bit = 1u << pin;
    bool level_trig = (e & IOAPIC_RTE_LEVEL) != 0;
    if (e & IOAPIC_RTE_MASKED)
        return;
    if (level_trig) {
        if (!(io->lines & bit) || (e & IOAPIC_RTE_REMOTE_IRR))
            return;
    } else if (!(io->pending & bit)) {
        return;
    }
    struct lapic *l = io->m->lapic;
    int mode = (int)((e >> 8) & 7);
    uint32_t dest = (uint32_t)(e >> 56);
    bool logical = (e & IOAPIC_RTE_DEST_LOGICAL) != 0;
    io->pending &= ~bit;
    if (!l || !lapic_match_dest(l, dest, logical))
        return; /* no APIC takes it: the message is lost */
    /* ExtINT and NMI are edge messages whatever the trigger bit says */
    if (mode == APIC_DM_EXTINT || mode == APIC_DM_NMI)
        level_trig = false;
    if (lapic_deliver(l, mode, (uint8_t)e, level_trig) && level_trig)
        io->redir[pin] |= IOAPIC_RTE_REMOTE_IRR;
}

void ioapic_set_irq(struct ioapic *io, int pin, bool level)
{
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin;
    bool rising = level && !(io->lines & bit);
    if (level)
        io->lines |= bit;
    else
        io->lines &= ~bit;
    if (rising && !(io->redir[pin] & IOAPIC_RTE_LEVEL))
        io->pending |= bit; /* an edge is latched until delivered */
    if (level)
        service(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->redir[pin];
        if ((e & IOAPIC_RTE_LEVEL) && (uint8_t)e == vector && (e & IOAPIC_RTE_REMOTE_IRR)) {
            io->redir[pin] &= ~(uint64_t)IOAPIC_RTE_REMOTE_IRR;
            service(io, pin);
        }
    }
}

static uint32_t reg_read(struct ioapic *io, uint8_t reg)
{
    switch (reg) {
    case IOAPIC_REG_ID: return io->id;
    case IOAPIC_REG_VER: return IOAPIC_VERSION;
    case IOAPIC_REG_ARB: return io->id; /* arbitration ID follows the ID */
    default:
        if (reg >= IOAPIC_REG_REDTBL && reg < IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS) {
            uint64_t e = io->redir[(reg - IOAPIC_REG_REDTBL) >> 1];
            return (reg & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
        }
        return 0;
    }
}

static void reg_write(struct ioapic *io, uint8_t reg, uint32_t v)
{
    if (reg == IOAPIC_REG_ID) {
        io->id = v & 0x0F000000u;
        return;
    }
    if (reg < IOAPIC_REG_REDTBL || reg >= IOAPIC_REG_REDTBL + 2 * IOAPIC_PINS)
        return; /* version and arbitration are read-only */
    int pin = (reg - IOAPIC_REG_REDTBL) >> 1;
    uint64_t e = io->redir[pin];
    if (reg & 1)
        e = (e & 0xFFFFFFFFull) | (uint64_t)v << 32;
    else
        e = (e & ~0xFFFFFFFFull) | v;
    /* Remote IRR and delivery status are read-only; Remote IRR means
     * nothing for an edge-triggered pin. */
    uint64_t ro = io->redir[pin] & IOAPIC_RTE_REMOTE_IRR;
    e = (e & RTE_WRITABLE) | ro;
    if (!(e & IOAPIC_RTE_LEVEL))
        e &= ~(uint64_t)IOAPIC_RTE_REMOTE_IRR;
    io->redir[pin] = e;
    service(io, pin); /* unmasking delivers what is pending */
}

uint32_t ioapic_mmio_read(struct ioapic *io, uint32_t offset)
{
    switch (offset) {
    case 0x00: return io->regsel;
    case 0x10: return reg_read(io, io->regsel);
    default: return 0;
    }
}

void ioapic_mmio_write(struct ioapic *io, uint32_t offset, uint32_t value)
{
    switch (offset) {
    case 0x00: io->regsel = (uint8_t)value; break;
    case 0x10: reg_write(io, io->regsel, value); break;
    default: break;
    }
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    uint32_t v = ioapic_mmio_read(opaque, (uint32_t)offset & ~3u);
    v >>= 8 * (offset & 3);
    return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (!(offset & 3) && (size >= 4 || (offset & ~3ull) == 0))
        ioapic_mmio_write(opaque, (uint32_t)offset, (uint32_t)value);
}

void ioapic_reset(void *opaque)
{
    struct ioapic *io = opaque;
    io->id = (uint32_t)IOAPIC_ID << 24;
    io->regsel = 0;
    for (int pin = 0; pin < IOAPIC_PINS; pin++)
        io->redir[pin] = IOAPIC_RTE_MASKED;
    io->pending = 0;
}

struct ioapic *ioapic_create(struct machine *m)
{
    struct ioapic *io = dev_zalloc(m, sizeof(*io));
    io->m = m;
    phys_map_mmio(&m->phys, IOAPIC_BASE, 0x1000, "ioapic", io, mmio_read, mmio_write);
    bus_add_reset(&m->io, ioapic_reset, io);
    m->ioapic = io;
    ioapic_reset(io);
    return io;
}

static void ioapic_state(struct snap *s, struct machine *m)
{
    struct ioapic *io = m->ioapic;
    snap_u32(s, &io->id);
    snap_u8(s, &io->regsel);
    snap_u64s(s, io->redir, IOAPIC_PINS);
    snap_u32(s, &io->lines);
    snap_u32(s, &io->pending);
}
SNAP_SECTION(ioapic, "ioapic", 1, ioapic_state)
