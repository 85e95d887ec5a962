/* frontend/main.c — nest86's entry point: command line, board, console,
 * debugger and tracer, run loop, exit status. */
#include <stdio.h>
#include <stdlib.h>

#include "debugger/debugger.h"
#include "devices/pc.h"
#include "frontend/config.h"
#include "frontend/console.h"
#include "frontend/keyboard.h"
#include "frontend/sdl.h"
#include "frontend/snapshot.h"
#include "frontend/trace.h"

struct front {
    struct console *con;
    struct debugger *dbg;
    struct sdl_display *sdl; /* NULL: -display none */
    struct keyboard *kbd;
};

static void front_poll(struct machine *m, void *opaque)
{
    struct front *f = opaque;
    console_poll(m, f->con);
    debugger_poll(f->dbg);
    if (f->sdl)
        sdl_poll(f->sdl);
    keyboard_poll(f->kbd);
}

/* The debugger's `type`: through the window's events when there is one */
static void front_key(void *opaque, unsigned usage, bool down)
{
    struct front *f = opaque;
    if (f->sdl)
        sdl_push_key(f->sdl, usage, down);
    else
        keyboard_key(f->kbd, usage, down);
}

static void front_debug(struct machine *m, void *opaque)
{
    struct front *f = opaque;
    console_flush(f->con); /* the guest's output so far comes before the prompt */
    if (f->sdl)
        sdl_set_debugging(f->sdl, true);
    debugger_enter(m, f->dbg);
    if (f->sdl)
        sdl_set_debugging(f->sdl, false);
}

/* The window, when -display sdl asks for one or, by default, when a
 * desktop is there (then quietly none if SDL cannot open it, as QEMU
 * does).  Returns false after printing why an asked-for window failed. */
static bool open_display(const struct config *cfg, struct machine *m, struct keyboard *kbd,
                         struct sdl_display **out)
{
    char err[256];
    *out = NULL;
    if (cfg->display == DISPLAY_NONE ||
        (cfg->display == DISPLAY_DEFAULT && !sdl_display_available()))
        return true;
    *out = sdl_open(m, kbd, err, sizeof(err));
    if (!*out && cfg->display == DISPLAY_SDL) {
        fprintf(stderr, "nest86: %s\n", err);
        return false;
    }
    return true;
}

int main(int argc, char **argv)
{
    struct config cfg;
    switch (config_parse(&cfg, argc, argv)) {
    case CONFIG_ERROR:
        return PC_EXIT_USAGE;
    case CONFIG_EXIT_SUCCESS:
        return EXIT_SUCCESS;
    default:
        break;
    }
    char err[512];
    struct machine *m = pc_create(&cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "nest86: %s\n", err);
        return PC_EXIT_USAGE;
    }
    if (cfg.loadvm && snapshot_load(m, cfg.loadvm, &cfg, err, sizeof(err))) {
        fprintf(stderr, "nest86: %s\n", err);
        pc_destroy(m);
        return SNAPSHOT_EXIT_BAD;
    }
    struct keyboard *kbd = keyboard_create(m);
    struct sdl_display *sdl;
    if (!kbd || !open_display(&cfg, m, kbd, &sdl)) {
        if (!kbd)
            fprintf(stderr, "nest86: out of memory\n");
        keyboard_destroy(kbd);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    struct console *con = console_open(&cfg, m, err, sizeof(err));
    if (!con) {
        fprintf(stderr, "nest86: %s\n", err);
        sdl_close(sdl);
        keyboard_destroy(kbd);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    struct debugger *dbg = debugger_create(m, &cfg, err, sizeof(err));
    if (!dbg) {
        console_close(con);
        fprintf(stderr, "nest86: %s\n", err);
        sdl_close(sdl);
        keyboard_destroy(kbd);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    err[0] = 0;
    struct trace *tr = trace_open(&cfg, m, dbg, err, sizeof(err));
    if (!tr && err[0]) {
        debugger_destroy(dbg, PC_EXIT_USAGE);
        console_close(con);
        fprintf(stderr, "nest86: %s\n", err);
        sdl_close(sdl);
        keyboard_destroy(kbd);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    if (sdl)
        trace_add_stats(tr, sdl_print_stats, sdl);
    console_set_debugger(con, dbg);
    struct dbg_terminal term = {console_pause, console_resume, con};
    debugger_set_terminal(dbg, &term);
    debugger_start(dbg);

    struct front f = {con, dbg, sdl, kbd};
    struct dbg_keyboard dk = {front_key, &f};
    debugger_set_keyboard(dbg, &dk);
    struct pc_frontend fe = {front_poll, front_debug, &f};
    int status = pc_run(m, &fe);
    console_flush(con);
    trace_close(tr);
    debugger_destroy(dbg, status);
    console_close(con);
    sdl_close(sdl);
    keyboard_destroy(kbd);
    pc_destroy(m);
    return status;
}
