/* devices/ps2keys.c — scan code set 2 for the US layout (see
 * devices/ps2keys.h).  Codes from the IBM PS/2 keyboard technical
 * reference's set-2 table (and Microsoft's "Keyboard Scan Code
 * Specification", which lists each key's HID usage beside them). */
#include "devices/ps2keys.h"

#include <string.h>

#define E0 0x100 /* the code follows an 0xE0 prefix */

/* set-2 make code by HID usage; 0: no such key */
static const uint16_t set2[256] = {
    [0x04] = 0x1C, [0x05] = 0x32, [0x06] = 0x21, [0x07] = 0x23, /* a b c d */
    [0x08] = 0x24, [0x09] = 0x2B, [0x0A] = 0x34, [0x0B] = 0x33, /* e f g h */
    [0x0C] = 0x43, [0x0D] = 0x3B, [0x0E] = 0x42, [0x0F] = 0x4B, /* i j k l */
    [0x10] = 0x3A, [0x11] = 0x31, [0x12] = 0x44, [0x13] = 0x4D, /* m n o p */
    [0x14] = 0x15, [0x15] = 0x2D, [0x16] = 0x1B, [0x17] = 0x2C, /* q r s t */
    [0x18] = 0x3C, [0x19] = 0x2A, [0x1A] = 0x1D, [0x1B] = 0x22, /* u v w x */
    [0x1C] = 0x35, [0x1D] = 0x1A,                               /* y z */
    [0x1E] = 0x16, [0x1F] = 0x1E, [0x20] = 0x26, [0x21] = 0x25, /* 1 2 3 4 */
    [0x22] = 0x2E, [0x23] = 0x36, [0x24] = 0x3D, [0x25] = 0x3E, /* 5 6 7 8 */
    [0x26] = 0x46, [0x27] = 0x45,                               /* 9 0 */
    [0x28] = 0x5A, [0x29] = 0x76, [0x2A] = 0x66, [0x2B] = 0x0D, /* Enter Esc Backspace Tab */
    [0x2C] = 0x29, [0x2D] = 0x4E, [0x2E] = 0x55, [0x2F] = 0x54, /* Space - = [ */
    [0x30] = 0x5B, [0x31] = 0x5D, [0x32] = 0x5D, [0x33] = 0x4C, /* ] \ (non-US #) ; */
    [0x34] = 0x52, [0x35] = 0x0E, [0x36] = 0x41, [0x37] = 0x49, /* ' ` , . */
    [0x38] = 0x4A, [0x39] = 0x58,                               /* / CapsLock */
    [0x3A] = 0x05, [0x3B] = 0x06, [0x3C] = 0x04, [0x3D] = 0x0C, /* F1-F4 */
    [0x3E] = 0x03, [0x3F] = 0x0B, [0x40] = 0x83, [0x41] = 0x0A, /* F5-F8 */
    [0x42] = 0x01, [0x43] = 0x09, [0x44] = 0x78, [0x45] = 0x07, /* F9-F12 */
    [0x47] = 0x7E,                                              /* ScrollLock */
    [0x49] = E0 | 0x70, [0x4A] = E0 | 0x6C, [0x4B] = E0 | 0x7D, /* Insert Home PageUp */
    [0x4C] = E0 | 0x71, [0x4D] = E0 | 0x69, [0x4E] = E0 | 0x7A, /* Delete End PageDown */
    [0x4F] = E0 | 0x74, [0x50] = E0 | 0x6B, [0x51] = E0 | 0x72, /* Right Left Down */
    [0x52] = E0 | 0x75, [0x53] = 0x77,                          /* Up NumLock */
    [0x54] = E0 | 0x4A, [0x55] = 0x7C, [0x56] = 0x7B, [0x57] = 0x79, /* keypad / * - + */
    [0x58] = E0 | 0x5A, [0x59] = 0x69, [0x5A] = 0x72, [0x5B] = 0x7A, /* keypad Enter 1 2 3 */
    [0x5C] = 0x6B, [0x5D] = 0x73, [0x5E] = 0x74, [0x5F] = 0x6C,       /* keypad 4 5 6 7 */
    [0x60] = 0x75, [0x61] = 0x7D, [0x62] = 0x70, [0x63] = 0x71,       /* keypad 8 9 0 . */
    [0x64] = 0x61, [0x65] = E0 | 0x2F,                          /* non-US \ , Application */
    [0xE0] = 0x14, [0xE1] = 0x12, [0xE2] = 0x11, [0xE3] = E0 | 0x1F, /* LCtrl LShift LAlt LGUI */
    [0xE4] = E0 | 0x14, [0xE5] = 0x59, [0xE6] = E0 | 0x11, [0xE7] = E0 | 0x27, /* right ones */
};

#define HID_PRINTSCREEN 0x46
#define HID_PAUSE       0x48

unsigned ps2_set2_sequence(unsigned usage, bool down, uint8_t out[PS2_SEQ_MAX])
{
    static const uint8_t prtsc_make[] = {0xE0, 0x12, 0xE0, 0x7C};
    static const uint8_t prtsc_break[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
    static const uint8_t pause_make[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
    /* Print Screen sends a fake Shift with its own code; Pause sends
     * its make and break at once on press and nothing on release */
    if (usage == HID_PRINTSCREEN) {
        const uint8_t *s = down ? prtsc_make : prtsc_break;
        unsigned n = down ? sizeof(prtsc_make) : sizeof(prtsc_break);
        memcpy(out, s, n);
        return n;
    }
    if (usage == HID_PAUSE) {
        if (!down)
            return 0;
        memcpy(out, pause_make, sizeof(pause_make));
        return sizeof(pause_make);
    }
    if (usage >= 256 || !set2[usage])
        return 0;
    unsigned n = 0;
    if (set2[usage] & E0)
        out[n++] = 0xE0;
    if (!down)
        out[n++] = 0xF0; /* break: F0 before the make code */
    out[n++] = (uint8_t)set2[usage];
    return n;
}

bool ps2_ascii_key(char c, unsigned *usage, bool *shift)
{
    /* the US layout's unshifted and shifted characters on one key each */
    static const char plain[] = "1234567890-=[]\\;'`,./";
    static const char shifted[] = "!@#$%^&*()_+{}|:\"~<>?";
    static const uint8_t keys[] = {0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24,
                                   0x25, 0x26, 0x27, 0x2D, 0x2E, 0x2F, 0x30,
                                   0x31, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38};
    *shift = false;
    if (c >= 'a' && c <= 'z') {
        *usage = 0x04 + (unsigned)(c - 'a');
        return true;
    }
    if (c >= 'A' && c <= 'Z') {
        *usage = 0x04 + (unsigned)(c - 'A');
        *shift = true;
        return true;
    }
    switch (c) {
    case '\n': *usage = HID_KEY_ENTER; return true;
    case '\t': *usage = 0x2B; return true;
    case ' ': *usage = 0x2C; return true;
    case '\b': *usage = 0x2A; return true;
    default: break;
    }
    const char *p = c ? strchr(plain, c) : NULL;
    if (p) {
        *usage = keys[p - plain];
        return true;
    }
    p = c ? strchr(shifted, c) : NULL;
    if (p) {
        *usage = keys[p - shifted];
        *shift = true;
        return true;
    }
    return false;
}
