/* devices/bootmem.h — free guest RAM for what a boot loader adds beside
 * the kernel (its information structures, GDT and modules).
 *
 * A loader must put these where the kernel image, its BSS and the
 * modules are not, and only in RAM the memory map calls usable (type 1):
 * a kernel linked low (say at 0x8000) must not find its code overwritten
 * by the boot information.  This is pure bookkeeping over address
 * ranges, with no machine behind it, so it is unit-tested on its own
 * (testsuite/unit/dev_multiboot.c). */
#ifndef NEST86_DEVICES_BOOTMEM_H
#define NEST86_DEVICES_BOOTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/boot.h"

#define BOOTMEM_MAX_RAM  8
#define BOOTMEM_MAX_USED 40
#define BOOTMEM_NONE     UINT64_MAX

struct bootmem_range {
    uint64_t base, end; /* [base, end) */
};

struct bootmem {
    struct bootmem_range ram[BOOTMEM_MAX_RAM];   /* usable RAM, ascending */
    struct bootmem_range used[BOOTMEM_MAX_USED]; /* taken: kernel, modules, ... */
    int nram, nused;
};

/* Starts from an e820-style map: its type-1 ranges are the usable RAM. */
void bootmem_init(struct bootmem *b, const struct boot_mem_range *map, int n);

/* Whether [base, base + len) lies wholly inside one usable RAM range. */
bool bootmem_is_ram(const struct bootmem *b, uint64_t base, uint64_t len);

/* Whether [base, base + len) overlaps anything claimed. */
bool bootmem_is_used(const struct bootmem *b, uint64_t base, uint64_t len);

/* Marks [base, base + len) taken; -1 when the table is full. */
int bootmem_claim(struct bootmem *b, uint64_t base, uint64_t len);

/* The lowest address >= min, a multiple of align (a power of two), at
 * which len bytes fit in usable RAM below limit without touching
 * anything claimed; BOOTMEM_NONE when there is none. */
uint64_t bootmem_find(const struct bootmem *b, uint64_t len, uint64_t align, uint64_t min,
                      uint64_t limit);

#endif
