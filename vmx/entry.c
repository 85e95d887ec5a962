/* vmx/entry.c — VMLAUNCH and VMRESUME: the VM-entry checks in the SDM's
 * order (Vol. 3C 26.1-26.3), then loading the guest state (26.3.2).
 *
 * Every check is one FAIL_IF(condition, "what is wrong (SDM section)"):
 * the text is kept as vmx.entry_failure and logged under -d vmx, so a
 * hypervisor developer learns which check failed, not only the error
 * number hardware gives. */
#include <stdio.h>

#include "cpu/cpuid.h"
#include "cpu/mem.h"
#include "vmx/vmx_internal.h"

#define FAIL_IF(cond, why)                                                                     \
    do {                                                                                       \
        if (cond) {                                                                            \
            c->vmx.entry_failure = (why);                                                      \
            return false;                                                                      \
        }                                                                                      \
    } while (0)

const uint8_t vmx_guest_sel[8] = {VF_GUEST_ES_SELECTOR, VF_GUEST_CS_SELECTOR,
                                  VF_GUEST_SS_SELECTOR, VF_GUEST_DS_SELECTOR,
                                  VF_GUEST_FS_SELECTOR, VF_GUEST_GS_SELECTOR,
                                  VF_GUEST_LDTR_SELECTOR, VF_GUEST_TR_SELECTOR};
const uint8_t vmx_guest_base[8] = {VF_GUEST_ES_BASE, VF_GUEST_CS_BASE, VF_GUEST_SS_BASE,
                                   VF_GUEST_DS_BASE, VF_GUEST_FS_BASE, VF_GUEST_GS_BASE,
                                   VF_GUEST_LDTR_BASE, VF_GUEST_TR_BASE};
const uint8_t vmx_guest_limit[8] = {VF_GUEST_ES_LIMIT, VF_GUEST_CS_LIMIT, VF_GUEST_SS_LIMIT,
                                    VF_GUEST_DS_LIMIT, VF_GUEST_FS_LIMIT, VF_GUEST_GS_LIMIT,
                                    VF_GUEST_LDTR_LIMIT, VF_GUEST_TR_LIMIT};
const uint8_t vmx_guest_ar[8] = {VF_GUEST_ES_AR, VF_GUEST_CS_AR, VF_GUEST_SS_AR,
                                 VF_GUEST_DS_AR, VF_GUEST_FS_AR, VF_GUEST_GS_AR,
                                 VF_GUEST_LDTR_AR, VF_GUEST_TR_AR};

static bool phys_ok(uint64_t pa)
{
    return !(pa >> MMU_MAXPHYADDR);
}

/* a 4-KiB aligned physical address within the physical-address width */
static bool page_ok(uint64_t pa)
{
    return !(pa & 0xfff) && phys_ok(pa);
}

static bool pat_ok(uint64_t pat)
{
    for (int k = 0; k < 8; k++) {
        unsigned t = (pat >> (8 * k)) & 0xff;
        if (t == 2 || t == 3 || t > 7)
            return false;
    }
    return true;
}

static bool ctl_ok(enum vmx_ctl_word w, uint32_t v)
{
    struct vmx_ctl_caps caps = vmx_ctl_caps(w, 1);
    return (v & caps.must1) == caps.must1 && !(v & ~caps.may1);
}

/* ---- 26.2.1 checks on VMX controls ---- */

/* 26.2.1.1: the controls of APIC virtualization (SDM chapter 29) */
static bool check_apicv_controls(struct cpu *c, uint32_t pin, uint32_t proc, uint32_t proc2)
{
    uint64_t threshold = vmcs_get(c, VF_TPR_THRESHOLD);
    if (proc & PROC_USE_TPR_SHADOW) {
        uint64_t vapic = vmcs_get(c, VF_VIRTUAL_APIC_PAGE_ADDR);
        FAIL_IF(!page_ok(vapic),
                "virtual-APIC address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
        if (!(proc2 & PROC2_VIRTUAL_INTR_DELIVERY)) {
            FAIL_IF(threshold >> 4,
                    "TPR threshold bits 31:4 set without \"virtual-interrupt delivery\" (SDM 26.2.1.1)");
            unsigned vtpr = (unsigned)phys_read(c->mmu.phys, vapic + 0x80, 1);
            FAIL_IF(!(proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES) && (threshold & 0xf) > (vtpr >> 4),
                    "TPR threshold above VTPR bits 7:4 (SDM 26.2.1.1)");
        }
    } else {
        FAIL_IF(proc2 & (PROC2_VIRTUALIZE_X2APIC | PROC2_APIC_REGISTER_VIRT |
                         PROC2_VIRTUAL_INTR_DELIVERY),
                "x2APIC virtualization, APIC-register virtualization or virtual-interrupt delivery without \"use TPR shadow\" (SDM 26.2.1.1)");
    }
    FAIL_IF((proc2 & PROC2_VIRTUALIZE_X2APIC) && (proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES),
            "\"virtualize x2APIC mode\" with \"virtualize APIC accesses\" (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_VIRTUAL_INTR_DELIVERY) && !(pin & PIN_EXT_INTR_EXITING),
            "\"virtual-interrupt delivery\" without \"external-interrupt exiting\" (SDM 26.2.1.1)");
    if (pin & PIN_POSTED_INTERRUPTS) {
        FAIL_IF(!(proc2 & PROC2_VIRTUAL_INTR_DELIVERY),
                "\"process posted interrupts\" without \"virtual-interrupt delivery\" (SDM 26.2.1.1)");
        FAIL_IF(!(vmcs_get(c, VF_EXIT_CONTROLS) & EXIT_ACK_INTR_ON_EXIT),
                "\"process posted interrupts\" without \"acknowledge interrupt on exit\" (SDM 26.2.1.1)");
        FAIL_IF(vmcs_get(c, VF_POSTED_INTR_NOTIFY_VECTOR) >> 8,
                "posted-interrupt notification vector bits 15:8 set (SDM 26.2.1.1)");
        uint64_t desc = vmcs_get(c, VF_POSTED_INTR_DESC_ADDR);
        FAIL_IF((desc & 0x3f) || !phys_ok(desc),
                "posted-interrupt descriptor address not 64-byte aligned or beyond the physical-address width (SDM 26.2.1.1)");
    }
    FAIL_IF((proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES) && !page_ok(vmcs_get(c, VF_APIC_ACCESS_ADDR)),
            "APIC-access address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
    return true;
}
static bool check_controls(struct cpu *c)
{
    uint32_t pin = (uint32_t)vmcs_get(c, VF_PIN_BASED_CONTROLS);
    uint32_t proc = (uint32_t)vmcs_get(c, VF_PROC_BASED_CONTROLS);
    uint32_t proc2 = proc & PROC_SECONDARY_CONTROLS
                         ? (uint32_t)vmcs_get(c, VF_SECONDARY_PROC_CONTROLS) : 0;
    uint32_t exit = (uint32_t)vmcs_get(c, VF_EXIT_CONTROLS);
    uint32_t entry = (uint32_t)vmcs_get(c, VF_ENTRY_CONTROLS);

    FAIL_IF(!ctl_ok(VMX_CTL_PIN, pin),
            "pin-based controls outside IA32_VMX_TRUE_PINBASED_CTLS (SDM 26.2.1.1)");
    FAIL_IF(!ctl_ok(VMX_CTL_PROC, proc),
            "processor-based controls outside IA32_VMX_TRUE_PROCBASED_CTLS (SDM 26.2.1.1)");
    FAIL_IF((proc & PROC_SECONDARY_CONTROLS) && !ctl_ok(VMX_CTL_PROC2, proc2),
            "secondary controls outside IA32_VMX_PROCBASED_CTLS2 (SDM 26.2.1.1)");
    FAIL_IF(vmcs_get(c, VF_CR3_TARGET_COUNT) > 4,
            "CR3-target count greater than 4 (SDM 26.2.1.1)");
    FAIL_IF((proc & PROC_USE_IO_BITMAPS) &&
                ((vmcs_get(c, VF_IO_BITMAP_A) & 0xfff) || !phys_ok(vmcs_get(c, VF_IO_BITMAP_A)) ||
                 (vmcs_get(c, VF_IO_BITMAP_B) & 0xfff) || !phys_ok(vmcs_get(c, VF_IO_BITMAP_B))),
            "I/O-bitmap address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
    FAIL_IF((proc & PROC_USE_MSR_BITMAPS) &&
                ((vmcs_get(c, VF_MSR_BITMAP) & 0xfff) || !phys_ok(vmcs_get(c, VF_MSR_BITMAP))),
            "MSR-bitmap address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
    FAIL_IF(!(pin & PIN_NMI_EXITING) && (pin & PIN_VIRTUAL_NMIS),
            "virtual NMIs without NMI exiting (SDM 26.2.1.1)");
    FAIL_IF(!(pin & PIN_VIRTUAL_NMIS) && (proc & PROC_NMI_WINDOW_EXITING),
            "NMI-window exiting without virtual NMIs (SDM 26.2.1.1)");
    if (!check_apicv_controls(c, pin, proc, proc2))
        return false;
    if (proc2 & PROC2_ENABLE_EPT) {
        const char *eptp = vmx_ept_eptp_problem(vmcs_get(c, VF_EPT_POINTER));
        FAIL_IF(eptp, eptp);
    }
    FAIL_IF((proc2 & PROC2_VMCS_SHADOWING) &&
                ((vmcs_get(c, VF_VMREAD_BITMAP) & 0xfff) || !phys_ok(vmcs_get(c, VF_VMREAD_BITMAP)) ||
                 (vmcs_get(c, VF_VMWRITE_BITMAP) & 0xfff) || !phys_ok(vmcs_get(c, VF_VMWRITE_BITMAP))),
            "VMREAD/VMWRITE bitmap address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_ENABLE_PML) && !(proc2 & PROC2_ENABLE_EPT),
            "\"enable PML\" without \"enable EPT\" (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_ENABLE_PML) &&
                ((vmcs_get(c, VF_PML_ADDRESS) & 0xfff) || !phys_ok(vmcs_get(c, VF_PML_ADDRESS))),
            "PML address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_ENABLE_VPID) && vmcs_get(c, VF_VPID) == 0,
            "\"enable VPID\" with VPID 0000H (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_UNRESTRICTED_GUEST) && !(proc2 & PROC2_ENABLE_EPT),
            "\"unrestricted guest\" without \"enable EPT\" (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_EPT_VIOLATION_VE) &&
                ((vmcs_get(c, VF_VE_INFO_ADDR) & 0xfff) || !phys_ok(vmcs_get(c, VF_VE_INFO_ADDR))),
            "virtualization-exception information address not 4-KiB aligned or beyond the physical-address width (SDM 26.2.1.1)");
    FAIL_IF((proc2 & PROC2_MODE_BASED_EPT_EXEC) && !(proc2 & PROC2_ENABLE_EPT),
            "\"mode-based execute control for EPT\" without \"enable EPT\" (SDM 26.2.1.1)");
    const char *vmfunc = vmx_vmfunc_entry_problem(c, proc2);
    FAIL_IF(vmfunc, vmfunc);

    /* 26.2.1.2 VM-exit control fields */
    FAIL_IF(!ctl_ok(VMX_CTL_EXIT, exit),
            "VM-exit controls outside IA32_VMX_TRUE_EXIT_CTLS (SDM 26.2.1.2)");
    uint64_t n = vmcs_get(c, VF_EXIT_MSR_STORE_COUNT), a = vmcs_get(c, VF_EXIT_MSR_STORE_ADDR);
    FAIL_IF(n && ((a & 15) || !phys_ok(a + n * 16 - 1)),
            "VM-exit MSR-store address not 16-byte aligned or beyond the physical-address width (SDM 26.2.1.2)");
    n = vmcs_get(c, VF_EXIT_MSR_LOAD_COUNT), a = vmcs_get(c, VF_EXIT_MSR_LOAD_ADDR);
    FAIL_IF(n && ((a & 15) || !phys_ok(a + n * 16 - 1)),
            "VM-exit MSR-load address not 16-byte aligned or beyond the physical-address width (SDM 26.2.1.2)");

    /* 26.2.1.3 VM-entry control fields */
    FAIL_IF(!ctl_ok(VMX_CTL_ENTRY, entry),
            "VM-entry controls outside IA32_VMX_TRUE_ENTRY_CTLS (SDM 26.2.1.3)");
    uint32_t info = (uint32_t)vmcs_get(c, VF_ENTRY_INTR_INFO);
    if (info >> 31) {
        unsigned vec = info & 0xff, type = (info >> 8) & 7;
        bool deliver_err = (info >> 11) & 1;
        FAIL_IF(type == 1, "VM-entry interruption type 1 is reserved (SDM 26.2.1.3)");
        FAIL_IF(type == 7 && !(vmx_ctl_caps(VMX_CTL_PROC, 1).may1 & PROC_MONITOR_TRAP_FLAG),
                "VM-entry interruption type 7 needs the monitor trap flag (SDM 26.2.1.3)");
        FAIL_IF(type == 7 && vec != 0,
                "VM-entry interruption type 7 (pending MTF VM exit) with vector other than 0 (SDM 26.2.1.3)");
        FAIL_IF(type == 2 && vec != 2, "injected NMI with vector other than 2 (SDM 26.2.1.3)");
        FAIL_IF(type == 3 && vec > 31, "injected hardware exception with vector above 31 (SDM 26.2.1.3)");
        /* "protected mode" here: CR0.PE, or any guest without
         * "unrestricted guest" (whose PE the guest-state checks catch) */
        bool pe = !(proc2 & PROC2_UNRESTRICTED_GUEST) || (vmcs_get(c, VF_GUEST_CR0) & CR0_PE);
        bool err_vec = vec == EX_DF || (vec >= EX_TS && vec <= EX_PF) || vec == EX_AC ||
                       vec == EX_CP;
        FAIL_IF(deliver_err != (type == 3 && pe && err_vec),
                "deliver-error-code bit does not match the event (SDM 26.2.1.3)");
        FAIL_IF(info & 0x7ffff000u, "VM-entry interruption-information reserved bits set (SDM 26.2.1.3)");
        FAIL_IF(deliver_err && (vmcs_get(c, VF_ENTRY_EXCEPTION_ERROR_CODE) >> 16),
                "VM-entry exception error code bits 31:16 set (SDM 26.2.1.3)");
        uint64_t len = vmcs_get(c, VF_ENTRY_INSTRUCTION_LEN);
        FAIL_IF((type == 4 || type == 5 || type == 6) && (len == 0 || len > 15),
                "VM-entry instruction length not 1-15 for a software event (SDM 26.2.1.3)");
    }
    n = vmcs_get(c, VF_ENTRY_MSR_LOAD_COUNT), a = vmcs_get(c, VF_ENTRY_MSR_LOAD_ADDR);
    FAIL_IF(n && ((a & 15) || !phys_ok(a + n * 16 - 1)),
            "VM-entry MSR-load address not 16-byte aligned or beyond the physical-address width (SDM 26.2.1.3)");
    return true;
}

/* ---- 26.2.2-26.2.4 checks on host state ---- */
static bool check_host_state(struct cpu *c)
{
    uint32_t exit = (uint32_t)vmcs_get(c, VF_EXIT_CONTROLS);
    uint32_t entry = (uint32_t)vmcs_get(c, VF_ENTRY_CONTROLS);
    bool host64 = exit & EXIT_HOST_ADDR_SPACE_SIZE;
    uint64_t cr0 = vmcs_get(c, VF_HOST_CR0), cr4 = vmcs_get(c, VF_HOST_CR4);

    FAIL_IF(!vmx_cr_allowed(c, 0, cr0), "host CR0 outside IA32_VMX_CR0_FIXED0/1 (SDM 26.2.2)");
    FAIL_IF(!vmx_cr_allowed(c, 4, cr4), "host CR4 outside IA32_VMX_CR4_FIXED0/1 (SDM 26.2.2)");
    FAIL_IF(!phys_ok(vmcs_get(c, VF_HOST_CR3)),
            "host CR3 beyond the physical-address width (SDM 26.2.2)");
    FAIL_IF(!cpu_canonical_max(c, vmcs_get(c, VF_HOST_IA32_SYSENTER_ESP)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_HOST_IA32_SYSENTER_EIP)),
            "host IA32_SYSENTER_ESP/EIP not canonical (SDM 26.2.2)");
    FAIL_IF((exit & EXIT_LOAD_PAT) && !pat_ok(vmcs_get(c, VF_HOST_IA32_PAT)),
            "host IA32_PAT holds an invalid memory type (SDM 26.2.2)");
    if (exit & EXIT_LOAD_EFER) {
        uint64_t efer = vmcs_get(c, VF_HOST_IA32_EFER);
        FAIL_IF(efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE),
                "host IA32_EFER reserved bits set (SDM 26.2.2)");
        FAIL_IF(!!(efer & EFER_LMA) != host64 || !!(efer & EFER_LME) != host64,
                "host IA32_EFER.LMA/LME differ from \"host address-space size\" (SDM 26.2.2)");
    }

    /* 26.2.3 selector fields */
    static const uint8_t host_sel[7] = {VF_HOST_ES_SELECTOR, VF_HOST_CS_SELECTOR,
                                        VF_HOST_SS_SELECTOR, VF_HOST_DS_SELECTOR,
                                        VF_HOST_FS_SELECTOR, VF_HOST_GS_SELECTOR,
                                        VF_HOST_TR_SELECTOR};
    for (int k = 0; k < 7; k++)
        FAIL_IF(vmcs_get(c, host_sel[k]) & 7,
                "host selector with RPL or TI set (SDM 26.2.3)");
    FAIL_IF(vmcs_get(c, VF_HOST_CS_SELECTOR) == 0, "host CS selector is null (SDM 26.2.3)");
    FAIL_IF(vmcs_get(c, VF_HOST_TR_SELECTOR) == 0, "host TR selector is null (SDM 26.2.3)");
    FAIL_IF(!host64 && vmcs_get(c, VF_HOST_SS_SELECTOR) == 0,
            "host SS selector null with a 32-bit host (SDM 26.2.3)");
    FAIL_IF(!cpu_canonical_max(c, vmcs_get(c, VF_HOST_FS_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_HOST_GS_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_HOST_GDTR_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_HOST_IDTR_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_HOST_TR_BASE)),
            "host FS/GS/GDTR/IDTR/TR base not canonical (SDM 26.2.3)");

    /* 26.2.4 address-space size */
    bool lma = c->mmu.efer & EFER_LMA;
    FAIL_IF(lma && !host64,
            "\"host address-space size\" is 0 on a processor in IA-32e mode (SDM 26.2.4)");
    FAIL_IF(!lma && host64,
            "\"host address-space size\" is 1 outside IA-32e mode (SDM 26.2.4)");
    if (!host64) {
        FAIL_IF(entry & ENTRY_IA32E_MODE_GUEST,
                "\"IA-32e mode guest\" with a 32-bit host (SDM 26.2.4)");
        FAIL_IF(cr4 & CR4_PCIDE, "host CR4.PCIDE set with a 32-bit host (SDM 26.2.4)");
        FAIL_IF(vmcs_get(c, VF_HOST_RIP) >> 32, "host RIP bits 63:32 set with a 32-bit host (SDM 26.2.4)");
    } else {
        FAIL_IF(!(cr4 & CR4_PAE), "host CR4.PAE clear with a 64-bit host (SDM 26.2.4)");
        FAIL_IF(!cpu_canonical_max(c, vmcs_get(c, VF_HOST_RIP)), "host RIP not canonical (SDM 26.2.4)");
    }
    return true;
}

/* ---- 26.3.1 checks on the guest state ---- */

/* the G bit against the limit: SDM 26.3.1.2 */
static bool limit_granularity_ok(uint32_t limit, uint32_t ar)
{
    if ((limit & 0xfff) != 0xfff && (ar & AR_G))
        return false;
    if ((limit >> 20) && !(ar & AR_G))
        return false;
    return true;
}

/* A virtual-8086 guest (RFLAGS.VM = 1): CS, SS, DS, ES, FS and GS
 * hold what V86 mode itself gives them — base = selector << 4, limit
 * FFFFH, access rights F3H — in place of every other check on them */
static bool check_guest_v86_segments(struct cpu *c)
{
    for (int s = 0; s < 6; s++) {
        uint64_t sel = vmcs_get(c, vmx_guest_sel[s]);
        FAIL_IF(vmcs_get(c, vmx_guest_base[s]) != sel << 4,
                "guest V86 segment base is not its selector << 4 (SDM 26.3.1.2)");
        FAIL_IF(vmcs_get(c, vmx_guest_limit[s]) != 0xffff,
                "guest V86 segment limit is not FFFFH (SDM 26.3.1.2)");
        FAIL_IF(vmcs_get(c, vmx_guest_ar[s]) != 0xf3,
                "guest V86 segment access rights are not F3H (SDM 26.3.1.2)");
    }
    return true;
}

/* CS, SS, DS, ES, FS, GS of a guest that is not virtual-8086 */
static bool check_guest_prot_segments(struct cpu *c, const uint32_t ar[8], bool ia32e,
                                      bool unrestricted)
{
    uint16_t cs_sel = (uint16_t)vmcs_get(c, VF_GUEST_CS_SELECTOR);
    uint16_t ss_sel = (uint16_t)vmcs_get(c, VF_GUEST_SS_SELECTOR);
    FAIL_IF(!unrestricted && (ss_sel & 3) != (cs_sel & 3),
            "guest SS.RPL differs from CS.RPL (SDM 26.3.1.2)");

    /* bases */
    FAIL_IF(vmcs_get(c, VF_GUEST_CS_BASE) >> 32, "guest CS base bits 63:32 set (SDM 26.3.1.2)");
    static const int low_bases[3] = {SEG_SS, SEG_DS, SEG_ES};
    for (int k = 0; k < 3; k++)
        FAIL_IF(!(ar[low_bases[k]] & AR_UNUSABLE) && (vmcs_get(c, vmx_guest_base[low_bases[k]]) >> 32),
                "guest SS/DS/ES base bits 63:32 set (SDM 26.3.1.2)");

    /* CS */
    uint32_t cs = ar[SEG_CS];
    unsigned cs_type = AR_TYPE(cs);
    /* an unrestricted guest may also run with CS a read/write accessed
     * data segment at DPL 0 (how real mode leaves it) */
    FAIL_IF(cs_type != 9 && cs_type != 11 && cs_type != 13 && cs_type != 15 &&
                !(unrestricted && cs_type == 3),
            "guest CS type is not an accessed code segment (SDM 26.3.1.2)");
    FAIL_IF(!(cs & AR_S), "guest CS.S is 0 (SDM 26.3.1.2)");
    FAIL_IF(cs_type == 3 && AR_DPL(cs) != 0,
            "guest CS.DPL not 0 with CS type 3 (unrestricted guest) (SDM 26.3.1.2)");
    FAIL_IF((cs_type == 9 || cs_type == 11) && AR_DPL(cs) != AR_DPL(ar[SEG_SS]),
            "guest non-conforming CS.DPL differs from SS.DPL (SDM 26.3.1.2)");
    FAIL_IF((cs_type == 13 || cs_type == 15) && AR_DPL(cs) > AR_DPL(ar[SEG_SS]),
            "guest conforming CS.DPL greater than SS.DPL (SDM 26.3.1.2)");
    FAIL_IF(!(cs & AR_P), "guest CS not present (SDM 26.3.1.2)");
    FAIL_IF(cs & (0xf00u | 0xfffe0000u), "guest CS access-rights reserved bits set (SDM 26.3.1.2)");
    FAIL_IF(ia32e && (cs & AR_L) && (cs & AR_DB), "guest CS.L and CS.D both set (SDM 26.3.1.2)");
    FAIL_IF(!limit_granularity_ok((uint32_t)vmcs_get(c, VF_GUEST_CS_LIMIT), cs),
            "guest CS limit and G bit disagree (SDM 26.3.1.2)");

    /* SS */
    uint32_t ss = ar[SEG_SS];
    if (!(ss & AR_UNUSABLE)) {
        FAIL_IF(AR_TYPE(ss) != 3 && AR_TYPE(ss) != 7,
                "guest SS type is not read/write accessed data (SDM 26.3.1.2)");
        FAIL_IF(!(ss & AR_S), "guest SS.S is 0 (SDM 26.3.1.2)");
        FAIL_IF(!(ss & AR_P), "guest SS not present (SDM 26.3.1.2)");
        FAIL_IF(ss & (0xf00u | 0xfffe0000u), "guest SS access-rights reserved bits set (SDM 26.3.1.2)");
        FAIL_IF(!limit_granularity_ok((uint32_t)vmcs_get(c, VF_GUEST_SS_LIMIT), ss),
                "guest SS limit and G bit disagree (SDM 26.3.1.2)");
    }
    FAIL_IF(!unrestricted && AR_DPL(ss) != (ss_sel & 3u),
            "guest SS.DPL differs from SS.RPL (SDM 26.3.1.2)");
    FAIL_IF((!(vmcs_get(c, VF_GUEST_CR0) & CR0_PE) || cs_type == 3) && AR_DPL(ss) != 0,
            "guest SS.DPL not 0 with CR0.PE clear or CS type 3 (SDM 26.3.1.2)");

    /* DS, ES, FS, GS */
    static const int data_segs[4] = {SEG_DS, SEG_ES, SEG_FS, SEG_GS};
    for (int k = 0; k < 4; k++) {
        int s = data_segs[k];
        uint32_t a = ar[s];
        if (a & AR_UNUSABLE)
            continue;
        unsigned t = AR_TYPE(a);
        FAIL_IF(!(t & 1), "guest DS/ES/FS/GS type not accessed (SDM 26.3.1.2)");
        FAIL_IF((t & 8) && !(t & 2), "guest DS/ES/FS/GS is an execute-only code segment (SDM 26.3.1.2)");
        FAIL_IF(!(a & AR_S), "guest DS/ES/FS/GS.S is 0 (SDM 26.3.1.2)");
        FAIL_IF(!unrestricted && t < 12 && AR_DPL(a) < (vmcs_get(c, vmx_guest_sel[s]) & 3u),
                "guest DS/ES/FS/GS.DPL less than its RPL (SDM 26.3.1.2)");
        FAIL_IF(!(a & AR_P), "guest DS/ES/FS/GS not present (SDM 26.3.1.2)");
        FAIL_IF(a & (0xf00u | 0xfffe0000u),
                "guest DS/ES/FS/GS access-rights reserved bits set (SDM 26.3.1.2)");
        FAIL_IF(!limit_granularity_ok((uint32_t)vmcs_get(c, vmx_guest_limit[s]), a),
                "guest DS/ES/FS/GS limit and G bit disagree (SDM 26.3.1.2)");
    }
    return true;
}

static bool check_guest_segments(struct cpu *c, bool ia32e, bool unrestricted)
{
    uint32_t ar[8];
    for (int k = 0; k < 8; k++)
        ar[k] = (uint32_t)vmcs_get(c, vmx_guest_ar[k]);
    bool v86 = vmcs_get(c, VF_GUEST_RFLAGS) & FL_VM;

    FAIL_IF(vmcs_get(c, VF_GUEST_TR_SELECTOR) & 4, "guest TR selector has TI set (SDM 26.3.1.2)");
    FAIL_IF(!(ar[VMX_SEG_LDTR] & AR_UNUSABLE) && (vmcs_get(c, VF_GUEST_LDTR_SELECTOR) & 4),
            "guest LDTR selector has TI set (SDM 26.3.1.2)");
    FAIL_IF(!cpu_canonical_max(c, vmcs_get(c, VF_GUEST_TR_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_GUEST_FS_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_GUEST_GS_BASE)),
            "guest TR/FS/GS base not canonical (SDM 26.3.1.2)");
    FAIL_IF(!(ar[VMX_SEG_LDTR] & AR_UNUSABLE) && !cpu_canonical_max(c, vmcs_get(c, VF_GUEST_LDTR_BASE)),
            "guest LDTR base not canonical (SDM 26.3.1.2)");
    if (v86 ? !check_guest_v86_segments(c) : !check_guest_prot_segments(c, ar, ia32e, unrestricted))
        return false;

    /* TR */
    uint32_t tr = ar[VMX_SEG_TR];
    FAIL_IF(ia32e && AR_TYPE(tr) != 11, "guest TR type is not a busy 64-bit TSS (SDM 26.3.1.2)");
    FAIL_IF(!ia32e && AR_TYPE(tr) != 3 && AR_TYPE(tr) != 11,
            "guest TR type is not a busy TSS (SDM 26.3.1.2)");
    FAIL_IF(tr & AR_S, "guest TR.S is 1 (SDM 26.3.1.2)");
    FAIL_IF(!(tr & AR_P), "guest TR not present (SDM 26.3.1.2)");
    FAIL_IF(tr & (0xf00u | 0xfffe0000u), "guest TR access-rights reserved bits set (SDM 26.3.1.2)");
    FAIL_IF(tr & AR_UNUSABLE, "guest TR is unusable (SDM 26.3.1.2)");
    FAIL_IF(!limit_granularity_ok((uint32_t)vmcs_get(c, VF_GUEST_TR_LIMIT), tr),
            "guest TR limit and G bit disagree (SDM 26.3.1.2)");

    /* LDTR */
    uint32_t ldtr = ar[VMX_SEG_LDTR];
    if (!(ldtr & AR_UNUSABLE)) {
        FAIL_IF(AR_TYPE(ldtr) != 2, "guest LDTR type is not LDT (SDM 26.3.1.2)");
        FAIL_IF(ldtr & AR_S, "guest LDTR.S is 1 (SDM 26.3.1.2)");
        FAIL_IF(!(ldtr & AR_P), "guest LDTR not present (SDM 26.3.1.2)");
        FAIL_IF(ldtr & (0xf00u | 0xfffe0000u),
                "guest LDTR access-rights reserved bits set (SDM 26.3.1.2)");
        FAIL_IF(!limit_granularity_ok((uint32_t)vmcs_get(c, VF_GUEST_LDTR_LIMIT), ldtr),
                "guest LDTR limit and G bit disagree (SDM 26.3.1.2)");
    }
    return true;
}

static bool check_guest_state(struct cpu *c)
{
    uint32_t entry = (uint32_t)vmcs_get(c, VF_ENTRY_CONTROLS);
    bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;
    uint64_t cr0 = vmcs_get(c, VF_GUEST_CR0), cr4 = vmcs_get(c, VF_GUEST_CR4);
    bool unrestricted = vmx_unrestricted_guest(c);

    /* 26.3.1.1 control registers, debug registers and MSRs; an
     * unrestricted guest is exempt from the fixed PE and PG bits */
    FAIL_IF(!vmx_guest_cr0_allowed(c, cr0, unrestricted),
            "guest CR0 outside IA32_VMX_CR0_FIXED0/1 (SDM 26.3.1.1)");
    FAIL_IF((cr0 & CR0_PG) && !(cr0 & CR0_PE),
            "guest CR0.PG set with CR0.PE clear (SDM 26.3.1.1)");
    FAIL_IF(!vmx_cr_allowed(c, 4, cr4), "guest CR4 outside IA32_VMX_CR4_FIXED0/1 (SDM 26.3.1.1)");
    if (entry & ENTRY_LOAD_DEBUG_CONTROLS) {
        FAIL_IF(vmcs_get(c, VF_GUEST_DR7) >> 32, "guest DR7 bits 63:32 set (SDM 26.3.1.1)");
    }
    FAIL_IF(ia32e && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE)),
            "\"IA-32e mode guest\" without guest CR0.PG and CR4.PAE (SDM 26.3.1.1)");
    FAIL_IF(!ia32e && (cr4 & CR4_PCIDE),
            "guest CR4.PCIDE set outside IA-32e mode (SDM 26.3.1.1)");
    FAIL_IF(!phys_ok(vmcs_get(c, VF_GUEST_CR3)),
            "guest CR3 beyond the physical-address width (SDM 26.3.1.1)");
    FAIL_IF(!cpu_canonical_max(c, vmcs_get(c, VF_GUEST_IA32_SYSENTER_ESP)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_GUEST_IA32_SYSENTER_EIP)),
            "guest IA32_SYSENTER_ESP/EIP not canonical (SDM 26.3.1.1)");
    if (entry & ENTRY_LOAD_PAT)
        FAIL_IF(!pat_ok(vmcs_get(c, VF_GUEST_IA32_PAT)),
                "guest IA32_PAT holds an invalid memory type (SDM 26.3.1.1)");
    if (entry & ENTRY_LOAD_EFER) {
        uint64_t efer = vmcs_get(c, VF_GUEST_IA32_EFER);
        FAIL_IF(efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE),
                "guest IA32_EFER reserved bits set (SDM 26.3.1.1)");
        FAIL_IF(!!(efer & EFER_LMA) != ia32e,
                "guest IA32_EFER.LMA differs from \"IA-32e mode guest\" (SDM 26.3.1.1)");
        FAIL_IF((cr0 & CR0_PG) && !!(efer & EFER_LME) != ia32e,
                "guest IA32_EFER.LME differs from \"IA-32e mode guest\" with paging on (SDM 26.3.1.1)");
    }

    /* 26.3.1.2 segment registers */
    if (!check_guest_segments(c, ia32e, unrestricted))
        return false;

    /* 26.3.1.3 descriptor-table registers */
    FAIL_IF(!cpu_canonical_max(c, vmcs_get(c, VF_GUEST_GDTR_BASE)) ||
                !cpu_canonical_max(c, vmcs_get(c, VF_GUEST_IDTR_BASE)),
            "guest GDTR/IDTR base not canonical (SDM 26.3.1.3)");
    FAIL_IF((vmcs_get(c, VF_GUEST_GDTR_LIMIT) >> 16) || (vmcs_get(c, VF_GUEST_IDTR_LIMIT) >> 16),
            "guest GDTR/IDTR limit bits 31:16 set (SDM 26.3.1.3)");

    /* 26.3.1.4 RIP and RFLAGS */
    uint64_t rip = vmcs_get(c, VF_GUEST_RIP);
    bool cs_l = vmcs_get(c, VF_GUEST_CS_AR) & AR_L;
    FAIL_IF((!ia32e || !cs_l) && (rip >> 32),
            "guest RIP bits 63:32 set outside 64-bit mode (SDM 26.3.1.4)");
    FAIL_IF(ia32e && cs_l && !cpu_canonical_max(c, rip), "guest RIP not canonical (SDM 26.3.1.4)");
    uint64_t fl = vmcs_get(c, VF_GUEST_RFLAGS);
    FAIL_IF((fl >> 22) || (fl & ((1u << 15) | (1u << 5) | (1u << 3))) || !(fl & FL_FIXED1),
            "guest RFLAGS reserved bits wrong (SDM 26.3.1.4)");
    FAIL_IF((ia32e || !(cr0 & CR0_PE)) && (fl & FL_VM),
            "guest RFLAGS.VM set in IA-32e mode or with CR0.PE clear (SDM 26.3.1.4)");
    uint32_t info = (uint32_t)vmcs_get(c, VF_ENTRY_INTR_INFO);
    bool inject = info >> 31;
    unsigned inj_type = (info >> 8) & 7;
    FAIL_IF(inject && inj_type == 0 && !(fl & FL_IF),
            "injecting an external interrupt with guest RFLAGS.IF clear (SDM 26.3.1.4)");

    /* 26.3.1.5 non-register state */
    uint64_t act = vmcs_get(c, VF_GUEST_ACTIVITY_STATE);
    uint64_t intr = vmcs_get(c, VF_GUEST_INTERRUPTIBILITY);
    FAIL_IF(!vmx_activity_supported(act),
            "guest activity state not supported (IA32_VMX_MISC bits 8:6) (SDM 26.3.1.5)");
    FAIL_IF(act == VMX_ACTIVITY_HLT && AR_DPL(vmcs_get(c, VF_GUEST_SS_AR)) != 0,
            "guest activity state HLT with SS.DPL not 0 (SDM 26.3.1.5)");
    FAIL_IF(act != VMX_ACTIVITY_ACTIVE && (intr & 3),
            "guest activity state not active with blocking by STI or MOV SS (SDM 26.3.1.5)");
    /* the HLT state lets only external interrupts, NMIs, #DB, #MC and
     * a pending MTF VM exit be injected */
    unsigned inj_vec = info & 0xff;
    FAIL_IF(inject && act == VMX_ACTIVITY_HLT && inj_type != 0 && inj_type != 2 &&
                !(inj_type == 3 && (inj_vec == EX_DB || inj_vec == EX_MC)) &&
                !(inj_type == 7 && inj_vec == 0),
            "injecting an event the HLT activity state blocks (SDM 26.3.1.5)");
    /* shutdown lets only NMIs and machine checks be injected;
     * wait-for-SIPI nothing */
    FAIL_IF(inject && act == VMX_ACTIVITY_SHUTDOWN && inj_type != 2 &&
                !(inj_type == 3 && inj_vec == EX_MC),
            "injecting an event the shutdown activity state blocks (SDM 26.3.1.5)");
    FAIL_IF(inject && act == VMX_ACTIVITY_WAIT_SIPI,
            "injecting an event in the wait-for-SIPI activity state (SDM 26.3.1.5)");
    FAIL_IF(intr >> 5, "guest interruptibility reserved bits set (SDM 26.3.1.5)");
    FAIL_IF((intr & 3) == 3, "guest blocking by STI and by MOV SS both set (SDM 26.3.1.5)");
    FAIL_IF((intr & 1) && !(fl & FL_IF), "guest blocking by STI with RFLAGS.IF clear (SDM 26.3.1.5)");
    FAIL_IF(inject && inj_type == 0 && (intr & 3),
            "injecting an external interrupt while blocked by STI or MOV SS (SDM 26.3.1.5)");
    FAIL_IF(inject && inj_type == 2 && (intr & 2),
            "injecting an NMI while blocked by MOV SS (SDM 26.3.1.5)");
    FAIL_IF(intr & 4, "guest blocking by SMI outside SMM (SDM 26.3.1.5)");
    uint64_t pdbg = vmcs_get(c, VF_GUEST_PENDING_DBG_EXCEPTIONS);
    FAIL_IF(pdbg & ~0x1500full, "guest pending debug exceptions reserved bits set (SDM 26.3.1.5)");
    uint64_t link = vmcs_get(c, VF_VMCS_LINK_POINTER);
    if (link != VMX_INVALID_PTR) {
        FAIL_IF((link & 0xfff) || !phys_ok(link),
                "VMCS link pointer not 4-KiB aligned or beyond the physical-address width (SDM 26.3.1.5)");
        uint32_t rev = (uint32_t)phys_read(c->mmu.phys, link + VMCS_OFF_REVISION, 4);
        bool shadowing = (vmcs_get(c, VF_PROC_BASED_CONTROLS) & PROC_SECONDARY_CONTROLS) &&
                         (vmcs_get(c, VF_SECONDARY_PROC_CONTROLS) & PROC2_VMCS_SHADOWING);
        FAIL_IF((rev & ~VMX_SHADOW_VMCS_BIT) != VMX_REVISION_ID,
                "VMCS link pointer's revision identifier is not the VMCS revision (SDM 26.3.1.5)");
        FAIL_IF(!!(rev & VMX_SHADOW_VMCS_BIT) != shadowing,
                "VMCS link pointer's shadow-VMCS indicator differs from \"VMCS shadowing\" (SDM 26.3.1.5)");
    }
    FAIL_IF(!vmx_ept_guest_pdptes_ok(c),
            "guest PDPTE field with reserved bits set (PAE paging with EPT) (SDM 26.3.1.6)");
    return true;
}

/* ---- 26.3.2 loading guest state ---- */
static void load_guest_state(struct cpu *c)
{
    uint32_t entry = (uint32_t)vmcs_get(c, VF_ENTRY_CONTROLS);
    bool ia32e = entry & ENTRY_IA32E_MODE_GUEST;
    struct mmu *m = &c->mmu;

    flags_materialize(c);
    cpu_links_leave_root(c); /* kept only for a guest with a VPID, below */
    m->cr0 = vmcs_get(c, VF_GUEST_CR0);
    m->cr4 = vmcs_get(c, VF_GUEST_CR4);
    m->cr3 = vmcs_get(c, VF_GUEST_CR3);
    m->pcid = (m->cr4 & CR4_PCIDE) ? m->cr3 & 0xfff : 0;
    if (entry & ENTRY_LOAD_DEBUG_CONTROLS) {
        c->dr[7] = vmcs_get(c, VF_GUEST_DR7) | 0x400;
        c->debugctl = vmcs_get(c, VF_GUEST_IA32_DEBUGCTL);
        cpu_dr7_changed(c);
    }
    c->sysenter_cs = vmcs_get(c, VF_GUEST_IA32_SYSENTER_CS);
    c->sysenter_esp = vmcs_get(c, VF_GUEST_IA32_SYSENTER_ESP);
    c->sysenter_eip = vmcs_get(c, VF_GUEST_IA32_SYSENTER_EIP);
    if (entry & ENTRY_LOAD_EFER) {
        m->efer = vmcs_get(c, VF_GUEST_IA32_EFER);
    } else {
        /* 26.3.2.1: LMA takes "IA-32e mode guest"; LME too when paging is on */
        m->efer = (m->efer & ~EFER_LMA) | (ia32e ? EFER_LMA : 0);
        if (m->cr0 & CR0_PG)
            m->efer = (m->efer & ~EFER_LME) | (ia32e ? EFER_LME : 0);
    }
    if (entry & ENTRY_LOAD_PAT)
        c->pat = vmcs_get(c, VF_GUEST_IA32_PAT);

    for (int s = 0; s < 6; s++) {
        c->seg[s].sel = (uint16_t)vmcs_get(c, vmx_guest_sel[s]);
        c->seg[s].base = vmcs_get(c, vmx_guest_base[s]);
        c->seg[s].limit = (uint32_t)vmcs_get(c, vmx_guest_limit[s]);
        c->seg[s].ar = (uint32_t)vmcs_get(c, vmx_guest_ar[s]);
    }
    c->ldtr = (struct seg){(uint16_t)vmcs_get(c, VF_GUEST_LDTR_SELECTOR),
                           (uint32_t)vmcs_get(c, VF_GUEST_LDTR_LIMIT),
                           vmcs_get(c, VF_GUEST_LDTR_BASE), (uint32_t)vmcs_get(c, VF_GUEST_LDTR_AR)};
    c->tr = (struct seg){(uint16_t)vmcs_get(c, VF_GUEST_TR_SELECTOR),
                         (uint32_t)vmcs_get(c, VF_GUEST_TR_LIMIT), vmcs_get(c, VF_GUEST_TR_BASE),
                         (uint32_t)vmcs_get(c, VF_GUEST_TR_AR)};
    c->gdtr = (struct dtr){vmcs_get(c, VF_GUEST_GDTR_BASE), (uint16_t)vmcs_get(c, VF_GUEST_GDTR_LIMIT)};
    c->idtr = (struct dtr){vmcs_get(c, VF_GUEST_IDTR_BASE), (uint16_t)vmcs_get(c, VF_GUEST_IDTR_LIMIT)};
    c->cpl = AR_DPL(c->seg[SEG_SS].ar);
    c->r[R_RSP] = vmcs_get(c, VF_GUEST_RSP);
    c->rip = vmcs_get(c, VF_GUEST_RIP);
    c->rflags = vmcs_get(c, VF_GUEST_RFLAGS) | FL_FIXED1;
    c->lf_op = LF_NONE;

    uint64_t intr = vmcs_get(c, VF_GUEST_INTERRUPTIBILITY);
    c->inhibit_irq = (intr & 3) != 0;
    c->inhibit_debug = (intr & 2) != 0;
    c->halted = false;
    c->nmi_blocked = (intr & 8) != 0;

    /* without VPID every VM entry invalidates linear and combined
     * mappings (SDM 28.3.3.3); with one, the root's and the guest's are
     * tagged apart: the root's are kept for the exit, the guest's come
     * back if this VPID and EPTP ran last */
    uint64_t key = vmx_tlb_key(c);
    c->vmx.tlb_switched = key != 0;
    c->vmx.tlb_key = key;
    if (key) {
        mmu_tlb_switch(m, 0, 0, 1, key);
    } else {
        mmu_flush_all(m);
        c->root_links.epoch = 0; /* the exit flushes the root's too */
    }
    /* 26.3.2.4: a PAE guest's PDPTEs come from the VMCS with EPT
     * (vmx_ept_enter), else from CR3 */
    if (!vmx_ept_enter(c) && (m->cr0 & CR0_PG) && (m->cr4 & CR4_PAE) && !ia32e)
        mmu_load_pdptes(m);
    cpu_update_mode(c); /* the flush above moved the MMU epoch: no block link survives */
    cpu_break_block(c);
}

/* Loads one MSR from a VM-entry or VM-exit MSR-load list (SDM 26.4):
 * the MSRs the SDM forbids there fail the load. */
static bool list_msr_load(struct cpu *c, uint32_t index, uint64_t value)
{
    if (index == 0xc0000100 || index == 0xc0000101 || /* FS/GS base */
        (index >> 8) == 0x8 ||                      /* x2APIC */
        index == 0x9e /* IA32_SMM_MONITOR_CTL */ || index == 0x8b)
        return false;
    return cpu_msr_write(c, index, value);
}

/* returns 0 when every entry loaded, else the 1-based failing entry */
uint32_t vmx_msr_load_list(struct cpu *c, uint64_t addr, uint64_t count)
{
    for (uint64_t k = 0; k < count; k++) {
        uint64_t pa = addr + 16 * k;
        uint64_t lo = phys_read(c->mmu.phys, pa, 8);
        uint64_t value = phys_read(c->mmu.phys, pa + 8, 8);
        if ((lo >> 32) || !list_msr_load(c, (uint32_t)lo, value))
            return (uint32_t)(k + 1);
    }
    return 0;
}

/* SDM 26.8: a VM entry that fails after its checks on host state turns
 * into a VM exit that loads the host state */
static void entry_failure(struct cpu *c, unsigned reason, uint64_t qualification)
{
    vmcs_set(c, VF_EXIT_REASON, VMX_EXIT_REASON_ENTRY_FAIL | reason);
    vmcs_set(c, VF_EXIT_QUALIFICATION, qualification);
    vmx_log(c, "vmx: VM entry failed (exit reason %u %s): %s\n", reason,
                 vmx_exit_reason_name(reason), c->vmx.entry_failure);
    c->vmx.exits++; /* an exit too, with bit 31 (-d stats counts it) */
    c->vmx.exits_by_reason[reason]++;
    vmx_load_host_state(c);
    if (c->dbg_vmx)
        c->dbg_vmx(c->dbg_opaque, c, CPU_VMX_EXIT, VMX_EXIT_REASON_ENTRY_FAIL | reason, 0);
}

void vmx_launch(struct cpu *c, bool launch)
{
    struct vmx *v = &c->vmx;
    if (v->current == VMX_INVALID_PTR || v->current_shadow) {
        flags_set_arith(c, FL_CF); /* VMfailInvalid; a shadow VMCS is not launched */
        return;
    }
    if (launch && v->vmcs.launched) {
        vmx_fail(c, VMX_ERR_VMLAUNCH_NOT_CLEAR);
        return;
    }
    if (!launch && !v->vmcs.launched) {
        vmx_fail(c, VMX_ERR_VMRESUME_NOT_LAUNCHED);
        return;
    }
    v->entry_failure = NULL;
    if (!check_controls(c)) {
        vmx_log(c, "vmx: VM entry failed (VMfailValid 7): %s\n", v->entry_failure);
        vmx_fail(c, VMX_ERR_ENTRY_BAD_CONTROLS);
        if (c->dbg_vmx)
            c->dbg_vmx(c->dbg_opaque, c, CPU_VMX_ENTRY_VMFAIL, VMX_ERR_ENTRY_BAD_CONTROLS, 0);
        return;
    }
    if (!check_host_state(c)) {
        vmx_log(c, "vmx: VM entry failed (VMfailValid 8): %s\n", v->entry_failure);
        vmx_fail(c, VMX_ERR_ENTRY_BAD_HOST_STATE);
        if (c->dbg_vmx)
            c->dbg_vmx(c->dbg_opaque, c, CPU_VMX_ENTRY_VMFAIL, VMX_ERR_ENTRY_BAD_HOST_STATE, 0);
        return;
    }
    /* from here on the instruction succeeded as far as RFLAGS go: a
     * failed entry is reported through a VM exit (26.8) */
    vmx_succeed(c);
    if (!check_guest_state(c)) {
        entry_failure(c, VMX_EXIT_ENTRY_FAIL_GUEST, 0);
        return;
    }
    load_guest_state(c);
    v->nonroot = true;
    uint32_t bad = vmx_msr_load_list(c, vmcs_get(c, VF_ENTRY_MSR_LOAD_ADDR),
                                     vmcs_get(c, VF_ENTRY_MSR_LOAD_COUNT));
    if (bad) {
        v->nonroot = false;
        v->entry_failure = "VM-entry MSR-load list entry could not be loaded (SDM 26.4)";
        entry_failure(c, VMX_EXIT_ENTRY_FAIL_MSR_LOAD, bad);
        return;
    }
    v->vmcs.launched = true;
    v->entries++;
    vmx_log(c, "vmx: VM entry (%s) to %04x:%016llx\n", launch ? "VMLAUNCH" : "VMRESUME",
                 c->seg[SEG_CS].sel, (unsigned long long)c->rip);
    if (c->dbg_vmx)
        c->dbg_vmx(c->dbg_opaque, c, CPU_VMX_ENTRY, 0, 0);
    vmx_entry_events(c); /* event injection, activity state (events.c) */
}
