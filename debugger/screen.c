/* debugger/screen.c — `screendump FILE`: the picture the display shows,
 * drawn from the VGA's registers and text buffer whatever the front end
 * (-display none too), as a PPM image. */
#include <errno.h>
#include <string.h>

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
