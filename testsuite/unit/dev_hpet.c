/* testsuite/unit/dev_hpet.c — HPET against the IA-PC HPET specification
 * 1.0a: capabilities, main counter, one-shot and periodic comparators in
 * 32- and 64-bit mode, legacy replacement routing, level interrupts and
 * the write-1-to-clear status register. */
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "testsuite/unit/dev_stubs.h"

static struct hpet *h;
static struct lapic *l;

static void setup(void)
{
    test_board(256ull << 20, true);
    l = lapic_create(&test_m);
    ioapic_create(&test_m);
    h = hpet_create(&test_m);
    /* the PIC sees IRQ 0 and 8 only; LINT0 carries it (virtual wire) */
    outb(0x21, 0xFA);
    outb(0xA1, 0xFE);
}

static uint64_t rd64(uint32_t off) { return phys_read(&test_m.phys, HPET_BASE + off, 8); }
static uint32_t rd32(uint32_t off) { return (uint32_t)phys_read(&test_m.phys, HPET_BASE + off, 4); }
static void wr64(uint32_t off, uint64_t v) { phys_write(&test_m.phys, HPET_BASE + off, v, 8); }
static void wr32(uint32_t off, uint32_t v) { phys_write(&test_m.phys, HPET_BASE + off, v, 4); }

static void capabilities(void)
{
    setup();
    uint64_t cap = rd64(HPET_REG_CAP);
    UNIT_CHECK((cap >> 32) == 10000000u);          /* 10 ns in femtoseconds */
    UNIT_CHECK(((cap >> 8) & 0x1F) == 2);          /* three timers */
    UNIT_CHECK(cap & (1u << 13));                  /* 64-bit counter */
    UNIT_CHECK(cap & (1u << 15));                  /* legacy replacement capable */
    UNIT_CHECK((cap & 0xFF) != 0);                 /* revision */
    UNIT_CHECK(rd32(HPET_REG_CAP + 4) == 10000000u);
    for (int n = 0; n < HPET_TIMERS; n++) {
        uint64_t c = rd64(HPET_REG_TIMER(n));
        UNIT_CHECK((c & HPET_TN_PER_CAP) && (c & HPET_TN_SIZE_CAP));
        UNIT_CHECK((c >> 32) == HPET_ROUTE_CAP && !(c & HPET_TN_ENABLE));
    }
    UNIT_CHECK(rd64(HPET_REG_CONFIG) == 0 && rd64(HPET_REG_STATUS) == 0);
    wr64(HPET_REG_CAP, 0);
    UNIT_CHECK(rd64(HPET_REG_CAP) == cap);         /* read-only */
}

static void main_counter(void)
{
    setup();
    test_advance(1000, 1000);
    UNIT_CHECK(rd64(HPET_REG_COUNTER) == 0);       /* halted after reset */
    wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
    test_advance(1000, 1000);
    UNIT_CHECK(rd64(HPET_REG_COUNTER) == 100);     /* 100 MHz */
    wr64(HPET_REG_CONFIG, 0);
    test_advance(5000, 5000);
    UNIT_CHECK(rd64(HPET_REG_COUNTER) == 100);     /* halted: holds */
    wr64(HPET_REG_COUNTER, 0x1FFFFFFF0ull);
    UNIT_CHECK(rd32(HPET_REG_COUNTER) == 0xFFFFFFF0u && rd32(HPET_REG_COUNTER + 4) == 1);
    wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
    test_advance(200, 200);
    UNIT_CHECK(rd64(HPET_REG_COUNTER) == 0x200000004ull);
}

static void legacy_oneshot(void)
{
    setup();
    wr64(HPET_REG_TIMER(0), HPET_TN_ENABLE);
    wr64(HPET_REG_TIMER(0) + 8, 500);              /* 5 us */
    wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE | HPET_CFG_LEGACY);
    UNIT_CHECK(hpet_legacy_mode(h));
    test_advance(4990, 10);
    UNIT_CHECK(!test_intr);
    test_advance(10, 10);
    UNIT_CHECK(test_intr);
    UNIT_CHECK(test_take_irqs(0x20) == 1);         /* IRQ 0 on the PIC */
    test_advance(100000, 1000);
    UNIT_CHECK(!test_intr);                        /* one-shot 64-bit: once */
    /* the PIT is cut off from IRQ 0 meanwhile */
    machine_set_irq(&test_m, 0, 1);
    machine_set_irq(&test_m, 0, 0);
    UNIT_CHECK(!test_intr);
    /* timer 1 takes IRQ 8 */
    wr64(HPET_REG_TIMER(1), HPET_TN_ENABLE);
    wr64(HPET_REG_TIMER(1) + 8, rd64(HPET_REG_COUNTER) + 10);
    test_advance(100, 10);
    UNIT_CHECK(test_take_irqs(0x28) == 1);
}

static void periodic_via_ioapic(void)
{
    setup();
    /* IOAPIC pin 2 (legacy timer 0) to vector 0x30 */
    lapic_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xFF);
    lapic_write(l, APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700);
    ioapic_mmio_write(test_m.ioapic, 0, IOAPIC_REG_REDTBL + 4);
    ioapic_mmio_write(test_m.ioapic, 0x10, 0x30);
    /* Linux's sequence: periodic + VAL_SET, comparator = now + delta, then
     * the period */
    wr64(HPET_REG_CONFIG, HPET_CFG_LEGACY);
    wr64(HPET_REG_TIMER(0), HPET_TN_ENABLE | HPET_TN_PERIODIC | HPET_TN_SETVAL);
    wr64(HPET_REG_TIMER(0) + 8, 1000);
    wr64(HPET_REG_TIMER(0) + 8, 1000);             /* 10 us period */
    UNIT_CHECK(!(rd64(HPET_REG_TIMER(0)) & HPET_TN_SETVAL)); /* self-clearing */
    wr64(HPET_REG_CONFIG, HPET_CFG_LEGACY | HPET_CFG_ENABLE);
    int n = 0;
    for (int k = 0; k < 100; k++) {
        test_advance(1000, 1000);
        while (test_intr) {
            n += lapic_intack(l) == 0x30;
            lapic_write(l, APIC_EOI, 0);
        }
    }
    UNIT_CHECKF(n == 10, "%d interrupts in 100 us", n);
    UNIT_CHECK(rd64(HPET_REG_TIMER(0) + 8) == 11000); /* the comparator advanced */
}

static void level_status_and_route(void)
{
    setup();
    lapic_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xFF);
    lapic_write(l, APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700);
    ioapic_mmio_write(test_m.ioapic, 0, IOAPIC_REG_REDTBL + 2 * 21);
    ioapic_mmio_write(test_m.ioapic, 0x10, IOAPIC_RTE_LEVEL | 0x55);
    /* timer 2: level, routed to IOAPIC pin 21 */
    wr64(HPET_REG_TIMER(2), HPET_TN_ENABLE | HPET_TN_LEVEL | (21u << HPET_TN_ROUTE_SHIFT));
    UNIT_CHECK(((rd64(HPET_REG_TIMER(2)) >> HPET_TN_ROUTE_SHIFT) & 0x1F) == 21);
    wr64(HPET_REG_TIMER(2) + 8, 50);
    wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE);
    test_advance(600, 100);
    UNIT_CHECK(rd64(HPET_REG_STATUS) == 4);
    UNIT_CHECK(lapic_intack(l) == 0x55);
    /* the line stays up until the status bit is written with 1 */
    wr64(HPET_REG_STATUS, 3);                      /* other bits: no effect */
    UNIT_CHECK(rd64(HPET_REG_STATUS) == 4);
    wr64(HPET_REG_STATUS, 4);
    UNIT_CHECK(rd64(HPET_REG_STATUS) == 0);
    lapic_write(l, APIC_EOI, 0);
    UNIT_CHECK(!test_intr && lapic_highest_irr(l) < 0);
}

static void comparator_32bit(void)
{
    setup();
    wr64(HPET_REG_COUNTER, 0xFFFFFF00ull);
    wr64(HPET_REG_TIMER(0), HPET_TN_ENABLE | HPET_TN_32BIT);
    wr64(HPET_REG_TIMER(0) + 8, 0x1234567800000010ull);
    UNIT_CHECK(rd64(HPET_REG_TIMER(0) + 8) == 0x10); /* upper half ignored */
    wr64(HPET_REG_CONFIG, HPET_CFG_ENABLE | HPET_CFG_LEGACY);
    /* 0xFFFFFF00 -> 0x1_00000010 is 0x110 ticks: the 32-bit compare wraps */
    test_advance(0x110 * 10 - 10, 10);
    UNIT_CHECK(!test_intr);
    test_advance(10, 10);
    UNIT_CHECK(test_take_irqs(0x20) == 1);
    /* 32-bit access to the comparator halves */
    wr32(HPET_REG_TIMER(1) + 8, 0xABCD);
    UNIT_CHECK(rd32(HPET_REG_TIMER(1) + 8) == 0xABCD);
}

int main(void)
{
    UNIT_RUN(capabilities);
    UNIT_RUN(main_counter);
    UNIT_RUN(legacy_oneshot);
    UNIT_RUN(periodic_via_ioapic);
    UNIT_RUN(level_status_and_route);
    UNIT_RUN(comparator_32bit);
    return unit_done();
}
