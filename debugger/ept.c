/* debugger/ept.c — the EPT inspectors: `ept walk` (one guest-physical
 * address through the EPT, entry by entry, with mmu/ept.c's walker in
 * its side-effect-free mode), `ept dump` (the whole tree as merged
 * ranges), `ept step` (the next translations the CPU itself makes,
 * observed through the EPT hook), and the EPT half of the 2-D `walk`. */
#include <inttypes.h>
#include <string.h>

#include "debugger/dbg.h"
#include "mmu/ept.h"
#include "vmx/caps.h"
#include "vmx/vmx.h"

/* EPT memory types, SDM 28.2.7 (2, 3 and 7 are reserved) */
static const char *const mem_types[8] = {"UC", "WC", "rsvd2", "rsvd3", "WT", "WP", "WB", "rsvd7"};

bool ept_of_vmcs(const struct vmcs *v, uint64_t *eptp)
{
    *eptp = v->f[VF_EPT_POINTER];
    return (v->f[VF_PROC_BASED_CONTROLS] & PROC_SECONDARY_CONTROLS) &&
           (v->f[VF_SECONDARY_PROC_CONTROLS] & PROC2_ENABLE_EPT);
}

bool ept_current_eptp(struct debugger *d, uint64_t *eptp)
{
    const struct vmx *v = &d->c->vmx;
    return v->current != VMX_INVALID_PTR && ept_of_vmcs(&v->vmcs, eptp);
}

static bool is_leaf(uint64_t e, int level)
{
    return level == 0 || ((level == 1 || level == 2) && (e & EPT_PS));
}

static void print_entry(struct debugger *d, const char *indent, int level, uint64_t pa,
                        uint64_t e, const char *note)
{
    bool leaf = is_leaf(e, level);
    dbg_printf(d, "%sEPT %-5s at 0x%016" PRIx64 " = 0x%016" PRIx64 "  R=%u W=%u X=%u", indent,
               dbg_ept_level_name(level), pa, e, (unsigned)(e & 1), (unsigned)(e >> 1) & 1,
               (unsigned)(e >> 2) & 1);
    if (leaf && (e & EPT_RWX))
        dbg_printf(d, " MT=%s IPAT=%u", mem_types[(e >> EPT_MT_SHIFT) & 7],
                   (unsigned)(e >> 6) & 1);
    dbg_printf(d, " A=%u", (unsigned)(e >> 8) & 1);
    if (leaf) /* D exists in leaves only (28.2.4) */
        dbg_printf(d, " D=%u", (unsigned)(e >> 9) & 1);
    if (!(e & EPT_RWX)) {
        dbg_printf(d, "  -> not present%s\n", note);
    } else if (leaf) {
        static const char *const sizes[3] = {"4 KiB", "2 MiB", "1 GiB"};
        uint64_t off = (1ull << (12 + 9 * level)) - 1;
        dbg_printf(d, "  -> %s page 0x%" PRIx64 "%s\n", sizes[level], (uint64_t)(e & EPTP_ADDR_MASK & ~off),
                   note);
    } else {
        dbg_printf(d, "  -> table 0x%" PRIx64 "%s\n", (uint64_t)(e & EPTP_ADDR_MASK), note);
    }
}

/* The entries a walk read and its outcome; 'set_ad' marks the flags a
 * committed walk set (the entries are as read, before that) */
static void print_result(struct debugger *d, const char *indent, const struct ept_result *r,
                         enum ept_outcome o, const struct mmu_gpa_access *a, uint64_t eptp,
                         bool set_ad)
{
    bool write = ept_access_bits(a, eptp) & EPT_QUAL_WRITE;
    for (int k = 0; k < r->n; k++) {
        bool last = k == r->n - 1;
        char note[48] = "";
        if (set_ad && o == EPT_OK) {
            bool sets_a = !(r->entry[k] & EPT_A);
            bool sets_d = last && write && !(r->entry[k] & EPT_D);
            if (sets_a || sets_d)
                snprintf(note, sizeof(note), "  (sets %s%s%s)", sets_a ? "A" : "",
                         sets_a && sets_d ? "," : "", sets_d ? "D" : "");
        }
        print_entry(d, indent, 3 - k, r->entry_pa[k], r->entry[k], note);
    }
    switch (o) {
    case EPT_OK: {
        /* the permissions of the translation: the entries' R/W/X ANDed
         * (r->allow is what a cached copy may serve, less W until D is set) */
        uint64_t perm = EPT_RWX;
        for (int k = 0; k < r->n; k++)
            perm &= r->entry[k];
        dbg_printf(d, "%s=> guest-physical 0x%" PRIx64 " -> host-physical 0x%" PRIx64
                      " (%c%c%c)\n",
                   indent, a->gpa, r->hpa, perm & EPT_R ? 'r' : '-', perm & EPT_W ? 'w' : '-',
                   perm & EPT_X ? 'x' : '-');
        break;
    }
    case EPT_VIOLATION: {
        char q[256];
        vmxd_qualification(VMX_EXIT_EPT_VIOLATION, r->qualification, q, sizeof(q));
        dbg_printf(d, "%s=> EPT violation at guest-physical 0x%" PRIx64
                      ": exit qualification 0x%x [%s]\n", indent, a->gpa, r->qualification, q);
        break;
    }
    case EPT_MISCONFIG:
        dbg_printf(d, "%s=> EPT misconfiguration at guest-physical 0x%" PRIx64 ": %s\n", indent,
                   a->gpa, r->why);
        break;
    case EPT_LOG_FULL:
        dbg_printf(d, "%s=> page-modification log full\n", indent);
        break;
    }
}

void ept_print_walk(struct debugger *d, const char *indent, uint64_t eptp, uint64_t gpa,
                    const struct mmu_gpa_access *a)
{
    struct mmu_gpa_access look = *a;
    look.gpa = gpa;
    look.commit = false; /* no A/D updates, no page-modification log */
    struct ept_result r;
    enum ept_outcome o = ept_translate(&d->m->phys, eptp, EPT_HAS_EXEC_ONLY ? EPT_MODE_EXEC_ONLY : 0,
                                       &look, &r);
    print_result(d, indent, &r, o, &look, eptp, false);
}

void ept_record(void *opaque, const struct mmu_gpa_access *a, enum ept_outcome o,
                const struct ept_result *r)
{
    struct ept_recorder *rec = opaque;
    if (rec->n < (int)(sizeof(rec->rec) / sizeof(rec->rec[0])))
        rec->rec[rec->n++] = (struct ept_record){*a, o, *r};
}

void ept_print_record(struct debugger *d, const char *indent, const struct ept_record *x,
                      uint64_t eptp)
{
    print_result(d, indent, &x->r, x->o, &x->a, eptp, false);
}

/* ---- ept dump ---- */

struct ept_range {
    bool open;
    uint64_t gpa, end, hpa;
    uint64_t attr;      /* R/W/X, memory type, IPAT, A, D of the leaf */
    unsigned lines;
    unsigned tables;    /* read so far: a wrong EPTP must not walk forever */
};
#define EPT_DUMP_MAX_TABLES 65536

static void flush(struct debugger *d, struct ept_range *g)
{
    if (!g->open)
        return;
    uint64_t a = g->attr;
    dbg_printf(d, "0x%012" PRIx64 "-0x%012" PRIx64 " %10" PRIx64 "  -> 0x%012" PRIx64
                  "  %c%c%c %-5s%s A=%u D=%u\n",
               g->gpa, g->end - 1, g->end - g->gpa, g->hpa, a & EPT_R ? 'r' : '-',
               a & EPT_W ? 'w' : '-', a & EPT_X ? 'x' : '-', mem_types[(a >> EPT_MT_SHIFT) & 7],
               (a & EPT_IPAT) ? " IPAT" : "     ", (unsigned)(a >> 8) & 1,
               (unsigned)(a >> 9) & 1);
    g->open = false;
    g->lines++;
}

/* permissions are those of the whole path (the entries' R/W/X ANDed) */
static void dump_table(struct debugger *d, struct ept_range *g, uint64_t table, int level,
                       uint64_t gpa, uint64_t perm)
{
    uint64_t e[512];
    if (g->tables++ == EPT_DUMP_MAX_TABLES)
        dbg_printf(d, "(stopping after %u tables)\n", EPT_DUMP_MAX_TABLES);
    if (g->tables > EPT_DUMP_MAX_TABLES || dbg_read_phys(d, table, e, sizeof(e)) != sizeof(e))
        return;
    for (unsigned k = 0; k < 512; k++) {
        if (!(e[k] & EPT_RWX))
            continue;
        uint64_t ga = gpa | ((uint64_t)k << (12 + 9 * level));
        uint64_t p = perm & e[k] & EPT_RWX;
        if (!is_leaf(e[k], level)) {
            dump_table(d, g, e[k] & EPTP_ADDR_MASK, level - 1, ga, p);
            continue;
        }
        uint64_t size = 1ull << (12 + 9 * level);
        uint64_t hpa = e[k] & EPTP_ADDR_MASK & ~(size - 1);
        uint64_t attr = p | (e[k] & (0x38 | EPT_IPAT | EPT_A | EPT_D));
        if (g->open && g->end == ga && g->attr == attr && g->hpa + (g->end - g->gpa) == hpa) {
            g->end += size;
            continue;
        }
        flush(d, g);
        *g = (struct ept_range){true, ga, ga + size, hpa, attr, g->lines, g->tables};
    }
}

static bool eptp_arg(struct debugger *d, int argc, char **argv, int k, uint64_t *eptp)
{
    if (argc > k)
        return dbg_eval(d, argv[k], eptp);
    if (ept_current_eptp(d, eptp))
        return true;
    dbg_printf(d, "ept: the current VMCS does not enable EPT (or there is none): give an EPTP\n");
    return false;
}

static void describe_eptp(struct debugger *d, uint64_t eptp)
{
    bool five = (eptp & EPTP_WALK_MASK) == EPTP_WALK_5;
    dbg_printf(d, "EPTP 0x%" PRIx64 ": %s at 0x%" PRIx64 ", %u-level, paging-structure "
                  "memory type %s, A/D flags %s\n",
               eptp, five ? "PML5" : "PML4", (uint64_t)(eptp & EPTP_ADDR_MASK),
               (unsigned)((eptp >> 3) & 7) + 1, mem_types[eptp & 7],
               (eptp & EPTP_AD) ? "on" : "off");
    if ((eptp & EPTP_WALK_MASK) != EPTP_WALK_4 && !five)
        dbg_printf(d, "(VM entry refuses this EPTP: nest86's EPT has 4 or 5 levels; walked as 4)\n");
}

/* ---- ept step ---- */

void ept_observe(void *opaque, const struct mmu_gpa_access *a, enum ept_outcome o,
                 const struct ept_result *r)
{
    struct debugger *d = opaque;
    if (!d->ept_step || !a->commit)
        return; /* the debugger's own looks are not the guest's accesses */
    static const char *const kinds[4] = {"the access itself", "guest paging-structure read",
                                         "guest A/D update", "PDPTE load"};
    static const char *const types[3] = {"read", "write", "fetch"};
    struct cpu *c = d->c;
    uint64_t eptp = c->vmx.ept.eptp;
    dbg_printf(d, "guest-physical 0x%" PRIx64 ": %s", a->gpa, kinds[a->kind]);
    if (a->kind == MMU_GPA_FINAL)
        dbg_printf(d, " (%s)", types[a->type]);
    if (a->lin_valid)
        dbg_printf(d, " for linear 0x%" PRIx64, a->lin);
    dbg_printf(d, ", guest rip 0x%" PRIx64 "\n", c->insn_rip);
    print_result(d, "  ", r, o, a, eptp, true);
    if (a->kind != MMU_GPA_FINAL && o == EPT_OK)
        return; /* one reference at a time up to the access itself */
    /* the stop comes at the end of the instruction: its other accesses
     * are shown too (ept_step_done() disarms) */
    dbg_request_stop(d, 5, "ept step: %s at guest-physical 0x%llx", o == EPT_OK ? "translated"
                           : o == EPT_VIOLATION ? "EPT violation" : "EPT misconfiguration",
                     (unsigned long long)a->gpa);
}

void ept_step_done(struct debugger *d)
{
    if (!d->ept_step)
        return;
    d->ept_step = false;
    d->c->dbg_ept = NULL;
    d->c->vmx.ept.observe = NULL;
}

static enum cmd_result ept_step(struct debugger *d)
{
    struct cpu *c = d->c;
    d->ept_step = true;
    c->dbg_ept = ept_observe; /* handed to the EPT hook at the next VM entry */
    if (c->vmx.nonroot && c->mmu.gpa_xlate)
        c->vmx.ept.observe = ept_observe, c->vmx.ept.observe_opaque = d;
    /* cached translations would serve the next access without a walk */
    mmu_flush_all(&c->mmu);
    dbg_printf(d, "running to the next EPT translation%s\n",
               c->vmx.nonroot ? "" : " (after the next VM entry with EPT)");
    dbg_resume(d, RUN_CONT, 0);
    return CMD_RESUME;
}

/* ept walk GPA [EPTP] | ept dump [EPTP] | ept step | ept watch [GPA] */
DBG_HANDLER(cmd_ept)
{
    (void)rest;
    const char *sub = argc > 1 ? argv[1] : "";
    uint64_t eptp, gpa;
    if (!strcmp(sub, "walk") && argc > 2) {
        if (!dbg_eval(d, argv[2], &gpa) || !eptp_arg(d, argc, argv, 3, &eptp))
            return CMD_STAY;
        enum mmu_access_type type = MMU_READ;
        for (int k = 4; k < argc; k++)
            type = argv[k][0] == 'w' ? MMU_WRITE : argv[k][0] == 'x' ? MMU_FETCH : MMU_READ;
        describe_eptp(d, eptp);
        struct mmu_gpa_access a = {.gpa = gpa, .type = type, .kind = MMU_GPA_FINAL};
        ept_print_walk(d, "  ", eptp, gpa, &a);
        return CMD_STAY;
    }
    if (!strcmp(sub, "dump")) {
        if (!eptp_arg(d, argc, argv, 2, &eptp))
            return CMD_STAY;
        describe_eptp(d, eptp);
        dbg_printf(d, "%-29s %10s  %-16s %s\n", "guest-physical", "size", "-> host-physical",
                   "perm type      A/D");
        struct ept_range g = {0};
        dump_table(d, &g, eptp & EPTP_ADDR_MASK,
                   (eptp & EPTP_WALK_MASK) == EPTP_WALK_5 ? 4 : 3, 0, EPT_RWX);
        flush(d, &g);
        if (!g.lines)
            dbg_printf(d, "no present mappings\n");
        return CMD_STAY;
    }
    if (!strcmp(sub, "step"))
        return ept_step(d);
    if (!strcmp(sub, "watch"))
        return ewatch_command(d, argc, argv); /* watch_ept.c */
    dbg_printf(d, "usage: ept walk GPA [EPTP [r|w|x]] | ept dump [EPTP] | ept step | "
                  "ept watch [GPA]\n");
    return CMD_STAY;
}
