/* devices/debugexit.c — ports a guest uses to end a run or reset.
 *
 * 0xF4: writing V exits with status (V << 1) | 1, so no value written
 * by the guest can look like a clean status 0.
 * 0x8900: the Bochs/QEMU shutdown port; the bytes "Shutdown" power off.
 * 0x80: POST code; Linux also writes it as an I/O delay.
 * 0xCF9: reset control (PIIX3/ICH); setting RST_CPU (bit 2) resets.
 * SYS_RST (bit 1) chooses hard over soft reset; both are a full board
 * reset here.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devices/devutil.h"
#include "devices/debugexit.h"
#include "devices/machine.h"
#include "devices/snap.h"

static const char shutdown_magic[] = "Shutdown";

static uint32_t debugexit_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct debugexit *d = opaque;
    switch (port) {
    case DEBUGEXIT_POST: return d->post_code;
    case DEBUGEXIT_RESET_CTL: return d->reset_ctl;
    default: return 0xFFFFFFFFu;
    }
}

static void debugexit_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct debugexit *d = opaque;
    char msg[64];
    switch (port) {
    case DEBUGEXIT_PORT:
        /* Four ports claimed so a 16/32-bit write at 0xF4 arrives whole;
         * only 0xF4 itself acts. */
        snprintf(msg, sizeof(msg), "debug-exit port 0x%x: value 0x%x", port, value);
        machine_request_stop(d->m, MACHINE_EXIT, (int)((value << 1) | 1), msg);
        break;
    case DEBUGEXIT_SHUTDOWN:
        if ((char)value == shutdown_magic[d->shutdown_pos]) {
            if (++d->shutdown_pos == sizeof(shutdown_magic) - 1) {
                d->shutdown_pos = 0;
                machine_request_stop(d->m, MACHINE_EXIT, 0, "shutdown port");
            }
        } else {
            d->shutdown_pos = (char)value == shutdown_magic[0];
        }
        break;
    case DEBUGEXIT_POST:
        d->post_code = (uint8_t)value;
        break;
    case DEBUGEXIT_RESET_CTL:
        d->reset_ctl = value & 0x0A;
        if (value & 0x04)
            machine_request_stop(d->m, MACHINE_RESET, 0,
                                 value & 0x02 ? "hard reset via 0xCF9"
                                              : "soft reset via 0xCF9");
        break;
    }
}

static void debugexit_reset(void *opaque)
{
    struct debugexit *d = opaque;
    d->shutdown_pos = 0;
    d->reset_ctl = 0;
}

struct debugexit *debugexit_create(struct machine *m)
{
    struct debugexit *d = dev_zalloc(m, sizeof(*d));
    d->m = m;
    io_register(&m->io, DEBUGEXIT_PORT, 4, "debug-exit", d, NULL, debugexit_write);
    io_register(&m->io, DEBUGEXIT_SHUTDOWN, 1, "shutdown", d, NULL, debugexit_write);
    io_register(&m->io, DEBUGEXIT_POST, 1, "post", d, debugexit_read, debugexit_write);
    io_register(&m->io, DEBUGEXIT_RESET_CTL, 1, "reset-ctl", d, debugexit_read,
                debugexit_write);
    bus_add_reset(&m->io, debugexit_reset, d);
    return d;
}

static void debugexit_state(struct snap *s, struct machine *m)
{
    struct debugexit *d = m->debugexit;
    snap_u8(s, &d->post_code);
    snap_u8(s, &d->shutdown_pos);
    snap_check(s, d->shutdown_pos < sizeof(shutdown_magic) - 1, "shutdown port position");
    snap_u8(s, &d->reset_ctl);
}
SNAP_SECTION(debugexit, "debugexit", 1, debugexit_state)
