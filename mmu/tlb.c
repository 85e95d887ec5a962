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
    m->epoch++;
}

void mmu_tlb_note_fill(struct mmu *m, const struct mmu_tlb_entry *e)
{
    if (m->nfilled < MMU_TLB_TRACK)
        m->filled[m->nfilled] = (uint16_t)(e - m->tlb);
    if (m->nfilled <= MMU_TLB_TRACK)
        m->nfilled++;
}

enum flush_kind { FLUSH_ALL, FLUSH_NONGLOBAL, FLUSH_PCID, FLUSH_PCID_KEEP_GLOBAL };

static bool drops(const struct mmu_tlb_entry *e, enum flush_kind kind, uint16_t pcid)
{
    switch (kind) {
    case FLUSH_ALL: return true;
    case FLUSH_NONGLOBAL: return !e->global;
    case FLUSH_PCID: return e->global || (e->tag & 0xfff) == pcid;
    default: return !e->global && (e->tag & 0xfff) == pcid;
    }
}

/* Invalidates the slots 'kind' selects.  Visits only the slots filled
 * since the last flush when they are known, and leaves the list holding
 * exactly the slots still valid (or "unknown" when too many are). */
static void flush(struct mmu *m, enum flush_kind kind, uint16_t pcid)
{
    m->epoch++;
    unsigned kept = 0;
    bool large = false;
    if (m->nfilled <= MMU_TLB_TRACK) {
        for (unsigned k = 0; k < m->nfilled; k++) {
            struct mmu_tlb_entry *e = &m->tlb[m->filled[k]];
            if (!e->perm)
                continue; /* dropped already (and maybe listed twice) */
            if (drops(e, kind, pcid)) {
                e->perm = 0;
            } else {
                m->filled[kept++] = m->filled[k];
                large |= e->level != 0;
            }
        }
    } else {
        for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
            struct mmu_tlb_entry *e = &m->tlb[i];
            if (!e->perm)
                continue;
            if (drops(e, kind, pcid)) {
                e->perm = 0;
                continue;
            }
            if (kept < MMU_TLB_TRACK)
                m->filled[kept] = (uint16_t)i;
            if (kept <= MMU_TLB_TRACK)
                kept++;
            large |= e->level != 0;
        }
    }
    m->nfilled = kept;
    m->has_large = large;
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
    if (m->nfilled <= MMU_TLB_TRACK) { /* the filled slots are known: keep them */
        s->n = 0;
        for (unsigned k = 0; k < m->nfilled; k++) {
            const struct mmu_tlb_entry *e = &m->tlb[m->filled[k]];
            if (!e->perm)
                continue;
            s->slot[s->n] = m->filled[k];
            s->e[s->n++] = (struct mmu_tlb_entry_saved){e->tag, e->addend, e->pa_page, e->perm,
                                                         e->level, e->global, e->ram};
        }
        s->key = save_key;
        s->valid = true;
    }
    flush(m, FLUSH_ALL, 0);
    struct mmu_tlb_saved *l = &m->saved[load];
    if (!l->valid || l->key != load_key)
        return;
    l->valid = false;
    for (unsigned k = 0; k < l->n; k++) {
        struct mmu_tlb_entry *e = &m->tlb[l->slot[k]];
        const struct mmu_tlb_entry_saved *x = &l->e[k];
        *e = (struct mmu_tlb_entry){x->tag, x->addend, x->pa_page, x->perm, x->global, x->ram,
                                    x->level};
        /* code decoded meanwhile: writes must come back to be seen */
        if (e->ram && m->phys->code_page[phys_ram_offset(m->phys, (const uint8_t *)(e->addend +
                                                                             (e->tag & ~0xfffull))) >> 12])
            e->perm &= (uint8_t)~(MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC);
        mmu_tlb_note_fill(m, e);
        if (e->level)
            m->has_large = true;
    }
}

void mmu_flush_pcid(struct mmu *m, uint16_t pcid, bool keep_global)
{
    flush(m, keep_global ? FLUSH_PCID_KEEP_GLOBAL : FLUSH_PCID, pcid);
}

void mmu_flush_nonglobal(struct mmu *m)
{
    flush(m, FLUSH_NONGLOBAL, 0);
}

/* A large page is cached as 4 KiB pieces, so invalidating one address
 * in it must drop every piece of that page. */
static void flush_page_matching(struct mmu *m, uint64_t lin, bool any_pcid, uint16_t pcid)
{
    m->epoch++;
    static const unsigned shift[] = {12, 21, 30, 22};
    uint64_t page = lin & ~0xfffull;
    struct mmu_tlb_entry *e = &m->tlb[(lin >> 12) & (MMU_TLB_SIZE - 1)];
    if ((e->tag & ~0xfffull) == page && (any_pcid || e->global || (e->tag & 0xfff) == pcid))
        e->perm = 0;
    if (!m->has_large)
        return;
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
        e = &m->tlb[i];
        if (!e->perm || !e->level)
            continue;
        uint64_t mask = ~((1ull << shift[e->level]) - 1);
        if (((e->tag ^ lin) & mask) == 0 &&
            (any_pcid || e->global || (e->tag & 0xfff) == pcid))
            e->perm = 0;
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

void mmu_drop_writes_to(struct mmu *m, const uint8_t *host_page)
{
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
        struct mmu_tlb_entry *e = &m->tlb[i];
        if (e->perm && (const uint8_t *)(e->addend + (e->tag & ~0xfffull)) == host_page)
            e->perm &= (uint8_t)~(MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC);
    }
}

void mmu_set_slow_page(struct mmu *m, uint64_t pa)
{
    m->slow_page_on = pa != MMU_NO_SLOW_PAGE;
    m->slow_page = pa & ~0xfffull;
    if (!m->slow_page_on)
        return;
    m->epoch++;
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
        struct mmu_tlb_entry *e = &m->tlb[i];
        if (e->perm && e->pa_page == m->slow_page)
            e->perm = 0;
    }
}
