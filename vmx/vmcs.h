/* vmx/vmcs.h — the VMCS field table (vmx/vmcs_fields.def) as C: field
 * ids, what an encoding says about a field, and the cached VMCS.
 *
 * A field has an encoding (the number software passes to VMREAD and
 * VMWRITE, SDM Vol. 3C 24.11.2) and a dense id (its row in the table),
 * which indexes the cached VMCS.  Width, type and index are bit fields
 * of the encoding, so they are computed, not tabulated. */
#ifndef NEST86_VMX_VMCS_H
#define NEST86_VMX_VMCS_H

#include <stdbool.h>
#include <stdint.h>

enum vmcs_field_id {
#define VMCS_FIELD(name, enc, impl) VF_##name,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
    VMCS_NFIELDS
};

enum vmcs_encoding {
#define VMCS_FIELD(name, enc, impl) VMCS_##name = enc,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* SDM 24.11.2 Table 24-21: encoding bits 14:13 */
enum vmcs_width { VMCS_W16 = 0, VMCS_W64 = 1, VMCS_W32 = 2, VMCS_WNATURAL = 3 };
/* encoding bits 11:10 */
enum vmcs_type { VMCS_T_CONTROL = 0, VMCS_T_EXIT_INFO = 1, VMCS_T_GUEST = 2, VMCS_T_HOST = 3 };

static inline enum vmcs_width vmcs_enc_width(uint32_t enc) { return (enc >> 13) & 3; }
static inline enum vmcs_type vmcs_enc_type(uint32_t enc) { return (enc >> 10) & 3; }
static inline unsigned vmcs_enc_index(uint32_t enc) { return (enc >> 1) & 0x1ff; }
static inline bool vmcs_enc_high(uint32_t enc) { return enc & 1; }

/* The id of the field an encoding names (a "high" encoding of a 64-bit
 * field names that field), or -1 when nest86 has no such component:
 * reserved bits set, unknown, or a row marked not implemented. */
int vmcs_field_lookup(uint64_t enc);
uint32_t vmcs_field_encoding(enum vmcs_field_id id);
const char *vmcs_field_name(enum vmcs_field_id id);  /* e.g. "GUEST_RIP" */
/* by name, case-insensitive, with or without a "VMCS_" prefix; -1 if none */
int vmcs_field_by_name(const char *name);
bool vmcs_field_implemented(enum vmcs_field_id id);
/* The highest index (encoding bits 9:1) of any implemented field: what
 * IA32_VMX_VMCS_ENUM bits 9:1 report (SDM Appendix A.9). */
unsigned vmcs_max_index(void);

/* The VMCS while it is current: one value per field, already cut to the
 * field's width, and the launch state (SDM 24.11.3). */
struct vmcs {
    uint64_t f[VMCS_NFIELDS];
    bool launched;
};

/* Value masks for a field's width (natural width is 64 bits: nest86
 * supports Intel 64). */
uint64_t vmcs_width_mask(enum vmcs_width w);
#define VMCS_MASK_OF_ENC(enc) \
    (((enc) >> 13 & 3) == VMCS_W16 ? 0xffffull : ((enc) >> 13 & 3) == VMCS_W32 ? 0xffffffffull : ~0ull)
/* the same, per field id (VM exits store dozens of fields) */
extern const uint64_t vmcs_field_mask[VMCS_NFIELDS];

/* The VMCS region in guest memory, nest86's own format (SDM 24.2 leaves
 * the layout to the implementation): revision id and VMX-abort
 * indicator where the SDM puts them, then a launch-state word, then one
 * 8-byte slot per field id. */
#define VMCS_REGION_SIZE    4096u
#define VMCS_OFF_REVISION   0u
#define VMCS_OFF_ABORT      4u
#define VMCS_OFF_LAUNCH     8u
#define VMCS_OFF_FIELDS     16u

#endif
