/* testsuite/guest/vbe_screen.h — the picture guest/vbe_lfb draws in the
 * Bochs VBE framebuffer and unit/dev_vga expects (cli/screendump
 * compares them): a 640x480, 32-bpp mode, every pixel a function of its
 * position. */
#ifndef NEST86_TESTSUITE_VBE_SCREEN_H
#define NEST86_TESTSUITE_VBE_SCREEN_H

#define VBE_SCREEN_W 640
#define VBE_SCREEN_H 480

static inline unsigned vbe_screen_pixel(unsigned x, unsigned y)
{
    return ((x * 3) & 0xFF) << 16 | ((y * 5) & 0xFF) << 8 | ((x ^ y) & 0xFF);
}

#endif
