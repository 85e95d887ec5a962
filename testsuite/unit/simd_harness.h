/* testsuite/unit/simd_harness.h — differential testing of x87/MMX/SSE
 * instruction bytes: the same bytes run natively on the host (through
 * a small stub that loads registers from a state block, calls the
 * bytes, and stores the registers back) and in nest86 (flat 64-bit
 * mode, identity-mapped with a 1 GiB page), from the same state; the
 * outcome must match.  Include from exactly one .c per test program.
 *
 * Registers a test may use: xmm0-15, mm0-7, rax, rcx, rdx, and memory
 * at [rbx] (a 1 KiB, 64-byte-aligned buffer; rdi points there too).
 */
#ifndef NEST86_TESTSUITE_SIMD_HARNESS_H
#define NEST86_TESTSUITE_SIMD_HARNESS_H

#include <stddef.h>
#include <sys/mman.h>

#include "cpu/simd.h"
#include "testsuite/unit/dev_stubs.h"

struct hstate {
    uint8_t xmm[16][16];   /* 0 */
    uint64_t mm[8];        /* 256 */
    uint64_t rax, rcx, rdx, rbx; /* 320 */
    uint64_t flags;        /* 352 */
    uint32_t mxcsr;        /* 360 */
    uint32_t pad;
    uint8_t mem[1024] __attribute__((aligned(64)));
};
_Static_assert(offsetof(struct hstate, flags) == 352, "stub offsets");
_Static_assert(offsetof(struct hstate, mxcsr) == 360, "stub offsets");

void simd_host_exec(struct hstate *s, const void *code);
__asm__(".text\n"
        ".globl simd_host_exec\n"
        "simd_host_exec:\n"
        "  push %rbp\n  mov %rsp, %rbp\n  push %rbx\n  push %r12\n  push %r13\n"
        "  push %r14\n  push %r15\n  sub $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  mov %rdi, %r15\n"
        "  movdqu 0(%r15), %xmm0\n  movdqu 16(%r15), %xmm1\n  movdqu 32(%r15), %xmm2\n"
        "  movdqu 48(%r15), %xmm3\n  movdqu 64(%r15), %xmm4\n  movdqu 80(%r15), %xmm5\n"
        "  movdqu 96(%r15), %xmm6\n  movdqu 112(%r15), %xmm7\n  movdqu 128(%r15), %xmm8\n"
        "  movdqu 144(%r15), %xmm9\n  movdqu 160(%r15), %xmm10\n  movdqu 176(%r15), %xmm11\n"
        "  movdqu 192(%r15), %xmm12\n  movdqu 208(%r15), %xmm13\n  movdqu 224(%r15), %xmm14\n"
        "  movdqu 240(%r15), %xmm15\n"
        "  movq 256(%r15), %mm0\n  movq 264(%r15), %mm1\n  movq 272(%r15), %mm2\n"
        "  movq 280(%r15), %mm3\n  movq 288(%r15), %mm4\n  movq 296(%r15), %mm5\n"
        "  movq 304(%r15), %mm6\n  movq 312(%r15), %mm7\n"
        "  ldmxcsr 360(%r15)\n"
        "  mov 320(%r15), %rax\n  mov 328(%r15), %rcx\n  mov 336(%r15), %rdx\n"
        "  lea 384(%r15), %rbx\n  mov %rbx, %rdi\n"
        "  pushq $0x246\n  popfq\n"
        "  call *%rsi\n"
        "  pushfq\n  popq 352(%r15)\n  stmxcsr 360(%r15)\n"
        "  mov %rax, 320(%r15)\n  mov %rcx, 328(%r15)\n  mov %rdx, 336(%r15)\n"
        "  movdqu %xmm0, 0(%r15)\n  movdqu %xmm1, 16(%r15)\n  movdqu %xmm2, 32(%r15)\n"
        "  movdqu %xmm3, 48(%r15)\n  movdqu %xmm4, 64(%r15)\n  movdqu %xmm5, 80(%r15)\n"
        "  movdqu %xmm6, 96(%r15)\n  movdqu %xmm7, 112(%r15)\n  movdqu %xmm8, 128(%r15)\n"
        "  movdqu %xmm9, 144(%r15)\n  movdqu %xmm10, 160(%r15)\n  movdqu %xmm11, 176(%r15)\n"
        "  movdqu %xmm12, 192(%r15)\n  movdqu %xmm13, 208(%r15)\n  movdqu %xmm14, 224(%r15)\n"
        "  movdqu %xmm15, 240(%r15)\n"
        "  movq %mm0, 256(%r15)\n  movq %mm1, 264(%r15)\n  movq %mm2, 272(%r15)\n"
        "  movq %mm3, 280(%r15)\n  movq %mm4, 288(%r15)\n  movq %mm5, 296(%r15)\n"
        "  movq %mm6, 304(%r15)\n  movq %mm7, 312(%r15)\n"
        "  emms\n  fninit\n"
        "  ldmxcsr (%rsp)\n"
        "  add $8, %rsp\n  pop %r15\n  pop %r14\n  pop %r13\n  pop %r12\n  pop %rbx\n"
        "  pop %rbp\n  ret\n");
_Static_assert(offsetof(struct hstate, mem) == 384, "stub offsets");

/* ---- the guest machine ---- */

#define G_PML4 0x1000u
#define G_PDPT 0x2000u
#define G_IDT 0x3000u
#define G_GDT 0x5000u
#define G_VEC 0x4000u   /* handler for vector v: HLT at G_VEC + 16 v */
#define G_STACK 0x8000u
#define G_CODE 0x10000u
#define G_DATA 0x20000u

static struct cpu h_cpu;
static uint8_t *h_code;  /* host executable page */

static void put64(uint64_t pa, uint64_t v) { memcpy(test_m.phys.ram + pa, &v, 8); }

static void h_machine(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    test_board(8u << 20, false);
    if (phys_init(&test_m.phys, 8u << 20)) {
        perror("phys_init");
        exit(2);
    }
    test_m.phys.a20_enabled = true;
    test_m.cpu = &h_cpu;
    h_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                  -1, 0);
    if (h_code == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
}

/* Fresh CPU in 64-bit mode, CPL 0, with OSFXSR/OSXMMEXCPT/NE set and
 * an IDT whose every handler is a HLT at a vector-specific address. */
static inline void h_reset_cpu(void)
{
    h_machine();
    struct cpu *c = &h_cpu;
    (void)cpu_init(c, &test_m, &test_m.phys);
    memset(test_m.phys.ram, 0, 0x30000);
    put64(G_PML4, G_PDPT | 7);
    put64(G_PDPT, 0x87); /* 1 GiB page at 0 */
    for (unsigned v = 0; v < 32; v++) {
        uint64_t h = G_VEC + 16 * v;
        uint64_t lo = (h & 0xffff) | (8ull << 16) | (0x8eull << 40) | ((h >> 16) << 48);
        put64(G_IDT + 16 * v, lo);
        put64(G_IDT + 16 * v + 8, h >> 32);
        test_m.phys.ram[h] = 0xf4;
    }
    put64(G_GDT + 8, 0x00af9a000000ffffull);  /* 64-bit code, DPL 0 */
    put64(G_GDT + 16, 0x00cf92000000ffffull); /* flat data */
    c->gdtr.base = G_GDT;
    c->gdtr.limit = 23;
    c->idtr.base = G_IDT;
    c->idtr.limit = 32 * 16 - 1;
    c->mmu.cr3 = G_PML4;
    c->mmu.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    c->mmu.efer = EFER_LME | EFER_LMA;
    c->mmu.cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_NE | CR0_MP;
    for (int s = 0; s < 6; s++) {
        c->seg[s].sel = 0x10;
        c->seg[s].base = 0;
        c->seg[s].limit = 0xffffffff;
        c->seg[s].ar = AR_P | AR_S | 0x3 | AR_DB | AR_G;
    }
    c->seg[SEG_CS].sel = 8;
    c->seg[SEG_CS].ar = AR_P | AR_S | 0xb | AR_L | AR_G;
    c->r[R_RSP] = G_STACK;
    cpu_update_mode(c);
    mmu_flush_all(&c->mmu);
}

/* Runs 'code' in the guest from state s; the outcome goes back into s.
 * Returns the exception vector taken, or -1. */
static inline int h_guest(struct hstate *s, const uint8_t *code, unsigned len)
{
    struct cpu *c = &h_cpu;
    memcpy(test_m.phys.ram + G_CODE, code, len);
    test_m.phys.ram[G_CODE + len] = 0xf4;
    phys_note_write(&test_m.phys, G_CODE); /* drop decoded code of the last run */
    memcpy(test_m.phys.ram + G_DATA, s->mem, sizeof(s->mem));
    for (unsigned k = 0; k < 16; k++)
        memcpy(c->xmm[k].b, s->xmm[k], 16);
    for (unsigned k = 0; k < 8; k++)
        mmx_set(c, k, s->mm[k]);
    c->fpu.ftw = 0;
    c->r[R_RAX] = s->rax;
    c->r[R_RCX] = s->rcx;
    c->r[R_RDX] = s->rdx;
    c->r[R_RBX] = G_DATA;
    c->r[R_RDI] = G_DATA;
    c->mxcsr = s->mxcsr;
    cpu_set_flags(c, 0x46 | FL_FIXED1); /* ZF PF, as the host stub sets them */
    c->rip = G_CODE;
    c->halted = false;
    c->r[R_RSP] = G_STACK;
    cpu_run(c, c->icount + 10000);
    for (unsigned k = 0; k < 16; k++)
        memcpy(s->xmm[k], c->xmm[k].b, 16);
    for (unsigned k = 0; k < 8; k++)
        s->mm[k] = mmx_get(c, k);
    s->rax = c->r[R_RAX];
    s->rcx = c->r[R_RCX];
    s->rdx = c->r[R_RDX];
    s->flags = cpu_get_flags(c);
    s->mxcsr = c->mxcsr;
    memcpy(s->mem, test_m.phys.ram + G_DATA, sizeof(s->mem));
    if (c->rip == G_CODE + len + 1)
        return -1;
    if (c->rip > G_VEC && c->rip < G_VEC + 16 * 32)
        return (int)((c->rip - G_VEC - 1) / 16);
    return 99; /* ran away */
}

static inline void h_host(struct hstate *s, const uint8_t *code, unsigned len)
{
    memcpy(h_code, code, len);
    h_code[len] = 0xc3;
    simd_host_exec(s, h_code);
}

/* ---- random inputs ---- */

static uint64_t h_seed = 0x243f6a8885a308d3ull;
static uint64_t h_rand(void)
{
    return unit_xorshift(&h_seed);
}

/* Floating-point-interesting 32-bit and 64-bit patterns. */
static const uint32_t h_f32[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
    0xffc00000, 0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x4f000000,
    0xcf000000, 0x4effffff, 0x3f000000, 0x40490fdb, 0x5f000000, 0xdf000001,
};
static const uint64_t h_f64[] = {
    0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
    0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull,
    0x7ff4000000000000ull, 1, 0x800fffffffffffffull, 0x0010000000000000ull,
    0x7fefffffffffffffull, 0x41e0000000000000ull, 0xc1e0000000200000ull,
    0x43e0000000000000ull, 0x3fe0000000000000ull, 0x400921fb54442d18ull,
    0x3ff0000000000001ull, 0x47efffffe0000000ull, 0x3810000000000000ull,
};

/* 16 bytes mixing random bits, special singles and special doubles. */
static void h_rand_vec(uint8_t *v)
{
    for (unsigned q = 0; q < 2; q++) {
        uint64_t x;
        switch (h_rand() % 4) {
        case 0: x = h_rand(); break;
        case 1: x = h_f64[h_rand() % (sizeof(h_f64) / 8)]; break;
        case 2:
            x = h_f32[h_rand() % (sizeof(h_f32) / 4)] |
                (uint64_t)h_f32[h_rand() % (sizeof(h_f32) / 4)] << 32;
            break;
        default: /* near-equal values: small random perturbations of specials */
            x = h_f64[h_rand() % (sizeof(h_f64) / 8)] ^ (h_rand() & 0xff);
            break;
        }
        memcpy(v + 8 * q, &x, 8);
    }
}

static const uint32_t h_mxcsr_modes[] = {0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x1fc0, 0x9f80,
                                         0x9fc0, 0xffc0};

static inline void h_rand_state(struct hstate *s)
{
    memset(s, 0, sizeof(*s));
    for (unsigned k = 0; k < 16; k++)
        h_rand_vec(s->xmm[k]);
    for (unsigned k = 0; k < 8; k++)
        s->mm[k] = h_rand();
    for (unsigned k = 0; k < sizeof(s->mem); k += 16)
        h_rand_vec(s->mem + k);
    s->rax = h_rand() % 3 ? h_rand() : h_f64[h_rand() % 20];
    s->rcx = h_rand() & 0xffff;
    s->rdx = h_rand();
    s->mxcsr = h_mxcsr_modes[h_rand() % 8];
}

/* Compares guest and host outcomes; fills why and returns false on a
 * difference. */
static inline bool h_same(const struct hstate *g, const struct hstate *h, bool mmx, char *why,
                   size_t n)
{
    for (unsigned k = 0; k < 16; k++)
        if (memcmp(g->xmm[k], h->xmm[k], 16)) {
            uint64_t a[2], b[2];
            memcpy(a, g->xmm[k], 16);
            memcpy(b, h->xmm[k], 16);
            snprintf(why, n, "xmm%u %016llx:%016llx host %016llx:%016llx", k,
                     (unsigned long long)a[1], (unsigned long long)a[0],
                     (unsigned long long)b[1], (unsigned long long)b[0]);
            return false;
        }
    for (unsigned k = 0; mmx && k < 8; k++)
        if (g->mm[k] != h->mm[k]) {
            snprintf(why, n, "mm%u %016llx host %016llx", k, (unsigned long long)g->mm[k],
                     (unsigned long long)h->mm[k]);
            return false;
        }
    if (g->rax != h->rax || g->rcx != h->rcx || g->rdx != h->rdx) {
        snprintf(why, n, "gpr rax %llx/%llx rcx %llx/%llx rdx %llx/%llx",
                 (unsigned long long)g->rax, (unsigned long long)h->rax,
                 (unsigned long long)g->rcx, (unsigned long long)h->rcx,
                 (unsigned long long)g->rdx, (unsigned long long)h->rdx);
        return false;
    }
    if ((g->flags ^ h->flags) & FL_ARITH) {
        snprintf(why, n, "flags %llx host %llx", (unsigned long long)g->flags,
                 (unsigned long long)h->flags);
        return false;
    }
    if (g->mxcsr != h->mxcsr) {
        snprintf(why, n, "mxcsr %x host %x", g->mxcsr, h->mxcsr);
        return false;
    }
    for (unsigned k = 0; k < sizeof(g->mem); k++)
        if (g->mem[k] != h->mem[k]) {
            snprintf(why, n, "mem[%u] %02x host %02x", k, g->mem[k], h->mem[k]);
            return false;
        }
    return true;
}

/* One instruction form, encoded. */
struct h_form {
    const char *name;
    uint8_t len;
    uint8_t bytes[24];
};

/* Where the host's vendor is not the oracle for a form (nest86 is an
 * Intel CPU), a test may correct the host's outcome 'out' from the input
 * state 'in' before the comparison (testsuite/vendor_diffs.h). */
struct h_fix {
    void (*fn)(const struct h_fix *f, const struct hstate *in, struct hstate *out);
    const void *ctx;
};

/* Runs 'rounds' random states through form f on both sides; returns
 * false if any differed, with the first difference described in why.
 * Every round runs whatever the outcome, so the random states a later
 * form sees do not depend on whether an earlier one failed.  fix, if
 * not NULL, corrects the host's outcome first. */
static inline bool h_diff_fix(const uint8_t *code, unsigned len, unsigned rounds, bool mmx,
                              const struct h_fix *fix, char *why, size_t n)
{
    bool same = true;
    char buf[200];
    for (unsigned r = 0; r < rounds; r++) {
        struct hstate g, h, in;
        h_rand_state(&h);
        g = in = h;
        h_host(&h, code, len);
        if (fix)
            fix->fn(fix, &in, &h);
        int v = h_guest(&g, code, len);
        if (v >= 0)
            snprintf(buf, sizeof(buf), "guest took exception %d", v);
        else if (h_same(&g, &h, mmx, buf, sizeof(buf)))
            continue;
        if (same)
            snprintf(why, n, "%.170s (round %u)", buf, r);
        same = false;
    }
    return same;
}

static inline bool h_diff(const uint8_t *code, unsigned len, unsigned rounds, bool mmx, char *why,
                          size_t n)
{
    return h_diff_fix(code, len, rounds, mmx, NULL, why, n);
}

#endif
