/* devices/pc_devices.h — the standard PC device set in one call. */
#ifndef NEST86_DEVICES_PC_DEVICES_H
#define NEST86_DEVICES_PC_DEVICES_H

struct machine;

/* Creates the PIC pair, PIT (+ port B), RTC/CMOS, COM1-COM4, i8042
 * (+ port 0x92), PCI host, debug/reset ports, fw_cfg and ACPI PM at
 * their standard ports and IRQs and stores them in m->pic, m->pit, ...
 * Needs m->io initialised (io_init) and m->phys sized (the CMOS and
 * fw_cfg report the RAM).  When m->cpu exists, its INTA callback is
 * pointed at the PIC.  UART back ends are the caller's (uart_set_tx). */
void pc_devices_create(struct machine *m);

#endif
