/* frontend/trace.c — -d tracing through the debugger's observer hooks:
 *   int   every exception and interrupt delivered
 *   exec  every instruction: address, symbol, disassembly
 *   cpu   the general registers before every instruction
 *   mmu   page walks (TLB misses) per instruction and paging-register changes
 *   io    every port access (the I/O bus trace hook), and what devices
 *         note about requests they ignore (io_note)
 *   vmx   VM entries, VM exits and failed VM-entry checks (cpu->vmx_trace)
 *   prof  a sampled profile of the guest by function, at the end
 *         (frontend/prof.c)
 * Tracing per instruction runs the CPU one instruction at a time. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/copyrun.h"
#include "cpu/cpu.h"
#include "cpu/icache.h"
#include "debugger/debugger.h"
#include "devices/machine.h"
#include "frontend/config.h"
#include "frontend/prof.h"
#include "frontend/trace.h"

enum {
#define X(name, bit) T_CAT_##name = bit,
    TRACE_CATEGORIES(X)
#undef X
    T_INT = T_CAT_int, T_EXEC = T_CAT_exec, T_CPU = T_CAT_cpu, T_MMU = T_CAT_mmu,
    T_IO = T_CAT_io, T_STATS = T_CAT_stats, T_VMX = T_CAT_vmx, T_PROF = T_CAT_prof
};

unsigned trace_category_bit(const char *name, size_t len)
{
#define X(cat, bit) if (strlen(#cat) == len && !strncmp(name, #cat, len)) return bit;
    TRACE_CATEGORIES(X)
#undef X
    return 0;
}

struct trace {
    FILE *out;
    unsigned cats;
    struct debugger *d;
    struct machine *m;
    uint64_t walks, cr0, cr3, cr4, efer;
    struct prof *prof;
    void (*extra_stats)(void *opaque, FILE *out);
    void *extra_opaque;
};

void trace_add_stats(struct trace *t, void (*fn)(void *opaque, FILE *out), void *opaque)
{
    if (!t)
        return;
    t->extra_stats = fn;
    t->extra_opaque = opaque;
}

static FILE *trace_io_file; /* the bus hook has no opaque pointer */

static void trace_vmx(void *opaque, const char *line)
{
    struct trace *t = opaque;
    fputs(line, t->out);
}

static void trace_io(const char *dir, uint16_t port, uint32_t value, unsigned size)
{
    fprintf(trace_io_file, "io: %-3s port 0x%04x size %u value 0x%0*x\n", dir, port, size, (int)size * 2,
            value);
}

static void trace_io_note(const char *device, const char *text)
{
    fprintf(trace_io_file, "io: %s: %s\n", device, text);
}

static void trace_before(void *opaque, struct cpu *c)
{
    struct trace *t = opaque;
    uint64_t pc = c->code_size == 8 ? c->rip : (uint32_t)(c->seg[SEG_CS].base + c->rip);
    if (t->cats & T_MMU) {
        const struct mmu *m = &c->mmu;
        if (m->stat_walks != t->walks)
            fprintf(t->out, "mmu: %" PRIu64 " page walk(s) (TLB misses) by the previous "
                            "instruction\n", m->stat_walks - t->walks);
        t->walks = m->stat_walks;
        static const char *const names[4] = {"CR0", "CR3", "CR4", "EFER"};
        uint64_t now[4] = {m->cr0, m->cr3, m->cr4, m->efer};
        uint64_t *was[4] = {&t->cr0, &t->cr3, &t->cr4, &t->efer};
        for (int k = 0; k < 4; k++)
            if (now[k] != *was[k]) {
                fprintf(t->out, "mmu: %s 0x%" PRIx64 " -> 0x%" PRIx64 "\n", names[k], *was[k],
                        now[k]);
                *was[k] = now[k];
            }
    }
    if (t->cats & T_CPU) {
        fprintf(t->out,
                "cpu: rip=%016" PRIx64 " rax=%016" PRIx64 " rbx=%016" PRIx64 " rcx=%016" PRIx64
                " rdx=%016" PRIx64 " rsi=%016" PRIx64 " rdi=%016" PRIx64 " rbp=%016" PRIx64
                " rsp=%016" PRIx64 " r8=%016" PRIx64 " r9=%016" PRIx64 " r10=%016" PRIx64
                " r11=%016" PRIx64 " r12=%016" PRIx64 " r13=%016" PRIx64 " r14=%016" PRIx64
                " r15=%016" PRIx64 " rflags=%08" PRIx64 " cs=%04x ss=%04x cpl=%u\n",
                c->rip, c->r[R_RAX], c->r[R_RBX], c->r[R_RCX], c->r[R_RDX], c->r[R_RSI],
                c->r[R_RDI], c->r[R_RBP], c->r[R_RSP], c->r[R_R8], c->r[R_R9], c->r[R_R10],
                c->r[R_R11], c->r[R_R12], c->r[R_R13], c->r[R_R14], c->r[R_R15],
                cpu_get_flags(c), c->seg[SEG_CS].sel, c->seg[SEG_SS].sel, c->cpl);
    }
    if (t->cats & T_EXEC) {
        char text[160], sym[160];
        if (!debugger_disas(t->d, pc, text, sizeof(text)))
            snprintf(text, sizeof(text), "(cannot read memory)");
        debugger_symbolize(t->d, pc, sym, sizeof(sym));
        fprintf(t->out, "exec: 0x%016" PRIx64 "%s%s%s: %s\n", pc, sym[0] ? " <" : "", sym,
                sym[0] ? ">" : "", text);
    }
}

static void trace_event(void *opaque, struct cpu *c, int vector, int kind)
{
    struct trace *t = opaque;
    if (!(t->cats & T_INT))
        return;
    /* kinds in the CPU's delivery order: exception, INT n, external, NMI, INT1 */
    static const char *const kinds[5] = {"exception", "software", "external", "NMI", "INT1"};
    char err[32] = "";
    if (kind == 0 && c->exc_has_error)
        snprintf(err, sizeof(err), " error 0x%x", c->exc_error);
    fprintf(t->out, "int: vector 0x%02x (%s)%s from rip 0x%" PRIx64 " -> %04x:%016" PRIx64
                    " icount %" PRIu64 "\n",
            vector, kind >= 0 && kind < 5 ? kinds[kind] : "?", err, c->insn_rip,
            c->seg[SEG_CS].sel, c->rip, c->icount);
}

struct trace *trace_open(const struct config *cfg, struct machine *m, struct debugger *d,
                         char *err, size_t errlen)
{
    if (!cfg->trace_spec)
        return NULL;
    struct trace *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    const char *p = cfg->trace_spec;
    while (*p) {
        size_t n = strcspn(p, ",");
        t->cats |= trace_category_bit(p, n);
        p += n;
        if (*p == ',')
            p++;
    }
    t->out = stderr;
    if (cfg->trace_file) {
        t->out = fopen(cfg->trace_file, "w");
        if (!t->out) {
            snprintf(err, errlen, "-D %s: %s", cfg->trace_file, strerror(errno));
            free(t);
            return NULL;
        }
    }
    t->d = d;
    t->m = m;
    const struct mmu *mm = &m->cpu->mmu;
    t->walks = mm->stat_walks;
    t->cr0 = mm->cr0;
    t->cr3 = mm->cr3;
    t->cr4 = mm->cr4;
    t->efer = mm->efer;
    if (t->cats & T_IO) {
        trace_io_file = t->out;
        m->io.trace = trace_io;
        m->io.note = trace_io_note;
    }
    if (t->cats & T_VMX) {
        m->cpu->vmx_trace = trace_vmx;
        m->cpu->vmx_trace_opaque = t;
    }
    if ((t->cats & T_PROF) && !(t->prof = prof_open(m))) {
        snprintf(err, errlen, "-d prof: out of memory");
        if (t->out != stderr)
            fclose(t->out);
        free(t);
        return NULL;
    }
    struct dbg_tracer tr = {NULL, NULL, NULL, t};
    if (t->cats & (T_EXEC | T_CPU | T_MMU))
        tr.before = trace_before;
    if (t->cats & T_INT)
        tr.event = trace_event;
    debugger_set_tracer(d, &tr);
    return t;
}

void trace_close(struct trace *t)
{
    if (!t)
        return;
    if (t->m->io.trace == trace_io)
        t->m->io.trace = NULL;
    if (t->m->cpu->vmx_trace == trace_vmx)
        t->m->cpu->vmx_trace = NULL;
    if (t->m->io.note == trace_io_note)
        t->m->io.note = NULL;
    if (t->cats & T_STATS) {
        const struct cpu *c = t->m->cpu;
        fprintf(t->out, "stats: %" PRIu64 " instructions retired, %.6f s guest time\n",
                c->icount, (double)machine_clock_ns(t->m) / 1e9);
        /* what costs the interpreter outside the instructions themselves:
         * TLB misses, events that drop block links (docs/performance.md)
         * and stores to code it has decoded */
        fprintf(t->out,
                "stats: %" PRIu64 " page walks, %" PRIu64 " MMU epochs, %" PRIu64
                " address spaces resumed, %" PRIu64 " writes to cached code\n",
                c->mmu.stat_walks, c->mmu.epoch_seq / MMU_EPOCH_STEP, c->mmu.stat_resumes,
                t->m->phys.code_writes);
        /* the copied runs (cpu/copyrun.h): how much of the decoded code
         * runs as straight host code, and whether the arena filled */
        struct copyrun_stats cs;
        copyrun_get_stats(c->icache->copies, &cs);
        fprintf(t->out,
                "stats: %" PRIu64 " runs copied (%" PRIu64 " entries, %" PRIu64
                " bytes), %" PRIu64 " arena flushes, %u handlers copyable, %u not\n",
                cs.runs, cs.entries, cs.bytes, cs.flushes, cs.handlers, cs.refused);
        /* VM exits by basic reason, in reason order (VMX guests only;
         * failed VM entries count under 33 and 34) */
        if (c->vmx.exits) {
            fprintf(t->out, "stats: %" PRIu64 " VM entries, %" PRIu64 " VM exits:", c->vmx.entries,
                    c->vmx.exits);
            const char *sep = " ";
            for (unsigned r = 0; r < VMX_EXIT_REASONS; r++)
                if (c->vmx.exits_by_reason[r]) {
                    const char *name = vmx_exit_reason_name(r);
                    fprintf(t->out, "%s%s %" PRIu64, sep, name ? name : "?",
                            c->vmx.exits_by_reason[r]);
                    sep = ", ";
                }
            fputc('\n', t->out);
        }
        if (t->extra_stats)
            t->extra_stats(t->extra_opaque, t->out);
    }
    prof_close(t->prof, t->out, t->d);
    struct dbg_tracer none = {NULL, NULL, NULL, NULL};
    debugger_set_tracer(t->d, &none);
    fflush(t->out);
    if (t->out != stderr)
        fclose(t->out);
    free(t);
}
