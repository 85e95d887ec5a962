/* debugger/screen.c — the user's side of the machine: `screendump FILE`,
 * the picture the display shows, drawn from the VGA's registers and
 * text buffer whatever the front end (-display none too), as a PPM
 * image; `type TEXT`, keys pressed on the guest's keyboard. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/keyboard.h"

#include "debugger/dbg.h"
#include "devices/vga.h"

DBG_HANDLER(cmd_screendump)
{
    (void)rest;
    if (argc != 2) {
        dbg_printf(d, "usage: screendump FILE\n");
        return CMD_STAY;
    }
    struct vga *v = d->m->vga;
    if (!v) {
        dbg_printf(d, "screendump: this machine has no display adapter\n");
        return CMD_STAY;
    }
    /* the cursor and blinking characters as in their visible phase, so
     * the picture does not depend on when it was taken */
    vga_update(v, true);
    if (vga_write_ppm(v, argv[1])) {
        dbg_printf(d, "screendump: cannot write '%s': %s\n", argv[1], strerror(errno));
        return CMD_STAY;
    }
    dbg_printf(d, "screendump: %dx%d written to %s\n", v->surface->width, v->surface->height,
               argv[1]);
    return CMD_STAY;
}

DBG_HANDLER(cmd_type)
{
    (void)argc, (void)argv;
    if (!d->keyboard.key) {
        dbg_printf(d, "type: no keyboard to type on\n");
        return CMD_STAY;
    }
    if (!*rest) {
        dbg_printf(d, "usage: type TEXT\n");
        return CMD_STAY;
    }
    /* the escapes a command line cannot hold otherwise */
    char *text = malloc(strlen(rest) + 1), *o = text;
    if (!text)
        return CMD_STAY;
    for (const char *p = rest; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'b' ? '\b' : *p;
    }
    *o = 0;
    unsigned skipped = keyboard_type_text(text, d->keyboard.key, d->keyboard.opaque);
    if (skipped)
        dbg_printf(d, "type: %u character%s no US key types were left out\n", skipped,
                   skipped == 1 ? "" : "s");
    free(text);
    return CMD_STAY;
}
