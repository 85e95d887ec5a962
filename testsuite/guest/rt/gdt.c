/*
 * A test's own GDT: the runtime's rows first, then the test's (TSSs,
 * ring-3 segments, gates), so the runtime's selectors keep working.
 */
#include "rt.h"

extern uint64_t rt_gdt[RT_GDT_ENTRIES];

/* SDM Vol. 3A 3.4.5 (Figure 3-8) and 7.2.2 (Figure 7-3): one layout for
 * segment and TSS descriptors */
uint64_t rt_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) | ((uint64_t)access << 40) |
           ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)(flags & 0xf) << 52) |
           ((uint64_t)(base >> 24) << 56);
}

void rt_gdt_load(uint64_t *gdt, unsigned entries)
{
    for (unsigned k = 0; k < RT_GDT_ENTRIES; k++)
        gdt[k] = rt_gdt[k];
    struct __attribute__((packed)) {
        uint16_t limit;
        uintptr_t base;
    } desc = { (uint16_t)(entries * sizeof(uint64_t) - 1), (uintptr_t)gdt };
    __asm__ volatile("lgdt %0" ::"m"(desc) : "memory");
}
