/* cpu/inspect.h — CPU functions the debugger uses for inspection.
 *
 * Added by the debugger work (debugger/): cpu_msr_read() is defined in
 * cpu/msr.c and declared in cpu/cpu_internal.h, which other modules must
 * not include.  It has no side effects beyond what RDMSR itself has and
 * never raises.  This header can go once cpu/cpu.h declares it. */
#ifndef NEST86_CPU_INSPECT_H
#define NEST86_CPU_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

struct cpu;

/* RDMSR without the #GP: false when the MSR does not exist. */
bool cpu_msr_read(struct cpu *c, uint32_t index, uint64_t *value);

#endif
