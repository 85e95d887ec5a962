/* testsuite/unit/dev_stubs.h — a bare board for device unit tests.
 *
 * Defines the board functions the device models call but devices/pc.c
 * owns (machine_clock_ns, machine_cpu_intr, machine_request_stop,
 * machine_a20_changed, machine_cpu_nmi, machine_cpu_init, machine_cpu_sipi, machine_tsc,
 * machine_memory_map_changed).  Because the test defines them, the linker
 * never pulls pc.o out of libnest86.a, so the test links against the
 * library alone.  Include this from exactly one .c per test program.
 * See README-devices.md.
 */
#ifndef NEST86_TESTSUITE_DEV_STUBS_H
#define NEST86_TESTSUITE_DEV_STUBS_H

#include <string.h>

#include "devices/bus.h"
#include "devices/i8042.h"
#include "devices/machine.h"
#include "devices/pic.h"
#include "testsuite/unit/unit.h"

static struct machine test_m;
static uint64_t test_now;          /* the virtual clock, ns */
static bool test_intr;             /* the CPU's INTR pin */
static int test_intr_changes;
static enum machine_stop test_stop;
static int test_exit_status;
static int test_stops;
static int test_a20_changes;

uint64_t machine_clock_ns(const struct machine *m)
{
    (void)m;
    return test_now;
}

void machine_cpu_intr(struct machine *m, bool level)
{
    (void)m;
    test_intr = level;
    test_intr_changes++;
}

void machine_request_stop(struct machine *m, enum machine_stop why, int exit_status,
                          const char *message)
{
    (void)m;
    (void)message;
    test_stop = why;
    test_exit_status = exit_status;
    test_stops++;
}

void machine_a20_changed(struct machine *m)
{
    (void)m;
    test_a20_changes++;
}

static int test_nmis;
static uint64_t test_tsc_offset;   /* TSC = test_now + test_tsc_offset */
static int test_map_changes;

void machine_cpu_nmi(struct machine *m)
{
    (void)m;
    test_nmis++;
}

static int test_inits, test_sipis, test_sipi_vector = -1;

void machine_cpu_init(struct machine *m)
{
    (void)m;
    test_inits++;
}

void machine_cpu_sipi(struct machine *m, uint8_t vector)
{
    (void)m;
    test_sipis++;
    test_sipi_vector = vector;
}

uint64_t machine_tsc(const struct machine *m)
{
    (void)m;
    return test_now + test_tsc_offset;
}

void machine_memory_map_changed(struct machine *m)
{
    (void)m;
    test_map_changes++;
}

/* A fresh board with 'ram' bytes of (unbacked) RAM below 4 GiB and,
 * when with_pic, an initialised PIC pair (vectors 0x20 and 0x28, as
 * Linux programs it). */
static inline void test_board(uint64_t ram, bool with_pic)
{
    memset(&test_m, 0, sizeof(test_m));
    io_init(&test_m.io);
    test_m.phys.ram_size = ram;
    test_m.phys.ram_below_4g = ram;
    test_m.phys.a20_enabled = true;
    test_now = 0;
    test_intr = false;
    test_intr_changes = test_stops = test_a20_changes = 0;
    test_nmis = test_map_changes = 0;
    test_tsc_offset = 0;
    test_stop = MACHINE_RUNNING;
    test_exit_status = -1;
    if (with_pic) {
        test_m.pic = pic_create(&test_m);
        static const uint8_t init[][2] = {
            { 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
            { 0xA0, 0x11 }, { 0xA1, 0x28 }, { 0xA1, 0x02 }, { 0xA1, 0x01 },
            { 0x21, 0x00 }, { 0xA1, 0x00 },
        };
        for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++)
            io_out(&test_m.io, init[i][0], init[i][1], 1);
    }
}

static inline uint8_t inb(uint16_t port) { return (uint8_t)io_in(&test_m.io, port, 1); }
static inline void outb(uint16_t port, uint8_t v) { io_out(&test_m.io, port, v, 1); }

/* Moves the clock forward in steps of at most 'step' ns, firing timers. */
static inline void test_advance(uint64_t ns, uint64_t step)
{
    uint64_t end = test_now + ns;
    while (test_now < end) {
        uint64_t next = test_now + step;
        test_now = next < end ? next : end;
        machine_run_timers(&test_m);
    }
}

/* Takes every pending interrupt (INTA + non-specific EOI) and counts
 * those with vector 'vector'. */
static inline int test_take_irqs(int vector)
{
    int n = 0;
    while (test_intr) {
        int v = pic_intack(test_m.pic);
        if (v == vector)
            n++;
        if (v >= 0x28)
            outb(0xA0, 0x20);
        outb(0x20, 0x20);
    }
    return n;
}

#endif
