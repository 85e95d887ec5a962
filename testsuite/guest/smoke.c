/*
 * smoke: the smallest kernel that proves a boot works (the demo was this
 * before VMX; it is demo_ept now). Says where it runs,
 * computes a few values with known answers, and exits 0.
 */
#include "rt.h"

/* Bitwise CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320). */
static uint32_t crc32(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

static uint64_t fib(unsigned n)
{
    uint64_t a = 0, b = 1;
    while (n--) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

static unsigned count_primes(unsigned limit)
{
    static uint8_t composite[10000];
    unsigned count = 0;
    for (unsigned i = 2; i < limit; i++) {
        if (composite[i])
            continue;
        count++;
        for (unsigned j = i * i; j < limit; j += i)
            composite[j] = 1;
    }
    return count;
}

void test_main(void)
{
    uint32_t r[4];
    char vendor[13];
    cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4); /* EBX, EDX, ECX (SDM Vol. 2A, CPUID leaf 0) */
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;

    uint16_t cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    uint64_t efer = rdmsr(MSR_EFER);

    rt_printf("\nHello from a guest kernel running inside nest86!\n\n");
    rt_printf("  CPU mode        : 64-bit long mode (CS=0x%02x, EFER.LMA=%d)\n",
              cs, (int)((efer & EFER_LMA) != 0));
    rt_printf("  CPU vendor      : %s (CPUID leaf 0, max leaf %u)\n", vendor,
              r[0]);
    if (rt_boot_info) {
        const struct multiboot_info *mbi =
            (const void *)(uintptr_t)rt_boot_info;
        if (mbi->flags & 1)
            rt_printf("  memory          : %u KiB low, %u KiB high "
                      "(from the multiboot loader)\n",
                      mbi->mem_lower, mbi->mem_upper);
    }

    uint64_t f = fib(90);
    unsigned primes = count_primes(10000);
    static const char msg[] = "123456789";
    uint32_t crc = crc32(msg, 9);
    rt_printf("  fib(90)         : %llu\n", (unsigned long long)f);
    rt_printf("  primes < 10000  : %u\n", primes);
    rt_printf("  crc32(\"%s\") : 0x%08x\n", msg, crc);

    ASSERT_EQ(efer & EFER_LMA, EFER_LMA); /* SDM Vol. 3A, 10.8.5 */
    ASSERT_EQ(cs, RT_SEL_CODE64);
    ASSERT_EQ(f, 2880067194370816120ull);
    ASSERT_EQ(primes, 1229);
    ASSERT_EQ(crc, 0xCBF43926u); /* the CRC-32 check value */

    rt_printf("\nAll values check out. Goodbye!\n");
}
