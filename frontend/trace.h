/* frontend/trace.h — -d trace categories (int, exec, cpu, mmu, io)
 * written to stderr or the -D file. */
#ifndef NEST86_FRONTEND_TRACE_H
#define NEST86_FRONTEND_TRACE_H

#include <stddef.h>

struct config;
struct machine;
struct debugger;
struct trace;

/* NULL and no error when -d is not given; NULL with err set on failure. */
struct trace *trace_open(const struct config *cfg, struct machine *m, struct debugger *d,
                         char *err, size_t errlen);
void trace_close(struct trace *t);

#endif
