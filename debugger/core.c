/* debugger/core.c — the debugger's life cycle: CPU hooks, stopping and
 * resuming, the command loop (script, then readline), guest memory as
 * the debugger sees it (no side effects), SIGINT break-in. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "debugger/dbg.h"
#include "frontend/config.h"
#include "vmx/vmx.h"
#include "mmu/mmu.h"

static volatile sig_atomic_t sigint_seen;
static struct cpu *sigint_cpu;

static void on_sigint(int sig)
{
    (void)sig;
    sigint_seen = 1;
    if (sigint_cpu)
        cpu_request_stop(sigint_cpu); /* an atomic OR: safe in a handler */
}

void dbg_printf(struct debugger *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
}

uint64_t dbg_pc(const struct cpu *c)
{
    if (c->code_size == 8)
        return c->rip;
    return (uint32_t)(c->seg[SEG_CS].base + c->rip);
}

static uint64_t wrap_lin(const struct debugger *d, uint64_t lin)
{
    return d->c->mode == MODE_LONG ? lin : (uint32_t)lin;
}

bool dbg_lin_to_phys(struct debugger *d, uint64_t lin, uint64_t *pa)
{
    struct mmu_walk_explain w;
    mmu_walk_explain(&d->c->mmu, wrap_lin(d, lin), MMU_READ, false, &w);
    if (!w.ok)
        return false;
    *pa = w.pa;
    return true;
}

/* Copies page by page; 'write' goes into RAM (phys_copy_in keeps the
 * decoded-instruction cache honest). */
static size_t lin_copy(struct debugger *d, uint64_t lin, void *buf, size_t len, bool write)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = wrap_lin(d, lin + done), pa;
        size_t chunk = 4096 - (a & 0xfff);
        if (chunk > len - done)
            chunk = len - done;
        if (!dbg_lin_to_phys(d, a, &pa))
            break;
        int r = write ? phys_copy_in(&d->m->phys, pa, (const uint8_t *)buf + done, chunk)
                      : phys_copy_out(&d->m->phys, pa, (uint8_t *)buf + done, chunk);
        if (r)
            break;
        done += chunk;
    }
    return done;
}

size_t dbg_read_lin(struct debugger *d, uint64_t lin, void *buf, size_t len)
{
    return lin_copy(d, lin, buf, len, false);
}

size_t dbg_write_lin(struct debugger *d, uint64_t lin, const void *buf, size_t len)
{
    return lin_copy(d, lin, (void *)buf, len, true);
}

size_t dbg_read_phys(struct debugger *d, uint64_t pa, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t chunk = 4096 - ((pa + done) & 0xfff);
        if (chunk > len - done)
            chunk = len - done;
        if (phys_copy_out(&d->m->phys, pa + done, (uint8_t *)buf + done, chunk))
            break;
        done += chunk;
    }
    return done;
}

const char *dbg_sym(struct debugger *d, uint64_t addr, char *buf, size_t len)
{
    uint64_t off;
    const struct dbg_sym *s = sym_find(&d->syms, addr, &off);
    if (!s) {
        buf[0] = 0;
    } else if (off) {
        snprintf(buf, len, " <%s+0x%llx>", s->name, (unsigned long long)off);
    } else {
        snprintf(buf, len, " <%s>", s->name);
    }
    return buf;
}

const char *debugger_symbolize(struct debugger *d, uint64_t addr, char *buf, size_t len)
{
    uint64_t off;
    const struct dbg_sym *s = sym_find(&d->syms, addr, &off);
    if (!s)
        buf[0] = 0;
    else if (off)
        snprintf(buf, len, "%s+0x%llx", s->name, (unsigned long long)off);
    else
        snprintf(buf, len, "%s", s->name);
    return buf;
}

unsigned debugger_disas(struct debugger *d, uint64_t lin, char *buf, size_t len)
{
    return disas_one(d, lin, false, buf, len, NULL);
}

bool dbg_parse_addr(struct debugger *d, const char *text, uint64_t *addr, bool *phys)
{
    while (*text == ' ')
        text++;
    *phys = false;
    if ((text[0] == 'p' || text[0] == 'P') && text[1] == ':') {
        *phys = true;
        text += 2;
    }
    return dbg_eval(d, text, addr);
}

void dbg_request_stop(struct debugger *d, int signal, const char *fmt, ...)
{
    if (d->stop_pending)
        return; /* the first reason for this stop is the one reported */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
    d->signal = signal;
    d->stop_pending = true;
    machine_request_stop(d->m, MACHINE_DEBUG, 0, d->reason);
}

/* ---- the CPU hooks ---- */

static void trace_hit(struct debugger *d, struct bp *b)
{
    b->hits++;
    if (!b->stacks)
        return;
    /* the call stack as "a <- b <- c", from the frame-pointer chain */
    char text[512];
    size_t n = 0;
    uint64_t fp = d->c->r[R_RBP];
    unsigned w = d->c->code_size == 8 ? 8 : 4;
    uint64_t ret = dbg_ret_addr_at_entry(d);
    for (int depth = 0; depth < 8 && n < sizeof(text) - 64; depth++) {
        if (!ret) {
            uint64_t frame[2] = {0, 0};
            if (!fp || dbg_read_lin(d, fp, frame, 2 * w) != 2 * w)
                break;
            if (w == 4) {
                uint32_t f32[2];
                memcpy(f32, frame, 8);
                frame[0] = f32[0];
                frame[1] = f32[1];
            }
            ret = frame[1];
            if (frame[0] <= fp)
                fp = 0;
            else
                fp = frame[0];
        }
        char s[128];
        debugger_symbolize(d, ret, s, sizeof(s));
        n += (size_t)snprintf(text + n, sizeof(text) - n, " <- %s",
                              s[0] ? s : "?");
        ret = 0;
        if (!fp)
            break;
    }
    text[n] = 0;
    for (int k = 0; k < b->nstacks; k++)
        if (!strcmp(b->stack[k].text, text)) {
            b->stack[k].count++;
            return;
        }
    if (b->nstacks < 16) {
        b->stack[b->nstacks].text = strdup(text);
        if (b->stack[b->nstacks].text)
            b->stack[b->nstacks++].count = 1;
    }
}

static const char *mode_name(enum cpu_mode m, unsigned code_size)
{
    switch (m) {
    case MODE_REAL: return "real mode";
    case MODE_V86: return "virtual-8086 mode";
    case MODE_PROT: return code_size == 4 ? "32-bit protected mode" : "16-bit protected mode";
    case MODE_COMPAT: return code_size == 4 ? "compatibility mode (32-bit)"
                                            : "compatibility mode (16-bit)";
    case MODE_LONG: return "64-bit mode";
    }
    return "?";
}

/* A RET (or IRET) about to run: the end of the function 'finish' waits for. */
static bool at_return(struct debugger *d, uint64_t pc)
{
    uint8_t b[8];
    size_t n = dbg_read_lin(d, pc, b, sizeof(b));
    size_t k = 0;
    while (k < n && (b[k] == 0x66 || b[k] == 0xf2 || b[k] == 0xf3 ||
                     (d->c->code_size == 8 && (b[k] & 0xf0) == 0x40)))
        k++;
    return k < n && (b[k] == 0xc3 || b[k] == 0xc2 || b[k] == 0xcf);
}

static bool hook_before(void *opaque, struct cpu *c)
{
    struct debugger *d = opaque;
    if (d->have_tracer && d->tracer.before)
        d->tracer.before(d->tracer.opaque, c);
    uint64_t pc = dbg_pc(c);
    bool resumed_here = false;
    if (d->skip_once) {
        d->skip_once = false;
        resumed_here = pc == d->skip_lin && c->icount == d->skip_icount;
    }
    if (d->mods && !resumed_here && modsyms_before(d, pc))
        return true;

    if (c->mode != d->last_mode || c->code_size != d->last_code_size) {
        const char *from = mode_name(d->last_mode, d->last_code_size);
        d->last_mode = c->mode;
        d->last_code_size = c->code_size;
        for (int k = 0; k < d->nbps; k++) {
            struct bp *b = &d->bps[k];
            if (b->kind == BP_CATCH_MODE && b->enabled) {
                b->hits++;
                dbg_request_stop(d, 5, "Catchpoint %d: mode switch from %s to %s", b->id, from,
                                 mode_name(c->mode, c->code_size));
                return true;
            }
        }
    }

    if (!resumed_here) {
        bool have_pa = false;
        uint64_t pa = 0;
        for (int k = 0; k < d->nbps; k++) {
            struct bp *b = &d->bps[k];
            if (!b->enabled || (b->kind != BP_EXEC && b->kind != BP_TRACE))
                continue;
            if (b->phys) {
                if (!have_pa) {
                    struct mmu_walk_explain w;
                    mmu_walk_explain(&c->mmu, pc, MMU_FETCH, c->cpl == 3, &w);
                    if (!w.ok)
                        continue;
                    pa = w.pa;
                    have_pa = true;
                }
                if (b->addr != pa)
                    continue;
            } else if (b->addr != pc) {
                continue;
            }
            if (b->cond) {
                uint64_t v;
                if (!expr_eval(d, b->cond, &v) || !v)
                    continue;
            }
            if (b->kind == BP_TRACE) {
                trace_hit(d, b);
                continue;
            }
            b->hits++;
            if (b->gdb)
                d->gdb_break = b->hw ? 2 : 1;
            char s[160];
            dbg_request_stop(d, 5, "%s %d at %s0x%llx%s", b->temp ? "Temporary breakpoint"
                                                                   : "Breakpoint",
                             b->id, b->phys ? "p:" : "", (unsigned long long)b->addr,
                             dbg_sym(d, pc, s, sizeof(s)));
            if (b->temp)
                bp_remove(d, b);
            return true;
        }
    }

    switch (d->mode) {
    case RUN_CONT:
        break;
    case RUN_STEP:
        if (d->irq_skip) {
            if (c->rip != d->irq_return)
                break;
            d->irq_skip = false;
        }
        if (d->step_left == 0) {
            dbg_request_stop(d, 5, "step");
            return true;
        }
        d->step_left--;
        break;
    case RUN_NEXT:
        if (pc == d->target && c->r[R_RSP] == d->target_sp) {
            dbg_request_stop(d, 5, "next");
            return true;
        }
        break;
    case RUN_FINISH:
        if (d->step_left) { /* the RET ran: this is the caller's next instruction */
            dbg_request_stop(d, 5, "finish");
            return true;
        }
        if (c->r[R_RSP] >= d->target_sp && at_return(d, pc))
            d->step_left = 1;
        break;
    case RUN_UNTIL:
        if (pc == d->target) {
            dbg_request_stop(d, 5, "until");
            return true;
        }
        break;
    }
    return false;
}

static const char *const exc_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9", "#TS", "#NP",
    "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

static void hook_event(void *opaque, struct cpu *c, int vector, int kind)
{
    struct debugger *d = opaque;
    if (d->have_tracer && d->tracer.event)
        d->tracer.event(d->tracer.opaque, c, vector, kind);
    if (d->mode == RUN_STEP && !d->step_into_irq && !d->irq_skip &&
        (kind == CPU_EVENT_EXTERNAL || kind == CPU_EVENT_NMI)) {
        /* step runs an asynchronous handler to its return (stepi enters it) */
        d->irq_skip = true;
        d->irq_return = c->insn_rip;
    }
    for (int k = 0; k < d->nbps; k++) {
        struct bp *b = &d->bps[k];
        if (b->kind != BP_CATCH_VECTOR || !b->enabled || (b->vector >= 0 && b->vector != vector))
            continue;
        b->hits++;
        const char *what = kind == CPU_EVENT_EXCEPTION ? "exception"
                           : kind == CPU_EVENT_EXTERNAL ? "external interrupt"
                           : kind == CPU_EVENT_NMI      ? "NMI"
                                                     : "software interrupt";
        char err[48] = "";
        if (kind == CPU_EVENT_EXCEPTION && c->exc_has_error)
            snprintf(err, sizeof(err), ", error code 0x%x", c->exc_error);
        dbg_request_stop(d, 5, "Catchpoint %d: %s %s (vector %d)%s, from 0x%llx", b->id, what,
                         vector < 32 && exc_names[vector] ? exc_names[vector] : "", vector, err,
                         (unsigned long long)c->insn_rip);
        return;
    }
}

/* " guest rip 0x... <sym>, host rip 0x... <sym>" after an exit */
static void exit_rips(struct debugger *d, char *buf, size_t len)
{
    char gs[160], hs[160];
    uint64_t grip = d->c->vmx.vmcs.f[VF_GUEST_RIP], hrip = dbg_pc(d->c);
    snprintf(buf, len, ", guest rip 0x%llx%s, host rip 0x%llx%s", (unsigned long long)grip,
             dbg_sym(d, grip, gs, sizeof(gs)), (unsigned long long)hrip,
             dbg_sym(d, hrip, hs, sizeof(hs)));
}

/* VMX events (enum cpu_vmx_event): snapshots for `vmcs diff`, the
 * `trace vmexit`/`trace ept` counters, then the VMX breakpoints.  After
 * an exit the next instruction is the host's; after an entry the
 * guest's first; after an instruction the one that follows it. */
static void hook_vmx(void *opaque, struct cpu *c, int event, uint32_t code, uint64_t arg)
{
    struct debugger *d = opaque;
    if (d->snapshots && (event == CPU_VMX_EXIT || event == CPU_VMX_ENTRY))
        vmcs_snapshot(d, event == CPU_VMX_EXIT);
    if (event == CPU_VMX_ENTRY) {
        d->last_entry_rip = c->insn_rip;
        ewatch_vmentry(d); /* the EPTP in use now: re-arm `ept watch` */
    }
    /* the missing-invalidation detector records at exits, checks at entries */
    if (d->inv && (event == CPU_VMX_EXIT || event == CPU_VMX_ENTRY))
        invcheck_vmx(d, event == CPU_VMX_EXIT, event == CPU_VMX_EXIT ? code : 0);
    vtrace_event(d, event, code, arg);
    unsigned basic = code & 0xffff;
    bool failed_entry = event == CPU_VMX_ENTRY_VMFAIL ||
                        (event == CPU_VMX_EXIT && (code & VMX_EXIT_REASON_ENTRY_FAIL));
    char line[512], rips[400], s[160];
    for (int k = 0; k < d->nbps; k++) {
        struct bp *b = &d->bps[k];
        if (!b->enabled)
            continue;
        const char *what = b->caught ? "Catchpoint" : "Breakpoint";
        if (event == CPU_VMX_EXIT && b->kind == BP_CATCH_VMEXIT && bp_vmexit_matches(b, basic)) {
            b->hits++;
            vmxd_exit_line(&c->vmx.vmcs, line, sizeof(line));
            exit_rips(d, rips, sizeof(rips));
            /* the check a failed entry broke, the entry a misconfiguration
             * tripped on: what the exit fields cannot say */
            const char *why = failed_entry ? c->vmx.entry_failure
                              : basic == VMX_EXIT_EPT_MISCONFIG ? c->vmx.ept.misconfig : NULL;
            dbg_request_stop(d, 5, "%s %d: %s%s%s%s", what, b->id, line, rips, why ? ": " : "",
                             why ? why : "");
            return;
        }
        if (failed_entry && b->kind == BP_VMENTRY_FAIL) {
            b->hits++;
            if (event == CPU_VMX_ENTRY_VMFAIL) {
                const char *err = vmx_error_name(code);
                dbg_request_stop(d, 5, "%s %d: VM entry failed (VMfailValid %u: %s): %s, "
                                       "at 0x%llx%s", what, b->id, code, err ? err : "?",
                                 c->vmx.entry_failure ? c->vmx.entry_failure : "?",
                                 (unsigned long long)c->insn_rip,
                                 dbg_sym(d, c->insn_rip, s, sizeof(s)));
            } else {
                const char *name = vmx_exit_reason_name(basic);
                dbg_request_stop(d, 5, "%s %d: VM entry failed (exit reason %u, %s): %s, "
                                       "VMLAUNCH/VMRESUME at 0x%llx%s", what, b->id, basic,
                                 name ? name : "?",
                                 c->vmx.entry_failure ? c->vmx.entry_failure : "?",
                                 (unsigned long long)c->insn_rip,
                                 dbg_sym(d, c->insn_rip, s, sizeof(s)));
            }
            return;
        }
        if (event == CPU_VMX_ENTRY && b->kind == BP_CATCH_VMENTRY) {
            b->hits++;
            uint64_t grip = dbg_pc(c);
            dbg_request_stop(d, 5, "%s %d: VM entry to guest rip 0x%llx%s, from 0x%llx%s", what,
                             b->id, (unsigned long long)grip, dbg_sym(d, grip, line, 160),
                             (unsigned long long)c->insn_rip,
                             dbg_sym(d, c->insn_rip, s, sizeof(s)));
            return;
        }
        if (event == CPU_VMX_INSN && b->kind == BP_VMX_INSN &&
            (b->vector < 0 || (unsigned)b->vector == code)) {
            b->hits++;
            const char *name = vmx_exit_reason_name(code);
            char type[32] = "";
            if (code == VMX_EXIT_INVEPT || code == VMX_EXIT_INVVPID)
                snprintf(type, sizeof(type), " type %llu", (unsigned long long)arg);
            dbg_request_stop(d, 5, "%s %d: %s%s executed at 0x%llx%s", what, b->id,
                             name ? name : "?", type, (unsigned long long)c->insn_rip,
                             dbg_sym(d, c->insn_rip, s, sizeof(s)));
            return;
        }
    }
}

static void hook_mem(void *opaque, struct cpu *c, uint64_t lin, uint64_t pa, unsigned size,
                     bool write)
{
    struct debugger *d = opaque;
    if (d->have_tracer && d->tracer.mem)
        d->tracer.mem(d->tracer.opaque, c, lin, pa, size, write);
    /* the hypervisor writing its EPT (root mode) */
    if (write && d->inv && !c->vmx.nonroot)
        invcheck_write(d, pa, size);
    if (d->stop_pending)
        return;
    if (write && !c->vmx.nonroot && ewatch_write(d, pa, size))
        return;
    for (int k = 0; k < d->nbps; k++) {
        struct bp *b = &d->bps[k];
        if (b->kind != BP_WATCH || !b->enabled || !(b->access & (write ? WATCH_W : WATCH_R)))
            continue;
        uint64_t a = b->phys ? pa : lin;
        if (a + size <= b->addr || a >= b->addr + b->len)
            continue;
        b->hits++;
        char s[160];
        d->watch_kind = b->gdb ? b->access : 0;
        d->watch_addr = b->addr;
        dbg_request_stop(d, 5, "Watchpoint %d: %s of %u bytes at 0x%llx (p:0x%llx) by the "
                               "instruction at 0x%llx%s",
                         b->id, write ? "write" : "read", size, (unsigned long long)lin,
                         (unsigned long long)pa, (unsigned long long)c->insn_rip,
                         dbg_sym(d, c->insn_rip, s, sizeof(s)));
        return;
    }
}

void dbg_update_hooks(struct debugger *d)
{
    bool active = d->mode != RUN_CONT || (d->have_tracer && d->tracer.before);
    bool watch = d->have_tracer && d->tracer.mem;
    for (int k = 0; k < d->nbps; k++) {
        const struct bp *b = &d->bps[k];
        if (!b->enabled)
            continue;
        if (b->kind == BP_EXEC || b->kind == BP_TRACE || b->kind == BP_CATCH_MODE)
            active = true;
        if (b->kind == BP_WATCH || b->kind == BP_EPT_WATCH)
            watch = true;
    }
    if (d->inv)
        watch = true;
    if (d->mods)
        active = true;
    cpu_debug_config(d->c, active, watch);
}

void dbg_resume(struct debugger *d, enum run_mode mode, uint64_t count)
{
    d->mode = mode;
    d->step_left = count;
    d->irq_skip = false;
}

/* ---- the command loop ---- */

void dbg_print_location(struct debugger *d)
{
    char text[160];
    uint64_t pc = dbg_pc(d->c);
    char s[160];
    if (!disas_one(d, pc, false, text, sizeof(text), NULL))
        snprintf(text, sizeof(text), "(cannot read memory)");
    dbg_printf(d, "=> 0x%016llx%s:  %s\n", (unsigned long long)pc, dbg_sym(d, pc, s, sizeof(s)),
               text);
}

static char *next_line(struct debugger *d, bool *paused)
{
    d->snapshots = true; /* the debugger is in use: keep what `vmcs diff` shows */
    for (;;) {
        if (d->script) {
            char *line = NULL;
            size_t cap = 0;
            ssize_t n = getline(&line, &cap, d->script);
            if (n < 0) {
                free(line);
                fclose(d->script);
                d->script = NULL;
                continue;
            }
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
            char *p = line;
            while (*p == ' ' || *p == '\t')
                p++;
            if (!*p || *p == '#') {
                free(line);
                continue;
            }
            dbg_printf(d, "(nest86) %s\n", p);
            return line;
        }
        if (!d->interactive) {
            fflush(d->out);
            fprintf(stderr, "nest86: no more debugger commands (no script and stdin is not "
                            "a terminal): quitting\n");
            return NULL;
        }
        if (!*paused) {
            if (d->term.pause)
                d->term.pause(d->term.opaque);
            *paused = true;
        }
        if (!d->history_loaded) {
            d->history_loaded = true;
            stifle_history(1000);
            if (d->history_path[0])
                read_history(d->history_path);
        }
        fflush(d->out);
        char *line = readline("(nest86) ");
        if (!line) {
            dbg_printf(d, "quit\n");
            return NULL;
        }
        if (*line) {
            HIST_ENTRY *last = history_length ? history_get(history_base + history_length - 1)
                                              : NULL;
            if (!last || strcmp(last->line, line))
                add_history(line);
        } else if (history_length) {
            /* an empty line repeats a step command, as in gdb */
            HIST_ENTRY *last = history_get(history_base + history_length - 1);
            if (last && (!strncmp(last->line, "s", 1) || !strncmp(last->line, "n", 1))) {
                free(line);
                return strdup(last->line);
            }
        }
        return line;
    }
}

static enum cmd_result command_loop(struct debugger *d)
{
    bool paused = false;
    enum cmd_result r = CMD_STAY;
    while (r == CMD_STAY) {
        char *line = next_line(d, &paused);
        if (!line) {
            r = CMD_QUIT;
            break;
        }
        r = dbg_execute(d, line);
        free(line);
        fflush(d->out);
    }
    if (paused && d->term.resume)
        d->term.resume(d->term.opaque);
    return r;
}

void debugger_enter(struct machine *m, void *opaque)
{
    struct debugger *d = opaque;
    (void)m;
    if (!d->stop_pending) /* the console or the board stopped us */
        snprintf(d->reason, sizeof(d->reason), "%s", m->stop_message);
    d->stop_pending = false;
    ept_step_done(d);
    d->mode = RUN_CONT;
    d->irq_skip = false;

    enum cmd_result r;
    if (d->gdb && !d->by_console && (gdb_attached(d->gdb) || !d->script)) {
        if (!gdb_attached(d->gdb)) {
            fprintf(stderr, "nest86: waiting for a GDB connection\n");
            gdb_poll(d->gdb, true);
        }
        ewatch_after_stop(d, false);
        r = gdb_serve(d->gdb);
    } else {
        if (d->reason[0])
            dbg_printf(d, "stopped: %s\n", d->reason);
        if (d->stop_detail)
            dbg_printf(d, "%s", d->stop_detail);
        ewatch_after_stop(d, true);
        dbg_print_location(d);
        r = command_loop(d);
    }
    free(d->stop_detail);
    d->stop_detail = NULL;
    d->by_console = false;
    d->watch_kind = 0;
    d->gdb_break = 0;
    d->reason[0] = 0;
    sigint_seen = 0;
    fflush(d->out);
    if (r == CMD_QUIT) {
        machine_request_stop(d->m, MACHINE_EXIT, 0, "quit from the debugger");
        return;
    }
    d->skip_once = true;
    d->skip_lin = dbg_pc(d->c);
    d->skip_icount = d->c->icount;
    d->last_mode = d->c->mode;
    d->last_code_size = d->c->code_size;
    dbg_update_hooks(d);
}

/* ---- life cycle ---- */

struct debugger *debugger_create(struct machine *m, const struct config *cfg, char *err,
                                 size_t errlen)
{
    struct debugger *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->m = m;
    d->c = m->cpu;
    d->cfg = cfg;
    d->out = stdout;
    d->next_id = 1;
    d->interactive = isatty(STDIN_FILENO);
    const char *home = getenv("HOME");
    if (home && *home)
        snprintf(d->history_path, sizeof(d->history_path), "%s/.nest86_history", home);
    if (cfg->debug_script) {
        d->script = fopen(cfg->debug_script, "r");
        if (!d->script) {
            snprintf(err, errlen, "-x %s: %s", cfg->debug_script, strerror(errno));
            free(d);
            return NULL;
        }
    }
    /* the kernel's own symbols, when it is an ELF image that has them (a
     * bzImage is not read as a System.map: 7 MB scanned for nothing) */
    if (cfg->kernel && sym_is_elf(cfg->kernel)) {
        char e[256];
        sym_load(&d->syms, cfg->kernel, 0, false, NULL, 0, e, sizeof(e));
    }
    if (cfg->gdb_port) {
        d->gdb = gdb_open(d, cfg->gdb_port, err, errlen);
        if (!d->gdb) {
            if (d->script)
                fclose(d->script);
            sym_free(&d->syms);
            free(d);
            return NULL;
        }
    }
    d->c->dbg_before = hook_before;
    d->c->dbg_event = hook_event;
    d->c->dbg_vmx = hook_vmx;
    d->c->dbg_mem = hook_mem;
    d->c->dbg_opaque = d;
    d->last_mode = d->c->mode;
    d->last_code_size = d->c->code_size;
    d->snapshots = d->interactive || d->script || d->gdb;
    if (d->interactive) {
        /* Ctrl-C breaks in when the terminal is not in raw mode (in raw
         * mode it is byte 0x03 for the guest; use Ctrl-A C there) */
        sigint_cpu = d->c;
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_sigint;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGINT, &sa, NULL);
        rl_attempted_completion_function = dbg_complete;
        dbg_set_completion_debugger(d);
    }
    return d;
}

void debugger_destroy(struct debugger *d, int status)
{
    if (!d)
        return;
    if (d->gdb)
        gdb_close(d->gdb, status);
    bool traced = d->vtrace.exits || d->vtrace.ept;
    for (int k = 0; k < d->nbps; k++)
        traced |= d->bps[k].kind == BP_TRACE;
    if (traced) {
        /* the counts of a run that ended while tracing */
        char *argv[] = {"trace", "show", NULL};
        dbg_printf(d, "trace counts at exit:\n");
        cmd_trace(d, 2, argv, "show");
    }
    if (d->history_loaded && d->history_path[0])
        write_history(d->history_path);
    if (d->script)
        fclose(d->script);
    while (d->nbps)
        bp_remove(d, &d->bps[d->nbps - 1]);
    sym_free(&d->syms);
    invcheck_free(d);
    modsyms_free(d);
    free(d->stop_detail);
    disas_close();
    d->c->dbg_before = NULL;
    d->c->dbg_event = NULL;
    d->c->dbg_vmx = NULL;
    d->c->dbg_mem = NULL;
    cpu_debug_config(d->c, false, false);
    if (sigint_cpu == d->c) {
        signal(SIGINT, SIG_DFL);
        sigint_cpu = NULL;
    }
    fflush(d->out);
    free(d);
}

void debugger_set_terminal(struct debugger *d, const struct dbg_terminal *t)
{
    d->term = *t;
}

void debugger_set_keyboard(struct debugger *d, const struct dbg_keyboard *k)
{
    d->keyboard = *k;
}

void debugger_set_tracer(struct debugger *d, const struct dbg_tracer *t)
{
    d->tracer = *t;
    d->have_tracer = true;
    dbg_update_hooks(d);
}

void debugger_start(struct debugger *d)
{
    if (d->cfg->start_paused || d->script)
        dbg_request_stop(d, 5, "%s", d->cfg->start_paused ? "started paused (-S)"
                                                          : "running the -x script");
}

void debugger_break_in(struct debugger *d, const char *why)
{
    d->by_console = true;
    dbg_request_stop(d, 2, "%s", why);
}

void debugger_poll(struct debugger *d)
{
    if (sigint_seen) {
        sigint_seen = 0;
        debugger_break_in(d, "interrupted (Ctrl-C)");
    }
    if (d->gdb)
        gdb_poll(d->gdb, false);
}
