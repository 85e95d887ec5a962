/* cpu/icache.c — where decoded blocks keep their instructions
 * (cpu/icache.h).
 *
 * A slot's array only grows: a slot reused for another block keeps the
 * capacity it had, and an array a block grew out of goes on its
 * capacity's free list for the next block that grows.  So each slot
 * holds one array at any time, every array of a capacity was carved
 * while all earlier ones of that capacity were in slots, and the store
 * never needs more than one array of each capacity per slot: that
 * bound is its size, reserved (not backed) up front, and the host
 * backs only the part carved. */
#include <string.h>

#include "cpu/copyrun.h"
#include "cpu/icache.h"
#include "mmu/hostmem.h"

#define SLOTS (1u << BLOCK_BITS)

static size_t class_entries(unsigned k)
{
    return BLOCK_CLASS_CAP(k) + 1;
}

static size_t store_entries(void)
{
    size_t n = 0;
    for (unsigned k = 0; k < BLOCK_CLASSES; k++)
        n += class_entries(k) * SLOTS;
    return n;
}

/* All-zero slots are empty (code_size 0 never matches; a null jump
 * cache entry is never used), so the cache is zeroed memory whose pages
 * the host maps only when a slot is used (mmu/hostmem.h). */
struct icache *icache_alloc(void)
{
    struct icache *ic = host_ram_alloc(sizeof(struct icache));
    if (!ic)
        return NULL;
    ic->store = host_ram_alloc(store_entries() * sizeof(struct insn));
    if (!ic->store) {
        host_ram_free(ic, sizeof(struct icache));
        return NULL;
    }
    return ic;
}

void icache_free(struct icache *ic)
{
    if (!ic)
        return;
    copyrun_free(ic->copies);
    host_ram_free(ic->store, store_entries() * sizeof(struct insn));
    host_ram_free(ic, sizeof(struct icache));
}

/* A free array's first bytes link it to the next free one. */
static struct insn *take(struct icache *ic, unsigned k)
{
    struct insn *a = ic->free_list[k];
    if (a) {
        memcpy(&ic->free_list[k], a, sizeof(a));
        return a;
    }
    a = ic->store + ic->store_used;
    ic->store_used += class_entries(k);
    return a; /* within the store by the bound above */
}

static void give_back(struct icache *ic, struct insn *a, unsigned k)
{
    memcpy(a, &ic->free_list[k], sizeof(a));
    ic->free_list[k] = a;
}

void icache_reserve(struct icache *ic, struct block *b, unsigned k, unsigned keep)
{
    if (!b->insn) {
        b->cap_class = 0;
        b->insn = take(ic, 0);
    }
    if (k <= BLOCK_CLASS_CAP(b->cap_class))
        return;
    unsigned cls = b->cap_class;
    while (BLOCK_CLASS_CAP(cls) < k)
        cls++;
    struct insn *a = take(ic, cls);
    memcpy(a, b->insn, keep * sizeof(*a));
    give_back(ic, b->insn, b->cap_class);
    b->insn = a;
    b->cap_class = (uint8_t)cls;
}
