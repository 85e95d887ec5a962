/* cpu/simd.h — state checks and operand access shared by the x87, MMX
 * and SSE handlers (cpu/x87*.c, cpu/mmx*.c, cpu/sse*.c).
 *
 * Host requirement: the floating-point handlers compute on the host's
 * own IEEE binary32/binary64 arithmetic and x87 80-bit long double, with
 * the guest's rounding, DAZ/FTZ and precision controls loaded into the
 * host MXCSR / x87 control word around each operation and the host's
 * exception flags read back.  nest86 therefore needs an x86-64 host for
 * its FPU/SSE emulation (static_assert below and in cpu/x87.c).
 */
#ifndef NEST86_CPU_SIMD_H
#define NEST86_CPU_SIMD_H

#include <string.h>

#include "cpu/mem.h"

#if !defined(__x86_64__)
#error "nest86's x87/SSE emulation uses the host MXCSR and 80-bit long double: x86-64 hosts only"
#endif

/* MXCSR, SDM Vol. 1 10.2.3 */
#define MXCSR_IE 0x0001u
#define MXCSR_DE 0x0002u
#define MXCSR_ZE 0x0004u
#define MXCSR_OE 0x0008u
#define MXCSR_UE 0x0010u
#define MXCSR_PE 0x0020u
#define MXCSR_FLAGS 0x003fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_RC 0x6000u
#define MXCSR_FTZ 0x8000u
#define MXCSR_MASK_SUPPORTED 0xffffu /* the MXCSR_MASK FXSAVE reports */

/* x87 status word (SDM Vol. 1 8.1.3) */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u

/* ---- availability checks (SDM Vol. 3A 2.5 CR0.EM/TS, 13.1 CR4.OSFXSR) ---- */

/* SSE/SSE2/... instructions: #UD without OSFXSR or with EM, #NM with TS. */
static inline void sse_check(struct cpu *c)
{
    if ((c->mmu.cr0 & CR0_EM) || !(c->mmu.cr4 & CR4_OSFXSR))
        cpu_raise_noerr(c, EX_UD);
    if (c->mmu.cr0 & CR0_TS)
        cpu_raise_noerr(c, EX_NM);
}

/* A pending unmasked x87 exception (FSW.ES) is taken before the next
 * waiting x87 or MMX instruction: #MF with CR0.NE (SDM Vol. 1 8.6). */
void x87_check_pending(struct cpu *c);

/* MMX instructions (SDM Vol. 1 9.5): #UD with EM, #NM with TS, #MF for a
 * pending x87 exception; then the x87 stack is in MMX form: TOP = 0 and
 * every tag valid. */
static inline void mmx_enter(struct cpu *c)
{
    if (c->mmu.cr0 & CR0_EM)
        cpu_raise_noerr(c, EX_UD);
    if (c->mmu.cr0 & CR0_TS)
        cpu_raise_noerr(c, EX_NM);
    if (c->fpu.fsw & FSW_ES)
        x87_check_pending(c);
    c->fpu.fsw &= (uint16_t)~FSW_TOP;
    c->fpu.ftw = 0;
}

/* MMX register k is the significand of physical x87 register k; a write
 * sets the exponent/sign field to all ones (SDM Vol. 1 9.5.1). */
static inline uint64_t mmx_get(const struct cpu *c, unsigned k)
{
    uint64_t v;
    memcpy(&v, c->fpu.st[k & 7], 8);
    return v;
}

static inline void mmx_set(struct cpu *c, unsigned k, uint64_t v)
{
    memcpy(c->fpu.st[k & 7], &v, 8);
    c->fpu.st[k & 7][8] = 0xff;
    c->fpu.st[k & 7][9] = 0xff;
}

/* ---- memory operands ---- */

/* Effective address of a memory operand of 'size' bytes; with 'align',
 * a misaligned address is #GP(0) (SDM Vol. 1 4.1.1, legacy-SSE 128-bit
 * forms). */
static inline uint64_t simd_ea(struct cpu *c, const struct insn *i, unsigned align)
{
    uint64_t ea = insn_ea(c, i);
    if (align && (ea & (align - 1)))
        cpu_raise(c, EX_GP, 0);
    return ea;
}

/* n bytes (1..16) at seg:ea into out->b[0..n). */
static inline void simd_load(struct cpu *c, const struct insn *i, uint64_t ea, void *out,
                             unsigned n)
{
    uint8_t *p = out;
    uint64_t m = size_mask(i->adsize);
    while (n) {
        unsigned k = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
        store_le(p, k, mem_read(c, i->seg, ea, k));
        p += k;
        ea = (ea + k) & m;
        n -= k;
    }
}

/* n bytes to seg:ea, probed first so a fault writes nothing. */
static inline void simd_store(struct cpu *c, const struct insn *i, uint64_t ea, const void *in,
                              unsigned n)
{
    const uint8_t *p = in;
    uint64_t m = size_mask(i->adsize);
    if (n > 8)
        mem_probe_write(c, i->seg, ea, n);
    while (n) {
        unsigned k = n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1;
        mem_write(c, i->seg, ea, k, load_le(p, k));
        p += k;
        ea = (ea + k) & m;
        n -= k;
    }
}

/* ---- vector operands: MMX (n = 8) or XMM (n = 16) ---- */

/* The ModRM.reg operand: mm (REX.R ignored) or xmm. */
static inline void vec_get_reg(const struct cpu *c, unsigned reg, unsigned n, union xmm *out)
{
    if (n == 8) {
        out->q[0] = mmx_get(c, reg);
        out->q[1] = 0;
    } else {
        *out = c->xmm[reg];
    }
}

static inline void vec_set_reg(struct cpu *c, unsigned reg, unsigned n, const union xmm *v)
{
    if (n == 8)
        mmx_set(c, reg, v->q[0]);
    else
        c->xmm[reg] = *v;
}

/* The ModRM.rm operand read as n bytes: register, or memory (16-byte
 * aligned when 'align' and n == 16). */
static inline void vec_get_rm(struct cpu *c, const struct insn *i, unsigned n, bool align,
                              union xmm *out)
{
    if (i->mod == 3) {
        vec_get_reg(c, i->rm, n, out);
        return;
    }
    memset(out, 0, sizeof(*out));
    simd_load(c, i, simd_ea(c, i, align && n == 16 ? 16 : 0), out, n);
}

/* The SSE4.1/SSE4.2/AES-NI/PCLMULQDQ forms exist only with a 66 prefix:
 * none, or an F2/F3 with it, is #UD (SDM Vol. 2, "66 0F 38/3A" rows). */
static inline void sse_check_66(struct cpu *c, const struct insn *i)
{
    if (!i->p66 || i->rep)
        cpu_raise_noerr(c, EX_UD);
    sse_check(c);
}

/* Scalar or partial source of 'bytes' bytes from an xmm register or memory. */
static inline void xmm_get_rm_part(struct cpu *c, const struct insn *i, unsigned bytes,
                                   union xmm *out)
{
    if (i->mod == 3) {
        *out = c->xmm[i->rm];
        return;
    }
    memset(out, 0, sizeof(*out));
    simd_load(c, i, simd_ea(c, i, 0), out, bytes);
}

/* Element i of a lane array stored little-endian in a vector. */
#define LANE_GET(T, v, k) ({ T lane_; memcpy(&lane_, (v)->b + (k) * sizeof(T), sizeof(T)); lane_; })
#define LANE_SET(T, v, k, x) do { T lane_ = (x); memcpy((v)->b + (k) * sizeof(T), &lane_, sizeof(T)); } while (0)

/* Mandatory-prefix selector of an SSE opcode: F3/F2 win over 66 (SDM
 * Vol. 2A 2.1.2). */
enum { PFX_NONE, PFX_66, PFX_F3, PFX_F2 };
static inline unsigned sse_prefix(const struct insn *i)
{
    return i->rep == REP_F3 ? PFX_F3 : i->rep == REP_F2 ? PFX_F2 : i->p66 ? PFX_66 : PFX_NONE;
}

/* ---- shared vector routines (cpu/sse_int.c) ---- */

/* d op= s over n bytes (8 MMX, 16 XMM); imm is the instruction's imm8. */
typedef void (*vec_fn)(union xmm *d, const union xmm *s, unsigned n, unsigned imm);

enum vec_shift_kind { SH_SRL, SH_SRA, SH_SLL };
void vec_shift(union xmm *d, unsigned n, unsigned size, enum vec_shift_kind kind,
               uint64_t count);
void vec_unpack(union xmm *d, const union xmm *s, unsigned n, unsigned size, bool high);

/* AES-NI and PCLMULQDQ rows of the packed-integer table (cpu/sse_aes.c) */
void vec_aesenc(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_aesenclast(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_aesdec(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_aesdeclast(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_aesimc(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_aeskeygenassist(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_pclmulqdq(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
/* the SHA extensions (cpu/sse_sha.c) */
void vec_sha1rnds4(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_sha1nexte(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_sha1msg1(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_sha1msg2(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_sha256msg1(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void vec_sha256msg2(union xmm *d, const union xmm *s, unsigned n, unsigned imm);
void sha256_rnds2(union xmm *d, const union xmm *s, const union xmm *wk);
/* its definition in C, and whether sha256_rnds2 uses the host's SHA256RNDS2 */
void sha256_rnds2_soft(union xmm *d, const union xmm *s, const union xmm *wk);
bool sha256_rnds2_on_host(void);

/* ---- MXCSR-controlled host arithmetic (cpu/sse_fp.c) ---- */

/* Loads the guest's RC/DAZ/FTZ with every exception masked and the flags
 * clear into the host MXCSR; returns the host's own MXCSR to restore. */
uint32_t sse_fp_begin(const struct cpu *c);
/* Reads the exception flags the host raised, restores the host MXCSR and
 * applies them to the guest: an unmasked exception raises #XM (or #UD
 * without CR4.OSXMMEXCPT) before anything is written (SDM Vol. 1 11.5). */
void sse_fp_end(struct cpu *c, uint32_t host);
/* Same, but only collects flags into *flags (for callers that finish
 * later or combine several steps). */
uint32_t sse_fp_flags(uint32_t host);
void sse_fp_raise(struct cpu *c, uint32_t flags);

/* ---- state save/restore (cpu/sse_state.c) ---- */

/* XSAVE components this CPU supports: x87 (bit 0) and SSE (bit 1); the
 * area is then the legacy region and the header (CPUID leaf 0xD). */
#define SSE_XCR0_SUPPORTED 3ull
#define SSE_XSAVE_AREA_SIZE 576u

void sse_grp15_mem(struct cpu *c, const struct insn *i); /* 0F AE /0-/6 memory forms */
void sse_xsave(struct cpu *c, const struct insn *i, bool compact); /* XSAVE/XSAVEC */
bool sse_xcr0_valid(uint64_t v);

#endif
