/* devices/i8042.h — 8042 keyboard controller (0x60 data, 0x64
 * status/command) with a PS/2 keyboard and a PS/2 mouse (the AUX
 * port: a standard 3-button mouse, device ID 0) behind it, and system control
 * port A (0x92, "fast A20" and fast reset).
 *
 * The controller owns the A20 gate: A20 is enabled when output port
 * bit 1 or port 0x92 bit 1 is set.  It writes m->phys.a20_enabled and
 * then calls machine_a20_changed(), which the board must provide (the
 * CPU's TLBs and decoded-code caches hold A20-masked addresses).  After
 * reset A20 is enabled, as firmware leaves it for a loaded kernel.
 */
#ifndef NEST86_DEVICES_I8042_H
#define NEST86_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define I8042_DATA    0x60
#define I8042_CMD     0x64
#define I8042_PORT_A  0x92
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

#define I8042_QUEUE 64

struct i8042_queue {
    uint8_t data[I8042_QUEUE];
    uint8_t aux[I8042_QUEUE]; /* 1: the byte comes from the AUX (mouse) side */
    uint8_t head, count;
};

struct i8042 {
    struct machine *m;
    uint8_t ram[32];       /* controller RAM; ram[0] is the command byte */
    uint8_t outport;
    uint8_t port_a;        /* 0x92 */
    uint8_t pending_cmd;   /* controller command waiting for its data byte */
    bool sys_flag, last_was_cmd;
    uint8_t obuf;
    bool obf, obuf_aux;
    bool irq1, irq12;
    struct i8042_queue ctrl_q; /* controller replies and D2/D3 echoes */
    struct i8042_queue kbd_q;  /* the keyboard's set-2 bytes */
    /* keyboard */
    bool kbd_scanning;
    uint8_t kbd_pending_cmd;
    uint8_t kbd_set;
    uint8_t kbd_leds;
    bool xlat_break;           /* set-2 F0 prefix seen by the translator */
    /* mouse */
    struct i8042_queue aux_q;  /* the mouse's replies and movement packets */
    bool mouse_enabled;        /* data reporting (F4) */
    bool mouse_remote;         /* remote mode (F0): packets only on request */
    bool mouse_scaling21;      /* 2:1 scaling (E7) */
    uint8_t mouse_pending_cmd; /* F3 or E8 waiting for its argument */
    uint8_t mouse_rate, mouse_resolution, mouse_buttons;
};

struct i8042 *i8042_create(struct machine *m);
void i8042_reset(void *opaque);

/* A byte of a set-2 scan code from the keyboard (make or break
 * sequence, E0/F0 prefixes included).  The controller translates to
 * set 1 when its command byte says so. */
void i8042_kbd_put(struct i8042 *k, uint8_t set2_byte);

/* The mouse moved by (dx, dy) counts (dy positive is up, as PS/2
 * reports it) with 'buttons' held (bit 0 left, 1 right, 2 middle): one
 * or more 3-byte stream-mode packets, when reporting is on. */
void i8042_mouse_event(struct i8042 *k, int dx, int dy, unsigned buttons);

/* Provided by the board (devices/pc.c): A20 changed, flush what holds
 * translated or masked physical addresses. */
void machine_a20_changed(struct machine *m);

#endif
