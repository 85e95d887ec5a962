/* frontend/main.c — nest86's entry point: command line, board, console,
 * debugger and tracer, run loop, exit status. */
#include <stdio.h>
#include <stdlib.h>

#include "debugger/debugger.h"
#include "devices/pc.h"
#include "frontend/config.h"
#include "frontend/console.h"
#include "frontend/snapshot.h"
#include "frontend/trace.h"

/* Options the parser accepts whose subsystems are not built yet: say so
 * plainly instead of ignoring them. */
static int reject_unimplemented(const struct config *cfg)
{
    if (cfg->display != DISPLAY_SDL)
        return 0;
    fprintf(stderr, "nest86: -display sdl is not implemented yet\n");
    return 1;
}

struct front {
    struct console *con;
    struct debugger *dbg;
};

static void front_poll(struct machine *m, void *opaque)
{
    struct front *f = opaque;
    console_poll(m, f->con);
    debugger_poll(f->dbg);
}

static void front_debug(struct machine *m, void *opaque)
{
    struct front *f = opaque;
    console_flush(f->con); /* the guest's output so far comes before the prompt */
    debugger_enter(m, f->dbg);
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
    if (reject_unimplemented(&cfg))
        return PC_EXIT_USAGE;

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
    struct console *con = console_open(&cfg, m, err, sizeof(err));
    if (!con) {
        fprintf(stderr, "nest86: %s\n", err);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    struct debugger *dbg = debugger_create(m, &cfg, err, sizeof(err));
    if (!dbg) {
        console_close(con);
        fprintf(stderr, "nest86: %s\n", err);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    err[0] = 0;
    struct trace *tr = trace_open(&cfg, m, dbg, err, sizeof(err));
    if (!tr && err[0]) {
        debugger_destroy(dbg, PC_EXIT_USAGE);
        console_close(con);
        fprintf(stderr, "nest86: %s\n", err);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    console_set_debugger(con, dbg);
    struct dbg_terminal term = {console_pause, console_resume, con};
    debugger_set_terminal(dbg, &term);
    debugger_start(dbg);

    struct front f = {con, dbg};
    struct pc_frontend fe = {front_poll, front_debug, &f};
    int status = pc_run(m, &fe);
    console_flush(con);
    trace_close(tr);
    debugger_destroy(dbg, status);
    console_close(con);
    pc_destroy(m);
    return status;
}
