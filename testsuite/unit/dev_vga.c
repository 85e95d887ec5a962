/* testsuite/unit/dev_vga.c — the VGA's text screen against a reference
 * renderer written here from the VGA's documented behaviour (IBM VGA
 * technical reference): 9x16 cells, the 9th column blank except for
 * line-drawing characters 0xC0-0xDF, the EGA palette of mode 3, the
 * cursor on its scan lines, blinking characters.  Only the glyph bitmaps
 * are shared with nest86 (devices/vga_font.c).
 *
 * The Bochs VBE framebuffer's picture: pixels converted from each depth
 * by the VBE's documented layouts (blue in the low bits), only the rows
 * of written pages redrawn.
 *
 * Without arguments: sub-tests on a bare board.  With `--compare FILE`:
 * compares a screendump (PPM) of guest/vga_text with the reference
 * picture of testsuite/guest/vga_screen.h, with `--compare-vbe FILE` one
 * of guest/vbe_lfb with testsuite/guest/vbe_screen.h's (cli/screendump
 * uses these).
 */
#include <stdio.h>
#include <stdlib.h>

#include "devices/vbe.h"
#include "devices/vga.h"
#include "devices/vga_font.h"
#include "testsuite/guest/vbe_screen.h"
#include "testsuite/guest/vga_screen.h"
#include "testsuite/unit/dev_stubs.h"

#define W 720
#define H 400
#define TEXT_WORDS 0x4000 /* the 32 KiB window at 0xB8000 */

/* mode 3's colours: the EGA palette entries 0-5, 0x14, 7, 0x38-0x3F
 * through the DAC, 6-bit values widened as (v << 2) | (v >> 4) */
static const uint32_t ega16[16] = {
    0x000000, 0x0000AA, 0x00AA00, 0x00AAAA, 0xAA0000, 0xAA00AA, 0xAA5500, 0xAAAAAA,
    0x555555, 0x5555FF, 0x55FF55, 0x55FFFF, 0xFF5555, 0xFF55FF, 0xFFFF55, 0xFFFFFF,
};

static uint16_t ref_text[TEXT_WORDS];
static uint32_t ref[W * H];

static uint32_t six_to_eight(unsigned v)
{
    return (v << 2) | (v >> 4);
}

static void ref_put(unsigned index, unsigned short word)
{
    ref_text[index] = word;
}

static void ref_build_text(void)
{
    vga_screen_fill(ref_put);
}

/* The picture of vga_screen.h: every pixel from its cell. */
static void ref_render(bool blink_on)
{
    uint32_t colors[16];
    for (int i = 0; i < 16; i++)
        colors[i] = ega16[i];
    colors[13] = six_to_eight(VGA_SCREEN_DAC_R) << 16 | six_to_eight(VGA_SCREEN_DAC_G) << 8 |
                 six_to_eight(VGA_SCREEN_DAC_B);
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            int row = y / 16, col = x / 9, line = y % 16, dot = x % 9;
            unsigned buf_row = VGA_SCREEN_START / 80 + (unsigned)row;
            uint16_t cell = ref_text[(buf_row * 80 + (unsigned)col) % TEXT_WORDS];
            uint8_t ch = cell & 0xFF, attr = cell >> 8;
            bool on;
            if (dot < 8)
                on = vga_font8x16[ch][line] & (0x80 >> dot);
            else
                on = ch >= 0xC0 && ch <= 0xDF && (vga_font8x16[ch][line] & 1);
            unsigned fg = attr & 15, bg = (attr >> 4) & 7; /* bit 7 blinks */
            if ((attr & 0x80) && !blink_on)
                on = false;
            if (blink_on && buf_row == VGA_SCREEN_CURSOR_ROW && col == VGA_SCREEN_CURSOR_COL &&
                line >= VGA_SCREEN_CURSOR_START && line <= VGA_SCREEN_CURSOR_END)
                on = true;
            ref[y * W + x] = on ? colors[fg] : colors[bg];
        }
    }
}

/* ---- the device on a bare board ---- */

static struct vga *vga;
static uint8_t *ram;

static void crtc(unsigned char index, unsigned char value)
{
    outb(0x3D4, index);
    outb(0x3D5, value);
}

/* what guest/vga_text does, from the host side */
static void program_screen(void)
{
    test_board(1 << 20, false);
    free(ram);
    ram = calloc(1, 1 << 20);
    test_m.phys.ram = ram;
    vga = vga_create(&test_m);
    ref_build_text();
    for (unsigned i = 0; i < TEXT_WORDS; i++) {
        ram[0xB8000 + 2 * i] = (uint8_t)ref_text[i];
        ram[0xB8000 + 2 * i + 1] = (uint8_t)(ref_text[i] >> 8);
    }
    outb(0x3C8, VGA_SCREEN_DAC_INDEX);
    outb(0x3C9, VGA_SCREEN_DAC_R);
    outb(0x3C9, VGA_SCREEN_DAC_G);
    outb(0x3C9, VGA_SCREEN_DAC_B);
    vga_screen_crtc(crtc);
}

/* the first differing pixel, or -1 */
static long first_difference(const uint32_t *got, int width, int height)
{
    if (width != W || height != H)
        return 0;
    for (long i = 0; i < (long)W * H; i++)
        if ((got[i] & 0xFFFFFF) != ref[i])
            return i;
    return -1;
}

static void matches_reference(void)
{
    program_screen();
    vga_update(vga, true);
    ref_render(true);
    long d = first_difference(vga->surface->pixels, vga->surface->width, vga->surface->height);
    UNIT_CHECKF(d < 0, "%dx%d; first difference at (%ld, %ld): 0x%06x, reference 0x%06x",
                vga->surface->width, vga->surface->height, d % W, d / W,
                d >= 0 ? vga->surface->pixels[d] & 0xFFFFFF : 0, d >= 0 ? ref[d] : 0);
}

static void blink_phase_off(void)
{
    /* the cursor and blinking characters vanish in the other phase */
    program_screen();
    vga_update(vga, true);
    vga_update(vga, false);
    ref_render(false);
    long d = first_difference(vga->surface->pixels, vga->surface->width, vga->surface->height);
    UNIT_CHECKF(d < 0, "first difference at (%ld, %ld)", d % W, d / W);
}

static void dirty_rectangle_is_the_changed_cell(void)
{
    program_screen();
    int x, y, w, h;
    vga_update(vga, true);
    UNIT_CHECK(vga_take_dirty(vga, &x, &y, &w, &h) && x == 0 && y == 0 && w == W && h == H);
    vga_update(vga, true);
    UNIT_CHECK(!vga_take_dirty(vga, &x, &y, &w, &h));
    /* one cell of screen row 10, column 7 */
    ram[0xB8000 + 2 * (VGA_SCREEN_START + 10 * 80 + 7)] = 'Q';
    vga_update(vga, true);
    UNIT_CHECKF(vga_take_dirty(vga, &x, &y, &w, &h) && x == 7 * 9 && y == 10 * 16 && w == 9 &&
                h == 16, "dirty %d,%d %dx%d", x, y, w, h);
    /* moving the cursor redraws its old and its new cell */
    unsigned cursor = VGA_SCREEN_CURSOR_ROW * 80 + VGA_SCREEN_CURSOR_COL + 1;
    crtc(0x0F, (uint8_t)cursor);
    vga_update(vga, true);
    UNIT_CHECKF(vga_take_dirty(vga, &x, &y, &w, &h) && x == VGA_SCREEN_CURSOR_COL * 9 &&
                y == (VGA_SCREEN_CURSOR_ROW - 1) * 16 && w == 18 && h == 16,
                "dirty %d,%d %dx%d", x, y, w, h);
    /* a palette change redraws everything */
    outb(0x3C8, 0);
    outb(0x3C9, 1);
    outb(0x3C9, 1);
    outb(0x3C9, 1);
    vga_update(vga, true);
    UNIT_CHECK(vga_take_dirty(vga, &x, &y, &w, &h) && w == W && h == H);
}

static void palette_unlocked_blanks_the_screen(void)
{
    program_screen();
    inb(0x3DA);
    outb(0x3C0, 0x00); /* palette address source 0: the CPU owns the palette */
    vga_update(vga, true);
    uint32_t any = 0;
    for (long i = 0; i < (long)W * H; i++)
        any |= vga->surface->pixels[i];
    UNIT_CHECK(any == 0);
}

static void geometry_follows_the_crtc(void)
{
    program_screen();
    crtc(0x11, 0x0E); /* unprotect CR0-CR7 */
    crtc(0x01, 39);   /* 40 columns */
    outb(0x3C4, 1);
    outb(0x3C5, 0x01); /* 8-dot characters */
    vga_update(vga, true);
    UNIT_CHECKF(vga->surface->width == 320 && vga->surface->height == 400, "%dx%d",
                vga->surface->width, vga->surface->height);
}

/* Reads a P6 PPM of want_w x want_h pixels; false on any mismatch of
 * form. */
static bool read_ppm(const char *path, uint32_t *px, int want_w, int want_h, int *w, int *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    int maxval;
    bool ok = fscanf(f, "P6 %d %d %d", w, h, &maxval) == 3 && maxval == 255 &&
              fgetc(f) != EOF && *w == want_w && *h == want_h;
    for (long i = 0; ok && i < (long)want_w * want_h; i++) {
        int r = fgetc(f), g = fgetc(f), b = fgetc(f);
        ok = b != EOF;
        px[i] = (uint32_t)(r << 16 | g << 8 | b);
    }
    fclose(f);
    return ok;
}

static int compare_file(const char *path)
{
    static uint32_t got[W * H];
    int w = 0, h = 0;
    if (!read_ppm(path, got, W, H, &w, &h)) {
        printf("FAIL screendump/format: %s is not a %dx%d P6 PPM (%dx%d)\n", path, W, H, w, h);
        return 1;
    }
    ref_build_text();
    ref_render(true);
    long d = first_difference(got, w, h), n = 0;
    for (long i = 0; i < (long)W * H; i++)
        n += got[i] != ref[i];
    if (d >= 0) {
        printf("FAIL screendump/pixels: %ld pixels differ, the first at (%ld, %ld): 0x%06x, "
               "reference 0x%06x\n", n, d % W, d / W, got[d], ref[d]);
        return 1;
    }
    printf("PASS screendump/pixels\n");
    return 0;
}

static int compare_vbe_file(const char *path)
{
    static uint32_t got[VBE_SCREEN_W * VBE_SCREEN_H];
    int w = 0, h = 0;
    if (!read_ppm(path, got, VBE_SCREEN_W, VBE_SCREEN_H, &w, &h)) {
        printf("FAIL vbe-screendump/format: %s is not a %dx%d P6 PPM (%dx%d)\n", path,
               VBE_SCREEN_W, VBE_SCREEN_H, w, h);
        return 1;
    }
    for (unsigned y = 0; y < VBE_SCREEN_H; y++)
        for (unsigned x = 0; x < VBE_SCREEN_W; x++)
            if (got[y * VBE_SCREEN_W + x] != vbe_screen_pixel(x, y)) {
                printf("FAIL vbe-screendump/pixels: (%u, %u) is 0x%06x, want 0x%06x\n", x, y,
                       got[y * VBE_SCREEN_W + x], vbe_screen_pixel(x, y));
                return 1;
            }
    printf("PASS vbe-screendump/pixels\n");
    return 0;
}

/* ---- the VBE framebuffer ---- */

static struct vbe *vbe;

static void dispi(uint16_t index, uint16_t value)
{
    io_out(&test_m.io, VBE_DISPI_IOPORT_INDEX, index, 2);
    io_out(&test_m.io, VBE_DISPI_IOPORT_DATA, value, 2);
}

static void vbe_mode(unsigned w, unsigned h, unsigned bpp)
{
    program_screen();
    vbe = test_m.vbe = vbe_create(&test_m);
    dispi(VBE_DISPI_INDEX_XRES, (uint16_t)w);
    dispi(VBE_DISPI_INDEX_YRES, (uint16_t)h);
    dispi(VBE_DISPI_INDEX_BPP, (uint16_t)bpp);
    dispi(VBE_DISPI_INDEX_ENABLE, VBE_DISPI_ENABLED | VBE_DISPI_LFB_ENABLED);
}

static void vbe_depths(void)
{
    /* 16 bpp is 5:6:5 and 15 bpp 5:5:5, red high; 8 bpp goes through the
     * DAC (entry 0x3D reprogrammed by program_screen) */
    static const struct { unsigned bpp; uint32_t mem; uint32_t rgb; } cases[] = {
        {32, 0x00123456, 0x123456}, {24, 0x123456, 0x123456},
        {16, 0xF800, 0xFF0000}, {16, 0x07E0, 0x00FF00}, {16, 0x0010, 0x000084},
        {15, 0x7C00, 0xFF0000}, {15, 0x03E0, 0x00FF00},
        {8, 0x3D, (uint32_t)(0x3F << 2 | 0x3F >> 4) << 16 | (0x20 << 2 | 0x20 >> 4) << 8},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        vbe_mode(64, 8, cases[k].bpp);
        unsigned bytes = (cases[k].bpp + 7) / 8;
        /* the pixel at (3, 2) */
        uint64_t at = VBE_LFB_ADDR + (2 * 64 + 3) * bytes;
        for (unsigned i = 0; i < bytes; i++)
            phys_write(&test_m.phys, at + i, (cases[k].mem >> (8 * i)) & 0xFF, 1);
        vga_update(vga, true);
        UNIT_CHECKF(vga->surface->width == 64 && vga->surface->height == 8, "%dx%d",
                    vga->surface->width, vga->surface->height);
        uint32_t got = vga->surface->pixels[2 * 64 + 3] & 0xFFFFFF;
        UNIT_CHECKF(got == cases[k].rgb, "%u bpp: 0x%06x, want 0x%06x", cases[k].bpp, got,
                    cases[k].rgb);
    }
}

static void vbe_dirty_rows(void)
{
    vbe_mode(1024, 768, 32); /* 4 KiB per row: one page a row */
    int x, y, w, h;
    vga_update(vga, true);
    UNIT_CHECK(vga_take_dirty(vga, &x, &y, &w, &h) && w == 1024 && h == 768);
    vga_update(vga, true);
    UNIT_CHECK(!vga_take_dirty(vga, &x, &y, &w, &h));
    phys_write(&test_m.phys, VBE_LFB_ADDR + 300 * 4096 + 40, 0xFFFFFF, 4);
    vga_update(vga, true);
    UNIT_CHECKF(vga_take_dirty(vga, &x, &y, &w, &h) && y == 300 && h == 1 && w == 1024,
                "dirty %d,%d %dx%d", x, y, w, h);
    UNIT_CHECK(vga->surface->pixels[300 * 1024 + 10] == 0xFFFFFF);
    /* panning moves the picture: all of it is drawn again */
    dispi(VBE_DISPI_INDEX_Y_OFFSET, 1);
    vga_update(vga, true);
    UNIT_CHECK(vga_take_dirty(vga, &x, &y, &w, &h) && h == 768);
    UNIT_CHECK(vga->surface->pixels[299 * 1024 + 10] == 0xFFFFFF);
    /* disabled: the text screen comes back whole */
    dispi(VBE_DISPI_INDEX_ENABLE, 0);
    vga_update(vga, true);
    UNIT_CHECK(vga->surface->width == W && vga->surface->height == H);
    ref_render(true);
    UNIT_CHECK(first_difference(vga->surface->pixels, W, H) < 0);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--compare"))
        return compare_file(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "--compare-vbe"))
        return compare_vbe_file(argv[2]);
    UNIT_RUN(matches_reference);
    UNIT_RUN(blink_phase_off);
    UNIT_RUN(dirty_rectangle_is_the_changed_cell);
    UNIT_RUN(palette_unlocked_blanks_the_screen);
    UNIT_RUN(geometry_follows_the_crtc);
    UNIT_RUN(vbe_depths);
    UNIT_RUN(vbe_dirty_rows);
    free(ram);
    return unit_done();
}
