/* frontend/trace.h — -d trace categories written to stderr or the -D
 * file.  The category list below is the one source of truth for the
 * parser (options.c), -help and the tracer (trace.c). */
#ifndef NEST86_FRONTEND_TRACE_H
#define NEST86_FRONTEND_TRACE_H

#include <stddef.h>
#include <stdio.h>

/* X(name, bit): int = exceptions and interrupts, exec = each instruction,
 * cpu = registers per instruction, mmu = walks and paging-register
 * changes, io = port accesses and devices' notes on requests they
 * ignore, stats = instructions retired, guest
 * time, page walks, MMU epochs, writes to cached code, VM exits by
 * reason and the window's refreshes when nest86 exits, vmx = every VM entry, VM exit and failed VM-entry check. */
#define TRACE_CATEGORIES(X) \
    X(int, 1) X(exec, 2) X(cpu, 4) X(mmu, 8) X(io, 16) X(stats, 32) X(vmx, 64) X(prof, 128)
#define TRACE_CATEGORY_LIST "int, exec, cpu, mmu, io, stats, vmx, prof"

/* The bit for a category name of length len, or 0 if there is none. */
unsigned trace_category_bit(const char *name, size_t len);

struct config;
struct machine;
struct debugger;
struct trace;

/* NULL and no error when -d is not given; NULL with err set on failure. */
struct trace *trace_open(const struct config *cfg, struct machine *m, struct debugger *d,
                         char *err, size_t errlen);
/* Before it closes, -d stats also prints what fn writes (the window's
 * own figures); t may be NULL. */
void trace_add_stats(struct trace *t, void (*fn)(void *opaque, FILE *out), void *opaque);
void trace_close(struct trace *t);

#endif
