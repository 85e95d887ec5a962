/* cpu/sse_sha.c — the SHA extensions (CPUID.7.0:EBX.SHA[29]): four
 * SHA-1 and three SHA-256 helpers, as rows of the packed-integer table
 * in cpu/sse_int.c (d = f(d, s, imm)); SHA256RNDS2, whose third
 * operand is XMM0, is sha256_rnds2(), called by op_vec_int, which runs
 * the host's own instruction where there is one.
 *
 * Each follows its "Operation" section in SDM Vol. 2B, with the dwords
 * named as there: SRC1[127:96] is d->d[3], SRC1[31:0] is d->d[0].  The
 * functions are FIPS 180-4's: SHA-1's f and K by round group (4.1.1,
 * 4.2.1), SHA-256's Ch, Maj, Σ0, Σ1, σ0, σ1 (4.1.2). */
#include <immintrin.h>

#include "cpu/cpuid.h"
#include "cpu/simd.h"

static uint32_t rol32(uint32_t v, unsigned k)
{
    return (v << k) | (v >> (32 - k));
}

static uint32_t ror32(uint32_t v, unsigned k)
{
    return (v >> k) | (v << (32 - k));
}

/* ---- SHA-1 ---- */

/* f and K for imm8[1:0] (rounds 0-19, 20-39, 40-59, 60-79) */
static uint32_t sha1_f(unsigned sel, uint32_t b, uint32_t c, uint32_t d)
{
    switch (sel & 3) {
    case 0: return (b & c) ^ (~b & d);
    case 2: return (b & c) ^ (b & d) ^ (c & d);
    default: return b ^ c ^ d;
    }
}

static const uint32_t sha1_k[4] = {0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6};

/* SHA1RNDS4: four rounds on (A,B,C,D) = SRC1 dwords 3..0, with
 * W0+E, W1, W2, W3 from SRC2 dwords 3..0; E of rounds 1-3 is the D of
 * the round before. */
void vec_sha1rnds4(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    uint32_t a = d->d[3], b = d->d[2], c = d->d[1], dd = d->d[0], e = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint32_t t = sha1_f(imm, b, c, dd) + rol32(a, 5) + s->d[3 - i] + e + sha1_k[imm & 3];
        e = dd;
        dd = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    d->d[3] = a;
    d->d[2] = b;
    d->d[1] = c;
    d->d[0] = dd;
}

/* SHA1NEXTE: the next four rounds' E (SRC1[127:96] ROL 30) added to
 * SRC2's top dword; SRC2's other dwords pass through. */
void vec_sha1nexte(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    uint32_t e = rol32(d->d[3], 30);
    *d = *s;
    d->d[3] += e;
}

/* SHA1MSG1: W0..W3 = SRC1 dwords 3..0, W4, W5 = SRC2 dwords 3, 2;
 * the XORs of W(t-16) with W(t-14) for the next four W. */
void vec_sha1msg1(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    uint32_t w0 = d->d[3], w1 = d->d[2], w2 = d->d[1], w3 = d->d[0];
    d->d[3] = w2 ^ w0;
    d->d[2] = w3 ^ w1;
    d->d[1] = s->d[3] ^ w2;
    d->d[0] = s->d[2] ^ w3;
}

/* SHA1MSG2: the final XOR with W(t-3) and rotate; W19 uses the W16
 * computed here. */
void vec_sha1msg2(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    uint32_t w16 = rol32(d->d[3] ^ s->d[2], 1);
    uint32_t w17 = rol32(d->d[2] ^ s->d[1], 1);
    uint32_t w18 = rol32(d->d[1] ^ s->d[0], 1);
    uint32_t w19 = rol32(d->d[0] ^ w16, 1);
    d->d[3] = w16;
    d->d[2] = w17;
    d->d[1] = w18;
    d->d[0] = w19;
}

/* ---- SHA-256 ---- */

static uint32_t big_sigma0(uint32_t x) { return ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22); }
static uint32_t big_sigma1(uint32_t x) { return ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25); }
static uint32_t small_sigma0(uint32_t x) { return ror32(x, 7) ^ ror32(x, 18) ^ (x >> 3); }
static uint32_t small_sigma1(uint32_t x) { return ror32(x, 17) ^ ror32(x, 19) ^ (x >> 10); }

/* SHA256RNDS2: two rounds; (C,D,G,H) from SRC1 dwords 3, 2, 1, 0,
 * (A,B,E,F) from SRC2 dwords 3, 2, 1, 0, W+K for the two rounds from
 * XMM0's low dwords (passed as 'wk'); the new (A,B,E,F) to DEST. */
void sha256_rnds2_soft(union xmm *d, const union xmm *s, const union xmm *wk)
{
    uint32_t a = s->d[3], b = s->d[2], c = d->d[3], dd = d->d[2];
    uint32_t e = s->d[1], f = s->d[0], g = d->d[1], h = d->d[0];
    for (unsigned i = 0; i < 2; i++) {
        uint32_t t1 = ((e & f) ^ (~e & g)) + big_sigma1(e) + wk->d[i] + h;
        uint32_t t2 = ((a & b) ^ (a & c) ^ (b & c)) + big_sigma0(a);
        h = g;
        g = f;
        f = e;
        e = t1 + dd;
        dd = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    d->d[3] = a;
    d->d[2] = b;
    d->d[1] = e;
    d->d[0] = f;
}

/* The same on the host's own SHA256RNDS2, whose lanes are union xmm's */
static __attribute__((target("sha,sse2"))) void sha256_rnds2_host(union xmm *d,
                                                                   const union xmm *s,
                                                                   const union xmm *wk)
{
    __m128i r = _mm_sha256rnds2_epu32(_mm_loadu_si128((const __m128i *)d->b),
                                      _mm_loadu_si128((const __m128i *)s->b),
                                      _mm_loadu_si128((const __m128i *)wk->b));
    _mm_storeu_si128((__m128i *)d->b, r);
}

bool sha256_rnds2_on_host(void)
{
    return cpu_host_has_feature(CPU_FEAT_sha_ni);
}

/* The kernel's module signatures run it millions of times (7.5 M in the
 * KVM scenario, at about 65 host instructions each in C): on a host
 * with the SHA extensions, its instruction does the two rounds; the C
 * above is the definition, and unit/simd_sse compares the two. */
void sha256_rnds2(union xmm *d, const union xmm *s, const union xmm *wk)
{
    static int host = -1;
    if (__builtin_expect(host < 0, 0))
        host = sha256_rnds2_on_host();
    if (host)
        sha256_rnds2_host(d, s, wk);
    else
        sha256_rnds2_soft(d, s, wk);
}

/* SHA256MSG1: W0..W3 = SRC1 dwords 0..3, W4 = SRC2 dword 0;
 * W(i) + σ0(W(i+1)) for the next four message dwords. */
void vec_sha256msg1(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    uint32_t w[5] = {d->d[0], d->d[1], d->d[2], d->d[3], s->d[0]};
    for (unsigned k = 0; k < 4; k++)
        d->d[k] = w[k] + small_sigma0(w[k + 1]);
}

/* SHA256MSG2: W14, W15 = SRC2 dwords 2, 3; W16..W19 = SRC1 dwords
 * 0..3 plus σ1 of the W two places back (W18, W19 use W16, W17). */
void vec_sha256msg2(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    uint32_t w16 = d->d[0] + small_sigma1(s->d[2]);
    uint32_t w17 = d->d[1] + small_sigma1(s->d[3]);
    uint32_t w18 = d->d[2] + small_sigma1(w16);
    uint32_t w19 = d->d[3] + small_sigma1(w17);
    d->d[0] = w16;
    d->d[1] = w17;
    d->d[2] = w18;
    d->d[3] = w19;
}
