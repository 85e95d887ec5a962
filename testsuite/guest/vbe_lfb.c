/*
 * vbe_lfb: the Bochs VBE dispi interface (index 0x1CE, data 0x1CF; the
 * register list of Bochs's vbe.h) and its linear framebuffer at
 * 0xE0000000: identify, the capabilities, a 640x480x32 mode set (which
 * clears the framebuffer), then vbe_screen.h's picture drawn in it.
 * cli/screendump takes a screendump at vbe_screen_ready() and compares
 * it with unit/dev_vga's own rendering of the same picture.
 */
#include "rt.h"
#include "vbe_screen.h"

#define INDEX 0x1CE
#define DATA  0x1CF

static volatile uint32_t *const lfb = (volatile uint32_t *)0xE0000000ull;

static void dispi_write(uint16_t index, uint16_t value)
{
    __asm__ volatile("outw %0, %1" ::"a"(index), "Nd"((uint16_t)INDEX));
    __asm__ volatile("outw %0, %1" ::"a"(value), "Nd"((uint16_t)DATA));
}

static uint16_t dispi_read(uint16_t index)
{
    uint16_t v;
    __asm__ volatile("outw %0, %1" ::"a"(index), "Nd"((uint16_t)INDEX));
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"((uint16_t)DATA));
    return v;
}

__attribute__((noinline)) void vbe_screen_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

void test_main(void)
{
    /* the framebuffer lies in the runtime's identity map of 4 GiB */
    ASSERT_EQ(dispi_read(0), 0xB0C5);        /* ID */
    ASSERT_EQ(dispi_read(10), 16 << 20 >> 16); /* video memory in 64 KiB */
    dispi_write(4, 0x02);                    /* GETCAPS: the maxima */
    ASSERT_EQ(dispi_read(1), 1600);
    ASSERT_EQ(dispi_read(3), 32);
    dispi_write(4, 0);
    dispi_write(1, VBE_SCREEN_W);
    dispi_write(2, VBE_SCREEN_H);
    dispi_write(3, 32);
    dispi_write(3, 12);                      /* not a depth: ignored */
    ASSERT_EQ(dispi_read(3), 32);
    lfb[5] = 0x12345678;
    dispi_write(4, 0x41);                    /* enabled, LFB: the mode set clears */
    ASSERT_EQ(lfb[5], 0);
    ASSERT_EQ(dispi_read(6), VBE_SCREEN_W);  /* virtual width follows */
    dispi_write(1, 800);                     /* no resolution change while enabled */
    ASSERT_EQ(dispi_read(1), VBE_SCREEN_W);
    for (unsigned y = 0; y < VBE_SCREEN_H; y++)
        for (unsigned x = 0; x < VBE_SCREEN_W; x++)
            lfb[y * VBE_SCREEN_W + x] = vbe_screen_pixel(x, y);
    ASSERT_EQ(lfb[VBE_SCREEN_W + 1], vbe_screen_pixel(1, 1));
    vbe_screen_ready();
}
