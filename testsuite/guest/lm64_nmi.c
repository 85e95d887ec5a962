/*
 * lm64_nmi: NMI delivery and blocking (SDM Vol. 3A 6.7.1): an NMI sent
 * to self through the local APIC's ICR (delivery mode NMI, shorthand
 * self; SDM 10.6.1) is taken through vector 2 even with IF = 0; while
 * its handler runs, further NMIs are held, and the held one is taken
 * right after the handler's IRET — before the interrupted code runs
 * another instruction, and before a maskable interrupt that became
 * deliverable at the same boundary (SDM 6.9, Table 6-2: NMI is priority
 * 4, maskable interrupts 5).
 */
#include "rt.h"

#define APIC_BASE 0xfee00000ul
#define APIC_SVR 0xf0
#define APIC_EOI 0xb0
#define APIC_ICR_LO 0x300
#define ICR_NMI_SELF ((4u << 8) | (1u << 18)) /* delivery mode 100, shorthand 01 */
#define VEC_IPI 0x40
#define ICR_FIXED_SELF (VEC_IPI | (1u << 18))  /* delivery mode 000 */
#define RFLAGS_IF (1ull << 9)

/* What ran, in order: each handler's entry (with the RIP it interrupted)
 * and end, and the test code once it resumed. */
enum { EV_NMI_ENTER = 1, EV_NMI_END, EV_IPI, EV_MAIN };
#define LOG_MAX 8
static volatile struct {
    uint64_t what, rip;
} nmi_log[LOG_MAX];
static volatile unsigned log_n;
volatile uint64_t nmi_count, nmi_nested_seen;
static volatile int nmi_resend, ipi_too;

static void log_event(uint64_t what, uint64_t rip)
{
    unsigned n = log_n++;
    if (n < LOG_MAX) {
        nmi_log[n].what = what;
        nmi_log[n].rip = rip;
    }
}

static void apic_write(unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(APIC_BASE + reg) = v;
}

/* the frame the CPU pushed: RIP, CS, RFLAGS, RSP, SS */
void nmi_body(uint64_t *frame);
void nmi_body(uint64_t *frame)
{
    log_event(EV_NMI_ENTER, frame[0]);
    nmi_count++;
    if (nmi_resend) {
        nmi_resend = 0;
        apic_write(APIC_ICR_LO, ICR_NMI_SELF); /* held: NMIs are blocked until IRET */
        if (ipi_too) {
            /* held in the IRR while IF = 0; the IRET sets IF */
            apic_write(APIC_ICR_LO, ICR_FIXED_SELF);
            frame[2] |= RFLAGS_IF;
        }
        for (volatile int k = 0; k < 1000; k++)
            ;
        nmi_nested_seen = nmi_count; /* still 1 if the second NMI waited */
    }
    log_event(EV_NMI_END, 0);
}

void ipi_body(uint64_t *frame);
void ipi_body(uint64_t *frame)
{
    log_event(EV_IPI, frame[0]);
    apic_write(APIC_EOI, 0);
}

/* Stack at entry: 8 mod 16 (64-bit delivery aligns, then pushes five
 * quadwords); nine registers make it 0 for the call. */
#define ENTRY(name, body)                                                 \
    __asm__(".text\n.globl " #name "\n" #name ":\n"                       \
            "  push %rax\n  push %rcx\n  push %rdx\n  push %rsi\n"        \
            "  push %rdi\n  push %r8\n  push %r9\n  push %r10\n"          \
            "  push %r11\n"                                               \
            "  lea 72(%rsp), %rdi\n"                                      \
            "  call " #body "\n"                                          \
            "  pop %r11\n  pop %r10\n  pop %r9\n  pop %r8\n"              \
            "  pop %rdi\n  pop %rsi\n  pop %rdx\n  pop %rcx\n  pop %rax\n"\
            "  iretq\n");                                                 \
    void name(void)
ENTRY(nmi_entry, nmi_body);
ENTRY(ipi_entry, ipi_body);

static void start(int with_ipi)
{
    rt_idt_set_gate(2, (uintptr_t)nmi_entry, 0x8E, RT_SEL_CODE64);
    rt_idt_set_gate(VEC_IPI, (uintptr_t)ipi_entry, 0x8E, RT_SEL_CODE64);
    apic_write(APIC_SVR, 0x1ff); /* APIC software-enabled, spurious vector 0xff */
    __asm__ volatile("cli");
    nmi_count = 0;
    nmi_nested_seen = 0;
    log_n = 0;
    ipi_too = with_ipi;
    nmi_resend = 1;
    apic_write(APIC_ICR_LO, ICR_NMI_SELF);
    for (volatile int k = 0; k < 1000; k++)
        ;
    __asm__ volatile("cli");
    log_event(EV_MAIN, 0);
}

#define expect_log(k, what) expect_log_at((k), (what), __LINE__)
static void expect_log_at(unsigned k, uint64_t what, int line)
{
    if (nmi_log[k].what != what)
        rt_fail(RT_FILE, line, "event %u is %llu, expected %llu", k,
                (unsigned long long)nmi_log[k].what, (unsigned long long)what);
}

static void test_nmi_blocked_until_iret(void)
{
    start(0);
    ASSERT_EQ(nmi_count, 2);       /* both NMIs, IF = 0 notwithstanding */
    ASSERT_EQ(nmi_nested_seen, 1); /* the second waited for the first's IRET */
    ASSERT_EQ(log_n, 5);
    expect_log(0, EV_NMI_ENTER);
    expect_log(1, EV_NMI_END);     /* the first handler ran to its end */
    expect_log(2, EV_NMI_ENTER);   /* then the held NMI ... */
    expect_log(3, EV_NMI_END);
    expect_log(4, EV_MAIN);        /* ... all before the test code resumed */
    /* right after the IRET: the interrupted code ran no instruction in
     * between, so both NMIs interrupted it at the same RIP */
    ASSERT_EQ(nmi_log[2].rip, nmi_log[0].rip);
}

/* The first NMI's IRET also sets IF, with a fixed self-IPI waiting:
 * the held NMI goes first, then the interrupt, both at the boundary the
 * first NMI interrupted. */
static void test_nmi_before_interrupt(void)
{
    start(1);
    ASSERT_EQ(nmi_count, 2);
    ASSERT_EQ(nmi_nested_seen, 1);
    ASSERT_EQ(log_n, 6);
    expect_log(0, EV_NMI_ENTER);
    expect_log(1, EV_NMI_END);
    expect_log(2, EV_NMI_ENTER);
    expect_log(3, EV_NMI_END);
    expect_log(4, EV_IPI);
    expect_log(5, EV_MAIN);
    ASSERT_EQ(nmi_log[2].rip, nmi_log[0].rip);
    ASSERT_EQ(nmi_log[4].rip, nmi_log[0].rip);
}

void test_main(void)
{
    RUN_TEST(test_nmi_blocked_until_iret);
    RUN_TEST(test_nmi_before_interrupt);
}
