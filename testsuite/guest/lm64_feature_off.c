/*
 * lm64_feature_off: `-cpu nest86,rdrand=off,rdseed=off,invpcid=off`
 * (lm64_feature_off.args) takes the instructions away with their CPUID
 * bits: CPUID.1:ECX.RDRAND (30), CPUID.7.0:EBX.INVPCID (10) and
 * .RDSEED (18) read 0, and RDRAND, RDSEED and INVPCID are #UD (SDM
 * Vol. 2B "RDRAND", "RDSEED", Vol. 2A "INVPCID": #UD when the CPUID
 * bit is 0).
 */
#include "rt.h"

static void test_cpuid_clear(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    ASSERT_EQ((r[2] >> 30) & 1, 0);
    cpuid(7, 0, r);
    ASSERT_EQ((r[1] >> 10) & 1, 0);
    ASSERT_EQ((r[1] >> 18) & 1, 0);
}

static void do_rdrand(void) { __asm__ volatile("rdrand %%eax" ::: "rax", "cc"); }
static void do_rdseed(void) { __asm__ volatile("rdseed %%rcx" ::: "rcx", "cc"); }
static void do_invpcid(void)
{
    static uint64_t desc[2];
    __asm__ volatile("invpcid %0, %1" ::"m"(desc), "r"(2ull) : "memory");
}

static void test_instructions_ud(void)
{
    expect_fault(VEC_UD, do_rdrand);
    expect_fault(VEC_UD, do_rdseed);
    expect_fault(VEC_UD, do_invpcid);
}

void test_main(void)
{
    RUN_TEST(test_cpuid_clear);
    RUN_TEST(test_instructions_ud);
}
