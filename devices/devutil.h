/* devices/devutil.h — small helpers shared by the device models. */
#ifndef NEST86_DEVICES_DEVUTIL_H
#define NEST86_DEVICES_DEVUTIL_H

#include <stddef.h>

struct machine;

/* Zeroed device state owned by the machine: pc_destroy() frees it
 * (machine_free_owned()).  Running out of host memory while building
 * the board is not recoverable, so this never returns NULL. */
void *dev_zalloc(struct machine *m, size_t size);

/* Frees everything dev_zalloc() gave out for 'm'. */
void machine_free_owned(struct machine *m);

#endif
