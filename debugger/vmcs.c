/* debugger/vmcs.c — the `vmcs` command: VMX operation at a glance, a
 * VMCS's fields by name grouped as SDM Vol. 3C 24.3 groups them (from
 * the one field table, vmx/vmcs_fields.def, the CPU uses), with their
 * meaning decoded (vmx_decode.c); a VMCS that is not current read from
 * its region in nest86's format (vmx/vmcs.h); and `vmcs diff` against
 * the snapshots taken at every VM entry and exit. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu/cpu.h"
#include "debugger/dbg.h"
#include "vmx/caps.h"
#include "vmx/vmx.h"

static const char *const type_names[4] = {"control", "exit", "guest", "host"};

/* The SDM's six groups (24.3): the encoding's type splits guest, host,
 * exit information and controls; controls split by what they control,
 * which their names say (EXIT_*, ENTRY_*). */
enum group { G_GUEST, G_HOST, G_EXEC, G_EXIT_CTL, G_ENTRY_CTL, G_EXIT_INFO, G_COUNT };
static const struct {
    const char *word, *title;
} groups[G_COUNT] = {
    {"guest", "Guest-state area (SDM 24.4)"},
    {"host", "Host-state area (SDM 24.5)"},
    {"execution", "VM-execution control fields (SDM 24.6)"},
    {"exit-control", "VM-exit control fields (SDM 24.7)"},
    {"entry-control", "VM-entry control fields (SDM 24.8)"},
    {"exit", "VM-exit information fields (SDM 24.9)"},
};

static enum group field_group(int id)
{
    switch (vmcs_enc_type(vmcs_field_encoding(id))) {
    case VMCS_T_GUEST: return G_GUEST;
    case VMCS_T_HOST: return G_HOST;
    case VMCS_T_EXIT_INFO: return G_EXIT_INFO;
    default: break;
    }
    const char *name = vmcs_field_name(id);
    if (!strncmp(name, "EXIT_", 5))
        return G_EXIT_CTL;
    if (!strncmp(name, "ENTRY_", 6))
        return G_ENTRY_CTL;
    return G_EXEC;
}

static void print_field(struct debugger *d, const struct vmcs *v, int id)
{
    uint32_t enc = vmcs_field_encoding(id);
    unsigned width = (unsigned[]){16, 64, 32, 64}[vmcs_enc_width(enc)];
    char meaning[512];
    vmxd_field_meaning(v, id, meaning, sizeof(meaning));
    dbg_printf(d, "  %-30s %04x  %-7s %2u  0x%0*" PRIx64 "%s%s\n", vmcs_field_name(id), enc,
               type_names[vmcs_enc_type(enc)], width, (int)width / 4, v->f[id],
               meaning[0] ? "  " : "", meaning);
}

static void print_group(struct debugger *d, const struct vmcs *v, enum group g)
{
    dbg_printf(d, "%s\n", groups[g].title);
    for (int k = 0; k < VMCS_NFIELDS; k++)
        if (vmcs_field_implemented(k) && field_group(k) == g)
            print_field(d, v, k);
}

/* A VMCS region in RAM in nest86's format; false when it is not one */
bool vmcs_read_region(struct debugger *d, uint64_t pa, struct vmcs *v, uint32_t *rev)
{
    uint8_t page[VMCS_REGION_SIZE];
    if ((pa & 0xfff) || dbg_read_phys(d, pa, page, sizeof(page)) != sizeof(page)) {
        dbg_printf(d, "vmcs: 0x%" PRIx64 " is not a 4-KiB aligned page of RAM\n", pa);
        return false;
    }
    uint32_t launch;
    memcpy(rev, page + VMCS_OFF_REVISION, 4);
    memcpy(&launch, page + VMCS_OFF_LAUNCH, 4);
    if ((*rev & ~VMX_SHADOW_VMCS_BIT) != VMX_REVISION_ID) {
        dbg_printf(d, "vmcs: the region at 0x%" PRIx64 " has revision id 0x%x, not nest86's "
                      "0x%x: it is no VMCS VMCLEAR wrote (nothing more can be shown)\n",
                   pa, *rev, VMX_REVISION_ID);
        return false;
    }
    v->launched = launch == 1;
    for (int k = 0; k < VMCS_NFIELDS; k++) {
        uint64_t x;
        memcpy(&x, page + VMCS_OFF_FIELDS + 8u * k, 8);
        v->f[k] = x & vmcs_field_mask[k];
    }
    return true;
}

static void summary(struct debugger *d)
{
    const struct vmx *v = &d->c->vmx;
    dbg_printf(d, "VMX: %s operation, VMXON region 0x%" PRIx64 "\n",
               v->nonroot ? "non-root" : "root", v->vmxon_ptr);
    if (v->current != VMX_INVALID_PTR) {
        dbg_printf(d, "current VMCS 0x%" PRIx64 " (%s), %" PRIu64 " entries, %" PRIu64 " exits\n",
                   v->current, v->vmcs.launched ? "launched" : "clear", v->entries, v->exits);
        if (v->exits) {
            char line[512];
            vmxd_exit_line(&v->vmcs, line, sizeof(line));
            dbg_printf(d, "last exit: %s\n", line);
        }
    } else {
        dbg_printf(d, "no current VMCS\n");
    }
    if (v->entry_failure)
        dbg_printf(d, "last VM entry failed: %s\n", v->entry_failure);
    if (v->nonroot && d->c->halted)
        dbg_printf(d, "guest activity state: %s\n",
                   v->activity == VMX_ACTIVITY_WAIT_SIPI ? "wait-for-SIPI"
                   : v->activity == VMX_ACTIVITY_SHUTDOWN ? "shutdown" : "HLT");
    if (d->c->init_latched)
        dbg_printf(d, "INIT pending (%s)\n",
                   v->nonroot ? "blocked by the wait-for-SIPI state" : "blocked in VMX root operation");
}

/* ---- vmcs diff ---- */

void vmcs_snapshot(struct debugger *d, bool is_exit)
{
    const struct vmx *v = &d->c->vmx;
    d->snap_cur ^= 1; /* the older one becomes the newest: one copy per event */
    struct vmcs_snap *s = &d->snap[d->snap_cur];
    s->valid = v->current != VMX_INVALID_PTR;
    s->is_exit = is_exit;
    s->ptr = v->current;
    s->icount = d->c->icount;
    s->v = v->vmcs;
}

static unsigned print_changes(struct debugger *d, const struct vmcs *from, const struct vmcs *to)
{
    unsigned n = 0;
    for (int k = 0; k < VMCS_NFIELDS; k++) {
        if (from->f[k] == to->f[k])
            continue;
        char meaning[512];
        vmxd_field_meaning(to, k, meaning, sizeof(meaning));
        dbg_printf(d, "  %-30s 0x%016" PRIx64 " -> 0x%016" PRIx64 "%s%s\n", vmcs_field_name(k),
                   from->f[k], to->f[k], meaning[0] ? "  " : "", meaning);
        n++;
    }
    if (!n)
        dbg_printf(d, "  (no field changed)\n");
    return n;
}

static void diff(struct debugger *d)
{
    const struct vmx *v = &d->c->vmx;
    const struct vmcs_snap *s = &d->snap[d->snap_cur];
    if (!s->valid) {
        dbg_printf(d, "vmcs diff: no VM entry or exit yet since the debugger started\n");
        return;
    }
    const char *what = s->is_exit ? "VM exit" : "VM entry";
    if (s->ptr != v->current) {
        dbg_printf(d, "vmcs diff: the current VMCS is 0x%" PRIx64 ", not the 0x%" PRIx64
                      " of the last %s\n", v->current, s->ptr, what);
    } else {
        dbg_printf(d, "since the last %s (VMCS 0x%" PRIx64 ", %" PRIu64 " instructions ago):\n",
                   what, s->ptr, d->c->icount - s->icount);
        print_changes(d, &s->v, &v->vmcs);
    }
    const struct vmcs_snap *p = &d->snap[d->snap_cur ^ 1];
    if (p->valid && p->ptr == s->ptr) {
        dbg_printf(d, "from the %s before it to the last %s:\n",
                   p->is_exit ? "VM exit" : "VM entry", what);
        print_changes(d, &p->v, &s->v);
    }
}

DBG_HANDLER(cmd_vmcs)
{
    (void)rest;
    const struct vmx *v = &d->c->vmx;
    if (!v->on) {
        dbg_printf(d, "VMX: off (not in VMX operation)\n");
        return CMD_STAY;
    }
    int a = 1;
    const struct vmcs *vm = &v->vmcs;
    struct vmcs region;
    bool have = v->current != VMX_INVALID_PTR;
    if (argc < 2) {
        summary(d);
        return CMD_STAY;
    }
    if (!strcmp(argv[1], "diff")) {
        diff(d);
        return CMD_STAY;
    }
    /* vmcs ADDR [...]: the first word is neither a group nor a field */
    bool is_word = !strcmp(argv[1], "all") || vmcs_field_by_name(argv[1]) >= 0;
    for (int t = 0; t < 4; t++)
        is_word |= !strcmp(argv[1], type_names[t]);
    for (int g = 0; g < G_COUNT; g++)
        is_word |= !strcmp(argv[1], groups[g].word);
    /* an address starts like a number (or p:, or an expression in $ or
     * parentheses); any other word is a field name that does not exist */
    if (!is_word && !strchr("0123456789p($*", argv[1][0]))
        is_word = true;
    if (!is_word) {
        uint64_t pa;
        bool phys;
        if (!dbg_parse_addr(d, argv[1], &pa, &phys))
            return CMD_STAY;
        a = 2;
        if (have && pa == v->current) {
            dbg_printf(d, "VMCS 0x%" PRIx64 ": current (%s), its fields as the CPU holds them\n",
                       pa, vm->launched ? "launched" : "clear");
        } else if (pa == v->vmxon_ptr) {
            dbg_printf(d, "vmcs: 0x%" PRIx64 " is the VMXON region, not a VMCS\n", pa);
            return CMD_STAY;
        } else {
            uint32_t rev;
            if (!vmcs_read_region(d, pa, &region, &rev))
                return CMD_STAY;
            vm = &region;
            have = true;
            dbg_printf(d, "VMCS 0x%" PRIx64 ": not current, read from its region in memory "
                          "(nest86's format): revision 0x%x%s, %s\n",
                       pa, rev & ~VMX_SHADOW_VMCS_BIT,
                       (rev & VMX_SHADOW_VMCS_BIT) ? " (shadow VMCS)" : "",
                       region.launched ? "launched" : "clear");
        }
        if (argc == 2) {
            for (int g = 0; g < G_COUNT; g++)
                print_group(d, vm, (enum group)g);
            return CMD_STAY;
        }
    }
    if (!have) {
        dbg_printf(d, "vmcs: no current VMCS (`vmcs ADDR` reads one from memory)\n");
        return CMD_STAY;
    }
    for (; a < argc; a++) {
        if (!strcmp(argv[a], "all")) {
            for (int g = 0; g < G_COUNT; g++)
                print_group(d, vm, (enum group)g);
            continue;
        }
        int want_type = -1, want_group = -1;
        for (int t = 0; t < 4; t++)
            if (!strcmp(argv[a], type_names[t]))
                want_type = t;
        for (int g = 0; g < G_COUNT; g++)
            if (!strcmp(argv[a], groups[g].word))
                want_group = g;
        if (want_group >= 0 && want_type != VMCS_T_EXIT_INFO) {
            print_group(d, vm, (enum group)want_group);
            continue;
        }
        if (want_type >= 0) {
            for (int k = 0; k < VMCS_NFIELDS; k++)
                if (vmcs_field_implemented(k) &&
                    (int)vmcs_enc_type(vmcs_field_encoding(k)) == want_type)
                    print_field(d, vm, k);
            continue;
        }
        int id = vmcs_field_by_name(argv[a]);
        if (id < 0) {
            dbg_printf(d, "vmcs: no field '%s' (`vmcs all` lists them)\n", argv[a]);
            continue;
        }
        print_field(d, vm, id);
    }
    return CMD_STAY;
}
