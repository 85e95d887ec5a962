/*
 * lm64_feature_off: `-cpu nest86,rdrand=off,rdseed=off,invpcid=off,sha_ni=off`
 * (lm64_feature_off.args) takes the instructions away with their CPUID
 * bits: CPUID.1:ECX.RDRAND (30), CPUID.7.0:EBX.INVPCID (10), .RDSEED
 * (18) and .SHA (29) read 0, and RDRAND, RDSEED, INVPCID and the SHA
 * instructions are #UD (SDM Vol. 2B "RDRAND", "RDSEED", "SHA256RNDS2"
 * and the other SHA rows, Vol. 2A "INVPCID": #UD when the CPUID bit is
 * 0).
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
    ASSERT_EQ((r[1] >> 29) & 1, 0);
}

static void do_rdrand(void) { __asm__ volatile("rdrand %%eax" ::: "rax", "cc"); }
static void do_rdseed(void) { __asm__ volatile("rdseed %%rcx" ::: "rcx", "cc"); }
static void do_invpcid(void)
{
    static uint64_t desc[2];
    __asm__ volatile("invpcid %0, %1" ::"m"(desc), "r"(2ull) : "memory");
}

/* SSE itself stays on: CR4.OSFXSR, so the #UD is the SHA bit's */
static void do_sha256rnds2(void)
{
    __asm__ volatile("sha256rnds2 %%xmm0, %%xmm2, %%xmm1" ::: "memory");
}
static void do_sha1rnds4(void) { __asm__ volatile("sha1rnds4 $0, %%xmm2, %%xmm1" ::: "memory"); }
static void do_paddd(void) { __asm__ volatile("paddd %%xmm2, %%xmm1" ::: "memory"); }

static void test_instructions_ud(void)
{
    write_cr0((read_cr0() | (1ul << 1)) & ~((1ul << 2) | (1ul << 3)));
    write_cr4(read_cr4() | (1ul << 9));
    /* twice each: the second time the instruction runs from its
       decoded block (an emulator's fast path must check the bit too) */
    for (int k = 0; k < 2; k++) {
        expect_fault(-1, do_paddd);
        expect_fault(VEC_UD, do_sha256rnds2);
        expect_fault(VEC_UD, do_sha1rnds4);
    }
    expect_fault(VEC_UD, do_rdrand);
    expect_fault(VEC_UD, do_rdseed);
    expect_fault(VEC_UD, do_invpcid);
}

void test_main(void)
{
    RUN_TEST(test_cpuid_clear);
    RUN_TEST(test_instructions_ud);
}
