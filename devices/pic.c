/* devices/pic.c — 8259A pair (Intel 8259A datasheet: ICW1-4, OCW1-3).
 *
 * Priority is relative to 'lowest_prio': the IR after it has the
 * highest priority, so rotation only moves that marker.  The slave's
 * INT output is wired to master IR2 as a level, so a slave with a
 * second request pending keeps master IR2 asserted after an INTA.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/machine.h"
#include "devices/pic.h"
#include "devices/snap.h"

#define PIC_MASTER 0x20
#define PIC_SLAVE  0xA0
#define PIC_ELCR   0x4D0

/* Priority rank (0 = highest) of IR 'irq'. */
static int prio_rank(const struct pic_chip *c, int irq)
{
    return (irq - c->lowest_prio - 1) & 7;
}

/* Highest-priority IR set in 'bits', or -1. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
    for (int r = 0; r < 8; r++) {
        int irq = (c->lowest_prio + 1 + r) & 7;
        if (bits & (1u << irq))
            return irq;
    }
    return -1;
}

/* The IR this chip would present on INTA, or -1. */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
    int irq = highest(c, c->irr & ~c->imr);
    if (irq < 0)
        return -1;
    uint8_t blocking = c->isr;
    /* Special mask mode: masked IRs in service do not block others. */
    if (c->special_mask)
        blocking &= ~c->imr;
    /* Special fully nested: a slave in service does not block a
     * higher-priority request from the same slave. */
    if (is_master && c->sfnm)
        blocking &= ~(1u << 2);
    int cur = highest(c, blocking);
    if (cur >= 0 && prio_rank(c, cur) <= prio_rank(c, irq))
        return -1;
    return irq;
}

static uint8_t level_mask(const struct pic_chip *c)
{
    return c->ltim ? 0xFF : c->elcr;
}

static void pic_update(struct pic *p)
{
    struct pic_chip *ma = &p->chip[0];
    if (chip_pending(&p->chip[1], false) >= 0)
        ma->irr |= 1u << 2;
    else
        ma->irr &= ~(1u << 2);
    bool out = chip_pending(ma, true) >= 0;
    if (out != p->int_out) {
        p->int_out = out;
        machine_pic_intr(p->m, out);
    }
}

static void chip_set_line(struct pic_chip *c, int irq, bool level)
{
    uint8_t bit = 1u << irq;
    if (level_mask(c) & bit) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit; /* rising edge */
    }
    /* An edge request stays latched when the line drops again: ISA
     * devices pulse their lines. */
    if (level)
        c->lines |= bit;
    else
        c->lines &= ~bit;
}

void pic_set_irq(struct pic *p, int irq, bool level)
{
    if (irq < 0 || irq > 15 || irq == 2)
        return; /* IR2 of the master is the cascade input */
    chip_set_line(&p->chip[irq >> 3], irq & 7, level);
    pic_update(p);
}

static void chip_ack(struct pic_chip *c, int irq)
{
    uint8_t bit = 1u << irq;
    if (c->auto_eoi) {
        if (c->rotate_aeoi)
            c->lowest_prio = (uint8_t)irq;
    } else {
        c->isr |= bit;
    }
    if (!(level_mask(c) & bit))
        c->irr &= ~bit;
}

int pic_intack(struct pic *p)
{
    struct pic_chip *ma = &p->chip[0], *sl = &p->chip[1];
    int vector;
    int irq = chip_pending(ma, true);
    if (irq < 0) {
        /* The request went away before INTA: spurious IRQ7, ISR untouched. */
        vector = ma->vector_base | 7;
    } else if (irq == 2 && !ma->single) {
        int sirq = chip_pending(sl, false);
        chip_ack(ma, 2);
        if (sirq >= 0) {
            chip_ack(sl, sirq);
            vector = sl->vector_base | sirq;
        } else {
            vector = sl->vector_base | 7; /* spurious IRQ15 */
        }
    } else {
        chip_ack(ma, irq);
        vector = ma->vector_base | irq;
    }
    pic_update(p);
    return vector;
}

int pic_intack_cb(void *opaque)
{
    return pic_intack(opaque);
}

bool pic_output(const struct pic *p)
{
    return p->int_out;
}

/* OCW3 poll: the read acts as an INTA for this chip alone. */
static uint8_t chip_poll(struct pic_chip *c, bool is_master)
{
    int irq = chip_pending(c, is_master);
    if (irq < 0)
        return 0;
    chip_ack(c, irq);
    return (uint8_t)(0x80 | irq);
}

static void chip_write_cmd(struct pic_chip *c, uint8_t v)
{
    if (v & 0x10) { /* ICW1 */
        c->init_step = 1;
        c->need_icw4 = v & 0x01;
        c->single = v & 0x02;
        c->ltim = v & 0x08;
        c->isr = 0;
        c->imr = 0;
        /* Edge sense latches are cleared: only level inputs still
         * asserted remain requested. */
        c->irr = c->lines & level_mask(c);
        c->lowest_prio = 7;
        c->special_mask = false;
        c->read_isr = false;
        c->poll = false;
        c->auto_eoi = false;
        c->sfnm = false;
        c->rotate_aeoi = false;
        return;
    }
    if (v & 0x08) { /* OCW3 */
        if (v & 0x40)
            c->special_mask = v & 0x20;
        if (v & 0x04)
            c->poll = true;
        if (v & 0x02)
            c->read_isr = v & 0x01;
        return;
    }
    /* OCW2: R SL EOI in bits 7:5, level in 2:0 */
    int level = v & 7;
    switch (v >> 5) {
    case 0: c->rotate_aeoi = false; break;
    case 4: c->rotate_aeoi = true; break;
    case 1:   /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        int irq = highest(c, c->isr);
        if (irq >= 0) {
            c->isr &= ~(1u << irq);
            if (v & 0x80)
                c->lowest_prio = (uint8_t)irq;
        }
        break;
    }
    case 3: c->isr &= ~(1u << level); break;      /* specific EOI */
    case 7:                                       /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->lowest_prio = (uint8_t)level;
        break;
    case 6: c->lowest_prio = (uint8_t)level; break; /* set priority */
    default: break;                                /* 2: no operation */
    }
}

static void chip_write_data(struct pic_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 0: c->imr = v; break;
    case 1:
        c->vector_base = v & 0xF8;
        c->init_step = c->single ? (c->need_icw4 ? 3 : 0) : 2;
        break;
    case 2:
        c->icw3 = v;
        c->init_step = c->need_icw4 ? 3 : 0;
        break;
    default:
        c->auto_eoi = v & 0x02;
        c->sfnm = v & 0x10;
        c->init_step = 0;
        break;
    }
}

static uint32_t pic_io_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    bool master = (port & ~1u) == PIC_MASTER;
    struct pic_chip *c = &p->chip[master ? 0 : 1];
    uint8_t v;
    if (c->poll) {
        c->poll = false;
        v = chip_poll(c, master);
        pic_update(p);
    } else if (port & 1) {
        v = c->imr;
    } else {
        v = c->read_isr ? c->isr : c->irr;
    }
    return v;
}

static void pic_io_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    struct pic_chip *c = &p->chip[(port & ~1u) == PIC_MASTER ? 0 : 1];
    if (port & 1)
        chip_write_data(c, (uint8_t)value);
    else
        chip_write_cmd(c, (uint8_t)value);
    pic_update(p);
}

static uint32_t elcr_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    return p->chip[port & 1].elcr;
}

static void elcr_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct pic *p = opaque;
    struct pic_chip *c = &p->chip[port & 1];
    c->elcr = (uint8_t)value & c->elcr_mask;
    /* A line that became level-triggered and is asserted requests now. */
    c->irr |= c->lines & c->elcr;
    pic_update(p);
}

void pic_reset(void *opaque)
{
    struct pic *p = opaque;
    for (int i = 0; i < 2; i++) {
        struct pic_chip *c = &p->chip[i];
        uint8_t lines = c->lines, mask = c->elcr_mask;
        memset(c, 0, sizeof(*c));
        c->lines = lines;
        c->elcr_mask = mask;
        c->lowest_prio = 7;
    }
    pic_update(p);
}

struct pic *pic_create(struct machine *m)
{
    struct pic *p = dev_zalloc(m, sizeof(*p));
    p->m = m;
    /* IRQ 0, 1, 2 (master) and 8, 13 (slave) are edge-only on PIIX/ICH. */
    p->chip[0].elcr_mask = 0xF8;
    p->chip[1].elcr_mask = 0xDE;
    pic_reset(p);
    io_register(&m->io, PIC_MASTER, 2, "pic-master", p, pic_io_read, pic_io_write);
    io_register(&m->io, PIC_SLAVE, 2, "pic-slave", p, pic_io_read, pic_io_write);
    io_register(&m->io, PIC_ELCR, 2, "elcr", p, elcr_read, elcr_write);
    bus_add_reset(&m->io, pic_reset, p);
    return p;
}

static void pic_chip_state(struct snap *s, struct pic_chip *c)
{
    snap_u8(s, &c->irr);
    snap_u8(s, &c->isr);
    snap_u8(s, &c->imr);
    snap_u8(s, &c->elcr);
    snap_u8(s, &c->elcr_mask);
    snap_u8(s, &c->lines);
    snap_u8(s, &c->vector_base);
    snap_u8(s, &c->icw3);
    snap_u8(s, &c->init_step);
    snap_u8(s, &c->lowest_prio);
    snap_bool(s, &c->single);
    snap_bool(s, &c->need_icw4);
    snap_bool(s, &c->ltim);
    snap_bool(s, &c->auto_eoi);
    snap_bool(s, &c->sfnm);
    snap_bool(s, &c->rotate_aeoi);
    snap_bool(s, &c->read_isr);
    snap_bool(s, &c->special_mask);
    snap_bool(s, &c->poll);
}

static void pic_state(struct snap *s, struct machine *m)
{
    pic_chip_state(s, &m->pic->chip[0]);
    pic_chip_state(s, &m->pic->chip[1]);
    snap_bool(s, &m->pic->int_out);
}
SNAP_SECTION(pic, "pic", 1, pic_state)
