/* debugger/invcheck.c — `check invept on|off`: the missing-invalidation
 * detector.
 *
 * With a VPID, the translations a guest filled the TLB with survive its
 * VM exit and come back at its next VM entry (SDM Vol. 3C 28.3.3.3;
 * mmu_tlb_switch).  A hypervisor that reduces the permissions of an EPT
 * entry, or points it elsewhere, must then invalidate with INVEPT before
 * it runs the guest again (28.3.3.4); if it does not, the guest may go
 * on using the old mapping — on nest86 as on hardware.
 *
 * The detector, at each VM exit, walks every guest translation kept for
 * the guest through the guest's page tables and the EPT (no side
 * effects) and remembers the EPT entries each one was built from; it
 * notes root-mode writes to those entries (the writer's RIP and stack);
 * at the next VM entry it looks at the translations that did come back
 * (INVEPT drops them) and reports the first one whose EPT entries now
 * say less than they did: permissions gone, another address, another
 * page size.  A correct hypervisor's INVEPT leaves nothing to report,
 * and changes that only add permissions or clear accessed/dirty flags
 * need no invalidation.
 *
 * The guest's own paging-structure entries behind those translations
 * are checked the same way (a missing INVVPID), but only those the
 * hypervisor wrote: a guest changing its own tables invalidates with
 * INVLPG when it is ready, maybe after a VM exit or two. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"
#include "mmu/ept.h"
#include "vmx/vmx.h"

#define ENTRY_IA32E_GUEST (1ull << 9) /* VM-entry control "IA-32e mode guest" */

/* one kept translation and the entries it came from */
struct inv_rec {
    uint64_t tag, pa_page, gpa;
    int n; /* EPT entries, PML4E first (none without EPT) */
    uint64_t epa[4], ev[4];
    int ng; /* the guest's paging-structure entries, top level first */
    uint64_t gpa_e[5], gv[5]; /* their host-physical addresses and values */
    const char *gname[5];
};

/* the last root-mode write to one of those entries */
struct inv_write {
    uint64_t pa, rip;
    char stack[1024];
};

#define INV_WRITES 16

struct invcheck {
    struct mmu walker;  /* the guest's paging registers, for side-effect-free walks */
    struct ept_ctx ept;
    uint64_t final_gpa; /* the guest-physical address the last walk ended at */
    uint64_t eptp;
    unsigned n;
    struct inv_rec rec[MMU_TLB_TRACK];
    unsigned npas;
    uint64_t pas[9 * MMU_TLB_TRACK]; /* the recs' entry addresses, sorted */
    unsigned entry_size;              /* of the guest's paging entries: 4 or 8 */
    unsigned nw;
    struct inv_write w[INV_WRITES];
    uint64_t reports;
};

/* the walker's EPT hook: the EPT walk, noting where the walk ended */
static int xlate_noting(void *opaque, const struct mmu_gpa_access *a, uint64_t *hpa,
                        uint8_t *allow, struct mmu_fault *fault)
{
    struct invcheck *s = opaque;
    if (a->kind == MMU_GPA_FINAL)
        s->final_gpa = a->gpa;
    return ept_gpa_xlate(&s->ept, a, hpa, allow, fault);
}

/* guest-physical to host-physical through the EPT, no side effects */
static bool gpa_to_host(struct debugger *d, struct invcheck *s, uint64_t gpa, struct ept_result *r)
{
    struct mmu_gpa_access a = {.gpa = gpa, .type = MMU_READ, .kind = MMU_GPA_FINAL,
                               .commit = false};
    return ept_translate(&d->m->phys, s->eptp, EPT_HAS_EXEC_ONLY, &a, r) == EPT_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Builds the records of the guest translations the exit kept. */
static void record(struct debugger *d, struct invcheck *s)
{
    struct cpu *c = d->c;
    const uint64_t *f = c->vmx.vmcs.f;
    const struct mmu_tlb_saved *kept = &c->mmu.saved[1];
    s->n = s->npas = s->nw = 0;
    if (!kept->valid || kept->key != c->vmx.tlb_key || !c->vmx.tlb_key)
        return; /* no VPID: the entry starts afresh */
    bool ept = (c->vmx.tlb_key & ((1ull << 48) - 1)) != 0;
    s->eptp = f[VF_EPT_POINTER];
    s->ept = (struct ept_ctx){.phys = &d->m->phys, .eptp = s->eptp,
                              .exec_only = EPT_HAS_EXEC_ONLY};
    struct mmu *w = &s->walker;
    w->cr0 = f[VF_GUEST_CR0];
    w->cr3 = f[VF_GUEST_CR3];
    /* only the addresses matter: no protection-key or SMAP/SMEP faults */
    w->cr4 = f[VF_GUEST_CR4] & ~(CR4_SMAP | CR4_SMEP | CR4_PKE);
    w->efer = f[VF_GUEST_IA32_EFER];
    if (f[VF_ENTRY_CONTROLS] & ENTRY_IA32E_GUEST)
        w->efer |= EFER_LMA | EFER_LME;
    else
        w->efer &= ~(EFER_LMA | EFER_LME);
    w->pdpte[0] = f[VF_GUEST_PDPTE0];
    w->pdpte[1] = f[VF_GUEST_PDPTE1];
    w->pdpte[2] = f[VF_GUEST_PDPTE2];
    w->pdpte[3] = f[VF_GUEST_PDPTE3];
    w->gpa_xlate = ept ? xlate_noting : NULL;
    w->gpa_opaque = s;
    s->entry_size = (w->cr4 & CR4_PAE) ? 8 : 4;
    for (unsigned k = 0; k < kept->n; k++) {
        const struct mmu_tlb_entry_saved *e = &kept->e[k];
        struct mmu_walk_explain ex;
        s->final_gpa = ~0ull;
        mmu_walk_explain(w, e->tag & ~0xfffull, MMU_READ, false, &ex);
        if (!ept)
            s->final_gpa = ex.pa;
        if (!ex.ok || s->final_gpa == ~0ull || (ex.pa & ~0xfffull) != e->pa_page)
            continue; /* already not what the walk gives (the guest's own change) */
        struct inv_rec *x = &s->rec[s->n];
        *x = (struct inv_rec){.tag = e->tag, .pa_page = e->pa_page, .gpa = s->final_gpa};
        struct ept_result r;
        if (ept && !gpa_to_host(d, s, s->final_gpa, &r))
            continue;
        if (ept) {
            x->n = r.n;
            memcpy(x->epa, r.entry_pa, sizeof(x->epa));
            memcpy(x->ev, r.entry, sizeof(x->ev));
        }
        for (int i = 0; i < ex.nsteps && i < 5; i++) {
            uint64_t hpa = ex.step[i].entry_pa;
            if (ept && !gpa_to_host(d, s, hpa, &r))
                break;
            x->gpa_e[x->ng] = ept ? r.hpa : hpa;
            x->gv[x->ng] = ex.step[i].value;
            x->gname[x->ng++] = ex.step[i].name;
        }
        for (int i = 0; i < x->n; i++)
            s->pas[s->npas++] = x->epa[i];
        for (int i = 0; i < x->ng; i++)
            s->pas[s->npas++] = x->gpa_e[i];
        s->n++;
    }
    qsort(s->pas, s->npas, sizeof(s->pas[0]), cmp_u64);
    unsigned u = 0;
    for (unsigned k = 0; k < s->npas; k++)
        if (!u || s->pas[u - 1] != s->pas[k])
            s->pas[u++] = s->pas[k];
    s->npas = u;
}

void invcheck_write(struct debugger *d, uint64_t pa, unsigned size)
{
    struct invcheck *s = d->inv;
    /* the first entry address that could overlap [pa, pa + size) */
    unsigned lo = 0, hi = s->npas;
    uint64_t from = pa >= 7 ? pa - 7 : 0;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (s->pas[mid] < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == s->npas || s->pas[lo] >= pa + size)
        return;
    uint64_t entry = s->pas[lo];
    unsigned k = 0;
    while (k < s->nw && s->w[k].pa != entry)
        k++;
    if (k == INV_WRITES)
        return;
    if (k == s->nw)
        s->nw++;
    s->w[k].pa = entry;
    s->w[k].rip = d->c->insn_rip;
    dbg_stack_text(d, "    ", s->w[k].stack, sizeof(s->w[k].stack));
}

/* What an EPT entry lost from 'old' to 'now' that a cached translation
 * may still grant: NULL when nothing (SDM 28.3.3.4: only changes that
 * take something away need INVEPT). */
static const char *lost(uint64_t old, uint64_t now, int level)
{
    if (!(old & EPT_RWX))
        return NULL;
    if (!(now & EPT_RWX))
        return "made not present";
    if (old & EPT_RWX & ~now)
        return "lost permissions";
    if ((old ^ now) & EPTP_ADDR_MASK)
        return "points elsewhere";
    if ((level == 1 || level == 2) && ((old ^ now) & EPT_PS))
        return "changed page size";
    return NULL;
}

/* The same for a guest paging-structure entry of 'size' bytes (SDM Vol.
 * 3A 4.10.4.3: a translation may outlive the change until INVLPG, or
 * INVVPID from the hypervisor). */
static const char *guest_lost(uint64_t old, uint64_t now, unsigned size, bool last)
{
    uint64_t addr = size == 8 ? 0x000ffffffffff000ull : 0xfffff000ull;
    if (!(old & PTE_P))
        return NULL;
    if (!(now & PTE_P))
        return "made not present";
    if ((old & PTE_RW) && !(now & PTE_RW))
        return "lost write permission";
    if ((old & PTE_US) && !(now & PTE_US))
        return "lost user access";
    if (size == 8 && !(old & PTE_XD) && (now & PTE_XD))
        return "lost execute permission";
    if ((old ^ now) & addr)
        return "points elsewhere";
    if (!last && ((old ^ now) & PTE_PS))
        return "changed page size";
    return NULL;
}

static const char *guest_entry_text(uint64_t e, char *buf, size_t len)
{
    snprintf(buf, len, "0x%016" PRIx64 "  %s %s %s%s%s -> p:0x%" PRIx64, e, (e & PTE_P) ? "P" : "-",
             (e & PTE_RW) ? "RW" : "R-", (e & PTE_US) ? "US" : "S-", (e & PTE_PS) ? " PS" : "",
             (e & PTE_XD) ? " XD" : "", (uint64_t)(e & 0x000ffffffffff000ull));
    return buf;
}

/* a cached translation found stale: which entry, and its value now */
struct stale {
    const struct inv_rec *x;
    bool guest; /* a guest paging-structure entry, else an EPT entry */
    int i;
    uint64_t now;
};

static void report(struct debugger *d, struct invcheck *s, const struct stale *st, unsigned more)
{
    struct cpu *c = d->c;
    const struct inv_rec *x = st->x;
    int level = 3 - st->i;
    uint64_t pa = st->guest ? x->gpa_e[st->i] : x->epa[st->i];
    const struct inv_write *w = NULL;
    for (unsigned k = 0; k < s->nw; k++)
        if (s->w[k].pa == pa)
            w = &s->w[k];
    s->reports++;
    char t1[200], t2[200], sym[160];
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf)
        return;
    buf[0] = 0;
    dbg_append(buf, cap, &n, "  cached translation: linear 0x%" PRIx64 " -> guest-physical 0x%" PRIx64
               " -> p:0x%" PRIx64 " (VPID %u)\n",
               x->tag & ~(uint64_t)0xfff, x->gpa & ~(uint64_t)0xfff, x->pa_page,
               (unsigned)(c->vmx.tlb_key >> 48));
    if (st->guest) {
        dbg_append(buf, cap, &n, "  guest %s at p:0x%" PRIx64 " %s since the VM exit, with no "
                   "INVVPID:\n", x->gname[st->i], pa,
                   guest_lost(x->gv[st->i], st->now, s->entry_size, st->i == x->ng - 1));
        dbg_append(buf, cap, &n, "    old %s\n", guest_entry_text(x->gv[st->i], t1, sizeof(t1)));
        dbg_append(buf, cap, &n, "    new %s\n", guest_entry_text(st->now, t2, sizeof(t2)));
    } else {
        dbg_append(buf, cap, &n, "  EPT %s at p:0x%" PRIx64 " (EPTP 0x%" PRIx64 ") %s since the VM "
                   "exit, with no INVEPT:\n",
                   dbg_ept_level_name(level), pa, s->eptp, lost(x->ev[st->i], st->now, level));
        dbg_append(buf, cap, &n, "    old %s\n", dbg_ept_entry_text(x->ev[st->i], level, t1, sizeof(t1)));
        dbg_append(buf, cap, &n, "    new %s\n", dbg_ept_entry_text(st->now, level, t2, sizeof(t2)));
    }
    if (w)
        dbg_append(buf, cap, &n, "  written by 0x%016" PRIx64 "%s\n  stack:\n%s", w->rip,
                   dbg_sym(d, w->rip, sym, sizeof(sym)), w->stack);
    else
        dbg_append(buf, cap, &n, "  written by no root-mode instruction the debugger saw\n");
    if (more)
        dbg_append(buf, cap, &n, "  (and %u more stale translation%s)\n", more,
                   more == 1 ? "" : "s");
    free(d->stop_detail);
    d->stop_detail = buf;
    dbg_request_stop(d, 5, "missing %s: VM entry %" PRIu64 " (guest rip 0x%" PRIx64
                           ") runs with a stale cached translation (SDM Vol. 3C 28.3.3)",
                     st->guest ? "INVVPID" : "INVEPT", c->vmx.entries, c->vmx.vmcs.f[VF_GUEST_RIP]);
}

static bool written_by_root(const struct invcheck *s, uint64_t pa)
{
    for (unsigned k = 0; k < s->nw; k++)
        if (s->w[k].pa == pa)
            return true;
    return false;
}

/* The first entry behind x that lost something since the exit. */
static bool find_stale(struct debugger *d, const struct invcheck *s, const struct inv_rec *x,
                       struct stale *st)
{
    for (int i = 0; i < x->n; i++) {
        uint64_t now = 0;
        dbg_read_phys(d, x->epa[i], &now, 8);
        if (lost(x->ev[i], now, 3 - i)) {
            *st = (struct stale){x, false, i, now};
            return true;
        }
    }
    /* the guest's own entries: only the hypervisor's writes count, the
     * guest invalidates its own changes itself (INVLPG) */
    for (int i = 0; i < x->ng; i++) {
        uint64_t now = 0;
        dbg_read_phys(d, x->gpa_e[i], &now, s->entry_size);
        if (guest_lost(x->gv[i], now, s->entry_size, i == x->ng - 1) &&
            written_by_root(s, x->gpa_e[i])) {
            *st = (struct stale){x, true, i, now};
            return true;
        }
    }
    return false;
}

/* At VM entry: the translations that came back, against the tables now. */
static void check(struct debugger *d, struct invcheck *s)
{
    const struct mmu *m = &d->c->mmu;
    struct stale first = {0}, st;
    unsigned stale = 0;
    for (unsigned k = 0; k < s->n; k++) {
        const struct inv_rec *x = &s->rec[k];
        const struct mmu_tlb_entry *e = &m->tlb[(x->tag >> 12) & (MMU_TLB_SIZE - 1)];
        if (!e->perm || e->tag != x->tag || e->pa_page != x->pa_page)
            continue; /* not cached now: the next use walks the tables afresh */
        if (find_stale(d, s, x, &st) && !stale++)
            first = st;
    }
    if (stale)
        report(d, s, &first, stale - 1);
    s->n = s->npas = s->nw = 0;
}

void invcheck_vmx(struct debugger *d, bool is_exit, uint32_t reason)
{
    if (!is_exit)
        check(d, d->inv);
    else if (!(reason & VMX_EXIT_REASON_ENTRY_FAIL))
        record(d, d->inv);
}

void invcheck_free(struct debugger *d)
{
    free(d->inv);
    d->inv = NULL;
}

/* check [invept [on|off]] */
DBG_HANDLER(cmd_check)
{
    (void)rest;
    bool invept = argc >= 2 && !strcmp(argv[1], "invept");
    if (invept && argc == 3 && !strcmp(argv[2], "on")) {
        if (!d->inv) {
            d->inv = calloc(1, sizeof(*d->inv));
            if (!d->inv) {
                dbg_printf(d, "out of memory\n");
                return CMD_STAY;
            }
            mmu_init(&d->inv->walker, &d->m->phys);
        }
        dbg_printf(d, "missing-invalidation detector on: a VM entry that runs with a cached "
                      "translation an EPT change (or the hypervisor's change of a guest "
                      "page-table entry) made stale stops\n");
    } else if (invept && argc == 3 && !strcmp(argv[2], "off")) {
        invcheck_free(d);
        dbg_printf(d, "missing-invalidation detector off\n");
    } else if (argc == 1 || (invept && argc == 2)) {
        if (d->inv)
            dbg_printf(d, "invept: on, %" PRIu64 " report%s, %u kept translation%s watched\n",
                       d->inv->reports, d->inv->reports == 1 ? "" : "s", d->inv->n,
                       d->inv->n == 1 ? "" : "s");
        else
            dbg_printf(d, "invept: off\n");
    } else {
        dbg_printf(d, "usage: check [invept [on|off]]\n");
    }
    return CMD_STAY;
}
