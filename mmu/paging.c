/* mmu/paging.c — the linear-address walker for 32-bit, PAE, 4-level and
 * 5-level paging (SDM Vol. 3A chapter 4), shared by the translating path
 * (which sets A/D bits and fills the TLB) and the debugger's explain
 * path (which changes nothing). */
#include "mmu/mmu.h"

#include <string.h>

#define ADDR_MASK   (((1ull << MMU_MAXPHYADDR) - 1) & ~0xfffull)
/* bits 51:MAXPHYADDR of 4/5-level entries (SDM 4.5, "Reserved") */
#define RSVD_HI_4L  (((1ull << 52) - 1) & ~((1ull << MMU_MAXPHYADDR) - 1))
/* bits 62:MAXPHYADDR of PAE entries (SDM 4.4.2) */
#define RSVD_HI_PAE ((PTE_XD - 1) & ~((1ull << MMU_MAXPHYADDR) - 1))

struct walk {
    bool commit;                 /* set A/D bits (translate) or not (explain) */
    struct mmu_walk_explain *ex; /* may be NULL */
    uint64_t lin;                /* the linear address being translated */
    uint64_t entry_gpa[5];
    uint64_t entry_hpa[5];
    uint64_t entry_val[5];
    unsigned entry_size[5];
    int n;
};

static void record(struct walk *w, const char *name, uint64_t gpa, uint64_t val, bool leaf)
{
    if (!w->ex || w->ex->nsteps >= 5)
        return;
    struct mmu_walk_step *s = &w->ex->step[w->ex->nsteps++];
    s->name = name;
    s->entry_pa = gpa;
    s->value = val;
    s->leaf = leaf;
}

/* One guest-physical access of this walk through the EPT hook. */
static int gpa_access(struct mmu *m, const struct walk *w, uint64_t gpa, enum mmu_gpa_kind kind,
                      enum mmu_access_type type, uint64_t *hpa, uint8_t *allow,
                      struct mmu_fault *f)
{
    struct mmu_gpa_access a = {.gpa = gpa, .lin = w->lin, .type = type, .kind = kind,
                               .lin_valid = true, .commit = w->commit, .lin_rw = true};
    return m->gpa_xlate(m->gpa_opaque, &a, hpa, allow, f);
}

/* The final access under EPT, told what guest paging made of the
 * linear address (user-mode, read/write, execute-disable) */
static int gpa_final(struct mmu *m, const struct walk *w, uint64_t gpa, enum mmu_access_type type,
                     bool us, bool rw, bool nx, uint64_t *hpa, uint8_t *allow,
                     struct mmu_fault *f)
{
    struct mmu_gpa_access a = {.gpa = gpa, .lin = w->lin, .type = type, .kind = MMU_GPA_FINAL,
                               .lin_valid = true, .commit = w->commit,
                               .lin_user = us, .lin_rw = rw, .lin_xd = nx};
    return m->gpa_xlate(m->gpa_opaque, &a, hpa, allow, f);
}

/* The TLB permission bits (enum mmu_access_bit) the EPT hook's
 * MMU_ALLOW_* leave to a cached translation. */
static uint8_t allow_perm(uint8_t allow)
{
    uint8_t p = 0;
    if (allow & MMU_ALLOW_R)
        p |= MMU_R_USER | MMU_R_SUP | MMU_R_SUPAC;
    if (allow & MMU_ALLOW_W)
        p |= MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC;
    if (allow & MMU_ALLOW_X)
        p |= MMU_X_USER | MMU_X_SUP;
    return p;
}

/* Reads one paging-structure entry at guest-physical 'gpa'. */
static int read_entry(struct mmu *m, struct walk *w, uint64_t gpa, unsigned size,
                      uint64_t *val, struct mmu_fault *f)
{
    uint64_t hpa = gpa & phys_a20_mask(m->phys);
    uint8_t allow;
    if (m->gpa_xlate && gpa_access(m, w, gpa, MMU_GPA_WALK, MMU_READ, &hpa, &allow, f))
        return -1;
    *val = phys_read(m->phys, hpa, size);
    w->entry_gpa[w->n] = gpa;
    w->entry_hpa[w->n] = hpa;
    w->entry_val[w->n] = *val;
    w->entry_size[w->n] = size;
    w->n++;
    return 0;
}

static uint32_t base_error(enum mmu_access_type type, bool user, const struct mmu *m)
{
    uint32_t ec = 0;
    if (type == MMU_WRITE)
        ec |= PFEC_W;
    if (user)
        ec |= PFEC_U;
    /* I/D is reported only when NX or SMEP could have caused it (SDM 4.7) */
    if (type == MMU_FETCH && (((m->efer & EFER_NXE) && (m->cr4 & CR4_PAE)) ||
                              (m->cr4 & CR4_SMEP)))
        ec |= PFEC_I;
    return ec;
}

/* Permission bits for a translation (see enum mmu_access_bit); *pk_denied
 * gets the accesses the protection key alone forbids, whatever the
 * ordinary rights say, because the #PF error code's PK bit reports the
 * key's verdict even when U/S or R/W would have faulted anyway (SDM
 * Vol. 3A 4.7). */
static uint8_t compute_perm(const struct mmu *m, bool rw, bool us, bool nx, int pkey,
                            uint8_t *pk_denied)
{
    bool wp = m->cr0 & CR0_WP;
    bool smap = m->cr4 & CR4_SMAP, smep = m->cr4 & CR4_SMEP;
    bool w_sup = rw || !wp;
    uint8_t p;
    if (us) {
        p = MMU_R_USER | (rw ? MMU_W_USER : 0) | (nx ? 0 : MMU_X_USER);
        p |= MMU_R_SUPAC | (smap ? 0 : MMU_R_SUP);
        if (w_sup)
            p |= MMU_W_SUPAC | (smap ? 0 : MMU_W_SUP);
        if (!nx && !smep)
            p |= MMU_X_SUP;
    } else {
        p = MMU_R_SUP | MMU_R_SUPAC | (w_sup ? MMU_W_SUP | MMU_W_SUPAC : 0) |
            (nx ? 0 : MMU_X_SUP);
    }
    uint8_t deny = 0;
    if (pkey >= 0) { /* SDM 4.6.2: PKRU applies to data accesses to user pages */
        uint32_t ad = (m->pkru >> (2 * pkey)) & 1, wd = (m->pkru >> (2 * pkey + 1)) & 1;
        if (ad)
            deny |= MMU_R_USER | MMU_W_USER | MMU_R_SUP | MMU_R_SUPAC | MMU_W_SUP | MMU_W_SUPAC;
        if (wd)
            deny |= MMU_W_USER | (wp ? MMU_W_SUP | MMU_W_SUPAC : 0);
    }
    *pk_denied = deny;
    return p & (uint8_t)~deny;
}

struct xlate {
    uint64_t pa;
    uint8_t perm;
    bool global;
    uint8_t level;
};

static int fault_np(struct mmu_fault *f, uint64_t lin, uint32_t ec)
{
    f->vector = 14;
    f->error_code = ec;
    f->address = lin;
    return -1;
}

static int do_walk(struct mmu *m, uint64_t lin, enum mmu_access_type type, bool user, bool ac,
                   struct walk *w, struct xlate *x, struct mmu_fault *f)
{
    uint32_t ec = base_error(type, user, m);
    bool nxe = (m->efer & EFER_NXE) != 0;
    bool rw = true, us = true, nx = false;
    int pkey = -1;
    uint64_t e = 0, pa;
    uint8_t level = 0;
    bool global = false;

    if (!(m->cr0 & CR0_PG)) {
        /* the linear address is the guest-physical one, which still
         * goes through EPT (an unrestricted guest); it counts as a
         * user-mode address of a read/write, executable page (SDM
         * Vol. 3C Table 27-7, bits 9-11) */
        x->pa = lin & phys_a20_mask(m->phys);
        x->perm = 0xff;
        uint8_t allow;
        if (m->gpa_xlate) {
            if (gpa_final(m, w, x->pa, type, true, true, false, &x->pa, &allow, f))
                return -1;
            x->perm = allow_perm(allow);
        }
        x->global = false;
        x->level = 0;
        if (w->ex) {
            w->ex->ok = true;
            w->ex->pa = x->pa;
        }
        return 0;
    }

    if (!(m->cr4 & CR4_PAE)) {
        /* 32-bit paging, SDM 4.3 */
        uint32_t l = (uint32_t)lin;
        uint64_t gpa = (m->cr3 & 0xfffff000u) | ((l >> 22) << 2);
        if (read_entry(m, w, gpa, 4, &e, f))
            return -1;
        bool large = (e & PTE_PS) && (m->cr4 & CR4_PSE);
        record(w, "PDE", gpa, e, large);
        if (!(e & PTE_P))
            return fault_np(f, lin, ec);
        rw &= !!(e & PTE_RW);
        us &= !!(e & PTE_US);
        if (large) {
            /* PSE-36: PDE bits 20:13 are physical bits 39:32; bit 21 reserved */
            if (e & (1u << 21))
                return fault_np(f, lin, ec | PFEC_P | PFEC_RSVD);
            pa = (e & 0xffc00000u) | (((e >> 13) & 0xff) << 32) | (l & 0x3fffff);
            level = 3;
        } else {
            gpa = (e & 0xfffff000u) | (((l >> 12) & 0x3ff) << 2);
            if (read_entry(m, w, gpa, 4, &e, f))
                return -1;
            record(w, "PTE", gpa, e, true);
            if (!(e & PTE_P))
                return fault_np(f, lin, ec);
            rw &= !!(e & PTE_RW);
            us &= !!(e & PTE_US);
            pa = (e & 0xfffff000u) | (l & 0xfff);
        }
        global = (e & PTE_G) && (m->cr4 & CR4_PGE);
    } else {
        static const char *const names[] = {"PTE", "PDE", "PDPTE", "PML4E", "PML5E"};
        int top;
        uint64_t table;
        uint64_t rsvd_hi;
        bool lma = (m->efer & EFER_LMA) != 0;
        if (lma) {
            top = (m->cr4 & CR4_LA57) ? 4 : 3;
            table = m->cr3 & ADDR_MASK;
            rsvd_hi = RSVD_HI_4L;
        } else {
            /* PAE: the PDPTE comes from the registers loaded at MOV CR3 (SDM 4.4.1) */
            uint64_t pdpte = m->pdpte[(lin >> 30) & 3];
            record(w, "PDPTE", (m->cr3 & 0xffffffe0u) + ((lin >> 30) & 3) * 8, pdpte, false);
            if (!(pdpte & PTE_P))
                return fault_np(f, lin, ec);
            top = 1;
            table = pdpte & ADDR_MASK;
            rsvd_hi = RSVD_HI_PAE;
        }
        if (!nxe)
            rsvd_hi |= PTE_XD;
        for (int lv = top; lv >= 0; lv--) {
            int shift = 12 + 9 * lv;
            uint64_t gpa = table | (((lin >> shift) & 0x1ff) << 3);
            if (read_entry(m, w, gpa, 8, &e, f))
                return -1;
            bool leaf = lv == 0 || (e & PTE_PS);
            record(w, names[lv], gpa, e, leaf);
            if (!(e & PTE_P))
                return fault_np(f, lin, ec);
            uint64_t rsvd = rsvd_hi;
            if (lv >= 3 || (lv == 2 && !lma))
                rsvd |= PTE_PS;       /* no large pages at PML4E/PML5E */
            if (leaf && lv > 0)       /* large page: bits (shift-1):13 */
                rsvd |= ((1ull << shift) - 1) & ~0x1fffull;
            if (e & rsvd)
                return fault_np(f, lin, ec | PFEC_P | PFEC_RSVD);
            rw &= !!(e & PTE_RW);
            us &= !!(e & PTE_US);
            if (nxe && (e & PTE_XD))
                nx = true;
            if (leaf) {
                uint64_t off = (1ull << shift) - 1;
                pa = (e & ADDR_MASK & ~off) | (lin & off);
                level = (uint8_t)lv;
                global = (e & PTE_G) && (m->cr4 & CR4_PGE);
                if (lma && (m->cr4 & CR4_PKE) && us)
                    pkey = (int)((e >> 59) & 0xf);
                break;
            }
            table = e & ADDR_MASK;
        }
    }

    uint8_t pk_denied;
    uint8_t perm = compute_perm(m, rw, us, nx, pkey, &pk_denied);
    uint8_t need = mmu_need_bit(type, user, ac);
    if (!(perm & need)) {
        ec |= PFEC_P;
        if (pk_denied & need)
            ec |= PFEC_PK;
        return fault_np(f, lin, ec);
    }

    /* SDM 4.8: A in every entry used, D in the leaf on a write.  Only
     * after the access is known to be allowed.  Under EPT each update is
     * a write to the entry's guest-physical address (SDM Vol. 3C
     * 28.2.3.2), which a read-only EPT mapping of the table refuses. */
    if (w->commit) {
        for (int i = 0; i < w->n; i++) {
            uint64_t v = w->entry_val[i];
            uint64_t nv = v | PTE_A;
            if (i == w->n - 1 && type == MMU_WRITE)
                nv |= PTE_D;
            if (nv != v) {
                uint64_t hpa = w->entry_hpa[i];
                uint8_t allow;
                if (m->gpa_xlate && gpa_access(m, w, w->entry_gpa[i], MMU_GPA_AD, MMU_WRITE,
                                               &hpa, &allow, f))
                    return -1;
                phys_write(m->phys, hpa, nv, w->entry_size[i]);
            }
            w->entry_val[i] = nv;
        }
    }
    /* A leaf that is not yet dirty must not allow fast-path writes:
     * the first write has to come back here to set D. */
    if (!(w->entry_val[w->n - 1] & PTE_D) || !w->commit)
        perm &= (uint8_t)~(MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC);

    pa &= phys_a20_mask(m->phys);
    if (m->gpa_xlate) {
        /* the TLB fast path must never allow what EPT would refuse */
        uint8_t allow;
        if (gpa_final(m, w, pa, type, us, rw, nx, &pa, &allow, f))
            return -1;
        perm &= allow_perm(allow);
    }
    x->pa = pa;
    x->perm = perm;
    x->global = global;
    x->level = level;
    if (w->ex) {
        w->ex->ok = true;
        w->ex->pa = pa;
    }
    return 0;
}

int mmu_translate(struct mmu *m, uint64_t lin, enum mmu_access_type type, bool user, bool ac,
                  uint64_t *pa, struct mmu_fault *fault)
{
    uint64_t page = lin & ~0xfffull;
    struct mmu_tlb_entry *e = &m->tlb[(lin >> 12) & (MMU_TLB_SIZE - 1)];
    /* A global translation applies whatever the current PCID (SDM
     * 4.10.2.4), but the entry is tagged with the PCID it was filled
     * under, so the fast path misses it after a switch: retag it rather
     * than walk again (Linux's kernel pages, after every process
     * switch).  The access must be one the entry allows; a write that
     * needs the D bit set, or to a page with cached code, still walks. */
    if (e->global && e->ram && (e->tag & ~0xfffull) == page &&
        (e->perm & mmu_need_bit(type, user, ac))) {
        e->tag = page | m->pcid; /* the global list keeps it: its class is unchanged */
        *pa = e->pa_page | (lin & 0xfff);
        return 0;
    }
    struct walk w = {.commit = true, .lin = lin};
    struct xlate x;
    m->stat_walks++;
    if (do_walk(m, lin, type, user, ac, &w, &x, fault))
        return -1;
    *pa = x.pa;

    uint8_t *host = phys_ram_ptr(m->phys, x.pa & ~0xfffull);
    if (!host || mmu_is_slow_page(m, x.pa)) { /* MMIO, open bus and the slow page */
        e->perm = 0;
        return 0;
    }
    /* a slot listed for its old entry's class stays listed for a new
     * entry of the same class */
    bool noted = e->perm && mmu_tlb_list_of(e->tag, e->global) ==
                                mmu_tlb_list_of(page | m->pcid, x.global);
    e->tag = page | m->pcid;
    e->addend = (uintptr_t)host - (uintptr_t)page;
    e->pa_page = x.pa & ~0xfffull;
    e->perm = x.perm;
    if (m->phys->code_page[phys_ram_offset(m->phys, host) >> 12])
        e->perm &= (uint8_t)~(MMU_W_USER | MMU_W_SUP | MMU_W_SUPAC);
    e->global = x.global;
    e->ram = true;
    e->level = x.level;
    if (!noted)
        mmu_tlb_note_fill(m, e);
    m->large_levels |= (uint8_t)((1u << x.level) & ~1u);
    return 0;
}

void mmu_walk_explain(struct mmu *m, uint64_t lin, enum mmu_access_type type, bool user,
                      struct mmu_walk_explain *out)
{
    memset(out, 0, sizeof(*out));
    struct walk w = {.commit = false, .ex = out, .lin = lin};
    struct xlate x;
    if (do_walk(m, lin, type, user, false, &w, &x, &out->fault))
        out->ok = false;
}
