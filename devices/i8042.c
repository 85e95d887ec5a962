/* devices/i8042.c — 8042 keyboard controller and PS/2 keyboard.
 *
 * Output buffer: controller replies go first, then keyboard bytes
 * (when the keyboard interface is enabled).  Each byte that lands in
 * the output buffer raises IRQ 1 (or 12 for AUX data) if the command
 * byte enables it; reading port 0x60 lowers it and loads the next.
 * The mouse behind the AUX port (bytes written after controller command
 * 0xD4) answers the PS/2 mouse command set (IBM PS/2 mouse technical
 * reference): reset, defaults, reporting on/off, sample rate,
 * resolution, scaling, stream and remote mode, status, read data,
 * identify (ID 0: no wheel).
 */
#include <stdlib.h>
#include <string.h>

#include "devices/devutil.h"
#include "devices/i8042.h"
#include "devices/machine.h"
#include "devices/snap.h"

#define ST_OBF    0x01
#define ST_SYS    0x04
#define ST_A2     0x08 /* last write went to the command port */
#define ST_UNLOCK 0x10 /* keyboard not inhibited */
#define ST_AUXOBF 0x20

#define CB_KBD_IRQ  0x01
#define CB_AUX_IRQ  0x02
#define CB_SYS      0x04
#define CB_KBD_OFF  0x10
#define CB_AUX_OFF  0x20
#define CB_XLATE    0x40

#define OP_RESET 0x01 /* active low */
#define OP_A20   0x02

#define KBD_ACK    0xFA
#define KBD_RESEND 0xFE
#define KBD_BAT_OK 0xAA

/* 8042 scan code translation, set 2 -> set 1 (IBM PC/AT technical
 * reference); bytes 0x80 and up pass unchanged except 0x83 (F7). */
static const uint8_t xlate_table[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static void q_push(struct i8042_queue *q, uint8_t v, bool aux)
{
    if (q->count >= I8042_QUEUE)
        return; /* overrun: the byte is lost */
    unsigned i = (q->head + q->count) % I8042_QUEUE;
    q->data[i] = v;
    q->aux[i] = aux;
    q->count++;
}

static uint8_t q_pop(struct i8042_queue *q, bool *aux)
{
    uint8_t v = q->data[q->head];
    if (aux)
        *aux = q->aux[q->head];
    q->head = (q->head + 1) % I8042_QUEUE;
    q->count--;
    return v;
}

static void q_clear(struct i8042_queue *q)
{
    q->head = q->count = 0;
}

static void update_irqs(struct i8042 *k)
{
    uint8_t cb = k->ram[0];
    bool irq1 = k->obf && !k->obuf_aux && (cb & CB_KBD_IRQ);
    bool irq12 = k->obf && k->obuf_aux && (cb & CB_AUX_IRQ);
    if (irq1 != k->irq1) {
        k->irq1 = irq1;
        machine_set_irq(k->m, I8042_KBD_IRQ, irq1);
    }
    if (irq12 != k->irq12) {
        k->irq12 = irq12;
        machine_set_irq(k->m, I8042_AUX_IRQ, irq12);
    }
}

/* Next keyboard byte as the host sees it, or -1 (translation may eat
 * an F0 prefix). */
static int next_kbd_byte(struct i8042 *k)
{
    while (k->kbd_q.count) {
        uint8_t b = q_pop(&k->kbd_q, NULL);
        if (!(k->ram[0] & CB_XLATE))
            return b;
        if (b == 0xF0) {
            k->xlat_break = true;
            continue;
        }
        uint8_t t = b < 0x80 ? xlate_table[b] : b == 0x83 ? 0x41 : b;
        if (k->xlat_break && b < 0x80)
            t |= 0x80;
        k->xlat_break = false;
        return t;
    }
    return -1;
}

static void fill_obuf(struct i8042 *k)
{
    if (!k->obf) {
        if (k->ctrl_q.count) {
            bool aux;
            k->obuf = q_pop(&k->ctrl_q, &aux);
            k->obuf_aux = aux;
            k->obf = true;
        } else if (!(k->ram[0] & CB_KBD_OFF)) {
            int b = next_kbd_byte(k);
            if (b >= 0) {
                k->obuf = (uint8_t)b;
                k->obuf_aux = false;
                k->obf = true;
            }
        }
        if (!k->obf && !(k->ram[0] & CB_AUX_OFF) && k->aux_q.count) {
            k->obuf = q_pop(&k->aux_q, NULL);
            k->obuf_aux = true;
            k->obf = true;
        }
    }
    update_irqs(k);
}

static void reply(struct i8042 *k, uint8_t v)
{
    q_push(&k->ctrl_q, v, false);
    fill_obuf(k);
}

static void kbd_reply(struct i8042 *k, uint8_t v)
{
    q_push(&k->kbd_q, v, false);
    fill_obuf(k);
}

static void update_a20(struct i8042 *k)
{
    bool a20 = (k->outport & OP_A20) || (k->port_a & OP_A20);
    if (a20 != k->m->phys.a20_enabled) {
        k->m->phys.a20_enabled = a20;
        machine_a20_changed(k->m);
    }
}

static void request_reset(struct i8042 *k, const char *why)
{
    machine_request_stop(k->m, MACHINE_RESET, 0, why);
}

static void write_outport(struct i8042 *k, uint8_t v)
{
    k->outport = v;
    update_a20(k);
    if (!(v & OP_RESET))
        request_reset(k, "reset via keyboard controller output port");
}

static void kbd_defaults(struct i8042 *k)
{
    k->kbd_set = 2;
    k->kbd_leds = 0;
    k->kbd_pending_cmd = 0;
}

/* A byte written to port 0x60 with no controller command pending goes
 * to the keyboard (PS/2 keyboard command set). */
static void kbd_command(struct i8042 *k, uint8_t v)
{
    uint8_t pending = k->kbd_pending_cmd;
    k->kbd_pending_cmd = 0;
    if (pending && v < 0xED) {
        switch (pending) {
        case 0xED: k->kbd_leds = v & 7; break;
        case 0xF0:
            if (v == 0) {
                kbd_reply(k, KBD_ACK);
                kbd_reply(k, k->kbd_set);
                return;
            }
            if (v <= 3)
                k->kbd_set = v;
            break;
        default: break; /* 0xF3 typematic rate: accepted, not modelled */
        }
        kbd_reply(k, KBD_ACK);
        return;
    }
    switch (v) {
    case 0xED: case 0xF0: case 0xF3:
        k->kbd_pending_cmd = v;
        kbd_reply(k, KBD_ACK);
        break;
    case 0xEE: /* echo */
        kbd_reply(k, 0xEE);
        break;
    case 0xF2: /* identify: MF2 keyboard */
        kbd_reply(k, KBD_ACK);
        kbd_reply(k, 0xAB);
        kbd_reply(k, 0x83);
        break;
    case 0xF4:
        k->kbd_scanning = true;
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF5:
        k->kbd_scanning = false;
        kbd_defaults(k);
        kbd_reply(k, KBD_ACK);
        break;
    case 0xF6:
        kbd_defaults(k);
        kbd_reply(k, KBD_ACK);
        break;
    case 0xFF: /* reset and self test */
        q_clear(&k->kbd_q);
        kbd_defaults(k);
        k->kbd_scanning = true;
        kbd_reply(k, KBD_ACK);
        kbd_reply(k, KBD_BAT_OK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA: case 0xFB: case 0xFC: case 0xFD:
    case 0xFE:
        kbd_reply(k, KBD_ACK);
        break;
    default:
        kbd_reply(k, KBD_RESEND);
        break;
    }
}

static void aux_reply(struct i8042 *k, uint8_t v)
{
    q_push(&k->aux_q, v, true);
    fill_obuf(k);
}

static void mouse_defaults(struct i8042 *k)
{
    k->mouse_rate = 100;      /* samples/s */
    k->mouse_resolution = 2;  /* 4 counts/mm */
    k->mouse_scaling21 = false;
    k->mouse_remote = false;
    k->mouse_enabled = false;
    k->mouse_pending_cmd = 0;
}

/* One movement packet (byte 0: buttons, bit 3 always set, X and Y sign
 * and overflow; then X and Y, 9-bit two's complement). */
static void mouse_packet(struct i8042 *k, int dx, int dy)
{
    if (I8042_QUEUE - k->aux_q.count < 3)
        return; /* the host is not reading: the packet is lost whole */
    uint8_t b0 = 0x08 | (k->mouse_buttons & 7);
    if (dx < 0)
        b0 |= 0x10;
    if (dy < 0)
        b0 |= 0x20;
    q_push(&k->aux_q, b0, true);
    q_push(&k->aux_q, (uint8_t)dx, true);
    q_push(&k->aux_q, (uint8_t)dy, true);
    fill_obuf(k);
}

static void mouse_command(struct i8042 *k, uint8_t v)
{
    uint8_t pending = k->mouse_pending_cmd;
    k->mouse_pending_cmd = 0;
    if (pending) {
        if (pending == 0xF3)
            k->mouse_rate = v;
        else
            k->mouse_resolution = v & 3;
        aux_reply(k, KBD_ACK);
        return;
    }
    switch (v) {
    case 0xFF: /* reset: self test passed, device ID 0 */
        q_clear(&k->aux_q);
        mouse_defaults(k);
        aux_reply(k, KBD_ACK);
        aux_reply(k, KBD_BAT_OK);
        aux_reply(k, 0x00);
        break;
    case 0xF6: mouse_defaults(k); aux_reply(k, KBD_ACK); break;
    case 0xF5: k->mouse_enabled = false; aux_reply(k, KBD_ACK); break;
    case 0xF4: k->mouse_enabled = true; aux_reply(k, KBD_ACK); break;
    case 0xF3: case 0xE8:
        k->mouse_pending_cmd = v;
        aux_reply(k, KBD_ACK);
        break;
    case 0xF2: aux_reply(k, KBD_ACK); aux_reply(k, 0x00); break;
    case 0xF0: k->mouse_remote = true; aux_reply(k, KBD_ACK); break;
    case 0xEA: k->mouse_remote = false; aux_reply(k, KBD_ACK); break;
    case 0xE9: /* status: mode, reporting, scaling, buttons; resolution; rate */
        aux_reply(k, KBD_ACK);
        aux_reply(k, (uint8_t)((k->mouse_remote ? 0x40 : 0) | (k->mouse_enabled ? 0x20 : 0) |
                               (k->mouse_scaling21 ? 0x10 : 0) |
                               ((k->mouse_buttons & 1) << 2) | ((k->mouse_buttons & 4) >> 1) |
                               ((k->mouse_buttons & 2) >> 1)));
        aux_reply(k, k->mouse_resolution);
        aux_reply(k, k->mouse_rate);
        break;
    case 0xE6: k->mouse_scaling21 = false; aux_reply(k, KBD_ACK); break;
    case 0xE7: k->mouse_scaling21 = true; aux_reply(k, KBD_ACK); break;
    case 0xEB: /* read data: no movement is kept, so a packet of buttons */
        aux_reply(k, KBD_ACK);
        mouse_packet(k, 0, 0);
        break;
    case 0xEC: case 0xEE: aux_reply(k, KBD_ACK); break; /* wrap mode: not modelled */
    default: aux_reply(k, KBD_RESEND); break;
    }
}

void i8042_mouse_event(struct i8042 *k, int dx, int dy, unsigned buttons)
{
    bool changed = (buttons & 7) != k->mouse_buttons;
    k->mouse_buttons = buttons & 7;
    if (!k->mouse_enabled || k->mouse_remote)
        return;
    /* a packet carries -256..255 each way; larger moves take several */
    do {
        int px = dx < -256 ? -256 : dx > 255 ? 255 : dx;
        int py = dy < -256 ? -256 : dy > 255 ? 255 : dy;
        if (px || py || changed)
            mouse_packet(k, px, py);
        dx -= px;
        dy -= py;
        changed = false;
    } while (dx || dy);
}

static void controller_data(struct i8042 *k, uint8_t cmd, uint8_t v)
{
    if (cmd >= 0x60 && cmd <= 0x7F) {
        k->ram[cmd & 0x1F] = v;
        if (cmd == 0x60)
            k->sys_flag = v & CB_SYS;
        fill_obuf(k);
        return;
    }
    switch (cmd) {
    case 0xD1: write_outport(k, v); break;
    case 0xD2: q_push(&k->ctrl_q, v, false); fill_obuf(k); break;
    case 0xD3: q_push(&k->ctrl_q, v, true); fill_obuf(k); break;
    case 0xD4: mouse_command(k, v); break;
    default: break;
    }
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd <= 0x3F) {
        reply(k, k->ram[cmd & 0x1F]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
        k->pending_cmd = cmd;
        return;
    }
    if (cmd >= 0xF0) {
        /* Pulse output port bits 3:0 where the command has zeros. */
        if (!(cmd & OP_RESET))
            request_reset(k, "reset via keyboard controller pulse");
        return;
    }
    switch (cmd) {
    case 0xA7: k->ram[0] |= CB_AUX_OFF; break;
    case 0xA8: k->ram[0] &= ~CB_AUX_OFF; break;
    case 0xA9: reply(k, 0x00); break;       /* AUX interface test: OK */
    case 0xAA:                              /* controller self test */
        k->sys_flag = true;
        reply(k, 0x55);
        break;
    case 0xAB: reply(k, 0x00); break;       /* keyboard interface test: OK */
    case 0xAD: k->ram[0] |= CB_KBD_OFF; break;
    case 0xAE: k->ram[0] &= ~CB_KBD_OFF; fill_obuf(k); break;
    case 0xC0: reply(k, 0x80); break;       /* input port: keyboard not inhibited */
    case 0xD0: reply(k, k->outport); break;
    case 0xDD: write_outport(k, k->outport & ~OP_A20); break;
    case 0xDF: write_outport(k, k->outport | OP_A20); break;
    case 0xE0: reply(k, 0x00); break;       /* test inputs */
    default: break;
    }
}

static uint32_t i8042_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct i8042 *k = opaque;
    if (port == I8042_CMD) {
        return (k->obf ? ST_OBF : 0) | (k->sys_flag ? ST_SYS : 0) |
               (k->last_was_cmd ? ST_A2 : 0) | ST_UNLOCK |
               (k->obf && k->obuf_aux ? ST_AUXOBF : 0);
    }
    uint8_t v = k->obuf; /* an empty buffer reads its stale contents */
    k->obf = false;
    update_irqs(k);
    fill_obuf(k);
    return v;
}

static void i8042_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct i8042 *k = opaque;
    uint8_t v = (uint8_t)value;
    if (port == I8042_CMD) {
        k->last_was_cmd = true;
        k->pending_cmd = 0;
        controller_command(k, v);
        return;
    }
    k->last_was_cmd = false;
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd)
        controller_data(k, cmd, v);
    else
        kbd_command(k, v);
}

static uint32_t port_a_read(void *opaque, uint16_t port, unsigned size)
{
    (void)port;
    (void)size;
    struct i8042 *k = opaque;
    return k->port_a;
}

static void port_a_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)port;
    (void)size;
    struct i8042 *k = opaque;
    bool reset = (value & 1) && !(k->port_a & 1);
    k->port_a = (uint8_t)value & ~1u; /* bit 0 (fast reset) reads back as 0 */
    update_a20(k);
    if (reset)
        request_reset(k, "reset via port 0x92");
}

void i8042_kbd_put(struct i8042 *k, uint8_t set2_byte)
{
    if (!k->kbd_scanning)
        return;
    q_push(&k->kbd_q, set2_byte, false);
    fill_obuf(k);
}

void i8042_reset(void *opaque)
{
    struct i8042 *k = opaque;
    memset(k->ram, 0, sizeof(k->ram));
    k->ram[0] = CB_KBD_IRQ | CB_SYS | CB_XLATE; /* as firmware leaves it */
    k->sys_flag = true;
    k->last_was_cmd = false;
    k->pending_cmd = 0;
    k->obf = false;
    k->obuf = 0;
    k->obuf_aux = false;
    q_clear(&k->ctrl_q);
    q_clear(&k->kbd_q);
    q_clear(&k->aux_q);
    kbd_defaults(k);
    mouse_defaults(k);
    k->mouse_buttons = 0;
    k->kbd_scanning = true;
    k->xlat_break = false;
    k->port_a = 0;
    k->outport = OP_RESET | OP_A20;
    update_a20(k);
    update_irqs(k);
}

struct i8042 *i8042_create(struct machine *m)
{
    struct i8042 *k = dev_zalloc(m, sizeof(*k));
    k->m = m;
    i8042_reset(k);
    io_register(&m->io, I8042_DATA, 1, "i8042-data", k, i8042_read, i8042_write);
    io_register(&m->io, I8042_CMD, 1, "i8042-cmd", k, i8042_read, i8042_write);
    io_register(&m->io, I8042_PORT_A, 1, "port-a", k, port_a_read, port_a_write);
    bus_add_reset(&m->io, i8042_reset, k);
    return k;
}

static void queue_state(struct snap *s, struct i8042_queue *q)
{
    snap_bytes(s, q->data, sizeof(q->data));
    snap_bytes(s, q->aux, sizeof(q->aux));
    snap_u8(s, &q->head);
    snap_index(s, q->head, I8042_QUEUE, "i8042 queue head");
    snap_u8(s, &q->count);
    snap_check(s, q->count <= I8042_QUEUE, "i8042 queue count");
}

static void i8042_state(struct snap *s, struct machine *m)
{
    struct i8042 *k = m->i8042;
    snap_bytes(s, k->ram, sizeof(k->ram));
    snap_u8(s, &k->outport);
    snap_u8(s, &k->port_a);
    snap_u8(s, &k->pending_cmd);
    snap_bool(s, &k->sys_flag);
    snap_bool(s, &k->last_was_cmd);
    snap_u8(s, &k->obuf);
    snap_bool(s, &k->obf);
    snap_bool(s, &k->obuf_aux);
    snap_bool(s, &k->irq1);
    snap_bool(s, &k->irq12);
    queue_state(s, &k->ctrl_q);
    queue_state(s, &k->kbd_q);
    snap_bool(s, &k->kbd_scanning);
    snap_u8(s, &k->kbd_pending_cmd);
    snap_u8(s, &k->kbd_set);
    snap_u8(s, &k->kbd_leds);
    snap_bool(s, &k->xlat_break);
    queue_state(s, &k->aux_q);
    snap_bool(s, &k->mouse_enabled);
    snap_bool(s, &k->mouse_remote);
    snap_bool(s, &k->mouse_scaling21);
    snap_u8(s, &k->mouse_pending_cmd);
    snap_u8(s, &k->mouse_rate);
    snap_u8(s, &k->mouse_resolution);
    snap_u8(s, &k->mouse_buttons);
}
SNAP_SECTION(i8042, "i8042", 2, i8042_state)
