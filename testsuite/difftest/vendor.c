/* testsuite/difftest/vendor.c — the one table of documented Intel/AMD
 * differences the tester meets, and the reference functions that give
 * Intel's result on a host of another vendor.
 *
 * nest86 emulates an Intel CPU, so Intel's behaviour is the expected
 * one.  On an Intel host every case runs natively and the host is the
 * oracle.  On another host (the AMD EPYC CI machines) each unit that
 * meets a row of this table carries a fixup (struct dt_fixup, made by
 * the emitter that knows the case) and the host child applies it:
 *
 *   DT_HOW_SUBST      the host runs other bytes of the same length,
 *                     whose effect on that host is Intel's;
 *   DT_HOW_REFERENCE  the host meets an INT3 in the instruction's
 *                     place; its SIGTRAP handler calls the reference
 *                     function below on the signal context and resumes
 *                     after the instruction;
 *   DT_HOW_KEPT_OUT   no Intel rule is documented to compute: the
 *                     generator leaves the case out on every host.
 *
 * Nothing is masked: the comparison itself is the same for every case.
 * `difftest --vendor-fixups` applies the rules on an Intel host too, to
 * check a reference function against the real thing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include <cpuid.h>

#include "testsuite/difftest/difftest.h"

struct dt_vendor_rule dt_vendor_rules[] = {
    [DT_VR_REP_A32_EMPTY] = {
        "rep-a32-empty",
        "REP MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS with a 67 prefix (32-bit address size) in "
        "64-bit mode and ECX = 0 on entry",
        "no iteration, but ECX and the index registers the instruction uses are written: "
        "bits 63:32 of RCX and of RSI (MOVS CMPS LODS OUTS) and RDI (MOVS CMPS STOS SCAS INS) "
        "are cleared",
        "no register changes",
        "SDM Vol. 2B REP/REPE/REPNE (count ECX, index ESI/EDI at address size 32) and Vol. 1 "
        "3.4.1.1 (a 32-bit register write zero-extends); Intel's ECX = 0 case measured on "
        "Intel Xeon hosts (issue 10: F3 67 AE with RCX = 0x9966a07c00000000 leaves RCX = 0; "
        "F3 67 A5 clears RSI and RDI); Bochs (cpu/string.cc) clears the same index registers",
        DT_HOW_REFERENCE,
        "INT3 in the instruction's place; the reference zero-extends ECX and the index "
        "registers (after checking that ECX is 0, the only case where the vendors differ)",
        0,
    },
    [DT_VR_DP_NAN_ORDER] = {
        "dpps-dppd-nan-order",
        "every DPPS and DPPD (the rule matters when two or more products or sums are NaN)",
        "the products are summed as (p3 + p2) + (p1 + p0) (DPPS) and p1 + p0 (DPPD); each "
        "addition returns its first operand's NaN, quieted, when both are NaN",
        "(p0 + p1) + (p2 + p3) and p0 + p1 (measured on AMD EPYC)",
        "SDM Vol. 2A DPPS/DPPD (horizontal NaN propagation is implementation dependent); "
        "Intel Intrinsics Guide _mm_dp_ps/_mm_dp_pd (the order of the sums); SDM Vol. 1 "
        "Table 4-7 (an SSE operation on two NaNs returns the first); Intel Xeon measurement "
        "(issue 10: DPPS imm 0xE4 with p1 a NaN and p2 invalid gives the default NaN "
        "0xFFC00000, the upper pair's)",
        DT_HOW_REFERENCE,
        "INT3 in the instruction's place; the reference multiplies and adds with the host's "
        "scalar MULSS/ADDSS (MULSD/ADDSD) in Intel's order under the case's MXCSR, whose NaN "
        "and exception rules both vendors share",
        0,
    },
    [DT_VR_NEAR_66] = {
        "near-branch-66",
        "66-prefixed Jcc, JMP, LOOP, JrCXZ, CALL, RET (near, relative or indirect) in 64-bit "
        "mode",
        "the prefix is ignored: a 64-bit branch",
        "a 16-bit operand size: IP is truncated to 16 bits, CALL/RET push and pop 2 bytes, "
        "Jcc/JMP rel32 take a rel16",
        "SDM Vol. 2A JMP, Jcc, CALL and Vol. 2B RET (64-bit mode: operand size fixed at 64 "
        "bits for near branches); AMD APM Vol. 3 (same instructions: 66 selects 16 bits)",
        DT_HOW_SUBST,
        "the host runs 3E (a DS override, ignored in 64-bit mode) in the 66's place",
        0,
    },
    [DT_VR_SHXD16] = {
        "shxd16-count-above-16",
        "SHLD/SHRD r/m16 with a masked count of 17-31",
        "shifts through dest:src:dest (result and flags undefined by the SDM)",
        "a different result",
        "SDM Vol. 2B SHLD/SHRD (a count greater than the operand size leaves the result "
        "and the flags undefined)",
        DT_HOW_KEPT_OUT,
        "not generated on any host: the SDM documents no rule to compute",
        0,
    },
};

bool dt_vendor_fixups;

bool dt_host_is_intel(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return false;
    return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e; /* "GenuineIntel" */
}

/* ---- rep-a32-empty ---- */

/* arg[0]: bit 0 the instruction uses RSI, bit 1 RDI */
static int ref_rep_empty(const struct dt_fixup *f, ucontext_t *u, char *why, size_t n)
{
    greg_t *gr = u->uc_mcontext.gregs;
    if ((uint32_t)gr[REG_RCX] != 0) {
        snprintf(why, n, "rep-a32-empty met ECX = %#x, not 0", (unsigned)(uint32_t)gr[REG_RCX]);
        return -1;
    }
    gr[REG_RCX] = (greg_t)(uint32_t)gr[REG_RCX];
    if (f->arg[0] & 1)
        gr[REG_RSI] = (greg_t)(uint32_t)gr[REG_RSI];
    if (f->arg[0] & 2)
        gr[REG_RDI] = (greg_t)(uint32_t)gr[REG_RDI];
    return 0;
}

/* ---- dpps-dppd-nan-order ---- */

/* One scalar operation on the host under MXCSR *mx (its flags added
 * to *mx): the host's first-operand rule for NaNs is the SDM's
 * (Vol. 1 Table 4-7), on Intel and AMD alike. */
#define HOST_SCALAR(name, insn, type, mov)                                                    \
    static type name(type a, type b, uint32_t *mx)                                            \
    {                                                                                         \
        __asm__ volatile("ldmxcsr %[m]\n\t" mov " %[a], %%xmm0\n\t" mov " %[b], %%xmm1\n\t"   \
                         insn " %%xmm1, %%xmm0\n\t" mov " %%xmm0, %[a]\n\t"                   \
                         "stmxcsr %[m]"                                                       \
                         : [a] "+r"(a), [m] "+m"(*mx)                                         \
                         : [b] "r"(b)                                                         \
                         : "xmm0", "xmm1");                                                   \
        return a;                                                                             \
    }
HOST_SCALAR(h_mulss, "mulss", uint32_t, "movd")
HOST_SCALAR(h_addss, "addss", uint32_t, "movd")
HOST_SCALAR(h_mulsd, "mulsd", uint64_t, "movq")
HOST_SCALAR(h_addsd, "addsd", uint64_t, "movq")

/* The dot product of a and b under imm (SDM Vol. 2A DPPS/DPPD): the
 * products selected by imm[7:4] (+0.0 for the others, with no
 * multiplication and so no exception), summed, the sum broadcast to
 * the lanes imm[3:0] selects (+0.0 elsewhere).  intel_order: the sums
 * in the Intel Intrinsics Guide's order, (p3 + p2) + (p1 + p0) and
 * p1 + p0; otherwise (p0 + p1) + (p2 + p3) and p0 + p1. */
static void dot(bool dbl, const uint8_t *a, const uint8_t *b, unsigned imm, bool intel_order,
                uint8_t *out, uint32_t *mx)
{
    memset(out, 0, 16);
    if (dbl) {
        uint64_t x[2], y[2], p[2] = {0, 0};
        memcpy(x, a, 16);
        memcpy(y, b, 16);
        for (unsigned k = 0; k < 2; k++)
            if (imm >> (4 + k) & 1)
                p[k] = h_mulsd(x[k], y[k], mx);
        uint64_t sum = intel_order ? h_addsd(p[1], p[0], mx) : h_addsd(p[0], p[1], mx);
        for (unsigned k = 0; k < 2; k++)
            if (imm >> k & 1)
                memcpy(out + 8 * k, &sum, 8);
        return;
    }
    uint32_t x[4], y[4], p[4] = {0, 0, 0, 0};
    memcpy(x, a, 16);
    memcpy(y, b, 16);
    for (unsigned k = 0; k < 4; k++)
        if (imm >> (4 + k) & 1)
            p[k] = h_mulss(x[k], y[k], mx);
    uint32_t sum;
    if (intel_order) {
        uint32_t hi = h_addss(p[3], p[2], mx), lo = h_addss(p[1], p[0], mx);
        sum = h_addss(hi, lo, mx);
    } else {
        uint32_t lo = h_addss(p[0], p[1], mx), hi = h_addss(p[2], p[3], mx);
        sum = h_addss(lo, hi, mx);
    }
    for (unsigned k = 0; k < 4; k++)
        if (imm >> k & 1)
            memcpy(out + 4 * k, &sum, 4);
}

/* The kernel restores XMM state from the signal frame with XRSTOR,
 * which loads the SSE registers only if XSTATE_BV[1] is set in the
 * frame: set it, since they were written. */
static void xmm_written(fpregset_t fp)
{
    uint8_t *x = (uint8_t *)fp;
    uint32_t magic;
    memcpy(&magic, x + 464, 4); /* struct _fpx_sw_bytes in the FXSAVE area's free bytes */
    if (magic != 0x46505853u)   /* FP_XSTATE_MAGIC1: an XSAVE frame */
        return;
    uint64_t bv;
    memcpy(&bv, x + 512, 8); /* the XSAVE header's XSTATE_BV */
    bv |= 2;
    memcpy(x + 512, &bv, 8);
}

/* arg[0]: 0 DPPS, 1 DPPD; arg[1]: destination xmm; arg[2]: source xmm,
 * or 0xff for the memory operand at f->addr; arg[3]: imm8 */
static int ref_dp(const struct dt_fixup *f, ucontext_t *u, int *known, char *why, size_t n)
{
    fpregset_t fp = u->uc_mcontext.fpregs;
    bool dbl = f->arg[0] != 0;
    unsigned d = f->arg[1] & 15, s = f->arg[2], imm = f->arg[3];
    uint8_t a[16], b[16], intel[16], other[16];
    memcpy(a, fp->_xmm[d].element, 16);
    if (s == 0xff)
        memcpy(b, (const void *)(uintptr_t)f->addr, 16);
    else
        memcpy(b, fp->_xmm[s & 15].element, 16);
    uint32_t mx = fp->mxcsr;
    if ((mx & 0x1f80) != 0x1f80) { /* the generator masks all SIMD exceptions */
        snprintf(why, n, "dpps-dppd-nan-order met MXCSR %#x with an exception unmasked", mx);
        return -1;
    }
    uint32_t saved, mx_intel = mx, mx_other = mx;
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    dot(dbl, a, b, imm, true, intel, &mx_intel);
    dot(dbl, a, b, imm, false, other, &mx_other);
    __asm__ volatile("ldmxcsr %0" : : "m"(saved));
    int k = dt_known_index("dpps-nan-order");
    if (k >= 0 && dt_known[k].active && memcmp(intel, other, 16)) {
        *known = k;
        return 1;
    }
    memcpy(fp->_xmm[d].element, intel, 16);
    fp->mxcsr = mx_intel;
    xmm_written(fp);
    return 0;
}

int dt_vendor_reference(const struct dt_fixup *f, void *uc, int *known, char *why, size_t n)
{
    switch (f->rule) {
    case DT_VR_REP_A32_EMPTY:
        return ref_rep_empty(f, uc, why, n);
    case DT_VR_DP_NAN_ORDER:
        return ref_dp(f, uc, known, why, n);
    default:
        snprintf(why, n, "rule %u has no reference function", f->rule);
        return -1;
    }
}
