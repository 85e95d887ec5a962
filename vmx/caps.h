/* vmx/caps.h — the VMX controls (vmx/controls.def) as bit masks, and
 * what nest86 allows in each control word (derived from that table). */
#ifndef NEST86_VMX_CAPS_H
#define NEST86_VMX_CAPS_H

#include <stdint.h>

enum vmx_ctl_word { VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY,
                    VMX_CTL_WORDS };

#define VMX_CONTROL(word, name, bit, impl) enum { word##_##name = 1u << (bit) };
#include "vmx/controls.def"
#undef VMX_CONTROL

/* Guest activity states (SDM 24.4.2) and which of them VM entry
 * accepts: IA32_VMX_MISC bits 8:6 advertise HLT, shutdown, wait-for-SIPI
 * (Appendix A.6); nest86 offers all three (vmx/events.c). */
enum { VMX_ACTIVITY_ACTIVE = 0, VMX_ACTIVITY_HLT = 1, VMX_ACTIVITY_SHUTDOWN = 2,
       VMX_ACTIVITY_WAIT_SIPI = 3 };
#define VMX_MISC_ACTIVITY_STATES (7u << 6)
static inline int vmx_activity_supported(uint64_t state)
{
    return state == VMX_ACTIVITY_ACTIVE ||
           (state <= VMX_ACTIVITY_WAIT_SIPI && ((VMX_MISC_ACTIVITY_STATES >> (5 + state)) & 1));
}

/* A control word's settings in capability-MSR terms (SDM Appendix A.3-A.5):
 * 'must1' bits have to be 1, bits outside 'may1' have to be 0.  'true'
 * selects the IA32_VMX_TRUE_* view, in which some default1 bits may be 0. */
struct vmx_ctl_caps {
    uint32_t must1, may1;
};
struct vmx_ctl_caps vmx_ctl_caps(enum vmx_ctl_word w, int true_view);
/* the name of control 'bit' of word w, or NULL */
const char *vmx_control_name(enum vmx_ctl_word w, unsigned bit);
/* IA32_VMX_EPT_VPID_CAP (SDM A.10) */
uint64_t vmx_ept_vpid_cap(void);
/* IA32_VMX_VMFUNC (SDM A.11): the VM functions offered (vmx/vmfunc.c) */
uint64_t vmx_vmfunc_caps(void);

#endif
