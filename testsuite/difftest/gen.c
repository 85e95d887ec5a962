/* testsuite/difftest/gen.c — the generator: an x86-64 encoder for the
 * forms in the tables, operand choice (registers, memory operands in the
 * data window with the moves that set their address registers up),
 * sequences of units, linking, and the undefined-flag model.
 *
 * The flag model tracks, statically, which arithmetic flags are
 * undefined at each unit boundary.  A unit that reads a flag (ADC, Jcc,
 * PUSHF, ...) never sees an undefined one: a flag-defining ALU unit is
 * put before it instead.  What is still undefined at the end (or at a
 * faulting instruction) is masked in the comparison, and nothing else. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testsuite/difftest/difftest.h"

struct gen {
    uint64_t s;
    struct dt_item *it;
    int64_t rsp, rsp_ea_adj;
    bool frame;
    bool overflow;
    const char *focus;
};

const struct dt_form **dt_forms;
int dt_nforms;
static const char **excluded_why;
static int *definers;
static int ndefiners;

/* ---- random numbers (splitmix64) ---- */

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t gen_rand(struct gen *g)
{
    return mix(&g->s);
}

unsigned gen_below(struct gen *g, unsigned n)
{
    return n ? (unsigned)(gen_rand(g) % n) : 0;
}

bool gen_chance(struct gen *g, unsigned percent)
{
    return gen_below(g, 100) < percent;
}

static uint64_t sext(uint64_t v, unsigned size)
{
    unsigned sh = 64 - 8 * size;
    return size == 8 ? v : (uint64_t)((int64_t)(v << sh) >> sh);
}

/* Values that exercise carries, signs and boundaries more often than
 * uniform random numbers would. */
uint64_t gen_value(struct gen *g, unsigned size)
{
    unsigned bits = size * 8;
    uint64_t top = 1ull << (bits - 1);
    uint64_t m = size == 8 ? ~0ull : (1ull << bits) - 1;
    uint64_t hi = gen_rand(g) & ~m; /* what lies above the operand */
    uint64_t v;
    switch (gen_below(g, 12)) {
    case 0: v = gen_below(g, 17); break;
    case 1: v = (uint64_t)-(int64_t)(1 + gen_below(g, 16)); break;
    case 2: {
        static const int pick[] = {0, 1, 2, 3, 4, 5};
        switch (pick[gen_below(g, 6)]) {
        case 0: v = 0; break;
        case 1: v = top; break;
        case 2: v = top - 1; break;
        case 3: v = m; break;
        case 4: v = top + 1; break;
        default: v = 1; break;
        }
        break;
    }
    case 3: v = 1ull << gen_below(g, bits); break;
    case 4: v = ~(1ull << gen_below(g, bits)); break;
    case 5: v = sext(gen_rand(g) & 0xff, 1); break;
    case 6: v = gen_rand(g) >> gen_below(g, 64); break;
    default: v = gen_rand(g); break;
    }
    v &= m;
    return gen_chance(g, 50) ? (v | hi) : v;
}

/* ---- tables ---- */

static int group_count;
static const char *groups[64];
static int *group_forms[64];
static int group_nforms[64];

void gen_init(void)
{
    int n = 0;
    for (const struct dt_form *f = dt_forms_int; f->name; f++)
        n++;
    for (const struct dt_form *f = dt_forms_simd; f->name; f++)
        n++;
    dt_forms = calloc((size_t)n, sizeof(*dt_forms));
    excluded_why = calloc((size_t)n, sizeof(*excluded_why));
    definers = calloc((size_t)n, sizeof(*definers));
    for (int k = 0; k < 64; k++)
        group_forms[k] = calloc((size_t)n, sizeof(int));
    if (!dt_forms || !excluded_why || !definers || !group_forms[63]) {
        fprintf(stderr, "difftest: out of memory\n");
        exit(2);
    }
    n = 0;
    for (const struct dt_form *f = dt_forms_int; f->name; f++)
        dt_forms[n++] = f;
    for (const struct dt_form *f = dt_forms_simd; f->name; f++)
        dt_forms[n++] = f;
    dt_nforms = n;
    for (int k = 0; k < n; k++) {
        const struct dt_form *f = dt_forms[k];
        int gi;
        for (gi = 0; gi < group_count; gi++)
            if (!strcmp(groups[gi], f->group))
                break;
        if (gi == group_count) {
            assert(group_count < 64);
            groups[group_count++] = f->group;
        }
        group_forms[gi][group_nforms[gi]++] = k;
        /* flag definers: full-flag ALU units that read nothing */
        if (!strcmp(f->group, "alu") && f->writes == DT_ARITH && !f->undef && !f->reads)
            definers[ndefiners++] = k;
    }
}

int gen_group_count(void)
{
    return group_count;
}
const char *gen_group_name(int k)
{
    return groups[k];
}

void gen_set_excluded(int form, const char *why)
{
    excluded_why[form] = why;
}

const char *gen_excluded_why(int form)
{
    return excluded_why[form];
}

bool gen_form_skipped(int form)
{
    return excluded_why[form] != NULL;
}

/* ---- emitting bytes ---- */

struct dt_item *gen_item(struct gen *g)
{
    return g->it;
}

static void put(struct gen *g, uint8_t b)
{
    struct dt_item *it = g->it;
    if (it->len >= DT_ITEM_MAX) {
        g->overflow = true;
        return;
    }
    it->bytes[it->len++] = b;
}

static void putn(struct gen *g, uint64_t v, int n)
{
    for (int k = 0; k < n; k++)
        put(g, (uint8_t)(v >> (8 * k)));
}

void ins_init(struct dt_ins *in)
{
    memset(in, 0, sizeof(*in));
    in->mem.base = in->mem.index = -1;
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

/* ModRM, SIB and displacement for in->reg and in->rm / in->mem. */
static void put_modrm(struct gen *g, const struct dt_ins *in, int *disp_pos)
{
    unsigned reg = in->reg & 7;
    *disp_pos = -1;
    if (!in->rm_mem) {
        put(g, (uint8_t)(0xc0 | reg << 3 | (in->rm & 7)));
        return;
    }
    const struct dt_mem *m = &in->mem;
    if (m->base == -2) { /* RIP-relative */
        put(g, (uint8_t)(reg << 3 | 5));
        *disp_pos = g->it->len;
        putn(g, 0, 4);
        return;
    }
    unsigned idx = m->index >= 0 ? (unsigned)m->index & 7 : 4;
    if (m->base == -1) { /* no base: SIB with base 101 and mod 00, disp32 */
        put(g, (uint8_t)(reg << 3 | 4));
        put(g, (uint8_t)(m->scale << 6 | idx << 3 | 5));
        putn(g, (uint64_t)m->disp, 4);
        return;
    }
    unsigned base = (unsigned)m->base & 7;
    unsigned mod;
    if (m->disp == 0 && base != 5 && !m->long_disp)
        mod = 0;
    else if (fits8(m->disp) && !m->long_disp)
        mod = 1;
    else
        mod = 2;
    bool sib = m->index >= 0 || base == 4;
    put(g, (uint8_t)(mod << 6 | reg << 3 | (sib ? 4 : base)));
    if (sib)
        put(g, (uint8_t)(m->scale << 6 | idx << 3 | base));
    if (mod == 1)
        put(g, (uint8_t)m->disp);
    else if (mod == 2)
        putn(g, (uint64_t)m->disp, 4);
}

static void assemble(struct gen *g, struct dt_ins *in)
{
    /* legacy prefixes, 66 and 67 in a random order now and then */
    uint8_t pfx[8];
    int np = 0;
    for (int k = 0; k < in->nlegacy; k++)
        pfx[np++] = in->legacy[k];
    if (in->p66)
        pfx[np++] = 0x66;
    if (in->p67)
        pfx[np++] = 0x67;
    if (np > 1 && gen_chance(g, 30)) {
        for (int k = np - 1; k > 0; k--) {
            int j = (int)gen_below(g, (unsigned)k + 1);
            uint8_t t = pfx[k];
            pfx[k] = pfx[j];
            pfx[j] = t;
        }
    }
    for (int k = 0; k < np; k++)
        put(g, pfx[k]);

    uint8_t rex = in->rex & 0xf;
    if (in->modrm) {
        if (in->reg & 8)
            rex |= 4;
        if (in->rm_mem) {
            if (in->mem.index >= 8)
                rex |= 2;
            if (in->mem.base >= 8)
                rex |= 1;
        } else if (in->rm & 8) {
            rex |= 1;
        }
    }
    if (in->byte_mode == 1)
        assert(rex == 0);
    if (rex || in->rex_any || in->byte_mode == 2)
        put(g, (uint8_t)(0x40 | rex));
    for (int k = 0; k < in->nopc; k++)
        put(g, in->opc[k]);
    int disp_pos = -1;
    if (in->modrm)
        put_modrm(g, in, &disp_pos);
    putn(g, in->imm, in->imm_size);
    putn(g, in->imm2, in->imm2_size);
    if (disp_pos >= 0) {
        struct dt_item *it = g->it;
        if (it->nreloc < 2) {
            it->reloc[it->nreloc].off = (uint8_t)disp_pos;
            it->reloc[it->nreloc].end = it->len;
            it->reloc[it->nreloc].target = in->mem.target;
            it->nreloc++;
        } else {
            g->overflow = true;
        }
    }
}

void gen_emit(struct gen *g, struct dt_ins *in)
{
    struct dt_item *it = g->it;
    unsigned start = it->len;
    assemble(g, in);
    it->main_off = (uint8_t)start;
    it->main_len = (uint8_t)(it->len - start);
}

void gen_setup_bytes(struct gen *g, const uint8_t *b, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        put(g, b[k]);
}

void gen_setup_mov(struct gen *g, unsigned reg, unsigned size, uint64_t value)
{
    struct dt_ins in;
    ins_init(&in);
    if (reg >= 8)
        in.rex = 1;
    in.nopc = 1;
    switch (size) {
    case 1:
        in.opc[0] = (uint8_t)(0xb0 + (reg & 7));
        in.imm_size = 1;
        if (reg >= 4)
            in.rex_any = true;
        break;
    case 2:
        in.p66 = true;
        in.opc[0] = (uint8_t)(0xb8 + (reg & 7));
        in.imm_size = 2;
        break;
    case 4:
        in.opc[0] = (uint8_t)(0xb8 + (reg & 7));
        in.imm_size = 4;
        break;
    default:
        if (value <= 0xffffffffull) {
            in.opc[0] = (uint8_t)(0xb8 + (reg & 7));
            in.imm_size = 4;
        } else if ((uint64_t)(int64_t)(int32_t)value == value) {
            in.rex |= 8;
            in.opc[0] = 0xc7;
            in.modrm = true;
            in.rm = reg;
            in.rex &= ~1u; /* put_modrm's REX.B comes from rm */
            in.imm_size = 4;
        } else {
            in.rex |= 8;
            in.opc[0] = (uint8_t)(0xb8 + (reg & 7));
            in.imm_size = 8;
        }
        break;
    }
    in.imm = value;
    assemble(g, &in);
}

void gen_setup_mem(struct gen *g, unsigned reg, unsigned size, const struct dt_mem *m, bool store)
{
    struct dt_ins in;
    ins_init(&in);
    in.nopc = 1;
    in.opc[0] = (uint8_t)((size == 1 ? 0x8a : 0x8b) - (store ? 2 : 0));
    if (size == 2)
        in.p66 = true;
    if (size == 8)
        in.rex = 8;
    if (size == 1 && reg >= 4)
        in.rex_any = true;
    in.p67 = m->addr32;
    in.modrm = true;
    in.reg = reg;
    in.rm_mem = true;
    in.mem = *m;
    assemble(g, &in);
}

/* ---- operands ---- */

unsigned gen_size(struct gen *g, struct dt_ins *in, unsigned mask)
{
    unsigned opts[4], n = 0;
    for (unsigned s = 1; s <= 8; s <<= 1)
        if (mask & s)
            opts[n++] = s;
    assert(n);
    unsigned size = opts[gen_below(g, n)];
    if (size == 2)
        in->p66 = true;
    if (size == 8) {
        in->rex |= 8;
        if (gen_chance(g, 5))
            in->p66 = true; /* REX.W wins over 66 */
    }
    return size;
}

void gen_byte_rex(struct gen *g, struct dt_ins *in, unsigned size)
{
    if (in->byte_mode)
        return;
    if (size != 1) {
        in->byte_mode = 3; /* no byte registers: REX only when some bit needs it */
        return;
    }
    /* a REX already there (REX.W, say) rules out AH..BH */
    in->byte_mode = (in->rex || in->rex_any || gen_chance(g, 50)) ? 2 : 1;
}

unsigned gen_reg_gpr(const struct dt_ins *in, unsigned size, unsigned r)
{
    if (size == 1 && in->byte_mode == 1 && r >= 4 && r < 8)
        return r - 4;
    return r;
}

static bool reserved(struct gen *g, unsigned gpr)
{
    return gpr == 4 || (g->frame && gpr == 5);
}

unsigned gen_reg(struct gen *g, struct dt_ins *in, unsigned size, bool dst, unsigned avoid)
{
    if (!in->byte_mode)
        gen_byte_rex(g, in, size);
    unsigned n = in->byte_mode == 1 ? 8 : 16;
    for (int tries = 0; tries < 200; tries++) {
        unsigned r = gen_below(g, n);
        unsigned gpr = gen_reg_gpr(in, size, r);
        if (dst && (reserved(g, gpr) || (avoid >> gpr & 1)))
            continue;
        return r;
    }
    return 0;
}

/* a register the setup code may load: not reserved, not avoided, and
 * reachable without REX in the legacy byte mode */
static int free_reg(struct gen *g, const struct dt_ins *in, unsigned avoid)
{
    unsigned n = in->byte_mode == 1 ? 8 : 16;
    for (int tries = 0; tries < 200; tries++) {
        unsigned r = gen_below(g, n);
        if (reserved(g, r) || (avoid >> r & 1))
            continue;
        return (int)r;
    }
    return -1;
}

uint64_t gen_data_addr(struct gen *g, unsigned size)
{
    if (gen_chance(g, 15)) { /* straddle a page boundary inside the window */
        unsigned page = 1 + gen_below(g, DT_DATA_SIZE / 4096 - 1);
        return DT_DATA_ADDR + page * 4096ull - 1 - gen_below(g, size > 1 ? size - 1 : 1);
    }
    return DT_DATA_ADDR + 0x40 + gen_below(g, DT_DATA_SIZE - 0x80 - size);
}

void gen_mem_at(struct gen *g, struct dt_ins *in, uint64_t target, unsigned avoid)
{
    struct dt_mem *m = &in->mem;
    in->modrm = true;
    in->rm_mem = true;
    m->base = m->index = -1;
    m->scale = 0;
    m->disp = 0;
    m->addr32 = false;
    m->long_disp = gen_chance(g, 10);
    bool legacy = in->byte_mode == 1;
    unsigned kind = gen_below(g, 100);
    if (target <= 0x7fffffffull && in->nlegacy < 4 && gen_chance(g, 8)) {
        /* a GS override: the same linear address through the GS base */
        in->legacy[in->nlegacy++] = 0x65;
        target -= DT_GS_BASE;
    }
    if (target > 0x7fffffffull)
        kind = 30 + gen_below(g, 70); /* beyond a disp32: only a base register reaches it */
    if (kind < 8) { /* RIP-relative */
        m->base = -2;
        m->target = target;
        m->addr32 = gen_chance(g, 10);
    } else if (kind < 12) { /* absolute disp32 */
        m->disp = (int64_t)target;
    } else if (kind < 22) { /* RSP-based: the tracked stack pointer */
        m->base = 4;
        m->disp = (int64_t)target - (g->rsp + g->rsp_ea_adj);
        if (!fits8(m->disp) && gen_chance(g, 50))
            m->long_disp = true;
        if (gen_chance(g, 20) && !legacy) {
            int x = free_reg(g, in, avoid);
            if (x >= 0 && x != 4) {
                int64_t xv = (int64_t)gen_below(g, 64) - 32;
                m->index = x;
                m->scale = gen_below(g, 4);
                m->disp -= xv * (1 << m->scale);
                gen_setup_mov(g, (unsigned)x, 8, (uint64_t)xv);
            }
        }
    } else if (kind < 30) { /* index only */
        int x = free_reg(g, in, avoid);
        if (x < 0 || x == 4) {
            m->disp = (int64_t)target;
        } else {
            int64_t xv = (int64_t)gen_below(g, 512) - 256;
            m->index = x;
            m->scale = gen_below(g, 4);
            m->disp = (int64_t)target - xv * (1 << m->scale);
            gen_setup_mov(g, (unsigned)x, 8, (uint64_t)xv);
        }
    } else { /* base, optional index */
        int b = free_reg(g, in, avoid);
        if (b < 0) {
            m->disp = (int64_t)target;
            return;
        }
        m->base = b;
        m->addr32 = target <= 0xffffffffull && gen_chance(g, 15);
        switch (gen_below(g, 4)) {
        case 0: m->disp = 0; break;
        case 1: m->disp = (int64_t)gen_below(g, 256) - 128; break;
        case 2: m->disp = (int64_t)gen_below(g, 0x2000) - 0x1000; break;
        default: m->disp = (int64_t)(int32_t)gen_rand(g); break;
        }
        uint64_t bv = target - (uint64_t)m->disp;
        if (gen_chance(g, 40)) {
            int x = free_reg(g, in, avoid | 1u << b);
            if (x >= 0 && x != 4) {
                int64_t xv = gen_chance(g, 80) ? (int64_t)gen_below(g, 256) - 128
                                               : (int64_t)(int32_t)gen_rand(g);
                m->index = x;
                m->scale = gen_below(g, 4);
                bv -= (uint64_t)xv << m->scale;
                gen_setup_mov(g, (unsigned)x, 8, (uint64_t)xv);
            }
        }
        if (m->addr32) /* only the low 32 bits count: put garbage above */
            bv = (bv & 0xffffffffull) | (gen_rand(g) << 32);
        gen_setup_mov(g, (unsigned)b, 8, bv);
    }
    in->p67 = m->addr32;
}

void gen_rm_mem(struct gen *g, struct dt_ins *in, unsigned size, unsigned avoid)
{
    if (!in->byte_mode)
        gen_byte_rex(g, in, size);
    gen_mem_at(g, in, gen_data_addr(g, size), avoid);
}

void gen_rm(struct gen *g, struct dt_ins *in, unsigned size, bool dst, unsigned avoid,
            unsigned pct_mem)
{
    in->modrm = true;
    if (gen_chance(g, pct_mem)) {
        gen_rm_mem(g, in, size, avoid);
    } else {
        in->rm_mem = false;
        in->rm = gen_reg(g, in, size, dst, avoid);
    }
}

void gen_mem_any(struct gen *g, struct dt_ins *in)
{
    struct dt_mem *m = &in->mem;
    in->modrm = true;
    in->rm_mem = true;
    m->base = m->index = -1;
    m->scale = 0;
    m->long_disp = gen_chance(g, 10);
    m->addr32 = gen_chance(g, 25);
    unsigned n = in->byte_mode == 1 ? 8 : 16;
    switch (gen_below(g, 4)) {
    case 0: m->disp = 0; break;
    case 1: m->disp = (int64_t)gen_below(g, 256) - 128; break;
    default: m->disp = (int64_t)(int32_t)gen_rand(g); break;
    }
    unsigned kind = gen_below(g, 10);
    if (kind == 0) {
        m->base = -2;
        m->target = DT_CODE_ADDR + gen_below(g, 0x10000) - 0x8000 + (uint64_t)m->disp;
    } else if (kind == 1) {
        /* absolute */
    } else {
        if (kind != 2)
            m->base = (int)gen_below(g, n);
        if (gen_chance(g, 50) || m->base == -1) {
            unsigned x = gen_below(g, n);
            if (x != 4)
                m->index = (int)x;
            m->scale = gen_below(g, 4);
        }
    }
    in->p67 = m->addr32;
}

void gen_noise_prefix(struct gen *g, struct dt_ins *in)
{
    /* CS/SS/DS/ES overrides are ignored in 64-bit mode (SDM Vol. 1 3.3.7.1) */
    static const uint8_t segs[] = {0x2e, 0x36, 0x3e, 0x26};
    if (gen_chance(g, 6) && in->nlegacy < 4)
        in->legacy[in->nlegacy++] = segs[gen_below(g, 4)];
    if (gen_chance(g, 5) && in->byte_mode != 1)
        in->rex_any = true; /* a REX with no bits */
}

void gen_lock(struct gen *g, struct dt_ins *in, unsigned pct)
{
    if (in->rm_mem && gen_chance(g, pct) && in->nlegacy < 4)
        in->legacy[in->nlegacy++] = 0xf0;
}

/* ---- stack tracking ---- */

int64_t gen_rsp(struct gen *g)
{
    return g->rsp;
}

void gen_rsp_move(struct gen *g, int64_t delta)
{
    g->rsp += delta;
}

void gen_rsp_ea_adjust(struct gen *g, int64_t delta)
{
    g->rsp_ea_adj = delta;
}

void gen_frame(struct gen *g, bool open)
{
    g->frame = open;
}

bool gen_frame_open(struct gen *g)
{
    return g->frame;
}

/* SDM Vol. 1 Appendix B: the flags each condition code tests */
uint32_t gen_cc_reads(unsigned cc)
{
    switch (cc >> 1) {
    case 0: return DT_OF;
    case 1: return DT_CF;
    case 2: return DT_ZF;
    case 3: return DT_CF | DT_ZF;
    case 4: return DT_SF;
    case 5: return DT_PF;
    case 6: return DT_SF | DT_OF;
    default: return DT_ZF | DT_SF | DT_OF;
    }
}

/* ---- units and sequences ---- */

static int pick_form(struct gen *g, unsigned forbid_attr)
{
    int gi = -1;
    if (g->focus) {
        for (int k = 0; k < group_count; k++)
            if (!strcmp(groups[k], g->focus))
                gi = k;
    }
    for (int tries = 0; tries < 1000; tries++) {
        int f;
        if (gi >= 0 && gen_chance(g, 75))
            f = group_forms[gi][gen_below(g, (unsigned)group_nforms[gi])];
        else
            f = (int)gen_below(g, (unsigned)dt_nforms);
        if (excluded_why[f] || (dt_forms[f]->attr & forbid_attr))
            continue;
        /* faulting units come from their own group only */
        if ((dt_forms[f]->attr & DT_A_FAULT) && (!g->focus || strcmp(dt_forms[f]->group, g->focus)))
            continue;
        return f;
    }
    return -1;
}

static bool emit_unit(struct gen *g, int f, struct dt_item *it)
{
    const struct dt_form *form = dt_forms[f];
    struct dt_item *saved = g->it;
    int64_t rsp0 = g->rsp;
    memset(it, 0, sizeof(*it));
    it->form = f;
    it->body_form = -1;
    it->writes = form->writes;
    it->undef = form->undef;
    it->reads = form->reads;
    it->fault_ok = (form->attr & DT_A_FAULT) != 0;
    g->it = it;
    g->overflow = false;
    g->rsp_ea_adj = 0;
    form->emit(g, form);
    g->it = saved;
    g->rsp_ea_adj = 0;
    if (g->overflow) {
        g->rsp = rsp0;
        g->overflow = false;
        return false;
    }
    return true;
}

void gen_body(struct gen *g, struct dt_item *body)
{
    for (int tries = 0; tries < 50; tries++) {
        int f = pick_form(g, DT_A_STACK | DT_A_CTRL | DT_A_FAULT);
        if (f < 0)
            break;
        if (emit_unit(g, f, body) && body->len <= DT_ITEM_MAX - 24)
            return;
    }
    /* fall back to an empty body */
    memset(body, 0, sizeof(*body));
    body->form = -1;
}

void gen_put_body(struct gen *g, const struct dt_item *body)
{
    struct dt_item *it = g->it;
    unsigned off = it->len;
    gen_setup_bytes(g, body->bytes, body->len);
    for (int r = 0; r < body->nreloc; r++) {
        if (it->nreloc >= 2) {
            g->overflow = true;
            break;
        }
        it->reloc[it->nreloc] = body->reloc[r];
        it->reloc[it->nreloc].off = (uint8_t)(body->reloc[r].off + off);
        it->reloc[it->nreloc].end = (uint8_t)(body->reloc[r].end + off);
        it->nreloc++;
    }
    for (int k = 0; k < body->nfix; k++) {
        if (it->nfix >= 2) {
            g->overflow = true;
            break;
        }
        it->fix[it->nfix] = body->fix[k];
        it->fix[it->nfix].off = (uint8_t)(body->fix[k].off + off);
        it->nfix++;
    }
    it->body_off = (uint8_t)off;
    it->body_len = body->len;
    it->body_form = body->form;
}

struct dt_fixup *gen_fixup(struct gen *g, int rule, unsigned off, unsigned len)
{
    struct dt_item *it = g->it;
    if (it->nfix >= 2) {
        g->overflow = true;
        return NULL;
    }
    struct dt_fixup *f = &it->fix[it->nfix++];
    memset(f, 0, sizeof(*f));
    f->rule = (uint8_t)rule;
    f->off = (uint8_t)off;
    f->len = (uint8_t)len;
    dt_vendor_hits[rule]++;
    return f;
}

void gen_vendor_avoided(int rule)
{
    dt_vendor_hits[rule]++;
}

/* The item with its body turned into NOPs (same length, so the branch
 * around it still lands where it did): what a sequence looks like
 * without the body's instruction, for blaming the right form. */
void gen_item_drop_body(struct dt_item *it)
{
    if (!it->body_len)
        return;
    memset(it->bytes + it->body_off, 0x90, it->body_len);
    int n = 0;
    for (int r = 0; r < it->nreloc; r++)
        if (it->reloc[r].off < it->body_off || it->reloc[r].off >= it->body_off + it->body_len)
            it->reloc[n++] = it->reloc[r];
    it->nreloc = n;
    n = 0;
    for (int k = 0; k < it->nfix; k++)
        if (it->fix[k].off < it->body_off || it->fix[k].off >= it->body_off + it->body_len)
            it->fix[n++] = it->fix[k];
    it->nfix = n;
    it->body_len = 0;
    it->body_form = -1;
}

static uint32_t effect(const struct dt_item *it, uint32_t undef)
{
    if (it->join)
        return undef | it->undef;
    return (undef & ~it->writes) | it->undef;
}

void gen_sequence(uint64_t seed, const char *focus, struct dt_seq *s)
{
    struct gen g = {.s = seed, .focus = focus};
    memset(s, 0, sizeof(*s));
    for (int r = 0; r < 16; r++)
        s->init.r[r] = gen_value(&g, 8);
    uint64_t sp = DT_DATA_ADDR + 0x6000 + gen_below(&g, 0x800) * 8 - 0x2000 / 2;
    if (gen_chance(&g, 10))
        sp += 1 + gen_below(&g, 7); /* a misaligned stack is legal */
    s->init.r[4] = sp;
    g.rsp = (int64_t)sp;
    s->init.rflags = 0x202 | (gen_rand(&g) & DT_ARITH) | (gen_chance(&g, 30) ? DT_DF : 0) |
                     (gen_chance(&g, 20) ? DT_ID : 0);
    s->data_seed = gen_rand(&g);
    /* half the sequences start just before a page boundary, so fetches
     * straddle it */
    s->code_off = gen_chance(&g, 50) ? 0 : 4096 - gen_below(&g, 160);

    int want = 3 + (int)gen_below(&g, 22);
    uint32_t undef = 0;
    unsigned code = s->code_off;
    while (s->n < want && s->n < DT_MAX_ITEMS - 1) {
        int f = pick_form(&g, 0);
        if (f < 0)
            break;
        struct dt_item it;
        if (!emit_unit(&g, f, &it))
            continue;
        if (it.reads & undef) {
            /* define the flags first: an ALU unit that sets all six */
            struct dt_item def;
            int df = definers[gen_below(&g, (unsigned)ndefiners)];
            if (!emit_unit(&g, df, &def))
                continue;
            if (code + def.len + it.len + 16 > DT_CODE_SIZE || s->n + 2 >= DT_MAX_ITEMS)
                break;
            s->item[s->n++] = def;
            code += def.len;
            undef = effect(&def, undef);
        }
        if (code + it.len + 16 > DT_CODE_SIZE)
            break;
        s->item[s->n++] = it;
        code += it.len;
        undef = effect(&it, undef);
        if (it.fault_ok)
            break; /* nothing after a unit meant to fault would run */
    }
}

int gen_form_index(const char *name)
{
    for (int k = 0; k < dt_nforms; k++)
        if (!strcmp(dt_forms[k]->name, name))
            return k;
    return -1;
}

bool gen_fixed_sequence(const struct dt_fixed *fx, struct dt_seq *s)
{
    int f = gen_form_index(fx->form);
    if (f < 0)
        return false;
    /* the same random choices (prefix order, addressing) every run */
    uint64_t seed = 0x6a09e667f3bcc909ull;
    for (const char *c = fx->name; *c; c++)
        seed = (seed ^ (uint8_t)*c) * 0x100000001b3ull;
    struct gen g = {.s = seed, .focus = dt_forms[f]->group};
    memset(s, 0, sizeof(*s));
    s->init = *fx->init;
    g.rsp = (int64_t)s->init.r[4];
    s->data_seed = seed;
    struct dt_item *it = &s->item[0];
    memset(it, 0, sizeof(*it));
    it->form = f;
    it->body_form = -1;
    it->writes = dt_forms[f]->writes;
    it->undef = dt_forms[f]->undef;
    it->reads = dt_forms[f]->reads;
    g.it = it;
    if (fx->str)
        dt_string_unit(&g, fx->str);
    else
        dt_vec_unit(&g, dt_forms[f], fx->vec);
    if (g.overflow)
        return false;
    s->n = 1;
    return true;
}

static void fill_data(uint64_t seed, uint8_t *d)
{
    uint64_t s = seed;
    for (unsigned k = 0; k < DT_DATA_SIZE; k += 8) {
        uint64_t v = mix(&s);
        switch (v & 15) {
        case 0: v = 0; break;
        case 1: v = ~0ull; break;
        case 2: v = (v >> 8) & 0xff; break;
        case 3: v = 1ull << ((v >> 8) & 63); break;
        default: v = mix(&s); break;
        }
        memcpy(d + k, &v, 8);
    }
}

bool gen_link(const struct dt_seq *s, struct dt_case *tc)
{
    uint32_t undef = 0;
    unsigned off = s->code_off;
    bool ok = true;
    memset(tc->code, 0xcc, off);
    tc->nfix = 0;
    for (int k = 0; k < s->n; k++) {
        const struct dt_item *it = &s->item[k];
        if (it->reads & undef)
            ok = false;
        undef = effect(it, undef);
        if (off + it->len + 1 > DT_CODE_SIZE)
            return false;
        memcpy(tc->code + off, it->bytes, it->len);
        for (int r = 0; r < it->nreloc; r++) {
            uint64_t end = DT_CODE_ADDR + off + it->reloc[r].end;
            int32_t d = (int32_t)(it->reloc[r].target - end);
            memcpy(tc->code + off + it->reloc[r].off, &d, 4);
        }
        for (int f = 0; f < it->nfix; f++) {
            if (tc->nfix >= DT_MAX_FIX)
                return false;
            tc->fix[tc->nfix].rip = DT_CODE_ADDR + off + it->fix[f].off;
            tc->fix[tc->nfix].f = it->fix[f];
            tc->nfix++;
        }
        off += it->len;
    }
    tc->code[off++] = 0xcc; /* INT3: the end of every case */
    tc->code_len = off;
    memset(tc->code + off, 0xcc, DT_CODE_SIZE - off);
    tc->in = s->init;
    tc->in.rip = DT_CODE_ADDR + s->code_off;
    fill_data(s->data_seed, tc->data);
    return ok;
}

int gen_item_at(const struct dt_seq *s, uint64_t rip)
{
    uint64_t a = DT_CODE_ADDR + s->code_off;
    for (int k = 0; k < s->n; k++) {
        if (rip >= a && rip < a + s->item[k].len)
            return k;
        a += s->item[k].len;
    }
    return -1;
}

uint32_t gen_undef_at(const struct dt_seq *s, uint64_t rip, int *item_index)
{
    int at = gen_item_at(s, rip);
    uint32_t undef = 0;
    if (item_index)
        *item_index = at;
    for (int k = 0; k < s->n; k++) {
        uint32_t after = effect(&s->item[k], undef);
        if (k == at)
            return undef | after;
        undef = after;
    }
    return undef;
}
