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
 * generation and the MMU epochs; a block whose generation is stale
 * is decoded again, a running block stops after the store that changed
 * its page, and block links made before the store are no longer
 * followed (their stamp no longer matches). */
#ifndef NEST86_CPU_ICACHE_H
#define NEST86_CPU_ICACHE_H

#include "cpu/insn.h"

/* Up to 64 instructions per block: long straight runs (the kernel's
 * unrolled crypto) fall off fewer block ends (Linux boot: 2.5 % fewer
 * host instructions than with 32). */
#define BLOCK_MAX  64
/* 65,536 direct-mapped slots: Debian's kernel boot decodes 3.3 million
 * instructions with 8,192 (most of them again after a conflict evicted
 * their block) and 1.3 million with 32,768; the KVM scenario, which
 * adds KVM's modules and their guests, makes 321,000 blocks with 32,768
 * slots (276,000 of them after an eviction) and 227,000 with 65,536
 * (1.3 % fewer host instructions; 131,072 slots save 0.3 % more). */
#define BLOCK_BITS 16

/* A block's entries are one contiguous array (the threaded chain steps
 * to i + 1) taken from the cache's store in one of four capacities, 8,
 * 16, 32 or BLOCK_MAX instructions plus the stop entry, and moved to
 * the next capacity when decoding outgrows it (cpu/icache.c).  Most
 * blocks are short: with a fixed BLOCK_MAX + 1 entries per slot, the
 * slots were 141 MB that the host had to zero on first touch, and
 * each slot's header sat on a page of its own. */
#define BLOCK_CLASSES 4
#define BLOCK_CLASS_CAP(k) (8u << (k))
_Static_assert(BLOCK_CLASS_CAP(BLOCK_CLASSES - 1) == BLOCK_MAX, "the largest class holds a full block");

/* A remembered successor: used only while the stamp (icache_stamp())
 * is unchanged — so the fetch translation, CPL and code size are what
 * they were and no cached code has been written since — and the
 * target slot still holds the block at 'ram_off'.  'gstamp' is nonzero
 * when the target's page was fetched through a global translation: the
 * same stamp counted with the MMU's global epoch, under which the link
 * is revived (given the current stamp) after a CR3 load, which leaves
 * global translations alone (link_revive()).  A link with stamp 0 is
 * empty ('to' may be NULL): both epochs start at MMU_EPOCH_STEP, so no
 * stamp is 0. */
struct block_link {
    struct block *to;
    uint64_t rip, ram_off, stamp, gstamp;
};

struct block {
    uint64_t ram_off;   /* RAM offset of the first byte */
    uint32_t gen;       /* phys->code_gen[] of the page when decoded */
    uint8_t code_size;  /* the CPU's code size when decoded; 0: empty slot */
    uint8_t n;          /* instructions decoded so far */
    uint8_t cap_class;  /* insn holds BLOCK_CLASS_CAP(cap_class) + 1 entries */
    bool closed;        /* the next instruction crosses the page end: it runs alone */
    bool complete;      /* decoded to BLOCK_MAX or to the page end: execution
                           that falls off it goes on in the next block */
    uint8_t copied_n;   /* n when its runs were last copied (cpu/copyrun.h) */
    uint8_t heat;       /* times the loop went to it since it last changed */
    /* Chaining: the last two places execution went after this block
     * (a block can be left at the end and at every taken branch). */
    struct block_link link[2];
    unsigned link_next;   /* which link a new successor replaces */
    struct insn *insn;    /* insn[n] is the stop entry (cpu/thread.h); NULL
                             until the slot is first used */
};

/* The jump cache: the block last entered at a linear RIP, so a block
 * exit that neither link matches (a RET to one of many callers) finds
 * its successor without a TLB lookup; valid as a link is. */
#define JCACHE_BITS 12

struct icache {
    struct block blocks[1u << BLOCK_BITS];
    struct copyrun *copies; /* NULL: runs stay threaded (cpu/copyrun.h);
                               set by the board (-accel), freed with the cache */
    uint8_t copy_heat;      /* copy a block's runs on this visit (cpu/run.c) */
    struct block_link jcache[1u << JCACHE_BITS];
    /* the entries' store: carved from 'store' in order, and a free list
     * per capacity of the arrays that blocks grew out of */
    struct insn *store;
    size_t store_used; /* entries carved so far */
    struct insn *free_list[BLOCK_CLASSES];
    /* slots (re)initialised for code of each size (2, 4, 8): a link
     * names a slot, and a slot taken over for the same RAM offset in
     * another code size would look like its old block to it
     * (cpu_links_resume_root()) */
    uint64_t inits[9];
};

/* Changes whenever a link may have gone stale: the MMU epoch, which
 * moves at any TLB flush, CR3 load, mode or code-size change and at
 * every write to cached code (mmu/phys.h code_written).  Its low
 * two bits are the CPL (mmu/mmu.h), which the steps of MMU_EPOCH_STEP
 * leave alone: a link made in ring 0 is not followed in ring 3 (the
 * fetch's U/S check differs), but is again once the CPU is back in
 * ring 0 with nothing flushed or written meanwhile. */
static inline uint64_t icache_stamp(uint64_t mmu_epoch)
{
    return mmu_epoch;
}

static inline bool link_valid(const struct block_link *l, uint64_t rip, uint64_t stamp)
{
    /* the RIP first: it is what tells a block's two links apart */
    return l->rip == rip && l->stamp == stamp && l->to->ram_off == l->ram_off;
}

/* The stamp a link into global code is made and revived under: the
 * global epoch (which code writes move too) with the CPL bits of the
 * epoch (cpu_update_mode()).  Never 0: both epochs start at
 * MMU_EPOCH_STEP (mmu_init()). */
static inline uint64_t icache_gstamp(uint64_t mmu_epoch, uint64_t mmu_gepoch)
{
    return mmu_gepoch | (mmu_epoch & (MMU_EPOCH_STEP - 1));
}

/* A link that is stale only because the address space changed since it
 * was made (a CR3 load), into a page that was global then: nothing
 * that could change a global translation has happened since (the
 * global stamp is the same), so the target is still what fetching at
 * 'rip' gives, and the link becomes valid for 'stamp' again. */
static inline bool link_revive(struct block_link *l, uint64_t rip, uint64_t stamp,
                               uint64_t gstamp)
{
    if (l->rip != rip || !l->gstamp || l->gstamp != gstamp || !l->to ||
        l->to->ram_off != l->ram_off)
        return false;
    l->stamp = stamp;
    return true;
}

/* The successor one of b's links gives for 'rip', or NULL. */
static inline struct block *block_linked(const struct block *b, uint64_t rip, uint64_t stamp)
{
    if (link_valid(&b->link[0], rip, stamp))
        return b->link[0].to;
    if (link_valid(&b->link[1], rip, stamp))
        return b->link[1].to;
    return NULL;
}

struct icache *icache_alloc(void);
void icache_free(struct icache *ic);

/* Makes b->insn hold at least 'k' instructions and the stop entry after
 * them, moving its first 'keep' entries if it must grow (so no pointer
 * into a block's entries may be held across a call). */
void icache_reserve(struct icache *ic, struct block *b, unsigned k, unsigned keep);

static inline struct block *icache_slot(struct icache *ic, uint64_t ram_off)
{
    uint64_t h = ram_off ^ (ram_off >> BLOCK_BITS) ^ (ram_off >> (2 * BLOCK_BITS));
    return &ic->blocks[h & ((1u << BLOCK_BITS) - 1)];
}

static inline struct block_link *icache_jslot(struct icache *ic, uint64_t rip)
{
    return &ic->jcache[(rip ^ (rip >> JCACHE_BITS)) & ((1u << JCACHE_BITS) - 1)];
}

#endif
