/* devices/pc_devices.c — wires the standard device set into a board. */
#include "cpu/cpu.h"
#include "devices/acpipm.h"
#include "devices/debugexit.h"
#include "devices/fwcfg.h"
#include "devices/hpet.h"
#include "devices/i8042.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/pc_devices.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/rtc.h"
#include "devices/uart.h"
#include "devices/vbe.h"
#include "devices/vga.h"

static const struct { uint16_t base; int irq; } com_ports[4] = {
    { UART_COM1_BASE, UART_COM1_IRQ },
    { UART_COM2_BASE, UART_COM2_IRQ },
    { UART_COM3_BASE, UART_COM3_IRQ },
    { UART_COM4_BASE, UART_COM4_IRQ },
};

void pc_devices_attach_cpu(struct machine *m)
{
    struct cpu *c = m->cpu;
    if (!c || !m->lapic)
        return;
    /* INTA goes to the local APIC, which passes ExtINT on to the PIC */
    c->intr_ack = lapic_intack_cb;
    c->intr_opaque = m->lapic;
    c->apic_msr_read = lapic_msr_read;
    c->apic_msr_write = lapic_msr_write;
    c->apic_tpr_read = lapic_cr8_read;
    c->apic_tpr_write = lapic_cr8_write;
    c->apic_base_write = lapic_base_write;
    c->apic_eoi = lapic_eoi_cb;
    c->apic_opaque = m->lapic;
    /* the APIC's INTR output may already be up (virtual wire) */
    cpu_set_intr(c, m->lapic->intr_out);
}

void pc_devices_create(struct machine *m)
{
    /* The interrupt controllers first: every other device may drive a
     * line at reset.  The PIC's output is the local APIC's LINT0. */
    m->pic = pic_create(m);
    m->lapic = lapic_create(m);
    m->ioapic = ioapic_create(m);
    pc_devices_attach_cpu(m);
    m->pit = pit_create(m);
    m->rtc = rtc_create(m);
    for (int i = 0; i < 4; i++)
        m->uart[i] = uart_create(m, com_ports[i].base, com_ports[i].irq);
    m->i8042 = i8042_create(m);
    /* PCI before the reset-control port, which takes 0xCF9 from it. */
    m->pci = pci_create(m);
    m->debugexit = debugexit_create(m);
    m->fwcfg = fwcfg_create(m);
    m->acpipm = acpipm_create(m);
    m->hpet = hpet_create(m);
    m->vga = vga_create(m);
    m->vbe = vbe_create(m);
}
