/* testsuite/unit/mmu_ept.c — the EPT walk (mmu/ept.c) and the paging
 * walker through it (mmu/paging.c), on EPT and guest tables built by
 * hand, asserting the SDM's values (Vol. 3C 28.2, Table 27-7):
 *   - every access kind x permission x level: the translation, or the
 *     EPT violation with its exact exit qualification, or the
 *     misconfiguration; a few SDM literals pin the sweep's formula;
 *   - each misconfiguration cause per level and page size (reserved
 *     bits, write without read, execute-only, leaf memory types), and
 *     the same bits ignored in a not-present entry;
 *   - 2 MiB and 1 GiB leaves;
 *   - accessed and dirty flags for reads, writes, fetches, guest
 *     paging-structure reads and A/D updates and PDPTE loads, with and
 *     without EPTP bit 6;
 *   - the two-dimensional walk: guest A/D updates and paging-structure
 *     reads as EPT accesses, the TLB restricted by EPT, paging off,
 *     PDPTE loads;
 *   - mode-based execute control: every access kind x R/W/X/XU x level,
 *     with the control on and off, and the TLB's fetch rights by the
 *     linear address's mode; the advanced information (bits 9-11);
 *   - 5-level walks: every reserved bit per level, the fifth level's
 *     index, not-present PML5Es;
 *   - the "suppress #VE" bit: which entry decides;
 *   - a fuzz target: random EPT trees and guest tables, no crash and no
 *     change to memory beyond A/D flags in the tables. */
#include <string.h>

#include "mmu/ept.h"
#include "testsuite/unit/unit.h"

static struct phys ph;
#define RAM (16ull << 20)

static uint64_t rd(uint64_t pa)
{
    return phys_read(&ph, pa, 8);
}

static void wr(uint64_t pa, uint64_t v)
{
    phys_write(&ph, pa, v, 8);
}

/* ---- building EPT tables (host-physical 0x100000 upward) ---- */

#define EPT_POOL 0x100000ull
#define WB (6ull << EPT_MT_SHIFT)
static uint64_t pool_next;
static uint64_t root;
static int top = 3; /* the root's level: 3 (PML4, 4-level EPTP) or 4 (PML5) */

static uint64_t new_page(void)
{
    uint64_t p = pool_next;
    pool_next += 4096;
    for (unsigned k = 0; k < 4096; k += 8)
        wr(p + k, 0);
    return p;
}

static void ept_reset(void)
{
    pool_next = EPT_POOL;
    root = new_page();
}

/* Maps 'gpa' to 'hpa' with a leaf at 'level' (0 PTE, 1 2-MiB PDE, 2
 * 1-GiB PDPTE) holding 'flags'; the tables above get RWX and XU. */
static void ept_map(uint64_t gpa, uint64_t hpa, int level, uint64_t flags)
{
    uint64_t table = root;
    for (int lv = top; lv > level; lv--) {
        uint64_t pa = table + ((gpa >> (12 + 9 * lv)) & 511) * 8;
        uint64_t e = rd(pa);
        if (!(e & EPT_RWX)) {
            e = new_page() | EPT_RWX | EPT_XU; /* bit 10 matters only with MBEC */
            wr(pa, e);
        }
        table = e & EPTP_ADDR_MASK;
    }
    wr(table + ((gpa >> (12 + 9 * level)) & 511) * 8, hpa | flags | (level ? EPT_PS : 0));
}

/* host-physical address of the EPT entry at 'level' for 'gpa' */
static uint64_t ept_entry(uint64_t gpa, int level)
{
    uint64_t table = root;
    for (int lv = top; lv > level; lv--)
        table = rd(table + ((gpa >> (12 + 9 * lv)) & 511) * 8) & EPTP_ADDR_MASK;
    return table + ((gpa >> (12 + 9 * level)) & 511) * 8;
}

static uint64_t eptp(bool ad)
{
    return root | (top == 4 ? EPTP_WALK_5 : EPTP_WALK_4) | EPTP_MT_WB | (ad ? EPTP_AD : 0);
}

static enum ept_outcome walk(uint64_t gpa, enum mmu_gpa_kind kind, enum mmu_access_type type,
                             bool ad, bool exec_only, struct ept_result *r)
{
    struct mmu_gpa_access a = {.gpa = gpa, .lin = 0x7000, .type = type, .kind = kind,
                               .lin_valid = kind != MMU_GPA_PDPTE, .commit = true};
    return ept_translate(&ph, eptp(ad), exec_only, &a, r);
}

#define GPA 0x5000123ull   /* a guest-physical address in the 2nd 64 MiB */
#define HPA 0xc00000ull    /* the page it maps to */

/* ---- the access x permission sweep ---- */

static const struct kind_row {
    const char *name;
    enum mmu_gpa_kind kind;
    enum mmu_access_type type;
    bool ad;
    unsigned bits; /* Table 27-7 bits 2:0 the access reports (28.2.3.2, 28.2.4) */
} kinds[] = {
    {"read", MMU_GPA_FINAL, MMU_READ, false, 1},
    {"write", MMU_GPA_FINAL, MMU_WRITE, false, 2},
    {"fetch", MMU_GPA_FINAL, MMU_FETCH, false, 4},
    {"read-ad", MMU_GPA_FINAL, MMU_READ, true, 1},
    {"write-ad", MMU_GPA_FINAL, MMU_WRITE, true, 2},
    {"fetch-ad", MMU_GPA_FINAL, MMU_FETCH, true, 4},
    {"walk", MMU_GPA_WALK, MMU_READ, false, 1},
    {"walk-ad", MMU_GPA_WALK, MMU_READ, true, 3},   /* a write with EPTP[6] */
    {"ad-update", MMU_GPA_AD, MMU_WRITE, false, 3},
    {"ad-update-ad", MMU_GPA_AD, MMU_WRITE, true, 3},
    {"pdpte", MMU_GPA_PDPTE, MMU_READ, false, 1},
    {"pdpte-ad", MMU_GPA_PDPTE, MMU_READ, true, 1}, /* reads even with EPTP[6] */
};
static const char *const level_names[4] = {"pte", "pde", "pdpte", "pml4e"};

static void permission_sweep(void)
{
    char item[96], why[160];
    for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        for (int lv = 0; lv < 4; lv++)
            for (unsigned rwx = 0; rwx < 8; rwx++)
                for (int xo = 0; xo < 2; xo++) {
                    const struct kind_row *kr = &kinds[k];
                    ept_reset();
                    ept_map(GPA, HPA, 0, EPT_RWX | WB);
                    uint64_t epa = ept_entry(GPA, lv);
                    wr(epa, (rd(epa) & ~EPT_RWX) | rwx);
                    struct ept_result r;
                    enum ept_outcome o = walk(GPA, kr->kind, kr->type, kr->ad, xo, &r);
                    /* expected, from 28.2.3.1/28.2.3.2 */
                    enum ept_outcome want;
                    uint32_t qual = 0;
                    if (rwx == 0 || (((rwx & kr->bits) != kr->bits) &&
                                     !((rwx & 3) == 2 || (rwx == 4 && !xo)))) {
                        want = EPT_VIOLATION;
                        qual = kr->bits | (rwx << 3) |
                               (kr->kind != MMU_GPA_PDPTE ? 0x80u : 0) |
                               (kr->kind == MMU_GPA_FINAL ? 0x100u : 0);
                    } else if ((rwx & 3) == 2 || (rwx == 4 && !xo)) {
                        want = EPT_MISCONFIG;
                    } else {
                        want = EPT_OK;
                    }
                    snprintf(item, sizeof item, "%s/%s/rwx%u%s", kr->name, level_names[lv], rwx,
                             xo ? "/exec-only" : "");
                    if (o != want) {
                        snprintf(why, sizeof why, "outcome %d, expected %d", o, want);
                        unit_fail_item("permission-sweep", item, why);
                    } else if (o == EPT_VIOLATION && r.qualification != qual) {
                        snprintf(why, sizeof why, "qualification 0x%x, expected 0x%x",
                                 r.qualification, qual);
                        unit_fail_item("permission-sweep", item, why);
                    } else if (o == EPT_OK && (r.hpa != (HPA | 0x123) || r.allow != (rwx &
                               (kr->ad && !(kr->bits & 2) ? 5u : 7u)))) {
                        snprintf(why, sizeof why, "hpa 0x%llx allow %u", (unsigned long long)r.hpa,
                                 r.allow);
                        unit_fail_item("permission-sweep", item, why);
                    }
                }
}

/* The sweep's formula against values worked out from Table 27-7. */
static void sdm_qualifications(void)
{
    static const struct {
        unsigned kind_row, rwx;
        int level;
        uint32_t qual;
    } lit[] = {
        {0, 0, 0, 0x181}, /* read, PTE not present: R, linear valid, final */
        {1, 1, 0, 0x18a}, /* write, read-only: W, readable */
        {2, 3, 0, 0x19c}, /* fetch, read/write: X, readable, writable */
        {0, 4, 0, 0x1a1}, /* read, execute-only: R, executable */
        {1, 0, 1, 0x182}, /* write, PDE not present */
        {1, 5, 3, 0x1aa}, /* write, PML4E read/execute */
        {6, 0, 0, 0x081}, /* paging-structure read, not present, A/D off */
        {7, 0, 0, 0x083}, /* ... A/D on: read and write */
        {7, 1, 0, 0x08b}, /* ... A/D on, read-only page-table page */
        {8, 1, 0, 0x08b}, /* guest A/D update, read-only, A/D off */
        {8, 5, 0, 0x0ab}, /* ... read/execute */
        {10, 0, 0, 0x001}, /* PDPTE load: no linear address */
    };
    for (unsigned k = 0; k < sizeof(lit) / sizeof(lit[0]); k++) {
        const struct kind_row *kr = &kinds[lit[k].kind_row];
        ept_reset();
        ept_map(GPA, HPA, 0, EPT_RWX | WB);
        uint64_t epa = ept_entry(GPA, lit[k].level);
        wr(epa, (rd(epa) & ~EPT_RWX) | lit[k].rwx);
        struct ept_result r;
        UNIT_CHECKF(walk(GPA, kr->kind, kr->type, kr->ad, true, &r) == EPT_VIOLATION, "case %u", k);
        UNIT_CHECKF(r.qualification == lit[k].qual, "case %u: 0x%x, SDM 0x%x", k, r.qualification,
                    lit[k].qual);
    }
    /* a PDPTE load from a read-only page succeeds even with EPTP[6] */
    ept_reset();
    ept_map(GPA, HPA, 0, EPT_R | WB);
    struct ept_result r;
    UNIT_CHECK(walk(GPA, MMU_GPA_PDPTE, MMU_READ, true, true, &r) == EPT_OK);
}

/* ---- misconfigurations: reserved bits per level and page size ---- */

struct shape {
    const char *name;
    int level;     /* entry level */
    int leaf;      /* the mapping's leaf level */
    uint64_t rsvd; /* reserved bits besides 51:40 */
};
static const struct shape shapes[] = {
    {"pml5e", 4, 0, 0xf8},
    {"pml4e", 3, 0, 0xf8},
    {"pdpte", 2, 0, 0xf8},
    {"pde", 1, 0, 0xf8},
    {"pte", 0, 0, 0},
    {"pdpte-1g", 2, 2, 0x3ffff000},
    {"pde-2m", 1, 1, 0x1ff000},
};

static void reserved_bits(void)
{
    char item[64], why[128];
    for (top = 3; top <= 4; top++)
    for (unsigned s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        const struct shape *sh = &shapes[s];
        if (sh->level > top)
            continue;
        uint64_t gpa = sh->leaf == 2 ? 0x40000000ull : sh->leaf == 1 ? 0x400000ull : GPA;
        uint64_t hpa = sh->leaf == 2 ? 0 : sh->leaf == 1 ? 0x800000ull : HPA;
        for (int bit = 3; bit < 64; bit++) {
            uint64_t b = 1ull << bit;
            bool rsvd = (bit >= MMU_MAXPHYADDR && bit <= 51) || (sh->rsvd & b);
            /* bits 5:3 of a leaf are its memory type, tested apart; bit 7
             * of a PDPTE/PDE selects the page size */
            if (sh->level == sh->leaf && bit >= 3 && bit <= 5)
                continue;
            if (sh->level > 0 && sh->level < 3 && bit == 7)
                continue;
            /* a table pointer's address bits lead elsewhere */
            if (sh->level != sh->leaf && bit >= 12 && bit < MMU_MAXPHYADDR)
                continue;
            for (int present = 0; present < 2; present++) {
                ept_reset();
                ept_map(gpa, hpa, sh->leaf, EPT_RWX | WB);
                uint64_t epa = ept_entry(gpa, sh->level);
                uint64_t e = rd(epa) | b;
                if (!present)
                    e &= ~EPT_RWX;
                wr(epa, e);
                struct ept_result r;
                enum ept_outcome o = walk(gpa, MMU_GPA_FINAL, MMU_READ, false, true, &r);
                enum ept_outcome want = !present ? EPT_VIOLATION : rsvd ? EPT_MISCONFIG : EPT_OK;
                if (o != want || (o == EPT_VIOLATION && r.qualification != 0x181)) {
                    snprintf(item, sizeof item, "%s%s/bit%d%s", top == 4 ? "5-level/" : "",
                             sh->name, bit, present ? "" : "/not-present");
                    snprintf(why, sizeof why, "outcome %d (qualification 0x%x), expected %d", o,
                             r.qualification, want);
                    unit_fail_item("reserved-bits", item, why);
                }
            }
        }
    }
    top = 3;
}

/* leaf memory types 2, 3 and 7 are reserved (28.2.3.1); non-leaf
 * entries have no memory type (bits 5:3 reserved, above) */
static void leaf_memory_types(void)
{
    for (int leaf = 0; leaf < 3; leaf++)
        for (uint64_t mt = 0; mt < 8; mt++) {
            uint64_t gpa = leaf == 2 ? 0x40000000ull : leaf == 1 ? 0x400000ull : GPA;
            ept_reset();
            ept_map(gpa, leaf == 1 ? 0x800000ull : 0, leaf, EPT_RWX | (mt << EPT_MT_SHIFT) | EPT_IPAT);
            struct ept_result r;
            enum ept_outcome o = walk(gpa, MMU_GPA_FINAL, MMU_WRITE, false, true, &r);
            bool bad = mt == 2 || mt == 3 || mt == 7;
            UNIT_CHECKF(o == (bad ? EPT_MISCONFIG : EPT_OK), "leaf %d type %llu: outcome %d", leaf,
                        (unsigned long long)mt, o);
            if (bad)
                UNIT_CHECK(r.why && strstr(r.why, "memory type"));
        }
}

/* bits the walk ignores at every level: 8-11 (A, D with EPTP[6] off),
 * 52-63 (suppress #VE only matters with EPT-violation #VE), and bit 7 of
 * a PTE */
static void ignored_bits(void)
{
    static const int bits[] = {8, 9, 10, 11, 52, 55, 58, 62, 63};
    for (int lv = 0; lv < 4; lv++)
        for (unsigned k = 0; k < sizeof(bits) / sizeof(bits[0]); k++) {
            ept_reset();
            ept_map(GPA, HPA, 0, EPT_RWX | WB);
            uint64_t epa = ept_entry(GPA, lv);
            wr(epa, rd(epa) | (1ull << bits[k]));
            struct ept_result r;
            UNIT_CHECKF(walk(GPA, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK &&
                            r.hpa == (HPA | 0x123),
                        "level %d bit %d", lv, bits[k]);
        }
    ept_reset();
    ept_map(GPA, HPA, 0, EPT_RWX | WB | EPT_PS); /* PTE bit 7 */
    struct ept_result r;
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK);
}

/* the open bus is no EPT table: all-ones entries are misconfigured */
static void table_outside_ram(void)
{
    ept_reset();
    ept_map(GPA, HPA, 0, EPT_RWX | WB);
    wr(ept_entry(GPA, 2), (RAM + 0x1000) | EPT_RWX);
    struct ept_result r;
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_MISCONFIG);
}

/* ---- large pages ---- */

static void large_pages(void)
{
    struct ept_result r;
    ept_reset();
    ept_map(0x400000, 0xa00000, 1, EPT_RWX | WB);
    UNIT_CHECK(walk(0x4abcde, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK);
    UNIT_CHECKF(r.hpa == 0xaabcde && r.leaf_level == 1 && r.n == 3, "hpa 0x%llx level %d n %d",
                (unsigned long long)r.hpa, r.leaf_level, r.n);
    ept_map(0x80000000ull, 0, 2, EPT_R | EPT_X | WB);
    UNIT_CHECK(walk(0x80123456ull, MMU_GPA_FINAL, MMU_FETCH, false, true, &r) == EPT_OK);
    UNIT_CHECKF(r.hpa == 0x123456 && r.leaf_level == 2 && r.n == 2, "hpa 0x%llx level %d n %d",
                (unsigned long long)r.hpa, r.leaf_level, r.n);
    UNIT_CHECK(r.allow == (MMU_ALLOW_R | MMU_ALLOW_X));
    UNIT_CHECK(walk(0x80123456ull, MMU_GPA_FINAL, MMU_WRITE, false, true, &r) == EPT_VIOLATION);
    UNIT_CHECKF(r.qualification == 0x1aa, "0x%x", r.qualification);
    /* a 1-GiB leaf's address bits 29:12 are reserved */
    wr(ept_entry(0x80000000ull, 2), 0x200000 | EPT_RWX | WB | EPT_PS);
    UNIT_CHECK(walk(0x80123456ull, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_MISCONFIG);
}

/* ---- accessed and dirty flags (28.2.4) ---- */

static uint64_t flags_at(int lv)
{
    return rd(ept_entry(GPA, lv)) & (EPT_A | EPT_D);
}

static void accessed_dirty(void)
{
    static const struct {
        unsigned kind_row;
        bool dirty; /* the leaf's D after the access */
    } cases[] = {
        {3, false}, /* read */
        {4, true},  /* write */
        {5, false}, /* fetch */
        {7, true},  /* guest paging-structure read: a write with EPTP[6] */
        {9, true},  /* guest A/D update */
        {11, false}, /* PDPTE load: a read (28.2.4) */
    };
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct kind_row *kr = &kinds[cases[k].kind_row];
        ept_reset();
        ept_map(GPA, HPA, 0, EPT_RWX | WB);
        struct ept_result r;
        UNIT_CHECK(walk(GPA, kr->kind, kr->type, true, true, &r) == EPT_OK);
        for (int lv = 3; lv > 0; lv--)
            UNIT_CHECKF(flags_at(lv) == EPT_A, "%s: level %d flags 0x%llx", kr->name, lv,
                        (unsigned long long)flags_at(lv));
        uint64_t want = EPT_A | (cases[k].dirty ? EPT_D : 0);
        UNIT_CHECKF(flags_at(0) == want, "%s: leaf flags 0x%llx", kr->name,
                    (unsigned long long)flags_at(0));
        /* a cached translation may serve writes only once D is set */
        UNIT_CHECKF(!!(r.allow & MMU_ALLOW_W) == cases[k].dirty, "%s: allow %u", kr->name, r.allow);
        /* without EPTP[6] nothing is written and writes may be cached */
        ept_reset();
        ept_map(GPA, HPA, 0, EPT_RWX | WB);
        UNIT_CHECK(walk(GPA, kr->kind, kr->type, false, true, &r) == EPT_OK);
        for (int lv = 3; lv >= 0; lv--)
            UNIT_CHECKF(flags_at(lv) == 0, "%s without A/D: level %d", kr->name, lv);
        UNIT_CHECK(r.allow == 7);
    }
    /* a violation sets no flag; a look (commit = 0) neither */
    ept_reset();
    ept_map(GPA, HPA, 0, EPT_R | WB);
    struct ept_result r;
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_WRITE, true, true, &r) == EPT_VIOLATION);
    for (int lv = 3; lv >= 0; lv--)
        UNIT_CHECK(flags_at(lv) == 0);
    struct mmu_gpa_access look = {.gpa = GPA, .type = MMU_WRITE, .kind = MMU_GPA_FINAL,
                                  .lin_valid = true, .commit = false};
    wr(ept_entry(GPA, 0), HPA | EPT_RWX | WB);
    UNIT_CHECK(ept_translate(&ph, eptp(true), true, &look, &r) == EPT_OK);
    for (int lv = 3; lv >= 0; lv--)
        UNIT_CHECK(flags_at(lv) == 0);
    UNIT_CHECK(!(r.allow & MMU_ALLOW_W));
    /* a leaf already dirty serves cached writes after a read */
    wr(ept_entry(GPA, 0), HPA | EPT_RWX | WB | EPT_D);
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_READ, true, true, &r) == EPT_OK);
    UNIT_CHECK(r.allow == 7);
}

/* ---- the two-dimensional walk: mmu_translate through the hook ---- */

static struct mmu m;
static struct ept_ctx ctx;
#define OFF 0x800000ull  /* guest-physical g lives at host-physical g + OFF */
#define G_PML4 0x10000ull
#define G_PDPT 0x11000ull
#define G_PD 0x12000ull
#define G_PT 0x13000ull
#define G_PDPTES 0x14000ull
#define G_DATA 0x200000ull
#define LIN 0x400123ull

static void gwr(uint64_t gpa, uint64_t v)
{
    wr(gpa + OFF, v);
}

static uint64_t grd(uint64_t gpa)
{
    return rd(gpa + OFF);
}

/* guest: 4-level tables mapping LIN's page to G_DATA (read/write);
 * EPT: guest-physical [0, 4 MiB) at +OFF with 4-KiB leaves */
static void two_d(bool ad)
{
    ept_reset();
    for (uint64_t g = 0; g < 0x400000; g += 4096)
        ept_map(g, g + OFF, 0, EPT_RWX | WB);
    for (uint64_t g = G_PML4; g < G_PDPTES + 32; g += 8)
        gwr(g, 0);
    gwr(G_PML4, G_PDPT | PTE_P | PTE_RW);
    gwr(G_PDPT, G_PD | PTE_P | PTE_RW);
    gwr(G_PD + 2 * 8, G_PT | PTE_P | PTE_RW);
    gwr(G_PT, G_DATA | PTE_P | PTE_RW);
    mmu_init(&m, &ph);
    m.cr0 = CR0_PE | CR0_PG | CR0_WP;
    m.cr4 = CR4_PAE;
    m.efer = EFER_LME | EFER_LMA | EFER_NXE;
    m.cr3 = G_PML4;
    ctx = (struct ept_ctx){.phys = &ph, .eptp = eptp(ad), .exec_only = true};
    m.gpa_xlate = ept_gpa_xlate;
    m.gpa_opaque = &ctx;
}

static const struct mmu_tlb_entry *tlb_of(uint64_t lin)
{
    return &m.tlb[(lin >> 12) & (MMU_TLB_SIZE - 1)];
}

static void nested_translation(void)
{
    two_d(false);
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECKF(pa == G_DATA + OFF + 0x123, "pa 0x%llx", (unsigned long long)pa);
    UNIT_CHECK(grd(G_PT) & PTE_A); /* the guest's A/D live in guest-physical memory */
    UNIT_CHECK(tlb_of(LIN)->perm & MMU_R_SUP);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_WRITE, false, false, &pa, &f) == 0);
    UNIT_CHECK(grd(G_PT) & PTE_D);
    UNIT_CHECK(tlb_of(LIN)->perm & MMU_W_SUP);
}

static void tlb_keeps_ept_restrictions(void)
{
    two_d(false);
    uint64_t pa;
    struct mmu_fault f;
    gwr(G_PT, G_DATA | PTE_P | PTE_RW | PTE_A | PTE_D);
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | EPT_X | WB);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == 0);
    uint8_t p = tlb_of(LIN)->perm;
    UNIT_CHECKF((p & (MMU_R_SUP | MMU_X_SUP)) == (MMU_R_SUP | MMU_X_SUP), "perm 0x%x", p);
    UNIT_CHECKF(!(p & (MMU_W_SUP | MMU_W_USER | MMU_W_SUPAC)), "perm 0x%x", p);
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | EPT_W | WB);
    mmu_flush_all(&m);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == 0);
    p = tlb_of(LIN)->perm;
    UNIT_CHECKF(!(p & (MMU_X_SUP | MMU_X_USER)) && (p & MMU_W_SUP), "perm 0x%x", p);
    /* with EPTP[6], a read leaves the EPT dirty flag clear: no cached writes */
    two_d(true);
    gwr(G_PT, G_DATA | PTE_P | PTE_RW | PTE_A | PTE_D);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECKF(!(tlb_of(LIN)->perm & MMU_W_SUP), "perm 0x%x", tlb_of(LIN)->perm);
    UNIT_CHECK((rd(ept_entry(G_DATA, 0)) & (EPT_A | EPT_D)) == EPT_A);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_WRITE, false, false, &pa, &f) == 0);
    UNIT_CHECK((rd(ept_entry(G_DATA, 0)) & (EPT_A | EPT_D)) == (EPT_A | EPT_D));
    UNIT_CHECK(tlb_of(LIN)->perm & MMU_W_SUP);
    /* the guest's page-table pages count as written (28.2.4) */
    UNIT_CHECK((rd(ept_entry(G_PT, 0)) & (EPT_A | EPT_D)) == (EPT_A | EPT_D));
    UNIT_CHECK((rd(ept_entry(G_PML4, 0)) & (EPT_A | EPT_D)) == (EPT_A | EPT_D));
}

static void final_access_violations(void)
{
    two_d(false);
    uint64_t pa;
    struct mmu_fault f;
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | WB);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_WRITE, false, false, &pa, &f) == -1);
    UNIT_CHECK(f.vector == MMU_FAULT_EPT_VIOLATION);
    /* write, readable, linear address valid, final translation, and
     * (advanced information) a supervisor-mode address of a read/write
     * page */
    UNIT_CHECKF(f.error_code == 0x58a, "qualification 0x%x", f.error_code);
    UNIT_CHECK(f.gpa == G_DATA + 0x123 && f.address == LIN);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_FETCH, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x58c, "qualification 0x%x", f.error_code);
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_W | WB); /* write-only */
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == -1);
    UNIT_CHECK(f.vector == MMU_FAULT_EPT_MISCONFIG && f.gpa == G_DATA + 0x123);
    UNIT_CHECK(ctx.misconfig && strstr(ctx.misconfig, "writable but not readable"));
}

/* The traps: a read-only page-table page refuses the guest's
 * A/D updates even with EPT A/D off, and with EPTP[6] every guest
 * paging-structure access is a write (0x8b); not present: 0x81 / 0x83. */
static void guest_paging_structure_accesses(void)
{
    uint64_t pa;
    struct mmu_fault f;
    for (int ad = 0; ad < 2; ad++) {
        two_d(ad);
        wr(ept_entry(G_PT, 0), (G_PT + OFF) | EPT_R | WB);
        UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == -1);
        UNIT_CHECK(f.vector == MMU_FAULT_EPT_VIOLATION);
        UNIT_CHECKF(f.error_code == 0x8b, "A/D %d: qualification 0x%x", ad, f.error_code);
        UNIT_CHECKF(f.gpa == G_PT && f.address == LIN, "gpa 0x%llx", (unsigned long long)f.gpa);
        UNIT_CHECK(!(grd(G_PT) & PTE_A));
        /* the PTE already accessed: a read needs no update without A/D */
        gwr(G_PT, grd(G_PT) | PTE_A);
        int r = mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f);
        UNIT_CHECKF(ad ? r == -1 && f.error_code == 0x8b : r == 0, "A/D %d: %d 0x%x", ad, r,
                    f.error_code);
        /* but a write must set D in it */
        UNIT_CHECK(mmu_translate(&m, LIN, MMU_WRITE, false, false, &pa, &f) == -1);
        UNIT_CHECKF(f.error_code == 0x8b && f.gpa == G_PT, "0x%x", f.error_code);
        /* read/execute: the same, with X in the permissions */
        wr(ept_entry(G_PT, 0), (G_PT + OFF) | EPT_R | EPT_X | WB);
        UNIT_CHECK(mmu_translate(&m, LIN, MMU_WRITE, false, false, &pa, &f) == -1);
        UNIT_CHECKF(f.error_code == 0xab, "0x%x", f.error_code);
        /* not present */
        wr(ept_entry(G_PD, 0), 0);
        UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == -1);
        UNIT_CHECKF(f.error_code == (ad ? 0x83u : 0x81u) && f.gpa == G_PD + 2 * 8,
                    "A/D %d: 0x%x at 0x%llx", ad, f.error_code, (unsigned long long)f.gpa);
    }
}

static void paging_off_goes_through_ept(void)
{
    two_d(false);
    m.cr0 = CR0_PE;
    m.efer = 0;
    m.cr4 = 0;
    uint64_t pa;
    struct mmu_fault f;
    UNIT_CHECK(mmu_translate(&m, G_DATA + 0x10, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECK(pa == G_DATA + OFF + 0x10);
    wr(ept_entry(G_DATA + 0x1000, 0), 0);
    UNIT_CHECK(mmu_translate(&m, G_DATA + 0x1010, MMU_WRITE, false, false, &pa, &f) == -1);
    /* paging off: a user-mode linear address (bit 9) of a read/write
     * (bit 10), executable page (Table 27-7) */
    UNIT_CHECKF(f.error_code == 0x782 && f.gpa == G_DATA + 0x1010 && f.address == G_DATA + 0x1010,
                "0x%x", f.error_code);
}

static void pdpte_loads(void)
{
    two_d(true);
    m.efer = 0;
    m.cr3 = G_PDPTES;
    gwr(G_PDPTES + 8, G_PD | PTE_P);
    struct mmu_fault f;
    UNIT_CHECK(mmu_load_pdptes_fault(&m, &f) == 0);
    UNIT_CHECK(m.pdpte[1] == (G_PD | PTE_P));
    /* a read, even with EPTP[6]: no dirty flag (28.2.4) */
    UNIT_CHECK((rd(ept_entry(G_PDPTES, 0)) & (EPT_A | EPT_D)) == EPT_A);
    wr(ept_entry(G_PDPTES, 0), 0);
    UNIT_CHECK(mmu_load_pdptes_fault(&m, &f) == -1);
    UNIT_CHECK(f.vector == MMU_FAULT_EPT_VIOLATION);
    UNIT_CHECKF(f.error_code == 0x1 && f.gpa == G_PDPTES, "0x%x", f.error_code);
    wr(ept_entry(G_PDPTES, 0), (G_PDPTES + OFF) | EPT_R | WB);
    gwr(G_PDPTES + 8, G_PD | PTE_P | PTE_RW); /* bit 1 is reserved in a PDPTE */
    UNIT_CHECK(mmu_load_pdptes_fault(&m, &f) == -1 && f.vector == 13);
}

/* ---- mode-based execute control (28.2.3.2, Table 27-7 bit 6) ---- */

/* a walk with mode bits and the linear address's mode */
static enum ept_outcome walk_mode(uint64_t gpa, enum mmu_gpa_kind kind, enum mmu_access_type type,
                                  unsigned mode, bool lin_user, struct ept_result *r)
{
    struct mmu_gpa_access a = {.gpa = gpa, .lin = 0x7000, .type = type, .kind = kind,
                               .lin_valid = true, .commit = true, .lin_user = lin_user};
    return ept_translate(&ph, eptp(false), mode, &a, r);
}

static const struct mbec_row {
    const char *name;
    enum mmu_gpa_kind kind;
    enum mmu_access_type type;
    bool lin_user;
    unsigned bits; /* Table 27-7 bits 2:0 */
} mbec_rows[] = {
    {"read", MMU_GPA_FINAL, MMU_READ, false, 1},
    {"read-user", MMU_GPA_FINAL, MMU_READ, true, 1},
    {"write", MMU_GPA_FINAL, MMU_WRITE, false, 2},
    {"write-user", MMU_GPA_FINAL, MMU_WRITE, true, 2},
    {"fetch-supervisor", MMU_GPA_FINAL, MMU_FETCH, false, 4},
    {"fetch-user", MMU_GPA_FINAL, MMU_FETCH, true, 4},
    {"walk", MMU_GPA_WALK, MMU_READ, false, 1},
    {"ad-update", MMU_GPA_AD, MMU_WRITE, false, 3},
};

/* Every access kind x bits 0, 1, 2 and 10 x level, with the control on
 * and off: with it, an entry with only bit 10 is present, a fetch from
 * a user-mode linear address needs bit 10 in every entry and any other
 * fetch bit 2, and bit 6 of the qualification is bit 10 ANDed; without
 * it, bit 10 is ignored and bit 6 is 0.  A TLB copy may serve a fetch
 * only with the right for the address's mode. */
static void mbec_sweep(void)
{
    char item[96], why[160];
    for (unsigned k = 0; k < sizeof(mbec_rows) / sizeof(mbec_rows[0]); k++)
        for (int lv = 0; lv < 4; lv++)
            for (unsigned rights = 0; rights < 16; rights++)
                for (int mbec = 0; mbec < 2; mbec++) {
                    const struct mbec_row *kr = &mbec_rows[k];
                    unsigned rwx = rights & 7;
                    bool xu = rights & 8;
                    ept_reset();
                    ept_map(GPA, HPA, 0, EPT_RWX | EPT_XU | WB);
                    uint64_t epa = ept_entry(GPA, lv);
                    wr(epa, (rd(epa) & ~(EPT_RWX | EPT_XU)) | rwx | (xu ? EPT_XU : 0));
                    struct ept_result r;
                    unsigned mode = EPT_MODE_EXEC_ONLY | (mbec ? EPT_MODE_MBEC : 0);
                    enum ept_outcome o = walk_mode(GPA, kr->kind, kr->type, mode, kr->lin_user, &r);
                    /* expected, from 28.2.2, 28.2.3.1 and 28.2.3.2 */
                    bool present = rwx || (mbec && xu);
                    bool x_user = mbec ? xu : (rwx & 4);
                    bool have_x = kr->lin_user ? x_user : (rwx & 4);
                    unsigned have = (rwx & 3) | (have_x ? 4 : 0);
                    enum ept_outcome want;
                    uint32_t qual = 0;
                    if (present && (rwx & 3) == 2)
                        want = EPT_MISCONFIG;
                    else if (!present || (have & kr->bits) != kr->bits) {
                        want = EPT_VIOLATION;
                        qual = kr->bits | 0x80;
                        if (present)
                            qual |= (rwx << 3) | (mbec && xu ? 0x40 : 0);
                        if (kr->kind == MMU_GPA_FINAL)
                            qual |= 0x100 | (kr->lin_user ? 0x200 : 0);
                    } else {
                        want = EPT_OK;
                    }
                    snprintf(item, sizeof item, "%s/%s/rwx%u%s%s", kr->name, level_names[lv], rwx,
                             xu ? "+xu" : "", mbec ? "/mbec" : "");
                    if (o != want) {
                        snprintf(why, sizeof why, "outcome %d, expected %d", o, want);
                        unit_fail_item("mbec-sweep", item, why);
                    } else if (o == EPT_VIOLATION && r.qualification != qual) {
                        snprintf(why, sizeof why, "qualification 0x%x, expected 0x%x",
                                 r.qualification, qual);
                        unit_fail_item("mbec-sweep", item, why);
                    } else if (o == EPT_OK && r.allow != ((rwx & 3) | (have_x ? 4 : 0))) {
                        snprintf(why, sizeof why, "allow %u", r.allow);
                        unit_fail_item("mbec-sweep", item, why);
                    }
                }
}

/* Literals worked out from Table 27-7 with the control on */
static void mbec_qualifications(void)
{
    const unsigned mode = EPT_MODE_EXEC_ONLY | EPT_MODE_MBEC;
    struct ept_result r;
    ept_reset();
    /* user-mode fetch, leaf R+X (supervisor only): X, readable,
     * executable (supervisor), linear valid, final, user-mode = 0x3ac */
    ept_map(GPA, HPA, 0, EPT_R | EPT_X | WB);
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_FETCH, mode, true, &r) == EPT_VIOLATION);
    UNIT_CHECKF(r.qualification == 0x3ac, "0x%x", r.qualification);
    /* supervisor fetch, leaf R+XU: readable, user-executable = 0x1cc */
    ept_map(GPA, HPA, 0, EPT_R | EPT_XU | WB);
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_FETCH, mode, false, &r) == EPT_VIOLATION);
    UNIT_CHECKF(r.qualification == 0x1cc, "0x%x", r.qualification);
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_FETCH, mode, true, &r) == EPT_OK);
    UNIT_CHECK(r.allow == (MMU_ALLOW_R | MMU_ALLOW_X));
    /* a read of it as a supervisor address: fine, but no cached fetches */
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_READ, mode, false, &r) == EPT_OK);
    UNIT_CHECK(r.allow == MMU_ALLOW_R);
    /* an entry with bit 10 alone is present (user execute-only) */
    ept_map(GPA, HPA, 0, EPT_XU | WB);
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_READ, mode, true, &r) == EPT_VIOLATION);
    UNIT_CHECKF(r.qualification == 0x3c1, "0x%x", r.qualification);
    /* without the control that entry is not present */
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_READ, EPT_MODE_EXEC_ONLY, true, &r) ==
               EPT_VIOLATION);
    UNIT_CHECKF(r.qualification == 0x381, "0x%x", r.qualification);
    /* a user execute-only entry without execute-only support: misconfigured */
    UNIT_CHECK(walk_mode(GPA, MMU_GPA_FINAL, MMU_FETCH, EPT_MODE_MBEC, true, &r) == EPT_MISCONFIG);
}

/* The two-dimensional walk with the control on: the guest's U/S decides
 * which bit a fetch needs, whatever the CPL, and the TLB keeps to it. */
static void mbec_tlb(void)
{
    uint64_t pa;
    struct mmu_fault f;
    two_d(false);
    ctx.mbec = true;
    gwr(G_PML4, G_PDPT | PTE_P | PTE_RW | PTE_US);
    gwr(G_PDPT, G_PD | PTE_P | PTE_RW | PTE_US);
    gwr(G_PD + 2 * 8, G_PT | PTE_P | PTE_RW | PTE_US);
    gwr(G_PT, G_DATA | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    /* a user-mode page that EPT lets supervisor-mode addresses execute */
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | EPT_X | WB);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, true, false, &pa, &f) == 0);
    UNIT_CHECKF(!(tlb_of(LIN)->perm & (MMU_X_USER | MMU_X_SUP)), "perm 0x%x", tlb_of(LIN)->perm);
    for (int cpl3 = 0; cpl3 < 2; cpl3++) {
        UNIT_CHECK(mmu_translate(&m, LIN, MMU_FETCH, cpl3, false, &pa, &f) == -1);
        UNIT_CHECK(f.vector == MMU_FAULT_EPT_VIOLATION);
        /* fetch, readable, executable (supervisor), linear valid, final,
         * user-mode address, read/write page */
        UNIT_CHECKF(f.error_code == 0x7ac, "CPL3 %d: 0x%x", cpl3, f.error_code);
    }
    /* bit 10: both CPLs may fetch, from the TLB too */
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | EPT_XU | WB);
    mmu_flush_all(&m);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_FETCH, false, false, &pa, &f) == 0);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_FETCH, true, false, &pa, &f) == 0);
    uint8_t p = tlb_of(LIN)->perm;
    UNIT_CHECKF((p & (MMU_X_USER | MMU_X_SUP)) == (MMU_X_USER | MMU_X_SUP), "perm 0x%x", p);
    /* a supervisor-mode page (U/S 0 in the PTE) under that entry: no
     * fetch; bit 6 reports bit 10 */
    gwr(G_PT, G_DATA | PTE_P | PTE_RW | PTE_A | PTE_D);
    mmu_flush_all(&m);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == 0);
    UNIT_CHECKF(!(tlb_of(LIN)->perm & (MMU_X_USER | MMU_X_SUP)), "perm 0x%x", tlb_of(LIN)->perm);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_FETCH, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x5cc, "0x%x", f.error_code);
    /* the control off: bit 10 is ignored, bit 2 rules both modes */
    ctx.mbec = false;
    mmu_flush_all(&m);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_FETCH, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x58c, "0x%x", f.error_code);
    /* paging off: every linear address is user-mode (Table 27-7's note
     * on bit 9), so bit 10 rules */
    ctx.mbec = true;
    m.cr0 = CR0_PE;
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | EPT_X | WB);
    mmu_flush_all(&m);
    UNIT_CHECK(mmu_translate(&m, G_DATA, MMU_FETCH, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x7ac, "0x%x", f.error_code);
    wr(ept_entry(G_DATA, 0), (G_DATA + OFF) | EPT_R | EPT_XU | WB);
    UNIT_CHECK(mmu_translate(&m, G_DATA, MMU_FETCH, false, false, &pa, &f) == 0);
}

/* Bits 9-11 (advanced information): user-mode address, read/write page
 * and execute-disable page, as guest paging saw the linear address; only
 * for the final translation (bit 8). */
static void advanced_information(void)
{
    uint64_t pa;
    struct mmu_fault f;
    two_d(false);
    gwr(G_PML4, G_PDPT | PTE_P | PTE_RW | PTE_US);
    gwr(G_PDPT, G_PD | PTE_P | PTE_RW | PTE_US);
    gwr(G_PD + 2 * 8, G_PT | PTE_P | PTE_US); /* read-only from here */
    gwr(G_PT, G_DATA | PTE_P | PTE_RW | PTE_US | PTE_XD);
    wr(ept_entry(G_DATA, 0), 0);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0xb81, "0x%x", f.error_code);
    /* U/S 0 in one entry: a supervisor-mode address; R/W 1 everywhere */
    gwr(G_PD + 2 * 8, G_PT | PTE_P | PTE_RW);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0xd81, "0x%x", f.error_code);
    /* a paging-structure access: bits 9-11 stay 0 */
    wr(ept_entry(G_PT, 0), 0);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, true, false, &pa, &f) == -1);
    UNIT_CHECKF(f.error_code == 0x81, "0x%x", f.error_code);
}

/* ---- 5-level EPT (EPTP bits 5:3 = 4) ---- */

static void five_level(void)
{
    struct ept_result r;
    top = 4;
    ept_reset();
    ept_map(GPA, HPA, 0, EPT_RWX | WB);
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK);
    UNIT_CHECK(r.hpa == (HPA | 0x123) && r.n == 5 && r.leaf_level == 0);
    UNIT_CHECK(r.entry_pa[0] == root && r.entry_pa[4] == ept_entry(GPA, 0));
    /* A/D flags on all five entries */
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_WRITE, true, true, &r) == EPT_OK);
    for (int lv = 4; lv >= 0; lv--)
        UNIT_CHECKF((rd(ept_entry(GPA, lv)) & (EPT_A | EPT_D)) == (lv ? EPT_A : EPT_A | EPT_D),
                    "level %d", lv);
    /* bits 56:48 index the PML5 table */
    const uint64_t far = GPA | (1ull << 48);
    UNIT_CHECK(walk(far, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_VIOLATION);
    UNIT_CHECK(r.n == 1 && r.entry_pa[0] == root + 8 && r.qualification == 0x181);
    ept_map(far, HPA + 0x1000, 0, EPT_RWX | WB);
    UNIT_CHECK(walk(far, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK);
    UNIT_CHECK(r.hpa == (HPA + 0x1123));
    /* a not-present PML5E; a 1-GiB leaf under five levels */
    wr(root, 0);
    UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_WRITE, false, true, &r) == EPT_VIOLATION);
    UNIT_CHECK(r.n == 1 && r.qualification == 0x182);
    ept_reset();
    ept_map(0x40000000ull, 0, 2, EPT_RWX | WB);
    UNIT_CHECK(walk(0x40000123ull, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK);
    UNIT_CHECK(r.hpa == 0x123 && r.n == 3 && r.leaf_level == 2);
    top = 3;
}

/* ---- "suppress #VE" (25.5.7.1): bit 63 of exactly one entry ---- */

static void suppress_ve(void)
{
    struct ept_result r;
    for (int lv = 0; lv < 4; lv++) {
        /* a not-present entry decides, at any level */
        for (int sve = 0; sve < 2; sve++) {
            ept_reset();
            ept_map(GPA, HPA, 0, EPT_RWX | WB);
            wr(ept_entry(GPA, lv), sve ? EPT_SUPPRESS_VE : 0);
            UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_VIOLATION);
            UNIT_CHECKF(r.suppress_ve == sve, "level %d bit 63 %d", lv, sve);
        }
        /* a present table pointer's bit 63 does not */
        if (lv > 0) {
            ept_reset();
            ept_map(GPA, HPA, 0, EPT_R | WB);
            wr(ept_entry(GPA, lv), rd(ept_entry(GPA, lv)) | EPT_SUPPRESS_VE);
            UNIT_CHECK(walk(GPA, MMU_GPA_FINAL, MMU_WRITE, false, true, &r) == EPT_VIOLATION);
            UNIT_CHECKF(!r.suppress_ve, "level %d", lv);
        }
    }
    /* the leaf of a translation that refuses the access: a 4-KiB, 2-MiB
     * and 1-GiB page */
    for (int leaf = 0; leaf < 3; leaf++)
        for (int sve = 0; sve < 2; sve++) {
            uint64_t gpa = leaf == 2 ? 0x40000000ull : leaf == 1 ? 0x400000ull : GPA;
            ept_reset();
            ept_map(gpa, leaf == 1 ? 0x800000ull : leaf ? 0 : HPA, leaf,
                    EPT_R | WB | (sve ? EPT_SUPPRESS_VE : 0));
            UNIT_CHECK(walk(gpa, MMU_GPA_FINAL, MMU_WRITE, false, true, &r) == EPT_VIOLATION);
            UNIT_CHECKF(r.suppress_ve == sve, "leaf %d bit 63 %d", leaf, sve);
            UNIT_CHECK(walk(gpa, MMU_GPA_FINAL, MMU_READ, false, true, &r) == EPT_OK);
        }
    /* and through the MMU hook into the fault */
    two_d(false);
    uint64_t pa;
    struct mmu_fault f;
    wr(ept_entry(G_DATA, 0), EPT_SUPPRESS_VE);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == -1);
    UNIT_CHECK(f.vector == MMU_FAULT_EPT_VIOLATION && f.suppress_ve);
    wr(ept_entry(G_DATA, 0), 0);
    UNIT_CHECK(mmu_translate(&m, LIN, MMU_READ, false, false, &pa, &f) == -1);
    UNIT_CHECK(f.vector == MMU_FAULT_EPT_VIOLATION && !f.suppress_ve);
}

/* ---- fuzz: random EPT trees and guest tables ---- */

#define FZ_BASE 0x100000ull
#define FZ_PAGES 64
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
    return unit_xorshift(&rng);
}

/* an entry: mostly plausible (a page of the fuzz region, or now and
 * then one beyond RAM, with low bits that make sense as both kinds of
 * entry: bits 2:0 as EPT R/W/X and guest P/RW/US), else zero or noise;
 * 'rough' rounds get more of everything that breaks a walk */
static uint64_t fz_entry(bool rough)
{
    unsigned odds = rough ? 4 : 16;
    unsigned k = rnd() % 20;
    if (k < 2)
        return 0;
    if (k < (rough ? 4u : 3u))
        return rnd();
    uint64_t page = rnd() % (odds * 2) ? FZ_BASE + (rnd() % FZ_PAGES) * 4096
                                       : (RAM + (rnd() % (1ull << 28))) & ~0xfffull;
    static const uint64_t lows[] = {0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x7, 0x3, 0x5, 0x1, 0x4, 0x6, 0x2, 0x0, 0x7};
    uint64_t low = rnd() % odds == 0 ? rnd() & 0xfff : lows[rnd() % 16];
    if (rnd() % odds == 0)
        low |= EPT_PS;
    if (rnd() % odds == 0)
        low |= (rnd() % 8) << EPT_MT_SHIFT;
    if (rnd() % 4 == 0)
        low |= rnd() & (EPT_A | EPT_D);
    if (rnd() % odds == 0)
        low |= rnd() & (PTE_A | PTE_D);
    if (rnd() % odds == 0)
        low |= 1ull << (52 + rnd() % 12);
    if (rnd() % (odds * 4) == 0)
        low |= 1ull << (MMU_MAXPHYADDR + rnd() % 12);
    return page | low;
}

static void fuzz(void)
{
    static uint8_t before[FZ_PAGES * 4096];
    uint8_t *region = phys_ram_ptr(&ph, FZ_BASE);
    UNIT_CHECK(region);
    unsigned outcome[4] = {0};
    /* every changed bit is an A or D flag: EPT (8, 9), guest (5, 6, and
     * 37, 38 for 4-byte entries in the upper half) */
    const uint64_t ad_bits = (1ull << 5) | (1ull << 6) | (1ull << 8) | (1ull << 9) |
                             (1ull << 37) | (1ull << 38);
    for (int round = 0; round < 10000; round++) {
        if (round % 20 == 0)
            for (unsigned k = 0; k < FZ_PAGES * 512; k++)
                wr(FZ_BASE + 8ull * k, fz_entry(round % 40 == 0));
        memcpy(before, region, sizeof before);
        mmu_init(&m, &ph);
        static const uint64_t modes[][3] = {
            {CR0_PE | CR0_PG, CR4_PAE, EFER_LME | EFER_LMA | EFER_NXE},
            {CR0_PE | CR0_PG | CR0_WP, CR4_PAE | CR4_LA57, EFER_LME | EFER_LMA},
            {CR0_PE | CR0_PG, CR4_PAE, EFER_NXE},
            {CR0_PE | CR0_PG, CR4_PSE, 0},
            {CR0_PE, 0, 0},
        };
        unsigned mode = (unsigned)(rnd() % 5);
        m.cr0 = modes[mode][0];
        m.cr4 = modes[mode][1];
        m.efer = modes[mode][2];
        m.cr3 = (FZ_BASE + (rnd() % FZ_PAGES) * 4096) | (rnd() & 0xfe0);
        ctx = (struct ept_ctx){.phys = &ph,
                               .eptp = FZ_BASE + (rnd() % FZ_PAGES) * 4096 +
                                       (rnd() % 2 ? EPTP_WALK_5 : EPTP_WALK_4) +
                                       (rnd() % 2 ? EPTP_AD : 0),
                               .exec_only = rnd() % 2, .mbec = rnd() % 2};
        m.gpa_xlate = ept_gpa_xlate;
        m.gpa_opaque = &ctx;
        struct mmu_fault f;
        bool loaded = mode != 2 || !mmu_load_pdptes_fault(&m, &f);
        for (int k = 0; loaded && k < 8; k++) {
            uint64_t lin = rnd() % 2 ? rnd() : rnd() & 0x3fffffffull;
            if (mode >= 2)
                lin = (uint32_t)lin;
            else if (mode == 0)
                lin = (uint64_t)((int64_t)(lin << 16) >> 16);
            else
                lin = (uint64_t)((int64_t)(lin << 7) >> 7);
            uint64_t pa;
            int r = mmu_translate(&m, lin, (enum mmu_access_type)(rnd() % 3), rnd() % 2,
                                  rnd() % 2, &pa, &f);
            outcome[r ? (f.vector == 14 ? 1 : f.vector == MMU_FAULT_EPT_VIOLATION ? 2 : 3) : 0]++;
            if (r && f.vector == MMU_FAULT_EPT_VIOLATION) {
                /* only bits 0-11; 6 only with mode-based execute
                 * control; 8 only with 7; 9-11 only with 8; some access bit */
                uint32_t q = f.error_code;
                UNIT_CHECKF(!(q & ~0xfffu) && (q & 7) && (!(q & 0x100) || (q & 0x80)) &&
                                (!(q & 0xe00) || (q & 0x100)) && (!(q & 0x40) || ctx.mbec),
                            "round %d: qualification 0x%x", round, q);
            }
            UNIT_CHECKF(!r || f.vector == 14 || f.vector == MMU_FAULT_EPT_VIOLATION ||
                            f.vector == MMU_FAULT_EPT_MISCONFIG,
                        "round %d: vector %u", round, f.vector);
        }
        for (unsigned k = 0; k < sizeof before; k += 8) {
            uint64_t a, b;
            memcpy(&a, before + k, 8);
            memcpy(&b, region + k, 8);
            UNIT_CHECKF(!((a ^ b) & ~ad_bits) && !(a & ~b),
                        "round %d: 0x%llx changed 0x%llx -> 0x%llx", round,
                        (unsigned long long)(FZ_BASE + k), (unsigned long long)a,
                        (unsigned long long)b);
        }
    }
    printf("# fuzz: %u translated, %u #PF, %u EPT violations, %u EPT misconfigurations\n",
           outcome[0], outcome[1], outcome[2], outcome[3]);
    UNIT_CHECKF(outcome[0] && outcome[1] && outcome[2] && outcome[3], "an outcome never seen");
}

int main(void)
{
    if (phys_init(&ph, RAM)) {
        printf("FAIL setup: no guest RAM\n");
        return 1;
    }
    UNIT_RUN(permission_sweep);
    UNIT_RUN(sdm_qualifications);
    UNIT_RUN(reserved_bits);
    UNIT_RUN(leaf_memory_types);
    UNIT_RUN(ignored_bits);
    UNIT_RUN(table_outside_ram);
    UNIT_RUN(large_pages);
    UNIT_RUN(accessed_dirty);
    UNIT_RUN(nested_translation);
    UNIT_RUN(tlb_keeps_ept_restrictions);
    UNIT_RUN(final_access_violations);
    UNIT_RUN(guest_paging_structure_accesses);
    UNIT_RUN(paging_off_goes_through_ept);
    UNIT_RUN(pdpte_loads);
    UNIT_RUN(mbec_sweep);
    UNIT_RUN(mbec_qualifications);
    UNIT_RUN(mbec_tlb);
    UNIT_RUN(advanced_information);
    UNIT_RUN(five_level);
    UNIT_RUN(suppress_ve);
    UNIT_RUN(fuzz);
    return unit_done();
}
