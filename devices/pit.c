/* devices/pit.c — Intel 8254 (datasheet 231164): six counting modes,
 * counter latch, read-back command, LSB/MSB access, gates.
 *
 * Counters are not stepped: a channel remembers the virtual time its
 * count was loaded and derives the counter and OUT from the elapsed
 * input ticks.  Channel 0 arms one timer at its next OUT transition and
 * drives IRQ 0 through every transition in order, so an interrupt is
 * never lost even when the run loop services timers late.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/pit.h"
#include "devices/machine.h"
#include "devices/snap.h"

#define NS_PER_S 1000000000ull
#define NO_TICK UINT64_MAX

static uint64_t ticks_at(const struct pit_channel *c, uint64_t now)
{
    if (!c->counting)
        return 0;
    if (c->frozen)
        return c->frozen_ticks;
    return (uint64_t)((unsigned __int128)(now - c->load_ns) * PIT_FREQ_HZ / NS_PER_S);
}

/* Nanoseconds from tick 0 to input tick 'd' (rounded up, so that
 * ticks_at() of the result is exactly 'd'). */
static uint64_t ticks_to_ns(uint64_t d)
{
    return (uint64_t)(((unsigned __int128)d * NS_PER_S + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static bool out_at(const struct pit_channel *c, uint64_t d)
{
    if (!c->counting)
        return c->mode != 0;
    uint32_t n = c->count;
    switch (c->mode) {
    case 0: /* interrupt on terminal count */
    case 1: /* hardware one-shot */
        return d >= n;
    case 2: /* rate generator: low for the tick the counter reads 1 */
        return c->frozen || n < 2 || d % n != n - 1;
    case 3: /* square wave: high for the first (larger) half */
        return c->frozen || d % n < (n + 1) / 2;
    default: /* 4, 5: strobes, low for one tick at terminal count */
        return d != n;
    }
}

static uint64_t next_change(const struct pit_channel *c, uint64_t d)
{
    if (!c->counting || c->frozen)
        return NO_TICK;
    uint32_t n = c->count;
    uint64_t base = d - d % n, pos = d % n;
    switch (c->mode) {
    case 0:
    case 1:
        return d < n ? n : NO_TICK;
    case 2:
        if (n < 2)
            return NO_TICK;
        return pos < n - 1 ? base + n - 1 : base + n;
    case 3:
        return pos < (n + 1) / 2 ? base + (n + 1) / 2 : base + n;
    default:
        return d < n ? n : d == n ? n + 1 : NO_TICK;
    }
}

static uint16_t bin_to_bcd16(uint32_t v)
{
    return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 |
                      (v / 1000 % 10) << 12);
}

static uint32_t bcd16_to_bin(uint16_t v)
{
    return (v & 0xF) + ((v >> 4) & 0xF) * 10 + ((v >> 8) & 0xF) * 100 +
           ((v >> 12) & 0xF) * 1000;
}

static uint16_t counter_at(const struct pit_channel *c, uint64_t d)
{
    uint32_t n = c->count, modulus = c->bcd ? 10000 : 65536, v;
    if (!c->counting)
        return 0;
    switch (c->mode) {
    case 2: v = n - (uint32_t)(d % n); break;
    case 3: v = (n - (uint32_t)((2 * d) % n)) & ~1u; break;
    default: v = (uint32_t)((n + modulus - d % modulus) % modulus); break;
    }
    v %= modulus;
    return c->bcd ? bin_to_bcd16(v) : (uint16_t)v;
}

/* LSB/MSB access (control word RW field): whether the next byte is the
 * MSB, flipping the two-byte flip-flop where there is one. */
static bool next_is_msb(uint8_t rw, bool *flipflop)
{
    if (rw != 3)
        return rw == 2;
    bool msb = *flipflop;
    *flipflop = !msb;
    return msb;
}

static uint8_t byte_of(uint16_t v, bool msb)
{
    return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static void irq_schedule(struct pit *p, uint64_t from_tick)
{
    struct pit_channel *c = &p->ch[0];
    uint64_t t = next_change(c, from_tick);
    if (t == NO_TICK) {
        timer_del(p->m, &p->irq_timer);
        return;
    }
    c->next_tick = t;
    timer_mod(p->m, &p->irq_timer, c->load_ns + ticks_to_ns(t));
}

/* Channel 0 was reprogrammed: drive IRQ 0 to its OUT now and re-arm. */
static void irq_resync(struct pit *p)
{
    uint64_t d = ticks_at(&p->ch[0], machine_clock_ns(p->m));
    machine_set_irq(p->m, PIT_IRQ, out_at(&p->ch[0], d));
    irq_schedule(p, d);
}

static void irq_timer_cb(void *opaque)
{
    struct pit *p = opaque;
    struct pit_channel *c = &p->ch[0];
    machine_set_irq(p->m, PIT_IRQ, out_at(c, c->next_tick));
    /* Edges serviced late are replayed one by one, so that no interrupt
     * is lost (unit/dev_pit); timers are serviced within a time slice.
     * A channel more than a second of guest time behind (a snapshot
     * from a hand-edited or corrupt file) resumes from now instead: at
     * one edge per tick, replaying could take hours. */
    uint64_t from = c->next_tick, now = ticks_at(c, machine_clock_ns(p->m));
    if (now > from && now - from > PIT_FREQ_HZ)
        from = now;
    irq_schedule(p, from);
}

static void channel_changed(struct pit *p, int n)
{
    if (n == 0)
        irq_resync(p);
}

static void load_count(struct pit *p, int n, uint16_t raw)
{
    struct pit_channel *c = &p->ch[n];
    uint32_t v = c->bcd ? bcd16_to_bin(raw) : raw;
    if (v == 0)
        v = c->bcd ? 10000 : 65536;
    c->count = v;
    c->counting = true;
    c->null_count = false;
    c->load_ns = machine_clock_ns(p->m);
    /* Modes 0, 2, 3, 4 do not count while the gate is low. */
    c->frozen = !c->gate && c->mode != 1 && c->mode != 5;
    c->frozen_ticks = 0;
    channel_changed(p, n);
}

static void set_gate(struct pit *p, int n, bool gate)
{
    struct pit_channel *c = &p->ch[n];
    if (gate == c->gate)
        return;
    uint64_t now = machine_clock_ns(p->m);
    uint64_t d = ticks_at(c, now);
    c->gate = gate;
    if (!c->counting)
        return;
    switch (c->mode) {
    case 0:
    case 4: /* gate low pauses counting */
        if (!gate) {
            c->frozen = true;
            c->frozen_ticks = d;
        } else if (c->frozen) {
            c->frozen = false;
            c->load_ns = now - ticks_to_ns(c->frozen_ticks);
        }
        break;
    case 2:
    case 3: /* gate low stops with OUT high; rising edge reloads */
        c->frozen = !gate;
        c->frozen_ticks = 0;
        if (gate)
            c->load_ns = now;
        break;
    default: /* 1, 5: rising edge triggers */
        if (gate)
            c->load_ns = now;
        break;
    }
    channel_changed(p, n);
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->latch_rw)
        return; /* a latched value is held until read */
    c->latch = counter_at(c, ticks_at(c, now));
    c->latch_rw = c->rw;
    c->latch_msb_next = false;
}

static void latch_status(struct pit_channel *c, uint64_t now)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)(out_at(c, ticks_at(c, now)) << 7 | c->null_count << 6 |
                          c->rw << 4 | c->mode << 1 | c->bcd);
    c->status_latched = true;
}

static void control_word(struct pit *p, uint8_t v)
{
    uint64_t now = machine_clock_ns(p->m);
    int sc = v >> 6;
    if (sc == 3) { /* read-back: bit 5 = don't latch count, bit 4 = don't latch status */
        for (int n = 0; n < 3; n++) {
            if (!(v & (2 << n)))
                continue;
            if (!(v & 0x20))
                latch_count(&p->ch[n], now);
            if (!(v & 0x10))
                latch_status(&p->ch[n], now);
        }
        return;
    }
    struct pit_channel *c = &p->ch[sc];
    uint8_t rw = (v >> 4) & 3;
    if (rw == 0) {
        latch_count(c, now);
        return;
    }
    uint8_t mode = (v >> 1) & 7;
    c->mode = mode > 5 ? mode - 4 : mode; /* 6 and 7 alias 2 and 3 */
    c->rw = rw;
    c->bcd = v & 1;
    c->counting = false;
    c->frozen = false;
    c->null_count = true;
    c->write_msb_next = false;
    c->read_msb_next = false;
    c->latch_rw = 0;
    c->status_latched = false;
    channel_changed(p, sc);
}

static uint32_t pit_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct pit *p = opaque;
    if (port == PIT_BASE + 3)
        return 0xFF; /* the control word register is write-only */
    struct pit_channel *c = &p->ch[port - PIT_BASE];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    if (c->latch_rw) {
        bool msb = next_is_msb(c->latch_rw, &c->latch_msb_next);
        uint8_t b = byte_of(c->latch, msb);
        if (c->latch_rw != 3 || msb)
            c->latch_rw = 0;
        return b;
    }
    uint16_t v = counter_at(c, ticks_at(c, machine_clock_ns(p->m)));
    return byte_of(v, next_is_msb(c->rw, &c->read_msb_next));
}

static void pit_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct pit *p = opaque;
    uint8_t v = (uint8_t)value;
    if (port == PIT_BASE + 3) {
        control_word(p, v);
        return;
    }
    int n = port - PIT_BASE;
    struct pit_channel *c = &p->ch[n];
    if (!c->rw)
        return; /* never programmed */
    bool msb = next_is_msb(c->rw, &c->write_msb_next);
    if (c->rw == 3 && !msb) {
        c->write_lsb = v;
        return;
    }
    uint16_t raw = c->rw == 1 ? v : c->rw == 2 ? (uint16_t)(v << 8)
                                               : (uint16_t)(v << 8 | c->write_lsb);
    load_count(p, n, raw);
}

bool pit_output(struct pit *p, int n)
{
    struct pit_channel *c = &p->ch[n];
    return out_at(c, ticks_at(c, machine_clock_ns(p->m)));
}

/* Port B: refresh request toggles every 15.085 us (DRAM refresh period
 * on the PC/AT); some delay loops count its edges. */
static uint32_t port_b_read(void *opaque, uint16_t port, unsigned size)
{
    (void)port;
    (void)size;
    struct pit *p = opaque;
    uint64_t now = machine_clock_ns(p->m);
    return (p->port_b & 0x0F) | ((now / 15085) & 1) << 4 | (uint32_t)pit_output(p, 2) << 5;
}

static void port_b_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)port;
    (void)size;
    struct pit *p = opaque;
    p->port_b = value & 0x0F;
    set_gate(p, 2, value & 1);
}

void pit_reset(void *opaque)
{
    struct pit *p = opaque;
    memset(p->ch, 0, sizeof(p->ch));
    for (int n = 0; n < 3; n++)
        p->ch[n].gate = n != 2; /* channels 0 and 1 have their gates tied high */
    p->port_b = 0;
    timer_del(p->m, &p->irq_timer);
    machine_set_irq(p->m, PIT_IRQ, 0);
}

struct pit *pit_create(struct machine *m)
{
    struct pit *p = dev_zalloc(m, sizeof(*p));
    p->m = m;
    timer_init(&p->irq_timer, irq_timer_cb, p);
    pit_reset(p);
    io_register(&m->io, PIT_BASE, 4, "pit", p, pit_read, pit_write);
    io_register(&m->io, PIT_PORT_B, 1, "port-b", p, port_b_read, port_b_write);
    bus_add_reset(&m->io, pit_reset, p);
    return p;
}

static void pit_state(struct snap *s, struct machine *m)
{
    struct pit *p = m->pit;
    for (int k = 0; k < 3; k++) {
        struct pit_channel *c = &p->ch[k];
        snap_u32(s, &c->count);
        snap_check(s, c->count <= 65536, "PIT count");
        snap_u8(s, &c->mode);
        snap_index(s, c->mode, 6, "PIT mode");
        snap_u8(s, &c->rw);
        snap_index(s, c->rw, 4, "PIT access mode");
        snap_bool(s, &c->bcd);
        snap_bool(s, &c->counting);
        snap_bool(s, &c->null_count);
        snap_bool(s, &c->gate);
        snap_bool(s, &c->frozen);
        snap_u64(s, &c->frozen_ticks);
        snap_u64(s, &c->load_ns);
        snap_u8(s, &c->write_lsb);
        snap_bool(s, &c->write_msb_next);
        snap_bool(s, &c->read_msb_next);
        snap_u16(s, &c->latch);
        snap_u8(s, &c->latch_rw);
        snap_index(s, c->latch_rw, 4, "PIT latch mode");
        snap_bool(s, &c->latch_msb_next);
        snap_u8(s, &c->status);
        snap_bool(s, &c->status_latched);
        snap_u64(s, &c->next_tick);
        /* a counting channel has a count load_count() set (0 there
         * means 65536, or 10000 in BCD); its edges divide by it */
        snap_check(s, !c->counting || c->count >= 1, "PIT count");
    }
    snap_u8(s, &p->port_b);
    snap_timer(s, &p->irq_timer);
}
SNAP_SECTION(pit, "pit", 1, pit_state)
