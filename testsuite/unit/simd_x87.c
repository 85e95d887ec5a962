/* testsuite/unit/simd_x87.c — x87 instructions run in nest86 and
 * natively on the host from the same random operands, every rounding
 * and precision control, compared through what the code stores: the
 * three top stack registers (FSTP m80, also exercising stack underflow),
 * FNSTSW and the FNSTENV control/status/tag words.  See simd_harness.h. */
#include "cpu/x87.h"
#include "testsuite/unit/simd_harness.h"

/* fninit; mov word [rbx+0x78], CW; fldcw [rbx+0x78] */
#define PRE_LEN 11
static void prologue(uint8_t *p, uint16_t cw)
{
    static const uint8_t pre[PRE_LEN] = {0xdb, 0xe3, 0x66, 0xc7, 0x43, 0x78, 0, 0, 0xd9, 0x6b, 0x78};
    memcpy(p, pre, PRE_LEN);
    p[6] = (uint8_t)cw;
    p[7] = (uint8_t)(cw >> 8);
}

/* fnstsw [rbx+0x7a]; fnstenv [rbx+0x100]; fstp m80 x3 at 0x40/0x50/0x60 */
static const uint8_t post[] = {0xdd, 0x7b, 0x7a, 0xd9, 0xb3, 0x00, 0x01, 0x00, 0x00, 0xdb, 0x7b,
                               0x40, 0xdb, 0x7b, 0x50, 0xdb, 0x7b, 0x60};

/* operand loads: two doubles, two extendeds, a single and a double */
static const uint8_t loads[][6] = {
    {0xdd, 0x43, 0x08, 0xdd, 0x03, 0x90},
    {0xdb, 0x6b, 0x10, 0xdb, 0x2b, 0x90},
    {0xd9, 0x43, 0x20, 0xdd, 0x43, 0x28},
    {0xd9, 0xe8, 0x90, 0xdd, 0x03, 0x90}, /* fld1, fld qword [rbx] */
};

static const struct h_form ops[] = {
    {"fadd st,st1", 2, {0xd8, 0xc1}}, {"fmul st,st1", 2, {0xd8, 0xc9}},
    {"fsub st,st1", 2, {0xd8, 0xe1}}, {"fsubr st,st1", 2, {0xd8, 0xe9}},
    {"fdiv st,st1", 2, {0xd8, 0xf1}}, {"fdivr st,st1", 2, {0xd8, 0xf9}},
    {"fadd st1,st", 2, {0xdc, 0xc1}}, {"fsub st1,st", 2, {0xdc, 0xe9}},
    {"fsubr st1,st", 2, {0xdc, 0xe1}}, {"fdiv st1,st", 2, {0xdc, 0xf9}},
    {"fdivr st1,st", 2, {0xdc, 0xf1}}, {"fmul st1,st", 2, {0xdc, 0xc9}},
    {"faddp", 2, {0xde, 0xc1}}, {"fmulp", 2, {0xde, 0xc9}}, {"fsubp", 2, {0xde, 0xe9}},
    {"fsubrp", 2, {0xde, 0xe1}}, {"fdivp", 2, {0xde, 0xf9}}, {"fdivrp", 2, {0xde, 0xf1}},
    {"fadd m64", 3, {0xdc, 0x43, 0x30}}, {"fsub m32", 3, {0xd8, 0x63, 0x34}},
    {"fdivr m32", 3, {0xd8, 0x7b, 0x34}}, {"fmul m64", 3, {0xdc, 0x4b, 0x38}},
    {"fiadd m32", 3, {0xda, 0x43, 0x34}}, {"fidiv m32", 3, {0xda, 0x73, 0x34}},
    {"fimul m16", 3, {0xde, 0x4b, 0x34}}, {"fisubr m16", 3, {0xde, 0x6b, 0x36}},
    {"fcom st1", 2, {0xd8, 0xd1}}, {"fcomp st1", 2, {0xd8, 0xd9}},
    {"fcompp", 2, {0xde, 0xd9}}, {"fucom st1", 2, {0xdd, 0xe1}},
    {"fucomp st1", 2, {0xdd, 0xe9}}, {"fucompp", 2, {0xda, 0xe9}},
    {"fcom m64", 3, {0xdc, 0x53, 0x30}}, {"fcomp m32", 3, {0xd8, 0x5b, 0x34}},
    {"ficom m16", 3, {0xde, 0x53, 0x36}},
    {"fcomi", 2, {0xdb, 0xf1}}, {"fucomi", 2, {0xdb, 0xe9}}, {"fcomip", 2, {0xdf, 0xf1}},
    {"fucomip", 2, {0xdf, 0xe9}},
    {"ftst", 2, {0xd9, 0xe4}}, {"fxam", 2, {0xd9, 0xe5}}, {"fchs", 2, {0xd9, 0xe0}},
    {"fabs", 2, {0xd9, 0xe1}}, {"fsqrt", 2, {0xd9, 0xfa}}, {"frndint", 2, {0xd9, 0xfc}},
    {"fscale", 2, {0xd9, 0xfd}}, {"fprem", 2, {0xd9, 0xf8}}, {"fprem1", 2, {0xd9, 0xf5}},
    {"fxtract", 2, {0xd9, 0xf4}}, {"f2xm1", 2, {0xd9, 0xf0}}, {"fyl2x", 2, {0xd9, 0xf1}},
    {"fyl2xp1", 2, {0xd9, 0xf9}}, {"fptan", 2, {0xd9, 0xf2}}, {"fpatan", 2, {0xd9, 0xf3}},
    {"fsin", 2, {0xd9, 0xfe}}, {"fcos", 2, {0xd9, 0xff}}, {"fsincos", 2, {0xd9, 0xfb}},
    {"fld1 fldl2t", 4, {0xd9, 0xe8, 0xd9, 0xe9}}, {"fldl2e fldpi", 4, {0xd9, 0xea, 0xd9, 0xeb}},
    {"fldlg2 fldln2 fldz", 6, {0xd9, 0xec, 0xd9, 0xed, 0xd9, 0xee}},
    {"fist m32", 3, {0xdb, 0x53, 0x70}}, {"fistp m64", 3, {0xdf, 0x7b, 0x70}},
    {"fistp m16", 3, {0xdf, 0x5b, 0x70}}, {"fisttp m32", 3, {0xdb, 0x4b, 0x70}},
    {"fisttp m64", 3, {0xdd, 0x4b, 0x70}}, {"fisttp m16", 3, {0xdf, 0x4b, 0x70}},
    {"fst m32", 3, {0xd9, 0x53, 0x70}}, {"fstp m64", 3, {0xdd, 0x5b, 0x70}},
    {"fbstp", 3, {0xdf, 0x73, 0x70}}, {"fild m32", 3, {0xdb, 0x43, 0x34}},
    {"fild m64", 3, {0xdf, 0x6b, 0x30}}, {"fild m16", 3, {0xdf, 0x43, 0x36}},
    {"fxch", 2, {0xd9, 0xc9}}, {"fld st1", 2, {0xd9, 0xc1}}, {"fst st2", 2, {0xdd, 0xd2}},
    {"fstp st1", 2, {0xdd, 0xd9}}, {"ffree st1", 2, {0xdd, 0xc1}},
    {"fincstp", 2, {0xd9, 0xf7}}, {"fdecstp", 2, {0xd9, 0xf6}},
    {"fcmovb", 2, {0xda, 0xc1}}, {"fcmove", 2, {0xda, 0xc9}}, {"fcmovnbe", 2, {0xdb, 0xd1}},
    {"fcmovnu", 2, {0xdb, 0xd9}},
    {"fld st0 x7 (overflow)", 14, {0xd9, 0xc0, 0xd9, 0xc0, 0xd9, 0xc0, 0xd9, 0xc0, 0xd9, 0xc0,
                                   0xd9, 0xc0, 0xd9, 0xc0}},
    {"fnsave/frstor", 12, {0xdd, 0xb3, 0x80, 0x01, 0, 0, 0xdd, 0xa3, 0x80, 0x01, 0, 0}},
    {"fnclex", 2, {0xdb, 0xe2}},
};

static const uint16_t cws[] = {0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x007f, 0x027f, 0x0c7f, 0x047f};

#define ROUNDS 60

/* FNSTENV's instruction/operand pointers differ between host and guest
 * addresses; FNSAVE images hold them too. */
static void clear_pointers(struct hstate *s)
{
    memset(s->mem + 0x100 + 12, 0, 16);
    memset(s->mem + 0x180 + 12, 0, 16);
}

static void x87_forms(void)
{
    char why[200];
    for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
        for (unsigned l = 0; l < sizeof(loads) / sizeof(loads[0]); l++) {
            for (unsigned r = 0; r < ROUNDS; r++) {
                uint8_t code[64];
                unsigned n = PRE_LEN;
                prologue(code, cws[r % 8]);
                memcpy(code + n, loads[l], 6);
                n += 6;
                memcpy(code + n, ops[k].bytes, ops[k].len);
                n += ops[k].len;
                memcpy(code + n, post, sizeof(post));
                n += sizeof(post);
                struct hstate g, h;
                h_rand_state(&h);
                g = h;
                h_host(&h, code, n);
                int v = h_guest(&g, code, n);
                UNIT_CHECKF(v < 0, "%s load %u: guest exception %d", ops[k].name, l, v);
                clear_pointers(&g);
                clear_pointers(&h);
                UNIT_CHECKF(h_same(&g, &h, false, why, sizeof(why)), "%s load %u cw %04x: %s",
                            ops[k].name, l, cws[r % 8], why);
            }
        }
    }
}

/* Unmasked exceptions: ES set, no result, #MF at the next waiting
 * instruction with CR0.NE; FNSTSW/FNINIT do not wait. */
static void x87_unmasked(void)
{
    /* fninit; fldz; fld1; mov word [rbx+0x78], 0x37b (ZE unmasked); fldcw;
     * fdiv st0, st1; fnstsw [rbx+0x7a]; fwait */
    static const uint8_t code[] = {0xdb, 0xe3, 0xd9, 0xee, 0xd9, 0xe8, 0x66, 0xc7, 0x43,
                                   0x78, 0x7b, 0x03, 0xd9, 0x6b, 0x78, 0xd8, 0xf1, 0xdd,
                                   0x7b, 0x7a, 0x9b};
    struct hstate s;
    h_reset_cpu();
    h_rand_state(&s);
    UNIT_CHECK(h_guest(&s, code, sizeof(code)) == EX_MF);
    uint16_t sw = (uint16_t)(s.mem[0x7a] | s.mem[0x7b] << 8);
    UNIT_CHECK((sw & (FSW_ZE | FSW_ES | FSW_B)) == (FSW_ZE | FSW_ES | FSW_B));
    UNIT_CHECK(x87_get(&h_cpu, 0) == 1.0L); /* ST(0) kept */
    h_cpu.mmu.cr0 |= CR0_TS;
    static const uint8_t fld1[] = {0xd9, 0xe8};
    UNIT_CHECK(h_guest(&s, fld1, sizeof(fld1)) == EX_NM);
}

/* FXSAVE of a known state; FXRSTOR of random images against the host. */
static void x87_fxsave_fxrstor(void)
{
    char why[200];
    /* fxrstor [rbx]; fxsave [rbx] */
    static const uint8_t code[] = {0x0f, 0xae, 0x0b, 0x0f, 0xae, 0x03};
    static const uint8_t code64[] = {0x48, 0x0f, 0xae, 0x0b, 0x48, 0x0f, 0xae, 0x03};
    for (unsigned r = 0; r < 2 * ROUNDS; r++) {
        struct hstate g, h;
        h_rand_state(&h);
        /* FXRSTOR needs a valid MXCSR; keep exceptions masked and ES
         * clear so the host's next MMX/x87 instruction does not trap;
         * zero the selectors and reserved byte hosts may not keep */
        h.mem[0] |= 0x3f;
        h.mem[3] &= 0x7f;
        h.mem[2] &= 0x40 | 0x3f;
        h.mem[2] &= (uint8_t)~0x80;
        h.mem[5] = h.mem[6] = h.mem[7] = 0; /* reserved; FOP (hosts may not keep it) */
        memset(h.mem + 8, 0, 16); /* FIP/FDP: hosts may not keep them either */
        uint32_t mx = 0x1f80 | (uint32_t)(h_rand() & 0xe07f);
        memcpy(h.mem + 24, &mx, 4);
        memset(h.mem + 28, 0, 4);
        g = h;
        bool wide = r & 1;
        if (wide) {
            h_host(&h, code64, sizeof(code64));
            UNIT_CHECK(h_guest(&g, code64, sizeof(code64)) == -1);
        } else {
            h_host(&h, code, sizeof(code));
            UNIT_CHECK(h_guest(&g, code, sizeof(code)) == -1);
        }
        memset(h.mem + 28, 0, 4); /* MXCSR_MASK is the host's own (e.g. AMD's bit 17) */
        memset(g.mem + 28, 0, 4);
        UNIT_CHECKF(h_same(&g, &h, true, why, sizeof(why)), "%s round %u: %s",
                    wide ? "fxsave64" : "fxsave", r, why);
    }
}

int main(void)
{
    h_reset_cpu();
    UNIT_RUN(x87_forms);
    UNIT_RUN(x87_unmasked);
    h_reset_cpu();
    UNIT_RUN(x87_fxsave_fxrstor);
    return unit_done();
}
