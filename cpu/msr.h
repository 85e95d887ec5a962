/* cpu/msr.h — MSR indices for code outside the CPU (the local APIC, the
 * debugger), generated from cpu/msr.def so each index is written once. */
#ifndef NEST86_CPU_MSR_H
#define NEST86_CPU_MSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cpu_msr_index {
#define MSR(name, idx, where, gate) MSR_##name = idx,
#include "cpu/msr.def"
#undef MSR
};

/* IA32_MISC_ENABLE (SDM Vol. 4 Table 2-2): fast strings on; bit 7
 * "performance monitoring available" 0 and bits 11/12 "BTS / PEBS
 * unavailable" 1, because nest86 has no PMU.  Bits 7, 11 and 12 are
 * read-only. */
#define MISC_ENABLE_FAST_STRINGS (1ull << 0)
#define MISC_ENABLE_PERFMON      (1ull << 7)
#define MISC_ENABLE_BTS_UNAVAIL  (1ull << 11)
#define MISC_ENABLE_PEBS_UNAVAIL (1ull << 12)
#define MISC_ENABLE_RESET (MISC_ENABLE_FAST_STRINGS | MISC_ENABLE_BTS_UNAVAIL | \
                           MISC_ENABLE_PEBS_UNAVAIL)
#define MISC_ENABLE_RO (MISC_ENABLE_PERFMON | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

/* The rows of cpu/msr.def, for tests and inspectors: index k from 0
 * until cpu_msr_row() returns false.  gate is the set of CPU_FEAT_BIT()s
 * any one of which makes the MSR exist (0: always there). */
struct cpu_msr_info {
    const char *name;
    uint32_t index;
    uint64_t gate;
};
bool cpu_msr_row(size_t k, struct cpu_msr_info *out);

/* x2APIC registers as MSRs, SDM Vol. 3A 10.12.1.2: 0x800 + offset/16 */
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST  0x8ffu

#endif
