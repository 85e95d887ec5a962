/* debugger/screen.c — the user's side of the machine: `screendump FILE`,
 * the picture the display shows, drawn from the VGA's registers and
 * text buffer whatever the front end (-display none too), as a PPM
 * image; `type TEXT`, keys pressed on the guest's keyboard; `mouse`,
 * its mouse moved. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"
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

void dbg_info_screen(struct debugger *d)
{
    struct vga *v = d->m->vga;
    if (!v) {
        dbg_printf(d, "no display adapter\n");
        return;
    }
    struct vga_text_geometry g;
    vga_text_geometry(v, &g);
    unsigned cursor = ((unsigned)v->crtc[0x0E] << 8) | v->crtc[0x0F];
    dbg_printf(d, "%s %dx%d cells of %dx%d at 0x%llx, start address %u, row pitch %u%s\n",
               g.graphics ? "graphics mode (not drawn)" : "text", g.cols, g.rows, g.cell_w,
               g.cell_h, (unsigned long long)g.base, g.start, g.pitch,
               g.blank ? ", blanked" : "");
    dbg_printf(d, "cursor at %u (row %d, column %d), scan lines %u-%u%s\n", cursor,
               g.pitch ? (int)((cursor - g.start) & 0x3FFF) / (int)g.pitch : 0,
               g.pitch ? (int)((cursor - g.start) & 0x3FFF) % (int)g.pitch : 0,
               v->crtc[0x0A] & 0x1F, v->crtc[0x0B] & 0x1F,
               (v->crtc[0x0A] & 0x20) ? ", off" : "");
    if (g.graphics)
        return;
    /* the lines as text: code page 437's printable ASCII as it is, the
     * rest as '.' */
    for (int r = 0; r < g.rows; r++) {
        char line[VGA_MAX_COLS + 1];
        int len = 0;
        for (int c = 0; c < g.cols; c++) {
            uint8_t ch = 0;
            uint64_t a = g.base + 2 * ((g.start + (unsigned)r * g.pitch + (unsigned)c) & 0x3FFF);
            dbg_read_phys(d, a, &ch, 1);
            line[c] = ch >= 0x20 && ch < 0x7F ? (char)ch : ch ? '.' : ' ';
            if (line[c] != ' ')
                len = c + 1;
        }
        line[len] = 0;
        dbg_printf(d, "|%s\n", line);
    }
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

DBG_HANDLER(cmd_mouse)
{
    (void)rest;
    uint64_t v[3] = {0, 0, 0};
    if (argc < 3 || argc > 4) {
        dbg_printf(d, "usage: mouse DX DY [BUTTONS]\n");
        return CMD_STAY;
    }
    for (int i = 1; i < argc; i++)
        if (!dbg_eval(d, argv[i], &v[i - 1]))
            return CMD_STAY;
    if (!d->m->i8042) {
        dbg_printf(d, "mouse: no PS/2 controller\n");
        return CMD_STAY;
    }
    i8042_mouse_event(d->m->i8042, (int)(int64_t)v[0], (int)(int64_t)v[1], (unsigned)v[2]);
    return CMD_STAY;
}
