/* devices/acpipm.h — ACPI fixed hardware: PM1a event and control
 * blocks, the 24-bit PM timer and GPE0, at ICH9-like addresses.
 *
 * These constants are the one source of truth for the FADT (and the
 * DSDT's \_S5 package): the ACPI table code must use them.
 *   PM1a_EVT_BLK = ACPIPM_PM1A_EVT_BLK, PM1_EVT_LEN = 4
 *   PM1a_CNT_BLK = ACPIPM_PM1A_CNT_BLK, PM1_CNT_LEN = 2
 *   PM_TMR_BLK   = ACPIPM_PM_TMR_BLK,   PM_TMR_LEN  = 4 (24-bit timer)
 *   GPE0_BLK     = ACPIPM_GPE0_BLK,     GPE0_BLK_LEN = 8
 *   SCI_INT      = ACPIPM_SCI_IRQ (level-triggered, active high on the PIC)
 *   SMI_CMD      = 0: the system is already in ACPI mode (SCI_EN reads 1)
 *   \_S5         = Package { ACPIPM_SLP_TYP_S5, ACPIPM_SLP_TYP_S5, 0, 0 }
 * and no other \_Sx: S5 is the one sleeping state (see acpipm.c).
 */
#ifndef NEST86_DEVICES_ACPIPM_H
#define NEST86_DEVICES_ACPIPM_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"

#define ACPIPM_BASE          0x600
#define ACPIPM_PM1A_EVT_BLK  (ACPIPM_BASE + 0x00)
#define ACPIPM_PM1_EVT_LEN   4
#define ACPIPM_PM1A_CNT_BLK  (ACPIPM_BASE + 0x04)
#define ACPIPM_PM1_CNT_LEN   2
#define ACPIPM_PM_TMR_BLK    (ACPIPM_BASE + 0x08)
#define ACPIPM_PM_TMR_LEN    4
#define ACPIPM_GPE0_BLK      (ACPIPM_BASE + 0x20)
#define ACPIPM_GPE0_BLK_LEN  8
#define ACPIPM_SCI_IRQ       9
#define ACPIPM_SLP_TYP_S5    7
#define ACPIPM_TIMER_HZ      3579545u

/* PM1 status/enable bits (ACPI 6.x, 4.8.3.1) */
#define ACPIPM_TMR_STS    0x0001
#define ACPIPM_GBL_STS    0x0020
#define ACPIPM_PWRBTN_STS 0x0100
#define ACPIPM_RTC_STS    0x0400
#define ACPIPM_WAK_STS    0x8000
/* PM1 control bits (4.8.3.2.1) */
#define ACPIPM_SCI_EN     0x0001
#define ACPIPM_SLP_TYP_SHIFT 10
#define ACPIPM_SLP_EN     0x2000

struct acpipm {
    struct machine *m;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint8_t gpe_sts[ACPIPM_GPE0_BLK_LEN / 2], gpe_en[ACPIPM_GPE0_BLK_LEN / 2];
    bool sci_level;
    unsigned ignored_sleeps; /* SLP_EN writes with a type other than S5 */
    struct timer overflow_timer; /* bit 23 of the PM timer toggles */
};

struct acpipm *acpipm_create(struct machine *m);
void acpipm_reset(void *opaque);

/* 24-bit PM timer value now. */
uint32_t acpipm_timer(const struct acpipm *a);
/* Fixed-feature power button press (sets PWRBTN_STS). */
void acpipm_power_button(struct acpipm *a);
/* A device sets GPE0 status bit 'bit' (0-31). */
void acpipm_set_gpe(struct acpipm *a, unsigned bit);

#endif
