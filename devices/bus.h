/* devices/bus.h — the I/O port bus and the interrupt lines of the board.
 *
 * Every device registers its ports with one io_register() call and its
 * reset hook with one bus_add_reset() call.  Port accesses from IN/OUT
 * (and string I/O) arrive through io_in()/io_out().
 */
#ifndef NEST86_DEVICES_BUS_H
#define NEST86_DEVICES_BUS_H

#include <stdint.h>

typedef uint32_t (*io_read_fn)(void *opaque, uint16_t port, unsigned size);
typedef void (*io_write_fn)(void *opaque, uint16_t port, uint32_t value, unsigned size);
typedef void (*bus_reset_fn)(void *opaque);

#define IO_MAX_HANDLERS 128
#define BUS_MAX_RESETS  64

struct io_handler {
    uint16_t base, count;
    const char *name;
    void *opaque;
    io_read_fn read;   /* NULL: reads float high */
    io_write_fn write; /* NULL: writes are ignored */
};

struct iobus {
    uint8_t port_map[65536]; /* handler index + 1 per port; 0 = nothing */
    int nhandlers;
    struct io_handler handlers[IO_MAX_HANDLERS];
    int nresets;
    struct { bus_reset_fn fn; void *opaque; } resets[BUS_MAX_RESETS];
    /* -d io tracing: when non-NULL, every access is logged here. */
    void (*trace)(const char *dir, uint16_t port, uint32_t value, unsigned size);
    /* -d io too: what a device says about an access it ignores */
    void (*note)(const char *device, const char *text);
};

void io_init(struct iobus *b);
void io_register(struct iobus *b, uint16_t base, uint16_t count, const char *name,
                 void *opaque, io_read_fn read, io_write_fn write);
/* Unclaimed ports read as all-ones of the access size and ignore writes. */
uint32_t io_in(struct iobus *b, uint16_t port, unsigned size);
void io_out(struct iobus *b, uint16_t port, uint32_t value, unsigned size);

/* A device's remark for the -d io trace (e.g. a request it does not
 * model and ignores); nothing when the trace is off. */
void io_note(struct iobus *b, const char *device, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void bus_add_reset(struct iobus *b, bus_reset_fn fn, void *opaque);
void bus_reset_all(struct iobus *b);

#endif
