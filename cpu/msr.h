/* cpu/msr.h — MSR indices for code outside the CPU (the local APIC, the
 * debugger), generated from cpu/msr.def so each index is written once. */
#ifndef NEST86_CPU_MSR_H
#define NEST86_CPU_MSR_H

enum cpu_msr_index {
#define MSR(name, idx, where) MSR_##name = idx,
#include "cpu/msr.def"
#undef MSR
};

/* x2APIC registers as MSRs, SDM Vol. 3A 10.12.1.2: 0x800 + offset/16 */
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST  0x8ffu

#endif
