/* frontend/main.c — nest86's entry point: command line, board, console,
 * run loop, exit status. */
#include <stdio.h>
#include <stdlib.h>

#include "devices/pc.h"
#include "frontend/config.h"
#include "frontend/console.h"

/* Options the parser accepts whose subsystems are not built yet: say so
 * plainly instead of ignoring them. */
static int reject_unimplemented(const struct config *cfg)
{
    const char *what = NULL;
    if (cfg->start_paused)
        what = "-S (the debugger)";
    else if (cfg->gdb_port)
        what = "-gdb (the GDB stub)";
    else if (cfg->debug_script)
        what = "-x (debugger scripts)";
    else if (cfg->display == DISPLAY_SDL)
        what = "-display sdl";
    else if (cfg->trace_spec)
        what = "-d (trace categories)";
    if (!what)
        return 0;
    fprintf(stderr, "nest86: %s is not implemented yet\n", what);
    return 1;
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
    struct console *con = console_open(&cfg, m, err, sizeof(err));
    if (!con) {
        fprintf(stderr, "nest86: %s\n", err);
        pc_destroy(m);
        return PC_EXIT_USAGE;
    }
    struct pc_frontend fe = {console_poll, NULL, con};
    int status = pc_run(m, &fe);
    console_close(con);
    pc_destroy(m);
    return status;
}
