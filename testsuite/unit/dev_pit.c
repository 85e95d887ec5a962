/* testsuite/unit/dev_pit.c — 8254 counting, latches and IRQ 0 rate. */
#include "devices/pit.h"
#include "testsuite/unit/dev_stubs.h"

static struct pit *pit;

static void setup(void)
{
    test_board(0, true);
    pit = pit_create(&test_m);
}

static uint64_t ns_for_ticks(uint64_t t)
{
    return t * 1000000000ull / PIT_FREQ_HZ;
}

static void mode2_rate_on_irq0(void)
{
    setup();
    outb(0x43, 0x34);                 /* ch0, lobyte/hibyte, mode 2 */
    outb(0x40, 1193 & 0xFF);
    outb(0x40, 1193 >> 8);            /* ~1 kHz */
    int n = 0;
    for (int i = 0; i < 100; i++) {   /* 100 ms in 7 us steps */
        test_advance(1000000, 7000);
        n += test_take_irqs(0x20);
    }
    UNIT_CHECKF(n == 99 || n == 100, "%d interrupts in 100 ms", n);
}

static void late_timer_service_loses_no_irq(void)
{
    setup();
    outb(0x43, 0x34);
    outb(0x40, 100);
    outb(0x40, 0);
    /* Timers serviced once per ~1 ms: each 1-tick low pulse still shows. */
    int n = 0;
    for (int i = 0; i < 5; i++) {
        test_now += ns_for_ticks(1000);
        machine_run_timers(&test_m);
        n += test_take_irqs(0x20);
    }
    UNIT_CHECKF(n == 5, "%d interrupts", n);
}

static void mode3_square_wave_rate(void)
{
    setup();
    outb(0x43, 0x36);                 /* ch0 mode 3 */
    outb(0x40, 0x9C);
    outb(0x40, 0x2E);                 /* 11932: 100 Hz */
    int n = 0;
    for (int i = 0; i < 50; i++) {
        test_advance(10000000, 50000);
        n += test_take_irqs(0x20);
    }
    UNIT_CHECKF(n == 50 || n == 49, "%d interrupts in 500 ms", n);
}

static void mode0_one_shot(void)
{
    setup();
    outb(0x43, 0x30);                 /* ch0 mode 0 */
    outb(0x40, 0x00);
    outb(0x40, 0x10);                 /* 4096 ticks */
    test_advance(ns_for_ticks(4000), 1000);
    UNIT_CHECK(test_take_irqs(0x20) == 0);
    test_advance(ns_for_ticks(200), 1000);
    UNIT_CHECK(test_take_irqs(0x20) == 1);
    test_advance(100000000, 1000000);
    UNIT_CHECK(test_take_irqs(0x20) == 0);
}

static void counter_latch_and_lohi(void)
{
    setup();
    outb(0x43, 0x34);
    outb(0x40, 0x00);
    outb(0x40, 0x10);                 /* 4096 */
    test_now = ns_for_ticks(100) + 1;
    outb(0x43, 0x00);                 /* latch ch0 */
    test_now += ns_for_ticks(50);     /* the latch holds the old value */
    uint16_t v = inb(0x40);
    v |= (uint16_t)(inb(0x40) << 8);
    UNIT_CHECKF(v == 4096 - 100, "latched %u", v);
    outb(0x43, 0x14);                 /* ch0 LSB only, mode 2 */
    outb(0x40, 200);
    test_now += ns_for_ticks(10) + 1;
    UNIT_CHECKF(inb(0x40) == 190, "lsb");
    outb(0x43, 0x24);                 /* ch0 MSB only */
    outb(0x40, 0x02);                 /* 512 */
    UNIT_CHECK(inb(0x40) == 0x02);
}

static void read_back_status(void)
{
    setup();
    outb(0x43, 0xB0);                 /* ch2, lo/hi, mode 0 */
    outb(0x43, 0xE8);                 /* read-back status of ch2 */
    UNIT_CHECK(inb(0x42) == 0x70);    /* OUT low, null count, rw 3, mode 0 */
    outb(0x42, 0x10);
    outb(0x42, 0x00);
    outb(0x43, 0xE8);
    UNIT_CHECK(inb(0x42) == 0x30);    /* gate low: counting held, count loaded */
}

static void channel2_gate_and_port61(void)
{
    setup();
    outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate high, speaker off */
    outb(0x43, 0xB0);                 /* ch2 mode 0 */
    outb(0x42, 0xFF);
    outb(0x42, 0xFF);
    UNIT_CHECK(!(inb(0x61) & 0x20));
    test_now += ns_for_ticks(0xFFFE);
    UNIT_CHECK(!(inb(0x61) & 0x20));
    test_now += ns_for_ticks(2);
    UNIT_CHECK(inb(0x61) & 0x20);
    /* Gate low pauses mode 0. */
    outb(0x43, 0xB0);
    outb(0x42, 0x00);
    outb(0x42, 0x01);                 /* 256 */
    test_now += ns_for_ticks(100) + 1;
    outb(0x61, 0x00);
    test_now += ns_for_ticks(1000);
    outb(0x61, 0x01);
    outb(0x43, 0x80);                 /* latch ch2 */
    uint16_t v = inb(0x42);
    v |= (uint16_t)(inb(0x42) << 8);
    UNIT_CHECKF(v == 156, "paused counter %u", v);
}

static void refresh_bit_toggles(void)
{
    setup();
    uint8_t a = inb(0x61) & 0x10;
    test_now += 15085;
    UNIT_CHECK((inb(0x61) & 0x10) != a);
}

int main(void)
{
    UNIT_RUN(mode2_rate_on_irq0);
    UNIT_RUN(late_timer_service_loses_no_irq);
    UNIT_RUN(mode3_square_wave_rate);
    UNIT_RUN(mode0_one_shot);
    UNIT_RUN(counter_latch_and_lohi);
    UNIT_RUN(read_back_status);
    UNIT_RUN(channel2_gate_and_port61);
    UNIT_RUN(refresh_bit_toggles);
    return unit_done();
}
