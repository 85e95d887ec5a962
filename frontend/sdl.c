/* frontend/sdl.c — the SDL2 window (see frontend/sdl.h). */
#include "frontend/sdl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu.h"
#include "devices/acpipm.h"
#include "devices/i8042.h"
#include "devices/machine.h"
#include "devices/pc.h"
#include "devices/vga.h"
#include "frontend/keyboard.h"

bool sdl_display_available(void)
{
    const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");
    return CONFIG_SDL && ((x && *x) || (w && *w));
}

#if CONFIG_SDL

#include <SDL.h>

#define REFRESH_MS 16   /* ~60 Hz */
#define BLINK_MS   267  /* half a blink period: a VGA blinks every 32 frames of 60-70 Hz */

struct sdl_display {
    struct machine *m;
    struct keyboard *kbd;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tex_w, tex_h;
    uint64_t last_refresh;
    bool in_debugger;
    bool grabbed;
    bool closed_once;       /* the close button was pressed: a second press quits */
    bool exposed;           /* the window needs drawing even if the picture did not change */
    char title[128];
    /* -d stats */
    uint64_t frames, pixels, host_ns, polls;
};

static uint64_t host_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct sdl_display *sdl_open(struct machine *m, struct keyboard *kbd, char *err, size_t errlen)
{
    if (!m->vga) {
        snprintf(err, errlen, "-display sdl: the machine has no display adapter");
        return NULL;
    }
    if (SDL_InitSubSystem(SDL_INIT_VIDEO)) {
        snprintf(err, errlen, "-display sdl: cannot open a window: %s", SDL_GetError());
        return NULL;
    }
    struct sdl_display *s = calloc(1, sizeof(*s));
    if (!s) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->m = m;
    s->kbd = kbd;
    /* a 720x400 text screen shown at twice its size fits any desktop */
    s->win = SDL_CreateWindow("nest86", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 720,
                              400, SDL_WINDOW_RESIZABLE);
    /* with no screen behind the window (the offscreen and dummy drivers
     * of tests and benchmarks) an OpenGL renderer would only be Mesa's
     * software rasteriser: SDL's own software renderer is cheaper */
    const char *driver = SDL_GetCurrentVideoDriver();
    bool headless = driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy"));
    if (headless) /* nor should the window's framebuffer go through OpenGL */
        SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
    if (s->win)
        s->ren = SDL_CreateRenderer(s->win, -1, headless ? SDL_RENDERER_SOFTWARE : 0);
    if (!s->win || !s->ren) {
        snprintf(err, errlen, "-display sdl: cannot open a window: %s", SDL_GetError());
        sdl_close(s);
        return NULL;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "nearest");
    s->exposed = true;
    return s;
}

void sdl_close(struct sdl_display *s)
{
    if (!s)
        return;
    if (s->tex)
        SDL_DestroyTexture(s->tex);
    if (s->ren)
        SDL_DestroyRenderer(s->ren);
    if (s->win)
        SDL_DestroyWindow(s->win);
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    free(s);
}

static void update_title(struct sdl_display *s)
{
    const char *state = s->in_debugger         ? "stopped in the debugger"
                        : s->m->cpu->vmx.nonroot ? "running a VMX guest"
                                                 : "running";
    char title[sizeof(s->title)];
    snprintf(title, sizeof(title), "nest86 - %s%s%s", state,
             s->grabbed ? " - input grabbed (Ctrl+Alt+G releases)" : "",
             s->closed_once ? " - power button pressed (close again to quit)" : "");
    if (strcmp(title, s->title)) {
        snprintf(s->title, sizeof(s->title), "%s", title);
        SDL_SetWindowTitle(s->win, title);
    }
}

/* The close button: the first press is the ACPI power button (the guest
 * shuts down in its own way), the second ends nest86 at once. */
static void close_pressed(struct sdl_display *s)
{
    if (!s->closed_once && s->m->acpipm) {
        s->closed_once = true;
        acpipm_power_button(s->m->acpipm);
        return;
    }
    machine_request_stop(s->m, MACHINE_EXIT, PC_EXIT_POWEROFF, "window closed");
}

static void set_grab(struct sdl_display *s, bool on)
{
    s->grabbed = on;
    SDL_SetWindowGrab(s->win, on ? SDL_TRUE : SDL_FALSE);
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
}

static void handle_key(struct sdl_display *s, const SDL_KeyboardEvent *k)
{
    SDL_Keymod mods = SDL_GetModState();
    if (k->type == SDL_KEYDOWN && k->keysym.scancode == SDL_SCANCODE_G && (mods & KMOD_CTRL) &&
        (mods & KMOD_ALT)) {
        set_grab(s, !s->grabbed); /* QEMU's grab key: not passed to the guest */
        return;
    }
    /* SDL's scancodes are the keys' USB HID usages; a held key's
     * repeated presses are the keyboard's typematic makes */
    keyboard_key(s->kbd, k->keysym.scancode, k->type == SDL_KEYDOWN);
}

void sdl_push_key(struct sdl_display *s, unsigned usage, bool down)
{
    (void)s;
    SDL_Event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = down ? SDL_KEYDOWN : SDL_KEYUP;
    ev.key.state = down ? SDL_PRESSED : SDL_RELEASED;
    ev.key.keysym.scancode = (SDL_Scancode)usage;
    SDL_PushEvent(&ev);
}

/* SDL's button mask (left 1, middle 2, right 4) as PS/2's (left 1,
 * right 2, middle 4) */
static unsigned ps2_buttons(uint32_t state)
{
    return (state & SDL_BUTTON_LMASK ? 1 : 0) | (state & SDL_BUTTON_RMASK ? 2 : 0) |
           (state & SDL_BUTTON_MMASK ? 4 : 0);
}

/* The mouse reaches the guest while grabbed (a click in the window
 * grabs, as in QEMU); PS/2 counts Y upward, SDL downward. */
static void handle_mouse(struct sdl_display *s, const SDL_Event *ev)
{
    if (!s->m->i8042)
        return;
    if (!s->grabbed) {
        if (ev->type == SDL_MOUSEBUTTONDOWN)
            set_grab(s, true);
        return;
    }
    if (ev->type == SDL_MOUSEMOTION)
        i8042_mouse_event(s->m->i8042, ev->motion.xrel, -ev->motion.yrel,
                          ps2_buttons(ev->motion.state));
    else
        i8042_mouse_event(s->m->i8042, 0, 0, ps2_buttons(SDL_GetMouseState(NULL, NULL)));
}

static void handle_events(struct sdl_display *s)
{
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        switch (ev.type) {
        case SDL_QUIT:
            close_pressed(s);
            break;
        case SDL_WINDOWEVENT:
            if (ev.window.event == SDL_WINDOWEVENT_CLOSE)
                close_pressed(s);
            else if (ev.window.event == SDL_WINDOWEVENT_EXPOSED ||
                     ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
                s->exposed = true;
            break;
        case SDL_KEYDOWN:
        case SDL_KEYUP:
            handle_key(s, &ev.key);
            break;
        case SDL_MOUSEMOTION:
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP:
            handle_mouse(s, &ev);
            break;
        default:
            break;
        }
    }
}

/* Uploads what changed and shows it. */
static void refresh(struct sdl_display *s, uint64_t now)
{
    struct vga *v = s->m->vga;
    vga_update(v, (now / BLINK_MS) & 1);
    struct vga_surface *surf = v->surface;
    if (!s->tex || s->tex_w != surf->width || s->tex_h != surf->height) {
        if (s->tex)
            SDL_DestroyTexture(s->tex);
        s->tex = SDL_CreateTexture(s->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
                                   surf->width, surf->height);
        if (!s->tex)
            return;
        s->tex_w = surf->width;
        s->tex_h = surf->height;
        SDL_RenderSetLogicalSize(s->ren, surf->width, surf->height);
        SDL_UpdateTexture(s->tex, NULL, surf->pixels, surf->width * 4);
        vga_take_dirty(v, &(int){0}, &(int){0}, &(int){0}, &(int){0});
        s->exposed = true;
    }
    SDL_Rect r;
    bool changed = vga_take_dirty(v, &r.x, &r.y, &r.w, &r.h);
    if (changed) {
        SDL_UpdateTexture(s->tex, &r, surf->pixels + (size_t)r.y * (size_t)surf->width + (size_t)r.x,
                          surf->width * 4);
        s->pixels += (uint64_t)r.w * (uint64_t)r.h;
    }
    if (!changed && !s->exposed)
        return;
    s->frames++;
    s->exposed = false;
    SDL_SetRenderDrawColor(s->ren, 0, 0, 0, 255);
    SDL_RenderClear(s->ren);
    SDL_RenderCopy(s->ren, s->tex, NULL, NULL);
    SDL_RenderPresent(s->ren);
}

void sdl_poll(struct sdl_display *s)
{
    uint64_t now = SDL_GetTicks64();
    if (now - s->last_refresh < REFRESH_MS)
        return;
    s->last_refresh = now;
    uint64_t t0 = host_now_ns();
    handle_events(s);
    update_title(s);
    refresh(s, now);
    s->polls++;
    s->host_ns += host_now_ns() - t0;
}

void sdl_print_stats(void *opaque, FILE *out)
{
    struct sdl_display *s = opaque;
    fprintf(out,
            "stats: window: %" PRIu64 " refreshes, %" PRIu64 " frames shown, %" PRIu64
            " pixels uploaded, %.3f s host time\n",
            s->polls, s->frames, s->pixels, (double)s->host_ns / 1e9);
}

void sdl_set_debugging(struct sdl_display *s, bool in_debugger)
{
    s->in_debugger = in_debugger;
    if (in_debugger && s->grabbed)
        set_grab(s, false); /* the debugger's terminal needs the mouse */
    handle_events(s);
    update_title(s);
    s->exposed = true;
    refresh(s, SDL_GetTicks64());
}

#else /* !CONFIG_SDL */

struct sdl_display *sdl_open(struct machine *m, struct keyboard *kbd, char *err, size_t errlen)
{
    (void)m, (void)kbd;
    snprintf(err, errlen, "-display sdl: this nest86 was built without SDL");
    return NULL;
}

void sdl_poll(struct sdl_display *s)
{
    (void)s;
}

void sdl_set_debugging(struct sdl_display *s, bool in_debugger)
{
    (void)s, (void)in_debugger;
}

void sdl_close(struct sdl_display *s)
{
    (void)s;
}

void sdl_push_key(struct sdl_display *s, unsigned usage, bool down)
{
    (void)s, (void)usage, (void)down;
}

void sdl_print_stats(void *opaque, FILE *out)
{
    (void)opaque, (void)out;
}

#endif
