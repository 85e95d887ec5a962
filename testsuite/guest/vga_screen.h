/* testsuite/guest/vga_screen.h — the text screen guest/vga_text writes
 * and the reference renderer of unit/dev_vga draws independently, so
 * that cli/screendump can compare nest86's screendump with it pixel for
 * pixel.  Shared by the freestanding guest and the hosted test tool:
 * plain data only.
 */
#ifndef NEST86_TESTSUITE_VGA_SCREEN_H
#define NEST86_TESTSUITE_VGA_SCREEN_H

/* Text goes into the 32 KiB window at 0xB8000 as (character, attribute)
 * words, row 'row' of the buffer at cell row * 80 + col.  The guest sets
 * the CRTC start address to VGA_SCREEN_START, so buffer row 0 is above
 * the screen and buffer row 25 is its last line (hardware scrolling, as
 * Linux's vgacon does it). */
#define VGA_SCREEN_START 80

struct vga_screen_text {
    unsigned char row, col, attr;
    const char *text;      /* code page 437 bytes */
};

static const struct vga_screen_text vga_screen_texts[] = {
    {0, 0, 0x4F, "buffer row 0: above the screen, never shown"},
    {1, 0, 0x07, "nest86 VGA text test: light grey on black"},
    {2, 2, 0x1E, "yellow on blue"},
    {3, 4, 0x2F, " white on green "},
    {4, 0, 0x70, "black on light grey (inverse)"},
    {5, 0, 0x0C, "light red"},
    {5, 20, 0x0A, "light green"},
    {5, 40, 0x09, "light blue"},
    {5, 60, 0x06, "brown (palette 0x14)"},
    {6, 0, 0x0F, "\xC9\xCD\xCD\xCD\xCD\xBB box drawing \xC4\xC4\xC4\xC4 \xB0\xB1\xB2\xDB"},
    {7, 0, 0x8E, "blinking yellow (drawn in its visible phase)"},
    {8, 0, 0x03, "\x01\x02\x03\x04\x05\x06 \xE0\xE1\xE2\xE3 \x9B\x9C\x9D \xAE\xAF"},
    {9, 0, 0x0D, "the DAC's entry 0x3D is reprogrammed: this is orange"},
    {24, 79, 0x47, "X"},
    {25, 0, 0x0B, "last screen row (buffer row 25)"},
    {26, 0, 0x4F, "buffer row 26: below the screen, never shown"},
};

/* DAC entry 0x3D (attribute colour 13's default palette entry) becomes
 * this 6-bit colour */
#define VGA_SCREEN_DAC_INDEX 0x3D
#define VGA_SCREEN_DAC_R 0x3F
#define VGA_SCREEN_DAC_G 0x20
#define VGA_SCREEN_DAC_B 0x00

/* the cursor: buffer cell (row 3, col 30), scan lines 12-15 */
#define VGA_SCREEN_CURSOR_ROW 3
#define VGA_SCREEN_CURSOR_COL 30
#define VGA_SCREEN_CURSOR_START 12
#define VGA_SCREEN_CURSOR_END 15

/* The whole buffer: blanks (light grey on black) with the texts on top;
 * put(i, word) stores word i of the window. */
static inline void vga_screen_fill(void (*put)(unsigned index, unsigned short word))
{
    for (unsigned i = 0; i < 0x4000; i++)
        put(i, 0x0720);
    for (unsigned k = 0; k < sizeof(vga_screen_texts) / sizeof(vga_screen_texts[0]); k++) {
        const struct vga_screen_text *t = &vga_screen_texts[k];
        unsigned at = t->row * 80u + t->col;
        for (const char *p = t->text; *p; p++)
            put(at++, (unsigned short)((unsigned char)*p | (t->attr << 8)));
    }
}

/* The CRTC's start address and cursor; crtc(index, value) writes one
 * register. */
static inline void vga_screen_crtc(void (*crtc)(unsigned char index, unsigned char value))
{
    unsigned cursor = VGA_SCREEN_CURSOR_ROW * 80 + VGA_SCREEN_CURSOR_COL;
    crtc(0x0C, VGA_SCREEN_START >> 8);
    crtc(0x0D, VGA_SCREEN_START & 0xFF);
    crtc(0x0E, (unsigned char)(cursor >> 8));
    crtc(0x0F, (unsigned char)cursor);
    crtc(0x0A, VGA_SCREEN_CURSOR_START);
    crtc(0x0B, VGA_SCREEN_CURSOR_END);
}

#endif
