/* testsuite/unit/mmu_walk.c — the linear-address walker and TLB
 * (mmu/paging.c, mmu/tlb.c) on page tables built by hand, asserting the
 * SDM's values: translations, A/D updates (SDM 4.8), #PF error codes
 * (SDM 4.7), the side-effect-free explain walk, and TLB invalidation
 * (SDM 4.10.4). */
#include <string.h>

#include "mmu/mmu.h"
#include "testsuite/unit/unit.h"

static struct phys ph;
static struct mmu m;

#define PML4 0x10000ull
#define PDPT 0x11000ull
#define PD   0x12000ull
#define PT   0x13000ull

static uint64_t rd(uint64_t pa)
{
    return phys_read(&ph, pa, 8);
}

static void wr(uint64_t pa, uint64_t v)
{
    phys_write(&ph, pa, v, 8);
}

/* 4-level tables: 0x400000 -> 4 KiB page at 0x200000 (user, read-only,
 * present); 0x600000 -> 2 MiB page at 0x800000 (writable, supervisor) */
static void build(void)
{
    memset(ph.ram, 0, 0x100000);
    mmu_init(&m, &ph);
    wr(PML4, PDPT | PTE_P | PTE_RW | PTE_US);
    wr(PDPT, PD | PTE_P | PTE_RW | PTE_US);
    wr(PD + 2 * 8, PT | PTE_P | PTE_RW | PTE_US);
    wr(PT + 0 * 8, 0x200000 | PTE_P | PTE_US);
    wr(PD + 3 * 8, 0x800000 | PTE_P | PTE_RW | PTE_PS);
    m.cr0 = CR0_PE | CR0_PG | CR0_WP;
    m.cr4 = CR4_PAE;
    m.efer = EFER_LME | EFER_LMA | EFER_NXE;
    m.cr3 = PML4;
}

static void translate_4k_sets_accessed(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, 0x400123, MMU_READ, true, false, &pa, &f) == 0);
    UNIT_CHECKF(pa == 0x200123, "pa 0x%llx", (unsigned long long)pa);
    UNIT_CHECK(rd(PT) & PTE_A);
    UNIT_CHECK(!(rd(PT) & PTE_D));
    UNIT_CHECK(rd(PML4) & PTE_A);
    UNIT_CHECK(rd(PD + 2 * 8) & PTE_A);
}

static void write_read_only_user_page(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_WRITE, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == (PFEC_P | PFEC_W | PFEC_U), "ec 0x%x", f.error_code);
    UNIT_CHECK(f.address == 0x400000);
    UNIT_CHECK(!(rd(PT) & PTE_A)); /* no A/D on a faulting access */
}

/* SDM 4.7: PK (bit 5) is set when the key forbids the access, even if
 * R/W = 0 forbids it too.  The read-only user page gets key 3. */
static void pkey_and_read_only_both_deny(void)
{
    build();
    wr(PT + 0 * 8, 0x200000 | PTE_P | PTE_US | (3ull << 59));
    m.cr4 |= CR4_PKE;
    uint64_t pa;
    struct mmu_fault f;
    m.pkru = 1u << (2 * 3); /* AD3: no data access at all */
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_WRITE, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x27, "ec 0x%x", f.error_code); /* P W U PK */
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x25, "ec 0x%x", f.error_code); /* P U PK */
    m.pkru = 2u << (2 * 3); /* WD3: CPL 3 writes denied by the key as well */
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_WRITE, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x27, "ec 0x%x", f.error_code);
    m.pkru = 2u << (2 * 4); /* another key's WD: only R/W denies, no PK */
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_WRITE, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x07, "ec 0x%x", f.error_code);
}

static void large_page_write_sets_dirty(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, 0x6abcde, MMU_WRITE, false, false, &pa, &f) == 0);
    UNIT_CHECKF(pa == 0x8abcde, "pa 0x%llx", (unsigned long long)pa);
    UNIT_CHECK((rd(PD + 3 * 8) & (PTE_A | PTE_D)) == (PTE_A | PTE_D));
}

static void user_access_to_supervisor_page(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, 0x600000, MMU_READ, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == (PFEC_P | PFEC_U), "ec 0x%x", f.error_code);
}

static void not_present_and_reserved(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, 0x401000, MMU_READ, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0, "ec 0x%x", f.error_code);
    /* bit 51 lies above MAXPHYADDR: reserved, reported with P set */
    wr(PT + 1 * 8, 0x201000 | PTE_P | (1ull << 51));
    UNIT_CHECK(mmu_translate(&m, 0x401000, MMU_FETCH, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == (PFEC_P | PFEC_RSVD | PFEC_I), "ec 0x%x", f.error_code);
}

static void explain_has_no_side_effects(void)
{
    build();
    struct mmu_walk_explain ex;
    mmu_walk_explain(&m, 0x400123, MMU_READ, true, &ex);
    UNIT_CHECK(ex.ok && ex.pa == 0x200123);
    UNIT_CHECKF(ex.nsteps == 4, "%d steps", ex.nsteps);
    UNIT_CHECK(!strcmp(ex.step[0].name, "PML4E") && ex.step[0].entry_pa == PML4);
    UNIT_CHECK(!strcmp(ex.step[3].name, "PTE") && ex.step[3].leaf);
    UNIT_CHECK(!(rd(PT) & PTE_A) && !(rd(PML4) & PTE_A));
    mmu_walk_explain(&m, 0x400000, MMU_WRITE, true, &ex);
    UNIT_CHECK(!ex.ok && ex.fault.error_code == (PFEC_P | PFEC_W | PFEC_U));
}

static void tlb_keeps_stale_entry_until_invlpg(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, false, false, &pa, &f) == 0);
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400010, 4, need) == ph.ram + 0x200010);
    wr(PT, 0x300000 | PTE_P | PTE_US); /* remap without invalidating */
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400010, 4, need) == ph.ram + 0x200010);
    mmu_flush_page(&m, 0x400000);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400010, 4, need) == NULL);
}

static void invlpg_drops_whole_large_page(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    UNIT_CHECK(mmu_translate(&m, 0x7ff000, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x7ff000, 1, need) != NULL);
    mmu_flush_page(&m, 0x600000); /* another address in the same 2 MiB page */
    UNIT_CHECK(mmu_fast_ptr(&m, 0x7ff000, 1, need) == NULL);
}

/* from 0x600000, enough 2-MiB pages (512 slots each) to fill more
 * slots than the list holds */
#define LARGE_PAGES (MMU_TLB_FILLS / 512 + 1)
#define LARGE_SPAN (LARGE_PAGES * 0x200000ull)

/* the same past MMU_TLB_FILLS fills, when INVLPG visits the run of
 * slots the large page's pieces index instead of the fill list: every
 * piece of that page goes, the other pages' pieces stay */
static void invlpg_drops_large_page_among_many(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    for (unsigned k = 1; k < LARGE_PAGES; k++)
        wr(PD + (3 + k) * 8, 0x800000 | PTE_P | PTE_RW | PTE_PS);
    for (uint64_t off = 0; off < LARGE_SPAN; off += 0x1000)
        UNIT_CHECK(mmu_translate(&m, 0x600000 + off, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(m.nfilled[0] > MMU_TLB_FILLS);
    uint64_t victim = 0x600000 + 5 * 0x200000ull;
    mmu_flush_page(&m, victim + 0x123456);
    for (uint64_t off = 0; off < LARGE_SPAN; off += 0x1000) {
        uint64_t lin = 0x600000 + off;
        bool gone = lin - victim < 0x200000;
        UNIT_CHECKF((mmu_fast_ptr(&m, lin, 1, need) == NULL) == gone, "0x%llx: %s",
                    (unsigned long long)lin, gone ? "survived" : "dropped");
    }
}

static void clean_page_not_fast_writable(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    /* a read fills the TLB while D = 0: writes must come back to set D */
    UNIT_CHECK(mmu_translate(&m, 0x600000, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x600000, 1, mmu_need_bit(MMU_WRITE, false, false)) == NULL);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x600000, 1, mmu_need_bit(MMU_READ, false, false)) != NULL);
}

/* mmu/tlb.c: a flush visits only the slots filled since the last one,
 * and must still drop every entry — also past MMU_TLB_FILLS fills,
 * when it falls back to scanning every slot */
static void flushes_drop_every_filled_slot(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    for (unsigned k = 1; k < LARGE_PAGES; k++) /* aliases of the 2 MiB page at 0x800000 */
        wr(PD + (3 + k) * 8, 0x800000 | PTE_P | PTE_RW | PTE_PS);
    /* each 2 MiB page is 512 TLB slots; add the 4 KiB page */
    for (uint64_t off = 0; off < LARGE_SPAN; off += 0x1000)
        UNIT_CHECK(mmu_translate(&m, 0x600000 + off, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(m.nfilled[0] > MMU_TLB_FILLS); /* more fills than it lists */
    mmu_flush_nonglobal(&m);
    for (uint64_t off = 0; off < LARGE_SPAN; off += 0x1000)
        UNIT_CHECKF(mmu_fast_ptr(&m, 0x600000 + off, 1, need) == NULL, "0x%llx survived",
                    (unsigned long long)(0x600000 + off));
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400000, 1, need) == NULL);
    UNIT_CHECK(m.nfilled[0] == 0);
    /* a few fills are listed and dropped by the list */
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(m.nfilled[0] == 1);
    mmu_flush_all(&m);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400000, 1, need) == NULL);
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, false, false, &pa, &f) == 0);
    mmu_flush_nonglobal(&m);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400000, 1, need) == NULL);
}

/* mmu/tlb.c: the fill lists by class.  A CR3 load with PCIDs (keep
 * global) drops its own PCID's non-global entries, whichever list they
 * are on, and keeps other PCIDs' (SDM 4.10.4.1) */
static void pcid_flush_drops_only_its_pcid(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    static const uint16_t pcids[] = {1, 2, 9, 2050}; /* 1 and 9 share a list */
    for (unsigned k = 0; k < 4; k++) {
        m.pcid = pcids[k];
        /* a different page each, as the slots are indexed by address */
        UNIT_CHECK(mmu_translate(&m, 0x600000 + 0x1000 * k, MMU_READ, false, false, &pa, &f) ==
                   0);
    }
    for (unsigned gone = 0; gone < 4; gone++) {
        mmu_flush_pcid(&m, pcids[gone], true);
        for (unsigned k = 0; k < 4; k++) {
            m.pcid = pcids[k];
            UNIT_CHECKF((mmu_fast_ptr(&m, 0x600000 + 0x1000 * k, 1, need) == NULL) ==
                            (k <= gone),
                        "pcid %u after flushing pcid %u", pcids[k], pcids[gone]);
        }
    }
}

/* A global translation serves every PCID (SDM 4.10.2.4): after a switch
 * to another PCID it is used without a walk — the changed PTE below is
 * not seen and stat_walks does not move — and hits the fast path from
 * then on; a non-global one of the old PCID is walked again. */
static void global_entry_serves_every_pcid(void)
{
    build();
    m.cr4 |= CR4_PGE | CR4_PCIDE;
    wr(PT + 1 * 8, 0x300000 | PTE_P | PTE_US | PTE_G);  /* 0x401000: global */
    wr(PT + 2 * 8, 0x310000 | PTE_P | PTE_US);          /* 0x402000: not */
    uint64_t pa;
    struct mmu_fault f;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    m.pcid = 1;
    UNIT_CHECK(mmu_translate(&m, 0x401008, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(mmu_translate(&m, 0x402008, MMU_READ, false, false, &pa, &f) == 0);
    wr(PT + 1 * 8, 0x320000 | PTE_P | PTE_US | PTE_G);
    wr(PT + 2 * 8, 0x330000 | PTE_P | PTE_US);
    m.pcid = 2;
    UNIT_CHECK(mmu_fast_ptr(&m, 0x401000, 1, need) == NULL); /* tagged with PCID 1 */
    uint64_t walks = m.stat_walks;
    UNIT_CHECK(mmu_translate(&m, 0x401008, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECKF(pa == 0x300008 && m.stat_walks == walks, "pa 0x%llx, %llu walks",
                (unsigned long long)pa, (unsigned long long)(m.stat_walks - walks));
    UNIT_CHECK(mmu_fast_ptr(&m, 0x401000, 1, need) == ph.ram + 0x300000);
    UNIT_CHECK(mmu_translate(&m, 0x402008, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECKF(pa == 0x330008 && m.stat_walks == walks + 1, "pa 0x%llx",
                (unsigned long long)pa);
    /* an access the entry does not allow (a write to a read-only page)
     * walks, and faults as the PTE says */
    UNIT_CHECK(mmu_translate(&m, 0x401008, MMU_WRITE, false, false, &pa, &f) == -1);
    UNIT_CHECK(f.vector == 14);
}

/* mmu_tlb_switch (VMX with VPIDs): leaving a context keeps its
 * translations, entering it again brings them back, a different key or
 * a flush of everything does not */
static void context_switch_keeps_translations(void)
{
    build();
    uint64_t pa;
    struct mmu_fault f;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, false, false, &pa, &f) == 0);
    mmu_tlb_switch(&m, 0, 0, 1, 42); /* root -> guest 42: root's saved */
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400000, 1, need) == NULL);
    UNIT_CHECK(mmu_translate(&m, 0x600000, MMU_READ, false, false, &pa, &f) == 0);
    mmu_tlb_switch(&m, 1, 42, 0, 0); /* guest -> root: root's back */
    UNIT_CHECK(mmu_fast_ptr(&m, 0x400000, 1, need) == ph.ram + 0x200000);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x600000, 1, need) == NULL);
    mmu_tlb_switch(&m, 0, 0, 1, 43); /* another guest: 42's stay saved */
    UNIT_CHECK(mmu_fast_ptr(&m, 0x600000, 1, need) == NULL);
    mmu_tlb_switch(&m, 1, 43, 0, 0);
    mmu_tlb_switch(&m, 0, 0, 1, 42); /* 43 replaced 42 in the one guest slot */
    UNIT_CHECK(mmu_fast_ptr(&m, 0x600000, 1, need) == NULL);
    UNIT_CHECK(mmu_translate(&m, 0x600000, MMU_READ, false, false, &pa, &f) == 0);
    mmu_tlb_switch(&m, 1, 42, 0, 0);
    mmu_flush_all(&m); /* drops the saved contexts too */
    mmu_tlb_switch(&m, 0, 0, 1, 42);
    UNIT_CHECK(mmu_fast_ptr(&m, 0x600000, 1, need) == NULL);
}

/* A context saved under CR4.LA57 = 1 may hold a 57-bit address; brought
 * back under LA57 = 0 that address is not canonical and must not hit,
 * since the fast paths rely on the TLB for the canonical check (the
 * invariant above struct mmu).  The saved entry for 0x400000 is given
 * the tag of 0x0080000000400000 (same slot), canonical only with 57
 * bits (SDM Vol. 1 3.3.7.1). */
static void restore_drops_noncanonical(void)
{
    const uint64_t lin57 = 0x0080000000400000ull;
    uint8_t need = mmu_need_bit(MMU_READ, false, false);
    for (int la57 = 1; la57 >= 0; la57--) {
        build();
        uint64_t pa;
        struct mmu_fault f;
        UNIT_CHECK(mmu_translate(&m, 0x400000, MMU_READ, false, false, &pa, &f) == 0);
        mmu_tlb_switch(&m, 0, 0, 1, 42);
        unsigned moved = 0;
        for (unsigned k = 0; k < m.saved[0].n; k++)
            if ((m.saved[0].e[k].tag & ~0xfffull) == 0x400000) {
                m.saved[0].e[k].tag = lin57 | (m.saved[0].e[k].tag & 0xfff);
                m.saved[0].e[k].addend -= lin57 - 0x400000; /* the same host page */
                moved++;
            }
        UNIT_CHECK(moved == 1);
        m.cr4 = la57 ? m.cr4 | CR4_LA57 : m.cr4 & ~CR4_LA57;
        mmu_tlb_switch(&m, 1, 42, 0, 0);
        UNIT_CHECKF(mmu_fast_ptr(&m, lin57, 1, need) == (la57 ? ph.ram + 0x200000 : NULL),
                    "LA57 = %d", la57);
        m.cr4 &= ~CR4_LA57;
    }
}

static void pae_pdpte_reserved_bits(void)
{
    build();
    m.efer = 0;
    m.cr3 = 0x14000;
    wr(0x14000, 0x15000 | PTE_P);
    UNIT_CHECK(mmu_load_pdptes(&m) == 0);
    wr(0x14008, 0x16000 | PTE_P | PTE_RW); /* bit 1 is reserved in a PAE PDPTE */
    UNIT_CHECK(mmu_load_pdptes(&m) == -1);
    wr(0x14008, 0x16000 | PTE_RW); /* ... but not when P = 0 (SDM 4.4.1) */
    UNIT_CHECK(mmu_load_pdptes(&m) == 0);
}

static void phys_open_bus_and_hole(void)
{
    UNIT_CHECK(phys_read(&ph, 0xdead0000ull, 4) == 0xffffffffu); /* unbacked */
    phys_write(&ph, 0xdead0000ull, 1, 4);                          /* ignored */
    UNIT_CHECK(phys_ram_ptr(&ph, 0x100000) == ph.ram + 0x100000);
    struct phys big;
    UNIT_CHECK(phys_init(&big, 4ull << 30) == 0);
    UNIT_CHECK(big.ram_below_4g == PHYS_PCI_HOLE_START);
    UNIT_CHECK(big.ram_above_4g == (4ull << 30) - PHYS_PCI_HOLE_START);
    UNIT_CHECK(phys_ram_ptr(&big, PHYS_PCI_HOLE_START) == NULL);
    UNIT_CHECK(phys_ram_ptr(&big, PHYS_4G) == big.ram + PHYS_PCI_HOLE_START);
    phys_free(&big);
}

static uint64_t mmio_last_off;
static uint64_t mmio_read(void *o, uint64_t off, unsigned size)
{
    (void)o;
    mmio_last_off = off;
    return 0x1122334455667788ull & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
}

static void phys_mmio_and_straddle(void)
{
    phys_map_mmio(&ph, 0x700000, 0x1000, "test", NULL, mmio_read, NULL);
    UNIT_CHECK(phys_read(&ph, 0x700010, 4) == 0x55667788u);
    UNIT_CHECK(mmio_last_off == 0x10);
    /* RAM byte at 0x6fffff, then MMIO bytes: split byte-wise as the bus would */
    *phys_ram_ptr(&ph, 0x6fffff) = 0xaa;
    uint64_t v = phys_read(&ph, 0x6fffff, 2);
    UNIT_CHECKF(v == 0x88aa, "0x%llx", (unsigned long long)v);
    ph.nregions = 0;
    phys_regions_changed(&ph);
}

/* The inline RAM path of phys_read/phys_write (mmu/phys.h
 * phys_ram_plain) ends where RAM ends (open bus above it reads all
 * ones), and a write through it still tells the code tracking which
 * pages it changed: a store to a page holding decoded code moves that
 * page's generation, including the second page of a store that
 * straddles two */
static void plain_ram_path_edges(void)
{
    uint64_t end = ph.ram_below_4g;
    phys_write(&ph, end - 8, 0x1122334455667788ull, 8);
    UNIT_CHECK(phys_read(&ph, end - 8, 8) == 0x1122334455667788ull);
    UNIT_CHECK(phys_read(&ph, end, 4) == 0xffffffffu);
    UNIT_CHECK(phys_read(&ph, end + 0x100, 8) == ~0ull);
    phys_write(&ph, end, 0x5a, 1); /* ignored, no crash */

    uint64_t pg = 0x1234000;
    phys_mark_code(&ph, pg);
    uint32_t gen = ph.code_gen[pg >> 12];
    phys_write(&ph, pg + 0x10, 0xab, 1);
    UNIT_CHECK(ph.code_gen[pg >> 12] == gen + 1);
    UNIT_CHECK(!ph.code_page[pg >> 12]);
    phys_mark_code(&ph, pg);
    gen = ph.code_gen[pg >> 12];
    phys_write(&ph, pg - 4, 0x0102030405060708ull, 8); /* last 4 bytes on the code page */
    UNIT_CHECK(ph.code_gen[pg >> 12] == gen + 1);
    UNIT_CHECK(phys_read(&ph, pg - 4, 8) == 0x0102030405060708ull);
    UNIT_CHECK(phys_read(&ph, pg, 4) == 0x01020304u);
}

/* RAM above 1 MiB needs no region search below the lowest MMIO region
 * (phys_regions_changed): a region moved into RAM must shadow it at
 * once, and RAM it left must be RAM again */
static void moved_region_shadows_ram(void)
{
    phys_map_mmio(&ph, 0x3000000, 0x1000, "moving", NULL, mmio_read, NULL);
    UNIT_CHECK(phys_ram_ptr(&ph, 0x2000000) == ph.ram + 0x2000000);
    UNIT_CHECK(phys_ram_ptr(&ph, 0x3000000) == NULL);
    ph.regions[ph.nregions - 1].base = 0x2000000;
    phys_regions_changed(&ph);
    UNIT_CHECK(phys_ram_ptr(&ph, 0x2000000) == NULL);
    UNIT_CHECK(phys_ram_ptr(&ph, 0x3000000) == ph.ram + 0x3000000);
    ph.nregions--;
    phys_regions_changed(&ph);
    UNIT_CHECK(phys_ram_ptr(&ph, 0x2000000) == ph.ram + 0x2000000);
}

int main(void)
{
    if (phys_init(&ph, 64 << 20))
        return 1;
    UNIT_RUN(translate_4k_sets_accessed);
    UNIT_RUN(write_read_only_user_page);
    UNIT_RUN(restore_drops_noncanonical);
    UNIT_RUN(moved_region_shadows_ram);
    UNIT_RUN(plain_ram_path_edges);
    UNIT_RUN(pkey_and_read_only_both_deny);
    UNIT_RUN(large_page_write_sets_dirty);
    UNIT_RUN(user_access_to_supervisor_page);
    UNIT_RUN(not_present_and_reserved);
    UNIT_RUN(explain_has_no_side_effects);
    UNIT_RUN(tlb_keeps_stale_entry_until_invlpg);
    UNIT_RUN(invlpg_drops_whole_large_page);
    UNIT_RUN(invlpg_drops_large_page_among_many);
    UNIT_RUN(pcid_flush_drops_only_its_pcid);
    UNIT_RUN(global_entry_serves_every_pcid);
    UNIT_RUN(clean_page_not_fast_writable);
    UNIT_RUN(flushes_drop_every_filled_slot);
    UNIT_RUN(context_switch_keeps_translations);
    UNIT_RUN(pae_pdpte_reserved_bits);
    UNIT_RUN(phys_open_bus_and_hole);
    UNIT_RUN(phys_mmio_and_straddle);
    return unit_done();
}
