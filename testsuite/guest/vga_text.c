/*
 * vga_text: writes the text screen of vga_screen.h through the VGA's
 * registers and its text buffer at 0xB8000, as a kernel's console
 * driver does, and checks what a driver reads back: the CRT
 * controller's index/data pairs and its write protection, the
 * attribute controller's flip-flop, the DAC's auto-incrementing
 * indices, input status 1 (IBM VGA technical reference; FreeVGA's
 * register pages).  Then it calls vga_screen_ready(), where
 * cli/screendump stops it for a screendump that unit/dev_vga compares
 * with its own rendering, pixel for pixel.
 */
#include "rt.h"
#include "vga_screen.h"

#define CRTC_INDEX 0x3D4
#define CRTC_DATA  0x3D5
#define ATTR_PORT  0x3C0
#define ATTR_READ  0x3C1
#define DAC_READ_INDEX  0x3C7
#define DAC_WRITE_INDEX 0x3C8
#define DAC_DATA   0x3C9
#define IS1        0x3DA

static volatile uint16_t *const text = (volatile uint16_t *)0xB8000;

static uint8_t crtc_read(uint8_t index)
{
    outb(CRTC_INDEX, index);
    return inb(CRTC_DATA);
}

static void put_word(unsigned index, unsigned short word)
{
    text[index] = word;
}

static void crtc_write(uint8_t index, uint8_t value)
{
    outb(CRTC_INDEX, index);
    outb(CRTC_DATA, value);
}

/* the screendump is taken here (cli/screendump breaks on this symbol) */
__attribute__((noinline)) void vga_screen_ready(void)
{
    __asm__ volatile("" ::: "memory");
}

void test_main(void)
{
    /* mode 3 as a BIOS leaves it: 80 columns, 400 lines of 16-line cells */
    ASSERT_EQ(crtc_read(0x01), 79);
    ASSERT_EQ(crtc_read(0x09) & 0x1F, 15);
    ASSERT_EQ(crtc_read(0x13), 40);
    ASSERT_EQ(inb(0x3CC), 0x67);

    /* CR11 bit 7 protects CR0-CR7: a write to CR1 is dropped */
    crtc_write(0x01, 0x27);
    ASSERT_EQ(crtc_read(0x01), 79);

    /* a 16-bit OUT writes the index and the data at once */
    __asm__ volatile("outw %0, %1" ::"a"((uint16_t)(0x0A | (0x12 << 8))), "Nd"((uint16_t)CRTC_INDEX));
    ASSERT_EQ(crtc_read(0x0A), 0x12);

    /* the attribute controller: reading input status 1 resets the
     * flip-flop to "index"; palette entry 6 is 0x14 (brown) */
    inb(IS1);
    outb(ATTR_PORT, 0x20 | 6);
    ASSERT_EQ(inb(ATTR_READ), 0x14);
    outb(ATTR_PORT, 0x14); /* data: rewrite it unchanged */
    outb(ATTR_PORT, 0x20 | 0x10);
    ASSERT_EQ(inb(ATTR_READ), 0x0C);
    inb(IS1);

    /* input status 1 shows retrace now and then (drivers wait for it) */
    int retrace = 0;
    for (int i = 0; i < 4; i++)
        retrace |= inb(IS1) & 0x08;
    ASSERT_EQ(retrace, 0x08);

    /* the DAC: three writes per entry, then the index moves on */
    outb(DAC_WRITE_INDEX, VGA_SCREEN_DAC_INDEX);
    outb(DAC_DATA, VGA_SCREEN_DAC_R);
    outb(DAC_DATA, VGA_SCREEN_DAC_G);
    outb(DAC_DATA, VGA_SCREEN_DAC_B);
    ASSERT_EQ(inb(DAC_WRITE_INDEX), VGA_SCREEN_DAC_INDEX + 1);
    outb(DAC_READ_INDEX, VGA_SCREEN_DAC_INDEX);
    ASSERT_EQ(inb(DAC_DATA), VGA_SCREEN_DAC_R);
    ASSERT_EQ(inb(DAC_DATA), VGA_SCREEN_DAC_G);
    ASSERT_EQ(inb(DAC_DATA), VGA_SCREEN_DAC_B);
    ASSERT_EQ(inb(DAC_DATA), 0x3F); /* entry 0x3E (rgbRGB 111110, yellow)'s red: 2/3 + 1/3 */

    /* the text, then the start address and the cursor */
    vga_screen_fill(put_word);
    ASSERT_EQ(text[80], 'n' | 0x0700);
    vga_screen_crtc(crtc_write);
    ASSERT_EQ(crtc_read(0x0D), VGA_SCREEN_START & 0xFF);
    vga_screen_ready();
}
