/* cpu/x87_host.h — x87 primitives executed by the host FPU on 80-bit
 * values in memory, for cpu/x87.c.  The caller brackets them with
 * x87_host_begin()/x87_host_end(), which load the guest's precision and
 * rounding control with every exception masked and return the host's
 * status word (exception flags, C0-C3).  x86-64 hosts only (cpu/x87.h). */
#ifndef NEST86_CPU_X87_HOST_H
#define NEST86_CPU_X87_HOST_H

#include "cpu/x87.h"

typedef long double f80;

static inline uint16_t x87_host_begin(const struct cpu *c)
{
    uint16_t old, cw = (uint16_t)((c->fpu.fcw & (FCW_PC | FCW_RC)) | 0x7f);
    __asm__ volatile("fnstcw %0\n\tfnclex\n\tfldcw %1" : "=m"(old) : "m"(cw) : "memory");
    return old;
}

static inline uint16_t x87_host_end(uint16_t old)
{
    uint16_t sw;
    __asm__ volatile("fnstsw %0\n\tfnclex\n\tfldcw %1" : "=m"(sw) : "m"(old) : "memory");
    return sw;
}

/* ST(0) op= src in the D8 /reg numbering: 0 add, 1 mul, 4 sub, 5 subr,
 * 6 div, 7 divr.  *sw gets the status word right after the operation
 * (C1 is the round-up indicator; a later instruction would clear it). */
static inline f80 h_arith(unsigned op, f80 a, f80 b, uint16_t *sw)
{
#define ARITH_REG(k, insn)                                                      \
    case k:                                                                     \
        __asm__ volatile("fldt %2\n\tfldt %0\n\t" insn " %%st(1), %%st\n\t"    \
                         "fnstsw %1\n\tfstpt %0\n\tfstp %%st(0)"              \
                         : "+m"(a), "=a"(*sw) : "m"(b));                         \
        break;
    switch (op) {
    ARITH_REG(0, "fadd")
    ARITH_REG(1, "fmul")
    ARITH_REG(4, "fsub")
    ARITH_REG(5, "fsubr")
    ARITH_REG(6, "fdiv")
    default:
    ARITH_REG(7, "fdivr")
    }
#undef ARITH_REG
    return a;
}

/* ST(0) op= m32/m64 real, on the host's own memory forms, so that NaN
 * operands are chosen as hardware does (the memory SNaN is not quieted
 * by a separate load first). */
static inline f80 h_arith_mem(unsigned op, f80 a, uint64_t m, unsigned size, uint16_t *sw)
{
    uint32_t m32 = (uint32_t)m;
#define ARITH_MEM(k, insn)                                                      \
    case k:                                                                     \
        if (size == 4)                                                          \
            __asm__ volatile("fldt %0\n\t" insn "s %2\n\tfnstsw %1\n\tfstpt %0" \
                             : "+m"(a), "=a"(*sw) : "m"(m32));                   \
        else                                                                    \
            __asm__ volatile("fldt %0\n\t" insn "l %2\n\tfnstsw %1\n\tfstpt %0" \
                             : "+m"(a), "=a"(*sw) : "m"(m));                     \
        break;
    switch (op) {
    ARITH_MEM(0, "fadd")
    ARITH_MEM(1, "fmul")
    ARITH_MEM(4, "fsub")
    ARITH_MEM(5, "fsubr")
    ARITH_MEM(6, "fdiv")
    default:
    ARITH_MEM(7, "fdivr")
    }
#undef ARITH_MEM
    return a;
}

/* compare a with b: the status word of FCOM (signalling) or FUCOM */
static inline uint16_t h_compare(f80 a, f80 b, bool unordered_ok)
{
    uint16_t sw;
    if (unordered_ok)
        __asm__ volatile("fldt %2\n\tfldt %1\n\tfucompp\n\tfnstsw %0"
                         : "=a"(sw) : "m"(a), "m"(b));
    else
        __asm__ volatile("fldt %2\n\tfldt %1\n\tfcompp\n\tfnstsw %0"
                         : "=a"(sw) : "m"(a), "m"(b));
    return sw;
}

/* FCOM/FCOMP with an m32/m64 real operand, on the host's memory form */
static inline uint16_t h_compare_mem(f80 a, uint64_t m, unsigned size)
{
    uint16_t sw;
    uint32_t m32 = (uint32_t)m;
    if (size == 4)
        __asm__ volatile("fldt %1\n\tfcomps %2\n\tfnstsw %0" : "=a"(sw) : "m"(a), "m"(m32));
    else
        __asm__ volatile("fldt %1\n\tfcompl %2\n\tfnstsw %0" : "=a"(sw) : "m"(a), "m"(m));
    return sw;
}

static inline f80 h_from_f32(uint32_t v)
{
    f80 r;
    __asm__ volatile("flds %1\n\tfstpt %0" : "=m"(r) : "m"(v));
    return r;
}

static inline f80 h_from_f64(uint64_t v)
{
    f80 r;
    __asm__ volatile("fldl %1\n\tfstpt %0" : "=m"(r) : "m"(v));
    return r;
}

static inline uint32_t h_to_f32(f80 v, uint16_t *sw)
{
    uint32_t r;
    __asm__ volatile("fldt %2\n\tfstps %0\n\tfnstsw %1" : "=m"(r), "=a"(*sw) : "m"(v));
    return r;
}

static inline uint64_t h_to_f64(f80 v, uint16_t *sw)
{
    uint64_t r;
    __asm__ volatile("fldt %2\n\tfstpl %0\n\tfnstsw %1" : "=m"(r), "=a"(*sw) : "m"(v));
    return r;
}

/* FIST/FISTP (rounding per RC) or FISTTP (truncating) to 2, 4 or 8 bytes */
static inline uint64_t h_to_int(f80 v, unsigned size, bool trunc, uint16_t *sw)
{
    uint64_t r = 0;
    uint16_t r16;
    uint32_t r32;
#define TO_INT(k, insn, var)                                                    \
    case k:                                                                     \
        __asm__ volatile("fldt %2\n\t" insn " %0\n\tfnstsw %1"                 \
                         : "=m"(var), "=a"(*sw) : "m"(v));                       \
        return var;
    switch (size * 2 + trunc) {
    TO_INT(4, "fistps", r16)
    TO_INT(5, "fisttps", r16)
    TO_INT(8, "fistpl", r32)
    TO_INT(9, "fisttpl", r32)
    TO_INT(16, "fistpll", r)
    default:
    TO_INT(17, "fisttpll", r)
    }
#undef TO_INT
}

static inline f80 h_from_bcd(const uint8_t bcd[10])
{
    f80 r;
    __asm__ volatile("fbld %1\n\tfstpt %0" : "=m"(r) : "m"(*(const uint8_t(*)[10])bcd));
    return r;
}

static inline void h_to_bcd(f80 v, uint8_t bcd[10], uint16_t *sw)
{
    __asm__ volatile("fldt %2\n\tfbstp %0\n\tfnstsw %1"
                     : "=m"(*(uint8_t(*)[10])bcd), "=a"(*sw) : "m"(v));
}

/* one-operand functions on ST(0) */
enum h_unary { HU_SQRT, HU_SIN, HU_COS, HU_F2XM1, HU_RNDINT, HU_TST };

static inline f80 h_unary(enum h_unary k, f80 x, uint16_t *sw)
{
    switch (k) {
    case HU_SQRT: __asm__ volatile("fsqrt\n\tfnstsw %1" : "+t"(x), "=a"(*sw)); break;
    case HU_SIN: __asm__ volatile("fsin\n\tfnstsw %1" : "+t"(x), "=a"(*sw)); break;
    case HU_COS: __asm__ volatile("fcos\n\tfnstsw %1" : "+t"(x), "=a"(*sw)); break;
    case HU_F2XM1: __asm__ volatile("f2xm1\n\tfnstsw %1" : "+t"(x), "=a"(*sw)); break;
    default: __asm__ volatile("frndint\n\tfnstsw %1" : "+t"(x), "=a"(*sw)); break;
    }
    return x;
}

/* two-operand functions of ST(0) = x and ST(1) = y */
enum h_binary { HB_YL2X, HB_YL2XP1, HB_PATAN, HB_SCALE, HB_PREM, HB_PREM1 };

static inline f80 h_binary(enum h_binary k, f80 x, f80 y, uint16_t *sw)
{
    f80 r;
#define POPS(insn) __asm__ volatile(insn "\n\tfnstsw %1" : "=t"(r), "=a"(*sw) : "0"(x), "u"(y) : "st(1)")
#define KEEPS(insn) __asm__ volatile(insn "\n\tfnstsw %1" : "=t"(r), "=a"(*sw) : "0"(x), "u"(y))
    switch (k) {
    case HB_YL2X: POPS("fyl2x"); break;
    case HB_YL2XP1: POPS("fyl2xp1"); break;
    case HB_PATAN: POPS("fpatan"); break;
    case HB_SCALE: KEEPS("fscale"); break;
    case HB_PREM: KEEPS("fprem"); break;
    default: KEEPS("fprem1"); break;
    }
#undef POPS
#undef KEEPS
    return r;
}

/* FPTAN / FSINCOS / FXTRACT: 'push' receives the new ST(0) and 'st1'
 * the new ST(1) when the instruction pushed (C2 clear, or always for
 * FXTRACT); returns the status word. */
enum h_push2 { HP_PTAN, HP_SINCOS, HP_XTRACT };

static inline uint16_t h_push2(enum h_push2 k, f80 x, f80 *push, f80 *st1)
{
    uint16_t sw;
    f80 a = x, b = x;
#define PUSH2(insn)                                                             \
    __asm__ volatile("fldt %3\n\t" insn "\n\tfnstsw %%ax\n\ttestw $0x400, %%ax\n\t" \
                     "jnz 1f\n\tfstpt %0\n1:\n\tfstpt %1"                       \
                     : "=m"(a), "=m"(b), "=a"(sw) : "m"(x))
    switch (k) {
    case HP_PTAN: PUSH2("fptan"); break;
    case HP_SINCOS: PUSH2("fsincos"); break;
    default: PUSH2("fxtract"); break;
    }
#undef PUSH2
    *push = a;
    *st1 = b;
    return sw;
}

/* constants: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8-EE) */
static inline f80 h_const(unsigned k)
{
    f80 r;
    switch (k) {
    case 0: __asm__ volatile("fld1\n\tfstpt %0" : "=m"(r)); break;
    case 1: __asm__ volatile("fldl2t\n\tfstpt %0" : "=m"(r)); break;
    case 2: __asm__ volatile("fldl2e\n\tfstpt %0" : "=m"(r)); break;
    case 3: __asm__ volatile("fldpi\n\tfstpt %0" : "=m"(r)); break;
    case 4: __asm__ volatile("fldlg2\n\tfstpt %0" : "=m"(r)); break;
    case 5: __asm__ volatile("fldln2\n\tfstpt %0" : "=m"(r)); break;
    default: __asm__ volatile("fldz\n\tfstpt %0" : "=m"(r)); break;
    }
    return r;
}

#endif
