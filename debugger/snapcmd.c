/* debugger/snapcmd.c — `savevm FILE` and `loadvm FILE`: the whole
 * machine to a snapshot file and back (frontend/snapshot.h), so a
 * session can return to a moment again and again. */
#include "debugger/dbg.h"
#include "frontend/snapshot.h"

static enum cmd_result snap_command(struct debugger *d, int argc, const char *file, bool load)
{
    const char *name = load ? "loadvm" : "savevm";
    if (argc < 2) { /* FILE is the rest of the line: it may hold spaces */
        dbg_printf(d, "usage: %s FILE\n", name);
        return CMD_STAY;
    }
    char err[512];
    int rc = load ? snapshot_load(d->m, file, NULL, err, sizeof(err))
                  : snapshot_save(d->m, file, err, sizeof(err));
    if (rc) {
        /* a failed load changed nothing: say so, and stay stopped */
        dbg_printf(d, "%s: %s%s\n", name, err, load ? " (the machine is unchanged)" : "");
        return CMD_STAY;
    }
    dbg_printf(d, "%s the machine %s %s (icount %llu)\n", load ? "loaded" : "saved",
               load ? "from" : "to", file, (unsigned long long)d->c->icount);
    if (load)
        dbg_print_location(d);
    return CMD_STAY;
}

DBG_HANDLER(cmd_savevm)
{
    (void)argv;
    return snap_command(d, argc, rest, false);
}

DBG_HANDLER(cmd_loadvm)
{
    (void)argv;
    return snap_command(d, argc, rest, true);
}
