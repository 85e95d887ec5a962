/* devices/pc_devices.c — wires the standard device set into a board. */
#include "cpu/cpu.h"
#include "devices/acpipm.h"
#include "devices/debugexit.h"
#include "devices/fwcfg.h"
#include "devices/i8042.h"
#include "devices/machine.h"
#include "devices/pc_devices.h"
#include "devices/pci.h"
#include "devices/pic.h"
#include "devices/pit.h"
#include "devices/rtc.h"
#include "devices/uart.h"

static const struct { uint16_t base; int irq; } com_ports[4] = {
    { UART_COM1_BASE, UART_COM1_IRQ },
    { UART_COM2_BASE, UART_COM2_IRQ },
    { UART_COM3_BASE, UART_COM3_IRQ },
    { UART_COM4_BASE, UART_COM4_IRQ },
};

void pc_devices_create(struct machine *m)
{
    /* The PIC first: every other device may drive a line at reset. */
    m->pic = pic_create(m);
    if (m->cpu) {
        m->cpu->intr_ack = pic_intack_cb;
        m->cpu->intr_opaque = m->pic;
    }
    m->pit = pit_create(m);
    m->rtc = rtc_create(m);
    for (int i = 0; i < 4; i++)
        m->uart[i] = uart_create(m, com_ports[i].base, com_ports[i].irq);
    m->i8042 = i8042_create(m);
    /* PCI before the reset-control port, which takes 0xCF9 from it. */
    m->pci = pci_create(m);
    debugexit_create(m);
    m->fwcfg = fwcfg_create(m);
    m->acpipm = acpipm_create(m);
}
