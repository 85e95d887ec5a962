/*
 * exit_acpi_s5: power off through the ACPI PM1a control block. Writing
 * SLP_TYP (bits 12:10) = the \_S5 value with SLP_EN (bit 13) enters the
 * sleeping state (ACPI spec, 4.8.3.2.1 PM1 Control Registers). nest86's
 * PM1a_CNT_BLK is port 0x604 and its \_S5 SLP_TYP is 7 (devices/acpipm.h);
 * S5 is soft-off, so nest86 exits with status 0 (exit_acpi_s5.status).
 *
 * First, SLP_EN with the S3 values of the PIIX4 (1) and ICH9 (5)
 * chipsets: nest86's DSDT offers no \_S3, and a type it does not offer
 * is ignored — the kernel keeps running, WAK_STS (PM1a_STS bit 15) stays
 * clear and SLP_EN reads back 0 (docs/platform.md, "ACPI").
 */
#include "rt.h"

#define PM1A_STS 0x600
#define PM1A_CNT_BLK 0x604
#define SLP_TYP_S5 7
#define SLP_EN 0x2000
#define WAK_STS 0x8000

void test_main(void)
{
    static const unsigned s3_types[] = {1, 5};
    for (unsigned k = 0; k < 2 && !rt_cmdline_has("qemu-tcg"); k++) {
        uint16_t v = (uint16_t)((s3_types[k] << 10) | SLP_EN | 1 /* SCI_EN */);
        rt_printf("# PM1a_CNT <- SLP_TYP=%u | SLP_EN: not offered, expect no effect\n",
                  s3_types[k]);
        outw(PM1A_CNT_BLK, v);
        if (inw(PM1A_STS) & WAK_STS) {
            rt_printf("FAIL WAK_STS set after SLP_TYP %u\n", s3_types[k]);
            rt_exit(RT_EXIT_ASSERT);
        }
        if (inw(PM1A_CNT_BLK) != (v & ~SLP_EN)) {
            rt_printf("FAIL PM1a_CNT reads 0x%x\n", inw(PM1A_CNT_BLK));
            rt_exit(RT_EXIT_ASSERT);
        }
    }
    rt_printf("# PM1a_CNT <- SLP_TYP=7 | SLP_EN: expect power-off\n");
    outw(PM1A_CNT_BLK, (uint16_t)((SLP_TYP_S5 << 10) | SLP_EN));
    rt_printf("FAIL still running after the S5 request\n");
    rt_exit(RT_EXIT_ASSERT);
}
