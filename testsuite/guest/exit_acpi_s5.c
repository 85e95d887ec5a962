/*
 * exit_acpi_s5: power off through the ACPI PM1a control block. Writing
 * SLP_TYP (bits 12:10) = the \_S5 value with SLP_EN (bit 13) enters the
 * sleeping state (ACPI spec, 4.8.3.2.1 PM1 Control Registers). nest86's
 * PM1a_CNT_BLK is port 0x604 and its \_S5 SLP_TYP is 7 (devices/acpipm.h);
 * S5 is soft-off, so nest86 exits with status 0 (exit_acpi_s5.status).
 */
#include "rt.h"

#define PM1A_CNT_BLK 0x604
#define SLP_TYP_S5 7
#define SLP_EN 0x2000

void test_main(void)
{
    rt_printf("# PM1a_CNT <- SLP_TYP=7 | SLP_EN: expect power-off\n");
    outw(PM1A_CNT_BLK, (uint16_t)((SLP_TYP_S5 << 10) | SLP_EN));
    rt_printf("FAIL still running after the S5 request\n");
    rt_exit(RT_EXIT_ASSERT);
}
