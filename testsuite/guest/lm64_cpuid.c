/*
 * lm64_cpuid: what CPUID says and what the CPU then does (SDM Vol. 2A
 * "CPUID"; Vol. 3B 20 "Performance Monitoring"; Vol. 4 "Model-Specific
 * Registers").
 *
 * - A leaf at or below the maximum that the model does not implement is
 *   all zeros; a leaf above the maximum basic or extended leaf returns
 *   the highest basic leaf's data.
 * - nest86 has no PMU (docs/platform.md): leaf 0xA is zero, PDCM and DS
 *   are clear, so RDPMC and every architectural PMU MSR raise #GP(0).
 * - An MSR whose enumerating CPUID bit is clear raises #GP(0)
 *   (testsuite/unit/cpu_msr.c walks cpu/msr.def with features off).
 */
#include "rt.h"

#define MSR_IA32_MISC_ENABLE 0x1A0u
#define MSR_IA32_DEBUGCTL 0x1D9u

static bool zero4(const uint32_t r[4])
{
    return (r[0] | r[1] | r[2] | r[3]) == 0;
}

/* RDMSR: -1, or the vector it raised. */
static int rdmsr_vec(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0, hi = 0;
    int vec = catch_asm(RT_CATCH_BEGIN "rdmsr" RT_CATCH_END
                        : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *v = (uint64_t)hi << 32 | lo;
    return vec;
}

static int wrmsr_vec(uint32_t msr, uint64_t v)
{
    return catch_asm(RT_CATCH_BEGIN "wrmsr" RT_CATCH_END
                     ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
}

static int rdpmc_vec(uint32_t counter)
{
    return catch_asm(RT_CATCH_BEGIN "rdpmc" RT_CATCH_END
                     ::"c"(counter) : "rax", "rdx", "memory");
}

/* Leaves 3 (serial number), 8, 9 (DCA), 0xA (PMU) and 0xC lie below the
   maximum basic leaf 0xD; the model implements none of them. */
static void test_unimplemented_leaves_are_zero(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    ASSERT_EQ(r[0], 0xD);
    static const uint32_t leaves[] = { 3, 8, 9, 0xA, 0xC, 0x80000005, 0x80000007 };
    for (unsigned k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++)
        for (uint32_t sub = 0; sub < 3; sub++) {
            cpuid(leaves[k], sub, r);
            if (!zero4(r))
                rt_fail(RT_FILE, __LINE__, "CPUID %xH.%u = %x %x %x %x, "
                        "expected zeros", leaves[k], sub, r[0], r[1], r[2], r[3]);
        }
    cpuid(0x80000000, 0, r);
    ASSERT_EQ(r[0], 0x80000008);
}

/* Above the maximum (basic or extended): the data of leaf 0xD for the
   same sub-leaf, which is not zero for sub-leaves 0 and 1. */
static void test_above_maximum_is_highest_basic(void)
{
    static const uint32_t leaves[] = { 0xE, 0x14, 0x40000000, 0x80000009, 0x8FFFFFFF };
    for (unsigned k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++)
        for (uint32_t sub = 0; sub < 3; sub++) {
            uint32_t want[4], got[4];
            cpuid(0xD, sub, want);
            cpuid(leaves[k], sub, got);
            if (sub < 2)
                ASSERT(!zero4(want));
            for (int i = 0; i < 4; i++)
                if (got[i] != want[i])
                    rt_fail(RT_FILE, __LINE__, "CPUID %xH.%u reg %d = %x, "
                            "leaf 0DH gives %x", leaves[k], sub, i, got[i], want[i]);
        }
}

/* No PMU: architectural PMU version 0 (CPUID.0AH:EAX[7:0]), no
   PDCM (CPUID.1:ECX[15], IA32_PERF_CAPABILITIES) and no DS
   (CPUID.1:EDX[21], IA32_DS_AREA). */
static void test_no_pmu_advertised(void)
{
    uint32_t r[4];
    cpuid(0xA, 0, r);
    ASSERT_EQ(r[0] & 0xFF, 0);
    ASSERT_EQ(r[0] >> 8 & 0xFF, 0);  /* general-purpose counters */
    ASSERT_EQ(r[3] & 0x1F, 0);       /* fixed-function counters */
    cpuid(1, 0, r);
    ASSERT_EQ(r[2] >> 15 & 1, 0);
    ASSERT_EQ(r[3] >> 21 & 1, 0);
    /* IA32_MISC_ENABLE (Vol. 4 Table 2-2): bit 7 "performance monitoring
       available" 0; bits 11 and 12 "BTS / PEBS unavailable" 1.  They are
       read-only: a write does not change them. */
    uint64_t misc;
    ASSERT_EQ(rdmsr_vec(MSR_IA32_MISC_ENABLE, &misc), -1);
    ASSERT_EQ(misc & (1u << 7 | 1u << 11 | 1u << 12), 1u << 11 | 1u << 12);
    ASSERT_EQ(wrmsr_vec(MSR_IA32_MISC_ENABLE, (misc | 1u << 7) & ~(uint64_t)(3u << 11)), -1);
    ASSERT_EQ(rdmsr(MSR_IA32_MISC_ENABLE), misc);
    /* IA32_DEBUGCTL.FREEZE_PERFMON_ON_PMI (bit 12) exists only with PMU
       version 2 or more: reserved here, so setting it is #GP(0). */
    ASSERT_EQ(wrmsr_vec(MSR_IA32_DEBUGCTL, 1u << 12), VEC_GP);
    ASSERT_EQ(wrmsr_vec(MSR_IA32_DEBUGCTL, 1ull << 16), VEC_GP);
    ASSERT_EQ(wrmsr_vec(MSR_IA32_DEBUGCTL, 0), -1);
}

/* RDPMC: #GP(0) when ECX names no counter (Vol. 2B RDPMC); with no
   counters every ECX does, fixed-function (bit 30) included. */
static void test_rdpmc_faults(void)
{
    static const uint32_t counters[] = { 0, 1, 7, 0x40000000, 0x40000002 };
    for (unsigned k = 0; k < sizeof(counters) / sizeof(counters[0]); k++) {
        ASSERT_EQ(rdpmc_vec(counters[k]), VEC_GP);
        ASSERT_EQ(rt_fault.error, 0);
    }
}

/* The architectural PMU MSRs (Vol. 4 Table 2-2) do not exist: RDMSR and
   WRMSR of each are #GP(0). */
static void test_pmu_msrs_fault(void)
{
    static const uint32_t msrs[] = {
        0x0C1, 0x0C2,          /* IA32_PMC0, IA32_PMC1 */
        0x186, 0x187,          /* IA32_PERFEVTSEL0, 1 */
        0x309, 0x30A, 0x30B,   /* IA32_FIXED_CTR0..2 */
        0x345,                 /* IA32_PERF_CAPABILITIES */
        0x38D,                 /* IA32_FIXED_CTR_CTRL */
        0x38E, 0x38F, 0x390,   /* IA32_PERF_GLOBAL_STATUS, _CTRL, _OVF_CTRL */
        0x391,                 /* IA32_PERF_GLOBAL_STATUS_SET */
        0x3F1,                 /* IA32_PEBS_ENABLE */
        0x4C1,                 /* IA32_A_PMC0 */
        0x600,                 /* IA32_DS_AREA */
    };
    for (unsigned k = 0; k < sizeof(msrs) / sizeof(msrs[0]); k++) {
        uint64_t v;
        int r = rdmsr_vec(msrs[k], &v);
        int w = wrmsr_vec(msrs[k], 0);
        if (r != VEC_GP || w != VEC_GP)
            rt_fail(RT_FILE, __LINE__, "MSR %x: RDMSR vector %d, WRMSR vector %d, "
                    "expected #GP for both", msrs[k], r, w);
    }
}

/* MSRs whose enumerating CPUID bits are clear do not exist (Vol. 4
   Table 2-2): RDMSR and WRMSR are #GP(0). */
static void test_unadvertised_msrs_fault(void)
{
    uint32_t r1[4], r7[4];
    cpuid(1, 0, r1);
    cpuid(7, 0, r7);
    ASSERT_EQ(r1[2] >> 6 & 1, 0);      /* SMX (VMX, which enumerates 0x3A, is vmx_off's) */
    ASSERT_EQ(r1[3] >> 14 & 1, 0);     /* MCA */
    ASSERT_EQ(r7[1] >> 1 & 1, 0);      /* IA32_TSC_ADJUST */
    ASSERT_EQ(r7[3] & (1u << 28), 0);  /* L1D_FLUSH */
    static const uint32_t msrs[] = {
        0x03B,  /* IA32_TSC_ADJUST */
        0x10B,  /* IA32_FLUSH_CMD (CPUID.7.0:EDX 28) */
        0x179,  /* IA32_MCG_CAP: MCA */
        0x17A,  /* IA32_MCG_STATUS */
    };
    for (unsigned k = 0; k < sizeof(msrs) / sizeof(msrs[0]); k++) {
        uint64_t v;
        int rd = rdmsr_vec(msrs[k], &v);
        int wr = wrmsr_vec(msrs[k], 0);
        if (rd != VEC_GP || wr != VEC_GP)
            rt_fail(RT_FILE, __LINE__, "MSR %x: RDMSR vector %d, WRMSR vector %d, "
                    "expected #GP for both", msrs[k], rd, wr);
        ASSERT_EQ(rt_fault.error, 0);
    }
}

/* Speculation control (Vol. 4 Table 2-2): CPUID.7.0:EDX enumerates
 * IBRS/IBPB (26) and IA32_ARCH_CAPABILITIES (29), not STIBP (27) or
 * SSBD (31).  IA32_ARCH_CAPABILITIES is read-only and says the CPU is
 * not affected by Meltdown (RDCL_NO 0), SSB (4), MDS (5), TAA (8), the
 * MMIO stale-data family (13-15), BHI (20), PBRSB (24), GDS (26), RFDS
 * (27), ITS (62), with enhanced IBRS (1); IA32_SPEC_CTRL takes IBRS
 * alone; IA32_PRED_CMD is write-only. */
static void test_speculation_control(void)
{
    uint32_t r7[4];
    cpuid(7, 0, r7);
    ASSERT_EQ(r7[3] >> 26 & 1, 1);
    ASSERT_EQ(r7[3] >> 29 & 1, 1);
    ASSERT_EQ(r7[3] & (1u << 27 | 1u << 31), 0);
    uint64_t v;
    ASSERT_EQ(rdmsr_vec(0x10A, &v), -1);
    ASSERT_EQ(v, 0x400000000d10e17bull);
    ASSERT_EQ(wrmsr_vec(0x10A, v), VEC_GP);
    ASSERT_EQ(wrmsr_vec(0x48, 1), -1);
    ASSERT_EQ(rdmsr_vec(0x48, &v), -1);
    ASSERT_EQ(v, 1);
    ASSERT_EQ(wrmsr_vec(0x48, 2), VEC_GP);  /* STIBP */
    ASSERT_EQ(wrmsr_vec(0x48, 4), VEC_GP);  /* SSBD */
    ASSERT_EQ(wrmsr_vec(0x48, 0), -1);
    ASSERT_EQ(wrmsr_vec(0x49, 1), -1);     /* IBPB */
    ASSERT_EQ(wrmsr_vec(0x49, 2), VEC_GP);
    ASSERT_EQ(rdmsr_vec(0x49, &v), VEC_GP);
}

void test_main(void)
{
    RUN_TEST(test_unimplemented_leaves_are_zero);
    RUN_TEST(test_above_maximum_is_highest_basic);
    RUN_TEST(test_no_pmu_advertised);
    RUN_TEST(test_rdpmc_faults);
    RUN_TEST(test_pmu_msrs_fault);
    RUN_TEST(test_unadvertised_msrs_fault);
    RUN_TEST(test_speculation_control);
}
