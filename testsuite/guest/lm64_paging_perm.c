/*
 * lm64_paging_perm: the access-rights sweep of 4-level paging (SDM Vol.
 * 3A, 4.6) with the #PF error code (4.7), CR2 and the A/D outcome (4.8).
 *
 * For each leaf size (4 KiB PTE, 2 MiB PDE, 1 GiB PDPTE), leaf U/S, R/W
 * and XD, EFER.NXE, CR0.WP, CR4.SMEP, CR4.SMAP, RFLAGS.AC (STAC/CLAC) and
 * CPL 0 or 3, a read, a write and an instruction fetch are made through
 * the test mapping and compared with the outcome the SDM rules give
 * (expect() below). Then protection keys (4.6.2), the rule that
 * U/S and R/W combine over all levels while XD is any level's, and SMAP
 * following AC through STAC, CLAC and POPF from one read site.
 */
#include "rt.h"

#define CR4_SMEP (1ul << 20)
#define CR4_SMAP (1ul << 21)
#define CR4_PKE (1ul << 22)
#define PF_PK 0x20
#define PTE_PKEY(k) ((uint64_t)(k) << 59) /* bits 62:59 (4.5.4) */

/* PML4 slot 16; the 1 GiB page in the next PDPT slot. */
#define BASE 0x0000080000000000ull
#define VA_4K (BASE)
#define VA_2M (BASE + 0x200000)
#define VA_1G (BASE + 0x40000000)
#define PHYS_2M 0x400000ull /* RAM the kernel image does not use */
#define OFF_1G 0x600000ull  /* the 1 GiB page maps phys 0: use 6 MiB */
#define OFF_CODE 0x0        /* a RET sits here in every target */
#define OFF_DATA 0x100

enum acc { ACC_R, ACC_W, ACC_X };
static const char *const acc_name[] = { "read", "write", "fetch" };

struct combo {
    int size;                   /* 0: 4K, 1: 2M, 2: 1G */
    bool u, w, xd;              /* leaf U/S, R/W, XD */
    bool nxe, wp, smep, smap, ac, cpl3;
    enum acc acc;
    int pkey; bool pke, ad, wd; /* protection keys (PKRU for pkey) */
};

static uint8_t page_4k[4096] __attribute__((aligned(4096)));
static const uint64_t va_of[3] = { VA_4K, VA_2M, VA_1G };
static const char *const size_name[] = { "4K", "2M", "1G" };

/* ---- ring-3 accessors ------------------------------------------------------ */
RT_USER_TEXT static uint64_t user_read(uint64_t va)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(va) : "memory");
    return v;
}
RT_USER_TEXT static uint64_t user_write(uint64_t va)
{
    __asm__ volatile("movq %0, (%0)" ::"r"(va) : "memory");
    return 0;
}
RT_USER_TEXT static uint64_t user_exec(uint64_t va)
{
    __asm__ volatile("call *%0" ::"r"(va) : "memory");
    return 0;
}

/* ---- ring-0 accessors ------------------------------------------------------ */
static uint64_t exec_target;
static void kernel_exec(void)
{
    __asm__ volatile("call *%0" ::"r"(exec_target) : "memory");
}

/* STAC/CLAC (0F 01 CB / CA) set and clear RFLAGS.AC at CPL 0 when
   CPUID advertises SMAP (Vol. 2B, STAC). */
static void set_ac(bool on)
{
    if (on)
        __asm__ volatile("stac" ::: "memory");
    else
        __asm__ volatile("clac" ::: "memory");
}

static int kernel_access(enum acc acc, uint64_t va, bool ac)
{
    int v;
    if (ac)
        set_ac(true);
    if (acc == ACC_R)
        v = catch_asm(RT_CATCH_BEGIN "movq (%0), %%rax" RT_CATCH_END
                      ::"r"(va) : "rax", "memory");
    else if (acc == ACC_W)
        v = catch_asm(RT_CATCH_BEGIN "movq %0, (%0)" RT_CATCH_END
                      ::"r"(va) : "memory");
    else {
        exec_target = va;
        rt_fault_reset();
        v = rt_try(kernel_exec);
    }
    if (ac)
        set_ac(false);
    return v;
}

/* ---- the SDM's rules ------------------------------------------------------- */

/* -1 for success, else the #PF error code (4.6, 4.6.2, 4.7). */
static int expect(const struct combo *c)
{
    int err = PF_P | (c->acc == ACC_W ? PF_W : 0) | (c->cpl3 ? PF_U : 0);
    /* I/D is set for a fetch only if SMEP = 1 or (PAE = 1 and NXE = 1). */
    if (c->acc == ACC_X && (c->smep || c->nxe))
        err |= PF_I;
    /* NXE = 0: bit 63 of a present entry is reserved (4.5.4). */
    if (c->xd && !c->nxe)
        return err | PF_RSVD;

    bool fault = false;
    bool xd = c->xd && c->nxe;
    if (c->cpl3) {
        if (!c->u)
            fault = true;               /* supervisor-mode address */
        else if (c->acc == ACC_W && !c->w)
            fault = true;               /* user writes need R/W = 1 */
        else if (c->acc == ACC_X && xd)
            fault = true;
    } else if (c->acc == ACC_X) {
        fault = xd || (c->u && c->smep); /* SMEP: no fetch from U pages */
    } else {
        if (c->u && c->smap && !c->ac)   /* SMAP, explicit access, AC=0 */
            fault = true;
        if (c->acc == ACC_W && !c->w && c->wp)
            fault = true;
    }
    /* Protection keys: data accesses to user-mode addresses (4.6.2). */
    if (c->pke && c->u && c->acc != ACC_X &&
        (c->ad || (c->wd && c->acc == ACC_W && (c->cpl3 || c->wp)))) {
        fault = true;
        err |= PF_PK;
    }
    return fault ? err : -1;
}

static void describe(const struct combo *c, char *buf, size_t n)
{
    rt_snprintf(buf, n,
                "%s %s at CPL%d: U=%d W=%d XD=%d NXE=%d WP=%d "
                "SMEP=%d SMAP=%d AC=%d PKE=%d key=%d AD=%d WD=%d",
                size_name[c->size], acc_name[c->acc], c->cpl3 ? 3 : 0, c->u, c->w, c->xd, c->nxe, c->wp,
                c->smep, c->smap, c->ac, c->pke, c->pkey, c->ad, c->wd);
}

/* ---- machinery ------------------------------------------------------------- */

static volatile uint64_t *leaf[3];
static bool on_qemu;

static void set_leaf(const struct combo *c)
{
    uint64_t e = PTE_P | (c->u ? PTE_U : 0) | (c->w ? PTE_W : 0) |
                 (c->xd ? PTE_XD : 0) | PTE_PKEY(c->pkey);
    if (c->size == 0)
        e |= (uintptr_t)page_4k;
    else if (c->size == 1)
        e |= PHYS_2M | PTE_PS;
    else
        e |= PTE_PS; /* phys 0 */
    *leaf[c->size] = e;
    invlpg(va_of[c->size]);
    /* QEMU 7.2 TCG keeps using an instruction-fetch translation of a
       1 GiB page after INVLPG; a CR3 reload lets the sweep go on there. */
    if (on_qemu)
        write_cr3(read_cr3());
}

static void set_controls(const struct combo *c)
{
    uint64_t efer = rdmsr(MSR_EFER);
    wrmsr(MSR_EFER, c->nxe ? efer | EFER_NXE : efer & ~EFER_NXE);
    write_cr0(c->wp ? read_cr0() | CR0_WP : read_cr0() & ~CR0_WP);
    unsigned long cr4 = read_cr4() & ~(CR4_SMEP | CR4_SMAP | CR4_PKE);
    write_cr4(cr4 | (c->smep ? CR4_SMEP : 0) | (c->smap ? CR4_SMAP : 0) |
              (c->pke ? CR4_PKE : 0));
}

static void write_pkru(uint32_t v)
{
    __asm__ volatile(".byte 0x0f, 0x01, 0xef" ::"a"(v), "c"(0), "d"(0)
                     : "memory"); /* WRPKRU */
}

static uint32_t read_pkru(void)
{
    uint32_t a, d;
    __asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(a), "=d"(d) : "c"(0));
    return a; /* RDPKRU */
}

static unsigned checked;

/* Run one combination and compare vector, error code, CR2 and A/D. */
static void check(const struct combo *c)
{
    uint64_t va = va_of[c->size] + (c->size == 2 ? OFF_1G : 0) +
                  (c->acc == ACC_X ? OFF_CODE : OFF_DATA);
    set_leaf(c);
    int vec;
    if (c->cpl3) {
        uint64_t (*fn)(uint64_t) = c->acc == ACC_R   ? user_read
                                   : c->acc == ACC_W ? user_write
                                                     : user_exec;
        rt_user_call(fn, va);
        vec = rt_fault.vector;
    } else {
        vec = kernel_access(c->acc, va, c->ac);
    }
    int want = expect(c);
    uint64_t e = *leaf[c->size];
    char what[200];
    if (want < 0) {
        if (vec != -1) {
            describe(c, what, sizeof(what));
            rt_fail(RT_FILE, __LINE__, "%s: got vector %d error 0x%llx, "
                    "expected no fault", what, vec,
                    (unsigned long long)rt_fault.error);
        }
        /* 4.8: A set by the use of the leaf; D only by a write. */
        if ((e & (PTE_A | PTE_D)) !=
            (PTE_A | (c->acc == ACC_W ? PTE_D : 0))) {
            describe(c, what, sizeof(what));
            rt_fail(RT_FILE, __LINE__, "%s: leaf A/D 0x%llx after success",
                    what, (unsigned long long)(e & (PTE_A | PTE_D)));
        }
    } else {
        /* QEMU 7.2 TCG drops P from a reserved-bit #PF (README). */
        if (vec == VEC_PF && (want & PF_RSVD) && rt_cmdline_has("qemu-tcg")
            && rt_fault.error == (uint64_t)(want & ~PF_P))
            want &= ~PF_P;
        if (vec != VEC_PF || rt_fault.error != (uint64_t)want ||
            rt_fault.cr2 != va) {
            describe(c, what, sizeof(what));
            rt_fail(RT_FILE, __LINE__, "%s: got vector %d error 0x%llx "
                    "cr2 0x%llx, expected #PF error 0x%x cr2 0x%llx", what,
                    vec, (unsigned long long)rt_fault.error,
                    (unsigned long long)rt_fault.cr2, want,
                    (unsigned long long)va);
        }
        /* No write happened, so D stays clear (4.8). */
        if (e & PTE_D) {
            describe(c, what, sizeof(what));
            rt_fail(RT_FILE, __LINE__, "%s: D set by a faulting access",
                    what);
        }
    }
    checked++;
}

static void need(uint32_t leaf_, int reg, int bit, const char *name)
{
    uint32_t r[4];
    cpuid(leaf_, 0, r);
    if (!(r[reg] >> bit & 1))
        rt_fail(RT_FILE, __LINE__, "the CPU does not advertise %s "
                "(CPUID %xH reg %d bit %d)", name, leaf_, reg, bit);
}

static void setup(void)
{
    need(7, 1, 7, "SMEP");
    need(7, 1, 20, "SMAP");
    need(7, 2, 3, "PKU");
    need(0x80000001, 3, 20, "NX");
    need(0x80000001, 3, 26, "1 GiB pages");
    rt_user_init();
    on_qemu = rt_cmdline_has("qemu-tcg");
    /* The RET every fetch runs, at each target's code offset. */
    page_4k[OFF_CODE] = 0xC3;
    *(volatile uint8_t *)(uintptr_t)(PHYS_2M + OFF_CODE) = 0xC3;
    *(volatile uint8_t *)(uintptr_t)(OFF_1G + OFF_CODE) = 0xC3;
    leaf[0] = rt_pt_entry(VA_4K, 1, true);
    leaf[1] = rt_pt_entry(VA_2M, 2, true);
    leaf[2] = rt_pt_entry(VA_1G, 3, true);
}

static void restore_controls(void)
{
    struct combo plain = { .wp = false };
    set_controls(&plain);
}

static void test_sweep(void)
{
    setup();
    struct combo c = { 0 };
    for (int bits = 0; bits < 64; bits++) {
        c.nxe = bits & 1;
        c.wp = bits >> 1 & 1;
        c.smep = bits >> 2 & 1;
        c.smap = bits >> 3 & 1;
        c.ac = bits >> 4 & 1;
        c.cpl3 = bits >> 5 & 1;
        if (c.cpl3 && c.ac)
            continue; /* AC matters only for supervisor accesses */
        set_controls(&c);
        for (int leafbits = 0; leafbits < 8; leafbits++) {
            c.u = leafbits & 1;
            c.w = leafbits >> 1 & 1;
            c.xd = leafbits >> 2 & 1;
            for (c.size = 0; c.size < 3; c.size++)
                for (int a = ACC_R; a <= ACC_X; a++) {
                    c.acc = (enum acc)a;
                    check(&c);
                }
        }
    }
    restore_controls();
    rt_printf("# %u combinations checked\n", checked);
}

/* Protection keys (4.6.2): PKRU bits 2i (AD) and 2i+1 (WD) for key i in
   bits 62:59 of the leaf; data accesses to user-mode addresses only. */
static void test_pkeys(void)
{
    setup();
    /* CPUID.(EAX=7,ECX=0):ECX.OSPKE[4] reflects CR4.PKE (Vol. 2A, CPUID). */
    uint32_t r[4];
    struct combo c = { .pke = true, .nxe = true };
    set_controls(&c);
    cpuid(7, 0, r);
    ASSERT_EQ(r[2] >> 4 & 1, 1);
    unsigned checked_before = checked;
    for (int bits = 0; bits < 128; bits++) {
        /* Not key 0: ring 3's own stack and code are key-0 pages. */
        c.pkey = bits & 1 ? 5 : 15;
        c.ad = bits >> 1 & 1;
        c.wd = bits >> 2 & 1;
        c.wp = bits >> 3 & 1;
        c.cpl3 = bits >> 4 & 1;
        c.u = bits >> 5 & 1;
        /* R/W = 0 too: a key that denies an access the ordinary rights
           deny as well still sets PK (4.7), e.g. a CPL 3 write to a
           read-only user page with AD = 1 is error 0x27, not 0x07. */
        c.w = bits >> 6 & 1;
        c.size = 0;
        set_controls(&c);
        /* Make only key pkey restricted; every other key stays open. */
        write_pkru((uint32_t)((c.ad ? 1u : 0) | (c.wd ? 2u : 0))
                   << (2 * c.pkey));
        ASSERT_EQ(read_pkru() >> (2 * c.pkey) & 3,
                  (c.ad ? 1u : 0) | (c.wd ? 2u : 0));
        for (int a = ACC_R; a <= ACC_X; a++) {
            c.acc = (enum acc)a;
            check(&c);
        }
    }
    write_pkru(0);
    restore_controls();
    /* With CR4.PKE = 0, RDPKRU is #UD (Vol. 2B, RDPKRU). */
    ASSERT_EQ(catch_asm(RT_CATCH_BEGIN ".byte 0x0f, 0x01, 0xee" RT_CATCH_END
                        ::"c"(0) : "rax", "rdx", "memory"),
              VEC_UD);
    rt_printf("# %u key combinations checked\n", checked - checked_before);
}

/* U/S and R/W are ANDed over all levels, XD ORed (4.6.1 and Table 4-20
   notes; 4.6.2 "Determination of Access Rights"). */
static void test_levels_combine(void)
{
    setup();
    struct combo c = { .u = true, .w = true, .nxe = true, .cpl3 = true };
    set_controls(&c);
    volatile uint64_t *pde = rt_pt_entry(VA_4K, 2, false);
    volatile uint64_t *pdpte = rt_pt_entry(VA_4K, 3, false);
    volatile uint64_t *pml4e = rt_pt_entry(VA_4K, 4, false);
    set_leaf(&c);

    *pde &= ~PTE_U; /* U=1 in the PTE, U=0 in the PDE: supervisor page */
    invlpg(VA_4K);
    rt_user_call(user_read, VA_4K + OFF_DATA);
    ASSERT_EQ(rt_fault.vector, VEC_PF);
    ASSERT_EQ(rt_fault.error, PF_P | PF_U);
    *pde |= PTE_U;

    *pdpte &= ~PTE_W; /* W=0 above a W=1 PTE: read-only for CPL 3 */
    invlpg(VA_4K);
    rt_user_call(user_write, VA_4K + OFF_DATA);
    ASSERT_EQ(rt_fault.vector, VEC_PF);
    ASSERT_EQ(rt_fault.error, PF_P | PF_W | PF_U);
    rt_user_call(user_read, VA_4K + OFF_DATA);
    ASSERT_EQ(rt_fault.vector, -1);
    *pdpte |= PTE_W;

    *pml4e |= PTE_XD; /* XD in the PML4E forbids fetches below it */
    invlpg(VA_4K);
    rt_user_call(user_exec, VA_4K + OFF_CODE);
    ASSERT_EQ(rt_fault.vector, VEC_PF);
    ASSERT_EQ(rt_fault.error, PF_P | PF_U | PF_I);
    ASSERT_EQ(rt_fault.cr2, VA_4K + OFF_CODE);
    *pml4e &= ~PTE_XD;
    invlpg(VA_4K);
    rt_user_call(user_exec, VA_4K + OFF_CODE);
    ASSERT_EQ(rt_fault.vector, -1);
    restore_controls();
}

/* SMAP with RFLAGS.AC as STAC, CLAC and POPF leave it, each followed
 * by reads of one user page from one site, so that the page's
 * translation is cached and the read has run before: a supervisor data
 * read of a user page is allowed with AC = 1 and a #PF (error P) with
 * AC = 0 (4.6.1), whichever instruction set AC last. */
static __attribute__((noinline)) int read_user(uint64_t va)
{
    return catch_asm(RT_CATCH_BEGIN "movq (%0), %%rax" RT_CATCH_END ::"r"(va) : "rax", "memory");
}

static void popf_ac(bool on)
{
    unsigned long f = (read_flags() & ~(1ul << 18)) | (on ? 1ul << 18 : 0);
    __asm__ volatile("push %0\n\tpopf" ::"r"(f) : "memory", "cc");
}

static void expect_reads(uint64_t va, bool ok)
{
    for (int k = 0; k < 3; k++) {
        int v = read_user(va);
        if (ok) {
            ASSERT_EQ(v, -1);
        } else {
            ASSERT_EQ(v, VEC_PF);
            ASSERT_EQ(rt_fault.error, PF_P);
        }
    }
}

static void test_ac_switches(void)
{
    setup();
    struct combo c = {.u = true, .w = true, .smap = true};
    set_leaf(&c);
    set_controls(&c);
    uint64_t va = VA_4K + OFF_DATA;
    for (int round = 0; round < 3; round++) {
        popf_ac(true);
        expect_reads(va, true);
        set_ac(false); /* CLAC */
        expect_reads(va, false);
        set_ac(true); /* STAC */
        expect_reads(va, true);
        popf_ac(false);
        expect_reads(va, false);
    }
    restore_controls();
}

void test_main(void)
{
    RUN_TEST(test_sweep);
    RUN_TEST(test_pkeys);
    RUN_TEST(test_levels_combine);
    RUN_TEST(test_ac_switches);
}
