/* cpu/simd_fast.h — threaded fast paths (cpu/thread.h) for the 128-bit
 * SSE forms code runs by the million: the moves, shuffles and adds of
 * SHA-NI's transform around its SHA256RNDS2/MSG1/MSG2 rows, which
 * Linux runs over every module it loads to check its signature.
 *
 * A generic SSE instruction passes the opcode table, the prefix and
 * feature decisions, the #UD/#NM checks and operand copies before its
 * lane function; a fast path does one test of the CPU state, fetches
 * the source (an xmm register or an aligned, TLB-cached m128) and calls
 * the same lane function the table names.  Anything it cannot finish —
 * SSE disabled or CR0.TS set, a misaligned or uncached operand — goes to
 * the full handler, which raises what the instruction must.  Which
 * forms get one: cpu_specialize() (cpu/ops_fast.c) asks
 * sse_int_specialize() and sse_move_specialize(). */
#ifndef NEST86_CPU_SIMD_FAST_H
#define NEST86_CPU_SIMD_FAST_H

#include "cpu/simd.h"
#include "cpu/thread.h"

#define SIMD_FAST_INLINE static inline __attribute__((always_inline))

/* What sse_check() would let pass: CR0.EM = 0, CR0.TS = 0, CR4.OSFXSR = 1 */
SIMD_FAST_INLINE bool sse_fast_ok(const struct cpu *c)
{
    return !(c->mmu.cr0 & (CR0_EM | CR0_TS)) && (c->mmu.cr4 & CR4_OSFXSR);
}

/* The ModRM.rm operand of a 128-bit form: an xmm register, or 16 bytes
 * of memory the TLB serves for reading — 16-byte aligned when 'align'
 * (legacy SSE m128, SDM Vol. 1 4.1.1), else the full handler's #GP(0).
 * The RIP for RIP-relative operands is the deferred one (thread_rip). */
SIMD_FAST_INLINE bool xmm_src_fast(struct cpu *c, const struct insn *i, bool align,
                                   union xmm *out)
{
    if (i->mod == 3) {
        *out = c->xmm[i->rm];
        return true;
    }
    uint64_t ea = insn_ea_at(c, i, thread_rip(c, i));
    if (align && (ea & 15))
        return false;
    const uint8_t *p = mem_fast_ptr(c, i->seg, ea, 16, MMU_READ);
    if (!p)
        return false;
    memcpy(out, p, 16);
    return true;
}

/* The forms with a fast path: each sets i->fn and i->run and returns
 * true, or returns false leaving the instruction as decoded.  Only for
 * 64-bit code without VEX (the threaded engine's blocks). */
bool sse_int_specialize(struct insn *i);
bool sse_move_specialize(struct insn *i);

#endif
