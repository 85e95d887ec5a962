/* vmx/ept.c — EPT for VMX guests (SDM Vol. 3C 28.2): the VM-entry checks
 * on the EPTP, hooking the EPT walk (mmu/ept.c) into the MMU for the
 * guest and out again at the VM exit, PAE PDPTEs from and to the VMCS,
 * the EPT-violation and EPT-misconfiguration VM exits, and INVEPT.
 *
 * Without VPID every VM entry and exit flushes the TLB (28.3.3.3), so
 * the combined (linear -> host-physical) translations the guest fills
 * it with live exactly as long as the guest runs, and nest86 keeps no
 * guest-physical mappings apart from them. */
#include "cpu/mem.h"
#include "mmu/ept.h"
#include "vmx/vmx_internal.h"

static const uint8_t pdpte_field[4] = {VF_GUEST_PDPTE0, VF_GUEST_PDPTE1, VF_GUEST_PDPTE2,
                                       VF_GUEST_PDPTE3};

static bool ept_enabled(const struct cpu *c)
{
    return (vmcs_get(c, VF_PROC_BASED_CONTROLS) & PROC_SECONDARY_CONTROLS) &&
           (vmcs_get(c, VF_SECONDARY_PROC_CONTROLS) & PROC2_ENABLE_EPT);
}

/* the guest uses PAE paging (not 4-level): its PDPTEs are registers */
static bool pae_paging(uint64_t cr0, uint64_t cr4, bool lma)
{
    return (cr0 & CR0_PG) && (cr4 & CR4_PAE) && !lma;
}

/* SDM 26.2.1.1, with "enable EPT": what is wrong with the EPTP, or NULL.
 * The memory types, walk length and A/D bit are those
 * IA32_VMX_EPT_VPID_CAP advertises. */
const char *vmx_ept_eptp_problem(uint64_t eptp)
{
    uint64_t cap = vmx_ept_vpid_cap();
    uint64_t mt = eptp & EPTP_MT_MASK;
    bool mt_ok = (mt == EPTP_MT_UC && (cap & (1ull << 8))) ||
                 (mt == EPTP_MT_WB && (cap & (1ull << 14)));
    if (!mt_ok)
        return "EPTP memory type is not UC or WB (IA32_VMX_EPT_VPID_CAP bits 8, 14) (SDM 26.2.1.1)";
    uint64_t walk = eptp & EPTP_WALK_MASK;
    if (!(walk == EPTP_WALK_4 && (cap & (1ull << 6))) && !(walk == EPTP_WALK_5 && (cap & (1ull << 7))))
        return "EPTP page-walk length is not 4 or 5 (bits 5:3 not 3 or 4; IA32_VMX_EPT_VPID_CAP bits 6, 7) (SDM 26.2.1.1)";
    if ((eptp & EPTP_AD) && !(cap & (1ull << 21)))
        return "EPTP bit 6 (accessed and dirty flags) set without support (SDM 26.2.1.1)";
    if (eptp & 0xf80)
        return "EPTP reserved bits 11:7 set (SDM 26.2.1.1)";
    if (eptp >> MMU_MAXPHYADDR)
        return "EPTP bits beyond the physical-address width set (SDM 26.2.1.1)";
    return NULL;
}

/* SDM 26.3.1.6: with EPT, a PAE guest's PDPTEs come from the VMCS, and
 * a present one must have its reserved bits clear. */
bool vmx_ept_guest_pdptes_ok(const struct cpu *c)
{
    bool lma = vmcs_get(c, VF_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST;
    if (!ept_enabled(c) || !pae_paging(vmcs_get(c, VF_GUEST_CR0), vmcs_get(c, VF_GUEST_CR4), lma))
        return true;
    for (int k = 0; k < 4; k++) {
        uint64_t e = vmcs_get(c, pdpte_field[k]);
        if ((e & PTE_P) && (e & MMU_PDPTE_RSVD))
            return false;
    }
    return true;
}

/* Page-modification logging (28.2.6): the guest-physical page goes to
 * the PML address + 8 x PML index, and the index counts down; an index
 * outside 0-511 means the log is full (a PML-full VM exit). */
static int pml_log(void *opaque, uint64_t gpa_page)
{
    struct cpu *c = opaque;
    uint64_t index = vmcs_get(c, VF_GUEST_PML_INDEX);
    if (index > 511)
        return -1;
    phys_write(c->mmu.phys, vmcs_get(c, VF_PML_ADDRESS) + 8 * index, gpa_page, 8);
    vmcs_set(c, VF_GUEST_PML_INDEX, index - 1); /* 0 wraps to FFFFH */
    return 0;
}

/* Loading guest state (26.3.2): hooks the EPT walk in when "enable EPT"
 * is 1 (and loads a PAE guest's PDPTEs from the VMCS, 26.3.2.4).
 * Returns whether it did. */
bool vmx_ept_enter(struct cpu *c)
{
    struct mmu *m = &c->mmu;
    if (!ept_enabled(c)) {
        m->gpa_xlate = NULL;
        return false;
    }
    c->vmx.ept = (struct ept_ctx){
        .phys = m->phys, .eptp = vmcs_get(c, VF_EPT_POINTER), .exec_only = EPT_HAS_EXEC_ONLY,
        .mbec = vmcs_get(c, VF_SECONDARY_PROC_CONTROLS) & PROC2_MODE_BASED_EPT_EXEC,
        .observe = c->dbg_ept, .observe_opaque = c->dbg_opaque};
    if (vmcs_get(c, VF_SECONDARY_PROC_CONTROLS) & PROC2_ENABLE_PML) {
        c->vmx.ept.log = pml_log;
        c->vmx.ept.log_opaque = c;
    }
    m->gpa_xlate = ept_gpa_xlate;
    m->gpa_opaque = &c->vmx.ept;
    if (pae_paging(m->cr0, m->cr4, m->efer & EFER_LMA))
        for (int k = 0; k < 4; k++)
            m->pdpte[k] = vmcs_get(c, pdpte_field[k]);
    return true;
}

/* Saving guest state (27.3.4): a PAE guest's PDPTEs, with EPT. */
void vmx_ept_save_guest(struct cpu *c)
{
    struct mmu *m = &c->mmu;
    if (m->gpa_xlate && pae_paging(m->cr0, m->cr4, m->efer & EFER_LMA))
        for (int k = 0; k < 4; k++)
            vmcs_set(c, pdpte_field[k], m->pdpte[k]);
}

/* Loading host state: guest-physical is host-physical again. */
void vmx_ept_leave(struct cpu *c)
{
    c->mmu.gpa_xlate = NULL;
    c->mmu.gpa_opaque = NULL;
}

_Noreturn void vmx_ept_exit(struct cpu *c, const struct mmu_fault *f)
{
    /* 27.2.1: the guest-physical address of the access, for both */
    vmcs_set(c, VF_GUEST_PHYSICAL_ADDR, f->gpa);
    if (f->vector == MMU_FAULT_PML_FULL) {
        /* 27.2.1: the qualification holds only bit 12 (NMI unblocking
         * due to IRET) */
        uint64_t q = !(c->vmx.vectoring >> 31) && vmx_nmi_unblocked_by_iret(c) ? EPT_QUAL_NMI_UNBLOCK : 0;
        vmx_log(c, "vmx: page-modification log full at guest-physical 0x%llx\n",
                (unsigned long long)f->gpa);
        vmx_exit_insn(c, VMX_EXIT_PML_FULL, q);
    }
    if (f->vector == MMU_FAULT_EPT_MISCONFIG) {
        vmx_log(c, "vmx: EPT misconfiguration at guest-physical 0x%llx: %s\n",
                (unsigned long long)f->gpa, c->vmx.ept.misconfig);
        vmx_exit_insn(c, VMX_EXIT_EPT_MISCONFIG, 0);
    }
    if (vmx_ve_convert(c, f))
        cpu_raise(c, EX_VE, 0); /* 25.5.7.3: a fault, no error code */
    /* Table 27-7 as the walk built it, and bit 12: the access was an
     * IRET's that removed blocking by NMI, not during event delivery
     * (27.2.3) */
    uint64_t qual = f->error_code;
    if (!(c->vmx.vectoring >> 31) && vmx_nmi_unblocked_by_iret(c))
        qual |= EPT_QUAL_NMI_UNBLOCK;
    if (qual & EPT_QUAL_LIN_VALID)
        vmcs_set(c, VF_GUEST_LINEAR_ADDR, f->address);
    vmx_exit_insn(c, VMX_EXIT_EPT_VIOLATION, qual);
}

/* INVEPT (SDM Vol. 3C 30.3): type 1 (single-context: the EPTP in the
 * descriptor must pass the VM-entry checks) or 2 (all contexts), as
 * IA32_VMX_EPT_VPID_CAP bits 25 and 26 offer. */
uint64_t vmx_inv_prologue(struct cpu *c, const struct insn *i, unsigned exit_reason)
{
    if (!i->p66) /* 0F 38 80/81 exist only with the 66 prefix */
        cpu_raise(c, EX_UD, 0);
    if (!c->vmx.on || c->mode == MODE_REAL || c->mode == MODE_V86 || c->mode == MODE_COMPAT)
        cpu_raise(c, EX_UD, 0);
    if (c->vmx.nonroot)
        vmx_exit_insn_info(c, i, exit_reason);
    require_cpl0(c);
    uint64_t type = c->mode == MODE_LONG ? c->r[i->reg] : (uint32_t)c->r[i->reg];
    vmx_dbg_insn(c, exit_reason, type);
    return type;
}

void op_invept(struct cpu *c, const struct insn *i)
{
    uint64_t type = vmx_inv_prologue(c, i, VMX_EXIT_INVEPT);
    uint64_t cap = vmx_ept_vpid_cap();
    if (!((type == 1 && (cap & (1ull << 25))) || (type == 2 && (cap & (1ull << 26))))) {
        vmx_fail(c, VMX_ERR_INVEPT_INVVPID_BAD_OPERAND);
        return;
    }
    /* the 128-bit descriptor: the EPTP, then 64 reserved bits */
    uint64_t ea = insn_ea(c, i);
    uint64_t eptp = mem_read(c, i->seg, ea, 8);
    (void)mem_read(c, i->seg, (ea + 8) & size_mask(i->adsize), 8);
    if (type == 1 && vmx_ept_eptp_problem(eptp)) {
        vmx_fail(c, VMX_ERR_INVEPT_INVVPID_BAD_OPERAND);
        return;
    }
    /* the combined mappings kept for a guest with a VPID (mmu_tlb_switch)
     * go; the root's current ones derive from no EPT */
    mmu_tlb_drop_saved(&c->mmu, 1);
    vmx_log(c, "vmx: INVEPT type %llu (EPTP 0x%llx)\n", (unsigned long long)type,
            (unsigned long long)eptp);
    vmx_succeed(c);
}
