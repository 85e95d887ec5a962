/*
 * lm64_sse_fast: the 128-bit SSE forms an emulator is tempted to run on
 * a short path — MOVDQA/MOVDQU loads and stores, PSHUFD, PADDD, PSHUFB,
 * PALIGNR, SHA256RNDS2 — give the SDM's results and exceptions every
 * time, not only the first time an instruction is met.  Each check runs
 * the same instruction (one call site) three times in a row.
 *
 *  - values: PSHUFD imm 0x1B reverses the dwords; PADDD adds dwords
 *    with wrap-around; PSHUFB with a reversing control reverses the
 *    bytes; PALIGNR imm 4 is bytes 4..19 of DEST:SRC; MOVDQU from an
 *    address that is not 16-byte aligned reads those 16 bytes.
 *  - exceptions (SDM Vol. 2, the instructions' "SIMD Floating-Point /
 *    Protected Mode Exceptions", exception types 4 and 5 of Vol. 2A
 *    2.4): CR0.TS = 1 is #NM; CR0.EM = 1 or CR4.OSFXSR = 0 is #UD; a
 *    misaligned m128 is #GP(0) for MOVDQA, PSHUFD, PADDD and SHA256RNDS2
 *    (legacy SSE encoding), not for MOVDQU.
 *  - a MOVDQU store over code that then runs: the new bytes execute.
 */
#include "rt.h"

#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR4_OSFXSR (1ul << 9)

typedef struct {
    uint32_t d[4];
} __attribute__((aligned(16))) v128;

static v128 src, dst, out;
static uint8_t buf[64] __attribute__((aligned(16)));

static void sse_on(void)
{
    write_cr0(read_cr0() & ~(CR0_EM | CR0_TS));
    write_cr4(read_cr4() | CR4_OSFXSR);
}

static void set_v(v128 *v, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    v->d[0] = a;
    v->d[1] = b;
    v->d[2] = c;
    v->d[3] = d;
}

static void check_v(const v128 *v, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    ASSERT_EQ(v->d[0], a);
    ASSERT_EQ(v->d[1], b);
    ASSERT_EQ(v->d[2], c);
    ASSERT_EQ(v->d[3], d);
}

/* xmm1 := dst, xmm2 := src; op; out := xmm1.  The C code uses no XMM
 * register (-mgeneral-regs-only), so the asm needs no XMM clobbers. */
#define OP_RR(name, insn)                                                    \
    static __attribute__((noinline)) void name(void)                         \
    {                                                                        \
        __asm__ volatile("movdqa %0, %%xmm1\n\tmovdqa %1, %%xmm2\n\t" insn   \
                         " %%xmm2, %%xmm1\n\tmovdqa %%xmm1, %2"              \
                         ::"m"(dst), "m"(src), "m"(out) : "memory");         \
    }
/* the same with the source in memory at p */
#define OP_RM(name, insn)                                                    \
    static __attribute__((noinline)) void name(const void *p)                \
    {                                                                        \
        __asm__ volatile("movdqa %0, %%xmm1\n\t" insn " (%1), %%xmm1\n\t"    \
                         "movdqa %%xmm1, %2"                                 \
                         ::"m"(dst), "r"(p), "m"(out) : "memory");           \
    }
OP_RR(paddd_rr, "paddd")
OP_RR(pshufb_rr, "pshufb")
OP_RR(palignr4_rr, "palignr $4,")
OP_RR(pshufd_rr, "pshufd $0x1b,")
OP_RM(paddd_rm, "paddd")
OP_RM(pshufd_rm, "pshufd $0x1b,")
OP_RM(movdqa_rm, "movdqa")
OP_RM(movdqu_rm, "movdqu")
OP_RM(sha256rnds2_rm, "sha256rnds2 %%xmm0,")

static __attribute__((noinline)) void movdqu_store(void *p)
{
    __asm__ volatile("movdqa %0, %%xmm3\n\tmovdqu %%xmm3, (%1)" ::"m"(src), "r"(p) : "memory");
}

static __attribute__((noinline)) void movdqa_store(void *p)
{
    __asm__ volatile("movdqa %0, %%xmm3\n\tmovdqa %%xmm3, (%1)" ::"m"(src), "r"(p) : "memory");
}

static void test_values(void)
{
    sse_on();
    for (int k = 0; k < 3; k++) {
        set_v(&dst, 0xFFFFFFFF, 1, 0x80000000, 0x12345678);
        set_v(&src, 1, 0xFFFFFFFF, 0x80000000, 0x11111111);
        paddd_rr();
        check_v(&out, 0, 0, 0, 0x23456789);
        paddd_rm(&src);
        check_v(&out, 0, 0, 0, 0x23456789);

        set_v(&src, 0x03020100, 0x07060504, 0x0B0A0908, 0x0F0E0D0C);
        pshufd_rr();
        check_v(&out, 0x0F0E0D0C, 0x0B0A0908, 0x07060504, 0x03020100);
        pshufd_rm(&src);
        check_v(&out, 0x0F0E0D0C, 0x0B0A0908, 0x07060504, 0x03020100);

        /* control bytes 15..0: byte k of the result is byte 15-k */
        set_v(&dst, 0x03020100, 0x07060504, 0x0B0A0908, 0x0F0E0D0C);
        set_v(&src, 0x0C0D0E0F, 0x08090A0B, 0x04050607, 0x00010203);
        pshufb_rr();
        check_v(&out, 0x0C0D0E0F, 0x08090A0B, 0x04050607, 0x00010203);

        /* DEST:SRC = dst (high) : src (low); bytes 4..19 */
        set_v(&dst, 0xD0D0D0D0, 0xD1D1D1D1, 0xD2D2D2D2, 0xD3D3D3D3);
        set_v(&src, 0x50505050, 0x51515151, 0x52525252, 0x53535353);
        palignr4_rr();
        check_v(&out, 0x51515151, 0x52525252, 0x53535353, 0xD0D0D0D0);

        for (unsigned b = 0; b < sizeof buf; b++)
            buf[b] = (uint8_t)(b * 7 + 1);
        /* buf[b] = 7b + 1 */
        movdqu_rm(buf + 5);
        check_v(&out, 0x39322B24, 0x554E4740, 0x716A635C, 0x8D867F78);
        movdqa_rm(buf + 16);
        check_v(&out, 0x867F7871, 0xA29B948D, 0xBEB7B0A9, 0xDAD3CCC5);

        set_v(&src, 0xA0A1A2A3, 0xB0B1B2B3, 0xC0C1C2C3, 0xD0D1D2D3);
        movdqu_store(buf + 3);
        ASSERT_EQ(buf[3], 0xA3);
        ASSERT_EQ(buf[18], 0xD0);
        ASSERT_EQ(buf[19], 0x86); /* the byte after is left */
        movdqa_store(buf + 32);
        ASSERT_EQ(buf[32], 0xA3);
        ASSERT_EQ(buf[47], 0xD0);
    }
}

/* one instruction each, so that it is the one that faults */
static void one_paddd(void) { __asm__ volatile("paddd %%xmm2, %%xmm1" ::: "memory"); }
static void one_pshufd(void) { __asm__ volatile("pshufd $0x1b, %%xmm2, %%xmm1" ::: "memory"); }
static void one_pshufb(void) { __asm__ volatile("pshufb %%xmm2, %%xmm1" ::: "memory"); }
static void one_palignr(void) { __asm__ volatile("palignr $4, %%xmm2, %%xmm1" ::: "memory"); }
static void one_movdqa(void) { __asm__ volatile("movdqa %%xmm2, %%xmm1" ::: "memory"); }
static void one_rnds2(void) { __asm__ volatile("sha256rnds2 %%xmm0, %%xmm2, %%xmm1" ::: "memory"); }
static void one_movdqu_load(void)
{
    __asm__ volatile("movdqu (%0), %%xmm1" ::"r"(buf + 8) : "memory");
}
static void one_movdqu_store(void)
{
    __asm__ volatile("movdqu %%xmm1, (%0)" ::"r"(buf + 8) : "memory");
}
static void do_movdqa_mis(void) { movdqa_rm(buf + 8); }
static void do_movdqu_mis(void) { movdqu_rm(buf + 8); }
static void do_paddd_mis(void) { paddd_rm(buf + 4); }
static void do_pshufd_mis(void) { pshufd_rm(buf + 4); }
static void do_rnds2_mis(void) { sha256rnds2_rm(buf + 4); }
static void do_movdqa_store_mis(void) { movdqa_store(buf + 8); }
static void do_movdqu_store_mis(void) { movdqu_store(buf + 8); }

/* Every form with vector 'v', three times from the same call site. */
static void expect_all(int v)
{
    for (int k = 0; k < 3; k++) {
        expect_fault(v, one_paddd);
        expect_fault(v, one_pshufd);
        expect_fault(v, one_pshufb);
        expect_fault(v, one_palignr);
        expect_fault(v, one_movdqa);
        expect_fault(v, one_rnds2);
        expect_fault(v, one_movdqu_load);
        expect_fault(v, one_movdqu_store);
    }
}

static void test_state_faults(void)
{
    sse_on();
    expect_all(-1);
    write_cr0(read_cr0() | CR0_TS);
    expect_all(VEC_NM);
    sse_on();
    write_cr0(read_cr0() | CR0_EM);
    expect_all(VEC_UD);
    sse_on();
    write_cr4(read_cr4() & ~CR4_OSFXSR);
    expect_all(VEC_UD);
    sse_on();
    expect_all(-1);
}

static void test_alignment(void)
{
    sse_on();
    for (int k = 0; k < 3; k++) {
        expect_fault(VEC_GP, do_movdqa_mis);
        ASSERT_EQ(rt_fault.error, 0);
        expect_fault(VEC_GP, do_paddd_mis);
        expect_fault(VEC_GP, do_pshufd_mis);
        expect_fault(VEC_GP, do_rnds2_mis);
        expect_fault(VEC_GP, do_movdqa_store_mis);
        expect_fault(-1, do_movdqu_mis);
        expect_fault(-1, do_movdqu_store_mis);
    }
}

/* code_page holds "mov eax, imm32; ret"; a MOVDQU store rewrites its
 * first 16 bytes between calls from one call site. */
static uint8_t code_page[4096] __attribute__((aligned(4096)));

static void test_store_over_code(void)
{
    sse_on();
    for (uint32_t n = 1; n <= 4; n++) {
        /* B8 imm32 C3, padded with INT3 */
        set_v(&src, 0xB8 | (n << 8), (n >> 24) | 0xCCCCC300u, 0xCCCCCCCC, 0xCCCCCCCC);
        movdqu_store(code_page);
        ASSERT_EQ(rt_call_code((uintptr_t)code_page), n);
        ASSERT_EQ(rt_call_code((uintptr_t)code_page), n);
    }
}

void test_main(void)
{
    RUN_TEST(test_values);
    RUN_TEST(test_state_faults);
    RUN_TEST(test_alignment);
    RUN_TEST(test_store_over_code);
}
