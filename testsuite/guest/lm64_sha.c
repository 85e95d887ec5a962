/*
 * lm64_sha: the SHA extensions (SDM Vol. 2B SHA1RNDS4, SHA1NEXTE,
 * SHA1MSG1, SHA1MSG2, SHA256RNDS2, SHA256MSG1, SHA256MSG2; CPUID.7.0:
 * EBX.SHA[29]).
 *
 * Whole digests, computed the way SHA-NI code does it (message schedule
 * by MSG1/MSG2, rounds by RNDS4/RNDS2, E by NEXTE), must be FIPS 180's
 * example values: SHA-1 and SHA-256 of "abc" (one block) and of the
 * 448-bit "abcdbcde...nopq" (two blocks).  Each digest is computed twice:
 * with the second operand in a register and in memory.  Then the
 * exceptions: a misaligned m128 is #GP(0) (exception type 4, legacy SSE
 * encoding), and 66/F3-prefixed forms are #UD.
 */
#include "rt.h"

typedef struct {
    uint32_t d[4]; /* d[0] is bits 31:0 */
} __attribute__((aligned(16))) v128;

/* The C code uses no XMM register (-mgeneral-regs-only), so the asm
 * below needs no XMM clobbers. */
static bool mem_form; /* second operand from memory, else from xmm2 */

/* DEST (xmm1) := op(DEST, SRC); XMM0 = x0 for SHA256RNDS2. */
#define SHA_OP(name, insn)                                                   \
    static v128 name(v128 a, v128 b)                                         \
    {                                                                        \
        if (mem_form)                                                        \
            __asm__ volatile("movdqa %0, %%xmm1\n\t" insn " %1, %%xmm1\n\t"  \
                             "movdqa %%xmm1, %0"                             \
                             : "+m"(a) : "m"(b) : "memory");         \
        else                                                                 \
            __asm__ volatile("movdqa %0, %%xmm1\n\tmovdqa %1, %%xmm2\n\t"    \
                             insn " %%xmm2, %%xmm1\n\tmovdqa %%xmm1, %0"     \
                             : "+m"(a) : "m"(b) : "memory"); \
        return a;                                                            \
    }
SHA_OP(sha1nexte, "sha1nexte")
SHA_OP(sha1msg1, "sha1msg1")
SHA_OP(sha1msg2, "sha1msg2")
SHA_OP(sha256msg1, "sha256msg1")
SHA_OP(sha256msg2, "sha256msg2")

static v128 sha1rnds4(v128 a, v128 b, unsigned f)
{
    /* imm8 must be a constant: one asm per round function */
#define RNDS4(imm)                                                           \
    __asm__ volatile("movdqa %0, %%xmm1\n\tmovdqa %1, %%xmm2\n\t"            \
                     "sha1rnds4 $" #imm ", %%xmm2, %%xmm1\n\tmovdqa %%xmm1, %0" \
                     : "+m"(a) : "m"(b) : "memory")
#define RNDS4_MEM(imm)                                                       \
    __asm__ volatile("movdqa %0, %%xmm1\n\t"                                 \
                     "sha1rnds4 $" #imm ", %1, %%xmm1\n\tmovdqa %%xmm1, %0"  \
                     : "+m"(a) : "m"(b) : "memory")
    switch (f | (mem_form ? 4 : 0)) {
    case 0: RNDS4(0); break;
    case 1: RNDS4(1); break;
    case 2: RNDS4(2); break;
    case 3: RNDS4(3); break;
    case 4: RNDS4_MEM(0); break;
    case 5: RNDS4_MEM(1); break;
    case 6: RNDS4_MEM(2); break;
    default: RNDS4_MEM(3); break;
    }
    return a;
}

static v128 sha256rnds2(v128 cdgh, v128 abef, v128 wk)
{
    if (mem_form)
        __asm__ volatile("movdqa %2, %%xmm0\n\tmovdqa %0, %%xmm1\n\t"
                         "sha256rnds2 %%xmm0, %1, %%xmm1\n\tmovdqa %%xmm1, %0"
                         : "+m"(cdgh) : "m"(abef), "m"(wk) : "memory");
    else
        __asm__ volatile("movdqa %2, %%xmm0\n\tmovdqa %0, %%xmm1\n\tmovdqa %1, %%xmm2\n\t"
                         "sha256rnds2 %%xmm0, %%xmm2, %%xmm1\n\tmovdqa %%xmm1, %0"
                         : "+m"(cdgh) : "m"(abef), "m"(wk) : "memory");
    return cdgh;
}

/* The plain dword lane operations the SHA-NI code uses between them
 * (PADDD, PXOR, PALIGNR 4, PSHUFD), written in C. */
static v128 add4(v128 a, v128 b)
{
    for (int k = 0; k < 4; k++)
        a.d[k] += b.d[k];
    return a;
}

static v128 xor4(v128 a, v128 b)
{
    for (int k = 0; k < 4; k++)
        a.d[k] ^= b.d[k];
    return a;
}

/* (hi:lo) >> 32: lo's dwords 1-3, then hi's dword 0 */
static v128 align4(v128 hi, v128 lo)
{
    return (v128){{lo.d[1], lo.d[2], lo.d[3], hi.d[0]}};
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* FIPS 180-4 5.1.1 padding of a message of fewer than 120 bytes into one
 * or two 64-byte blocks; returns the number of blocks. */
static unsigned pad(const char *msg, uint8_t out[128])
{
    unsigned n = 0;
    while (msg[n])
        n++;
    unsigned blocks = n + 9 <= 64 ? 1 : 2;
    for (unsigned k = 0; k < 64 * blocks; k++)
        out[k] = k < n ? (uint8_t)msg[k] : k == n ? 0x80 : 0;
    uint64_t bits = (uint64_t)n * 8;
    for (unsigned k = 0; k < 8; k++)
        out[64 * blocks - 1 - k] = (uint8_t)(bits >> (8 * k));
    return blocks;
}

static const uint32_t k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* SHA-256 with SHA256MSG1/MSG2 for the schedule and SHA256RNDS2 for the
 * rounds; the state is (A,B,E,F) and (C,D,G,H) as the instruction wants. */
static void sha256(const char *msg, uint32_t h[8])
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t buf[128];
    unsigned blocks = pad(msg, buf);
    v128 abef = {{iv[5], iv[4], iv[1], iv[0]}}, cdgh = {{iv[7], iv[6], iv[3], iv[2]}};
    for (unsigned b = 0; b < blocks; b++) {
        v128 m[16], save_abef = abef, save_cdgh = cdgh;
        for (unsigned g = 0; g < 16; g++) {
            if (g < 4) {
                for (unsigned k = 0; k < 4; k++)
                    m[g].d[k] = be32(buf + 64 * b + 16 * g + 4 * k);
            } else {
                v128 x = add4(sha256msg1(m[g - 4], m[g - 3]), align4(m[g - 1], m[g - 2]));
                m[g] = sha256msg2(x, m[g - 1]);
            }
            v128 wk = add4(m[g], (v128){{k256[4 * g], k256[4 * g + 1], k256[4 * g + 2],
                                         k256[4 * g + 3]}});
            v128 t = sha256rnds2(cdgh, abef, wk);
            cdgh = abef;
            abef = t;
            wk = (v128){{wk.d[2], wk.d[3], 0, 0}};
            t = sha256rnds2(cdgh, abef, wk);
            cdgh = abef;
            abef = t;
        }
        abef = add4(abef, save_abef);
        cdgh = add4(cdgh, save_cdgh);
    }
    h[0] = abef.d[3], h[1] = abef.d[2], h[2] = cdgh.d[3], h[3] = cdgh.d[2];
    h[4] = abef.d[1], h[5] = abef.d[0], h[6] = cdgh.d[1], h[7] = cdgh.d[0];
}

/* SHA-1 with SHA1MSG1/MSG2 for the schedule, SHA1RNDS4 for the rounds
 * (function and constant by imm8 = group / 5) and SHA1NEXTE for E. */
static void sha1(const char *msg, uint32_t h[5])
{
    uint8_t buf[128];
    unsigned blocks = pad(msg, buf);
    uint32_t st[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    for (unsigned b = 0; b < blocks; b++) {
        v128 abcd = {{st[3], st[2], st[1], st[0]}}, prev = abcd, m[20];
        for (unsigned g = 0; g < 20; g++) {
            if (g < 4) {
                for (unsigned k = 0; k < 4; k++)
                    m[g].d[3 - k] = be32(buf + 64 * b + 16 * g + 4 * k);
            } else {
                m[g] = sha1msg2(xor4(sha1msg1(m[g - 4], m[g - 3]), m[g - 2]), m[g - 1]);
            }
            v128 e;
            if (g == 0) {
                e = m[0];
                e.d[3] += st[4];
            } else {
                e = sha1nexte(prev, m[g]);
            }
            prev = abcd;
            abcd = sha1rnds4(abcd, e, g / 5);
        }
        v128 e = sha1nexte(prev, (v128){{0, 0, 0, 0}}); /* E after round 79 */
        st[0] += abcd.d[3], st[1] += abcd.d[2], st[2] += abcd.d[1], st[3] += abcd.d[0];
        st[4] += e.d[3];
    }
    for (int k = 0; k < 5; k++)
        h[k] = st[k];
}

static void sse_on(void)
{
    write_cr0((read_cr0() | (1ul << 1)) & ~((1ul << 2) | (1ul << 3))); /* MP, not EM/TS */
    write_cr4(read_cr4() | (1ul << 9));                                /* OSFXSR */
}

static const char abc[] = "abc";
static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void test_cpuid(void)
{
    uint32_t r[4];
    cpuid(7, 0, r);
    ASSERT_EQ(r[1] >> 29 & 1, 1);
}

/* FIPS 180-2 Appendix B.1 and B.2 */
static void check_sha256(void)
{
    static const uint32_t want_abc[8] = {0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223,
                                         0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad};
    static const uint32_t want_two[8] = {0x248d6a61, 0xd20638b8, 0xe5c02693, 0x0c3e6039,
                                         0xa33ce459, 0x64ff2167, 0xf6ecedd4, 0x19db06c1};
    uint32_t h[8];
    sha256(abc, h);
    for (int k = 0; k < 8; k++)
        ASSERT_EQ(h[k], want_abc[k]);
    sha256(two_blocks, h);
    for (int k = 0; k < 8; k++)
        ASSERT_EQ(h[k], want_two[k]);
}

/* FIPS 180-2 Appendix A.1 and A.2 */
static void check_sha1(void)
{
    static const uint32_t want_abc[5] = {0xa9993e36, 0x4706816a, 0xba3e2571, 0x7850c26c,
                                         0x9cd0d89d};
    static const uint32_t want_two[5] = {0x84983e44, 0x1c3bd26e, 0xbaae4aa1, 0xf95129e5,
                                         0xe54670f1};
    uint32_t h[5];
    sha1(abc, h);
    for (int k = 0; k < 5; k++)
        ASSERT_EQ(h[k], want_abc[k]);
    sha1(two_blocks, h);
    for (int k = 0; k < 5; k++)
        ASSERT_EQ(h[k], want_two[k]);
}

static void test_sha256_registers(void)
{
    sse_on();
    mem_form = false;
    check_sha256();
}

static void test_sha256_memory(void)
{
    sse_on();
    mem_form = true;
    check_sha256();
}

static void test_sha1_registers(void)
{
    sse_on();
    mem_form = false;
    check_sha1();
}

static void test_sha1_memory(void)
{
    sse_on();
    mem_form = true;
    check_sha1();
}

static uint8_t odd_buf[48] __attribute__((aligned(16)));

/* A legacy-SSE m128 operand must be 16-byte aligned (exception type 4):
 * #GP(0); the same operand aligned works. */
static void test_misaligned_gp(void)
{
    sse_on();
    int v = catch_asm(RT_CATCH_BEGIN "sha256msg1 (%0), %%xmm1" RT_CATCH_END
                      ::"r"(odd_buf + 4) : "memory");
    ASSERT_EQ(v, VEC_GP);
    ASSERT_EQ(rt_fault.error, 0);
    v = catch_asm(RT_CATCH_BEGIN "sha1rnds4 $1, (%0), %%xmm1" RT_CATCH_END
                  ::"r"(odd_buf + 8) : "memory");
    ASSERT_EQ(v, VEC_GP);
    v = catch_asm(RT_CATCH_BEGIN "sha256rnds2 %%xmm0, (%0), %%xmm1" RT_CATCH_END
                  ::"r"(odd_buf + 16) : "memory");
    ASSERT_EQ(v, -1);
}

/* The SHA opcodes exist without a mandatory prefix only: 66 0F 38 CB
 * and F3 0F 38 CC are #UD. */
static void test_prefixed_ud(void)
{
    sse_on();
    int v = catch_asm(RT_CATCH_BEGIN ".byte 0x66, 0x0f, 0x38, 0xcb, 0xca" RT_CATCH_END
                      ::: "memory");
    ASSERT_EQ(v, VEC_UD);
    v = catch_asm(RT_CATCH_BEGIN ".byte 0xf3, 0x0f, 0x38, 0xcc, 0xca" RT_CATCH_END
                  ::: "memory");
    ASSERT_EQ(v, VEC_UD);
}

void test_main(void)
{
    RUN_TEST(test_cpuid);
    RUN_TEST(test_sha256_registers);
    RUN_TEST(test_sha256_memory);
    RUN_TEST(test_sha1_registers);
    RUN_TEST(test_sha1_memory);
    RUN_TEST(test_misaligned_gp);
    RUN_TEST(test_prefixed_ud);
}
