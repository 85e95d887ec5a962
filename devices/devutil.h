/* devices/devutil.h — small helpers shared by the device models. */
#ifndef NEST86_DEVICES_DEVUTIL_H
#define NEST86_DEVICES_DEVUTIL_H

#include <stdio.h>
#include <stdlib.h>

/* Zeroed device state; running out of host memory while building the
 * board is not recoverable. */
static inline void *dev_zalloc(size_t size)
{
    void *p = calloc(1, size);
    if (!p) {
        fprintf(stderr, "nest86: out of memory creating a device\n");
        exit(1);
    }
    return p;
}

#endif
