/*
 * lm64_bignum: multi-precision arithmetic of the kind Linux's RSA
 * self-tests run at boot (lib/crypto/mpi/generic_mpih-*.c): 64x64->128
 * products, ADD/ADC and SUB/SBB carry chains, loop counters tested by
 * JNE after ADD, array walks through base + index * 8, ALU operations
 * with memory operands, and a loop body longer than one decoded block
 * (64 instructions), so execution falls off a full block into its
 * successor on every iteration (test_long_loop).  The expected values were computed by
 * the same code run natively on the host (build with -DHOST_CHECK).
 */
#ifdef HOST_CHECK
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#else
#include "rt.h"
#endif

#define LIMBS 24

/* Linux's umul_ppmm without a 128-bit type: four 32x32 products */
static inline void umul_ppmm(uint64_t *hi, uint64_t *lo, uint64_t u, uint64_t v)
{
    uint64_t ul = (uint32_t)u, uh = u >> 32, vl = (uint32_t)v, vh = v >> 32;
    uint64_t x0 = ul * vl, x1 = ul * vh, x2 = uh * vl, x3 = uh * vh;
    x1 += x0 >> 32;
    x1 += x2;
    if (x1 < x2)
        x3 += 1ull << 32;
    *hi = x3 + (x1 >> 32);
    *lo = (x1 << 32) + (uint32_t)x0;
}

/* res[] +=/-= s1[] * limb, the carry or borrow out returned: the loop
 * of mpihelp_addmul_1 and mpihelp_submul_1 (one copy each below) */
static inline __attribute__((always_inline)) uint64_t mul_1(uint64_t *res, const uint64_t *s1,
                                                            int n, uint64_t limb, bool sub)
{
    uint64_t cy = 0;
    for (int j = -n; j != 0; j++) {
        uint64_t hi, lo;
        umul_ppmm(&hi, &lo, s1[n + j], limb);
        lo += cy;
        cy = (lo < cy) + hi;
        uint64_t x = res[n + j];
        lo = sub ? x - lo : x + lo;
        cy += sub ? lo > x : lo < x;
        res[n + j] = lo;
    }
    return cy;
}

static __attribute__((noinline)) uint64_t addmul_1(uint64_t *res, const uint64_t *s1, int n,
                                                   uint64_t limb)
{
    return mul_1(res, s1, n, limb, false);
}

static __attribute__((noinline)) uint64_t submul_1(uint64_t *res, const uint64_t *s1, int n,
                                                   uint64_t limb)
{
    return mul_1(res, s1, n, limb, true);
}

/* the same with the host's MUL and ADC (a 128-bit type) */
static __attribute__((noinline)) uint64_t addmul_128(uint64_t *res, const uint64_t *s1, int n,
                                                     uint64_t limb)
{
    unsigned __int128 cy = 0;
    for (int k = 0; k < n; k++) {
        cy += (unsigned __int128)s1[k] * limb + res[k];
        res[k] = (uint64_t)cy;
        cy >>= 64;
    }
    return (uint64_t)cy;
}

/* explicit ADC/SBB chains through memory operands */
static __attribute__((noinline)) uint64_t add_n(uint64_t *res, const uint64_t *s, int n)
{
    uint64_t cf = 0;
    for (int k = 0; k < n; k++) {
        uint64_t v = s[k];
        __asm__("bt $0, %[cf]\n\tadc %[v], %[r]\n\tsetc %b[cf]\n\tmovzbl %b[cf], %k[cf]"
                : [r] "+m"(res[k]), [cf] "+r"(cf)
                : [v] "r"(v)
                : "cc");
    }
    return cf;
}

static __attribute__((noinline)) uint64_t sub_n(uint64_t *res, const uint64_t *s, int n)
{
    uint64_t cf = 0;
    for (int k = 0; k < n; k++) {
        uint64_t v = res[k];
        __asm__("bt $0, %[cf]\n\tsbb (%[s],%q[k],8), %[v]\n\tsetc %b[cf]\n\tmovzbl %b[cf], %k[cf]"
                : [v] "+r"(v), [cf] "+r"(cf)
                : [s] "r"(s), [k] "r"((int64_t)k)
                : "cc", "memory");
        res[k] = v;
    }
    return cf;
}

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static uint64_t fold(const uint64_t *v, int n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int k = 0; k < n; k++)
        h = (h ^ v[k]) * 0x100000001b3ull;
    return h;
}

static uint64_t a[LIMBS], b[LIMBS], r1[2 * LIMBS], r2[2 * LIMBS];

/* schoolbook products both ways, then subtraction back to zero */
static uint64_t run(unsigned rounds, uint64_t *carry_sum)
{
    uint64_t h = 0, cs = 0;
    for (unsigned round = 0; round < rounds; round++) {
        for (int k = 0; k < LIMBS; k++) {
            a[k] = next_rand();
            b[k] = round & 1 ? ~0ull - (next_rand() & 0xff) : next_rand();
        }
        for (int k = 0; k < 2 * LIMBS; k++)
            r1[k] = r2[k] = 0;
        for (int k = 0; k < LIMBS; k++) {
            r1[k + LIMBS] = addmul_1(r1 + k, a, LIMBS, b[k]);
            r2[k + LIMBS] = addmul_128(r2 + k, a, LIMBS, b[k]);
        }
        h = (h ^ fold(r1, 2 * LIMBS)) * 3 + fold(r2, 2 * LIMBS);
        cs += add_n(r1, r2, 2 * LIMBS);
        cs += sub_n(r1, r2, 2 * LIMBS) << 8;
        for (int k = 0; k < LIMBS; k++)
            cs += submul_1(r2 + k, a, LIMBS, b[k]) ^ (uint64_t)k;
        h = (h ^ fold(r1, 2 * LIMBS)) * 5 + fold(r2, 2 * LIMBS);
    }
    *carry_sum = cs;
    return h;
}

#define ROUNDS 40
#define EXPECT_HASH 0xbbdd70bd5931941ull
#define EXPECT_CARRIES 0x71a8ff19b716be6ull

#ifdef HOST_CHECK
int main(void)
{
    uint64_t cs, h = run(ROUNDS, &cs);
    printf("%#llxull %#llxull\n", (unsigned long long)h, (unsigned long long)cs);
    return 0;
}
#else
static void test_products_and_carries(void)
{
    uint64_t cs, h = run(ROUNDS, &cs);
    ASSERT_EQ(h, EXPECT_HASH);
    ASSERT_EQ(cs, EXPECT_CARRIES);
}

/* 100 ADDs and a counted loop around them: 101 instructions a round,
 * more than one block holds, so every round runs off the end of a full
 * block into the next and back through the loop's branch */
static void test_long_loop(void)
{
    uint64_t sum = 0, rounds = 1000;
    asm volatile("1:\n\t"
                 ".rept 100\n\t"
                 "addq $3, %[s]\n\t"
                 ".endr\n\t"
                 "decq %[n]\n\t"
                 "jnz 1b"
                 : [s] "+r"(sum), [n] "+r"(rounds) : : "cc");
    ASSERT_EQ(sum, 300000);
    ASSERT_EQ(rounds, 0);
}

void test_main(void)
{
    RUN_TEST(test_long_loop);
    RUN_TEST(test_products_and_carries);
}
#endif
