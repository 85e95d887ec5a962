/* cpu/sse_state.c — saving and restoring x87/SSE state: FXSAVE,
 * FXRSTOR, LDMXCSR, STMXCSR (0F AE /0-/3) and the XSAVE family for the
 * x87 and SSE components (SDM Vol. 1 10.5 and chapter 13). */
#include "cpu/cpuid.h"
#include "cpu/simd.h"
#include "cpu/x87.h"

#define XCR0_SUPPORTED SSE_XCR0_SUPPORTED
#define XSAVE_AREA_SIZE SSE_XSAVE_AREA_SIZE

/* ---- the 512-byte legacy region (SDM Vol. 1 Table 10-2) ---- */

/* 64-bit FIP/FDP when 'wide' (REX.W), else offset + selector. */
static void put_fpu_ptr(uint8_t *p, uint64_t off, uint16_t sel, bool wide)
{
    if (wide) {
        store_le(p, 8, off);
    } else {
        store_le(p, 4, (uint32_t)off);
        store_le(p + 4, 2, sel);
        store_le(p + 6, 2, 0);
    }
}

static void get_fpu_ptr(const uint8_t *p, uint64_t *off, uint16_t *sel, bool wide)
{
    if (wide) {
        *off = load_le(p, 8);
    } else {
        *off = load_le(p, 4);
        *sel = (uint16_t)load_le(p + 4, 2);
    }
}

static void legacy_x87_save(const struct cpu *c, uint8_t *img, bool wide)
{
    const struct x87 *f = &c->fpu;
    store_le(img + 0, 2, f->fcw);
    store_le(img + 2, 2, f->fsw);
    img[4] = x87_abridged_tags(c);
    img[5] = 0;
    store_le(img + 6, 2, f->fop & 0x7ff);
    put_fpu_ptr(img + 8, f->fip, f->fcs, wide);
    put_fpu_ptr(img + 16, f->fdp, f->fds, wide);
    unsigned top = x87_top(c);
    for (unsigned k = 0; k < 8; k++) {
        memset(img + 32 + 16 * k, 0, 16);
        memcpy(img + 32 + 16 * k, f->st[(top + k) & 7], 10);
    }
}

static void legacy_x87_load(struct cpu *c, const uint8_t *img, bool wide)
{
    struct x87 *f = &c->fpu;
    x87_set_fcw(c, (uint16_t)load_le(img, 2));
    f->fsw = (uint16_t)load_le(img + 2, 2);
    f->fop = (uint16_t)(load_le(img + 6, 2) & 0x7ff);
    get_fpu_ptr(img + 8, &f->fip, &f->fcs, wide);
    get_fpu_ptr(img + 16, &f->fdp, &f->fds, wide);
    unsigned top = x87_top(c);
    for (unsigned k = 0; k < 8; k++)
        memcpy(f->st[(top + k) & 7], img + 32 + 16 * k, 10);
    x87_set_abridged_tags(c, img[4]);
    x87_update_es(c);
}

/* XMM registers in the image: 16 in 64-bit mode, else 8. */
static unsigned xmm_count(const struct cpu *c)
{
    return c->mode == MODE_LONG && c->code_size == 8 ? 16 : 8;
}

static void legacy_sse_save(const struct cpu *c, uint8_t *img)
{
    for (unsigned k = 0; k < xmm_count(c); k++)
        memcpy(img + 160 + 16 * k, c->xmm[k].b, 16);
}

static void legacy_sse_load(struct cpu *c, const uint8_t *img)
{
    for (unsigned k = 0; k < xmm_count(c); k++)
        memcpy(c->xmm[k].b, img + 160 + 16 * k, 16);
}

static void mxcsr_save(const struct cpu *c, uint8_t *img)
{
    store_le(img + 24, 4, c->mxcsr);
    store_le(img + 28, 4, MXCSR_MASK_SUPPORTED);
}

/* MXCSR from an image or LDMXCSR: reserved bits are #GP(0). */
static void mxcsr_load(struct cpu *c, uint32_t v)
{
    if (v & ~MXCSR_MASK_SUPPORTED)
        cpu_raise(c, EX_GP, 0);
    c->mxcsr = v;
}

/* Bytes [from, to) of the image at the memory operand; reads and writes
 * go in 8-byte pieces. */
static void image_read(struct cpu *c, const struct insn *i, uint64_t ea, uint8_t *img,
                       unsigned from, unsigned to)
{
    simd_load(c, i, (ea + from) & size_mask(i->adsize), img + from, to - from);
}

static void image_write(struct cpu *c, const struct insn *i, uint64_t ea, const uint8_t *img,
                        unsigned from, unsigned to)
{
    simd_store(c, i, (ea + from) & size_mask(i->adsize), img + from, to - from);
}

/* FXSAVE/FXRSTOR and XSAVE*: #NM with TS or EM (SDM FXSAVE "Protected
 * Mode Exceptions"); the area must be aligned. */
static uint64_t state_area(struct cpu *c, const struct insn *i, unsigned align)
{
    if (c->mmu.cr0 & (CR0_TS | CR0_EM))
        cpu_raise_noerr(c, EX_NM);
    return simd_ea(c, i, align);
}

static void fxsave(struct cpu *c, const struct insn *i)
{
    uint64_t ea = state_area(c, i, 16);
    uint8_t img[512];
    bool wide = i->opsize == 8;
    mem_probe_write(c, i->seg, ea, 416);
    legacy_x87_save(c, img, wide);
    mxcsr_save(c, img);
    legacy_sse_save(c, img);
    image_write(c, i, ea, img, 0, 160 + 16 * xmm_count(c));
}

static void fxrstor(struct cpu *c, const struct insn *i)
{
    uint64_t ea = state_area(c, i, 16);
    uint8_t img[512];
    image_read(c, i, ea, img, 0, 160 + 16 * xmm_count(c));
    mxcsr_load(c, (uint32_t)load_le(img + 24, 4));
    legacy_x87_load(c, img, i->opsize == 8);
    legacy_sse_load(c, img);
}

/* ---- XSAVE family (SDM Vol. 1 13.7-13.11) ---- */

static uint64_t xsave_rfbm(const struct cpu *c)
{
    return c->xcr0 & (((c->r[R_RDX] & 0xffffffffu) << 32) | (c->r[R_RAX] & 0xffffffffu));
}

static void xsave_check(struct cpu *c)
{
    if (!(c->mmu.cr4 & CR4_OSXSAVE))
        cpu_raise_noerr(c, EX_UD);
}

/* XSAVE / XSAVEOPT (standard form) and XSAVEC (compacted form: for the
 * x87 and SSE components the layout is the same, only the header
 * differs).  XINUSE is reported as all ones, which the SDM allows. */
void sse_xsave(struct cpu *c, const struct insn *i, bool compact)
{
    xsave_check(c);
    if (compact && !cpu_has_feature(c, "xsavec"))
        cpu_raise_noerr(c, EX_UD);
    uint64_t ea = state_area(c, i, 64);
    uint64_t rfbm = xsave_rfbm(c);
    uint8_t img[XSAVE_AREA_SIZE];
    bool wide = i->opsize == 8;
    mem_probe_write(c, i->seg, ea, XSAVE_AREA_SIZE);
    image_read(c, i, ea, img, 512, 528);
    uint64_t bv = load_le(img + 512, 8);
    if (rfbm & 1) { /* x87: bytes 23:0 and 159:32; 31:24 are SSE's MXCSR */
        legacy_x87_save(c, img, wide);
        image_write(c, i, ea, img, 0, 24);
        image_write(c, i, ea, img, 32, 160);
    }
    if (rfbm & 2) {
        mxcsr_save(c, img);
        legacy_sse_save(c, img);
        image_write(c, i, ea, img, 24, 32);
        image_write(c, i, ea, img, 160, 160 + 16 * xmm_count(c));
    }
    if (compact) {
        store_le(img + 512, 8, rfbm & XCR0_SUPPORTED);
        store_le(img + 520, 8, (1ull << 63) | (rfbm & XCR0_SUPPORTED));
        image_write(c, i, ea, img, 512, 528);
    } else {
        store_le(img + 512, 8, (bv & ~rfbm) | (rfbm & XCR0_SUPPORTED));
        image_write(c, i, ea, img, 512, 520);
    }
}

/* x87 initial state (SDM 13.6): FNINIT's control state, registers 0 */
static void x87_init_state(struct cpu *c)
{
    x87_finit(c);
    c->fpu.fip = c->fpu.fdp = 0;
    c->fpu.fcs = c->fpu.fds = 0;
    memset(c->fpu.st, 0, sizeof(c->fpu.st));
}

static void xrstor(struct cpu *c, const struct insn *i)
{
    xsave_check(c);
    uint64_t ea = state_area(c, i, 64);
    uint64_t rfbm = xsave_rfbm(c);
    uint8_t img[XSAVE_AREA_SIZE];
    image_read(c, i, ea, img, 0, XSAVE_AREA_SIZE);
    uint64_t bv = load_le(img + 512, 8), comp = load_le(img + 520, 8);
    /* header checks, SDM Vol. 1 13.8.1 (standard form: XSTATE_BV within
     * XCR0, header bytes 23:8 zero) and 13.8.2 (compacted form, which
     * needs XSAVEC support: XCOMP_BV[62:0] within XCR0, XSTATE_BV within
     * XCOMP_BV, header bytes 63:16 zero) */
    bool compacted = comp >> 63;
    if (compacted && (!cpu_has_feature(c, "xsavec") || (comp & ~(1ull << 63) & ~c->xcr0) ||
                      (bv & ~comp)))
        cpu_raise(c, EX_GP, 0);
    if (!compacted && comp)
        cpu_raise(c, EX_GP, 0);
    if (bv & ~c->xcr0)
        cpu_raise(c, EX_GP, 0);
    for (unsigned k = 528; k < (compacted ? 576u : 536u); k++)
        if (img[k])
            cpu_raise(c, EX_GP, 0);
    bool mx = (rfbm & 2) && (!compacted || (bv & 2));
    if (mx && (load_le(img + 24, 4) & ~MXCSR_MASK_SUPPORTED))
        cpu_raise(c, EX_GP, 0);
    if (rfbm & 1) {
        if (bv & 1)
            legacy_x87_load(c, img, i->opsize == 8);
        else
            x87_init_state(c);
    }
    if (rfbm & 2) {
        if (bv & 2)
            legacy_sse_load(c, img);
        else
            memset(c->xmm, 0, sizeof(c->xmm[0]) * xmm_count(c));
        if (mx)
            c->mxcsr = (uint32_t)load_le(img + 24, 4);
        else
            c->mxcsr = 0x1f80;
    }
}

/* Called from op_grp15 (cpu/ops_system.c) for the memory forms
 * 0F AE /0-/6. */
void sse_grp15_mem(struct cpu *c, const struct insn *i)
{
    unsigned r = i->reg & 7;
    if (i->rep || (i->p66 && r != 6))
        cpu_raise_noerr(c, EX_UD);
    switch (r) {
    case 0: fxsave(c, i); return;
    case 1: fxrstor(c, i); return;
    case 2: /* LDMXCSR */
        sse_check(c);
        mxcsr_load(c, (uint32_t)mem_read(c, i->seg, insn_ea(c, i), 4));
        return;
    case 3: /* STMXCSR */
        sse_check(c);
        mem_write(c, i->seg, insn_ea(c, i), 4, c->mxcsr);
        return;
    case 4: sse_xsave(c, i, false); return;
    case 5: xrstor(c, i); return;
    case 6: /* XSAVEOPT (66 /6 is CLWB, in the caller) */
        if (i->p66 || !cpu_has_feature(c, "xsaveopt"))
            cpu_raise_noerr(c, EX_UD);
        sse_xsave(c, i, false); /* without the modified optimization, as the SDM allows */
        return;
    default: cpu_raise_noerr(c, EX_UD);
    }
}

/* XSETBV: which XCR0 values are valid (SDM XSETBV: bit 0 set, no
 * unsupported bits). */
bool sse_xcr0_valid(uint64_t v)
{
    return (v & 1) && !(v & ~XCR0_SUPPORTED);
}
