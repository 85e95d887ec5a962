/* devices/snap.h — machine state sections for snapshots (docs/snapshots.md).
 *
 * Every part of the machine that has state (a device, the CPU, the
 * clock) registers one named, versioned section with SNAP_SECTION().
 * Its function runs both ways: saving, each snap_* call appends the
 * field to the section; loading, it reads the field back into place.
 * So a field is listed once, and save and load cannot drift apart.
 *
 * Only plain values are written, field by field, never a struct as a
 * whole: structs hold host pointers (callbacks, back-ends, the timer
 * list), which must survive a load as they are.  A value that would
 * index an array when the device runs next is checked on load
 * (snap_check, snap_index): a corrupt section is refused, not obeyed.
 * Timers are saved as their deadlines (snap_timer) and re-armed in the
 * saved list order once every section is in.
 */
#ifndef NEST86_DEVICES_SNAP_H
#define NEST86_DEVICES_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct timer;

struct snap_rearm {
    struct timer *t;
    uint64_t deadline;
    uint32_t pos;  /* place in the armed list when saved */
};

struct snap {
    bool loading;
    struct machine *m;
    uint8_t *buf;          /* saving: grows; loading: the section's payload */
    size_t len, cap, pos;
    bool failed;           /* first problem in 'error'; later calls do nothing */
    char error[160];
    /* loading: timers to arm once every section is in */
    struct snap_rearm *rearm;
    size_t nrearm, rearm_cap;
};

void snap_u8(struct snap *s, uint8_t *v);
void snap_u16(struct snap *s, uint16_t *v);
void snap_u32(struct snap *s, uint32_t *v);
void snap_u64(struct snap *s, uint64_t *v);
void snap_bool(struct snap *s, bool *v);
void snap_int(struct snap *s, int *v);  /* as 32 bits */
void snap_bytes(struct snap *s, void *p, size_t n);
/* Arrays of 16-, 32- and 64-bit values, each in the file's byte order. */
void snap_u16s(struct snap *s, uint16_t *v, size_t n);
void snap_u32s(struct snap *s, uint32_t *v, size_t n);
void snap_u64s(struct snap *s, uint64_t *v, size_t n);
/* A length-prefixed string into a buffer of 'cap' bytes (NUL-terminated). */
void snap_str(struct snap *s, char *buf, size_t cap);

/* Loading: refuse the section when 'ok' is false ("bad WHAT"). */
void snap_check(struct snap *s, bool ok, const char *what);
/* A saved index that must stay below 'limit'. */
#define snap_index(s, v, limit, what) snap_check((s), (uint64_t)(v) < (uint64_t)(limit), (what))
void snap_fail(struct snap *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A timer's armed state and deadline (the callback stays as it is). */
void snap_timer(struct snap *s, struct timer *t);

/* ---- the section registry ---- */
struct snap_section {
    const char *name;      /* at most SNAP_NAME_MAX - 1 characters */
    uint32_t version;      /* raise it when the fields change */
    void (*state)(struct snap *s, struct machine *m);
    struct snap_section *next;
};
#define SNAP_NAME_MAX 16

void snap_register(struct snap_section *sec);
/* every registered section, sorted by name */
size_t snap_sections(const struct snap_section **out, size_t max);
#define SNAP_MAX_SECTIONS 64

/* Registers FN (void FN(struct snap *, struct machine *)) as section NAME. */
#define SNAP_SECTION(ident, name_, version_, fn)                                               \
    static struct snap_section snap_section_##ident = {name_, version_, fn, NULL};             \
    __attribute__((constructor)) static void snap_register_##ident(void)                       \
    {                                                                                          \
        snap_register(&snap_section_##ident);                                                  \
    }

/* Runs one section's function over a payload (loading) or into s->buf
 * (saving); the caller sets s->loading, s->m, and for loading buf/len. */
void snap_run(struct snap *s, const struct snap_section *sec);
/* Loading: arms the timers the sections left for it, in saved order. */
void snap_rearm_timers(struct snap *s);
void snap_release(struct snap *s);

#endif
