/* devices/uart.h — 16550A UART with 16-byte FIFOs.
 *
 * Standard PC ports: COM1 0x3F8/IRQ4, COM2 0x2F8/IRQ3, COM3 0x3E8/IRQ4,
 * COM4 0x2E8/IRQ3.  Transmission is instantaneous (the byte goes to the
 * back end on the THR write), which keeps runs deterministic.
 */
#ifndef NEST86_DEVICES_UART_H
#define NEST86_DEVICES_UART_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define UART_COM1_BASE 0x3F8
#define UART_COM2_BASE 0x2F8
#define UART_COM3_BASE 0x3E8
#define UART_COM4_BASE 0x2E8
#define UART_COM1_IRQ 4
#define UART_COM2_IRQ 3
#define UART_COM3_IRQ 4
#define UART_COM4_IRQ 3

#define UART_FIFO_SIZE 16

struct uart {
    struct machine *m;
    uint16_t base;
    int irq;
    void (*tx)(void *opaque, uint8_t byte);
    void *tx_opaque;

    uint8_t rx_fifo[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t dll, dlm;
    bool thr_ipending;   /* THR-empty interrupt waiting for an IIR read or THR write */
    bool irq_level;
};

struct uart *uart_create(struct machine *m, uint16_t base, int irq);
void uart_reset(void *opaque);
/* The back end that receives transmitted bytes; NULL drops them. */
void uart_set_tx(struct uart *u, void (*tx)(void *opaque, uint8_t byte), void *opaque);
/* Whether the receive FIFO (or holding register) has room. */
bool uart_can_receive(struct uart *u);
/* A byte arriving on the serial line; overruns when there is no room. */
void uart_receive(struct uart *u, uint8_t byte);

#endif
