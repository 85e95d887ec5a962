/* mmu/phys.c — guest-physical address space: RAM, MMIO dispatch, open bus. */
#include "mmu/phys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mmu/hostmem.h"

int phys_init(struct phys *p, uint64_t ram_bytes)
{
    memset(p, 0, sizeof(*p));
    void *mem = host_ram_alloc(ram_bytes);
    if (!mem)
        return -1;
    p->ram = mem;
    p->ram_size = ram_bytes;
    p->code_page = calloc(ram_bytes >> 12, 1);
    p->code_gen = calloc(ram_bytes >> 12, sizeof(uint32_t));
    if (!p->code_page || !p->code_gen) {
        phys_free(p);
        errno = ENOMEM;
        return -1;
    }
    p->ram_below_4g = ram_bytes < PHYS_PCI_HOLE_START ? ram_bytes : PHYS_PCI_HOLE_START;
    p->ram_above_4g = ram_bytes - p->ram_below_4g;
    p->a20_enabled = true;
    p->region_floor = UINT64_MAX;
    return 0;
}

void phys_free(struct phys *p)
{
    if (p->ram)
        host_ram_free(p->ram, p->ram_size);
    free(p->code_page);
    free(p->code_gen);
    p->ram = NULL;
    p->code_page = NULL;
    p->code_gen = NULL;
}

void phys_map_mmio(struct phys *p, uint64_t base, uint64_t size, const char *name,
                   void *opaque, phys_mmio_read_fn read, phys_mmio_write_fn write)
{
    if (p->nregions == PHYS_MAX_REGIONS)
        return; /* the board registers a fixed set; this cannot overflow */
    struct phys_region *r = &p->regions[p->nregions++];
    r->base = base;
    r->size = size;
    r->name = name;
    r->opaque = opaque;
    r->read = read;
    r->write = write;
    phys_regions_changed(p);
}

void phys_regions_changed(struct phys *p)
{
    uint64_t floor = UINT64_MAX;
    for (int i = 0; i < p->nregions; i++) {
        const struct phys_region *r = &p->regions[i];
        if (r->base + r->size <= PHYS_LOW_END)
            continue;
        uint64_t start = r->base < PHYS_LOW_END ? PHYS_LOW_END : r->base;
        if (start < floor)
            floor = start;
    }
    p->region_floor = floor;
}

const struct phys_region *phys_find_region(const struct phys *p, uint64_t pa)
{
    /* newest first: a later registration shadows an earlier one */
    for (int i = p->nregions - 1; i >= 0; i--) {
        const struct phys_region *r = &p->regions[i];
        if (pa - r->base < r->size)
            return r;
    }
    return NULL;
}

static uint8_t *ram_ptr_unchecked(struct phys *p, uint64_t pa)
{
    if (pa < p->ram_below_4g)
        return p->ram + pa;
    if (pa >= PHYS_4G && pa - PHYS_4G < p->ram_above_4g)
        return p->ram + p->ram_below_4g + (pa - PHYS_4G);
    return NULL;
}

uint8_t *phys_ram_ptr(struct phys *p, uint64_t pa)
{
    if (pa >= PHYS_LOW_END && pa < p->region_floor)
        return ram_ptr_unchecked(p, pa);
    if (p->nregions && phys_find_region(p, pa))
        return NULL;
    return ram_ptr_unchecked(p, pa);
}

static uint64_t read_byte(struct phys *p, uint64_t pa)
{
    uint8_t *h = phys_ram_ptr(p, pa);
    if (h)
        return *h;
    const struct phys_region *r = phys_find_region(p, pa);
    if (r && r->read)
        return r->read(r->opaque, pa - r->base, 1) & 0xff;
    return 0xff;
}

static void write_byte(struct phys *p, uint64_t pa, uint8_t v)
{
    uint8_t *h = phys_ram_ptr(p, pa);
    if (h) {
        *h = v;
        phys_note_write(p, phys_ram_offset(p, h));
        return;
    }
    const struct phys_region *r = phys_find_region(p, pa);
    if (r && r->write)
        r->write(r->opaque, pa - r->base, v, 1);
}

/* Whether [pa, pa+size) lies inside one RAM run or one MMIO region. */
static bool same_target(struct phys *p, uint64_t pa, unsigned size)
{
    if ((pa & 0xfff) + size <= 4096)
        return true; /* regions and RAM runs are page-granular */
    uint8_t *a = phys_ram_ptr(p, pa), *b = phys_ram_ptr(p, pa + size - 1);
    if (a && b)
        return b - a == (ptrdiff_t)size - 1;
    return !a && !b && phys_find_region(p, pa) == phys_find_region(p, pa + size - 1);
}

uint64_t phys_read_any(struct phys *p, uint64_t pa, unsigned size)
{
    if (same_target(p, pa, size)) {
        uint8_t *h = phys_ram_ptr(p, pa);
        if (h) {
            uint64_t v = 0;
            memcpy(&v, h, size);
            return v;
        }
        const struct phys_region *r = phys_find_region(p, pa);
        if (r && r->read)
            return r->read(r->opaque, pa - r->base, size);
        if (!r)
            return size == 8 ? ~0ull : (1ull << (size * 8)) - 1;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= read_byte(p, pa + i) << (8 * i);
    return v;
}

void phys_write_any(struct phys *p, uint64_t pa, uint64_t value, unsigned size)
{
    if (same_target(p, pa, size)) {
        uint8_t *h = phys_ram_ptr(p, pa);
        if (h) {
            memcpy(h, &value, size);
            phys_note_write(p, phys_ram_offset(p, h));
            phys_note_write(p, phys_ram_offset(p, h + size - 1));
            return;
        }
        const struct phys_region *r = phys_find_region(p, pa);
        if (r) {
            if (r->write)
                r->write(r->opaque, pa - r->base, value, size);
            return;
        }
        return;
    }
    for (unsigned i = 0; i < size; i++)
        write_byte(p, pa + i, (uint8_t)(value >> (8 * i)));
}

/* Copies between guest RAM and a host buffer page by page; -1 as soon
 * as a byte of the range is not RAM. */
static int copy_ram(struct phys *p, uint64_t pa, uint8_t *buf, size_t len, bool to_guest)
{
    while (len) {
        uint8_t *h = phys_ram_ptr(p, pa);
        if (!h)
            return -1;
        size_t chunk = 4096 - (pa & 0xfff);
        if (chunk > len)
            chunk = len;
        if (to_guest) {
            memcpy(h, buf, chunk);
            phys_note_write(p, phys_ram_offset(p, h));
        } else {
            memcpy(buf, h, chunk);
        }
        pa += chunk;
        buf += chunk;
        len -= chunk;
    }
    return 0;
}

int phys_copy_in(struct phys *p, uint64_t pa, const void *src, size_t len)
{
    return copy_ram(p, pa, (uint8_t *)(uintptr_t)src, len, true);
}

int phys_copy_out(struct phys *p, uint64_t pa, void *dst, size_t len)
{
    return copy_ram(p, pa, dst, len, false);
}
