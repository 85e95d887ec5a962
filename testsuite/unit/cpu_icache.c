/* testsuite/unit/cpu_icache.c — the decoded-block store (cpu/icache.c):
 * a block's entries stay one array, survive its growth in order, and
 * the arrays blocks grow out of are reused; and the link stamp
 * (cpu/icache.h) tells rings and epochs apart, links into global code
 * outlive CR3 loads and nothing else, and an address space's epoch
 * comes back with it when nothing it uses changed. */
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/icache.h"
#include "testsuite/unit/dev_stubs.h"

static struct icache *ic;

/* entry j of a block carries j in its immediate */
static void mark(struct block *b, unsigned from, unsigned to)
{
    for (unsigned j = from; j < to; j++)
        b->insn[j].imm = 0x1000 + j;
}

static int marked_upto(const struct block *b, unsigned n)
{
    for (unsigned j = 0; j < n; j++)
        if (b->insn[j].imm != 0x1000 + j)
            return (int)j;
    return -1;
}

/* A block decoded one instruction at a time to BLOCK_MAX keeps every
 * entry through each move to a larger array, ends in the largest class,
 * and can write its stop entry at BLOCK_MAX. */
static void growth_keeps_entries(void)
{
    struct block *b = &ic->blocks[1];
    icache_reserve(ic, b, 0, 0);
    UNIT_CHECK(b->insn && b->cap_class == 0);
    for (unsigned k = 0; k < BLOCK_MAX; k++) {
        icache_reserve(ic, b, k + 1, k + 1);
        UNIT_CHECKF(k + 1 <= BLOCK_CLASS_CAP(b->cap_class), "%u entries in class %u", k + 1,
                    b->cap_class);
        mark(b, k, k + 1);
        int bad = marked_upto(b, k + 1);
        UNIT_CHECKF(bad < 0, "entry %d lost when the block reached %u", bad, k + 1);
    }
    UNIT_CHECK(b->cap_class == BLOCK_CLASSES - 1);
    b->insn[BLOCK_MAX].imm = 0xdead; /* the stop entry's slot exists */
    UNIT_CHECK(marked_upto(b, BLOCK_MAX) < 0);
}

/* The 8-entry array a block grew out of is the next one handed out, so
 * the store does not grow while blocks only change size; a slot reused
 * for a shorter block keeps its larger array. */
static void outgrown_arrays_are_reused(void)
{
    struct block *a = &ic->blocks[2], *b = &ic->blocks[3];
    icache_reserve(ic, a, 0, 0);
    struct insn *first = a->insn;
    icache_reserve(ic, a, 9, 9); /* to class 1: the class-0 array is free */
    UNIT_CHECK(a->insn != first && a->cap_class == 1);
    size_t used = ic->store_used;
    icache_reserve(ic, b, 0, 0);
    UNIT_CHECKF(b->insn == first, "a new block got %p, not the freed %p", (void *)b->insn,
                (void *)first);
    UNIT_CHECK(ic->store_used == used);
    struct insn *kept = a->insn;
    icache_reserve(ic, a, 0, 0);
    UNIT_CHECK(a->insn == kept && a->cap_class == 1);
}

/* Distinct blocks never share entries. */
static void blocks_do_not_overlap(void)
{
    struct block *x = &ic->blocks[10], *y = &ic->blocks[11];
    icache_reserve(ic, x, 16, 0);
    icache_reserve(ic, y, 16, 0);
    mark(x, 0, 17);
    memset(y->insn, 0, 17 * sizeof(struct insn));
    UNIT_CHECK(marked_upto(x, 17) < 0);
}

/* A CPU on the test board with 1 MiB of RAM */
static int cpu_on_board(struct cpu *c)
{
    test_board(1u << 20, false);
    if (phys_init(&test_m.phys, 1u << 20))
        return -1;
    return cpu_init(c, &test_m, &test_m.phys);
}

/* The epoch as cpu_update_mode() keeps it: 'step' epochs, CPL in the
 * low bits. */
static uint64_t epoch_at(uint64_t step, unsigned cpl)
{
    return step * MMU_EPOCH_STEP | cpl;
}

/* A link made in one ring is stale in another and valid again back in
 * the first; any epoch step makes it stale in every ring. */
static void stamp_separates_rings_and_epochs(void)
{
    uint64_t s0 = icache_stamp(epoch_at(7, 0));
    UNIT_CHECK(icache_stamp(epoch_at(7, 3)) != s0);
    UNIT_CHECK(icache_stamp(epoch_at(7, 0)) == s0);
    for (unsigned cpl = 0; cpl < 4; cpl++)
        for (uint64_t k = 8; k < 64; k++)
            UNIT_CHECK(icache_stamp(epoch_at(k, cpl)) != s0);
    struct block b = {0}, to = {.ram_off = 0x5000};
    b.link[0] = (struct block_link){&to, 0x1234, 0x5000, s0, 0};
    UNIT_CHECK(block_linked(&b, 0x1234, s0) == &to);
    UNIT_CHECK(!block_linked(&b, 0x1234, icache_stamp(epoch_at(7, 3))));
}

/* A write to a page with cached code moves both epochs (so every link,
 * global or not, is stale) and leaves the CPL bits; a write elsewhere
 * moves neither. */
static void code_write_moves_both_epochs(void)
{
    static struct cpu c;
    UNIT_CHECK(cpu_on_board(&c) == 0);
    struct phys *ph = &test_m.phys;
    uint64_t e = c.mmu.epoch, g = c.mmu.gepoch;
    phys_note_write(ph, 0x3000);
    UNIT_CHECK(c.mmu.epoch == e && c.mmu.gepoch == g);
    phys_mark_code(ph, 0x3000);
    phys_note_write(ph, 0x3010);
    UNIT_CHECKF(c.mmu.epoch == e + MMU_EPOCH_STEP && c.mmu.gepoch == g + MMU_EPOCH_STEP,
                "epoch %llu -> %llu, global %llu -> %llu", (unsigned long long)e,
                (unsigned long long)c.mmu.epoch, (unsigned long long)g,
                (unsigned long long)c.mmu.gepoch);
    phys_note_write(ph, 0x3020); /* the page is no longer marked */
    UNIT_CHECK(c.mmu.epoch == e + MMU_EPOCH_STEP);
    UNIT_CHECK(ph->code_writes == 1);
    cpu_free(&c);
}

/* A link into global code (gstamp set) is revived for a new stamp when
 * only the address space changed (the global epoch is the same), and
 * not after a global invalidation, a code write, in another ring, for
 * another RIP, when the target slot was reused, or without a gstamp. */
static void global_link_revives_only_after_cr3_loads(void)
{
    struct block to = {.ram_off = 0x5000};
    uint64_t e = epoch_at(7, 0), g = 5 * MMU_EPOCH_STEP;
    uint64_t s0 = icache_stamp(e), g0 = icache_gstamp(e, g);
    struct block_link l = {&to, 0x1234, 0x5000, s0, g0};
    uint64_t e1 = e + MMU_EPOCH_STEP; /* a CR3 load */
    uint64_t s1 = icache_stamp(e1);
    UNIT_CHECK(!link_valid(&l, 0x1234, s1));
    UNIT_CHECK(link_revive(&l, 0x1234, s1, icache_gstamp(e1, g)));
    UNIT_CHECK(link_valid(&l, 0x1234, s1));

    /* a global invalidation or a code write moves both epochs */
    struct block_link m = {&to, 0x1234, 0x5000, s0, g0};
    uint64_t e2 = e1 + MMU_EPOCH_STEP, g2 = g + MMU_EPOCH_STEP;
    UNIT_CHECK(!link_revive(&m, 0x1234, icache_stamp(e2), icache_gstamp(e2, g2)));
    UNIT_CHECK(!link_revive(&m, 0x1234, icache_stamp(e1 | 3), icache_gstamp(e1 | 3, g)));
    UNIT_CHECK(!link_revive(&m, 0x1238, s1, icache_gstamp(e1, g)));
    to.ram_off = 0x6000;
    UNIT_CHECK(!link_revive(&m, 0x1234, s1, icache_gstamp(e1, g)));
    to.ram_off = 0x5000;
    m.gstamp = 0;
    UNIT_CHECK(!link_revive(&m, 0x1234, s1, icache_gstamp(e1, g)));
    UNIT_CHECK(m.stamp == s0);
}

/* What moves the global epoch: everything that moves the epoch except
 * a CR3 load and the flushes that keep global translations. */
static void global_epoch_moves_with_global_events(void)
{
    static struct cpu c;
    UNIT_CHECK(cpu_on_board(&c) == 0);
    struct mmu *m = &c.mmu;
    uint64_t e = m->epoch, g = m->gepoch;
    cpu_write_cr3(&c, 0x1000);
    UNIT_CHECK(m->epoch > e && m->gepoch == g);
    e = m->epoch;
    mmu_flush_nonglobal(m);
    mmu_flush_pcid(m, 0, true);
    UNIT_CHECK(m->epoch > e && m->gepoch == g);
    mmu_flush_page(m, 0x400000);
    UNIT_CHECK(m->gepoch > g);
    g = m->gepoch;
    mmu_flush_all(m);
    UNIT_CHECK(m->gepoch > g);
    g = m->gepoch;
    cpu_reset(&c);
    UNIT_CHECKF(c.mmu.gepoch > g, "global epoch %llu before the reset, %llu after",
                (unsigned long long)g, (unsigned long long)c.mmu.gepoch);
    cpu_free(&c);
}

/* MOV CR3 under CR4.PCIDE (SDM 4.10.4.1): with the no-flush bit, back
 * to the CR3 of an address space left earlier, the epoch it was left
 * with comes back (its links hold again) -- unless its PCID was flushed
 * meanwhile (INVPCID type 1 from another PCID, MOV CR3 without the
 * no-flush bit), every non-global entry was (INVPCID type 3), a global
 * event moved the global epoch, or the CR3 differs in its address.  An
 * epoch that did not come back is newer than every one before it. */
static uint64_t newest_epoch;

/* MOV CR3 of 'cr3'; the epoch must then be 'want', or with want 0 newer
 * than every epoch before */
static void switch_to(struct cpu *c, uint64_t cr3, uint64_t want)
{
    cpu_write_cr3(c, cr3);
    uint64_t e = c->mmu.epoch;
    UNIT_CHECKF(want ? e == want : e > newest_epoch, "CR3 %#llx: epoch %llu, expected %s%llu",
                (unsigned long long)cr3, (unsigned long long)e, want ? "" : "newer than ",
                (unsigned long long)(want ? want : newest_epoch));
    if (e > newest_epoch)
        newest_epoch = e;
}

static void spaces_resume_only_unchanged(void)
{
    static struct cpu c;
    UNIT_CHECK(cpu_on_board(&c) == 0);
    struct mmu *m = &c.mmu;
    m->cr4 |= CR4_PCIDE;
    const uint64_t nf = 1ull << 63, a = 0x10000 | 1, b = 0x20000 | 2;
    newest_epoch = m->epoch;
    switch_to(&c, a, 0);
    uint64_t ea = m->epoch;
    switch_to(&c, b | nf, 0);
    uint64_t eb = m->epoch;
    switch_to(&c, a | nf, ea);
    switch_to(&c, b | nf, eb);
    switch_to(&c, b | nf, eb); /* the same CR3 again */
    UNIT_CHECK(m->stat_resumes == 3);

    mmu_flush_pcid(m, 1, true); /* INVPCID type 1 of A's PCID, from B */
    eb = m->epoch;
    switch_to(&c, a | nf, 0);
    switch_to(&c, b | nf, eb);
    switch_to(&c, a, 0); /* without the no-flush bit */
    switch_to(&c, b | nf, eb);
    switch_to(&c, (a + 0x1000) | nf, 0); /* A's PCID at another address */
    switch_to(&c, b | nf, eb);
    switch_to(&c, a | nf, 0);
    switch_to(&c, b | nf, eb);

    mmu_flush_nonglobal(m); /* INVPCID type 3, from B */
    eb = m->epoch;
    switch_to(&c, a | nf, 0);
    switch_to(&c, b | nf, eb);
    mmu_flush_page(m, 0x400000); /* INVLPG from B: the page may be global */
    eb = m->epoch;
    switch_to(&c, a | nf, 0);
    switch_to(&c, b | nf, eb); /* B was left after it */
    phys_mark_code(&test_m.phys, 0x3000);
    phys_note_write(&test_m.phys, 0x3000); /* a write to cached code, from B */
    switch_to(&c, a | nf, 0);
    cpu_free(&c);
}

/* A reset (a reboot, INIT) must not bring the epoch back to a value it
 * had: links made before it would look valid again. */
static void reset_keeps_epoch_growing(void)
{
    static struct cpu c;
    UNIT_CHECK(cpu_on_board(&c) == 0);
    for (int k = 0; k < 1000; k++)
        mmu_flush_all(&c.mmu);
    uint64_t before = c.mmu.epoch / MMU_EPOCH_STEP;
    cpu_reset(&c);
    uint64_t after = c.mmu.epoch / MMU_EPOCH_STEP;
    UNIT_CHECKF(after > before, "epoch %llu before the reset, %llu after",
                (unsigned long long)before, (unsigned long long)after);
    UNIT_CHECK(c.mmu.epoch % MMU_EPOCH_STEP == c.cpl);
    cpu_free(&c);
}

/* The root's epochs across a VM exit from a guest with a VPID
 * (cpu_links_resume_root): they come back exactly as recorded at the
 * entry, once, and not after a code write, a slot initialised for code
 * of another size, or a root that comes back to other paging state. */
static void root_links_resume_only_unchanged(void)
{
    static struct cpu c;
    UNIT_CHECK(cpu_on_board(&c) == 0);
    struct mmu *m = &c.mmu;
    struct phys *ph = &test_m.phys;
    for (int k = 0; k < 4; k++) {
        cpu_write_cr3(&c, 0x1000);
        uint64_t e = m->epoch, g = m->gepoch;
        cpu_links_leave_root(&c);
        mmu_flush_all(m); /* the guest's context */
        UNIT_CHECK(m->epoch != e && m->gepoch != g);
        switch (k) {
        case 1:
            phys_mark_code(ph, 0x3000);
            phys_note_write(ph, 0x3000);
            break;
        case 2: c.icache->inits[4]++; break;
        case 3: m->cr3 = 0x2000; break;
        }
        bool back = cpu_links_resume_root(&c);
        UNIT_CHECKF(back == (k == 0), "case %d: resumed %d", k, back);
        if (k == 0)
            UNIT_CHECKF(m->epoch == e && m->gepoch == g, "epoch %#llx (was %#llx), global %#llx (was %#llx)",
                        (unsigned long long)m->epoch, (unsigned long long)e,
                        (unsigned long long)m->gepoch, (unsigned long long)g);
        else
            UNIT_CHECK(m->epoch != e && m->gepoch != g);
        UNIT_CHECK(!cpu_links_resume_root(&c)); /* once */
    }
    cpu_free(&c);
}

int main(void)
{
    ic = icache_alloc();
    if (!ic)
        return 1;
    UNIT_RUN(growth_keeps_entries);
    UNIT_RUN(outgrown_arrays_are_reused);
    UNIT_RUN(blocks_do_not_overlap);
    UNIT_RUN(stamp_separates_rings_and_epochs);
    UNIT_RUN(code_write_moves_both_epochs);
    UNIT_RUN(reset_keeps_epoch_growing);
    UNIT_RUN(global_link_revives_only_after_cr3_loads);
    UNIT_RUN(global_epoch_moves_with_global_events);
    UNIT_RUN(spaces_resume_only_unchanged);
    UNIT_RUN(root_links_resume_only_unchanged);
    icache_free(ic);
    return unit_done();
}
