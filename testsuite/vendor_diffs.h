/* testsuite/vendor_diffs.h — the one table of the test suite's Intel/AMD
 * differences: user-mode instructions whose result, for the same input
 * state, differs between Intel and other x86 vendors.  Each row names
 * the forms, Intel's rule, the other vendor's, where each is documented
 * or was seen, and the model that computes Intel's result where there is
 * one (vendor_diffs.c holds the rows and the models).
 *
 * nest86 is an Intel CPU, so Intel's result is the expected one.  A test
 * that uses the host CPU as its oracle uses the host for every form on
 * an Intel host; on another host (the AMD EPYC CI machines) a form this
 * table lists is given Intel's result by the row's means (enum vd_how)
 * instead, never masked and never silently skipped.  Both host-oracle
 * testers read this table: unit/simd_sse (its destination register,
 * from the row's vector model) and the differential tester
 * (difftest/fixups.c applies the rows on its host side). */
#ifndef NEST86_TESTSUITE_VENDOR_DIFFS_H
#define NEST86_TESTSUITE_VENDOR_DIFFS_H

#include <stdbool.h>
#include <stdint.h>

enum vd_id {
    VD_REP_A32_EMPTY,    /* REP string, 32-bit address size, ECX = 0 */
    VD_DPPS_LANE_ORDER,  /* DPPS: which NaN each destination lane gets */
    VD_DPPD_LANE_ORDER,  /* DPPD: the same for lane 1 */
    VD_NEAR_66,          /* 66-prefixed near branch in 64-bit mode */
    VD_SHXD16,           /* SHLD/SHRD r/m16 with a count of 17..31 */
    VD_COUNT
};

/* How a test on a host that is not Intel gets Intel's result. */
enum vd_how {
    VD_MODEL,     /* the row's model function computes it from the input
                     state (the instruction itself is not run on the host) */
    VD_SUBST,     /* the host runs other bytes of the same length whose
                     effect on it is Intel's (a prefix it ignores) */
    VD_KEPT_OUT,  /* no Intel rule is documented to compute: the tests do
                     not generate the case, on any host */
};

/* Intel's result of a vector form from its operands: the destination and
 * source registers (16 bytes each; the source may come from memory), the
 * imm8, and MXCSR.  mxcsr's control bits (rounding, DAZ, FTZ) are used as
 * if every exception were masked, and the flags the instruction raises
 * are ORed into it; a caller whose MXCSR unmasks one must not use the
 * model (it does not say where an exception stops the instruction). */
typedef void vd_vec_model(const uint8_t dst[16], const uint8_t src[16], uint8_t imm,
                          uint32_t *mxcsr, uint8_t out[16]);

/* Intel's registers after a string instruction, for a row about one:
 * 'uses' says which index registers the instruction has (VD_USES_*).
 * Returns false when the state is not one the row covers. */
#define VD_USES_RSI 1u
#define VD_USES_RDI 2u
typedef bool vd_str_model(uint64_t *rcx, uint64_t *rsi, uint64_t *rdi, unsigned uses);

#define VD_MAX_FORMS 16

struct vendor_diff {
    const char *name;
    /* the forms the row covers, by the names the tests' form tables give
     * them (difftest's forms_*.c; unit/simd_sse's specs use the same
     * mnemonics); NULL-terminated */
    const char *forms[VD_MAX_FORMS];
    const char *cases;    /* the instances of those forms where it matters */
    const char *intel;    /* what Intel does (and so nest86) */
    const char *other;    /* what AMD does */
    const char *ref;      /* where each is documented or was seen */
    const char *checks;   /* the tests that pin Intel's rule in nest86 */
    enum vd_how how;
    const char *how_text; /* the means, for this row */
    vd_vec_model *vec;    /* VD_MODEL on a vector form */
    vd_str_model *str;    /* VD_MODEL on a string form */
};

extern const struct vendor_diff vendor_diffs[VD_COUNT];

/* The row that lists form 'name', or NULL. */
const struct vendor_diff *vendor_diff_for_form(const char *name);

/* Is the host CPU an Intel one (CPUID vendor "GenuineIntel")? */
bool vd_host_is_intel(void);

/* The models (vendor_diffs.c says what each follows). */
vd_vec_model vd_intel_dpps, vd_intel_dppd;
vd_str_model vd_intel_rep_a32_empty;

#endif
