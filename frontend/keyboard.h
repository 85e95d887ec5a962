/* frontend/keyboard.h — key presses on their way to the i8042: the
 * window's keys and the debugger's `type` command queue here, and each
 * is handed to the keyboard as its set-2 bytes only once the
 * controller has passed on the previous key's, as a real keyboard
 * waits for its host (the controller's own queue is short). */
#ifndef NEST86_FRONTEND_KEYBOARD_H
#define NEST86_FRONTEND_KEYBOARD_H

#include <stdbool.h>

struct machine;
struct keyboard;

struct keyboard *keyboard_create(struct machine *m);
void keyboard_destroy(struct keyboard *k);
/* A key (HID usage, devices/ps2keys.h) pressed or released; dropped
 * when 4096 events are already waiting. */
void keyboard_key(struct keyboard *k, unsigned usage, bool down);
/* Once per slice: the next key to the controller when it is free. */
void keyboard_poll(struct keyboard *k);

/* Calls key(opaque, usage, down) for the presses and releases that type
 * 'text' on a US layout (Shift around shifted characters; "\n" is
 * Enter); returns the number of characters no key types (skipped). */
unsigned keyboard_type_text(const char *text, void (*key)(void *opaque, unsigned usage, bool down),
                            void *opaque);

#endif
