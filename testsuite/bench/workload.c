/*
 * workload: the guest side of `make bench`.  A 64-bit kernel that runs
 * one phase chosen on the command line and prints how many instructions
 * it retired.  nest86's TSC counts retired instructions (guest time runs
 * from the instruction count), so RDTSC deltas are instruction counts;
 * the host script divides by wall time.
 *
 *   reg    register-only: CRC loop, integer mixing, recursive calls
 *   mem    memory-heavy: sieve, memcpy, memset over a 4 MiB buffer
 *   mix    everything (the headline MIPS figure)
 *   small  one tenth of the work (for instruction-counting profilers)
 *   none   no work: the start-up and exit cost the host script subtracts
 */
#include "rt.h"

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t crc_loop(uint32_t rounds)
{
    uint32_t crc = 0xffffffffu;
    for (uint32_t r = 0; r < rounds; r++) {
        crc ^= r;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

static __attribute__((noinline)) uint64_t fib_rec(unsigned n)
{
    return n < 2 ? n : fib_rec(n - 1) + fib_rec(n - 2);
}

static uint64_t mix(uint64_t rounds)
{
    uint64_t x = 0x9e3779b97f4a7c15ull, acc = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        acc += x * 3 + (x >> 11);
    }
    return acc;
}

#define BUF_SIZE (4u << 20)
static uint8_t buf_a[BUF_SIZE], buf_b[BUF_SIZE];

static unsigned sieve(unsigned n)
{
    unsigned count = 0;
    for (unsigned k = 0; k < n; k++)
        buf_a[k] = 1;
    for (unsigned p = 2; p < n; p++) {
        if (!buf_a[p])
            continue;
        count++;
        for (unsigned q = p * 2; q < n; q += p)
            buf_a[q] = 0;
    }
    return count;
}

static uint64_t copy_fill(unsigned rounds)
{
    uint64_t sum = 0;
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t *d = (uint64_t *)buf_b, *s = (uint64_t *)buf_a;
        for (unsigned k = 0; k < BUF_SIZE / 8; k++)
            d[k] = s[k] + r;
        for (unsigned k = 0; k < BUF_SIZE / 8; k += 64)
            sum += d[k];
        uint64_t *f = (uint64_t *)buf_a;
        for (unsigned k = 0; k < BUF_SIZE / 8; k++)
            f[k] = r;
    }
    return sum;
}

static unsigned scale = 1; /* 10 with "small" */

static void phase_reg(void)
{
    rt_printf("crc=%x fib=%lu mix=%lx\n", crc_loop(2000000 / scale),
              (unsigned long)fib_rec(scale > 1 ? 22 : 27), (unsigned long)mix(3000000 / scale));
}

static void phase_mem(void)
{
    rt_printf("primes=%u copy=%lx\n", sieve(BUF_SIZE / scale),
              (unsigned long)copy_fill(scale > 1 ? 1 : 6));
}

void test_main(void)
{
    bool reg = rt_cmdline_has("reg"), mem = rt_cmdline_has("mem");
    if (rt_cmdline_has("small"))
        scale = 10;
    if (!reg && !mem && !rt_cmdline_has("none"))
        reg = mem = true;
    uint64_t t0 = tsc();
    if (reg)
        phase_reg();
    if (mem)
        phase_mem();
    uint64_t t1 = tsc();
    rt_printf("bench-instructions: %lu\n", (unsigned long)(t1 - t0));
}
