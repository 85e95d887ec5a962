/* devices/devutil.c — device state owned by the machine. */
#include "devices/devutil.h"

#include <stdio.h>
#include <stdlib.h>

#include "devices/machine.h"

static _Noreturn void out_of_memory(void)
{
    fprintf(stderr, "nest86: out of memory creating a device\n");
    exit(1);
}

void *dev_zalloc(struct machine *m, size_t size)
{
    if (m->nowned == m->owned_cap) {
        size_t cap = m->owned_cap ? m->owned_cap * 2 : 32;
        void **owned = realloc(m->owned, cap * sizeof(*owned));
        if (!owned)
            out_of_memory();
        m->owned = owned;
        m->owned_cap = cap;
    }
    void *p = calloc(1, size);
    if (!p)
        out_of_memory();
    m->owned[m->nowned++] = p;
    return p;
}

void machine_free_owned(struct machine *m)
{
    for (size_t i = 0; i < m->nowned; i++)
        free(m->owned[i]);
    free(m->owned);
    m->owned = NULL;
    m->nowned = m->owned_cap = 0;
}
