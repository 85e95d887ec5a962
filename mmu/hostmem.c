/* mmu/hostmem.c — 2 MiB-aligned anonymous mappings with THP advice. */
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
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure is harmless */
#endif
    return p;
}

void host_ram_free(void *p, size_t bytes)
{
    munmap(p, whole_huge(bytes));
}
