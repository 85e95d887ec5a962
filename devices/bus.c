/* devices/bus.c — the I/O port bus (see devices/bus.h).
 *
 * Each port maps to at most one handler; a later registration takes the
 * ports it names from an earlier one, so a device may claim one port in
 * the middle of another's range (0xCF9 inside the PCI window).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"

void io_init(struct iobus *b)
{
    memset(b, 0, sizeof(*b));
}

void io_register(struct iobus *b, uint16_t base, uint16_t count, const char *name,
                 void *opaque, io_read_fn read, io_write_fn write)
{
    if (b->nhandlers >= IO_MAX_HANDLERS) {
        /* A board-assembly bug, not something a guest can cause. */
        fprintf(stderr, "nest86: too many I/O handlers (registering %s)\n", name);
        abort();
    }
    int idx = b->nhandlers++;
    b->handlers[idx] = (struct io_handler){ base, count, name, opaque, read, write };
    for (uint32_t p = base; p < (uint32_t)base + count && p < 65536; p++)
        b->port_map[p] = (uint8_t)(idx + 1);
}

static uint32_t size_mask(unsigned size)
{
    return size >= 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

/* The handler that takes an access of 'size' bytes at 'port' whole:
 * the first port's handler, when its own range covers the access.  It
 * keeps a wide access even where a later registration took single
 * ports of its range, as a chipset decodes a dword at 0xCF8 as the PCI
 * address while a byte at 0xCF9 is reset control.  Otherwise NULL, and
 * the access is split into byte accesses as an 8-bit ISA bus would. */
static const struct io_handler *whole_handler(const struct iobus *b, uint16_t port,
                                              unsigned size)
{
    int idx = b->port_map[port];
    if (!idx)
        return NULL;
    const struct io_handler *h = &b->handlers[idx - 1];
    if ((uint32_t)port + size > (uint32_t)h->base + h->count)
        return NULL;
    return h;
}

static uint32_t io_in_raw(struct iobus *b, uint16_t port, unsigned size)
{
    const struct io_handler *h = whole_handler(b, port, size);
    if (h)
        return h->read ? h->read(h->opaque, port, size) & size_mask(size) : size_mask(size);
    if (size == 1)
        return 0xFF; /* nothing decodes this port: open bus */
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= io_in_raw(b, (uint16_t)(port + i), 1) << (8 * i);
    return v;
}

static void io_out_raw(struct iobus *b, uint16_t port, uint32_t value, unsigned size)
{
    const struct io_handler *h = whole_handler(b, port, size);
    if (h) {
        if (h->write)
            h->write(h->opaque, port, value & size_mask(size), size);
        return;
    }
    if (size == 1)
        return;
    for (unsigned i = 0; i < size; i++)
        io_out_raw(b, (uint16_t)(port + i), (value >> (8 * i)) & 0xFF, 1);
}

uint32_t io_in(struct iobus *b, uint16_t port, unsigned size)
{
    uint32_t v = io_in_raw(b, port, size);
    if (b->trace)
        b->trace("in", port, v, size);
    return v;
}

void io_out(struct iobus *b, uint16_t port, uint32_t value, unsigned size)
{
    value &= size_mask(size);
    if (b->trace)
        b->trace("out", port, value, size);
    io_out_raw(b, port, value, size);
}

void io_note(struct iobus *b, const char *device, const char *fmt, ...)
{
    if (!b->note)
        return;
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    b->note(device, text);
}

void bus_add_reset(struct iobus *b, bus_reset_fn fn, void *opaque)
{
    if (b->nresets >= BUS_MAX_RESETS) {
        fprintf(stderr, "nest86: too many reset hooks\n");
        abort();
    }
    b->resets[b->nresets].fn = fn;
    b->resets[b->nresets].opaque = opaque;
    b->nresets++;
}

void bus_reset_all(struct iobus *b)
{
    for (int i = 0; i < b->nresets; i++)
        b->resets[i].fn(b->resets[i].opaque);
}
