/* cpu/sse_host.h — wrappers that run one SSE instruction on the host's
 * xmm registers (see cpu/sse_fp.c for why).  Only for cpu/sse*.c; the
 * caller brackets them with sse_fp_begin()/sse_fp_end(). */
#ifndef NEST86_CPU_SSE_HOST_H
#define NEST86_CPU_SSE_HOST_H

#include "cpu/simd.h"

typedef double host_xmm __attribute__((vector_size(16)));

/* d = insn(d, s) on full registers: scalar forms keep d's upper lanes. */
#define HOST2(name, insn)                                                   \
    static void name(union xmm *d, const union xmm *s)                      \
    {                                                                       \
        host_xmm a, b;                                                      \
        memcpy(&a, d, 16);                                                  \
        memcpy(&b, s, 16);                                                  \
        __asm__ volatile(insn " %1, %0" : "+x"(a) : "x"(b));                \
        memcpy(d, &a, 16);                                                  \
    }

/* Forms with an imm8 the host encoding needs as a constant: one case
 * per value. */
#define HOST_IMM_CASE(insn, k) \
    case k: __asm__ volatile(insn " %2, %1, %0" : "+x"(a) : "x"(b), "i"(k)); break;
#define HOST_IMM_CASES8(insn) \
    HOST_IMM_CASE(insn, 0) HOST_IMM_CASE(insn, 1) HOST_IMM_CASE(insn, 2) \
    HOST_IMM_CASE(insn, 3) HOST_IMM_CASE(insn, 4) HOST_IMM_CASE(insn, 5) \
    HOST_IMM_CASE(insn, 6) HOST_IMM_CASE(insn, 7)
#define HOST_IMM_CASES16(insn) HOST_IMM_CASES8(insn) \
    HOST_IMM_CASE(insn, 8) HOST_IMM_CASE(insn, 9) HOST_IMM_CASE(insn, 10) \
    HOST_IMM_CASE(insn, 11) HOST_IMM_CASE(insn, 12) HOST_IMM_CASE(insn, 13) \
    HOST_IMM_CASE(insn, 14) HOST_IMM_CASE(insn, 15)

#define HOST2_IMM(name, insn, cases)                                        \
    static void name(union xmm *d, const union xmm *s, unsigned imm)        \
    {                                                                       \
        host_xmm a, b;                                                      \
        memcpy(&a, d, 16);                                                  \
        memcpy(&b, s, 16);                                                  \
        switch (imm) { cases(insn) default: break; }                        \
        memcpy(d, &a, 16);                                                  \
    }
#define HOST2_IMM8(name, insn) HOST2_IMM(name, insn, HOST_IMM_CASES8)
#define HOST2_IMM16(name, insn) HOST2_IMM(name, insn, HOST_IMM_CASES16)

/* UCOMISS/COMISS/UCOMISD/COMISD (sel bit 1: double, bit 0: signalling
 * COMIS); returns the ZF/PF/CF bits of RFLAGS it sets. */
static inline uint32_t host_comis(unsigned sel, const union xmm *d, const union xmm *s)
{
    host_xmm a, b;
    uint8_t z, p, cf;
    memcpy(&a, d, 16);
    memcpy(&b, s, 16);
#define COMIS_CASE(k, insn)                                                  \
    case k:                                                                  \
        __asm__ volatile(insn " %4, %3\n\tsetz %0\n\tsetp %1\n\tsetc %2"     \
                         : "=q"(z), "=q"(p), "=q"(cf) : "x"(a), "x"(b) : "cc"); \
        break;
    switch (sel & 3) {
    COMIS_CASE(0, "ucomiss")
    COMIS_CASE(1, "comiss")
    COMIS_CASE(2, "ucomisd")
    default:
    COMIS_CASE(3, "comisd")
    }
#undef COMIS_CASE
    return (z ? FL_ZF : 0) | (p ? FL_PF : 0) | (cf ? FL_CF : 0);
}

#endif
