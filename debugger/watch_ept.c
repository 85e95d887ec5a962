/* debugger/watch_ept.c — `ept watch GPA`: stop when root-mode code (the
 * hypervisor) writes an EPT entry that maps GPA.
 *
 * A hypervisor may run its guests on several EPT trees (KVM keeps one
 * root per address space and role), so the walk is done through every
 * EPTP in use: the current VMCS's and those of the last VM entries.
 * The watch covers the entry at every level on the way to GPA, the
 * non-present one where a walk ends included: writing that one is how a
 * hypervisor builds the missing part of the tree.  Any write to a
 * watched entry, and every VM entry, re-arms the watch, so it follows
 * the tree as it changes.
 *
 * The stop comes after the writing instruction: the old value is read
 * just before the write (cpu/mem.c calls the memory hook first), the
 * new one when the stop is reported. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"
#include "mmu/ept.h"
#include "vmx/vmx.h"

/* one EPT entry watched: 4 levels through each remembered EPTP */
#define EW_MAX (4 * (DBG_EPTPS + 1))

struct ept_watch {
    int n;
    struct ew_entry {
        uint64_t pa, eptp;
        int level; /* 3 PML4E ... 0 PTE */
    } e[EW_MAX];
};

static const char *const level_names[5] = {"PTE", "PDE", "PDPTE", "PML4E", "PML5E"};

const char *dbg_ept_level_name(int level)
{
    return level >= 0 && level < 5 ? level_names[level] : "?";
}

/* SDM Vol. 3C Table 28-6: the leaf memory types */
static const char *const mem_types[8] = {"UC", "WC", "mt2", "mt3", "WT", "WP", "WB", "mt7"};

const char *dbg_ept_entry_text(uint64_t e, int level, char *buf, size_t len)
{
    if (!(e & EPT_RWX)) {
        snprintf(buf, len, "0x%016" PRIx64 "  not present", e);
        return buf;
    }
    bool leaf = level == 0 || ((level == 1 || level == 2) && (e & EPT_PS));
    static const char *const sizes[3] = {"4 KiB page", "2 MiB page", "1 GiB page"};
    char type[16] = "";
    if (leaf)
        snprintf(type, sizeof(type), " %s%s", mem_types[(e >> EPT_MT_SHIFT) & 7],
                 (e & EPT_IPAT) ? " IPAT" : "");
    snprintf(buf, len, "0x%016" PRIx64 "  %c%c%c%s %c%c  -> %s p:0x%" PRIx64, e,
             (e & EPT_R) ? 'R' : '-', (e & EPT_W) ? 'W' : '-', (e & EPT_X) ? 'X' : '-', type,
             (e & EPT_A) ? 'A' : '-', leaf ? ((e & EPT_D) ? 'D' : '-') : ' ',
             leaf ? sizes[level] : "table", (uint64_t)(e & EPTP_ADDR_MASK & ~(leaf ? (1ull << (12 + 9 * level)) - 1 : 0)));
    return buf;
}

/* a 4-level EPTP with a table address, as the VM-entry checks require */
static bool eptp_usable(uint64_t eptp)
{
    return (eptp & EPTP_WALK_MASK) == EPTP_WALK_4 && (eptp & EPTP_ADDR_MASK);
}

static void note_eptp(struct debugger *d, uint64_t eptp)
{
    if (!eptp_usable(eptp))
        return;
    int k = 0;
    while (k < d->neptps && d->eptps[k] != eptp)
        k++;
    if (k == d->neptps && d->neptps < DBG_EPTPS)
        d->neptps++;
    if (k == DBG_EPTPS)
        k--;
    memmove(&d->eptps[1], &d->eptps[0], (size_t)k * sizeof(d->eptps[0]));
    d->eptps[0] = eptp;
}

/* The entries the walk of 'gpa' reads through 'eptp', down to the leaf
 * or the first non-present (or malformed) entry. */
static void arm_one(struct debugger *d, struct ept_watch *w, uint64_t gpa, uint64_t eptp)
{
    struct mmu_gpa_access a = {.gpa = gpa, .type = MMU_READ, .kind = MMU_GPA_FINAL,
                               .commit = false};
    struct ept_result r;
    ept_translate(&d->m->phys, eptp, EPT_HAS_EXEC_ONLY, &a, &r);
    for (int i = 0; i < r.n && w->n < EW_MAX; i++) {
        bool dup = false;
        for (int k = 0; k < w->n; k++)
            dup |= w->e[k].pa == r.entry_pa[i];
        if (!dup)
            w->e[w->n++] = (struct ew_entry){r.entry_pa[i], eptp, 3 - i};
    }
}

static void arm(struct debugger *d, struct bp *b)
{
    b->ew->n = 0;
    for (int k = 0; k < d->neptps; k++)
        arm_one(d, b->ew, b->addr, d->eptps[k]);
}

void ewatch_rearm(struct debugger *d)
{
    struct cpu *c = d->c;
    /* the current VMCS's EPTP counts as in use even before its first entry */
    if (c->vmx.current != VMX_INVALID_PTR)
        note_eptp(d, c->vmx.vmcs.f[VF_EPT_POINTER]);
    for (int k = 0; k < d->nbps; k++)
        if (d->bps[k].kind == BP_EPT_WATCH)
            arm(d, &d->bps[k]);
}

void ewatch_vmentry(struct debugger *d)
{
    if (d->c->mmu.gpa_xlate)
        note_eptp(d, d->c->vmx.ept.eptp);
    for (int k = 0; k < d->nbps; k++)
        if (d->bps[k].kind == BP_EPT_WATCH && d->bps[k].enabled)
            arm(d, &d->bps[k]);
}

/* A root-mode write of 'size' bytes at physical 'pa', before it lands. */
bool ewatch_write(struct debugger *d, uint64_t pa, unsigned size)
{
    for (int k = 0; k < d->nbps; k++) {
        struct bp *b = &d->bps[k];
        if (b->kind != BP_EPT_WATCH || !b->enabled)
            continue;
        for (int i = 0; i < b->ew->n; i++) {
            const struct ew_entry *e = &b->ew->e[i];
            if (pa + size <= e->pa || pa >= e->pa + 8)
                continue;
            b->hits++;
            uint64_t old = 0;
            dbg_read_phys(d, e->pa, &old, 8);
            d->ew_hit.pending = true;
            d->ew_hit.id = b->id;
            d->ew_hit.level = e->level;
            d->ew_hit.pa = e->pa;
            d->ew_hit.eptp = e->eptp;
            d->ew_hit.gpa = b->addr;
            d->ew_hit.old = old;
            d->ew_hit.rip = d->c->insn_rip;
            char s[160];
            dbg_request_stop(d, 5, "EPT watch %d: write to the EPT %s at p:0x%" PRIx64
                                   " for guest-physical 0x%" PRIx64 " (EPTP 0x%" PRIx64
                                   ") by 0x%" PRIx64 "%s",
                             b->id, dbg_ept_level_name(e->level), e->pa, b->addr, e->eptp,
                             d->c->insn_rip, dbg_sym(d, d->c->insn_rip, s, sizeof(s)));
            return true;
        }
    }
    return false;
}

/* The machine stopped: finish the report of a hit (the new value is in
 * memory now) and follow the tree as it is now. */
void ewatch_after_stop(struct debugger *d, bool print)
{
    if (d->ew_hit.pending && print) {
        uint64_t now = 0;
        dbg_read_phys(d, d->ew_hit.pa, &now, 8);
        char t[200], s[160];
        dbg_printf(d, "  old %s\n", dbg_ept_entry_text(d->ew_hit.old, d->ew_hit.level, t, sizeof(t)));
        dbg_printf(d, "  new %s\n", dbg_ept_entry_text(now, d->ew_hit.level, t, sizeof(t)));
        dbg_printf(d, "  written by 0x%016" PRIx64 "%s\n", d->ew_hit.rip,
                   dbg_sym(d, d->ew_hit.rip, s, sizeof(s)));
        char stack[2048];
        dbg_stack_text(d, "    ", stack, sizeof(stack));
        dbg_printf(d, "  stack:\n%s", stack);
    }
    d->ew_hit.pending = false;
    ewatch_rearm(d);
}

static void list_watches(struct debugger *d)
{
    bool any = false;
    for (int k = 0; k < d->nbps; k++) {
        const struct bp *b = &d->bps[k];
        if (b->kind != BP_EPT_WATCH)
            continue;
        any = true;
        dbg_printf(d, "EPT watch %d: guest-physical 0x%" PRIx64 "%s, %d entr%s\n", b->id, b->addr,
                   b->enabled ? "" : " (disabled)", b->ew->n, b->ew->n == 1 ? "y" : "ies");
        for (int i = 0; i < b->ew->n; i++) {
            const struct ew_entry *e = &b->ew->e[i];
            uint64_t v = 0;
            char t[200];
            dbg_read_phys(d, e->pa, &v, 8);
            dbg_printf(d, "  EPTP 0x%" PRIx64 " %-5s at p:0x%" PRIx64 " = %s\n", e->eptp,
                       dbg_ept_level_name(e->level), e->pa,
                       dbg_ept_entry_text(v, e->level, t, sizeof(t)));
        }
    }
    if (!any)
        dbg_printf(d, "no EPT watches (ept watch GPA)\n");
}

/* `ept` has one subcommand here; the EPT inspectors (walk, dump, step)
 * dispatch `ept watch` to ewatch_command() */
/* ept watch [GPA] (argv[1] is "watch") */
enum cmd_result ewatch_command(struct debugger *d, int argc, char **argv)
{
    ewatch_rearm(d);
    if (argc < 3) {
        list_watches(d);
        return CMD_STAY;
    }
    uint64_t gpa;
    if (!dbg_eval(d, argv[2], &gpa))
        return CMD_STAY;
    struct ept_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return CMD_STAY;
    struct bp *b = bp_add(d, BP_EPT_WATCH);
    if (!b) {
        free(w);
        return CMD_STAY;
    }
    b->addr = gpa;
    b->ew = w;
    arm(d, b);
    dbg_printf(d, "EPT watch %d: guest-physical 0x%" PRIx64 " (%d entr%s through %d EPTP%s; "
                  "armed again at every VM entry)\n",
               b->id, gpa, w->n, w->n == 1 ? "y" : "ies", d->neptps, d->neptps == 1 ? "" : "s");
    return CMD_STAY;
}
