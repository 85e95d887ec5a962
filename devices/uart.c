/* devices/uart.c — 16550A (National PC16550D datasheet register set).
 *
 * Offsets: 0 RBR/THR (DLL with DLAB), 1 IER (DLM with DLAB), 2 IIR/FCR,
 * 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 SCR.  The receive side is a 16-byte
 * FIFO, or one holding byte with FIFOs off.  A character timeout is
 * reported as soon as data sits below the trigger level: the line is
 * idle between the bytes a back end delivers.
 */
#include <stdlib.h>

#include "devices/devutil.h"
#include "devices/machine.h"
#include "devices/uart.h"
#include "devices/snap.h"

#define IER_RDI  0x01 /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI  0x08 /* modem status */

#define IIR_NONE 0x01
#define IIR_MSI  0x00
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_RLSI 0x06
#define IIR_CTI  0x0C
#define IIR_FIFO 0xC0

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_PE   0x04
#define LSR_FE   0x08
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERR  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_DELTAS 0x0F

static bool fifo_on(const struct uart *u)
{
    return u->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct uart *u)
{
    return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const struct uart *u)
{
    static const uint8_t levels[4] = { 1, 4, 8, 14 };
    return fifo_on(u) ? levels[u->fcr >> 6] : 1;
}

/* The highest-priority pending interrupt (datasheet table of IIR ids). */
static uint8_t uart_iir_id(const struct uart *u)
{
    if ((u->ier & IER_RLSI) && (u->lsr & LSR_ERR))
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? IIR_RDI : IIR_CTI;
    if ((u->ier & IER_THRI) && u->thr_ipending)
        return IIR_THRI;
    if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
        return IIR_MSI;
    return IIR_NONE;
}

static void uart_update_irq(struct uart *u)
{
    bool level = uart_iir_id(u) != IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        machine_set_irq(u->m, u->irq, level);
    }
}

static void rx_push(struct uart *u, uint8_t byte)
{
    if (u->rx_count >= rx_capacity(u)) {
        u->lsr |= LSR_OE;
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
    u->rx_count++;
    u->lsr |= LSR_DR;
}

static uint8_t rx_pop(struct uart *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t b = u->rx_fifo[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
    if (--u->rx_count == 0)
        u->lsr &= ~LSR_DR;
    return b;
}

static void rx_clear(struct uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    u->lsr &= ~LSR_DR;
}

/* Modem status lines: in loopback they follow MCR, otherwise a
 * terminal is always attached and ready. */
static void update_msr(struct uart *u)
{
    uint8_t lines;
    if (u->mcr & MCR_LOOP) {
        lines = (u->mcr & MCR_RTS ? MSR_CTS : 0) | (u->mcr & MCR_DTR ? MSR_DSR : 0) |
                (u->mcr & MCR_OUT1 ? MSR_RI : 0) | (u->mcr & MCR_OUT2 ? MSR_DCD : 0);
    } else {
        lines = MSR_CTS | MSR_DSR | MSR_DCD;
    }
    uint8_t changed = (u->msr ^ lines) & 0xF0;
    uint8_t deltas = u->msr & MSR_DELTAS;
    if (changed & MSR_CTS)
        deltas |= MSR_DCTS;
    if (changed & MSR_DSR)
        deltas |= MSR_DDSR;
    if (changed & MSR_DCD)
        deltas |= MSR_DDCD;
    if ((u->msr & MSR_RI) && !(lines & MSR_RI))
        deltas |= MSR_TERI; /* trailing edge of ring indicator */
    u->msr = lines | deltas;
}

static void transmit(struct uart *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP)
        rx_push(u, byte);
    else if (u->tx)
        u->tx(u->tx_opaque, byte);
    u->lsr |= LSR_THRE | LSR_TEMT;
    u->thr_ipending = true;
}

static uint32_t uart_read(void *opaque, uint16_t port, unsigned size)
{
    (void)size;
    struct uart *u = opaque;
    uint8_t v;
    switch (port - u->base) {
    case 0:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        v = rx_pop(u);
        break;
    case 1:
        return u->lcr & LCR_DLAB ? u->dlm : u->ier;
    case 2:
        v = uart_iir_id(u);
        if (v == IIR_THRI)
            u->thr_ipending = false; /* reading IIR with THRE as source clears it */
        v |= fifo_on(u) ? IIR_FIFO : 0;
        break;
    case 3:
        return u->lcr;
    case 4:
        return u->mcr;
    case 5:
        v = u->lsr;
        if (u->rx_count && fifo_on(u) && (u->lsr & LSR_ERR))
            v |= 0x80;
        u->lsr &= ~LSR_ERR;
        break;
    case 6:
        v = u->msr;
        u->msr &= ~MSR_DELTAS;
        break;
    default:
        return u->scr;
    }
    uart_update_irq(u);
    return v;
}

static void uart_write(void *opaque, uint16_t port, uint32_t value, unsigned size)
{
    (void)size;
    struct uart *u = opaque;
    uint8_t v = (uint8_t)value;
    switch (port - u->base) {
    case 0:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
            return;
        }
        u->thr_ipending = false;
        transmit(u, v);
        break;
    case 1:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            return;
        }
        /* Enabling THRE interrupts while THR is empty raises one at once. */
        if ((v & IER_THRI) && !(u->ier & IER_THRI) && (u->lsr & LSR_THRE))
            u->thr_ipending = true;
        u->ier = v & 0x0F;
        break;
    case 2:
        if ((v ^ u->fcr) & FCR_ENABLE)
            rx_clear(u); /* toggling FIFO mode resets both FIFOs */
        if (v & FCR_CLEAR_RX)
            rx_clear(u);
        u->fcr = v & 0xC9;
        break;
    case 3:
        u->lcr = v;
        return;
    case 4:
        u->mcr = v & 0x1F;
        update_msr(u);
        break;
    case 5:
    case 6:
        return; /* read-only (factory test writes ignored) */
    default:
        u->scr = v;
        return;
    }
    uart_update_irq(u);
}

void uart_set_tx(struct uart *u, void (*tx)(void *opaque, uint8_t byte), void *opaque)
{
    u->tx = tx;
    u->tx_opaque = opaque;
}

bool uart_can_receive(struct uart *u)
{
    return !(u->mcr & MCR_LOOP) && u->rx_count < rx_capacity(u);
}

void uart_receive(struct uart *u, uint8_t byte)
{
    if (u->mcr & MCR_LOOP)
        return; /* the line input is disconnected in loopback */
    rx_push(u, byte);
    uart_update_irq(u);
}

void uart_reset(void *opaque)
{
    struct uart *u = opaque;
    u->ier = 0;
    u->lcr = 0;
    u->mcr = 0;
    u->fcr = 0;
    u->scr = 0;
    u->dll = 0x0C; /* 9600 baud from the 1.8432 MHz clock */
    u->dlm = 0;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = MSR_CTS | MSR_DSR | MSR_DCD;
    u->thr_ipending = false;
    rx_clear(u);
    uart_update_irq(u);
}

struct uart *uart_create(struct machine *m, uint16_t base, int irq)
{
    struct uart *u = dev_zalloc(m, sizeof(*u));
    u->m = m;
    u->base = base;
    u->irq = irq;
    uart_reset(u);
    io_register(&m->io, base, 8, "uart", u, uart_read, uart_write);
    bus_add_reset(&m->io, uart_reset, u);
    return u;
}

/* COM1-COM4 in one section; the back end (where bytes go) is the
 * front end's and stays as it is */
static void uart_state(struct snap *s, struct machine *m)
{
    for (int k = 0; k < 4; k++) {
        struct uart *u = m->uart[k];
        snap_bytes(s, u->rx_fifo, sizeof(u->rx_fifo));
        snap_u8(s, &u->rx_head);
        snap_index(s, u->rx_head, UART_FIFO_SIZE, "UART FIFO head");
        snap_u8(s, &u->rx_count);
        snap_check(s, u->rx_count <= UART_FIFO_SIZE, "UART FIFO count");
        snap_u8(s, &u->ier);
        snap_u8(s, &u->lcr);
        snap_u8(s, &u->mcr);
        snap_u8(s, &u->lsr);
        snap_u8(s, &u->msr);
        snap_u8(s, &u->scr);
        snap_u8(s, &u->fcr);
        snap_u8(s, &u->dll);
        snap_u8(s, &u->dlm);
        snap_bool(s, &u->thr_ipending);
        snap_bool(s, &u->irq_level);
    }
}
SNAP_SECTION(uart, "uart", 1, uart_state)
