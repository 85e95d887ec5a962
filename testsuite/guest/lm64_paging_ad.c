/*
 * lm64_paging_ad: accessed and dirty flags of 4-level paging, and INVLPG.
 *
 * SDM Vol. 3A, 4.8 "Accessed and Dirty Flags": the first use of an entry
 * for translation sets its A flag; a write sets D in the entry that maps
 * the page (the leaf only). 4.10.4.1: INVLPG drops the TLB entry for the
 * page, so the next access walks the (changed) tables.
 */
#include "rt.h"

/* Each test uses its own PML4 slot so every level starts with A = 0. */
#define VA_4K 0x0000010000000000ull  /* PML4 index 2 */
#define VA_2M 0x0000018000000000ull  /* PML4 index 3 */
#define VA_INV 0x0000020000000000ull /* PML4 index 4 */

static uint8_t page_a[4096] __attribute__((aligned(4096)));
static uint8_t page_b[4096] __attribute__((aligned(4096)));

/* Accesses through the test mappings; the barriers keep gcc from moving
   plain accesses to the aliased page_a/page_b across them. */
static uint64_t peek(uint64_t va)
{
    barrier();
    uint64_t v = *(volatile uint64_t *)(uintptr_t)va;
    barrier();
    return v;
}

static void poke(uint64_t va, uint64_t v)
{
    barrier();
    *(volatile uint64_t *)(uintptr_t)va = v;
    barrier();
}

/* MOV to CR3 drops all non-global TLB entries (SDM Vol. 3A, 4.10.4.1). */
static void flush_tlb(void)
{
    write_cr3(read_cr3());
}

static void test_4k_accessed_then_dirty(void)
{
    rt_map_4k(VA_4K, (uintptr_t)page_a, PTE_P | PTE_W);
    volatile uint64_t *pte = rt_pt_entry(VA_4K, 1, false);
    volatile uint64_t *pde = rt_pt_entry(VA_4K, 2, false);
    volatile uint64_t *pdpte = rt_pt_entry(VA_4K, 3, false);
    volatile uint64_t *pml4e = rt_pt_entry(VA_4K, 4, false);
    ASSERT_EQ(*pte & (PTE_A | PTE_D), 0);
    ASSERT_EQ(*pml4e & PTE_A, 0);
    flush_tlb();

    page_a[16] = 0x77;
    ASSERT_EQ(peek(VA_4K + 16) & 0xFF, 0x77);
    /* A read sets A at every level, D nowhere. */
    ASSERT_EQ(*pte & (PTE_A | PTE_D), PTE_A);
    ASSERT_EQ(*pde & PTE_A, PTE_A);
    ASSERT_EQ(*pdpte & PTE_A, PTE_A);
    ASSERT_EQ(*pml4e & PTE_A, PTE_A);

    /* A write through the (now cached, D=0) translation sets D in the PTE
       (4.8: D is set before the write completes); non-leaf entries have no
       D flag (bit 6 is ignored there), so it stays 0 in the PDE. */
    poke(VA_4K + 24, 0x1234);
    ASSERT_EQ(*(volatile uint64_t *)&page_a[24], 0x1234);
    ASSERT_EQ(*pte & (PTE_A | PTE_D), PTE_A | PTE_D);
    ASSERT_EQ(*pde & PTE_D, 0);
}

static void test_write_first_sets_both(void)
{
    uint64_t va = VA_4K + 0x1000;
    rt_map_4k(va, (uintptr_t)page_b, PTE_P | PTE_W);
    volatile uint64_t *pte = rt_pt_entry(va, 1, false);
    flush_tlb();
    poke(va, 0xABCD);
    ASSERT_EQ(*pte & (PTE_A | PTE_D), PTE_A | PTE_D);
}

static void test_2m_page_ad(void)
{
    /* A 2 MiB page (PDE with PS=1, SDM 4.5.4 Table 4-18) keeps A and D in
       the PDE. Map the 2 MiB region that holds page_a. */
    uint64_t base = (uintptr_t)page_a & ~0x1FFFFFull;
    uint64_t off = (uintptr_t)page_a - base;
    volatile uint64_t *pde = rt_pt_entry(VA_2M, 2, true);
    *pde = base | PTE_P | PTE_W | PTE_PS;
    flush_tlb();

    page_a[40] = 0x5C;
    ASSERT_EQ(peek(VA_2M + off + 40) & 0xFF, 0x5C);
    ASSERT_EQ(*pde & (PTE_A | PTE_D), PTE_A);
    poke(VA_2M + off + 48, 7);
    ASSERT_EQ(*pde & (PTE_A | PTE_D), PTE_A | PTE_D);
    ASSERT_EQ(*(volatile uint64_t *)&page_a[48], 7);
}

static void test_invlpg_sees_new_mapping(void)
{
    *(volatile uint64_t *)page_a = 0x1111;
    *(volatile uint64_t *)page_b = 0x2222;
    rt_map_4k(VA_INV, (uintptr_t)page_a, PTE_P | PTE_W);
    ASSERT_EQ(peek(VA_INV), 0x1111); /* the translation is now cached */

    volatile uint64_t *pte = rt_pt_entry(VA_INV, 1, false);
    *pte = (uintptr_t)page_b | PTE_P | PTE_W;
    /* Without INVLPG the processor may still use the old translation
       (4.10.4.2); either value is architectural, so it is only shown. */
    rt_printf("# before INVLPG the remapped page reads 0x%llx (%s)\n",
              (unsigned long long)peek(VA_INV),
              peek(VA_INV) == 0x1111 ? "stale TLB entry" : "re-walked");
    invlpg(VA_INV);
    ASSERT_EQ(peek(VA_INV), 0x2222);

    /* Not-present after INVLPG: the access must fault. */
    *pte = 0;
    invlpg(VA_INV);
    int v = catch_asm(RT_CATCH_BEGIN "movq (%0), %%rax" RT_CATCH_END
                      ::"r"(VA_INV) : "rax", "memory");
    ASSERT_EQ(v, VEC_PF);
    ASSERT_EQ(rt_fault.error, 0);
    ASSERT_EQ(rt_fault.cr2, VA_INV);
}

void test_main(void)
{
    RUN_TEST(test_4k_accessed_then_dirty);
    RUN_TEST(test_write_first_sets_both);
    RUN_TEST(test_2m_page_ad);
    RUN_TEST(test_invlpg_sees_new_mapping);
}
