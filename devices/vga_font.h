/* devices/vga_font.h — the 8x16 character set nest86's VGA draws text
 * with: code page 437, as in a VGA BIOS's ROM font (generated once by
 * scripts/gen-vga-font.py; see devices/vga_font.c for its source and
 * licence). */
#ifndef NEST86_DEVICES_VGA_FONT_H
#define NEST86_DEVICES_VGA_FONT_H

#include <stdint.h>

/* glyph rows top to bottom, bit 7 the leftmost pixel */
extern const uint8_t vga_font8x16[256][16];

#endif
