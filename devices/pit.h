/* devices/pit.h — Intel 8254 programmable interval timer at 0x40-0x43,
 * plus system control port B (0x61: channel 2 gate, speaker enable,
 * refresh toggle, channel 2 output).  Channel 0 drives ISA IRQ 0.
 */
#ifndef NEST86_DEVICES_PIT_H
#define NEST86_DEVICES_PIT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/machine.h"

#define PIT_FREQ_HZ 1193182u
#define PIT_BASE    0x40
#define PIT_PORT_B  0x61
#define PIT_IRQ     0

struct pit_channel {
    uint32_t count;        /* loaded count in input ticks: 1..65536 (10000 in BCD) */
    uint8_t mode;          /* 0-5 */
    uint8_t rw;            /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool counting;         /* a count was written after the control word */
    bool null_count;
    bool gate;
    bool frozen;           /* gate low stopped the counter at 'frozen_ticks' */
    uint64_t frozen_ticks;
    uint64_t load_ns;      /* virtual time of input tick 0 */
    uint8_t write_lsb;     /* LSB of a two-byte count write */
    bool write_msb_next, read_msb_next;
    uint16_t latch;        /* counter latch */
    uint8_t latch_rw;      /* 0: nothing latched; else how to read it out */
    bool latch_msb_next;
    uint8_t status;
    bool status_latched;
    /* channel 0: the output transition the IRQ timer is armed for */
    uint64_t next_tick;
};

struct pit {
    struct machine *m;
    struct pit_channel ch[3];
    uint8_t port_b;        /* 0x61 bits 0-3 as written */
    struct timer irq_timer;
};

struct pit *pit_create(struct machine *m);
void pit_reset(void *opaque);

/* Output level of channel 'n' now (for tests and the debugger). */
bool pit_output(struct pit *p, int n);

#endif
