/* testsuite/unit/dev_ps2keys.c — the keyboard's scan code set 2 by HID
 * usage (IBM PS/2 keyboard technical reference, set-2 table) and the US
 * layout's characters, then through the i8042's set-1 translation. */
#include "devices/ps2keys.h"
#include "testsuite/unit/dev_stubs.h"

static bool seq_is(unsigned usage, bool down, const uint8_t *want, unsigned n)
{
    uint8_t got[PS2_SEQ_MAX];
    return ps2_set2_sequence(usage, down, got) == n && !memcmp(got, want, n);
}

static void plain_keys(void)
{
    UNIT_CHECK(seq_is(0x04, true, (const uint8_t[]){0x1C}, 1));        /* a */
    UNIT_CHECK(seq_is(0x04, false, (const uint8_t[]){0xF0, 0x1C}, 2)); /* a released */
    UNIT_CHECK(seq_is(0x1D, true, (const uint8_t[]){0x1A}, 1));        /* z */
    UNIT_CHECK(seq_is(0x27, true, (const uint8_t[]){0x45}, 1));        /* 0 */
    UNIT_CHECK(seq_is(0x28, true, (const uint8_t[]){0x5A}, 1));        /* Enter */
    UNIT_CHECK(seq_is(0x40, true, (const uint8_t[]){0x83}, 1));        /* F7 */
    UNIT_CHECK(seq_is(0xE5, true, (const uint8_t[]){0x59}, 1));        /* right Shift */
}

static void extended_keys(void)
{
    UNIT_CHECK(seq_is(0x4F, true, (const uint8_t[]){0xE0, 0x74}, 2));        /* Right */
    UNIT_CHECK(seq_is(0x4F, false, (const uint8_t[]){0xE0, 0xF0, 0x74}, 3)); /* released */
    UNIT_CHECK(seq_is(0xE4, true, (const uint8_t[]){0xE0, 0x14}, 2));        /* right Ctrl */
    UNIT_CHECK(seq_is(0x58, true, (const uint8_t[]){0xE0, 0x5A}, 2));        /* keypad Enter */
    UNIT_CHECK(seq_is(0x46, true, (const uint8_t[]){0xE0, 0x12, 0xE0, 0x7C}, 4)); /* PrtSc */
    UNIT_CHECK(seq_is(0x48, true, (const uint8_t[]){0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77}, 8));
    UNIT_CHECK(seq_is(0x48, false, NULL, 0)); /* Pause has no break code */
    UNIT_CHECK(seq_is(0x00, true, NULL, 0));  /* no such key */
}

static void us_layout(void)
{
    unsigned usage;
    bool shift;
    UNIT_CHECK(ps2_ascii_key('q', &usage, &shift) && usage == 0x14 && !shift);
    UNIT_CHECK(ps2_ascii_key('Q', &usage, &shift) && usage == 0x14 && shift);
    UNIT_CHECK(ps2_ascii_key('!', &usage, &shift) && usage == 0x1E && shift);
    UNIT_CHECK(ps2_ascii_key('(', &usage, &shift) && usage == 0x26 && shift);
    UNIT_CHECK(ps2_ascii_key('"', &usage, &shift) && usage == 0x34 && shift);
    UNIT_CHECK(ps2_ascii_key('/', &usage, &shift) && usage == 0x38 && !shift);
    UNIT_CHECK(ps2_ascii_key('~', &usage, &shift) && usage == 0x35 && shift);
    UNIT_CHECK(ps2_ascii_key('\n', &usage, &shift) && usage == HID_KEY_ENTER && !shift);
    UNIT_CHECK(!ps2_ascii_key('\x80', &usage, &shift));
    UNIT_CHECK(!ps2_ascii_key('\0', &usage, &shift));
}

static void translated_to_set1(void)
{
    /* the controller translates set 2 to set 1 (command byte bit 6, as
     * firmware leaves it): Right arrow is E0 4D, its release E0 CD */
    test_board(0, true);
    test_m.i8042 = i8042_create(&test_m);
    outb(0x60, 0xF4); /* enable scanning */
    inb(0x60);        /* its ACK */
    uint8_t seq[PS2_SEQ_MAX];
    unsigned n = ps2_set2_sequence(0x4F, true, seq);
    for (unsigned i = 0; i < n; i++)
        i8042_kbd_put(test_m.i8042, seq[i]);
    n = ps2_set2_sequence(0x4F, false, seq);
    for (unsigned i = 0; i < n; i++)
        i8042_kbd_put(test_m.i8042, seq[i]);
    uint8_t got[4];
    for (int i = 0; i < 4; i++)
        got[i] = inb(0x60);
    UNIT_CHECKF(got[0] == 0xE0 && got[1] == 0x4D && got[2] == 0xE0 && got[3] == 0xCD,
                "%02x %02x %02x %02x", got[0], got[1], got[2], got[3]);
}

int main(void)
{
    UNIT_RUN(plain_keys);
    UNIT_RUN(extended_keys);
    UNIT_RUN(us_layout);
    UNIT_RUN(translated_to_set1);
    return unit_done();
}
