/*
 * lm64_canonical: with 4-level paging (CR4.LA57 = 0), the bases that
 * LGDT, LIDT, LLDT, LTR, WRFSBASE and WRMSR load and INVPCID's address
 * are canonical against the CPU's maximum linear-address width, which
 * CPUID.80000008H:EAX[15:8] reports: 57 on nest86's default model (LA57
 * supported), so 0xffaaaaaaaaaaaaaa loads although a memory reference
 * to it is #GP. lm64_canonical_48 runs the same checks with
 * -cpu nest86,la57=off, where only 48-bit canonical values load.
 * canonical.h has the checks; la57.c runs them with 5-level paging on.
 */
#include "canonical.h"

#ifndef EXPECT_WIDTH
#define EXPECT_WIDTH 57
#endif

static void test_width_checks_ignore_cr4_la57(void)
{
    uint32_t r[4];
    cpuid(7, 0, r);
    unsigned la57 = r[2] >> 16 & 1;
    cpuid(0x80000008, 0, r);
    unsigned width = r[0] >> 8 & 0xff;
    ASSERT_EQ(width, la57 ? 57u : 48u);
    ASSERT_EQ(width, EXPECT_WIDTH);
    ASSERT_EQ(read_cr4() & (1ul << 12), 0); /* 4-level paging */
    /* A memory reference follows the paging mode: 48 bits here. */
    ASSERT_EQ(catch_asm(RT_CATCH_BEGIN "movq (%0), %%rax" RT_CATCH_END
                        ::"r"(CANON_57) : "rax", "memory"), VEC_GP);
    canonical_checks(width);
}

void test_main(void)
{
    RUN_TEST(test_width_checks_ignore_cr4_la57);
}
