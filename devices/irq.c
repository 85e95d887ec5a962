/* devices/irq.c — the board's interrupt lines.
 *
 * GSIs 0-15 are the ISA IRQs and go to the 8259A pair.  When an IOAPIC
 * exists it will receive every GSI here as well (with ISA IRQ 0 on its
 * pin 2, per the MADT interrupt source override the board describes).
 */
#include "devices/machine.h"
#include "devices/pic.h"

void machine_set_irq(struct machine *m, int gsi, int level)
{
    if (gsi >= 0 && gsi < 16 && m->pic)
        pic_set_irq(m->pic, gsi, level != 0);
    /* IOAPIC hook: forward 'gsi' to the IOAPIC's redirection table here. */
}
