/* vmx/caps.c — the VMX capability MSRs (SDM Vol. 3C Appendix A), all
 * derived from vmx/controls.def, vmx/vmcs_fields.def and the CPU model,
 * so they advertise exactly what nest86 implements. */
#include <stddef.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "mmu/ept.h"
#include "vmx/caps.h"
#include "vmx/vmx.h"

struct control_row {
    enum vmx_ctl_word word;
    const char *name;
    uint8_t bit;
    bool implemented;
};

static const struct control_row control_rows[] = {
#define VMX_CONTROL(word, name, bit, impl) {VMX_CTL_##word, #name, bit, impl},
#include "vmx/controls.def"
#undef VMX_CONTROL
};
#define NCONTROLS (sizeof(control_rows) / sizeof(control_rows[0]))

/* Reserved bits that must be 1 in the non-TRUE capability MSRs
 * ("default1" class, SDM A.2); none in the secondary controls. */
static const uint32_t default1[VMX_CTL_WORDS] = {
    [VMX_CTL_PIN] = 0x00000016,
    [VMX_CTL_PROC] = 0x0401e172,
    [VMX_CTL_PROC2] = 0,
    [VMX_CTL_EXIT] = 0x00036dff,
    [VMX_CTL_ENTRY] = 0x000011ff,
};

/* default1 bits that the TRUE MSRs let software clear because the
 * control they name is implemented (SDM A.2: CR3-load/-store exiting,
 * save/load debug controls) */
static uint32_t clearable(enum vmx_ctl_word w)
{
    uint32_t m = 0;
    for (size_t k = 0; k < NCONTROLS; k++)
        if (control_rows[k].word == w && control_rows[k].implemented)
            m |= 1u << control_rows[k].bit;
    return m & default1[w];
}

static struct vmx_ctl_caps derive(enum vmx_ctl_word w, int true_view)
{
    struct vmx_ctl_caps caps = {default1[w], default1[w]};
    for (size_t k = 0; k < NCONTROLS; k++)
        if (control_rows[k].word == w && control_rows[k].implemented)
            caps.may1 |= 1u << control_rows[k].bit;
    if (true_view)
        caps.must1 &= ~clearable(w);
    return caps;
}

/* every VM entry checks its controls against these: derived once */
struct vmx_ctl_caps vmx_ctl_caps(enum vmx_ctl_word w, int true_view)
{
    static struct vmx_ctl_caps cache[VMX_CTL_WORDS][2];
    static bool ready;
    if (!ready) {
        for (int k = 0; k < VMX_CTL_WORDS; k++)
            for (int t = 0; t < 2; t++)
                cache[k][t] = derive(k, t);
        ready = true;
    }
    return cache[w][!!true_view];
}

const char *vmx_control_name(enum vmx_ctl_word w, unsigned bit)
{
    for (size_t k = 0; k < NCONTROLS; k++)
        if (control_rows[k].word == w && control_rows[k].bit == bit)
            return control_rows[k].name;
    return NULL;
}

uint64_t vmx_cr0_fixed0(void)
{
    return CR0_PE | CR0_NE | CR0_PG;
}

uint64_t vmx_cr0_fixed1(void)
{
    return 0xffffffffull;
}

uint64_t vmx_cr4_fixed0(void)
{
    return CR4_VMXE;
}

uint64_t vmx_cr4_fixed1(const struct cpu *c)
{
    return cpu_cr4_allowed(c) | CR4_VMXE;
}

static uint64_t ctl_msr(enum vmx_ctl_word w, int true_view)
{
    struct vmx_ctl_caps caps = vmx_ctl_caps(w, true_view);
    return caps.must1 | ((uint64_t)caps.may1 << 32);
}

/* A.10: IA32_VMX_EPT_VPID_CAP, from what the EPT walk (mmu/ept.h) and
 * INVEPT (vmx/ept.c, which takes the types it accepts from here)
 * implement, and INVVPID (vmx/vpid.c) with all four types.  Not
 * offered: supervisor shadow-stack control (bit 23), so exit
 * qualification bits 13-14 stay 0.  Mode-based execute control is a
 * secondary control (controls.def), not a bit here. */
uint64_t vmx_ept_vpid_cap(void)
{
    uint64_t v = (1ull << 6)    /* page-walk length 4 */
                 | (1ull << 8)  /* uncacheable EPT paging structures */
                 | (1ull << 14) /* write-back EPT paging structures */
                 | (1ull << 20) /* INVEPT */
                 | (1ull << 25) /* single-context INVEPT */
                 | (1ull << 26) /* all-context INVEPT */
                 | (1ull << 32) /* INVVPID */
                 | (1ull << 40) /* individual-address INVVPID */
                 | (1ull << 41) /* single-context INVVPID */
                 | (1ull << 42) /* all-context INVVPID */
                 | (1ull << 43); /* single-context-retaining-globals INVVPID */
    if (EPT_HAS_EXEC_ONLY)
        v |= 1ull << 0;
    if (EPT_HAS_2M)
        v |= 1ull << 16;
    if (EPT_HAS_1G)
        v |= 1ull << 17;
    if (EPT_HAS_AD)
        v |= 1ull << 21;
    if (EPT_HAS_5LEVEL)
        v |= 1ull << 7;
    if (EPT_HAS_ADV_INFO)
        v |= 1ull << 22; /* advanced VM-exit information for EPT violations */
    return v;
}

bool vmx_msr_read(const struct cpu *c, uint32_t index, uint64_t *v)
{
    if (!CPU_HAS(c, vmx))
        return false;
    switch (index) {
    case MSR_IA32_VMX_BASIC:
        /* A.1: revision id, 4 KiB region, write-back VMCS memory type (6),
         * INS/OUTS exits report instruction information (bit 54, vmx/nonroot.c),
         * TRUE controls (bit 55) */
        *v = VMX_REVISION_ID | ((uint64_t)VMCS_REGION_SIZE << 32) | (6ull << 50) | (1ull << 54) |
             (1ull << 55);
        return true;
    case MSR_IA32_VMX_PINBASED_CTLS: *v = ctl_msr(VMX_CTL_PIN, 0); return true;
    case MSR_IA32_VMX_PROCBASED_CTLS: *v = ctl_msr(VMX_CTL_PROC, 0); return true;
    case MSR_IA32_VMX_EXIT_CTLS: *v = ctl_msr(VMX_CTL_EXIT, 0); return true;
    case MSR_IA32_VMX_ENTRY_CTLS: *v = ctl_msr(VMX_CTL_ENTRY, 0); return true;
    case MSR_IA32_VMX_TRUE_PINBASED_CTLS: *v = ctl_msr(VMX_CTL_PIN, 1); return true;
    case MSR_IA32_VMX_TRUE_PROCBASED_CTLS: *v = ctl_msr(VMX_CTL_PROC, 1); return true;
    case MSR_IA32_VMX_TRUE_EXIT_CTLS: *v = ctl_msr(VMX_CTL_EXIT, 1); return true;
    case MSR_IA32_VMX_TRUE_ENTRY_CTLS: *v = ctl_msr(VMX_CTL_ENTRY, 1); return true;
    case MSR_IA32_VMX_MISC:
        /* A.6: bit 5 — VM exits store EFER.LMA in the "IA-32e mode
         * guest" entry control; bits 4:0 — the preemption timer's rate;
         * bits 8:6 — the activity states VM entry
         * accepts besides active (HLT, shutdown, wait-for-SIPI); bits 24:16 — four CR3-target
         * values; bits 27:25 = 0 — up to 512 MSRs per list; bit 29 —
         * VMWRITE may write the VM-exit information fields */
        *v = VMX_TIMER_RATE | (1u << 5) | VMX_MISC_ACTIVITY_STATES | (4u << 16) | (1u << 29);
        return true;
    case MSR_IA32_VMX_CR0_FIXED0: *v = vmx_cr0_fixed0(); return true;
    case MSR_IA32_VMX_CR0_FIXED1: *v = vmx_cr0_fixed1(); return true;
    case MSR_IA32_VMX_CR4_FIXED0: *v = vmx_cr4_fixed0(); return true;
    case MSR_IA32_VMX_CR4_FIXED1: *v = vmx_cr4_fixed1(c); return true;
    case MSR_IA32_VMX_VMCS_ENUM: *v = (uint64_t)vmcs_max_index() << 1; return true;
    case MSR_IA32_VMX_PROCBASED_CTLS2:
        /* exists only when the secondary controls may be activated (A.3.3) */
        if (!(vmx_ctl_caps(VMX_CTL_PROC, 0).may1 & PROC_SECONDARY_CONTROLS))
            return false;
        *v = ctl_msr(VMX_CTL_PROC2, 0);
        return true;
    case MSR_IA32_VMX_EPT_VPID_CAP:
        /* exists when the secondary controls may enable EPT or VPID (A.10) */
        if (!(vmx_ctl_caps(VMX_CTL_PROC, 0).may1 & PROC_SECONDARY_CONTROLS) ||
            !(vmx_ctl_caps(VMX_CTL_PROC2, 0).may1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)))
            return false;
        *v = vmx_ept_vpid_cap();
        return true;
    case MSR_IA32_VMX_VMFUNC:
        /* exists when "enable VM functions" may be 1 (A.11) */
        if (!(vmx_ctl_caps(VMX_CTL_PROC, 0).may1 & PROC_SECONDARY_CONTROLS) ||
            !(vmx_ctl_caps(VMX_CTL_PROC2, 0).may1 & PROC2_ENABLE_VMFUNC))
            return false;
        *v = vmx_vmfunc_caps();
        return true;
    default:
        return false;
    }
}

bool vmx_cr_allowed(const struct cpu *c, int cr, uint64_t value)
{
    if (cr == 0)
        return (value & vmx_cr0_fixed0()) == vmx_cr0_fixed0() &&
               !(value & ~vmx_cr0_fixed1());
    return (value & vmx_cr4_fixed0()) == vmx_cr4_fixed0() && !(value & ~vmx_cr4_fixed1(c));
}

bool vmx_guest_cr0_allowed(const struct cpu *c, uint64_t value, bool unrestricted)
{
    uint64_t fixed0 = vmx_cr0_fixed0();
    if (unrestricted)
        fixed0 &= ~(uint64_t)(CR0_PE | CR0_PG);
    (void)c;
    return (value & fixed0) == fixed0 && !(value & ~vmx_cr0_fixed1());
}

bool vmx_unrestricted_guest(const struct cpu *c)
{
    return VMX_PROC2_CONTROLS(c) & PROC2_UNRESTRICTED_GUEST;
}
