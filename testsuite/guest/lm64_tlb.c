/*
 * lm64_tlb: what invalidates a translation and what does not (SDM Vol.
 * 3A, 4.10): global pages, CR4.PGE, INVLPG on a 2 MiB page, INVLPG of
 * a non-canonical address (no fault, no effect) and through FS, PCIDs
 * with the CR3 no-flush bit, INVPCID types 0-3; and the same for code:
 * a call site that keeps calling a remapped linear address (INVLPG of
 * its 4 KiB or 2 MiB page, of another page), also across
 * no-flush switches between PCIDs, and a loop that remaps its own code
 * page (INVLPG or MOV CR3 in its body) before its back edge.
 *
 * Two kinds of assertion:
 *  - "must": the SDM requires the new translation (an invalidation the
 *    SDM names, or a PCID the stale entry does not belong to);
 *  - "kept": the SDM *permits* the old translation to stay (4.10.4.2) and
 *    nest86's TLB deterministically keeps it: entries leave only on the
 *    events 4.10.4 names (mmu/tlb.c), and the test pages' TLB slots
 *    (linear bits 21:12 = 0x3F0..) collide with nothing the kernel uses.
 *    Hardware or QEMU may evict instead; under qemu-tcg such a case is
 *    only noted.
 */
#include "rt.h"

#define CR4_PGE (1ul << 7)
#define CR4_PCIDE (1ul << 17)
#define CR3_NOFLUSH (1ull << 63)

#define BASE 0x00000A0000000000ull /* PML4 slot 20 */
#define VA (BASE + 0x3F0000)       /* 4 KiB test page */
#define VA_G (BASE + 0x3F1000)     /* 4 KiB global page */
#define VA_2M (BASE + 0x400000)    /* 2 MiB test page (PD index 2) */

static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));
static uint64_t pml4_phys;

static uint64_t peek(uint64_t va)
{
    barrier();
    uint64_t v = *(volatile uint64_t *)(uintptr_t)va;
    barrier();
    return v;
}

/* A translation the SDM allows to be stale; nest86 keeps it. */
#define ASSERT_KEPT(got, old, why)                                         \
    do {                                                                   \
        uint64_t g_ = (got);                                               \
        if (g_ != (old) && rt_cmdline_has("qemu-tcg"))                     \
            rt_printf("# qemu-tcg: %s: re-walked (permitted)\n", why);    \
        else                                                               \
            ASSERT_EQ(g_, (old));                                          \
    } while (0)

static volatile uint64_t *pte_of(uint64_t va)
{
    return rt_pt_entry(va, 1, true);
}

/* False (after a note) only under qemu-tcg, whose TCG lacks some of
   these; nest86 must advertise them all. */
static bool need(uint32_t leaf, int reg, int bit, const char *name)
{
    uint32_t r[4];
    cpuid(leaf, 0, r);
    if (r[reg] >> bit & 1)
        return true;
    if (!rt_cmdline_has("qemu-tcg"))
        rt_fail(RT_FILE, __LINE__, "the CPU does not advertise %s", name);
    rt_printf("# qemu-tcg: no %s, case skipped\n", name);
    return false;
}

static void setup(void)
{
    page_a[0] = 0xAAAA;
    page_b[0] = 0xBBBB;
    pml4_phys = read_cr3() & ~0xFFFull;
}

/* 4.10.4.2/4.10.4.3: a changed PTE without invalidation may keep the old
   translation; a not-present entry is never cached, so P 0 -> 1 needs no
   invalidation; a #PF invalidates the faulting address (4.10.4.1). */
static void test_stale_and_not_present(void)
{
    setup();
    volatile uint64_t *pte = pte_of(VA);
    *pte = (uintptr_t)page_a | PTE_P | PTE_W;
    invlpg(VA);
    ASSERT_EQ(peek(VA), 0xAAAA);
    *pte = (uintptr_t)page_b | PTE_P | PTE_W;
    ASSERT_KEPT(peek(VA), 0xAAAA, "PTE changed without INVLPG");
    invlpg(VA);
    ASSERT_EQ(peek(VA), 0xBBBB);

    *pte = (uintptr_t)page_a; /* P = 0 */
    invlpg(VA);
    ASSERT_EQ(catch_asm(RT_CATCH_BEGIN "movq (%0), %%rax" RT_CATCH_END
                        ::"r"(VA) : "rax", "memory"), VEC_PF);
    *pte = (uintptr_t)page_a | PTE_P | PTE_W; /* no INVLPG */
    ASSERT_EQ(peek(VA), 0xAAAA);

    /* Read-only and cached; made writable without INVLPG: the write may
       fault once on the stale entry, and that #PF drops it. */
    *pte = (uintptr_t)page_a | PTE_P;
    invlpg(VA);
    ASSERT_EQ(peek(VA), 0xAAAA);
    *pte = (uintptr_t)page_a | PTE_P | PTE_W;
    int v = catch_asm(RT_CATCH_BEGIN "movq $0x1234, (%0)" RT_CATCH_END
                      ::"r"(VA + 8) : "memory");
    if (v == VEC_PF)
        v = catch_asm(RT_CATCH_BEGIN "movq $0x1234, (%0)" RT_CATCH_END
                      ::"r"(VA + 8) : "memory");
    ASSERT_EQ(v, -1);
    ASSERT_EQ(page_a[1], 0x1234);
}

/* 4.10.2.4 / 4.10.4.1: MOV to CR3 leaves global translations (G=1 with
   CR4.PGE=1); changing CR4.PGE invalidates all of them. */
static void test_global_pages(void)
{
    setup();
    if (!need(1, 3, 13, "PGE"))
        return;
    write_cr4(read_cr4() | CR4_PGE);
    volatile uint64_t *pte_g = pte_of(VA_G), *pte = pte_of(VA);
    *pte_g = (uintptr_t)page_a | PTE_P | PTE_W | PTE_G;
    *pte = (uintptr_t)page_a | PTE_P | PTE_W;
    invlpg(VA_G);
    invlpg(VA);
    ASSERT_EQ(peek(VA_G), 0xAAAA);
    ASSERT_EQ(peek(VA), 0xAAAA);
    *pte_g = (uintptr_t)page_b | PTE_P | PTE_W | PTE_G;
    *pte = (uintptr_t)page_b | PTE_P | PTE_W;
    write_cr3(read_cr3());
    ASSERT_EQ(peek(VA), 0xBBBB);                        /* must */
    ASSERT_KEPT(peek(VA_G), 0xAAAA, "global page after MOV CR3");

    write_cr4(read_cr4() & ~CR4_PGE);                   /* must flush */
    write_cr4(read_cr4() | CR4_PGE);
    ASSERT_EQ(peek(VA_G), 0xBBBB);
    /* INVLPG drops a global translation too (4.10.4.1). */
    *pte_g = (uintptr_t)page_a | PTE_P | PTE_W | PTE_G;
    invlpg(VA_G);
    ASSERT_EQ(peek(VA_G), 0xAAAA);
    write_cr4(read_cr4() & ~CR4_PGE);
}

/* INVLPG of any address in a 2 MiB page drops the whole page's
   translation (4.10.4.1: "regardless of the page size"). */
static void test_invlpg_2m(void)
{
    setup();
    volatile uint64_t *pde = rt_pt_entry(VA_2M, 2, true);
    uint64_t x = 0x400000, y = 0x600000; /* phys RAM the kernel leaves */
    volatile uint64_t *px = (volatile uint64_t *)(uintptr_t)(x + 0x150000);
    volatile uint64_t *py = (volatile uint64_t *)(uintptr_t)(y + 0x150000);
    *px = 0x1111;
    *py = 0x2222;
    *pde = x | PTE_P | PTE_W | PTE_PS;
    invlpg(VA_2M);
    peek(VA_2M + 0x1000);
    ASSERT_EQ(peek(VA_2M + 0x150000), 0x1111);
    *pde = y | PTE_P | PTE_W | PTE_PS;
    invlpg(VA_2M + 0x1000);
    ASSERT_EQ(peek(VA_2M + 0x150000), 0x2222);
}

/* INVLPG (Vol. 2A): its only faults are #GP(0) at CPL > 0 and #UD; a
   non-canonical address is no fault and invalidates nothing (4.10.4.1).
   The address is the segment's base plus the offset: through FS with
   FS.base = VA - 0x100, offset 0x100 invalidates VA. */
static void test_invlpg_address(void)
{
    setup();
    static const uint64_t noncanon[] = {
        0x0000800000000000ull,        /* just above the lower half (48 bits) */
        0x0100000000000000ull,        /* just above it for 57 bits */
        0xaaaaaaaaaaaaaaaaull,
        0x8000000000000000ull,
    };
    for (unsigned k = 0; k < sizeof(noncanon) / sizeof(noncanon[0]); k++) {
        int v = catch_asm(RT_CATCH_BEGIN "invlpg (%0)" RT_CATCH_END
                          ::"r"(noncanon[k]) : "memory");
        if (v != -1)
            rt_fail(RT_FILE, __LINE__, "INVLPG 0x%llx: vector %d, expected no fault",
                    (unsigned long long)noncanon[k], v);
    }
    /* base + offset wrapping to a non-canonical sum: still no fault */
    uint64_t fs_old = rdmsr(0xC0000100);
    wrmsr(0xC0000100, 0x00007ffffffff000ull);
    ASSERT_EQ(catch_asm(RT_CATCH_BEGIN "invlpg %%fs:(%0)" RT_CATCH_END
                        ::"r"(0x2000ul) : "memory"), -1);

    /* a non-canonical INVLPG leaves a cached translation alone */
    volatile uint64_t *pte = pte_of(VA);
    *pte = (uintptr_t)page_a | PTE_P | PTE_W;
    invlpg(VA);
    ASSERT_EQ(peek(VA), 0xAAAA);
    *pte = (uintptr_t)page_b | PTE_P | PTE_W;
    __asm__ volatile("invlpg (%0)" ::"r"(VA ^ 0x8000000000000000ull) : "memory");
    ASSERT_KEPT(peek(VA), 0xAAAA, "PTE changed, INVLPG of another address");
    /* through FS: linear = FS.base + offset = VA */
    wrmsr(0xC0000100, VA - 0x100);
    __asm__ volatile("invlpg %%fs:(%0)" ::"r"(0x100ul) : "memory");
    wrmsr(0xC0000100, fs_old);
    ASSERT_EQ(peek(VA), 0xBBBB);
}

/* Code through a remapped page: the same linear address (VA_X, and
   VA_XG global) holds "mov eax, 1; ret" through one frame and "mov eax,
   2; ret" through the other; every call comes from the one call site
   below, so the branch that reaches the page is the same each time
   (an emulator that links decoded blocks links it after the first). */
#define VA_X (BASE + 0x3F2000)
#define VA_XG (BASE + 0x3F3000)
static uint8_t code_1[4096] __attribute__((aligned(4096)));
static uint8_t code_2[4096] __attribute__((aligned(4096)));

/* Three calls, so that the third goes along whatever the first two set
   up; all must agree. */
static uint32_t call3(uint64_t va)
{
    uint32_t a = rt_call_code(va), b = rt_call_code(va), c = rt_call_code(va);
    ASSERT_EQ(a, b);
    ASSERT_EQ(b, c);
    return c;
}

static void code_setup(void)
{
    static const uint8_t ret1[] = {0xB8, 1, 0, 0, 0, 0xC3}, ret2[] = {0xB8, 2, 0, 0, 0, 0xC3};
    for (unsigned k = 0; k < sizeof ret1; k++) {
        code_1[k] = ret1[k];
        code_2[k] = ret2[k];
    }
}

/* 4.10.4.1 for instruction fetches: MOV CR3 drops the non-global
   translation the calls went through, so the same call site must run
   the new frame's code; a global one may stay (4.10.2.4) until INVLPG
   or a CR4.PGE change drops it. */
static void test_code_remap(void)
{
    setup();
    code_setup();
    volatile uint64_t *pte = pte_of(VA_X);
    *pte = (uintptr_t)code_1 | PTE_P;
    invlpg(VA_X);
    ASSERT_EQ(call3(VA_X), 1);
    *pte = (uintptr_t)code_2 | PTE_P;
    write_cr3(read_cr3());
    ASSERT_EQ(call3(VA_X), 2);                          /* must */

    if (!need(1, 3, 13, "PGE"))
        return;
    write_cr4(read_cr4() | CR4_PGE);
    volatile uint64_t *pte_g = pte_of(VA_XG);
    *pte_g = (uintptr_t)code_1 | PTE_P | PTE_G;
    invlpg(VA_XG);
    ASSERT_EQ(call3(VA_XG), 1);
    *pte_g = (uintptr_t)code_2 | PTE_P | PTE_G;
    write_cr3(read_cr3());
    ASSERT_KEPT(call3(VA_XG), 1, "global code page after MOV CR3");
    write_cr3(read_cr3());
    ASSERT_KEPT(call3(VA_XG), 1, "global code page after a second MOV CR3");
    invlpg(VA_XG);
    ASSERT_EQ(call3(VA_XG), 2);                         /* must */
    *pte_g = (uintptr_t)code_1 | PTE_P | PTE_G;
    write_cr3(read_cr3());
    ASSERT_KEPT(call3(VA_XG), 2, "global code page after MOV CR3");
    write_cr4(read_cr4() & ~CR4_PGE);                   /* must flush */
    ASSERT_EQ(call3(VA_XG), 1);
}

/* 4.10.4.1 for instruction fetches: INVLPG drops the translation of
   the page around its address, whatever that page's size, and only
   that one.  So after INVLPG of a data page the call site may keep the
   old code (kept); after INVLPG of the code page it must run the new
   frame's; and for a 2 MiB page of code, INVLPG of another 4 KiB page
   inside it drops the whole page's translation (must). */
static void test_code_invlpg(void)
{
    setup();
    code_setup();
    volatile uint64_t *pte = pte_of(VA_X);
    *pte = (uintptr_t)code_1 | PTE_P;
    invlpg(VA_X);
    ASSERT_EQ(call3(VA_X), 1);
    *pte = (uintptr_t)code_2 | PTE_P;
    invlpg(VA);
    ASSERT_KEPT(call3(VA_X), 1, "code page after INVLPG of a data page");
    invlpg(VA_X);
    ASSERT_EQ(call3(VA_X), 2);                          /* must */

    /* the same code at offset 0x150000 of two 2 MiB frames */
    volatile uint64_t *pde = rt_pt_entry(VA_2M, 2, true);
    uint64_t x = 0x400000, y = 0x600000; /* phys RAM the kernel leaves */
    for (unsigned k = 0; k < 8; k++) {
        ((volatile uint8_t *)(uintptr_t)(x + 0x150000))[k] = code_1[k];
        ((volatile uint8_t *)(uintptr_t)(y + 0x150000))[k] = code_2[k];
    }
    *pde = x | PTE_P | PTE_PS;
    invlpg(VA_2M);
    ASSERT_EQ(call3(VA_2M + 0x150000), 1);
    *pde = y | PTE_P | PTE_PS;
    invlpg(VA_2M + 0x1000);
    ASSERT_EQ(call3(VA_2M + 0x150000), 2);              /* must */
    *pde = 0;
    invlpg(VA_2M);
}

/* A loop whose body remaps its own code page: at VA_X + 0x200
 *     mov ecx, 2 ; jmp loop
 * loop (VA_X + 0x210, a block of its own as a branch target):
 *     mov rax, pte ; mov rdx, new_pte ; mov [rax], rdx
 *     then INVLPG [VA_X], or MOV RAX, CR3 ; MOV CR3, RAX
 *     dec ecx ; jnz loop ; mov eax, 1 ; ret
 * and in the frame the new PTE names, at the loop's offset, mov eax, 2 ;
 * ret.  The back edge fetches through the new translation (SDM
 * 4.10.4.1: both invalidate VA_X's), so the call returns 2: an emulator
 * that re-entered its decoded loop without looking at the translation
 * would run the old frame's loop again and return 1. */
static void emit_remap_loop(uint8_t *p, uint64_t pte_addr, uint64_t new_pte, bool cr3)
{
    static const uint8_t head[] = {0xB9, 2, 0, 0, 0, 0xEB, 0x09};
    unsigned n = 0;
    for (unsigned k = 0; k < sizeof head; k++)
        p[n++] = head[k];
    while (n < 0x10)
        p[n++] = 0x90;
    uint64_t imm[3] = {pte_addr, new_pte, VA_X};
    static const uint8_t movabs[3][2] = {{0x48, 0xB8}, {0x48, 0xBA}, {0x48, 0xB8}};
    for (unsigned m = 0; m < 3; m++) {
        p[n++] = movabs[m][0];
        p[n++] = movabs[m][1];
        for (unsigned b = 0; b < 8; b++)
            p[n++] = (uint8_t)(imm[m] >> (8 * b));
        if (m == 1) { /* mov [rax], rdx */
            p[n++] = 0x48;
            p[n++] = 0x89;
            p[n++] = 0x10;
        }
    }
    static const uint8_t inv[] = {0x0F, 0x01, 0x38};                         /* invlpg [rax] */
    static const uint8_t reload[] = {0x0F, 0x20, 0xD8, 0x0F, 0x22, 0xD8};    /* rax = cr3; cr3 = rax */
    const uint8_t *flush = cr3 ? reload : inv;
    for (unsigned k = 0; k < (cr3 ? sizeof reload : sizeof inv); k++)
        p[n++] = flush[k];
    p[n++] = 0xFF; /* dec ecx */
    p[n++] = 0xC9;
    p[n++] = 0x75; /* jnz loop */
    p[n] = (uint8_t)(0x10 - (n + 1));
    n++;
    static const uint8_t tail[] = {0xB8, 1, 0, 0, 0, 0xC3};
    for (unsigned k = 0; k < sizeof tail; k++)
        p[n++] = tail[k];
}

static void test_code_remap_in_loop(void)
{
    setup();
    code_setup();
    volatile uint64_t *pte = pte_of(VA_X);
    static const uint8_t ret2[] = {0xB8, 2, 0, 0, 0, 0xC3};
    for (unsigned cr3 = 0; cr3 < 2; cr3++) {
        emit_remap_loop(code_1 + 0x200, (uintptr_t)pte, (uintptr_t)code_2 | PTE_P, cr3);
        /* the new frame: the same bytes after the flush (fetched through
         * the new translation once it is done), another loop head */
        for (unsigned k = 0x10; k < 0x40; k++)
            code_2[0x200 + k] = code_1[0x200 + k];
        for (unsigned k = 0; k < sizeof ret2; k++)
            code_2[0x210 + k] = ret2[k];
        /* the first call decodes the loop, the later ones run it decoded */
        for (unsigned k = 0; k < 4; k++) {
            *pte = (uintptr_t)code_1 | PTE_P;
            invlpg(VA_X);
            ASSERT_EQ(rt_call_code(VA_X + 0x200), 2);    /* must */
        }
    }
}

static void set_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}

static void enable_pcid(void)
{
    set_cr3(pml4_phys); /* CR3[11:0] = 0 */
    write_cr4(read_cr4() | CR4_PCIDE);
}

static void disable_pcid(void)
{
    set_cr3(pml4_phys);
    write_cr4(read_cr4() & ~CR4_PCIDE);
}

/* 4.10.1: with CR4.PCIDE = 1 the processor uses only translations of the
   current PCID; MOV CR3 with bit 63 = 1 invalidates nothing (4.10.4.1),
   with bit 63 = 0 it drops the new PCID's non-global entries. */
static void test_pcid(void)
{
    setup();
    if (!need(1, 2, 17, "PCID"))
        return;
    /* Setting CR4.PCIDE with CR3[11:0] != 0 is #GP(0) (Vol. 3A 2.5 /
       Vol. 2B MOV CR). */
    set_cr3(pml4_phys | 1);
    int v = catch_asm(RT_CATCH_BEGIN "mov %0, %%cr4" RT_CATCH_END
                      ::"r"(read_cr4() | CR4_PCIDE) : "memory");
    if (v == -1 && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: CR4.PCIDE set with CR3[11:0] = 1, no #GP\n");
        write_cr4(read_cr4() & ~CR4_PCIDE);
    } else {
        ASSERT_EQ(v, VEC_GP);
        ASSERT_EQ(rt_fault.error, 0);
    }
    enable_pcid();

    /* nest86's TLB has one slot per linear page, so PCID 2 touching VA
       would evict PCID 1's entry: PCID 2 uses VA_G until step 4. */
    volatile uint64_t *pte = pte_of(VA), *pte_g = pte_of(VA_G);
    *pte = (uintptr_t)page_a | PTE_P | PTE_W;
    *pte_g = (uintptr_t)page_a | PTE_P | PTE_W;
    set_cr3(pml4_phys | 1);                   /* 1: PCID 1, flushed */
    ASSERT_EQ(peek(VA), 0xAAAA);
    *pte = (uintptr_t)page_b | PTE_P | PTE_W;
    set_cr3(pml4_phys | 2 | CR3_NOFLUSH);     /* 2: PCID 2 */
    ASSERT_EQ(read_cr3(), pml4_phys | 2);     /* bit 63 is not stored */
    ASSERT_EQ(peek(VA_G), 0xAAAA);
    set_cr3(pml4_phys | 1 | CR3_NOFLUSH);     /* 3: back, no flush */
    ASSERT_KEPT(peek(VA), 0xAAAA, "PCID 1 after a no-flush switch");
    set_cr3(pml4_phys | 2 | CR3_NOFLUSH);     /* 4: not PCID 1's entry */
    ASSERT_EQ(peek(VA), 0xBBBB);

    *pte = (uintptr_t)page_a | PTE_P | PTE_W; /* 5: bit 63 = 0 flushes */
    set_cr3(pml4_phys | 1 | CR3_NOFLUSH);
    ASSERT_EQ(peek(VA), 0xAAAA);
    *pte = (uintptr_t)page_b | PTE_P | PTE_W;
    set_cr3(pml4_phys | 1 | CR3_NOFLUSH);
    ASSERT_KEPT(peek(VA), 0xAAAA, "same PCID reloaded with bit 63 = 1");
    set_cr3(pml4_phys | 1);
    ASSERT_EQ(peek(VA), 0xBBBB);
    disable_pcid();
}

static int invpcid(uint64_t type, uint64_t pcid, uint64_t addr)
{
    struct { uint64_t pcid, addr; } desc = { pcid, addr };
    return catch_asm(RT_CATCH_BEGIN "invpcid %0, %1" RT_CATCH_END
                     ::"m"(desc), "r"(type) : "memory");
}

/* Code under PCIDs: the call site keeps calling VA_X while PCID 1 and
   PCID 2 take turns with no-flush MOV CR3s.  Back in PCID 1 its old
   translation of VA_X may stay (4.10.4.2) -- unless it was invalidated
   while PCID 2 ran: by INVPCID type 1 or 3, which reach every PCID
   (4.10.4.1), so PCID 1 must then run the new frame's code. */
static void test_code_pcid(void)
{
    setup();
    code_setup();
    if (!need(7, 1, 10, "INVPCID") || !need(1, 2, 17, "PCID"))
        return;
    enable_pcid();
    volatile uint64_t *pte = pte_of(VA_X);
    for (uint64_t type = 1; type <= 3; type += 2) {
        *pte = (uintptr_t)code_1 | PTE_P;
        set_cr3(pml4_phys | 1);                   /* PCID 1, flushed */
        ASSERT_EQ(call3(VA_X), 1);
        set_cr3(pml4_phys | 2 | CR3_NOFLUSH);
        *pte = (uintptr_t)code_2 | PTE_P;
        set_cr3(pml4_phys | 1 | CR3_NOFLUSH);
        ASSERT_KEPT(call3(VA_X), 1, "PCID 1's code page after a no-flush switch");
        set_cr3(pml4_phys | 2 | CR3_NOFLUSH);
        ASSERT_EQ(invpcid(type, 1, 0), -1);       /* from PCID 2 */
        set_cr3(pml4_phys | 1 | CR3_NOFLUSH);
        ASSERT_EQ(call3(VA_X), 2);                /* must */
    }
    disable_pcid();
}

/* INVPCID (Vol. 2A): type 0 one address of one PCID, 1 one PCID but not
   globals, 2 everything, 3 everything but globals; #GP(0) for a type
   above 3 or descriptor bits 63:12 set. */
static void test_invpcid(void)
{
    setup();
    if (!need(7, 1, 10, "INVPCID") || !need(1, 2, 17, "PCID") ||
        !need(1, 3, 13, "PGE"))
        return;
    enable_pcid();
    write_cr4(read_cr4() | CR4_PGE);
    volatile uint64_t *pte = pte_of(VA), *pte_g = pte_of(VA_G);

    /* Cache VA (non-global) and VA_G (global) for PCID 1, then point
       both at page_b without invalidating. */
    #define PRIME()                                                        \
        do {                                                               \
            *pte = (uintptr_t)page_a | PTE_P | PTE_W;                      \
            *pte_g = (uintptr_t)page_a | PTE_P | PTE_W | PTE_G;            \
            invpcid(2, 0, 0);                                              \
            ASSERT_EQ(peek(VA), 0xAAAA);                                   \
            ASSERT_EQ(peek(VA_G), 0xAAAA);                                 \
            *pte = (uintptr_t)page_b | PTE_P | PTE_W;                      \
            *pte_g = (uintptr_t)page_b | PTE_P | PTE_W | PTE_G;            \
        } while (0)

    set_cr3(pml4_phys | 1);
    PRIME();
    ASSERT_EQ(invpcid(0, 2, VA), -1);          /* other PCID: no effect */
    ASSERT_KEPT(peek(VA), 0xAAAA, "INVPCID type 0 for another PCID");
    ASSERT_EQ(invpcid(0, 1, VA), -1);
    ASSERT_EQ(peek(VA), 0xBBBB);               /* must */

    PRIME();
    ASSERT_EQ(invpcid(1, 1, 0), -1);
    ASSERT_EQ(peek(VA), 0xBBBB);               /* must */
    ASSERT_KEPT(peek(VA_G), 0xAAAA, "global after INVPCID type 1");

    PRIME();
    ASSERT_EQ(invpcid(3, 0, 0), -1);
    ASSERT_EQ(peek(VA), 0xBBBB);               /* must */
    ASSERT_KEPT(peek(VA_G), 0xAAAA, "global after INVPCID type 3");

    PRIME();
    ASSERT_EQ(invpcid(2, 0, 0), -1);
    ASSERT_EQ(peek(VA), 0xBBBB);               /* must */
    ASSERT_EQ(peek(VA_G), 0xBBBB);             /* must: globals too */
    #undef PRIME

    ASSERT_EQ(invpcid(4, 0, 0), VEC_GP);
    ASSERT_EQ(rt_fault.error, 0);
    ASSERT_EQ(invpcid(1, 0x1000, 0), VEC_GP);  /* PCID field > 12 bits */
    ASSERT_EQ(rt_fault.error, 0);
    ASSERT_EQ(invpcid(2, 0x1000, 0), VEC_GP);  /* whatever the type */
    ASSERT_EQ(invpcid(3, 1ull << 63, 0), VEC_GP);
    ASSERT_EQ(invpcid(0, 1, 0x8000000000000000ull), VEC_GP); /* canonical */
    ASSERT_EQ(rt_fault.error, 0);
    write_cr4(read_cr4() & ~CR4_PGE);
    disable_pcid();
}

void test_main(void)
{
    RUN_TEST(test_stale_and_not_present);
    RUN_TEST(test_global_pages);
    RUN_TEST(test_invlpg_2m);
    RUN_TEST(test_invlpg_address);
    RUN_TEST(test_code_remap);
    RUN_TEST(test_code_remap_in_loop);
    RUN_TEST(test_code_invlpg);
    RUN_TEST(test_pcid);
    RUN_TEST(test_invpcid);
    RUN_TEST(test_code_pcid);
}
