/* cpu/decode.c — bytes to struct insn (SDM Vol. 2A chapter 2).
 *
 * Prefixes, REX, the opcode maps, ModRM/SIB/displacement and
 * immediates.  Operand and address size are resolved here once, so
 * handlers only read i->opsize and i->adsize. */
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/thread.h"
#include "cpu/insn.h"
#include "cpu/mem.h"

#define OP(code, name, fn, flags) void fn(struct cpu *c, const struct insn *i);
#include "cpu/opcodes.def"
#undef OP

struct opdesc {
    insn_fn fn;
    uint16_t flags;
};

static const struct opdesc op_table[0x400] = {
#define OP(code, name, fn, fl) [code] = {fn, fl},
#include "cpu/opcodes.def"
#undef OP
};

const char *const cpu_op_names[0x400] = {
#define OP(code, name, fn, fl) [code] = name,
#include "cpu/opcodes.def"
#undef OP
};

/* Instruction bytes come through a window on the current code page so
 * the common case is a pointer increment. */
struct fetcher {
    struct cpu *c;
    uint64_t lin;        /* linear address of the next byte */
    const uint8_t *p, *end;
    unsigned n;          /* bytes consumed */
};

static uint8_t fetch_slow(struct fetcher *f)
{
    struct cpu *c = f->c;
    if (f->n >= 15)
        cpu_raise(c, EX_GP, 0); /* SDM 2.3.11: instructions are at most 15 bytes */
    uint64_t off = c->rip + f->n;
    if (c->mode != MODE_LONG) {
        off &= c->code_size == 2 ? 0xffff : 0xffffffff;
        if (off > c->seg[SEG_CS].limit)
            cpu_raise(c, EX_GP, 0);
        f->lin = (uint32_t)(c->seg[SEG_CS].base + off);
    } else {
        f->lin = off;
        if (!mem_canonical(c, off))
            cpu_raise(c, EX_GP, 0);
    }
    uint8_t *page = mem_code_page(c, f->lin);
    if (page) {
        f->p = page + (f->lin & 0xfff);
        f->end = page + 4096;
        /* honour the CS limit inside the page */
        if (c->mode != MODE_LONG) {
            uint64_t room = (uint64_t)c->seg[SEG_CS].limit - off + 1;
            if ((uint64_t)(f->end - f->p) > room)
                f->end = f->p + room;
        }
        f->n++;
        return *f->p++;
    }
    f->n++;
    return mem_fetch_byte(c, f->lin);
}

static inline uint8_t fetch8(struct fetcher *f)
{
    if (f->p < f->end && f->n < 15) {
        f->n++;
        return *f->p++;
    }
    return fetch_slow(f);
}

/* the next byte, without consuming it */
static uint8_t peek8(const struct fetcher *f)
{
    struct fetcher copy = *f;
    return fetch8(&copy);
}

static uint64_t fetchn(struct fetcher *f, unsigned size)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= (uint64_t)fetch8(f) << (8 * k);
    return v;
}

static int64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - 8 * size;
    return (int64_t)(v << sh) >> sh;
}

static void decode_modrm(struct cpu *c, struct fetcher *f, struct insn *i, int *default_ss)
{
    uint8_t m = fetch8(f);
    i->mod = m >> 6;
    i->reg = ((m >> 3) & 7) | ((i->rex & 4) << 1);
    i->rm = (m & 7) | ((i->rex & 1) << 3);
    i->base = i->index = NO_REG;
    i->scale = 0;
    i->disp = 0;
    i->riprel = 0;
    if (i->mod == 3)
        return;
    if (i->adsize == 2) {
        /* SDM Table 2-1 */
        static const uint8_t b16[8] = {R_RBX, R_RBX, R_RBP, R_RBP, NO_REG, NO_REG, R_RBP, R_RBX};
        static const uint8_t x16[8] = {R_RSI, R_RDI, R_RSI, R_RDI, R_RSI, R_RDI, NO_REG, NO_REG};
        unsigned rm = m & 7;
        i->rm = rm;
        if (i->mod == 0 && rm == 6) {
            i->disp = fetchn(f, 2);
        } else {
            i->base = b16[rm];
            i->index = x16[rm];
            if (rm == 4 || rm == 5) {
                i->base = x16[rm];
                i->index = NO_REG;
            }
            *default_ss = i->base == R_RBP;
            if (i->mod == 1)
                i->disp = sext(fetch8(f), 1);
            else if (i->mod == 2)
                i->disp = sext(fetchn(f, 2), 2);
        }
        return;
    }
    unsigned rm = m & 7;
    if (rm == 4) { /* SIB, SDM Table 2-3 */
        uint8_t sib = fetch8(f);
        unsigned idx = ((sib >> 3) & 7) | ((i->rex & 2) << 2);
        unsigned base = (sib & 7) | ((i->rex & 1) << 3);
        i->scale = sib >> 6;
        i->index = idx == 4 ? NO_REG : idx;
        if ((sib & 7) == 5 && i->mod == 0) {
            i->base = NO_REG;
            i->disp = sext(fetchn(f, 4), 4);
        } else {
            i->base = base;
        }
    } else if (rm == 5 && i->mod == 0) {
        i->disp = sext(fetchn(f, 4), 4);
        i->riprel = c->mode == MODE_LONG;
    } else {
        i->base = i->rm;
    }
    *default_ss = i->base == R_RSP || i->base == R_RBP;
    if (i->mod == 1)
        i->disp = sext(fetch8(f), 1);
    else if (i->mod == 2)
        i->disp = sext(fetchn(f, 4), 4);
}

void cpu_decode(struct cpu *c, struct insn *i)
{
    struct fetcher f = {.c = c};
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    int seg_override = -1;
    bool p66 = false, p67 = false;
    uint8_t b;

    memset(i, 0, sizeof(*i));
    for (;;) {
        b = fetch8(&f);
        switch (b) {
        /* SDM Vol. 1 3.3.7.1: in 64-bit mode CS/DS/ES/SS overrides are
         * ignored (they neither select a segment nor cancel FS/GS) */
        case 0x26: if (!long64) seg_override = SEG_ES; i->rex = 0; continue;
        case 0x2e: if (!long64) seg_override = SEG_CS; i->rex = 0; continue;
        case 0x36: if (!long64) seg_override = SEG_SS; i->rex = 0; continue;
        case 0x3e: if (!long64) seg_override = SEG_DS; i->rex = 0; continue;
        case 0x64: seg_override = SEG_FS; i->rex = 0; continue;
        case 0x65: seg_override = SEG_GS; i->rex = 0; continue;
        case 0x66: p66 = true; i->rex = 0; continue;
        case 0x67: p67 = true; i->rex = 0; continue;
        case 0xf0: i->lock = 1; i->rex = 0; continue;
        case 0xf2: i->rep = REP_F2; i->rex = 0; continue;
        case 0xf3: i->rep = REP_F3; i->rex = 0; continue;
        default: break;
        }
        /* REX counts only as the last prefix before the opcode (SDM 2.2.1) */
        if (long64 && (b & 0xf0) == 0x40) {
            i->rex = b;
            continue;
        }
        break;
    }

    unsigned map = 0;
    /* VEX (SDM Vol. 2A 2.3): C4/C5 in 64-bit mode, and outside it only
     * when the next byte has ModRM.mod = 11 (otherwise LES/LDS).  It may
     * not follow 66, F2, F3, LOCK or REX. */
    if ((b == 0xc4 || b == 0xc5) &&
        (long64 || (peek8(&f) & 0xc0) == 0xc0)) {
        if (p66 || i->rep || i->lock || i->rex)
            cpu_raise(c, EX_UD, 0);
        uint8_t b1 = fetch8(&f), b2;
        unsigned rxb, w = 0;
        if (b == 0xc5) {
            rxb = (~b1 >> 5) & 4; /* R only */
            map = 1;
            b2 = b1;
        } else {
            rxb = (~b1 >> 5) & 7;
            map = b1 & 0x1f;
            b2 = fetch8(&f);
            w = b2 >> 7;
            if (map < 1 || map > 3)
                cpu_raise(c, EX_UD, 0);
        }
        i->vex = 1;
        i->vex_l = (b2 >> 2) & 1;
        i->vvvv = (uint8_t)((~b2 >> 3) & 0xf);
        if (!long64) {
            i->vvvv &= 7; /* VEX.vvvv[3] is ignored outside 64-bit mode */
            rxb = 0;
            w = 0;
        }
        i->rex = (uint8_t)(long64 ? 0x40 | (w << 3) | rxb : 0);
        static const uint8_t pp_prefix[4] = {0, 0x66, 0xf3, 0xf2};
        uint8_t pp = pp_prefix[b2 & 3];
        p66 = pp == 0x66;
        i->rep = pp == 0xf3 ? REP_F3 : pp == 0xf2 ? REP_F2 : REP_NONE;
        b = fetch8(&f);
    } else if (b == 0x0f) {
        b = fetch8(&f);
        map = 1;
        if (b == 0x38 || b == 0x3a) {
            map = b == 0x38 ? 2 : 3;
            b = fetch8(&f);
        }
    }
    i->op = (uint16_t)(map << 8 | b);
    i->p66 = p66;
    const struct opdesc *d = &op_table[i->op];
    unsigned fl = d->flags;

    if (long64) {
        i->adsize = p67 ? 4 : 8;
        if (i->rex & 8)
            i->opsize = 8;
        else if (fl & D_F64)
            i->opsize = 8;
        else if (fl & D_D64)
            i->opsize = p66 ? 2 : 8;
        else
            i->opsize = p66 ? 2 : 4;
    } else {
        unsigned cs = c->code_size;
        i->opsize = (uint8_t)(p66 ? 6 - cs : cs);
        i->adsize = (uint8_t)(p67 ? 6 - cs : cs);
    }

    int default_ss = 0;
    if (fl & D_MODRM)
        decode_modrm(c, &f, i, &default_ss);
    i->seg = (uint8_t)(seg_override >= 0 ? seg_override : default_ss ? SEG_SS : SEG_DS);

    if (fl & D_IB)
        i->imm = (uint64_t)sext(fetch8(&f), 1);
    if (fl & D_IW)
        i->imm = fetchn(&f, 2);
    if (fl & D_IZ) {
        unsigned n = i->opsize == 2 ? 2 : 4;
        i->imm = (uint64_t)sext(fetchn(&f, n), n);
    }
    if (fl & D_IV)
        i->imm = fetchn(&f, i->opsize);
    if (fl & D_MOFFS)
        i->imm = fetchn(&f, i->adsize);
    if (fl & D_FAR) {
        i->imm = fetchn(&f, i->opsize == 2 ? 2 : 4);
        i->imm2 = fetchn(&f, 2);
    }
    if (fl & D_IWIB) {
        i->imm = fetchn(&f, 2);
        i->imm2 = fetch8(&f);
    }
    if ((fl & D_GRP3) && (i->reg & 7) < 2) {
        unsigned n = (b & 1) ? (i->opsize == 2 ? 2 : 4) : 1;
        i->imm = (uint64_t)sext(fetchn(&f, n), n);
    }
    i->len = (uint8_t)f.n;

    i->fn = d->fn;
    i->run = cpu_run_generic;
    if (!d->fn || ((fl & D_I64) && long64) || ((fl & D_REG_ONLY) && i->mod != 3) ||
        ((fl & D_MEM_ONLY) && i->mod == 3))
        i->fn = op_ud;
    /* SDM Vol. 2A "LOCK": #UD unless a lockable instruction with a memory destination */
    if (i->lock && (!(fl & D_LOCK) || i->mod == 3))
        i->fn = op_ud;
    if (i->vex && !(fl & D_VEX))
        i->fn = op_ud; /* no AVX: VEX forms of SSE instructions are #UD */
    cpu_specialize(c, i);
}
