/*
 * lm64_sieve: the memory-heavy benchmark of `make bench` (issue 15), and
 * at a small size its correctness check in `make check`.
 *
 * A sieve of Eratosthenes over a byte array of n entries (n=N on the
 * command line, default 100,000,000: a 100 MB working set), printing the
 * number of primes below n and the instructions it retired (nest86's TSC
 * counts retired instructions).  The array is identity-mapped with 4-KiB
 * pages, so every 4 KiB of it needs its own TLB entry, as a large heap
 * under an ordinary kernel does.  Every prime below n/2 strikes out its
 * multiples from 2p on, so most stores land a page or more apart: the
 * run measures TLB reach and the cost of a TLB miss more than anything
 * else.
 *
 * Needs RAM up to ARRAY_BASE + n (-m 128M for the default n).  For the
 * n whose prime count is in the table below, the count is checked.
 */
#include "rt.h"

#define ARRAY_BASE (16ull << 20) /* above the image, its .bss and stack */
#define MAX_N 100000000u
#define PT_SPAN (2u << 20)     /* what one page table maps */
#define PT_COUNT ((MAX_N + PT_SPAN - 1) / PT_SPAN)

/* the page tables that replace the runtime's 2-MiB mappings of the array */
static uint64_t array_pt[PT_COUNT][512] __attribute__((aligned(4096)));
extern uint64_t rt_pd[2048];

static inline uint64_t tsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* The value of the command-line word "n=N", or 'dflt' without one. */
static uint32_t cmdline_n(uint32_t dflt)
{
    const struct multiboot_info *mbi = (const void *)(uintptr_t)rt_boot_info;
    if (!mbi || !(mbi->flags & 4) || !mbi->cmdline)
        return dflt;
    for (const char *p = (const char *)(uintptr_t)mbi->cmdline; *p; p++) {
        if ((p == (const char *)(uintptr_t)mbi->cmdline || p[-1] == ' ') && p[0] == 'n' &&
            p[1] == '=') {
            uint64_t v = 0;
            for (p += 2; *p >= '0' && *p <= '9'; p++)
                v = v * 10 + (uint64_t)(*p - '0');
            return v > MAX_N ? MAX_N : (uint32_t)v;
        }
    }
    return dflt;
}

/* 4-KiB identity mappings for [ARRAY_BASE, ARRAY_BASE + bytes) */
static void map_array(uint64_t bytes)
{
    unsigned tables = (unsigned)((bytes + PT_SPAN - 1) / PT_SPAN);
    for (unsigned t = 0; t < tables; t++) {
        uint64_t base = ARRAY_BASE + (uint64_t)t * PT_SPAN;
        for (unsigned k = 0; k < 512; k++)
            array_pt[t][k] = (base + 4096ull * k) | PTE_P | PTE_W;
        rt_pd[base / PT_SPAN] = (uintptr_t)array_pt[t] | PTE_P | PTE_W;
    }
    write_cr3(read_cr3()); /* drop the 2-MiB translations */
}

static uint32_t sieve(uint8_t *a, uint32_t n)
{
    uint64_t *w = (uint64_t *)a;
    for (uint32_t k = 0; k < (n + 7) / 8; k++)
        w[k] = 0x0101010101010101ull;
    uint32_t count = 0;
    for (uint32_t p = 2; p < n; p++) {
        if (!a[p])
            continue;
        count++;
        for (uint32_t q = p + p; q < n; q += p)
            a[q] = 0;
    }
    return count;
}

static void test_sieve(void)
{
    static const struct { uint32_t n, primes; } known[] = {
        {100000, 9592}, {1000000, 78498}, {10000000, 664579}, {100000000, 5761455},
    };
    uint32_t n = cmdline_n(MAX_N);
    ASSERT((uintptr_t)__image_end <= ARRAY_BASE);
    const struct multiboot_info *mbi = (const void *)(uintptr_t)rt_boot_info;
    /* mem_upper: KiB of RAM from 1 MiB up (Multiboot 0.6.96, 3.3) */
    if ((mbi->flags & 1) && (1024ull + mbi->mem_upper) * 1024 < ARRAY_BASE + n) {
        rt_printf("sieve: n=%u needs %lu MiB of RAM (-m)\n", n,
                  (unsigned long)((ARRAY_BASE + n) >> 20) + 1);
        ASSERT(false);
    }
    map_array(n);
    uint64_t t0 = tsc();
    uint32_t primes = sieve((uint8_t *)(uintptr_t)ARRAY_BASE, n);
    uint64_t t1 = tsc();
    rt_printf("sieve: n=%u primes=%u\n", n, primes);
    rt_printf("bench-instructions: %lu\n", (unsigned long)(t1 - t0));
    for (unsigned k = 0; k < sizeof(known) / sizeof(known[0]); k++)
        if (known[k].n == n)
            ASSERT_EQ(primes, known[k].primes);
}

void test_main(void)
{
    RUN_TEST(test_sieve);
}
