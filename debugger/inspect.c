/* debugger/inspect.c — looking at the guest: x, disassemble, info,
 * backtrace, symbols. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/dbg.h"

void info_msr(struct debugger *d, const char *arg);

DBG_HANDLER(cmd_x)
{
    (void)argc, (void)argv;
    unsigned count = 1, size = 4;
    char fmt = 'x';
    const char *p = rest;
    if (*p == '/') {
        p++;
        if (isdigit((unsigned char)*p))
            count = (unsigned)strtoul(p, (char **)&p, 10);
        for (; *p && *p != ' '; p++) {
            switch (*p) {
            case 'b': size = 1; break;
            case 'h': size = 2; break;
            case 'w': size = 4; break;
            case 'g': size = 8; break;
            case 'x': case 'd': case 'u': case 'c': case 's': case 'i': fmt = *p; break;
            default:
                dbg_printf(d, "unknown format letter '%c' (x d u c s i, sizes b h w g)\n", *p);
                return CMD_STAY;
            }
        }
    }
    while (*p == ' ')
        p++;
    if (!*p) {
        dbg_printf(d, "usage: x/FMT ADDR\n");
        return CMD_STAY;
    }
    uint64_t a;
    bool phys;
    if (!dbg_parse_addr(d, p, &a, &phys))
        return CMD_STAY;
    if (count == 0 || count > 4096)
        count = count ? 4096 : 1;
    const char *pfx = phys ? "p:" : "";
    char s[160];
    if (fmt == 'i') {
        for (unsigned k = 0; k < count; k++) {
            char text[160];
            unsigned len = disas_one(d, a, phys, text, sizeof(text), NULL);
            if (!len) {
                dbg_printf(d, "%s0x%016" PRIx64 ": cannot read memory\n", pfx, a);
                break;
            }
            dbg_printf(d, "%s0x%016" PRIx64 "%s:  %s\n", pfx, a,
                       phys ? "" : dbg_sym(d, a, s, sizeof(s)), text);
            a += len;
        }
        return CMD_STAY;
    }
    if (fmt == 's') {
        for (unsigned k = 0; k < count; k++) {
            char str[257];
            size_t n = 0;
            for (; n < 256; n++) {
                uint8_t ch;
                size_t got = phys ? dbg_read_phys(d, a + n, &ch, 1) : dbg_read_lin(d, a + n, &ch, 1);
                if (!got || !ch)
                    break;
                str[n] = isprint(ch) ? (char)ch : '.';
            }
            str[n] = 0;
            dbg_printf(d, "%s0x%016" PRIx64 ":  \"%s\"\n", pfx, a, str);
            a += n + 1;
        }
        return CMD_STAY;
    }
    if (fmt == 'c')
        size = 1;
    unsigned per_line = size == 8 ? 2 : size == 4 ? 4 : 8;
    for (unsigned k = 0; k < count; k++) {
        uint64_t at = a + (uint64_t)k * size, v = 0;
        if (k % per_line == 0)
            dbg_printf(d, "%s%s0x%016" PRIx64 "%s:", k ? "\n" : "", pfx, at,
                       phys ? "" : dbg_sym(d, at, s, sizeof(s)));
        size_t got = phys ? dbg_read_phys(d, at, &v, size) : dbg_read_lin(d, at, &v, size);
        if (got != size) {
            dbg_printf(d, " <cannot read memory at %s0x%" PRIx64 ">", pfx, at);
            break;
        }
        int64_t sv = size == 1 ? (int8_t)v : size == 2 ? (int16_t)v : size == 4 ? (int32_t)v
                                                                                 : (int64_t)v;
        switch (fmt) {
        case 'x': dbg_printf(d, " 0x%0*" PRIx64, (int)size * 2, v); break;
        case 'd': dbg_printf(d, " %" PRId64, sv); break;
        case 'u': dbg_printf(d, " %" PRIu64, v); break;
        case 'c': dbg_printf(d, " %3u '%c'", (unsigned)v, isprint((int)v) ? (int)v : '.'); break;
        }
    }
    dbg_printf(d, "\n");
    return CMD_STAY;
}

DBG_HANDLER(cmd_disassemble)
{
    (void)rest;
    uint64_t a = dbg_pc(d->c), n = 10;
    bool phys = false;
    if (argc > 1 && !dbg_parse_addr(d, argv[1], &a, &phys))
        return CMD_STAY;
    if (argc > 2 && !dbg_eval(d, argv[2], &n))
        return CMD_STAY;
    uint64_t pc = dbg_pc(d->c);
    for (uint64_t k = 0; k < n && k < 1000; k++) {
        char text[160], s[160];
        unsigned len = disas_one(d, a, phys, text, sizeof(text), NULL);
        if (!len) {
            dbg_printf(d, "   %s0x%016" PRIx64 ": cannot read memory\n", phys ? "p:" : "", a);
            break;
        }
        dbg_printf(d, "%s %s0x%016" PRIx64 "%s:  %s\n", !phys && a == pc ? "=>" : "  ",
                   phys ? "p:" : "", a, phys ? "" : dbg_sym(d, a, s, sizeof(s)), text);
        a += len;
    }
    return CMD_STAY;
}

void dbg_append(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
    if (*n >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, len - *n, fmt, ap);
    va_end(ap);
    *n = k < 0 ? *n : *n + (size_t)k < len ? *n + (size_t)k : len - 1;
}

/* A return address: the instruction before it is a CALL (E8 rel32,
 * FF /2 with a register, or that with a REX prefix). */
static bool after_call(struct debugger *d, uint64_t ret)
{
    uint8_t b[7];
    if (dbg_read_lin(d, ret - 7, b, 7) != 7)
        return false;
    return b[2] == 0xe8 || (b[5] == 0xff && (b[6] & 0xf8) == 0xd0) ||
           (b[4] == 0x41 && b[5] == 0xff && (b[6] & 0xf8) == 0xd0);
}

/* The frame-pointer chain as `backtrace` shows it; with 'scan', then
 * the words on the stack that are return addresses into known code
 * ("?" lines, as in a Linux oops): kernels built without frame
 * pointers (Debian's use ORC) have no chain to follow. */
static void stack_lines(struct debugger *d, uint64_t max, bool scan, const char *indent, char *buf,
                        size_t len)
{
    struct cpu *c = d->c;
    size_t n = 0;
    buf[0] = 0;
    unsigned w = c->code_size == 8 ? 8 : 4;
    char s[160];
    uint64_t pc = dbg_pc(c);
    dbg_append(buf, len, &n, "%s#0  0x%016" PRIx64 "%s\n", indent, pc, dbg_sym(d, pc, s, sizeof(s)));
    unsigned depth = 1;
    uint64_t ret = dbg_ret_addr_at_entry(d);
    if (ret) {
        /* at a function's first instruction the frame is not built yet */
        dbg_append(buf, len, &n, "%s#%u  0x%016" PRIx64 "%s\n", indent, depth++, ret,
                 dbg_sym(d, ret, s, sizeof(s)));
    }
    uint64_t fp = c->r[R_RBP];
    if (w == 4)
        fp = (uint32_t)fp;
    while (depth < max && fp) {
        uint64_t next = 0, r = 0;
        if (dbg_read_lin(d, fp, &next, w) != w || dbg_read_lin(d, fp + w, &r, w) != w)
            break;
        if (!r)
            break;
        dbg_sym(d, r, s, sizeof(s));
        if (!s[0] && d->syms.n)
            break; /* not code we know: the chain has left the frames */
        dbg_append(buf, len, &n, "%s#%u  0x%016" PRIx64 "%s\n", indent, depth++, r, s);
        if (next <= fp)
            break; /* frames grow upward; anything else is not a frame chain */
        fp = next;
    }
    if (!scan || w != 8)
        return;
    uint64_t words[128];
    size_t got = dbg_read_lin(d, c->r[R_RSP], words, sizeof(words)) / 8;
    unsigned shown = 0;
    for (size_t k = 0; k < got && shown < 12; k++) {
        uint64_t v = words[k], off;
        const struct dbg_sym *sym = sym_find(&d->syms, v, &off);
        if (!sym || !off || !after_call(d, v))
            continue;
        dbg_append(buf, len, &n, "%s ?  0x%016" PRIx64 "%s\n", indent, v,
                 dbg_sym(d, v, s, sizeof(s)));
        shown++;
    }
}

void dbg_stack_text(struct debugger *d, const char *indent, char *buf, size_t len)
{
    stack_lines(d, 8, true, indent, buf, len);
}

DBG_HANDLER(cmd_backtrace)
{
    (void)rest;
    uint64_t max = 32;
    bool scan = argc > 1 && !strcmp(argv[argc - 1], "scan");
    if (scan)
        argc--;
    if (argc > 1 && !dbg_eval(d, argv[1], &max))
        return CMD_STAY;
    char buf[4096];
    stack_lines(d, max, scan, "", buf, sizeof(buf));
    dbg_printf(d, "%s", buf);
    return CMD_STAY;
}

DBG_HANDLER(cmd_symbols)
{
    (void)rest;
    if (argc < 2) {
        dbg_printf(d, "%zu symbols loaded\n", d->syms.n);
        return CMD_STAY;
    }
    if (!strcmp(argv[1], "modules"))
        return modsyms_command(d, argc, argv);
    /* symbols FILE [BASE] [SECTION=ADDR ...] */
    uint64_t base = 0;
    bool have_base = false;
    struct dbg_secaddr secs[16];
    size_t nsecs = 0;
    for (int k = 2; k < argc; k++) {
        char *eq = strchr(argv[k], '=');
        if (!eq) {
            if (have_base) {
                dbg_printf(d, "symbols: one BASE only ('%s')\n", argv[k]);
                return CMD_STAY;
            }
            if (!dbg_eval(d, argv[k], &base))
                return CMD_STAY;
            have_base = true;
            continue;
        }
        if (nsecs == sizeof(secs) / sizeof(secs[0]) || eq == argv[k]) {
            dbg_printf(d, "symbols: bad or too many SECTION=ADDR ('%s')\n", argv[k]);
            return CMD_STAY;
        }
        *eq = 0;
        secs[nsecs].name = argv[k];
        if (!dbg_eval(d, eq + 1, &secs[nsecs].addr))
            return CMD_STAY;
        nsecs++;
    }
    char err[400];
    int n = sym_load(&d->syms, argv[1], base, have_base, secs, nsecs, err, sizeof(err));
    if (n < 0)
        dbg_printf(d, "symbols: %s\n", err);
    else
        dbg_printf(d, "loaded %d symbols from %s (base 0x%" PRIx64 ")\n", n, argv[1], base);
    return CMD_STAY;
}

static void info_mode(struct debugger *d)
{
    struct cpu *c = d->c;
    static const char *const modes[] = {"real", "virtual-8086", "protected", "compatibility",
                                        "64-bit"};
    const char *paging = !(c->mmu.cr0 & CR0_PG)           ? "off"
                         : !(c->mmu.cr4 & CR4_PAE)        ? "32-bit"
                         : !(c->mmu.efer & EFER_LMA)      ? "PAE"
                         : (c->mmu.cr4 & CR4_LA57)        ? "5-level"
                                                          : "4-level";
    dbg_printf(d, "%s mode, code size %u, stack size %u, CPL %u, paging %s%s\n", modes[c->mode],
               c->code_size * 8, c->stack_size * 8, c->cpl, paging, c->halted ? ", halted" : "");
}

DBG_HANDLER(cmd_info)
{
    if (argc < 2) {
        dbg_printf(d, "info what? (`help info`)\n");
        return CMD_STAY;
    }
    const char *w = argv[1];
    size_t n = strlen(w);
    const char *arg = rest + n;
    while (*arg == ' ')
        arg++;
    if (!strncmp(w, "registers", n) && n >= 1) {
        return cmd_registers(d, argc - 1, argv + 1, arg);
    } else if (!strncmp(w, "all-registers", n) && n >= 2) {
        char *a[] = {"registers", "all", NULL};
        return cmd_registers(d, 2, a, "all");
    } else if (!strncmp(w, "breakpoints", n) || !strcmp(w, "watchpoints")) {
        info_breakpoints(d);
    } else if (!strcmp(w, "msr")) {
        info_msr(d, arg);
    } else if (!strcmp(w, "tlb")) {
        info_tlb(d);
    } else if (!strcmp(w, "mem")) {
        info_mem(d);
    } else if (!strcmp(w, "idt")) {
        info_idt(d);
    } else if (!strcmp(w, "gdt")) {
        info_gdt(d);
    } else if (!strcmp(w, "mode")) {
        info_mode(d);
    } else if (!strcmp(w, "screen")) {
        dbg_info_screen(d);
    } else if (!strncmp(w, "symbol", n) && n >= 2) {
        uint64_t a;
        char s[160];
        if (!*arg || !dbg_eval(d, arg, &a))
            return CMD_STAY;
        debugger_symbolize(d, a, s, sizeof(s));
        dbg_printf(d, "0x%" PRIx64 " is %s\n", a, s[0] ? s : "not near any symbol");
    } else if (!strcmp(w, "trace")) {
        char *a[] = {"trace", "show", NULL};
        return cmd_trace(d, 2, a, "show");
    } else {
        dbg_printf(d, "unknown info subcommand '%s' (`help info`)\n", w);
    }
    return CMD_STAY;
}
