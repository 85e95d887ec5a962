/* testsuite/unit/dev_pic.c — 8259A pair behaviour as Linux drives it. */
#include "testsuite/unit/dev_stubs.h"

static void edge_irq_delivers_vector_and_eoi(void)
{
    test_board(0, true);
    UNIT_CHECK(!test_intr);
    pic_set_irq(test_m.pic, 0, 1);
    pic_set_irq(test_m.pic, 0, 0);
    UNIT_CHECK(test_intr);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x20);
    UNIT_CHECK(!test_intr);
    outb(0x20, 0x0B); /* OCW3: read ISR */
    UNIT_CHECK(inb(0x20) == 0x01);
    outb(0x20, 0x20); /* non-specific EOI */
    UNIT_CHECK(inb(0x20) == 0x00);
    outb(0x20, 0x0A); /* back to IRR */
    UNIT_CHECK(inb(0x20) == 0x00);
}

static void priority_and_nesting(void)
{
    test_board(0, true);
    pic_set_irq(test_m.pic, 4, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x24);
    pic_set_irq(test_m.pic, 6, 1);   /* lower priority: blocked by IR4 in service */
    UNIT_CHECK(!test_intr);
    pic_set_irq(test_m.pic, 1, 1);   /* higher priority nests */
    UNIT_CHECK(test_intr && pic_intack(test_m.pic) == 0x21);
    outb(0x20, 0x20);                /* EOI IR1 */
    UNIT_CHECK(!test_intr);
    outb(0x20, 0x64);                /* specific EOI IR4 */
    UNIT_CHECK(test_intr && pic_intack(test_m.pic) == 0x26);
}

static void slave_cascade(void)
{
    test_board(0, true);
    pic_set_irq(test_m.pic, 12, 1);
    UNIT_CHECK(test_intr);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x2C);
    outb(0x20, 0x0B);
    outb(0xA0, 0x0B);
    UNIT_CHECK(inb(0x20) == 0x04 && inb(0xA0) == 0x10);
    pic_set_irq(test_m.pic, 12, 0);
    pic_set_irq(test_m.pic, 8, 1);   /* second slave request while IR2 in service */
    UNIT_CHECK(!test_intr);
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    UNIT_CHECK(test_intr && pic_intack(test_m.pic) == 0x28);
}

static void masking(void)
{
    test_board(0, true);
    outb(0x21, 0x02);
    pic_set_irq(test_m.pic, 1, 1);
    UNIT_CHECK(!test_intr);
    UNIT_CHECK(inb(0x21) == 0x02);
    outb(0x21, 0x00);
    UNIT_CHECK(test_intr);
    outb(0xA1, 0xFF);
    pic_set_irq(test_m.pic, 9, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x21);
    outb(0x20, 0x20);
    UNIT_CHECK(!test_intr);
}

static void level_triggered_and_spurious(void)
{
    test_board(0, true);
    outb(0x4D1, 0x02);               /* IRQ9 level */
    UNIT_CHECK(inb(0x4D1) == 0x02);
    outb(0x4D0, 0xFF);
    UNIT_CHECK(inb(0x4D0) == 0xF8);  /* IRQ0-2 cannot be level */
    outb(0x4D0, 0x00);
    pic_set_irq(test_m.pic, 9, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x29);
    outb(0xA0, 0x20);
    outb(0x20, 0x20);
    UNIT_CHECK(test_intr);           /* still asserted: requests again */
    pic_set_irq(test_m.pic, 9, 0);
    UNIT_CHECK(!test_intr);
    /* A request withdrawn between INTR and INTA gives the spurious vector. */
    pic_set_irq(test_m.pic, 3, 1);
    test_m.pic->chip[0].irr = 0;
    UNIT_CHECK(pic_intack(test_m.pic) == 0x27);
    outb(0x20, 0x0B);
    UNIT_CHECK(inb(0x20) == 0x00);   /* no ISR bit for a spurious IRQ7 */
}

static void auto_eoi_and_poll(void)
{
    test_board(0, true);
    outb(0x20, 0x11); outb(0x21, 0x30); outb(0x21, 0x04); outb(0x21, 0x03);
    pic_set_irq(test_m.pic, 5, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x35);
    outb(0x20, 0x0B);
    UNIT_CHECK(inb(0x20) == 0x00);   /* auto-EOI: ISR stays clear */
    pic_set_irq(test_m.pic, 3, 1);
    outb(0x20, 0x0C);                /* poll */
    UNIT_CHECK(inb(0x20) == 0x83);
    outb(0x20, 0x0C);
    UNIT_CHECK(inb(0x20) == 0x00);
}

static void rotation(void)
{
    test_board(0, true);
    pic_set_irq(test_m.pic, 0, 1);
    pic_set_irq(test_m.pic, 3, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x20);
    outb(0x20, 0xA0);                /* rotate on non-specific EOI: IR0 lowest */
    pic_set_irq(test_m.pic, 0, 0);
    pic_set_irq(test_m.pic, 0, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x23);
    outb(0x20, 0x20);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x20);
}

static void special_mask_mode(void)
{
    test_board(0, true);
    pic_set_irq(test_m.pic, 1, 1);
    UNIT_CHECK(pic_intack(test_m.pic) == 0x21);
    pic_set_irq(test_m.pic, 5, 1);
    UNIT_CHECK(!test_intr);
    outb(0x21, 0x02);                /* mask the IR in service */
    outb(0x20, 0x68);                /* OCW3: set special mask */
    UNIT_CHECK(test_intr && pic_intack(test_m.pic) == 0x25);
}

int main(void)
{
    UNIT_RUN(edge_irq_delivers_vector_and_eoi);
    UNIT_RUN(priority_and_nesting);
    UNIT_RUN(slave_cascade);
    UNIT_RUN(masking);
    UNIT_RUN(level_triggered_and_spurious);
    UNIT_RUN(auto_eoi_and_poll);
    UNIT_RUN(rotation);
    UNIT_RUN(special_mask_mode);
    return unit_done();
}
