/* testsuite/unit/dev_uart.c — 16550A registers, FIFO and interrupts. */
#include "devices/uart.h"
#include "testsuite/unit/dev_stubs.h"

#define COM1 0x3F8
static struct uart *uart;
static uint8_t sent[64];
static int nsent;

static void tx(void *opaque, uint8_t b)
{
    (void)opaque;
    sent[nsent++ & 63] = b;
}

static void setup(void)
{
    test_board(0, true);
    uart = uart_create(&test_m, COM1, 4);
    uart_set_tx(uart, tx, NULL);
    nsent = 0;
}

static void transmit_and_thre_interrupt(void)
{
    setup();
    UNIT_CHECK(inb(COM1 + 5) == 0x60);
    UNIT_CHECK(inb(COM1 + 2) == 0x01);
    outb(COM1 + 1, 0x02);             /* ETBEI: THR is empty, so at once */
    UNIT_CHECK(inb(COM1 + 2) == 0x02);
    UNIT_CHECK(inb(COM1 + 2) == 0x01); /* reading IIR cleared it */
    outb(COM1, 'h');
    UNIT_CHECK(nsent == 1 && sent[0] == 'h');
    UNIT_CHECK(test_intr && pic_intack(test_m.pic) == 0x24);
    UNIT_CHECK(inb(COM1 + 2) == 0x02);
}

static void divisor_latch(void)
{
    setup();
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01);
    outb(COM1 + 1, 0x00);
    UNIT_CHECK(inb(COM1 + 0) == 0x01 && inb(COM1 + 1) == 0x00);
    outb(COM1 + 3, 0x03);
    UNIT_CHECK(inb(COM1 + 1) == 0x00 && inb(COM1 + 3) == 0x03);
    outb(COM1 + 7, 0x5A);
    UNIT_CHECK(inb(COM1 + 7) == 0x5A);
}

static void receive_fifo_and_trigger(void)
{
    setup();
    outb(COM1 + 2, 0xC7);             /* FIFO on, clear, trigger 14 */
    outb(COM1 + 1, 0x01);
    uart_receive(uart, 'a');
    UNIT_CHECK(inb(COM1 + 2) == 0xCC); /* below trigger: character timeout */
    UNIT_CHECK(test_intr);
    for (int i = 1; i < 14; i++)
        uart_receive(uart, (uint8_t)('a' + i));
    UNIT_CHECK(inb(COM1 + 2) == 0xC4);
    UNIT_CHECK(uart_can_receive(uart));
    uart_receive(uart, 'o');
    uart_receive(uart, 'p');
    UNIT_CHECK(!uart_can_receive(uart));
    uart_receive(uart, 'q');          /* overrun */
    UNIT_CHECK(inb(COM1 + 5) & 0x02);
    UNIT_CHECK(!(inb(COM1 + 5) & 0x02)); /* read clears */
    for (int i = 0; i < 16; i++)
        UNIT_CHECK(inb(COM1) == 'a' + i);
    UNIT_CHECK(!(inb(COM1 + 5) & 0x01));
    UNIT_CHECK(inb(COM1 + 2) == 0xC1);
}

static void loopback(void)
{
    setup();
    outb(COM1 + 4, 0x10 | 0x0B);      /* loop, DTR, RTS, OUT2 */
    UNIT_CHECK((inb(COM1 + 6) & 0xF0) == 0xB0);
    outb(COM1, 0x55);
    UNIT_CHECK(nsent == 0);
    UNIT_CHECK(inb(COM1 + 5) & 0x01);
    UNIT_CHECK(inb(COM1) == 0x55);
    UNIT_CHECK(!uart_can_receive(uart));
    outb(COM1 + 4, 0x10);
    UNIT_CHECK((inb(COM1 + 6) & 0xFB) == 0x0B); /* lines dropped: deltas */
}

int main(void)
{
    UNIT_RUN(transmit_and_thre_interrupt);
    UNIT_RUN(divisor_latch);
    UNIT_RUN(receive_fifo_and_trigger);
    UNIT_RUN(loopback);
    return unit_done();
}
