/* testsuite/unit/dev_bus.c — I/O bus dispatch and virtual-clock timers. */
#include "testsuite/unit/dev_stubs.h"

static uint32_t last_read_port, last_write_port, last_write_val;
static unsigned last_size;

static uint32_t rd(void *opaque, uint16_t port, unsigned size)
{
    last_read_port = port;
    last_size = size;
    return (uint32_t)(uintptr_t)opaque + (port & 0xFF);
}

static void wr(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)opaque;
    last_write_port = port;
    last_write_val = value;
    last_size = size;
}

static void open_bus_reads_all_ones(void)
{
    test_board(0, false);
    UNIT_CHECK(io_in(&test_m.io, 0x1234, 1) == 0xFF);
    UNIT_CHECK(io_in(&test_m.io, 0x1234, 2) == 0xFFFF);
    UNIT_CHECK(io_in(&test_m.io, 0x1234, 4) == 0xFFFFFFFFu);
    io_register(&test_m.io, 0x300, 4, "wo", NULL, NULL, wr);
    UNIT_CHECK(io_in(&test_m.io, 0x300, 2) == 0xFFFF);
}

static void dispatch_whole_and_split(void)
{
    test_board(0, false);
    io_register(&test_m.io, 0x300, 4, "a", (void *)0x100, rd, wr);
    io_register(&test_m.io, 0x304, 4, "b", (void *)0x200, rd, wr);
    UNIT_CHECK(io_in(&test_m.io, 0x301, 2) == 0x101 && last_size == 2);
    /* 0x303 belongs to a, 0x304 to b: split into bytes. */
    UNIT_CHECK(io_in(&test_m.io, 0x303, 2) == (0x03u | 0x04u << 8));
    io_out(&test_m.io, 0x302, 0x12345678, 2);
    UNIT_CHECK(last_write_port == 0x302 && last_write_val == 0x5678 && last_size == 2);
}

static void later_registration_wins(void)
{
    test_board(0, false);
    io_register(&test_m.io, 0xCF8, 8, "pci", (void *)0x100, rd, wr);
    io_register(&test_m.io, 0xCF9, 1, "rst", (void *)0x500, rd, wr);
    UNIT_CHECK(io_in(&test_m.io, 0xCF9, 1) == (0x5F9u & 0xFF));
    UNIT_CHECK(io_in(&test_m.io, 0xCFC, 1) == (0x1FCu & 0xFF));
    /* A dword at 0xCF8 still goes whole to the handler whose range holds it. */
    UNIT_CHECK(io_in(&test_m.io, 0xCF8, 4) == 0x1F8u && last_size == 4);
}

static int order[4], norder;
static void reset_a(void *o) { (void)o; order[norder++] = 1; }
static void reset_b(void *o) { (void)o; order[norder++] = 2; }

static void resets_run_in_order(void)
{
    test_board(0, false);
    norder = 0;
    bus_add_reset(&test_m.io, reset_a, NULL);
    bus_add_reset(&test_m.io, reset_b, NULL);
    bus_reset_all(&test_m.io);
    UNIT_CHECK(norder == 2 && order[0] == 1 && order[1] == 2);
}

static int traced;
static void trace(const char *dir, uint16_t port, uint32_t value, unsigned size)
{
    (void)dir;
    (void)port;
    (void)value;
    (void)size;
    traced++;
}

static void trace_hook_sees_accesses(void)
{
    test_board(0, false);
    traced = 0;
    test_m.io.trace = trace;
    io_in(&test_m.io, 0x80, 1);
    io_out(&test_m.io, 0x80, 1, 1);
    UNIT_CHECK(traced == 2);
}

static int fired[8], nfired;
static struct timer timers[3];
static void cb(void *opaque) { fired[nfired++] = (int)(uintptr_t)opaque; }
static void cb_rearm(void *opaque)
{
    cb(opaque);
    if (nfired < 5)
        timer_mod(&test_m, &timers[2], test_now + 100);
}

static void timers_fire_in_deadline_order(void)
{
    test_board(0, false);
    nfired = 0;
    for (int i = 0; i < 3; i++)
        timer_init(&timers[i], cb, (void *)(uintptr_t)i);
    timer_mod(&test_m, &timers[0], 300);
    timer_mod(&test_m, &timers[1], 100);
    timer_mod(&test_m, &timers[2], 200);
    timer_mod(&test_m, &timers[0], 50); /* re-arming moves it */
    timer_del(&test_m, &timers[2]);
    UNIT_CHECK(machine_run_timers(&test_m) == 50);
    test_now = 1000;
    UNIT_CHECK(machine_run_timers(&test_m) == UINT64_MAX);
    UNIT_CHECK(nfired == 2 && fired[0] == 0 && fired[1] == 1);
    UNIT_CHECK(!timers[0].armed && !timers[2].armed);
}

static void timer_callback_may_rearm(void)
{
    test_board(0, false);
    nfired = 0;
    timer_init(&timers[2], cb_rearm, (void *)2);
    timer_mod(&test_m, &timers[2], 100);
    test_now = 150;
    UNIT_CHECK(machine_run_timers(&test_m) == 250);
    UNIT_CHECK(nfired == 1);
}

int main(void)
{
    UNIT_RUN(open_bus_reads_all_ones);
    UNIT_RUN(dispatch_whole_and_split);
    UNIT_RUN(later_registration_wins);
    UNIT_RUN(resets_run_in_order);
    UNIT_RUN(trace_hook_sees_accesses);
    UNIT_RUN(timers_fire_in_deadline_order);
    UNIT_RUN(timer_callback_may_rearm);
    return unit_done();
}
