/*
 * pm32_multiboot_low: multiboot_low.c as a 32-bit kernel linked at
 * 0x1000 (build.mk), so the whole of conventional memory from the
 * loader's lowest address up is taken by the image and its module, and
 * the loader's data must go above both.
 */
#include "multiboot_low.c"
