/* devices/pic.h — the 8259A master/slave interrupt controller pair.
 *
 * Master at 0x20/0x21 (IRQ 0-7), slave at 0xA0/0xA1 (IRQ 8-15) cascaded
 * on master IR2; ELCR (edge/level control) at 0x4D0/0x4D1.  The pair
 * calls machine_pic_intr() whenever its INT output changes; the CPU
 * acknowledges with pic_intack() (or pic_intack_cb as cpu->intr_ack).
 */
#ifndef NEST86_DEVICES_PIC_H
#define NEST86_DEVICES_PIC_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

struct pic_chip {
    uint8_t irr;        /* interrupt request register */
    uint8_t isr;        /* in-service register */
    uint8_t imr;        /* interrupt mask register (OCW1) */
    uint8_t elcr;       /* 1 = level-triggered input */
    uint8_t elcr_mask;  /* which ELCR bits exist */
    uint8_t lines;      /* current input line levels */
    uint8_t vector_base;/* ICW2, low 3 bits zero */
    uint8_t icw3;
    uint8_t init_step;  /* 0 = operational, 1..3 = expecting ICW2..ICW4 */
    uint8_t lowest_prio;/* the IR with the lowest priority (rotation), 7 after init */
    bool single;        /* ICW1 SNGL */
    bool need_icw4;     /* ICW1 IC4 */
    bool ltim;          /* ICW1 LTIM: all inputs level-triggered */
    bool auto_eoi;      /* ICW4 AEOI */
    bool sfnm;          /* ICW4 special fully nested mode */
    bool rotate_aeoi;   /* OCW2 rotate in automatic EOI mode */
    bool read_isr;      /* OCW3 RR/RIS: port reads ISR instead of IRR */
    bool special_mask;  /* OCW3 SMM */
    bool poll;          /* OCW3 P: next read is a poll */
};

struct pic {
    struct machine *m;
    struct pic_chip chip[2]; /* 0 master, 1 slave */
    bool int_out;
};

struct pic *pic_create(struct machine *m);
void pic_reset(void *opaque);

/* Drive ISA IRQ line 0-15 to 'level'. */
void pic_set_irq(struct pic *p, int irq, bool level);

/* INTA cycle: returns the vector (spurious IRQ7/IRQ15 vector when the
 * request went away). */
int pic_intack(struct pic *p);
int pic_intack_cb(void *opaque);

/* Current INT output (for debugger and polling). */
bool pic_output(const struct pic *p);

#endif
