/* debugger/regs.c — register names for expressions, `set` and
 * completion, and the `registers` display (general, RFLAGS decoded,
 * segments with their hidden parts, control/debug registers, MSRs,
 * x87/MMX and SSE). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "debugger/dbg.h"
#include "mmu/mmu.h"

static uint64_t get_gpr(struct cpu *c, int i) { return c->r[i & 15]; }
static void set_gpr(struct cpu *c, int i, uint64_t v) { c->r[i & 15] = v; }
/* 32/16-bit views: arg = index | width << 8; writes keep the upper bits */
static uint64_t get_gpr_part(struct cpu *c, int a)
{
    uint64_t mask = (a >> 8) == 4 ? 0xffffffffull : 0xffffull;
    return c->r[a & 15] & mask;
}
static void set_gpr_part(struct cpu *c, int a, uint64_t v)
{
    uint64_t mask = (a >> 8) == 4 ? 0xffffffffull : 0xffffull;
    c->r[a & 15] = (c->r[a & 15] & ~mask) | (v & mask);
}
static uint64_t get_rip(struct cpu *c, int a) { (void)a; return c->rip; }
static void set_rip(struct cpu *c, int a, uint64_t v) { (void)a; c->rip = v; }
static uint64_t get_flags(struct cpu *c, int a) { (void)a; return cpu_get_flags(c); }
static void set_flags(struct cpu *c, int a, uint64_t v) { (void)a; cpu_set_flags(c, v); }
static uint64_t get_sel(struct cpu *c, int s) { return c->seg[s].sel; }
static uint64_t get_base(struct cpu *c, int s) { return c->seg[s].base; }
static void set_base(struct cpu *c, int s, uint64_t v) { c->seg[s].base = v; }

enum { CR0, CR2, CR3, CR4, CR8, EFER, XCR0 };
static uint64_t get_cr(struct cpu *c, int which)
{
    switch (which) {
    case CR0: return c->mmu.cr0;
    case CR2: return c->cr2;
    case CR3: return c->mmu.cr3;
    case CR4: return c->mmu.cr4;
    case CR8: return c->apic_tpr_read ? c->apic_tpr_read(c->apic_opaque) : c->cr8;
    case EFER: return c->mmu.efer;
    case XCR0: return c->xcr0;
    }
    return 0;
}
/* Raw writes: no reserved-bit checks (the debugger may set anything),
 * but cached translations and the derived mode follow. */
static void set_cr(struct cpu *c, int which, uint64_t v)
{
    switch (which) {
    case CR0: c->mmu.cr0 = v; break;
    case CR2: c->cr2 = v; return;
    case CR3:
        c->mmu.cr3 = v;
        c->mmu.pcid = (c->mmu.cr4 & CR4_PCIDE) ? (uint16_t)(v & 0xfff) : 0;
        if ((c->mmu.cr4 & CR4_PAE) && !(c->mmu.efer & EFER_LMA))
            mmu_load_pdptes(&c->mmu);
        break;
    case CR4: c->mmu.cr4 = v; break;
    case CR8:
        if (c->apic_tpr_write)
            c->apic_tpr_write(c->apic_opaque, (uint8_t)(v & 15));
        c->cr8 = v & 15;
        return;
    case EFER: c->mmu.efer = v; break;
    case XCR0: c->xcr0 = v; return;
    }
    mmu_flush_all(&c->mmu);
    cpu_update_mode(c);
}
static uint64_t get_dr(struct cpu *c, int i) { return c->dr[i]; }
static void set_dr(struct cpu *c, int i, uint64_t v)
{
    c->dr[i] = v;
    cpu_debug_config(c, c->dbg_active, c->dbg_watch_mem); /* recomputes the DR7 masks */
}
static uint64_t get_cpl(struct cpu *c, int a) { (void)a; return c->cpl; }
static uint64_t get_icount(struct cpu *c, int a) { (void)a; return c->icount; }
static uint64_t get_mxcsr(struct cpu *c, int a) { (void)a; return c->mxcsr; }
static void set_mxcsr(struct cpu *c, int a, uint64_t v) { (void)a; c->mxcsr = (uint32_t)v; }

#define GPR(n, i) {n, 64, get_gpr, set_gpr, i}
#define GPR32(n, i) {n, 32, get_gpr_part, set_gpr_part, (i) | 4 << 8}
#define GPR16(n, i) {n, 16, get_gpr_part, set_gpr_part, (i) | 2 << 8}

static const struct dbg_reg regs[] = {
    GPR("rax", R_RAX), GPR("rbx", R_RBX), GPR("rcx", R_RCX), GPR("rdx", R_RDX),
    GPR("rsi", R_RSI), GPR("rdi", R_RDI), GPR("rbp", R_RBP), GPR("rsp", R_RSP),
    GPR("r8", R_R8), GPR("r9", R_R9), GPR("r10", R_R10), GPR("r11", R_R11),
    GPR("r12", R_R12), GPR("r13", R_R13), GPR("r14", R_R14), GPR("r15", R_R15),
    {"rip", 64, get_rip, set_rip, 0},
    {"rflags", 64, get_flags, set_flags, 0},
    {"eflags", 32, get_flags, set_flags, 0},
    GPR32("eax", R_RAX), GPR32("ebx", R_RBX), GPR32("ecx", R_RCX), GPR32("edx", R_RDX),
    GPR32("esi", R_RSI), GPR32("edi", R_RDI), GPR32("ebp", R_RBP), GPR32("esp", R_RSP),
    GPR32("r8d", R_R8), GPR32("r9d", R_R9), GPR32("r10d", R_R10), GPR32("r11d", R_R11),
    GPR32("r12d", R_R12), GPR32("r13d", R_R13), GPR32("r14d", R_R14), GPR32("r15d", R_R15),
    GPR16("ax", R_RAX), GPR16("bx", R_RBX), GPR16("cx", R_RCX), GPR16("dx", R_RDX),
    GPR16("si", R_RSI), GPR16("di", R_RDI), GPR16("bp", R_RBP), GPR16("sp", R_RSP),
    {"eip", 32, get_rip, set_rip, 0},
    {"ip", 16, get_rip, set_rip, 0},
    {"es", 16, get_sel, NULL, SEG_ES}, {"cs", 16, get_sel, NULL, SEG_CS},
    {"ss", 16, get_sel, NULL, SEG_SS}, {"ds", 16, get_sel, NULL, SEG_DS},
    {"fs", 16, get_sel, NULL, SEG_FS}, {"gs", 16, get_sel, NULL, SEG_GS},
    {"es_base", 64, get_base, NULL, SEG_ES}, {"cs_base", 64, get_base, NULL, SEG_CS},
    {"ss_base", 64, get_base, NULL, SEG_SS}, {"ds_base", 64, get_base, NULL, SEG_DS},
    {"fs_base", 64, get_base, set_base, SEG_FS}, {"gs_base", 64, get_base, set_base, SEG_GS},
    {"cr0", 64, get_cr, set_cr, CR0}, {"cr2", 64, get_cr, set_cr, CR2},
    {"cr3", 64, get_cr, set_cr, CR3}, {"cr4", 64, get_cr, set_cr, CR4},
    {"cr8", 64, get_cr, set_cr, CR8}, {"efer", 64, get_cr, set_cr, EFER},
    {"xcr0", 64, get_cr, set_cr, XCR0},
    {"dr0", 64, get_dr, set_dr, 0}, {"dr1", 64, get_dr, set_dr, 1},
    {"dr2", 64, get_dr, set_dr, 2}, {"dr3", 64, get_dr, set_dr, 3},
    {"dr6", 64, get_dr, set_dr, 6}, {"dr7", 64, get_dr, set_dr, 7},
    {"mxcsr", 32, get_mxcsr, set_mxcsr, 0},
    {"cpl", 8, get_cpl, NULL, 0},
    {"icount", 64, get_icount, NULL, 0},
};

#define NREGS (sizeof(regs) / sizeof(regs[0]))

const struct dbg_reg *reg_find(const char *name)
{
    for (size_t k = 0; k < NREGS; k++)
        if (!strcasecmp(regs[k].name, name))
            return &regs[k];
    return NULL;
}

const struct dbg_reg *reg_at(size_t k)
{
    return k < NREGS ? &regs[k] : NULL;
}

/* ---- display ---- */

static void show_flags(struct debugger *d)
{
    static const struct { const char *name; unsigned bit; } fl[] = {
        {"CF", 0}, {"PF", 2}, {"AF", 4}, {"ZF", 6}, {"SF", 7}, {"TF", 8}, {"IF", 9},
        {"DF", 10}, {"OF", 11}, {"NT", 14}, {"RF", 16}, {"VM", 17}, {"AC", 18},
        {"VIF", 19}, {"VIP", 20}, {"ID", 21}};
    uint64_t f = cpu_get_flags(d->c);
    dbg_printf(d, "rflags 0x%016" PRIx64 " [", f);
    for (size_t k = 0; k < sizeof(fl) / sizeof(fl[0]); k++)
        if (f & (1ull << fl[k].bit))
            dbg_printf(d, " %s", fl[k].name);
    dbg_printf(d, " IOPL=%u ]\n", (unsigned)((f >> 12) & 3));
}

static void show_general(struct debugger *d)
{
    struct cpu *c = d->c;
    static const char *const names[16] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
    static const int idx[16] = {R_RAX, R_RBX, R_RCX, R_RDX, R_RSI, R_RDI, R_RBP, R_RSP,
                                R_R8,  R_R9,  R_R10, R_R11, R_R12, R_R13, R_R14, R_R15};
    for (int k = 0; k < 16; k++)
        dbg_printf(d, "%-3s 0x%016" PRIx64 "%s", names[k], c->r[idx[k]], k % 2 ? "\n" : "    ");
    char s[160];
    dbg_printf(d, "rip 0x%016" PRIx64 "%s\n", c->rip, dbg_sym(d, dbg_pc(c), s, sizeof(s)));
    show_flags(d);
    static const char *const modes[] = {"real", "virtual-8086", "protected", "compatibility",
                                        "64-bit"};
    dbg_printf(d, "mode %s, CPL %u, code size %u, cs 0x%04x ss 0x%04x icount %" PRIu64 "\n",
               modes[c->mode], c->cpl, c->code_size * 8, c->seg[SEG_CS].sel,
               c->seg[SEG_SS].sel, c->icount);
}

static void show_seg(struct debugger *d, const char *name, const struct seg *s)
{
    uint32_t ar = s->ar;
    dbg_printf(d, "%-4s 0x%04x base 0x%016" PRIx64 " limit 0x%08x ar 0x%05x", name, s->sel,
               s->base, s->limit, ar);
    if (ar & AR_UNUSABLE) {
        dbg_printf(d, " unusable\n");
        return;
    }
    dbg_printf(d, " type %u %s DPL %u%s%s%s%s%s\n", AR_TYPE(ar), (ar & AR_S) ? "S" : "sys",
               AR_DPL(ar), (ar & AR_P) ? " P" : " NP", (ar & AR_L) ? " L" : "",
               (ar & AR_DB) ? " D/B" : "", (ar & AR_G) ? " G" : "", (ar & AR_AVL) ? " AVL" : "");
}

static void show_segments(struct debugger *d)
{
    static const char *const names[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    for (int k = 0; k < 6; k++)
        show_seg(d, names[k], &d->c->seg[k]);
    show_seg(d, "ldtr", &d->c->ldtr);
    show_seg(d, "tr", &d->c->tr);
    dbg_printf(d, "gdtr base 0x%016" PRIx64 " limit 0x%04x\n", d->c->gdtr.base, d->c->gdtr.limit);
    dbg_printf(d, "idtr base 0x%016" PRIx64 " limit 0x%04x\n", d->c->idtr.base, d->c->idtr.limit);
}

static void show_bits(struct debugger *d, uint64_t v, const char *const *names, unsigned n)
{
    dbg_printf(d, " [");
    for (unsigned k = 0; k < n; k++)
        if (names[k] && (v & (1ull << k)))
            dbg_printf(d, " %s", names[k]);
    dbg_printf(d, " ]\n");
}

static void show_control(struct debugger *d)
{
    static const char *const cr0[32] = {[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS",
                                        [4] = "ET", [5] = "NE", [16] = "WP", [18] = "AM",
                                        [29] = "NW", [30] = "CD", [31] = "PG"};
    static const char *const cr4[24] = {"VME", "PVI", "TSD", "DE", "PSE", "PAE", "MCE",
                                        "PGE", "PCE", "OSFXSR", "OSXMMEXCPT", "UMIP", "LA57",
                                        "VMXE", "SMXE", NULL, "FSGSBASE", "PCIDE", "OSXSAVE",
                                        NULL, "SMEP", "SMAP", "PKE", "CET"};
    static const char *const efer[12] = {[0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE"};
    struct cpu *c = d->c;
    dbg_printf(d, "cr0  0x%016" PRIx64, c->mmu.cr0);
    show_bits(d, c->mmu.cr0, cr0, 32);
    dbg_printf(d, "cr2  0x%016" PRIx64 "\n", c->cr2);
    dbg_printf(d, "cr3  0x%016" PRIx64 " (PCID %u)\n", c->mmu.cr3, c->mmu.pcid);
    dbg_printf(d, "cr4  0x%016" PRIx64, c->mmu.cr4);
    show_bits(d, c->mmu.cr4, cr4, 24);
    dbg_printf(d, "cr8  0x%016" PRIx64 "\n", get_cr(c, CR8));
    dbg_printf(d, "efer 0x%016" PRIx64, c->mmu.efer);
    show_bits(d, c->mmu.efer, efer, 12);
    dbg_printf(d, "xcr0 0x%016" PRIx64 "  pkru 0x%08x\n", c->xcr0, c->mmu.pkru);
}

static void show_debug(struct debugger *d)
{
    struct cpu *c = d->c;
    for (int k = 0; k < 4; k++)
        dbg_printf(d, "dr%d  0x%016" PRIx64 "\n", k, c->dr[k]);
    dbg_printf(d, "dr6  0x%016" PRIx64 "\ndr7  0x%016" PRIx64 "\n", c->dr[6], c->dr[7]);
}

/* 80-bit extended to a host long double (x86 hosts share the format) */
static long double ext_to_ld(const uint8_t *p)
{
    long double v = 0;
    memcpy(&v, p, 10);
    return v;
}

static void show_fpu(struct debugger *d)
{
    const struct x87 *f = &d->c->fpu;
    unsigned top = (f->fsw >> 11) & 7;
    dbg_printf(d, "fcw 0x%04x fsw 0x%04x (TOP %u) ftw 0x%04x fop 0x%03x\n", f->fcw, f->fsw, top,
               f->ftw, f->fop);
    dbg_printf(d, "fip 0x%04x:0x%016" PRIx64 " fdp 0x%04x:0x%016" PRIx64 "\n", f->fcs, f->fip,
               f->fds, f->fdp);
    static const char *const tags[4] = {"valid", "zero", "special", "empty"};
    for (unsigned i = 0; i < 8; i++) {
        unsigned phys = (top + i) & 7;
        const uint8_t *r = f->st[phys];
        uint64_t mant;
        uint16_t se;
        memcpy(&mant, r, 8);
        memcpy(&se, r + 8, 2);
        dbg_printf(d, "st%u (R%u) %-7s 0x%04x%016" PRIx64 "  %Lg   mm%u 0x%016" PRIx64 "\n", i,
                   phys, tags[(f->ftw >> (2 * phys)) & 3], se, mant, ext_to_ld(r), phys, mant);
    }
}

static void show_sse(struct debugger *d)
{
    for (int k = 0; k < 16; k++) {
        const union xmm *x = &d->c->xmm[k];
        dbg_printf(d, "xmm%-2d 0x%016" PRIx64 "%016" PRIx64 "\n", k, x->q[1], x->q[0]);
    }
    dbg_printf(d, "mxcsr 0x%08x\n", d->c->mxcsr);
}

DBG_HANDLER(cmd_registers)
{
    (void)rest;
    const char *g = argc > 1 ? argv[1] : "general";
    bool all = !strcmp(g, "all");
    if (all || !strncmp(g, "general", strlen(g)))
        show_general(d);
    if (all || !strncmp(g, "segments", strlen(g)))
        show_segments(d);
    if (all || !strncmp(g, "control", strlen(g)))
        show_control(d);
    if (all || !strncmp(g, "debug", strlen(g)))
        show_debug(d);
    if (all || !strncmp(g, "fpu", strlen(g)) || !strcmp(g, "x87") || !strcmp(g, "mmx"))
        show_fpu(d);
    if (all || !strncmp(g, "sse", strlen(g)))
        show_sse(d);
    if (!all && argc > 1) {
        const struct dbg_reg *r = reg_find(g);
        if (r) {
            if (!strcmp(r->name, "rflags") || !strcmp(r->name, "eflags"))
                show_flags(d);
            else
                dbg_printf(d, "%s 0x%" PRIx64 "\n", r->name, r->get(d->c, r->arg));
        } else if (strncmp(g, "general", strlen(g)) && strncmp(g, "segments", strlen(g)) &&
                   strncmp(g, "control", strlen(g)) && strncmp(g, "debug", strlen(g)) &&
                   strncmp(g, "fpu", strlen(g)) && strncmp(g, "sse", strlen(g)) &&
                   strcmp(g, "x87") && strcmp(g, "mmx")) {
            dbg_printf(d, "no register group or register '%s'\n", g);
        }
    }
    return CMD_STAY;
}

DBG_HANDLER(cmd_set)
{
    (void)argc, (void)argv;
    const char *eq = strchr(rest, '=');
    if (!eq) {
        dbg_printf(d, "usage: set REG = EXPR\n");
        return CMD_STAY;
    }
    char name[64];
    size_t n = (size_t)(eq - rest);
    while (n && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
        n--;
    if (n >= sizeof(name))
        n = sizeof(name) - 1;
    memcpy(name, rest, n);
    name[n] = 0;
    const char *nm = name[0] == '$' ? name + 1 : name;
    const struct dbg_reg *r = reg_find(nm);
    if (!r) {
        dbg_printf(d, "no register '%s'\n", nm);
        return CMD_STAY;
    }
    if (!r->set) {
        dbg_printf(d, "%s is read-only here\n", r->name);
        return CMD_STAY;
    }
    uint64_t v;
    if (!dbg_eval(d, eq + 1, &v))
        return CMD_STAY;
    r->set(d->c, r->arg, v);
    dbg_printf(d, "%s = 0x%" PRIx64 "\n", r->name, r->get(d->c, r->arg));
    return CMD_STAY;
}

DBG_HANDLER(cmd_print)
{
    (void)argc, (void)argv;
    uint64_t v;
    if (!*rest) {
        dbg_printf(d, "usage: print EXPR\n");
        return CMD_STAY;
    }
    if (!dbg_eval(d, rest, &v))
        return CMD_STAY;
    char s[160];
    dbg_printf(d, "0x%" PRIx64 " %" PRId64 "%s\n", v, (int64_t)v, dbg_sym(d, v, s, sizeof(s)));
    return CMD_STAY;
}

/* info msr [NAME|INDEX] */
void info_msr(struct debugger *d, const char *arg);
void info_msr(struct debugger *d, const char *arg)
{
    uint64_t v;
    if (arg && *arg) {
        uint32_t idx;
        if (!msr_by_name(arg, &idx)) {
            uint64_t x;
            if (!dbg_eval(d, arg, &x))
                return;
            idx = (uint32_t)x;
        }
        const char *name = msr_name(idx);
        if (cpu_msr_read(d->c, idx, &v))
            dbg_printf(d, "%s (0x%x) = 0x%016" PRIx64 "\n", name ? name : "MSR", idx, v);
        else
            dbg_printf(d, "MSR 0x%x does not exist (RDMSR would raise #GP)\n", idx);
        return;
    }
    const char *name;
    for (size_t k = 0; (name = msr_name_at(k)); k++) {
        uint32_t idx;
        msr_by_name(name, &idx);
        if (cpu_msr_read(d->c, idx, &v))
            dbg_printf(d, "%-22s 0x%08x = 0x%016" PRIx64 "\n", name, idx, v);
    }
}
