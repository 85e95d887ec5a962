/* devices/irq.c — the board's interrupt lines.
 *
 * GSIs 0-15 are the ISA IRQs and go to the 8259A pair; every GSI also
 * goes to the IOAPIC, with ISA IRQ 0 on its pin 2 (the interrupt source
 * override in the MADT, as on QEMU's PC).  The 8259A's INT output is the
 * local APIC's LINT0 (virtual-wire mode).
 */
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/pic.h"

void machine_set_isa_irq_direct(struct machine *m, int irq, int level)
{
    if (irq >= 0 && irq < 16 && m->pic)
        pic_set_irq(m->pic, irq, level != 0);
    if (m->ioapic)
        ioapic_set_irq(m->ioapic, irq == 0 ? 2 : irq, level != 0);
}

void machine_set_irq(struct machine *m, int gsi, int level)
{
    /* HPET legacy replacement: its timers own IRQ 0 and 8 (HPET spec 2.3.9.2.2) */
    if ((gsi == 0 || gsi == 8) && m->hpet && hpet_legacy_mode(m->hpet))
        return;
    machine_set_isa_irq_direct(m, gsi, level);
}

void machine_pic_intr(struct machine *m, bool level)
{
    if (m->lapic)
        lapic_set_lint(m->lapic, 0, level);
    else
        machine_cpu_intr(m, level);
}
