/* testsuite/unit/simd_sse42.c — the SSE4.2 string compares PCMPESTRI,
 * PCMPESTRM, PCMPISTRI, PCMPISTRM for every imm8 control byte, run in
 * nest86 and natively on the host from the same states (simd_harness.h)
 * and compared.  The strings are drawn from a four-element alphabet so
 * that equal elements, ranges that hit and needles that occur are
 * common, with zero elements sprinkled in to end implicit strings early;
 * the explicit lengths in rAX/rDX run past both ends of -16..16 and use
 * the upper register halves.  Also: the forms that exist only with a 66
 * prefix are #UD without it, and the AES forms need aligned memory. */
#include "testsuite/unit/simd_harness.h"

/* 16 bytes of elements of 'size' bytes from a small alphabet, a zero
 * element one time in nine. */
static void str_fill(uint8_t *v, unsigned size, const uint16_t alpha[4])
{
    for (unsigned k = 0; k < 16; k += size) {
        uint16_t e = h_rand() % 9 == 0 ? 0 : alpha[h_rand() % 4];
        memcpy(v + k, &e, size);
    }
}

/* A length register: mostly -20..20, sometimes a value whose meaning
 * depends on the operand size (REX.W) or that saturates. */
static uint64_t str_len_reg(void)
{
    static const uint64_t odd[] = {
        0x100000005ull, 0xffffffff00000003ull, 0x80000000ull, 0x8000000000000000ull,
        0x7fffffffull, 0xfffffffffffffff0ull, 0x00000000fffffff7ull, 17,
    };
    if (h_rand() % 6 == 0)
        return odd[h_rand() % 8];
    return (uint64_t)(int64_t)((int)(h_rand() % 41) - 20);
}

static void str_state(struct hstate *s, unsigned imm)
{
    unsigned size = (imm & 1) ? 2 : 1;
    uint16_t alpha[4];
    h_rand_state(s);
    for (unsigned k = 0; k < 4; k++) /* nonzero; signed and unsigned order differ */
        alpha[k] = (uint16_t)(h_rand() % 3 == 0 ? 0x61 + h_rand() % 4 : (h_rand() | 1));
    static const unsigned regs[] = {0, 1, 2, 9, 10};
    for (unsigned k = 0; k < 5; k++)
        str_fill(s->xmm[regs[k]], size, alpha);
    str_fill(s->mem + 3, size, alpha);
    if (h_rand() % 4 == 0) /* the needle is a piece of the string */
        memcpy(s->xmm[1], s->xmm[2] + 2 * size, 16 - 2 * size);
    s->rax = str_len_reg();
    s->rdx = str_len_reg();
    s->rcx = h_rand(); /* the index result is ECX, zero-extended */
}

#define STR_ROUNDS 10

static void pcmpstr_all_imm8(void)
{
    /* reg xmm1, rm xmm2 | [rbx+3] (unaligned) | xmm10 with xmm9 | REX.W */
    static const uint8_t variants[4][3] = {
        {0, 0xca, 0}, {0, 0x4b, 3}, {0x45, 0xca, 0}, {0x48, 0xca, 0},
    };
    char why[200];
    unsigned runs = 0;
    h_reset_cpu();
    for (unsigned op = 0x60; op <= 0x63; op++)
        for (unsigned imm = 0; imm < 256; imm++)
            for (unsigned v = 0; v < 4; v++) {
                uint8_t code[10];
                unsigned n = 0;
                code[n++] = 0x66;
                if (variants[v][0])
                    code[n++] = variants[v][0];
                code[n++] = 0x0f;
                code[n++] = 0x3a;
                code[n++] = (uint8_t)op;
                code[n++] = variants[v][1];
                if (variants[v][1] == 0x4b)
                    code[n++] = variants[v][2];
                code[n++] = (uint8_t)imm;
                for (unsigned r = 0; r < STR_ROUNDS; r++, runs++) {
                    struct hstate g, h;
                    str_state(&h, imm);
                    g = h;
                    h_host(&h, code, n);
                    int vec = h_guest(&g, code, n);
                    UNIT_CHECKF(vec < 0, "op %02x imm %02x variant %u: exception %d", op, imm,
                                v, vec);
                    UNIT_CHECKF(h_same(&g, &h, false, why, sizeof(why)),
                                "op %02x imm %02x variant %u round %u: %s", op, imm, v, r, why);
                }
            }
    printf("# %u PCMPxSTRx runs (4 opcodes x 256 imm8 x 4 encodings x %d states)\n", runs,
           STR_ROUNDS);
}

static int guest_only(const uint8_t *code, unsigned len)
{
    struct hstate s;
    h_rand_state(&s);
    return h_guest(&s, code, len);
}

/* The SSE4.1/4.2/AES-NI forms have a 66 prefix or are #UD. */
static void sse4_prefix_ud(void)
{
    static const uint8_t ptest_np[] = {0x0f, 0x38, 0x17, 0xca};
    static const uint8_t ptest_f3[] = {0xf3, 0x66, 0x0f, 0x38, 0x17, 0xca};
    static const uint8_t pcmpistri_np[] = {0x0f, 0x3a, 0x63, 0xca, 0x0c};
    static const uint8_t aesenc_np[] = {0x0f, 0x38, 0xdc, 0xca};
    static const uint8_t pextrb_np[] = {0x0f, 0x3a, 0x14, 0xca, 0x01};
    static const uint8_t pclmul_f2[] = {0xf2, 0x66, 0x0f, 0x3a, 0x44, 0xca, 0x00};
    static const uint8_t ptest_ok[] = {0x66, 0x0f, 0x38, 0x17, 0xca};
    h_reset_cpu();
    UNIT_CHECK(guest_only(ptest_ok, sizeof(ptest_ok)) == -1);
    UNIT_CHECK(guest_only(ptest_np, sizeof(ptest_np)) == EX_UD);
    UNIT_CHECK(guest_only(ptest_f3, sizeof(ptest_f3)) == EX_UD);
    UNIT_CHECK(guest_only(pcmpistri_np, sizeof(pcmpistri_np)) == EX_UD);
    UNIT_CHECK(guest_only(aesenc_np, sizeof(aesenc_np)) == EX_UD);
    UNIT_CHECK(guest_only(pextrb_np, sizeof(pextrb_np)) == EX_UD);
    UNIT_CHECK(guest_only(pclmul_f2, sizeof(pclmul_f2)) == EX_UD);
    h_cpu.mmu.cr4 &= ~CR4_OSFXSR;
    UNIT_CHECK(guest_only(ptest_ok, sizeof(ptest_ok)) == EX_UD);
}

/* Legacy-SSE 128-bit memory operands are aligned (AES, PCLMULQDQ,
 * PTEST); the string compares are not (SDM Vol. 1 12.10.3). */
static void sse4_alignment(void)
{
    static const uint8_t aesenc_mis[] = {0x66, 0x0f, 0x38, 0xdc, 0x4b, 0x08};
    static const uint8_t pclmul_mis[] = {0x66, 0x0f, 0x3a, 0x44, 0x4b, 0x04, 0x11};
    static const uint8_t ptest_mis[] = {0x66, 0x0f, 0x38, 0x17, 0x4b, 0x01};
    static const uint8_t pcmpestrm_mis[] = {0x66, 0x0f, 0x3a, 0x60, 0x4b, 0x01, 0x00};
    static const uint8_t pextrd_mis[] = {0x66, 0x0f, 0x3a, 0x16, 0x4b, 0x01, 0x02};
    h_reset_cpu();
    UNIT_CHECK(guest_only(aesenc_mis, sizeof(aesenc_mis)) == EX_GP);
    UNIT_CHECK(guest_only(pclmul_mis, sizeof(pclmul_mis)) == EX_GP);
    UNIT_CHECK(guest_only(ptest_mis, sizeof(ptest_mis)) == EX_GP);
    UNIT_CHECK(guest_only(pcmpestrm_mis, sizeof(pcmpestrm_mis)) == -1);
    UNIT_CHECK(guest_only(pextrd_mis, sizeof(pextrd_mis)) == -1);
}

int main(void)
{
    UNIT_RUN(pcmpstr_all_imm8);
    UNIT_RUN(sse4_prefix_ud);
    UNIT_RUN(sse4_alignment);
    return unit_done();
}
