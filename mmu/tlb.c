/* mmu/tlb.c — TLB maintenance, SDM Vol. 3A 4.10.4.
 *
 * Entries are only ever dropped here, on the events the SDM names, so a
 * guest that changes a PTE without INVLPG keeps using the stale
 * translation exactly as hardware may. */
#include "mmu/mmu.h"

#include <string.h>

void mmu_init(struct mmu *m, struct phys *phys)
{
    memset(m, 0, sizeof(*m)); /* every slot empty, none listed */
    m->phys = phys;
    mmu_new_epoch(m);
}

/* Whether the lists in mask 'lists' name every valid entry of their
 * classes */
static bool all_listed(const struct mmu *m, unsigned lists)
{
    return !(m->lists_over & lists);
}

#define ALL_LISTS ((1u << MMU_TLB_LISTS) - 1)

/* Whether the entry listed at list 'l', position 'k', is live and of that
 * list's class (else it is dropped, or listed in its own class's list) */
static struct mmu_tlb_entry *listed_entry(struct mmu *m, unsigned l, unsigned k)
{
    struct mmu_tlb_entry *e = &m->tlb[m->filled[l][k]];
    return e->perm && mmu_tlb_list_of(e->tag, e->global) == l ? e : NULL;
}

/* After a scan of every slot: the lists again name exactly the valid
 * entries, so the next visits can be short */
static void relist_all(struct mmu *m)
{
    uint8_t large = 0;
    memset(m->nfilled, 0, sizeof(m->nfilled));
    m->lists_used = m->lists_over = 0;
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
        const struct mmu_tlb_entry *e = &m->tlb[i];
        if (!e->perm)
            continue;
        mmu_tlb_note_fill(m, e);
        large |= (uint8_t)((1u << e->level) & ~1u);
    }
    m->large_levels = large;
}

/* Calls 'fn' on every slot that may be valid: the listed ones when the
 * lists are exact, else all of them (and then relists the survivors).
 * For the rare invalidations that look for entries by what they map
 * rather than by address. */
static void each_maybe_valid(struct mmu *m, void (*fn)(struct mmu_tlb_entry *, const void *),
                             const void *arg)
{
    if (all_listed(m, ALL_LISTS)) {
        for (unsigned l = 0; l < MMU_TLB_LISTS; l++)
            for (unsigned k = 0; k < m->nfilled[l]; k++) { /* 0 when unused */
                struct mmu_tlb_entry *e = listed_entry(m, l, k);
                if (e)
                    fn(e, arg);
            }
        return;
    }
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++)
        fn(&m->tlb[i], arg);
    relist_all(m);
}

enum flush_kind { FLUSH_ALL, FLUSH_NONGLOBAL, FLUSH_PCID, FLUSH_PCID_KEEP_GLOBAL };

/* always inline, as flush(): each caller's constant kind folds the
 * test, and the CR3 loads' flushes are frequent */
#define FLUSH_INLINE static inline __attribute__((always_inline))

FLUSH_INLINE bool drops(const struct mmu_tlb_entry *e, enum flush_kind kind, uint16_t pcid)
{
    switch (kind) {
    case FLUSH_ALL: return true;
    case FLUSH_NONGLOBAL: return !e->global;
    case FLUSH_PCID: return e->global || (e->tag & 0xfff) == pcid;
    default: return !e->global && (e->tag & 0xfff) == pcid;
    }
}

/* The lists whose classes hold every entry 'kind' may drop */
FLUSH_INLINE unsigned lists_of(enum flush_kind kind, uint16_t pcid)
{
    unsigned own = 1u << mmu_tlb_list_of(pcid, false), global = 1u << 8;
    switch (kind) {
    case FLUSH_ALL: return ALL_LISTS;
    case FLUSH_NONGLOBAL: return ALL_LISTS & ~global;
    case FLUSH_PCID: return own | global;
    default: return own;
    }
}

/* Invalidates the slots 'kind' selects.  Visits only the lists of the
 * classes it can drop when they are exact, and leaves them naming
 * exactly their live entries; else scans every slot and relists. */
FLUSH_INLINE void flush(struct mmu *m, enum flush_kind kind, uint16_t pcid)
{
    if (kind == FLUSH_NONGLOBAL || kind == FLUSH_PCID_KEEP_GLOBAL)
        mmu_new_space(m);
    else
        mmu_new_epoch(m);
    /* the spaces whose translations go can no longer be resumed (after
     * FLUSH_ALL and FLUSH_PCID no record holds: the global epoch moved) */
    if (kind == FLUSH_NONGLOBAL)
        memset(m->spaces, 0, sizeof(m->spaces));
    else if (kind == FLUSH_PCID_KEEP_GLOBAL)
        m->spaces[mmu_space_of(pcid)].epoch = 0;
    unsigned lists = lists_of(kind, pcid);
    if (!all_listed(m, lists)) {
        for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
            struct mmu_tlb_entry *e = &m->tlb[i];
            if (e->perm && drops(e, kind, pcid))
                e->perm = 0;
        }
        relist_all(m);
        return;
    }
    if (kind == FLUSH_ALL) { /* every listed entry goes: no class to check */
        for (unsigned todo = m->lists_used; todo; todo &= todo - 1) {
            unsigned l = (unsigned)__builtin_ctz(todo);
            for (unsigned k = 0; k < m->nfilled[l]; k++)
                m->tlb[m->filled[l][k]].perm = 0;
            m->nfilled[l] = 0;
        }
        m->lists_used = 0;
        m->large_levels = 0;
        return;
    }
    for (unsigned todo = lists & m->lists_used; todo; todo &= todo - 1) {
        unsigned l = (unsigned)__builtin_ctz(todo), kept = 0;
        for (unsigned k = 0; k < m->nfilled[l]; k++) {
            struct mmu_tlb_entry *e = listed_entry(m, l, k);
            if (!e)
                continue;
            if (drops(e, kind, pcid))
                e->perm = 0;
            else
                m->filled[l][kept++] = m->filled[l][k];
        }
        m->nfilled[l] = kept;
        if (!kept)
            m->lists_used &= (uint16_t)~(1u << l);
    }
    /* which large-page sizes are cached stays a superset */
}

void mmu_flush_all(struct mmu *m)
{
    flush(m, FLUSH_ALL, 0);
    m->saved[0].valid = m->saved[1].valid = false;
}

void mmu_tlb_drop_saved(struct mmu *m, int which)
{
    m->saved[which].valid = false;
}

void mmu_tlb_switch(struct mmu *m, int save, uint64_t save_key, int load, uint64_t load_key)
{
    struct mmu_tlb_saved *s = &m->saved[save];
    s->valid = false;
    if (all_listed(m, ALL_LISTS)) { /* the filled slots are known: keep them, if they fit */
        bool fits = true;
        s->n = 0;
        for (unsigned todo = m->lists_used; todo && fits; todo &= todo - 1) {
            unsigned l = (unsigned)__builtin_ctz(todo);
            for (unsigned k = 0; k < m->nfilled[l]; k++) {
                const struct mmu_tlb_entry *e = listed_entry(m, l, k);
                if (!e)
                    continue;
                fits = s->n < MMU_TLB_TRACK;
                if (!fits)
                    break;
                s->slot[s->n] = m->filled[l][k];
                s->e[s->n++] = (struct mmu_tlb_entry_saved){
                    e->tag, e->addend, e->pa_page, e->perm, e->level, e->global, e->ram,
                    (uint8_t)l};
            }
        }
        s->key = save_key;
        s->valid = fits;
    }
    flush(m, FLUSH_ALL, 0);
    struct mmu_tlb_saved *l = &m->saved[load];
    if (!l->valid || l->key != load_key)
        return;
    l->valid = false;
    unsigned bits = (m->cr4 & CR4_LA57) ? 57 : 48;
    for (unsigned k = 0; k < l->n; k++) {
        const struct mmu_tlb_entry_saved *x = &l->e[k];
        /* saved under another CR4.LA57 (the hypervisor changed the
         * guest's): an address no longer canonical must not hit (the
         * invariant above struct mmu) */
        if (((x->tag + (1ull << (bits - 1))) >> bits) != 0)
            continue;
        struct mmu_tlb_entry *e = &m->tlb[l->slot[k]];
        *e = (struct mmu_tlb_entry){x->tag, x->addend, x->pa_page, x->perm, x->global, x->ram,
                                    x->level};
        /* code decoded meanwhile: writes must come back to be seen */
        if (e->ram && m->phys->code_page[phys_ram_offset(m->phys, (const uint8_t *)(e->addend +
                                                                             (e->tag & ~0xfffull))) >> 12])
            e->perm &= (uint8_t)~(MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC);
        /* the lists are empty after the flush, and MMU_TLB_TRACK entries
         * fit any of them: listed as mmu_tlb_note_fill would, minus its
         * class computation and overflow checks (a VM entry or exit) */
        m->filled[x->list][m->nfilled[x->list]++] = l->slot[k];
        m->lists_used |= (uint16_t)(1u << x->list);
        m->large_levels |= (uint8_t)((1u << e->level) & ~1u);
    }
}

void mmu_switch_space(struct mmu *m, uint64_t cr3, bool noflush)
{
    const uint64_t cpl = m->epoch & (MMU_EPOCH_STEP - 1);
    m->spaces[mmu_space_of(m->pcid)] = (struct mmu_space){m->cr3, m->epoch - cpl, m->gepoch};
    m->cr3 = cr3;
    m->pcid = cr3 & 0xfff;
    const struct mmu_space *s = &m->spaces[mmu_space_of(m->pcid)];
    if (noflush && s->epoch && s->cr3 == cr3 && s->gepoch == m->gepoch) {
        m->epoch = s->epoch | cpl;
        m->stat_resumes++;
        return;
    }
    mmu_new_space(m);
}

void mmu_flush_pcid(struct mmu *m, uint16_t pcid, bool keep_global)
{
    flush(m, keep_global ? FLUSH_PCID_KEEP_GLOBAL : FLUSH_PCID, pcid);
}

void mmu_flush_nonglobal(struct mmu *m)
{
    flush(m, FLUSH_NONGLOBAL, 0);
}

static const unsigned level_shift[] = {12, 21, 30, 22}; /* 4K, 2M, 1G, 4M */

/* An INVLPG of 'lin': a piece of a large page containing it */
struct piece_match {
    uint64_t lin;
    bool any_pcid;
    uint16_t pcid;
};

static void drop_piece(struct mmu_tlb_entry *e, const void *arg)
{
    const struct piece_match *p = arg;
    if (!e->perm || !e->level)
        return;
    uint64_t mask = ~((1ull << level_shift[e->level]) - 1);
    if (((e->tag ^ p->lin) & mask) == 0 &&
        (p->any_pcid || e->global || (e->tag & 0xfff) == p->pcid))
        e->perm = 0;
}

/* A large page is cached as 4 KiB pieces, so invalidating one address
 * in it must drop every piece of that page.  The pieces of the page
 * around 'lin' can only sit in the slots its 4-KiB pages index, one run
 * of consecutive slots per cached page size: those runs are visited, or
 * the fill list when it is shorter. */
static void flush_page_matching(struct mmu *m, uint64_t lin, bool any_pcid, uint16_t pcid)
{
    mmu_new_epoch(m); /* the page may be global */
    uint64_t page = lin & ~0xfffull;
    struct mmu_tlb_entry *e = &m->tlb[(lin >> 12) & (MMU_TLB_SIZE - 1)];
    if ((e->tag & ~0xfffull) == page && (any_pcid || e->global || (e->tag & 0xfff) == pcid))
        e->perm = 0;
    if (!m->large_levels)
        return;
    const struct piece_match match = {lin, any_pcid, pcid};
    unsigned span = 0; /* slots the runs cover */
    for (unsigned lv = 1; lv < 4; lv++)
        if (m->large_levels & (1u << lv))
            span += 1u << (level_shift[lv] - 12);
    unsigned nlisted = 0;
    for (unsigned l = 0; l < MMU_TLB_LISTS; l++)
        nlisted += m->nfilled[l];
    if (all_listed(m, ALL_LISTS) && nlisted < span) {
        each_maybe_valid(m, drop_piece, &match);
        return;
    }
    if (span >= MMU_TLB_SIZE) {
        for (unsigned i = 0; i < MMU_TLB_SIZE; i++)
            drop_piece(&m->tlb[i], &match);
        return;
    }
    for (unsigned lv = 1; lv < 4; lv++) {
        if (!(m->large_levels & (1u << lv)))
            continue;
        unsigned pieces = 1u << (level_shift[lv] - 12);
        uint64_t first = (lin >> level_shift[lv]) << (level_shift[lv] - 12);
        for (unsigned k = 0; k < pieces; k++)
            drop_piece(&m->tlb[(first + k) & (MMU_TLB_SIZE - 1)], &match);
    }
}

void mmu_flush_page(struct mmu *m, uint64_t lin)
{
    flush_page_matching(m, lin, false, m->pcid);
}

void mmu_flush_page_pcid(struct mmu *m, uint64_t lin, uint16_t pcid)
{
    flush_page_matching(m, lin, false, pcid);
}

int mmu_load_pdptes_fault(struct mmu *m, struct mmu_fault *f)
{
    const uint64_t rsvd = MMU_PDPTE_RSVD;
    uint64_t base = m->cr3 & 0xffffffe0u;
    /* the four entries are one aligned 32-byte access: one translation */
    uint64_t hpa = base & phys_a20_mask(m->phys);
    if (m->gpa_xlate) {
        struct mmu_gpa_access a = {.gpa = base, .type = MMU_READ, .kind = MMU_GPA_PDPTE,
                                   .lin_valid = false, .commit = true};
        uint8_t allow;
        if (m->gpa_xlate(m->gpa_opaque, &a, &hpa, &allow, f))
            return -1;
    }
    uint64_t v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = phys_read(m->phys, hpa + 8 * i, 8);
        if ((v[i] & PTE_P) && (v[i] & rsvd)) {
            *f = (struct mmu_fault){.vector = 13};
            return -1;
        }
    }
    memcpy(m->pdpte, v, sizeof(v));
    return 0;
}

int mmu_load_pdptes(struct mmu *m)
{
    struct mmu_fault f;
    return mmu_load_pdptes_fault(m, &f);
}

static void drop_writes(struct mmu_tlb_entry *e, const void *host_page)
{
    if (e->perm && (const uint8_t *)(e->addend + (e->tag & ~0xfffull)) == host_page)
        e->perm &= (uint8_t)~(MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC);
}

void mmu_drop_writes_to(struct mmu *m, const uint8_t *host_page)
{
    each_maybe_valid(m, drop_writes, host_page);
}

static void drop_mapping_of(struct mmu_tlb_entry *e, const void *pa_page)
{
    if (e->perm && e->pa_page == *(const uint64_t *)pa_page)
        e->perm = 0;
}

void mmu_set_slow_page(struct mmu *m, uint64_t pa)
{
    m->slow_page_on = pa != MMU_NO_SLOW_PAGE;
    m->slow_page = pa & ~0xfffull;
    if (!m->slow_page_on)
        return;
    mmu_new_epoch(m);
    each_maybe_valid(m, drop_mapping_of, &m->slow_page);
}
