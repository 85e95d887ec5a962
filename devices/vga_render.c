/* devices/vga_render.c — draws the VGA's text screen into its host
 * surface, only the cells that changed (see devices/vga.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/machine.h"
#include "devices/vbe.h"
#include "devices/vga.h"
#include "devices/vga_font.h"

#define AR_MODE     0x10 /* attribute mode control */
#define AR_MODE_MONO  0x02 /* monochrome emulation: underline shows */
#define AR_MODE_LGE   0x04 /* line graphics: 0xC0-0xDF extend into the 9th column */
#define AR_MODE_BLINK 0x08 /* attribute bit 7 blinks instead of brightening the background */
#define CR_CURSOR_START 0x0A /* bit 5 turns the cursor off */
#define CR_CURSOR_END   0x0B
#define CR_CURSOR_HI    0x0E
#define CR_CURSOR_LO    0x0F
#define CR_UNDERLINE    0x14

static void add_dirty(struct vga_surface *s, int x0, int y0, int x1, int y1)
{
    if (s->x0 >= s->x1) {
        s->x0 = x0, s->y0 = y0, s->x1 = x1, s->y1 = y1;
        return;
    }
    if (x0 < s->x0) s->x0 = x0;
    if (y0 < s->y0) s->y0 = y0;
    if (x1 > s->x1) s->x1 = x1;
    if (y1 > s->y1) s->y1 = y1;
}

struct cell_style {
    uint32_t pal[16];
    uint8_t mode;              /* AR10 */
    int underline;             /* scan line, or -1 */
    int cursor_start, cursor_end;
    bool blink_on;
};

static void draw_cell(struct vga_surface *s, const struct vga_text_geometry *g,
                      const struct cell_style *st, int col, int row, uint16_t cell,
                      bool cursor)
{
    uint8_t ch = cell & 0xFF, attr = cell >> 8;
    unsigned fg = attr & 0x0F, bg = attr >> 4;
    if (st->mode & AR_MODE_BLINK) {
        bg &= 7;
        if ((attr & 0x80) && !st->blink_on)
            fg = bg;
    }
    uint32_t fgc = st->pal[fg], bgc = st->pal[bg];
    const uint8_t *glyph = vga_font8x16[ch];
    bool extend = (st->mode & AR_MODE_LGE) && ch >= 0xC0 && ch <= 0xDF;
    for (int y = 0; y < g->cell_h; y++) {
        unsigned bits = y < 16 ? glyph[y] : 0;
        /* the 9th column repeats the 8th for line-drawing characters */
        bits = (bits << 1) | (extend ? bits & 1 : 0);
        if (y == st->underline || (cursor && y >= st->cursor_start && y <= st->cursor_end))
            bits = 0x1FF;
        uint32_t *px = s->pixels + (size_t)(row * g->cell_h + y) * (size_t)s->width +
                       (size_t)(col * g->cell_w);
        for (int x = 0; x < g->cell_w; x++)
            px[x] = (bits >> (8 - x)) & 1 ? fgc : bgc;
    }
}

void vga_update(struct vga *v, bool blink_on)
{
    struct vga_surface *s = v->surface;
    if (vbe_enabled(v->m->vbe)) {
        /* the framebuffer shows instead; the text screen is drawn anew
         * when it comes back */
        vbe_update(v->m->vbe, s, (const uint8_t (*)[3])v->dac, !s->valid || s->in_text);
        s->valid = true;
        s->in_text = false;
        return;
    }
    if (!s->in_text)
        s->valid = false;
    s->in_text = true;
    struct vga_text_geometry g;
    vga_text_geometry(v, &g);
    struct cell_style st;
    for (unsigned i = 0; i < 16; i++)
        st.pal[i] = vga_color(v, i);
    st.mode = v->attr[AR_MODE];
    st.underline = (st.mode & AR_MODE_MONO) ? (v->crtc[CR_UNDERLINE] & 0x1F) : -1;
    st.cursor_start = v->crtc[CR_CURSOR_START] & 0x1F;
    st.cursor_end = v->crtc[CR_CURSOR_END] & 0x1F;
    st.blink_on = blink_on;

    /* what, when it changes, changes every cell's pixels */
    uint32_t key[VGA_DRAWN_PARAMS] = {
        (uint32_t)g.cols, (uint32_t)g.rows, (uint32_t)g.cell_w, (uint32_t)g.cell_h, g.start,
        g.pitch, (uint32_t)g.base, g.graphics, g.blank, st.mode, (uint32_t)st.underline,
        (uint32_t)st.cursor_start, (uint32_t)st.cursor_end};
    memcpy(key + 13, st.pal, sizeof(st.pal));
    int w = g.cols * g.cell_w, h = g.rows * g.cell_h;
    bool full = !s->valid || memcmp(key, s->drawn_key, sizeof(key));
    bool blink_changed = s->valid && s->drawn_blink != blink_on;
    if (full) {
        s->width = w;
        s->height = h;
        memcpy(s->drawn_key, key, sizeof(key));
        s->valid = true;
        s->cursor_cell = -1;
        add_dirty(s, 0, 0, w, h);
    }
    s->drawn_blink = blink_on;

    /* the CPU's view of the text window: 32 KiB at 0xB8000 (64 KiB at
     * 0xB0000, 128 KiB at 0xA0000), wrapping */
    unsigned window = g.base == 0xB8000 ? 0x8000 : g.base == 0xB0000 ? 0x8000 : 0x20000;
    const uint8_t *text = phys_ram_ptr(&v->m->phys, g.base);
    if (g.blank || g.graphics || !text || !phys_ram_ptr(&v->m->phys, g.base + window - 1)) {
        if (full)
            memset(s->pixels, 0, sizeof(uint32_t) * (size_t)w * (size_t)h);
        s->cursor_cell = -1;
        return;
    }
    unsigned mask = window / 2 - 1;
    unsigned pitch = g.pitch ? g.pitch : (unsigned)g.cols;

    int cursor = -1;
    if (blink_on && !(v->crtc[CR_CURSOR_START] & 0x20)) {
        unsigned pos = ((unsigned)v->crtc[CR_CURSOR_HI] << 8) | v->crtc[CR_CURSOR_LO];
        unsigned rel = (pos - g.start) & mask;
        if (rel / pitch < (unsigned)g.rows && rel % pitch < (unsigned)g.cols)
            cursor = (int)((rel / pitch) * (unsigned)g.cols + rel % pitch);
    }
    bool blinking = (st.mode & AR_MODE_BLINK) && blink_changed;
    for (int row = 0; row < g.rows; row++) {
        for (int col = 0; col < g.cols; col++) {
            int i = row * g.cols + col;
            unsigned a = (g.start + (unsigned)row * pitch + (unsigned)col) & mask;
            uint16_t cell = (uint16_t)(text[2 * a] | (text[2 * a + 1] << 8));
            bool cursor_moved = cursor != s->cursor_cell && (i == cursor || i == s->cursor_cell);
            if (!full && cell == s->cells[i] && !cursor_moved && !(blinking && (cell & 0x8000)))
                continue;
            s->cells[i] = cell;
            draw_cell(s, &g, &st, col, row, cell, i == cursor);
            add_dirty(s, col * g.cell_w, row * g.cell_h, (col + 1) * g.cell_w,
                      (row + 1) * g.cell_h);
        }
    }
    s->cursor_cell = cursor;
}

bool vga_take_dirty(struct vga *v, int *x, int *y, int *w, int *h)
{
    struct vga_surface *s = v->surface;
    if (s->x0 >= s->x1)
        return false;
    *x = s->x0;
    *y = s->y0;
    *w = s->x1 - s->x0;
    *h = s->y1 - s->y0;
    s->x0 = s->x1 = 0;
    return true;
}

int vga_write_ppm(struct vga *v, const char *path)
{
    const struct vga_surface *s = v->surface;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fprintf(f, "P6\n%d %d\n255\n", s->width, s->height);
    uint8_t *row = malloc((size_t)s->width * 3);
    if (!row) {
        fclose(f);
        errno = ENOMEM;
        return -1;
    }
    for (int y = 0; y < s->height; y++) {
        const uint32_t *px = s->pixels + (size_t)y * (size_t)s->width;
        for (int x = 0; x < s->width; x++) {
            row[3 * x] = (uint8_t)(px[x] >> 16);
            row[3 * x + 1] = (uint8_t)(px[x] >> 8);
            row[3 * x + 2] = (uint8_t)px[x];
        }
        fwrite(row, 3, (size_t)s->width, f);
    }
    free(row);
    int err = ferror(f);
    if (fclose(f) || err)
        return -1;
    return 0;
}
