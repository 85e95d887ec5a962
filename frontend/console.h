/* frontend/console.h — the serial console back end (COM1) on the
 * terminal, a file or nowhere, with QEMU-style Ctrl-A escapes. */
#ifndef NEST86_FRONTEND_CONSOLE_H
#define NEST86_FRONTEND_CONSOLE_H

#include "frontend/config.h"

struct machine;
struct console;
struct debugger;

/* NULL with a message in err when the back end cannot be opened. */
struct console *console_open(const struct config *cfg, struct machine *m, char *err,
                             size_t errlen);
/* Reads input, handles escapes, feeds COM1; called once per slice. */
void console_poll(struct machine *m, void *console);
void console_flush(struct console *con);
/* Ctrl-A C breaks into this debugger. */
void console_set_debugger(struct console *con, struct debugger *d);
/* The debugger takes the terminal (cooked, blocking) and gives it back. */
void console_pause(void *console);
void console_resume(void *console);
/* Restores the terminal; safe to call more than once. */
void console_close(struct console *con);

#endif
