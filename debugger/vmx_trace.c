/* debugger/vmx_trace.c — `trace vmexit` and `trace ept`: while the guest
 * runs, count VM exits by reason, EPT violations and misconfigurations
 * by 2-MiB guest-physical range, INVEPT/INVVPID by type, each with the
 * function it came from: the guest's (the exit's guest RIP) and the
 * root's (the VMLAUNCH/VMRESUME before the exit, or the INVEPT itself).
 * `trace show` prints the table, most frequent first. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"
#include "vmx/vmx.h"

#define EPT_BUCKET ((uint64_t)2 << 20) /* one row per 2 MiB of guest-physical space */

static void func_name(struct debugger *d, uint64_t addr, char *buf, size_t len)
{
    uint64_t off;
    const struct dbg_sym *s = sym_find(&d->syms, addr, &off);
    snprintf(buf, len, "%s", s ? s->name : "?");
}

static void count(struct debugger *d, const char *key, uint64_t guest_rip, bool have_guest,
                  uint64_t root_rip)
{
    struct vtrace *t = &d->vtrace;
    char g[64] = "", r[64];
    if (have_guest)
        func_name(d, guest_rip, g, sizeof(g));
    func_name(d, root_rip, r, sizeof(r));
    char sym[64];
    snprintf(sym, sizeof(sym), "%s", g);
    for (int k = 0; k < t->nrows; k++) {
        struct vtrace_row *row = &t->row[k];
        if (!strcmp(row->key, key) && !strcmp(row->sym, sym) && !strcmp(row->root, r)) {
            row->count++;
            return;
        }
    }
    if (t->nrows == VTRACE_ROWS) {
        t->dropped++;
        return;
    }
    struct vtrace_row *row = &t->row[t->nrows++];
    snprintf(row->key, sizeof(row->key), "%s", key);
    snprintf(row->sym, sizeof(row->sym), "%s", sym);
    snprintf(row->root, sizeof(row->root), "%s", r);
    row->count = 1;
}

void vtrace_event(struct debugger *d, int event, uint32_t code, uint64_t arg)
{
    struct vtrace *t = &d->vtrace;
    if (!t->exits && !t->ept)
        return;
    const struct vmcs *v = &d->c->vmx.vmcs;
    char key[64];
    unsigned basic = code & 0xffff;
    if (event == CPU_VMX_EXIT) {
        uint64_t grip = v->f[VF_GUEST_RIP];
        if (t->exits) {
            const char *name = vmx_exit_reason_name(basic);
            snprintf(key, sizeof(key), "exit %u %s", basic, name ? name : "?");
            count(d, key, grip, true, d->last_entry_rip);
        }
        if (t->ept && (basic == VMX_EXIT_EPT_VIOLATION || basic == VMX_EXIT_EPT_MISCONFIG)) {
            uint64_t lo = v->f[VF_GUEST_PHYSICAL_ADDR] & ~(EPT_BUCKET - 1);
            snprintf(key, sizeof(key), "%s 0x%" PRIx64 "-0x%" PRIx64,
                     basic == VMX_EXIT_EPT_VIOLATION ? "EPT violation" : "EPT misconfig", lo,
                     lo + EPT_BUCKET - 1);
            count(d, key, grip, true, d->last_entry_rip);
        }
    } else if (event == CPU_VMX_INSN && t->ept &&
               (code == VMX_EXIT_INVEPT || code == VMX_EXIT_INVVPID)) {
        static const char *const types[2][4] = {
            {"?", "single-context", "all-context", "?"},
            {"individual-address", "single-context", "all-context", "single-context-retaining-globals"}};
        snprintf(key, sizeof(key), "%s type %" PRIu64 " %s",
                 code == VMX_EXIT_INVEPT ? "INVEPT" : "INVVPID", arg,
                 arg < 4 ? types[code == VMX_EXIT_INVVPID][arg] : "?");
        count(d, key, 0, false, d->c->insn_rip);
    }
}

static int by_count(const void *a, const void *b)
{
    const struct vtrace_row *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->key, y->key);
}

void vtrace_show(struct debugger *d)
{
    struct vtrace *t = &d->vtrace;
    if (!t->exits && !t->ept && !t->nrows)
        return;
    dbg_printf(d, "VMX events (counting%s%s):\n", t->exits ? " VM exits" : "",
               t->ept ? (t->exits ? ", EPT" : " EPT") : "");
    qsort(t->row, (size_t)t->nrows, sizeof(t->row[0]), by_count);
    dbg_printf(d, "%10s  %-44s %-24s %s\n", "count", "event", "guest at", "root at");
    for (int k = 0; k < t->nrows; k++) {
        const struct vtrace_row *row = &t->row[k];
        dbg_printf(d, "%10" PRIu64 "  %-44s %-24s %s\n", row->count, row->key,
                   row->sym[0] ? row->sym : "-", row->root);
    }
    if (!t->nrows)
        dbg_printf(d, "%10s  (none yet)\n", "");
    if (t->dropped)
        dbg_printf(d, "%10" PRIu64 "  events with no room in the table\n", t->dropped);
}

bool vtrace_command(struct debugger *d, int argc, char **argv)
{
    (void)argc;
    struct vtrace *t = &d->vtrace;
    if (!strcmp(argv[1], "vmexit") || !strcmp(argv[1], "vmexits")) {
        t->exits = true;
        dbg_printf(d, "Counting VM exits by reason (trace show prints them)\n");
        return true;
    }
    if (!strcmp(argv[1], "ept")) {
        t->ept = true;
        dbg_printf(d, "Counting EPT violations and misconfigurations by 2-MiB guest-physical "
                      "range, INVEPT and INVVPID by type (trace show prints them)\n");
        return true;
    }
    if (!strcmp(argv[1], "clear")) {
        memset(t, 0, sizeof(*t));
        return false; /* the address traces go too */
    }
    return false;
}
