/* mmu/hostmem.c — 2 MiB-aligned anonymous mappings with THP advice:
 * data, and executable memory near nest86's own code. */
#include "mmu/hostmem.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_2M ((size_t)2 << 20)

/* The mapping is whole huge pages: a last partial one would be 4 KiB
 * pages, each a page fault of its own (the instruction cache's 7.7 MB
 * headers left 1.7 MB of them) */
static size_t whole_huge(size_t bytes)
{
    return (bytes + HUGE_2M - 1) & ~(HUGE_2M - 1);
}

static void huge_advice(void *p, size_t bytes)
{
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
#else
    (void)p;
    (void)bytes;
#endif
}

void *host_ram_alloc(size_t bytes)
{
    bytes = whole_huge(bytes);
    /* over-allocate by 2 MiB, then trim to an aligned window so every
     * 2 MiB of the result can be one huge page */
    size_t len = bytes + HUGE_2M;
    uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)raw + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1);
    uint8_t *p = (uint8_t *)start;
    size_t head = (size_t)(p - raw), tail = len - head - bytes;
    if (head)
        munmap(raw, head);
    if (tail)
        munmap(p + bytes, tail);
    huge_advice(p, bytes);
    return p;
}

/* Exactly at 'want' (2 MiB-aligned), or NULL */
static void *code_at(uintptr_t want, size_t bytes)
{
    void *p = mmap((void *)want, bytes, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if ((uintptr_t)p != want) { /* a kernel that took the address as a hint */
        munmap(p, bytes);
        return NULL;
    }
    huge_advice(p, bytes);
    return p;
}

void *host_code_alloc_near(const void *code, size_t bytes)
{
    bytes = whole_huge(bytes);
    uintptr_t c = (uintptr_t)code;
    const uintptr_t step = 64u << 20, reach = 1536u << 20;
    for (uintptr_t gap = step; gap + bytes <= reach; gap += step)
        if (c > gap + bytes) {
            void *p = code_at((c - gap - bytes) & ~(uintptr_t)(HUGE_2M - 1), bytes);
            if (p)
                return p;
        }
    for (uintptr_t gap = 4 * step; gap + bytes <= reach; gap += step) {
        void *p = code_at((c + gap) & ~(uintptr_t)(HUGE_2M - 1), bytes);
        if (p)
            return p;
    }
    return NULL;
}

void host_ram_free(void *p, size_t bytes)
{
    munmap(p, whole_huge(bytes));
}
