/* mmu/phys.h — the guest-physical address space.
 *
 * RAM is one host allocation.  Guest RAM below the PCI hole sits at
 * physical 0; whatever does not fit below PHYS_PCI_HOLE_START is mapped
 * from 4 GiB upward, as on a real PC chipset.  MMIO regions are
 * registered by devices with one call each and dispatched by range.
 * Physical addresses that nothing backs read as all-ones and ignore
 * writes (open bus).
 */
#ifndef NEST86_MMU_PHYS_H
#define NEST86_MMU_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PHYS_PCI_HOLE_START 0xC0000000ull /* RAM above this moves to 4 GiB */
#define PHYS_4G             0x100000000ull
#define PHYS_MAX_REGIONS    64
/* The legacy regions (VGA memory) sit below 1 MiB; above it, RAM up to
 * the lowest region needs no search. */
#define PHYS_LOW_END        0x100000ull

typedef uint64_t (*phys_mmio_read_fn)(void *opaque, uint64_t offset, unsigned size);
typedef void (*phys_mmio_write_fn)(void *opaque, uint64_t offset, uint64_t value,
                                   unsigned size);

struct phys_region {
    uint64_t base, size;
    const char *name;
    void *opaque;
    phys_mmio_read_fn read;
    phys_mmio_write_fn write;
};

struct phys {
    uint8_t *ram;          /* host backing for all guest RAM */
    uint64_t ram_size;     /* total bytes of guest RAM */
    uint64_t ram_below_4g; /* bytes mapped at physical 0 */
    uint64_t ram_above_4g; /* bytes mapped at PHYS_4G */
    bool a20_enabled;      /* false: address bit 20 forced to 0 */
    int nregions;
    struct phys_region regions[PHYS_MAX_REGIONS];
    /* No region overlaps [PHYS_LOW_END, region_floor): RAM there needs
     * no region search (phys_ram_ptr; page walks read their entries
     * there).  Kept by phys_regions_changed(), which whoever moves a
     * region must call. */
    uint64_t region_floor;
    /* Self-modifying-code tracking, one entry per 4 KiB page of RAM
     * (indexed by RAM offset >> 12): code_page[] is set while decoded
     * instructions from the page are cached, and such pages are never
     * writable through the TLB fast path, so every write to them comes
     * through phys_write*, which bumps code_gen[] (making cached decodes
     * stale) and clears the mark. */
    uint8_t *code_page;
    uint32_t *code_gen;
    /* A store to a code page also ORs code_write_bit into *code_write_word
     * (the CPU's pending word), so a running block stops at once without
     * re-checking the generation after every instruction.  May be NULL. */
    volatile uint32_t *code_write_word;
    uint32_t code_write_bit;
    /* ... and calls code_written (the CPU's: a new MMU epoch and global
     * epoch, which block links and the jump cache are stamped with:
     * cpu/icache.h), so no link made before the store is followed after
     * it and links need not look at code_gen[].  NULL: no CPU. */
    void (*code_written)(void *opaque);
    void *code_written_opaque;
    /* writes that hit a page with cached code (-d stats) */
    uint64_t code_writes;
};

/* Returns 0, or -1 with errno set when the host cannot back the RAM. */
int phys_init(struct phys *p, uint64_t ram_bytes);
void phys_free(struct phys *p);

/* Register an MMIO window.  Later registrations win over earlier ones
 * and over RAM, so a device may sit on top of RAM (e.g. the LAPIC). */
void phys_map_mmio(struct phys *p, uint64_t base, uint64_t size, const char *name,
                   void *opaque, phys_mmio_read_fn read, phys_mmio_write_fn write);
/* After a region's base or size changed (a BAR or the APIC moved). */
void phys_regions_changed(struct phys *p);

/* Host pointer to the RAM byte at 'pa', or NULL when 'pa' is MMIO or
 * unbacked.  Does not apply the A20 mask: callers pass masked addresses. */
uint8_t *phys_ram_ptr(struct phys *p, uint64_t pa);

/* RAM offset of a host pointer returned by phys_ram_ptr(). */
static inline uint64_t phys_ram_offset(const struct phys *p, const uint8_t *host)
{
    return (uint64_t)(host - p->ram);
}

/* Marks the RAM page at 'ram_off' as holding cached code; returns true
 * when it was not marked (the caller then drops fast-path write
 * permission for it from its TLB). */
static inline bool phys_mark_code(struct phys *p, uint64_t ram_off)
{
    uint8_t *f = &p->code_page[ram_off >> 12];
    if (*f)
        return false;
    *f = 1;
    return true;
}

/* A write reached RAM at 'ram_off' through the slow path. */
static inline void phys_note_write(struct phys *p, uint64_t ram_off)
{
    uint64_t pg = ram_off >> 12;
    if (p->code_page[pg]) {
        p->code_page[pg] = 0;
        p->code_gen[pg]++;
        p->code_writes++;
        if (p->code_write_word)
            *p->code_write_word |= p->code_write_bit;
        if (p->code_written)
            p->code_written(p->code_written_opaque);
    }
}

/* The MMIO region containing 'pa', or NULL. */
const struct phys_region *phys_find_region(const struct phys *p, uint64_t pa);

/* Accesses of 1, 2, 4 or 8 bytes at any alignment; an access that
 * straddles a RAM/MMIO boundary is split byte-wise, as the bus would. */
uint64_t phys_read_any(struct phys *p, uint64_t pa, unsigned size);
void phys_write_any(struct phys *p, uint64_t pa, uint64_t value, unsigned size);

/* The host bytes of an access that stays on one page of the RAM that
 * needs no region search (from PHYS_LOW_END up to the lowest MMIO
 * region, below 4 GiB), else NULL: where page walks find their entries
 * and TLB misses their data, so phys_read/phys_write take it inline. */
static inline uint8_t *phys_ram_plain(const struct phys *p, uint64_t pa, unsigned size)
{
    if (pa >= PHYS_LOW_END && pa < p->region_floor && pa < p->ram_below_4g &&
        (pa & 0xfff) + size <= 4096)
        return p->ram + pa; /* regions and RAM end on page boundaries */
    return NULL;
}

static inline uint64_t phys_read(struct phys *p, uint64_t pa, unsigned size)
{
    const uint8_t *h = phys_ram_plain(p, pa, size);
    if (h) {
        uint64_t v = 0;
        memcpy(&v, h, size);
        return v;
    }
    return phys_read_any(p, pa, size);
}

static inline void phys_write(struct phys *p, uint64_t pa, uint64_t value, unsigned size)
{
    uint8_t *h = phys_ram_plain(p, pa, size);
    if (h) {
        memcpy(h, &value, size);
        phys_note_write(p, pa); /* RAM offset pa: below 4 GiB; one page */
        return;
    }
    phys_write_any(p, pa, value, size);
}

/* Bulk copies used by loaders and the debugger; return -1 if any byte
 * of the range is not RAM. */
int phys_copy_in(struct phys *p, uint64_t pa, const void *src, size_t len);
int phys_copy_out(struct phys *p, uint64_t pa, void *dst, size_t len);

static inline uint64_t phys_a20_mask(const struct phys *p)
{
    return p->a20_enabled ? ~0ull : ~(1ull << 20);
}

#endif
