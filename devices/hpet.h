/* devices/hpet.h — High Precision Event Timer (IA-PC HPET Specification
 * 1.0a): one block at 0xFED00000 with a 64-bit main counter at 100 MHz
 * (period 10 ns) and three 64-bit comparators, each one-shot or
 * periodic, 32- or 64-bit, edge or level, routed to an IOAPIC pin or, in
 * legacy replacement mode, timer 0 to IRQ 0 (IOAPIC pin 2) and timer 1
 * to IRQ 8 in place of the PIT and the RTC.
 */
#ifndef NEST86_DEVICES_HPET_H
#define NEST86_DEVICES_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"

#define HPET_BASE       0xFED00000u
#define HPET_TIMERS     3
#define HPET_PERIOD_FS  10000000u  /* 10 ns per tick: 100 MHz */
#define HPET_TICK_NS    10u
#define HPET_VENDOR     0x8086u
/* General capabilities and ID, bits 31:0: vendor, LEG_RT_CAP (15),
 * COUNT_SIZE_CAP (13), NUM_TIM_CAP = timers - 1 (12:8), REV_ID 1. */
#define HPET_CAP_LOW    ((HPET_VENDOR << 16) | (1u << 15) | (1u << 13) | \
                         ((HPET_TIMERS - 1u) << 8) | 1u)
/* IOAPIC pins a timer may be routed to (Tn_INT_ROUTE_CAP): 20-23. */
#define HPET_ROUTE_CAP  0x00F00000u
/* Minimum clock ticks in periodic mode, for the ACPI HPET table. */
#define HPET_MIN_TICK   100u

/* register offsets */
#define HPET_REG_CAP     0x000
#define HPET_REG_CONFIG  0x010
#define HPET_REG_STATUS  0x020
#define HPET_REG_COUNTER 0x0F0
#define HPET_REG_TIMER(n) (0x100u + 0x20u * (n)) /* +0 config, +8 comparator, +0x10 FSB */

/* general configuration */
#define HPET_CFG_ENABLE  (1u << 0)
#define HPET_CFG_LEGACY  (1u << 1)
/* timer n configuration and capabilities */
#define HPET_TN_LEVEL    (1u << 1)
#define HPET_TN_ENABLE   (1u << 2)
#define HPET_TN_PERIODIC (1u << 3)
#define HPET_TN_PER_CAP  (1u << 4)
#define HPET_TN_SIZE_CAP (1u << 5)
#define HPET_TN_SETVAL   (1u << 6)
#define HPET_TN_32BIT    (1u << 8)
#define HPET_TN_ROUTE_SHIFT 9

struct hpet;

struct hpet_timer {
    struct hpet *h;
    int n;
    uint64_t config;
    uint64_t cmp;      /* comparator */
    uint64_t period;   /* periodic mode increment */
    bool line;         /* current output level */
    struct timer t;
};

struct hpet {
    struct machine *m;
    uint64_t config;
    uint64_t status;        /* level-triggered interrupt status, bit per timer */
    uint64_t counter_base;  /* main counter at start_ns (its value while halted) */
    uint64_t start_ns;
    struct hpet_timer timer[HPET_TIMERS];
};

/* Creates the HPET at HPET_BASE and stores it in m->hpet. */
struct hpet *hpet_create(struct machine *m);
void hpet_reset(void *opaque);

/* Registers by offset (32- or 64-bit accesses; 'size' 4 or 8). */
uint64_t hpet_read(struct hpet *h, uint32_t offset, unsigned size);
void hpet_write(struct hpet *h, uint32_t offset, uint64_t value, unsigned size);

/* Main counter now. */
uint64_t hpet_counter(const struct hpet *h);
/* Whether legacy replacement routing is on (the PIT and RTC lose IRQ 0/8). */
bool hpet_legacy_mode(const struct hpet *h);

#endif
