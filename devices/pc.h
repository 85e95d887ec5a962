/* devices/pc.h — the PC board: creation, kernel loading, the run loop. */
#ifndef NEST86_DEVICES_PC_H
#define NEST86_DEVICES_PC_H

#include <stddef.h>

#include "devices/machine.h"

/* Exit statuses nest86 itself chooses.  Debug-exit statuses are always
 * odd ((V << 1) | 1), so the emulator's own are even. */
#define PC_EXIT_POWEROFF     0
#define PC_EXIT_USAGE        2  /* bad command line, unusable kernel image */
#define PC_EXIT_TRIPLE_FAULT 4  /* triple fault under -no-reboot */
#define PC_EXIT_HUNG         6  /* HLT with interrupts off and nothing to wake the CPU */

/* Front-end hooks the board calls once per time slice. */
struct pc_frontend {
    void (*poll)(struct machine *m, void *opaque); /* console input etc. */
    /* The machine stopped for the debugger (MACHINE_DEBUG): run the
     * debugger's command loop; return to resume.  NULL: resume at once. */
    void (*debug)(struct machine *m, void *opaque);
    void *opaque;
};

/* Builds the machine for cfg and loads its kernel; NULL with a message
 * in err (the caller exits with PC_EXIT_USAGE). */
struct machine *pc_create(const struct config *cfg, char *err, size_t errlen);
void pc_destroy(struct machine *m);

/* Runs until the guest powers off, exits through debug-exit, triple
 * faults under -no-reboot, hangs, or the front end stops it; returns
 * the process exit status. */
int pc_run(struct machine *m, const struct pc_frontend *fe);

#endif
