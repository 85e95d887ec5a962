/* cpu/mem.h — segmented memory access for instruction handlers.
 *
 * offset -> (segmentation, SDM Vol. 3A 3.4/5.3) -> linear -> (TLB or
 * page walk) -> host RAM or MMIO.  The hot path is inline: a TLB hit
 * costs a tag compare, a permission test and a load. */
#ifndef NEST86_CPU_MEM_H
#define NEST86_CPU_MEM_H

#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"

/* Canonical: bits 63..N-1 all equal, N = 48 or 57 (SDM Vol. 1 3.3.7.1).
 * Adding 2^(N-1) maps exactly the canonical addresses to [0, 2^N), so
 * one add and one shift test it; the LA57 branch is taken the same way
 * for a whole boot. */
static inline bool mem_canonical(const struct cpu *c, uint64_t lin)
{
    if (likely(!(c->mmu.cr4 & CR4_LA57)))
        return ((lin + (1ull << 47)) >> 48) == 0;
    return ((lin + (1ull << 56)) >> 57) == 0;
}

/* Canonical against the processor's maximum linear-address width: 57
 * bits when CPUID advertises LA57, else 48, whatever CR4.LA57 says.
 * For the bases that LGDT, LIDT, LLDT, LTR, WRFSBASE/WRGSBASE and WRMSR
 * load and the address INVPCID invalidates (not for memory references:
 * mem_canonical), so software can load a 57-bit base before it turns
 * 5-level paging on (SDM Vol. 3A 4.1.1; Vol. 2 LGDT, INVPCID). */
static inline bool cpu_canonical_max(const struct cpu *c, uint64_t v)
{
    unsigned bits = cpu_feat_on(c, CPU_FEAT_la57) ? 57 : 48;
    return ((v + (1ull << (bits - 1))) >> bits) == 0;
}

/* out of line: legacy-mode limit/type checks and the non-canonical fault */
uint64_t mem_linear_slow(struct cpu *c, int seg, uint64_t off, unsigned size, bool write);
/* The linear address of seg:off with only the usability and limit
 * checks (no type check, no canonical check): what INS/OUTS check
 * before an I/O VM exit (SDM Vol. 3C 25.1.1). */
uint64_t mem_linear_unchecked_type(struct cpu *c, int seg, uint64_t off, unsigned size);

static inline uint64_t mem_linear(struct cpu *c, int seg, uint64_t off, unsigned size,
                                  bool write)
{
    if (likely(c->mode == MODE_LONG)) {
        uint64_t lin = off + (seg >= SEG_FS ? c->seg[seg].base : 0);
        if (likely(mem_canonical(c, lin)))
            return lin;
    }
    return mem_linear_slow(c, seg, off, size, write);
}

uint64_t mem_read_slow(struct cpu *c, uint64_t lin, unsigned size, bool user, bool ac);
/* Raises what the MMU reported: #PF (with CR2), #GP, or in an EPT guest
 * the EPT-violation/misconfiguration VM exit (vmx_ept_exit). */
_Noreturn void mem_raise_fault(struct cpu *c, const struct mmu_fault *f);
void mem_write_slow(struct cpu *c, uint64_t lin, unsigned size, uint64_t v, bool user,
                    bool ac);
uint8_t *mem_code_page(struct cpu *c, uint64_t lin);  /* host page for fetch, or NULL */
uint8_t mem_fetch_byte(struct cpu *c, uint64_t lin);

static inline uint64_t load_le(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static inline void store_le(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); break; }
    case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* SDM 6.15 "Interrupt 17": with CR0.AM and RFLAGS.AC set, an unaligned
 * explicit access at CPL 3 raises #AC(0). */
static inline void mem_check_alignment(struct cpu *c, uint64_t lin, unsigned size)
{
    if ((lin & (size - 1)) && (c->mmu.cr0 & CR0_AM))
        cpu_raise(c, EX_AC, 0);
}

/* Linear-address accesses at the current privilege (explicit accesses). */
static inline uint64_t lin_read(struct cpu *c, uint64_t lin, unsigned size)
{
    bool user = c->cpl == 3, ac = (c->rflags & FL_AC) != 0;
    if (unlikely(user && ac))
        mem_check_alignment(c, lin, size);
    uint8_t *p;
    if (likely(mmu_fast_hit(&c->mmu, lin, size,
                            mmu_need_bit(MMU_READ, user, ac) & c->fast_mask, &p)))
        return load_le(p, size);
    if (unlikely(c->dr_data_mask))
        cpu_dr_data_access(c, lin, size, false);
    return mem_read_slow(c, lin, size, user, ac);
}

static inline void lin_write(struct cpu *c, uint64_t lin, unsigned size, uint64_t v)
{
    bool user = c->cpl == 3, ac = (c->rflags & FL_AC) != 0;
    if (unlikely(user && ac))
        mem_check_alignment(c, lin, size);
    uint8_t *p;
    if (likely(mmu_fast_hit(&c->mmu, lin, size,
                            mmu_need_bit(MMU_WRITE, user, ac) & c->fast_mask, &p))) {
        store_le(p, size, v);
        return;
    }
    if (unlikely(c->dr_data_mask))
        cpu_dr_data_access(c, lin, size, true);
    mem_write_slow(c, lin, size, v, user, ac);
}

/* The host address for an explicit access of 'size' bytes at seg:off
 * when the threaded fast paths (cpu/thread.h, THREADED_FAST) can make
 * it without a call: long mode, a canonical address, no alignment
 * check to make and a TLB hit that allows the access within one page.
 * NULL otherwise: the caller then runs the full handler from the start,
 * which takes the same path as lin_read/lin_write with every check. */
static inline __attribute__((always_inline)) uint8_t *mem_fast_ptr(struct cpu *c, int seg,
                                                                  uint64_t off, unsigned size,
                                                                  enum mmu_access_type type)
{
    /* c->fast_need (cpu.h) folds the mode, CPL and AC checks into the
     * permission bit: 0 makes the TLB test below fail. */
    _Static_assert(FL_AC == 1u << 18, "cpu_ac_changed reads RFLAGS bit 18");
    _Static_assert(MMU_READ == 0 && MMU_WRITE == 1, "need_now is indexed by the type");
    uint8_t need = c->need_now[type];
    uint64_t lin = off + (seg >= SEG_FS ? c->seg[seg].base : 0);
    /* No canonical check: the TLB holds only addresses canonical under
     * the current CR4.LA57 (mmu/mmu.h, struct mmu), so a non-canonical
     * one misses and the full handler raises #GP or #SS. */
    return mmu_fast_ptr(&c->mmu, lin, size, need);
}

/* Implicit supervisor accesses: descriptor tables, TSS, IDT (SDM 4.6). */
static inline uint64_t sys_read(struct cpu *c, uint64_t lin, unsigned size)
{
    return mem_read_slow(c, lin, size, false, false);
}
static inline void sys_write(struct cpu *c, uint64_t lin, unsigned size, uint64_t v)
{
    mem_write_slow(c, lin, size, v, false, false);
}

static inline uint64_t mem_read(struct cpu *c, int seg, uint64_t off, unsigned size)
{
    return lin_read(c, mem_linear(c, seg, off, size, false), size);
}

static inline void mem_write(struct cpu *c, int seg, uint64_t off, unsigned size, uint64_t v)
{
    lin_write(c, mem_linear(c, seg, off, size, true), size, v);
}

/* Checks that a write of 'size' at seg:off would succeed (segment and
 * page), without writing; used before multi-part updates. */
void mem_probe_write(struct cpu *c, int seg, uint64_t off, unsigned size);
void mem_probe_lin_write(struct cpu *c, uint64_t lin, unsigned size);

/* ---- ModRM operands ---- */

/* The memory operand's offset, wrapped to the address size. */
/* 'next' is the RIP of the next instruction, which RIP-relative
 * addresses count from. */
static inline uint64_t insn_ea_at(const struct cpu *c, const struct insn *i, uint64_t next)
{
    /* without tests: a missing base or index reads r[NO_REG], which is
     * 0, and riprel (0 or 1) selects 'next' by a mask; so one code path
     * serves every form, and the generic handlers' branches do not
     * depend on which form ran last */
    uint64_t ea = (uint64_t)i->disp + c->r[i->base] + (c->r[i->index] << i->scale) +
                  (next & -(uint64_t)i->riprel);
    return i->adsize == 8 ? ea : ea & size_mask(i->adsize);
}

static inline uint64_t insn_ea(const struct cpu *c, const struct insn *i)
{
    return insn_ea_at(c, i, c->rip); /* handlers run with RIP already at the next instruction */
}

/* Memory paths of the operand accessors (cpu/mem.c): out of line so
 * the register paths below stay small enough to inline everywhere. */
uint64_t rm_read_mem(struct cpu *c, const struct insn *i, unsigned size);
void rm_write_mem(struct cpu *c, const struct insn *i, unsigned size, uint64_t v);
uint64_t rmw_read_mem(struct cpu *c, const struct insn *i, unsigned size, struct rmw *at);

static inline __attribute__((always_inline)) uint64_t rm_read(struct cpu *c,
                                                             const struct insn *i,
                                                             unsigned size)
{
    if (i->mod == 3)
        return reg_read(c, i, i->rm, size);
    return rm_read_mem(c, i, size);
}

/* rm_read with the memory path inline as well, for the hottest
 * handlers (the ALU forms, MOVZX, CMOVcc): there the call and the
 * run-time size switch of rm_read_mem show in profiles. */
static inline __attribute__((always_inline)) uint64_t rm_read_inline(struct cpu *c,
                                                                    const struct insn *i,
                                                                    unsigned size)
{
    if (i->mod == 3)
        return reg_read(c, i, i->rm, size);
    return mem_read(c, i->seg, insn_ea(c, i), size);
}

static inline __attribute__((always_inline)) void rm_write(struct cpu *c, const struct insn *i,
                                                          unsigned size, uint64_t v)
{
    if (i->mod == 3)
        reg_write(c, i, i->rm, size, v);
    else
        rm_write_mem(c, i, size, v);
}

static inline __attribute__((always_inline)) uint64_t rmw_read(struct cpu *c,
                                                              const struct insn *i,
                                                              unsigned size, struct rmw *at)
{
    if (i->mod == 3) {
        at->reg = true;
        return reg_read(c, i, i->rm, size);
    }
    return rmw_read_mem(c, i, size, at);
}

static inline __attribute__((always_inline)) void rmw_write(struct cpu *c,
                                                           const struct insn *i,
                                                           unsigned size,
                                                           const struct rmw *at, uint64_t v)
{
    if (at->reg)
        reg_write(c, i, i->rm, size, v);
    else
        lin_write(c, at->off, size, v);
}

#endif
