/* devices/pc_devices.h — the standard PC device set in one call. */
#ifndef NEST86_DEVICES_PC_DEVICES_H
#define NEST86_DEVICES_PC_DEVICES_H

struct machine;

/* Creates the PIC pair, local APIC, IOAPIC, PIT (+ port B), RTC/CMOS,
 * COM1-COM4, i8042 (+ port 0x92), PCI host, debug/reset ports, fw_cfg,
 * ACPI PM and HPET at their standard ports, addresses and IRQs and
 * stores them in m->pic, m->lapic, ...  Needs m->io initialised
 * (io_init) and m->phys sized (the CMOS and fw_cfg report the RAM).
 * When m->cpu exists, pc_devices_attach_cpu() is applied.  UART back
 * ends are the caller's (uart_set_tx). */
void pc_devices_create(struct machine *m);

/* Points the CPU's board hooks at the local APIC: INTA, x2APIC MSRs and
 * IA32_TSC_DEADLINE, CR8, IA32_APIC_BASE.  cpu_reset() clears them, so
 * the board calls this again after every reset. */
void pc_devices_attach_cpu(struct machine *m);

#endif
