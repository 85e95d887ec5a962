/* testsuite/unit/unit.h — the smallest helper that speaks the runner's
 * protocol (testsuite/run): each sub-test prints "PASS name" or
 * "FAIL name: why" on stdout, and the program exits 1 if any failed.
 *
 *     #include "testsuite/unit/unit.h"
 *
 *     static void size_suffix(void)
 *     {
 *         UNIT_CHECK(parse("2G") == 2ull << 30);
 *     }
 *
 *     int main(void)
 *     {
 *         UNIT_RUN(size_suffix);
 *         return unit_done();
 *     }
 *
 * A sub-test is a void function; UNIT_CHECK records the first failing
 * condition (with its line) and returns from it, so later checks that
 * depend on the failed one do not run.  A sweep over independent items
 * reports each failing item with unit_fail_item() instead.
 */
#ifndef NEST86_TESTSUITE_UNIT_H
#define NEST86_TESTSUITE_UNIT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int unit_failures;
static char unit_why[256];   /* empty while the current sub-test passes */

#define UNIT_CHECK(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            snprintf(unit_why, sizeof unit_why, "line %d: %s", __LINE__, #cond); \
            return;                                                          \
        }                                                                    \
    } while (0)

/* UNIT_CHECK with a printf-style explanation instead of the condition. */
#define UNIT_CHECKF(cond, ...)                                               \
    do {                                                                     \
        if (!(cond)) {                                                       \
            int n_ = snprintf(unit_why, sizeof unit_why, "line %d: ", __LINE__); \
            snprintf(unit_why + n_, sizeof unit_why - (size_t)n_, __VA_ARGS__); \
            return;                                                          \
        }                                                                    \
    } while (0)

static inline void unit_run(const char *name, void (*fn)(void))
{
    unit_why[0] = '\0';
    fn();
    if (unit_why[0]) {
        unit_failures++;
        printf("FAIL %s: %s\n", name, unit_why);
    } else {
        printf("PASS %s\n", name);
    }
    /* A later crash must not swallow the lines already earned. */
    fflush(stdout);
}

/* The sub-test's name is its function's name with '_' shown as '-'. */
#define UNIT_RUN(fn)                                                         \
    do {                                                                     \
        char name_[] = #fn;                                                  \
        for (char *p_ = name_; *p_; p_++)                                    \
            if (*p_ == '_')                                                  \
                *p_ = '-';                                                   \
        unit_run(name_, fn);                                                 \
    } while (0)

/* For a sub-test that sweeps many items (instruction forms, cases) and
 * must not let one failure hide the next: reports one item as a failing
 * sub-test of its own ("FAIL sweep/item: why"), counted by unit_done().
 * The sweep goes on and ends with its own line. */
static inline void unit_fail_item(const char *sweep, const char *item, const char *why)
{
    unit_failures++;
    printf("FAIL %s/%s: %s\n", sweep, item, why);
    fflush(stdout);
}

static inline void unit_skip(const char *name, const char *why)
{
    printf("SKIP %s: %s\n", name, why);
    fflush(stdout);
}

/* A reproducible xorshift64 stream for fuzz targets and random states:
 * each caller keeps its own state, seeded with any non-zero value. */
static inline uint64_t unit_xorshift(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static inline int unit_done(void)
{
    return unit_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
