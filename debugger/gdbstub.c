/* debugger/gdbstub.c — the GDB remote serial protocol over TCP
 * (127.0.0.1 only), so a stock gdb can `target remote :PORT`.
 *
 * The target is described as x86-64 with the core, SSE and segment-base
 * features gdb knows, plus a nest86 feature with the control registers.
 * Memory addresses are linear, translated through the guest's page
 * tables without side effects.  Breakpoints (Z0/Z1) and watchpoints
 * (Z2-Z4) go into the debugger's own table, so guest memory is never
 * patched; `monitor CMD` runs any debugger command and returns its
 * output. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "debugger/dbg.h"

#define PACKET_MAX 0x4000

struct gdbstub {
    struct debugger *d;
    int port;
    int listen_fd, fd;
    bool no_ack;
    bool running;        /* the client resumed us and waits for a stop reply */
    bool swbreak, hwbreak; /* the client understands these stop reasons */
    char *xml;
    size_t xml_len;
    char pkt[PACKET_MAX + 1];
};

/* ---- registers: gdb's x86-64 numbering, in target-description order ---- */

enum greg_kind { G_GPR, G_RIP, G_EFLAGS, G_SEG, G_ST, G_FPU, G_XMM, G_MXCSR, G_NAMED };

struct greg {
    const char *name;
    unsigned bits;
    enum greg_kind kind;
    int idx;
    const char *type;
};

static const struct greg gregs[] = {
    {"rax", 64, G_GPR, R_RAX, "int64"}, {"rbx", 64, G_GPR, R_RBX, "int64"},
    {"rcx", 64, G_GPR, R_RCX, "int64"}, {"rdx", 64, G_GPR, R_RDX, "int64"},
    {"rsi", 64, G_GPR, R_RSI, "int64"}, {"rdi", 64, G_GPR, R_RDI, "int64"},
    {"rbp", 64, G_GPR, R_RBP, "data_ptr"}, {"rsp", 64, G_GPR, R_RSP, "data_ptr"},
    {"r8", 64, G_GPR, R_R8, "int64"},   {"r9", 64, G_GPR, R_R9, "int64"},
    {"r10", 64, G_GPR, R_R10, "int64"}, {"r11", 64, G_GPR, R_R11, "int64"},
    {"r12", 64, G_GPR, R_R12, "int64"}, {"r13", 64, G_GPR, R_R13, "int64"},
    {"r14", 64, G_GPR, R_R14, "int64"}, {"r15", 64, G_GPR, R_R15, "int64"},
    {"rip", 64, G_RIP, 0, "code_ptr"},  {"eflags", 32, G_EFLAGS, 0, "i386_eflags"},
    {"cs", 32, G_SEG, SEG_CS, "int32"}, {"ss", 32, G_SEG, SEG_SS, "int32"},
    {"ds", 32, G_SEG, SEG_DS, "int32"}, {"es", 32, G_SEG, SEG_ES, "int32"},
    {"fs", 32, G_SEG, SEG_FS, "int32"}, {"gs", 32, G_SEG, SEG_GS, "int32"},
    {"st0", 80, G_ST, 0, "i387_ext"},   {"st1", 80, G_ST, 1, "i387_ext"},
    {"st2", 80, G_ST, 2, "i387_ext"},   {"st3", 80, G_ST, 3, "i387_ext"},
    {"st4", 80, G_ST, 4, "i387_ext"},   {"st5", 80, G_ST, 5, "i387_ext"},
    {"st6", 80, G_ST, 6, "i387_ext"},   {"st7", 80, G_ST, 7, "i387_ext"},
    {"fctrl", 32, G_FPU, 0, "int"},     {"fstat", 32, G_FPU, 1, "int"},
    {"ftag", 32, G_FPU, 2, "int"},      {"fiseg", 32, G_FPU, 3, "int"},
    {"fioff", 32, G_FPU, 4, "int"},     {"foseg", 32, G_FPU, 5, "int"},
    {"fooff", 32, G_FPU, 6, "int"},     {"fop", 32, G_FPU, 7, "int"},
    {"xmm0", 128, G_XMM, 0, "vec128"},  {"xmm1", 128, G_XMM, 1, "vec128"},
    {"xmm2", 128, G_XMM, 2, "vec128"},  {"xmm3", 128, G_XMM, 3, "vec128"},
    {"xmm4", 128, G_XMM, 4, "vec128"},  {"xmm5", 128, G_XMM, 5, "vec128"},
    {"xmm6", 128, G_XMM, 6, "vec128"},  {"xmm7", 128, G_XMM, 7, "vec128"},
    {"xmm8", 128, G_XMM, 8, "vec128"},  {"xmm9", 128, G_XMM, 9, "vec128"},
    {"xmm10", 128, G_XMM, 10, "vec128"}, {"xmm11", 128, G_XMM, 11, "vec128"},
    {"xmm12", 128, G_XMM, 12, "vec128"}, {"xmm13", 128, G_XMM, 13, "vec128"},
    {"xmm14", 128, G_XMM, 14, "vec128"}, {"xmm15", 128, G_XMM, 15, "vec128"},
    {"mxcsr", 32, G_MXCSR, 0, "int"},
    {"fs_base", 64, G_NAMED, 0, "int"}, {"gs_base", 64, G_NAMED, 0, "int"},
    {"cr0", 64, G_NAMED, 0, "int"},     {"cr2", 64, G_NAMED, 0, "int"},
    {"cr3", 64, G_NAMED, 0, "int"},     {"cr4", 64, G_NAMED, 0, "int"},
    {"cr8", 64, G_NAMED, 0, "int"},     {"efer", 64, G_NAMED, 0, "int"},
};

#define NGREGS ((int)(sizeof(gregs) / sizeof(gregs[0])))
/* the first register of each feature after the core */
#define FIRST_SSE 40
#define FIRST_SEGBASE 57
#define FIRST_SYS 59

/* Register k into buf (little-endian, bits/8 bytes). */
static void reg_read(struct gdbstub *g, int k, uint8_t *buf)
{
    struct cpu *c = g->d->c;
    const struct greg *r = &gregs[k];
    uint64_t v = 0;
    memset(buf, 0, 16);
    switch (r->kind) {
    case G_GPR: v = c->r[r->idx]; break;
    case G_RIP: v = c->rip; break;
    case G_EFLAGS: v = cpu_get_flags(c); break;
    case G_SEG: v = c->seg[r->idx].sel; break;
    case G_ST: /* ST(i) is physical register (TOP + i) mod 8 */
        memcpy(buf, c->fpu.st[(((c->fpu.fsw >> 11) & 7) + r->idx) & 7], 10);
        return;
    case G_FPU: {
        const struct x87 *f = &c->fpu;
        uint64_t fields[8] = {f->fcw, f->fsw, f->ftw, f->fcs, f->fip, f->fds, f->fdp, f->fop};
        v = (uint32_t)fields[r->idx];
        break;
    }
    case G_XMM: memcpy(buf, c->xmm[r->idx].b, 16); return;
    case G_MXCSR: v = c->mxcsr; break;
    case G_NAMED: {
        const struct dbg_reg *dr = reg_find(r->name);
        v = dr ? dr->get(c, dr->arg) : 0;
        break;
    }
    }
    memcpy(buf, &v, 8);
}

static void reg_write(struct gdbstub *g, int k, const uint8_t *buf)
{
    struct cpu *c = g->d->c;
    const struct greg *r = &gregs[k];
    uint64_t v = 0;
    memcpy(&v, buf, r->bits >= 64 ? 8 : r->bits / 8);
    switch (r->kind) {
    case G_GPR: c->r[r->idx] = v; break;
    case G_RIP: c->rip = v; break;
    case G_EFLAGS:
        if (v != cpu_get_flags(c))
            cpu_set_flags(c, v);
        break;
    case G_SEG: break; /* a selector alone would leave the hidden part stale */
    case G_ST: memcpy(c->fpu.st[(((c->fpu.fsw >> 11) & 7) + r->idx) & 7], buf, 10); break;
    case G_FPU: {
        struct x87 *f = &c->fpu;
        switch (r->idx) {
        case 0: f->fcw = (uint16_t)v; break;
        case 1: f->fsw = (uint16_t)v; break;
        case 2: f->ftw = (uint16_t)v; break;
        case 3: f->fcs = (uint16_t)v; break;
        case 4: f->fip = (uint32_t)v; break;
        case 5: f->fds = (uint16_t)v; break;
        case 6: f->fdp = (uint32_t)v; break;
        case 7: f->fop = (uint16_t)v; break;
        }
        break;
    }
    case G_XMM: memcpy(c->xmm[r->idx].b, buf, 16); break;
    case G_MXCSR: c->mxcsr = (uint32_t)v; break;
    case G_NAMED: {
        const struct dbg_reg *dr = reg_find(r->name);
        if (dr && dr->set && dr->get(c, dr->arg) != v)
            dr->set(c, dr->arg, v);
        break;
    }
    }
}

/* ---- the target description ---- */

static void build_xml(struct gdbstub *g)
{
    FILE *f = open_memstream(&g->xml, &g->xml_len);
    if (!f)
        return;
    static const char *const flags[] = {"CF", "", "PF", "", "AF", "", "ZF", "SF", "TF", "IF",
                                        "DF", "OF", NULL, NULL, "NT", "", "RF", "VM", "AC",
                                        "VIF", "VIP", "ID"};
    fprintf(f, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
               "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n"
               "<feature name=\"org.gnu.gdb.i386.core\">\n"
               "<flags id=\"i386_eflags\" size=\"4\">\n");
    for (unsigned k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
        if (flags[k] && flags[k][0])
            fprintf(f, "<field name=\"%s\" start=\"%u\" end=\"%u\"/>\n", flags[k], k, k);
    fprintf(f, "</flags>\n");
    for (int k = 0; k < NGREGS; k++) {
        if (k == FIRST_SSE)
            fprintf(f, "</feature>\n<feature name=\"org.gnu.gdb.i386.sse\">\n"
                       "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
                       "<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
                       "<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
                       "<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
                       "<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
                       "<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
                       "<union id=\"vec128\">\n"
                       "<field name=\"v4_float\" type=\"v4f\"/>\n"
                       "<field name=\"v2_double\" type=\"v2d\"/>\n"
                       "<field name=\"v16_int8\" type=\"v16i8\"/>\n"
                       "<field name=\"v8_int16\" type=\"v8i16\"/>\n"
                       "<field name=\"v4_int32\" type=\"v4i32\"/>\n"
                       "<field name=\"v2_int64\" type=\"v2i64\"/>\n"
                       "<field name=\"uint128\" type=\"uint128\"/>\n"
                       "</union>\n");
        else if (k == FIRST_SEGBASE)
            fprintf(f, "</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">\n");
        else if (k == FIRST_SYS)
            fprintf(f, "</feature>\n<feature name=\"org.nest86.x86.system\">\n");
        const struct greg *r = &gregs[k];
        const char *group = r->kind == G_FPU ? " group=\"float\""
                            : r->kind == G_MXCSR ? " group=\"vector\""
                            : k >= FIRST_SYS ? " group=\"system\"" : "";
        fprintf(f, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%d\"%s/>\n", r->name,
                r->bits, r->type, k, group);
    }
    fprintf(f, "</feature>\n</target>\n");
    fclose(f);
}

/* ---- packets ---- */

static const char hexdig[] = "0123456789abcdef";

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void to_hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        out[2 * k] = hexdig[p[k] >> 4];
        out[2 * k + 1] = hexdig[p[k] & 15];
    }
    out[2 * n] = 0;
}

static size_t from_hex(uint8_t *out, const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
        out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
        s += 2;
    }
    return n;
}

static void drop_client(struct gdbstub *g)
{
    if (g->fd >= 0)
        close(g->fd);
    g->fd = -1;
    g->running = false;
    g->no_ack = false;
    /* the client's breakpoints go with it */
    struct debugger *d = g->d;
    for (int k = d->nbps - 1; k >= 0; k--)
        if (d->bps[k].gdb)
            bp_remove(d, &d->bps[k]);
}

static bool send_all(struct gdbstub *g, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(g->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static int read_byte(struct gdbstub *g)
{
    uint8_t b;
    for (;;) {
        ssize_t n = recv(g->fd, &b, 1, 0);
        if (n == 1)
            return b;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = {.fd = g->fd, .events = POLLIN};
            poll(&p, 1, -1);
            continue;
        }
        return -1;
    }
}

static void put_packet(struct gdbstub *g, const char *data)
{
    if (g->fd < 0)
        return;
    size_t n = strlen(data);
    char *buf = malloc(n + 5);
    if (!buf)
        return;
    uint8_t sum = 0;
    for (size_t k = 0; k < n; k++)
        sum = (uint8_t)(sum + (uint8_t)data[k]);
    buf[0] = '$';
    memcpy(buf + 1, data, n);
    buf[n + 1] = '#';
    buf[n + 2] = hexdig[sum >> 4];
    buf[n + 3] = hexdig[sum & 15];
    for (int tries = 0; tries < 5; tries++) {
        if (!send_all(g, buf, n + 4)) {
            drop_client(g);
            break;
        }
        if (g->no_ack)
            break;
        int ack = read_byte(g);
        if (ack == '+')
            break;
        if (ack < 0) {
            drop_client(g);
            break;
        }
    }
    free(buf);
}

/* Reads one packet into g->pkt; false when the client went away.
 * A bare 0x03 while stopped is answered by the caller as a stop. */
static bool get_packet(struct gdbstub *g)
{
    for (;;) {
        int ch;
        do {
            ch = read_byte(g);
            if (ch < 0)
                return false;
        } while (ch != '$');
        size_t n = 0;
        uint8_t sum = 0;
        bool overflow = false;
        for (;;) {
            ch = read_byte(g);
            if (ch < 0)
                return false;
            if (ch == '#')
                break;
            sum = (uint8_t)(sum + ch);
            if (n < PACKET_MAX)
                g->pkt[n++] = (char)ch;
            else
                overflow = true;
        }
        int h1 = read_byte(g), h2 = read_byte(g);
        if (h1 < 0 || h2 < 0)
            return false;
        g->pkt[n] = 0;
        bool ok = !overflow && hexval(h1) >= 0 && hexval(h2) >= 0 &&
                  (uint8_t)(hexval(h1) << 4 | hexval(h2)) == sum;
        if (!g->no_ack && !send_all(g, ok ? "+" : "-", 1))
            return false;
        if (ok)
            return true;
    }
}

/* ---- commands ---- */

static void stop_reply(struct gdbstub *g)
{
    struct debugger *d = g->d;
    char buf[128];
    int sig = d->signal ? d->signal : 5;
    size_t n = (size_t)snprintf(buf, sizeof(buf), "T%02x", sig);
    if (d->watch_kind) {
        const char *kind = d->watch_kind == WATCH_W ? "watch"
                           : d->watch_kind == WATCH_R ? "rwatch" : "awatch";
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s:%" PRIx64 ";", kind, d->watch_addr);
    } else if (d->gdb_break == 1 && g->swbreak) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "swbreak:;");
    } else if (d->gdb_break == 2 && g->hwbreak) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "hwbreak:;");
    }
    snprintf(buf + n, sizeof(buf) - n, "thread:01;");
    put_packet(g, buf);
}

static void read_all_regs(struct gdbstub *g, char *out)
{
    size_t pos = 0;
    for (int k = 0; k < NGREGS; k++) {
        uint8_t b[16];
        reg_read(g, k, b);
        to_hex(out + pos, b, gregs[k].bits / 8);
        pos += gregs[k].bits / 4;
    }
}

static void write_all_regs(struct gdbstub *g, const char *hex)
{
    for (int k = 0; k < NGREGS; k++) {
        uint8_t b[16];
        size_t n = gregs[k].bits / 8;
        if (from_hex(b, hex, n) != n)
            return; /* a short G packet sets the registers it covers */
        reg_write(g, k, b);
        hex += 2 * n;
    }
}

static void handle_memory_read(struct gdbstub *g, const char *args, char *out)
{
    char *end;
    uint64_t addr = strtoull(args, &end, 16);
    size_t len = *end == ',' ? strtoul(end + 1, NULL, 16) : 0;
    if (len > (PACKET_MAX - 8) / 2)
        len = (PACKET_MAX - 8) / 2;
    uint8_t buf[PACKET_MAX / 2];
    size_t n = dbg_read_lin(g->d, addr, buf, len);
    if (!n && len) {
        strcpy(out, "E14"); /* EFAULT */
        return;
    }
    to_hex(out, buf, n);
}

static void handle_memory_write(struct gdbstub *g, const char *args, char *out)
{
    char *end;
    uint64_t addr = strtoull(args, &end, 16);
    size_t len = *end == ',' ? strtoul(end + 1, &end, 16) : 0;
    const char *colon = strchr(args, ':');
    uint8_t buf[PACKET_MAX / 2];
    if (!colon || len > sizeof(buf) || from_hex(buf, colon + 1, len) != len) {
        strcpy(out, "E22");
        return;
    }
    strcpy(out, dbg_write_lin(g->d, addr, buf, len) == len ? "OK" : "E14");
}

/* Z/z TYPE,ADDR,KIND */
static void handle_break(struct gdbstub *g, bool insert, const char *args, char *out)
{
    struct debugger *d = g->d;
    int type = args[0] - '0';
    char *end;
    if (type < 0 || type > 4 || args[1] != ',') {
        out[0] = 0;
        return;
    }
    uint64_t addr = strtoull(args + 2, &end, 16);
    uint64_t len = *end == ',' ? strtoull(end + 1, NULL, 16) : 1;
    static const int access[5] = {0, 0, WATCH_W, WATCH_R, WATCH_R | WATCH_W};
    enum bp_kind kind = type <= 1 ? BP_EXEC : BP_WATCH;
    for (int k = 0; k < d->nbps; k++) {
        struct bp *b = &d->bps[k];
        if (!b->gdb || b->kind != kind || b->addr != addr || b->phys)
            continue;
        if (kind == BP_WATCH && (b->access != access[type] || b->len != len))
            continue;
        if (kind == BP_EXEC && b->hw != (type == 1))
            continue;
        if (!insert)
            bp_remove(d, b);
        strcpy(out, "OK"); /* inserting twice is one breakpoint */
        return;
    }
    if (!insert) {
        strcpy(out, "OK");
        return;
    }
    struct bp *b = bp_add(d, kind);
    if (!b) {
        strcpy(out, "E28"); /* ENOSPC */
        return;
    }
    b->gdb = true;
    b->hw = type == 1;
    b->addr = addr;
    b->len = len ? len : 1;
    b->access = access[type];
    strcpy(out, "OK");
}

/* qRcmd: a debugger command; its output goes back as console text */
static enum cmd_result handle_monitor(struct gdbstub *g, const char *hex, char *out)
{
    struct debugger *d = g->d;
    char cmd[PACKET_MAX / 2 + 1];
    size_t n = from_hex((uint8_t *)cmd, hex, sizeof(cmd) - 1);
    cmd[n] = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *saved = d->out;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) {
        strcpy(out, "E12");
        return CMD_STAY;
    }
    d->out = mem;
    enum cmd_result r = dbg_execute(d, cmd);
    if (r == CMD_RESUME) {
        dbg_resume(d, RUN_CONT, 0);
        dbg_printf(d, "resume with gdb's own commands (continue, stepi) so gdb knows\n");
        r = CMD_STAY;
    }
    fclose(mem);
    d->out = saved;
    /* console output packets ("O" + hex), a chunk at a time */
    for (size_t pos = 0; pos < len;) {
        size_t chunk = len - pos < 1024 ? len - pos : 1024;
        char buf[2 * 1024 + 2];
        buf[0] = 'O';
        to_hex(buf + 1, (const uint8_t *)text + pos, chunk);
        put_packet(g, buf);
        pos += chunk;
    }
    free(text);
    strcpy(out, "OK");
    return r;
}

static void handle_xfer(struct gdbstub *g, const char *args, char *out)
{
    const char *prefix = "features:read:target.xml:";
    if (strncmp(args, prefix, strlen(prefix)) || !g->xml) {
        out[0] = 0;
        return;
    }
    char *end;
    size_t off = strtoul(args + strlen(prefix), &end, 16);
    size_t len = *end == ',' ? strtoul(end + 1, NULL, 16) : 0;
    if (len > PACKET_MAX - 2)
        len = PACKET_MAX - 2;
    if (off >= g->xml_len) {
        strcpy(out, "l");
        return;
    }
    size_t n = g->xml_len - off < len ? g->xml_len - off : len;
    out[0] = off + n >= g->xml_len ? 'l' : 'm';
    memcpy(out + 1, g->xml + off, n);
    out[n + 1] = 0;
}

static void resume(struct gdbstub *g, char action)
{
    struct debugger *d = g->d;
    if (action == 's' || action == 'S') {
        dbg_resume(d, RUN_STEP, 1);
        d->step_into_irq = false; /* as with TF: interrupt handlers run through */
    } else {
        dbg_resume(d, RUN_CONT, 0);
    }
    g->running = true;
}

enum cmd_result gdb_serve(struct gdbstub *g)
{
    struct debugger *d = g->d;
    if (g->running) {
        g->running = false;
        stop_reply(g);
    }
    static char out[2 * PACKET_MAX + 8];
    while (g->fd >= 0) {
        if (!get_packet(g)) {
            fprintf(stderr, "nest86: the GDB client went away; the guest keeps running\n");
            drop_client(g);
            dbg_resume(d, RUN_CONT, 0);
            return CMD_RESUME;
        }
        const char *p = g->pkt;
        out[0] = 0;
        switch (p[0]) {
        case '?':
            stop_reply(g);
            continue;
        case 'g':
            read_all_regs(g, out);
            break;
        case 'G':
            write_all_regs(g, p + 1);
            strcpy(out, "OK");
            break;
        case 'p': {
            int k = (int)strtol(p + 1, NULL, 16);
            if (k < 0 || k >= NGREGS) {
                strcpy(out, "E00");
                break;
            }
            uint8_t b[16];
            reg_read(g, k, b);
            to_hex(out, b, gregs[k].bits / 8);
            break;
        }
        case 'P': {
            char *eq;
            int k = (int)strtol(p + 1, &eq, 16);
            uint8_t b[16];
            if (k < 0 || k >= NGREGS || *eq != '=' ||
                from_hex(b, eq + 1, gregs[k].bits / 8) != gregs[k].bits / 8) {
                strcpy(out, "E00");
                break;
            }
            reg_write(g, k, b);
            strcpy(out, "OK");
            break;
        }
        case 'm':
            handle_memory_read(g, p + 1, out);
            break;
        case 'M':
            handle_memory_write(g, p + 1, out);
            break;
        case 'Z':
        case 'z':
            handle_break(g, p[0] == 'Z', p + 1, out);
            break;
        case 'c':
        case 'C':
        case 's':
        case 'S':
            resume(g, p[0]);
            return CMD_RESUME;
        case 'k':
            drop_client(g);
            return CMD_QUIT;
        case 'D':
            put_packet(g, "OK");
            drop_client(g);
            dbg_resume(d, RUN_CONT, 0);
            return CMD_RESUME;
        case 'H':
        case 'T':
            strcpy(out, "OK");
            break;
        case 'v':
            if (!strcmp(p, "vCont?")) {
                strcpy(out, "vCont;c;C;s;S");
            } else if (!strncmp(p, "vCont;", 6)) {
                resume(g, p[6]);
                return CMD_RESUME;
            }
            break;
        case 'q':
            if (!strncmp(p, "qSupported", 10)) {
                g->swbreak = strstr(p, "swbreak+") != NULL;
                g->hwbreak = strstr(p, "hwbreak+") != NULL;
                snprintf(out, sizeof(out), "PacketSize=%x;qXfer:features:read+;"
                                           "QStartNoAckMode+;vContSupported+%s%s",
                         PACKET_MAX, g->swbreak ? ";swbreak+" : "", g->hwbreak ? ";hwbreak+" : "");
            } else if (!strncmp(p, "qXfer:", 6)) {
                handle_xfer(g, p + 6, out);
            } else if (!strcmp(p, "qC")) {
                strcpy(out, "QC1");
            } else if (!strcmp(p, "qfThreadInfo")) {
                strcpy(out, "m1");
            } else if (!strcmp(p, "qsThreadInfo")) {
                strcpy(out, "l");
            } else if (!strcmp(p, "qAttached")) {
                strcpy(out, "1");
            } else if (!strncmp(p, "qSymbol", 7)) {
                strcpy(out, "OK");
            } else if (!strncmp(p, "qRcmd,", 6)) {
                if (handle_monitor(g, p + 6, out) == CMD_QUIT) {
                    put_packet(g, out);
                    return CMD_QUIT;
                }
            }
            break;
        case 'Q':
            if (!strcmp(p, "QStartNoAckMode")) {
                put_packet(g, "OK");
                g->no_ack = true;
                continue;
            }
            break;
        default:
            break; /* unsupported: the empty reply */
        }
        put_packet(g, out);
    }
    return CMD_RESUME;
}

/* ---- the connection ---- */

static bool accept_client(struct gdbstub *g, bool wait)
{
    if (!wait) {
        struct pollfd p = {.fd = g->listen_fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return false;
    }
    int fd = accept(g->listen_fd, NULL, NULL);
    if (fd < 0)
        return false;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    g->fd = fd;
    g->no_ack = false;
    g->running = false;
    fprintf(stderr, "nest86: GDB connected\n");
    return true;
}

void gdb_poll(struct gdbstub *g, bool wait_for_client)
{
    if (g->fd < 0) {
        if (accept_client(g, wait_for_client) && !wait_for_client)
            dbg_request_stop(g->d, 5, "GDB attached"); /* the client expects a stopped target */
        return;
    }
    if (!g->running)
        return;
    /* while the guest runs the client may only interrupt (0x03) */
    struct pollfd p = {.fd = g->fd, .events = POLLIN};
    while (poll(&p, 1, 0) > 0) {
        uint8_t b;
        ssize_t n = recv(g->fd, &b, 1, MSG_DONTWAIT);
        if (n <= 0) {
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
            fprintf(stderr, "nest86: the GDB client went away; the guest keeps running\n");
            drop_client(g);
            return;
        }
        if (b == 0x03)
            dbg_request_stop(g->d, 2, "interrupted by GDB");
    }
}

bool gdb_attached(const struct gdbstub *g)
{
    return g->fd >= 0;
}

struct gdbstub *gdb_open(struct debugger *d, int port, char *err, size_t errlen)
{
    struct gdbstub *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->d = d;
    g->port = port;
    g->fd = -1;
    g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (g->listen_fd < 0) {
        snprintf(err, errlen, "-gdb: socket: %s", strerror(errno));
        free(g);
        return NULL;
    }
    int one = 1;
    setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from other hosts */
    if (bind(g->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(g->listen_fd, 1)) {
        snprintf(err, errlen, "-gdb tcp::%d: %s", port, strerror(errno));
        close(g->listen_fd);
        free(g);
        return NULL;
    }
    build_xml(g);
    fprintf(stderr, "nest86: GDB stub listening on 127.0.0.1:%d\n", port);
    return g;
}

void gdb_close(struct gdbstub *g, int status)
{
    if (g->fd >= 0 && g->running) {
        char buf[16];
        snprintf(buf, sizeof(buf), "W%02x", status & 0xff); /* the guest exited */
        put_packet(g, buf);
    }
    if (g->fd >= 0)
        close(g->fd);
    close(g->listen_fd);
    free(g->xml);
    free(g);
}
