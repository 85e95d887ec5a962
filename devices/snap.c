/* devices/snap.c — the field stream and section registry behind
 * SNAP_SECTION (devices/snap.h).  Values are stored little-endian, the
 * host's order: nest86 runs on x86-64 hosts only (README). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/machine.h"
#include "devices/snap.h"

static struct snap_section *registry;

void snap_register(struct snap_section *sec)
{
    sec->next = registry;
    registry = sec;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const struct snap_section *const *)a)->name,
                  (*(const struct snap_section *const *)b)->name);
}

size_t snap_sections(const struct snap_section **out, size_t max)
{
    size_t n = 0;
    for (struct snap_section *s = registry; s && n < max; s = s->next)
        out[n++] = s;
    /* constructors run in link order; the file's order must not depend on it */
    qsort(out, n, sizeof(*out), by_name);
    return n;
}

void snap_fail(struct snap *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
}

void snap_check(struct snap *s, bool ok, const char *what)
{
    if (s->loading && !ok)
        snap_fail(s, "bad %s", what);
}

void snap_bytes(struct snap *s, void *p, size_t n)
{
    if (s->failed) {
        if (s->loading)
            memset(p, 0, n);
        return;
    }
    if (s->loading) {
        if (n > s->len - s->pos) {
            snap_fail(s, "section ends early");
            memset(p, 0, n);
            return;
        }
        memcpy(p, s->buf + s->pos, n);
        s->pos += n;
        return;
    }
    if (n > s->cap - s->len) {
        size_t cap = s->cap ? s->cap : 4096;
        while (n > cap - s->len)
            cap *= 2;
        uint8_t *b = realloc(s->buf, cap);
        if (!b) {
            snap_fail(s, "out of memory");
            return;
        }
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

void snap_u8(struct snap *s, uint8_t *v) { snap_bytes(s, v, 1); }
void snap_u16(struct snap *s, uint16_t *v) { snap_bytes(s, v, 2); }
void snap_u32(struct snap *s, uint32_t *v) { snap_bytes(s, v, 4); }
void snap_u64(struct snap *s, uint64_t *v) { snap_bytes(s, v, 8); }
void snap_u16s(struct snap *s, uint16_t *v, size_t n) { snap_bytes(s, v, 2 * n); }
void snap_u32s(struct snap *s, uint32_t *v, size_t n) { snap_bytes(s, v, 4 * n); }
void snap_u64s(struct snap *s, uint64_t *v, size_t n) { snap_bytes(s, v, 8 * n); }

void snap_bool(struct snap *s, bool *v)
{
    uint8_t b = *v;
    snap_u8(s, &b);
    /* a bool holding anything but 0 or 1 is undefined behaviour in C */
    snap_check(s, b <= 1, "boolean");
    if (s->loading)
        *v = b == 1;
}

void snap_int(struct snap *s, int *v)
{
    uint32_t u = (uint32_t)*v;
    snap_u32(s, &u);
    if (s->loading)
        *v = (int)u;
}

void snap_str(struct snap *s, char *buf, size_t cap)
{
    uint32_t n = (uint32_t)strnlen(buf, cap - 1);
    snap_u32(s, &n);
    snap_check(s, n < cap, "string length");
    if (s->failed) {
        if (s->loading)
            buf[0] = 0;
        return;
    }
    snap_bytes(s, buf, n);
    if (s->loading)
        buf[s->failed ? 0 : n] = 0;
}

void snap_timer(struct snap *s, struct timer *t)
{
    bool armed = t->armed;
    uint64_t deadline = t->deadline;
    uint32_t pos = 0;
    if (!s->loading && armed)
        for (struct timer *u = s->m->timers; u && u != t; u = u->next)
            pos++;
    snap_bool(s, &armed);
    snap_u64(s, &deadline);
    snap_u32(s, &pos);
    if (!s->loading || s->failed)
        return;
    timer_del(s->m, t);
    if (!armed)
        return;
    if (s->nrearm == s->rearm_cap) {
        size_t cap = s->rearm_cap ? 2 * s->rearm_cap : 16;
        struct snap_rearm *r = realloc(s->rearm, cap * sizeof(*r));
        if (!r) {
            snap_fail(s, "out of memory");
            return;
        }
        s->rearm = r;
        s->rearm_cap = cap;
    }
    s->rearm[s->nrearm++] = (struct snap_rearm){t, deadline, pos};
}

void snap_run(struct snap *s, const struct snap_section *sec)
{
    s->pos = 0;
    sec->state(s, s->m);
    if (s->loading && !s->failed && s->pos != s->len)
        snap_fail(s, "section is %zu bytes longer than its fields", s->len - s->pos);
}

static int by_pos(const void *a, const void *b)
{
    const struct snap_rearm *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void snap_rearm_timers(struct snap *s)
{
    /* timer_mod puts a timer after those with the same deadline, so
     * arming in the saved list order rebuilds the same list: timers due
     * at the same nanosecond fire in the order they did */
    qsort(s->rearm, s->nrearm, sizeof(*s->rearm), by_pos);
    for (size_t k = 0; k < s->nrearm; k++)
        timer_mod(s->m, s->rearm[k].t, s->rearm[k].deadline);
    s->nrearm = 0;
}

void snap_release(struct snap *s)
{
    free(s->rearm);
    s->rearm = NULL;
    s->nrearm = s->rearm_cap = 0;
    if (!s->loading)
        free(s->buf);
    s->buf = NULL;
}
