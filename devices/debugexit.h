/* devices/debugexit.h — small board ports that end or reset a run:
 * isa-debug-exit (0xF4), the Bochs shutdown port (0x8900), the POST
 * code port (0x80) and the reset control register (0xCF9). */
#ifndef NEST86_DEVICES_DEBUGEXIT_H
#define NEST86_DEVICES_DEBUGEXIT_H

#include <stdint.h>

struct machine;

#define DEBUGEXIT_PORT      0xF4
#define DEBUGEXIT_SHUTDOWN  0x8900
#define DEBUGEXIT_POST      0x80
#define DEBUGEXIT_RESET_CTL 0xCF9

struct debugexit {
    struct machine *m;
    uint8_t post_code;   /* last byte written to port 0x80 */
    uint8_t shutdown_pos;/* how much of "Shutdown" has arrived at 0x8900 */
    uint8_t reset_ctl;   /* 0xCF9 bits 1 and 3 (bit 2 self-clears) */
};

/* Registers the ports; must come after the PCI host so that 0xCF9
 * takes that one byte out of the 0xCF8 window. */
struct debugexit *debugexit_create(struct machine *m);

#endif
