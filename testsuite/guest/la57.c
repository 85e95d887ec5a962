/*
 * la57: 5-level paging (SDM Vol. 3A, 4.5). CR4.LA57 is set with paging
 * off (MOV CR4 changing LA57 in IA-32e mode is #GP(0), 4.1.1); a PML5
 * table then maps addresses whose bits 56:48 matter, the canonical rule
 * becomes 57-bit (3.3.7.1), and CR2 holds the full 57-bit address.
 * The loads of bases (LGDT ... WRMSR, canonical.h) accept 57-bit values
 * in both paging modes (lm64_canonical checks them with 4-level paging).
 */
#include "canonical.h"

#define CR4_LA57 (1ul << 12)
#define VA_HI 0x0001000000000000ull   /* bit 48: PML5 index 1 */
#define VA_NP 0x0080000000001000ull   /* bit 55: PML5 index 0x80, absent */
#define VA_NONCANON 0x0100000000000000ull /* bit 56 set, 63:57 clear */

extern uint64_t rt_pml4[512];
void la57_reload_paging(uint32_t cr3, uint32_t cr4);

static uint64_t *pml5;
static uint64_t data_page[512] __attribute__((aligned(4096)));

static uint64_t *table_below(uint64_t *e)
{
    if (!(*e & PTE_P))
        *e = (uintptr_t)rt_alloc_page() | PTE_P | PTE_W;
    return (uint64_t *)(uintptr_t)(*e & 0x000FFFFFFFFFF000ull);
}

/* 5-level walk from the PML5, allocating tables (4.5.4, Figure 4-9). */
static void map57(uint64_t va, uint64_t pa)
{
    uint64_t *t = pml5;
    for (int level = 5; level > 1; level--)
        t = table_below(&t[(va >> (12 + 9 * (level - 1))) & 511]);
    t[(va >> 12) & 511] = pa | PTE_P | PTE_W;
}

/* The base register is RSI on purpose: with RSP or RBP as base the
   reference is to SS, and a non-canonical one is #SS, not #GP. */
static int read_at(uint64_t va, uint64_t *out)
{
    return catch_asm(RT_CATCH_BEGIN "movq (%1), %0" RT_CATCH_END
                     : "+r"(*out) : "S"(va) : "memory");
}

/* Through RBP: #SS(0) for a non-canonical address (SDM Vol. 3A, 6.15
   "Interrupt 12"; Vol. 2B MOV, 64-bit mode exceptions). */
static int read_via_rbp(uint64_t va)
{
    return catch_asm(RT_CATCH_BEGIN "push %%rbp\n\tmov %0, %%rbp\n\t"
                     "movq (%%rbp), %%rax" RT_CATCH_END "pop %%rbp"
                     ::"r"(va) : "rax", "memory");
}

static void expect_ss_fault(uint64_t va)
{
    int v = read_via_rbp(va);
    if (v == VEC_GP && rt_cmdline_has("qemu-tcg")) {
        rt_printf("# qemu-tcg: non-canonical via RBP is #GP (SDM: #SS)\n");
        return;
    }
    ASSERT_EQ(v, VEC_SS);
    ASSERT_EQ(rt_fault.error, 0);
}

static void test_la57(void)
{
    uint32_t r[4];
    cpuid(7, 0, r);
    if (!(r[2] >> 16 & 1))
        rt_fail(RT_FILE, __LINE__, "CPUID.7.ECX.LA57[16] is 0");
    /* Linear-address width in CPUID.80000008H:EAX[15:8] (Vol. 2A). */
    cpuid(0x80000008, 0, r);
    ASSERT_EQ(r[0] >> 8 & 0xFF, 57);

    uint64_t v = 0;
    /* 4-level: bit 48 set with bit 47 clear is non-canonical. */
    ASSERT_EQ(read_at(VA_HI, &v), VEC_GP);
    ASSERT_EQ(rt_fault.error, 0);
    expect_ss_fault(VA_HI);

    /* In IA-32e mode, a MOV to CR4 that changes LA57 is #GP(0). */
    ASSERT_EQ(catch_asm(RT_CATCH_BEGIN "mov %0, %%cr4" RT_CATCH_END
                        ::"r"(read_cr4() | CR4_LA57) : "memory"), VEC_GP);
    ASSERT_EQ(rt_fault.error, 0);
    ASSERT_EQ(read_cr4() & CR4_LA57, 0);

    pml5 = rt_alloc_page();
    pml5[0] = (uintptr_t)rt_pml4 | PTE_P | PTE_W; /* low 4 GiB as before */
    data_page[3] = 0x5757575757575757ull;
    map57(VA_HI, (uintptr_t)data_page);
    uint32_t cr3_4level = (uint32_t)read_cr3();
    la57_reload_paging((uint32_t)(uintptr_t)pml5,
                       (uint32_t)(read_cr4() | CR4_LA57));
    ASSERT(read_cr4() & CR4_LA57);
    ASSERT_EQ(rdmsr(MSR_EFER) & EFER_LMA, EFER_LMA);

    ASSERT_EQ(read_at(VA_HI + 24, &v), -1);
    ASSERT_EQ(v, 0x5757575757575757ull);
    *(volatile uint64_t *)(uintptr_t)(VA_HI + 32) = 0x42;
    ASSERT_EQ(data_page[4], 0x42);

    /* Canonical with bit 55, but PML5E 0x80 is not present: #PF, CR2 =
       the whole 57-bit address (6.15, Interrupt 14). */
    ASSERT_EQ(read_at(VA_NP, &v), VEC_PF);
    ASSERT_EQ(rt_fault.error, 0);
    ASSERT_EQ(rt_fault.cr2, VA_NP);

    /* 57-bit canonical means bits 63:57 equal bit 56 (3.3.7.1). */
    ASSERT_EQ(read_at(VA_NONCANON, &v), VEC_GP);
    ASSERT_EQ(rt_fault.error, 0);
    expect_ss_fault(VA_NONCANON);
    ASSERT_EQ(read_via_rbp(VA_HI + 24), -1);
    canonical_checks(57);

    la57_reload_paging(cr3_4level, (uint32_t)(read_cr4() & ~CR4_LA57));
    ASSERT_EQ(read_cr4() & CR4_LA57, 0);
    ASSERT_EQ(read_at(VA_HI, &v), VEC_GP);
}

void test_main(void)
{
    RUN_TEST(test_la57);
}
