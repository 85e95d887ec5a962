/* cpu/sse_aes.c — AES-NI round instructions and PCLMULQDQ, as rows of
 * the packed-integer table in cpu/sse_int.c (d = f(d, s, imm)).
 *
 * The AES building blocks follow FIPS-197: the state is 16 bytes in
 * column-major order (byte 4c + r is row r of column c), which is also
 * the byte order of an XMM register (SDM Vol. 2A, "AESENC": State :=
 * SRC1, bytes in little-endian order).  The S-box is built at start-up
 * from its definition (multiplicative inverse in GF(2^8) followed by the
 * affine map, FIPS-197 5.1.1) rather than written out as a table. */
#include "cpu/simd.h"

/* ---- GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 ---- */

static uint8_t gf_mul(uint8_t a, uint8_t b)
{
    uint8_t p = 0;
    while (b) {
        if (b & 1)
            p ^= a;
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1b : 0));
        b >>= 1;
    }
    return p;
}

static uint8_t sbox[256], inv_sbox[256];

static uint8_t rotl8(uint8_t v, unsigned k)
{
    return (uint8_t)((v << k) | (v >> (8 - k)));
}

__attribute__((constructor)) static void aes_build_sbox(void)
{
    for (unsigned x = 0; x < 256; x++) {
        /* inverse: x^254 (0 maps to 0), by square-and-multiply */
        uint8_t inv = 1, base = (uint8_t)x;
        for (unsigned e = 254; e; e >>= 1) {
            if (e & 1)
                inv = gf_mul(inv, base);
            base = gf_mul(base, base);
        }
        uint8_t s = inv ^ rotl8(inv, 1) ^ rotl8(inv, 2) ^ rotl8(inv, 3) ^ rotl8(inv, 4) ^ 0x63;
        sbox[x] = s;
        inv_sbox[s] = (uint8_t)x;
    }
}

/* ---- the round steps ---- */

/* ShiftRows moves row r left by r columns; the inverse moves it right. */
static void shift_rows(union xmm *st, bool inverse)
{
    union xmm r;
    for (unsigned col = 0; col < 4; col++)
        for (unsigned row = 0; row < 4; row++) {
            unsigned from = (col + (inverse ? 4 - row : row)) & 3;
            r.b[row + 4 * col] = st->b[row + 4 * from];
        }
    *st = r;
}

static void sub_bytes(union xmm *st, const uint8_t *table)
{
    for (unsigned k = 0; k < 16; k++)
        st->b[k] = table[st->b[k]];
}

/* Each column times a circulant matrix whose first row is coef:
 * MixColumns {2, 3, 1, 1}, InvMixColumns {14, 11, 13, 9}. */
static void mix_columns(union xmm *st, const uint8_t coef[4])
{
    union xmm r;
    for (unsigned col = 0; col < 4; col++)
        for (unsigned row = 0; row < 4; row++) {
            uint8_t v = 0;
            for (unsigned k = 0; k < 4; k++)
                v ^= gf_mul(coef[k], st->b[4 * col + ((row + k) & 3)]);
            r.b[4 * col + row] = v;
        }
    *st = r;
}

static const uint8_t mix_fwd[4] = {2, 3, 1, 1};
static const uint8_t mix_inv[4] = {14, 11, 13, 9};

/* One round: (Inv)ShiftRows, (Inv)SubBytes, (Inv)MixColumns unless it is
 * the last round, then AddRoundKey with s. */
static void aes_round(union xmm *d, const union xmm *s, bool decrypt, bool last)
{
    shift_rows(d, decrypt);
    sub_bytes(d, decrypt ? inv_sbox : sbox);
    if (!last)
        mix_columns(d, decrypt ? mix_inv : mix_fwd);
    d->q[0] ^= s->q[0];
    d->q[1] ^= s->q[1];
}

#define AES_ROUND(name, decrypt, last)                                          \
    void name(union xmm *d, const union xmm *s, unsigned n, unsigned imm)     \
    {                                                                          \
        (void)n;                                                               \
        (void)imm;                                                             \
        aes_round(d, s, decrypt, last);                                        \
    }
AES_ROUND(vec_aesenc, false, false)
AES_ROUND(vec_aesenclast, false, true)
AES_ROUND(vec_aesdec, true, false)
AES_ROUND(vec_aesdeclast, true, true)

/* AESIMC: InvMixColumns of the source (turns an encryption round key
 * into one for the equivalent inverse cipher). */
void vec_aesimc(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    (void)imm;
    *d = *s;
    mix_columns(d, mix_inv);
}

static uint32_t sub_word(uint32_t w)
{
    uint32_t r = 0;
    for (unsigned k = 0; k < 32; k += 8)
        r |= (uint32_t)sbox[(w >> k) & 0xff] << k;
    return r;
}

/* AESKEYGENASSIST: SubWord of dwords 1 and 3, and RotWord of each
 * (a right rotation by one byte in register order) XOR the imm8 RCON. */
void vec_aeskeygenassist(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    union xmm r;
    for (unsigned h = 0; h < 2; h++) {
        uint32_t w = sub_word(s->d[2 * h + 1]);
        r.d[2 * h] = w;
        r.d[2 * h + 1] = ((w >> 8) | (w << 24)) ^ (imm & 0xff);
    }
    *d = r;
}

/* PCLMULQDQ: carry-less product of the quadword of d picked by imm[0]
 * and the quadword of s picked by imm[4]. */
void vec_pclmulqdq(union xmm *d, const union xmm *s, unsigned n, unsigned imm)
{
    (void)n;
    uint64_t a = d->q[imm & 1], b = s->q[(imm >> 4) & 1], lo = 0, hi = 0;
    for (unsigned k = 0; k < 64; k++)
        if ((b >> k) & 1) {
            lo ^= a << k;
            if (k)
                hi ^= a >> (64 - k);
        }
    d->q[0] = lo;
    d->q[1] = hi;
}
