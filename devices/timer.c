/* devices/timer.c — one-shot timers on the virtual clock.
 *
 * Armed timers form one list sorted by deadline (ties keep arming
 * order), so the run loop learns the next deadline in O(1) and HLT can
 * skip straight to it.
 */
#include "devices/machine.h"

void timer_init(struct timer *t, void (*cb)(void *), void *opaque)
{
    t->deadline = 0;
    t->armed = false;
    t->cb = cb;
    t->opaque = opaque;
    t->next = NULL;
}

void timer_del(struct machine *m, struct timer *t)
{
    if (!t->armed)
        return;
    for (struct timer **pp = &m->timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->armed = false;
    t->next = NULL;
}

void timer_mod(struct machine *m, struct timer *t, uint64_t deadline_ns)
{
    timer_del(m, t);
    struct timer **pp = &m->timers;
    while (*pp && (*pp)->deadline <= deadline_ns)
        pp = &(*pp)->next;
    t->deadline = deadline_ns;
    t->armed = true;
    t->next = *pp;
    *pp = t;
}

uint64_t machine_run_timers(struct machine *m)
{
    uint64_t now = machine_clock_ns(m);
    while (m->timers && m->timers->deadline <= now) {
        struct timer *t = m->timers;
        m->timers = t->next;
        t->next = NULL;
        t->armed = false;
        /* The callback may re-arm this or any other timer. */
        t->cb(t->opaque);
    }
    return m->timers ? m->timers->deadline : UINT64_MAX;
}
