/* devices/ps2keys.h — what a PS/2 keyboard sends for a key: the scan
 * code set 2 make and break sequences of the US 101/102-key layout,
 * keyed by the key's USB HID usage (keyboard page 0x07, which is also
 * SDL's scancode numbering), and the keys that type each printable
 * ASCII character on that layout. */
#ifndef NEST86_DEVICES_PS2KEYS_H
#define NEST86_DEVICES_PS2KEYS_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_SEQ_MAX 8

/* HID usages used by callers */
#define HID_KEY_ENTER  0x28
#define HID_KEY_LSHIFT 0xE1

/* The set-2 bytes for pressing (down) or releasing the key with HID
 * usage 'usage' into out; returns their number, 0 for a key the
 * keyboard does not have. */
unsigned ps2_set2_sequence(unsigned usage, bool down, uint8_t out[PS2_SEQ_MAX]);

/* The key typing ASCII character c on a US layout, and whether Shift
 * is held for it; false for a character no key types. */
bool ps2_ascii_key(char c, unsigned *usage, bool *shift);

#endif
