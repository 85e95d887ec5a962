/* testsuite/unit/dev_ioapic.c — I/O APIC against the 82093AA datasheet:
 * ID/version/arbitration, the redirection table, edge and level pins,
 * Remote IRR, masking, destinations, and the board's GSI routing
 * (ISA IRQ 0 on pin 2). */
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "testsuite/unit/dev_stubs.h"

static struct lapic *l;
static struct ioapic *io;

static void setup(void)
{
    test_board(256ull << 20, true);
    l = lapic_create(&test_m);
    io = ioapic_create(&test_m);
    /* an enabled APIC with LINT0 masked: only the IOAPIC path counts */
    lapic_write(l, APIC_SVR, APIC_SVR_ENABLE | 0xFF);
    lapic_write(l, APIC_LVT_LINT0, APIC_LVT_MASKED | 0x700);
}

static uint32_t reg(uint8_t r)
{
    phys_write(&test_m.phys, IOAPIC_BASE, r, 4);
    return (uint32_t)phys_read(&test_m.phys, IOAPIC_BASE + 0x10, 4);
}

static void set_reg(uint8_t r, uint32_t v)
{
    phys_write(&test_m.phys, IOAPIC_BASE, r, 4);
    phys_write(&test_m.phys, IOAPIC_BASE + 0x10, v, 4);
}

static void route(int pin, uint32_t low, uint8_t dest)
{
    set_reg((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin + 1), (uint32_t)dest << 24);
    set_reg((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin), low);
}

static void identification(void)
{
    setup();
    UNIT_CHECK(reg(IOAPIC_REG_VER) == 0x00170011u);
    UNIT_CHECK(reg(IOAPIC_REG_ID) == 0);
    set_reg(IOAPIC_REG_ID, 0x0A000000u);
    UNIT_CHECK(reg(IOAPIC_REG_ID) == 0x0A000000u && reg(IOAPIC_REG_ARB) == 0x0A000000u);
    set_reg(IOAPIC_REG_VER, 0);
    UNIT_CHECK(reg(IOAPIC_REG_VER) == 0x00170011u);
    /* IOREGSEL reads back */
    phys_write(&test_m.phys, IOAPIC_BASE, 0x12, 4);
    UNIT_CHECK(phys_read(&test_m.phys, IOAPIC_BASE, 4) == 0x12);
    /* every entry resets masked */
    for (int pin = 0; pin < IOAPIC_PINS; pin++)
        UNIT_CHECK(reg((uint8_t)(IOAPIC_REG_REDTBL + 2 * pin)) == IOAPIC_RTE_MASKED);
}

static void redirection_bits(void)
{
    setup();
    /* everything writable, plus the read-only status bits set */
    set_reg(IOAPIC_REG_REDTBL + 6, 0xFFFFFFFFu);
    set_reg(IOAPIC_REG_REDTBL + 7, 0xFFFFFFFFu);
    UNIT_CHECK(reg(IOAPIC_REG_REDTBL + 6) == 0x0001AFFFu);
    UNIT_CHECK(reg(IOAPIC_REG_REDTBL + 7) == 0xFF000000u);
}

static void edge_pin(void)
{
    setup();
    route(4, 0x34, 0);
    machine_set_irq(&test_m, 4, 1);
    machine_set_irq(&test_m, 4, 0);
    UNIT_CHECK(test_intr && lapic_intack(l) == 0x34);
    lapic_write(l, APIC_EOI, 0);
    UNIT_CHECK(!test_intr);
    UNIT_CHECK(!(io->redir[4] & IOAPIC_RTE_REMOTE_IRR)); /* edge: no Remote IRR */
    /* ISA IRQ 0 arrives on pin 2 (the MADT's source override) */
    route(2, 0x30, 0);
    machine_set_irq(&test_m, 0, 1);
    machine_set_irq(&test_m, 0, 0);
    UNIT_CHECK(lapic_intack(l) == 0x30);
    lapic_write(l, APIC_EOI, 0);
    /* a masked edge is held and delivered on unmask */
    route(5, IOAPIC_RTE_MASKED | 0x35, 0);
    machine_set_irq(&test_m, 5, 1);
    machine_set_irq(&test_m, 5, 0);
    UNIT_CHECK(!test_intr);
    route(5, 0x35, 0);
    UNIT_CHECK(lapic_intack(l) == 0x35);
}

static void level_pin_remote_irr(void)
{
    setup();
    route(10, IOAPIC_RTE_LEVEL | 0x3A, 0);
    machine_set_irq(&test_m, 10, 1);
    UNIT_CHECK(reg(IOAPIC_REG_REDTBL + 20) & IOAPIC_RTE_REMOTE_IRR);
    UNIT_CHECK(lapic_intack(l) == 0x3A);
    /* Remote IRR blocks a second message until the EOI */
    machine_set_irq(&test_m, 10, 0);
    machine_set_irq(&test_m, 10, 1);
    UNIT_CHECK(lapic_highest_irr(l) < 0);
    machine_set_irq(&test_m, 10, 0);
    lapic_write(l, APIC_EOI, 0);
    UNIT_CHECK(!(reg(IOAPIC_REG_REDTBL + 20) & IOAPIC_RTE_REMOTE_IRR));
    UNIT_CHECK(lapic_highest_irr(l) < 0 && !test_intr);
    /* a masked level pin delivers when unmasked while still asserted */
    route(11, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | 0x3B, 0);
    machine_set_irq(&test_m, 11, 1);
    UNIT_CHECK(!test_intr);
    route(11, IOAPIC_RTE_LEVEL | 0x3B, 0);
    UNIT_CHECK(lapic_intack(l) == 0x3B);
}

static void destinations(void)
{
    setup();
    /* physical ID 1: no such APIC, the message is dropped */
    route(3, 0x33, 1);
    machine_set_irq(&test_m, 3, 1);
    machine_set_irq(&test_m, 3, 0);
    UNIT_CHECK(!test_intr);
    /* logical flat: LDR bit 0 */
    lapic_write(l, APIC_LDR, 0x01000000u);
    route(3, IOAPIC_RTE_DEST_LOGICAL | 0x33, 0x01);
    machine_set_irq(&test_m, 3, 1);
    machine_set_irq(&test_m, 3, 0);
    UNIT_CHECK(lapic_intack(l) == 0x33);
    lapic_write(l, APIC_EOI, 0);
    /* lowest priority to the one APIC */
    route(3, (APIC_DM_LOWEST << 8) | 0x43, 0);
    machine_set_irq(&test_m, 3, 1);
    machine_set_irq(&test_m, 3, 0);
    UNIT_CHECK(lapic_intack(l) == 0x43);
    lapic_write(l, APIC_EOI, 0);
    /* NMI delivery mode */
    route(7, APIC_DM_NMI << 8, 0);
    machine_set_irq(&test_m, 7, 1);
    UNIT_CHECK(test_nmis == 1);
}

static void extint_pin(void)
{
    setup();
    /* pin 0 as ExtINT: the vector comes from the PIC's INTA */
    outb(0x21, 0xFE);
    route(0, APIC_DM_EXTINT << 8, 0);
    ioapic_set_irq(io, 0, true);
    machine_set_irq(&test_m, 0, 1); /* PIC IRQ0 request */
    UNIT_CHECK(test_intr);
    UNIT_CHECK(lapic_intack(l) == 0x20);
}

int main(void)
{
    UNIT_RUN(identification);
    UNIT_RUN(redirection_bits);
    UNIT_RUN(edge_pin);
    UNIT_RUN(level_pin_remote_irr);
    UNIT_RUN(destinations);
    UNIT_RUN(extint_pin);
    return unit_done();
}
