/* devices/hpet.c — HPET (IA-PC HPET Specification 1.0a, section 2.3). */
#include "devices/devutil.h"
#include "devices/hpet.h"
#include "devices/ioapic.h"
#include "devices/machine.h"
#include "devices/snap.h"

/* Tn_CONF writable bits: INT_TYPE, INT_ENB, TYPE, VAL_SET, 32MODE,
 * INT_ROUTE (FSB delivery is not offered). */
#define TN_WRITABLE 0x3F4Eull

static bool enabled(const struct hpet *h) { return (h->config & HPET_CFG_ENABLE) != 0; }

bool hpet_legacy_mode(const struct hpet *h)
{
    return (h->config & HPET_CFG_LEGACY) != 0;
}

uint64_t hpet_counter(const struct hpet *h)
{
    if (!enabled(h))
        return h->counter_base;
    return h->counter_base + (machine_clock_ns(h->m) - h->start_ns) / HPET_TICK_NS;
}

/* Drives timer t's interrupt line where its routing says. */
static void set_line(struct hpet_timer *t, bool level)
{
    struct hpet *h = t->h;
    t->line = level;
    if (hpet_legacy_mode(h) && t->n < 2) {
        machine_set_isa_irq_direct(h->m, t->n == 0 ? 0 : 8, level);
        return;
    }
    unsigned pin = (t->config >> HPET_TN_ROUTE_SHIFT) & 0x1F;
    if (h->m->ioapic && ((t->config >> 32) >> pin) & 1)
        ioapic_set_irq(h->m->ioapic, (int)pin, level);
}

/* Arms the host timer for t's next comparator match. */
static void arm(struct hpet_timer *t)
{
    struct hpet *h = t->h;
    /* a disabled one-shot comparator has nothing to show for a match */
    if (!enabled(h) || !(t->config & (HPET_TN_ENABLE | HPET_TN_PERIODIC))) {
        timer_del(h->m, &t->t);
        return;
    }
    uint64_t now = hpet_counter(h), ticks;
    if (t->config & HPET_TN_32BIT) {
        ticks = (uint32_t)((uint32_t)t->cmp - (uint32_t)now);
    } else if (t->cmp >= now && t->cmp - now < (1ull << 56)) {
        ticks = t->cmp - now;
    } else {
        timer_del(h->m, &t->t); /* passed, or years away: the 64-bit counter does not wrap */
        return;
    }
    uint64_t at = now + ticks;
    timer_mod(h->m, &t->t, h->start_ns + (at - h->counter_base) * HPET_TICK_NS);
}

static void fire(void *opaque)
{
    struct hpet_timer *t = opaque;
    struct hpet *h = t->h;
    if (t->config & HPET_TN_ENABLE) {
        if (t->config & HPET_TN_LEVEL) {
            h->status |= 1ull << t->n; /* stays asserted until software clears it */
            set_line(t, true);
        } else {
            set_line(t, true);
            set_line(t, false);
        }
    }
    uint64_t now = hpet_counter(h);
    bool is32 = (t->config & HPET_TN_32BIT) != 0;
    if ((t->config & HPET_TN_PERIODIC) && t->period) {
        /* the comparator advances by the period; missed matches are lost */
        do {
            t->cmp += t->period;
            if (is32)
                t->cmp = (uint32_t)t->cmp;
        } while (is32 ? (int32_t)((uint32_t)t->cmp - (uint32_t)now) <= 0 : t->cmp <= now);
        arm(t);
    } else if (is32) {
        /* one-shot 32-bit: matches again after the counter wraps */
        timer_mod(h->m, &t->t, t->t.deadline + (1ull << 32) * HPET_TICK_NS);
    }
}

static void start_all(struct hpet *h)
{
    for (int n = 0; n < HPET_TIMERS; n++)
        arm(&h->timer[n]);
}

static uint64_t reg_read(struct hpet *h, uint32_t off)
{
    switch (off) {
    case HPET_REG_CAP: return (uint64_t)HPET_PERIOD_FS << 32 | HPET_CAP_LOW;
    case HPET_REG_CONFIG: return h->config;
    case HPET_REG_STATUS: return h->status;
    case HPET_REG_COUNTER: return hpet_counter(h);
    default:
        break;
    }
    if (off >= HPET_REG_TIMER(0) && off < HPET_REG_TIMER(HPET_TIMERS)) {
        struct hpet_timer *t = &h->timer[(off - HPET_REG_TIMER(0)) / 0x20];
        switch ((off - HPET_REG_TIMER(0)) % 0x20) {
        case 0x00: return t->config;
        case 0x08: return t->cmp;
        default: return 0;
        }
    }
    return 0;
}

/* Writes the bits of 'mask' (a 32-bit half or all 64) of register 'off'. */
static void reg_write(struct hpet *h, uint32_t off, uint64_t v, uint64_t mask)
{
    if (off == HPET_REG_CONFIG) {
        uint64_t old = h->config;
        h->config = ((old & ~mask) | (v & mask)) & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
        if ((old ^ h->config) & HPET_CFG_ENABLE) {
            if (enabled(h)) {
                h->start_ns = machine_clock_ns(h->m);
            } else {
                /* halted: the counter keeps its value */
                h->config |= HPET_CFG_ENABLE;
                h->counter_base = hpet_counter(h);
                h->config &= ~(uint64_t)HPET_CFG_ENABLE;
            }
        }
        if ((old ^ h->config) & HPET_CFG_LEGACY) {
            /* the lines change hands; start them all low */
            for (int n = 0; n < 2; n++)
                h->timer[n].line = false;
            machine_set_isa_irq_direct(h->m, 0, 0);
            machine_set_isa_irq_direct(h->m, 8, 0);
        }
        start_all(h);
        return;
    }
    if (off == HPET_REG_STATUS) {
        /* write 1 to clear; a level-triggered line drops with its bit */
        uint64_t clear = v & mask & h->status;
        h->status &= ~clear;
        for (int n = 0; n < HPET_TIMERS; n++)
            if ((clear >> n) & 1)
                set_line(&h->timer[n], false);
        return;
    }
    if (off == HPET_REG_COUNTER) {
        /* software should only write it while halted; a write restarts it */
        h->counter_base = (hpet_counter(h) & ~mask) | (v & mask);
        h->start_ns = machine_clock_ns(h->m);
        start_all(h);
        return;
    }
    if (off < HPET_REG_TIMER(0) || off >= HPET_REG_TIMER(HPET_TIMERS))
        return;
    struct hpet_timer *t = &h->timer[(off - HPET_REG_TIMER(0)) / 0x20];
    switch ((off - HPET_REG_TIMER(0)) % 0x20) {
    case 0x00: {
        uint64_t w = mask & TN_WRITABLE;
        uint64_t old = t->config;
        t->config = (old & ~w) | (v & w);
        if ((old & HPET_TN_LEVEL) && !(t->config & HPET_TN_LEVEL) && ((h->status >> t->n) & 1)) {
            h->status &= ~(1ull << t->n);
            set_line(t, false);
        }
        if (t->config & HPET_TN_32BIT) {
            t->cmp = (uint32_t)t->cmp;
            t->period = (uint32_t)t->period;
        }
        arm(t);
        break;
    }
    case 0x08:
        if (t->config & HPET_TN_32BIT)
            mask &= 0xFFFFFFFFull;
        /* periodic mode: a write sets the period, and also the comparator
         * when VAL_SET allows it (spec 2.3.9.2.2) */
        if (!(t->config & HPET_TN_PERIODIC) || (t->config & HPET_TN_SETVAL))
            t->cmp = (t->cmp & ~mask) | (v & mask);
        if (t->config & HPET_TN_PERIODIC)
            t->period = (t->period & ~mask) | (v & mask);
        t->config &= ~(uint64_t)HPET_TN_SETVAL;
        arm(t);
        break;
    default:
        break; /* FSB route: not offered */
    }
}

uint64_t hpet_read(struct hpet *h, uint32_t offset, unsigned size)
{
    uint64_t v = reg_read(h, offset & ~7u);
    if (size >= 8)
        return v;
    v >>= 8 * (offset & 7);
    return size == 4 ? (uint32_t)v : v & ((1ull << (8 * size)) - 1);
}

void hpet_write(struct hpet *h, uint32_t offset, uint64_t value, unsigned size)
{
    if (size == 8 && !(offset & 7)) {
        reg_write(h, offset, value, ~0ull);
    } else if (size == 4 && !(offset & 3)) {
        unsigned shift = 8 * (offset & 4);
        reg_write(h, offset & ~7u, (value & 0xFFFFFFFFull) << shift, 0xFFFFFFFFull << shift);
    }
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    return hpet_read(opaque, (uint32_t)offset, size);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    hpet_write(opaque, (uint32_t)offset, value, size);
}

void hpet_reset(void *opaque)
{
    struct hpet *h = opaque;
    h->config = 0;
    h->status = 0;
    h->counter_base = 0;
    h->start_ns = 0;
    for (int n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &h->timer[n];
        timer_del(h->m, &t->t);
        t->config = (uint64_t)HPET_ROUTE_CAP << 32 | HPET_TN_PER_CAP | HPET_TN_SIZE_CAP;
        t->cmp = ~0ull; /* the specification's reset value */
        t->period = 0;
        t->line = false;
    }
}

struct hpet *hpet_create(struct machine *m)
{
    struct hpet *h = dev_zalloc(m, sizeof(*h));
    h->m = m;
    for (int n = 0; n < HPET_TIMERS; n++) {
        h->timer[n].h = h;
        h->timer[n].n = n;
        timer_init(&h->timer[n].t, fire, &h->timer[n]);
    }
    phys_map_mmio(&m->phys, HPET_BASE, 0x400, "hpet", h, mmio_read, mmio_write);
    bus_add_reset(&m->io, hpet_reset, h);
    m->hpet = h;
    hpet_reset(h);
    return h;
}

static void hpet_state(struct snap *s, struct machine *m)
{
    struct hpet *h = m->hpet;
    snap_u64(s, &h->config);
    snap_u64(s, &h->status);
    snap_u64(s, &h->counter_base);
    snap_u64(s, &h->start_ns);
    for (int n = 0; n < HPET_TIMERS; n++) {
        struct hpet_timer *t = &h->timer[n];
        snap_u64(s, &t->config);
        snap_u64(s, &t->cmp);
        snap_u64(s, &t->period);
        snap_bool(s, &t->line);
        snap_timer(s, &t->t);
    }
}
SNAP_SECTION(hpet, "hpet", 1, hpet_state)
