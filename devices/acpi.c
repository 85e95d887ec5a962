/* devices/acpi.c — ACPI tables in guest RAM (ACPI Specification 6.x,
 * chapter 5 for the tables, chapter 20 for the AML encoding).
 *
 * Tables are assembled in a host buffer, checksummed, then copied to
 * guest RAM.  Field offsets are written out with each put so a reader
 * can follow the specification's tables line by line.
 */
#include <string.h>

#include "devices/acpi.h"
#include "devices/acpipm.h"
#include "devices/debugexit.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/machine.h"
#include "devices/rtc.h"

#define HEADER_LEN 36

/* Generic Address Structure (5.2.3.2) address spaces and access sizes */
#define GAS_MEMORY 0
#define GAS_IO     1
enum { ACCESS_BYTE = 1, ACCESS_WORD = 2, ACCESS_DWORD = 3, ACCESS_QWORD = 4 };

/* CF9 reset value: system reset (bit 1) with a CPU reset (bit 2). */
#define RESET_VALUE 0x06

uint8_t acpi_checksum(const void *data, uint32_t len)
{
    const uint8_t *p = data;
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return (uint8_t)-sum;
}

static void put8(uint8_t *t, unsigned off, uint8_t v) { t[off] = v; }
static void put16(uint8_t *t, unsigned off, uint16_t v) { memcpy(t + off, &v, 2); }
static void put32(uint8_t *t, unsigned off, uint32_t v) { memcpy(t + off, &v, 4); }
static void put64(uint8_t *t, unsigned off, uint64_t v) { memcpy(t + off, &v, 8); }

static void put_gas(uint8_t *t, unsigned off, uint8_t space, uint8_t bits, uint8_t access,
                    uint64_t addr)
{
    put8(t, off + 0, space);
    put8(t, off + 1, bits);   /* register bit width */
    put8(t, off + 2, 0);      /* register bit offset */
    put8(t, off + 3, access);
    put64(t, off + 4, addr);
}

/* The common description header (5.2.6); the checksum comes last. */
static void put_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
    memcpy(t + 0, sig, 4);
    put32(t, 4, len);
    put8(t, 8, rev);
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE_ID, 8);
    put32(t, 24, 1);              /* OEM revision */
    memcpy(t + 28, "NEST", 4);    /* creator ID */
    put32(t, 32, 1);              /* creator revision */
}

static void finish(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = acpi_checksum(t, len);
}

/* Bump allocator over the table area. */
struct area {
    struct machine *m;
    uint32_t next;
};

static uint32_t emit(struct area *a, const void *table, uint32_t len, uint32_t align)
{
    uint32_t at = (a->next + align - 1) & ~(align - 1);
    phys_copy_in(&a->m->phys, at, table, len);
    a->next = at + len;
    return at;
}

/* DSDT: the \_S5 sleep object, whose SLP_TYP values the PM1 control
 * register turns into a power-off (acpipm.h), and no other \_Sx: S5 is
 * the only sleeping state nest86 has (no \_S3, no suspend-to-RAM; OSPM
 * uses only the states the DSDT names); and the PCI host bridge
 * \_SB.PCI0 (PNP0A03, bus 0 only through configuration mechanism 1),
 * without which an ACPI OS scans no PCI bus.  Its _CRS gives the bus
 * numbers, the 0xCF8 ports it consumes, the rest of the I/O space and
 * two memory windows: the legacy VGA one and 0xC0000000-0xFEBFFFFF, the
 * hole below the IOAPIC (RAM stops at PHYS_PCI_HOLE_START).  It has no
 * _PRT: no function on the bus uses an interrupt pin.  AML by hand
 * (20.2; the resource descriptors 6.4): */
static uint32_t build_dsdt(struct area *a)
{
    static const uint8_t aml[] = {
        0x08,                   /* NameOp */
        0x5C,                   /* RootChar '\' */
        '_', 'S', '5', '_',     /* NameSeg _S5_ */
        0x12,                   /* PackageOp */
        0x08,                   /* PkgLength: 8 bytes, this byte included */
        0x04,                   /* NumElements */
        0x0A, ACPIPM_SLP_TYP_S5, /* BytePrefix: PM1a_CNT.SLP_TYP */
        0x0A, ACPIPM_SLP_TYP_S5, /* BytePrefix: PM1b_CNT.SLP_TYP */
        0x00,                   /* ZeroOp (reserved) */
        0x00,                   /* ZeroOp (reserved) */
        0x10, 0x47, 0x09,       /* ScopeOp, PkgLength 151 */
        0x5C, '_', 'S', 'B', '_',
        0x5B, 0x82, 0x4E, 0x08, /* DeviceOp, PkgLength 142 */
        'P', 'C', 'I', '0',
        0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0A, 0x03, /* EISA ID PNP0A03 */
        0x08, '_', 'U', 'I', 'D', 0x00,
        0x08, '_', 'C', 'R', 'S', /* a Buffer of 110 bytes, PkgLength 114 */
        0x11, 0x42, 0x07, 0x0A, 110,
        /* Word Address Space (6.4.3.5.3), bus numbers 0-0xFF */
        0x88, 0x0D, 0x00, 0x02, 0x0C, 0x00, 0, 0, 0x00, 0x00, 0xFF, 0x00, 0, 0, 0x00, 0x01,
        /* I/O Port (6.4.2.5): 0xCF8, 8 ports */
        0x47, 0x01, 0xF8, 0x0C, 0xF8, 0x0C, 0x01, 0x08,
        /* Word Address Space, I/O 0-0xCF7 and 0xD00-0xFFFF */
        0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0, 0, 0x00, 0x00, 0xF7, 0x0C, 0, 0, 0xF8, 0x0C,
        0x88, 0x0D, 0x00, 0x01, 0x0C, 0x03, 0, 0, 0x00, 0x0D, 0xFF, 0xFF, 0, 0, 0x00, 0xF3,
        /* DWord Address Space (6.4.3.5.2), memory 0xA0000-0xBFFFF */
        0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x0A, 0x00,
        0xFF, 0xFF, 0x0B, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00,
        /* and 0xC0000000-0xFEBFFFFF */
        0x87, 0x17, 0x00, 0x00, 0x0C, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xC0,
        0xFF, 0xFF, 0xBF, 0xFE, 0, 0, 0, 0, 0x00, 0x00, 0xC0, 0x3E,
        0x79, 0x00,             /* End Tag */
    };
    uint8_t t[HEADER_LEN + sizeof(aml)] = {0};
    /* revision 2: integers are 64 bits wide */
    put_header(t, "DSDT", sizeof(t), 2);
    memcpy(t + HEADER_LEN, aml, sizeof(aml));
    finish(t, sizeof(t));
    return emit(a, t, sizeof(t), 16);
}

/* FACS (5.2.10): no checksum, 64-byte aligned. */
static uint32_t build_facs(struct area *a)
{
    uint8_t t[64] = {0};
    memcpy(t, "FACS", 4);
    put32(t, 4, sizeof(t));
    put32(t, 8, 0);    /* hardware signature */
    put32(t, 12, 0);   /* firmware waking vector */
    put32(t, 16, 0);   /* global lock */
    put32(t, 20, 0);   /* flags: no S4BIOS, no 64-bit wake */
    put8(t, 32, 2);    /* version */
    return emit(a, t, sizeof(t), 64);
}

/* FADT (5.2.9, Table 5-9), revision 6. */
static uint32_t build_fadt(struct area *a, uint32_t facs, uint32_t dsdt)
{
    uint8_t t[ACPI_FADT_LENGTH] = {0};
    put_header(t, "FACP", sizeof(t), ACPI_FADT_REVISION);
    put32(t, 36, facs);                        /* FIRMWARE_CTRL */
    put32(t, 40, dsdt);                        /* DSDT */
    put8(t, 45, 0);                            /* Preferred_PM_Profile: unspecified */
    put16(t, 46, ACPIPM_SCI_IRQ);              /* SCI_INT */
    put32(t, 48, 0);                           /* SMI_CMD: already in ACPI mode */
    put32(t, 56, ACPIPM_PM1A_EVT_BLK);         /* PM1a_EVT_BLK */
    put32(t, 64, ACPIPM_PM1A_CNT_BLK);         /* PM1a_CNT_BLK */
    put32(t, 76, ACPIPM_PM_TMR_BLK);           /* PM_TMR_BLK */
    put32(t, 80, ACPIPM_GPE0_BLK);             /* GPE0_BLK */
    put8(t, 88, ACPIPM_PM1_EVT_LEN);           /* PM1_EVT_LEN */
    put8(t, 89, ACPIPM_PM1_CNT_LEN);           /* PM1_CNT_LEN */
    put8(t, 91, ACPIPM_PM_TMR_LEN);            /* PM_TMR_LEN */
    put8(t, 92, ACPIPM_GPE0_BLK_LEN);          /* GPE0_BLK_LEN */
    put16(t, 96, 101);                         /* P_LVL2_LAT > 100: no C2 */
    put16(t, 98, 1001);                        /* P_LVL3_LAT > 1000: no C3 */
    put8(t, 108, RTC_CENTURY);                 /* CENTURY */
    put16(t, 109, ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_8042); /* IAPC_BOOT_ARCH */
    put32(t, 112, ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_SLP_BUTTON |
                  ACPI_FADT_FIX_RTC | ACPI_FADT_RESET_REG_SUP); /* Flags: not HW-reduced */
    put_gas(t, 116, GAS_IO, 8, ACCESS_BYTE, DEBUGEXIT_RESET_CTL); /* RESET_REG */
    put8(t, 128, RESET_VALUE);                 /* RESET_VALUE */
    put8(t, 131, 0);                           /* FADT minor version */
    put64(t, 132, 0);                          /* X_FIRMWARE_CTRL: FIRMWARE_CTRL says it */
    put64(t, 140, dsdt);                       /* X_DSDT */
    put_gas(t, 148, GAS_IO, 8 * ACPIPM_PM1_EVT_LEN, ACCESS_WORD, ACPIPM_PM1A_EVT_BLK);
    put_gas(t, 172, GAS_IO, 8 * ACPIPM_PM1_CNT_LEN, ACCESS_WORD, ACPIPM_PM1A_CNT_BLK);
    put_gas(t, 208, GAS_IO, 8 * ACPIPM_PM_TMR_LEN, ACCESS_DWORD, ACPIPM_PM_TMR_BLK);
    put_gas(t, 220, GAS_IO, 8 * ACPIPM_GPE0_BLK_LEN, ACCESS_BYTE, ACPIPM_GPE0_BLK);
    finish(t, sizeof(t));
    return emit(a, t, sizeof(t), 16);
}

/* MADT (5.2.12): the BSP's local APIC, the IOAPIC, two interrupt
 * source overrides and the LINT1 NMI. */
static uint32_t build_madt(struct area *a)
{
    uint8_t t[HEADER_LEN + 8 + 8 + 12 + 10 + 10 + 6] = {0};
    unsigned o = HEADER_LEN;
    put_header(t, "APIC", sizeof(t), 3);
    put32(t, 36, LAPIC_DEFAULT_BASE);    /* local interrupt controller address */
    put32(t, 40, 1);                     /* PCAT_COMPAT: 8259 pair present */
    o += 8;
    /* processor local APIC (type 0) */
    put8(t, o + 0, 0);
    put8(t, o + 1, 8);
    put8(t, o + 2, 0);                   /* ACPI processor UID */
    put8(t, o + 3, 0);                   /* APIC ID */
    put32(t, o + 4, 1);                  /* enabled */
    o += 8;
    /* I/O APIC (type 1) */
    put8(t, o + 0, 1);
    put8(t, o + 1, 12);
    put8(t, o + 2, IOAPIC_ID);
    put32(t, o + 4, IOAPIC_BASE);
    put32(t, o + 8, 0);                  /* GSI base */
    o += 12;
    /* interrupt source override (type 2): ISA IRQ 0 is GSI 2, bus defaults */
    put8(t, o + 0, 2);
    put8(t, o + 1, 10);
    put8(t, o + 2, 0);                   /* bus: ISA */
    put8(t, o + 3, 0);                   /* source IRQ */
    put32(t, o + 4, 2);                  /* GSI */
    put16(t, o + 8, 0);                  /* flags: conforms to the bus */
    o += 10;
    /* the SCI: level-triggered, active high (polarity 01, trigger 11) */
    put8(t, o + 0, 2);
    put8(t, o + 1, 10);
    put8(t, o + 2, 0);
    put8(t, o + 3, ACPIPM_SCI_IRQ);
    put32(t, o + 4, ACPIPM_SCI_IRQ);
    put16(t, o + 8, 0x1 | (0x3 << 2));
    o += 10;
    /* local APIC NMI (type 4): every processor's LINT1 */
    put8(t, o + 0, 4);
    put8(t, o + 1, 6);
    put8(t, o + 2, 0xFF);                /* all processors */
    put16(t, o + 3, 0);                  /* flags: conforms */
    put8(t, o + 5, 1);                   /* LINT1 */
    finish(t, sizeof(t));
    return emit(a, t, sizeof(t), 16);
}

/* HPET description table (IA-PC HPET specification 1.0a, 3.2.4). */
static uint32_t build_hpet(struct area *a)
{
    uint8_t t[56] = {0};
    put_header(t, "HPET", sizeof(t), 1);
    put32(t, 36, HPET_CAP_LOW);          /* event timer block ID */
    put_gas(t, 40, GAS_MEMORY, 64, 0, HPET_BASE);
    put8(t, 52, 0);                      /* HPET number */
    put16(t, 53, HPET_MIN_TICK);         /* main counter minimum clock tick, periodic */
    put8(t, 55, 0);                      /* page protection: none */
    finish(t, sizeof(t));
    return emit(a, t, sizeof(t), 16);
}

int acpi_build_tables(struct machine *m)
{
    if (m->phys.ram_below_4g < ACPI_RSDP_ADDR + 0x1000)
        return -1;
    uint8_t zero[256] = {0};
    for (uint32_t off = 0; off < ACPI_TABLES_SIZE; off += sizeof(zero))
        phys_copy_in(&m->phys, ACPI_TABLES_ADDR + off, zero, sizeof(zero));

    struct area a = {m, ACPI_TABLES_ADDR};
    uint32_t facs = build_facs(&a);
    uint32_t dsdt = build_dsdt(&a);
    uint32_t entries[3];
    entries[0] = build_fadt(&a, facs, dsdt);
    entries[1] = build_madt(&a);
    entries[2] = build_hpet(&a);
    enum { N = sizeof(entries) / sizeof(entries[0]) };

    uint8_t rsdt[HEADER_LEN + 4 * N] = {0};
    put_header(rsdt, "RSDT", sizeof(rsdt), 1);
    for (unsigned i = 0; i < N; i++)
        put32(rsdt, HEADER_LEN + 4 * i, entries[i]);
    finish(rsdt, sizeof(rsdt));
    uint32_t rsdt_at = emit(&a, rsdt, sizeof(rsdt), 16);

    uint8_t xsdt[HEADER_LEN + 8 * N] = {0};
    put_header(xsdt, "XSDT", sizeof(xsdt), 1);
    for (unsigned i = 0; i < N; i++)
        put64(xsdt, HEADER_LEN + 8 * i, entries[i]);
    finish(xsdt, sizeof(xsdt));
    uint32_t xsdt_at = emit(&a, xsdt, sizeof(xsdt), 16);

    /* RSDP (5.2.5.3), revision 2: the first 20 bytes have their own checksum */
    uint8_t rsdp[36] = {0};
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, ACPI_OEM_ID, 6);
    put8(rsdp, 15, 2);                   /* revision: ACPI 2.0+ */
    put32(rsdp, 16, rsdt_at);
    put32(rsdp, 20, sizeof(rsdp));       /* length */
    put64(rsdp, 24, xsdt_at);
    put8(rsdp, 8, acpi_checksum(rsdp, 20));
    put8(rsdp, 32, acpi_checksum(rsdp, sizeof(rsdp)));
    phys_copy_in(&m->phys, ACPI_RSDP_ADDR, rsdp, sizeof(rsdp));
    return 0;
}
