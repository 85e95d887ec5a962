/* vmx/vmcs.c — lookups over the VMCS field table (vmx/vmcs_fields.def). */
#include <stddef.h>
#include <strings.h>

#include "vmx/vmcs.h"

struct vmcs_row {
    const char *name;
    uint32_t enc;
    bool implemented;
};

static const struct vmcs_row rows[VMCS_NFIELDS] = {
#define VMCS_FIELD(name, enc, impl) {#name, enc, impl},
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

const uint64_t vmcs_field_mask[VMCS_NFIELDS] = {
#define VMCS_FIELD(name, enc, impl) VMCS_MASK_OF_ENC(enc),
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* The table is fixed at build time; a switch over its encodings lets the
 * compiler build the search (VMREAD/VMWRITE run it on every access). */
static int lookup_exact(uint32_t enc)
{
    switch (enc) {
#define VMCS_FIELD(name, e, impl) case e: return impl ? VF_##name : -1;
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
    default: return -1;
    }
}

int vmcs_field_lookup(uint64_t enc)
{
    /* SDM 24.11.2: bits 31:15 and 12 are reserved; a value with bits
     * 63:32 set names no component either (VMREAD in 64-bit mode) */
    if (enc >> 15 || (enc & (1u << 12)))
        return -1;
    if (vmcs_enc_high((uint32_t)enc)) {
        /* only 64-bit fields have a high half */
        if (vmcs_enc_width((uint32_t)enc) != VMCS_W64)
            return -1;
        return lookup_exact((uint32_t)enc & ~1u);
    }
    return lookup_exact((uint32_t)enc);
}

uint32_t vmcs_field_encoding(enum vmcs_field_id id)
{
    return rows[id].enc;
}

const char *vmcs_field_name(enum vmcs_field_id id)
{
    return rows[id].name;
}

bool vmcs_field_implemented(enum vmcs_field_id id)
{
    return rows[id].implemented;
}

int vmcs_field_by_name(const char *name)
{
    if (!strncasecmp(name, "VMCS_", 5))
        name += 5;
    for (int k = 0; k < VMCS_NFIELDS; k++)
        if (!strcasecmp(rows[k].name, name))
            return k;
    return -1;
}

unsigned vmcs_max_index(void)
{
    unsigned best = 0;
    for (int k = 0; k < VMCS_NFIELDS; k++)
        if (rows[k].implemented && vmcs_enc_index(rows[k].enc) > best)
            best = vmcs_enc_index(rows[k].enc);
    return best;
}

uint64_t vmcs_width_mask(enum vmcs_width w)
{
    switch (w) {
    case VMCS_W16: return 0xffff;
    case VMCS_W32: return 0xffffffffu;
    default: return ~0ull;
    }
}
