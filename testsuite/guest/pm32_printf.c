/*
 * pm32_printf: the runtime's own formatter, built 32-bit so that 64-bit
 * conversions run without libgcc helpers. The serial output path is the
 * same code with a different sink.
 */
#include "rt.h"

static char buf[64];

#define CHECK(expected, ...)                                               \
    do {                                                                   \
        int n_ = rt_snprintf(buf, sizeof(buf), __VA_ARGS__);               \
        ASSERT_STREQ(buf, expected);                                       \
        ASSERT_EQ(n_, strlen(expected));                                   \
    } while (0)

static void test_integers(void)
{
    CHECK("0 -1 42", "%d %d %u", 0, -1, 42u);
    CHECK("-2147483648", "%d", (int)0x80000000u);
    CHECK("4294967295", "%u", 0xFFFFFFFFu);
    CHECK("deadbeef DEADBEEF", "%x %X", 0xDEADBEEFu, 0xDEADBEEFu);
    CHECK("18446744073709551615", "%llu", ~0ull);
    CHECK("-9223372036854775808", "%lld", (long long)(1ull << 63));
    CHECK("123456789abcdef0", "%llx", 0x123456789ABCDEF0ull);
    CHECK("ffffffff", "%lx", 0xFFFFFFFFul);
    CHECK("7 7", "%zu %zx", (size_t)7, (size_t)7);
}

static void test_width_and_flags(void)
{
    CHECK("   42|42   |00042", "%5d|%-5d|%05d", 42, 42, 42);
    CHECK("-0042", "%05d", -42);
    CHECK("0x1000", "%p", (void *)0x1000);
    CHECK("  ab|x|  y", "%4s|%c|%3c", "ab", 'x', 'y');
    CHECK("0000beef", "%08x", 0xBEEFu);
    CHECK("100%", "%d%%", 100);
}

static void test_truncation(void)
{
    char small[6];
    int n = rt_snprintf(small, sizeof(small), "%s", "nest86 runtime");
    ASSERT_EQ(n, 14);
    ASSERT_STREQ(small, "nest8");
}

void test_main(void)
{
    RUN_TEST(test_integers);
    RUN_TEST(test_width_and_flags);
    RUN_TEST(test_truncation);
}
