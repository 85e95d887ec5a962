/* testsuite/vendor_diffs.h — where Intel and other x86 vendors give
 * different results for the same user-mode instruction and state, with
 * a model of Intel's rule for each.
 *
 * nest86 is an Intel CPU, so a test that uses the host CPU as its oracle
 * may use the host for these forms only on an Intel host; on another
 * host it compares against the model here instead (unit/simd_sse does
 * so for the destination register), never silently skipping the form.
 * One row per difference, with its reference.  The models are written
 * apart from cpu/, from the references cited, and run the host's scalar
 * SSE arithmetic one operation at a time, the first operand first. */
#ifndef NEST86_TESTSUITE_VENDOR_DIFFS_H
#define NEST86_TESTSUITE_VENDOR_DIFFS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* a op b for single precision under MXCSR value mxcsr with every
 * exception masked (the models give results, not flags).  a is the
 * first operand: an operation on two NaNs returns a's (SDM Vol. 1
 * 4.8.3.5, Table 4-7). */
static inline uint32_t vd_op_ss(bool mul, uint32_t a, uint32_t b, uint32_t mxcsr)
{
    float x, y;
    uint32_t saved, r, m = mxcsr | 0x1f80;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    __asm__ volatile("ldmxcsr %0" : : "m"(m));
    if (mul)
        __asm__ volatile("mulss %1, %0" : "+x"(x) : "x"(y));
    else
        __asm__ volatile("addss %1, %0" : "+x"(x) : "x"(y));
    __asm__ volatile("ldmxcsr %0" : : "m"(saved));
    memcpy(&r, &x, 4);
    return r;
}

static inline uint64_t vd_op_sd(bool mul, uint64_t a, uint64_t b, uint32_t mxcsr)
{
    double x, y;
    uint32_t saved, m = mxcsr | 0x1f80;
    uint64_t r;
    memcpy(&x, &a, 8);
    memcpy(&y, &b, 8);
    __asm__ volatile("stmxcsr %0" : "=m"(saved));
    __asm__ volatile("ldmxcsr %0" : : "m"(m));
    if (mul)
        __asm__ volatile("mulsd %1, %0" : "+x"(x) : "x"(y));
    else
        __asm__ volatile("addsd %1, %0" : "+x"(x) : "x"(y));
    __asm__ volatile("ldmxcsr %0" : : "m"(saved));
    memcpy(&r, &x, 8);
    return r;
}

/* DPPS (66 0F 3A 40) on Intel: T[k] = DEST[k] * SRC[k] for the lanes
 * imm8[7:4] selects, else +0.0; each destination lane imm8[3:0] selects
 * forms the sum itself as (T[a] + T[b]) + (T[c] + T[d]) with the indices
 * below, the rest get +0.0.  The SDM's pseudo-code gives every lane lane
 * 1's order, and AMD hosts do that; the results differ only in which NaN
 * a lane gets.  What was seen on Intel hosts: cpu/sse_fp.c. */
static inline void vd_intel_dpps(const uint8_t *dst, const uint8_t *src, uint8_t imm,
                                 uint32_t mxcsr, uint8_t *out)
{
    static const uint8_t order[4][4] = {{1, 0, 3, 2}, {0, 1, 2, 3}, {3, 2, 1, 0}, {2, 3, 0, 1}};
    uint32_t d[4], s[4], t[4], r[4] = {0};
    memcpy(d, dst, 16);
    memcpy(s, src, 16);
    for (unsigned k = 0; k < 4; k++)
        t[k] = (imm >> (4 + k)) & 1 ? vd_op_ss(true, d[k], s[k], mxcsr) : 0;
    for (unsigned k = 0; k < 4; k++) {
        const uint8_t *o = order[k];
        if ((imm >> k) & 1)
            r[k] = vd_op_ss(false, vd_op_ss(false, t[o[0]], t[o[1]], mxcsr),
                            vd_op_ss(false, t[o[2]], t[o[3]], mxcsr), mxcsr);
    }
    memcpy(out, r, 16);
}

/* DPPD (66 0F 3A 41) on Intel: lane 0 = T0 + T1, lane 1 = T1 + T0
 * (AMD: T0 + T1 in both). */
static inline void vd_intel_dppd(const uint8_t *dst, const uint8_t *src, uint8_t imm,
                                 uint32_t mxcsr, uint8_t *out)
{
    uint64_t d[2], s[2], t[2], r[2] = {0};
    memcpy(d, dst, 16);
    memcpy(s, src, 16);
    for (unsigned k = 0; k < 2; k++)
        t[k] = (imm >> (4 + k)) & 1 ? vd_op_sd(true, d[k], s[k], mxcsr) : 0;
    for (unsigned k = 0; k < 2; k++)
        if ((imm >> k) & 1)
            r[k] = vd_op_sd(false, t[k], t[k ^ 1], mxcsr);
    memcpy(out, r, 16);
}

/* Intel's destination register from the destination and source
 * registers (16 bytes each), the imm8 and MXCSR. */
typedef void (*vd_model_fn)(const uint8_t *dst, const uint8_t *src, uint8_t imm, uint32_t mxcsr,
                            uint8_t *out);

struct vendor_diff {
    const char *form;   /* the form's name in the tests (lower-case mnemonic) */
    vd_model_fn intel;
    const char *why;    /* the difference and its reference */
};

static const struct vendor_diff vendor_diffs[] __attribute__((unused)) = {
    {"dpps", vd_intel_dpps,
     "which NaN a lane gets: Intel sums in each lane with its own operand order, AMD "
     "broadcasts the SDM pseudo-code's one sum (Intel host: unit/simd_sse dpps imm e4 round 0 "
     "gives ffc00000 and difftest --seed 1 --only 11059 ffffffff in lane 2; cpu/sse_fp.c)"},
    {"dppd", vd_intel_dppd,
     "which NaN lane 1 gets: T1 + T0 on Intel (the DPPS model's order), T0 + T1 on AMD"},
};

#define VENDOR_NDIFFS (sizeof(vendor_diffs) / sizeof(vendor_diffs[0]))

static inline const struct vendor_diff *vendor_diff_for(const char *form)
{
    for (size_t k = 0; k < VENDOR_NDIFFS; k++)
        if (!strcmp(vendor_diffs[k].form, form))
            return &vendor_diffs[k];
    return NULL;
}

#endif
