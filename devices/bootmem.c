/* devices/bootmem.c — free guest RAM for a boot loader's own data
 * (bootmem.h): first fit over the usable ranges of the memory map. */
#include "devices/bootmem.h"

static uint64_t align_up(uint64_t v, uint64_t align)
{
    uint64_t r = (v + align - 1) & ~(align - 1);
    return r < v ? BOOTMEM_NONE : r; /* wrapped past 2^64 */
}

void bootmem_init(struct bootmem *b, const struct boot_mem_range *map, int n)
{
    b->nram = b->nused = 0;
    for (int k = 0; k < n && b->nram < BOOTMEM_MAX_RAM; k++) {
        if (map[k].type != 1 || !map[k].length)
            continue;
        struct bootmem_range r = {map[k].base, map[k].base + map[k].length};
        int at = b->nram++;
        while (at > 0 && b->ram[at - 1].base > r.base) { /* keep them sorted */
            b->ram[at] = b->ram[at - 1];
            at--;
        }
        b->ram[at] = r;
    }
}

bool bootmem_is_ram(const struct bootmem *b, uint64_t base, uint64_t len)
{
    uint64_t end = base + len;
    if (end < base)
        return false;
    for (int k = 0; k < b->nram; k++)
        if (base >= b->ram[k].base && end <= b->ram[k].end)
            return true;
    return false;
}

/* The claimed range [base, base + len) overlaps, or NULL. */
static const struct bootmem_range *overlap(const struct bootmem *b, uint64_t base, uint64_t len)
{
    for (int k = 0; k < b->nused; k++)
        if (base < b->used[k].end && b->used[k].base < base + len)
            return &b->used[k];
    return NULL;
}

bool bootmem_is_used(const struct bootmem *b, uint64_t base, uint64_t len)
{
    return len && overlap(b, base, len) != NULL;
}

int bootmem_claim(struct bootmem *b, uint64_t base, uint64_t len)
{
    if (!len)
        return 0;
    if (b->nused == BOOTMEM_MAX_USED)
        return -1;
    b->used[b->nused++] = (struct bootmem_range){base, base + len};
    return 0;
}

uint64_t bootmem_find(const struct bootmem *b, uint64_t len, uint64_t align, uint64_t min,
                      uint64_t limit)
{
    if (!len || !align || (align & (align - 1)))
        return BOOTMEM_NONE;
    for (int k = 0; k < b->nram; k++) {
        uint64_t top = b->ram[k].end < limit ? b->ram[k].end : limit;
        uint64_t at = align_up(b->ram[k].base > min ? b->ram[k].base : min, align);
        /* every step moves past one claimed range, so this ends */
        while (at != BOOTMEM_NONE && at < top && len <= top - at) {
            const struct bootmem_range *u = overlap(b, at, len);
            if (!u)
                return at;
            at = align_up(u->end, align);
        }
    }
    return BOOTMEM_NONE;
}
