/* debugger/msr_names.c — MSR names for `info msr` and completion,
 * generated from cpu/msr.def (the one list of implemented MSRs). */
#include <string.h>
#include <strings.h>

#include "debugger/dbg.h"

static const struct {
    const char *name;
    uint32_t index;
} msr_table[] = {
#define MSR(name, index, where, gate) {#name, index},
#include "cpu/msr.def"
#undef MSR
};

#define NMSRS (sizeof(msr_table) / sizeof(msr_table[0]))

bool msr_by_name(const char *name, uint32_t *index)
{
    for (size_t k = 0; k < NMSRS; k++) {
        const char *n = msr_table[k].name;
        /* IA32_EFER, or just EFER */
        if (!strcasecmp(n, name) || (!strncmp(n, "IA32_", 5) && !strcasecmp(n + 5, name))) {
            *index = msr_table[k].index;
            return true;
        }
    }
    return false;
}

const char *msr_name(uint32_t index)
{
    for (size_t k = 0; k < NMSRS; k++)
        if (msr_table[k].index == index)
            return msr_table[k].name;
    return NULL;
}

const char *msr_name_at(size_t k)
{
    return k < NMSRS ? msr_table[k].name : NULL;
}
