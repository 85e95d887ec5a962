/* devices/pci.c — PCI configuration mechanism 1 and bus 0
 * (PCI Local Bus Specification 3.0, 3.2.2.3.2 and chapter 6).
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/machine.h"
#include "devices/pci.h"
#include "devices/snap.h"

static void put_le(uint8_t *p, unsigned size, uint32_t v)
{
    for (unsigned i = 0; i < size; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t pci_config_read(const struct pci_device *d, unsigned offset, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (offset + i < 256 ? d->config[offset + i] : 0xFFu) << (8 * i);
    return v;
}

void pci_config_write(struct pci_device *d, unsigned offset, uint32_t value, unsigned size)
{
    for (unsigned i = 0; i < size && offset + i < 256; i++) {
        unsigned o = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        d->config[o] = (uint8_t)((d->config[o] & ~d->wmask[o]) | (b & d->wmask[o]));
        d->config[o] &= (uint8_t)~(b & d->w1cmask[o]);
    }
    if (d->hook)
        d->hook(d, d->opaque, offset, size);
}

struct pci_device *pci_register(struct pcihost *h, uint8_t devfn, uint16_t vendor,
                                uint16_t device, uint32_t class_code, uint8_t revision)
{
    if (h->dev[devfn])
        return NULL;
    struct pci_device *d = dev_zalloc(h->m, sizeof(*d));
    d->devfn = devfn;
    put_le(&d->config[PCI_VENDOR_ID], 2, vendor);
    put_le(&d->config[PCI_DEVICE_ID], 2, device);
    d->config[PCI_REVISION] = revision;
    put_le(&d->config[PCI_CLASS_PROG], 3, class_code);
    /* Command: I/O, memory, bus master, INTx disable. */
    put_le(&d->wmask[PCI_COMMAND], 2, 0x0407);
    d->w1cmask[PCI_STATUS + 1] = 0xF9; /* error bits are write-1-to-clear */
    d->wmask[0x0C] = 0xFF;              /* cache line size */
    d->wmask[0x0D] = 0xFF;              /* latency timer */
    d->wmask[PCI_INTERRUPT_LINE] = 0xFF;
    h->dev[devfn] = d;
    /* Function 0 announces that the device has more functions. */
    struct pci_device *f0 = h->dev[devfn & ~7];
    if ((devfn & 7) && f0)
        f0->config[PCI_HEADER_TYPE] |= 0x80;
    if (!(devfn & 7)) {
        for (int fn = 1; fn < 8; fn++)
            if (h->dev[devfn | fn])
                d->config[PCI_HEADER_TYPE] |= 0x80;
    }
    return d;
}

void pci_set_hook(struct pci_device *d, pci_config_hook hook, void *opaque)
{
    d->hook = hook;
    d->opaque = opaque;
}

void pci_set_bar(struct pci_device *d, int bar, uint32_t size, unsigned flags)
{
    unsigned off = PCI_BAR0 + 4 * (unsigned)bar;
    uint32_t low_bits = flags & PCI_BAR_IO ? 0x3 : 0xF;
    put_le(&d->config[off], 4, flags);
    /* Size probing: writing all ones reads back ~(size - 1) | flags. */
    put_le(&d->wmask[off], 4, ~(size - 1) & ~low_bits);
}

uint32_t pci_bar_addr(const struct pci_device *d, int bar)
{
    uint32_t v = pci_config_read(d, PCI_BAR0 + 4 * (unsigned)bar, 4);
    return v & (v & PCI_BAR_IO ? ~0x3u : ~0xFu);
}

void pci_set_irq_pin(struct pci_device *d, uint8_t pin)
{
    d->config[PCI_INTERRUPT_PIN] = pin;
}

static struct pci_device *selected(const struct pcihost *h)
{
    if (!(h->addr & 0x80000000u) || ((h->addr >> 16) & 0xFF) != 0)
        return NULL;
    return h->dev[(h->addr >> 8) & 0xFF];
}

static uint32_t pci_io_read(void *opaque, uint16_t port, unsigned size)
{
    struct pcihost *h = opaque;
    if (port < PCI_CONFIG_DATA)
        return port == PCI_CONFIG_ADDR && size == 4 ? h->addr : 0xFFFFFFFFu;
    struct pci_device *d = selected(h);
    if (!d)
        return 0xFFFFFFFFu; /* no such function: master abort */
    return pci_config_read(d, (h->addr & 0xFC) + (port & 3), size);
}

static void pci_io_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    struct pcihost *h = opaque;
    if (port < PCI_CONFIG_DATA) {
        /* Only dword accesses reach the address register; narrower
         * ones are ordinary I/O cycles (cf. 0xCF9 reset control). */
        if (port == PCI_CONFIG_ADDR && size == 4)
            h->addr = value & 0x80FFFFFCu;
        return;
    }
    struct pci_device *d = selected(h);
    if (d)
        pci_config_write(d, (h->addr & 0xFC) + (port & 3), value, size);
}

void pci_reset(void *opaque)
{
    struct pcihost *h = opaque;
    h->addr = 0;
    for (int i = 0; i < 256; i++) {
        struct pci_device *d = h->dev[i];
        if (!d)
            continue;
        put_le(&d->config[PCI_COMMAND], 2, 0);
        put_le(&d->config[PCI_STATUS], 2, 0);
    }
    if (h->isa_bridge)
        memset(&h->isa_bridge->config[PCI_PIIX_PIRQRC], 0x80, 4);
}

struct pcihost *pci_create(struct machine *m)
{
    struct pcihost *h = dev_zalloc(m, sizeof(*h));
    h->m = m;
    h->host_bridge = pci_register(h, PCI_DEVFN(0, 0), 0x8086, 0x1237, 0x060000, 0x02);
    h->isa_bridge = pci_register(h, PCI_DEVFN(1, 0), 0x8086, 0x7000, 0x060100, 0x00);
    h->isa_bridge->config[PCI_HEADER_TYPE] = 0x80; /* PIIX3 is multi-function */
    for (int i = 0; i < 4; i++)
        h->isa_bridge->wmask[PCI_PIIX_PIRQRC + i] = 0x8F;
    pci_reset(h);
    io_register(&m->io, PCI_CONFIG_ADDR, 4, "pci-addr", h, pci_io_read, pci_io_write);
    io_register(&m->io, PCI_CONFIG_DATA, 4, "pci-data", h, pci_io_read, pci_io_write);
    bus_add_reset(&m->io, pci_reset, h);
    return h;
}

/* The configuration space of every function on bus 0; which functions
 * exist and their write masks are the board's, not state. */
static void pci_state(struct snap *s, struct machine *m)
{
    struct pcihost *h = m->pci;
    snap_u32(s, &h->addr);
    uint32_t present[8] = {0};
    for (int k = 0; k < 256; k++)
        if (h->dev[k])
            present[k >> 5] |= 1u << (k & 31);
    uint32_t saved[8];
    memcpy(saved, present, sizeof(saved));
    snap_u32s(s, saved, 8);
    snap_check(s, !memcmp(saved, present, sizeof(saved)), "PCI device set");
    for (int k = 0; k < 256 && !s->failed; k++)
        if (h->dev[k])
            snap_bytes(s, h->dev[k]->config, sizeof(h->dev[k]->config));
    /* the loaded BARs: the devices' hooks see the whole space written */
    for (int k = 0; k < 256 && s->loading && !s->failed; k++)
        if (h->dev[k] && h->dev[k]->hook)
            h->dev[k]->hook(h->dev[k], h->dev[k]->opaque, 0, 256);
}
SNAP_SECTION(pci, "pci", 1, pci_state)
