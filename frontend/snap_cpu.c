/* frontend/snap_cpu.c — the snapshot sections of the processor and the
 * board: "cpu" (architectural and hidden state, MSRs, pending events),
 * "vmx" (VMX operation and the cached current VMCS), "clock" (virtual
 * time, A20).  Fields are listed one by one: struct cpu also holds the
 * TLB (host addends), the decoded-instruction cache and board and
 * debugger hooks, none of which may be written or overwritten. */
#include <string.h>

#include "cpu/cpu.h"
#include "devices/machine.h"
#include "devices/snap.h"
#include "frontend/snapshot.h"

static void seg_state(struct snap *s, struct seg *g)
{
    snap_u16(s, &g->sel);
    snap_u32(s, &g->limit);
    snap_u64(s, &g->base);
    snap_u32(s, &g->ar);
}

static void dtr_state(struct snap *s, struct dtr *d)
{
    snap_u64(s, &d->base);
    snap_u16(s, &d->limit);
}

static void cpu_state(struct snap *s, struct machine *m)
{
    struct cpu *c = m->cpu;
    snap_u64s(s, c->r, CPU_GPRS);
    snap_u64(s, &c->rip);
    snap_u64(s, &c->rflags);
    snap_u8(s, &c->lf_op);
    snap_check(s, c->lf_op <= LF_MUL, "lazy-flags operation");
    snap_u8(s, &c->lf_size);
    snap_u64(s, &c->lf_a);
    snap_u64(s, &c->lf_b);
    snap_u64(s, &c->lf_res);
    for (int k = 0; k < 6; k++)
        seg_state(s, &c->seg[k]);
    seg_state(s, &c->ldtr);
    seg_state(s, &c->tr);
    dtr_state(s, &c->gdtr);
    dtr_state(s, &c->idtr);
    snap_u64(s, &c->cr2);
    snap_u64(s, &c->cr8);
    snap_u64s(s, c->dr, 8);
    snap_u64(s, &c->xcr0);
    snap_u8(s, &c->cpl);
    snap_check(s, c->cpl <= 3, "CPL");

    struct mmu *u = &c->mmu;
    snap_u64(s, &u->cr0);
    snap_u64(s, &u->cr3);
    snap_u64(s, &u->cr4);
    snap_u64(s, &u->efer);
    snap_u32(s, &u->pkru);
    snap_u64s(s, u->pdpte, 4);
    snap_u16(s, &u->pcid);

    for (int k = 0; k < 16; k++)
        snap_u64s(s, c->xmm[k].q, 2);
    snap_u32(s, &c->mxcsr);
    struct x87 *f = &c->fpu;
    snap_bytes(s, f->st, sizeof(f->st));
    snap_u16(s, &f->fcw);
    snap_u16(s, &f->fsw);
    snap_u16(s, &f->ftw);
    snap_u16(s, &f->fop);
    snap_u64(s, &f->fip);
    snap_u64(s, &f->fdp);
    snap_u16(s, &f->fcs);
    snap_u16(s, &f->fds);

    snap_u64(s, &c->star);
    snap_u64(s, &c->lstar);
    snap_u64(s, &c->cstar);
    snap_u64(s, &c->sfmask);
    snap_u64(s, &c->kernel_gs_base);
    snap_u64(s, &c->sysenter_cs);
    snap_u64(s, &c->sysenter_esp);
    snap_u64(s, &c->sysenter_eip);
    snap_u64(s, &c->apic_base);
    snap_u64(s, &c->tsc_offset);
    snap_u64(s, &c->tsc_aux);
    snap_u64(s, &c->pat);
    snap_u64(s, &c->misc_enable);
    snap_u64(s, &c->spec_ctrl);
    snap_u64(s, &c->feature_control);
    snap_u64(s, &c->debugctl);
    snap_u64(s, &c->mtrr_def_type);
    snap_u64s(s, c->mtrr_fixed, 11);
    snap_u64s(s, c->mtrr_var, 16);

    /* PEND_STOP belongs to whoever is running the machine now, not to
     * the snapshot; PEND_BREAK only ends the block being run, and a
     * loaded machine starts a new one anyway */
    uint32_t pending = c->pending & ~(PEND_STOP | PEND_BREAK);
    snap_u32(s, &pending);
    if (s->loading)
        c->pending = (pending & ~(PEND_STOP | PEND_BREAK)) | (c->pending & PEND_STOP) | PEND_BREAK;
    snap_bool(s, &c->halted);
    snap_bool(s, &c->monitor_armed);
    snap_bool(s, &c->mwait_break_masked);
    snap_bool(s, &c->nmi_blocked);
    snap_bool(s, &c->init_latched);
    snap_u64(s, &c->inhibit_irq_at);
    snap_bool(s, &c->inhibit_irq);
    snap_bool(s, &c->inhibit_debug);
    snap_bool(s, &c->sw_int);
    snap_u64(s, &c->cr2_before_pf);
    snap_u64(s, &c->icount);
}
SNAP_SECTION(cpu, "cpu", 2, cpu_state)

/* The cached current VMCS is saved as (encoding, value) pairs, so a
 * build whose field table has grown or been reordered still finds each
 * field; a field this build does not know is refused. */
static void vmcs_state(struct snap *s, struct vmcs *v)
{
    /* the rows the table marks not implemented have no encoding a
     * lookup accepts, and never hold anything */
    uint32_t n = 0;
    for (int k = 0; k < VMCS_NFIELDS; k++)
        n += vmcs_field_implemented(k);
    snap_u32(s, &n);
    snap_check(s, n <= VMCS_NFIELDS, "VMCS field count");
    if (s->loading && !s->failed)
        memset(v->f, 0, sizeof(v->f));
    int next = 0;
    for (uint32_t k = 0; k < n && !s->failed; k++) {
        uint32_t enc = 0;
        uint64_t value = 0;
        if (!s->loading) {
            while (!vmcs_field_implemented(next))
                next++;
            enc = vmcs_field_encoding(next);
            value = v->f[next++];
        }
        snap_u32(s, &enc);
        snap_u64(s, &value);
        if (!s->loading || s->failed)
            continue;
        int id = vmcs_field_lookup(enc);
        if (id < 0) {
            snap_fail(s, "VMCS field encoding 0x%x unknown to this nest86", enc);
            return;
        }
        v->f[id] = value & vmcs_field_mask[id];
    }
    snap_bool(s, &v->launched);
}

static void vmx_state(struct snap *s, struct machine *m)
{
    struct vmx *v = &m->cpu->vmx;
    snap_bool(s, &v->on);
    snap_bool(s, &v->nonroot);
    snap_u64(s, &v->vmxon_ptr);
    snap_u64(s, &v->current);
    snap_bool(s, &v->current_shadow);
    snap_bool(s, &v->tlb_switched);
    snap_bool(s, &v->timer_armed);
    snap_u64(s, &v->timer_deadline);
    snap_u64(s, &v->tlb_key);
    vmcs_state(s, &v->vmcs);
    snap_u64(s, &v->entries);
    snap_u64(s, &v->exits);
    snap_u64s(s, v->exits_by_reason, VMX_EXIT_REASONS);
    snap_bool(s, &v->vnmi_blocked);
    snap_u32(s, &v->vectoring);
    snap_u32(s, &v->vectoring_err);
    snap_u32(s, &v->vectoring_len);
    snap_u8(s, &v->soft_type);
    snap_u8(s, &v->shadow);
    snap_bool(s, &v->event_exit);
    snap_bool(s, &v->iret_unblocked);
    snap_u64(s, &v->iret_icount);
    snap_bool(s, &v->vintr_recognized);
    snap_u16(s, &v->apic_trap);
    snap_u64(s, &v->apic_trap_qual);
    snap_bool(s, &v->mtf_pending);
    snap_bool(s, &v->mtf_counting);
    snap_bool(s, &v->rep_one);
    snap_u64(s, &v->mtf_icount);
    snap_u32(s, &v->pending_dbg);
    snap_u8(s, &v->activity);
    snap_check(s, v->activity <= 3, "VMX guest activity state");
    snap_bool(s, &v->sipi_pending);
    snap_u8(s, &v->sipi_vector);
    snap_bool(s, &v->ple_seen);
    snap_u64(s, &v->ple_last);
    snap_u64(s, &v->ple_first);
}
SNAP_SECTION(vmx, "vmx", 1, vmx_state)

/* ---- the TLB and the code-page marks ----
 *
 * nest86's TLB keeps a stale translation as long as hardware may (until
 * the INVLPG, MOV CR3 or INVEPT the SDM requires), and guests do run on
 * such translations: Linux leaves some for a while on purpose.  A TLB
 * emptied by a load would let the resumed guest see page-table changes
 * the original did not, and the two runs part.  So the translations are
 * saved as plain values (the host address of each page is worked out
 * again after the load, snap_after_load below) — and so are the pages
 * marked as holding decoded code, since a write to such a page always
 * takes the slow path and walks the page tables again.  The decoded
 * code itself is not saved: it is decoded again, as the same code. */

static void tlb_entry_state(struct snap *s, uint64_t *tag, uint64_t *pa_page, uint8_t *perm,
                            uint8_t *level, bool *global, bool *ram)
{
    snap_u64(s, tag);
    snap_u64(s, pa_page);
    snap_u8(s, perm);
    snap_u8(s, level);
    snap_check(s, *level <= 3, "TLB page size");
    snap_bool(s, global);
    snap_bool(s, ram);
}

static void tlb_state(struct snap *s, struct machine *m)
{
    struct mmu *u = &m->cpu->mmu;
    uint32_t size = MMU_TLB_SIZE, track = MMU_TLB_TRACK, fills = MMU_TLB_FILLS,
             lists = MMU_TLB_LISTS;
    snap_u32(s, &size);
    snap_u32(s, &track);
    snap_u32(s, &fills);
    snap_u32(s, &lists);
    snap_check(s, size == MMU_TLB_SIZE && track == MMU_TLB_TRACK && fills == MMU_TLB_FILLS &&
                      lists == MMU_TLB_LISTS,
               "TLB geometry");
    if (s->failed)
        return;
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
        struct mmu_tlb_entry *e = &u->tlb[i];
        tlb_entry_state(s, &e->tag, &e->pa_page, &e->perm, &e->level, &e->global, &e->ram);
    }
    /* the fill lists by class: only their used part carries anything */
    for (unsigned l = 0; l < MMU_TLB_LISTS && !s->failed; l++) {
        snap_u32(s, &u->nfilled[l]);
        unsigned n = u->nfilled[l] < MMU_TLB_FILLS ? u->nfilled[l] : MMU_TLB_FILLS;
        snap_u16s(s, u->filled[l], n);
        for (unsigned k = 0; k < n; k++)
            snap_index(s, u->filled[l][k], MMU_TLB_SIZE, "TLB slot");
    }
    snap_u16(s, &u->lists_used);
    snap_u16(s, &u->lists_over);
    for (int w = 0; w < 2; w++) {
        struct mmu_tlb_saved *v = &u->saved[w];
        snap_bool(s, &v->valid);
        snap_u64(s, &v->key);
        snap_u32(s, &v->n);
        snap_check(s, v->n <= MMU_TLB_TRACK, "saved TLB context size");
        for (unsigned k = 0; k < v->n && !s->failed; k++) {
            struct mmu_tlb_entry_saved *e = &v->e[k];
            snap_u16(s, &v->slot[k]);
            snap_index(s, v->slot[k], MMU_TLB_SIZE, "saved TLB slot");
            tlb_entry_state(s, &e->tag, &e->pa_page, &e->perm, &e->level, &e->global, &e->ram);
            snap_u8(s, &e->list);
            snap_index(s, e->list, MMU_TLB_LISTS, "saved TLB entry's fill list");
        }
    }
    snap_u8(s, &u->large_levels);

    /* the code-page marks, a bit per page */
    struct phys *p = &m->phys;
    size_t pages = (size_t)(p->ram_size >> 12);
    uint64_t npages = pages;
    snap_u64(s, &npages);
    snap_check(s, npages == pages, "code-page map size");
    for (size_t k = 0; k < pages && !s->failed; k += 8) {
        uint8_t bits = 0;
        for (size_t j = 0; j < 8 && k + j < pages; j++)
            bits |= (uint8_t)((p->code_page[k + j] != 0) << j);
        snap_u8(s, &bits);
        if (s->loading)
            for (size_t j = 0; j < 8 && k + j < pages; j++)
                p->code_page[k + j] = (bits >> j) & 1;
    }
}
SNAP_SECTION(tlb, "tlb", 2, tlb_state)

/* The host address behind a loaded translation, from its physical
 * page; one that is not RAM (a forged file) is dropped. */
static uintptr_t tlb_addend(struct phys *p, uint64_t tag, uint64_t pa_page, uint8_t *perm, bool ram)
{
    uint8_t *host = ram ? phys_ram_ptr(p, pa_page & ~0xfffull) : NULL;
    if (!host)
        *perm = 0;
    return host ? (uintptr_t)host - (uintptr_t)(tag & ~0xfffull) : 0;
}

static void clock_state(struct snap *s, struct machine *m)
{
    snap_u64(s, &m->clock_offset);
    snap_bool(s, &m->phys.a20_enabled);
}
SNAP_SECTION(clock, "clock", 1, clock_state)

void snapshot_cpu_after_load(struct machine *m)
{
    struct cpu *c = m->cpu;
    struct phys *p = &m->phys;
    struct mmu *u = &c->mmu;
    for (unsigned i = 0; i < MMU_TLB_SIZE; i++) {
        struct mmu_tlb_entry *e = &u->tlb[i];
        e->addend = tlb_addend(p, e->tag, e->pa_page, &e->perm, e->ram);
    }
    for (int w = 0; w < 2; w++)
        for (unsigned k = 0; k < u->saved[w].n; k++) {
            struct mmu_tlb_entry_saved *e = &u->saved[w].e[k];
            e->addend = tlb_addend(p, e->tag, e->pa_page, &e->perm, e->ram);
        }
    /* Decoded code is rebuilt, not saved: every cached block becomes
     * stale (its page's generation moves on), as do block links (both
     * MMU epochs move), so the cache refills from the loaded RAM. */
    size_t pages = (size_t)(p->ram_size >> 12);
    for (size_t k = 0; k < pages; k++)
        p->code_gen[k]++;
    vmx_after_restore(c);
    cpu_update_mode(c);
    mmu_new_epoch(u);
    c->root_links.epoch = 0; /* no link of this process's past holds */
    /* fast_mask follows DR7 and the debugger's watchpoints */
    cpu_debug_config(c, c->dbg_active, c->dbg_watch_mem);
}
