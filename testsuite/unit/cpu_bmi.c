/* testsuite/unit/cpu_bmi.c — BMI1, BMI2 and ADX against the host CPU:
 * each form runs natively and in nest86 from the same random states
 * (testsuite/unit/simd_harness.h) and must give the same registers and
 * flags, except the flags the SDM leaves undefined for that form.
 * Also: the VEX decoding rules these forms rely on (VEX.L = 1 and VEX
 * forms of SSE instructions are #UD), and MONITOR/MWAIT at CPL 0. */
#include "testsuite/unit/simd_harness.h"

/* VEX3 prefix for rax/rcx/rdx operands (no REX.R/X/B extension) */
#define VEX3(map, w, vvvv, pp) 0xc4, (uint8_t)(0xe0 | (map)), \
    (uint8_t)(((w) << 7) | ((~(vvvv) & 0xf) << 3) | (pp))
#define MODRM(reg, rm) (uint8_t)(0xc0 | ((reg) << 3) | (rm))
#define MEM_RBX(reg) (uint8_t)(0x00 | ((reg) << 3) | 3) /* [rbx] */

enum { RAX, RCX, RDX, RBX };
#define UNDEF_AP (FL_AF | FL_PF)

struct bmi_form {
    const char *name;
    uint32_t undef;  /* flags the SDM leaves undefined */
    uint8_t len;
    uint8_t bytes[8];
};

#define F(name, undef, ...) {name, undef, sizeof((uint8_t[]){__VA_ARGS__}), {__VA_ARGS__}}
#define BOTH_W(name, undef, map, vvvv, pp, op, ...)                                   \
    F(name " r32", undef, VEX3(map, 0, vvvv, pp), op, __VA_ARGS__),                   \
    F(name " r64", undef, VEX3(map, 1, vvvv, pp), op, __VA_ARGS__)

static const struct bmi_form forms[] = {
    BOTH_W("andn", UNDEF_AP, 2, RCX, 0, 0xf2, MODRM(RAX, RDX)),
    BOTH_W("andn mem", UNDEF_AP, 2, RCX, 0, 0xf2, MEM_RBX(RAX)),
    BOTH_W("blsr", UNDEF_AP, 2, RAX, 0, 0xf3, MODRM(1, RCX)),
    BOTH_W("blsmsk", UNDEF_AP, 2, RAX, 0, 0xf3, MODRM(2, RCX)),
    BOTH_W("blsi", UNDEF_AP, 2, RAX, 0, 0xf3, MODRM(3, RDX)),
    BOTH_W("bextr", UNDEF_AP | FL_SF, 2, RCX, 0, 0xf7, MODRM(RAX, RDX)),
    BOTH_W("bzhi", UNDEF_AP, 2, RCX, 0, 0xf5, MODRM(RAX, RDX)),
    BOTH_W("pdep", 0, 2, RCX, 3, 0xf5, MODRM(RAX, RDX)),
    BOTH_W("pext", 0, 2, RCX, 2, 0xf5, MODRM(RAX, RDX)),
    BOTH_W("pext mem", 0, 2, RCX, 2, 0xf5, MEM_RBX(RAX)),
    BOTH_W("mulx", 0, 2, RCX, 3, 0xf6, MODRM(RAX, RDX)),
    BOTH_W("mulx same dest", 0, 2, RAX, 3, 0xf6, MODRM(RAX, RCX)),
    BOTH_W("shlx", 0, 2, RCX, 1, 0xf7, MODRM(RAX, RDX)),
    BOTH_W("sarx", 0, 2, RCX, 2, 0xf7, MODRM(RAX, RDX)),
    BOTH_W("shrx", 0, 2, RCX, 3, 0xf7, MODRM(RAX, RDX)),
    BOTH_W("rorx 13", 0, 3, 0, 3, 0xf0, MODRM(RAX, RDX), 13),
    BOTH_W("rorx 0", 0, 3, 0, 3, 0xf0, MODRM(RAX, RDX), 0),
    F("adcx r32", 0, 0x66, 0x0f, 0x38, 0xf6, MODRM(RAX, RDX)),
    F("adcx r64", 0, 0x66, 0x48, 0x0f, 0x38, 0xf6, MODRM(RAX, RDX)),
    F("adox r32", 0, 0xf3, 0x0f, 0x38, 0xf6, MODRM(RCX, RDX)),
    F("adox r64", 0, 0xf3, 0x48, 0x0f, 0x38, 0xf6, MODRM(RCX, RDX)),
    F("adcx mem", 0, 0x66, 0x48, 0x0f, 0x38, 0xf6, MEM_RBX(RAX)),
};

/* Random operands that reach the interesting cases: zero sources,
 * BEXTR/BZHI controls inside and past the operand size, carries. */
static void shape_state(struct hstate *s)
{
    switch (h_rand() % 6) {
    case 0: s->rdx = 0; break;
    case 1: s->rcx = (h_rand() % 80) | ((h_rand() % 80) << 8); break;
    case 2: s->rcx = h_rand() % 70; break;
    case 3: s->rdx = ~0ull; break;
    default: break;
    }
    s->flags = (s->flags & ~(uint64_t)FL_ARITH) | (h_rand() & FL_ARITH);
}

static void bmi_forms(void)
{
    char why[160];
    for (size_t f = 0; f < sizeof(forms) / sizeof(forms[0]); f++) {
        for (unsigned r = 0; r < 300; r++) {
            struct hstate g, h;
            h_rand_state(&h);
            shape_state(&h);
            g = h;
            h_host(&h, forms[f].bytes, forms[f].len);
            int v = h_guest(&g, forms[f].bytes, forms[f].len);
            UNIT_CHECKF(v < 0, "%s: guest took exception %d", forms[f].name, v);
            g.flags = (g.flags & ~(uint64_t)forms[f].undef) | (h.flags & forms[f].undef);
            UNIT_CHECKF(h_same(&g, &h, false, why, sizeof(why)), "%s (round %u): %s",
                        forms[f].name, r, why);
        }
    }
}

static void vex_rules(void)
{
    struct hstate s;
    h_rand_state(&s);
    /* ANDN with VEX.L = 1: #UD (BMI forms are VEX.LZ) */
    static const uint8_t andn_l1[] = {0xc4, 0xe2, 0x74 | 0x04, 0xf2, 0xc2};
    UNIT_CHECK(h_guest(&s, andn_l1, sizeof(andn_l1)) == EX_UD);
    /* a VEX-encoded SSE instruction (VPXOR xmm0, xmm1, xmm2): no AVX, so #UD */
    static const uint8_t vpxor[] = {0xc5, 0xf1, 0xef, 0xc2};
    UNIT_CHECK(h_guest(&s, vpxor, sizeof(vpxor)) == EX_UD);
    /* 66 before VEX: #UD */
    static const uint8_t p66_vex[] = {0x66, 0xc4, 0xe2, 0x70, 0xf2, 0xc2};
    UNIT_CHECK(h_guest(&s, p66_vex, sizeof(p66_vex)) == EX_UD);
    /* ADCX without its 66 prefix is not an instruction */
    static const uint8_t bare_f6[] = {0x0f, 0x38, 0xf6, 0xc2};
    UNIT_CHECK(h_guest(&s, bare_f6, sizeof(bare_f6)) == EX_UD);
}

static void monitor_mwait(void)
{
    struct hstate s;
    h_rand_state(&s);
    s.rax = G_DATA; /* MONITOR's address: readable */
    s.rcx = 0;
    s.rdx = 0;
    /* MONITOR, then MWAIT with IF = 0 and no break-on-masked: returns at once */
    static const uint8_t mon_mwait[] = {0x0f, 0x01, 0xc8, 0x0f, 0x01, 0xc9};
    UNIT_CHECK(h_guest(&s, mon_mwait, sizeof(mon_mwait)) == -1);
    /* MWAIT with an unsupported extension bit in ECX: #GP */
    s.rcx = 2;
    static const uint8_t mwait[] = {0x0f, 0x01, 0xc9};
    UNIT_CHECK(h_guest(&s, mwait, sizeof(mwait)) == EX_GP);
}

int main(void)
{
    h_reset_cpu();
    UNIT_RUN(bmi_forms);
    h_reset_cpu();
    UNIT_RUN(vex_rules);
    h_reset_cpu();
    UNIT_RUN(monitor_mwait);
    return unit_done();
}
