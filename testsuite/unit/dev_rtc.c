/* testsuite/unit/dev_rtc.c — MC146818 time, formats, interrupts, CMOS. */
#include "devices/rtc.h"
#include "testsuite/unit/dev_stubs.h"

static struct rtc *rtc;

static uint8_t cmos(uint8_t idx)
{
    outb(0x70, idx);
    return inb(0x71);
}

static void cmos_set(uint8_t idx, uint8_t v)
{
    outb(0x70, idx);
    outb(0x71, v);
}

static void setup(void)
{
    test_board(512ull << 20, true);
    rtc = rtc_create(&test_m);
}

static void starts_at_fixed_epoch_in_bcd(void)
{
    setup();
    UNIT_CHECK(cmos(RTC_YEAR) == 0x26 && cmos(RTC_CENTURY) == 0x20);
    UNIT_CHECK(cmos(RTC_MONTH) == 0x01 && cmos(RTC_DAY_OF_MONTH) == 0x01);
    UNIT_CHECK(cmos(RTC_HOURS) == 0 && cmos(RTC_MINUTES) == 0 && cmos(RTC_SECONDS) == 0);
    UNIT_CHECK(cmos(RTC_DAY_OF_WEEK) == 5); /* 2026-01-01 is a Thursday */
    UNIT_CHECK(cmos(RTC_REG_D) == 0x80);
}

static void advances_with_virtual_time(void)
{
    setup();
    test_advance((59ull * 86400 + 13 * 3600 + 4 * 60 + 5) * 1000000000ull, 1000000000ull);
    UNIT_CHECK(cmos(RTC_MONTH) == 0x03 && cmos(RTC_DAY_OF_MONTH) == 0x01); /* not leap */
    UNIT_CHECK(cmos(RTC_HOURS) == 0x13 && cmos(RTC_MINUTES) == 0x04);
    UNIT_CHECK(cmos(RTC_SECONDS) == 0x05);
    cmos_set(RTC_REG_B, 0x04);        /* binary, 12-hour */
    UNIT_CHECK(cmos(RTC_HOURS) == (0x80 | 1) && cmos(RTC_MINUTES) == 4);
}

static void set_while_frozen(void)
{
    setup();
    cmos_set(RTC_REG_B, 0x82);        /* SET, BCD, 24h */
    cmos_set(RTC_YEAR, 0x99);
    cmos_set(RTC_CENTURY, 0x19);
    cmos_set(RTC_MONTH, 0x12);
    cmos_set(RTC_DAY_OF_MONTH, 0x31);
    cmos_set(RTC_HOURS, 0x23);
    cmos_set(RTC_MINUTES, 0x59);
    cmos_set(RTC_SECONDS, 0x59);
    test_now += 5000000000ull;
    UNIT_CHECK(cmos(RTC_SECONDS) == 0x59); /* frozen */
    cmos_set(RTC_REG_B, 0x02);
    test_now += 1000000000ull;
    UNIT_CHECK(cmos(RTC_YEAR) == 0x00 && cmos(RTC_CENTURY) == 0x20);
    UNIT_CHECK(cmos(RTC_MONTH) == 0x01 && cmos(RTC_DAY_OF_MONTH) == 0x01);
    UNIT_CHECK(rtc_get_time(rtc) == 946684800ull);
}

static void update_in_progress_window(void)
{
    setup();
    test_now = 999000000ull;
    UNIT_CHECK(!(cmos(RTC_REG_A) & 0x80));
    test_now = 999900000ull;
    UNIT_CHECK(cmos(RTC_REG_A) & 0x80);
}

static void periodic_interrupt_on_irq8(void)
{
    setup();
    cmos_set(RTC_REG_A, 0x26);        /* 1024 Hz */
    cmos_set(RTC_REG_B, 0x42);        /* PIE */
    int n = 0;
    for (int i = 0; i < 10000; i++) {
        test_advance(100000, 100000);
        if (test_take_irqs(0x28)) {
            n++;
            UNIT_CHECK(cmos(RTC_REG_C) & 0xC0);
        }
    }
    UNIT_CHECKF(n >= 1020 && n <= 1025, "%d periodic interrupts in 1 s", n);
}

static void update_and_alarm_interrupts(void)
{
    setup();
    cmos_set(RTC_SECONDS_ALARM, 0x03);
    cmos_set(RTC_MINUTES_ALARM, 0xC0);
    cmos_set(RTC_HOURS_ALARM, 0xFF);
    cmos_set(RTC_REG_B, 0x22);        /* AIE */
    (void)cmos(RTC_REG_C);
    test_advance(2500000000ull, 100000000ull);
    UNIT_CHECK(test_take_irqs(0x28) == 0);
    test_advance(1000000000ull, 100000000ull);
    UNIT_CHECK(test_take_irqs(0x28) == 1);
    UNIT_CHECK((cmos(RTC_REG_C) & 0xB0) == 0xB0); /* IRQF, AF, UF */
    UNIT_CHECK(cmos(RTC_REG_C) == 0);
}

static void memory_size_bytes(void)
{
    setup();
    UNIT_CHECK(cmos(0x15) == 0x80 && cmos(0x16) == 0x02);
    UNIT_CHECK(cmos(0x17) == 0xFF && cmos(0x18) == 0xFF); /* capped */
    UNIT_CHECK((cmos(0x34) | cmos(0x35) << 8) == (512 - 16) * 16);
    UNIT_CHECK(cmos(0x5B) == 0 && cmos(0x5C) == 0 && cmos(0x5D) == 0);
    outb(0x70, 0x8F);
    UNIT_CHECK(rtc_nmi_masked(rtc));
}

int main(void)
{
    UNIT_RUN(starts_at_fixed_epoch_in_bcd);
    UNIT_RUN(advances_with_virtual_time);
    UNIT_RUN(set_while_frozen);
    UNIT_RUN(update_in_progress_window);
    UNIT_RUN(periodic_interrupt_on_irq8);
    UNIT_RUN(update_and_alarm_interrupts);
    UNIT_RUN(memory_size_bytes);
    return unit_done();
}
