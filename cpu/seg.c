/* cpu/seg.c — descriptor tables and segment-register loads
 * (SDM Vol. 3A 3.4-3.5 and 5.4-5.6; Vol. 2 "MOV", "POP"). */
#include "cpu/cpu_internal.h"
#include "cpu/mem.h"

void seg_from_descriptor(struct seg *s, uint16_t sel, uint64_t lo, uint64_t hi)
{
    uint32_t limit = (uint32_t)((lo & 0xffff) | ((lo >> 32) & 0xf0000));
    uint32_t ar = desc_ar(lo);
    if (ar & AR_G)
        limit = (limit << 12) | 0xfff;
    s->sel = sel;
    s->limit = limit;
    s->base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24);
    if (!(ar & AR_S)) /* system descriptors carry base 63:32 in long mode */
        s->base |= (hi & 0xffffffffull) << 32;
    s->ar = ar;
}

bool seg_read_descriptor(struct cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (c->ldtr.ar & AR_UNUSABLE)
            return false;
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    uint32_t off = sel & ~7u;
    if (off + 7 > limit)
        return false;
    *lo = sys_read(c, base + off, 8);
    if (hi) {
        /* the upper half of a 16-byte system descriptor (long mode) */
        *hi = (off + 15 <= limit) ? sys_read(c, base + off + 8, 8) : 0;
    }
    return true;
}

/* SDM 3.4.5.1: the processor sets the accessed bit when it loads a
 * descriptor whose bit is clear. */
void seg_set_accessed(struct cpu *c, uint16_t sel, uint64_t lo)
{
    if (lo & (1ull << 40))
        return;
    uint64_t base = (sel & 4) ? c->ldtr.base : c->gdtr.base;
    sys_write(c, base + (sel & ~7u) + 5, 1, ((lo >> 40) & 0xff) | 1);
}

void seg_load_real(struct cpu *c, int seg, uint16_t sel)
{
    struct seg *s = &c->seg[seg];
    s->sel = sel;
    s->base = (uint64_t)sel << 4;
    if (c->mode == MODE_V86) {
        /* SDM 20.1.1: V86 segments are 64 KiB, read/write, DPL 3 —
         * CS too: access rights F3H for all six, which a VM exit saves
         * and a VM entry to a V86 guest requires (SDM 26.3.1.2) */
        s->limit = 0xffff;
        s->ar = 0xf3;
    }
    /* real mode keeps the cached limit and attributes ("unreal" mode) */
    s->ar &= ~AR_UNUSABLE;
}

static void make_null(struct cpu *c, int seg, uint16_t sel)
{
    struct seg *s = &c->seg[seg];
    s->sel = sel;
    s->base = 0;
    s->limit = 0;
    s->ar = AR_UNUSABLE;
}

void seg_load(struct cpu *c, int seg, uint16_t sel)
{
    unsigned rpl = sel & 3, cpl = c->cpl;
    uint16_t err = sel & 0xfffc;
    bool long64 = c->mode == MODE_LONG && c->code_size == 8;
    if ((sel & ~3u) == 0) {
        /* null selector: fine for data segments; for SS only in 64-bit
         * mode at CPL < 3 with RPL = CPL (SDM "MOV", 64-bit mode) */
        if (seg == SEG_SS && !(long64 && cpl < 3 && rpl == cpl))
            cpu_raise(c, EX_GP, 0);
        make_null(c, seg, sel);
        if (seg == SEG_SS)
            c->seg[SEG_SS].ar = AR_UNUSABLE | (cpl << 5) | AR_DB; /* SS.DPL tracks CPL */
        return;
    }
    uint64_t lo, hi;
    if (!seg_read_descriptor(c, sel, &lo, &hi))
        cpu_raise(c, EX_GP, err);
    unsigned ar = desc_ar(lo);
    unsigned type = AR_TYPE(ar), dpl = AR_DPL(ar);
    if (!(ar & AR_S))
        cpu_raise(c, EX_GP, err);
    if (seg == SEG_SS) {
        if (rpl != cpl || dpl != cpl || (type & 8) || !(type & 2))
            cpu_raise(c, EX_GP, err);
        if (!(ar & AR_P))
            cpu_raise(c, EX_SS, err);
    } else {
        if ((type & 8) && !(type & 2)) /* execute-only code */
            cpu_raise(c, EX_GP, err);
        bool conforming_code = (type & 0xc) == 0xc;
        if (!conforming_code && (rpl > dpl || cpl > dpl))
            cpu_raise(c, EX_GP, err);
        if (!(ar & AR_P))
            cpu_raise(c, EX_NP, err);
    }
    seg_set_accessed(c, sel, lo);
    seg_from_descriptor(&c->seg[seg], sel, lo | (1ull << 40), 0);
    if (seg == SEG_SS)
        cpu_update_mode(c);
}

void cpu_load_cs(struct cpu *c, uint16_t sel, uint64_t lo, uint64_t hi, unsigned cpl)
{
    (void)hi;
    seg_set_accessed(c, sel, lo);
    seg_from_descriptor(&c->seg[SEG_CS], (uint16_t)((sel & ~3u) | cpl), lo | (1ull << 40), 0);
    c->cpl = (uint8_t)cpl;
    cpu_update_mode(c);
}

unsigned seg_fetch(struct cpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi)
{
    if ((sel & ~3u) == 0)
        cpu_raise(c, EX_GP, 0);
    if (!seg_read_descriptor(c, sel, lo, hi))
        cpu_raise(c, EX_GP, sel & 0xfffc);
    return desc_ar(*lo);
}

void seg_check_return_cs(struct cpu *c, uint16_t sel, uint64_t lo)
{
    unsigned ar = desc_ar(lo), rpl = sel & 3;
    uint16_t err = sel & 0xfffc;
    if (!(ar & AR_S) || !(AR_TYPE(ar) & 8) || rpl < c->cpl)
        cpu_raise(c, EX_GP, err);
    /* conforming: DPL <= RPL; non-conforming: DPL == RPL */
    if ((AR_TYPE(ar) & 4) ? AR_DPL(ar) > rpl : AR_DPL(ar) != rpl)
        cpu_raise(c, EX_GP, err);
    if (!(ar & AR_P))
        cpu_raise(c, EX_NP, err);
    if ((c->mmu.efer & EFER_LMA) && (ar & AR_L) && (ar & AR_DB))
        cpu_raise(c, EX_GP, err);
}
