/*
 * ps2_mouse: the PS/2 mouse behind the i8042's AUX port, driven as a
 * kernel's mouse driver does (IBM PS/2 mouse technical reference):
 * reset (ACK, self-test 0xAA, ID 0), identify, sample rate and
 * resolution, status request, reporting on; then movement packets
 * arrive through IRQ 12 in a handler (ps2_mouse.S).  The packets come
 * from the debugger's `mouse` command, run by ps2_mouse.x (this
 * kernel's .args) at mouse_ready().
 */
#include "rt.h"

#define DATA 0x60
#define STATUS 0x64
#define ST_OBF 0x01
#define ST_IBF 0x02
#define ST_AUX 0x20
#define VEC_IRQ8 0x28

extern char mouse_irq_entry[];
volatile uint8_t mouse_bytes[64];
volatile uint32_t mouse_count;

static void wait_input_empty(void)
{
    while (inb(STATUS) & ST_IBF)
        ;
}

/* The next byte from the AUX side (polled, IRQ 12 off); 0x100 | byte
 * when it came from the keyboard side instead, -1 when none came. */
static int aux_read(void)
{
    for (int spin = 0; spin < 100000; spin++) {
        uint8_t st = inb(STATUS);
        if (st & ST_OBF) {
            uint8_t b = inb(DATA);
            return (st & ST_AUX) ? b : 0x100 | b;
        }
    }
    return -1;
}

static void mouse_write(uint8_t v)
{
    wait_input_empty();
    outb(STATUS, 0xD4); /* the next data byte goes to the AUX device */
    wait_input_empty();
    outb(DATA, v);
}

static void controller_command_byte(uint8_t set, uint8_t clear)
{
    wait_input_empty();
    outb(STATUS, 0x20);
    int cb = aux_read() & 0xFF;
    wait_input_empty();
    outb(STATUS, 0x60);
    wait_input_empty();
    outb(DATA, (uint8_t)((cb | set) & ~clear));
}

/* the debugger's `mouse` commands run here (ps2_mouse.x) */
__attribute__((noinline)) void mouse_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

void test_main(void)
{
    wait_input_empty();
    outb(STATUS, 0xA8); /* AUX interface on */
    controller_command_byte(0, 0x02); /* AUX interrupt off while polling */

    mouse_write(0xFF); /* reset */
    ASSERT_EQ(aux_read(), 0xFA);
    ASSERT_EQ(aux_read(), 0xAA);
    ASSERT_EQ(aux_read(), 0x00);
    mouse_write(0xF2); /* identify: a standard mouse */
    ASSERT_EQ(aux_read(), 0xFA);
    ASSERT_EQ(aux_read(), 0x00);
    mouse_write(0xF3); /* sample rate 40 */
    ASSERT_EQ(aux_read(), 0xFA);
    mouse_write(40);
    ASSERT_EQ(aux_read(), 0xFA);
    mouse_write(0xE8); /* resolution 8 counts/mm */
    ASSERT_EQ(aux_read(), 0xFA);
    mouse_write(3);
    ASSERT_EQ(aux_read(), 0xFA);
    mouse_write(0xE7); /* 2:1 scaling */
    ASSERT_EQ(aux_read(), 0xFA);
    mouse_write(0xE9); /* status: stream mode, reporting off, 2:1, no buttons */
    ASSERT_EQ(aux_read(), 0xFA);
    ASSERT_EQ(aux_read(), 0x10);
    ASSERT_EQ(aux_read(), 3);
    ASSERT_EQ(aux_read(), 40);
    mouse_write(0xE6);
    ASSERT_EQ(aux_read(), 0xFA);
    mouse_write(0xF4); /* reporting on */
    ASSERT_EQ(aux_read(), 0xFA);
    ASSERT_EQ(aux_read(), -1); /* nothing more until the mouse moves */

    /* IRQ 12 through the cascade: master IRQ 2 and slave IRQ 4 unmasked */
    rt_idt_set_gate(VEC_IRQ8 + 4, (uintptr_t)mouse_irq_entry, 0x8E, 0);
    outb(0x20, 0x11);
    outb(0xA0, 0x11);
    outb(0x21, 0x20);
    outb(0xA1, VEC_IRQ8);
    outb(0x21, 0x04);
    outb(0xA1, 0x02);
    outb(0x21, 0x01);
    outb(0xA1, 0x01);
    outb(0x21, 0xFB);
    outb(0xA1, 0xEF);
    controller_command_byte(0x02, 0x20);

    mouse_count = 0;
    __asm__ volatile("sti" ::: "memory");
    mouse_ready(); /* ps2_mouse.x: mouse 10 -20 1, then mouse 300 0 1 */
    for (int spin = 0; mouse_count < 9 && spin < 1000000; spin++)
        __asm__ volatile("pause");
    __asm__ volatile("cli" ::: "memory");

    ASSERT_EQ(mouse_count, 9);
    /* left button, Y negative (down); X 10, Y -20 in two's complement */
    ASSERT_EQ(mouse_bytes[0], 0x08 | 0x01 | 0x20);
    ASSERT_EQ(mouse_bytes[1], 10);
    ASSERT_EQ(mouse_bytes[2], (uint8_t)-20);
    /* 300 counts right: a packet can say 255 at most, so 255 then 45 */
    ASSERT_EQ(mouse_bytes[3], 0x08 | 0x01);
    ASSERT_EQ(mouse_bytes[4], 255);
    ASSERT_EQ(mouse_bytes[5], 0);
    ASSERT_EQ(mouse_bytes[6], 0x08 | 0x01);
    ASSERT_EQ(mouse_bytes[7], 45);
    ASSERT_EQ(mouse_bytes[8], 0);
}
