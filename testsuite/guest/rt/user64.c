/*
 * Ring 3 for 64-bit tests: a larger GDT with user segments and a TSS, a
 * user-accessible window over the kernel image, and the exit gate.
 *
 * Paging: the runtime maps 0-2 MiB with one supervisor 2 MiB page. Here
 * that page becomes a 4 KiB page table in which only the .user section
 * (RT_USER_TEXT / RT_USER_DATA, link.ld) has U=1; the PML4E, PDPTE and PDE
 * above it get U=1 too, since a user access needs U=1 at every level (SDM
 * Vol. 3A, 4.6.1). Everything else stays supervisor, so SMEP and SMAP see
 * the kernel as supervisor code and data.
 */
#ifdef __x86_64__
#include "rt.h"

extern uint64_t rt_gdt[RT_GDT_ENTRIES];
extern uint64_t rt_pml4[512], rt_pdpt[512], rt_pd[2048];
extern char __user_start[], __user_end[];
extern char rt_user_exit_isr[];

struct rt_tss64 rt_tss __attribute__((aligned(16)));
static uint64_t gdt[18] __attribute__((aligned(16)));
static uint64_t low_pt[512] __attribute__((aligned(4096)));
static bool ready;

/* Segment descriptor access bytes (SDM Vol. 3A, 3.4.5, Figure 3-8). */
#define DESC_CODE64(dpl) (0x00AF9A000000FFFFull | ((uint64_t)(dpl) << 45))
#define DESC_CODE32(dpl) (0x00CF9A000000FFFFull | ((uint64_t)(dpl) << 45))
#define DESC_DATA(dpl) (0x00CF92000000FFFFull | ((uint64_t)(dpl) << 45))

static void load_gdt(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } desc = { sizeof(gdt) - 1, (uintptr_t)gdt };
    __asm__ volatile("lgdt %0" ::"m"(desc) : "memory");
}

void rt_gdt_set(uint16_t sel, uint64_t d)
{
    gdt[sel >> 3] = d;
}

uint64_t rt_gdt_get(uint16_t sel)
{
    return gdt[sel >> 3];
}

void rt_user_init(void)
{
    if (ready)
        return;
    memcpy(gdt, rt_gdt, sizeof(uint64_t) * RT_GDT_ENTRIES);
    gdt[RT_SEL_KCODE >> 3] = DESC_CODE64(0);
    gdt[RT_SEL_KDATA >> 3] = DESC_DATA(0);
    gdt[RT_SEL_UCODE32 >> 3] = DESC_CODE32(3);
    gdt[RT_SEL_UDATA >> 3] = DESC_DATA(3);
    gdt[RT_SEL_UCODE64 >> 3] = DESC_CODE64(3);
    gdt[RT_SEL_UDATA2 >> 3] = DESC_DATA(3);

    /* 64-bit TSS descriptor, type 9 = available (SDM 8.2.3, Fig. 8-4). */
    uint64_t base = (uintptr_t)&rt_tss, limit = sizeof(rt_tss) - 1;
    rt_tss.iopb = sizeof(rt_tss); /* no I/O permission bitmap */
    gdt[RT_SEL_TSS >> 3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
                           (0x89ull << 40) | ((base >> 24 & 0xFF) << 56);
    gdt[(RT_SEL_TSS >> 3) + 1] = base >> 32;
    load_gdt();
    __asm__ volatile("ltr %w0" ::"r"(RT_SEL_TSS));

    uintptr_t us = (uintptr_t)__user_start, ue = (uintptr_t)__user_end;
    if (ue > 0x200000)
        rt_fail(RT_FILE, __LINE__, "user section above 2 MiB");
    for (unsigned i = 0; i < 512; i++) {
        uint64_t pa = (uint64_t)i << 12;
        low_pt[i] = pa | PTE_P | PTE_W;
        if (pa >= us && pa < ue)
            low_pt[i] |= PTE_U;
    }
    rt_pd[0] = (uintptr_t)low_pt | PTE_P | PTE_W | PTE_U;
    rt_pdpt[0] |= PTE_U;
    rt_pml4[0] |= PTE_U;
    write_cr3(read_cr3());

    rt_idt_set_gate(RT_VEC_USER_EXIT, (uintptr_t)rt_user_exit_isr, 0xEE, 0);
    ready = true;
}
#endif
