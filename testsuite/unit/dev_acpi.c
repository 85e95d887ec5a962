/* testsuite/unit/dev_acpi.c — the ACPI tables, parsed back from guest
 * RAM the way an OS finds them: RSDP scan in the BIOS area, checksums,
 * lengths, RSDT/XSDT pointers, then each table's fields against the
 * device constants and the specification. */
#include <stdio.h>
#include <string.h>

#include "devices/acpi.h"
#include "devices/acpipm.h"
#include "devices/boot.h"
#include "devices/debugexit.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/rtc.h"
#include "testsuite/unit/dev_stubs.h"

static bool built;

static void setup(void)
{
    test_board(0, false);
    phys_free(&test_m.phys);
    built = phys_init(&test_m.phys, 64ull << 20) == 0 && acpi_build_tables(&test_m) == 0;
}

static uint8_t b8(uint64_t pa) { uint8_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 1); return v; }
static uint16_t b16(uint64_t pa) { uint16_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 2); return v; }
static uint32_t b32(uint64_t pa) { uint32_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 4); return v; }
static uint64_t b64(uint64_t pa) { uint64_t v = 0; phys_copy_out(&test_m.phys, pa, &v, 8); return v; }

static bool sums_to_zero(uint64_t pa, uint32_t len)
{
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + b8(pa + i));
    return sum == 0;
}

static bool sig_is(uint64_t pa, const char *sig)
{
    char s[4];
    phys_copy_out(&test_m.phys, pa, s, 4);
    return memcmp(s, sig, 4) == 0;
}

/* The RSDP as an OS finds it: 16-byte steps through 0xE0000-0xFFFFF. */
static uint64_t find_rsdp(void)
{
    for (uint64_t pa = 0xE0000; pa < 0x100000; pa += 16) {
        char s[8];
        phys_copy_out(&test_m.phys, pa, s, 8);
        if (!memcmp(s, "RSD PTR ", 8) && sums_to_zero(pa, 20))
            return pa;
    }
    return 0;
}

/* A table from the XSDT by signature (0 when absent). */
static uint64_t find_table(const char *sig)
{
    uint64_t xsdt = b64(find_rsdp() + 24);
    uint32_t n = (b32(xsdt + 4) - 36) / 8;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = b64(xsdt + 36 + 8 * i);
        if (sig_is(t, sig))
            return t;
    }
    return 0;
}

static bool table_ok(uint64_t pa, const char *sig, uint32_t min_len)
{
    uint32_t len = b32(pa + 4);
    return pa && sig_is(pa, sig) && len >= min_len && sums_to_zero(pa, len);
}

static void rsdp(void)
{
    setup();
    UNIT_CHECK(built);
    uint64_t r = find_rsdp();
    UNIT_CHECK(r == ACPI_RSDP_ADDR && (r & 15) == 0);
    UNIT_CHECK(r >= 0xE0000 && r < 0x100000);
    UNIT_CHECK(b8(r + 15) == 2 && b32(r + 20) == 36);
    UNIT_CHECK(sums_to_zero(r, 36)); /* extended checksum */
    char oem[6];
    phys_copy_out(&test_m.phys, r + 9, oem, 6);
    UNIT_CHECK(!memcmp(oem, ACPI_OEM_ID, 6));
}

static void rsdt_and_xsdt_agree(void)
{
    setup();
    uint64_t r = find_rsdp();
    uint32_t rsdt = b32(r + 16);
    uint64_t xsdt = b64(r + 24);
    UNIT_CHECK(table_ok(rsdt, "RSDT", 36) && table_ok(xsdt, "XSDT", 36));
    uint32_t n = (b32(rsdt + 4) - 36) / 4;
    UNIT_CHECK(n == 3 && (b32(xsdt + 4) - 36) / 8 == n);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = b32(rsdt + 36 + 4 * i);
        UNIT_CHECK(p == b64(xsdt + 36 + 8 * i));
        UNIT_CHECKF(sums_to_zero(p, b32(p + 4)), "table %u", i);
        UNIT_CHECK(p >= ACPI_TABLES_ADDR && p + b32(p + 4) <= ACPI_TABLES_ADDR + ACPI_TABLES_SIZE);
    }
}

static void fadt(void)
{
    setup();
    uint64_t f = find_table("FACP");
    UNIT_CHECK(table_ok(f, "FACP", 276));
    UNIT_CHECK(b8(f + 8) >= 5 && b32(f + 4) == 276);
    UNIT_CHECK(b16(f + 46) == ACPIPM_SCI_IRQ);
    UNIT_CHECK(b32(f + 48) == 0); /* SMI_CMD: no mode switch */
    UNIT_CHECK(b32(f + 56) == ACPIPM_PM1A_EVT_BLK && b8(f + 88) == ACPIPM_PM1_EVT_LEN);
    UNIT_CHECK(b32(f + 64) == ACPIPM_PM1A_CNT_BLK && b8(f + 89) == ACPIPM_PM1_CNT_LEN);
    UNIT_CHECK(b32(f + 76) == ACPIPM_PM_TMR_BLK && b8(f + 91) == ACPIPM_PM_TMR_LEN);
    UNIT_CHECK(b32(f + 80) == ACPIPM_GPE0_BLK && b8(f + 92) == ACPIPM_GPE0_BLK_LEN);
    UNIT_CHECK(b8(f + 108) == RTC_CENTURY && RTC_CENTURY == 0x32);
    UNIT_CHECK(b16(f + 109) & ACPI_IAPC_8042);
    uint32_t flags = b32(f + 112);
    UNIT_CHECK(!(flags & ACPI_FADT_HW_REDUCED) && (flags & ACPI_FADT_RESET_REG_SUP));
    UNIT_CHECK(!(flags & (1u << 8))); /* TMR_VAL_EXT clear: 24-bit PM timer */
    /* RESET_REG: system I/O, byte, 0xCF9, value 6 */
    UNIT_CHECK(b8(f + 116) == 1 && b8(f + 117) == 8 && b64(f + 120) == DEBUGEXIT_RESET_CTL);
    UNIT_CHECK(b8(f + 128) == 6);
    /* X_ blocks match the 32-bit ones */
    UNIT_CHECK(b8(f + 148) == 1 && b64(f + 152) == ACPIPM_PM1A_EVT_BLK);
    UNIT_CHECK(b8(f + 172) == 1 && b64(f + 176) == ACPIPM_PM1A_CNT_BLK);
    UNIT_CHECK(b8(f + 208) == 1 && b64(f + 212) == ACPIPM_PM_TMR_BLK && b8(f + 209) == 32);
    UNIT_CHECK(b64(f + 224) == ACPIPM_GPE0_BLK);
    /* FACS and DSDT through both pointers */
    uint32_t facs = b32(f + 36), dsdt = b32(f + 40);
    UNIT_CHECK(b64(f + 132) == 0 && b64(f + 140) == dsdt); /* one FACS pointer */
    UNIT_CHECK(sig_is(facs, "FACS") && b32(facs + 4) == 64 && (facs & 63) == 0);
    UNIT_CHECK(table_ok(dsdt, "DSDT", 36));
}

/* The DSDT's AML body (after the 36-byte header) and its length. */
static uint32_t dsdt_aml(uint8_t *aml, uint32_t cap)
{
    uint64_t d = b32(find_table("FACP") + 40);
    uint32_t len = b32(d + 4) - 36;
    if (len > cap)
        return 0;
    phys_copy_out(&test_m.phys, d + 36, aml, len);
    return len;
}

/* Where the NameSeg seg (4 characters) occurs in the AML, or -1. */
static long aml_find(const uint8_t *aml, uint32_t len, const char *seg)
{
    for (uint32_t i = 0; i + 4 <= len; i++)
        if (!memcmp(aml + i, seg, 4))
            return i;
    return -1;
}

/* \_S5 is the only sleep object: no \_S1-\_S4 (in particular no \_S3:
 * nest86 has no suspend-to-RAM, docs/platform.md), and its package
 * decodes per ACPI 6.x 20.2.5.4 / 20.2.4 (PkgLength, NumElements, then
 * integers) to SLP_TYP values for PM1a and PM1b. */
static void dsdt_offers_only_s5(void)
{
    setup();
    uint8_t aml[256];
    uint32_t len = dsdt_aml(aml, sizeof(aml));
    UNIT_CHECK(len > 0);
    static const char *const absent[] = {"_S0_", "_S1_", "_S2_", "_S3_", "_S4_"};
    for (unsigned k = 0; k < 5; k++)
        UNIT_CHECKF(aml_find(aml, len, absent[k]) < 0, "the DSDT names %s", absent[k]);
    long at = aml_find(aml, len, "_S5_");
    UNIT_CHECK(at >= 2 && aml[at - 2] == 0x08 && aml[at - 1] == 0x5C); /* NameOp '\' */
    uint32_t p = (uint32_t)at + 4;
    UNIT_CHECK(p + 3 <= len && aml[p] == 0x12);                     /* PackageOp */
    UNIT_CHECK((aml[p + 1] >> 6) == 0);                              /* one-byte PkgLength */
    uint32_t pkg_end = p + 1 + (aml[p + 1] & 0x3F); /* PkgLength counts itself */
    /* the next object, \_SB's scope (ScopeOp), starts where it ends */
    UNIT_CHECKF(pkg_end < len && aml[pkg_end] == 0x10, "package ends at %u (AML length %u)",
                pkg_end, len);
    UNIT_CHECK(aml[p + 2] == 4);                                     /* NumElements */
    unsigned vals[4], n = 0;
    for (uint32_t i = p + 3; i < pkg_end && n < 4;) {
        if (aml[i] == 0x0A && i + 1 < pkg_end) { /* BytePrefix */
            vals[n++] = aml[i + 1];
            i += 2;
        } else if (aml[i] == 0x00 || aml[i] == 0x01) { /* ZeroOp, OneOp */
            vals[n++] = aml[i++];
        } else {
            UNIT_CHECKF(0, "unexpected AML byte 0x%02x in \\_S5", aml[i]);
        }
    }
    UNIT_CHECK(n == 4);
    UNIT_CHECK(vals[0] <= 7 && vals[1] == vals[0]);
}

/* \_SB.PCI0, the PCI host bridge: _HID PNP0A03 (its EISA ID), a _CRS
 * buffer that ends in an End Tag, and PkgLengths (two bytes each,
 * 20.2.4) that end the scope and the device with the AML. */
static void dsdt_pci_root_bridge(void)
{
    setup();
    uint8_t aml[256];
    uint32_t len = dsdt_aml(aml, sizeof(aml));
    long sb = aml_find(aml, len, "\\_SB"), dev = aml_find(aml, len, "PCI0");
    UNIT_CHECK(sb >= 1 && aml[sb - 3] == 0x10 && dev >= 4 && aml[dev - 4] == 0x5B && aml[dev - 3] == 0x82);
    unsigned scope_len = (aml[sb - 2] & 0x0F) | aml[sb - 1] << 4;
    unsigned dev_len = (aml[dev - 2] & 0x0F) | aml[dev - 1] << 4;
    UNIT_CHECK(sb - 2 + scope_len == len && dev - 2 + dev_len == len);
    long hid = aml_find(aml, len, "_HID");
    static const uint8_t pnp0a03[] = {0x0C, 0x41, 0xD0, 0x0A, 0x03};
    UNIT_CHECK(hid > dev && !memcmp(aml + hid + 4, pnp0a03, sizeof(pnp0a03)));
    long crs = aml_find(aml, len, "_CRS");
    UNIT_CHECK(crs > dev && aml[crs + 4] == 0x11 && aml[crs + 7] == 0x0A);
    unsigned size = aml[crs + 8];
    UNIT_CHECK(crs + 9 + size == len && aml[len - 2] == 0x79);
}

/* The SLP_TYP value \_S5 gives, decoded from the DSDT as an OS does. */
static unsigned dsdt_s5_slp_typ(void)
{
    uint8_t aml[256];
    uint32_t len = dsdt_aml(aml, sizeof(aml));
    long at = aml_find(aml, len, "_S5_");
    if (at < 0 || (uint32_t)at + 8 > len || aml[at + 7] != 0x0A)
        return ~0u;
    return aml[at + 8];
}

static char note_text[160];
static int notes;
static void note_hook(const char *device, const char *text)
{
    snprintf(note_text, sizeof(note_text), "%s: %s", device, text);
    notes++;
}

/* What the PM1a control block (at the FADT's PM1a_CNT_BLK) does with
 * SLP_EN: \_S5's SLP_TYP powers off (status 0); every other type names
 * a state the DSDT does not offer and is ignored: the machine keeps
 * running, SLP_EN reads back 0, WAK_STS stays clear, -d io notes it. */
static void pm1_sleep_types_against_the_dsdt(void)
{
    setup();
    unsigned s5 = dsdt_s5_slp_typ();
    UNIT_CHECK(s5 <= 7);
    uint16_t cnt = (uint16_t)b32(find_table("FACP") + 64);
    uint16_t evt = (uint16_t)b32(find_table("FACP") + 56);
    struct acpipm *pm = acpipm_create(&test_m);
    test_m.io.note = note_hook;
    notes = 0;
    for (unsigned typ = 0; typ < 8; typ++) {
        if (typ == s5)
            continue;
        uint16_t v = (uint16_t)(ACPIPM_SCI_EN | typ << ACPIPM_SLP_TYP_SHIFT | ACPIPM_SLP_EN);
        io_out(&test_m.io, cnt, v, 2);
        UNIT_CHECKF(test_stops == 0, "SLP_TYP %u stopped the machine", typ);
        uint16_t back = (uint16_t)io_in(&test_m.io, cnt, 2);
        UNIT_CHECKF(back == (v & ~ACPIPM_SLP_EN), "PM1a_CNT reads 0x%x after 0x%x", back, v);
        UNIT_CHECKF(!(io_in(&test_m.io, evt, 2) & ACPIPM_WAK_STS), "WAK_STS after SLP_TYP %u",
                    typ);
        char want[64];
        snprintf(want, sizeof(want), "acpi-pm1: SLP_EN with SLP_TYP %u ignored", typ);
        UNIT_CHECKF(strstr(note_text, want) != NULL, "note '%s'", note_text);
    }
    UNIT_CHECK(notes == 7 && pm->ignored_sleeps == 7);
    io_out(&test_m.io, cnt, ACPIPM_SCI_EN | s5 << ACPIPM_SLP_TYP_SHIFT | ACPIPM_SLP_EN, 2);
    UNIT_CHECK(test_stops == 1 && test_stop == MACHINE_EXIT && test_exit_status == 0);
    test_m.io.note = NULL;
}

static void madt(void)
{
    setup();
    uint64_t t = find_table("APIC");
    UNIT_CHECK(table_ok(t, "APIC", 44));
    UNIT_CHECK(b32(t + 36) == LAPIC_DEFAULT_BASE && (b32(t + 40) & 1));
    uint32_t len = b32(t + 4);
    int lapics = 0, ioapics = 0, nmis = 0;
    bool irq0 = false, sci = false;
    for (uint64_t e = t + 44; e < t + len;) {
        uint8_t type = b8(e), elen = b8(e + 1);
        UNIT_CHECK(elen >= 2 && e + elen <= t + len);
        switch (type) {
        case 0:
            UNIT_CHECK(elen == 8 && b8(e + 3) == 0 && (b32(e + 4) & 1));
            lapics++;
            break;
        case 1:
            UNIT_CHECK(elen == 12 && b8(e + 2) == IOAPIC_ID && b32(e + 4) == IOAPIC_BASE);
            UNIT_CHECK(b32(e + 8) == 0);
            ioapics++;
            break;
        case 2:
            UNIT_CHECK(elen == 10 && b8(e + 2) == 0);
            if (b8(e + 3) == 0)
                irq0 = b32(e + 4) == 2;
            if (b8(e + 3) == ACPIPM_SCI_IRQ)
                sci = b32(e + 4) == ACPIPM_SCI_IRQ && b16(e + 8) == 0x000D;
            break;
        case 4:
            UNIT_CHECK(elen == 6 && b8(e + 5) == 1);
            nmis++;
            break;
        default:
            UNIT_CHECKF(0, "unexpected MADT entry type %u", type);
        }
        e += elen;
    }
    UNIT_CHECK(lapics == 1 && ioapics == 1 && nmis == 1 && irq0 && sci);
}

static void hpet_table(void)
{
    setup();
    uint64_t t = find_table("HPET");
    UNIT_CHECK(table_ok(t, "HPET", 56) && b32(t + 4) == 56);
    UNIT_CHECK(b32(t + 36) == HPET_CAP_LOW);
    UNIT_CHECK(b8(t + 40) == 0 && b64(t + 44) == HPET_BASE);
}

static void e820_marks_tables(void)
{
    setup();
    struct boot_mem_range r[8];
    int n = boot_memory_map(&test_m, r, 8);
    bool acpi = false, rsdp_reserved = false;
    for (int i = 0; i < n; i++) {
        if (r[i].type == 3 && r[i].base <= ACPI_TABLES_ADDR &&
            r[i].base + r[i].length >= ACPI_TABLES_ADDR + ACPI_TABLES_SIZE)
            acpi = true;
        if (r[i].type == 2 && r[i].base <= ACPI_RSDP_ADDR && r[i].base + r[i].length > ACPI_RSDP_ADDR)
            rsdp_reserved = true;
        if (r[i].type == 1)
            UNIT_CHECK(r[i].base + r[i].length <= ACPI_TABLES_ADDR || r[i].base >= 0x100000);
    }
    UNIT_CHECK(acpi && rsdp_reserved);
}

int main(void)
{
    UNIT_RUN(rsdp);
    UNIT_RUN(rsdt_and_xsdt_agree);
    UNIT_RUN(fadt);
    UNIT_RUN(dsdt_offers_only_s5);
    UNIT_RUN(pm1_sleep_types_against_the_dsdt);
    UNIT_RUN(dsdt_pci_root_bridge);
    UNIT_RUN(madt);
    UNIT_RUN(hpet_table);
    UNIT_RUN(e820_marks_tables);
    return unit_done();
}
