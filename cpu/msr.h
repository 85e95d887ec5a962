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

/* IA32_SPEC_CTRL (SDM Vol. 4 Table 2-2): IBRS is the one bit nest86
 * enumerates (CPUID.7.0:EDX[26]); STIBP and SSBD are not offered, so
 * writing them, or any other bit, is #GP(0).  IA32_PRED_CMD: bit 0
 * (IBPB), write-only. */
#define SPEC_CTRL_IBRS (1ull << 0)
#define PRED_CMD_IBPB  (1ull << 0)

/* IA32_ARCH_CAPABILITIES (SDM Vol. 4 Table 2-2; Intel's "affected
 * processors" guidance for the *_NO bits).  nest86 executes nothing
 * speculatively and has no caches, fill buffers, branch predictors or
 * return-stack buffers to leak from, so it reports itself unaffected by
 * every listed attack, and IBRS_ALL ("enhanced IBRS": IBRS may be left
 * set; its setting costs nothing here).  A guest kernel then needs none
 * of the mitigations a Cascade Lake (this model and stepping) would
 * still get: no page-table isolation, retpolines or return thunks, no
 * buffer clearing on return to user mode or on VM entry.  ITS_NO (bit
 * 62) is not set by hardware; VMMs synthesize it for their guests, and
 * nest86 is what the guest runs on. */
#define ARCH_CAP_RDCL_NO        (1ull << 0)  /* Meltdown (and so L1TF) */
#define ARCH_CAP_IBRS_ALL       (1ull << 1)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ull << 3) /* no L1D flush needed on VM entry */
#define ARCH_CAP_SSB_NO         (1ull << 4)  /* speculative store bypass */
#define ARCH_CAP_MDS_NO         (1ull << 5)  /* microarchitectural data sampling */
#define ARCH_CAP_PSCHANGE_MC_NO (1ull << 6)  /* no machine check on a page-size change */
#define ARCH_CAP_TAA_NO         (1ull << 8)  /* TSX asynchronous abort */
#define ARCH_CAP_SBDR_SSDP_NO   (1ull << 13) /* MMIO stale data: shared buffers */
#define ARCH_CAP_FBSDP_NO       (1ull << 14) /* fill buffers */
#define ARCH_CAP_PSDP_NO        (1ull << 15) /* primary stale data */
#define ARCH_CAP_BHI_NO         (1ull << 20) /* branch history injection */
#define ARCH_CAP_PBRSB_NO       (1ull << 24) /* post-barrier RSB predictions */
#define ARCH_CAP_GDS_NO         (1ull << 26) /* gather data sampling */
#define ARCH_CAP_RFDS_NO        (1ull << 27) /* register file data sampling */
#define ARCH_CAP_ITS_NO         (1ull << 62) /* indirect target selection */
#define ARCH_CAPABILITIES_VALUE                                                          \
    (ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_SSB_NO | \
     ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO |  \
     ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO | ARCH_CAP_BHI_NO | ARCH_CAP_PBRSB_NO |          \
     ARCH_CAP_GDS_NO | ARCH_CAP_RFDS_NO | ARCH_CAP_ITS_NO)

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
