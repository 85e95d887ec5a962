/*
 * lm64_nmi: NMI delivery and blocking (SDM Vol. 3A 6.7.1): an NMI sent
 * to self through the local APIC's ICR (delivery mode NMI, shorthand
 * self; SDM 10.6.1) is taken through vector 2 even with IF = 0; while
 * its handler runs, further NMIs are held, and the held one is taken
 * right after the handler's IRET.
 */
#include "rt.h"

#define APIC_BASE 0xfee00000ul
#define APIC_SVR 0xf0
#define APIC_ICR_LO 0x300
#define ICR_NMI_SELF ((4u << 8) | (1u << 18)) /* delivery mode 100, shorthand 01 */

volatile uint64_t nmi_count, nmi_nested_seen, nmi_order[4];
volatile int nmi_resend;

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

void nmi_body(void);
void nmi_body(void)
{
    unsigned n = (unsigned)nmi_count++;
    if (n < 4)
        nmi_order[n] = n;
    if (nmi_resend) {
        nmi_resend = 0;
        apic_write(APIC_ICR_LO, ICR_NMI_SELF); /* held: NMIs are blocked until IRET */
        for (volatile int k = 0; k < 1000; k++)
            ;
        nmi_nested_seen = nmi_count; /* still 1 if the second NMI waited */
    }
}

__asm__(".text\n.globl nmi_entry\n"
        "nmi_entry:\n"
        "  push %rax\n  push %rcx\n  push %rdx\n  push %rsi\n  push %rdi\n"
        "  push %r8\n  push %r9\n  push %r10\n  push %r11\n"
        "  call nmi_body\n"
        "  pop %r11\n  pop %r10\n  pop %r9\n  pop %r8\n"
        "  pop %rdi\n  pop %rsi\n  pop %rdx\n  pop %rcx\n  pop %rax\n"
        "  iretq\n");
void nmi_entry(void);

static void test_nmi_blocked_until_iret(void)
{
    rt_idt_set_gate(2, (uintptr_t)nmi_entry, 0x8E, RT_SEL_CODE64);
    apic_write(APIC_SVR, 0x1ff); /* APIC software-enabled, spurious vector 0xff */
    __asm__ volatile("cli");
    nmi_count = 0;
    nmi_resend = 1;
    apic_write(APIC_ICR_LO, ICR_NMI_SELF);
    for (volatile int k = 0; k < 1000; k++)
        ;
    ASSERT_EQ(nmi_count, 2);       /* both NMIs, IF = 0 notwithstanding */
    ASSERT_EQ(nmi_nested_seen, 1); /* the second waited for the first's IRET */
}

void test_main(void)
{
    RUN_TEST(test_nmi_blocked_until_iret);
}
