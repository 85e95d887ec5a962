/*
 * COM1 output (polled 16550) and exit through the isa-debug-exit port.
 */
#include "rt.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding register (DLAB=0) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20 /* transmit holding register empty */

#define DEBUG_EXIT_PORT 0xF4

void rt_serial_init(void)
{
    outb(COM1 + UART_IER, 0x00); /* no interrupts: we poll */
    outb(COM1 + UART_LCR, 0x80); /* DLAB=1 to reach the divisor */
    outb(COM1 + 0, 0x01);        /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB=0 */
    outb(COM1 + UART_FCR, 0x07); /* enable and clear FIFOs */
    outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

void rt_putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & LSR_THRE))
        ;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

void rt_exit(unsigned code)
{
    /* isa-debug-exit: the emulator exits with status (code << 1) | 1. */
    outl(DEBUG_EXIT_PORT, code);
    /* No debug-exit device: stop here rather than run off. */
    rt_puts("rt: debug-exit port did not stop the machine; halting\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}
