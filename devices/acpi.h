/* devices/acpi.h — the ACPI tables the board puts in guest RAM (ACPI
 * Specification 6.x, chapter 5): RSDP, RSDT, XSDT, FADT, FACS, MADT,
 * HPET and a DSDT whose only object is \_S5.
 *
 * The RSDP sits in the BIOS area (0xF0000, where an OS scans for it);
 * the other tables fill ACPI_TABLES_ADDR.., which the boot memory map
 * reports as ACPI reclaimable (type 3).  Every port, IRQ and address in
 * them comes from the device headers (acpipm.h, lapic.h, ioapic.h,
 * hpet.h, rtc.h, debugexit.h).
 */
#ifndef NEST86_DEVICES_ACPI_H
#define NEST86_DEVICES_ACPI_H

#include <stdint.h>

struct machine;

#define ACPI_RSDP_ADDR    0xF0000u
#define ACPI_TABLES_ADDR  0xE0000u
#define ACPI_TABLES_SIZE  0x10000u

#define ACPI_OEM_ID       "NEST86"
#define ACPI_OEM_TABLE_ID "NEST86PC"
#define ACPI_FADT_REVISION 6
#define ACPI_FADT_LENGTH   276

/* FADT fixed feature flags (ACPI 6.x Table 5-10) */
#define ACPI_FADT_WBINVD        (1u << 0)
#define ACPI_FADT_PROC_C1       (1u << 2)
#define ACPI_FADT_SLP_BUTTON    (1u << 5)  /* no fixed sleep button */
#define ACPI_FADT_FIX_RTC       (1u << 6)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)
#define ACPI_FADT_HW_REDUCED    (1u << 20)
/* IA-PC boot architecture flags (Table 5-11) */
#define ACPI_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_IAPC_8042           (1u << 1)

/* Builds every table in guest RAM; -1 when RAM does not reach the
 * table area (it always does: -m is at least 1 MiB). */
int acpi_build_tables(struct machine *m);

/* The byte sum that makes a table's checksum field right. */
uint8_t acpi_checksum(const void *data, uint32_t len);

#endif
