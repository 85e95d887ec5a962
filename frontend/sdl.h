/* frontend/sdl.h — the SDL2 window: the display adapter's picture,
 * scaled to the window, the machine's state in its title, the close
 * button as the power button; keyboard and (while grabbed) mouse input
 * to the i8042.
 *
 * Everything runs on the machine's thread from the per-slice poll, but
 * the picture is refreshed at most ~60 times a second (host time) and
 * only the rectangle the adapter reports changed is uploaded, so the
 * CPU loses little time to it. */
#ifndef NEST86_FRONTEND_SDL_H
#define NEST86_FRONTEND_SDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "frontend/config.h"

struct machine;
struct keyboard;
struct sdl_display;

/* NULL with a message in err when no window can be opened.  Keys go to
 * kbd. */
struct sdl_display *sdl_open(struct machine *m, struct keyboard *kbd, char *err, size_t errlen);
/* Once per slice: events, and the picture when it is time. */
void sdl_poll(struct sdl_display *s);
/* The machine stopped for the debugger (true) or runs again (false):
 * the title says so and the window is drawn once more. */
void sdl_set_debugging(struct sdl_display *s, bool in_debugger);
void sdl_close(struct sdl_display *s);
/* -d stats: frames shown, pixels uploaded and the host time the window
 * took from the machine's thread (opaque: the sdl_display). */
void sdl_print_stats(void *opaque, FILE *out);
/* Queues a key event in SDL's event queue, as the desktop would deliver
 * it (the debugger's `type` with a window). */
void sdl_push_key(struct sdl_display *s, unsigned usage, bool down);

/* -display's default: a window when a desktop is there to show it
 * (DISPLAY or WAYLAND_DISPLAY set) and this is an SDL build. */
bool sdl_display_available(void);

#endif
