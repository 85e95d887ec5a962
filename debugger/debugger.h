/* debugger/debugger.h — the interactive debugger and GDB stub as the
 * front end sees them.
 *
 * The debugger owns the CPU's dbg_* hooks.  It stops the machine with
 * machine_request_stop(MACHINE_DEBUG); the board then calls
 * debugger_enter() (the pc_frontend debug callback), which runs the
 * command loop — or the GDB packet loop when a GDB client owns the
 * stop — and returns to resume the guest.
 */
#ifndef NEST86_DEBUGGER_DEBUGGER_H
#define NEST86_DEBUGGER_DEBUGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct cpu;
struct config;
struct debugger;

/* An observer of every instruction, event and memory access (the -d
 * tracer in frontend/trace.c).  Any hook may be NULL. */
struct dbg_tracer {
    void (*before)(void *opaque, struct cpu *c);   /* before each instruction */
    void (*event)(void *opaque, struct cpu *c, int vector, int kind);
    void (*mem)(void *opaque, struct cpu *c, uint64_t lin, uint64_t pa, unsigned size,
                bool write);
    void *opaque;
};

/* Terminal hand-over: the console leaves raw mode while the debugger
 * reads commands from the terminal, and takes it back afterwards. */
struct dbg_terminal {
    void (*pause)(void *opaque);
    void (*resume)(void *opaque);
    void *opaque;
};

/* The keyboard the `type` command presses keys on: key(opaque, usage,
 * down) with a HID usage (devices/ps2keys.h); the front end queues it
 * (through the window's events when there is one). */
struct dbg_keyboard {
    void (*key)(void *opaque, unsigned usage, bool down);
    void *opaque;
};

/* Creates the debugger for m: installs the CPU hooks, loads the
 * kernel's ELF symbols when it has some, opens the -x script and the
 * -gdb listening socket.  NULL with a message in err. */
struct debugger *debugger_create(struct machine *m, const struct config *cfg, char *err,
                                 size_t errlen);
/* The guest ended with 'status' (tells a GDB client); frees everything. */
void debugger_destroy(struct debugger *d, int status);

void debugger_set_terminal(struct debugger *d, const struct dbg_terminal *t);
void debugger_set_tracer(struct debugger *d, const struct dbg_tracer *t);
void debugger_set_keyboard(struct debugger *d, const struct dbg_keyboard *k);

/* Stops the machine before its first instruction when -S or -x asks. */
void debugger_start(struct debugger *d);
/* pc_frontend.debug: the machine stopped for the debugger. */
void debugger_enter(struct machine *m, void *debugger);
/* Once per time slice: GDB connections and Ctrl-C from the client,
 * SIGINT from the terminal. */
void debugger_poll(struct debugger *d);
/* Break in from the console (Ctrl-A C) or a signal handler's flag. */
void debugger_break_in(struct debugger *d, const char *why);

/* One instruction at linear 'lin' in the CPU's current code size,
 * "mnemonic operands" with symbols; returns its length, 0 if unreadable. */
unsigned debugger_disas(struct debugger *d, uint64_t lin, char *buf, size_t len);
/* "name+0x1c" for an address, or "" when no symbol is near. */
const char *debugger_symbolize(struct debugger *d, uint64_t addr, char *buf, size_t len);

#endif
