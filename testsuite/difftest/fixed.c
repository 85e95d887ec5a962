/* testsuite/difftest/fixed.c — the fixed cases: hand-written units that
 * every run compares first, whatever the seed, so `make check` covers
 * them on every host.  Each also states the values Intel gives, which
 * the host's result and nest86's must both show: on an Intel host that
 * checks the statement against the real thing, on another host it
 * checks the model of testsuite/vendor_diffs.h (the test suite's one
 * Intel/AMD table), and on both it pins nest86.
 *
 * Registers that a case must leave alone start with a distinct pattern
 * in both halves, so a register written by mistake shows. */
#include "testsuite/difftest/difftest.h"

#define REG(r, v) {DT_EXP_REG, r, v}
#define MEM(a, v) {DT_EXP_MEM32, a, v}
#define FLAGS(v) {DT_EXP_FLAGS, 0, v}

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI };

/* CF PF ZF set, so a string compare that runs no iteration can be seen
 * to leave them */
#define INIT_FLAGS (DT_CF | DT_PF | DT_ZF)
static const struct dt_state init = {
    .r = {0xa0a0a0a011111111ull, 0xc1c1c1c122222222ull, 0xd2d2d2d233333333ull,
          0xb3b3b3b344444444ull, DT_DATA_ADDR + 0x6000, 0xb5b5b5b555555555ull,
          0x5656565666666666ull, 0xd7d7d7d777777777ull, 0x8888888888888888ull,
          0x9999999999999999ull, 0x1010101010101010ull, 0x1111111111111111ull,
          0x1212121212121212ull, 0x1313131313131313ull, 0x1414141414141414ull,
          0x1515151515151515ull},
    .rflags = 0x202 | INIT_FLAGS,
};
static const struct dt_state init_df = {
    .r = {0xa0a0a0a011111111ull, 0xc1c1c1c122222222ull, 0xd2d2d2d233333333ull,
          0xb3b3b3b344444444ull, DT_DATA_ADDR + 0x6000, 0xb5b5b5b555555555ull,
          0x5656565666666666ull, 0xd7d7d7d777777777ull, 0x8888888888888888ull,
          0x9999999999999999ull, 0x1010101010101010ull, 0x1111111111111111ull,
          0x1212121212121212ull, 0x1313131313131313ull, 0x1414141414141414ull,
          0x1515151515151515ull},
    .rflags = 0x202 | DT_DF | INIT_FLAGS,
};

/* ---- REP string instructions with a 32-bit address size (issue 10) ----
 * Intel writes ECX and the index registers the instruction uses even
 * when ECX is 0 on entry, which clears their bits 63:32 (vendor_diffs.h,
 * rep-a32-empty).  The first two are the issue's own examples. */
static const struct dt_string_args
    s_scasb = {.op = 4, .rep = 1, .size = 1, .a32 = true, .rcx = 0x9966a07c00000000ull,
               .rdi = 0xe9a85f8e2000615aull},
    s_movsd = {.op = 0, .rep = 1, .size = 4, .a32 = true, .rcx = 0x5c1bfa3f00000000ull,
               .rsi = 0x6ae85a8920002b27ull, .rdi = 0x22d26b1c20002473ull},
    s_stosb = {.op = 1, .rep = 1, .size = 1, .a32 = true, .rcx = 0xab8e95a000000000ull,
               .rdi = 0x014e011c20004a80ull},
    s_lodsw = {.op = 2, .rep = 1, .size = 2, .a32 = true, .rcx = 0xf05d23cc00000000ull,
               .rsi = 0x1c57abc920006ad3ull},
    s_cmpsq = {.op = 3, .rep = 2, .size = 8, .a32 = true, .rcx = 0xde96fd6a00000000ull,
               .rsi = 0xc4147a9e20001340ull, .rdi = 0xc6b8754120001341ull},
    s_scasw = {.op = 4, .rep = 2, .size = 2, .a32 = true, .rcx = 0x0000000100000000ull,
               .rdi = 0xffffffff20003000ull},
    s_lodsb_df = {.op = 2, .rep = 1, .size = 1, .a32 = true, .rcx = 0x8000000000000000ull,
                  .rsi = 0xfeedface20003000ull},
    s_cmpsb_gs = {.op = 3, .rep = 1, .size = 1, .a32 = true, .gs = true,
                  .rcx = 0x4242424200000000ull, .rsi = 0x5555555500000100ull,
                  .rdi = 0x6666666620000100ull},
    /* the vendors agree on these: a count that runs, no 67, no REP */
    s_movsb3 = {.op = 0, .rep = 1, .size = 1, .a32 = true, .rcx = 0x7777777700000003ull,
                .rsi = 0x1234567820001000ull, .rdi = 0x9abcdef020002000ull},
    s_stosq64 = {.op = 1, .rep = 1, .size = 8, .rcx = 0, .rdi = 0x5a5a5a5a5a5a5a5aull},
    s_movsb1 = {.op = 0, .rep = 0, .size = 1, .a32 = true, .rsi = 0x1111111120001000ull,
                .rdi = 0x2222222220002000ull};

/* ---- DPPS/DPPD NaN results (issue 10) ----
 * vendor_diffs.h, dpps-lane-order and dppd-lane-order: T[k] is lane k's
 * product (+0.0 where imm8[7:4] leaves the lane out); DPPS destination
 * lane k is (T[k^1] + T[k]) + (T[k^3] + T[k^2]), i.e.
 *     lane 0 (T1+T0)+(T3+T2)   lane 1 (T0+T1)+(T2+T3)
 *     lane 2 (T3+T2)+(T1+T0)   lane 3 (T2+T3)+(T0+T1),
 * DPPD lane 0 T0 + T1 and lane 1 T1 + T0; an addition of two NaNs
 * returns the first one's, a multiplication with one NaN returns it,
 * an SNaN is quieted (bit 22 / bit 51 set) with IE, and inf * 0 or
 * inf + -inf is the default NaN ffc00000 (fff8000000000000) with IE
 * (SDM Vol. 1 4.8.3.5, Table 4-7).  The values below are worked out by
 * that rule; "n1" is the QNaN 7fc00001 and so on.
 *
 * Block at 0x20002000: inputs at +0 (xmm6), +16 (xmm7), +64 (MXCSR),
 * +80 (memory operand); the result at +48, MXCSR after at +68. */
#define BLK (DT_DATA_ADDR + 0x2000)
#define VEC(...) {.base = RBX, .blk = BLK, .d = 6, .s = 7, __VA_ARGS__}
#define RESULT(a, b, c, d, mx)                                                                 \
    MEM(BLK + 48, a), MEM(BLK + 52, b), MEM(BLK + 56, c), MEM(BLK + 60, d), MEM(BLK + 68, mx)

/* The unit test simd_sse's DPPS imm 0xE4 round 0, which gave ffc00000
 * on an Intel host (issue 10).  imm8 e4: products of lanes 1-3, result
 * to lane 2; MXCSR 1fc0 (DAZ).  T0 = +0 (left out); T1 = QNaN 7fefffff
 * * 0 = 7fefffff; T2 = 0 * -inf = ffc00000, IE; T3 = 1.75 * 2^-126 =
 * 00e00000 (exact).  Lane 2 = (T3 + T2) + (T1 + T0) = ffc00000 +
 * 7fefffff = ffc00000.  (AMD: (T0 + T1) + (T2 + T3) = 7fefffff.) */
static const uint32_t p_e4[24] = {0xffffffca, 0x7fefffff, 0, 0x3fe00000,
                                  1,          0,          0xff800000, 0x00800000,
                                  [16] = 0x1fc0};
/* difftest --seed 1 --only 11059 on an Intel host (issue 10): dpps
 * xmm6, xmm7, 0x76 (products of lanes 0-2, result to lanes 1 and 2).
 * T0 = 1.5e23 * -3.0e35 and T1 = -9.9e12 * -5.8e33 overflow to -inf and
 * +inf (OE PE); T2 = x * QNaN ffffffff = ffffffff; T3 = +0.  Lane 1 =
 * (T0 + T1) + (T2 + T3) = ffc00000 (IE) + ffffffff = ffc00000; lane 2 =
 * (T3 + T2) + (T1 + T0) = ffffffff + ffc00000 = ffffffff.  Intel gave
 * these; one sum in every lane cannot. */
static const uint32_t p_k11059[24] = {0x65f9a857, 0xd510b991, 0x7ddb13e0, 0xdbcf854c,
                                      0xfa66d3f3, 0xf78f3041, 0xffffffff, 0xffffffff,
                                      [16] = 0x1f80};
/* three NaN products, imm8 76 as above: T = {n1, n2, n3, +0}.  Lane 1 =
 * (n1 + n2) + (n3 + 0) = n1 + n3 = n1; lane 2 = (0 + n3) + (n2 + n1) =
 * n3 + n2 = n3. */
static const uint32_t p_76[24] = {0x7fc00001, 0x7fc00002, 0x7fc00003, 0x7fc00004,
                                  0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                  [16] = 0x1f80};
/* every lane, imm8 ff: T0 = SNaN 7fa00000 * 1 = 7fe00000 (quieted, IE),
 * T1 = n5, T2 = T3 = 1.  Lane 0 = (n5 + 7fe00000) + 2 = n5; lane 1 =
 * (7fe00000 + n5) + 2 = 7fe00000; lane 2 = 2 + (n5 + 7fe00000) = n5;
 * lane 3 = 2 + (7fe00000 + n5) = 7fe00000. */
static const uint32_t p_snan[24] = {0x7fa00000, 0x7fc00005, 0x3f800000, 0x3f800000,
                                    0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                    [16] = 0x1f80};
/* a NaN in a lane imm8[7:4] leaves out does not reach the sum: imm8 e1,
 * T = {+0, 2, 3, 2}, lane 0 = (2 + 0) + (2 + 3) = 7 = 40e00000 */
static const uint32_t p_masked[24] = {0x7fc00001, 0x40000000, 0x40400000, 0x3f800000,
                                      0x3f800000, 0x3f800000, 0x3f800000, 0x40000000,
                                      [16] = 0x1f80};
/* rounding down (MXCSR 3f80), imm8 3f: T = {1, -1, +0, +0}; 1 + -1 and
 * -1 + 1 are -0, +0 + +0 is +0, and -0 + +0 or +0 + -0 is -0: -0 in
 * every lane */
static const uint32_t p_rd[24] = {0x3f800000, 0xbf800000, 0, 0, 0x3f800000, 0x3f800000, 0, 0,
                                  [16] = 0x3f80};
/* the source in memory, imm8 f1: T = {n1, n2, n3, n4} (1 * NaN is the
 * NaN); lane 0 = (n2 + n1) + (n4 + n3) = n2 + n4 = n2 */
static const uint32_t p_mem[24] = {0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000,
                                   [16] = 0x1f80,
                                   [20] = 0x7fc00001, 0x7fc00002, 0x7fc00003, 0x7fc00004};
/* DPPD, imm8 33: T0 = QNaN 7ff8000000000001 (n1) * 1, T1 = n2 * 1; lane
 * 0 = n1 + n2 = n1, lane 1 = n2 + n1 = n2.  (AMD: n1 in both.) */
static const uint32_t p_pd_nans[24] = {1, 0x7ff80000, 2, 0x7ff80000,
                                       0, 0x3ff00000, 0, 0x3ff00000,
                                       [16] = 0x1f80};
/* DPPD: T0 = inf * 0 = fff8000000000000 (IE), T1 = n5 * 1 = n5.  imm8
 * 31: lane 0 = T0 + T1 = fff8000000000000; imm8 32: lane 1 = T1 + T0 =
 * n5 (AMD: fff8000000000000). */
static const uint32_t p_pd_inv[24] = {0, 0x7ff00000, 5, 0x7ff80000,
                                      0, 0,          0, 0x3ff00000,
                                      [16] = 0x1f80};
/* DPPD: the NaN lane left out, imm8 22: T = {+0, 6}, 6 to lane 1 only */
static const uint32_t p_pd_masked[24] = {1, 0x7ff80000, 0, 0x40000000,
                                         0, 0x3ff00000, 0, 0x40080000,
                                         [16] = 0x1f80};

static const struct dt_vec_args v_e4 = VEC(.imm = 0xe4, .preset = p_e4),
                                 v_k11059 = VEC(.imm = 0x76, .preset = p_k11059),
                                 v_76 = VEC(.imm = 0x76, .preset = p_76),
                                 v_snan = VEC(.imm = 0xff, .preset = p_snan),
                                 v_masked = VEC(.imm = 0xe1, .preset = p_masked),
                                 v_rd = VEC(.imm = 0x3f, .preset = p_rd),
                                 v_mem = VEC(.imm = 0xf1, .mem = true, .preset = p_mem),
                                 v_pd_nans = VEC(.imm = 0x33, .preset = p_pd_nans),
                                 v_pd_inv = VEC(.imm = 0x31, .preset = p_pd_inv),
                                 v_pd_inv1 = VEC(.imm = 0x32, .preset = p_pd_inv),
                                 v_pd_masked = VEC(.imm = 0x22, .preset = p_pd_masked);

const struct dt_fixed dt_fixed[] = {
    {"repe-scasb-a32-ecx0", "rep scas", NULL, &init, &s_scasb, NULL,
     {REG(RCX, 0), REG(RDI, 0x2000615a), REG(RSI, 0x5656565666666666ull), FLAGS(INIT_FLAGS)}},
    {"rep-movsd-a32-ecx0", "rep movs", NULL, &init, &s_movsd, NULL,
     {REG(RCX, 0), REG(RSI, 0x20002b27), REG(RDI, 0x20002473)}},
    {"rep-stosb-a32-ecx0", "rep stos", NULL, &init, &s_stosb, NULL,
     {REG(RCX, 0), REG(RDI, 0x20004a80), REG(RSI, 0x5656565666666666ull)}},
    {"rep-lodsw-a32-ecx0", "rep lods", NULL, &init, &s_lodsw, NULL,
     {REG(RCX, 0), REG(RSI, 0x20006ad3), REG(RDI, 0xd7d7d7d777777777ull),
      REG(RAX, 0xa0a0a0a011111111ull)}},
    {"repne-cmpsq-a32-ecx0", "repne cmps", NULL, &init, &s_cmpsq, NULL,
     {REG(RCX, 0), REG(RSI, 0x20001340), REG(RDI, 0x20001341), FLAGS(INIT_FLAGS)}},
    {"repne-scasw-a32-ecx0-rcx-above", "repne scas", NULL, &init, &s_scasw, NULL,
     {REG(RCX, 0), REG(RDI, 0x20003000), FLAGS(INIT_FLAGS)}},
    {"rep-lodsb-a32-ecx0-df", "rep lods", NULL, &init_df, &s_lodsb_df, NULL,
     {REG(RCX, 0), REG(RSI, 0x20003000), REG(RDI, 0xd7d7d7d777777777ull)}},
    {"rep-cmpsb-a32-ecx0-gs", "rep cmps", NULL, &init, &s_cmpsb_gs, NULL,
     {REG(RCX, 0), REG(RSI, 0x100), REG(RDI, 0x20000100), FLAGS(INIT_FLAGS)}},
    {"rep-movsb-a32-ecx3", "rep movs", NULL, &init, &s_movsb3, NULL,
     {REG(RCX, 0), REG(RSI, 0x20001003), REG(RDI, 0x20002003)}},
    {"rep-stosq-a64-rcx0", "rep stos", NULL, &init, &s_stosq64, NULL,
     {REG(RCX, 0), REG(RDI, 0x5a5a5a5a5a5a5a5aull), REG(RSI, 0x5656565666666666ull)}},
    {"movsb-a32-no-rep", "movs", NULL, &init, &s_movsb1, NULL,
     {REG(RSI, 0x20001001), REG(RDI, 0x20002001), REG(RCX, 0xc1c1c1c122222222ull)}},

    {"dpps-e4-nan-and-invalid", "dpps", NULL, &init, NULL, &v_e4,
     {RESULT(0, 0, 0xffc00000, 0, 0x1fc1)}},
    {"dpps-76-issue-k11059", "dpps", NULL, &init, NULL, &v_k11059,
     {RESULT(0, 0xffc00000, 0xffffffff, 0, 0x1fa9)}},
    {"dpps-76-three-nans", "dpps", NULL, &init, NULL, &v_76,
     {RESULT(0, 0x7fc00001, 0x7fc00003, 0, 0x1f80)}},
    {"dpps-ff-snan-and-qnan", "dpps", NULL, &init, NULL, &v_snan,
     {RESULT(0x7fc00005, 0x7fe00000, 0x7fc00005, 0x7fe00000, 0x1f81)}},
    {"dpps-e1-nan-left-out", "dpps", NULL, &init, NULL, &v_masked,
     {RESULT(0x40e00000, 0, 0, 0, 0x1f80)}},
    {"dpps-3f-round-down-zero", "dpps", NULL, &init, NULL, &v_rd,
     {RESULT(0x80000000, 0x80000000, 0x80000000, 0x80000000, 0x3f80)}},
    {"dpps-f1-memory-nans", "dpps", NULL, &init, NULL, &v_mem,
     {RESULT(0x7fc00002, 0, 0, 0, 0x1f80)}},
    {"dppd-33-two-nans", "dppd", NULL, &init, NULL, &v_pd_nans,
     {RESULT(1, 0x7ff80000, 2, 0x7ff80000, 0x1f80)}},
    {"dppd-31-invalid-and-nan", "dppd", NULL, &init, NULL, &v_pd_inv,
     {RESULT(0, 0xfff80000, 0, 0, 0x1f81)}},
    {"dppd-32-nan-and-invalid", "dppd", NULL, &init, NULL, &v_pd_inv1,
     {RESULT(0, 0, 5, 0x7ff80000, 0x1f81)}},
    {"dppd-22-nan-left-out", "dppd", NULL, &init, NULL, &v_pd_masked,
     {RESULT(0, 0, 0, 0x40180000, 0x1f80)}},
    {NULL, NULL, NULL, NULL, NULL, NULL, {{0, 0, 0}}},
};
