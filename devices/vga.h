/* devices/vga.h — a VGA adapter in text mode: the CRT controller,
 * sequencer, graphics controller, attribute controller and DAC at ports
 * 0x3B4-0x3DA, and the text buffer the CPU writes at 0xB8000 (plain
 * guest RAM, read when the screen is drawn).
 *
 * The registers are those of IBM's VGA technical reference (and
 * FreeVGA's register pages); power-on values are the ones a VGA BIOS
 * leaves after setting mode 3 (80x25 colour text, 9x16 cells,
 * 720x400), since nest86 boots kernels without a BIOS.  Planar graphics
 * modes are not drawn: a guest that switches the graphics controller
 * to graphics sees a black screen.
 *
 * The picture is rendered into a host surface (XRGB8888) by
 * vga_update(), cell by cell, only where the text, attributes, cursor
 * or palette changed; the front ends (screendump, the SDL window) read
 * the surface and its dirty rectangle.
 */
#ifndef NEST86_DEVICES_VGA_H
#define NEST86_DEVICES_VGA_H

#include <stdbool.h>
#include <stdint.h>

struct machine;

#define VGA_CRTC_REGS 25
#define VGA_SEQ_REGS  5
#define VGA_GC_REGS   9
#define VGA_ATTR_REGS 21

/* the largest text screen drawn: 132 columns x 60 rows of 9x32 cells */
#define VGA_MAX_COLS 132
#define VGA_MAX_ROWS 60
/* the surface also holds the Bochs VBE framebuffer's modes (devices/vbe.h) */
#define VGA_MAX_WIDTH  1600
#define VGA_MAX_HEIGHT 1200

#define VGA_DRAWN_PARAMS (13 + 16)

/* The rendered picture: host memory, no guest state. */
struct vga_surface {
    uint32_t *pixels;          /* XRGB8888, 'width' pixels a row */
    int width, height;
    /* what changed since the front end last took it (vga_take_dirty);
     * empty when x0 >= x1 */
    int x0, y0, x1, y1;
    /* what the picture was drawn from: a cell redrawn only if it changed */
    uint16_t cells[VGA_MAX_COLS * VGA_MAX_ROWS];
    uint32_t drawn_key[VGA_DRAWN_PARAMS]; /* geometry, palette, cursor shape */
    bool drawn_blink;          /* the blink phase drawn */
    int cursor_cell;           /* the cell the cursor was drawn in, or -1 */
    bool valid;
    bool in_text;              /* drawn from the text screen (else the VBE framebuffer) */
};

/* Register state: plain data (snapshots save it as it is). */
struct vga {
    struct machine *m;
    uint8_t misc;              /* miscellaneous output (0x3C2 / 0x3CC) */
    uint8_t seq_index, seq[VGA_SEQ_REGS];
    uint8_t gc_index, gc[VGA_GC_REGS];
    uint8_t crtc_index, crtc[VGA_CRTC_REGS];
    uint8_t attr_index;        /* bits 0-4 index, bit 5 palette address source */
    bool attr_flipflop;        /* false: the next 0x3C0 write is an index */
    uint8_t attr[VGA_ATTR_REGS];
    uint8_t dac[256][3];       /* 6-bit red, green, blue */
    uint8_t dac_write_index, dac_read_index, dac_component;
    bool dac_reading;          /* the last index written was 0x3C7 */
    uint8_t pel_mask;
    uint8_t feature;
    uint8_t status_toggle;     /* input status 1 alternates retrace bits */
    uint32_t generation;       /* bumped by every register write that can change the picture */
    struct vga_surface *surface; /* host side: the rendered picture */
};

struct vga *vga_create(struct machine *m);
void vga_reset(void *opaque);

/* Blanks the text buffer (light grey spaces on black), as a BIOS's mode
 * set does: a console driver that keeps what is on the screen at boot
 * (Linux's vgacon) keeps blanks, not zeros, whose black-on-black would
 * hide the cursor. */
void vga_clear_text(struct vga *v);

/* Text-mode geometry as the registers program it. */
struct vga_text_geometry {
    int cols, rows;            /* characters */
    int cell_w, cell_h;        /* pixels: 8 or 9, 1-32 */
    uint64_t base;             /* guest-physical address of the text window */
    unsigned start;            /* CRTC start address (cells) */
    unsigned pitch;            /* cells from one row to the next */
    bool graphics;             /* the graphics controller is in graphics mode */
    bool blank;                /* screen off, or the attribute palette unlocked */
};
void vga_text_geometry(const struct vga *v, struct vga_text_geometry *g);

/* The RGB (0xRRGGBB) an attribute colour 0-15 shows as, through the
 * attribute palette and the DAC. */
uint32_t vga_color(const struct vga *v, unsigned attr_color);

/* Redraws what changed into v->surface.  blink_on: the phase of the
 * cursor and of blinking characters (screendump draws them on). */
void vga_update(struct vga *v, bool blink_on);

/* The rectangle changed since the last call, then forgets it; false
 * when nothing changed. */
bool vga_take_dirty(struct vga *v, int *x, int *y, int *w, int *h);

/* Writes the picture as a binary PPM (P6); -1 with errno on failure. */
int vga_write_ppm(struct vga *v, const char *path);

#endif
