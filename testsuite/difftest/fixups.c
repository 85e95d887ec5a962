/* testsuite/difftest/fixups.c — how the host child gives Intel's result
 * where the vendors differ: the rows of testsuite/vendor_diffs.h (the
 * test suite's one Intel/AMD table, with the models) applied to the
 * host's run of a case.
 *
 * nest86 emulates an Intel CPU, so Intel's behaviour is the expected
 * one.  On an Intel host every case runs natively and the host is the
 * oracle.  On another host (the AMD EPYC CI machines) each unit that
 * meets a row carries a fixup (struct dt_fixup, made by the emitter that
 * knows the case) and the host child applies it by the row's means:
 *
 *   VD_SUBST     the host runs other bytes of the same length, whose
 *                effect on that host is Intel's (native.c copies them);
 *   VD_MODEL     the host meets an INT3 in the instruction's place; its
 *                SIGTRAP handler calls dt_vendor_reference() below, which
 *                runs the row's model on the signal context and resumes
 *                after the instruction;
 *   VD_KEPT_OUT  the generator leaves the case out on every host.
 *
 * Nothing is masked: the comparison itself is the same for every case.
 * `difftest --vendor-fixups` applies the rows on an Intel host too, to
 * check a model against the real thing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

#include "testsuite/difftest/difftest.h"

bool dt_vendor_fixups;
unsigned long dt_vendor_hits[VD_COUNT];

/* a string row; arg[0]: VD_USES_* */
static int ref_string(const struct vendor_diff *v, const struct dt_fixup *f, ucontext_t *u,
                      char *why, size_t n)
{
    greg_t *gr = u->uc_mcontext.gregs;
    uint64_t rcx = (uint64_t)gr[REG_RCX], rsi = (uint64_t)gr[REG_RSI], rdi = (uint64_t)gr[REG_RDI];
    if (!v->str(&rcx, &rsi, &rdi, f->arg[0])) {
        snprintf(why, n, "%s met RCX = %#llx, a state the row does not cover", v->name,
                 (unsigned long long)rcx);
        return -1;
    }
    gr[REG_RCX] = (greg_t)rcx;
    gr[REG_RSI] = (greg_t)rsi;
    gr[REG_RDI] = (greg_t)rdi;
    return 0;
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

/* a vector row; arg[1]: destination xmm; arg[2]: source xmm, or 0xff
 * for the memory operand at f->addr; arg[3]: imm8 */
static int ref_vector(const struct vendor_diff *v, const struct dt_fixup *f, ucontext_t *u,
                      char *why, size_t n)
{
    fpregset_t fp = u->uc_mcontext.fpregs;
    unsigned d = f->arg[1] & 15, s = f->arg[2];
    uint8_t a[16], b[16], out[16];
    memcpy(a, fp->_xmm[d].element, 16);
    if (s == 0xff)
        memcpy(b, (const void *)(uintptr_t)f->addr, 16);
    else
        memcpy(b, fp->_xmm[s & 15].element, 16);
    uint32_t mx = fp->mxcsr;
    if ((mx & 0x1f80) != 0x1f80) { /* the generator masks all SIMD exceptions */
        snprintf(why, n, "%s met MXCSR %#x with an exception unmasked", v->name, mx);
        return -1;
    }
    v->vec(a, b, f->arg[3], &mx, out);
    memcpy(fp->_xmm[d].element, out, 16);
    fp->mxcsr = mx;
    xmm_written(fp);
    return 0;
}

int dt_vendor_reference(const struct dt_fixup *f, void *uc, char *why, size_t n)
{
    const struct vendor_diff *v = &vendor_diffs[f->rule];
    if (v->how == VD_MODEL && v->str)
        return ref_string(v, f, uc, why, n);
    if (v->how == VD_MODEL && v->vec)
        return ref_vector(v, f, uc, why, n);
    snprintf(why, n, "row %s has no model", v->name);
    return -1;
}
