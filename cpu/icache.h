/* cpu/icache.h — the decoded-instruction cache.
 *
 * Decoded instructions are kept in blocks: straight-line runs of up to
 * BLOCK_MAX instructions on one page, keyed by the RAM offset of their
 * first byte (so every linear alias of the code shares one block) and
 * the code size they were decoded for.  A block grows as it executes:
 * an instruction is decoded the first time execution reaches it, so
 * decode faults happen exactly when hardware would raise them.
 *
 * Self-modifying code: a page that has a block is marked in
 * phys->code_page and loses fast-path write permission in the TLB, so
 * every store to it goes through phys_write*, which bumps the page's
 * generation; a block whose generation is stale is decoded again, and
 * a running block stops after the store that changed its page. */
#ifndef NEST86_CPU_ICACHE_H
#define NEST86_CPU_ICACHE_H

#include "cpu/insn.h"

#define BLOCK_MAX  32
#define BLOCK_BITS 13

struct block {
    uint64_t ram_off;   /* RAM offset of the first byte */
    uint32_t gen;       /* phys->code_gen[] of the page when decoded */
    uint8_t code_size;  /* the CPU's code size when decoded; 0: empty slot */
    uint8_t n;          /* instructions decoded so far */
    bool closed;        /* no instruction follows (page end or full) */
    /* Chaining: where execution went after this block last time.  Used
     * only while the MMU epoch is unchanged (so the fetch translation and
     * CPL are what they were), the target slot still holds the block at
     * link_off, and that block's page generation is unchanged. */
    struct block *link;
    uint64_t link_rip, link_off, link_epoch;
    const uint32_t *genp; /* &phys->code_gen[] of this block's page */
    struct insn insn[BLOCK_MAX + 1]; /* insn[n] is the stop entry (cpu/thread.h) */
};

/* The jump cache: the block last entered at a linear RIP, so a block
 * exit whose link does not match (a RET to one of many callers, the
 * second branch out of a block) finds its successor without a TLB
 * lookup.  An entry is used only while the MMU epoch it was filled
 * under is current (same fetch translation, CPL and code size) and the
 * slot still holds that block, decoded from an unchanged page. */
#define JCACHE_BITS 12

struct jcache_entry {
    uint64_t rip, epoch, ram_off;
    struct block *block;
};

struct icache {
    struct block blocks[1u << BLOCK_BITS];
    struct jcache_entry jcache[1u << JCACHE_BITS];
};

struct icache *icache_alloc(void);
void icache_free(struct icache *ic);

static inline struct block *icache_slot(struct icache *ic, uint64_t ram_off)
{
    uint64_t h = ram_off ^ (ram_off >> BLOCK_BITS) ^ (ram_off >> (2 * BLOCK_BITS));
    return &ic->blocks[h & ((1u << BLOCK_BITS) - 1)];
}

static inline struct jcache_entry *icache_jslot(struct icache *ic, uint64_t rip)
{
    return &ic->jcache[(rip ^ (rip >> JCACHE_BITS)) & ((1u << JCACHE_BITS) - 1)];
}

#endif
