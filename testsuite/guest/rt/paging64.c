/*
 * Helpers for 64-bit tests that build their own 4 KiB mappings above the
 * runtime's 4 GiB identity map (4-level paging, SDM Vol. 3A, 4.5).
 */
#ifdef __x86_64__
#include "rt.h"

#define POOL_PAGES 64
#define ADDR_MASK 0x000FFFFFFFFFF000ull /* bits 51:12 of an entry */

static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static unsigned pool_used;
extern uint64_t rt_pml4[512];

void *rt_alloc_page(void)
{
    if (pool_used == POOL_PAGES)
        rt_fail(RT_FILE, __LINE__, "page pool exhausted");
    void *p = pool[pool_used++];
    memset(p, 0, 4096);
    return p;
}

uint64_t *rt_pt_entry(uint64_t va, int level, bool create)
{
    uint64_t *table = rt_pml4;
    for (int l = 4;; l--) {
        uint64_t *e = &table[(va >> (12 + 9 * (l - 1))) & 511];
        if (l == level)
            return e;
        if (!(*e & PTE_P)) {
            if (!create)
                return NULL;
            *e = (uintptr_t)rt_alloc_page() | PTE_P | PTE_W | PTE_U;
        } else if (*e & PTE_PS) {
            return NULL;
        }
        table = (uint64_t *)(uintptr_t)(*e & ADDR_MASK);
    }
}

void rt_map_4k(uint64_t va, uint64_t pa, uint64_t flags)
{
    *rt_pt_entry(va, 1, true) = pa | flags;
    invlpg(va);
}
#endif
