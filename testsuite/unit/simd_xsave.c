/* testsuite/unit/simd_xsave.c — the XSAVE feature set with the x87 and
 * SSE components: CPUID leaf 0xD, CR4.OSXSAVE, XSETBV/XGETBV, XSAVE,
 * XSAVEOPT, XSAVEC and XRSTOR.  the saves and XRSTOR run natively on the host
 * from the same states as in nest86 (simd_harness.h); the rest is
 * checked against the SDM (Vol. 1 chapter 13, Vol. 2 XSAVE/XRSTOR/
 * XSETBV): round trips with XCR0 = 1 and 3, the header fields, the
 * compacted form, #GP for a misaligned area and for reserved header
 * bits, #UD without CR4.OSXSAVE or the CPUID feature. */
#include "testsuite/unit/simd_harness.h"
#include "cpu/cpuid.h"

#define HDR 512 /* offset of the XSAVE header in the area */

static const uint8_t c_xsave[] = {0x0f, 0xae, 0x23};         /* xsave [rbx] */
static const uint8_t c_xsave64[] = {0x48, 0x0f, 0xae, 0x23}; /* xsave64 [rbx] */
static const uint8_t c_xsaveopt[] = {0x0f, 0xae, 0x33};      /* xsaveopt [rbx] */
static const uint8_t c_xsavec[] = {0x0f, 0xc7, 0x23};        /* xsavec [rbx] */
static const uint8_t c_xrstor[] = {0x0f, 0xae, 0x2b};        /* xrstor [rbx] */
static const uint8_t c_xrstor64[] = {0x48, 0x0f, 0xae, 0x2b};

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void set64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

/* A fresh guest CPU with CR4.OSXSAVE and the given XCR0. */
static void xs_cpu(uint64_t xcr0)
{
    h_reset_cpu();
    h_cpu.mmu.cr4 |= CR4_OSXSAVE;
    h_cpu.xcr0 = xcr0;
}

static int xs_run(struct hstate *s, const uint8_t *code, unsigned len)
{
    return h_guest(s, code, len);
}

static void xsave_cpuid(void)
{
    uint32_t r[4];
    h_reset_cpu();
    cpu_cpuid(&h_cpu, 0xd, 0, r);
    UNIT_CHECK(r[0] == 3 && r[1] == 576 && r[2] == 576 && r[3] == 0);
    cpu_cpuid(&h_cpu, 0xd, 1, r);
    UNIT_CHECK(r[0] == 3 && r[1] == 576 && r[2] == 0 && r[3] == 0); /* XSAVEOPT, XSAVEC */
    cpu_cpuid(&h_cpu, 0xd, 2, r);
    UNIT_CHECK(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0);
    cpu_cpuid(&h_cpu, 1, 0, r);
    UNIT_CHECK((r[2] >> 26) & 1);     /* XSAVE */
    UNIT_CHECK(!((r[2] >> 27) & 1));  /* OSXSAVE follows CR4 */
    UNIT_CHECK(((r[2] >> 20) & 1) && ((r[2] >> 25) & 1) && ((r[2] >> 1) & 1)); /* 4.2 AES CLMUL */
    h_cpu.mmu.cr4 |= CR4_OSXSAVE;
    cpu_cpuid(&h_cpu, 1, 0, r);
    UNIT_CHECK((r[2] >> 27) & 1);
    char err[128];
    UNIT_CHECK(cpu_configure(&h_cpu, "nest86,xsavec=off", err, sizeof(err)) == 0);
    cpu_cpuid(&h_cpu, 0xd, 1, r);
    UNIT_CHECK(r[0] == 1);
}

/* MOV CR4 takes OSXSAVE (only with CPUID.XSAVE); XSETBV takes XCR0 = 1
 * or 3 with ECX = 0, XGETBV reads it back. */
static void xsave_xsetbv(void)
{
    static const uint8_t set_osxsave[] = {0x0f, 0x20, 0xe0, 0x0d, 0x00, 0x00, 0x04, 0x00,
                                          0x0f, 0x22, 0xe0}; /* mov rax,cr4; or eax,1<<18; mov cr4,rax */
    static const uint8_t xgetbv[] = {0x0f, 0x01, 0xd0};
    static const uint8_t xsetbv[] = {0x0f, 0x01, 0xd1};
    struct hstate s;
    h_reset_cpu();
    h_rand_state(&s);
    s.rcx = 0;
    UNIT_CHECK(xs_run(&s, xgetbv, sizeof(xgetbv)) == EX_UD);
    UNIT_CHECK(xs_run(&s, xsetbv, sizeof(xsetbv)) == EX_UD);
    UNIT_CHECK(xs_run(&s, set_osxsave, sizeof(set_osxsave)) == -1);
    UNIT_CHECK(h_cpu.mmu.cr4 & CR4_OSXSAVE);
    s.rcx = 0;
    UNIT_CHECK(xs_run(&s, xgetbv, sizeof(xgetbv)) == -1 && s.rax == 1 && s.rdx == 0);
    static const uint64_t bad[] = {0, 2, 7, 5, 0x100000003ull};
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        s.rax = bad[k] & 0xffffffffu;
        s.rdx = bad[k] >> 32;
        s.rcx = 0;
        UNIT_CHECKF(xs_run(&s, xsetbv, sizeof(xsetbv)) == EX_GP, "xcr0 %llx",
                    (unsigned long long)bad[k]);
    }
    s.rax = 3;
    s.rdx = 0;
    s.rcx = 1;
    UNIT_CHECK(xs_run(&s, xsetbv, sizeof(xsetbv)) == EX_GP);
    s.rax = 0xffffffff00000003ull; /* upper halves of RAX/RDX are ignored */
    s.rdx = 0xabcdef0000000000ull;
    s.rcx = 0;
    UNIT_CHECK(xs_run(&s, xsetbv, sizeof(xsetbv)) == -1 && h_cpu.xcr0 == 3);
    s.rcx = 0;
    UNIT_CHECK(xs_run(&s, xgetbv, sizeof(xgetbv)) == -1 && s.rax == 3 && s.rdx == 0);
    s.rcx = 1; /* XINUSE (XGETBV1) is not supported */
    UNIT_CHECK(xs_run(&s, xgetbv, sizeof(xgetbv)) == EX_GP);

    char err[128];
    h_reset_cpu();
    UNIT_CHECK(cpu_configure(&h_cpu, "nest86,xsave=off", err, sizeof(err)) == 0);
    UNIT_CHECK(xs_run(&s, set_osxsave, sizeof(set_osxsave)) == EX_GP);
    UNIT_CHECK(!(h_cpu.mmu.cr4 & CR4_OSXSAVE));
}

/* Bytes of the area the host and nest86 must agree on after an XSAVE*
 * (x87 pointers, FOP and FCW are left out: the host's are its own, and
 * MXCSR_MASK is the host model's). */
static bool xsave_area_same(const struct hstate *g, const struct hstate *h, char *why, size_t n)
{
    for (unsigned k = 2; k < 1024; k++) {
        bool skip = (k >= 5 && k < 24) || (k >= 28 && k < 32);
        if (!skip && g->mem[k] != h->mem[k]) {
            snprintf(why, n, "area byte %u: %02x, host %02x", k, g->mem[k], h->mem[k]);
            return false;
        }
    }
    return true;
}

/* XSAVE, XSAVE64, XSAVEOPT and XSAVEC with every RFBM of the two
 * components, against the host. */
static void xsave_host(void)
{
    static const struct {
        const char *name;
        const uint8_t *code;
        unsigned len;
    } forms[] = {
        {"xsave", c_xsave, sizeof(c_xsave)},
        {"xsave64", c_xsave64, sizeof(c_xsave64)},
        {"xsaveopt", c_xsaveopt, sizeof(c_xsaveopt)},
        {"xsavec", c_xsavec, sizeof(c_xsavec)},
    };
    char why[200];
    xs_cpu(3);
    for (unsigned f = 0; f < 4; f++)
        for (unsigned r = 0; r < 64; r++) {
            struct hstate g, h;
            h_rand_state(&h);
            h.rax = r & 3;
            h.rdx = 0;
            memset(h.mem + HDR, 0, 64);
            h.mem[HDR] = (uint8_t)(h_rand() & 3); /* XSAVE keeps the XSTATE_BV bits outside RFBM */
            g = h;
            h_host(&h, forms[f].code, forms[f].len);
            UNIT_CHECKF(xs_run(&g, forms[f].code, forms[f].len) == -1, "%s: exception",
                        forms[f].name);
            UNIT_CHECKF(xsave_area_same(&g, &h, why, sizeof(why)), "%s rfbm %u: %s",
                        forms[f].name, r & 3, why);
            UNIT_CHECKF(h_same(&g, &h, true, why, sizeof(why)) || strstr(why, "mem["),
                        "%s: %s", forms[f].name, why);
        }
}

/* A valid area for XRSTOR: random registers with every x87 exception
 * masked (so nothing is pending), a legal MXCSR, and a header of either
 * form whose XSTATE_BV is a random subset of x87|SSE. */
static void xrstor_area(struct hstate *s, bool compacted)
{
    h_rand_state(s);
    uint8_t *a = s->mem;
    uint16_t fcw = (uint16_t)(0x7f | (h_rand() & 0xf00));
    uint16_t fsw = (uint16_t)(h_rand() & 0x7f00 & ~FSW_B);
    memcpy(a, &fcw, 2);
    memcpy(a + 2, &fsw, 2);
    a[5] = 0;
    uint32_t mxcsr = (uint32_t)(h_rand() & 0xffff);
    memcpy(a + 24, &mxcsr, 4);
    uint64_t bv = h_rand() & 3;
    set64(a + HDR, bv);
    set64(a + HDR + 8, compacted ? (1ull << 63) | bv | (h_rand() & 3) : 0);
    memset(a + HDR + 16, 0, 48);
    if (!compacted) /* the standard form looks at header bytes 23:8 only */
        set64(a + HDR + 32, h_rand());
    s->rax = h_rand() & 3;
    s->rdx = 0;
}

static void xrstor_host(void)
{
    char why[200];
    xs_cpu(3);
    for (unsigned r = 0; r < 400; r++) {
        struct hstate g, h;
        bool wide = r & 1, compacted = r & 2;
        xrstor_area(&h, compacted);
        g = h;
        const uint8_t *code = wide ? c_xrstor64 : c_xrstor;
        unsigned len = wide ? sizeof(c_xrstor64) : sizeof(c_xrstor);
        h_host(&h, code, len);
        UNIT_CHECKF(xs_run(&g, code, len) == -1, "round %u: exception", r);
        UNIT_CHECKF(h_same(&g, &h, true, why, sizeof(why)), "round %u (%s, rfbm %llu, bv %llx): %s",
                    r, compacted ? "compacted" : "standard", (unsigned long long)g.rax,
                    (unsigned long long)get64(g.mem + HDR), why);
    }
}

/* XSAVE then XRSTOR of other registers brings back what was saved, for
 * exactly the components in XCR0 and EDX:EAX. */
static void xsave_roundtrip(void)
{
    for (unsigned xcr0 = 1; xcr0 <= 3; xcr0 += 2)
        for (unsigned r = 0; r < 32; r++) {
            struct hstate s, saved, other;
            xs_cpu(xcr0);
            h_rand_state(&s);
            memset(s.mem + HDR, 0, 64);
            s.rax = ~0ull;
            s.rdx = ~0ull;
            saved = s;
            UNIT_CHECK(xs_run(&s, c_xsave, sizeof(c_xsave)) == -1);
            UNIT_CHECK(get64(s.mem + HDR) == xcr0 && get64(s.mem + HDR + 8) == 0);
            for (unsigned k = 0; k < 8; k++)
                UNIT_CHECK(get64(s.mem + 32 + 16 * k) == saved.mm[k]);
            if (xcr0 == 1) /* SSE's bytes (MXCSR, XMM) are not written */
                UNIT_CHECK(!memcmp(s.mem + 24, saved.mem + 24, 8) &&
                           !memcmp(s.mem + 160, saved.mem + 160, 256));
            else
                UNIT_CHECK(!memcmp(s.mem + 160, saved.xmm, 256) &&
                           get64(s.mem + 24) == (saved.mxcsr | 0xffffull << 32));
            h_rand_state(&other);
            memcpy(other.mem, s.mem, sizeof(other.mem));
            other.rax = ~0ull;
            other.rdx = ~0ull;
            UNIT_CHECK(xs_run(&other, c_xrstor, sizeof(c_xrstor)) == -1);
            UNIT_CHECK(!memcmp(other.mm, saved.mm, sizeof(saved.mm)));
            if (xcr0 == 3)
                UNIT_CHECK(!memcmp(other.xmm, saved.xmm, sizeof(saved.xmm)) &&
                           other.mxcsr == saved.mxcsr);
            else
                UNIT_CHECK(memcmp(other.xmm, saved.xmm, sizeof(saved.xmm)));
        }
    /* XCR0 = 1: XSAVE keeps XSTATE_BV[1] as it was, and XRSTOR then
     * refuses the area (XSTATE_BV names a component not in XCR0) */
    struct hstate s;
    xs_cpu(1);
    h_rand_state(&s);
    memset(s.mem + HDR, 0, 64);
    s.mem[HDR] = 2;
    s.rax = 3;
    s.rdx = 0;
    UNIT_CHECK(xs_run(&s, c_xsave, sizeof(c_xsave)) == -1 && get64(s.mem + HDR) == 3);
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == EX_GP);
}

/* XSAVEC: XCOMP_BV = RFBM with bit 63, XSTATE_BV = RFBM (every
 * component counts as in use); the x87/SSE layout is the legacy one. */
static void xsavec_compacted(void)
{
    for (unsigned rfbm = 0; rfbm < 4; rfbm++) {
        struct hstate s, saved;
        xs_cpu(3);
        h_rand_state(&s);
        s.rax = rfbm | 0xf0; /* bits outside XCR0 drop out of RFBM */
        s.rdx = 0x10;
        saved = s;
        UNIT_CHECK(xs_run(&s, c_xsavec, sizeof(c_xsavec)) == -1);
        UNIT_CHECK(get64(s.mem + HDR) == rfbm);
        UNIT_CHECK(get64(s.mem + HDR + 8) == ((1ull << 63) | rfbm));
        UNIT_CHECK(!memcmp(s.mem + HDR + 16, saved.mem + HDR + 16, 48)); /* not written */
        UNIT_CHECK(!memcmp(s.mem + 464, saved.mem + 464, 48));
        bool sse = rfbm & 2;
        UNIT_CHECK(!memcmp(s.mem + 160, sse ? (const uint8_t *)saved.xmm : saved.mem + 160, 256));
        /* restoring the compacted area: components outside XSTATE_BV are
         * initialised (MXCSR too, unlike the standard form) */
        memset(s.mem + HDR + 16, 0, 48);
        s.rax = 3;
        s.rdx = 0;
        h_rand_state(&saved);
        memcpy(saved.mem, s.mem, sizeof(s.mem));
        saved.rax = 3;
        saved.rdx = 0;
        UNIT_CHECK(xs_run(&saved, c_xrstor, sizeof(c_xrstor)) == -1);
        if (!sse) {
            static const uint8_t zero[256];
            UNIT_CHECK(!memcmp(saved.xmm, zero, 256) && saved.mxcsr == 0x1f80);
        } else {
            UNIT_CHECK(!memcmp(saved.xmm, s.xmm, 256) && saved.mxcsr == s.mxcsr);
        }
        if (!(rfbm & 1))
            UNIT_CHECK(h_cpu.fpu.fcw == 0x37f && h_cpu.fpu.ftw == 0xffff && saved.mm[3] == 0);
    }
}

/* #GP: misaligned areas, reserved header bits, XSTATE_BV/XCOMP_BV
 * outside XCR0, an illegal MXCSR; #UD without CR4.OSXSAVE or the
 * XSAVEC/XSAVEOPT feature; #NM with CR0.TS. */
static void xsave_faults(void)
{
    static const uint8_t xsave_mis[] = {0x0f, 0xae, 0x63, 0x10};   /* xsave [rbx+16] */
    static const uint8_t xsavec_mis[] = {0x0f, 0xc7, 0x63, 0x20};  /* xsavec [rbx+32] */
    static const uint8_t xrstor_mis[] = {0x0f, 0xae, 0x6b, 0x08};  /* xrstor [rbx+8] */
    static const uint8_t xsaveopt_mis[] = {0x0f, 0xae, 0x73, 0x30};
    struct hstate s;
    xs_cpu(3);
    h_rand_state(&s);
    s.rax = 3;
    s.rdx = 0;
    UNIT_CHECK(xs_run(&s, xsave_mis, sizeof(xsave_mis)) == EX_GP);
    UNIT_CHECK(xs_run(&s, xsavec_mis, sizeof(xsavec_mis)) == EX_GP);
    UNIT_CHECK(xs_run(&s, xrstor_mis, sizeof(xrstor_mis)) == EX_GP);
    UNIT_CHECK(xs_run(&s, xsaveopt_mis, sizeof(xsaveopt_mis)) == EX_GP);

    /* header checks: {byte offset in the area, value, compacted, faults} */
    static const struct {
        unsigned off;
        uint8_t v;
        bool compacted, gp;
    } hdr[] = {
        {HDR, 4, false, true},          /* XSTATE_BV[2]: not in XCR0 */
        {HDR + 7, 0x80, false, true},   /* XSTATE_BV[63] */
        {HDR + 8, 1, false, true},      /* XCOMP_BV without bit 63 */
        {HDR + 16, 1, false, true},     /* bytes 23:16 */
        {HDR + 23, 0x80, false, true},
        {HDR + 24, 1, false, false},    /* standard form: bytes 63:24 are not looked at */
        {HDR + 63, 0xff, false, false},
        {HDR + 16, 1, true, true},      /* compacted: bytes 63:16 must be zero */
        {HDR + 40, 2, true, true},
        {HDR + 63, 0x80, true, true},
        {HDR + 8, 4, true, true},       /* XCOMP_BV[2]: not in XCR0 */
        {HDR + 8, 0, true, false},      /* nothing extra: fine */
    };
    for (unsigned k = 0; k < sizeof(hdr) / sizeof(hdr[0]); k++) {
        xs_cpu(3);
        h_rand_state(&s);
        memset(s.mem + HDR, 0, 64);
        s.rax = 3;
        s.rdx = 0;
        UNIT_CHECK(xs_run(&s, hdr[k].compacted ? c_xsavec : c_xsave, 3) == -1);
        struct hstate ok = s;
        UNIT_CHECK(xs_run(&ok, c_xrstor, sizeof(c_xrstor)) == -1); /* as saved: fine */
        struct hstate before = s;
        s.mem[hdr[k].off] |= hdr[k].v;
        h_rand_state(&before); /* registers to be overwritten, or kept on #GP */
        memcpy(before.mem, s.mem, sizeof(s.mem));
        before.rax = 3;
        before.rdx = 0;
        struct hstate g = before;
        int v = xs_run(&g, c_xrstor, sizeof(c_xrstor));
        UNIT_CHECKF(v == (hdr[k].gp ? EX_GP : -1), "header byte %u |= %02x (%s): vector %d",
                    hdr[k].off - HDR, hdr[k].v, hdr[k].compacted ? "compacted" : "standard", v);
        if (hdr[k].gp) /* nothing restored */
            UNIT_CHECK(!memcmp(g.xmm, before.xmm, sizeof(g.xmm)) && g.mxcsr == before.mxcsr);
    }

    /* compacted: XSTATE_BV[1] set but XCOMP_BV[1] clear */
    xs_cpu(3);
    h_rand_state(&s);
    memset(s.mem + HDR, 0, 64);
    set64(s.mem + HDR, 3);
    set64(s.mem + HDR + 8, (1ull << 63) | 1);
    s.mem[24] = 0x80;
    s.mem[25] = 0x1f;
    s.mem[26] = s.mem[27] = 0;
    s.rax = 3;
    s.rdx = 0;
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == EX_GP);
    set64(s.mem + HDR + 8, (1ull << 63) | 3);
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == -1);
    s.mem[26] = 1; /* MXCSR bit 16: reserved */
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == EX_GP);
    s.rax = 1; /* SSE not requested: MXCSR is not looked at */
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == -1);

    /* CR0.TS -> #NM; no CR4.OSXSAVE -> #UD */
    h_cpu.mmu.cr0 |= CR0_TS;
    UNIT_CHECK(xs_run(&s, c_xsave, sizeof(c_xsave)) == EX_NM);
    h_cpu.mmu.cr0 &= ~CR0_TS;
    h_cpu.mmu.cr4 &= ~CR4_OSXSAVE;
    UNIT_CHECK(xs_run(&s, c_xsave, sizeof(c_xsave)) == EX_UD);
    UNIT_CHECK(xs_run(&s, c_xsavec, sizeof(c_xsavec)) == EX_UD);
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == EX_UD);
    UNIT_CHECK(xs_run(&s, c_xsaveopt, sizeof(c_xsaveopt)) == EX_UD);

    /* the CPUID switches: XSAVEC and XSAVEOPT #UD, the compacted form of
     * XRSTOR #GP */
    char err[128];
    xs_cpu(3);
    UNIT_CHECK(cpu_configure(&h_cpu, "nest86,xsavec=off,xsaveopt=off", err, sizeof(err)) == 0);
    h_rand_state(&s);
    s.rax = 3;
    s.rdx = 0;
    UNIT_CHECK(xs_run(&s, c_xsave, sizeof(c_xsave)) == -1);
    UNIT_CHECK(xs_run(&s, c_xsavec, sizeof(c_xsavec)) == EX_UD);
    UNIT_CHECK(xs_run(&s, c_xsaveopt, sizeof(c_xsaveopt)) == EX_UD);
    set64(s.mem + HDR + 8, (1ull << 63) | 3);
    UNIT_CHECK(xs_run(&s, c_xrstor, sizeof(c_xrstor)) == EX_GP);
}

int main(void)
{
    UNIT_RUN(xsave_cpuid);
    UNIT_RUN(xsave_xsetbv);
    UNIT_RUN(xsave_host);
    UNIT_RUN(xrstor_host);
    UNIT_RUN(xsave_roundtrip);
    UNIT_RUN(xsavec_compacted);
    UNIT_RUN(xsave_faults);
    return unit_done();
}
