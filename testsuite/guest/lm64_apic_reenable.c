/*
 * lm64_apic_reenable: globally disabling the local APIC through
 * IA32_APIC_BASE[11] and enabling it again (SDM Vol. 3A 10.4.3).  While
 * disabled the processor reports no APIC (CPUID.1:EDX.APIC = 0); enabled
 * again, the APIC is in its power-up state (SVR 0FFH, software-disabled,
 * every LVT masked) and works once software enables it: a self-IPI is
 * delivered.  Hypervisor test kernels depend on this sequence.
 */
#include "rt.h"

#define MSR_APIC_BASE 0x1b
#define APIC_BASE_EN (1ull << 11)
#define APIC_MMIO 0xfee00000ul
#define APIC_VERSION 0x30
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_LVT_TIMER 0x320
#define APIC_ICR_LO 0x300
#define VEC_IPI 0x41
#define ICR_FIXED_SELF (VEC_IPI | (1u << 18)) /* fixed delivery, shorthand self */

static uint32_t apic_read(unsigned reg)
{
    return *(volatile uint32_t *)(APIC_MMIO + reg);
}

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_MMIO + reg) = v;
}

volatile uint64_t ipi_count;
void ipi_entry(void);
__asm__(".text\nipi_entry:\n"
        "  push %rax\n"
        "  lock incq ipi_count(%rip)\n"
        "  mov $0xfee000b0, %rax\n"
        "  movl $0, (%rax)\n" /* EOI */
        "  pop %rax\n"
        "  iretq\n");

static bool cpuid_apic(void)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    return (r[3] >> 9) & 1;
}

static void test_disable_and_reenable(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    ASSERT(base & APIC_BASE_EN);
    ASSERT(cpuid_apic());
    apic_write(APIC_SVR, 0x1ff);
    ASSERT_EQ(apic_read(APIC_VERSION) & 0xff, 0x14); /* an integrated APIC */

    wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_EN);
    ASSERT_EQ(rdmsr(MSR_APIC_BASE) & APIC_BASE_EN, 0);
    ASSERT(!cpuid_apic()); /* 10.4.3: CPUID reports no APIC while disabled */

    wrmsr(MSR_APIC_BASE, base);
    ASSERT(cpuid_apic());
    /* power-up state (10.4.7.1): SVR 000000FFH, LVT entries masked */
    ASSERT_EQ(apic_read(APIC_SVR), 0xff);
    ASSERT_EQ(apic_read(APIC_LVT_TIMER) & (1u << 16), 1u << 16);

    rt_idt_set_gate(VEC_IPI, (uintptr_t)ipi_entry, 0x8E, RT_SEL_CODE64);
    apic_write(APIC_SVR, 0x1ff);
    ipi_count = 0;
    apic_write(APIC_ICR_LO, ICR_FIXED_SELF);
    __asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");
    ASSERT_EQ(ipi_count, 1);
}

void test_main(void)
{
    RUN_TEST(test_disable_and_reenable);
}
