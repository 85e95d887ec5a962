/* debugger/walk.c — the paging inspectors: `walk` (one translation level
 * by level, from mmu_walk_explain), `info mem` (every mapping of the
 * current page tables, merged), `info tlb`, and the descriptor tables
 * (`info idt`, `info gdt`).  All read guest memory without side effects.
 *
 * Entries are decoded from per-format bit tables (struct entry_format),
 * and `walk` prints one "dimension" of a translation through
 * print_dimension(): the guest's own page walk today; the EPT walk of
 * each guest-physical access (second dimension) plugs in as another
 * format and another call per entry address. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"
#include "mmu/ept.h"
#include "mmu/mmu.h"
#include "vmx/caps.h"
#include "vmx/vmx.h"

struct bit_field {
    const char *name;
    unsigned shift, width;
};

struct entry_format {
    const char *name;          /* "IA-32e", "32-bit" */
    const struct bit_field *bits;
    uint64_t addr_mask;        /* next table or 4 KiB frame */
};

static const struct bit_field bits64[] = {
    {"P", 0, 1},   {"RW", 1, 1}, {"US", 2, 1}, {"PWT", 3, 1}, {"PCD", 4, 1}, {"A", 5, 1},
    {"D", 6, 1},   {"PS", 7, 1}, {"G", 8, 1},  {"PK", 59, 4}, {"NX", 63, 1}, {NULL, 0, 0}};
static const struct bit_field bits64_pte[] = {
    {"P", 0, 1},    {"RW", 1, 1}, {"US", 2, 1}, {"PWT", 3, 1}, {"PCD", 4, 1}, {"A", 5, 1},
    {"D", 6, 1},    {"PAT", 7, 1}, {"G", 8, 1}, {"PK", 59, 4}, {"NX", 63, 1}, {NULL, 0, 0}};
static const struct bit_field bits32[] = {
    {"P", 0, 1}, {"RW", 1, 1}, {"US", 2, 1}, {"PWT", 3, 1}, {"PCD", 4, 1},
    {"A", 5, 1}, {"D", 6, 1},  {"PS", 7, 1}, {"G", 8, 1},   {NULL, 0, 0}};
static const struct bit_field bits32_pte[] = {
    {"P", 0, 1}, {"RW", 1, 1}, {"US", 2, 1}, {"PWT", 3, 1}, {"PCD", 4, 1},
    {"A", 5, 1}, {"D", 6, 1},  {"PAT", 7, 1}, {"G", 8, 1},  {NULL, 0, 0}};

static const struct entry_format fmt64 = {"IA-32e", bits64, 0x000ffffffffff000ull};
static const struct entry_format fmt64_pte = {"IA-32e", bits64_pte, 0x000ffffffffff000ull};
static const struct entry_format fmt32 = {"32-bit", bits32, 0xfffff000ull};
static const struct entry_format fmt32_pte = {"32-bit", bits32_pte, 0xfffff000ull};

static const char *paging_mode(const struct mmu *m)
{
    if (!(m->cr0 & CR0_PG))
        return "paging off";
    if (!(m->cr4 & CR4_PAE))
        return "32-bit paging";
    if (!(m->efer & EFER_LMA))
        return "PAE paging";
    return (m->cr4 & CR4_LA57) ? "5-level paging" : "4-level paging";
}

static void print_bits(struct debugger *d, const struct entry_format *f, uint64_t v)
{
    for (const struct bit_field *b = f->bits; b->name; b++)
        dbg_printf(d, " %s=%" PRIu64, b->name, (uint64_t)((v >> b->shift) & ((1ull << b->width) - 1)));
}

/* Page size of a leaf at 'step' from the bottom (0 = PTE). */
static uint64_t leaf_size(bool pae, int from_bottom)
{
    if (from_bottom == 0)
        return 4096;
    if (!pae)
        return 4u << 20;
    return from_bottom == 1 ? 2u << 20 : 1u << 30;
}

/* The EPT walk of the guest-physical address 'gpa' used as 'kind', from
 * the recorded ones (the next unused one) */
static void print_second(struct debugger *d, const struct ept_recorder *rec, bool *used,
                         enum mmu_gpa_kind kind, uint64_t gpa, const char *what)
{
    for (int j = 0; j < rec->n; j++) {
        const struct ept_record *x = &rec->rec[j];
        if (used[j] || x->a.kind != kind || (kind != MMU_GPA_FINAL && x->a.gpa != gpa))
            continue;
        used[j] = true;
        dbg_printf(d, "    EPT walk of %s at guest-physical 0x%" PRIx64 ":\n", what, x->a.gpa);
        ept_print_record(d, "      ", x, rec->eptp);
        return;
    }
}

/* 'rec' (or NULL): the EPT walks of each guest-physical address, printed
 * before the entry they fetch (the second dimension) */
static void print_dimension(struct debugger *d, const char *indent,
                            const struct mmu_walk_explain *w, bool pae,
                            const struct ept_recorder *rec, bool *used)
{
    for (int k = 0; k < w->nsteps; k++) {
        const struct mmu_walk_step *s = &w->step[k];
        if (rec)
            print_second(d, rec, used, MMU_GPA_WALK, s->entry_pa, s->name);
        int from_bottom = w->nsteps - 1 - k;
        bool pte = !strcmp(s->name, "PTE");
        const struct entry_format *f = pae ? (pte ? &fmt64_pte : &fmt64)
                                           : (pte ? &fmt32_pte : &fmt32);
        dbg_printf(d, "%s%-6s at %s0x%016" PRIx64 " = 0x%016" PRIx64 " ", indent, s->name,
                   rec ? "gpa:" : "p:", s->entry_pa, s->value);
        print_bits(d, f, s->value);
        if (!(s->value & PTE_P)) {
            dbg_printf(d, "  -> not present\n");
        } else if (s->leaf) {
            /* the leaf's level is its distance from the PTE level */
            if (!pte)
                from_bottom = !strcmp(s->name, "PDE") ? 1 : 2;
            uint64_t size = leaf_size(pae, from_bottom);
            uint64_t frame = s->value & f->addr_mask & ~(size - 1);
            if (!pae && size == (4u << 20))
                frame = (s->value & 0xffc00000u) | (((s->value >> 13) & 0xff) << 32);
            dbg_printf(d, "  -> %s page p:0x%" PRIx64 "\n",
                       size == 4096 ? "4 KiB" : size == (2u << 20) ? "2 MiB"
                                              : size == (4u << 20) ? "4 MiB" : "1 GiB",
                       frame);
        } else {
            dbg_printf(d, "  -> table p:0x%" PRIx64 "\n", s->value & f->addr_mask);
        }
    }
}

static void print_fault(struct debugger *d, const char *indent, const struct mmu_fault *f)
{
    static const char *const ec_bits[7] = {"P", "W", "U", "RSVD", "I", "PK", "SS"};
    if (f->vector == MMU_FAULT_EPT_VIOLATION) { /* in a VMX guest with EPT (mmu/ept.h) */
        dbg_printf(d, "%s=> EPT violation at guest-physical 0x%016" PRIx64
                   ": exit qualification 0x%x\n", indent, f->gpa, f->error_code);
        return;
    }
    if (f->vector == MMU_FAULT_EPT_MISCONFIG) {
        dbg_printf(d, "%s=> EPT misconfiguration at guest-physical 0x%016" PRIx64 "\n", indent,
                   f->gpa);
        return;
    }
    dbg_printf(d, "%s=> fault: %s (vector %u) error code 0x%x [", indent,
               f->vector == EX_PF ? "#PF" : "EPT", f->vector, f->error_code);
    for (int k = 0; k < 7; k++)
        if (f->error_code & (1u << k))
            dbg_printf(d, " %s", ec_bits[k]);
    dbg_printf(d, " ] CR2 would be 0x%016" PRIx64 "\n", f->address);
}

/* The guest paging state of a VMCS (SDM 24.4.1) as an MMU to walk
 * with: its CR0/CR3/CR4, EFER (loaded with "load IA32_EFER", else LMA
 * and LME from "IA-32e mode guest", 26.3.2.1) and PDPTEs. */
static void mmu_of_vmcs(struct mmu *m, struct phys *phys, const struct vmcs *v)
{
    memset(m, 0, sizeof(*m));
    m->phys = phys;
    m->cr0 = v->f[VF_GUEST_CR0];
    m->cr3 = v->f[VF_GUEST_CR3];
    m->cr4 = v->f[VF_GUEST_CR4];
    if (v->f[VF_ENTRY_CONTROLS] & ENTRY_LOAD_EFER)
        m->efer = v->f[VF_GUEST_IA32_EFER];
    else if (v->f[VF_ENTRY_CONTROLS] & ENTRY_IA32E_MODE_GUEST)
        m->efer = EFER_LMA | EFER_LME;
    for (int k = 0; k < 4; k++)
        m->pdpte[k] = v->f[VF_GUEST_PDPTE0 + k];
}

DBG_HANDLER(cmd_walk)
{
    (void)rest;
    if (argc < 2) {
        dbg_printf(d, "usage: walk ADDR [r|w|x] [user] [vmcs [ADDR]]\n");
        return CMD_STAY;
    }
    uint64_t lin;
    if (!dbg_eval(d, argv[1], &lin))
        return CMD_STAY;
    enum mmu_access_type type = MMU_READ;
    bool user = false, as_guest = false;
    uint64_t vmcs_pa = VMX_INVALID_PTR;
    for (int k = 2; k < argc; k++) {
        if (!strcmp(argv[k], "w") || !strcmp(argv[k], "write"))
            type = MMU_WRITE;
        else if (!strcmp(argv[k], "x") || !strcmp(argv[k], "exec") || !strcmp(argv[k], "fetch"))
            type = MMU_FETCH;
        else if (!strcmp(argv[k], "r") || !strcmp(argv[k], "read"))
            type = MMU_READ;
        else if (!strcmp(argv[k], "user") || !strcmp(argv[k], "u"))
            user = true;
        else if (!strcmp(argv[k], "vmcs")) {
            as_guest = true;
            if (k + 1 < argc && !dbg_eval(d, argv[++k], &vmcs_pa))
                return CMD_STAY;
        } else {
            dbg_printf(d, "walk: unknown option '%s' (r, w, x, user, vmcs [ADDR])\n", argv[k]);
            return CMD_STAY;
        }
    }
    struct cpu *c = d->c;
    const struct vmx *vx = &c->vmx;
    struct mmu *m = &c->mmu;
    struct mmu *guest = NULL;
    struct ept_ctx ctx;
    struct ept_recorder rec = {0};
    bool two_d = false;
    if (as_guest) {
        /* from root operation: as the guest of the current or a given VMCS */
        struct vmcs region;
        const struct vmcs *v = &vx->vmcs;
        if (vmcs_pa != VMX_INVALID_PTR && vmcs_pa != vx->current) {
            uint32_t rev;
            if (!vmcs_read_region(d, vmcs_pa, &region, &rev))
                return CMD_STAY;
            v = &region;
        } else if (!vx->on || vx->current == VMX_INVALID_PTR) {
            dbg_printf(d, "walk: no current VMCS (give its address: walk ADDR vmcs ADDR)\n");
            return CMD_STAY;
        }
        guest = calloc(1, sizeof(*guest));
        if (!guest)
            return CMD_STAY;
        mmu_of_vmcs(guest, &d->m->phys, v);
        m = guest;
        two_d = ept_of_vmcs(v, &rec.eptp);
        dbg_printf(d, "as the guest of VMCS 0x%" PRIx64 "%s\n",
                   vmcs_pa != VMX_INVALID_PTR ? vmcs_pa : vx->current, two_d ? " (EPT)" : "");
    } else if (vx->nonroot && m->gpa_xlate) {
        two_d = ept_current_eptp(d, &rec.eptp);
    }
    /* the EPT hook as the CPU has it, with a recorder listening; its
     * walks do not commit (mmu_walk_explain) */
    void *saved_opaque = m->gpa_opaque;
    int (*saved_xlate)(void *, const struct mmu_gpa_access *, uint64_t *, uint8_t *,
                       struct mmu_fault *) = m->gpa_xlate;
    if (two_d) {
        ctx = (struct ept_ctx){.phys = &d->m->phys, .eptp = rec.eptp,
                               .exec_only = EPT_HAS_EXEC_ONLY, .observe = ept_record,
                               .observe_opaque = &rec};
        m->gpa_xlate = ept_gpa_xlate;
        m->gpa_opaque = &ctx;
    }
    bool lm = as_guest ? (m->efer & EFER_LMA) != 0 : c->mode == MODE_LONG;
    if (!lm)
        lin = (uint32_t)lin;
    static const char *const types[3] = {"read", "write", "fetch"};
    const struct mmu *pm = m;
    dbg_printf(d, "walk 0x%016" PRIx64 " (%s, %s): %s, CR3 0x%" PRIx64 "%s\n", lin, types[type],
               user ? "user" : "supervisor", paging_mode(pm), pm->cr3,
               two_d ? ", each guest-physical address through the EPT" : "");
    struct mmu_walk_explain w;
    mmu_walk_explain(m, lin, type, user, &w);
    m->gpa_xlate = saved_xlate;
    m->gpa_opaque = saved_opaque;
    bool pae = (m->cr4 & CR4_PAE) != 0;
    bool used[12] = {false};
    print_dimension(d, "  ", &w, pae, two_d ? &rec : NULL, used);
    if (two_d)
        print_second(d, &rec, used, MMU_GPA_FINAL, 0, "the access");
    if (w.ok)
        dbg_printf(d, "  => %s0x%016" PRIx64 "\n", two_d ? "host-physical " : "p:", w.pa);
    else
        print_fault(d, "  ", &w.fault);
    free(guest);
    return CMD_STAY;
}

/* ---- info mem ---- */

struct range {
    bool open;
    uint64_t lin, end, pa;
    unsigned perm; /* 1 W, 2 U, 4 X */
    unsigned lines;
};

static void flush_range(struct debugger *d, struct range *r)
{
    if (!r->open)
        return;
    uint64_t size = r->end - r->lin;
    dbg_printf(d, "0x%016" PRIx64 "-0x%016" PRIx64 " %12" PRIx64 "  r%c%c %s  -> p:0x%" PRIx64
                  "\n",
               r->lin, r->end - 1, size, (r->perm & 1) ? 'w' : '-', (r->perm & 4) ? 'x' : '-',
               (r->perm & 2) ? "user" : "sup ", r->pa);
    r->open = false;
    r->lines++;
}

static void add_mapping(struct debugger *d, struct range *r, uint64_t lin, uint64_t size,
                        uint64_t pa, unsigned perm)
{
    if (r->open && r->end == lin && r->perm == perm && r->pa + (r->end - r->lin) == pa) {
        r->end = lin + size;
        return;
    }
    flush_range(d, r);
    *r = (struct range){true, lin, lin + size, pa, perm, r->lines};
}

struct memwalk {
    struct debugger *d;
    struct range r;
    bool nxe, pse;
    unsigned top_bits; /* 48 or 57: sign extension of linear addresses */
};

/* levels: 1 = page table ... 5 = PML5; 'wide' = 8-byte entries */
static void walk_table(struct memwalk *mw, uint64_t table, int level, uint64_t lin, bool wide,
                       unsigned perm)
{
    unsigned n = wide ? 512 : 1024;
    unsigned shift = wide ? 12 + 9 * (level - 1) : 12 + 10 * (level - 1);
    uint64_t entries[1024];
    if (dbg_read_phys(mw->d, table, entries, wide ? 4096 : 4096) != 4096)
        return;
    const uint32_t *e32 = (const uint32_t *)entries;
    for (unsigned k = 0; k < n; k++) {
        uint64_t e = wide ? entries[k] : e32[k];
        if (!(e & PTE_P))
            continue;
        uint64_t l = lin | ((uint64_t)k << shift);
        if (wide && level == 4 + (mw->top_bits == 57) && (l >> (mw->top_bits - 1)) & 1)
            l |= ~0ull << mw->top_bits; /* canonical form */
        unsigned p = perm;
        if (!(e & PTE_RW))
            p &= ~1u;
        if (!(e & PTE_US))
            p &= ~2u;
        if (wide && mw->nxe && (e & PTE_XD))
            p &= ~4u;
        bool leaf = level == 1 || ((e & PTE_PS) && (wide ? level <= 3 : mw->pse));
        if (leaf) {
            uint64_t size = 1ull << shift, pa;
            if (!wide && level == 2)
                pa = (e & 0xffc00000u) | (((e >> 13) & 0xff) << 32);
            else
                pa = e & 0x000ffffffffff000ull & ~(size - 1);
            add_mapping(mw->d, &mw->r, l, size, pa, p);
        } else {
            walk_table(mw, e & (wide ? 0x000ffffffffff000ull : 0xfffff000ull), level - 1, l, wide,
                       p);
        }
    }
}

void info_mem(struct debugger *d)
{
    struct cpu *c = d->c;
    const struct mmu *m = &c->mmu;
    if (!(m->cr0 & CR0_PG)) {
        dbg_printf(d, "paging is off: linear addresses are physical\n");
        return;
    }
    struct memwalk mw = {d, {0}, (m->efer & EFER_NXE) != 0, (m->cr4 & CR4_PSE) != 0,
                         (m->cr4 & CR4_LA57) ? 57 : 48};
    dbg_printf(d, "%s, CR3 0x%" PRIx64 "\n%-37s %12s  %-8s\n", paging_mode(m), m->cr3, "linear",
               "size", "perm");
    if (!(m->cr4 & CR4_PAE)) {
        walk_table(&mw, m->cr3 & 0xfffff000u, 2, 0, false, 7);
    } else if (!(m->efer & EFER_LMA)) {
        for (unsigned k = 0; k < 4; k++)
            if (m->pdpte[k] & PTE_P)
                walk_table(&mw, m->pdpte[k] & 0x000ffffffffff000ull, 2, (uint64_t)k << 30, true,
                           7);
    } else {
        walk_table(&mw, m->cr3 & 0x000ffffffffff000ull, (m->cr4 & CR4_LA57) ? 5 : 4, 0, true, 7);
    }
    flush_range(d, &mw.r);
    if (!mw.r.lines)
        dbg_printf(d, "no present mappings\n");
}

/* ---- TLB ---- */

void info_tlb(struct debugger *d)
{
    const struct mmu *m = &d->c->mmu;
    unsigned n = 0;
    static const char *const sizes[4] = {"4K", "2M", "1G", "4M"};
    dbg_printf(d, "%-18s %-5s %-18s %-4s %-16s %s\n", "linear", "pcid", "physical", "size",
               "user sup supac", "flags");
    for (unsigned k = 0; k < MMU_TLB_SIZE; k++) {
        const struct mmu_tlb_entry *e = &m->tlb[k];
        if (!e->perm)
            continue;
        n++;
        uint8_t p = e->perm;
        dbg_printf(d, "0x%016" PRIx64 " %-5u 0x%016" PRIx64 " %-4s %c%c%c  %c%c%c  %c%c    %s%s\n",
                   (uint64_t)(e->tag & ~0xfffull), (unsigned)(e->tag & 0xfff), e->pa_page,
                   sizes[e->level & 3], (p & MMU_R_USER) ? 'r' : '-', (p & MMU_W_USER) ? 'w' : '-',
                   (p & MMU_X_USER) ? 'x' : '-', (p & MMU_R_SUP) ? 'r' : '-',
                   (p & MMU_W_SUP) ? 'w' : '-', (p & MMU_X_SUP) ? 'x' : '-',
                   (p & MMU_R_SUPAC) ? 'r' : '-', (p & MMU_W_SUPAC) ? 'w' : '-',
                   e->global ? "G " : "", e->ram ? "ram" : "mmio");
    }
    dbg_printf(d, "%u valid entries of %u; %" PRIu64 " walks so far\n", n, MMU_TLB_SIZE,
               m->stat_walks);
}

/* ---- descriptor tables ---- */

static const char *const sys_types[16] = {
    "reserved", "16-bit TSS (avail)", "LDT", "16-bit TSS (busy)", "16-bit call gate",
    "task gate", "16-bit int gate", "16-bit trap gate", "reserved", "TSS (avail)", "reserved",
    "TSS (busy)", "call gate", "reserved", "int gate", "trap gate"};

void info_idt(struct debugger *d)
{
    struct cpu *c = d->c;
    uint64_t base = c->idtr.base;
    unsigned limit = c->idtr.limit;
    char s[160];
    dbg_printf(d, "IDT base 0x%" PRIx64 " limit 0x%x\n", base, limit);
    if (c->mode == MODE_REAL) {
        for (unsigned v = 0; v < 256 && v * 4 + 3 <= limit; v++) {
            uint32_t e;
            if (dbg_read_lin(d, base + v * 4, &e, 4) != 4)
                break;
            uint64_t lin = ((uint64_t)(e >> 16) << 4) + (e & 0xffff);
            dbg_printf(d, "%3u  %04x:%04x%s\n", v, e >> 16, e & 0xffff,
                       dbg_sym(d, lin, s, sizeof(s)));
        }
        return;
    }
    bool lm = (c->mmu.efer & EFER_LMA) != 0;
    unsigned esize = lm ? 16 : 8;
    for (unsigned v = 0; v < 256 && v * esize + esize - 1 <= limit; v++) {
        uint32_t w[4] = {0, 0, 0, 0};
        if (dbg_read_lin(d, base + v * esize, w, esize) != esize) {
            dbg_printf(d, "%3u  cannot read memory\n", v);
            break;
        }
        if (!(w[1] & (1u << 15)))
            continue;
        unsigned type = (w[1] >> 8) & 15, dpl = (w[1] >> 13) & 3;
        uint64_t off = (w[0] & 0xffff) | (w[1] & 0xffff0000u);
        if (lm)
            off |= (uint64_t)w[2] << 32;
        dbg_printf(d, "%3u  %-17s %04x:0x%016" PRIx64 " DPL %u", v,
                   lm && (type == 14 || type == 15) ? (type == 14 ? "64-bit int gate"
                                                                  : "64-bit trap gate")
                                                    : sys_types[type],
                   w[0] >> 16, off, dpl);
        if (lm && (w[1] & 7))
            dbg_printf(d, " IST %u", w[1] & 7);
        dbg_printf(d, "%s\n", type == 5 ? "" : dbg_sym(d, off, s, sizeof(s)));
    }
}

void info_gdt(struct debugger *d)
{
    struct cpu *c = d->c;
    uint64_t base = c->gdtr.base;
    unsigned limit = c->gdtr.limit;
    bool lm = (c->mmu.efer & EFER_LMA) != 0;
    dbg_printf(d, "GDT base 0x%" PRIx64 " limit 0x%x\n", base, limit);
    for (unsigned i = 0; i * 8 + 7 <= limit && i < 8192; i++) {
        uint32_t w[2];
        if (dbg_read_lin(d, base + i * 8, w, 8) != 8) {
            dbg_printf(d, "0x%04x  cannot read memory\n", i * 8);
            break;
        }
        if (!w[0] && !w[1])
            continue;
        uint64_t b = (w[0] >> 16) | ((w[1] & 0xff) << 16) | (w[1] & 0xff000000u);
        uint32_t lim = (w[0] & 0xffff) | (w[1] & 0xf0000);
        bool g = (w[1] >> 23) & 1, s = (w[1] >> 12) & 1, p = (w[1] >> 15) & 1;
        unsigned type = (w[1] >> 8) & 15, dpl = (w[1] >> 13) & 3;
        if (g)
            lim = (lim << 12) | 0xfff;
        bool wide = lm && !s && (type == 2 || type == 9 || type == 11);
        if (wide) {
            uint32_t hi[2];
            if (dbg_read_lin(d, base + i * 8 + 8, hi, 8) == 8)
                b |= (uint64_t)hi[0] << 32;
        }
        dbg_printf(d, "0x%04x  base 0x%016" PRIx64 " limit 0x%08x DPL %u %s ", i * 8, b, lim, dpl,
                   p ? "P " : "NP");
        if (s)
            dbg_printf(d, "%s%s%s%s%s\n", (type & 8) ? "code" : "data",
                       (type & 8) ? ((type & 2) ? " readable" : "") : ((type & 2) ? " writable" : ""),
                       (type & 8) && (type & 4) ? " conforming" : "",
                       (w[1] >> 21) & 1 ? " L (64-bit)" : "",
                       (w[1] >> 22) & 1 ? " D/B (32-bit)" : "");
        else
            dbg_printf(d, "%s%s\n", lm && type == 9  ? "64-bit TSS (avail)"
                                    : lm && type == 11 ? "64-bit TSS (busy)"
                                                       : sys_types[type], wide ? " (16 bytes)" : "");
        if (wide)
            i++;
    }
}
