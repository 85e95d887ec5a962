/* testsuite/unit/dev_lapic.c — local APIC against the SDM (Vol. 3A
 * chapter 10): reset values, virtual wire, priorities, EOI broadcast,
 * the timer's three modes, x2APIC MSRs, CR8, ICR and ESR. */
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "testsuite/unit/dev_stubs.h"

static struct lapic *l;

static void setup(bool with_pic)
{
    test_board(256ull << 20, with_pic);
    l = lapic_create(&test_m);
    test_intr = false; /* lapic_reset told the CPU its INTR is low */
}

static uint32_t rd(uint32_t off) { return (uint32_t)phys_read(&test_m.phys, LAPIC_DEFAULT_BASE + off, 4); }
static void wr(uint32_t off, uint32_t v) { phys_write(&test_m.phys, LAPIC_DEFAULT_BASE + off, v, 4); }

static void enable(void)
{
    wr(APIC_SVR, APIC_SVR_ENABLE | 0xFF);
}

static void reset_values(void)
{
    setup(false);
    UNIT_CHECK(rd(APIC_VER) == 0x00050014u);
    UNIT_CHECK(rd(APIC_ID) == 0);
    UNIT_CHECK(rd(APIC_SVR) == 0xFF);
    UNIT_CHECK(rd(APIC_DFR) == 0xFFFFFFFFu);
    UNIT_CHECK(rd(APIC_TPR) == 0 && rd(APIC_PPR) == 0 && rd(APIC_LDR) == 0);
    UNIT_CHECK(rd(APIC_LVT_TIMER) == APIC_LVT_MASKED);
    UNIT_CHECK(rd(APIC_LVT_ERROR) == APIC_LVT_MASKED);
    /* virtual wire as a BIOS leaves it: LINT0 ExtINT, LINT1 NMI */
    UNIT_CHECK(rd(APIC_LVT_LINT0) == 0x700 && rd(APIC_LVT_LINT1) == 0x400);
    UNIT_CHECK(l->base_msr == (0xFEE00000u | APIC_BASE_EN | APIC_BASE_BSP));
    wr(APIC_ID, 0x05000000u);
    UNIT_CHECK(rd(APIC_ID) == 0x05000000u);
    wr(APIC_VER, 0);
    UNIT_CHECK(rd(APIC_VER) == 0x00050014u); /* read-only */
}

static void virtual_wire_pic(void)
{
    setup(true);
    outb(0x21, 0xFE); /* only IRQ0 */
    machine_set_irq(&test_m, 0, 1);
    UNIT_CHECK(test_intr);
    UNIT_CHECK(lapic_intack(l) == 0x20);
    machine_set_irq(&test_m, 0, 0);
    outb(0x20, 0x20);
    UNIT_CHECK(!test_intr);
    /* masking LINT0 cuts the PIC off */
    enable();
    wr(APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700);
    machine_set_irq(&test_m, 0, 1);
    UNIT_CHECK(!test_intr);
    /* a hardware-disabled APIC is a plain wire */
    lapic_base_write(l, LAPIC_DEFAULT_BASE | APIC_BASE_BSP);
    UNIT_CHECK(test_intr);
    UNIT_CHECK(lapic_intack(l) == 0x20);
    UNIT_CHECK(rd(APIC_VER) == 0xFFFFFFFFu); /* MMIO off while disabled */
}

static void priorities_and_eoi(void)
{
    setup(false);
    lapic_deliver(l, APIC_DM_FIXED, 0x41, false);
    UNIT_CHECK(!test_intr); /* software-disabled: held in IRR */
    UNIT_CHECK(rd(APIC_IRR + 0x20) == 1u << 1);
    enable();
    UNIT_CHECK(test_intr);
    lapic_deliver(l, APIC_DM_FIXED, 0x62, false);
    UNIT_CHECK(lapic_intack(l) == 0x62);
    UNIT_CHECK(rd(APIC_ISR + 0x30) == 1u << 2 && rd(APIC_PPR) == 0x60);
    UNIT_CHECK(!test_intr); /* 0x41 is below the in-service class */
    UNIT_CHECK(lapic_intack(l) == -1);
    wr(APIC_EOI, 0);
    UNIT_CHECK(rd(APIC_PPR) == 0 && test_intr);
    wr(APIC_TPR, 0x50);
    UNIT_CHECK(!test_intr && rd(APIC_PPR) == 0x50);
    UNIT_CHECK(rd(APIC_APR) == 0x50);
    wr(APIC_TPR, 0x3F);
    UNIT_CHECK(test_intr && rd(APIC_PPR) == 0x3F);
    UNIT_CHECK(lapic_intack(l) == 0x41);
    wr(APIC_EOI, 0);
    UNIT_CHECK(lapic_highest_isr(l) < 0 && lapic_highest_irr(l) < 0 && !test_intr);
    /* vectors 0-15 are illegal: receive-illegal-vector error */
    lapic_deliver(l, APIC_DM_FIXED, 0x05, false);
    wr(APIC_ESR, 0);
    UNIT_CHECK(rd(APIC_ESR) == APIC_ESR_RECEIVE_ILLEGAL_VECTOR);
    wr(APIC_ESR, 0);
    UNIT_CHECK(rd(APIC_ESR) == 0);
}

static void level_eoi_broadcast(void)
{
    setup(false);
    struct ioapic *io = ioapic_create(&test_m);
    enable();
    /* pin 9: vector 0x59, level, physical destination 0 */
    ioapic_mmio_write(io, 0x00, IOAPIC_REG_REDTBL + 18);
    ioapic_mmio_write(io, 0x10, 0x59 | IOAPIC_RTE_LEVEL);
    machine_set_irq(&test_m, 9, 1);
    UNIT_CHECK(test_intr);
    UNIT_CHECK(rd(APIC_TMR + 0x20) == 1u << 25);
    UNIT_CHECK(io->redir[9] & IOAPIC_RTE_REMOTE_IRR);
    UNIT_CHECK(lapic_intack(l) == 0x59);
    /* still asserted: the EOI broadcast makes the IOAPIC send it again */
    wr(APIC_EOI, 0);
    UNIT_CHECK(test_intr && (io->redir[9] & IOAPIC_RTE_REMOTE_IRR));
    UNIT_CHECK(lapic_intack(l) == 0x59);
    machine_set_irq(&test_m, 9, 0);
    wr(APIC_EOI, 0);
    UNIT_CHECK(!(io->redir[9] & IOAPIC_RTE_REMOTE_IRR) && !test_intr);
}

static void timer_oneshot(void)
{
    setup(false);
    enable();
    wr(APIC_TIMER_DCR, 0x1); /* divide by 4 */
    wr(APIC_LVT_TIMER, 0x30);
    wr(APIC_TIMER_ICR, 1000);
    UNIT_CHECK(rd(APIC_TIMER_CCR) == 1000);
    test_advance(2000, 100);
    UNIT_CHECK(rd(APIC_TIMER_CCR) == 500);
    UNIT_CHECK(!test_intr);
    test_advance(2000, 100);
    UNIT_CHECK(test_intr && rd(APIC_TIMER_CCR) == 0);
    UNIT_CHECK(lapic_intack(l) == 0x30);
    wr(APIC_EOI, 0);
    test_advance(100000, 1000);
    UNIT_CHECK(!test_intr); /* one-shot: once */
    /* the divide values: 0xB is 1, 0x3 is 16, 0xA is 128 */
    wr(APIC_TIMER_DCR, 0xB);
    wr(APIC_TIMER_ICR, 1000);
    test_advance(500, 500);
    UNIT_CHECK(rd(APIC_TIMER_CCR) == 500);
    wr(APIC_TIMER_DCR, 0xA);
    wr(APIC_TIMER_ICR, 1000);
    test_advance(1280, 1280);
    UNIT_CHECK(rd(APIC_TIMER_CCR) == 990);
    UNIT_CHECK(rd(APIC_TIMER_DCR) == 0xA);
}

static void timer_periodic(void)
{
    setup(false);
    enable();
    wr(APIC_TIMER_DCR, 0xB);
    wr(APIC_LVT_TIMER, 0x31 | (APIC_TIMER_PERIODIC << 17));
    wr(APIC_TIMER_ICR, 100000); /* 100 us at 1 GHz */
    int n = 0;
    for (int k = 0; k < 100; k++) {
        test_advance(10000, 10000);
        if (test_intr) {
            n += lapic_intack(l) == 0x31;
            wr(APIC_EOI, 0);
        }
    }
    UNIT_CHECKF(n == 10, "%d interrupts in 1 ms", n);
    UNIT_CHECK(rd(APIC_TIMER_CCR) == 100000);
    /* masked: counts on, no interrupt */
    wr(APIC_LVT_TIMER, APIC_LVT_MASKED | 0x31 | (APIC_TIMER_PERIODIC << 17));
    test_advance(1000000, 10000);
    UNIT_CHECK(!test_intr);
}

static void timer_tsc_deadline(void)
{
    setup(false);
    enable();
    test_tsc_offset = 123456;
    uint64_t v = 1;
    wr(APIC_LVT_TIMER, 0x32); /* one-shot: the MSR reads 0 and ignores writes */
    UNIT_CHECK(lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 999) && lapic_msr_read(l, MSR_IA32_TSC_DEADLINE, &v));
    UNIT_CHECK(v == 0);
    wr(APIC_TIMER_ICR, 5000);
    wr(APIC_LVT_TIMER, 0x32 | (APIC_TIMER_TSC_DEADLINE << 17));
    UNIT_CHECK(rd(APIC_TIMER_ICR) == 0); /* the mode change disarmed the count */
    uint64_t deadline = machine_tsc(&test_m) + 5000;
    UNIT_CHECK(lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, deadline));
    UNIT_CHECK(lapic_msr_read(l, MSR_IA32_TSC_DEADLINE, &v) && v == deadline);
    test_advance(4900, 100);
    UNIT_CHECK(!test_intr);
    test_advance(100, 100);
    UNIT_CHECK(test_intr && lapic_intack(l) == 0x32);
    UNIT_CHECK(lapic_msr_read(l, MSR_IA32_TSC_DEADLINE, &v) && v == 0);
    wr(APIC_EOI, 0);
    /* a deadline in the past fires at once; writing 0 disarms */
    UNIT_CHECK(lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 1));
    test_advance(1, 1);
    UNIT_CHECK(test_intr && lapic_intack(l) == 0x32);
    wr(APIC_EOI, 0);
    lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, machine_tsc(&test_m) + 100);
    lapic_msr_write(l, MSR_IA32_TSC_DEADLINE, 0);
    test_advance(1000, 100);
    UNIT_CHECK(!test_intr);
}

static void x2apic_msrs(void)
{
    setup(false);
    uint64_t v;
    UNIT_CHECK(!lapic_msr_read(l, 0x803, &v)); /* xAPIC mode: #GP */
    lapic_base_write(l, LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP);
    UNIT_CHECK(lapic_msr_read(l, 0x803, &v) && v == 0x00050014u);
    UNIT_CHECK(lapic_msr_read(l, 0x802, &v) && v == 0);
    UNIT_CHECK(lapic_msr_read(l, 0x80D, &v) && v == 1); /* cluster 0, bit 0 */
    UNIT_CHECK(!lapic_msr_read(l, 0x809, &v));   /* no APR */
    UNIT_CHECK(!lapic_msr_read(l, 0x80E, &v));   /* no DFR */
    UNIT_CHECK(!lapic_msr_read(l, 0x83F, &v));   /* SELF IPI is write-only */
    UNIT_CHECK(!lapic_msr_write(l, 0x802, 1));   /* ID read-only */
    UNIT_CHECK(rd(APIC_VER) == 0xFFFFFFFFu);     /* MMIO off in x2APIC mode */
    UNIT_CHECK(lapic_msr_write(l, 0x80F, 0x1FF));
    UNIT_CHECK(lapic_msr_write(l, 0x83F, 0x45));
    UNIT_CHECK(test_intr && lapic_intack(l) == 0x45);
    UNIT_CHECK(!lapic_msr_write(l, 0x80B, 1));   /* EOI takes only 0 */
    UNIT_CHECK(lapic_msr_write(l, 0x80B, 0) && lapic_highest_isr(l) < 0);
    /* 64-bit ICR: fixed IPI to physical ID 0 */
    UNIT_CHECK(lapic_msr_write(l, 0x830, 0x46));
    UNIT_CHECK(lapic_msr_read(l, 0x830, &v) && v == 0x46);
    UNIT_CHECK(lapic_intack(l) == 0x46);
    /* to ID 1: nobody */
    UNIT_CHECK(lapic_msr_write(l, 0x830, (1ull << 32) | 0x47));
    UNIT_CHECK(lapic_highest_irr(l) < 0);
    UNIT_CHECK(!lapic_msr_write(l, 0x808, 1ull << 32)); /* reserved bits */
}

static void cr8_is_tpr(void)
{
    setup(false);
    enable();
    lapic_cr8_write(l, 0x7);
    UNIT_CHECK(rd(APIC_TPR) == 0x70 && lapic_cr8_read(l) == 0x7);
    wr(APIC_TPR, 0xA5);
    UNIT_CHECK(lapic_cr8_read(l) == 0xA);
    lapic_deliver(l, APIC_DM_FIXED, 0xA9, false);
    UNIT_CHECK(!test_intr);
    lapic_cr8_write(l, 0x9);
    UNIT_CHECK(test_intr);
}

static void icr_self_ipis(void)
{
    setup(false);
    enable();
    /* shorthand self, fixed */
    wr(APIC_ICR_LO, (1u << 18) | 0x50);
    UNIT_CHECK(lapic_intack(l) == 0x50);
    wr(APIC_EOI, 0);
    /* physical destination 0, then logical flat with LDR bit 0 */
    wr(APIC_ICR_HI, 0);
    wr(APIC_ICR_LO, 0x51);
    UNIT_CHECK(lapic_intack(l) == 0x51);
    wr(APIC_EOI, 0);
    wr(APIC_LDR, 0x01000000u);
    wr(APIC_ICR_HI, 0x01000000u);
    wr(APIC_ICR_LO, (1u << 11) | 0x52);
    UNIT_CHECK(lapic_intack(l) == 0x52);
    wr(APIC_EOI, 0);
    UNIT_CHECK((rd(APIC_ICR_LO) & (1u << 12)) == 0); /* delivery status idle */
    /* all-excluding-self reaches nobody on one CPU */
    wr(APIC_ICR_LO, (3u << 18) | 0x53);
    UNIT_CHECK(lapic_highest_irr(l) < 0);
    /* NMI to self */
    wr(APIC_ICR_LO, (1u << 18) | (APIC_DM_NMI << 8));
    UNIT_CHECK(test_nmis == 1);
    /* illegal vector: send error, signalled through LVT error */
    wr(APIC_LVT_ERROR, 0xFE);
    wr(APIC_ICR_LO, (1u << 18) | 0x03);
    wr(APIC_ESR, 0);
    UNIT_CHECK(rd(APIC_ESR) == APIC_ESR_SEND_ILLEGAL_VECTOR);
    UNIT_CHECK(lapic_intack(l) == 0xFE);
}

static void svr_masks_lvts(void)
{
    setup(false);
    enable();
    wr(APIC_LVT_PERF, 0x40);
    UNIT_CHECK(rd(APIC_LVT_PERF) == 0x40);
    wr(APIC_SVR, 0xFF); /* software disable sets every mask */
    UNIT_CHECK(rd(APIC_LVT_PERF) == (APIC_LVT_MASKED | 0x40));
    wr(APIC_LVT_PERF, 0x41); /* and keeps it set */
    UNIT_CHECK(rd(APIC_LVT_PERF) == (APIC_LVT_MASKED | 0x41));
    /* LINT1 as NMI on a rising edge */
    enable();
    wr(APIC_LVT_LINT1, APIC_DM_NMI << 8);
    lapic_set_lint(l, 1, true);
    lapic_set_lint(l, 1, false);
    UNIT_CHECK(test_nmis == 1);
}

static void base_relocation(void)
{
    setup(false);
    lapic_base_write(l, 0xFEE10000u | APIC_BASE_EN | APIC_BASE_BSP);
    UNIT_CHECK(test_map_changes == 1);
    UNIT_CHECK(phys_read(&test_m.phys, 0xFEE10030u, 4) == 0x00050014u);
    UNIT_CHECK(phys_read(&test_m.phys, 0xFEE00030u, 4) != 0x00050014u);
    bus_reset_all(&test_m.io);
    UNIT_CHECK(rd(APIC_VER) == 0x00050014u);
}

int main(void)
{
    UNIT_RUN(reset_values);
    UNIT_RUN(virtual_wire_pic);
    UNIT_RUN(priorities_and_eoi);
    UNIT_RUN(level_eoi_broadcast);
    UNIT_RUN(timer_oneshot);
    UNIT_RUN(timer_periodic);
    UNIT_RUN(timer_tsc_deadline);
    UNIT_RUN(x2apic_msrs);
    UNIT_RUN(cr8_is_tpr);
    UNIT_RUN(icr_self_ipis);
    UNIT_RUN(svr_masks_lvts);
    UNIT_RUN(base_relocation);
    return unit_done();
}
