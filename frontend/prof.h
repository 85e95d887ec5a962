/* frontend/prof.h — -d prof: where the guest spends its instructions,
 * sampled (frontend/prof.c). */
#ifndef NEST86_FRONTEND_PROF_H
#define NEST86_FRONTEND_PROF_H

#include <stdio.h>

struct machine;
struct debugger;
struct prof;

/* Starts sampling the machine's CPU; NULL when out of memory. */
struct prof *prof_open(struct machine *m);
/* Stops sampling and prints the profile to OUT, named with the
 * debugger's symbols (the -kernel image's, or those `symbols` loaded);
 * frees P. */
void prof_close(struct prof *p, FILE *out, struct debugger *d);

#endif
