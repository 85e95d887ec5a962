/* cpu/x87.h — x87 register-stack helpers shared by cpu/x87*.c and the
 * state save/restore code (cpu/sse_state.c).
 *
 * Registers are kept as the raw 80-bit format, physical order R0-R7.
 * The tag word keeps only empty (11) / not empty (00) per register, as
 * current processors do internally; the full tags FSTENV/FSAVE report
 * are computed from the register contents (SDM Vol. 1 8.1.7).
 *
 * The arithmetic uses the host's 80-bit long double: x86-64 hosts only
 * (see cpu/simd.h).
 */
#ifndef NEST86_CPU_X87_H
#define NEST86_CPU_X87_H

#include <float.h>

#include "cpu/simd.h"

_Static_assert(LDBL_MANT_DIG == 64, "the x87 emulation needs the host's 80-bit long double");

#define FCW_MASKS 0x003fu
#define FCW_PC 0x0300u
#define FCW_RC 0x0c00u

/* FCW as loaded: bits 13-15 are reserved and read 0, bit 6 reads 1 */
static inline void x87_set_fcw(struct cpu *c, uint16_t v)
{
    c->fpu.fcw = (uint16_t)((v & 0x1f3f) | 0x40);
}

static inline unsigned x87_top(const struct cpu *c)
{
    return (c->fpu.fsw >> 11) & 7;
}

static inline void x87_set_top(struct cpu *c, unsigned top)
{
    c->fpu.fsw = (uint16_t)((c->fpu.fsw & ~FSW_TOP) | ((top & 7) << 11));
}

/* physical register of ST(i) */
static inline unsigned x87_phys(const struct cpu *c, unsigned i)
{
    return (x87_top(c) + i) & 7;
}

static inline bool x87_empty_phys(const struct cpu *c, unsigned p)
{
    return ((c->fpu.ftw >> (2 * p)) & 3) == 3;
}

static inline bool x87_empty(const struct cpu *c, unsigned i)
{
    return x87_empty_phys(c, x87_phys(c, i));
}

static inline void x87_set_empty_phys(struct cpu *c, unsigned p, bool empty)
{
    c->fpu.ftw = (uint16_t)((c->fpu.ftw & ~(3u << (2 * p))) | ((empty ? 3u : 0u) << (2 * p)));
}

static inline long double x87_ld_from(const uint8_t raw[10])
{
    long double v = 0;
    memcpy(&v, raw, 10);
    return v;
}

static inline void x87_ld_to(uint8_t raw[10], long double v)
{
    memcpy(raw, &v, 10);
}

static inline long double x87_get(const struct cpu *c, unsigned i)
{
    return x87_ld_from(c->fpu.st[x87_phys(c, i)]);
}

/* tags, environment and control (cpu/x87_state.c) */
uint8_t x87_abridged_tags(const struct cpu *c);
void x87_set_abridged_tags(struct cpu *c, uint8_t abridged);
uint16_t x87_full_tags(const struct cpu *c);
void x87_update_es(struct cpu *c); /* ES and B from the flags and masks */
void x87_finit(struct cpu *c);
/* D9 /4 /6, DD /4 /6, D9 /5 /7, DD /7, DF E0, DB E2/E3 */
bool x87_control(struct cpu *c, const struct insn *i);

#endif
