/*
 * frontend/prof.c — -d prof: a sampling profile of the guest.
 *
 * Every PROF_PERIOD_NS of guest time (one instruction is one
 * nanosecond of guest time, so every 10,000 instructions) the board's
 * loop ends its time slice and this records where the CPU is: the
 * linear address of the next instruction, CPL, and whether it runs a
 * VMX guest (non-root operation) — or that it is halted.  At the end
 * the samples are named with the debugger's symbols and counted by
 * function, so the profile of a Linux boot reads like perf's: e.g. the
 * kernel's crypto self-tests as mpihelp_* and sha256_update.
 *
 * Shorter slices make timers fire nearer their deadlines, so a
 * profiled run is not instruction-for-instruction the run without it;
 * guest time and the instructions each part takes are the same.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "debugger/debugger.h"
#include "devices/machine.h"
#include "frontend/prof.h"

#define PROF_PERIOD_NS 10000
#define PROF_TOP 30

/* a sample: the code address, and what ran there */
enum { PROF_ROOT = 0, PROF_NONROOT = 1, PROF_USER = 2, PROF_HALTED = 4 };
struct prof_sample {
    uint64_t pc;
    uint8_t mode;
};

struct prof {
    struct machine *m;
    struct prof_sample *s;
    size_t n, cap;
};

static void prof_slice_done(void *opaque, struct cpu *c)
{
    struct prof *p = opaque;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 65536;
        struct prof_sample *s = realloc(p->s, cap * sizeof(*s));
        if (!s)
            return; /* out of memory: the profile covers what it has */
        p->s = s;
        p->cap = cap;
    }
    uint8_t mode = (c->vmx.nonroot ? PROF_NONROOT : PROF_ROOT) | (c->cpl == 3 ? PROF_USER : 0);
    if (c->halted)
        mode |= PROF_HALTED;
    uint64_t pc = c->code_size == 8 ? c->rip : (uint32_t)(c->seg[SEG_CS].base + c->rip);
    p->s[p->n++] = (struct prof_sample){pc, mode};
}

struct prof *prof_open(struct machine *m)
{
    struct prof *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->m = m;
    m->slice_max_ns = PROF_PERIOD_NS;
    m->slice_done = prof_slice_done;
    m->slice_opaque = p;
    return p;
}

/* a row of the profile: one function (or bucket) in one mode */
struct prof_row {
    char name[96];
    uint8_t mode;
    uint64_t count;
};

static int by_address(const void *a, const void *b)
{
    const struct prof_sample *x = a, *y = b;
    if (x->mode != y->mode)
        return x->mode < y->mode ? -1 : 1;
    return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static int by_count(const void *a, const void *b)
{
    const struct prof_row *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static const char *mode_name(uint8_t mode)
{
    static const char *const names[] = {"kernel", "vmx-guest kernel", "user", "vmx-guest user"};
    return names[mode & 3];
}

void prof_close(struct prof *p, FILE *out, struct debugger *d)
{
    if (!p)
        return;
    p->m->slice_max_ns = 0;
    p->m->slice_done = NULL;
    /* name each sample: the symbol without its offset, else a 1-MiB
     * bucket of the address space.  Sorted by mode and address, the
     * samples of one function (or bucket) are adjacent, so equal names
     * are counted as they go by. */
    if (p->n)
        qsort(p->s, p->n, sizeof(*p->s), by_address);
    struct prof_row *rows = calloc(p->n ? p->n : 1, sizeof(*rows));
    size_t nrows = 0;
    uint64_t halted = 0;
    for (size_t k = 0; rows && k < p->n; k++) {
        const struct prof_sample *s = &p->s[k];
        if (s->mode & PROF_HALTED) {
            halted++;
            continue;
        }
        char name[160];
        debugger_symbolize(d, s->pc, name, sizeof(name));
        char *plus = strchr(name, '+');
        if (plus)
            *plus = 0;
        if (!name[0])
            snprintf(name, sizeof(name), "[0x%" PRIx64 "xxxxx]", s->pc >> 20);
        if (!nrows || rows[nrows - 1].mode != s->mode ||
            strncmp(rows[nrows - 1].name, name, sizeof(rows[0].name) - 1)) {
            snprintf(rows[nrows].name, sizeof(rows[nrows].name), "%.95s", name);
            rows[nrows].mode = s->mode;
            nrows++;
        }
        rows[nrows - 1].count++;
    }
    if (rows)
        qsort(rows, nrows, sizeof(*rows), by_count);
    fprintf(out, "prof: %zu samples, one per %d guest ns; %" PRIu64 " halted\n", p->n,
            PROF_PERIOD_NS, halted);
    for (size_t r = 0; rows && r < nrows && r < PROF_TOP; r++)
        fprintf(out, "prof: %5.1f%% %8" PRIu64 "  %-16s %s\n",
                100.0 * (double)rows[r].count / (double)(p->n ? p->n : 1), rows[r].count,
                mode_name(rows[r].mode), rows[r].name);
    free(rows);
    free(p->s);
    free(p);
}
