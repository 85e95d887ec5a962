/* mmu/hostmem.h — host memory for large guest-indexed arrays (guest
 * RAM, the decoded-instruction cache) and other large blocks written at
 * once (struct cpu with its TLB, fw_cfg's kernel and initrd items). */
#ifndef NEST86_MMU_HOSTMEM_H
#define NEST86_MMU_HOSTMEM_H

#include <stddef.h>

/* Zeroed, lazily backed memory of 'bytes' (rounded up to whole 2 MiB
 * pages), aligned to 2 MiB and marked
 * for transparent huge pages where the host has them: the guest touches
 * its RAM all over, and with 4 KiB host pages both the first touch of
 * each page (a host page fault) and the host TLB misses cost more than
 * the emulated access.  NULL with errno set on failure. */
void *host_ram_alloc(size_t bytes);
void host_ram_free(void *p, size_t bytes);

/* The same, but executable and within 1.5 GiB of 'code' (so that rel32
 * branches and RIP-relative operands there reach it): tried below the
 * executable, where a position-independent program leaves room, then
 * above it (past where the heap starts: a heap growing into it gets its
 * memory elsewhere).  NULL when the host refuses.  Freed by
 * host_ram_free(). */
void *host_code_alloc_near(const void *code, size_t bytes);

#endif
