/* cpu/mem.c — the slow paths of memory access: segment checks outside
 * 64-bit mode, page walks, page-straddling accesses, MMIO. */
#include "cpu/mem.h"

#include "devices/machine.h"

static _Noreturn void seg_fault(struct cpu *c, int seg)
{
    cpu_raise(c, seg == SEG_SS ? EX_SS : EX_GP, 0);
}

/* SDM Vol. 3A 5.3: limit checking, outside 64-bit mode */
static uint64_t seg_limit_check(struct cpu *c, int seg, uint64_t off, unsigned size)
{
    const struct seg *s = &c->seg[seg];
    uint64_t last = off + size - 1;
    unsigned type = AR_TYPE(s->ar);
    if (!(type & 8) && (type & 4)) { /* expand-down data segment */
        uint64_t upper = (s->ar & AR_DB) ? 0xffffffffull : 0xffffull;
        if (off <= s->limit || last > upper)
            seg_fault(c, seg);
    } else if (last > s->limit) {
        seg_fault(c, seg);
    }
    return (uint32_t)(s->base + off);
}

/* SDM Vol. 3A 5.3 (limit checking) and 5.5-5.6 (type checking). */
uint64_t mem_linear_slow(struct cpu *c, int seg, uint64_t off, unsigned size, bool write)
{
    if (c->mode == MODE_LONG)
        seg_fault(c, seg); /* 64-bit mode: only non-canonical addresses get here */
    const struct seg *s = &c->seg[seg];
    if (c->mode == MODE_PROT || c->mode == MODE_COMPAT) {
        if (s->ar & AR_UNUSABLE)
            seg_fault(c, seg);
        unsigned type = AR_TYPE(s->ar);
        if (write && ((type & 8) || !(type & 2)))
            seg_fault(c, seg);
        if (!write && (type & 8) && !(type & 2))
            seg_fault(c, seg);
    }
    return seg_limit_check(c, seg, off, size);
}

uint64_t mem_linear_unchecked_type(struct cpu *c, int seg, uint64_t off, unsigned size)
{
    if (c->mode == MODE_LONG)
        return off + (seg >= SEG_FS ? c->seg[seg].base : 0);
    if ((c->mode == MODE_PROT || c->mode == MODE_COMPAT) && (c->seg[seg].ar & AR_UNUSABLE))
        seg_fault(c, seg);
    return seg_limit_check(c, seg, off, size);
}

_Noreturn void mem_raise_fault(struct cpu *c, const struct mmu_fault *f)
{
    if (f->vector == EX_PF) {
        c->cr2_before_pf = c->cr2;
        c->cr2 = f->address;
    } else if (f->vector >= MMU_FAULT_EPT_VIOLATION) {
        vmx_ept_exit(c, f); /* a VM exit instead of the instruction */
    }
    cpu_raise(c, f->vector, f->error_code);
}

static uint64_t xlate(struct cpu *c, uint64_t lin, enum mmu_access_type type, bool user,
                      bool ac)
{
    uint64_t pa;
    struct mmu_fault f;
    if (mmu_translate(&c->mmu, lin, type, user, ac, &pa, &f))
        mem_raise_fault(c, &f);
    return pa;
}

static uint64_t wrap_lin(const struct cpu *c, uint64_t lin)
{
    return c->mode == MODE_LONG ? lin : (uint32_t)lin;
}

static void watch(struct cpu *c, uint64_t lin, uint64_t pa, unsigned size, bool write)
{
    if (c->dbg_watch_mem && c->dbg_mem)
        c->dbg_mem(c->dbg_opaque, c, lin, pa, size, write);
}

/* Where an access lands: one physical range, or two when it straddles
 * a page boundary.  Both translations succeed before any byte moves. */
struct placed {
    uint64_t pa1, pa2;
    unsigned first; /* bytes on the first page */
};

static void place(struct cpu *c, uint64_t lin, unsigned size, enum mmu_access_type type,
                  bool user, bool ac, struct placed *p)
{
    lin = wrap_lin(c, lin);
    unsigned room = 4096 - (unsigned)(lin & 0xfff);
    p->first = size <= room ? size : room;
    p->pa1 = xlate(c, lin, type, user, ac);
    watch(c, lin, p->pa1, p->first, type == MMU_WRITE);
    if (size > room) {
        uint64_t lin2 = wrap_lin(c, lin + room);
        p->pa2 = xlate(c, lin2, type, user, ac);
        watch(c, lin2, p->pa2, size - room, type == MMU_WRITE);
    }
}

static uint64_t byte_pa(const struct placed *p, unsigned k)
{
    return k < p->first ? p->pa1 + k : p->pa2 + (k - p->first);
}

/* An access that reaches the APIC-access page of a VMX guest with
 * "virtualize APIC accesses" (the MMU's slow page) is virtualized or
 * exits (vmx/apicv.c); one that straddles into it is not virtualized. */
static bool apic_access(struct cpu *c, const struct placed *p, unsigned size,
                        enum mmu_access_type type, uint64_t *v)
{
    if (likely(!c->mmu.slow_page_on))
        return false;
    if (mmu_is_slow_page(&c->mmu, p->pa1))
        return vmx_apicv_access(c, p->pa1, size, type, v);
    if (p->first < size && mmu_is_slow_page(&c->mmu, p->pa2))
        return vmx_apicv_access(c, p->pa2, 4096, type, v); /* too wide: always an exit */
    return false;
}

uint64_t mem_read_slow(struct cpu *c, uint64_t lin, unsigned size, bool user, bool ac)
{
    struct placed p;
    place(c, lin, size, MMU_READ, user, ac, &p);
    uint64_t virt;
    if (unlikely(apic_access(c, &p, size, MMU_READ, &virt)))
        return virt;
    if (p.first == size)
        return phys_read(c->mmu.phys, p.pa1, size);
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= phys_read(c->mmu.phys, byte_pa(&p, k), 1) << (8 * k);
    return v;
}

void mem_write_slow(struct cpu *c, uint64_t lin, unsigned size, uint64_t v, bool user, bool ac)
{
    struct placed p;
    place(c, lin, size, MMU_WRITE, user, ac, &p);
    if (unlikely(apic_access(c, &p, size, MMU_WRITE, &v)))
        return;
    if (p.first == size) {
        phys_write(c->mmu.phys, p.pa1, v, size);
        return;
    }
    for (unsigned k = 0; k < size; k++)
        phys_write(c->mmu.phys, byte_pa(&p, k), (v >> (8 * k)) & 0xff, 1);
}

void mem_probe_lin_write(struct cpu *c, uint64_t lin, unsigned size)
{
    bool user = c->cpl == 3, ac = (c->rflags & FL_AC) != 0;
    if (mmu_fast_ptr(&c->mmu, lin, size, mmu_need_bit(MMU_WRITE, user, ac)))
        return;
    lin = wrap_lin(c, lin);
    unsigned first = 4096 - (unsigned)(lin & 0xfff);
    xlate(c, lin, MMU_WRITE, user, ac);
    if (size > first)
        xlate(c, wrap_lin(c, lin + first), MMU_WRITE, user, ac);
}

void mem_probe_write(struct cpu *c, int seg, uint64_t off, unsigned size)
{
    mem_probe_lin_write(c, mem_linear(c, seg, off, size, true), size);
}

uint8_t *mem_code_page(struct cpu *c, uint64_t lin)
{
    bool user = c->cpl == 3;
    uint8_t need = mmu_need_bit(MMU_FETCH, user, false);
    uint8_t *p = mmu_fast_ptr(&c->mmu, lin & ~0xfffull, 1, need);
    if (p)
        return p;
    uint64_t pa = xlate(c, lin, MMU_FETCH, user, false);
    if (unlikely(mmu_is_slow_page(&c->mmu, pa)))
        vmx_apicv_access(c, pa, 1, MMU_FETCH, NULL); /* exits (29.4.1) */
    return phys_ram_ptr(c->mmu.phys, pa & ~0xfffull);
}

uint8_t mem_fetch_byte(struct cpu *c, uint64_t lin)
{
    uint64_t pa = xlate(c, lin, MMU_FETCH, c->cpl == 3, false);
    if (unlikely(mmu_is_slow_page(&c->mmu, pa)))
        vmx_apicv_access(c, pa, 1, MMU_FETCH, NULL); /* exits (29.4.1) */
    return (uint8_t)phys_read(c->mmu.phys, pa, 1);
}

/* ---- memory paths of the ModRM operand accessors (cpu/mem.h) ---- */

uint64_t rm_read_mem(struct cpu *c, const struct insn *i, unsigned size)
{
    return mem_read(c, i->seg, insn_ea(c, i), size);
}

void rm_write_mem(struct cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
    mem_write(c, i->seg, insn_ea(c, i), size, v);
}

uint64_t rmw_read_mem(struct cpu *c, const struct insn *i, unsigned size, struct rmw *at)
{
    at->reg = false;
    at->off = mem_linear(c, i->seg, insn_ea(c, i), size, true);
    bool user = c->cpl == 3, ac = (c->rflags & FL_AC) != 0;
    if (user && ac)
        mem_check_alignment(c, at->off, size);
    uint8_t *p = mmu_fast_ptr(&c->mmu, at->off, size,
                              mmu_need_bit(MMU_WRITE, user, ac) & c->fast_mask);
    if (likely(p != 0))
        return load_le(p, size);
    mem_probe_lin_write(c, at->off, size);
    return lin_read(c, at->off, size);
}
