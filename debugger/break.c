/* debugger/break.c — breakpoints, watchpoints, catchpoints and trace
 * counters: one table, numbered together, shown by `info breakpoints`.
 * The CPU hooks that act on them are in core.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "debugger/dbg.h"
#include "vmx/vmx.h"

struct bp *bp_add(struct debugger *d, enum bp_kind kind)
{
    if (d->nbps == DBG_MAX_BPS) {
        dbg_printf(d, "too many breakpoints (%d)\n", DBG_MAX_BPS);
        return NULL;
    }
    struct bp *b = &d->bps[d->nbps++];
    memset(b, 0, sizeof(*b));
    b->id = d->next_id++;
    b->kind = kind;
    b->enabled = true;
    b->vector = -1;
    return b;
}

void bp_remove(struct debugger *d, struct bp *b)
{
    free(b->cond_text);
    free(b->ew);
    free(b->name);
    expr_free(b->cond);
    for (int k = 0; k < b->nstacks; k++)
        free(b->stack[k].text);
    int i = (int)(b - d->bps);
    memmove(&d->bps[i], &d->bps[i + 1], (size_t)(d->nbps - i - 1) * sizeof(d->bps[0]));
    d->nbps--;
}

struct bp *bp_by_id(struct debugger *d, int id)
{
    for (int k = 0; k < d->nbps; k++)
        if (d->bps[k].id == id)
            return &d->bps[k];
    return NULL;
}

/* The return address when RIP is at a function's first instruction
 * (the CALL just pushed it), else 0. */
uint64_t dbg_ret_addr_at_entry(struct debugger *d)
{
    uint64_t off;
    const struct dbg_sym *s = sym_find(&d->syms, dbg_pc(d->c), &off);
    if (!s || off)
        return 0;
    uint64_t ret = 0;
    unsigned w = d->c->code_size == 8 ? 8 : 4;
    if (dbg_read_lin(d, d->c->r[R_RSP], &ret, w) != w)
        return 0;
    return ret;
}

/* break/tbreak ADDR [if COND] */
static enum cmd_result add_break(struct debugger *d, const char *rest, bool temp)
{
    char addr_text[256];
    const char *cond = NULL;
    const char *ifp = strstr(rest, " if ");
    size_t n = ifp ? (size_t)(ifp - rest) : strlen(rest);
    if (n == 0) {
        dbg_printf(d, "usage: break ADDR [if COND]\n");
        return CMD_STAY;
    }
    if (n >= sizeof(addr_text))
        n = sizeof(addr_text) - 1;
    memcpy(addr_text, rest, n);
    addr_text[n] = 0;
    if (ifp)
        cond = ifp + 4;
    uint64_t a;
    bool phys;
    if (!dbg_parse_addr(d, addr_text, &a, &phys))
        return CMD_STAY;
    struct expr *e = NULL;
    if (cond) {
        char err[320];
        e = expr_parse(d, cond, err, sizeof(err));
        if (!e) {
            dbg_printf(d, "condition: %s\n", err);
            return CMD_STAY;
        }
    }
    struct bp *b = bp_add(d, BP_EXEC);
    if (!b) {
        expr_free(e);
        return CMD_STAY;
    }
    b->addr = a;
    b->phys = phys;
    b->temp = temp;
    b->cond = e;
    b->cond_text = cond ? strdup(cond) : NULL;
    char s[160];
    dbg_printf(d, "%s %d at %s0x%" PRIx64 "%s%s%s\n", temp ? "Temporary breakpoint" : "Breakpoint",
               b->id, phys ? "p:" : "", a, phys ? "" : dbg_sym(d, a, s, sizeof(s)),
               cond ? " if " : "", cond ? cond : "");
    return CMD_STAY;
}

/* VMX instructions by the exit reason that names them (SDM Appendix C) */
static bool is_vmx_insn(int reason)
{
    return (reason >= VMX_EXIT_VMCALL && reason <= VMX_EXIT_VMXON) || reason == VMX_EXIT_INVEPT ||
           reason == VMX_EXIT_INVVPID || reason == VMX_EXIT_VMFUNC;
}

static bool parse_reason(struct debugger *d, const char *text, int *reason)
{
    *reason = vmx_exit_reason_by_name(text);
    if (*reason >= 0)
        return true;
    uint64_t x;
    if (!dbg_eval(d, text, &x))
        return false;
    if (x > 0xffff) {
        dbg_printf(d, "exit reasons are 0-65535\n");
        return false;
    }
    *reason = (int)x;
    return true;
}

static const char *reason_name(int reason)
{
    const char *name = reason < 0 ? NULL : vmx_exit_reason_name((unsigned)reason);
    return name ? name : "unknown reason";
}

/* The VMX stops, shared by `break` and `catch`: vmexit [REASON...],
 * vmentry, vmentry-fail, ept-violation, ept-misconfig, invept, vmx-insn
 * [NAME].  Returns false when argv[1] is none of them. */
static bool add_vmx_break(struct debugger *d, int argc, char **argv, const char *what)
{
    const char *w = argv[1];
    struct bp *b;
    if (!strcmp(w, "vmexit") || !strcmp(w, "ept-violation") || !strcmp(w, "ept-misconfig")) {
        int reason = -1;
        uint64_t mask[2] = {0, 0};
        if (w[0] == 'e')
            reason = w[4] == 'v' ? VMX_EXIT_EPT_VIOLATION : VMX_EXIT_EPT_MISCONFIG;
        for (int k = 2; w[0] == 'v' && k < argc; k++) {
            int r;
            if (!parse_reason(d, argv[k], &r))
                return true;
            if (argc > 3 && r >= VMX_EXIT_REASONS) {
                dbg_printf(d, "several exit reasons must each be below %d\n", VMX_EXIT_REASONS);
                return true;
            }
            reason = argc > 3 ? -2 : r;
            if (r < VMX_EXIT_REASONS)
                mask[r / 64] |= 1ull << (r % 64);
        }
        if (!(b = bp_add(d, BP_CATCH_VMEXIT)))
            return true;
        b->vector = reason;
        memcpy(b->reasons, mask, sizeof(mask));
        b->caught = what[0] == 'C';
        if (reason == -1)
            dbg_printf(d, "%s %d: every VM exit\n", what, b->id);
        else if (reason >= 0)
            dbg_printf(d, "%s %d: VM exit %d (%s)\n", what, b->id, reason, reason_name(reason));
        else {
            dbg_printf(d, "%s %d: VM exits", what, b->id);
            for (int r = 0; r < VMX_EXIT_REASONS; r++)
                if ((mask[r / 64] >> (r % 64)) & 1)
                    dbg_printf(d, " %d (%s)", r, reason_name(r));
            dbg_printf(d, "\n");
        }
        return true;
    }
    if (!strcmp(w, "vmentry")) {
        if ((b = bp_add(d, BP_CATCH_VMENTRY))) {
            b->caught = what[0] == 'C';
            dbg_printf(d, "%s %d: VM entry\n", what, b->id);
        }
        return true;
    }
    if (!strcmp(w, "vmentry-fail")) {
        if ((b = bp_add(d, BP_VMENTRY_FAIL))) {
            b->caught = what[0] == 'C';
            dbg_printf(d, "%s %d: failed VM entry\n", what, b->id);
        }
        return true;
    }
    if (!strcmp(w, "invept") || !strcmp(w, "vmx-insn")) {
        int reason = w[0] == 'i' ? VMX_EXIT_INVEPT : -1;
        if (w[0] == 'v' && argc > 2) {
            reason = vmx_exit_reason_by_name(argv[2]);
            if (!is_vmx_insn(reason)) {
                dbg_printf(d, "vmx-insn: '%s' is no VMX instruction (vmxon, vmptrld, vmread, "
                              "vmwrite, vmlaunch, vmresume, invept, invvpid, ...)\n", argv[2]);
                return true;
            }
        }
        if (!(b = bp_add(d, BP_VMX_INSN)))
            return true;
        b->vector = reason;
        b->caught = what[0] == 'C';
        dbg_printf(d, "%s %d: %s in VMX root operation\n", what, b->id,
                   reason < 0 ? "every VMX instruction" : reason_name(reason));
        return true;
    }
    return false;
}

/* a BP_CATCH_VMEXIT's test */
bool bp_vmexit_matches(const struct bp *b, unsigned basic)
{
    if (b->vector == -2)
        return basic < VMX_EXIT_REASONS && ((b->reasons[basic / 64] >> (basic % 64)) & 1);
    return b->vector < 0 || (unsigned)b->vector == basic;
}

DBG_HANDLER(cmd_break)
{
    if (argc > 1 && add_vmx_break(d, argc, argv, "Breakpoint"))
        return CMD_STAY;
    return add_break(d, rest, false);
}

DBG_HANDLER(cmd_tbreak)
{
    (void)argc, (void)argv;
    return add_break(d, rest, true);
}

static enum cmd_result add_watch(struct debugger *d, int argc, char **argv, int access)
{
    if (argc < 2) {
        dbg_printf(d, "usage: %s ADDR [LEN]\n", argv[0]);
        return CMD_STAY;
    }
    uint64_t a, len = 1;
    bool phys;
    if (!dbg_parse_addr(d, argv[1], &a, &phys))
        return CMD_STAY;
    if (argc > 2 && (!dbg_eval(d, argv[2], &len) || len == 0)) {
        if (len == 0)
            dbg_printf(d, "the length must be positive\n");
        return CMD_STAY;
    }
    struct bp *b = bp_add(d, BP_WATCH);
    if (!b)
        return CMD_STAY;
    b->addr = a;
    b->len = len;
    b->phys = phys;
    b->access = access;
    static const char *const what[4] = {"", "Read watchpoint", "Watchpoint", "Access watchpoint"};
    dbg_printf(d, "%s %d: %s0x%" PRIx64 " (%" PRIu64 " bytes)\n", what[access], b->id,
               phys ? "p:" : "", a, len);
    return CMD_STAY;
}

DBG_HANDLER(cmd_watch)
{
    (void)rest;
    return add_watch(d, argc, argv, WATCH_W);
}

DBG_HANDLER(cmd_rwatch)
{
    (void)rest;
    return add_watch(d, argc, argv, WATCH_R);
}

DBG_HANDLER(cmd_awatch)
{
    (void)rest;
    return add_watch(d, argc, argv, WATCH_R | WATCH_W);
}

static const char *const vector_names[22] = {"de", "db", "nmi", "bp", "of", "br", "ud", "nm",
                                             "df", NULL, "ts", "np", "ss", "gp", "pf", NULL,
                                             "mf", "ac", "mc", "xm", "ve", "cp"};

DBG_HANDLER(cmd_catch)
{
    (void)rest;
    if (argc < 2) {
        dbg_printf(d, "usage: catch exception|interrupt [VECTOR] | catch mode | catch VMX-EVENT "
                      "| catch module [NAME] (`help break`)\n");
        return CMD_STAY;
    }
    if (!strcmp(argv[1], "mode")) {
        struct bp *b = bp_add(d, BP_CATCH_MODE);
        if (b)
            dbg_printf(d, "Catchpoint %d: mode switch\n", b->id);
        return CMD_STAY;
    }
    if (!strcmp(argv[1], "module")) {
        if (!d->mods) {
            dbg_printf(d, "catch module needs `symbols modules DIR` first\n");
            return CMD_STAY;
        }
        struct bp *b = bp_add(d, BP_CATCH_MODULE);
        if (!b)
            return CMD_STAY;
        b->name = argc > 2 ? strdup(argv[2]) : NULL;
        dbg_printf(d, "Catchpoint %d: module %s loaded (after its symbols)\n", b->id,
                   argc > 2 ? argv[2] : "(any)");
        return CMD_STAY;
    }
    if (add_vmx_break(d, argc, argv, "Catchpoint"))
        return CMD_STAY;
    if (strncmp(argv[1], "exception", strlen(argv[1])) &&
        strncmp(argv[1], "interrupt", strlen(argv[1])) && strcmp(argv[1], "vector")) {
        dbg_printf(d, "catch what? (exception, interrupt, mode, module, or a VMX event: "
                      "`help break`)\n");
        return CMD_STAY;
    }
    int vec = -1;
    if (argc > 2) {
        const char *v = argv[2][0] == '#' ? argv[2] + 1 : argv[2];
        for (int k = 0; k < 22; k++)
            if (vector_names[k] && !strcasecmp(vector_names[k], v))
                vec = k;
        if (vec < 0) {
            uint64_t x;
            if (!dbg_eval(d, argv[2], &x))
                return CMD_STAY;
            if (x > 255) {
                dbg_printf(d, "vectors are 0-255\n");
                return CMD_STAY;
            }
            vec = (int)x;
        }
    }
    struct bp *b = bp_add(d, BP_CATCH_VECTOR);
    if (!b)
        return CMD_STAY;
    b->vector = vec;
    if (vec < 0)
        dbg_printf(d, "Catchpoint %d: every exception and interrupt\n", b->id);
    else
        dbg_printf(d, "Catchpoint %d: vector %d\n", b->id, vec);
    return CMD_STAY;
}

/* delete/disable/enable [ID...] */
static enum cmd_result for_ids(struct debugger *d, int argc, char **argv, int action)
{
    if (argc < 2) {
        if (action == 0) {
            for (int k = d->nbps - 1; k >= 0; k--)
                if (!d->bps[k].gdb)
                    bp_remove(d, &d->bps[k]);
        } else {
            for (int k = 0; k < d->nbps; k++)
                d->bps[k].enabled = action > 0;
        }
        return CMD_STAY;
    }
    for (int i = 1; i < argc; i++) {
        struct bp *b = bp_by_id(d, atoi(argv[i]));
        if (!b) {
            dbg_printf(d, "no breakpoint %s\n", argv[i]);
            continue;
        }
        if (action == 0)
            bp_remove(d, b);
        else
            b->enabled = action > 0;
    }
    return CMD_STAY;
}

DBG_HANDLER(cmd_delete)
{
    (void)rest;
    return for_ids(d, argc, argv, 0);
}

DBG_HANDLER(cmd_disable)
{
    (void)rest;
    return for_ids(d, argc, argv, -1);
}

DBG_HANDLER(cmd_enable)
{
    (void)rest;
    return for_ids(d, argc, argv, 1);
}

void info_breakpoints(struct debugger *d)
{
    if (!d->nbps) {
        dbg_printf(d, "no breakpoints, watchpoints, catchpoints or traces\n");
        return;
    }
    dbg_printf(d, "%-4s %-11s %-4s %-22s %s\n", "id", "type", "on", "where", "hits");
    for (int k = 0; k < d->nbps; k++) {
        const struct bp *b = &d->bps[k];
        char where[200], s[160];
        const char *type = "";
        switch (b->kind) {
        case BP_EXEC:
            type = b->temp ? "tbreak" : "breakpoint";
            snprintf(where, sizeof(where), "%s0x%" PRIx64 "%s", b->phys ? "p:" : "", b->addr,
                     b->phys ? "" : dbg_sym(d, b->addr, s, sizeof(s)));
            break;
        case BP_WATCH:
            type = b->access == WATCH_W ? "watch" : b->access == WATCH_R ? "rwatch" : "awatch";
            snprintf(where, sizeof(where), "%s0x%" PRIx64 " len %" PRIu64, b->phys ? "p:" : "",
                     b->addr, b->len);
            break;
        case BP_CATCH_VECTOR:
            type = "catch";
            if (b->vector < 0)
                snprintf(where, sizeof(where), "any vector");
            else
                snprintf(where, sizeof(where), "vector %d", b->vector);
            break;
        case BP_CATCH_MODE:
            type = "catch";
            snprintf(where, sizeof(where), "mode switch");
            break;
        case BP_CATCH_VMEXIT:
            type = "vmexit";
            if (b->vector == -1)
                snprintf(where, sizeof(where), "any VM exit");
            else if (b->vector >= 0)
                snprintf(where, sizeof(where), "VM exit %d", b->vector);
            else
                snprintf(where, sizeof(where), "several VM exits");
            break;
        case BP_CATCH_VMENTRY:
            type = "vmentry";
            snprintf(where, sizeof(where), "VM entry");
            break;
        case BP_VMENTRY_FAIL:
            type = "vmentry";
            snprintf(where, sizeof(where), "failed VM entry");
            break;
        case BP_VMX_INSN:
            type = "vmx-insn";
            snprintf(where, sizeof(where), "%s", b->vector < 0 ? "any" : reason_name(b->vector));
            break;
        case BP_EPT_WATCH:
            type = "ept watch";
            snprintf(where, sizeof(where), "guest-physical 0x%" PRIx64, b->addr);
            break;
        case BP_CATCH_MODULE:
            type = "catch";
            snprintf(where, sizeof(where), "module %s", b->name ? b->name : "(any)");
            break;
        case BP_TRACE:
            type = "trace";
            snprintf(where, sizeof(where), "%s0x%" PRIx64 "%s", b->phys ? "p:" : "", b->addr,
                     b->phys ? "" : dbg_sym(d, b->addr, s, sizeof(s)));
            break;
        }
        dbg_printf(d, "%-4d %-11s %-4s %-22s %" PRIu64 "%s%s%s\n", b->id, type,
                   b->enabled ? "y" : "n", where, b->hits, b->cond_text ? "  if " : "",
                   b->cond_text ? b->cond_text : "", b->gdb ? "  (gdb)" : "");
    }
}

/* trace SYMBOL|ADDR [stack] | trace show | trace clear */
DBG_HANDLER(cmd_trace)
{
    (void)rest;
    if (argc > 1 && vtrace_command(d, argc, argv))
        return CMD_STAY;
    if (argc > 2 && !strcmp(argv[1], "call")) { /* trace call SYMBOL: the same as trace SYMBOL */
        argc--;
        argv++;
    }
    if (argc < 2 || !strcmp(argv[1], "show")) {
        bool any = false;
        for (int k = 0; k < d->nbps; k++) {
            const struct bp *b = &d->bps[k];
            if (b->kind != BP_TRACE)
                continue;
            char s[160];
            if (!any)
                dbg_printf(d, "%-4s %-40s %s\n", "id", "address", "hits");
            any = true;
            dbg_printf(d, "%-4d %s0x%-16" PRIx64 "%-22s %" PRIu64 "\n", b->id, b->phys ? "p:" : "",
                       b->addr, b->phys ? "" : dbg_sym(d, b->addr, s, sizeof(s)), b->hits);
            for (int i = 0; i < b->nstacks; i++)
                dbg_printf(d, "       %8" PRIu64 " %s\n", b->stack[i].count, b->stack[i].text);
        }
        bool vmx = d->vtrace.exits || d->vtrace.ept;
        if (!any && !vmx)
            dbg_printf(d, "no traces (trace SYMBOL|ADDR [stack], trace vmexit, trace ept)\n");
        vtrace_show(d);
        return CMD_STAY;
    }
    if (!strcmp(argv[1], "clear")) {
        for (int k = d->nbps - 1; k >= 0; k--)
            if (d->bps[k].kind == BP_TRACE)
                bp_remove(d, &d->bps[k]);
        return CMD_STAY;
    }
    uint64_t a;
    bool phys;
    if (!dbg_parse_addr(d, argv[1], &a, &phys))
        return CMD_STAY;
    struct bp *b = bp_add(d, BP_TRACE);
    if (!b)
        return CMD_STAY;
    b->addr = a;
    b->phys = phys;
    b->stacks = argc > 2 && !strcmp(argv[2], "stack");
    char s[160];
    dbg_printf(d, "Trace %d: counting hits at %s0x%" PRIx64 "%s%s\n", b->id, phys ? "p:" : "", a,
               phys ? "" : dbg_sym(d, a, s, sizeof(s)), b->stacks ? " with call stacks" : "");
    return CMD_STAY;
}
