/*
 * pm32_resume_flag: RFLAGS.RF in the EFLAGS image saved by the events
 * that only 32-bit code can raise (SDM Vol. 3A 17.3.1.1): BOUND's #BR is
 * a fault and saves RF = 1, INTO's #OF is a trap and saves RF as it was
 * (0); #DE and INT3 for comparison. lm64_resume_flag has the rest.
 */
#include "rt.h"

#define RF (1u << 16)

static void check_rf(uint32_t flags, uint32_t want, int line)
{
    if ((flags & RF) == want)
        return;
    if (rt_cmdline_has("qemu-tcg")) { /* QEMU 7.2 TCG never sets RF in a saved image */
        rt_printf("# qemu-tcg: line %d: saved RF = %d where SDM 17.3.1.1 has %d\n", line,
                  want ? 0 : 1, want ? 1 : 0);
        return;
    }
    rt_fail(RT_FILE, line, "saved EFLAGS 0x%x: RF should be %d", flags, want ? 1 : 0);
}

/* SDM Vol. 3A 6.15 "Interrupt 5": BOUND out of range, a fault */
static void test_br(void)
{
    static const int32_t bounds[2] = {10, 20};
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: boundl %1, %2" RT_CATCH_END
                      : "=&r"(insn) : "r"(21), "m"(bounds) : "memory");
    ASSERT_EQ(v, VEC_BR);
    ASSERT_EQ(rt_fault.ip, insn);
    check_rf((uint32_t)rt_fault.flags, RF, __LINE__);
}

/* "Interrupt 4": INTO with OF = 1, a trap: EIP after INTO */
static void test_of(void)
{
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN
                      "movb $0x7f, %%al\n\taddb $1, %%al\n" /* OF = 1 */
                      "8764: into" RT_CATCH_END
                      : "=&r"(insn)::"eax", "memory", "cc");
    ASSERT_EQ(v, VEC_OF);
    ASSERT_EQ(rt_fault.ip, insn + 1);
    check_rf((uint32_t)rt_fault.flags, 0, __LINE__);
}

static void test_de(void)
{
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN
                      "xor %%eax, %%eax\n\txor %%edx, %%edx\n"
                      "8764: divl %1" RT_CATCH_END
                      : "=&r"(insn) : "r"(0) : "eax", "edx", "memory");
    ASSERT_EQ(v, VEC_DE);
    ASSERT_EQ(rt_fault.ip, insn);
    check_rf((uint32_t)rt_fault.flags, RF, __LINE__);
}

static void test_bp(void)
{
    uintptr_t insn;
    int v = catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: int3" RT_CATCH_END
                      : "=&r"(insn)::"memory");
    ASSERT_EQ(v, VEC_BP);
    ASSERT_EQ(rt_fault.ip, insn + 1);
    check_rf((uint32_t)rt_fault.flags, 0, __LINE__);
}

void test_main(void)
{
    RUN_TEST(test_br);
    RUN_TEST(test_of);
    RUN_TEST(test_de);
    RUN_TEST(test_bp);
}
