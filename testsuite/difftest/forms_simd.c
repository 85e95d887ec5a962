/* testsuite/difftest/forms_simd.c — the x87/MMX/SSE form table, in the
 * same shape as forms_int.c (struct dt_form in difftest.h).  Empty until
 * nest86's SIMD instructions exist; rows added here are picked up by
 * the generator and the runner with no other change.  Groups named here
 * get their own PASS/FAIL line. */
#include "testsuite/difftest/difftest.h"

const struct dt_form dt_forms_simd[] = {
    {NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL},
};
