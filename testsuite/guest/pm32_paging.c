/*
 * pm32_paging: the two 32-bit-mode paging forms (SDM Vol. 3A, 4.3 "32-bit
 * paging" with 4 KiB and 4 MiB pages, 4.4 "PAE paging"): translations,
 * and not-present / write-protect #PF error codes with CR2; INVLPG
 * beyond a segment limit.
 */
#include "rt.h"

extern char __image_end[];

#define VA_TEST 0x40000000u /* 1 GiB: outside RAM, never identity-mapped */
#define VA_BIG 0x80000000u  /* 2 GiB: 4 MiB pages */

static uint8_t page_x[4096] __attribute__((aligned(4096)));
static uint8_t page_y[4096] __attribute__((aligned(4096)));

/* 32-bit paging: 1024 4-byte entries per table. */
static uint32_t pd32[1024] __attribute__((aligned(4096)));
static uint32_t pt32_id[1024] __attribute__((aligned(4096)));
static uint32_t pt32_test[1024] __attribute__((aligned(4096)));

/* PAE paging: 4 PDPTEs (32-byte aligned, 4.4.1), 512 8-byte entries. */
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd_id[512] __attribute__((aligned(4096)));
static uint64_t pae_pd_test[512] __attribute__((aligned(4096)));
static uint64_t pae_pt_test[512] __attribute__((aligned(4096)));

static uint32_t peek(uint32_t va)
{
    barrier();
    uint32_t v = *(volatile uint32_t *)va;
    barrier();
    return v;
}

/* Access va and return the vector raised (-1 if none). */
static int try_read(uint32_t va)
{
    uint32_t v;
    return catch_asm(RT_CATCH_BEGIN "movl (%1), %0" RT_CATCH_END
                     : "=r"(v) : "r"(va) : "memory");
}

static int try_write(uint32_t va, uint32_t v)
{
    return catch_asm(RT_CATCH_BEGIN "movl %1, (%0)" RT_CATCH_END
                     ::"r"(va), "r"(v) : "memory");
}

static void expect_pf(int vector, uint32_t error, uint32_t cr2)
{
    ASSERT_EQ(vector, VEC_PF);
    ASSERT_EQ(rt_fault.error, error);
    ASSERT_EQ(rt_fault.cr2, cr2);
}

static void paging_off(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
}

static void test_32bit_4k_pages(void)
{
    /* Identity-map 0..4 MiB with 4 KiB pages (PDE -> PT, Table 4-5/4-6);
       the kernel image lives there. */
    ASSERT((uintptr_t)__image_end < 0x400000);
    for (uint32_t i = 0; i < 1024; i++)
        pt32_id[i] = (i << 12) | PTE_P | PTE_W;
    pd32[0] = (uintptr_t)pt32_id | PTE_P | PTE_W;
    pd32[VA_TEST >> 22] = (uintptr_t)pt32_test | PTE_P | PTE_W;
    pt32_test[0] = (uintptr_t)page_x | PTE_P | PTE_W;
    pt32_test[1] = (uintptr_t)page_y | PTE_P; /* read-only */
    /* pt32_test[2] stays 0: not present */

    write_cr3((uintptr_t)pd32);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);

    page_x[0x10] = 0xA5;
    page_y[0x20] = 0x3C;
    ASSERT_EQ(peek(VA_TEST + 0x10) & 0xFF, 0xA5);
    ASSERT_EQ(peek(VA_TEST + 0x1020) & 0xFF, 0x3C);
    ASSERT_EQ(try_write(VA_TEST + 0x14, 0x600DF00D), -1);
    ASSERT_EQ(*(volatile uint32_t *)&page_x[0x14], 0x600DF00D);

    /* #PF error codes, SDM Vol. 3A 4.7 Figure 4-12. */
    expect_pf(try_read(VA_TEST + 0x2008), 0, VA_TEST + 0x2008);
    expect_pf(try_write(VA_TEST + 0x200C, 1), PF_W, VA_TEST + 0x200C);
    expect_pf(try_write(VA_TEST + 0x1004, 1), PF_P | PF_W, VA_TEST + 0x1004);
    /* A not-present PDE gives the same code as a not-present PTE. */
    expect_pf(try_read(VA_TEST + 0x400000), 0, VA_TEST + 0x400000);

    /* INVLPG makes no segment check (Vol. 2A INVLPG: its only faults are
       #GP(0) at CPL > 0 and #UD): through ES = a 64 KiB data segment,
       offset VA_TEST lies far past the limit and still invalidates the
       linear address ES.base + VA_TEST = VA_TEST. */
    pt32_test[0] = (uintptr_t)page_y | PTE_P | PTE_W;
    ASSERT_EQ(catch_asm("mov %w1, %%es\n\t" RT_CATCH_BEGIN "invlpg %%es:(%0)"
                        RT_CATCH_END "mov %w2, %%es"
                        ::"r"(VA_TEST), "r"(RT_SEL_DATA16), "r"(RT_SEL_DATA)
                        : "memory"), -1);
    ASSERT_EQ(peek(VA_TEST + 0x20) & 0xFF, 0x3C);
    pt32_test[0] = (uintptr_t)page_x | PTE_P | PTE_W;
    invlpg(VA_TEST);
}

static void test_32bit_4m_pages(void)
{
    /* CR4.PSE=1 and PDE.PS=1: a 4 MiB page, bits 31:22 of the PDE give
       the frame (SDM Vol. 3A, 4.3, Table 4-4). */
    write_cr4(read_cr4() | CR4_PSE);
    pd32[VA_BIG >> 22] = 0x00000000u | PTE_P | PTE_W | PTE_PS;
    write_cr3((uintptr_t)pd32);

    page_x[0x40] = 0x99;
    ASSERT_EQ(peek(VA_BIG + (uintptr_t)page_x + 0x40) & 0xFF, 0x99);
    /* Writes through the 4 MiB alias land in the same physical byte. */
    ASSERT_EQ(try_write(VA_BIG + (uintptr_t)page_y + 0x44, 0x4D4D), -1);
    barrier();
    ASSERT_EQ(*(volatile uint32_t *)&page_y[0x44], 0x4D4D);
    /* The next 4 MiB is not mapped. */
    expect_pf(try_read(VA_BIG + 0x400123), 0, VA_BIG + 0x400123);
    paging_off();
}

static void test_pae(void)
{
    /* PAE: CR3 -> 4 PDPTEs; PDPTE bits other than P, PWT, PCD and the
       address are reserved (SDM Vol. 3A, 4.4.1, Table 4-8). */
    for (uint32_t i = 0; i < 512; i++) /* 0..1 GiB by 2 MiB pages */
        pae_pd_id[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
    pdpt[0] = (uintptr_t)pae_pd_id | PTE_P;
    pdpt[1] = (uintptr_t)pae_pd_test | PTE_P; /* 1..2 GiB: VA_TEST */
    pae_pd_test[0] = (uintptr_t)pae_pt_test | PTE_P | PTE_W;
    pae_pt_test[0] = (uintptr_t)page_y | PTE_P | PTE_W;
    pae_pt_test[3] = (uintptr_t)page_x | PTE_P; /* read-only */

    /* CR4.PAE may change only with paging off (else #GP, SDM 2.5). */
    write_cr4((read_cr4() | CR4_PAE) & ~CR4_PSE);
    write_cr3((uintptr_t)pdpt);
    write_cr0(read_cr0() | CR0_PG | CR0_WP);

    page_y[0x80] = 0x42;
    page_x[0x84] = 0x24;
    ASSERT_EQ(peek(VA_TEST + 0x80) & 0xFF, 0x42);
    ASSERT_EQ(peek(VA_TEST + 0x3084) & 0xFF, 0x24);

    expect_pf(try_read(VA_TEST + 0x1FF8), 0, VA_TEST + 0x1FF8);
    expect_pf(try_write(VA_TEST + 0x1000, 5), PF_W, VA_TEST + 0x1000);
    expect_pf(try_write(VA_TEST + 0x3000, 5), PF_P | PF_W, VA_TEST + 0x3000);
    /* Not-present PDPTE (pdpt[2] = 0). */
    expect_pf(try_read(0x80000010u), 0, 0x80000010u);
    paging_off();
}

void test_main(void)
{
    RUN_TEST(test_32bit_4k_pages);
    RUN_TEST(test_32bit_4m_pages);
    RUN_TEST(test_pae);
}
