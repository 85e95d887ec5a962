/* frontend/keyboard.c — the paced key queue (see frontend/keyboard.h). */
#include "frontend/keyboard.h"

#include <stdint.h>
#include <stdlib.h>

#include "devices/i8042.h"
#include "devices/machine.h"
#include "devices/ps2keys.h"

#define KEYQ 4096

struct keyboard {
    struct machine *m;
    struct { uint8_t usage; bool down; } q[KEYQ];
    unsigned head, count;
};

struct keyboard *keyboard_create(struct machine *m)
{
    struct keyboard *k = calloc(1, sizeof(*k));
    if (k)
        k->m = m;
    return k;
}

void keyboard_destroy(struct keyboard *k)
{
    free(k);
}

void keyboard_key(struct keyboard *k, unsigned usage, bool down)
{
    if (!k || k->count == KEYQ || usage > 0xFF)
        return;
    unsigned i = (k->head + k->count++) % KEYQ;
    k->q[i].usage = (uint8_t)usage;
    k->q[i].down = down;
}

void keyboard_poll(struct keyboard *k)
{
    struct i8042 *c = k->m->i8042;
    if (!k->count || !c || c->kbd_q.count || c->obf)
        return;
    uint8_t seq[PS2_SEQ_MAX];
    unsigned n = ps2_set2_sequence(k->q[k->head].usage, k->q[k->head].down, seq);
    k->head = (k->head + 1) % KEYQ;
    k->count--;
    for (unsigned i = 0; i < n; i++)
        i8042_kbd_put(c, seq[i]);
}

unsigned keyboard_type_text(const char *text, void (*key)(void *opaque, unsigned usage, bool down),
                            void *opaque)
{
    unsigned skipped = 0;
    for (; *text; text++) {
        unsigned usage;
        bool shift;
        if (!ps2_ascii_key(*text, &usage, &shift)) {
            skipped++;
            continue;
        }
        if (shift)
            key(opaque, HID_KEY_LSHIFT, true);
        key(opaque, usage, true);
        key(opaque, usage, false);
        if (shift)
            key(opaque, HID_KEY_LSHIFT, false);
    }
    return skipped;
}
