/* testsuite/vendor_diffs.c — the rows of the Intel/AMD table and the
 * models of Intel's rules (vendor_diffs.h says how the tests use them).
 *
 * The models are written apart from cpu/, from the references each row
 * cites, so a test that compares nest86 with a model compares two
 * derivations of the rule.  The vector models run the host's scalar SSE
 * arithmetic one operation at a time: every vendor gives the SDM's
 * result, NaN and flags for one scalar operation (Vol. 1 4.8.3.5, Table
 * 4-7: of two NaN operands the first one's is returned, quieted); what
 * differs between vendors is only the order of the operations. */
#include "testsuite/vendor_diffs.h"

#include <string.h>

#include <cpuid.h>

/* ---- the models ---- */

/* a op b on the host under the control bits of *mx with every exception
 * masked; the flags it raises are ORed into *mx.  a is the first
 * operand. */
#define HOST_SCALAR(name, insn, utype, ftype)                                                  \
    static utype name(utype a, utype b, uint32_t *mx)                                          \
    {                                                                                          \
        ftype x, y;                                                                            \
        uint32_t saved, m = (*mx | 0x1f80u) & ~0x3fu, after;                                   \
        memcpy(&x, &a, sizeof(x));                                                             \
        memcpy(&y, &b, sizeof(y));                                                             \
        __asm__ volatile("stmxcsr %0" : "=m"(saved));                                          \
        __asm__ volatile("ldmxcsr %0" : : "m"(m));                                             \
        __asm__ volatile(insn " %1, %0" : "+x"(x) : "x"(y));                                   \
        __asm__ volatile("stmxcsr %0" : "=m"(after));                                          \
        __asm__ volatile("ldmxcsr %0" : : "m"(saved));                                         \
        *mx |= after & 0x3fu;                                                                  \
        memcpy(&a, &x, sizeof(a));                                                             \
        return a;                                                                              \
    }
HOST_SCALAR(mul_ss, "mulss", uint32_t, float)
HOST_SCALAR(add_ss, "addss", uint32_t, float)
HOST_SCALAR(mul_sd, "mulsd", uint64_t, double)
HOST_SCALAR(add_sd, "addsd", uint64_t, double)

/* DPPS (66 0F 3A 40).  T[k] = DEST[k] * SRC[k] for the lanes imm8[7:4]
 * selects, else +0.0 with no multiplication (so nothing raised).
 * Destination lane k forms the sum itself as
 *     (T[k^1] + T[k]) + (T[k^3] + T[k^2])
 * i.e. lane 0 (T1+T0)+(T3+T2), lane 1 (T0+T1)+(T2+T3), lane 2
 * (T3+T2)+(T1+T0), lane 3 (T2+T3)+(T0+T1); the lanes imm8[3:0] selects
 * get their sum, the others +0.0.  Every lane's sum is formed, selected
 * or not, as the SDM's pseudo-code forms its one sum whatever imm8[3:0]
 * says; the lanes' operations are the same up to operand order, so they
 * raise the same flags. */
void vd_intel_dpps(const uint8_t dst[16], const uint8_t src[16], uint8_t imm, uint32_t *mxcsr,
                   uint8_t out[16])
{
    uint32_t d[4], s[4], t[4], r[4] = {0, 0, 0, 0};
    memcpy(d, dst, 16);
    memcpy(s, src, 16);
    for (unsigned k = 0; k < 4; k++)
        t[k] = (imm >> (4 + k)) & 1 ? mul_ss(d[k], s[k], mxcsr) : 0;
    for (unsigned k = 0; k < 4; k++) {
        uint32_t own = add_ss(t[k ^ 1], t[k], mxcsr);
        uint32_t other = add_ss(t[k ^ 3], t[k ^ 2], mxcsr);
        uint32_t sum = add_ss(own, other, mxcsr);
        if ((imm >> k) & 1)
            r[k] = sum;
    }
    memcpy(out, r, 16);
}

/* DPPD (66 0F 3A 41): T[k] as for DPPS; lane 0 = T0 + T1, lane 1 =
 * T1 + T0. */
void vd_intel_dppd(const uint8_t dst[16], const uint8_t src[16], uint8_t imm, uint32_t *mxcsr,
                   uint8_t out[16])
{
    uint64_t d[2], s[2], t[2], r[2] = {0, 0};
    memcpy(d, dst, 16);
    memcpy(s, src, 16);
    for (unsigned k = 0; k < 2; k++)
        t[k] = (imm >> (4 + k)) & 1 ? mul_sd(d[k], s[k], mxcsr) : 0;
    for (unsigned k = 0; k < 2; k++) {
        uint64_t sum = add_sd(t[k], t[k ^ 1], mxcsr);
        if ((imm >> k) & 1)
            r[k] = sum;
    }
    memcpy(out, r, 16);
}

/* REP string with a 32-bit address size and ECX = 0: no iteration, but
 * ECX and the index registers are written as 32-bit registers, which
 * clears bits 63:32. */
bool vd_intel_rep_a32_empty(uint64_t *rcx, uint64_t *rsi, uint64_t *rdi, unsigned uses)
{
    if ((uint32_t)*rcx != 0)
        return false;
    *rcx = 0;
    if (uses & VD_USES_RSI)
        *rsi = (uint32_t)*rsi;
    if (uses & VD_USES_RDI)
        *rdi = (uint32_t)*rdi;
    return true;
}

/* ---- the table ---- */

const struct vendor_diff vendor_diffs[VD_COUNT] = {
    [VD_REP_A32_EMPTY] = {
        .name = "rep-a32-empty",
        .forms = {"rep movs", "rep stos", "rep lods", "rep cmps", "rep scas", "repne cmps",
                  "repne scas", NULL},
        .cases = "REP MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS with a 67 prefix (32-bit address size) "
                 "in 64-bit mode and ECX = 0 on entry",
        .intel = "no iteration, but ECX and the index registers the instruction uses are "
                 "written: bits 63:32 of RCX and of RSI (MOVS CMPS LODS OUTS) and RDI (MOVS "
                 "CMPS STOS SCAS INS) are cleared",
        .other = "no register changes (measured on AMD EPYC)",
        .ref = "SDM Vol. 2B REP/REPE/REPNE (count ECX, index ESI/EDI at address size 32) and "
               "Vol. 1 3.4.1.1 (a 32-bit register write zero-extends); Intel Xeon hosts in "
               "issue 10: repe scasb (F3 67 AE) with RCX = 0x9966a07c00000000 leaves RCX = 0 "
               "(difftest --seed 1 --only 333), rep movsd (F3 67 A5) with ECX = 0 leaves "
               "RSI = 0x20002b27, RDI = 0x20002473 (--only 128685); Bochs cpu/string.cc clears "
               "the same index registers",
        .checks = "cpu/ops_string.c; difftest fixed cases rep-*-a32-ecx0*",
        .how = VD_MODEL,
        .how_text = "the model zero-extends ECX and the index registers, after checking that "
                    "ECX is 0 (the only state where the vendors differ)",
        .str = vd_intel_rep_a32_empty,
    },
    [VD_DPPS_LANE_ORDER] = {
        .name = "dpps-lane-order",
        .forms = {"dpps", NULL},
        .cases = "every DPPS; the vendors' results differ when two of the products or pair "
                 "sums are NaNs (otherwise IEEE addition commutes)",
        .intel = "each destination lane forms the sum itself, in its own operand order: lane 0 "
                 "(T1+T0)+(T3+T2), lane 1 (T0+T1)+(T2+T3), lane 2 (T3+T2)+(T1+T0), lane 3 "
                 "(T2+T3)+(T0+T1); an addition of two NaNs returns its first operand's",
        .other = "the SDM pseudo-code's one sum (T0+T1)+(T2+T3) in every selected lane "
                 "(measured on AMD EPYC)",
        .ref = "SDM Vol. 2A DPPS (one sum in the pseudo-code) and Vol. 1 4.8.3.5, Table 4-7 "
               "(two NaNs: the first operand's); Bochs cpu/sse_pfp.cc DPPS_VpsWpsIbR (this "
               "per-lane order); Intel Xeon hosts in issue 10: unit/simd_sse dpps imm 0xE4 "
               "round 0 gives 0xFFC00000 in lane 2 (AMD's order: 0x7FEFFFFF), and difftest "
               "--seed 1 --only 11059 (dpps xmm6, xmm7, 0x76) gives 0xFFC00000 in lane 1 but "
               "0xFFFFFFFF in lane 2, which no single sum gives (the Intrinsics Guide's "
               "(T3+T2)+(T1+T0) would give 0xFFFFFFFF in both)",
        .checks = "cpu/sse_fp.c; unit/simd_sse sse-dp-values (both Intel observations, worked "
                  "by hand); difftest fixed cases dpps-*",
        .how = VD_MODEL,
        .how_text = "the model multiplies and adds with the host's scalar MULSS/ADDSS in "
                    "Intel's order under the case's MXCSR",
        .vec = vd_intel_dpps,
    },
    [VD_DPPD_LANE_ORDER] = {
        .name = "dppd-lane-order",
        .forms = {"dppd", NULL},
        .cases = "every DPPD; the vendors' results differ when both products are NaNs and "
                 "imm8 selects lane 1",
        .intel = "lane 0 = T0 + T1, lane 1 = T1 + T0",
        .other = "T0 + T1 in both lanes (measured on AMD EPYC)",
        .ref = "SDM Vol. 2A DPPD and Vol. 1 Table 4-7; Bochs cpu/sse_pfp.cc DPPD_VpdHpdWpdIbR "
               "(this order, the DPPS model's); not yet seen on Intel silicon with two NaN "
               "products: on an Intel host unit/simd_sse's sweep and difftest fixed case "
               "dppd-33-two-nans compare it with the hardware",
        .checks = "cpu/sse_fp.c; unit/simd_sse sse-dp-values pd-*; difftest fixed cases dppd-*",
        .how = VD_MODEL,
        .how_text = "the model multiplies and adds with the host's scalar MULSD/ADDSD in "
                    "Intel's order under the case's MXCSR",
        .vec = vd_intel_dppd,
    },
    [VD_NEAR_66] = {
        .name = "near-branch-66",
        .forms = {"jcc rel8", "jcc rel32", "jmp rel8", "jmp rel32", "loop", "loope", "loopne",
                  "jrcxz/jecxz", "call rel32", "ret", "ret imm16", "call r/m", "jmp r/m",
                  NULL},
        .cases = "66-prefixed Jcc, JMP, LOOP, JrCXZ, CALL, RET (near, relative or indirect) in "
                 "64-bit mode",
        .intel = "the prefix is ignored: a 64-bit branch",
        .other = "a 16-bit operand size: IP is truncated to 16 bits, CALL/RET push and pop 2 "
                 "bytes, Jcc/JMP rel32 take a rel16",
        .ref = "SDM Vol. 2A JMP, Jcc, CALL and Vol. 2B RET (64-bit mode: the operand size of "
               "near branches is fixed at 64 bits); AMD APM Vol. 3 (the same instructions: 66 "
               "selects 16 bits)",
        .checks = "difftest's random cond and ctrl sequences",
        .how = VD_SUBST,
        .how_text = "the host runs 3E (a DS override, ignored in 64-bit mode) in the 66's place",
    },
    [VD_SHXD16] = {
        .name = "shxd16-count-above-16",
        .forms = {"shld E,G,imm8", "shld E,G,CL", "shrd E,G,imm8", "shrd E,G,CL", NULL},
        .cases = "SHLD/SHRD r/m16 with a masked count of 17-31",
        .intel = "shifts through dest:src:dest (result and flags undefined by the SDM)",
        .other = "a different result",
        .ref = "SDM Vol. 2B SHLD/SHRD (a count greater than the operand size leaves the result "
               "and the flags undefined)",
        .checks = "none: undefined",
        .how = VD_KEPT_OUT,
        .how_text = "not generated on any host: the SDM documents no rule to compute",
    },
};

const struct vendor_diff *vendor_diff_for_form(const char *name)
{
    for (unsigned k = 0; k < VD_COUNT; k++)
        for (const char *const *f = vendor_diffs[k].forms; *f; f++)
            if (!strcmp(*f, name))
                return &vendor_diffs[k];
    return NULL;
}

bool vd_host_is_intel(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return false;
    return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e; /* "Genu" "ineI" "ntel" */
}
