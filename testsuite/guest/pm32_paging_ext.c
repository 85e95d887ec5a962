/*
 * pm32_paging_ext: PAE PDPTE loading and PSE-36 in 32-bit paging.
 *
 * PAE (SDM Vol. 3A, 4.4.1): MOV to CR3 with CR0.PG = 1 and CR4.PAE = 1
 * loads the four PDPTEs; a present PDPTE with a reserved bit set makes
 * the MOV #GP(0), and CR3 keeps its old value.
 * PSE-36 (4.3, Table 4-4): a 4 MiB PDE holds physical-address bits
 * (MAXPHYADDR-1):32 in bits (MAXPHYADDR-20):13; the bits above, to 21,
 * are reserved (#PF with RSVD).
 */
#include "rt.h"

#define TEST_VA 0x80000000u
static uint64_t pdpt[4] __attribute__((aligned(32)));
static uint64_t bad_pdpt[4] __attribute__((aligned(32)));
static uint64_t pae_pd[512] __attribute__((aligned(4096)));
static uint32_t pd32[1024] __attribute__((aligned(4096)));

static void paging_off(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
    write_cr4(read_cr4() & ~(CR4_PAE | CR4_PSE));
}

static void test_pae_pdpte_reserved(void)
{
    for (unsigned i = 0; i < 512; i++) /* 0-1 GiB identity, 2 MiB pages */
        pae_pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
    pdpt[0] = (uintptr_t)pae_pd | PTE_P;
    write_cr4(read_cr4() | CR4_PAE);
    write_cr3((uintptr_t)pdpt);
    write_cr0(read_cr0() | CR0_PG);

    /* Bits 2:1 and 8:5 of a PAE PDPTE are reserved (Table 4-8). */
    static const uint64_t bad_bits[] = { 0x2, 0x4, 0x20, 0x100,
                                         1ull << 51 };
    for (unsigned i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++) {
        bad_pdpt[0] = pdpt[0];
        bad_pdpt[1] = (uintptr_t)pae_pd | PTE_P | bad_bits[i];
        int v = catch_asm(RT_CATCH_BEGIN "mov %0, %%cr3" RT_CATCH_END
                          ::"r"((uintptr_t)bad_pdpt) : "memory");
        if (v == -1 && rt_cmdline_has("qemu-tcg")) {
            /* QEMU TCG reads PDPTEs at walk time, not at MOV CR3. */
            rt_printf("# qemu-tcg: no #GP for a reserved PDPTE bit\n");
            write_cr3((uintptr_t)pdpt);
            continue;
        }
        ASSERT_EQ(v, VEC_GP);
        ASSERT_EQ(rt_fault.error, 0);
        ASSERT_EQ(read_cr3(), (uintptr_t)pdpt);
    }
    /* The same bits in a not-present PDPTE are ignored. */
    bad_pdpt[1] = 0x2 | 0x100;
    write_cr3((uintptr_t)bad_pdpt);
    ASSERT_EQ(read_cr3(), (uintptr_t)bad_pdpt);
    paging_off();
}

static void test_pse36(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[3] >> 17 & 1))
        rt_fail(RT_FILE, __LINE__, "CPUID.01H:EDX.PSE-36[17] is 0");
    cpuid(0x80000008, 0, r);
    unsigned maxphy = r[0] & 0xFF;
    ASSERT(maxphy > 32 && maxphy <= 40);

    for (unsigned i = 0; i < 256; i++) /* 0-1 GiB identity, 4 MiB pages */
        pd32[i] = (i << 22) | PTE_P | PTE_W | PTE_PS;
    volatile uint32_t *low = (volatile uint32_t *)0x800000;
    *low = 0x36363636;
    /* PDE for TEST_VA: phys 0x1_0080_0000 (bit 32 in PDE bit 13). */
    pd32[TEST_VA >> 22] = 0x800000 | (1u << 13) | PTE_P | PTE_W | PTE_PS;
    write_cr4(read_cr4() | CR4_PSE);
    write_cr3((uintptr_t)pd32);
    write_cr0(read_cr0() | CR0_PG);

    /* Without bits 39:32 the access would alias the marker at 8 MiB;
       phys 4 GiB + 8 MiB is not RAM here, so it must not read the
       marker. */
    uint32_t v = 0;
    int vec = catch_asm(RT_CATCH_BEGIN "movl (%1), %0" RT_CATCH_END
                        : "+r"(v) : "r"(TEST_VA) : "memory");
    ASSERT_EQ(vec, -1);
    ASSERT_NE(v, 0x36363636);

    /* With bit 32 clear the same PDE does reach the marker. */
    pd32[TEST_VA >> 22] = 0x800000 | PTE_P | PTE_W | PTE_PS;
    invlpg(TEST_VA);
    ASSERT_EQ(*(volatile uint32_t *)TEST_VA, 0x36363636);

    /* Bit 21 is reserved when MAXPHYADDR <= 40: #PF, P|RSVD = 0x9. */
    if (maxphy <= 40) {
        pd32[TEST_VA >> 22] = 0x800000 | (1u << 21) | PTE_P | PTE_W | PTE_PS;
        invlpg(TEST_VA);
        vec = catch_asm(RT_CATCH_BEGIN "movl (%1), %0" RT_CATCH_END
                        : "+r"(v) : "r"(TEST_VA) : "memory");
        ASSERT_EQ(vec, VEC_PF);
        if (rt_fault.error == PF_RSVD && rt_cmdline_has("qemu-tcg"))
            rt_printf("# qemu-tcg: #PF error 0x8 (SDM: 0x9)\n");
        else
            ASSERT_EQ(rt_fault.error, PF_P | PF_RSVD);
        ASSERT_EQ(rt_fault.cr2, TEST_VA);
    }
    paging_off();
}

void test_main(void)
{
    RUN_TEST(test_pae_pdpte_reserved);
    RUN_TEST(test_pse36);
}
