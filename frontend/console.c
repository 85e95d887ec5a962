/* frontend/console.c — COM1 on the host terminal.
 *
 * On a terminal, stdin goes to raw mode so every key reaches the guest;
 * Ctrl-A is the escape key as in QEMU's mux: Ctrl-A X quits, Ctrl-A H
 * prints help, Ctrl-A C breaks into the debugger, Ctrl-A Ctrl-A sends a
 * literal Ctrl-A.  (Ctrl-C in raw mode is byte 0x03 for the guest; it
 * breaks in only when the terminal is not raw, e.g. with -serial none.)
 * The terminal is restored on every exit path (normal exit, fatal
 * signals) and while the debugger reads commands from it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <poll.h>

#include "cpu/cpu.h"
#include "debugger/debugger.h"
#include "devices/machine.h"
#include "devices/uart.h"
#include "frontend/console.h"

#define CTRL_A 0x01

struct console {
    int out_fd;        /* -1: output discarded */
    int in_fd;         /* -1: no input */
    bool raw;
    bool escape;       /* Ctrl-A seen */
    uint8_t out[4096];
    size_t nout;
    uint8_t in[256];   /* bytes waiting for the UART's FIFO */
    size_t nin;
    struct debugger *dbg; /* Ctrl-A C; NULL: no debugger */
    struct termios raw_tio;
};

static struct termios saved_tio;
static bool tio_saved;

static void restore_terminal(void)
{
    if (tio_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
        tio_saved = false;
    }
}

static void fatal_signal(int sig)
{
    restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return; /* output gone (closed pipe): keep running the guest */
        }
        p += w;
        n -= (size_t)w;
    }
}

void console_flush(struct console *con)
{
    if (con->nout && con->out_fd >= 0)
        write_all(con->out_fd, con->out, con->nout);
    con->nout = 0;
}

static void console_tx(void *opaque, uint8_t byte)
{
    struct console *con = opaque;
    if (con->out_fd < 0)
        return;
    con->out[con->nout++] = byte;
    if (con->nout == sizeof(con->out) || byte == '\n')
        console_flush(con);
}

struct console *console_open(const struct config *cfg, struct machine *m, char *err,
                             size_t errlen)
{
    struct console *con = calloc(1, sizeof(*con));
    if (!con) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    con->out_fd = con->in_fd = -1;
    switch (cfg->serial) {
    case SERIAL_STDIO:
        con->out_fd = STDOUT_FILENO;
        con->in_fd = STDIN_FILENO;
        break;
    case SERIAL_FILE:
        con->out_fd = open(cfg->serial_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (con->out_fd < 0) {
            snprintf(err, errlen, "-serial file:%s: %s", cfg->serial_path, strerror(errno));
            free(con);
            return NULL;
        }
        break;
    case SERIAL_NONE:
        break;
    }
    if (con->in_fd >= 0 && isatty(con->in_fd) && tcgetattr(con->in_fd, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* keep newline translation for our own messages */
        tio_saved = true;
        atexit(restore_terminal);
        signal(SIGTERM, fatal_signal);
        signal(SIGHUP, fatal_signal);
        signal(SIGSEGV, fatal_signal);
        signal(SIGABRT, fatal_signal);
        tcsetattr(con->in_fd, TCSANOW, &raw);
        con->raw_tio = raw;
        con->raw = true;
    }
    if (con->in_fd >= 0)
        fcntl(con->in_fd, F_SETFL, fcntl(con->in_fd, F_GETFL) | O_NONBLOCK);
    uart_set_tx(m->uart[0], console_tx, con);
    return con;
}

static void help(struct console *con)
{
    static const char text[] = "\r\nC-a h    print this help\r\n"
                               "C-a x    exit nest86\r\n"
                               "C-a c    break into the debugger\r\n"
                               "C-a C-a  send C-a to the guest\r\n";
    console_flush(con);
    write_all(STDERR_FILENO, (const uint8_t *)text, sizeof(text) - 1);
}

static void handle_byte(struct console *con, struct machine *m, uint8_t b)
{
    if (con->raw && con->escape) {
        con->escape = false;
        switch (b) {
        case 'x':
        case 'X':
            machine_request_stop(m, MACHINE_EXIT, 0, "quit from the console");
            return;
        case 'h':
        case 'H':
            help(con);
            return;
        case 'c':
        case 'C':
            console_flush(con);
            if (con->dbg)
                debugger_break_in(con->dbg, "Ctrl-A C from the console");
            return;
        case CTRL_A:
            break; /* literal Ctrl-A */
        default:
            return;
        }
    } else if (con->raw && b == CTRL_A) {
        con->escape = true;
        return;
    }
    if (con->nin < sizeof(con->in))
        con->in[con->nin++] = b;
}

void console_poll(struct machine *m, void *opaque)
{
    struct console *con = opaque;
    console_flush(con);
    if (con->in_fd >= 0) {
        /* a halted guest waits for input: sleep briefly instead of spinning */
        if (m->cpu->halted && con->nin == 0) {
            struct pollfd p = {.fd = con->in_fd, .events = POLLIN};
            poll(&p, 1, 1);
        }
        uint8_t buf[64];
        ssize_t n = read(con->in_fd, buf, sizeof(buf));
        if (n == 0) {
            con->in_fd = -1; /* end of input: no more bytes will come */
        } else if (n > 0) {
            for (ssize_t k = 0; k < n; k++)
                handle_byte(con, m, buf[k]);
        }
    }
    size_t k = 0;
    while (k < con->nin && uart_can_receive(m->uart[0]))
        uart_receive(m->uart[0], con->in[k++]);
    memmove(con->in, con->in + k, con->nin - k);
    con->nin -= k;
}

void console_set_debugger(struct console *con, struct debugger *d)
{
    con->dbg = d;
}

void console_pause(void *opaque)
{
    struct console *con = opaque;
    console_flush(con);
    if (con->in_fd >= 0)
        fcntl(con->in_fd, F_SETFL, fcntl(con->in_fd, F_GETFL) & ~O_NONBLOCK);
    if (con->raw)
        tcsetattr(con->in_fd, TCSANOW, &saved_tio);
}

void console_resume(void *opaque)
{
    struct console *con = opaque;
    if (con->raw)
        tcsetattr(con->in_fd, TCSANOW, &con->raw_tio);
    if (con->in_fd >= 0)
        fcntl(con->in_fd, F_SETFL, fcntl(con->in_fd, F_GETFL) | O_NONBLOCK);
}

void console_close(struct console *con)
{
    if (!con)
        return;
    console_flush(con);
    if (con->out_fd > STDERR_FILENO)
        close(con->out_fd);
    restore_terminal();
    free(con);
}
