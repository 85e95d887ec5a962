/* devices/rtc.h — MC146818 real-time clock and 128 bytes of CMOS RAM at
 * 0x70 (index, bit 7 masks NMI) / 0x71 (data); interrupts on ISA IRQ 8.
 *
 * The clock starts at RTC_DEFAULT_EPOCH and advances with virtual time,
 * so runs are reproducible; rtc_set_time() moves it (e.g. -rtc host).
 */
#ifndef NEST86_DEVICES_RTC_H
#define NEST86_DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"

#define RTC_BASE 0x70
#define RTC_IRQ  8
#define RTC_DEFAULT_EPOCH 1767225600ull /* 2026-01-01 00:00:00 UTC */

/* CMOS register indexes */
#define RTC_SECONDS       0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES       0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS         0x04
#define RTC_HOURS_ALARM   0x05
#define RTC_DAY_OF_WEEK   0x06
#define RTC_DAY_OF_MONTH  0x07
#define RTC_MONTH         0x08
#define RTC_YEAR          0x09
#define RTC_REG_A         0x0A
#define RTC_REG_B         0x0B
#define RTC_REG_C         0x0C
#define RTC_REG_D         0x0D
#define RTC_CENTURY       0x32 /* the FADT's CENTURY field names this index */

struct rtc {
    struct machine *m;
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_masked;
    uint64_t base_seconds;   /* Unix time at virtual time base_ns */
    uint64_t base_ns;
    uint64_t last_c_read_ns; /* for periodic flags raised with PIE off */
    bool irq_level;
    struct timer update_timer;   /* once a second: UF and the alarm */
    struct timer periodic_timer; /* while PIE is set */
};

struct rtc *rtc_create(struct machine *m);
void rtc_reset(void *opaque);

void rtc_set_time(struct rtc *r, uint64_t unix_seconds);
/* Current Unix time of the emulated clock. */
uint64_t rtc_get_time(struct rtc *r);
/* CMOS RAM access for the board (boot order bytes and the like). */
void rtc_cmos_write(struct rtc *r, uint8_t index, uint8_t value);
uint8_t rtc_cmos_read(struct rtc *r, uint8_t index);
/* Bit 7 of the last write to port 0x70. */
bool rtc_nmi_masked(const struct rtc *r);

#endif
